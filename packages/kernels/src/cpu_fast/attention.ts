// The attention family of the fast cpu tier: scaled dot-product attention forward and backward on
// float32 q/k/v as batched WebAssembly matmuls over all (batch, head) pairs at once (scores Q·Kᵀ,
// then P·V; backward Pᵀ·dO, dO·Vᵀ, dS·K, dSᵀ·Q) with the row softmax, mask and causal cut done in
// between on the float32 score matrix (float64 per-row sums).
//
// - No mask, every operand contiguous or a head view with adjacent elements (`inMemory`): every
//   intermediate stays in the WebAssembly memory, the row steps are WebAssembly too
//   (attention_program.ts), and with the causal cut the products skip the masked half (`attnGemm`).
//   The GPT blocks' packed q/k/v (head views of one [B, T, 3C] tensor) are read where they lie.
// - Otherwise (an additive mask, other layouts): the same products through the matmul kernel, the
//   row step in TypeScript (with a mask) or WebAssembly (without).
// float16/bfloat16 operands run the same paths on float32 copies (contiguous, so the in-memory path
// when there is no mask), each 16-bit result encoded once (`viaFloat32`, half_arrays.ts). Other
// dtypes take the reference.

import { contiguousStrides, isContiguous, numel, sharesMemory, transposeLast } from '../geometry.js';
import type { AttentionOptions, TypedArray, View } from '../types.js';
import { isF32, readPtr } from '../wasm/operands.js';
import { wasmRuntime, type WasmRuntime } from '../wasm/runtime.js';
import { FAST_CPU_CONFIG, rowSplit, threadsFor } from '../wasm/schedule.js';
import { copyLoops } from './copy.js';
import { withReference } from './fallback.js';
import { anyHalf, viaFloat32 } from './half_arrays.js';
import { matmul as matmulFast, runSgemm } from './matmul.js';
import { MR } from './matmul_program.js';

type V = View<TypedArray>;

/** The matmul kernel with its fallback: the products of the path with a mask may have any layout. */
const { matmul } = withReference({ matmul: matmulFast });

const f32View = (buffer: Float32Array, shape: number[], strides?: number[]): View<Float32Array> =>
  ({ buffer, dtype: 'float32', shape, strides: strides ?? contiguousStrides(shape), offset: 0 });

/**
 * Turns the raw scores Q·Kᵀ in `s` ([B, H, Tq, Tk], contiguous) into probabilities in place:
 * z = scale·s + mask, -∞ past the causal diagonal, P = exp(z - lse). With `lseIn` the row's lse is
 * taken from it (backward); otherwise it is computed (max-subtracted, float64) into `lseOut`.
 * Fully masked rows (lse = -∞) get P = 0.
 */
function probabilities(s: Float32Array, B: number, H: number, Tq: number, Tk: number, mask: V | null, opts: AttentionOptions,
  lseIn: V | null, lseOut: Float64Array): void {
  const z = new Float64Array(Tk);
  const { scale, causal } = opts;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) {
    const row = ((b * H + h) * Tq + i) * Tk;
    // Keys j < lim are visible (all of them without the causal cut).
    const lim = causal ? Math.max(0, Math.min(Tk, i + (Tk - Tq) + 1)) : Tk;
    if (mask) {
      const mb = mask.buffer, ms = mask.strides, mo = mask.offset + b * ms[0]! + h * ms[1]! + i * ms[2]!, mj = ms[3]!;
      for (let j = 0; j < lim; j++) z[j] = s[row + j]! * scale + mb[mo + j * mj]!;
    } else {
      for (let j = 0; j < lim; j++) z[j] = s[row + j]! * scale;
    }
    let l: number;
    if (lseIn) {
      l = lseIn.buffer[lseIn.offset + b * lseIn.strides[0]! + h * lseIn.strides[1]! + i * lseIn.strides[2]!]!;
    } else {
      let m = -Infinity;
      for (let j = 0; j < lim; j++) if (z[j]! > m) m = z[j]!;
      if (m === -Infinity) {
        l = -Infinity;
      } else {
        let sum = 0;
        for (let j = 0; j < lim; j++) sum += Math.exp(z[j]! - m);
        l = m + Math.log(sum);
      }
      lseOut[(b * H + h) * Tq + i] = l;
    }
    if (l === -Infinity) {
      s.fill(0, row, row + Tk);
      continue;
    }
    for (let j = 0; j < lim; j++) s[row + j] = Math.exp(z[j]! - l);
    s.fill(0, row + lim, row + Tk);
  }
}

