#!/usr/bin/env bash
# Installs a software Vulkan driver (Mesa lavapipe) so that Dawn — the WebGPU
# implementation inside the `webgpu` npm package — finds an adapter on a machine
# without a GPU. Debian bookworm's own Mesa (22.3) lacks features Dawn requires,
# so on bookworm the driver comes from bookworm-backports (Mesa 25.x).
# Usage: sudo bash scripts/install-webgpu-driver.sh   (Debian 12 / Ubuntu 22.04+)
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

if [ ! -r /etc/os-release ]; then
  echo "install-webgpu-driver: /etc/os-release not found; install a Vulkan driver by hand" >&2
  exit 1
fi
. /etc/os-release

export DEBIAN_FRONTEND=noninteractive
case "${ID}:${VERSION_CODENAME:-}" in
  debian:bookworm)
    list=/etc/apt/sources.list.d/bookworm-backports.list
    if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
      echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee "$list" >/dev/null
    fi
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q -t bookworm-backports libvulkan1 mesa-vulkan-drivers
    ;;
  debian:*|ubuntu:*)
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q libvulkan1 mesa-vulkan-drivers
    ;;
  *)
    echo "install-webgpu-driver: unsupported distribution '${ID}'; install Mesa's Vulkan drivers (lavapipe) with your package manager" >&2
    exit 1
    ;;
esac

if ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  echo "install-webgpu-driver: lavapipe installed ($(ls /usr/share/vulkan/icd.d/lvp_icd*.json | head -1))"
else
  echo "install-webgpu-driver: mesa-vulkan-drivers installed but no lavapipe ICD file was found" >&2
  exit 1
fi
