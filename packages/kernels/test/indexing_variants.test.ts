// The indexing kernels' variants, against the plain kernels followed by what they replace, bit for
// bit — on the cpu reference, the fast cpu tier and WebGPU, on awkward shapes (size-1 dims, an empty
// index, indices that leave rows untouched or repeat, strided src, an offset out), out filled with
// garbage (NaN, huge values) beforehand:
// - indexAdd with `zeroed` against a fill with 0 then indexAdd (float32, float16, bfloat16, int32 on WebGPU);
// - indexAdd with `zeroed` and an addend against that then the add kernel (strided and broadcast addends);
// - indexSelect with an addend against indexSelect then the add kernel over the addend's own shape.
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { fastCpuKernels } from '../src/cpu_fast/index.js';
import type { DType, TypedArray, View } from '../src/types.js';
import { createWebGPUKernels } from '../src/webgpu/index.js';
import { expectClose, gpuRuntime, makeView, readView, releaseAll, rng, toGPU } from './gpu_helpers.js';

const rt = await gpuRuntime();
const gk = createWebGPUKernels(rt);

/** [out shape, dim, index length]: rows untouched, repeated, a size-1 dim, an empty index, a middle dim. */
const CASES: [number[], number, number][] = [[[17, 8], 0, 65], [[5, 7], 1, 20], [[3], 0, 1], [[1, 1], 0, 1], [[4, 1, 3], 1, 5], [[6, 2], 0, 0], [[2, 9, 3], 1, 4]];

const bitsOf = (a: TypedArray): ArrayLike<number> => (a instanceof Float32Array || a instanceof Float64Array ? new Uint8Array(a.buffer, a.byteOffset, a.byteLength) : a);
const garbage = (i: number): number => [NaN, 3e30, -7, 0.5][i % 4]!;

function operands(dtype: DType, shape: number[], dim: number, L: number, seed: number) {
  const r = rng(seed);
  const value = (): number => dtype === 'int32' ? Math.floor(r() * 20) - 10
    : dtype === 'float16' ? (r() < 0.5 ? 0x8000 : 0) | (0x3000 + Math.floor(r() * 0xc00)) // bits: ±0.125 … 1
    : dtype === 'bfloat16' ? (r() < 0.5 ? 0x8000 : 0) | (0x3e00 + Math.floor(r() * 0x100))
    : r() - 0.5;
  const index = makeView('int32', [L], { offset: 2 }, (i) => (i % 3 === 0 ? 0 : Math.floor(r() * shape[dim]!)));
  const ss = [...shape]; ss[dim] = L;
  const src = makeView(dtype, ss, ss.length > 1 ? { perm: [...ss.keys()].reverse() } : {}, value);
  return { index, src };
}