/** attn_probs over `rows` score rows at address sp (float64 lse at lp, scale at params). */
function probsAt(rt: WasmRuntime, sp: number, rows: number, Tq: number, Tk: number, causal: boolean, lp: number,
  backward: boolean, params: number): void {
  const parts = rowSplit(rt, rows, Tk).map(([lo, hi]) => (hi > lo
    ? [sp + lo * Tk * 4, hi - lo, Tk, lo % Tq, Tq, Tk - Tq + 1, causal ? 1 : 0, lp + lo * 8, backward ? 1 : 0, params] : []));
  rt.parallel('attn_probs', 10, parts);
}

/**
 * `probabilities` for attention without an additive mask, in WebAssembly (attention_program.ts):
 * the scores are copied into scratch, turned into probabilities there and copied back.
 */
function probabilitiesNoMask(s: Float32Array, B: number, H: number, Tq: number, Tk: number, opts: AttentionOptions,
  lseIn: V | null, lseOut: Float64Array): void {
  const rows = B * H * Tq;
  const rt = wasmRuntime();
  rt.reset();
  const sp = rt.alloc(rows * Tk * 4), lp = rt.alloc(rows * 8), params = rt.alloc(8);
  rt.f32().set(s, sp >> 2);
  const f64 = rt.f64();
  f64[params >> 3] = opts.scale;
  if (lseIn) {
    const lb = lseIn.buffer, ls = lseIn.strides, base = lp >> 3;
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) {
      f64[base + (b * H + h) * Tq + i] = lb[lseIn.offset + b * ls[0]! + h * ls[1]! + i * ls[2]!]!;
    }
  }
  probsAt(rt, sp, rows, Tq, Tk, opts.causal, lp, lseIn !== null, params);
  s.set(rt.f32().subarray(sp >> 2, (sp >> 2) + rows * Tk));
  if (!lseIn) lseOut.set(rt.f64().subarray(lp >> 3, (lp >> 3) + rows));
}

function attentionFast(q: V, k: V, v: V, mask: V | null, out: V): boolean {
  return q.shape.length === 4 && isF32(q) && isF32(k) && isF32(v) && isF32(out) && (mask === null || isF32(mask))
    && numel(q.shape) > 0 && numel(k.shape) > 0 && q.shape[3]! > 0 && v.shape[3]! > 0;
}

/** The lse view's element offset of row (b, h, i). */
const lseAt = (lse: V, b: number, h: number, i: number): number => lse.offset + b * lse.strides[0]! + h * lse.strides[1]! + i * lse.strides[2]!;

/**
 * The part of one row block's product that attention needs (see `attnGemm`): its first `n` columns
 * of C, from the slice [k0, k1) of the sum.
 */
interface BlockRange { n: number; k0: number; k1: number }

/**
 * nb products C_i = A_i·B_i (addresses and byte strides as in `sgemmBatched`), computed in blocks of
 * rows of C; `range(r0, r1)` says which columns of the block and which slice of the sum it needs.
 * Causal attention uses this to skip the half of every product that the causal mask makes zero:
 * a block of query rows needs only the keys its last row sees, and a block of key rows only the
 * queries that see its first key; the terms left out are exact zeros (P and dS vanish there). A
 * block whose slice is empty gets zeros. Each element's sum runs over its slice in increasing k,
 * whoever computes it, so results do not depend on the thread count.
 */
