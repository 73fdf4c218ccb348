// The reduce family of the fast cpu tier: sum/prod/max/min over any axes of a float view.
//
// - float32 sums of a contiguous x over trailing axes (row sums) or leading axes (column sums, a
//   bias gradient) run in WebAssembly with float64 accumulators (reduce_program.ts);
// - float32 sums over leading and trailing axes that keep middle ones (per-channel sums, as
//   BatchNorm's) run as row sums in WebAssembly and a fold over the leading axes (reduce_channels.ts);
// - every other float reduction takes the TypeScript loops (`reduceLoops`), also in float64.
// Sums accumulate in float64 like the reference but in blocked order, so they may differ from it in
// the last float32 bit. float16/bfloat16 operands take the same paths on float32 copies, a 16-bit
// result encoded once (`viaFloat32`, half_arrays.ts). int32 and bool inputs take the reference.

import { contiguousStrides, forEachRow, isContiguous, numel } from '../geometry.js';
import type { ReduceOp, TypedArray, View } from '../types.js';
import { isF32, isFloat, readPtr } from '../wasm/operands.js';
import { wasmRuntime } from '../wasm/runtime.js';
import { FAST_CPU_CONFIG, splitRange, threadsFor } from '../wasm/schedule.js';
import { copyAssign, copyLoops } from './copy.js';
import { anyHalf, viaFloat32 } from './half_arrays.js';
import { reduceChannels } from './reduce_channels.js';

type V = View<TypedArray>;

/**
 * float32 sums over trailing axes (row sums) or leading axes (column sums) of a contiguous x, in
 * WebAssembly with float64 accumulators; every other reduction takes the TypeScript loops.
 */
export function reduce(op: ReduceOp, x: V, axes: readonly number[], out: V): boolean {
  if (anyHalf(x, out)) return viaFloat32([x], [out], ([x32], [o32]) => reduce(op, x32!, axes, o32!));
  const fast = op === 'sum' && isF32(x) && isContiguous(x) && (out.dtype === 'float32' || out.dtype === 'float64') && reduceSplit(x.shape, axes);
  if (!fast) return reduceChannels(op, x, axes, out) || reduceLoops(op, x, axes, out);
  const { s, trailing } = fast;
  const rows = numel(x.shape.slice(0, s)), cols = numel(x.shape.slice(s));
  const nOut = trailing ? rows : cols;
  const rt = wasmRuntime();
  rt.reset();
  const xp = readPtr(rt, x, rows * cols), op_ = rt.alloc((nOut + 2) * 8);
  const threads = threadsFor(rt, rows * cols, FAST_CPU_CONFIG.elementwiseParallelMin);
  if (trailing) {
    rt.parallel('reduce_sum_rows', 4, splitRange(rows, threads, 1).map(([lo, hi]) =>
      (hi > lo ? [xp + lo * cols * 4, op_ + lo * 8, hi - lo, cols] : [])));
  } else {
    rt.parallel('reduce_sum_cols', 6, splitRange(cols, threads, 2).map(([lo, hi]) =>
      (hi > lo ? [xp, op_, rows, cols, lo, hi] : [])));
  }
  const acc = rt.f64().subarray(op_ >> 3, (op_ >> 3) + nOut);
  if (isContiguous(out)) {
    (out.buffer as Float32Array | Float64Array).set(acc, out.offset); // rounds to float32 like an assignment
    return true;
  }
  const outShape = x.shape.map((d, i) => (trailing === i >= s ? 1 : d));
  return copyLoops({ buffer: acc, dtype: 'float64', shape: outShape, strides: contiguousStrides(outShape), offset: 0 }, out);
}

/**
 * Where the reduced axes split x's shape: {s, trailing: true} when they are exactly the dims ≥ s
 * (ignoring size-1 dims), {s, trailing: false} when they are exactly the dims < s; null otherwise
 * (including nothing or everything reduced with no split, and empty tensors).
 */
