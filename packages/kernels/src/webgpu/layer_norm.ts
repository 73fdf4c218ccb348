// Fused layerNorm over the last dimension D, forward and backward (Ba, Kiros & Hinton 2016).
//
// What (as cpu/layer_norm.ts and torch.nn.functional.layer_norm: biased variance), per row x:
//   μ = (1/D) Σ x_j,  σ² = (1/D) Σ (x_j − μ)²,  rstd = 1/√(σ² + eps)
//   x̂_j = (x_j − μ)·rstd,  y_j = x̂_j·w_j + b_j          (w = 1, b = 0 when null)
// and mean[r] = μ, rstd[r] = rstd are written for the backward. Backward, with x̂ recomputed from
// the saved mean/rstd and g_j = dy_j·w_j:
//   dx_j = rstd · (g_j − mean_k(g_k) − x̂_j · mean_k(g_k·x̂_k))
//   dweight_j = Σ_rows dy_j·x̂_j,   dbias_j = Σ_rows dy_j
// Arithmetic is f32. Forward and backward read and write each operand in float32, float16 or
// bfloat16 storage (a parameter of their WGSL and pipeline keys; converted to f32 on load, rounded
// to nearest-even on store; the column partials of dweight/dbias are f32); other dtypes throw a
// WebGPUDTypeError. The variance is computed
// in a second pass over (x − μ)², never as E[x²] − μ², so rows with a large mean keep their precision.
//
// Layout: x, out, dy, dx are [..., D] contiguous with any element offset (row r at offset + r·D);
// weight, bias, dweight, dbias are [D]; mean and rstd are [rows]. Operand preparation (snapshots
// of aliased inputs, temporaries for non-contiguous views) is softmax.ts's `rowOperands`.
//
// Forward: the row kernels' segments (see softmax.ts): TPR threads per row stride over it, and the
// reductions (Σx, then Σ(x−μ)²) go through workgroup memory. Whether weight/bias exist is a uniform
// flag (an absent one is bound to a buffer the shader never reads), so the kernel is one pipeline.
//
// Backward: at most two dispatches, deterministic, no atomics (but for bfloat16 stores).
//   Stage 1 (`layerNormBackward`) writes dx and partial column sums of dweight and dbias. Its
//   workgroups are the forward's: 256 threads = S = 256/TPR segments of TPR threads. Each segment
//   takes R rows per pass, s, S + s, …, (R − 1)·S + s of its workgroup's block of R·S consecutive
//   rows, R = 1, 2 or 4: the fewest that hold every row in one workgroup; beyond that 4 while it
//   leaves 128 workgroups (a GPU's worth), else 2. Per row, the lanes stride over it twice, as the
//   forward does: the first loop sums (g, g·x̂) for the row's statistics, rows 0 and 1 in one vec4
//   (.xy, .zw) and rows 2 and 3 in another, so one tree in workgroup memory (`seg_sum`, or
//   `seg_sum2` for two vec4s, log2 TPR barrier steps either way) serves all R rows; the second loop
//   writes dx. dweight/dbias need no row statistic, so their terms dy·x̂ and dy are taken in the
//   first loop, from values it loads anyway (the R rows' terms added together); where they go:
//   - 'regs', rows of at most 4·TPR (every row with the automatic TPR up to D = 1024): lane l meets
//     the same columns l + i·TPR (i < 4) in every row, so it adds the terms into two vec4 registers,
//     slot i for column l + i·TPR. After the pass the S segments' registers go to workgroup memory
//     and thread c sums column c over the segments (one barrier): one partial row per workgroup.
//   - 'segs', longer rows: the columns of a lane do not fit registers, so each segment writes its
//     terms straight into a partial row of its own (no cross-segment sum); with the automatic TPR
//     this is S = 1, one partial row per R rows of x.
//   The partial rows go to an f32 scratch buffer `part`, laid out [2, parts, D] (dweight's half,
//   then dbias's). Where one pass of one workgroup holds every row (rows ≤ 4S in 'regs', four
//   rows in 'segs' with S = 1), its sums are dweight and dbias themselves, stored in their own
//   dtype: one dispatch.
//   One pass per workgroup, and R rows per barrier: software adapters (lavapipe, SwiftShader) run
//   barriers as coroutine switches, pay for each, and pay heavily for a loop around them (the dx
//   kernel inside a loop of passes that ran once measured 1.8× slower on lavapipe; two rows per
//   tree made the backward a third faster, four another 10-15%). Only when the partials would pass
//   32 MiB (hundreds of millions of elements) does a workgroup loop over several passes, adding to
//   its registers or partial rows.
//   Stage 2 (`layerNormBackward.columnSum`) reduces the partial rows: a workgroup of 256 threads is
//   L lanes × 256/L consecutive columns of one half (so a warp reads consecutive floats of a
//   partial row, as many as L allows); lane k sums partial rows k, k + L, …, and a tree over the
//   lanes in workgroup memory ends it. L is the smallest power of two (≤ 256) giving each lane at
//   most 32 partials: a few serial loads per thread, and workgroups enough for many partial rows.
//   Summation orders depend only on the shape and TPR, never on timing. dx is computed exactly as
//   a dx-only kernel would (same loops, same order), with or without dweight/dbias.
//   Without dweight/dbias stage 1 runs alone, without the column terms.
//
// Backward with an addend (`layerNormBackwardAdd`, the residual path's gradient added to dx, as a
// transformer block's backward does right after its layerNorm's): stage 1's dx loop also stores
// out_j = dx_j + r_j, with dx_j first rounded to dx's storage (out's when dx is not written) and the
// f32 sum rounded to out's, so out has the bits of `layerNormBackward` followed by the `add`
// kernel. dx is stored only where the caller wants it. The rounding of an f32 dx goes through its
// bits xor a uniform zero, which keeps the driver from contracting dx's last multiply and the add
// into one fused multiply-add (the separate kernels round the product in between). r and out are
// [..., D] like dx (a strided or broadcast r is made contiguous first: rowOperands). out may be
// exactly x, dy or r (same buffer, offset and dtype, contiguous; a compiled step hands the add's
// out the buffer of the layerNorm's input, dead after the backward): that input is read through
// out's binding, and its binding gets another buffer it never reads. Each element of those is read
// only by the thread that stores out there, before it does (the row statistics are summed before
// the barrier that precedes the dx loop), so no snapshot is needed; other overlaps of out with an
// input read a snapshot (rowOperands).

