// float16 and bfloat16 on WebGPU: casts between every pair of GPU dtypes (bit-exact against the cpu
// reference, edge values included), fill, and the elementwise kernels per dtype against the float64
// reference within the tolerance rule of dtype_tolerance.ts, on the vec4, contiguous and strided paths.
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
