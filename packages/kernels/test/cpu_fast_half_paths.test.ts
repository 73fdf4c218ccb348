// The fast cpu tier's float16/bfloat16 paths (cpu_fast/half_arrays.ts `viaFloat32`): elementwise,
// rows, attention and reduce decode 16-bit operands once to float32, run the float32 fast kernels
// and encode each 16-bit result once. Each case runs on awkward shapes and layouts (odd sizes, size
// 1, transposed operands at an offset, broadcast operands, strided outputs, head views of a packed
// q/k/v) and checks two things: the result is within the dtype tolerance rule of dtype_tolerance.ts
// against the float64 reference on the same (rounded) values, with float32 as the evaluation type;
// and the fast path took the call — no kernel fell back to the reference (`referenceCalls`).
import { describe, expect, it } from 'vitest';
import { contiguousStrides, contiguousView, cpuKernels, numel, readAll, typedArrayFor, writeAll } from '../src/cpu/index.js';
import { referenceCalls } from '../src/cpu_fast/fallback.js';
import { fastCpuKernels as fast } from '../src/cpu_fast/index.js';
import type { DType, TypedArray, View } from '../src/types.js';
import { noise } from './cpu_helpers.js';
import { FACTOR, expectWithinEps } from './dtype_tolerance.js';

type V = View<TypedArray>;
type Half = 'float16' | 'bfloat16';
const HALVES: Half[] = ['float16', 'bfloat16'];

/** A view of `shape` holding `values` (logical order, rounded to d), its dims reversed in memory, at offset 3. */
function transposed(d: DType, shape: number[], values: number[]): V {
  const strides = contiguousStrides([...shape].reverse()).reverse();
  const v: V = { buffer: typedArrayFor(d, numel(shape) + 3), dtype: d, shape, strides, offset: 3 };
  writeAll(v, values);
  return v;
}
/** A contiguous view of `shape` holding `values` rounded to d. */
const dense = (d: DType, shape: number[], values?: number[]): V => contiguousView(d, shape, values);
/** The same values as v (already rounded to v's dtype), as a contiguous float64 view. */
const f64 = (v: V): V => contiguousView('float64', v.shape, readAll(v));
const vals = (v: V): number[] => Array.from(readAll(v));
/** A scale of max |ref| for every element: for results whose terms cancel (backward kernels). */
const maxScale = (ref: V): number[] => { const r = vals(ref), m = Math.max(...r.map(Math.abs)); return r.map(() => m); };

/** Runs fn and fails if any kernel fell back to the reference meanwhile. */
function fastOnly(fn: () => void): void {
  const before = referenceCalls();
  fn();
  expect(referenceCalls()).toEqual(before);
}

