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
//   Stage 1 (`layerNormBackward`) writes dx and, per workgroup, the partial column sums of dweight
//   and dbias. A workgroup of 256 threads is S = 256/TPR segments of TPR threads (TPR as in the
//   forward) and owns a block of RW consecutive rows (RW a multiple of S, at most 256):
//     phase 1, row statistics: segment s takes rows s, s + S, … of the block; its lanes stride over
//       the row summing (g, g·x̂), and the row's (mean g, mean g·x̂) goes to workgroup memory;
//     phase 2, columns: the columns are cut into tiles of 4·TPR; in a tile, lane l owns the four
//       columns c0 + l + i·TPR (i < 4), which keep the coalesced order of the row loops. Segment s
//       again takes rows s, s + S, …: it writes dx of its four columns and adds dy·x̂ and dy to two
//       vec4 accumulators in registers. At the end of the tile the S segments' accumulators are
//       summed in workgroup memory (log2 S barrier steps) and segment 0 writes the block's sums.
//   With the automatic TPR (≤ 4 elements per thread) a row of up to 1024 columns is one tile, so
//   phase 2 is the row loop of a plain dx kernel with the column sums riding along; wider rows
//   (and a forced TPR) take several tiles, each re-reading the block's rows.
//   The block's sums go to a scratch buffer `part` laid out [2, chunks, D] (dweight's half, then
//   dbias's), f32. When one workgroup holds every row (chunks = 1) they are dweight and dbias
//   themselves, written in their own storage, and the backward is one dispatch.
//   Stage 2 (`layerNormBackward.columnSum`) reduces the partials: a workgroup of 256 threads is 8
//   lanes × 32 consecutive columns of one half (so a warp reads 32 consecutive floats of a chunk);
//   lane k sums chunks k, k + 8, …, then a 3-step tree in workgroup memory gives the column's total.
//   RW is chosen per call: S rows (one pass) while that gives ≤ 256 workgroups, more rows per
//   workgroup beyond (so stage 2 sums ≤ ~256 partials per column until RW reaches 256), at least 4
//   (the partials are then at most half the size of dy in f32), and every row in one workgroup
//   when rows·D ≤ 8192. The summation order depends only on the shape, never on timing.
//   Without dweight/dbias, stage 1 alone runs with RW = S and no partials.

import type { View } from '../types.js';
import { UniformStruct } from './kernel_args.js';
import { read, readWrite, shader, uniform, type ShaderSource, type StorageBinding } from './bindings.js';
import type { WebGPURuntime } from './runtime.js';
import { rowsOf } from '../geometry.js';
import { halfElement, wgslHalfHelpers, wgslLoadFn, wgslStoreFn } from './half_wgsl.js';
import { ROW_WG, rowOperands, rowStorage, rowThreads, rowWorkgroups, WGSL_ROW_MAIN, WGSL_ROWS, type RowStorage } from './softmax.js';
import { splitWorkgroups, WGSL_LINEAR_WORKGROUP } from './workgroups.js';

/** Most rows one backward workgroup takes (its workgroup array of row statistics). */
const MAX_BLOCK_ROWS = 256;
/** Workgroups the backward's stage 1 is cut into, at most, before its blocks grow past one pass. */
const TARGET_BLOCKS = 256;
/** Fewest rows of a stage-1 block when dweight/dbias are wanted. */
const MIN_BLOCK_ROWS = 4;
/** rows·D up to which one workgroup takes every row and writes dweight/dbias itself (one dispatch). */
const ONE_BLOCK_WORK = 8192;
/** Stage 2's workgroup: SUM_LANES lanes over the chunks × SUM_COLS consecutive columns. */
const SUM_COLS = 32, SUM_LANES = 8;

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

