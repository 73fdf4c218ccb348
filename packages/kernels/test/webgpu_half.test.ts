// float16 and bfloat16 on WebGPU: casts between every pair of GPU dtypes (bit-exact against the cpu
// reference, edge values included), fill, the elementwise kernels per dtype (vec4, contiguous and
// strided paths), matmul and the softmax and layerNorm forwards (16-bit storage read and written in
// place; every matmul variant in webgpu_half_matmul.test.ts), and reduce, crossEntropy and attention
// (16-bit storage in place as well; per family in webgpu_half_kernels.test.ts) against the float64
// reference within the tolerance rule of dtype_tolerance.ts.
import { describe, expect, it } from 'vitest';
import { convertTo, cpuKernels, readAll, storedBits, UNARY_FNS, BINARY_FNS } from '../src/cpu/index.js';
import type { BinaryOp, DType, TypedArray, UnaryOp, View } from '../src/types.js';
import { createWebGPUKernels } from '../src/webgpu/index.js';
import { gpuRuntime, makeView, readView, releaseAll, rng, toGPU, type Layout } from './gpu_helpers.js';
import { FACTOR, expectWithinEps } from './dtype_tolerance.js';

const rt = await gpuRuntime();
const gk = createWebGPUKernels(rt);
const GPU_DTYPES: DType[] = ['float32', 'float16', 'bfloat16', 'int32', 'bool'];

/** A view of `dtype` holding `values` (stored as that dtype stores them) with `layout`. */
function viewOf(dtype: DType, values: readonly number[], shape: number[], layout: Layout = {}): View<TypedArray> {
  const v = makeView(dtype, shape, layout);
  // Write the values in logical order through the view's strides.
  const n = values.length;
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let off = v.offset;
    for (let d = 0; d < shape.length; d++) off += idx[d]! * v.strides[d]!;
    v.buffer[off] = storedBits(dtype, values[i]!);
    for (let d = shape.length - 1; d >= 0; d--) { if (++idx[d]! < shape[d]!) break; idx[d] = 0; }
  }
  return v;
}

/** Decoded values of a whole storage array of `dtype`. */
const decoded = (dtype: DType, buf: TypedArray): number[] => Array.from(readAll({ buffer: buf, dtype, shape: [buf.length], strides: [1], offset: 0 }));

const EDGES = [0, -0, 1, -1, 0.1, -2.5, 3.5, 65504, 65519, 65520, 70000, -1e6, 3e38, 1e-5, 6e-8, 3e-8, 1e-40, NaN, Infinity, -Infinity,
  1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -24, 2 ** -25, 1.5 * 2 ** -24, 2 ** -14 - 2 ** -24];

const LAYOUTS: [string, number[], Layout][] = [
  ['vec4', [EDGES.length - 2], {}],
  ['contiguous', [EDGES.length], {}],
  ['strided', [2, EDGES.length / 2], { perm: [1, 0] }],
];

describe('webgpu casts with float16 and bfloat16 (bit-exact against the cpu reference)', () => {
  const pairs = GPU_DTYPES.flatMap((from) => GPU_DTYPES.map((to) => [from, to] as const)).filter(([a, b]) => a !== b || a === 'float16' || a === 'bfloat16');
  it.each(pairs)('%s → %s', async (from, to) => {
    for (const [label, shape, layout] of LAYOUTS) {
      const n = shape.reduce((a, b) => a * b, 1);
      // Into int32, ±inf and values past its range saturate on WebGPU (f2i) and wrap on the cpu: both
      // are outside what a cast promises, so those sources are left out here.
      const src = EDGES.slice(0, n).map((v) => (to === 'int32' && !(Math.abs(convertTo(from, v)) < 2 ** 31) && !Number.isNaN(v) ? 0 : v));
      const x = viewOf(from, src, shape, layout);
      const out = makeView(to, shape, layout);
      const want = makeView(to, shape, layout);
      cpuKernels.copy(x, want);
      const gx = toGPU(rt, x), gout = toGPU(rt, out);
      gk.copy(gx, gout);
      const got = await readView(rt, gout, out);
      expect(decoded(to, got), `${from} → ${to} (${label})`).toEqual(decoded(to, want.buffer));
      releaseAll(rt, gx, gout);
    }
  });

  it.each(['float16', 'bfloat16'] as const)('fill %s with edge values', async (d) => {
    for (const value of EDGES) {
      const out = makeView(d, [5]);
      const want = makeView(d, [5]);
      cpuKernels.fill(want, value);
      const g = toGPU(rt, out);
      gk.fill(g, value);
      expect(decoded(d, await readView(rt, g, out)), `fill ${value}`).toEqual(decoded(d, want.buffer));
      releaseAll(rt, g);
    }
  });
});

