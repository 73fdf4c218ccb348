// Batched matmul on the GPU: out[..., m, n] = Σ_k a[..., m, k] · b[..., k, n].
//
// Layout assumptions (the KernelSet contract): a [...batch, M, K], b [...batch, K, N], out
// [...batch, M, N] of equal rank; batch dims arrive expanded (stride 0 where broadcast); transposes
// arrive as strides. Nothing is materialized: each operand is read in place through its strides.
// Strides are assumed non-negative (core never produces negative ones).
//
// Each operand's matrix layout is classified on the host:
//   'k'  the reduction dim is contiguous  (a row-major [M, K]; b = Wᵀ for a row-major W [N, K])
//   'o'  the other dim is contiguous       (a = Xᵀ for a row-major X [K, M]; b row-major [K, N])
//   'g'  anything else (both strides ≠ 1): scalar loads through both strides
// and the generated loads follow it: consecutive invocations walk the contiguous dim (coalesced
// reads), vec4 loads along it (the 'register' kernel for both layouts, the 'tiled' kernel for 'o')
// when the base offset, the other stride, every batch stride and the buffer size are multiples of 4. The batch dims are collapsed on the host (size-1 dims
// dropped, adjacent dims merged when every operand allows) and decoded from workgroup_id.z.
//
// Why the tiling is what it is ('tiled'):
// - An output tile of BM×BN (64×64, or 32×32 for small problems) per workgroup, TM×TN = 4×4 outputs
//   per invocation: each invocation keeps 16 accumulators in registers and does 16 FMAs per 8 values
//   read from workgroup memory, so arithmetic, not workgroup-memory bandwidth, bounds the inner loop.
// - K advances in steps of BK = 16. The A tile is stored k-major as As[k][m] (vec4 over m) and the
//   B tile as Bs[k][n] (vec4 over n), so the inner loop reads one vec4 of A and one of B per k and
//   issues 4 vec4 FMAs; the 64×16 + 16×64 floats (8 KiB) leave room for several workgroups per core.
// - Loading a tile is a workgroup-uniform branch: a tile fully inside the matrix ("full tile", the
//   common case) uses unchecked loads, vec4 where allowed; only edge tiles pay for bounds checks.
//   Each invocation stores whole vec4s into the tiles (4 consecutive m or n at one k): per-component
//   stores into workgroup memory cost far more to compile and to run.
// - The 4×4 FMA block and 4 steps of k are unrolled by the generator; the loop over the tile's
//   16 k-steps is a constant-trip loop the compiler may unroll further.
//
// 'register' drops workgroup memory: an invocation loads its 4 rows of A and 4 columns of B for
// 4 values of k directly (vec4 loads, register transposes for the other layout) and does 16 vec4 FMA
// terms. CPU-backed adapters (lavapipe) run this faster: their caches already share the data and the
// tiled kernel's barriers serialize their SIMD lanes.
//
// 'splitk' runs the tiled kernel over S slices of K, each writing a partial [batch, M, N] product to
// a scratch buffer, then a second kernel sums the S partials into out (no atomics; the sum order is
// fixed, so results are deterministic).
//
// 'gemv' (M == 1, N == 1, tiny problems) gives each output RK lanes that split K and reduce in
// workgroup memory. The lanes of one output are consecutive invocations when the big operand is
// contiguous along K ('dot' mapping: coalesced reads along a row), otherwise consecutive invocations
// take consecutive outputs ('col' mapping: coalesced reads along the contiguous output dim).
// It also handles int32 (the other variants are floating point only); out may be any strided view.
//
// Epilogues (matmul_epilogue.ts, `Epilogue` below): in 'gemv', 'register' and 'tiled' the store of
// each output element can be replaced by a call `epi(m, n, v)` that evaluates a fused elementwise
// program on the f32 sum and writes the program's outputs instead of O; the accumulation is
// unchanged. 'register' and 'tiled' can also write the row sums of A beside the product.
//
// Storage: each of a, b and out is float32 (f32), float16 (f16, shader-f16) or bfloat16 (packed
// two per u32 word; a vec4 of it is a vec2<u32>; out is stored with atomics, half_wgsl.ts), independently; the storage of each is a parameter of the generated WGSL
// and part of every pipeline key. Loads convert to f32 (ldA/ldB return f32, ldA4/ldB4 vec4<f32>),
// so tiles, registers and accumulators are f32 whatever the storage; the store rounds the f32 sum
// to nearest-even for a 16-bit out (the integer helpers of half_wgsl.ts, as the elementwise
// kernels do). split-k keeps its partial products in an f32 scratch buffer and rounds once, in
// the reduction. No operand is copied or converted in a separate pass.

import type { View } from '../types.js';
import type { WebGPURuntime } from './runtime.js';
import { UniformStruct, maxWorkgroups } from './kernel_args.js';
import { read, readWrite, shader, uniform, type ElementType, type ShaderSource, type StorageBinding } from './bindings.js';
import { halfElement, wgslHalfHelpers, wgslLoadFn, wgslStoreFn } from './half_wgsl.js';
import { WebGPUDTypeError } from './errors.js';
import { getMatmulVariant, selectMatmulVariant, type MatmulVariant } from './matmul_select.js';

export { selectMatmulVariant, setMatmulVariant, getMatmulVariant, MATMUL_VARIANTS } from './matmul_select.js';
export type { MatmulVariant, MatmulShape, MatmulAdapterInfo } from './matmul_select.js';

type Layout = 'k' | 'o' | 'g';

/** How a matmul operand is stored: f32, f16 (float16), bf16 (bfloat16, two per u32 word), i32 (gemv only). */
export type MatmulStorage = 'f32' | 'f16' | 'bf16' | 'i32';

/** Storage of a, b and out. */
export interface MatmulStorages { a: MatmulStorage; b: MatmulStorage; o: MatmulStorage }