function attnGemm(rt: WasmRuntime, nb: number, aAt: (i: number) => number, rsa: number, csa: number,
  bAt: (i: number) => number, rsb: number, csb: number, cAt: (i: number) => number, ldc: number,
  M: number, N: number, K: number, rowsPerBlock: number, range: (r0: number, r1: number) => BlockRange): void {
  const threads = threadsFor(rt, M * N * K * nb, FAST_CPU_CONFIG.matmulParallelMin);
  const calls: number[] = [];
  const empty: [number, number, number][] = [];
  for (let bi = 0; bi < nb; bi++) {
    const ap = aAt(bi), bp = bAt(bi), cp = cAt(bi);
    for (let r0 = 0; r0 < M; r0 += rowsPerBlock) {
      const r1 = Math.min(M, r0 + rowsPerBlock);
      const { n, k0, k1 } = range(r0, r1);
      if (n <= 0) continue;
      if (k1 <= k0) { empty.push([cp + r0 * ldc, r1 - r0, n]); continue; }
      calls.push(ap + r0 * rsa + k0 * csa, rsa, csa, bp + k0 * rsb, rsb, csb, cp + r0 * ldc, ldc, r1 - r0, n, k1 - k0);
    }
  }
  const heap = rt.f32();
  for (const [c, rows, n] of empty) for (let r = 0; r < rows; r++) heap.fill(0, (c + r * ldc) >> 2, ((c + r * ldc) >> 2) + n);
  if (calls.length > 0) runSgemm(rt, calls, threads);
}

/**
 * The causal structure of attention with Tq queries and Tk keys: query i sees keys j < lim(i) =
 * clamp(i + Tk − Tq + 1, 0, Tk) (all Tk without the causal cut), and the block sizes and ranges for
 * `attnGemm`. Blocks are a multiple of the micro-tile height, about an eighth of the rows (at least 16).
 */
function causalPlan(Tq: number, Tk: number, causal: boolean) {
  const diag = Tk - Tq + 1;
  const lim = (i: number) => (causal ? Math.max(0, Math.min(Tk, i + diag)) : Tk);
  /** The first query that sees key j. */
  const firstQuery = (j: number) => (causal ? Math.max(0, j - diag + 1) : 0);
  const block = (rows: number) => (causal ? Math.max(16, Math.ceil(rows / 8 / MR) * MR) : rows);
  return {
    qBlock: block(Tq),
    kBlock: block(Tk),
    /** Query rows × keys (S = Q·Kᵀ, dP = dO·Vᵀ): the keys the block's last row sees. */
    keyCols: (kDim: number) => (r0: number, r1: number): BlockRange => ({ n: lim(r1 - 1), k0: 0, k1: kDim }),
    /** Query rows, summing over keys (O = P·V, dQ = dS·K). */
    overKeys: (n: number) => (r0: number, r1: number): BlockRange => ({ n, k0: 0, k1: lim(r1 - 1) }),
    /** Key rows, summing over queries (dV = Pᵀ·dO, dK = dSᵀ·Q). */
    overQueries: (n: number) => (r0: number, _r1: number): BlockRange => ({ n, k0: firstQuery(r0), k1: Tq }),
  };
}

/** attn_ds over `rows` rows: ds = P ∘ (dP − δ)·scale, in place on the dP rows at dsp. */
function dsAt(rt: WasmRuntime, pp: number, dsp: number, gp: number, op: number, rows: number, Tq: number, Tk: number,
  Dv: number, causal: boolean, params: number): void {
  const parts = rowSplit(rt, rows, Tk).map(([lo, hi]) => (hi > lo
    ? [pp + lo * Tk * 4, dsp + lo * Tk * 4, gp + lo * Dv * 4, op + lo * Dv * 4, hi - lo, Tk, Dv, lo % Tq, Tq, Tk - Tq + 1,
      causal ? 1 : 0, params] : []));
  rt.parallel('attn_ds', 12, parts);
}

/**
 * A [B, H, T, D] operand as the batched products address it: batch i = b·H + h starts at byte
 * `at(i)`, its rows `rs` bytes apart, its elements adjacent. Head views of a packed projection
 * (q, k, v inside one [B, T, 3·C] tensor; strides T·3C, D, 3C, 1) are used where they lie.
 */
interface Heads { at: (i: number) => number; rs: number }

const headsAt = (base: number, v: V, H: number): Heads => {
  const [s0, s1, s2] = v.strides as [number, number, number];
  return { at: (i) => base + (Math.floor(i / H) * s0 + (i % H) * s1) * 4, rs: s2 * 4 };
};

