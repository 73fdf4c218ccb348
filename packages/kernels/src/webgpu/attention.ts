// Fused scaled-dot-product attention on the GPU, forward and backward, flash-attention style: the
// Tq×Tk score matrix is never written to memory. (Dao et al. 2022, "FlashAttention"; the backward
// follows its recompute-from-lse scheme, without atomics.) These kernels are the path for score
// matrices too large to materialize; below that size attention runs as matmuls around a softmax
// kernel (attention_matmul.ts, `pathFor`), which is faster (see its header).
//
// What (as cpu/attention.ts, the ground truth), per (batch b, head h):
//   S_ij = scale · q_i·k_j + mask_ij,  S_ij = -∞ where causal and j > i + (Tk - Tq)
//   lse_i = log Σ_j exp(S_ij),  P_ij = exp(S_ij - lse_i),  out_i = Σ_j P_ij v_j
// A fully masked row (every S_ij = -∞) gets out = 0 and lse = -∞, never NaN.
// Backward, with δ_i = Σ_c dO_ic·O_ic:
//   dP_ij = dO_i·v_j,  dS_ij = P_ij (dP_ij - δ_i),  dq_i = scale Σ_j dS_ij k_j,
//   dk_j = scale Σ_i dS_ij q_i,  dv_j = Σ_i P_ij dO_i
//
// Layout: q [B, H, Tq, D], k [B, H, Tk, D], v [B, H, Tk, Dv], out/dout [B, H, Tq, Dv], lse [B, H, Tq];
// the optional additive mask arrives expanded to [B, H, Tq, Tk] with stride 0 on broadcast dims. Every
// view is read and written through its offset and four strides (core passes contiguous q/k/v, but the
// mask is generally strided), so no copy is ever made. D and Dv up to 128 (DMAX).
// Storage: each of q, k, v, mask, out, lse, dout, dq, dk, dv is float32, float16 or bfloat16 (a
// parameter of the WGSL and the pipeline keys: converted to f32 when staged or read, rounded to
// nearest-even on store, half_wgsl.ts); tiles, scores, accumulators and the stats scratch are f32.
//
// Kernels (each a 64-invocation workgroup that owns R "rows" and walks the other sequence in steps of
// C "columns"; the L = 64 / R invocations of one row are its lanes):
// - forward: rows = R queries of one (b, h); loop over key tiles of C keys. The query tile is staged in
//   workgroup memory once; each key tile (K and V) is staged once and reused by all R queries — that
//   reuse is the point of the tiling: global reads of k/v drop by a factor R versus one query per
//   workgroup. Lanes split the C scores of a tile (dot products over D from workgroup memory), write
//   them to a small shared S tile, then every lane of a row runs the online-softmax update
//   (running max m and sum l; the accumulator is rescaled by exp(m_old - m_new) when the max grows)
//   and accumulates its share of the output dims (d ≡ lane mod L) in registers. With causal masking
//   the loop stops at the last key any query of the tile can see, so fully masked key tiles are skipped.
// - stats (backward pre-pass): one invocation per query row writes [lse_i, δ_i] into a scratch
//   buffer, so the two passes below read one small array (and bind one buffer fewer).
// - dq: rows = R queries; loop over key tiles. Recomputes P from lse, dS per (query, key) into the
//   shared tile, then each lane accumulates dq for its dims. Only the query's own row is written.
// - dk/dv: rows = R keys; loop over query tiles (starting at the first query that can see the tile
//   when causal). Each lane accumulates dk and dv for its dims. Every output element has exactly one
//   writer, which is why the backward needs no atomics (at the price of computing P twice).
// Tile sizes come from the workgroup-memory limit: with ≥ 32 KiB (most adapters) R = 16 queries and
// C = 16 keys forward (C = 8 in the backward passes, which stage four tiles instead of three); with
// WebGPU's default 16 KiB, half of each. Tiles are sized for DMAX = 128 so one pipeline serves every
// head size (the loops over D run to the actual D); a smaller D just leaves part of the tile unused.
// A lane's loops over its dims run to the actual D (`for d = lane; d < D; d += L`, accumulator
// d / L) rather than to a constant DMAX / L: with constant trip counts the shader compiler fully
// unrolls 32 dims × 16 keys per loop nest, and on CPU-backed adapters (lavapipe) that took the
// pipelines from about a second to over a minute to compile, with no gain at run time.
//
// -∞ never comes from a WGSL constant (WGSL has none): it is built from bits at run time, and masked
// scores are tested by comparison against it rather than trusting exp(-∞) = 0 on every driver.

