// The fast cpu conv/pool family (cpu_fast/conv.ts) against the reference kernels on awkward
// geometries: odd H/W, stride 2, padding, dilation, 1×1 kernels, batch 1, 3 channels, inputs in the
// WebAssembly memory or in plain arrays, non-contiguous (permuted, strided) inputs, and the
// WebAssembly plane kernels split over every thread count. Each fast function must take the call
// (return true) and write every element of its output (outputs start as NaN).
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { col2im, im2col, pool2d, pool2dBackward } from '../src/cpu_fast/conv.js';
import { allocTensorArray, fastCpuKernels, releaseTensorArray } from '../src/cpu_fast/index.js';
import type { Conv2dGeometry, TypedArray, View } from '../src/types.js';
import { bitsEqual, eachThreadCount, expectWithin, forceThreading, seeded, view } from './wasm_helpers.js';

type V = View<TypedArray>;
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const outSize = (n: number, k: number, s: number, p: number, d: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;

interface Case { x: [number, number, number, number]; k: [number, number]; s: [number, number]; p: [number, number]; d: [number, number] }
const CASES: Case[] = [
  { x: [2, 6, 14, 14], k: [5, 5], s: [1, 1], p: [0, 0], d: [1, 1] },   // LeNet's second conv
  { x: [3, 1, 28, 28], k: [5, 5], s: [1, 1], p: [2, 2], d: [1, 1] },   // LeNet's first conv
  { x: [1, 3, 7, 9], k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1] },     // odd H/W, stride 2, padding
  { x: [2, 3, 11, 8], k: [3, 2], s: [2, 1], p: [1, 0], d: [2, 3] },    // dilation, uneven everything
  { x: [1, 4, 5, 5], k: [1, 1], s: [1, 1], p: [0, 0], d: [1, 1] },     // 1×1
  { x: [2, 2, 6, 7], k: [1, 1], s: [2, 3], p: [0, 0], d: [1, 1] },     // 1×1 strided
  { x: [1, 2, 4, 5], k: [2, 3], s: [1, 2], p: [1, 1], d: [1, 1] },     // core's gradcheck sample
  { x: [2, 3, 3, 3], k: [3, 3], s: [1, 1], p: [2, 2], d: [1, 1] },     // padding wider than half the kernel
];
const geo = (c: Case): Conv2dGeometry => ({ kernel: c.k, stride: c.s, padding: c.p, dilation: c.d });
const outHW = (c: Case): [number, number] => [outSize(c.x[2], c.k[0], c.s[0], c.p[0], c.d[0]), outSize(c.x[3], c.k[1], c.s[1], c.p[1], c.d[1])];
const label = (c: Case) => `x [${c.x}] k [${c.k}] s [${c.s}] p [${c.p}] d [${c.d}]`;

/** Float32 storage in the WebAssembly heap or a plain array; released after the test body. */
const held: Float32Array[] = [];
function f32(n: number, heap: boolean, fillWith?: Float32Array): Float32Array {
  const a = heap ? allocTensorArray(n) ?? new Float32Array(n) : new Float32Array(n);
  if (heap) held.push(a);
  if (fillWith) a.set(fillWith); else a.fill(NaN);
  return a;
}
function releaseAll(): void { for (const a of held.splice(0)) releaseTensorArray(a); }

/** x of shape `shape` in three layouts: contiguous, a permuted (NHWC storage) view, and every other column of a wider buffer. */
function inputs(shape: [number, number, number, number], seed: number, heap: boolean): [string, V][] {
  const [N, C, H, W] = shape, n = numel(shape);
  const contiguous = view(f32(n, heap, seeded(n, seed, -2, 2)), shape);
  const nhwc = view(f32(n, heap, seeded(n, seed + 1, -2, 2)), [N, H, W, C]);
  const permuted: V = { ...nhwc, shape, strides: [H * W * C, 1, W * C, C] };
  const wide = f32(2 * n + 3, heap, seeded(2 * n + 3, seed + 2, -2, 2));
  const strided: V = { buffer: wide, dtype: 'float32', shape, strides: [C * H * 2 * W, H * 2 * W, 2 * W, 2], offset: 3 };
  return [['contiguous', contiguous], ['permuted', permuted], ['strided', strided]];
}