/** Whether `v` can be addressed as `Heads`: adjacent elements, and in the memory unless contiguous (then copied in). */
const headsOk = (rt: WasmRuntime, v: V): boolean =>
  isContiguous(v) || (rt.addressOf(v.buffer) >= 0 && (v.strides[3] === 1 || v.shape[3] === 1));

/** An input operand in place (or copied in when it lives outside the memory; contiguous then). */
function headsIn(rt: WasmRuntime, v: V, H: number): Heads {
  if (rt.addressOf(v.buffer) >= 0) return headsAt(rt.addressOf(v.buffer) + v.offset * 4, v, H);
  return headsAt(readPtr(rt, v, numel(v.shape)), { ...v, strides: contiguousStrides([...v.shape]), offset: 0 }, H);
}

/**
 * An output operand: written in place when it lives in the memory and shares no bytes with an
 * input (the products write exactly its elements), else into contiguous scratch that done() copies
 * into it (any layout; the TypeScript copy, which leaves the scratch alone).
 */
function headsOut(rt: WasmRuntime, v: V, H: number, inputs: readonly V[]): Heads & { done: () => void } {
  if (rt.addressOf(v.buffer) >= 0 && inputs.every((x) => !sharesMemory(x, v))) {
    return { ...headsAt(rt.addressOf(v.buffer) + v.offset * 4, v, H), done: () => {} };
  }
  const n = numel(v.shape), p = rt.alloc(n * 4);
  const done = () => { copyLoops(f32View(rt.f32().subarray(p >> 2, (p >> 2) + n), [...v.shape]), v); };
  return { ...headsAt(p, { ...v, strides: contiguousStrides([...v.shape]) }, H), done };
}

/** `v` as contiguous rows in the memory: its own address when it is contiguous there, else a copy in scratch. */
function contiguousIn(rt: WasmRuntime, v: V): number {
  const n = numel(v.shape);
  if (isContiguous(v)) return readPtr(rt, v, n);
  const h = headsIn(rt, v, v.shape[1]!);
  const [B, H, T, D] = v.shape as [number, number, number, number];
  const dst = rt.alloc(n * 4);
  const src = h.at(0); // (b, h) = (0, 0)
  const [s0, s1] = v.strides as [number, number];
  rt.parallel('copy_f32', 14, [[src, s0 * 4, s1 * 4, h.rs, v.strides[3]! * 4, dst, H * T * D * 4, T * D * 4, D * 4, 4, B, H, T, D]]);
  return dst;
}

/**
 * Attention without a mask, every intermediate in the WebAssembly memory: S = Q·Kᵀ, the row
 * softmax and O = P·V happen there; q, k, v and out are used where they lie — contiguous or head
 * views with adjacent elements (or copied once when they live elsewhere) — and only lse is copied
 * out. With the causal cut, the products skip the masked half (`attnGemm`).
 */
function attentionInMemory(q: V, k: V, v: V, opts: AttentionOptions, out: V, lse: V): void {
  const [B, H, Tq, D] = q.shape as [number, number, number, number];
  const Tk = k.shape[2]!, Dv = v.shape[3]!, nb = B * H, rows = nb * Tq;
  const rt = wasmRuntime();
  rt.reset();
  const qh = headsIn(rt, q, H), kh = headsIn(rt, k, H), vh = headsIn(rt, v, H);
  const o = headsOut(rt, out, H, [q, k, v]);
  const sp = rt.alloc(rows * Tk * 4), lp = rt.alloc(rows * 8), params = rt.alloc(8);
  rt.f64()[params >> 3] = opts.scale;
  const plan = causalPlan(Tq, Tk, opts.causal);
  const at = (base: number, size: number) => (i: number) => base + i * size * 4;
  // S = Q·Kᵀ (Kᵀ is K read column-major), then P in place, then O = P·V.
  attnGemm(rt, nb, qh.at, qh.rs, 4, kh.at, 4, kh.rs, at(sp, Tq * Tk), Tk * 4, Tq, Tk, D, plan.qBlock, plan.keyCols(D));
  probsAt(rt, sp, rows, Tq, Tk, opts.causal, lp, false, params);
  attnGemm(rt, nb, at(sp, Tq * Tk), Tk * 4, 4, vh.at, vh.rs, 4, o.at, o.rs, Tq, Dv, Tk, plan.qBlock, plan.overKeys(Dv));
  o.done();
  const l = rt.f64(), l0 = lp >> 3;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) lse.buffer[lseAt(lse, b, h, i)] = l[l0 + (b * H + h) * Tq + i]!;
}