import type { AttentionOptions, View } from '../types.js';
import { halfElement, wgslHalfHelpers, wgslLoadFn, wgslStoreFn } from './half_wgsl.js';
import { rowStorage, type RowStorage } from './softmax.js';
import { attentionBackwardMatmul, attentionMatmul, preferMatmulAttention } from './attention_matmul.js';
import { copy } from './elementwise.js';
import { UniformStruct } from './kernel_args.js';
import { read, readWrite, shader, uniform, type ShaderSource } from './bindings.js';
import type { WebGPURuntime } from './runtime.js';
import { dispatch1D, splitWorkgroups, WGSL_LINEAR_WORKGROUP } from './workgroups.js';

/** Largest head size (D and Dv) the kernels' workgroup tiles hold. */
export const ATTENTION_MAX_HEAD_DIM = 128;
const DMAX = ATTENTION_MAX_HEAD_DIM;
const WG = 64;

/** One kernel's tile: R rows per workgroup (L = 64 / R lanes each), C columns per loop step. */
interface Tile { R: number; C: number }

export type AttentionTileSize = 'large' | 'small';

const TILES: Record<AttentionTileSize, { fwd: Tile; dq: Tile; dkdv: Tile }> = {
  large: { fwd: { R: 16, C: 16 }, dq: { R: 16, C: 8 }, dkdv: { R: 16, C: 8 } },
  small: { fwd: { R: 8, C: 8 }, dq: { R: 8, C: 4 }, dkdv: { R: 8, C: 4 } },
};

/** Workgroup memory (bytes) of each kernel for a tile. */
function workgroupBytes(kind: 'fwd' | 'dq' | 'dkdv', t: Tile): number {
  if (kind === 'fwd') return 4 * (t.R * DMAX + 2 * t.C * DMAX + t.R * t.C);
  if (kind === 'dq') return 4 * (2 * t.R * DMAX + 2 * t.C * DMAX + t.R * t.C);
  return 4 * (2 * t.R * DMAX + 2 * t.C * DMAX + 2 * t.R * t.C + 2 * t.C);
}

/** 'large' when the device's workgroup memory holds every large tile, else 'small'. */
export function selectAttentionTiles(maxWorkgroupStorage: number): AttentionTileSize {
  const l = TILES.large;
  const fits = workgroupBytes('fwd', l.fwd) <= maxWorkgroupStorage && workgroupBytes('dq', l.dq) <= maxWorkgroupStorage &&
    workgroupBytes('dkdv', l.dkdv) <= maxWorkgroupStorage;
  return fits ? 'large' : 'small';
}

export interface AttentionKernelOptions {
  /** Force a tile size (tests); default from the device's workgroup-memory limit. */
  tiles?: AttentionTileSize;
  /** Force the fused kernels or the matmul composition (attention_matmul.ts); default by shape. */
  path?: 'fused' | 'matmul';
}

/** The path for these shapes: `o.path`, else matmuls while the score matrix fits (see attention_matmul.ts). */
function pathFor(q: View<GPUBuffer>, k: View<GPUBuffer>, o: AttentionKernelOptions): 'fused' | 'matmul' {
  if (o.path) return o.path;
  const [B, H, Tq] = q.shape as [number, number, number];
  const Tk = k.shape[2]!;
  return Tk > 0 && preferMatmulAttention(B, H, Tq, Tk) ? 'matmul' : 'fused';
}

// ---- host-side helpers ----------------------------------------------------------------------

/** Storage of each operand by its WGSL binding name (Q, K, V, M, O, LSE, DO, DQ, DK, DV); absent names are f32. */
export type AttentionStorages = Readonly<Record<string, RowStorage>>;

/**
 * The storage of each named operand, or a WebGPUDTypeError naming op and operand (float32, float16
 * and bfloat16 only). An absent mask takes q's storage: it is bound to q's buffer and never read.
 */
export function attentionStorages(op: string, views: Readonly<Record<string, View<GPUBuffer> | null>>): AttentionStorages {
  const st: Record<string, RowStorage> = {};
  for (const [name, v] of Object.entries(views)) if (v) st[name] = rowStorage(op, name.toLowerCase(), v.dtype);
  if (!views.M && st.Q) st.M = st.Q;
  return st;
}