describe('fast im2col / col2im', () => {
  it('im2col is bit-identical to the reference on every geometry and input layout', () => {
    for (const heap of [true, false]) {
      for (const c of CASES) {
        const [Ho, Wo] = outHW(c);
        const colShape = [c.x[0], c.x[1] * c.k[0] * c.k[1], Ho * Wo];
        for (const [what, x] of inputs(c.x, 3, heap)) {
          const ref = view(new Float32Array(numel(colShape)), colShape), got = view(f32(numel(colShape), heap), colShape);
          cpuKernels.im2col(x, geo(c), ref);
          expect(im2col(x, geo(c), got), `${label(c)} ${what}`).toBe(true);
          expect(bitsEqual(got.buffer as Float32Array, ref.buffer as Float32Array), `im2col ${label(c)} ${what} heap=${heap}`).toBe(true);
        }
      }
      releaseAll();
    }
  });

  it('col2im matches the reference (float64 sums, one rounding) and is the adjoint of im2col', () => {
    for (const heap of [true, false]) {
      for (const c of CASES) {
        const [Ho, Wo] = outHW(c);
        const colShape = [c.x[0], c.x[1] * c.k[0] * c.k[1], Ho * Wo], nc = numel(colShape);
        const cols = view(f32(nc, heap, seeded(nc, 5, -2, 2)), colShape);
        const ref = view(new Float32Array(numel(c.x)), c.x), got = view(f32(numel(c.x), heap), c.x);
        cpuKernels.col2im(cols, geo(c), ref);
        expect(col2im(cols, geo(c), got), label(c)).toBe(true);
        const want = ref.buffer as Float32Array;
        expectWithin(got.buffer, want, (i) => 1.2e-7 * Math.abs(want[i]!), `col2im ${label(c)} heap=${heap}`);
        // <im2col(x), cols> = <x, col2im(cols)>, in float64.
        const x = view(seeded(numel(c.x), 9, -1, 1), c.x), xc = view(new Float32Array(nc), colShape);
        expect(im2col(x, geo(c), xc)).toBe(true);
        let lhs = 0, rhs = 0;
        for (let i = 0; i < nc; i++) lhs += xc.buffer[i]! * cols.buffer[i]!;
        for (let i = 0; i < numel(c.x); i++) rhs += x.buffer[i]! * got.buffer[i]!;
        expect(Math.abs(lhs - rhs)).toBeLessThan(1e-5 * (1 + Math.abs(lhs)));
      }
      releaseAll();
    }
  });

  it('through fastCpuKernels; outputs that are not contiguous float32 go to the reference', () => {
    const c = CASES[2]!, [Ho, Wo] = outHW(c);
    const colShape = [c.x[0], c.x[1] * 9, Ho * Wo];
    const x = view(seeded(numel(c.x), 1), c.x);
    const a = view(new Float32Array(numel(colShape)), colShape), b = view(new Float32Array(numel(colShape)), colShape);
    fastCpuKernels.im2col(x, geo(c), a);
    cpuKernels.im2col(x, geo(c), b);
    expect(bitsEqual(a.buffer as Float32Array, b.buffer as Float32Array)).toBe(true);
    // float64 and a transposed output: declined here, computed by the reference through fastCpuKernels.
    const x64 = view(Float64Array.from(x.buffer), c.x);
    expect(im2col(x64, geo(c), view(new Float64Array(numel(colShape)), colShape))).toBe(false);
    const t = view(new Float32Array(numel(colShape)), colShape);
    const tT: V = { ...t, strides: [colShape[1]! * colShape[2]!, 1, colShape[1]!] };
    expect(im2col(x, geo(c), tT)).toBe(false);
    fastCpuKernels.im2col(x, geo(c), tT);
    for (let r = 0; r < colShape[1]!; r++) for (let l = 0; l < colShape[2]!; l++) expect(t.buffer[l * colShape[1]! + r]).toBe(b.buffer[r * colShape[2]! + l]);
  });
});

