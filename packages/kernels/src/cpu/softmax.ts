// CPU reference for softmax / logSoftmax over the last dimension, forward and backward.
//
// Layout: a "rows" kernel. x, y, dy and out are [..., D] (contiguous from core, though any strided
// view works); the rows are the product of the leading dims; a 0-d input is one row of one.
// Forward is max-subtracted so it never overflows:
//   m = max_j x_j,  s = Σ_j exp(x_j - m)
//   softmax:    y_i = exp(x_i - m) / s
//   logSoftmax: y_i = x_i - m - log(s)
// A row that is all -∞ gives NaN, as in PyTorch.
// Backward (y is the forward output):
//   softmax:    dx_i = y_i · (dy_i - Σ_j dy_j·y_j)
//   logSoftmax: dx_i = dy_i - exp(y_i) · Σ_j dy_j
// All arithmetic is float64; results are stored in out's dtype.

import type { TypedArray, View } from '../types.js';
import { rowsOf } from '../geometry.js';
import { readAll, writeAll } from './strided.js';

export function softmax(x: View<TypedArray>, out: View<TypedArray>, log: boolean): void {
  const { rows, cols } = rowsOf(x.shape);
  const xs = readAll(x);
  const ys = new Float64Array(xs.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, xs[base + j]!);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(xs[base + j]! - m);
    const logS = Math.log(s);
    for (let j = 0; j < cols; j++) {
      const z = xs[base + j]! - m;
      ys[base + j] = log ? z - logS : Math.exp(z) / s;
    }
  }
  writeAll(out, ys);
}

export function softmaxBackward(y: View<TypedArray>, dy: View<TypedArray>, out: View<TypedArray>, log: boolean): void {
  const { rows, cols } = rowsOf(y.shape);
  const ys = readAll(y);
  const gs = readAll(dy);
  const dx = new Float64Array(ys.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let dot = 0;
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      dot += gs[base + j]! * ys[base + j]!;
      sum += gs[base + j]!;
    }
    for (let j = 0; j < cols; j++) {
      const i = base + j;
      dx[i] = log ? gs[i]! - Math.exp(ys[i]!) * sum : ys[i]! * (gs[i]! - dot);
    }
  }
  writeAll(out, dx);
}