function wgslBackward(u: UniformStruct, st: BackwardStorages, sums: ColumnSums, g: GradStorages): ShaderSource {
  const entries = BACKWARD_NAMES.map((n, k) => (k === 5 ? readWrite : read)(n, halfElement(st[k]!, k === 5)));
  const access = BACKWARD_NAMES.map((n, k) => (k === 5 ? wgslStoreFn('st_dx', 'dx', st[k]!) : wgslLoadFn(`ld_${n}`, n, st[k]!))).join('');
  const out = gradOutputs(g);
  const extra = sums === 'partials' ? [readWrite('part', 'f32')] : sums === 'direct' ? out.entries : [];
  // Column sums (w, b) of column j: to the block's row of each half of `part`, or to dweight/dbias.
  const emit = sums === 'partials' ? 'part[wg * u.d + j] = w; part[(u.chunks + wg) * u.d + j] = b;' : storeGrads(g, 'j', 'w', 'b');
  const lanes = ['x', 'y', 'z', 'w'];
  // Phase 2's work on column i of the tile (j = c0 + lane + i·TPR) for one row.
  const column = (i: number) => {
    const c = lanes[i]!;
    return `    if (j${i} < u.d) {
      let dyv = ld_dy(gb + j${i});
      let xh = (ld_x(xb + j${i}) - mu) * rs;
      st_dx(ob + j${i}, rs * (dyv * wt.${c} - t.x - xh * t.y));${sums === 'none' ? '' : `
      aw.${c} += dyv * xh; ab.${c} += dyv;`}
    }`;
  };
  const helpers = wgslHalfHelpers([...st, ...(sums === 'direct' ? [g.dw, g.db].filter((v) => v !== null) : [])]);
  return shader([...entries, ...extra, uniform(u)], `${helpers}${access}${sums === 'direct' ? out.access : ''}
${WGSL_ROWS}
var<workgroup> red_b: array<vec4<f32>, ROW_WG>;
var<workgroup> stat: array<vec2<f32>, ${MAX_BLOCK_ROWS}>;   // (mean g, mean g·x̂) of each row of the block
fn weight_at(j: u32) -> f32 { return select(1.0, ld_weight(u.off_w + min(j, u.d - 1u)), u.has_w != 0u); }
fn emit(wg: u32, j: u32, w: f32, b: f32) { ${sums === 'none' ? '' : emit} }
@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let wg = linear_workgroup(wid, nwg);
  if (wg >= u.chunks) { return; }
  let segs = ROW_WG / u.tpr;
  let seg = lid / u.tpr;
  let lane = lid % u.tpr;
  let r0 = wg * u.block;
  let nr = min(u.block, u.rows - r0);   // rows of this block (0 only when there are no rows)
  // Phase 1: (mean g, mean g·x̂) of every row of the block, one row per segment and pass.
  for (var p = 0u; p < nr; p += segs) {
    let s = Seg(lid, lane, r0 + p + seg, p + seg < nr);
    let n = select(0u, u.d, s.live);
    let r = min(s.row, u.rows - 1u);
    let mu = ld_mean(u.off_mean + r);
    let rs = ld_rstd(u.off_rstd + r);
    let xb = u.off_x + s.row * u.d;
    let gb = u.off_dy + s.row * u.d;
    var acc = vec4<f32>(0.0);
    for (var j = lane; j < n; j += u.tpr) {
      let xh = (ld_x(xb + j) - mu) * rs;
      let g = ld_dy(gb + j) * weight_at(j);
      acc += vec4<f32>(g, g * xh, 0.0, 0.0);
    }
    let t = seg_sum(s, acc) / f32(u.d);
    if (s.live && lane == 0u) { stat[p + seg] = t.xy; }
  }
  workgroupBarrier();
  // Phase 2: tiles of 4·TPR columns; lane owns columns c0 + lane + i·TPR (i < 4) of each of its segment's rows.
  for (var c0 = 0u; c0 < u.d; c0 += 4u * u.tpr) {
    let j0 = c0 + lane;
    let j1 = j0 + u.tpr;
    let j2 = j1 + u.tpr;
    let j3 = j2 + u.tpr;
    let wt = vec4<f32>(weight_at(j0), weight_at(j1), weight_at(j2), weight_at(j3));
    var aw = vec4<f32>(0.0);   // Σ dy·x̂ of the four columns over this segment's rows
    var ab = vec4<f32>(0.0);   // Σ dy
    for (var q = seg; q < nr; q += segs) {
      let row = r0 + q;
      let mu = ld_mean(u.off_mean + row);
      let rs = ld_rstd(u.off_rstd + row);
      let t = stat[q];
      let xb = u.off_x + row * u.d;
      let gb = u.off_dy + row * u.d;
      let ob = u.off_dx + row * u.d;
${[0, 1, 2, 3].map(column).join('\n')}
    }
${sums === 'none' ? '' : `    // Σ over the segments: tree steps over segment indices, lane by lane; segment 0 ends with the block's sums.
    if (segs > 1u) {
      red[lid] = aw;
      red_b[lid] = ab;
      workgroupBarrier();
      for (var k = segs >> 1u; k > 0u; k = k >> 1u) {
        if (seg < k) {
          red[lid] = red[lid] + red[lid + k * u.tpr];
          red_b[lid] = red_b[lid] + red_b[lid + k * u.tpr];
        }
        workgroupBarrier();
      }
      aw = red[lid];
      ab = red_b[lid];
      workgroupBarrier();
    }
    if (seg == 0u) {
      if (j0 < u.d) { emit(wg, j0, aw.x, ab.x); }
      if (j1 < u.d) { emit(wg, j1, aw.y, ab.y); }
      if (j2 < u.d) { emit(wg, j2, aw.z, ab.z); }
      if (j3 < u.d) { emit(wg, j3, aw.w, ab.w); }
    }
`}  }
}
`);
}

