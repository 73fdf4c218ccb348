// WebGPU random (Threefry-2x32-20) vs the CPU reference: uniform bit for bit, normal within f32
// tolerance (atol 1e-5 + rtol 1e-5: Box–Muller in f32 against float64), including a counter offset
// that crosses 2^32 and a strided destination.
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { createWebGPUKernels } from '../src/webgpu/index.js';
import { expectClose, gpuRuntime, makeView, readView, releaseAll, toGPU } from './gpu_helpers.js';

const rt = await gpuRuntime();
const gk = rt ? createWebGPUKernels(rt) : null;

describe('webgpu random', () => {
  const cases = [
    { shape: [1], seed: 0, offset: 0 },
    { shape: [1000], seed: 42, offset: 7 },
    { shape: [17, 3], seed: 2 ** 40 + 5, offset: 2 ** 32 - 20 },
    { shape: [257], seed: 123456789, offset: 1e6 },
    // Enough angles 2π·u2 to reach every quadrant of the shader's cos_ range reduction.
    { shape: [1 << 16], seed: 7, offset: 0 },
  ];
  for (const distribution of ['uniform', 'normal'] as const) {
    it(`${distribution} matches the CPU`, async () => {
      for (const c of cases) {
        const out = makeView('float32', c.shape, {}, () => 0);
        const go = toGPU(rt!, out);
        const opts = { seed: c.seed, offset: c.offset, distribution };
        cpuKernels.random(out, opts);
        gk!.random(go, opts);
        const got = await readView(rt!, go, out);
        if (distribution === 'uniform') expect(Array.from(got)).toEqual(Array.from(out.buffer));
        else expectClose(got, out.buffer, 1e-5, 1e-5, `normal ${JSON.stringify(c)}`);
        releaseAll(rt!, go);
      }
    });
  }

  it('fills a strided view and leaves the rest alone', async () => {
    const out = makeView('float32', [5, 7], { perm: [1, 0], pad: 2, offset: 3 }, () => -1);
    const go = toGPU(rt!, out);
    const opts = { seed: 9, offset: 100, distribution: 'uniform' as const };
    cpuKernels.random(out, opts);
    gk!.random(go, opts);
    expect(Array.from(await readView(rt!, go, out))).toEqual(Array.from(out.buffer));
    releaseAll(rt!, go);
  });
});
