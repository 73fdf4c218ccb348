// Average pooling's WebAssembly plane kernels (cpu_fast/avg_pool.ts) against the reference
// (cpu/conv.ts), bit for bit: odd sizes, 1×1 windows and images, batch 1, padding (narrow and as
// wide as the kernel allows), stride ≠ kernel, dilation, rows with an odd number of interior
// columns (the paired vector loop and its scalar tail), and inputs contiguous (in the memory or
// copied in), permuted (NHWC storage), every other column, and with H and W transposed; NaN, ±∞
// and −0 among the values; each thread count. The spy proves which route ran: the plane kernels
// for every operand in the memory, the TypeScript loop for a strided view outside it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { isContiguous } from '../src/geometry.js';
import { pool2d, pool2dBackward } from '../src/cpu_fast/conv.js';
import { allocTensorArray, releaseTensorArray } from '../src/cpu_fast/index.js';
import { wasmRuntime } from '../src/wasm/runtime.js';
import type { Conv2dGeometry, TypedArray, View } from '../src/types.js';
import { bitsEqual, eachThreadCount, forceThreading, seeded, view } from './wasm_helpers.js';

type V = View<TypedArray>;
type Shape = [number, number, number, number];
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const outSize = (n: number, k: number, s: number, p: number, d: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;

interface Case { x: Shape; k: [number, number]; s: [number, number]; p: [number, number]; d: [number, number] }
const CASES: Case[] = [
  { x: [2, 3, 9, 13], k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1] },    // stride 1: adjacent pairs, 11 interior columns (odd)
  { x: [1, 2, 8, 10], k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1] },    // the common 2×2 / 2 (pairs two apart)
  { x: [1, 3, 7, 9], k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1] },     // odd sizes, stride 2, padding
  { x: [2, 2, 10, 11], k: [3, 2], s: [2, 3], p: [1, 1], d: [1, 1] },   // stride ≠ kernel, uneven
  { x: [1, 1, 11, 12], k: [3, 3], s: [2, 1], p: [0, 1], d: [2, 3] },   // dilation (the kernel accepts it)
  { x: [1, 4, 5, 5], k: [1, 1], s: [1, 1], p: [0, 0], d: [1, 1] },     // 1×1
  { x: [2, 2, 6, 7], k: [1, 1], s: [2, 3], p: [0, 0], d: [1, 1] },     // 1×1 strided
  { x: [1, 1, 1, 1], k: [1, 1], s: [1, 1], p: [0, 0], d: [1, 1] },     // a 1×1 image
  { x: [1, 2, 5, 5], k: [5, 5], s: [1, 1], p: [2, 2], d: [1, 1] },     // padding = kernel/2: one interior column
  { x: [3, 1, 4, 1], k: [3, 1], s: [1, 1], p: [1, 0], d: [1, 1] },     // W = 1: no pairs
  { x: [1, 16, 14, 14], k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1] },  // many planes (thread split)
];
const geo = (c: Case): Conv2dGeometry => ({ kernel: c.k, stride: c.s, padding: c.p, dilation: c.d });
const outShape = (c: Case): Shape => [c.x[0], c.x[1], outSize(c.x[2], c.k[0], c.s[0], c.p[0], c.d[0]), outSize(c.x[3], c.k[1], c.s[1], c.p[1], c.d[1])];
const label = (c: Case) => `x [${c.x}] k [${c.k}] s [${c.s}] p [${c.p}] d [${c.d}]`;

const held: Float32Array[] = [];
/** n floats in the WebAssembly memory (a cpu tensor's storage) or a plain array, filled with `values` or NaN. */
function f32(n: number, heap: boolean, values?: Float32Array): Float32Array {
  const a = heap ? allocTensorArray(n) : new Float32Array(n);
  if (a === null) throw new Error('the WebAssembly heap gave no array');
  if (heap) held.push(a);
  if (values) a.set(values); else a.fill(NaN);
  return a;
}
afterEach(() => { for (const a of held.splice(0)) releaseTensorArray(a); });

/** Values with special ones: a NaN, ±∞ and −0 at a few places (not in every case's first plane only). */
function values(n: number, seed: number, special: boolean): Float32Array {
  const v = seeded(n, seed, -2, 2);
  if (special) for (let i = 3; i < n; i += 41) v[i] = [NaN, Infinity, -Infinity, -0][((i / 41) | 0) % 4]!;
  return v;
}

/** The operand of shape `shape` in every layout, each labelled with whether its array is in the memory. */
function layouts(shape: Shape, seed: number, heap: boolean, special = false): [string, V][] {
  const [N, C, H, W] = shape, n = numel(shape);
  const nhwc = view(f32(n, heap, values(n, seed + 1, special)), [N, H, W, C]);
  const nchw = view(f32(n, heap, values(n, seed + 3, special)), [N, C, W, H]);
  const wide = f32(2 * n + 3, heap, values(2 * n + 3, seed + 2, special));
  return [
    ['contiguous', view(f32(n, heap, values(n, seed, special)), shape)],
    ['permuted (NHWC storage)', { ...nhwc, shape, strides: [H * W * C, 1, W * C, C] }],
    ['every other column', { buffer: wide, dtype: 'float32', shape, strides: [C * H * 2 * W, H * 2 * W, 2 * W, 2], offset: 3 }],
    ['H and W transposed', { ...nchw, shape, strides: [C * H * W, H * W, 1, H] }],
  ];
}