const UNARY: UnaryOp[] = ['neg', 'abs', 'exp', 'log', 'sqrt', 'tanh', 'sigmoid', 'relu', 'gelu', 'silu', 'sin', 'floor'];
const BINARY: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'pow'];

describe.each(['float16', 'bfloat16'] as const)('webgpu elementwise on %s (computed in f32, stored rounded to nearest-even)', (d) => {
  // FACTOR.elementwise: ½ ulp of d for the store plus 8 ulp of f32 for the op's evaluation.
  const factor = FACTOR.elementwise(d, 'float32');
  const r = rng(7);
  const positive = (op: string): boolean => op === 'log' || op === 'sqrt' || op === 'pow';

  it.each(UNARY)('%s', async (op) => {
    for (const [label, shape, layout] of LAYOUTS) {
      const n = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: n }, () => (positive(op) ? 0.05 + 4 * r() : -4 + 8 * r()));
      const x = viewOf(d, values, shape, layout);
      const out = makeView(d, shape, layout);
      const gx = toGPU(rt, x), gout = toGPU(rt, out);
      gk.unary(op, gx, gout);
      const got = readAll({ ...out, buffer: await readView(rt, gout, out) });
      const want = Array.from(readAll(x), (v) => UNARY_FNS[op](v)); // float64 of the stored inputs
      expectWithinEps(got, want, d, factor, `${op} ${label}`);
      releaseAll(rt, gx, gout);
    }
  });

  it.each(BINARY)('%s, and with a scalar operand', async (op) => {
    for (const [label, shape, layout] of LAYOUTS) {
      const n = shape.reduce((a, b) => a * b, 1);
      const gen = () => (positive(op) ? 0.25 + 2 * r() : -4 + 8 * r());
      const a = viewOf(d, Array.from({ length: n }, gen), shape, layout);
      const b = viewOf(d, Array.from({ length: n }, gen), shape, {});
      const out = makeView(d, shape, {});
      const ga = toGPU(rt, a), gb = toGPU(rt, b), gout = toGPU(rt, out);
      gk.binary(op, ga, gb, gout);
      const av = readAll(a), bv = readAll(b);
      const got = readAll({ ...out, buffer: await readView(rt, gout, out) });
      expectWithinEps(got, Array.from(av, (v, i) => BINARY_FNS[op](v, bv[i]!)), d, factor, `${op} ${label}`);
      const s = 1.375; // exact in both formats
      gk.binaryScalar(op, ga, s, false, gout);
      const gotS = readAll({ ...out, buffer: await readView(rt, gout, out) });
      expectWithinEps(gotS, Array.from(av, (v) => BINARY_FNS[op](v, s)), d, factor, `${op}(x, ${s}) ${label}`);
      releaseAll(rt, ga, gb, gout);
    }
  });

  it('mixed storage: float16 + bfloat16 → float32, and a comparison into bool', async () => {
    const n = 24;
    const a = viewOf('float16', Array.from({ length: n }, () => -3 + 6 * r()), [n]);
    const b = viewOf('bfloat16', Array.from({ length: n }, () => -3 + 6 * r()), [n]);
    const out = makeView('float32', [n]);
    const cmp = makeView('bool', [n]);
    const ga = toGPU(rt, a), gb = toGPU(rt, b), gout = toGPU(rt, out), gcmp = toGPU(rt, cmp);
    gk.binary('add', ga, gb, gout);
    gk.binary('lt', ga, gb, gcmp);
    const av = readAll(a), bv = readAll(b);
    expectWithinEps(readAll({ ...out, buffer: await readView(rt, gout, out) }), Array.from(av, (v, i) => v + bv[i]!), 'float32', FACTOR.elementwise('float32', 'float32'), 'add');
    expect(Array.from(await readView(rt, gcmp, cmp))).toEqual(Array.from(av, (v, i) => (v < bv[i]! ? 1 : 0)));
    releaseAll(rt, ga, gb, gout, gcmp);
  });
});