const POOLS: Case[] = [
  { x: [2, 6, 28, 28], k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1] },   // LeNet
  { x: [1, 3, 7, 9], k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1] },     // odd, stride 2, padding
  { x: [2, 2, 5, 4], k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1] },     // overlapping windows
  { x: [1, 2, 6, 5], k: [2, 3], s: [1, 2], p: [1, 1], d: [1, 1] },
  { x: [1, 1, 9, 9], k: [3, 2], s: [2, 3], p: [0, 1], d: [2, 1] },     // dilation (the kernel accepts it)
  { x: [3, 2, 4, 4], k: [1, 1], s: [1, 1], p: [0, 0], d: [1, 1] },
  { x: [1, 3, 5, 11], k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1] },   // 2×2 kernel: four vector outputs and a scalar one per row
  { x: [2, 1, 3, 7], k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1] },    // 2×2 kernel, rows of three outputs (scalar only)
];

describe('fast pool2d / pool2dBackward', () => {
  it('forward max (values, argmax) and avg are bit-identical to the reference, NaN and ties included', () => {
    for (const heap of [true, false]) {
      for (const c of POOLS) {
        const [Ho, Wo] = outHW(c), os = [c.x[0], c.x[1], Ho, Wo], no = numel(os);
        for (const [what, x] of inputs(c.x, 11, heap)) {
          // Ties and NaNs: quantize some values to a few levels and put NaNs at a few places.
          for (let i = 0; i < x.buffer.length; i += 7) x.buffer[i] = Math.round(x.buffer[i]!);
          for (let i = 5; i < x.buffer.length; i += 97) x.buffer[i] = NaN;
          for (const op of ['max', 'avg'] as const) {
            const ref = view(new Float32Array(no), os), got = view(f32(no, heap), os);
            const refArg = view(new Int32Array(no), os), gotArg = view(new Int32Array(no).fill(-7), os);
            cpuKernels.pool2d(op, x, geo(c), ref, op === 'max' ? refArg : null);
            expect(pool2d(op, x, geo(c), got, op === 'max' ? gotArg : null), `${op} ${label(c)} ${what}`).toBe(true);
            expect(bitsEqual(got.buffer as Float32Array, ref.buffer as Float32Array), `${op} ${label(c)} ${what} heap=${heap}`).toBe(true);
            if (op === 'max') expect([...gotArg.buffer], `argmax ${label(c)} ${what}`).toEqual([...refArg.buffer]);
          }
        }
      }
      releaseAll();
    }
  });

  it('backward max and avg are bit-identical to the reference, dy in any layout', () => {
    for (const heap of [true, false]) {
      for (const c of POOLS) {
        const [Ho, Wo] = outHW(c), os: [number, number, number, number] = [c.x[0], c.x[1], Ho, Wo], no = numel(os);
        const x = view(seeded(numel(c.x), 2, -2, 2), c.x);
        const arg = view(new Int32Array(no), os);
        cpuKernels.pool2d('max', x, geo(c), view(new Float32Array(no), os), arg);
        for (const [what, dy] of inputs(os, 21, heap)) {
          for (const op of ['max', 'avg'] as const) {
            const a = op === 'max' ? arg : null;
            const ref = view(new Float32Array(numel(c.x)), c.x), got = view(f32(numel(c.x), heap), c.x);
            cpuKernels.pool2dBackward(op, dy, a, geo(c), ref);
            expect(pool2dBackward(op, dy, a, geo(c), got), `${op} ${label(c)} ${what}`).toBe(true);
            expect(bitsEqual(got.buffer as Float32Array, ref.buffer as Float32Array), `backward ${op} ${label(c)} ${what} heap=${heap}`).toBe(true);
          }
        }
      }
      releaseAll();
    }
  });

  it('an argmax out of range is refused with the reference error, before dx is written', () => {
    const g: Conv2dGeometry = { kernel: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1] };
    const dy = view(seeded(4, 1), [1, 1, 2, 2]), arg = view(Int32Array.from([0, 3, 16, 5]), [1, 1, 2, 2]);
    const dx = view(new Float32Array(16).fill(42), [1, 1, 4, 4]);
    expect(pool2dBackward('max', dy, arg, g, dx)).toBe(false);
    expect([...dx.buffer].every((v) => v === 42)).toBe(true);
    expect(() => fastCpuKernels.pool2dBackward('max', dy, arg, g, dx)).toThrow(/argmax 16 is out of range/);
  });
});

