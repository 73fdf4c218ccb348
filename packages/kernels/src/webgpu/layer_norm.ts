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
// Thread mapping:
// - forward and dx: the row kernels' segments (see softmax.ts): TPR threads per row stride over it,
//   reductions (Σx, then Σ(x−μ)²; backward: Σg and Σg·x̂ together as one vec4) go through
//   workgroup memory. Whether weight/bias exist is a uniform flag (an absent one is bound to a
//   buffer the shader never reads), so each kernel is one pipeline.
// - dweight/dbias: a column reduction over rows, without atomics and deterministic, in two stages.
//   Stage 1 gives each thread one column (64 per workgroup, so a warp reads consecutive columns of
//   a row: coalesced) and one chunk of rows (workgroup_id.y), and writes the chunk's partial sums
//   Σ dy·x̂ and Σ dy to a scratch buffer laid out [2, chunks, D]. Stage 2 gives each thread one
//   column and sums its `chunks` partials, once for dweight and once for dbias (one dispatch each,
//   so each binds a single output). Chunks of 64 rows keep stage 1 wide
//   enough to fill the GPU when D is small and rows are many (a batch of tokens), while stage 2
//   loops over only rows/64 partials.

import type { View } from '../types.js';
import { UniformStruct } from './kernel_args.js';
import { read, readWrite, shader, uniform, type ShaderSource, type StorageBinding } from './bindings.js';
import type { WebGPURuntime } from './runtime.js';
import { rowsOf } from '../geometry.js';
import { halfElement, wgslHalfHelpers, wgslLoadFn, wgslStoreFn } from './half_wgsl.js';
import { rowOperands, rowStorage, rowThreads, rowWorkgroups, WGSL_ROW_MAIN, WGSL_ROWS, type RowStorage } from './softmax.js';
import { dispatch1D, MAX_WORKGROUPS_PER_DIM, WGSL_LINEAR_WORKGROUP } from './workgroups.js';

/** Threads per workgroup of the column-reduction stages. */
const COL_WG = 64;
/** Rows per chunk of stage 1 (raised when rows/64 would exceed the dispatch limit). */
const ROWS_PER_CHUNK = 64;

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

/** Storage of the backward's x, weight, mean, rstd, dy, dx (an absent weight takes x's: it is bound to x's buffer). */
type BackwardStorages = readonly [RowStorage, RowStorage, RowStorage, RowStorage, RowStorage, RowStorage];
const BACKWARD_NAMES = ['x', 'weight', 'mean', 'rstd', 'dy', 'dx'] as const;

/** Bindings and WGSL accessors (ld_<name>, st_dx) of the backward operands at positions `which`. */
function backwardOperands(st: BackwardStorages, which: readonly number[]): { entries: StorageBinding[]; access: string } {
  const entries = which.map((k) => (k === 5 ? readWrite : read)(BACKWARD_NAMES[k]!, halfElement(st[k]!, k === 5)));
  const access = wgslHalfHelpers(which.map((k) => st[k]!)) +
    which.map((k) => (k === 5 ? wgslStoreFn('st_dx', 'dx', st[k]!) : wgslLoadFn(`ld_${BACKWARD_NAMES[k]!}`, BACKWARD_NAMES[k]!, st[k]!))).join('');
  return { entries, access };
}

function wgslBackwardDx(u: UniformStruct, st: BackwardStorages): ShaderSource {
  const { entries, access } = backwardOperands(st, [0, 1, 2, 3, 4, 5]);
  return shader([...entries, uniform(u)], `${access}
${WGSL_ROWS}
${WGSL_ROW_MAIN}
  let r = min(s.row, u.rows - 1u);
  let mu = ld_mean(u.off_mean + r);
  let rs = ld_rstd(u.off_rstd + r);
  let xb = u.off_x + s.row * u.d;
  let gb = u.off_dy + s.row * u.d;
  let ob = u.off_dx + s.row * u.d;
  var acc = vec4<f32>(0.0);
  for (var j = s.lane; j < n; j += u.tpr) {
    let xh = (ld_x(xb + j) - mu) * rs;
    let g = ld_dy(gb + j) * select(1.0, ld_weight(u.off_w + j), u.has_w != 0u);
    acc += vec4<f32>(g, g * xh, 0.0, 0.0);
  }
  let t = seg_sum(s, acc) / f32(u.d);   // (mean(g), mean(g·x̂))
  for (var j = s.lane; j < n; j += u.tpr) {
    let xh = (ld_x(xb + j) - mu) * rs;
    let g = ld_dy(gb + j) * select(1.0, ld_weight(u.off_w + j), u.has_w != 0u);
    st_dx(ob + j, rs * (g - t.x - xh * t.y));
  }
}
`);
}

function wgslColumnPartials(u: UniformStruct, st: BackwardStorages): ShaderSource {
  const { entries, access } = backwardOperands(st, [0, 2, 3, 4]);
  return shader([...entries, readWrite('part', 'f32'), uniform(u)], `${access}
// Thread (column c, chunk k): Σ over the chunk's rows of dy·x̂ and dy → part[k, c], part[chunks + k, c].
@compute @workgroup_size(${COL_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x * ${COL_WG}u + lid;
  if (c >= u.d) { return; }
  let k = wid.y;
  let r0 = k * u.rows_per_chunk;
  let r1 = min(r0 + u.rows_per_chunk, u.rows);
  var acc = vec2<f32>(0.0);
  for (var r = r0; r < r1; r++) {
    let g = ld_dy(u.off_dy + r * u.d + c);
    let xh = (ld_x(u.off_x + r * u.d + c) - ld_mean(u.off_mean + r)) * ld_rstd(u.off_rstd + r);
    acc += vec2<f32>(g * xh, g);
  }
  part[k * u.d + c] = acc.x;
  part[(u.chunks + k) * u.d + c] = acc.y;
}
`);
}

