// Vitest setup: registers the `webgpu` device (a software adapter is fine) so every multi-device
// test body also runs there. Under CI=true a missing adapter fails the run instead of skipping.
// New cpu tensors start as NaN (not whatever their reused memory held), so a kernel that leaves
// part of its output unwritten fails the tests that use it.
import { initWebGPU, poisonCpuAllocations } from '@webgrad/core';

poisonCpuAllocations(true);

if (process.env.WEBGRAD_TEST_WEBGPU !== '0') {
  try {
    await initWebGPU({ setDefault: false });
  } catch (e) {
    if (process.env.CI === 'true') {
      throw new Error(`WebGPU adapter required under CI=true but unavailable: ${(e as Error).message}`);
    }
    console.warn(`[webgrad tests] WebGPU unavailable, running CPU only: ${(e as Error).message}`);
  }
}

// Dawn must be shut down before the worker exits.
import { afterAll } from 'vitest';
import { webgpuRuntime } from '@webgrad/core';
afterAll(async () => {
  const rt = webgpuRuntime();
  if (rt) { try { await rt.sync(); } catch { /* reported by the tests */ } rt.destroy(); }
});
