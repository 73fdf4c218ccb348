// Attention on the GPU as matrix products with the score matrix materialized: the default path
// (the fused kernels in attention.ts take over when the score matrix would be too large).
//
// Forward, per (batch b, head h):   S = Q·Kᵀ          (matmul, S [B, H, Tq, Tk] in a scratch buffer)
//                                   P = softmax rows   (`attention.probs`: scale, mask, causal cut;
//                                                       writes lse, P in place of S)
//                                   O = P·V            (matmul, written through out's strides)
// Backward:   P again from S = Q·Kᵀ and the saved lse (`attention.probs` reading lse), unless the
//             forward kept P (below)
//             dV = Pᵀ·dO,  dP = dO·Vᵀ
//             dS = P ∘ (dP − δ)·scale, δ_i = Σ_c dO_ic·O_ic   (`attention.ds`, in place of dP)
//             dQ = dS·K,   dK = dSᵀ·Q
// Transposes are views (strides), never copies; the matmul kernels read every operand in place.
// Operands may be float32, float16 or bfloat16 storage: the matmuls read and write them as they are
// (matmul.ts), the row kernels read mask, lse, out and dout through the accessors of half_wgsl.ts
// and write lse rounded to its storage; S, P, dP and dS are f32 scratch.
//
// Why this is the default and the fused kernels the fallback: the fused kernels keep everything in
// workgroup memory, a tile of 16 queries against a tile of 16 keys at a time, with barriers between
// the steps; that needs no T×T buffer, but few workgroups for short sequences and little arithmetic
// per barrier for long ones. The tiled matmul kernels (64×64 output tiles, 4×4 per invocation) do
// the same arithmetic several times faster: measured on an H200, causal T = 1024, D = 64, the fused
// forward ran at 260 GFLOP/s and a matmul-softmax-matmul composition at 1.6 TFLOP/s; on lavapipe
// this path is 1.4× (T = 64) to 4.4× (T = 1024) faster than the fused kernels, forward and backward
// together. So the fused kernels run only where the score matrix would exceed
// ATTENTION_MATMUL_MAX_SCORES floats — what they exist for: memory that does not grow with T².
//
// Saved probabilities: where B·H·Tq·Tk ≤ ATTENTION_SAVED_PROBS_MAX (2^22 floats, 16 MiB), core
// passes a float32 [B, H, Tq, Tk] tensor that the forward uses as its scratch S/P and keeps, and the
// backward reads P from it: one matmul and one `attention.probs` dispatch fewer per backward, for
// B·H·Tq·Tk·4 bytes held from the forward to the backward (PyTorch's math attention keeps its
// weights the same way). P is the same either way: the backward's recompute runs the forward's
// matmul on the same operands and exp(z − lse) with the same lse — bit for bit when lse is float32
// storage; with 16-bit lse the recompute reads lse rounded, the saved P has the forward's exact one.
// Larger score matrices keep the recompute, whose point is memory.
//
// Row kernels: one 64-invocation workgroup per score row; lanes stride over the row's Tk entries
// and reduce (max, then sum of exponentials; or δ over Dv) through workgroup memory. A fully masked
// row (causal with Tq > Tk, or a mask of -∞) gets P = 0 and lse = -∞, as in the fused kernels.

import { transposeLast } from '../geometry.js';
import type { AttentionOptions, View } from '../types.js';
import { UniformStruct } from './kernel_args.js';
import { halfElement, wgslHalfHelpers, wgslLoadFn, wgslStoreFn, type HalfStorage } from './half_wgsl.js';
import { read, readWrite, shader, uniform, type ShaderSource } from './bindings.js';
import { matmul } from './matmul.js';
import type { WebGPURuntime } from './runtime.js';
import { splitWorkgroups, WGSL_LINEAR_WORKGROUP } from './workgroups.js';

type GView = View<GPUBuffer>;

/** Largest score matrix (B·H·Tq·Tk floats) the matmul path materializes: 256 MiB. */
export const ATTENTION_MATMUL_MAX_SCORES = 1 << 26;

/** Largest score matrix (B·H·Tq·Tk floats) whose probabilities the forward keeps for the backward: 16 MiB. */
export const ATTENTION_SAVED_PROBS_MAX = 1 << 22;

const WG = 64;

const WGSL_HEAD = /* wgsl */ `
fn neg_inf() -> f32 { var bits = 0xff800000u; return bitcast<f32>(bits); }
var<workgroup> red: array<f32, ${WG}>;
fn reduce_max(lid: u32, x: f32) -> f32 {
  red[lid] = x;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
fn reduce_sum(lid: u32, x: f32) -> f32 {
  red[lid] = x;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
${WGSL_LINEAR_WORKGROUP}`;