describe('indexAdd zeroed', () => {
  it('cpu reference and fast tier: equal to fill + indexAdd bit for bit, garbage in out beforehand', () => {
    for (const [name, K] of [['reference', cpuKernels], ['fast', fastCpuKernels]] as const) {
      for (const dtype of ['float32', 'float64', 'int32'] as DType[]) {
        for (const [i, [shape, dim, L]] of CASES.entries()) {
          const { index, src } = operands(dtype, shape, dim, L, 10 + i);
          const want = makeView(dtype, shape, { offset: 1 }, () => 0);
          const got = makeView(dtype, shape, { offset: 1 }, dtype === 'int32' ? (k) => 1000 + k : garbage);
          K.fill(want, 0);
          K.indexAdd(want, dim, index, src);
          K.indexAdd(got, dim, index, src, true);
          // Element 0 lies before the views (offset 1): only the views are compared.
          expect(Array.from(bitsOf(got.buffer.slice(1))), `${name} ${dtype} [${shape}] dim ${dim} L ${L}`).toEqual(Array.from(bitsOf(want.buffer.slice(1))));
        }
      }
    }
  });

  it('webgpu: equal to fill + indexAdd bit for bit (float32, float16, bfloat16, int32), and to the cpu reference', async () => {
    for (const dtype of ['float32', 'float16', 'bfloat16', 'int32'] as DType[]) {
      for (const [i, [shape, dim, L]] of CASES.entries()) {
        const { index, src } = operands(dtype, shape, dim, L, 40 + i);
        const what = `${dtype} [${shape}] dim ${dim} L ${L}`;
        const filled = makeView(dtype, shape, { offset: 1 }, () => 0);
        const dirty = makeView(dtype, shape, { offset: 1 }, dtype === 'int32' ? (k) => 1000 + k : dtype === 'float32' ? garbage : () => 0x7e00);
        const [gi, gs, gf, gd] = [index, src, filled, dirty].map((v) => toGPU(rt, v));
        gk.fill(gf!, 0);
        gk.indexAdd(gf!, dim, gi!, gs!);
        gk.indexAdd(gd!, dim, gi!, gs!, true);
        const a = await readView(rt, gd!, dirty), b = await readView(rt, gf!, filled);
        expect(Array.from(bitsOf(a.slice(1))), what).toEqual(Array.from(bitsOf(b.slice(1))));
        if (dtype === 'float32' || dtype === 'int32') {
          cpuKernels.indexAdd(filled, dim, index, src);
          expectClose(a.slice(1), filled.buffer.slice(1), 1e-5, 1e-6, `${what} vs the cpu reference`);
        }
        releaseAll(rt, gi, gs, gf, gd);
      }
    }
  });
});

describe('indexAdd zeroed with an addend', () => {
  it('equals indexAdd into zeros then the add kernel, bit for bit: cpu reference, fast tier and webgpu; strided and broadcast addends', async () => {
    for (const [i, [shape, dim, L]] of CASES.entries()) {
      const { index, src } = operands('float32', shape, dim, L, 70 + i);
      const r = rng(90 + i);
      const layouts = [{}, { perm: [...shape.keys()].reverse(), offset: 3 }, { broadcast: [0] }];
      for (const [k, layout] of layouts.entries()) {
        const what = `[${shape}] dim ${dim} L ${L} addend layout ${k}`;
        const addend = makeView('float32', shape, layout, () => r() * 4 - 2);
        const sum = makeView('float32', shape, { offset: 1 });
        const want = makeView('float32', shape, { offset: 1 });
        cpuKernels.indexAdd(sum, dim, index, src, true);
        cpuKernels.binary('add', addend, sum, want);
        for (const [name, K] of [['reference', cpuKernels], ['fast', fastCpuKernels]] as const) {
          const got = makeView('float32', shape, { offset: 1 }, garbage);
          K.indexAdd(got, dim, index, src, true, addend);
          expect(Array.from(bitsOf(got.buffer.slice(1))), `${name} ${what}`).toEqual(Array.from(bitsOf(want.buffer.slice(1))));
        }
        const gsum = toGPU(rt, makeView('float32', shape, { offset: 1 })), gwant = toGPU(rt, makeView('float32', shape, { offset: 1 }));
        const [gi, gs, ga, gg] = [index, src, addend, makeView('float32', shape, { offset: 1 }, garbage)].map((v) => toGPU(rt, v));
        gk.indexAdd(gsum, dim, gi!, gs!, true);
        gk.binary('add', ga!, gsum, gwant);
        gk.indexAdd(gg!, dim, gi!, gs!, true, ga!);
        const a = await readView(rt, gg!, want), b = await readView(rt, gwant, want);
        expect(Array.from(bitsOf(a.slice(1))), `webgpu ${what}`).toEqual(Array.from(bitsOf(b.slice(1))));
        releaseAll(rt, gsum, gwant, gi, gs, ga, gg);
      }
    }
  });

  it('refuses an addend without zeroed, or with a 16-bit out, on webgpu and the cpu reference', () => {
    const { index, src } = operands('float32', [4, 3], 0, 5, 99);
    const out = makeView('float32', [4, 3]), addend = makeView('float32', [4, 3]);
    expect(() => cpuKernels.indexAdd(out, 0, index, src, false, addend)).toThrow(/indexAdd: an addend needs zeroed/);
    const [go, gi, gs, ga] = [out, index, src, addend].map((v) => toGPU(rt, v));
    expect(() => gk.indexAdd(go!, 0, gi!, gs!, false, ga!)).toThrow(/indexAdd: an addend takes zeroed and float32/);
    const half = toGPU(rt, makeView('float16', [4, 3]));
    expect(() => gk.indexAdd(half, 0, gi!, gs!, true, ga!)).toThrow(/indexAdd: an addend takes zeroed and float32/);
    releaseAll(rt, go, gi, gs, ga, half);
  });
});