/** Key fragment of a storage map. */
export const storageKey = (st: AttentionStorages): string => Object.entries(st).filter(([, s]) => s !== 'f32').map(([n, s]) => `${n}:${s}`).join(',');


/** The rank-4 stand-in for a missing mask (never read: hasMask = 0). */
function maskOrDummy(mask: View<GPUBuffer> | null, q: View<GPUBuffer>): View<GPUBuffer> {
  return mask ?? { ...q, strides: [0, 0, 0, 0], offset: 0 };
}

interface Dims { B: number; H: number; Tq: number; Tk: number; D: number; Dv: number }

/** B·H·Tq: the rows of a [B, H, Tq, D] view (zero means nothing to compute). */
const numel4 = (q: View<GPUBuffer>): number => q.shape[0]! * q.shape[1]! * q.shape[2]!;

function dimsOf(op: string, q: View<GPUBuffer>, k: View<GPUBuffer>, v: View<GPUBuffer>): Dims {
  const [B, H, Tq, D] = q.shape as [number, number, number, number];
  const Tk = k.shape[2]!, Dv = v.shape[3]!;
  if (D > DMAX || Dv > DMAX) {
    throw new RangeError(`${op}: the fused WebGPU kernels hold head sizes up to ${DMAX}, got D = ${D}, Dv = ${Dv}, and the ` +
      `matmul path's score matrix would exceed its limit (split the heads or the batch, or use the decomposed attention)`);
  }
  return { B, H, Tq, Tk, D, Dv };
}

function pushDims(u: UniformStruct, d: Dims, opts: AttentionOptions, hasMask: boolean): void {
  u.u32('H', d.H).u32('Tq', d.Tq).u32('Tk', d.Tk).u32('D', d.D).u32('Dv', d.Dv)
    .f32('scale', opts.scale).u32('causal', opts.causal ? 1 : 0).u32('hasMask', hasMask ? 1 : 0);
}

// ---- WGSL pieces --------------------------------------------------------------------------------

const WGSL_NEG_INF = /* wgsl */ `
fn neg_inf() -> f32 { var bits = 0xff800000u; return bitcast<f32>(bits); }
`;

/** Decodes the workgroup's tile: `bh`, `b`, `h` and the first row `r0` (rows are queries or keys). */
function wgslTileHead(R: number, tilesPerBH: string): string {
  return `  let tile = linear_workgroup(wid, nwg);
  if (tile >= u.tiles) { return; }
  let bh = tile / ${tilesPerBH};
  let r0 = (tile % ${tilesPerBH}) * ${R}u;
  let b = bh / u.H; let h = bh % u.H;
  let row = lid / L; let lane = lid % L;
  let NEG = neg_inf();
  let shift = i32(u.Tk) - i32(u.Tq);  // causal: query i sees key j iff j <= i + shift`;
}

/** Stages `rows` rows of an [T, width] slab (element (t, d) at base + t·st + d·sd) into a compact tile. */
function wgslStage(dst: string, src: string, rows: number, t0: string, T: string, width: string, base: string, st: string, sd: string): string {
  return `  for (var e = lid; e < ${rows}u * ${width}; e += ${WG}u) {
    let r = e / ${width}; let d = e % ${width}; let t = ${t0} + r;
    var x = 0.0;
    if (t < ${T}) { x = ld_${src}(${base} + t * ${st} + d * ${sd}); }
    ${dst}[e] = x;
  }`;
}

/** The score S = scale·(a·b) + mask for query i, key j (caller checked causality and bounds). */
function wgslScore(aTile: string, aRow: string, bTile: string, bRow: string): string {
  return `var s = 0.0;
        for (var d = 0u; d < u.D; d++) { s = fma(${aTile}[${aRow} * u.D + d], ${bTile}[${bRow} * u.D + d], s); }
        s = s * u.scale;
        if (u.hasMask != 0u) {
          let mv = ld_M(mB + i * u.m_s2 + j * u.m_s3);
          s = select(s + mv, NEG, mv == NEG);
        }`;
}

/**
 * A kernel over `reads` (read-only), then `writes`, then the uniforms `u`, each array of its storage
 * in `st` (f32 when absent), with the accessors ld_<name>(i) → f32 of each read array and
 * st_<name>(i, v) of each written one (ST, the f32 stats scratch, is indexed directly).
 */
