// CPU reference for the reductions: reduce (sum, prod, max, min over a set of axes) and
// argReduce (argmax / argmin along one axis).
//
// Layout: `x` is any strided view; `out` has the keepdim shape (x.shape with each reduced axis set
// to 1) and may be strided. Reducing no axes is an elementwise copy. Accumulation is in float64
// in row-major order of x; the result is stored in out's dtype.
// - An empty reduction gives the identity: sum 0, prod 1, max -∞, min +∞ (core rejects empty
//   max/min before calling, as PyTorch does).
// - max/min propagate NaN (any NaN in the reduced set gives NaN), like torch.amax/amin.
// argReduce writes int32 indices with out.shape = x.shape with 1 at `axis`. Ties take the first
// index; NaN counts as larger than everything for argmax and smaller than everything for argmin
// (i.e. the first NaN wins either way), like PyTorch.

import type { ReduceOp, TypedArray, View } from '../types.js';
import { forEachIndex, numel, offsetOf } from '../geometry.js';
import { readAll, readAt, writeAll } from './strided.js';

const IDENTITY: Record<ReduceOp, number> = { sum: 0, prod: 1, max: -Infinity, min: Infinity };

/** The reduced value of `acc` and the next element `v`. */
function combine(op: ReduceOp, acc: number, v: number): number {
  switch (op) {
    case 'sum': return acc + v;
    case 'prod': return acc * v;
    // `v !== v` is true only for NaN: once the accumulator is NaN no comparison replaces it.
    case 'max': return v > acc || v !== v ? v : acc;
    case 'min': return v < acc || v !== v ? v : acc;
  }
}

/** out = op over `axes` of x, keepdim layout. */
export function reduce(op: ReduceOp, x: View<TypedArray>, axes: readonly number[], out: View<TypedArray>): void {
  const rank = x.shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  for (const a of axes) reduced[a < 0 ? a + rank : a] = true;
  const outShape = x.shape.map((s, d) => (reduced[d] ? 1 : s));
  // Row-major strides of the keepdim output, with 0 on reduced axes: x index → out linear index.
  const toOut = new Array<number>(rank).fill(0);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    toOut[d] = reduced[d] ? 0 : s;
    s *= outShape[d]!;
  }
  const acc = new Float64Array(numel(outShape)).fill(IDENTITY[op]);
  const xs = readAll(x);
  forEachIndex(x.shape, (idx, linear) => {
    let o = 0;
    for (let d = 0; d < rank; d++) o += idx[d]! * toOut[d]!;
    acc[o] = combine(op, acc[o]!, xs[linear]!);
  });
  writeAll(out, acc);
}

/** out (int32, 1 at `axis`) = index of the max/min of x along `axis`; first index on ties. */
export function argReduce(op: 'argmax' | 'argmin', x: View<TypedArray>, axis: number, out: View<TypedArray>): void {
  const rank = x.shape.length;
  // A 0-d tensor behaves as a one-element vector: the answer is 0.
  const ax = rank === 0 ? -1 : axis < 0 ? axis + rank : axis;
  const n = ax < 0 ? 1 : x.shape[ax]!;
  const step = ax < 0 ? 0 : x.strides[ax]!;
  const outShape = x.shape.map((s, d) => (d === ax ? 1 : s));
  const result = new Float64Array(numel(outShape));
  const better = op === 'argmax' ? (v: number, best: number) => v > best : (v: number, best: number) => v < best;
  forEachIndex(outShape, (idx, linear) => {
    if (n === 0) return; // empty axis (core rejects it): leave 0 rather than read out of bounds
    const base = offsetOf(x, idx);
    let bestIdx = 0;
    let best = readAt(x, base);
    for (let k = 1; k < n && best === best; k++) {
      const v = readAt(x, base + k * step);
      if (v !== v || better(v, best)) {
        best = v;
        bestIdx = k;
      }
    }
    result[linear] = bestIdx;
  });
  writeAll(out, result);
}
