// WebGPU gather / indexSelect / scatterAdd / indexAdd vs the CPU reference (strided and offset
// views, repeated indices, int32 data), the out-of-range index error raised by the read of the result, and
// the fused AdamW step. Accumulations are in f32 in the CPU's order: rtol 1e-5, atol 1e-6.
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import type { DType } from '../src/types.js';
import { createWebGPUKernels } from '../src/webgpu/index.js';
import { expectClose, gpuRuntime, makeView, readView, releaseAll, rng, toGPU } from './gpu_helpers.js';

const rt = await gpuRuntime();
const gk = rt ? createWebGPUKernels(rt) : null;

describe('webgpu indexing', () => {
  it('gather along every dim, strided x', async () => {
    const r = rng(1);
    for (const dtype of ['float32', 'int32'] as DType[]) {
      for (const dim of [0, 1, 2]) {
        const xs = [4, 5, 3];
        const x = makeView(dtype, xs, { perm: [2, 0, 1], offset: 2 }, () => Math.floor(r() * 100) - 50);
        const os = [3, 4, 2];
        const index = makeView('int32', os, {}, () => Math.floor(r() * xs[dim]!));
        const out = makeView(dtype, os, { offset: 1 }, () => 0);
        const gx = toGPU(rt!, x), gi = toGPU(rt!, index), go = toGPU(rt!, out);
        cpuKernels.gather(x, dim, index, out);
        gk!.gather(gx, dim, gi, go);
        expectClose(await readView(rt!, go, out), out.buffer, 0, 0, `gather ${dtype} dim ${dim}`);
        releaseAll(rt!, gx, gi, go);
      }
    }
  });

  it('indexSelect rows and columns (embedding lookup)', async () => {
    const r = rng(2);
    for (const [shape, dim, L] of [[[17, 8], 0, 65], [[5, 63], 1, 7], [[1, 3], 0, 1]] as const) {
      const x = makeView('float32', shape, dim === 1 ? { perm: [1, 0] } : {}, () => r());
      const index = makeView('int32', [L], { offset: 1 }, () => Math.floor(r() * shape[dim]));
      const os = [...shape] as number[]; os[dim] = L;
      const out = makeView('float32', os, {}, () => 0);
      const gx = toGPU(rt!, x), gi = toGPU(rt!, index), go = toGPU(rt!, out);
      cpuKernels.indexSelect(x, dim, index, out);
      gk!.indexSelect(gx, dim, gi, go);
      expectClose(await readView(rt!, go, out), out.buffer, 0, 0, `indexSelect [${shape}] dim ${dim}`);
      releaseAll(rt!, gx, gi, go);
    }
  });

  it('indexAdd accumulates repeated indices (embedding backward)', async () => {
    const r = rng(3);
    for (const [shape, dim, L] of [[[17, 8], 0, 65], [[5, 7], 1, 20], [[3], 0, 1]] as const) {
      const out = makeView('float32', shape, {}, () => r());
      const index = makeView('int32', [L], {}, (i) => (i % 3 === 0 ? 1 : Math.floor(r() * shape[dim]!)));
      const ss = [...shape] as number[]; ss[dim] = L;
      const src = makeView('float32', ss, ss.length > 1 ? { perm: [1, 0] } : {}, () => r() - 0.5);
      const go = toGPU(rt!, out), gi = toGPU(rt!, index), gs = toGPU(rt!, src);
      cpuKernels.indexAdd(out, dim, index, src);
      gk!.indexAdd(go, dim, gi, gs);
      expectClose(await readView(rt!, go, out), out.buffer, 1e-5, 1e-6, `indexAdd [${shape}] dim ${dim}`);
      releaseAll(rt!, go, gi, gs);
    }
  });

  it('scatterAdd with an index smaller than out, float and int', async () => {
    const r = rng(4);
    for (const dtype of ['float32', 'int32'] as DType[]) {
      for (const dim of [0, 1]) {
        const out = makeView(dtype, [6, 5], {}, () => Math.floor(r() * 10));
        const is = [4, 3];
        const index = makeView('int32', is, { perm: [1, 0] }, () => Math.floor(r() * (dim === 0 ? 6 : 5)));
        const src = makeView(dtype, [4, 3], { offset: 3 }, () => Math.floor(r() * 20) - 10 + (dtype === 'float32' ? 0.25 : 0));
        const go = toGPU(rt!, out), gi = toGPU(rt!, index), gs = toGPU(rt!, src);
        cpuKernels.scatterAdd(out, dim, index, src);
        gk!.scatterAdd(go, dim, gi, gs);
        expectClose(await readView(rt!, go, out), out.buffer, 1e-6, 1e-6, `scatterAdd ${dtype} dim ${dim}`);
        releaseAll(rt!, go, gi, gs);
      }
    }
  });

  it('an out-of-range index raises a RangeError naming the op and index at the read of the result', async () => {
    const x = makeView('float32', [4, 3], {}, (i) => i);
    const index = makeView('int32', [3], {}, (i) => [0, 7, 2][i]!);
    const out = makeView('float32', [3, 3], {}, () => 0);
    const gx = toGPU(rt!, x), gi = toGPU(rt!, index), go = toGPU(rt!, out);
    gk!.indexSelect(gx, 0, gi, go);
    await readView(rt!, gx, x); // the input is not concerned
    await expect(readView(rt!, go, out)).rejects.toThrow(/indexSelect: index 7 is out of range for a dimension of size 4/);
    // the result stays invalid until released
    await expect(readView(rt!, go, out)).rejects.toThrow(RangeError);
    const neg = makeView('int32', [3], {}, () => -2);
    const out2 = makeView('float32', [4, 3], {}, () => 0);
    const gn = toGPU(rt!, neg), go2 = toGPU(rt!, out2);
    gk!.indexAdd(go2, 0, gn, gx);
    await expect(readView(rt!, go2, out2)).rejects.toThrow(/indexAdd: index -2 is out of range for a dimension of size 4/);
    releaseAll(rt!, gx, gi, go, gn, go2);
  });

  it('adamw matches the CPU over several steps, contiguous and strided', async () => {
    const r = rng(5);
    for (const layout of [{}, { perm: [1, 0], offset: 3 }]) {
      const shape = [17, 9];
      const p = makeView('float32', shape, layout, () => r() - 0.5);
      const m = makeView('float32', shape, layout, () => 0);
      const v = makeView('float32', shape, layout, () => 0);
      const gp = toGPU(rt!, p), gm = toGPU(rt!, m), gv = toGPU(rt!, v);
      for (let step = 1; step <= 3; step++) {
        const g = makeView('float32', shape, layout, () => r() - 0.5);
        const gg = toGPU(rt!, g);
        const opts = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step };
        cpuKernels.adamw(p, g, m, v, opts);
        gk!.adamw(gp, gg, gm, gv, opts);
        releaseAll(rt!, gg);
      }
      expectClose(await readView(rt!, gp, p), p.buffer, 1e-5, 1e-6, 'adamw param');
      expectClose(await readView(rt!, gm, m), m.buffer, 1e-5, 1e-6, 'adamw m');
      expectClose(await readView(rt!, gv, v), v.buffer, 1e-5, 1e-7, 'adamw v');
      releaseAll(rt!, gp, gm, gv);
    }
  });
});