function attentionShader(u: UniformStruct, reads: string[], writes: string[], body: string, st: AttentionStorages): ShaderSource {
  const s = (n: string): RowStorage => st[n] ?? 'f32';
  const access = wgslHalfHelpers([...reads, ...writes].map(s)) +
    reads.filter((n) => n !== 'ST').map((n) => wgslLoadFn(`ld_${n}`, n, s(n))).join('') +
    writes.filter((n) => n !== 'ST').map((n) => wgslStoreFn(`st_${n}`, n, s(n))).join('');
  return shader([...reads.map((n) => read(n, halfElement(s(n), false))), ...writes.map((n) => readWrite(n, halfElement(s(n), true))), uniform(u)],
    access + body);
}

const MAIN_SIG = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {`;

const BASES = `  let qB = u.q_off + b * u.q_s0 + h * u.q_s1;
  let kB = u.k_off + b * u.k_s0 + h * u.k_s1;
  let vB = u.v_off + b * u.v_s0 + h * u.v_s1;
  let mB = u.m_off + b * u.m_s0 + h * u.m_s1;`;

// ---- forward ------------------------------------------------------------------------------------

export function wgslAttentionForward(t: Tile, u: UniformStruct, st: AttentionStorages): ShaderSource {
  const { R, C } = t;
  const L = WG / R, NA = DMAX / L;
  return attentionShader(u, ['Q', 'K', 'V', 'M'], ['O', 'LSE'], `
const L = ${L}u;
var<workgroup> Qs: array<f32, ${R * DMAX}>;
var<workgroup> Ks: array<f32, ${C * DMAX}>;
var<workgroup> Vs: array<f32, ${C * DMAX}>;
var<workgroup> S: array<f32, ${R * C}>;
${WGSL_NEG_INF}${WGSL_LINEAR_WORKGROUP}
${MAIN_SIG}
${wgslTileHead(R, 'u.rowTiles')}
${BASES}
  let oB = u.o_off + b * u.o_s0 + h * u.o_s1;
  let q0 = r0;
  let i = q0 + row;
  let live = i < u.Tq;
${wgslStage('Qs', 'Q', R, 'q0', 'u.Tq', 'u.D', 'qB', 'u.q_s2', 'u.q_s3')}
  // Causal: no query of this tile sees a key at or past q0 + R + shift, so the loop ends there.
  var kEnd = u.Tk;
  if (u.causal != 0u) { kEnd = u32(clamp(i32(q0 + ${R}u) + shift, 0, i32(u.Tk))); }
  var m = NEG;      // running max of the row's scores
  var l = 0.0;      // running Σ exp(s - m)
  var acc: array<f32, ${NA}>;  // output dims d = lane + t·L, scaled by exp(-m)
  for (var k0 = 0u; k0 < kEnd; k0 += ${C}u) {
${wgslStage('Ks', 'K', C, 'k0', 'u.Tk', 'u.D', 'kB', 'u.k_s2', 'u.k_s3')}
${wgslStage('Vs', 'V', C, 'k0', 'u.Tk', 'u.Dv', 'vB', 'u.v_s2', 'u.v_s3')}
    workgroupBarrier();
    for (var c = lane; c < ${C}u; c += L) {
      let j = k0 + c;
      var sc = NEG;
      if (live && j < u.Tk && (u.causal == 0u || i32(j) <= i32(i) + shift)) {
        ${wgslScore('Qs', 'row', 'Ks', 'c')}
        sc = s;
      }
      S[row * ${C}u + c] = sc;
    }
    workgroupBarrier();
    // Online softmax: every lane of the row computes the same m, l (no cross-lane traffic).
    var mt = NEG;
    for (var c = 0u; c < ${C}u; c++) { mt = max(mt, S[row * ${C}u + c]); }
    let mNew = max(m, mt);
    if (mNew > NEG) {
      let corr = select(exp(m - mNew), 0.0, m == NEG);
      var p: array<f32, ${C}>;
      var ps = 0.0;
      for (var c = 0u; c < ${C}u; c++) {
        let s = S[row * ${C}u + c];
        let pc = select(exp(s - mNew), 0.0, s == NEG);
        p[c] = pc;
        ps += pc;
      }
      l = l * corr + ps;
      for (var d = lane; d < u.Dv; d += L) {
        let t = d / L;
        var a = acc[t] * corr;
        for (var c = 0u; c < ${C}u; c++) { a = fma(p[c], Vs[c * u.Dv + d], a); }
        acc[t] = a;
      }
      m = mNew;
    }
    workgroupBarrier();  // the next tile overwrites Ks, Vs and S
  }
  if (live) {
    let seen = m > NEG;  // false: fully masked row → out 0, lse -inf
    let inv = select(0.0, 1.0 / l, seen);
    for (var d = lane; d < u.Dv; d += L) {
      let t = d / L;
      st_O(oB + i * u.o_s2 + d * u.o_s3, acc[t] * inv);
    }
    if (lane == 0u) { st_LSE(u.l_off + b * u.l_s0 + h * u.l_s1 + i * u.l_s2, select(NEG, m + log(l), seen)); }
  }
}
`, st);
}

// ---- backward: stats pre-pass -------------------------------------------------------------------

export function wgslAttentionStats(u: UniformStruct, st: AttentionStorages): ShaderSource {
  return attentionShader(u, ['O', 'DO', 'LSE'], ['ST'], `