const STORAGE_OF: Readonly<Record<string, MatmulStorage>> = { float32: 'f32', float16: 'f16', bfloat16: 'bf16', int32: 'i32' };
const storageKey = (s: MatmulStorages): string => `${s.a}.${s.b}.${s.o}`;

interface Operand {
  layout: Layout;
  vec4: boolean;
}

interface Problem {
  M: number; N: number; K: number;
  batchShape: number[];
  /** Per collapsed batch dim: strides of a, b, out. */
  bsa: number[]; bsb: number[]; bso: number[];
  saM: number; saK: number; sbK: number; sbN: number; soM: number; soN: number;
  batch: number;
  /** The epilogue's views (see `Epilogue`): per view, its strides along the collapsed batch dims, m and n. */
  bse: number[][]; seM: number[]; seN: number[];
}

/**
 * What an epilogue (matmul_epilogue.ts) puts in place of the store of the product: its storage
 * bindings (replacing O), buffers and uniforms, and WGSL defining `fn epi(m: u32, n: u32, v: f32)`,
 * called once per output element with the f32 sum. The matmul decodes the base offset of each of
 * `views` (all [...batch, M, N], batch dims collapsed with the operands') into `eb[k]` before any
 * store; view k's element (m, n) is at `eb[k] + m * u.e<k>_m + n * u.e<k>_n`.
 */
export interface Epilogue {
  /** Part of every pipeline key: equal keys, equal WGSL. */
  readonly key: string;
  readonly views: readonly View<GPUBuffer>[];
  readonly bindings: readonly StorageBinding[];
  readonly buffers: readonly GPUBuffer[];
  /** Appends the epilogue's own uniforms (after the views' geometry). */
  readonly uniforms: (u: UniformStruct) => void;
  readonly code: string;
  /**
   * Row sums of A as a side output ('register' and 'tiled' only): the index of the view among
   * `views` (shape [...batch, M, N] with stride 0 along n) that receives Σ_k a[..., m, k], bound as
   * `RS` by the epilogue. The sums are sequential in k from 0: the invocations of output column 0
   * add up the A values they load anyway.
   */
  readonly rowSums?: number;
}

/** WGSL storing the row sums `rs<i>` (row m + i) where the epilogue asks for them. */
const rowSumStore = (epi: Epilogue, m: string, v: string): string =>
  `RS[eb[${epi.rowSums}] + (${m}) * u.e${epi.rowSums}_m] = ${v};`;

export interface MatmulOptions {
  /** Force a variant for this call (overrides setMatmulVariant). */
  variant?: MatmulVariant;
}

// ---- host-side analysis --------------------------------------------------------------------

function analyze(a: View<GPUBuffer>, b: View<GPUBuffer>, out: View<GPUBuffer>, extra: readonly View<GPUBuffer>[] = []): Problem {
  const r = out.shape.length;
  const M = out.shape[r - 2]!, N = out.shape[r - 1]!, K = a.shape[r - 1]!;
  // Collapse batch dims: drop size-1 dims, merge d into the next kept dim when contiguous for all.
  const shape: number[] = [], sa: number[] = [], sb: number[] = [], so: number[] = [];
  const se: number[][] = extra.map(() => []);
  for (let d = 0; d < r - 2; d++) {
    const n = out.shape[d]!;
    if (n === 1) continue;
    const last = shape.length - 1;
    if (last >= 0 && sa[last] === a.strides[d]! * n && sb[last] === b.strides[d]! * n && so[last] === out.strides[d]! * n &&
      extra.every((v, k) => se[k]![last] === v.strides[d]! * n)) {
      // previous dim's stride equals this dim's stride × its size: merge (previous becomes outer part)
      shape[last] = shape[last]! * n;
      sa[last] = a.strides[d]!; sb[last] = b.strides[d]!; so[last] = out.strides[d]!;
      extra.forEach((v, k) => { se[k]![last] = v.strides[d]!; });
      continue;
    }
    shape.push(n); sa.push(a.strides[d]!); sb.push(b.strides[d]!); so.push(out.strides[d]!);
    extra.forEach((v, k) => se[k]!.push(v.strides[d]!));
  }
  let batch = 1;
  for (const n of shape) batch *= n;
  return {
    M, N, K, batchShape: shape, bsa: sa, bsb: sb, bso: so, batch,
    saM: M === 1 ? 0 : a.strides[r - 2]!, saK: K === 1 ? 0 : a.strides[r - 1]!,
    sbK: K === 1 ? 0 : b.strides[r - 2]!, sbN: N === 1 ? 0 : b.strides[r - 1]!,
    soM: out.strides[r - 2]!, soN: out.strides[r - 1]!,
    bse: se, seM: extra.map((v) => (M === 1 ? 0 : v.strides[r - 2]!)), seN: extra.map((v) => (N === 1 ? 0 : v.strides[r - 1]!)),
  };
}

/** Layout of an operand with "other" stride `so` (m for A, n for B) and reduction stride `sk`. */
function classify(view: View<GPUBuffer>, so: number, sk: number, batchStrides: number[]): Operand {
  // Strides of extent-1 dims were zeroed by `analyze`; such a dim fits either layout.
  let layout: Layout = 'g';
  if (sk === 1) layout = 'k';
  else if (so === 1) layout = 'o';
  else if (sk === 0) layout = 'k';
  else if (so === 0) layout = 'o';
  const lead = layout === 'k' ? so : sk;
  const vec4 = layout !== 'g' && view.offset % 4 === 0 && lead % 4 === 0 &&
    batchStrides.every((s) => s % 4 === 0) && view.buffer.size % 16 === 0;
  return { layout, vec4 };
}

// ---- WGSL pieces shared by the variants ------------------------------------------------------