describe('plane kernels on threads (every size split, each thread count)', () => {
  forceThreading();
  it('im2col, col2im, max pool2d and its backward give the same bits on 1..n threads as the reference', () => {
    for (const c of [CASES[0]!, CASES[2]!, CASES[3]!, POOLS[0]!, POOLS[2]!, POOLS[4]!, POOLS[6]!]) {
      const [Ho, Wo] = outHW(c), colShape = [c.x[0], c.x[1] * c.k[0] * c.k[1], Ho * Wo], nc = numel(colShape), nx = numel(c.x);
      const os = [c.x[0], c.x[1], Ho, Wo], no = numel(os);
      const x = view(f32(nx, true, seeded(nx, 4, -2, 2)), c.x), cols = view(f32(nc, true, seeded(nc, 6, -2, 2)), colShape);
      const dy = view(f32(no, true, seeded(no, 8, -2, 2)), os);
      const refCols = view(new Float32Array(nc), colShape), refDx = view(new Float32Array(nx), c.x);
      const refOut = view(new Float32Array(no), os), refArg = view(new Int32Array(no), os), refPoolDx = view(new Float32Array(nx), c.x);
      cpuKernels.im2col(x, geo(c), refCols);
      cpuKernels.col2im(cols, geo(c), refDx);
      cpuKernels.pool2d('max', x, geo(c), refOut, refArg);
      cpuKernels.pool2dBackward('max', dy, refArg, geo(c), refPoolDx);
      const runs = eachThreadCount((t) => {
        const got = { cols: view(f32(nc, true), colShape), dx: view(f32(nx, true), c.x), out: view(f32(no, true), os), arg: view(new Int32Array(no).fill(-7), os), pdx: view(f32(nx, true), c.x) };
        expect(im2col(x, geo(c), got.cols)).toBe(true);
        expect(col2im(cols, geo(c), got.dx)).toBe(true);
        expect(pool2d('max', x, geo(c), got.out, got.arg)).toBe(true);
        expect(pool2dBackward('max', dy, refArg, geo(c), got.pdx)).toBe(true);
        expect(bitsEqual(got.cols.buffer as Float32Array, refCols.buffer as Float32Array), `im2col ${label(c)} threads=${t}`).toBe(true);
        const want = refDx.buffer as Float32Array;
        expectWithin(got.dx.buffer, want, (i) => 1.2e-7 * Math.abs(want[i]!), `col2im ${label(c)} threads=${t}`);
        expect(bitsEqual(got.out.buffer as Float32Array, refOut.buffer as Float32Array), `pool2d ${label(c)} threads=${t}`).toBe(true);
        expect([...got.arg.buffer], `argmax ${label(c)} threads=${t}`).toEqual([...refArg.buffer]);
        expect(bitsEqual(got.pdx.buffer as Float32Array, refPoolDx.buffer as Float32Array), `pool2dBackward ${label(c)} threads=${t}`).toBe(true);
        return [...got.dx.buffer];
      });
      // col2im's float64 sums run in one order whatever the thread count.
      for (const r of runs) expect(r).toEqual(runs[0]);
      releaseAll();
    }
  });
});
