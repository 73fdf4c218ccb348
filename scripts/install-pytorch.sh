#!/usr/bin/env bash
# Installs PyTorch for the test that replays a traced training run in PyTorch
# (examples/pretrain-gpt/replay_pytorch.test.ts) and for the PyTorch peers of the benchmarks.
# Debian ships it as python3-torch (for /usr/bin/python3). Elsewhere: install torch for some python
# and point WEBGRAD_PYTHON at that interpreter.
# Usage: sudo bash scripts/install-pytorch.sh
set -euo pipefail

for py in "${WEBGRAD_PYTHON:-}" /usr/bin/python3 python3; do
  if [ -n "$py" ] && "$py" -c 'import torch' >/dev/null 2>&1; then
    echo "install-pytorch: found torch $("$py" -c 'import torch; print(torch.__version__)') for $py"
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
    $SUDO apt-get install -y -q --no-install-recommends python3-torch
    echo "install-pytorch: installed torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') for /usr/bin/python3"
    ;;
  *)
    echo "install-pytorch: install torch for a python on '${ID}' and set WEBGRAD_PYTHON to it" >&2
    exit 1
    ;;
esac
