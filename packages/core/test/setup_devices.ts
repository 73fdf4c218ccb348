// Vitest setup: registers the `webgpu` device (a software adapter is fine) so every multi-device
// test body also runs there. A missing adapter fails the run; `WEBGRAD_TEST_WEBGPU=0` (refused
// under CI=true, see vitest.config.ts) is the explicit way to test the CPU alone.
// New cpu tensors start as NaN (not whatever their reused memory held), so a kernel that leaves
// part of its output unwritten fails the tests that use it.
import { initWebGPU, poisonCpuAllocations } from '@webgrad/core';

poisonCpuAllocations(true);

if (process.env.WEBGRAD_TEST_WEBGPU !== '0') {
  try {
    await initWebGPU({ setDefault: false });
  } catch (e) {
    throw new Error(`${(e as Error).message} (To test the CPU alone: WEBGRAD_TEST_WEBGPU=0 pnpm test.)`);
  }
}

// Dawn must be shut down before the worker exits.
import { afterAll } from 'vitest';
import { webgpuRuntime } from '@webgrad/core';
afterAll(async () => {
  const rt = webgpuRuntime();
  if (rt) { try { await rt.sync(); } catch { /* reported by the tests */ } rt.destroy(); }
});