${WGSL_LINEAR_WORKGROUP}
${MAIN_SIG}
  let r = linear_workgroup(wid, nwg) * ${WG}u + lid;
  if (r >= u.rows) { return; }
  let i = r % u.Tq; let bh = r / u.Tq;
  let b = bh / u.H; let h = bh % u.H;
  let oB = u.o_off + b * u.o_s0 + h * u.o_s1 + i * u.o_s2;
  let gB = u.g_off + b * u.g_s0 + h * u.g_s1 + i * u.g_s2;
  var dl = 0.0;
  for (var d = 0u; d < u.Dv; d++) { dl = fma(ld_DO(gB + d * u.g_s3), ld_O(oB + d * u.o_s3), dl); }
  ST[2u * r] = ld_LSE(u.l_off + b * u.l_s0 + h * u.l_s1 + i * u.l_s2);
  ST[2u * r + 1u] = dl;
}
`, st);
}

// ---- backward: dq -------------------------------------------------------------------------------

export function wgslAttentionDq(t: Tile, u: UniformStruct, st: AttentionStorages): ShaderSource {
  const { R, C } = t;
  const L = WG / R, NA = DMAX / L;
  return attentionShader(u, ['Q', 'K', 'V', 'M', 'DO', 'ST'], ['DQ'], `
const L = ${L}u;
var<workgroup> Qs: array<f32, ${R * DMAX}>;
var<workgroup> Gs: array<f32, ${R * DMAX}>;
var<workgroup> Ks: array<f32, ${C * DMAX}>;
var<workgroup> Vs: array<f32, ${C * DMAX}>;
var<workgroup> S: array<f32, ${R * C}>;
${WGSL_NEG_INF}${WGSL_LINEAR_WORKGROUP}
${MAIN_SIG}
${wgslTileHead(R, 'u.rowTiles')}
${BASES}
  let gB = u.g_off + b * u.g_s0 + h * u.g_s1;
  let q0 = r0;
  let i = q0 + row;
  let live = i < u.Tq;