/** Decodes row r = ((b·H + h)·Tq + i) of the score matrix; every workgroup returns together or not at all. */
const ROW = /* wgsl */ `
  let r = linear_workgroup(wid, nwg);
  if (r >= u.rows) { return; }
  let i = r % u.Tq; let bh = r / u.Tq; let b = bh / u.H; let h = bh % u.H;
  let NEG = neg_inf();
  var lim = u.Tk;
  if (u.causal != 0u) { lim = u32(clamp(i32(i) + i32(u.Tk) - i32(u.Tq) + 1, 0, i32(u.Tk))); }
  let base = r * u.Tk;`;

const MAIN = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {`;

/**
 * S → P in place. Forward (u.backward = 0): lse of each row written through the lse view. Backward:
 * lse read from it. z = scale·s + mask; entries past the causal limit or with a -∞ mask are 0.
 */
function wgslProbs(u: UniformStruct, sm: HalfStorage, sl: HalfStorage): ShaderSource {
  return shader([read('M', halfElement(sm, false)), readWrite('S', 'f32'), readWrite('LSE', halfElement(sl, true)), uniform(u)], `
${wgslHalfHelpers([sm, sl])}${wgslLoadFn('ld_M', 'M', sm)}${wgslLoadFn('ld_LSE', 'LSE', sl, true)}${wgslStoreFn('st_LSE', 'LSE', sl)}
${WGSL_HEAD}
fn z_at(base: u32, mB: u32, i: u32, j: u32, NEG: f32) -> f32 {
  var z = S[base + j] * u.scale;
  if (u.hasMask != 0u) {
    let mv = ld_M(mB + i * u.m_s2 + j * u.m_s3);
    z = select(z + mv, NEG, mv == NEG);
  }
  return z;
}
${MAIN}
${ROW}
  let mB = u.m_off + b * u.m_s0 + h * u.m_s1;
  let lp = u.l_off + b * u.l_s0 + h * u.l_s1 + i * u.l_s2;
  var l: f32;
  if (u.backward == 0u) {
    var m = NEG;
    for (var j = lid; j < lim; j += ${WG}u) { m = max(m, z_at(base, mB, i, j, NEG)); }
    m = reduce_max(lid, m);
    var s = 0.0;
    if (m > NEG) {
      for (var j = lid; j < lim; j += ${WG}u) {
        let z = z_at(base, mB, i, j, NEG);
        if (z > NEG) { s += exp(z - m); }
      }
    }
    s = reduce_sum(lid, s);
    l = select(NEG, m + log(s), m > NEG);
    if (lid == 0u) { st_LSE(lp, l); }
  } else {
    l = ld_LSE(lp);
  }
  for (var j = lid; j < u.Tk; j += ${WG}u) {
    var p = 0.0;
    if (j < lim && l > NEG) {
      let z = z_at(base, mB, i, j, NEG);
      if (z > NEG) { p = exp(z - l); }
    }
    S[base + j] = p;
  }
}
`);
}

/** dP → dS in place: dS = P ∘ (dP − δ)·scale, δ = Σ_c dO_c·O_c of the row. */
function wgslDs(u: UniformStruct, so: HalfStorage, sg: HalfStorage): ShaderSource {
  return shader([read('P', 'f32'), read('O', halfElement(so, false)), read('G', halfElement(sg, false)), readWrite('DS', 'f32'), uniform(u)], `
