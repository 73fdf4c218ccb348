// Per-channel sums of the fast cpu tier: float32 sums over the leading and trailing axes of a
// contiguous x that keep a run of middle axes — BatchNorm's statistics and the gradients of its
// per-channel weight, bias, mean and variance (x [N, C, H, W] summed over [0, 2, 3]).
//
// x is viewed as [A, C, B] (A: the reduced leading dims, C: the kept middle dims, B: the reduced
// trailing dims, size-1 dims ignored). The rows of B elements are summed by `reduce_sum_rows`
// (reduce_program.ts: float64 lanes, threads splitting the rows) into A·C float64 partial sums,
// which are then added over A in order. Accuracy: as the reduce family's other sums (float64
// accumulation in blocked order, so the last float32 bit may differ from the reference).

import { contiguousStrides, isContiguous, numel } from '../geometry.js';
import type { ReduceOp, TypedArray, View } from '../types.js';
import { isF32, readPtr } from '../wasm/operands.js';
import { wasmRuntime } from '../wasm/runtime.js';
import { FAST_CPU_CONFIG, splitRange, threadsFor } from '../wasm/schedule.js';
import { copyLoops } from './copy.js';

type V = View<TypedArray>;

/** [A, C, B] when the reduced axes are exactly some leading and some trailing dims (both non-empty) of size > 1. */
function outerInnerSplit(shape: readonly number[], axes: readonly number[]): [number, number, number] | null {
  const r = shape.length;
  const red = new Array<boolean>(r).fill(false);
  for (const a of axes) red[a < 0 ? a + r : a] = true;
  const dims = [...shape.keys()].filter((d) => shape[d]! > 1);
  // Reduced, then kept, then reduced — each run non-empty.
  let i = 0;
  while (i < dims.length && red[dims[i]!]) i++;
  let j = i;
  while (j < dims.length && !red[dims[j]!]) j++;
  let k = j;
  while (k < dims.length && red[dims[k]!]) k++;
  if (i === 0 || j === i || k === j || k !== dims.length) return null;
  const size = (ds: number[]) => ds.reduce((p, d) => p * shape[d]!, 1);
  return [size(dims.slice(0, i)), size(dims.slice(i, j)), size(dims.slice(j))];
}

/** Sums over leading and trailing axes of a contiguous float32 x (see the header); false for anything else. */
export function reduceChannels(op: ReduceOp, x: V, axes: readonly number[], out: V): boolean {
  if (op !== 'sum' || !isF32(x) || !isContiguous(x) || (out.dtype !== 'float32' && out.dtype !== 'float64')) return false;
  if (numel(x.shape) === 0) return false;
  const split = outerInnerSplit(x.shape, axes);
  if (!split) return false;
  const [A, C, B] = split;
  const rt = wasmRuntime();
  rt.reset();
  const rows = A * C;
  const xp = readPtr(rt, x, rows * B), pp = rt.alloc(rows * 8);
  const threads = threadsFor(rt, rows * B, FAST_CPU_CONFIG.elementwiseParallelMin);
  rt.parallel('reduce_sum_rows', 4, splitRange(rows, threads, 1).map(([lo, hi]) =>
    (hi > lo ? [xp + lo * B * 4, pp + lo * 8, hi - lo, B] : [])));
  const partial = rt.f64().subarray(pp >> 3, (pp >> 3) + rows);
  const sums = new Float64Array(C);
  for (let a = 0; a < A; a++) for (let c = 0; c < C; c++) sums[c] += partial[a * C + c]!;
  const r = x.shape.length, red = new Array<boolean>(r).fill(false);
  for (const a of axes) red[a < 0 ? a + r : a] = true;
  const outShape = x.shape.map((d, i) => (red[i] ? 1 : d));
  return copyLoops({ buffer: sums, dtype: 'float64', shape: outShape, strides: contiguousStrides(outShape), offset: 0 }, out);
}