function wgslColumnSum(u: UniformStruct, so: RowStorage): ShaderSource {
  return shader([read('part', 'f32'), readWrite('out', halfElement(so, true)), uniform(u)], `${wgslHalfHelpers([so])}${wgslStoreFn('st_out', 'out', so)}
${WGSL_LINEAR_WORKGROUP}
// Thread c: out[c] = Σ_k part[half, k, c] (half 0: dweight, half 1: dbias).
@compute @workgroup_size(${COL_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = linear_workgroup(wid, nwg) * ${COL_WG}u + lid;
  if (c >= u.d) { return; }
  let base = u.half * u.chunks * u.d + c;
  var acc = 0.0;
  for (var k = 0u; k < u.chunks; k++) { acc += part[base + k * u.d]; }
  st_out(u.off_out + c, acc);
}
`);
}

function colSumUniforms(D: number, chunks: number, half: number, offset: number): UniformStruct {
  return new UniformStruct().u32('d', D).u32('chunks', chunks).u32('half', half).u32('off_out', offset);
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

export function layerNormBackward(rt: WebGPURuntime, x: View<GPUBuffer>, weight: View<GPUBuffer> | null, mean: View<GPUBuffer>,
  rstd: View<GPUBuffer>, dy: View<GPUBuffer>, dx: View<GPUBuffer>, dweight: View<GPUBuffer> | null, dbias: View<GPUBuffer> | null): void {
  const op = 'layerNormBackward';
  const sx = rowStorage(op, 'x', x.dtype);
  const st = [x, weight, mean, rstd, dy, dx].map((v, k) => (v ? rowStorage(op, BACKWARD_NAMES[k]!, v.dtype) : sx)) as unknown as BackwardStorages;
  const sdw = dweight ? rowStorage(op, 'dweight', dweight.dtype) : 'f32', sdb = dbias ? rowStorage(op, 'dbias', dbias.dtype) : 'f32';
  const { rows, cols: D } = rowsOf(x.shape);
  const { ins: [xi, wi, mi, ri, gi], outs: [dxo, dwo, dbo], finish } =
    rowOperands(rt, [x, weight, mean, rstd, dy], [dx, dweight, dbias]);

  // dx: one segment per row.
  if (rows > 0 && D > 0) {
    const tpr = rowThreads(D);
    const u = new UniformStruct().u32('rows', rows).u32('d', D).u32('tpr', tpr).u32('has_w', wi ? 1 : 0)
      .u32('off_x', xi!.offset).u32('off_w', wi?.offset ?? 0).u32('off_mean', mi!.offset).u32('off_rstd', ri!.offset)
      .u32('off_dy', gi!.offset).u32('off_dx', dxo!.offset);
    const p = rt.pipeline(`rows.layerNormBackward.dx.${st.join('.')}`, () => wgslBackwardDx(u, st));
    rt.dispatch(p, [xi!.buffer, (wi ?? xi!).buffer, mi!.buffer, ri!.buffer, gi!.buffer, dxo!.buffer], u.bytes(), rowWorkgroups(rows, tpr), op);
  }

  // dweight / dbias: two-stage column reduction (see the header).
  if ((dwo || dbo) && D > 0) {
    const rowsPerChunk = Math.max(ROWS_PER_CHUNK, Math.ceil(rows / MAX_WORKGROUPS_PER_DIM));
    const chunks = Math.max(1, Math.ceil(rows / rowsPerChunk));
    const colBlocks = Math.ceil(D / COL_WG);
    if (colBlocks > MAX_WORKGROUPS_PER_DIM) throw new RangeError(`${op}: D = ${D} exceeds ${MAX_WORKGROUPS_PER_DIM * COL_WG} columns`);
    const part = rt.allocate(2 * chunks * D * 4);
    const u1 = new UniformStruct().u32('rows', rows).u32('d', D).u32('rows_per_chunk', rowsPerChunk).u32('chunks', chunks)
      .u32('off_x', xi!.offset).u32('off_mean', mi!.offset).u32('off_rstd', ri!.offset).u32('off_dy', gi!.offset);
    const p1 = rt.pipeline(`rows.layerNormBackward.colPartials.${st.join('.')}`, () => wgslColumnPartials(u1, st));
    rt.dispatch(p1, [xi!.buffer, mi!.buffer, ri!.buffer, gi!.buffer, part], u1.bytes(), [colBlocks, chunks], `${op}.columns`);
    for (const [half, o, so] of [[0, dwo, sdw], [1, dbo, sdb]] as const) {
      if (!o) continue;
      const p2 = rt.pipeline(`rows.layerNormBackward.colSum.${so}`, () => wgslColumnSum(colSumUniforms(D, chunks, 0, 0), so));
      rt.dispatch(p2, [part, o.buffer], colSumUniforms(D, chunks, half, o.offset).bytes(), dispatch1D(D, COL_WG), `${op}.columnSum`);
    }
    rt.release(part);
  }
  finish();
}