function wgslColumnSum(u: UniformStruct, g: GradStorages): ShaderSource {
  const out = gradOutputs(g);
  // Half 0 is dweight, half 1 dbias; with one of them wanted, every workgroup stores that one.
  const store = g.dw && g.db ? 'if (half == 0u) { st_dw(u.off_dw + c, total); } else { st_db(u.off_db + c, total); }' : storeGrads(g, 'c', 'total', 'total');
  return shader([read('part', 'f32'), ...out.entries, uniform(u)], `${out.helpers}${out.access}
${WGSL_LINEAR_WORKGROUP}
var<workgroup> sums: array<f32, ${SUM_COLS * SUM_LANES}>;
// Workgroup (half, column block): lane k of column c sums part[half, k + 8i, c]; a tree over the lanes ends it.
@compute @workgroup_size(${SUM_COLS * SUM_LANES})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let wg = linear_workgroup(wid, nwg);
  if (wg >= u.blocks * u.halves) { return; }
  let half = u.first_half + wg / u.blocks;
  let c = (wg % u.blocks) * ${SUM_COLS}u + lid % ${SUM_COLS}u;
  let lane = lid / ${SUM_COLS}u;
  var acc = 0.0;
  if (c < u.d) {
    let base = half * u.chunks * u.d + c;
    for (var k = lane; k < u.chunks; k += ${SUM_LANES}u) { acc += part[base + k * u.d]; }
  }
  sums[lid] = acc;
  workgroupBarrier();
  for (var k = ${SUM_LANES / 2}u; k > 0u; k = k >> 1u) {
    if (lane < k) { sums[lid] = sums[lid] + sums[lid + k * ${SUM_COLS}u]; }
    workgroupBarrier();
  }
  let total = sums[lid];
  if (lane == 0u && c < u.d) { ${store} }
}
`);
}

/** Rows per stage-1 block and the number of blocks (see the header). */
function backwardBlocks(rows: number, D: number, segs: number, sums: boolean): { block: number; chunks: number } {
  if (!sums) return { block: segs, chunks: Math.ceil(rows / segs) };
  if (rows <= MAX_BLOCK_ROWS && rows * D <= ONE_BLOCK_WORK) return { block: Math.max(1, rows), chunks: 1 };
  const passes = Math.max(Math.ceil(rows / (segs * TARGET_BLOCKS)), Math.ceil(MIN_BLOCK_ROWS / segs));
  const block = Math.min(segs * passes, MAX_BLOCK_ROWS);
  return { block, chunks: Math.max(1, Math.ceil(rows / block)) };
}