/** Runs `body` and reports which plane kernels it launched. */
function launched(body: () => void): string[] {
  const rt = wasmRuntime();
  const spy = vi.spyOn(rt, 'parallelShared');
  try {
    body();
    return spy.mock.calls.map((c) => String(c[0]));
  } finally {
    spy.mockRestore();
  }
}

describe('average pooling on the fast cpu tier', () => {
  it('forward: the reference bits for every geometry and layout; the plane kernel wherever the input is in the memory or contiguous', () => {
    for (const heap of [true, false]) {
      for (const c of CASES) {
        const os = outShape(c), no = numel(os);
        for (const [what, x] of layouts(c.x, 11, heap, true)) {
          const ref = view(new Float32Array(no), os), got = view(f32(no, heap), os);
          cpuKernels.pool2d('avg', x, geo(c), ref, null);
          let handled = false;
          const names = launched(() => { handled = pool2d('avg', x, geo(c), got, null); });
          expect(handled, `${label(c)} ${what}`).toBe(true);
          expect(bitsEqual(got.buffer as Float32Array, ref.buffer as Float32Array), `avg ${label(c)} ${what} heap=${heap}`).toBe(true);
          expect(names, `route of ${label(c)} ${what} heap=${heap}`).toEqual(heap || isContiguous(x) ? ['avgpool_planes'] : []);
        }
      }
    }
  });

  it('backward: the reference bits for every geometry and dy layout, through the plane kernel as the forward', () => {
    for (const heap of [true, false]) {
      for (const c of CASES) {
        const os = outShape(c);
        for (const [what, dy] of layouts(os, 21, heap, true)) {
          const ref = view(new Float32Array(numel(c.x)), c.x), got = view(f32(numel(c.x), heap), c.x);
          cpuKernels.pool2dBackward('avg', dy, null, geo(c), ref);
          let handled = false;
          const names = launched(() => { handled = pool2dBackward('avg', dy, null, geo(c), got); });
          expect(handled, `${label(c)} ${what}`).toBe(true);
          expect(bitsEqual(got.buffer as Float32Array, ref.buffer as Float32Array), `avg backward ${label(c)} ${what} heap=${heap}`).toBe(true);
          expect(names, `route of ${label(c)} ${what} heap=${heap}`).toEqual(heap || isContiguous(dy) ? ['avgpool_backward_planes'] : []);
        }
      }
    }
  });

  it('outputs that overlap the input, or that are not contiguous float32, are declined (the reference runs them)', () => {
    const c = CASES[2]!, os = outShape(c);
    const buf = f32(numel(c.x) + numel(os), true, seeded(numel(c.x) + numel(os), 5));
    const x = view(buf, c.x), overlapping = view(buf, os, undefined, 1);
    expect(pool2d('avg', x, geo(c), overlapping, null)).toBe(false);
    const t: V = { ...view(f32(numel(os), true), os), strides: [numel(os.slice(1)), os[2]! * os[3]!, 1, os[2]!] };
    expect(pool2d('avg', x, geo(c), t, null)).toBe(false);
    expect(pool2d('avg', view(Float64Array.from(x.buffer.subarray(0, numel(c.x))), c.x), geo(c), view(new Float64Array(numel(os)), os), null)).toBe(false);
  });
});

describe('average pooling plane kernels on threads', () => {
  forceThreading();
  it('the same bits on 1..n threads as the reference, forward and backward', () => {
    for (const c of [CASES[0]!, CASES[1]!, CASES[4]!, CASES[10]!]) {
      const os = outShape(c), no = numel(os), nx = numel(c.x);
      const x = view(f32(nx, true, seeded(nx, 4, -2, 2)), c.x), dy = view(f32(no, true, seeded(no, 8, -2, 2)), os);
      const refOut = view(new Float32Array(no), os), refDx = view(new Float32Array(nx), c.x);
      cpuKernels.pool2d('avg', x, geo(c), refOut, null);
      cpuKernels.pool2dBackward('avg', dy, null, geo(c), refDx);
      eachThreadCount((t) => {
        const out = view(f32(no, true), os), dx = view(f32(nx, true), c.x);
        expect(pool2d('avg', x, geo(c), out, null)).toBe(true);
        expect(pool2dBackward('avg', dy, null, geo(c), dx)).toBe(true);
        expect(bitsEqual(out.buffer as Float32Array, refOut.buffer as Float32Array), `forward ${label(c)} threads=${t}`).toBe(true);
        expect(bitsEqual(dx.buffer as Float32Array, refDx.buffer as Float32Array), `backward ${label(c)} threads=${t}`).toBe(true);
      });
    }
  });
});