function reduceSplit(shape: readonly number[], axes: readonly number[]): { s: number; trailing: boolean } | null {
  const r = shape.length;
  if (r === 0 || numel(shape) === 0) return null;
  const red = new Array<boolean>(r).fill(false);
  for (const a of axes) red[a < 0 ? a + r : a] = true;
  const dims = [...shape.keys()].filter((d) => shape[d]! > 1);
  if (dims.length === 0) return null;
  const flags = dims.map((d) => red[d]!);
  const k = flags.indexOf(!flags[0]);
  if (k >= 0 && flags.slice(k).some((v) => v === flags[0])) return null; // more than one switch
  const s = k < 0 ? (flags[0] ? 0 : r) : dims[k]!;
  if (flags[0] && k >= 0) return { s, trailing: false };
  if (!flags[0] && k >= 0) return { s, trailing: true };
  return flags[0] ? { s: 0, trailing: true } : null; // all reduced: one row; none: leave to the loops
}

/**
 * Reductions over any set of axes of a float view, accumulated in float64. The walk goes over x in
 * its coalesced row-major order with the output offset kept alongside (stride 0 on reduced dims):
 * when the innermost dim is reduced, each row folds into one accumulator (sum over the last axis);
 * when it is kept, the row is folded elementwise into a run of accumulators (column sums over
 * leading axes). Either way the inner loop is a tight unit- or fixed-stride loop.
 */
function reduceLoops(op: ReduceOp, x: V, axes: readonly number[], out: V): boolean {
  if (!isFloat(x) || !isFloat(out)) return false;
  const rank = x.shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  for (const a of axes) reduced[a < 0 ? a + rank : a] = true;
  const outShape = x.shape.map((s, d) => (reduced[d] ? 1 : s));
  const nOut = numel(outShape);
  const toOut = new Array<number>(rank).fill(0);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    toOut[d] = reduced[d] ? 0 : s;
    s *= outShape[d]!;
  }
  const init = op === 'sum' ? 0 : op === 'prod' ? 1 : op === 'max' ? -Infinity : Infinity;
  const acc = new Float64Array(nOut).fill(init);
  const xb = x.buffer;
  const accView: V = { buffer: acc, dtype: 'float64', shape: x.shape, strides: toOut, offset: 0 };
  forEachRow(x.shape, [x, accView], (offs, n, inner) => {
    const px = offs[0]!, pa = offs[1]!, sx = inner[0]!, sa = inner[1]!;
    if (sa === 0) {
      let r = acc[pa]!;
      switch (op) {
        case 'sum': for (let i = 0; i < n; i++) r += xb[px + i * sx]!; break;
        case 'prod': for (let i = 0; i < n; i++) r *= xb[px + i * sx]!; break;
        // Once r is NaN no comparison replaces it, so NaN propagates like the reference's.
        case 'max': for (let i = 0; i < n; i++) { const v = xb[px + i * sx]!; if (v > r || v !== v) r = v; } break;
        case 'min': for (let i = 0; i < n; i++) { const v = xb[px + i * sx]!; if (v < r || v !== v) r = v; } break;
      }
      acc[pa] = r;
    } else {
      switch (op) {
        case 'sum': for (let i = 0; i < n; i++) acc[pa + i * sa] += xb[px + i * sx]!; break;
        case 'prod': for (let i = 0; i < n; i++) acc[pa + i * sa] *= xb[px + i * sx]!; break;
        case 'max': for (let i = 0; i < n; i++) { const v = xb[px + i * sx]!, r = acc[pa + i * sa]!; if (v > r || (v !== v && r === r)) acc[pa + i * sa] = v; } break;
        case 'min': for (let i = 0; i < n; i++) { const v = xb[px + i * sx]!, r = acc[pa + i * sa]!; if (v < r || (v !== v && r === r)) acc[pa + i * sa] = v; } break;
      }
    }
  });
  copyAssign({ buffer: acc, dtype: 'float64', shape: outShape, strides: contiguousStrides(outShape), offset: 0 }, out);
  return true;
}