export function layerNormBackward(rt: WebGPURuntime, x: View<GPUBuffer>, weight: View<GPUBuffer> | null, mean: View<GPUBuffer>,
  rstd: View<GPUBuffer>, dy: View<GPUBuffer>, dx: View<GPUBuffer>, dweight: View<GPUBuffer> | null, dbias: View<GPUBuffer> | null): void {
  const op = 'layerNormBackward';
  const sx = rowStorage(op, 'x', x.dtype);
  const st = [x, weight, mean, rstd, dy, dx].map((v, k) => (v ? rowStorage(op, BACKWARD_NAMES[k]!, v.dtype) : sx)) as unknown as BackwardStorages;
  const g: GradStorages = { dw: dweight ? rowStorage(op, 'dweight', dweight.dtype) : null, db: dbias ? rowStorage(op, 'dbias', dbias.dtype) : null };
  const { rows, cols: D } = rowsOf(x.shape);
  const { ins: [xi, wi, mi, ri, gi], outs: [dxo, dwo, dbo], finish } =
    rowOperands(rt, [x, weight, mean, rstd, dy], [dx, dweight, dbias]);
  const wantSums = dwo !== null || dbo !== null;
  if (D > 0 && (rows > 0 || wantSums)) {
    const tpr = rowThreads(D);
    const { block, chunks } = backwardBlocks(rows, D, ROW_WG / tpr, wantSums);
    const sums: ColumnSums = !wantSums ? 'none' : chunks === 1 ? 'direct' : 'partials';
    const u = new UniformStruct().u32('rows', rows).u32('d', D).u32('tpr', tpr).u32('has_w', wi ? 1 : 0)
      .u32('block', block).u32('chunks', chunks)
      .u32('off_x', xi!.offset).u32('off_w', wi?.offset ?? 0).u32('off_mean', mi!.offset).u32('off_rstd', ri!.offset)
      .u32('off_dy', gi!.offset).u32('off_dx', dxo!.offset).u32('off_dw', dwo?.offset ?? 0).u32('off_db', dbo?.offset ?? 0);
    const gKey = `${g.dw ?? '-'}.${g.db ?? '-'}`;
    const p = rt.pipeline(`rows.layerNormBackward.${sums}.${st.join('.')}${sums === 'direct' ? `.${gKey}` : ''}`, () => wgslBackward(u, st, sums, g));
    const bound = [xi!.buffer, (wi ?? xi!).buffer, mi!.buffer, ri!.buffer, gi!.buffer, dxo!.buffer];
    if (sums !== 'partials') {
      rt.dispatch(p, sums === 'direct' ? [...bound, ...[dwo, dbo].filter((o) => o !== null).map((o) => o.buffer)] : bound,
        u.bytes(), splitWorkgroups(chunks), op);
    } else {
      const part = rt.allocate(2 * chunks * D * 4);
      rt.dispatch(p, [...bound, part], u.bytes(), splitWorkgroups(chunks), op);
      const blocks = Math.ceil(D / SUM_COLS), halves = (dwo ? 1 : 0) + (dbo ? 1 : 0);
      const u2 = new UniformStruct().u32('d', D).u32('chunks', chunks).u32('blocks', blocks).u32('halves', halves)
        .u32('first_half', dwo ? 0 : 1).u32('off_dw', dwo?.offset ?? 0).u32('off_db', dbo?.offset ?? 0);
      const p2 = rt.pipeline(`rows.layerNormBackward.columnSum.${gKey}`, () => wgslColumnSum(u2, g));
      rt.dispatch(p2, [part, ...[dwo, dbo].filter((o) => o !== null).map((o) => o.buffer)], u2.bytes(), splitWorkgroups(blocks * halves), `${op}.columnSum`);
      rt.release(part);
    }
  }
  finish();
}