import type { View } from '../types.js';
import { UniformStruct } from './kernel_args.js';
import { read, readWrite, shader, uniform, type ShaderSource, type StorageBinding } from './bindings.js';
import type { WebGPURuntime } from './runtime.js';
import { isContiguous, rowsOf } from '../geometry.js';
import { halfElement, wgslHalfHelpers, wgslLoadFn, wgslStoreFn } from './half_wgsl.js';
import { ROW_WG, rowOperands, rowStorage, rowThreads, rowWorkgroups, WGSL_ROW_MAIN, WGSL_ROWS, type RowStorage } from './softmax.js';
import { splitWorkgroups, WGSL_LINEAR_WORKGROUP } from './workgroups.js';

/** Bytes of partial sums beyond which a stage-1 workgroup takes several passes of rows. */
const MAX_PART_BYTES = 32 << 20;
let partLimit = MAX_PART_BYTES;

/**
 * Sets the bytes of partial column sums beyond which the layerNorm backward's workgroups take
 * several passes of rows (32 MiB), or restores it with null. For tests, which reach the multi-pass
 * blocks on small inputs.
 */
export function setLayerNormPartialLimit(bytes: number | null): void {
  if (bytes !== null && !(Number.isInteger(bytes) && bytes >= 1)) throw new RangeError(`setLayerNormPartialLimit: ${bytes} is not a positive integer`);
  partLimit = bytes ?? MAX_PART_BYTES;
}
/** Stage-1 workgroups that four rows per segment must leave (a GPU's worth); fewer take two rows per segment. */
const QUAD_MIN_WORKGROUPS = 128;
/** Stage 2's workgroup size, and the most lanes it gives one column. */
const SUM_WG = 256, SUM_MAX_LANES = 256;

/** Storage of the forward's x, weight, bias, out, mean, rstd (an absent weight/bias takes x's: it is bound to x's buffer). */
type ForwardStorages = readonly [RowStorage, RowStorage, RowStorage, RowStorage, RowStorage, RowStorage];
const FORWARD_NAMES = ['x', 'weight', 'bias', 'out', 'mean', 'rstd'] as const;

