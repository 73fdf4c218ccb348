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
# Stages, each under its own time limit (seconds, from the environment):
#   probe      the adapter Dawn finds (benchmarks/gpu/probe.mjs) -> OUT_DIR/adapter.json
#   tests      the WebGPU tests: kernels against their CPU references, every op, the GPT and the
#              optimizers on both devices (WEBGRAD_GPU_TESTS: other test paths; WEBGRAD_GPU_TESTS_S,
#              default 240) -> OUT_DIR/tests.log
#   example    only when WEBGRAD_GPU_EXAMPLE holds pretrain-gpt flags, e.g. "--full --data FILE":
#              training on webgpu (WEBGRAD_GPU_EXAMPLE_S, default 300) -> OUT_DIR/pretrain-metrics.jsonl,
#              OUT_DIR/pretrain-loss.svg
#   profile    where a GPT training step's time goes, per kernel, on both devices (benchmarks/profile.mjs;
#              WEBGRAD_GPU_PROFILE_S, default 120) -> OUT_DIR/profile.log
#   bench      the benchmark suites with the given flags (WEBGRAD_GPU_BENCH_S, default 600)
#              -> OUT_DIR/bench.json, OUT_DIR/bench.svg
# and OUT_DIR/run.log with everything printed. A stage that fails or runs out of time does not stop
# the next; the exit status is the first failure's.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
OUT=${1:-./gpu-results}
shift || true
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
exec > >(tee "$OUT/run.log") 2>&1
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
# The NVIDIA container runtime mounts the driver under /usr/local/nvidia, outside the loader's search path.
if ! ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json >/dev/null 2>&1; then
  icds=(/usr/local/nvidia/share/vulkan/icd.d/*.json /usr/local/nvidia/etc/vulkan/icd.d/*.json)
  if [ ${#icds[@]} -gt 0 ]; then
    export VK_DRIVER_FILES=$(IFS=:; echo "${icds[*]}") VK_ICD_FILENAMES=$(IFS=:; echo "${icds[*]}")
    [ -d /usr/local/nvidia/lib64 ] && export LD_LIBRARY_PATH="/usr/local/nvidia/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    echo "vulkan driver: $VK_DRIVER_FILES"
  else
    echo "warning: no Vulkan ICD manifest in /usr/share/vulkan/icd.d, /etc/vulkan/icd.d or /usr/local/nvidia; Dawn may find no adapter" >&2
  fi
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

# ---- stages ------------------------------------------------------------------------------------
status=0
stage() { # name seconds command...: runs a stage under a time limit, records the first failure
  local name=$1 secs=$2; shift 2
  echo "== $name (limit ${secs}s) =="
  local t0=$SECONDS rc=0
  timeout --kill-after=10 "$secs" "$@" || rc=$?
  echo "== $name: exit $rc after $((SECONDS - t0))s =="
  [ $rc -eq 0 ] || [ $status -ne 0 ] || status=$rc
  return 0
}

stage probe 60 bash -c 'node benchmarks/gpu/probe.mjs > "$0/adapter.json"' "$OUT"
cat "$OUT/adapter.json" 2>/dev/null || true
if [ $status -ne 0 ]; then
  echo "no adapter: Vulkan diagnostics follow" >&2
  ls -la /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>&1 | head -20 >&2
  ldconfig -p | grep -iE 'vulkan|nvidia' | head -20 >&2
  VK_LOADER_DEBUG=error,warn,driver node benchmarks/gpu/probe.mjs 2>&1 | tail -40 >&2 || true
  exit $status
fi

tests=${WEBGRAD_GPU_TESTS:-packages/kernels/test/webgpu packages/core/test/ops.test.ts packages/nn/test/gpt_devices.test.ts packages/optim/test/devices.test.ts}
# shellcheck disable=SC2086 # the list is meant to split
stage tests "${WEBGRAD_GPU_TESTS_S:-240}" bash -c 'CI=true node node_modules/vitest/vitest.mjs run "${@:1}" 2>&1 | tee "$0/tests.log"; exit ${PIPESTATUS[0]}' "$OUT" $tests

if [ -n "${WEBGRAD_GPU_EXAMPLE:-}" ]; then
  run_dir=$(mktemp -d)
  # shellcheck disable=SC2086 # the flags are meant to split
  stage example "${WEBGRAD_GPU_EXAMPLE_S:-300}" node examples/run.mjs pretrain-gpt --device webgpu --out "$run_dir" $WEBGRAD_GPU_EXAMPLE
  cp "$run_dir/metrics.jsonl" "$OUT/pretrain-metrics.jsonl" 2>/dev/null || true
  cp "$run_dir/loss.svg" "$OUT/pretrain-loss.svg" 2>/dev/null || true
fi

stage profile "${WEBGRAD_GPU_PROFILE_S:-120}" bash -c 'node benchmarks/profile.mjs --device all --steps 10 2>&1 | tee "$0/profile.log"; \
  node benchmarks/profile.mjs --device webgpu --model larger --steps 5 2>&1 | tee -a "$0/profile.log"; exit ${PIPESTATUS[0]}' "$OUT"

bench_dir=$(mktemp -d)
stage bench "${WEBGRAD_GPU_BENCH_S:-600}" node benchmarks/run.mjs --out "$bench_dir" "$@"
for f in "$bench_dir"/*.json; do cp "$f" "$OUT/bench.json"; done
for f in "$bench_dir"/*.svg; do cp "$f" "$OUT/bench.svg"; done
echo "results in $OUT (status $status)"
exit $status