describe.each(HALVES)('fast cpu kernels on %s operands', (d) => {
  const ew = FACTOR.elementwise(d, 'float32');
  const red = (n: number) => FACTOR.reduction(d, 'float32', n);

  it('unary exp/gelu/tanh/sqrt: transposed input into a strided output, and a single element', () => {
    const x = transposed(d, [7, 5], noise(35, 1).map((v) => 3 * v));
    for (const op of ['exp', 'gelu', 'tanh', 'abs'] as const) {
      const out = transposed(d, [7, 5], new Array(35).fill(0)), ref = dense('float64', [7, 5]);
      fastOnly(() => fast.unary(op, x, out));
      cpuKernels.unary(op, f64(x), ref);
      expectWithinEps(vals(out), vals(ref), d, ew, op);
    }
    const one = dense(d, [1], [0.7]), o1 = dense(d, [1]), r1 = dense('float64', [1]);
    fastOnly(() => fast.unary('sqrt', one, o1));
    cpuKernels.unary('sqrt', f64(one), r1);
    expectWithinEps(vals(o1), vals(r1), d, ew, 'sqrt [1]');
  });

  it('unary in place (out is x)', () => {
    const x = dense(d, [3, 9], noise(27, 2)), x64 = f64(x), ref = dense('float64', [3, 9]);
    fastOnly(() => fast.unary('sigmoid', x, x));
    cpuKernels.unary('sigmoid', x64, ref);
    expectWithinEps(vals(x), vals(ref), d, ew, 'sigmoid in place');
  });

  it('binary add/mul/div/geluGrad with a transposed and a broadcast operand; a comparison into bool; in place', () => {
    const a = transposed(d, [7, 5], noise(35, 3).map((v) => 2 * v));
    const bRow = dense(d, [1, 5], noise(5, 4).map((v) => v + 2));
    const b: V = { ...bRow, shape: [7, 5], strides: [0, 1] }; // a bias row expanded over 7 rows
    for (const op of ['add', 'mul', 'div', 'geluGrad'] as const) {
      const out = dense(d, [7, 5]), ref = dense('float64', [7, 5]);
      fastOnly(() => fast.binary(op, a, b, out));
      cpuKernels.binary(op, f64(a), f64(b), ref);
      expectWithinEps(vals(out), vals(ref), d, ew, op);
    }
    const lt = dense('bool', [7, 5]), lt64 = dense('bool', [7, 5]);
    fastOnly(() => fast.binary('lt', a, b, lt));
    cpuKernels.binary('lt', f64(a), f64(b), lt64);
    expect(vals(lt)).toEqual(vals(lt64));
    const c = dense(d, [2, 3, 1], [1, -2, 3, 0.5, 5, -6]), c64 = f64(c), ref = dense('float64', [2, 3, 1]);
    fastOnly(() => fast.binary('mul', c, c, c));
    cpuKernels.binary('mul', c64, c64, ref);
    expectWithinEps(vals(c), vals(ref), d, ew, 'mul in place');
  });

  it('binaryScalar mul and sub (scalar first) on a transposed view', () => {
    const a = transposed(d, [3, 1, 4], noise(12, 5));
    for (const [op, first] of [['mul', false], ['sub', true]] as const) {
      const out = dense(d, [3, 1, 4]);
      fastOnly(() => fast.binaryScalar(op, a, 1.37, first, out));
      // The scalar is stored in d first (as `fill` stores it), so the float64 result uses d's 1.37.
      const s = vals(dense(d, [1], [1.37]))[0]!;
      const want = vals(a).map((x) => (op === 'mul' ? x * s : s - x));
      expectWithinEps(vals(out), want, d, ew, `binaryScalar ${op}`);
    }
  });

  it('where with a bool condition, a transposed a and a broadcast b', () => {
    const cond = dense('bool', [4, 3], [1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0]);
    const a = transposed(d, [4, 3], noise(12, 6));
    const b: V = { ...dense(d, [1], [0.25]), shape: [4, 3], strides: [0, 0] };
    const out = dense(d, [4, 3]), ref = dense('float64', [4, 3]);
    fastOnly(() => fast.where(cond, a, b, out));
    cpuKernels.where(cond, f64(a), f64(b), ref);
    expect(vals(out)).toEqual(vals(ref)); // a selection: exact
  });

  it('reduce sum/max over each axis of a transposed view, into 16-bit and float32 outputs', () => {
    const x = transposed(d, [7, 33], noise(231, 7).map((v) => v + 0.5));
    for (const op of ['sum', 'max'] as const) {
      for (const [axes, shape] of [[[0], [1, 33]], [[1], [7, 1]], [[0, 1], [1, 1]]] as const) {
        for (const od of [d, 'float32'] as const) {
          const out = dense(od, [...shape]), ref = dense('float64', [...shape]);
          fastOnly(() => fast.reduce(op, x, axes, out));
          cpuKernels.reduce(op, f64(x), axes, ref);
          expectWithinEps(vals(out), vals(ref), od, od === 'float32' ? FACTOR.reduction('float32', 'float32', 231) : red(231), `reduce ${op} ${JSON.stringify(axes)} → ${od}`);
        }
      }
    }
  });

  it('softmax / logSoftmax and their backward over rows of 13 and of 1', () => {
    for (const [rows, cols] of [[3, 13], [4, 1]] as const) {
      const x = dense(d, [rows, cols], noise(rows * cols, 8).map((v) => 4 * v));
      const dy = dense(d, [rows, cols], noise(rows * cols, 9));
      for (const log of [false, true]) {
        const y = dense(d, [rows, cols]), y64 = dense('float64', [rows, cols]);
        fastOnly(() => fast.softmax(x, y, log));
        cpuKernels.softmax(f64(x), y64, log);
        expectWithinEps(vals(y), vals(y64), d, red(cols), `${log ? 'logSoftmax' : 'softmax'} [${rows}, ${cols}]`);
        const dx = dense(d, [rows, cols]), dx64 = dense('float64', [rows, cols]);
        fastOnly(() => fast.softmaxBackward(y, dy, dx, log));
        cpuKernels.softmaxBackward(f64(y), f64(dy), dx64, log);
        expectWithinEps(vals(dx), vals(dx64), d, red(cols), `softmaxBackward log=${log} [${rows}, ${cols}]`, maxScale(dx64));
      }
    }
  });

  it('layerNorm and its backward over rows of odd length 9, 16-bit weight and bias, float32 statistics', () => {
    const [R, D] = [5, 9];
    const x = dense(d, [R, D], noise(R * D, 10).map((v) => 2 * v + 1));
    const w = dense(d, [D], noise(D, 11).map((v) => v + 1)), b = dense(d, [D], noise(D, 12));
    const out = dense(d, [R, D]), mean = dense('float32', [R]), rstd = dense('float32', [R]);
    const out64 = dense('float64', [R, D]), m64 = dense('float64', [R]), r64 = dense('float64', [R]);
    fastOnly(() => fast.layerNorm(x, w, b, 1e-5, out, mean, rstd));
    cpuKernels.layerNorm(f64(x), f64(w), f64(b), 1e-5, out64, m64, r64);
    expectWithinEps(vals(out), vals(out64), d, red(D), 'layerNorm', vals(out64).map((v) => Math.max(Math.abs(v), 1)));
    expectWithinEps(vals(rstd), vals(r64), 'float32', FACTOR.reduction('float32', 'float32', D), 'layerNorm rstd');
    const dy = dense(d, [R, D], noise(R * D, 13));
    const dx = dense(d, [R, D]), dw = dense(d, [D]), db = dense(d, [D]);
    const dx64 = dense('float64', [R, D]), dw64 = dense('float64', [D]), db64 = dense('float64', [D]);
    fastOnly(() => fast.layerNormBackward(x, w, mean, rstd, dy, dx, dw, db));
    cpuKernels.layerNormBackward(f64(x), f64(w), f64(mean), f64(rstd), f64(dy), dx64, dw64, db64);
    expectWithinEps(vals(dx), vals(dx64), d, red(D), 'layerNormBackward dx', maxScale(dx64));
    expectWithinEps(vals(dw), vals(dw64), d, red(R), 'layerNormBackward dweight', maxScale(dw64));
    expectWithinEps(vals(db), vals(db64), d, red(R), 'layerNormBackward dbias', maxScale(db64));
  });

  it('crossEntropy and its backward on [5, 11] logits with an ignored row and label smoothing', () => {
    const [N, C] = [5, 11];
    const x = dense(d, [N, C], noise(N * C, 14).map((v) => 3 * v));
    const t = dense('int32', [N], [0, 10, -100, 4, 4]);
    const opts = { ignoreIndex: -100, labelSmoothing: 0.1 };
    const loss = dense(d, [N]), lse = dense(d, [N]), loss64 = dense('float64', [N]), lse64 = dense('float64', [N]);
    fastOnly(() => fast.crossEntropy(x, t, null, opts, loss, lse));
    cpuKernels.crossEntropy(f64(x), t, null, opts, loss64, lse64);
    expectWithinEps(vals(loss), vals(loss64), d, red(C), 'crossEntropy loss');
    expectWithinEps(vals(lse), vals(lse64), d, red(C), 'crossEntropy lse');
    const dloss = dense(d, [N], [0.2, -0.5, 1, 0.3, 0.7]);
    const dx = dense(d, [N, C]), dx64 = dense('float64', [N, C]);
    fastOnly(() => fast.crossEntropyBackward(x, t, null, lse, dloss, opts, dx));
    cpuKernels.crossEntropyBackward(f64(x), t, null, f64(lse), f64(dloss), opts, dx64);
    expectWithinEps(vals(dx), vals(dx64), d, red(C), 'crossEntropyBackward', maxScale(dx64));
  });

  it('attention and its backward on head views of a packed q/k/v (causal), the gradients into head views', () => {
    const [B, T, H, D] = [2, 5, 2, 6], C = H * D;
    const qkv = dense(d, [B, T, 3 * C], noise(B * T * 3 * C, 15));
    // q, k, v: [B, H, T, D] views of [B, T, 3, H, D]; out and the gradients likewise of their buffers.
    const head = (buf: V, width: number, off: number): V =>
      ({ buffer: buf.buffer, dtype: buf.dtype, shape: [B, H, T, D], strides: [T * width, D, width, 1], offset: off });
    const [q, k, v] = [0, 1, 2].map((i) => head(qkv, 3 * C, i * C)) as [V, V, V];
    const outBuf = dense(d, [B, T, C]), out = head(outBuf, C, 0), lse = dense(d, [B, H, T]);
    const out64 = dense('float64', [B, H, T, D]), lse64 = dense('float64', [B, H, T]);
    const opts = { scale: 1 / Math.sqrt(D), causal: true };
    fastOnly(() => fast.attention(q, k, v, null, opts, out, lse));
    cpuKernels.attention(f64(q), f64(k), f64(v), null, opts, out64, lse64);
    const vmax = Math.max(...vals(v).map(Math.abs));
    expectWithinEps(vals(out), vals(out64), d, red(T), 'attention out', vals(out64).map(() => vmax));
    expectWithinEps(vals(lse), vals(lse64), d, red(T), 'attention lse');
    const doutBuf = dense(d, [B, T, C], noise(B * T * C, 16)), dout = head(doutBuf, C, 0);
    const dqkv = dense(d, [B, T, 3 * C]);
    const [dq, dk, dv] = [0, 1, 2].map((i) => head(dqkv, 3 * C, i * C)) as [V, V, V];
    const g64 = [0, 1, 2].map(() => dense('float64', [B, H, T, D])) as [V, V, V];
    fastOnly(() => fast.attentionBackward(q, k, v, null, opts, out, lse, dout, dq, dk, dv));
    cpuKernels.attentionBackward(f64(q), f64(k), f64(v), null, opts, f64(out), f64(lse), f64(dout), ...g64);
    (['dq', 'dk', 'dv'] as const).forEach((name, i) =>
      expectWithinEps(vals([dq, dk, dv][i]!), vals(g64[i]!), d, red(T * D), `attentionBackward ${name}`, maxScale(g64[i]!)));
  });

  it('attention with Tq ≠ Tk, odd D and an additive 16-bit mask broadcast over batch and heads', () => {
    const [B, H, Tq, Tk, D] = [1, 2, 3, 7, 5];
    const q = dense(d, [B, H, Tq, D], noise(B * H * Tq * D, 17));
    const k = dense(d, [B, H, Tk, D], noise(B * H * Tk * D, 18));
    const v = dense(d, [B, H, Tk, D], noise(B * H * Tk * D, 19));
    const m = dense(d, [Tq, Tk], noise(Tq * Tk, 20).map((x) => (x > 0.6 ? -Infinity : x)));
    const mask: V = { ...m, shape: [B, H, Tq, Tk], strides: [0, 0, Tk, 1] };
    const opts = { scale: 0.4, causal: false };
    const out = dense(d, [B, H, Tq, D]), lse = dense(d, [B, H, Tq]);
    const out64 = dense('float64', [B, H, Tq, D]), lse64 = dense('float64', [B, H, Tq]);
    fastOnly(() => fast.attention(q, k, v, mask, opts, out, lse));
    cpuKernels.attention(f64(q), f64(k), f64(v), f64(mask), opts, out64, lse64);
    const vmax = Math.max(...vals(v).map(Math.abs));
    expectWithinEps(vals(out), vals(out64), d, red(Tk), 'masked attention out', vals(out64).map(() => vmax));
    expectWithinEps(vals(lse), vals(lse64), d, red(Tk), 'masked attention lse');
  });
});

describe('16-bit operands the fast tier leaves to the reference', () => {
  it('a float64 operand beside a 16-bit one falls back (no rounding through float32)', () => {
    const a = dense('float16', [3], [1, 2, 3]), b = dense('float64', [3], [0.1, 0.2, 0.3]), out = dense('float64', [3]);
    const before = referenceCalls().binary ?? 0;
    fast.binary('add', a, b, out);
    expect(referenceCalls().binary ?? 0).toBe(before + 1);
    expect(vals(out)).toEqual([1.1, 2.2, 3.3]);
  });
});