function wgslForward(u: UniformStruct, st: ForwardStorages): ShaderSource {
  // ld_<name>(i) → f32 for the inputs, st_<name>(i, v) for the outputs.
  const access = FORWARD_NAMES.map((n, k) => (k < 3 ? wgslLoadFn(`ld_${n}`, n, st[k]!) : wgslStoreFn(`st_${n}`, n, st[k]!))).join('');
  return shader([
    ...FORWARD_NAMES.slice(0, 3).map((n, k) => read(n, halfElement(st[k]!, false))),
    ...FORWARD_NAMES.slice(3).map((n, k) => readWrite(n, halfElement(st[k + 3]!, true))), uniform(u),
  ], `${wgslHalfHelpers(st)}${access}
${WGSL_ROWS}
${WGSL_ROW_MAIN}
  let xb = u.off_x + s.row * u.d;
  let ob = u.off_out + s.row * u.d;
  var acc = 0.0;
  for (var j = s.lane; j < n; j += u.tpr) { acc += ld_x(xb + j); }
  let mu = seg_sum(s, vec4<f32>(acc, 0.0, 0.0, 0.0)).x / f32(u.d);
  acc = 0.0;
  for (var j = s.lane; j < n; j += u.tpr) { let c = ld_x(xb + j) - mu; acc += c * c; }
  let variance = seg_sum(s, vec4<f32>(acc, 0.0, 0.0, 0.0)).x / f32(u.d);
  let rs = 1.0 / sqrt(variance + u.eps);
  if (s.live && s.lane == 0u) {
    st_mean(u.off_mean + s.row, mu);
    st_rstd(u.off_rstd + s.row, rs);
  }
  for (var j = s.lane; j < n; j += u.tpr) {
    var w = 1.0; var b = 0.0;
    if (u.has_w != 0u) { w = ld_weight(u.off_w + j); }
    if (u.has_b != 0u) { b = ld_bias(u.off_b + j); }
    st_out(ob + j, (ld_x(xb + j) - mu) * rs * w + b);
  }
}
`);
}

export function layerNorm(rt: WebGPURuntime, x: View<GPUBuffer>, weight: View<GPUBuffer> | null, bias: View<GPUBuffer> | null,
  eps: number, out: View<GPUBuffer>, mean: View<GPUBuffer>, rstd: View<GPUBuffer>): void {
  const op = 'layerNorm';
  const sx = rowStorage(op, 'x', x.dtype);
  const st = [x, weight, bias, out, mean, rstd].map((v, k) => (v ? rowStorage(op, FORWARD_NAMES[k]!, v.dtype) : sx)) as unknown as ForwardStorages;
  const { rows, cols: D } = rowsOf(x.shape);
  if (rows === 0) return;
  const tpr = rowThreads(D);
  const { ins: [xi, wi, bi], outs: [oo, mo, ro], finish } = rowOperands(rt, [x, weight, bias], [out, mean, rstd]);
  const u = new UniformStruct().u32('rows', rows).u32('d', D).u32('tpr', tpr).f32('eps', eps)
    .u32('has_w', wi ? 1 : 0).u32('has_b', bi ? 1 : 0)
    .u32('off_x', xi!.offset).u32('off_w', wi?.offset ?? 0).u32('off_b', bi?.offset ?? 0)
    .u32('off_out', oo!.offset).u32('off_mean', mo!.offset).u32('off_rstd', ro!.offset);
  const p = rt.pipeline(`rows.layerNorm.${st.join('.')}`, () => wgslForward(u, st));
  // An absent weight or bias is bound to x's buffer (read-only twice is allowed; never read).
  rt.dispatch(p, [xi!.buffer, (wi ?? xi!).buffer, (bi ?? xi!).buffer, oo!.buffer, mo!.buffer, ro!.buffer], u.bytes(),
    rowWorkgroups(rows, tpr), op);
  finish();
}

/** Storage of the backward's x, weight, mean, rstd, dy, dx (an absent weight takes x's: it is bound to x's buffer). */
type BackwardStorages = readonly [RowStorage, RowStorage, RowStorage, RowStorage, RowStorage, RowStorage];
const BACKWARD_NAMES = ['x', 'weight', 'mean', 'rstd', 'dy', 'dx'] as const;

/** Storages of dweight and dbias; null: not wanted. */
interface GradStorages { dw: RowStorage | null; db: RowStorage | null }

/** What stage 1 does with a block's column sums: nothing (no dweight/dbias), partials to `part`, or dweight/dbias directly. */
type ColumnSums = 'none' | 'partials' | 'direct';

/** The bindings of dweight/dbias (those wanted) and their stores `st_dw(i, v)`, `st_db(i, v)`. */
function gradOutputs(g: GradStorages): { entries: StorageBinding[]; access: string; helpers: string } {
  const entries: StorageBinding[] = [];
  let access = '';
  if (g.dw) { entries.push(readWrite('dweight', halfElement(g.dw, true))); access += wgslStoreFn('st_dw', 'dweight', g.dw); }
  if (g.db) { entries.push(readWrite('dbias', halfElement(g.db, true))); access += wgslStoreFn('st_db', 'dbias', g.db); }
  return { entries, access, helpers: wgslHalfHelpers([g.dw, g.db].filter((v) => v !== null)) };
}

