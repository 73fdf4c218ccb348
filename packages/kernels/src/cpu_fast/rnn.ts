// The recurrent-cell family of the fast cpu tier: rnnCell, lstmCell, gruCell and their backwards, for float32
// operands that are all contiguous (row-major [B, G·H] gates, [B, H] states; offsets anywhere, as
// the sequence ops pass time-step slices of one buffer).
// - WebAssembly SIMD (rnn_program.ts), on the calling thread (a step is a few thousand elements,
//   less than waking the workers costs), when H is a multiple of 4, every operand is present (the
//   sequence ops' calls) and lives in the module's memory.
// - Otherwise (and always for the Elman cell, one activation per element) one TypeScript loop over the B·H state elements, computing in float64 (sigmoid and
//   tanh from one Math.exp each) and storing float32.
// Both agree with the reference to float32 rounding. Formulas and layouts: ../cpu/rnn.ts. Other
// dtypes and layouts take the reference.
//
// Outputs may not overlap the inputs, except `acts` written over xg or hg (each element reads its
// gates before it writes its activations, at the same positions).

import * as ref from '../cpu/rnn.js';
import type { RecurrentKernels, TypedArray, View } from '../types.js';
import { allF32Contiguous } from '../wasm/operands.js';
import { wasmRuntime, type WasmRuntime } from '../wasm/runtime.js';

type V = View<TypedArray>;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** n zeros in the kernel's scratch (freed by the next kernel's reset). */
function zeros(rt: WasmRuntime, n: number): number {
  rt.reset();
  const p = rt.alloc(n * 4);
  rt.f32().fill(0, p >> 2, (p >> 2) + n);
  return p;
}

/** The byte addresses of the views in the module's memory, or null when one lives elsewhere. */
function addresses(rt: WasmRuntime, vs: V[]): number[] | null {
  const out: number[] = [];
  for (const v of vs) {
    const base = rt.addressOf(v.buffer);
    if (base < 0) return null;
    out.push(base + v.offset * 4);
  }
  return out;
}
/** tanh(x) = 1 − 2/(e^{2x} + 1): one exp, accurate in float64 to far below float32's rounding. */
const tanh = (x: number): number => (x > 20 ? 1 : x < -20 ? -1 : 1 - 2 / (Math.exp(2 * x) + 1));

export function lstmCell(xg: V, hg: V | null, c: V, h: V, cNew: V, acts: V | null): boolean {
  if (!allF32Contiguous(xg, hg, c, h, cNew, acts)) return false;
  const B = c.shape[0]!, H = c.shape[1]!;
  if (H % 4 === 0 && hg && acts) {
    const rt = wasmRuntime(), p = addresses(rt, [xg, hg, c, h, cNew, acts]);
    if (p) { rt.call('lstm_cell', ...p, B, H); return true; }
  }
  const x = xg.buffer, y = hg?.buffer, cs = c.buffer, hs = h.buffer, cn = cNew.buffer, a = acts?.buffer;
  const xo = xg.offset, yo = hg?.offset ?? 0, co = c.offset, ho = h.offset, no = cNew.offset, ao = acts?.offset ?? 0;
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const r = b * 4 * H + j, s = b * H + j;
      let pi = x[xo + r]!, pf = x[xo + r + H]!, pg = x[xo + r + 2 * H]!, po = x[xo + r + 3 * H]!;
      if (y) { pi += y[yo + r]!; pf += y[yo + r + H]!; pg += y[yo + r + 2 * H]!; po += y[yo + r + 3 * H]!; }
      const i = sigmoid(pi), f = sigmoid(pf), g = tanh(pg), o = sigmoid(po);
      const c2 = f * cs[co + s]! + i * g;
      cn[no + s] = c2;
      hs[ho + s] = o * tanh(c2);
      if (a) { a[ao + r] = i; a[ao + r + H] = f; a[ao + r + 2 * H] = g; a[ao + r + 3 * H] = o; }
    }
  }
  return true;
}