/** The backward of `attentionInMemory`: P recomputed, dV = Pᵀ·dO, dP = dO·Vᵀ, dS, dQ = dS·K, dK = dSᵀ·Q, all in the WebAssembly memory. */
function attentionBackwardInMemory(q: V, k: V, v: V, opts: AttentionOptions, out: V, lse: V, dout: V, dq: V, dk: V, dv: V): void {
  const [B, H, Tq, D] = q.shape as [number, number, number, number];
  const Tk = k.shape[2]!, Dv = v.shape[3]!, nb = B * H, rows = nb * Tq;
  const rt = wasmRuntime();
  rt.reset();
  const qh = headsIn(rt, q, H), kh = headsIn(rt, k, H), vh = headsIn(rt, v, H);
  // The row steps read O and dO as contiguous rows.
  const op = contiguousIn(rt, out), gp = contiguousIn(rt, dout);
  const inputs = [q, k, v, out, dout];
  const dqw = headsOut(rt, dq, H, inputs), dkw = headsOut(rt, dk, H, inputs), dvw = headsOut(rt, dv, H, inputs);
  const pp = rt.alloc(rows * Tk * 4), dsp = rt.alloc(rows * Tk * 4), lp = rt.alloc(rows * 8), params = rt.alloc(8);
  const f64 = rt.f64(), l0 = lp >> 3;
  f64[params >> 3] = opts.scale;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) f64[l0 + (b * H + h) * Tq + i] = lse.buffer[lseAt(lse, b, h, i)]!;
  const plan = causalPlan(Tq, Tk, opts.causal);
  const at = (base: number, size: number) => (i: number) => base + i * size * 4;
  attnGemm(rt, nb, qh.at, qh.rs, 4, kh.at, 4, kh.rs, at(pp, Tq * Tk), Tk * 4, Tq, Tk, D, plan.qBlock, plan.keyCols(D));
  probsAt(rt, pp, rows, Tq, Tk, opts.causal, lp, true, params);
  // dV = Pᵀ·dO (Pᵀ: P read column-major), dP = dO·Vᵀ.
  attnGemm(rt, nb, at(pp, Tq * Tk), 4, Tk * 4, at(gp, Tq * Dv), Dv * 4, 4, dvw.at, dvw.rs, Tk, Dv, Tq, plan.kBlock, plan.overQueries(Dv));
  attnGemm(rt, nb, at(gp, Tq * Dv), Dv * 4, 4, vh.at, 4, vh.rs, at(dsp, Tq * Tk), Tk * 4, Tq, Tk, Dv, plan.qBlock, plan.keyCols(Dv));
  // dS = P ∘ (dP − δ)·scale with δ_i = Σ_c dO_ic·O_ic (float64).
  dsAt(rt, pp, dsp, gp, op, rows, Tq, Tk, Dv, opts.causal, params);
  // dQ = dS·K, dK = dSᵀ·Q.
  attnGemm(rt, nb, at(dsp, Tq * Tk), Tk * 4, 4, kh.at, kh.rs, 4, dqw.at, dqw.rs, Tq, D, Tk, plan.qBlock, plan.overKeys(D));
  attnGemm(rt, nb, at(dsp, Tq * Tk), 4, Tk * 4, qh.at, qh.rs, 4, dkw.at, dkw.rs, Tk, D, Tq, plan.kBlock, plan.overQueries(D));
  dqw.done();
  dkw.done();
  dvw.done();
}

/** Whether the in-memory paths apply: no mask, and every operand addressable as `Heads`. */
const inMemory = (mask: V | null, ...vs: V[]): boolean => {
  const rt = wasmRuntime();
  return mask === null && vs.every((v) => headsOk(rt, v));
};

