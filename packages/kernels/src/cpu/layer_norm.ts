// CPU reference for layerNorm over the last dimension D, forward and backward.
//
// Layout: a "rows" kernel. x, out, dy, dx are [..., D] with R = product of leading dims rows;
// weight, bias, dweight, dbias are [D] or null; mean and rstd are [R] (float32 from core, any float
// dtype works). Forward, per row, like torch.nn.functional.layer_norm (biased variance):
//   μ = (1/D) Σ x_j,  σ² = (1/D) Σ (x_j - μ)²,  rstd = 1/√(σ² + eps)
//   x̂_j = (x_j - μ)·rstd,  y_j = x̂_j·w_j + b_j   (w = 1, b = 0 when null)
// Backward, with x̂ recomputed from the saved mean/rstd and g_j = dy_j·w_j:
//   dx_j = rstd · (g_j - mean(g) - x̂_j · mean(g ∘ x̂))
//   dweight_j = Σ_rows dy_j·x̂_j,   dbias_j = Σ_rows dy_j
// All arithmetic is float64; results are stored in the outputs' dtypes.

import type { TypedArray, View } from '../types.js';
import { rowsOf } from '../geometry.js';
import { readAll, writeAll } from './strided.js';

export function layerNorm(x: View<TypedArray>, weight: View<TypedArray> | null, bias: View<TypedArray> | null,
  eps: number, out: View<TypedArray>, mean: View<TypedArray>, rstd: View<TypedArray>): void {
  const { rows, cols: D } = rowsOf(x.shape);
  const xs = readAll(x);
  const w = weight ? readAll(weight) : null;
  const b = bias ? readAll(bias) : null;
  const ys = new Float64Array(xs.length);
  const means = new Float64Array(rows);
  const rstds = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    let mu = 0;
    for (let j = 0; j < D; j++) mu += xs[base + j]!;
    mu /= D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (xs[base + j]! - mu) ** 2;
    v /= D;
    const rs = 1 / Math.sqrt(v + eps);
    means[r] = mu;
    rstds[r] = rs;
    for (let j = 0; j < D; j++) {
      const xh = (xs[base + j]! - mu) * rs;
      ys[base + j] = xh * (w ? w[j]! : 1) + (b ? b[j]! : 0);
    }
  }
  writeAll(out, ys);
  writeAll(mean, means);
  writeAll(rstd, rstds);
}

export function layerNormBackward(x: View<TypedArray>, weight: View<TypedArray> | null, mean: View<TypedArray>,
  rstd: View<TypedArray>, dy: View<TypedArray>, dx: View<TypedArray>, dweight: View<TypedArray> | null,
  dbias: View<TypedArray> | null): void {
  const { rows, cols: D } = rowsOf(x.shape);
  const xs = readAll(x);
  const gs = readAll(dy);
  const w = weight ? readAll(weight) : null;
  const means = readAll(mean);
  const rstds = readAll(rstd);
  const dxs = new Float64Array(xs.length);
  const dw = new Float64Array(D);
  const db = new Float64Array(D);
  const xh = new Float64Array(D);
  const g = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    const mu = means[r]!;
    const rs = rstds[r]!;
    let meanG = 0;
    let meanGX = 0;
    for (let j = 0; j < D; j++) {
      xh[j] = (xs[base + j]! - mu) * rs;
      g[j] = gs[base + j]! * (w ? w[j]! : 1);
      meanG += g[j]!;
      meanGX += g[j]! * xh[j]!;
      dw[j] += gs[base + j]! * xh[j]!;
      db[j] += gs[base + j]!;
    }
    meanG /= D;
    meanGX /= D;
    for (let j = 0; j < D; j++) dxs[base + j] = rs * (g[j]! - meanG - xh[j]! * meanGX);
  }
  writeAll(dx, dxs);
  if (dweight) writeAll(dweight, dw);
  if (dbias) writeAll(dbias, db);
}
