#!/usr/bin/env bash
# Runs the WebGPU kernel tests and the benchmark suites on a machine that has an NVIDIA GPU and a
# Vulkan driver but neither Node nor the Vulkan loader installed (and no network).
#
# Carry these beside the working tree (paths relative to the repository root):
#   .node/node-v*-linux-x64.tar.xz   a Node.js binary tarball (>= 20), from nodejs.org's dist
#   .gl/*.deb                        the Vulkan loader, e.g. Debian/Ubuntu's libvulkan1_*.deb
#                                    (`apt-get download libvulkan1` on a machine of the same distribution)
#   node_modules, benchmarks/node_modules, packages/*/node_modules   the installed dependencies,
#                                    or instead .node/node_modules.tar.xz (see benchmarks/README.md)
#
# Usage: bash benchmarks/gpu/run.sh [OUT_DIR] [bench flags...]   (OUT_DIR defaults to ./gpu-results)
# Writes OUT_DIR/kernel-tests.log, OUT_DIR/bench.log and the benchmark's <timestamp>.json and .svg.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
OUT=${1:-./gpu-results}
shift || true
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=${WEBGRAD_GPU_WORK:-$ROOT/.gpu-tools}

fail() { echo "benchmarks/gpu/run.sh: $*" >&2; exit 1; }

# ---- Node --------------------------------------------------------------------------------------
shopt -s nullglob
tarballs=("$ROOT"/.node/node-*.tar.xz "$ROOT"/.node/node-*.tar.gz)
if command -v node >/dev/null 2>&1 && [ ${#tarballs[@]} -eq 0 ]; then
  NODE_BIN=$(dirname "$(command -v node)")
elif [ ${#tarballs[@]} -gt 0 ]; then
  mkdir -p "$WORK/node"
  tar -xf "${tarballs[0]}" -C "$WORK/node" --strip-components=1
  NODE_BIN="$WORK/node/bin"
else
  fail "no Node.js found. Carry a Node binary tarball as .node/node-vXX-linux-x64.tar.xz beside the working tree (the repository root)."
fi
export PATH="$NODE_BIN:$PATH"
echo "node: $(node --version) ($NODE_BIN)"

# ---- Vulkan loader -----------------------------------------------------------------------------
debs=("$ROOT"/.gl/*.deb)
if [ ${#debs[@]} -gt 0 ]; then
  mkdir -p "$WORK/gl"
  for d in "${debs[@]}"; do dpkg-deb -x "$d" "$WORK/gl" 2>/dev/null || (cd "$WORK/gl" && ar p "$d" data.tar.xz | tar -xJ) || fail "cannot unpack $d"; done
  libdirs=$(find "$WORK/gl" -name 'libvulkan.so*' -printf '%h\n' | sort -u | paste -sd: -)
  [ -n "$libdirs" ] || fail "the .gl/*.deb files hold no libvulkan.so; carry the Vulkan loader package (libvulkan1)"
  export LD_LIBRARY_PATH="$libdirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "vulkan loader: $libdirs"
elif ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  fail "no Vulkan loader. Carry the libvulkan1 .deb(s) in .gl/ beside the working tree (the repository root)."
fi
if ! ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json >/dev/null 2>&1; then
  echo "warning: no Vulkan ICD manifest in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d; Dawn may find no adapter" >&2
fi
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/nvidia-smi.txt" || true

# ---- dependencies ------------------------------------------------------------------------------
if [ ! -e node_modules/vitest ] || [ ! -e benchmarks/node_modules/webgpu ]; then
  if [ -f .node/node_modules.tar.xz ]; then
    echo "unpacking .node/node_modules.tar.xz"
    tar -xJf .node/node_modules.tar.xz
  else
    fail "the dependencies are missing (node_modules, benchmarks/node_modules). This machine has no network: carry them, or pack them into .node/node_modules.tar.xz (see benchmarks/README.md)."
  fi
fi

# ---- WebGPU kernel tests ------------------------------------------------------------------------
status=0
echo "== WebGPU kernel tests =="
CI=true node node_modules/vitest/vitest.mjs run packages/kernels/test/webgpu 2>&1 | tee "$OUT/kernel-tests.log" || status=$?

# ---- benchmarks --------------------------------------------------------------------------------
echo "== benchmarks =="
node benchmarks/run.mjs --out "$OUT" "$@" 2>&1 | tee "$OUT/bench.log" || status=$?
echo "results in $OUT"
exit $status