${wgslStage('Qs', 'Q', R, 'q0', 'u.Tq', 'u.D', 'qB', 'u.q_s2', 'u.q_s3')}
${wgslStage('Gs', 'DO', R, 'q0', 'u.Tq', 'u.Dv', 'gB', 'u.g_s2', 'u.g_s3')}
  var lse = NEG; var dl = 0.0;
  if (live) { lse = ST[2u * (bh * u.Tq + i)]; dl = ST[2u * (bh * u.Tq + i) + 1u]; }
  let on = live && lse > NEG;  // a fully masked row has P = 0: no gradient
  var kEnd = u.Tk;
  if (u.causal != 0u) { kEnd = u32(clamp(i32(q0 + ${R}u) + shift, 0, i32(u.Tk))); }
  var acc: array<f32, ${NA}>;  // Σ_j dS_ij k_j for dims d = lane + t·L
  for (var k0 = 0u; k0 < kEnd; k0 += ${C}u) {
${wgslStage('Ks', 'K', C, 'k0', 'u.Tk', 'u.D', 'kB', 'u.k_s2', 'u.k_s3')}
${wgslStage('Vs', 'V', C, 'k0', 'u.Tk', 'u.Dv', 'vB', 'u.v_s2', 'u.v_s3')}
    workgroupBarrier();
    for (var c = lane; c < ${C}u; c += L) {
      let j = k0 + c;
      var ds = 0.0;
      if (on && j < u.Tk && (u.causal == 0u || i32(j) <= i32(i) + shift)) {
        ${wgslScore('Qs', 'row', 'Ks', 'c')}
        if (s > NEG) {
          let p = exp(s - lse);
          var dp = 0.0;
          for (var d = 0u; d < u.Dv; d++) { dp = fma(Gs[row * u.Dv + d], Vs[c * u.Dv + d], dp); }
          ds = p * (dp - dl);
        }
      }
      S[row * ${C}u + c] = ds;
    }
    workgroupBarrier();
    for (var d = lane; d < u.D; d += L) {
      let t = d / L;
      var a = acc[t];
      for (var c = 0u; c < ${C}u; c++) { a = fma(S[row * ${C}u + c], Ks[c * u.D + d], a); }
      acc[t] = a;
    }
    workgroupBarrier();
  }
  if (live) {
    let dqB = u.dq_off + b * u.dq_s0 + h * u.dq_s1 + i * u.dq_s2;
    for (var d = lane; d < u.D; d += L) {
      let t = d / L;
      st_DQ(dqB + d * u.dq_s3, acc[t] * u.scale);
    }
  }
}
`, st);
}

// ---- backward: dk, dv ---------------------------------------------------------------------------

export function wgslAttentionDkDv(t: Tile, u: UniformStruct, st: AttentionStorages): ShaderSource {
  const { R, C } = t;
  const L = WG / R, NA = DMAX / L;
  return attentionShader(u, ['Q', 'K', 'V', 'M', 'DO', 'ST'], ['DK', 'DV'], `
const L = ${L}u;
var<workgroup> Ks: array<f32, ${R * DMAX}>;
var<workgroup> Vs: array<f32, ${R * DMAX}>;
var<workgroup> Qs: array<f32, ${C * DMAX}>;
var<workgroup> Gs: array<f32, ${C * DMAX}>;
var<workgroup> Ls: array<f32, ${C}>;
var<workgroup> Ds: array<f32, ${C}>;
var<workgroup> P: array<f32, ${R * C}>;
var<workgroup> dS: array<f32, ${R * C}>;
${WGSL_NEG_INF}${WGSL_LINEAR_WORKGROUP}
${MAIN_SIG}
${wgslTileHead(R, 'u.rowTiles')}
${BASES}
  let gB = u.g_off + b * u.g_s0 + h * u.g_s1;
  let k0 = r0;
  let j = k0 + row;
  let live = j < u.Tk;
