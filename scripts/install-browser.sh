#!/usr/bin/env bash
# Installs Chromium for the browser test (browser/browser.test.ts), which runs webgrad in headless
# Chromium: the cpu device in a page and a Web Worker, and WebGPU through navigator.gpu (on
# Chromium's own software Vulkan, SwiftShader, where there is no GPU).
# Usage: sudo bash scripts/install-browser.sh   (Debian). Elsewhere install Chrome or Chromium and
# point WEBGRAD_CHROMIUM at it.
set -euo pipefail

for c in "${WEBGRAD_CHROMIUM:-}" chromium chromium-browser google-chrome google-chrome-stable; do
  if [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && "$c" --version >/dev/null 2>&1; then
    echo "install-browser: found $("$c" --version 2>/dev/null)"
    exit 0
  fi
done

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
. /etc/os-release 2>/dev/null || ID=unknown
case "${ID}" in
  debian)
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends chromium
    echo "install-browser: installed $(chromium --version 2>/dev/null)"
    ;;
  *)
    # Ubuntu's chromium package is only a wrapper around a snap, which does not run headless in
    # containers; Google's .deb does.
    echo "install-browser: install Google Chrome or Chromium for '${ID}' and set WEBGRAD_CHROMIUM to it" >&2
    exit 1
    ;;
esac