/** WGSL statements storing `w` into dweight and `b` into dbias at element `j` (the wanted ones). */
function storeGrads(g: GradStorages, j: string, w: string, b: string): string {
  return (g.dw ? `st_dw(u.off_dw + ${j}, ${w}); ` : '') + (g.db ? `st_db(u.off_db + ${j}, ${b}); ` : '');
}

/** Where stage 1 keeps the column terms (see the header): 'regs' for rows of at most 4·TPR, 'segs' beyond. */
type ColumnMap = 'regs' | 'segs';

/** Rows each segment takes per pass. */
type RowsPerSeg = 1 | 2 | 4;

/** The addend of `layerNormBackwardAdd`: storages of r and out, whether dx is stored too, and the inputs read through out's binding. */
interface AddStorages { r: RowStorage; out: RowStorage; dx: boolean; viaOut: ReadonlySet<'x' | 'dy' | 'r'> }

/** WGSL: `fn round_dx(v: f32) -> f32`, v rounded to dx's storage `s` (see the header for f32's xor). */
function wgslRoundDx(s: RowStorage): string {
  const v = s === 'f16' ? 'half_to_f32(f32_to_half(v))' : s === 'bf16' ? 'bitcast<f32>(f32_to_bf16(v) << 16u)' : 'bitcast<f32>(bitcast<u32>(v) ^ u.zero)';
  return `fn round_dx(v: f32) -> f32 { return ${v}; }\n`;
}