export function lstmCellBackward(acts: V, c: V, cNew: V, dh: V | null, dhMore: V | null, dcNew: V | null, dgates: V, dc: V | null): boolean {
  if (!allF32Contiguous(acts, c, cNew, dh, dhMore, dcNew, dgates, dc)) return false;
  const B = c.shape[0]!, H = c.shape[1]!;
  if (H % 4 === 0 && dh && dcNew && dc) {
    const rt = wasmRuntime(), p = addresses(rt, [acts, c, cNew, dh, dcNew, dgates, dc]);
    const more = p && (dhMore ? addresses(rt, [dhMore])?.[0] : zeros(rt, B * H));
    if (p && more !== undefined && more !== null) { rt.call('lstm_cell_backward', p[0]!, p[1]!, p[2]!, p[3]!, more, p[4]!, p[5]!, p[6]!, B, H); return true; }
  }
  const a = acts.buffer, cs = c.buffer, cn = cNew.buffer, gh = dh?.buffer, gm = dhMore?.buffer, gc = dcNew?.buffer, dg = dgates.buffer, dcs = dc?.buffer;
  const ao = acts.offset, co = c.offset, no = cNew.offset, hO = dh?.offset ?? 0, mO = dhMore?.offset ?? 0, cO = dcNew?.offset ?? 0, go = dgates.offset, dO = dc?.offset ?? 0;
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const s = b * H + j, r = b * 4 * H + j;
      const i = a[ao + r]!, f = a[ao + r + H]!, g = a[ao + r + 2 * H]!, o = a[ao + r + 3 * H]!;
      const tc = tanh(cn[no + s]!);
      const dhv = (gh ? gh[hO + s]! : 0) + (gm ? gm[mO + s]! : 0);
      const dc2 = (gc ? gc[cO + s]! : 0) + dhv * o * (1 - tc * tc);
      dg[go + r] = dc2 * g * i * (1 - i);
      dg[go + r + H] = dc2 * cs[co + s]! * f * (1 - f);
      dg[go + r + 2 * H] = dc2 * i * (1 - g * g);
      dg[go + r + 3 * H] = dhv * tc * o * (1 - o);
      if (dcs) dcs[dO + s] = dc2 * f;
    }
  }
  return true;
}

export function gruCell(xg: V, hg: V, bias: V | null, h: V, hNew: V, acts: V | null): boolean {
  if (!allF32Contiguous(xg, hg, bias, h, hNew, acts)) return false;
  const B = h.shape[0]!, H = h.shape[1]!;
  if (H % 4 === 0 && acts) {
    const rt = wasmRuntime(), p = addresses(rt, [xg, hg, h, hNew, acts]);
    if (p) {
      rt.reset();
      let bp = bias ? addresses(rt, [bias])?.[0] : undefined;
      if (bp === undefined) {                                   // zeros, or a copy of a bias that lives elsewhere
        bp = rt.alloc(3 * H * 4);
        if (bias) rt.f32().set(bias.buffer.subarray(bias.offset, bias.offset + 3 * H), bp >> 2);
        else rt.f32().fill(0, bp >> 2, (bp >> 2) + 3 * H);
      }
      rt.call('gru_cell', p[0]!, p[1]!, bp, p[2]!, p[3]!, p[4]!, B, H);
      return true;
    }
  }
  const x = xg.buffer, y = hg.buffer, bs = bias?.buffer, hs = h.buffer, out = hNew.buffer, a = acts?.buffer;
  const xo = xg.offset, yo = hg.offset, bo = bias?.offset ?? 0, ho = h.offset, oo = hNew.offset, ao = acts?.offset ?? 0;
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const g = b * 3 * H + j, s = b * H + j, q = b * 4 * H + j;
      let pr = x[xo + g]! + y[yo + g]!, pz = x[xo + g + H]! + y[yo + g + H]!, hn = y[yo + g + 2 * H]!;
      if (bs) { pr += bs[bo + j]!; pz += bs[bo + H + j]!; hn += bs[bo + 2 * H + j]!; }
      const r = sigmoid(pr), z = sigmoid(pz);
      const n = tanh(x[xo + g + 2 * H]! + r * hn);
      out[oo + s] = (1 - z) * n + z * hs[ho + s]!;
      if (a) { a[ao + q] = r; a[ao + q + H] = z; a[ao + q + 2 * H] = n; a[ao + q + 3 * H] = hn; }
    }
  }
  return true;
}

