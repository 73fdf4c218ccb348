#!/usr/bin/env bash
# One-time setup on a fresh machine: pnpm, the dependencies, the build, and — on Debian/Ubuntu
# when run as root or with sudo — the software Vulkan driver that lets WebGPU run without a GPU
# and (Debian) Chromium for the browser test and PyTorch for the replay test.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pnpm >/dev/null 2>&1; then
  echo "setup: installing pnpm"
  if [ "$(id -u)" = "0" ]; then npm install -g pnpm@10.34.9; else npm install -g pnpm@10.34.9 || corepack enable; fi
fi

if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  if [ -r /etc/os-release ] && grep -qiE '^ID=(debian|ubuntu)' /etc/os-release && { [ "$(id -u)" = "0" ] || command -v sudo >/dev/null; }; then
    echo "setup: installing the software WebGPU driver (Mesa lavapipe)"
    bash scripts/install-webgpu-driver.sh || echo "setup: driver install failed; the 'cpu' device still works"
  else
    echo "setup: no software Vulkan driver found; WebGPU runs only on a machine with a GPU driver (the 'cpu' device always works)"
  fi
fi

if ! bash scripts/install-browser.sh >/dev/null 2>&1 </dev/null; then
  if [ -r /etc/os-release ] && grep -qiE '^ID=debian' /etc/os-release && { [ "$(id -u)" = "0" ] || command -v sudo >/dev/null; }; then
    echo "setup: installing Chromium for the browser test"
    bash scripts/install-browser.sh || echo "setup: Chromium install failed; run the tests with WEBGRAD_TEST_BROWSER=0 to leave the browser test out"
  else
    echo "setup: no Chromium found; the browser test needs one (WEBGRAD_CHROMIUM=/path/to/chrome), or run the tests with WEBGRAD_TEST_BROWSER=0"
  fi
fi

if ! bash scripts/install-pytorch.sh >/dev/null 2>&1 </dev/null; then
  if [ -r /etc/os-release ] && grep -qiE '^ID=debian' /etc/os-release && { [ "$(id -u)" = "0" ] || command -v sudo >/dev/null; }; then
    echo "setup: installing PyTorch (python3-torch) for the test that replays a training run in PyTorch"
    bash scripts/install-pytorch.sh || echo "setup: PyTorch install failed; run the tests with WEBGRAD_TEST_PYTORCH=0 to leave that test out"
  else
    echo "setup: no PyTorch found; the replay test needs one (WEBGRAD_PYTHON=/path/to/python), or run the tests with WEBGRAD_TEST_PYTORCH=0"
  fi
fi

pnpm install
pnpm build