describe('indexSelect with an addend', () => {
  it('equals indexSelect then the add kernel over the addend\'s shape, bit for bit: cpu reference, fast tier and webgpu', async () => {
    // [x shape, dim, index length, addend shape (out's elements in another shape), addend layout]
    const cases: [number[], number, number, number[], Parameters<typeof makeView>[2]][] = [
      [[65, 8], 0, 12, [3, 4, 8], { broadcast: [0] }], // token rows + positions broadcast over the batch
      [[5, 7], 1, 3, [5, 3], { perm: [1, 0], offset: 2 }],
      [[4, 1], 0, 1, [1], {}],
      [[3, 2, 4], 1, 5, [3, 5, 4], { offset: 1 }],
    ];
    for (const [i, [xs, dim, L, as, layout]] of cases.entries()) {
      const r = rng(120 + i);
      const x = makeView('float32', xs, {}, () => r() * 2 - 1);
      const index = makeView('int32', [L], { offset: 1 }, () => Math.floor(r() * xs[dim]!));
      const os = [...xs]; os[dim] = L;
      const addend = makeView('float32', as, layout, () => r() * 4 - 2);
      const what = `x [${xs}] dim ${dim} L ${L} addend [${as}]`;
      const y = makeView('float32', os), want = makeView('float32', as);
      cpuKernels.indexSelect(x, dim, index, y);
      cpuKernels.binary('add', { ...y, shape: as, strides: makeView('float32', as).strides }, addend, want);
      for (const [name, K] of [['reference', cpuKernels], ['fast', fastCpuKernels]] as const) {
        const got = makeView('float32', os, {}, garbage);
        K.indexSelect(x, dim, index, got, addend);
        expect(Array.from(bitsOf(got.buffer)), `${name} ${what}`).toEqual(Array.from(bitsOf(want.buffer)));
      }
      const [gx, gi, ga, gg] = [x, index, addend, makeView('float32', os, {}, garbage)].map((v) => toGPU(rt, v));
      const gy = toGPU(rt, makeView('float32', os)), gw = toGPU(rt, makeView('float32', as));
      gk.indexSelect(gx!, dim, gi!, gy);
      gk.binary('add', { ...gy, shape: as, strides: makeView('float32', as).strides }, ga!, gw);
      gk.indexSelect(gx!, dim, gi!, gg!, ga!);
      expect(Array.from(bitsOf(await readView(rt, gg!, want))), `webgpu ${what}`).toEqual(Array.from(bitsOf(await readView(rt, gw, want))));
      releaseAll(rt, gx, gi, ga, gg, gy, gw);
    }
  });

  it('refuses an addend of another size or dtype on webgpu and the cpu reference', () => {
    const x = makeView('float32', [4, 3]), index = makeView('int32', [2]), out = makeView('float32', [2, 3]);
    expect(() => cpuKernels.indexSelect(x, 0, index, out, makeView('float32', [5]))).toThrow(/indexSelect: the addend has 5 elements, out 6/);
    const [gx, gi, go, g5, gh] = [x, index, out, makeView('float32', [5]), makeView('float16', [6])].map((v) => toGPU(rt, v));
    expect(() => gk.indexSelect(gx!, 0, gi!, go!, g5!)).toThrow(/indexSelect: an addend takes float32/);
    expect(() => gk.indexSelect(gx!, 0, gi!, go!, gh!)).toThrow(/indexSelect: an addend takes float32/);
    releaseAll(rt, gx, gi, go, g5, gh);
  });
});