export function gruCellBackward(acts: V, h: V, dhNew: V, dhMore: V | null, dxg: V, dhg: V, dh: V | null): boolean {
  if (!allF32Contiguous(acts, h, dhNew, dhMore, dxg, dhg, dh)) return false;
  const B = h.shape[0]!, H = h.shape[1]!;
  if (H % 4 === 0 && dh) {
    const rt = wasmRuntime(), p = addresses(rt, [acts, h, dhNew, dxg, dhg, dh]);
    const more = p && (dhMore ? addresses(rt, [dhMore])?.[0] : zeros(rt, B * H));
    if (p && more !== undefined && more !== null) { rt.call('gru_cell_backward', p[0]!, p[1]!, p[2]!, more, p[3]!, p[4]!, p[5]!, B, H); return true; }
  }
  const a = acts.buffer, hs = h.buffer, gh = dhNew.buffer, gm = dhMore?.buffer, dx = dxg.buffer, dy = dhg.buffer, dhs = dh?.buffer;
  const ao = acts.offset, ho = h.offset, go = dhNew.offset, mO = dhMore?.offset ?? 0, xo = dxg.offset, yo = dhg.offset, dO = dh?.offset ?? 0;
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const q = b * 4 * H + j, g = b * 3 * H + j, s = b * H + j;
      const r = a[ao + q]!, z = a[ao + q + H]!, n = a[ao + q + 2 * H]!, hn = a[ao + q + 3 * H]!;
      const d = gh[go + s]! + (gm ? gm[mO + s]! : 0);
      const dn = d * (1 - z) * (1 - n * n);
      const dz = d * (hs[ho + s]! - n) * z * (1 - z);
      const dr = dn * hn * r * (1 - r);
      dx[xo + g] = dr; dx[xo + g + H] = dz; dx[xo + g + 2 * H] = dn;
      dy[yo + g] = dr; dy[yo + g + H] = dz; dy[yo + g + 2 * H] = dn * r;
      if (dhs) dhs[dO + s] += d * z;
    }
  }
  return true;
}

export function rnnCell(xg: V, hg: V, hNew: V, relu: boolean): boolean {
  if (!allF32Contiguous(xg, hg, hNew)) return false;
  const n = hNew.shape[0]! * hNew.shape[1]!;
  const x = xg.buffer, y = hg.buffer, out = hNew.buffer, xo = xg.offset, yo = hg.offset, oo = hNew.offset;
  if (relu) for (let i = 0; i < n; i++) { const v = x[xo + i]! + y[yo + i]!; out[oo + i] = v > 0 ? v : 0; }
  else for (let i = 0; i < n; i++) out[oo + i] = tanh(x[xo + i]! + y[yo + i]!);
  return true;
}

export function rnnCellBackward(hNew: V, dhNew: V, dhMore: V | null, dpre: V, relu: boolean): boolean {
  if (!allF32Contiguous(hNew, dhNew, dhMore, dpre)) return false;
  const n = hNew.shape[0]! * hNew.shape[1]!;
  const h = hNew.buffer, d = dhNew.buffer, m = dhMore?.buffer, out = dpre.buffer, ho = hNew.offset, go = dhNew.offset, mo = dhMore?.offset ?? 0, oo = dpre.offset;
  for (let i = 0; i < n; i++) {
    const v = h[ho + i]!, g = d[go + i]! + (m ? m[mo + i]! : 0);
    out[oo + i] = relu ? (v > 0 ? g : 0) : g * (1 - v * v);
  }
  return true;
}

/** The family as kernels: each fast path, and the reference kernel (../cpu/rnn.ts) where it declines the call. */
export const recurrentKernels: RecurrentKernels<TypedArray> = {
  rnnCell: (xg, hg, hNew, relu) => { if (!rnnCell(xg, hg, hNew, relu)) ref.rnnCell(xg, hg, hNew, relu); },
  rnnCellBackward: (hNew, dhNew, dhMore, dpre, relu) => { if (!rnnCellBackward(hNew, dhNew, dhMore, dpre, relu)) ref.rnnCellBackward(hNew, dhNew, dhMore, dpre, relu); },
  lstmCell: (xg, hg, c, h, cNew, acts) => { if (!lstmCell(xg, hg, c, h, cNew, acts)) ref.lstmCell(xg, hg, c, h, cNew, acts); },
  lstmCellBackward: (acts, c, cNew, dh, dhMore, dcNew, dgates, dc) => {
    if (!lstmCellBackward(acts, c, cNew, dh, dhMore, dcNew, dgates, dc)) ref.lstmCellBackward(acts, c, cNew, dh, dhMore, dcNew, dgates, dc);
  },
  gruCell: (xg, hg, bias, h, hNew, acts) => { if (!gruCell(xg, hg, bias, h, hNew, acts)) ref.gruCell(xg, hg, bias, h, hNew, acts); },
  gruCellBackward: (acts, h, dhNew, dhMore, dxg, dhg, dh) => {
    if (!gruCellBackward(acts, h, dhNew, dhMore, dxg, dhg, dh)) ref.gruCellBackward(acts, h, dhNew, dhMore, dxg, dhg, dh);
  },
};