${wgslStage('Ks', 'K', R, 'k0', 'u.Tk', 'u.D', 'kB', 'u.k_s2', 'u.k_s3')}
${wgslStage('Vs', 'V', R, 'k0', 'u.Tk', 'u.Dv', 'vB', 'u.v_s2', 'u.v_s3')}
  // Causal: query i sees key j iff i >= j - shift; the first query that sees any key of the tile is k0 - shift.
  var qStart = 0u;
  if (u.causal != 0u) { qStart = u32(clamp(i32(k0) - shift, 0, i32(u.Tq))); }
  var accK: array<f32, ${NA}>;  // Σ_i dS_ij q_i, dims d = lane + t·L
  var accV: array<f32, ${NA}>;  // Σ_i P_ij dO_i
  for (var q0 = qStart; q0 < u.Tq; q0 += ${C}u) {
${wgslStage('Qs', 'Q', C, 'q0', 'u.Tq', 'u.D', 'qB', 'u.q_s2', 'u.q_s3')}
${wgslStage('Gs', 'DO', C, 'q0', 'u.Tq', 'u.Dv', 'gB', 'u.g_s2', 'u.g_s3')}
    if (lid < ${C}u) {
      var lse = NEG; var dl = 0.0;
      if (q0 + lid < u.Tq) { let r = bh * u.Tq + q0 + lid; lse = ST[2u * r]; dl = ST[2u * r + 1u]; }
      Ls[lid] = lse; Ds[lid] = dl;
    }
    workgroupBarrier();
    for (var c = lane; c < ${C}u; c += L) {
      let i = q0 + c;
      var p = 0.0; var ds = 0.0;
      let lse = Ls[c];
      if (live && i < u.Tq && lse > NEG && (u.causal == 0u || i32(j) <= i32(i) + shift)) {
        ${wgslScore('Qs', 'c', 'Ks', 'row')}
        if (s > NEG) {
          p = exp(s - lse);
          var dp = 0.0;
          for (var d = 0u; d < u.Dv; d++) { dp = fma(Gs[c * u.Dv + d], Vs[row * u.Dv + d], dp); }
          ds = p * (dp - Ds[c]);
        }
      }
      P[row * ${C}u + c] = p;
      dS[row * ${C}u + c] = ds;
    }
    workgroupBarrier();
    for (var d = lane; d < u.Dv; d += L) {
      let t = d / L;
      var a = accV[t];
      for (var c = 0u; c < ${C}u; c++) { a = fma(P[row * ${C}u + c], Gs[c * u.Dv + d], a); }
      accV[t] = a;
    }
    for (var d = lane; d < u.D; d += L) {
      let t = d / L;
      var a = accK[t];
      for (var c = 0u; c < ${C}u; c++) { a = fma(dS[row * ${C}u + c], Qs[c * u.D + d], a); }
      accK[t] = a;
    }
    workgroupBarrier();
  }
  if (live) {
    let dkB = u.dk_off + b * u.dk_s0 + h * u.dk_s1 + j * u.dk_s2;
    let dvB = u.dv_off + b * u.dv_s0 + h * u.dv_s1 + j * u.dv_s2;
    for (var d = lane; d < u.D; d += L) { st_DK(dkB + d * u.dk_s3, accK[d / L] * u.scale); }
    for (var d = lane; d < u.Dv; d += L) { st_DV(dvB + d * u.dv_s3, accV[d / L]); }
  }
}
`, st);
}

// ---- launchers ----------------------------------------------------------------------------------

function tilesFor(rt: WebGPURuntime, o: AttentionKernelOptions): AttentionTileSize {
  return o.tiles ?? selectAttentionTiles(rt.limits.maxComputeWorkgroupStorageSize);
}

/** Uniforms shared by the tiled kernels: dims, then q, k, v, mask views, then `extra` views. */
function tiledUniforms(d: Dims, opts: AttentionOptions, q: View<GPUBuffer>, k: View<GPUBuffer>, v: View<GPUBuffer>,
  mask: View<GPUBuffer> | null, rowTiles: number, extra: [string, View<GPUBuffer>][]): UniformStruct {
  const u = new UniformStruct();
  pushDims(u, d, opts, mask !== null);
  u.u32('rowTiles', rowTiles).u32('tiles', rowTiles * d.B * d.H);
  u.view('q', q); u.view('k', k); u.view('v', v); u.view('m', maskOrDummy(mask, q));
  for (const [n, x] of extra) u.view(n, x);
  return u;
}

/**
 * Forward attention; see the header. Writes out [B, H, Tq, Dv] and lse [B, H, Tq], and on the matmul
 * path P into `probs` when given (the fused path, which never forms P, ignores it).
 */
export function attention(rt: WebGPURuntime, q: View<GPUBuffer>, k: View<GPUBuffer>, v: View<GPUBuffer>, mask: View<GPUBuffer> | null,
  opts: AttentionOptions, out: View<GPUBuffer>, lse: View<GPUBuffer>, o: AttentionKernelOptions = {}, probs: View<GPUBuffer> | null = null): void {
  const st = attentionStorages('attention', { Q: q, K: k, V: v, M: mask, O: out, LSE: lse });
  if (numel4(q) === 0) return;
  if (pathFor(q, k, o) === 'matmul') return attentionMatmul(rt, q, k, v, mask, opts, out, lse, probs);
  const d = dimsOf('attention', q, k, v);
  const size = tilesFor(rt, o);
  const t = TILES[size].fwd;
  const rowTiles = Math.ceil(d.Tq / t.R);
  const u = tiledUniforms(d, opts, q, k, v, mask, rowTiles, [['o', out], ['l', lse]]);
  const p = rt.pipeline(`attention.fwd.${size}.${storageKey(st)}`, () => wgslAttentionForward(t, u, st));
  rt.dispatch(p, [q.buffer, k.buffer, v.buffer, (mask ?? q).buffer, out.buffer, lse.buffer], u.bytes(),
    splitWorkgroups(rowTiles * d.B * d.H), 'attention.fwd');
}

/**
 * Backward attention: the stats pre-pass, then the dq pass and the dk/dv pass; see the header. On the
 * matmul path, `probs` (the P a forward filled, same `o`) is read instead of recomputed.
 */
export function attentionBackward(rt: WebGPURuntime, q: View<GPUBuffer>, k: View<GPUBuffer>, v: View<GPUBuffer>, mask: View<GPUBuffer> | null,
  opts: AttentionOptions, out: View<GPUBuffer>, lse: View<GPUBuffer>, dout: View<GPUBuffer>,
  dq: View<GPUBuffer>, dk: View<GPUBuffer>, dv: View<GPUBuffer>, o: AttentionKernelOptions = {}, probs: View<GPUBuffer> | null = null): void {
  const st0 = attentionStorages('attentionBackward', { Q: q, K: k, V: v, M: mask, O: out, LSE: lse, DO: dout, DQ: dq, DK: dk, DV: dv });
  if (q.shape[0]! * q.shape[1]! === 0) return;
  if (numel4(q) > 0 && pathFor(q, k, o) === 'matmul') return attentionBackwardMatmul(rt, q, k, v, mask, opts, out, lse, dout, dq, dk, dv, probs);
  const d = dimsOf('attentionBackward', q, k, v);
  const BH = d.B * d.H;
  const size = tilesFor(rt, o);
  const rows = BH * d.Tq;
  // Scratch [rows, 2] = (lse_i, δ_i); at least one element so the binding is never empty.
  const stats = rt.allocate(Math.max(rows, 1) * 2 * 4);
  if (rows > 0) {
    const u = new UniformStruct().u32('rows', rows).u32('H', d.H).u32('Tq', d.Tq).u32('Dv', d.Dv);
    u.view('o', out); u.view('g', dout); u.view('l', lse);
    const st = { O: st0.O!, DO: st0.DO!, LSE: st0.LSE! };
    const p = rt.pipeline(`attention.bwd_stats.${storageKey(st)}`, () => wgslAttentionStats(u, st));
    rt.dispatch(p, [out.buffer, dout.buffer, lse.buffer, stats], u.bytes(), dispatch1D(rows, WG), 'attention.bwd_stats');
  }
  const reads = [q.buffer, k.buffer, v.buffer, (mask ?? q).buffer, dout.buffer, stats];
  if (d.Tq > 0) {
    const t = TILES[size].dq;
    const rowTiles = Math.ceil(d.Tq / t.R);
    const u = tiledUniforms(d, opts, q, k, v, mask, rowTiles, [['g', dout], ['dq', dq]]);
    const st = { Q: st0.Q!, K: st0.K!, V: st0.V!, M: st0.M!, DO: st0.DO!, DQ: st0.DQ! };
    const p = rt.pipeline(`attention.bwd_dq.${size}.${storageKey(st)}`, () => wgslAttentionDq(t, u, st));
    rt.dispatch(p, [...reads, dq.buffer], u.bytes(), splitWorkgroups(rowTiles * BH), 'attention.bwd_dq');
  }
  if (d.Tk > 0) {
    const t = TILES[size].dkdv;
    const rowTiles = Math.ceil(d.Tk / t.R);
    // WebGPU forbids binding one buffer twice where either binding is writable: when dk and dv are
    // views of one buffer (the gradient of a packed q/k/v projection), dv goes through a temporary.
    const dvShape = [d.B, d.H, d.Tk, d.Dv];
    const dvTmp: View<GPUBuffer> | null = dv.buffer === dk.buffer
      ? { buffer: rt.allocate(d.B * d.H * d.Tk * d.Dv * 4), dtype: 'float32', shape: dvShape, strides: [d.H * d.Tk * d.Dv, d.Tk * d.Dv, d.Dv, 1], offset: 0 }
      : null;
    const dvOut = dvTmp ?? dv;
    const u = tiledUniforms(d, opts, q, k, v, mask, rowTiles, [['g', dout], ['dk', dk], ['dv', dvOut]]);
    const st = { Q: st0.Q!, K: st0.K!, V: st0.V!, M: st0.M!, DO: st0.DO!, DK: st0.DK!, DV: dvTmp ? 'f32' as const : st0.DV! };
    const p = rt.pipeline(`attention.bwd_dkdv.${size}.${storageKey(st)}`, () => wgslAttentionDkDv(t, u, st));
    rt.dispatch(p, [...reads, dk.buffer, dvOut.buffer], u.bytes(), splitWorkgroups(rowTiles * BH), 'attention.bwd_dkdv');
    if (dvTmp) {
      copy(rt, dvTmp, dv);
      rt.release(dvTmp.buffer);
    }
  }
  rt.release(stats);
}
