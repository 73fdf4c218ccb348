import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

// Every test runs on every device; a missing WebGPU adapter fails the run. WEBGRAD_TEST_WEBGPU=0
// is the explicit way to test the CPU alone: it leaves out the files that only test WebGPU (and
// the multi-device tests then run on the CPU only). CI must test both devices, so it refuses it.
const cpuOnly = process.env.WEBGRAD_TEST_WEBGPU === '0';
if (cpuOnly && process.env.CI === 'true') throw new Error('WEBGRAD_TEST_WEBGPU=0 is not allowed under CI=true: CI tests the webgpu device too');
if (cpuOnly) console.warn('[webgrad tests] WEBGRAD_TEST_WEBGPU=0: the WebGPU tests are left out');
// WEBGRAD_TEST_BROWSER=0 leaves out the headless-Chromium test (browser/); CI refuses it too.
const noBrowser = process.env.WEBGRAD_TEST_BROWSER === '0';
if (noBrowser && process.env.CI === 'true') throw new Error('WEBGRAD_TEST_BROWSER=0 is not allowed under CI=true: CI runs the browser test');
if (noBrowser) console.warn('[webgrad tests] WEBGRAD_TEST_BROWSER=0: the browser test is left out');
// WEBGRAD_TEST_PYTORCH=0 leaves out the test that replays a training run in PyTorch; CI refuses it.
const noTorch = process.env.WEBGRAD_TEST_PYTORCH === '0';
if (noTorch && process.env.CI === 'true') throw new Error('WEBGRAD_TEST_PYTORCH=0 is not allowed under CI=true: CI runs the PyTorch replay test');
if (noTorch) console.warn('[webgrad tests] WEBGRAD_TEST_PYTORCH=0: the PyTorch replay test is left out');
// Dawn prints two warnings on stderr ("Warning: maxDynamicUniformBuffersPerPipelineLayout artificially
// reduced from 1000000 to 16 …" and its storage twin) when it enumerates a Vulkan adapter that reports
// more dynamic buffers than Dawn supports, as lavapipe does: once in every test process that opens
// WebGPU, whatever the device requests (packages/kernels/test/webgpu_device_stderr.test.ts). The
// runner drops exactly these lines from the test processes' output, which it relays to its stderr.
const DAWN_ADAPTER_NOTICE = /^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?\n/gm;
const filtered = Symbol.for('webgrad.dawnNoticeFilter');
const stderr = process.stderr as typeof process.stderr & { [filtered]?: true };
if (!stderr[filtered]) {
  stderr[filtered] = true;
  const write = stderr.write.bind(stderr) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
  stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (!text.includes('artificially reduced')) return write(chunk, ...rest);
    const kept = text.replace(DAWN_ADAPTER_NOTICE, '');
    const callback = rest.find((a): a is () => void => typeof a === 'function');
    if (kept === '') {
      if (callback) process.nextTick(callback);
      return true;
    }
    return callback ? write(kept, callback) : write(kept);
  }) as typeof stderr.write;
}
const WEBGPU_ONLY = ['packages/kernels/test/webgpu_*.test.ts', 'packages/nn/test/gpt_devices.test.ts', 'packages/optim/test/devices.test.ts'];

// Tests import packages by name and run against their TypeScript sources directly.
export default defineConfig({
  resolve: {
    alias: {
      '@webgrad/kernels': pkg('kernels'),
      '@webgrad/core': pkg('core'),
      '@webgrad/nn': pkg('nn'),
      '@webgrad/optim': pkg('optim'),
      '@webgrad/rl': pkg('rl'),
      '@webgrad/data': pkg('data'),
      '@webgrad/train': pkg('train'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts', 'benchmarks/**/*.test.ts', 'browser/**/*.test.ts', 'scripts/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...(cpuOnly ? WEBGPU_ONLY : []), ...(noBrowser ? ['browser/**'] : []), ...(noTorch ? ['examples/pretrain-gpt/replay_pytorch.test.ts'] : [])],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    setupFiles: ['packages/core/test/setup_devices.ts'],
    pool: 'forks',
    fileParallelism: true,
  },
});