function uniformsFor(p: Problem, extra: { offA: number; offB: number; offO: number; kChunk: number; splits: number; splitStride: number; zBase: number }, epi?: Epilogue): UniformStruct {
  const u = new UniformStruct()
    .u32('M', p.M).u32('N', p.N).u32('K', p.K).u32('kChunk', extra.kChunk)
    .u32('offA', extra.offA).u32('offB', extra.offB).u32('offO', extra.offO).u32('splits', extra.splits)
    .u32('saM', p.saM).u32('saK', p.saK).u32('sbK', p.sbK).u32('sbN', p.sbN)
    .u32('soM', p.soM).u32('soN', p.soN).u32('splitStride', extra.splitStride).u32('zBase', extra.zBase);
  p.batchShape.forEach((n, d) => {
    u.u32(`bs${d}`, n).u32(`bsa${d}`, p.bsa[d]!).u32(`bsb${d}`, p.bsb[d]!).u32(`bso${d}`, p.bso[d]!);
  });
  if (epi !== undefined) {
    epi.views.forEach((v, k) => {
      u.u32(`e${k}_off`, v.offset).u32(`e${k}_m`, p.seM[k]!).u32(`e${k}_n`, p.seN[k]!);
      p.bse[k]!.forEach((s, d) => u.u32(`e${k}_b${d}`, s));
    });
    epi.uniforms(u);
  }
  return u;
}

/** WGSL: `eb`, the epilogue views' base offsets, and `fn epi_init(z)` that sets them for batch index z. */
function wgslEpilogueBases(rank: number, views: number): string {
  let body = '  var z = zz;\n';
  for (let k = 0; k < views; k++) body += `  eb[${k}] = u.e${k}_off;\n`;
  for (let d = rank - 1; d >= 0; d--) {
    body += `  { let i = z % u.bs${d}; z = z / u.bs${d};${Array.from({ length: views }, (_, k) => ` eb[${k}] += i * u.e${k}_b${d};`).join('')} }\n`;
  }
  return `var<private> eb: array<u32, ${views}>;\nfn epi_init(zz: u32) {\n${body}}\n`;
}

/** The epilogue's WGSL that goes with `batch_bases`: `eb` and `epi_init`, or nothing. */
const epiBases = (epi: Epilogue | undefined, rank: number): string => (epi === undefined ? '' : wgslEpilogueBases(rank, epi.views.length));

/** The store of value `v` at (m, n), element `o` of O: through the epilogue when there is one. */
const storeAt = (epi: Epilogue | undefined, m: string, n: string, o: string, v: string): string =>
  (epi === undefined ? `stO(${o}, ${v});` : `epi(${m}, ${n}, ${v});`);

/** The call that sets the epilogue's view bases for batch index `z`, or nothing. */
const epiInit = (epi: Epilogue | undefined, z: string): string => (epi === undefined ? '' : `  epi_init(${z});\n`);

/** WGSL: `fn batch_bases(z) -> vec3<u32>` (element offsets of a, b, out for batch index z). */
function wgslBatchBases(rank: number): string {
  let body = '  var z = zz;\n  var oa = u.offA; var ob = u.offB; var oo = u.offO;\n';
  for (let d = rank - 1; d >= 0; d--) {
    body += `  { let i = z % u.bs${d}; z = z / u.bs${d}; oa += i * u.bsa${d}; ob += i * u.bsb${d}; oo += i * u.bso${d}; }\n`;
  }
  return `fn batch_bases(zz: u32) -> vec3<u32> {\n${body}  return vec3<u32>(oa, ob, oo);\n}\n`;
}

/**
 * A matmul kernel: A and B (array<vec4<T>> `A4`/`B4` when vec4 loads are on, else array<T> `As`/`Bs`,
 * T the storage type of each), O and the uniforms; then the accessors ldA/ldA4/ldB/ldB4 (scalar
 * and vec4 loads by element index, whichever way the operand is bound, converted to the compute
 * type `t`) and stO(i, v) (v rounded to O's storage), then `body`.
 */
