// CPU reference for cross-entropy over class logits, forward and backward.
//
// Layout: logits [N, C] and dlogits [N, C]; targets int32 [N]; weight [C] or null (all ones);
// loss, lse and dloss [N]. Per row n with target t = targets[n], label smoothing ε and
// W = Σ_c w_c, p_c = exp(x_c - lse):
//   lse  = log Σ_c exp(x_c)                                (max-subtracted)
//   loss = (1-ε)·w_t·(lse - x_t) + (ε/C)·Σ_c w_c·(lse - x_c)
//   dx_c = dloss_n · [ (1-ε)·w_t·(p_c - [c == t]) + (ε/C)·(W·p_c - w_c) ]
// Rows whose target equals ignoreIndex get loss 0 and a zero gradient (their lse is still written).
// rowWeight [N], when given, gets w_t per row (0 where ignored): the terms of a mean's denominator.
// Any other target outside [0, C) throws a RangeError. Reduction over rows (mean / sum, dividing
// by Σ w_t for a weighted mean) is core's business, not this kernel's.
// All arithmetic is float64; results are stored in the outputs' dtypes.

import type { CrossEntropyOptions, TypedArray, View } from '../types.js';
import { readAll, writeAll } from './strided.js';

function logSumExp(xs: Float64Array, base: number, C: number): number {
  let m = -Infinity;
  for (let c = 0; c < C; c++) m = Math.max(m, xs[base + c]!);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let c = 0; c < C; c++) s += Math.exp(xs[base + c]! - m);
  return m + Math.log(s);
}

function checkTarget(kernel: string, t: number, C: number, ignoreIndex: number): boolean {
  if (t === ignoreIndex) return false;
  if (!(t >= 0 && t < C)) {
    throw new RangeError(`${kernel}: target ${t} is out of range for ${C} classes (valid: 0..${C - 1}, or ignoreIndex ${ignoreIndex})`);
  }
  return true;
}

export function crossEntropy(logits: View<TypedArray>, targets: View<TypedArray>, weight: View<TypedArray> | null,
  opts: CrossEntropyOptions, loss: View<TypedArray>, lse: View<TypedArray>, rowWeight: View<TypedArray> | null = null): void {
  const [N, C] = [logits.shape[0]!, logits.shape[1]!];
  const xs = readAll(logits);
  const ts = readAll(targets);
  const w = weight ? readAll(weight) : new Float64Array(C).fill(1);
  const eps = opts.labelSmoothing;
  const losses = new Float64Array(N);
  const lses = new Float64Array(N);
  const rws = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const base = n * C;
    const l = logSumExp(xs, base, C);
    lses[n] = l;
    const t = ts[n]!;
    if (!checkTarget('crossEntropy', t, C, opts.ignoreIndex)) continue;
    rws[n] = w[t]!;
    let smooth = 0;
    if (eps !== 0) for (let c = 0; c < C; c++) smooth += w[c]! * (l - xs[base + c]!);
    losses[n] = (1 - eps) * w[t]! * (l - xs[base + t]!) + (eps / C) * smooth;
  }
  writeAll(loss, losses);
  writeAll(lse, lses);
  if (rowWeight) writeAll(rowWeight, rws);
}

export function crossEntropyBackward(logits: View<TypedArray>, targets: View<TypedArray>, weight: View<TypedArray> | null,
  lse: View<TypedArray>, dloss: View<TypedArray>, opts: CrossEntropyOptions, dlogits: View<TypedArray>, divisor: View<TypedArray> | null = null): void {
  const [N, C] = [logits.shape[0]!, logits.shape[1]!];
  const xs = readAll(logits);
  const ts = readAll(targets);
  const lses = readAll(lse);
  const gs = readAll(dloss);
  if (divisor) {
    if (dloss.dtype !== 'float32' && dloss.dtype !== 'float64') throw new TypeError(`crossEntropyBackward: a divisor takes a float32 or float64 dloss, got ${dloss.dtype}`);
    const d = readAll(divisor)[0]!;
    for (let n = 0; n < N; n++) gs[n] = dloss.dtype === 'float32' ? Math.fround(gs[n]! / d) : gs[n]! / d;
  }
  const w = weight ? readAll(weight) : new Float64Array(C).fill(1);
  let W = 0;
  for (let c = 0; c < C; c++) W += w[c]!;
  const eps = opts.labelSmoothing;
  const dx = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    const t = ts[n]!;
    if (!checkTarget('crossEntropyBackward', t, C, opts.ignoreIndex)) continue;
    const base = n * C;
    for (let c = 0; c < C; c++) {
      const p = Math.exp(xs[base + c]! - lses[n]!);
      const hard = (1 - eps) * w[t]! * (p - (c === t ? 1 : 0));
      const smooth = (eps / C) * (W * p - w[c]!);
      dx[base + c] = gs[n]! * (hard + smooth);
    }
  }
  writeAll(dlogits, dx);
}
