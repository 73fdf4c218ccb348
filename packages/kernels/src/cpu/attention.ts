// CPU reference for scaled dot-product attention, forward and backward (the naive O(T²) form).
//
// Layout: q [B, H, Tq, D], k [B, H, Tk, D], v [B, H, Tk, Dv] (Dv = D in practice), out and dout
// [B, H, Tq, Dv], lse [B, H, Tq]; mask is null or an additive float mask expanded to
// [B, H, Tq, Tk] (stride 0 on broadcast dims). Any strided view works. Per (b, h):
//   S_ij = scale · q_i·k_j + mask_ij, with S_ij = -∞ where causal and j > i + (Tk - Tq)
//          (0-based; the last query lines up with the last key)
//   lse_i = log Σ_j exp(S_ij),  P_ij = exp(S_ij - lse_i),  O_i = Σ_j P_ij v_j
// A row with every score -∞ (fully masked) has lse = -∞, P = 0 and O = 0.
// Backward recomputes P from the saved lse (P = 0 on fully masked rows):
//   dv = Pᵀ dO,  dP = dO vᵀ,  δ_i = Σ_d dO_id·O_id,  dS = P ∘ (dP - δ)
//   dq = scale · dS k,  dk = scale · dSᵀ q
// (the usual FlashAttention-style identity Σ_j P_ij dP_ij = δ_i). The mask gets no gradient here.
// All arithmetic is float64; results are stored in the outputs' dtypes.

import type { AttentionOptions, TypedArray, View } from '../types.js';
import { readAll, writeAll } from './strided.js';

interface Dims { B: number; H: number; Tq: number; Tk: number; D: number; Dv: number }

function dimsOf(q: View<TypedArray>, k: View<TypedArray>, v: View<TypedArray>): Dims {
  const [B, H, Tq, D] = q.shape as [number, number, number, number];
  return { B, H, Tq, D, Tk: k.shape[2]!, Dv: v.shape[3]! };
}

/** Scores S for one (b, h) slab: [Tq, Tk], masked entries -∞. */
function scores(d: Dims, bh: number, qs: Float64Array, ks: Float64Array, ms: Float64Array | null,
  opts: AttentionOptions): Float64Array {
  const { Tq, Tk, D } = d;
  const s = new Float64Array(Tq * Tk);
  for (let i = 0; i < Tq; i++) {
    for (let j = 0; j < Tk; j++) {
      if (opts.causal && j > i + (Tk - Tq)) {
        s[i * Tk + j] = -Infinity;
        continue;
      }
      let dot = 0;
      for (let c = 0; c < D; c++) dot += qs[(bh * Tq + i) * D + c]! * ks[(bh * Tk + j) * D + c]!;
      s[i * Tk + j] = dot * opts.scale + (ms ? ms[(bh * Tq + i) * Tk + j]! : 0);
    }
  }
  return s;
}

export function attention(q: View<TypedArray>, k: View<TypedArray>, v: View<TypedArray>, mask: View<TypedArray> | null,
  opts: AttentionOptions, out: View<TypedArray>, lse: View<TypedArray>): void {
  const d = dimsOf(q, k, v);
  const { B, H, Tq, Tk, Dv } = d;
  const qs = readAll(q);
  const ks = readAll(k);
  const vs = readAll(v);
  const ms = mask ? readAll(mask) : null;
  const os = new Float64Array(B * H * Tq * Dv);
  const lses = new Float64Array(B * H * Tq);
  for (let bh = 0; bh < B * H; bh++) {
    const s = scores(d, bh, qs, ks, ms, opts);
    for (let i = 0; i < Tq; i++) {
      let m = -Infinity;
      for (let j = 0; j < Tk; j++) m = Math.max(m, s[i * Tk + j]!);
      if (m === -Infinity) {
        lses[bh * Tq + i] = -Infinity; // fully masked: output stays 0
        continue;
      }
      let sum = 0;
      for (let j = 0; j < Tk; j++) sum += Math.exp(s[i * Tk + j]! - m);
      const l = m + Math.log(sum);
      lses[bh * Tq + i] = l;
      for (let j = 0; j < Tk; j++) {
        const p = Math.exp(s[i * Tk + j]! - l);
        if (p === 0) continue;
        for (let c = 0; c < Dv; c++) os[(bh * Tq + i) * Dv + c] += p * vs[(bh * Tk + j) * Dv + c]!;
      }
    }
  }
  writeAll(out, os);
  writeAll(lse, lses);
}

export function attentionBackward(q: View<TypedArray>, k: View<TypedArray>, v: View<TypedArray>, mask: View<TypedArray> | null,
  opts: AttentionOptions, out: View<TypedArray>, lse: View<TypedArray>, dout: View<TypedArray>,
  dq: View<TypedArray>, dk: View<TypedArray>, dv: View<TypedArray>): void {
  const d = dimsOf(q, k, v);
  const { B, H, Tq, Tk, D, Dv } = d;
  const qs = readAll(q);
  const ks = readAll(k);
  const vs = readAll(v);
  const ms = mask ? readAll(mask) : null;
  const os = readAll(out);
  const lses = readAll(lse);
  const dos = readAll(dout);
  const dqs = new Float64Array(qs.length);
  const dks = new Float64Array(ks.length);
  const dvs = new Float64Array(vs.length);
  for (let bh = 0; bh < B * H; bh++) {
    const s = scores(d, bh, qs, ks, ms, opts);
    for (let i = 0; i < Tq; i++) {
      const l = lses[bh * Tq + i]!;
      if (l === -Infinity) continue; // fully masked row: P = 0, no gradient flows
      const qi = (bh * Tq + i) * D;
      const oi = (bh * Tq + i) * Dv;
      let delta = 0;
      for (let c = 0; c < Dv; c++) delta += dos[oi + c]! * os[oi + c]!;
      for (let j = 0; j < Tk; j++) {
        const p = Math.exp(s[i * Tk + j]! - l);
        if (p === 0) continue;
        const kj = (bh * Tk + j) * D;
        const vj = (bh * Tk + j) * Dv;
        let dp = 0;
        for (let c = 0; c < Dv; c++) {
          dvs[vj + c] += p * dos[oi + c]!;
          dp += dos[oi + c]! * vs[vj + c]!;
        }
        const ds = p * (dp - delta) * opts.scale;
        for (let c = 0; c < D; c++) {
          dqs[qi + c] += ds * ks[kj + c]!;
          dks[kj + c] += ds * qs[qi + c]!;
        }
      }
    }
  }
  writeAll(dq, dqs);
  writeAll(dk, dks);
  writeAll(dv, dvs);
}