function matmulShader(A: Operand, B: Operand, st: MatmulStorages, t: 'f32' | 'i32', u: UniformStruct, body: string, epi?: Epilogue): ShaderSource {
  const elem = (s: MatmulStorage): 'f32' | 'i32' | 'u32' | 'f16' => (s === 'bf16' ? 'u32' : s);
  // bf16 is packed two per u32 word, so a vec4 of it is a vec2<u32>.
  const operand = (name: string, op: Operand, s: MatmulStorage) =>
    (op.vec4 ? read(`${name}4`, s === 'bf16' ? 'vec2<u32>' : `vec4<${elem(s)}>` as ElementType) : read(`${name}s`, elem(s)));
  // One element / one vec4 of storage `s` (f32 or f16) as the compute type.
  const cvt = (s: MatmulStorage, x: string): string => (s === 'f16' ? `half_to_f32(half_of(${x}))` : x);
  const cvt4 = (s: MatmulStorage, x: string): string => s === 'f16'
    ? `vec4<f32>(${[0, 1, 2, 3].map((c) => cvt(s, `${x}[${c}]`)).join(', ')})` : x;
  const loads = (name: string, op: Operand, s: MatmulStorage) => {
    if (s === 'bf16') {
      // Element i: half i & 1 of word i >> 1 (half_wgsl.ts); the high half of an f32 is the bf16.
      return op.vec4
        ? `fn ld${name}(i: u32) -> f32 { return bitcast<f32>((${name}4[i >> 2u][(i >> 1u) & 1u] >> ((i & 1u) << 4u)) << 16u); }\n` +
          `fn ld${name}4(i: u32) -> vec4<f32> { let w = ${name}4[i >> 2u]; return bitcast<vec4<f32>>(vec4<u32>(w.x << 16u, w.x & 0xffff0000u, w.y << 16u, w.y & 0xffff0000u)); }\n`
        : wgslLoadFn(`ld${name}`, `${name}s`, 'bf16') +
          `fn ld${name}4(i: u32) -> vec4<f32> { return vec4<f32>(ld${name}(i), ld${name}(i + 1u), ld${name}(i + 2u), ld${name}(i + 3u)); }\n`;
    }
    return op.vec4
      ? `fn ld${name}(i: u32) -> ${t} { return ${cvt(s, `${name}4[i >> 2u][i & 3u]`)}; }\n` +
        `fn ld${name}4(i: u32) -> vec4<${t}> { let v = ${name}4[i >> 2u]; return ${cvt4(s, 'v')}; }\n`
      : `fn ld${name}(i: u32) -> ${t} { return ${cvt(s, `${name}s[i]`)}; }\n` +
        `fn ld${name}4(i: u32) -> vec4<${t}> { return vec4<${t}>(${[0, 1, 2, 3].map((c) => cvt(s, `${name}s[i${c ? ` + ${c}u` : ''}]`)).join(', ')}); }\n`;
  };
  if (epi !== undefined) {
    // The epilogue's bindings take O's place; it stores through its own code.
    return shader([operand('A', A, st.a), operand('B', B, st.b), ...epi.bindings, uniform(u)],
      wgslHalfHelpers([st.a, st.b]) + loads('A', A, st.a) + loads('B', B, st.b) + epi.code + body);
  }
  const store = st.o === 'i32' ? 'fn stO(i: u32, v: i32) { O[i] = v; }\n' : wgslStoreFn('stO', 'O', st.o);
  const out = st.o === 'i32' ? 'i32' : halfElement(st.o, true);
  return shader([operand('A', A, st.a), operand('B', B, st.b), readWrite('O', out), uniform(u)],
    wgslHalfHelpers([st.a, st.b, st.o]) + loads('A', A, st.a) + loads('B', B, st.b) + store + body);
}

// ---- 'tiled' (also the first pass of 'splitk') ----------------------------------------------

export interface TileConfig { BM: number; BN: number; BK: number; TM: number; TN: number }
export const TILE_LARGE: TileConfig = { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 };
export const TILE_SMALL: TileConfig = { BM: 32, BN: 32, BK: 16, TM: 4, TN: 4 };

/**
 * Loads of one operand's BO×BK tile into workgroup memory S[k][o] (vec4 over o). `name` is 'A'
 * (o = m) or 'B' (o = n). A load unit is 4 consecutive o at one k, stored as one vec4 — no
 * per-component stores into workgroup memory. Consecutive invocations take consecutive k when the
 * operand is contiguous along k ('k'), consecutive o otherwise, so global reads coalesce; the 'o'
 * layout reads each unit with one vec4 load when aligned. Emits the full-tile and the edge branch.
 */
function wgslTileLoad(name: 'A' | 'B', op: Operand, BO: number, BK: number, T: number): string {
  const S = `${name}sh`;
  const so = name === 'A' ? 'u.saM' : 'u.sbN';
  const sk = name === 'A' ? 'u.saK' : 'u.sbK';
  const base = name === 'A' ? 'bases.x' : 'bases.y';
  const o0 = name === 'A' ? 'm0' : 'n0';
  const ext = name === 'A' ? 'u.M' : 'u.N';
  const BO4 = BO / 4;
  const units = BO4 * BK;
  if (units % T !== 0) throw new Error(`matmul tile ${BO}x${BK} does not divide over ${T} invocations`);
  let full = '', edge = '';
  for (let r = 0; r < units / T; r++) {
    const uidx = `(lid + ${r * T}u)`;
    const [o4, kk] = op.layout === 'k' ? [`(${uidx} / ${BK}u)`, `(${uidx} % ${BK}u)`] : [`(${uidx} % ${BO4}u)`, `(${uidx} / ${BO4}u)`];
    const head = `    { let o4 = ${o4}; let kk = ${kk}; let o = ${o0} + o4 * 4u; let k = k0 + kk;\n`;
    const tail = `      ${S}[kk * ${BO4}u + o4] = v; }\n`;
    if (op.layout === 'o' && op.vec4) {
      full += head + `      let v = ld${name}4(${base} + o + k * ${sk});\n` + tail;
    } else {
      const addr = op.layout === 'k' ? `${base} + oc * ${so} + k` : op.layout === 'o' ? `${base} + oc + k * ${sk}` : `${base} + oc * ${so} + k * ${sk}`;
      full += head + `      var v: vec4<f32>;\n` +
        [0, 1, 2, 3].map((c) => `      { let oc = o + ${c}u; v[${c}] = ld${name}(${addr}); }`).join('\n') + '\n' + tail;
    }
    edge += head + `      var v = vec4<f32>(0.0);\n      if (k < kEnd) {\n` +
      [0, 1, 2, 3].map((c) => `        if (o + ${c}u < ${ext}) { v[${c}] = ld${name}(${base} + (o + ${c}u) * ${so} + k * ${sk}); }`).join('\n') +
      '\n      }\n' + tail;
  }
  return `  if (${o0} + ${BO}u <= ${ext} && k0 + ${BK}u <= kEnd) {\n${full}  } else {\n${edge}  }\n`;
}

