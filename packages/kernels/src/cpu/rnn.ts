// CPU reference for the fused recurrent cells (Elman RNN, LSTM, GRU), forward and backward.
//
// Layout: gate matrices are [B, G·H] — per row G blocks of H in PyTorch's order (LSTM i, f, g, o;
// GRU r, z, n) — and states are [B, H]; any strided 2-D views. Arithmetic in float64, stored in
// each output's dtype. `acts` holds what the backward reads, so it recomputes no activation but
// tanh(c'):
//   LSTM  gates = xg + hg (hg may be absent)
//         i, f, o = σ(gates_i, gates_f, gates_o);  g = tanh(gates_g)
//         c' = f·c + i·g;  h' = o·tanh(c');  acts = [i, f, g, o]  (may be written over xg or hg)
//   GRU   hn = hg_n + b_n (b the hidden bias [3H], or absent)
//         r = σ(xg_r + hg_r + b_r);  z = σ(xg_z + hg_z + b_z);  n = tanh(xg_n + r·hn)
//         h' = (1 − z)·n + z·h;  acts = [r, z, n, hn]  ([B, 4H])
//   RNN   h' = tanh(xg + hg) or relu(xg + hg)  (xg, hg [B, H])
// Backward:
//   RNN   dpre = dh'·(1 − h'²) (tanh) or dh'·[h' > 0] (relu), from h' itself
// (dh' arrives as two terms, dh + dhMore: the output's gradient and the recurrent one)
//   LSTM  dc' = dc'_in + dh'·o·(1 − tanh²c');  di = dc'·g;  df = dc'·c;  dg = dc'·i;  do = dh'·tanh c'
//         dgates = [di·i(1−i), df·f(1−f), dg·(1−g²), do·o(1−o)];  dc = dc'·f
//   GRU   dn = dh'·(1 − z)·(1 − n²);  dz = dh'·(h − n)·z(1 − z);  dr = dn·hn·r(1 − r)
//         dxg = [dr, dz, dn];  dhg = [dr, dz, dn·r];  dh += dh'·z (the path through W_hh is the caller's matmul)

import type { TypedArray, View } from '../types.js';
import { readAll, writeAll } from './strided.js';

type V = View<TypedArray>;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** One LSTM step: h', c' [B, H] (and the activations [B, 4H] when `acts`) from gates = xg + hg and c. */
export function lstmCell(xg: V, hg: V | null, c: V, h: V, cNew: V, acts: V | null): void {
  const B = c.shape[0]!, H = c.shape[1]!;
  const x = readAll(xg), y = hg ? readAll(hg) : null, cs = readAll(c);
  const hs = new Float64Array(B * H), cn = new Float64Array(B * H), a = new Float64Array(B * 4 * H);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const r = b * 4 * H + j;
      const pre = (k: number) => x[r + k * H]! + (y ? y[r + k * H]! : 0);
      const i = sigmoid(pre(0)), f = sigmoid(pre(1)), g = Math.tanh(pre(2)), o = sigmoid(pre(3));
      const c2 = f * cs[b * H + j]! + i * g;
      cn[b * H + j] = c2;
      hs[b * H + j] = o * Math.tanh(c2);
      a[r] = i; a[r + H] = f; a[r + 2 * H] = g; a[r + 3 * H] = o;
    }
  }
  writeAll(h, hs);
  writeAll(cNew, cn);
  if (acts) writeAll(acts, a);
}

/** dgates [B, 4H] and dc [B, H] (when wanted) from the activations, c, c' and the gradients of h' and c' (absent: zero). */
export function lstmCellBackward(acts: V, c: V, cNew: V, dh: V | null, dhMore: V | null, dcNew: V | null, dgates: V, dc: V | null): void {
  const B = c.shape[0]!, H = c.shape[1]!;
  const a = readAll(acts), cs = readAll(c), cn = readAll(cNew);
  const gh = dh ? readAll(dh) : null, gm = dhMore ? readAll(dhMore) : null, gc = dcNew ? readAll(dcNew) : null;
  const dg = new Float64Array(B * 4 * H), dcs = new Float64Array(B * H);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const s = b * H + j, r = b * 4 * H + j;
      const i = a[r]!, f = a[r + H]!, g = a[r + 2 * H]!, o = a[r + 3 * H]!;
      const tc = Math.tanh(cn[s]!);
      const dhv = (gh ? gh[s]! : 0) + (gm ? gm[s]! : 0);
      const dc2 = (gc ? gc[s]! : 0) + dhv * o * (1 - tc * tc);
      dg[r] = dc2 * g * i * (1 - i);
      dg[r + H] = dc2 * cs[s]! * f * (1 - f);
      dg[r + 2 * H] = dc2 * i * (1 - g * g);
      dg[r + 3 * H] = dhv * tc * o * (1 - o);
      dcs[s] = dc2 * f;
    }
  }
  writeAll(dgates, dg);
  if (dc) writeAll(dc, dcs);
}