${wgslHalfHelpers([so, sg])}${wgslLoadFn('ld_O', 'O', so)}${wgslLoadFn('ld_G', 'G', sg)}
${WGSL_HEAD}
${MAIN}
${ROW}
  let oB = u.o_off + b * u.o_s0 + h * u.o_s1 + i * u.o_s2;
  let gB = u.g_off + b * u.g_s0 + h * u.g_s1 + i * u.g_s2;
  var d = 0.0;
  for (var c = lid; c < u.Dv; c += ${WG}u) { d = fma(ld_G(gB + c * u.g_s3), ld_O(oB + c * u.o_s3), d); }
  d = reduce_sum(lid, d);
  for (var j = lid; j < u.Tk; j += ${WG}u) { DS[base + j] = P[base + j] * (DS[base + j] - d) * u.scale; }
}
`);
}

/** The storage of a float view (attention.ts has checked its dtype). */
const storageOf = (v: GView): HalfStorage => (v.dtype === 'float16' ? 'f16' : v.dtype === 'bfloat16' ? 'bf16' : 'f32');

/** A contiguous [B, H, n, m] float32 view over a fresh buffer. */
function scratch(rt: WebGPURuntime, B: number, H: number, n: number, m: number): GView {
  return { buffer: rt.allocate(Math.max(1, B * H * n * m) * 4), dtype: 'float32', shape: [B, H, n, m], strides: [H * n * m, n * m, m, 1], offset: 0 };
}

function probs(rt: WebGPURuntime, s: GView, mask: GView | null, lse: GView, opts: AttentionOptions, backward: boolean): void {
  const [B, H, Tq, Tk] = s.shape as [number, number, number, number];
  const rows = B * H * Tq;
  const u = new UniformStruct().u32('rows', rows).u32('H', H).u32('Tq', Tq).u32('Tk', Tk)
    .f32('scale', opts.scale).u32('causal', opts.causal ? 1 : 0).u32('hasMask', mask ? 1 : 0).u32('backward', backward ? 1 : 0);
  // Without a mask, M is bound to a small stand-in (never read): S itself may not be bound twice.
  const m = mask ?? { ...s, buffer: rt.allocate(4), strides: [0, 0, 0, 0], offset: 0 };
  u.view('m', m);
  u.view('l', lse);
  const sm = storageOf(mask ?? s), sl = storageOf(lse);
  const p = rt.pipeline(`attention.probs.${sm}.${sl}`, () => wgslProbs(u, sm, sl));
  rt.dispatch(p, [m.buffer, s.buffer, lse.buffer], u.bytes(), splitWorkgroups(rows), 'attention.probs');
  if (!mask) rt.release(m.buffer);
}

/** Whether the matmul path runs by default: whenever the score matrix fits (see the header). */
export function preferMatmulAttention(B: number, H: number, Tq: number, Tk: number): boolean {
  return B * H * Tq * Tk <= ATTENTION_MATMUL_MAX_SCORES;
}

/** Whether the forward keeps P for the backward at these sizes (the matmul path, up to ATTENTION_SAVED_PROBS_MAX). */
export function savesAttentionProbs(B: number, H: number, Tq: number, Tk: number): boolean {
  const n = B * H * Tq * Tk;
  return n > 0 && n <= ATTENTION_SAVED_PROBS_MAX && preferMatmulAttention(B, H, Tq, Tk);
}

/** `p` as the kernels index it: a contiguous float32 [B, H, Tq, Tk] view at offset 0. */
function checkProbs(op: string, p: GView, B: number, H: number, Tq: number, Tk: number): GView {
  const want = [B, H, Tq, Tk], strides = [H * Tq * Tk, Tq * Tk, Tk, 1];
  const ok = p.dtype === 'float32' && p.offset === 0 && p.shape.length === 4 && want.every((n, i) => p.shape[i] === n && (n === 1 || p.strides[i] === strides[i]));
  if (!ok) {
    throw new TypeError(`${op}: probs must be a contiguous float32 [${want.join(', ')}] view at offset 0, got ${p.dtype} [${p.shape.join(', ')}] strides [${p.strides.join(', ')}] offset ${p.offset}`);
  }
  return p;
}

/** Forward attention through matmuls; see the header. With `keep`, P is left there for the backward. */
export function attentionMatmul(rt: WebGPURuntime, q: GView, k: GView, v: GView, mask: GView | null, opts: AttentionOptions,
  out: GView, lse: GView, keep: GView | null = null): void {
  const [B, H, Tq] = q.shape as [number, number, number];
  const Tk = k.shape[2]!;
  const s = keep ? checkProbs('attention', keep, B, H, Tq, Tk) : scratch(rt, B, H, Tq, Tk);
  matmul(rt, q, transposeLast(k), s);
  probs(rt, s, mask, lse, opts, false);
  matmul(rt, s, v, out);
  if (!keep) rt.release(s.buffer);
}

/**
 * Backward attention through matmuls; see the header. dq, dk and dv may share a buffer. `kept`: the P
 * the forward left (read, never written, so a retained graph can run the backward again), else
 * P is recomputed.
 */
export function attentionBackwardMatmul(rt: WebGPURuntime, q: GView, k: GView, v: GView, mask: GView | null, opts: AttentionOptions,
  out: GView, lse: GView, dout: GView, dq: GView, dk: GView, dv: GView, kept: GView | null = null): void {
  const [B, H, Tq] = q.shape as [number, number, number];
  const Tk = k.shape[2]!, Dv = v.shape[3]!;
  const p = kept ? checkProbs('attentionBackward', kept, B, H, Tq, Tk) : scratch(rt, B, H, Tq, Tk);
  const ds = scratch(rt, B, H, Tq, Tk);
  if (!kept) {
    matmul(rt, q, transposeLast(k), p);
    probs(rt, p, mask, lse, opts, true);
  }
  matmul(rt, transposeLast(p), dout, dv);
  matmul(rt, dout, transposeLast(v), ds);
  const rows = B * H * Tq;
  const u = new UniformStruct().u32('rows', rows).u32('H', H).u32('Tq', Tq).u32('Tk', Tk).u32('Dv', Dv)
    .f32('scale', opts.scale).u32('causal', opts.causal ? 1 : 0);
  u.view('o', out);
  u.view('g', dout);
  const so = storageOf(out), sg = storageOf(dout);
  const pl = rt.pipeline(`attention.ds.${so}.${sg}`, () => wgslDs(u, so, sg));
  rt.dispatch(pl, [p.buffer, out.buffer, dout.buffer, ds.buffer], u.bytes(), splitWorkgroups(rows), 'attention.ds');
  matmul(rt, ds, k, dq);
  matmul(rt, transposeLast(ds), q, dk);
  if (!kept) rt.release(p.buffer);
  rt.release(ds.buffer);
}