export function attention(q: V, k: V, v: V, mask: V | null, opts: AttentionOptions, out: V, lse: V): boolean {
  if (anyHalf(q, k, v, mask, out, lse)) {
    return viaFloat32([q, k, v, mask], [out, lse], ([q32, k32, v32, m32], [o32, l32]) => attention(q32!, k32!, v32!, m32!, opts, o32!, l32!));
  }
  if (!attentionFast(q, k, v, mask, out) || !(lse.dtype === 'float32' || lse.dtype === 'float64')) return false;
  if (inMemory(mask, q, k, v, out)) {
    attentionInMemory(q, k, v, opts, out, lse);
    return true;
  }
  const [B, H, Tq] = q.shape as [number, number, number];
  const Tk = k.shape[2]!;
  const s = new Float32Array(B * H * Tq * Tk);
  matmul(q, transposeLast(k), f32View(s, [B, H, Tq, Tk]));
  const l = new Float64Array(B * H * Tq);
  if (mask) probabilities(s, B, H, Tq, Tk, mask, opts, null, l);
  else probabilitiesNoMask(s, B, H, Tq, Tk, opts, null, l);
  matmul(f32View(s, [B, H, Tq, Tk]), v, out);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) {
    lse.buffer[lse.offset + b * lse.strides[0]! + h * lse.strides[1]! + i * lse.strides[2]!] = l[(b * H + h) * Tq + i]!;
  }
  return true;
}

export function attentionBackward(q: V, k: V, v: V, mask: V | null, opts: AttentionOptions, out: V, lse: V, dout: V,
  dq: V, dk: V, dv: V): boolean {
  if (anyHalf(q, k, v, mask, out, lse, dout, dq, dk, dv)) {
    return viaFloat32([q, k, v, mask, out, lse, dout], [dq, dk, dv], ([q32, k32, v32, m32, o32, l32, g32], [dq32, dk32, dv32]) =>
      attentionBackward(q32!, k32!, v32!, m32!, opts, o32!, l32!, g32!, dq32!, dk32!, dv32!));
  }
  if (!attentionFast(q, k, v, mask, out) || !isF32(dout) || !isF32(dq) || !isF32(dk) || !isF32(dv)
    || !(lse.dtype === 'float32' || lse.dtype === 'float64')) {
    return false;
  }
  if (inMemory(mask, q, k, v, out, dout, dq, dk, dv)) {
    attentionBackwardInMemory(q, k, v, opts, out, lse, dout, dq, dk, dv);
    return true;
  }
  const [B, H, Tq] = q.shape as [number, number, number];
  const Tk = k.shape[2]!, Dv = v.shape[3]!;
  const p = new Float32Array(B * H * Tq * Tk);
  matmul(q, transposeLast(k), f32View(p, [B, H, Tq, Tk]));
  if (mask) probabilities(p, B, H, Tq, Tk, mask, opts, lse, new Float64Array(0));
  else probabilitiesNoMask(p, B, H, Tq, Tk, opts, lse, new Float64Array(0));
  // dV = Pᵀ·dO, dP = dO·Vᵀ.
  matmul(f32View(p, [B, H, Tk, Tq], [H * Tq * Tk, Tq * Tk, 1, Tk]), dout, dv);
  const ds = new Float32Array(B * H * Tq * Tk);
  matmul(dout, transposeLast(v), f32View(ds, [B, H, Tq, Tk]));
  // dS = P ∘ (dP - δ)·scale with δ_i = Σ_c dO_ic·O_ic (float64).
  const ob = out.buffer, gb = dout.buffer, os = out.strides, gs = dout.strides;
  const os3 = os[3]!, gs3 = gs[3]!, scale = opts.scale;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) {
    const oo = out.offset + b * os[0]! + h * os[1]! + i * os[2]!, go = dout.offset + b * gs[0]! + h * gs[1]! + i * gs[2]!;
    let delta = 0;
    for (let c = 0; c < Dv; c++) delta += gb[go + c * gs3]! * ob[oo + c * os3]!;
    const row = ((b * H + h) * Tq + i) * Tk;
    for (let j = row; j < row + Tk; j++) ds[j] = p[j]! * (ds[j]! - delta) * scale;
  }
  // dQ = dS·K, dK = dSᵀ·Q.
  matmul(f32View(ds, [B, H, Tq, Tk]), k, dq);
  matmul(f32View(ds, [B, H, Tk, Tq], [H * Tq * Tk, Tq * Tk, 1, Tk]), q, dk);
  return true;
}