export function wgslTiled(cfg: TileConfig, A: Operand, B: Operand, st: MatmulStorages, rank: number, uniforms: UniformStruct, epi?: Epilogue): ShaderSource {
  const { BM, BN, BK, TM, TN } = cfg;
  const TX = BN / TN, TY = BM / TM, T = TX * TY;
  // The k loop runs BK/KU times with KU = 4 steps unrolled inside: the 4×4 FMA block is fully
  // unrolled, the loop over k is left to the compiler (a fully unrolled BK = 16 body quadruples the
  // shader and its compile time for no measurable gain).
  const KU = 4;
  let compute = `    for (var kb = 0u; kb < ${BK}u; kb += ${KU}u) {\n`;
  for (let k = 0; k < KU; k++) {
    compute += '      {\n';
    for (let i4 = 0; i4 < TM / 4; i4++) compute += `        let a${i4} = Ash[(kb + ${k}u) * ${BM / 4}u + ty * ${TM / 4}u + ${i4}u];\n`;
    for (let j4 = 0; j4 < TN / 4; j4++) compute += `        let b${j4} = Bsh[(kb + ${k}u) * ${BN / 4}u + tx * ${TN / 4}u + ${j4}u];\n`;
    for (let i = 0; i < TM; i++) {
      for (let j4 = 0; j4 < TN / 4; j4++) compute += `        acc${i}_${j4} = fma(vec4<f32>(a${i >> 2}[${i & 3}]), b${j4}, acc${i}_${j4});\n`;
    }
    compute += '      }\n';
  }
  compute += '    }\n';
  let accDecl = '', store = '';
  const sums = epi?.rowSums !== undefined;
  if (sums) {
    // Row sums: invocation tx == 0 of the first column of tiles adds each vec4 of A it reads (the
    // tile is zero past the matrix, and x + 0 = x).
    compute = compute.replace(/(        let a(\d+) = Ash\[[^\n]*\n)/g, (line, _all, i4) => `${line}        if (rsLane) { rs${i4} = rs${i4} + a${i4}; }\n`);
    accDecl += `  let rsLane = wid.x == 0u && tx == 0u;\n`;
    for (let i4 = 0; i4 < TM / 4; i4++) accDecl += `  var rs${i4} = vec4<f32>(0.0);\n`;
    store += `  if (rsLane) {\n` + Array.from({ length: TM }, (_, i) =>
      `    if (m0 + ty * ${TM}u + ${i}u < u.M) { ${rowSumStore(epi!, `m0 + ty * ${TM}u + ${i}u`, `rs${i >> 2}[${i & 3}]`)} }`).join('\n') + '\n  }\n';
  }
  for (let i = 0; i < TM; i++) {
    for (let j4 = 0; j4 < TN / 4; j4++) {
      accDecl += `  var acc${i}_${j4} = vec4<f32>(0.0);\n`;
      store += `  { let m = m0 + ty * ${TM}u + ${i}u; let n = n0 + tx * ${TN}u + ${j4 * 4}u;\n` +
        `    if (m < u.M) { let o = obase + m * u.soM + n * u.soN;\n` +
        [0, 1, 2, 3].map((c) => `      if (n + ${c}u < u.N) { ${storeAt(epi, 'm', `n + ${c}u`, `o + ${c}u * u.soN`, `acc${i}_${j4}[${c}]`)} }`).join('\n') + '\n    } }\n';
    }
  }
  return matmulShader(A, B, st, 'f32', uniforms, `var<workgroup> Ash: array<vec4<f32>, ${(BK * BM) / 4}>;
var<workgroup> Bsh: array<vec4<f32>, ${(BK * BN) / 4}>;
${wgslBatchBases(rank)}${epiBases(epi, rank)}
@compute @workgroup_size(${T})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tx = lid % ${TX}u; let ty = lid / ${TX}u;
  let n0 = wid.x * ${BN}u; let m0 = wid.y * ${BM}u;
  let zz = wid.z + u.zBase;
  let split = zz % u.splits;
  let bases = batch_bases(zz / u.splits);
  let kBegin = split * u.kChunk;
  let kEnd = min(u.K, kBegin + u.kChunk);
  let obase = bases.z + split * u.splitStride;
${epiInit(epi, 'zz / u.splits')}${accDecl}
  for (var k0 = kBegin; k0 < kEnd; k0 += ${BK}u) {
${wgslTileLoad('A', A, BM, BK, T)}${wgslTileLoad('B', B, BN, BK, T)}
    workgroupBarrier();
${compute}    workgroupBarrier();
  }
${store}}
`, epi);
}

// ---- 'register' -----------------------------------------------------------------------------

const REG_WG = [8, 8] as const; // invocations (x over n, y over m); each computes 4×4 outputs

export function wgslRegister(A: Operand, B: Operand, st: MatmulStorages, rank: number, uniforms: UniformStruct, epi?: Epilogue): ShaderSource {
  // Fast loads for 4 k-values at k (multiple of 4 from kBegin), rows m..m+3 / cols n..n+3, all in bounds.
  const aFast = (() => {
    if (A.layout === 'k') return [0, 1, 2, 3].map((i) => `let a${i} = ldA4(bases.x + (m + ${i}u) * u.saM + k);`).join('\n      ');
    if (A.layout === 'o') {
      return [0, 1, 2, 3].map((kk) => `let c${kk} = ldA4(bases.x + m + (k + ${kk}u) * u.saK);`).join('\n      ') + '\n      ' +
        [0, 1, 2, 3].map((i) => `let a${i} = vec4<f32>(c0[${i}], c1[${i}], c2[${i}], c3[${i}]);`).join('\n      ');
    }
    return [0, 1, 2, 3].map((i) => `let a${i} = vec4<f32>(${[0, 1, 2, 3].map((kk) => `ldA(bases.x + (m + ${i}u) * u.saM + (k + ${kk}u) * u.saK)`).join(', ')});`).join('\n      ');
  })();
  const bFast = (() => {
    if (B.layout === 'o') return [0, 1, 2, 3].map((kk) => `let b${kk} = ldB4(bases.y + (k + ${kk}u) * u.sbK + n);`).join('\n      ');
    if (B.layout === 'k') {
      return [0, 1, 2, 3].map((j) => `let d${j} = ldB4(bases.y + (n + ${j}u) * u.sbN + k);`).join('\n      ') + '\n      ' +
        [0, 1, 2, 3].map((kk) => `let b${kk} = vec4<f32>(d0[${kk}], d1[${kk}], d2[${kk}], d3[${kk}]);`).join('\n      ');
    }
    return [0, 1, 2, 3].map((kk) => `let b${kk} = vec4<f32>(${[0, 1, 2, 3].map((j) => `ldB(bases.y + (k + ${kk}u) * u.sbK + (n + ${j}u) * u.sbN)`).join(', ')});`).join('\n      ');
  })();
  const fma4 = [0, 1, 2, 3].map((i) => `acc${i} = fma(vec4<f32>(a${i}.x), b0, fma(vec4<f32>(a${i}.y), b1, fma(vec4<f32>(a${i}.z), b2, fma(vec4<f32>(a${i}.w), b3, acc${i}))));`).join('\n      ');
  let store = [0, 1, 2, 3].map((i) => `  if (m + ${i}u < u.M) { let o = obase + (m + ${i}u) * u.soM + n * u.soN;\n` +
    [0, 1, 2, 3].map((c) => `    if (n + ${c}u < u.N) { ${storeAt(epi, `m + ${i}u`, `n + ${c}u`, `o + ${c}u * u.soN`, `acc${i}[${c}]`)} }`).join('\n') + '\n  }').join('\n');
  // Row sums: the invocations of output column 0 add the A values they load, k in order.
  let sumDecl = '', sumFast = '', sumEdge = '';
  if (epi?.rowSums !== undefined) {
    sumDecl = 'var rs = vec4<f32>(0.0);\n  let rsLane = n == 0u;\n  ';
    sumFast = `\n      if (rsLane) {${[0, 1, 2, 3].map((kk) => ` rs = rs + vec4<f32>(a0[${kk}], a1[${kk}], a2[${kk}], a3[${kk}]);`).join('')} }`;
    sumEdge = `\n    if (rsLane) {${[0, 1, 2, 3].map((i) => ` if (m + ${i}u < u.M) { rs[${i}] = rs[${i}] + ldA(bases.x + (m + ${i}u) * u.saM + k * u.saK); }`).join('')} }`;
    store += `\n  if (rsLane) {${[0, 1, 2, 3].map((i) => ` if (m + ${i}u < u.M) { ${rowSumStore(epi, `m + ${i}u`, `rs[${i}]`)} }`).join('')} }`;
  }
  return matmulShader(A, B, st, 'f32', uniforms, `${wgslBatchBases(rank)}${epiBases(epi, rank)}
@compute @workgroup_size(${REG_WG[0]}, ${REG_WG[1]})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let n = gid.x * 4u; let m = gid.y * 4u;
  let zz = wid.z + u.zBase;
  let split = zz % u.splits;
  let bases = batch_bases(zz / u.splits);
  let kBegin = split * u.kChunk;
  let kEnd = min(u.K, kBegin + u.kChunk);
  let obase = bases.z + split * u.splitStride;
${epiInit(epi, 'zz / u.splits')}  if (m >= u.M || n >= u.N) { return; }
  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0); var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  ${sumDecl}var k = kBegin;
  if (m + 4u <= u.M && n + 4u <= u.N) {
    for (; k + 4u <= kEnd; k += 4u) {
      ${aFast}
      ${bFast}
      ${fma4}${sumFast}
    }
  }
  // Edge blocks and the K tail: one k at a time, every load checked.
  for (; k < kEnd; k += 1u) {
    var bv = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j += 1u) {
      if (n + j < u.N) { bv[j] = ldB(bases.y + k * u.sbK + (n + j) * u.sbN); }
    }
    if (m < u.M) { acc0 = fma(vec4<f32>(ldA(bases.x + m * u.saM + k * u.saK)), bv, acc0); }
    if (m + 1u < u.M) { acc1 = fma(vec4<f32>(ldA(bases.x + (m + 1u) * u.saM + k * u.saK)), bv, acc1); }
    if (m + 2u < u.M) { acc2 = fma(vec4<f32>(ldA(bases.x + (m + 2u) * u.saM + k * u.saK)), bv, acc2); }
    if (m + 3u < u.M) { acc3 = fma(vec4<f32>(ldA(bases.x + (m + 3u) * u.saM + k * u.saK)), bv, acc3); }${sumEdge}
  }
${store}
}
`, epi);
}

// ---- 'gemv' / small ---------------------------------------------------------------------------

const GEMV_WG = 256;

export function wgslGemv(mode: 'dot' | 'col', st: MatmulStorages, rank: number, uniforms: UniformStruct, epi?: Epilogue): ShaderSource {
  const t = st.a === 'i32' ? 'i32' : 'f32';
  const RK = mode === 'dot' ? 32 : 4, RO = GEMV_WG / RK;
  const map = mode === 'dot' ? `let kl = lid % ${RK}u; let ol = lid / ${RK}u;` : `let ol = lid % ${RO}u; let kl = lid / ${RO}u;`;
  const zero = t === 'f32' ? '0.0' : '0';
  return matmulShader({ layout: 'g', vec4: false }, { layout: 'g', vec4: false }, st, t, uniforms, `var<workgroup> red: array<${t}, ${GEMV_WG}>;
${wgslBatchBases(rank)}${epiBases(epi, rank)}
@compute @workgroup_size(${GEMV_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  ${map}
  let o = (wid.x + wid.y * nwg.x) * ${RO}u + ol;
  let bases = batch_bases(wid.z + u.zBase);
${epiInit(epi, 'wid.z + u.zBase')}  let live = o < u.M * u.N;
  let m = select(0u, o / u.N, live); let n = select(0u, o % u.N, live);
  var acc: ${t} = ${zero};
  if (live) {
    let pa = bases.x + m * u.saM; let pb = bases.y + n * u.sbN;
    for (var k = kl; k < u.K; k += ${RK}u) { acc += ldA(pa + k * u.saK) * ldB(pb + k * u.sbK); }
  }
  red[ol * ${RK}u + kl] = acc;
  workgroupBarrier();
  for (var s = ${RK / 2}u; s > 0u; s = s >> 1u) {
    if (kl < s) { red[ol * ${RK}u + kl] += red[ol * ${RK}u + kl + s]; }
    workgroupBarrier();
  }
  if (live && kl == 0u) { ${storeAt(epi, 'm', 'n', 'bases.z + m * u.soM + n * u.soN', `red[ol * ${RK}u]`)} }
}
`, epi);
}

// ---- split-K reduction -------------------------------------------------------------------------

export function wgslSplitReduce(rank: number, o: MatmulStorage, uniforms: UniformStruct): ShaderSource {
  // Partials are contiguous [S, batch, M, N]; out is addressed through its strides.
  let decode = '  var z = zz; var oo = u.offO;\n';
  for (let d = rank - 1; d >= 0; d--) decode += `  { let i = z % u.bs${d}; z = z / u.bs${d}; oo += i * u.bso${d}; }\n`;
  const so = o === 'i32' ? 'f32' : o;
  return shader([read('P', 'f32'), readWrite('O', halfElement(so, true)), uniform(uniforms)], `${wgslHalfHelpers([so])}${wgslStoreFn('stO', 'O', so)}@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  let mn = u.M * u.N;
  if (i >= mn) { return; }
  let zz = wid.z + u.zBase;
${decode}  let src = zz * mn + i;
  var s = 0.0;
  for (var p = 0u; p < u.splits; p += 1u) { s += P[src + p * u.splitStride]; }
  stO(oo + (i / u.N) * u.soM + (i % u.N) * u.soN, s);
}
`);
}

// ---- launcher ---------------------------------------------------------------------------------

function fold(count: number, max: number): [number, number] {
  if (count <= max) return [count, 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y];
}

/** Dispatches `zCount` batch slices in chunks of at most the per-dimension limit (zBase in the uniforms). */
function forZChunks(rt: WebGPURuntime, zCount: number, fn: (zBase: number, zn: number) => void): void {
  const max = maxWorkgroups(rt.limits);
  for (let z0 = 0; z0 < zCount; z0 += max) fn(z0, Math.min(max, zCount - z0));
}

const isFloat = (s: MatmulStorage | undefined): boolean => s === 'f32' || s === 'f16' || s === 'bf16';

/** The storage of each view, or a WebGPUDTypeError naming the dtypes (int32 takes all three int32). */
function storagesOf(a: View<GPUBuffer>, b: View<GPUBuffer>, out: View<GPUBuffer>): MatmulStorages {
  const st = { a: STORAGE_OF[a.dtype], b: STORAGE_OF[b.dtype], o: STORAGE_OF[out.dtype] };
  const ints = st.a === 'i32' && st.b === 'i32' && st.o === 'i32';
  if (!ints && !(isFloat(st.a) && isFloat(st.b) && isFloat(st.o))) {
    const f64 = [a, b, out].some((v) => v.dtype === 'float64');
    throw new WebGPUDTypeError(`matmul: the WebGPU backend multiplies float32/float16/bfloat16 operands (in any mix) or int32 operands, got ${a.dtype} @ ${b.dtype} → ${out.dtype}` +
      (f64 ? ' (WGSL has no f64; cast to float32 or use the cpu backend)' : ''));
  }
  return st as MatmulStorages;
}

/** Batched matmul of strided float32/float16/bfloat16 (or int32, via 'gemv') views; see the header. */
export function matmul(rt: WebGPURuntime, a: View<GPUBuffer>, b: View<GPUBuffer>, out: View<GPUBuffer>, opts: MatmulOptions = {}): void {
  launchMatmul(rt, a, b, out, opts, undefined);
}

/**
 * The matmul with `epi` storing its product (matmul_epilogue.ts); `out` gives the product's shape
 * and is not written. Returns false, launching nothing, where the variant chosen is 'splitk', whose
 * sums are complete only in its second pass.
 */
export function matmulWithEpilogue(rt: WebGPURuntime, a: View<GPUBuffer>, b: View<GPUBuffer>, out: View<GPUBuffer>, epi: Epilogue, opts: MatmulOptions = {}): boolean {
  return launchMatmul(rt, a, b, out, opts, epi);
}

function launchMatmul(rt: WebGPURuntime, a: View<GPUBuffer>, b: View<GPUBuffer>, out: View<GPUBuffer>, opts: MatmulOptions, epi: Epilogue | undefined): boolean {
  const st = storagesOf(a, b, out);
  const sk = storageKey(st);
  const p = analyze(a, b, out, epi?.views);
  if (p.M === 0 || p.N === 0 || p.batch === 0) return true;
  const rank = p.batchShape.length;
  let variant = opts.variant ?? (getMatmulVariant() !== 'auto' ? getMatmulVariant() as MatmulVariant : selectMatmulVariant(p, rt.info));
  if (st.a === 'i32' || p.K === 0) variant = 'gemv'; // gemv writes zeros for K == 0
  const epiKey = epi === undefined ? '' : `.epi.${epi.key}`;
  const buffers = epi === undefined ? [a.buffer, b.buffer, out.buffer] : [a.buffer, b.buffer, ...epi.buffers];
  const label = (l: string): string => (epi === undefined ? l : `${l}.epilogue`);
  const base = { offA: a.offset, offB: b.offset, offO: out.offset, kChunk: Math.max(p.K, 1), splits: 1, splitStride: 0, zBase: 0 };
  const max = maxWorkgroups(rt.limits);

  if (epi?.rowSums !== undefined && variant !== 'register' && !(variant === 'tiled' || (variant === 'splitk' && p.K <= TILE_SMALL.BK))) return false;
  if (variant === 'gemv') {
    // 'dot' when the operand that spans the outputs is contiguous along K (coalesced reads along K).
    const big = p.N === 1 && p.M > 1 ? p.saK : p.M === 1 && p.N > 1 ? p.sbK : p.M >= p.N ? p.saK : p.sbK;
    const mode = big === 1 && p.K >= 32 ? 'dot' : 'col';
    const RO = mode === 'dot' ? GEMV_WG / 32 : GEMV_WG / 4;
    const [x, y] = fold(Math.ceil((p.M * p.N) / RO), max);
    forZChunks(rt, p.batch, (zBase, zn) => {
      const u = uniformsFor(p, { ...base, zBase }, epi);
      const pipe = rt.pipeline(`matmul.gemv.${mode}.${sk}.r${rank}${epiKey}`, () => wgslGemv(mode, st, rank, u, epi));
      rt.dispatch(pipe, buffers, u.bytes(), [x, y, zn], label('matmul.gemv'));
    });
    return true;
  }

  const A = classify(a, p.saM, p.saK, p.bsa);
  const B = classify(b, p.sbN, p.sbK, p.bsb);
  const layoutKey = `${A.layout}${A.vec4 ? 4 : 1}${B.layout}${B.vec4 ? 4 : 1}.r${rank}.${sk}`;

  if (variant === 'register') {
    const pipeKey = `matmul.register.${layoutKey}${epiKey}`;
    const gx = Math.ceil(p.N / (4 * REG_WG[0])), gy = Math.ceil(p.M / (4 * REG_WG[1]));
    forZChunks(rt, p.batch, (zBase, zn) => {
      const u = uniformsFor(p, { ...base, zBase }, epi);
      const pipe = rt.pipeline(pipeKey, () => wgslRegister(A, B, st, rank, u, epi));
      rt.dispatch(pipe, buffers, u.bytes(), [gx, gy, zn], label('matmul.register'));
    });
    return true;
  }

  // The tiled kernel reads vec4 only along a contiguous m/n: drop the flag elsewhere (one pipeline fewer).
  const At: Operand = { layout: A.layout, vec4: A.vec4 && A.layout === 'o' };
  const Bt: Operand = { layout: B.layout, vec4: B.vec4 && B.layout === 'o' };
  const tiledLayoutKey = `${At.layout}${At.vec4 ? 4 : 1}${Bt.layout}${Bt.vec4 ? 4 : 1}.r${rank}`;
  const cfg = p.M >= 64 && p.N >= 64 ? TILE_LARGE : TILE_SMALL;
  const cfgKey = `${cfg.BM}x${cfg.BN}x${cfg.BK}`;
  const gx = Math.ceil(p.N / cfg.BN), gy = Math.ceil(p.M / cfg.BM);
  const tiledKey = `matmul.tiled.${cfgKey}.${tiledLayoutKey}.${sk}${epiKey}`;
  if (variant === 'tiled' || p.K <= cfg.BK) {
    forZChunks(rt, p.batch, (zBase, zn) => {
      const u = uniformsFor(p, { ...base, zBase }, epi);
      const pipe = rt.pipeline(tiledKey, () => wgslTiled(cfg, At, Bt, st, rank, u, epi));
      rt.dispatch(pipe, buffers, u.bytes(), [gx, gy, zn], label('matmul.tiled'));
    });
    return true;
  }
  if (epi !== undefined) return false;

  // 'splitk': enough slices to give ~64 workgroups, each slice a multiple of BK, at most 32 slices.
  const tiles = gx * gy * p.batch;
  let S = Math.min(32, Math.max(2, Math.ceil(64 / tiles)), Math.ceil(p.K / cfg.BK));
  const kChunk = Math.ceil(Math.ceil(p.K / S) / cfg.BK) * cfg.BK;
  S = Math.ceil(p.K / kChunk);
  const mn = p.M * p.N;
  const partial = rt.allocate(S * p.batch * mn * 4);
  // Pass 1 writes partial[s, batch, m, n] contiguously: out strides become the contiguous ones.
  const contiguous: Problem = { ...p, soM: p.N, soN: 1, bso: [] };
  let stride = mn;
  const bso = new Array<number>(rank);
  for (let d = rank - 1; d >= 0; d--) { bso[d] = stride; stride *= p.batchShape[d]!; }
  contiguous.bso = bso;
  const splitStride = p.batch * mn;
  const partialSt: MatmulStorages = { ...st, o: 'f32' };
  const partialKey = `matmul.tiled.${cfgKey}.${tiledLayoutKey}.${storageKey(partialSt)}`;
  forZChunks(rt, p.batch * S, (zBase, zn) => {
    const u = uniformsFor(contiguous, { ...base, offO: 0, kChunk, splits: S, splitStride, zBase });
    const pipe = rt.pipeline(partialKey, () => wgslTiled(cfg, At, Bt, partialSt, rank, u));
    rt.dispatch(pipe, [a.buffer, b.buffer, partial], u.bytes(), [gx, gy, zn], 'matmul.splitk');
  });
  const [rx, ry] = fold(Math.ceil(mn / 256), max);
  forZChunks(rt, p.batch, (zBase, zn) => {
    const u = uniformsFor(p, { ...base, kChunk, splits: S, splitStride, zBase });
    const pipe = rt.pipeline(`matmul.splitk_reduce.r${rank}.${st.o}`, () => wgslSplitReduce(rank, st.o, u));
    rt.dispatch(pipe, [partial, out.buffer], u.bytes(), [rx, ry, zn], 'matmul.splitk_reduce');
  });
  rt.release(partial);
  return true;
}