/** One GRU step: h' [B, H] (and the activations [B, 4H] when `acts`) from xg, hg [B, 3H], the hidden bias [3H] or null, and h. */
export function gruCell(xg: V, hg: V, bias: V | null, h: V, hNew: V, acts: V | null): void {
  const B = h.shape[0]!, H = h.shape[1]!;
  const x = readAll(xg), y = readAll(hg), bs = bias ? readAll(bias) : null, hs = readAll(h);
  const out = new Float64Array(B * H), a = new Float64Array(B * 4 * H);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const g = b * 3 * H + j, s = b * H + j, q = b * 4 * H + j;
      const bias_ = (k: number) => (bs ? bs[k * H + j]! : 0);
      const r = sigmoid(x[g]! + y[g]! + bias_(0));
      const z = sigmoid(x[g + H]! + y[g + H]! + bias_(1));
      const hn = y[g + 2 * H]! + bias_(2);
      const n = Math.tanh(x[g + 2 * H]! + r * hn);
      out[s] = (1 - z) * n + z * hs[s]!;
      a[q] = r; a[q + H] = z; a[q + 2 * H] = n; a[q + 3 * H] = hn;
    }
  }
  writeAll(hNew, out);
  if (acts) writeAll(acts, a);
}

/** dxg, dhg [B, 3H] from the activations, h and dh' = dhNew + dhMore; the direct part of dh (dh'·z) is added into dh when given. */
export function gruCellBackward(acts: V, h: V, dhNew: V, dhMore: V | null, dxg: V, dhg: V, dh: V | null): void {
  const B = h.shape[0]!, H = h.shape[1]!;
  const a = readAll(acts), hs = readAll(h), gh = readAll(dhNew), gm = dhMore ? readAll(dhMore) : null;
  const dx = new Float64Array(B * 3 * H), dy = new Float64Array(B * 3 * H), dhs = dh ? readAll(dh) : new Float64Array(B * H);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const q = b * 4 * H + j, g = b * 3 * H + j, s = b * H + j;
      const r = a[q]!, z = a[q + H]!, n = a[q + 2 * H]!, hn = a[q + 3 * H]!;
      const d = gh[s]! + (gm ? gm[s]! : 0);
      const dn = d * (1 - z) * (1 - n * n);
      const dz = d * (hs[s]! - n) * z * (1 - z);
      const dr = dn * hn * r * (1 - r);
      dx[g] = dr; dx[g + H] = dz; dx[g + 2 * H] = dn;
      dy[g] = dr; dy[g + H] = dz; dy[g + 2 * H] = dn * r;
      dhs[s] += d * z;
    }
  }
  writeAll(dxg, dx);
  writeAll(dhg, dy);
  if (dh) writeAll(dh, dhs);
}

/** One Elman step: h' = tanh(xg + hg), or relu with `relu`; all [B, H]. */
export function rnnCell(xg: V, hg: V, hNew: V, relu: boolean): void {
  const x = readAll(xg), y = readAll(hg);
  writeAll(hNew, x.map((v, i) => (relu ? Math.max(0, v + y[i]!) : Math.tanh(v + y[i]!))));
}

/** The gradient of the pre-activation from h' and dh' = dhNew + dhMore: dh'·(1 − h'²), or dh'·[h' > 0] with `relu`. */
export function rnnCellBackward(hNew: V, dhNew: V, dhMore: V | null, dpre: V, relu: boolean): void {
  const h = readAll(hNew), d = readAll(dhNew), m = dhMore ? readAll(dhMore) : null;
  writeAll(dpre, h.map((v, i) => {
    const g = d[i]! + (m ? m[i]! : 0);
    return relu ? (v > 0 ? g : 0) : g * (1 - v * v);
  }));
}