function wgslBackward(u: UniformStruct, st: BackwardStorages, sums: ColumnSums, cols: ColumnMap, rowsPerSeg: RowsPerSeg, loop: boolean, g: GradStorages,
  plus: AddStorages | null = null): ShaderSource {
  // Without an addend dx is always stored; with one, after r and before out, where wanted.
  const writeDx = plus === null || plus.dx;
  const entries = [
    ...BACKWARD_NAMES.slice(0, 5).map((n, k) => read(n, halfElement(st[k]!, false))),
    ...(plus === null ? [] : [read('r', halfElement(plus.r, false))]),
    ...(writeDx ? [readWrite('dx', halfElement(st[5]!, true))] : []),
    ...(plus === null ? [] : [readWrite('out', halfElement(plus.out, true))]),
  ];
  // ld_<name>; an input that is exactly out is read from out's binding (atomic for bf16).
  const load = (n: string, s: RowStorage): string =>
    (plus !== null && plus.viaOut.has(n as 'x') ? wgslLoadFn(`ld_${n}`, 'out', plus.out, true) : wgslLoadFn(`ld_${n}`, n, s));
  const access = BACKWARD_NAMES.map((n, k) => (k === 5 ? (writeDx ? wgslStoreFn('st_dx', 'dx', st[k]!) : '') : load(n, st[k]!))).join('') +
    (plus === null ? '' : load('r', plus.r) + wgslStoreFn('st_out', 'out', plus.out) + wgslRoundDx(st[5]!));
  const out = gradOutputs(g);
  const extra = sums === 'partials' ? [readWrite('part', 'f32')] : sums === 'direct' ? out.entries : [];
  const helpers = wgslHalfHelpers([...st, ...(sums === 'direct' ? [g.dw, g.db].filter((v) => v !== null) : []), ...(plus === null ? [] : [plus.r, plus.out])]);
  const col = sums !== 'none';
  const R = rowsPerSeg;
  const more = [1, 2, 3].filter((k) => k < R);   // the segment's rows after its first
  // emit(k, j, w, b): the sums (w, b) of column j of partial row k: into `part` ([2, parts, D]), or
  // (a single partial row) into dweight/dbias. add(k, j, w, b) adds to them ('segs', later passes).
  const emit = !col ? '' : sums === 'partials' ? 'part[k * u.d + j] = w; part[(u.parts + k) * u.d + j] = b;' : storeGrads(g, 'j', 'w', 'b');
  const add = sums === 'partials' ? 'part[k * u.d + j] += w; part[(u.parts + k) * u.d + j] += b;' : '';
  // The terms of element j: of the segment's first row (g, g·x̂ and dy·x̂, dy), and of its row k
  // in e<k> (zeros when it does not exist), so that one tree gives every row's statistics:
  // acc = (row 0, row 1) and acc2 = (row 2, row 3), each row's (Σg, Σg·x̂).
  const terms = `      let dyv = ld_dy(gb + j);
      let xh = (ld_x(xb + j) - mu) * rs;
      let wj = weight_at(j);
      let g = dyv * wj;${more.map((k) => `
      var e${k} = vec4<f32>(0.0);   // (g, g·x̂, dy·x̂, dy) of row ${k}
      if (live${k}) {
        let dy_ = ld_dy(gb${k} + j);
        let xh_ = (ld_x(xb${k} + j) - mu${k}) * rs${k};
        let g_ = dy_ * wj;
        e${k} = vec4<f32>(g_, g_ * xh_, dy_ * xh_, dy_);
      }`).join('')}
      acc += vec4<f32>(g, g * xh, ${R > 1 ? 'e1.x, e1.y' : '0.0, 0.0'});${R > 2 ? `
      acc2 += vec4<f32>(e2.x, e2.y, e3.x, e3.y);` : ''}`;
  const wTerm = ['dyv * xh', ...more.map((k) => `e${k}.z`)].join(' + '), bTerm = ['dyv', ...more.map((k) => `e${k}.w`)].join(' + ');
  // dx of element j; with an addend, out = round(dx) + r at the element's place in r and out.
  const dxStore = (k: string) => plus === null ? 'st_dx(ob' + k + ' + j, v);' : `${writeDx ? `st_dx(ob${k} + j, v);
      ` : ''}let q = ob${k} - u.off_dx + j;
      st_out(u.off_o + q, round_dx(v) + ld_r(u.off_r + q));`;
  const dxLoop = (k: number, t: string) => `    for (var j = lane; j < n${k || ''}; j += u.tpr) {
      let xh = (ld_x(xb${k || ''} + j) - mu${k || ''}) * rs${k || ''};
      let v = rs${k || ''} * (ld_dy(gb${k || ''} + j) * weight_at(j) - ${t}.x - xh * ${t}.y);
      ${dxStore(k ? String(k) : '')}
    }`;
  const write = [dxLoop(0, 't'), ...more.map((k) => dxLoop(k, ['', 't.zw', 't2.xy', 't2.zw'][k]!))].join('\n');
  const rowVars = (k: number) => `
    let row${k} = r0 + p + ${k}u * segs + seg;
    let live${k} = p + ${k}u * segs + seg < nr;
    let n${k} = select(0u, u.d, live${k});
    let r${k} = min(row${k}, u.rows - 1u);
    let mu${k} = ld_mean(u.off_mean + r${k});
    let rs${k} = ld_rstd(u.off_rstd + r${k});
    let xb${k} = u.off_x + row${k} * u.d;
    let gb${k} = u.off_dy + row${k} * u.d;
    let ob${k} = u.off_dx + row${k} * u.d;`;
  const regs = {
    before: `  let cols = vec4<u32>(lane) + vec4<u32>(0u, 1u, 2u, 3u) * u.tpr;   // the lane's columns
  var aw = vec4<f32>(0.0);   // Σ dy·x̂ of the lane's columns over its segment's rows
  var ab = vec4<f32>(0.0);   // Σ dy`,
    // The first row loop unrolled: lane l has at most four columns, met in the loop's order.
    sums: [0, 1, 2, 3].map((i) => `    if (cols[${i}] < n) {
      let j = cols[${i}];
${terms}${col ? `
      aw[${i}] += ${wTerm};
      ab[${i}] += ${bTerm};` : ''}
    }`).join('\n'),
    // Column c of the block (lane c mod TPR, slot c / TPR): Σ over the segments, in segment order.
    after: !col ? '' : `  red[lid] = aw;
  red2[lid] = ab;
  workgroupBarrier();
  for (var c = lid; c < min(4u * u.tpr, u.d); c += ROW_WG) {
    let l = c % u.tpr;
    let i = c / u.tpr;
    var w = 0.0;
    var b = 0.0;
    for (var q = 0u; q < segs; q++) { w += red[q * u.tpr + l][i]; b += red2[q * u.tpr + l][i]; }
    emit(wg, c, w, b);
  }`,
  };
  const segs = {
    before: '  let k = wg * segs + seg;   // this segment\'s partial row',
    sums: `    for (var j = lane; j < n; j += u.tpr) {
${terms}${col ? `
      if (p == 0u) { emit(k, j, ${wTerm}, ${bTerm}); } else { add(k, j, ${wTerm}, ${bTerm}); }` : ''}
    }`,
    // A segment without a row in this block still owns its partial row: zeros.
    after: !col ? '' : `  if (seg >= nr) {
    for (var j = lane; j < u.d; j += u.tpr) { emit(k, j, 0.0, 0.0); }
  }`,
  };
  const m = cols === 'regs' ? regs : segs;
  return shader([...entries, ...extra, uniform(u)], `${helpers}${access}${sums === 'direct' ? out.access : ''}
${WGSL_ROWS}
var<workgroup> red2: array<vec4<f32>, ROW_WG>;
// seg_sum of two vec4s at once (the same tree, so each component is summed in seg_sum's order).
fn seg_sum2(s: Seg, a: vec4<f32>, b: vec4<f32>) -> array<vec4<f32>, 2> {
  red[s.lid] = a;
  red2[s.lid] = b;
  workgroupBarrier();
  for (var k = u.tpr >> 1u; k > 0u; k = k >> 1u) {
    if (s.lane < k) {
      red[s.lid] = red[s.lid] + red[s.lid + k];
      red2[s.lid] = red2[s.lid] + red2[s.lid + k];
    }
    workgroupBarrier();
  }
  let r = array<vec4<f32>, 2>(red[s.lid - s.lane], red2[s.lid - s.lane]);
  workgroupBarrier();
  return r;
}
fn weight_at(j: u32) -> f32 { return select(1.0, ld_weight(u.off_w + min(j, u.d - 1u)), u.has_w != 0u); }
fn emit(k: u32, j: u32, w: f32, b: f32) { ${emit} }
fn add(k: u32, j: u32, w: f32, b: f32) { ${add} }
@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let wg = linear_workgroup(wid, nwg);
  if (wg >= u.chunks) { return; }
  let segs = ROW_WG / u.tpr;
  let seg = lid / u.tpr;
  let lane = lid % u.tpr;
  let r0 = wg * u.block;
  let nr = min(u.block, u.rows - r0);   // rows of this block (0 only when there are no rows)
${m.before}
  // Passes over the block: segment s takes rows p + s${more.map((k) => `, p + ${k}S + s`).join('')}; its lanes sum (g, g·x̂) over them, then write dx.
  ${loop ? `for (var p = 0u; p < nr; p += ${R}u * segs) {` : '{ let p = 0u;   // one pass (a loop around the barriers costs software adapters dearly)'}
    let s = Seg(lid, lane, r0 + p + seg, p + seg < nr);
    let n = select(0u, u.d, s.live);
    let r = min(s.row, u.rows - 1u);
    let mu = ld_mean(u.off_mean + r);
    let rs = ld_rstd(u.off_rstd + r);
    let xb = u.off_x + s.row * u.d;
    let gb = u.off_dy + s.row * u.d;
    let ob = u.off_dx + s.row * u.d;${more.map(rowVars).join('')}
    var acc = vec4<f32>(0.0);${R > 2 ? `
    var acc2 = vec4<f32>(0.0);` : ''}
${m.sums}
${R > 2 ? `    let tt = seg_sum2(s, acc, acc2);
    let t = tt[0] / f32(u.d);    // (mean g, mean g·x̂) of rows 0 and 1
    let t2 = tt[1] / f32(u.d);   // of rows 2 and 3` : `    let t = seg_sum(s, acc) / f32(u.d);   // (mean g, mean g·x̂) of row 0${R > 1 ? ', then of row 1' : ''}`}
${write}
  }
${m.after}
}
`);
}

function wgslColumnSum(u: UniformStruct, g: GradStorages): ShaderSource {
  const out = gradOutputs(g);
  // Half 0 is dweight, half 1 dbias; with one of them wanted, every workgroup stores that one.
  const store = g.dw && g.db ? 'if (half == 0u) { st_dw(u.off_dw + c, total); } else { st_db(u.off_db + c, total); }' : storeGrads(g, 'c', 'total', 'total');
  return shader([read('part', 'f32'), ...out.entries, uniform(u)], `${out.helpers}${out.access}
${WGSL_LINEAR_WORKGROUP}
var<workgroup> sums: array<f32, ${SUM_WG}>;
// Workgroup (half, block of ${SUM_WG} / L columns), L = u.lanes: lane k of column c sums part[half, k + L·i, c]; a tree over the lanes ends it.
@compute @workgroup_size(${SUM_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let wg = linear_workgroup(wid, nwg);
  if (wg >= u.blocks * u.halves) { return; }
  let half = u.first_half + wg / u.blocks;
  let width = ${SUM_WG}u / u.lanes;
  let c = (wg % u.blocks) * width + lid % width;
  let lane = lid / width;
  var total = 0.0;
  if (c < u.d) {
    let base = half * u.parts * u.d + c;
    for (var k = lane; k < u.parts; k += u.lanes) { total += part[base + k * u.d]; }
  }
  if (u.lanes > 1u) {
    sums[lid] = total;
    workgroupBarrier();
    for (var k = u.lanes >> 1u; k > 0u; k = k >> 1u) {
      if (lane < k) { sums[lid] = sums[lid] + sums[lid + k * width]; }
      workgroupBarrier();
    }
    total = sums[lid];
  }
  if (lane == 0u && c < u.d) { ${store} }
}
`);
}

/**
 * Rows per segment and pass (the fewest of 1, 2, 4 that hold every row in one workgroup's pass;
 * beyond, 4 while that leaves QUAD_MIN_WORKGROUPS workgroups, else 2), passes per stage-1 block,
 * the number of blocks (workgroups), and the partial rows they write (see the header).
 */
function backwardBlocks(rows: number, D: number, segs: number, cols: ColumnMap, sums: boolean):
  { rowsPerSeg: RowsPerSeg; passes: number; chunks: number; parts: number } {
  const rowsPerSeg: RowsPerSeg = rows <= segs ? 1 : rows <= 2 * segs ? 2 : rows <= 4 * segs || rows >= 4 * segs * QUAD_MIN_WORKGROUPS ? 4 : 2;
  const perPass = segs * rowsPerSeg;
  const partRows = !sums ? 0 : cols === 'regs' ? 1 : segs;   // per block
  const passes = Math.max(1, Math.ceil((Math.ceil(rows / perPass) * partRows * D * 8) / partLimit));
  const chunks = sums ? Math.max(1, Math.ceil(rows / (perPass * passes))) : Math.ceil(rows / perPass);
  return { rowsPerSeg, passes, chunks, parts: chunks * partRows };
}

export function layerNormBackward(rt: WebGPURuntime, x: View<GPUBuffer>, weight: View<GPUBuffer> | null, mean: View<GPUBuffer>,
  rstd: View<GPUBuffer>, dy: View<GPUBuffer>, dx: View<GPUBuffer>, dweight: View<GPUBuffer> | null, dbias: View<GPUBuffer> | null): void {
  backward(rt, 'layerNormBackward', x, weight, mean, rstd, dy, dx, dweight, dbias, null);
}

/**
 * `layerNormBackward` with the residual gradient r added: out = dx + r, bit for bit as
 * `layerNormBackward` then the `add` kernel (dx rounded to its dtype, or out's when dx is null,
 * then the f32 sum rounded to out's); dx is stored only when given. r and out have x's shape (r
 * any strides), in float32, float16 or bfloat16 storage.
 */
export function layerNormBackwardAdd(rt: WebGPURuntime, x: View<GPUBuffer>, weight: View<GPUBuffer> | null, mean: View<GPUBuffer>,
  rstd: View<GPUBuffer>, dy: View<GPUBuffer>, r: View<GPUBuffer>, out: View<GPUBuffer>, dx: View<GPUBuffer> | null,
  dweight: View<GPUBuffer> | null, dbias: View<GPUBuffer> | null): void {
  const op = 'layerNormBackwardAdd';
  for (const [name, v] of [['r', r], ['out', out], ['dx', dx]] as const) {
    if (v !== null && (v.shape.length !== x.shape.length || v.shape.some((d, i) => d !== x.shape[i]))) {
      throw new RangeError(`${op}: ${name} has shape [${v.shape.join(', ')}], x has [${x.shape.join(', ')}]; they must be equal`);
    }
  }
  backward(rt, op, x, weight, mean, rstd, dy, dx, dweight, dbias, { r, out });
}

function backward(rt: WebGPURuntime, op: string, x: View<GPUBuffer>, weight: View<GPUBuffer> | null, mean: View<GPUBuffer>,
  rstd: View<GPUBuffer>, dy: View<GPUBuffer>, dx: View<GPUBuffer> | null, dweight: View<GPUBuffer> | null, dbias: View<GPUBuffer> | null,
  addend: { r: View<GPUBuffer>; out: View<GPUBuffer> } | null): void {
  const sx = rowStorage(op, 'x', x.dtype);
  // dx's storage, which the addend's sum rounds dx to: out's where dx is not stored.
  const dxv = dx ?? addend!.out;
  const st = [x, weight, mean, rstd, dy, dxv].map((v, k) => (v ? rowStorage(op, BACKWARD_NAMES[k]!, v.dtype) : sx)) as unknown as BackwardStorages;
  const g: GradStorages = { dw: dweight ? rowStorage(op, 'dweight', dweight.dtype) : null, db: dbias ? rowStorage(op, 'dbias', dbias.dtype) : null };
  // Inputs that are exactly out (see the header); out must be bound itself (no other output in its buffer).
  const o = addend?.out ?? null;
  const isOut = (v: View<GPUBuffer>): boolean => o !== null && v.buffer === o.buffer && v.offset === o.offset && v.dtype === o.dtype &&
    isContiguous(v) && isContiguous(o) && ![dx, dweight, dbias].some((w) => w !== null && w.buffer === o.buffer);
  const viaOut = new Set((['x', 'dy', 'r'] as const).filter((n) => addend !== null && isOut(n === 'x' ? x : n === 'dy' ? dy : addend.r)));
  const add: AddStorages | null = addend === null ? null
    : { r: rowStorage(op, 'r', addend.r.dtype), out: rowStorage(op, 'out', addend.out.dtype), dx: dx !== null, viaOut };
  const { rows, cols: D } = rowsOf(x.shape);
  const { ins: [xr, wi, mi, ri, gr, ar], outs: [dxo, dwo, dbo, oo], finish } = rowOperands(rt,
    [viaOut.has('x') ? null : x, weight, mean, rstd, viaOut.has('dy') ? null : dy, addend === null || viaOut.has('r') ? null : addend.r],
    [dx, dweight, dbias, o]);
  // An input read through out keeps out's offset; its own binding gets mean's buffer (never read).
  const [xi, gi, ai] = [xr, gr, ar].map((v) => v ?? (oo === null ? null : { buffer: mi!.buffer, offset: oo.offset }));
  const wantSums = dwo !== null || dbo !== null;
  if (D > 0 && (rows > 0 || wantSums)) {
    const tpr = rowThreads(D), segs = ROW_WG / tpr;
    const cols: ColumnMap = D <= 4 * tpr ? 'regs' : 'segs';
    const { rowsPerSeg, passes, chunks, parts } = backwardBlocks(rows, D, segs, cols, wantSums);
    const sums: ColumnSums = !wantSums ? 'none' : parts === 1 && passes === 1 ? 'direct' : 'partials';
    const u = new UniformStruct().u32('rows', rows).u32('d', D).u32('tpr', tpr).u32('has_w', wi ? 1 : 0)
      .u32('block', segs * rowsPerSeg * passes).u32('chunks', chunks).u32('parts', parts)
      .u32('off_x', xi!.offset).u32('off_w', wi?.offset ?? 0).u32('off_mean', mi!.offset).u32('off_rstd', ri!.offset)
      .u32('off_dy', gi!.offset).u32('off_dx', dxo?.offset ?? 0).u32('off_dw', dwo?.offset ?? 0).u32('off_db', dbo?.offset ?? 0);
    if (add !== null) u.u32('off_r', ai!.offset).u32('off_o', oo!.offset).u32('zero', 0);
    const gKey = `${g.dw ?? '-'}.${g.db ?? '-'}`;
    const addKey = add === null ? '' : `.add.${add.r}.${add.out}${add.dx ? '' : '.nodx'}${[...viaOut].map((n) => `.${n}=out`).join('')}`;
    const key = `rows.layerNormBackward.${cols}.${sums}.r${rowsPerSeg}${passes > 1 ? '.loop' : ''}.${st.join('.')}${sums === 'direct' ? `.${gKey}` : ''}${addKey}`;
    const p = rt.pipeline(key, () => wgslBackward(u, st, sums, cols, rowsPerSeg, passes > 1, g, add));
    const bound = [xi!.buffer, (wi ?? xi!).buffer, mi!.buffer, ri!.buffer, gi!.buffer,
      ...(add === null ? [dxo!.buffer] : [ai!.buffer, ...(dxo === null ? [] : [dxo.buffer]), oo!.buffer])];
    const outs = [dwo, dbo].filter((o) => o !== null).map((o) => o.buffer);
    if (sums !== 'partials') {
      rt.dispatch(p, sums === 'direct' ? [...bound, ...outs] : bound, u.bytes(), splitWorkgroups(chunks), op);
    } else {
      const part = rt.allocate(2 * parts * D * 4);
      rt.dispatch(p, [...bound, part], u.bytes(), splitWorkgroups(chunks), op);
      // Stage 2: L lanes per column, enough that each sums at most 32 partials (L ≤ 256).
      let lanes = 1;
      while (lanes < SUM_MAX_LANES && parts > 32 * lanes) lanes *= 2;
      const blocks = Math.ceil(D / (SUM_WG / lanes)), halves = outs.length;
      const u2 = new UniformStruct().u32('d', D).u32('parts', parts).u32('lanes', lanes).u32('blocks', blocks).u32('halves', halves)
        .u32('first_half', dwo ? 0 : 1).u32('off_dw', dwo?.offset ?? 0).u32('off_db', dbo?.offset ?? 0);
      const p2 = rt.pipeline(`rows.layerNormBackward.columnSum.${gKey}`, () => wgslColumnSum(u2, g));
      rt.dispatch(p2, [part, ...outs], u2.bytes(), splitWorkgroups(blocks * halves), `layerNormBackward.columnSum`);
      rt.release(part);
    }
  }
  finish();
}