describe.each(['float16', 'bfloat16'] as const)('webgpu matmul, reductions, row kernels and attention on %s (f32 accumulation, stored rounded)', (d) => {
  const r = rng(11);
  const gen = (n: number, s = 1, shift = 0): number[] => Array.from({ length: n }, () => shift + s * (2 * r() - 1));
  /** A d view of `values` and a float64 cpu view of the same rounded values. */
  const pair = (shape: number[], values: number[]): [View<TypedArray>, View<TypedArray>] => {
    const v = viewOf(d, values, shape);
    const v64 = makeView('float64', shape);
    v64.buffer.set(readAll(v));
    return [v, v64];
  };
  const run = async (out: View<TypedArray>, g: View<GPUBuffer>): Promise<number[]> => Array.from(readAll({ ...out, buffer: await readView(rt, g, out) }));

  it('matmul [7,33]·[33,5] (FACTOR.matmul with f32 accumulation, relative to Σ|a·b|)', async () => {
    const [M, K, N] = [7, 33, 5];
    const [a, a64] = pair([M, K], gen(M * K, 3)), [b, b64] = pair([K, N], gen(K * N));
    const out = makeView(d, [M, N]), ref = makeView('float64', [M, N]);
    cpuKernels.matmul(a64, b64, ref);
    const ga = toGPU(rt, a), gb = toGPU(rt, b), go = toGPU(rt, out);
    gk.matmul(ga, gb, go);
    const A = Array.from(readAll(a64)), B = Array.from(readAll(b64));
    const scale = Array.from({ length: M * N }, (_, i) => {
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.abs(A[Math.floor(i / N) * K + k]! * B[k * N + (i % N)]!);
      return s;
    });
    expectWithinEps(await run(out, go), Array.from(readAll(ref)), d, FACTOR.matmul(d, 'float32', K), 'matmul', scale);
    releaseAll(rt, ga, gb, go);
  });

  it('reduce sum over 500 and softmax over rows of 40 (FACTOR.reduction with f32 accumulation)', async () => {
    const [x, x64] = pair([3, 500], gen(1500, 1, 0.5));
    const out = makeView(d, [3, 1]), ref = makeView('float64', [3, 1]);
    cpuKernels.reduce('sum', x64, [1], ref);
    const gx = toGPU(rt, x), go = toGPU(rt, out);
    gk.reduce('sum', gx, [1], go);
    expectWithinEps(await run(out, go), Array.from(readAll(ref)), d, FACTOR.reduction(d, 'float32', 500), 'sum');
    const [s, s64] = pair([4, 40], gen(160, 4));
    const so = makeView(d, [4, 40]), sref = makeView('float64', [4, 40]);
    cpuKernels.softmax(s64, sref, false);
    const gs = toGPU(rt, s), gso = toGPU(rt, so);
    gk.softmax(gs, gso, false);
    expectWithinEps(await run(so, gso), Array.from(readAll(sref)), d, FACTOR.reduction(d, 'float32', 40), 'softmax');
    releaseAll(rt, gx, go, gs, gso);
  });

  it('softmax and logSoftmax read and write 16-bit storage in place: rows of 1, 7 and 300, a 16-bit or float32 out, one dispatch', async () => {
    for (const D of [1, 7, 300]) {
      for (const outDType of [d, 'float32'] as const) {
        for (const log of [false, true]) {
          const [x, x64] = pair([3, D], gen(3 * D, 6));
          const out = makeView(outDType, [3, D]), ref = makeView('float64', [3, D]);
          cpuKernels.softmax(x64, ref, log);
          const gx = toGPU(rt, x), go = toGPU(rt, out);
          const before = rt.stats();
          gk.softmax(gx, go, log);
          const after = rt.stats();
          const what = `${log ? 'logSoftmax' : 'softmax'} D=${D} → ${outDType}`;
          expect(after.dispatches - before.dispatches, what).toBe(1);
          expect(after.allocations + after.reuses - before.allocations - before.reuses, `${what}: buffers requested`).toBe(0);
          const refv = Array.from(readAll(ref));
          expectWithinEps(await run(out, go), refv, outDType, FACTOR.reduction(outDType, 'float32', D), what, log ? refv.map((v) => Math.max(Math.abs(v), 1)) : undefined);
          releaseAll(rt, gx, go);
        }
      }
    }
  });

  it('layerNorm reads and writes 16-bit storage in place: rows of 1, 7 and 300, with and without weight/bias, one dispatch', async () => {
    for (const D of [1, 7, 300]) {
      for (const affine of [true, false]) {
        const [x, x64] = pair([3, D], gen(3 * D, 2, 1)), [w, w64] = pair([D], gen(D)), [b, b64] = pair([D], gen(D));
        const out = makeView(d, [3, D]), mean = makeView(d, [3]), rstd = makeView('float32', [3]);
        const ref = makeView('float64', [3, D]), mean64 = makeView('float64', [3]), rstd64 = makeView('float64', [3]);
        cpuKernels.layerNorm(x64, affine ? w64 : null, affine ? b64 : null, 1e-5, ref, mean64, rstd64);
        const g = [x, w, b, out, mean, rstd].map((v) => toGPU(rt, v));
        const before = rt.stats();
        gk.layerNorm(g[0]!, affine ? g[1]! : null, affine ? g[2]! : null, 1e-5, g[3]!, g[4]!, g[5]!);
        const after = rt.stats();
        const what = `layerNorm D=${D}${affine ? ' affine' : ''}`;
        expect(after.dispatches - before.dispatches, what).toBe(1);
        expect(after.allocations + after.reuses - before.allocations - before.reuses, `${what}: buffers requested`).toBe(0);
        const refv = Array.from(readAll(ref));
        expectWithinEps(await run(out, g[3]!), refv, d, FACTOR.reduction(d, 'float32', D), what, refv.map((v) => Math.max(Math.abs(v), 1)));
        expectWithinEps(await run(mean, g[4]!), Array.from(readAll(mean64)), d, FACTOR.reduction(d, 'float32', D), `${what} mean`);
        // rstd: the variance's reduction, then 1/√(σ² + eps) evaluated in f32.
        const rstdFactor = FACTOR.reduction('float32', 'float32', D) + FACTOR.elementwise('float32', 'float32');
        expectWithinEps(await run(rstd, g[5]!), Array.from(readAll(rstd64)), 'float32', rstdFactor, `${what} rstd`);
        releaseAll(rt, ...g);
      }
    }
  });

  it('layerNorm over rows of 48 and crossEntropy over 30 classes (FACTOR.reduction with f32 accumulation)', async () => {
    const [x, x64] = pair([3, 48], gen(144, 2, 1)), [w, w64] = pair([48], gen(48)), [b, b64] = pair([48], gen(48));
    const out = makeView(d, [3, 48]), ref = makeView('float64', [3, 48]);
    const mean = makeView('float32', [3]), rstd = makeView('float32', [3]);
    cpuKernels.layerNorm(x64, w64, b64, 1e-5, ref, makeView('float64', [3]), makeView('float64', [3]));
    const g = [x, w, b, out, mean, rstd].map((v) => toGPU(rt, v));
    gk.layerNorm(g[0]!, g[1]!, g[2]!, 1e-5, g[3]!, g[4]!, g[5]!);
    const refv = Array.from(readAll(ref));
    expectWithinEps(await run(out, g[3]!), refv, d, FACTOR.reduction(d, 'float32', 48), 'layerNorm', refv.map((v) => Math.max(Math.abs(v), 1)));
    releaseAll(rt, ...g);

    const [l, l64] = pair([5, 30], gen(150, 3));
    const targets = viewOf('int32', [0, 29, 4, 4, 17], [5]);
    const opts = { ignoreIndex: -100, labelSmoothing: 0 };
    const loss = makeView(d, [5]), lse = makeView(d, [5]), loss64 = makeView('float64', [5]), lse64 = makeView('float64', [5]);
    cpuKernels.crossEntropy(l64, targets, null, opts, loss64, lse64);
    const h = [l, targets, loss, lse].map((v) => toGPU(rt, v));
    gk.crossEntropy(h[0]!, h[1]!, null, opts, h[2]!, h[3]!);
    expectWithinEps(await run(loss, h[2]!), Array.from(readAll(loss64)), d, FACTOR.reduction(d, 'float32', 30), 'crossEntropy loss');
    expectWithinEps(await run(lse, h[3]!), Array.from(readAll(lse64)), d, FACTOR.reduction(d, 'float32', 30), 'crossEntropy lse');
    releaseAll(rt, ...h);
  });

  it('attention [1,2,6,8] causal (FACTOR.reduction over T with f32 accumulation, relative to max |v|)', async () => {
    const shape = [1, 2, 6, 8], n = 96;
    const [q, q64] = pair(shape, gen(n)), [k, k64] = pair(shape, gen(n)), [v, v64] = pair(shape, gen(n));
    const opts = { scale: 1 / Math.sqrt(8), causal: true };
    const out = makeView(d, shape), lse = makeView('float32', [1, 2, 6]);
    const ref = makeView('float64', shape);
    cpuKernels.attention(q64, k64, v64, null, opts, ref, makeView('float64', [1, 2, 6]));
    const g = [q, k, v, out, lse].map((x) => toGPU(rt, x));
    gk.attention(g[0]!, g[1]!, g[2]!, null, opts, g[3]!, g[4]!);
    const vmax = Math.max(...Array.from(readAll(v64), Math.abs));
    expectWithinEps(await run(out, g[3]!), Array.from(readAll(ref)), d, FACTOR.reduction(d, 'float32', 6), 'attention', Array.from({ length: n }, () => vmax));
    releaseAll(rt, ...g);
  });
});
