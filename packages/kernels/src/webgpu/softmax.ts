// Fused softmax / logSoftmax over the last dimension, forward and backward — and the row machinery
// that layer_norm.ts and cross_entropy.ts share with it.
//
// What (as cpu/softmax.ts), per row x of length D, numerically stable:
//   m = max_j x_j,  s = Σ_j exp(x_j − m)
//   softmax:    y_j = exp(x_j − m) / s          logSoftmax: y_j = (x_j − m) − log s
// Backward, from the forward output y and the upstream gradient dy:
//   softmax:    dx_j = y_j · (dy_j − Σ_k dy_k·y_k)
//   logSoftmax: dx_j = dy_j − exp(y_j) · Σ_k dy_k
// Arithmetic is f32. Forward and backward read and write each operand in float32, float16 or
// bfloat16 storage (a parameter of their WGSL and pipeline keys: converted to f32 on load, rounded
// to nearest-even on store, half_wgsl.ts); other dtypes throw a WebGPUDTypeError. Masked (−∞) entries give
// exact zeros; a row that is all −∞, or holds a NaN, gives NaN, like the reference.
//
// Layout: x, y, dy, out are [..., D], contiguous (core guarantees it) with any element offset, so
// row r starts at `offset + r·D`; rows = product of the leading dims (a 0-d input is one row of one).
// A non-contiguous view is still accepted: it is copied to a contiguous temporary first (and a
// non-contiguous output is written through one). An input sharing a buffer with an output is read
// from a snapshot, since WebGPU forbids binding one buffer read-only and read-write in one dispatch
// (and two outputs sharing a buffer are written through a temporary: no two writable bindings).
//
// Thread mapping ("segments"): a workgroup has ROW_WG = 256 threads, split into segments of TPR
// threads (a power of two, 1..256), one segment per row, so a workgroup covers 256/TPR rows.
// Thread `lane` of a segment visits elements j = lane, lane + TPR, ... of its row (consecutive
// threads read consecutive elements, and consecutive segments consecutive rows: coalesced), then the
// segment combines its partial results with a tree reduction in workgroup memory (`seg_sum` and
// `seg_max`, log2(TPR) barrier steps) whose result every thread of the segment reads back.
// TPR is chosen per call: the smallest power of two giving each thread at most 4 elements, capped at
// 256 — a row of 1000 gets a whole workgroup, a row of 7 two threads (128 rows per workgroup), a row
// of 1 a single thread. TPR travels in the uniforms, so every row length shares one compiled
// pipeline per kernel; rows of any length are handled by the striding loop. Flags such as `log`
// (and layerNorm's weight/bias, crossEntropy's class weights) are uniforms too, for the same reason:
// on software adapters a pipeline compile costs seconds, a uniform branch nothing.
// The forward makes three passes over the row (max, sum of exp, write) and the backward two; the
// re-reads hit the cache, and the code stays as plain as the reference.

import { contiguousStrides, isContiguous, rowsOf } from '../geometry.js';
import type { DType, View } from '../types.js';
import { copy } from './elementwise.js';
import { WebGPUDTypeError } from './errors.js';
import { UniformStruct } from './kernel_args.js';
import { read, readWrite, shader, uniform, type ShaderSource } from './bindings.js';
import { halfElement, wgslHalfHelpers, wgslLoadFn, wgslStoreFn, type HalfStorage } from './half_wgsl.js';
import type { WebGPURuntime } from './runtime.js';
import { splitWorkgroups, WGSL_LINEAR_WORKGROUP } from './workgroups.js';

// ---- shared row machinery (also used by layer_norm.ts and cross_entropy.ts) -------------------

/** Threads per workgroup of every row kernel. */
export const ROW_WG = 256;

let forcedTpr: number | null = null;

/**
 * Forces the threads per row (a power of two in 1..256) of every row kernel, or restores the
 * automatic choice with null. For tests, which sweep the mapping over all row lengths.
 */
export function setRowThreads(tpr: number | null): void {
  if (tpr !== null && !(Number.isInteger(tpr) && tpr >= 1 && tpr <= ROW_WG && (tpr & (tpr - 1)) === 0)) {
    throw new RangeError(`setRowThreads: ${tpr} is not a power of two in 1..${ROW_WG}`);
  }
  forcedTpr = tpr;
}

/** Threads per row for rows of length D: the smallest power of two with ≤ 4 elements per thread, ≤ 256. */
export function rowThreads(D: number): number {
  if (forcedTpr !== null) return forcedTpr;
  let t = 1;
  while (t < ROW_WG && t * 4 < D) t *= 2;
  return t;
}

/** Workgroups for `rows` rows at `tpr` threads per row (folded into x·y past 65535). */
export function rowWorkgroups(rows: number, tpr: number): [number, number] {
  return splitWorkgroups(Math.ceil(rows / (ROW_WG / tpr)));
}

/**
 * WGSL shared by the row kernels. Needs a uniform `u` with `rows` and `tpr` fields. `Seg` is a
 * thread's place: its row, its lane within the row's segment, and whether the row exists (threads
 * of a partly filled last workgroup take part in the reductions but touch no memory).
 */
export const WGSL_ROWS = /* wgsl */ `
${WGSL_LINEAR_WORKGROUP}
const ROW_WG: u32 = ${ROW_WG}u;
var<workgroup> red: array<vec4<f32>, ${ROW_WG}>;
struct Seg { lid: u32, lane: u32, row: u32, live: bool }
fn neg_inf() -> f32 { var bits = 0xff800000u; return bitcast<f32>(bits); }
fn first_row(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return linear_workgroup(wid, nwg) * (ROW_WG / u.tpr); }
fn seg_of(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> Seg {
  let row = first_row(wid, nwg) + lid / u.tpr;
  return Seg(lid, lid % u.tpr, row, row < u.rows);
}
// Σ of v over the threads of this segment; every thread of the segment gets the total.
fn seg_sum(s: Seg, v: vec4<f32>) -> vec4<f32> {
  red[s.lid] = v;
  workgroupBarrier();
  for (var k = u.tpr >> 1u; k > 0u; k = k >> 1u) {
    if (s.lane < k) { red[s.lid] = red[s.lid] + red[s.lid + k]; }
    workgroupBarrier();
  }
  let r = red[s.lid - s.lane];
  workgroupBarrier();
  return r;
}
// max of v over the threads of this segment.
fn seg_max(s: Seg, v: f32) -> f32 {
  red[s.lid].x = v;
  workgroupBarrier();
  for (var k = u.tpr >> 1u; k > 0u; k = k >> 1u) {
    if (s.lane < k) { red[s.lid].x = max(red[s.lid].x, red[s.lid + k].x); }
    workgroupBarrier();
  }
  let r = red[s.lid - s.lane].x;
  workgroupBarrier();
  return r;
}
`;

/** The entry point's signature and the early exit of workgroups past the last row (uniform). */
export const WGSL_ROW_MAIN = `@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (first_row(wid, nwg) >= u.rows) { return; }
  let s = seg_of(wid, nwg, lid);
  let n = select(0u, u.d, s.live);`;

/** Throws a WebGPUDTypeError unless `dtype` is `want` (float32 for data, int32 for class targets). */
export function requireDType(op: string, what: string, dtype: DType, want: DType = 'float32'): void {
  if (dtype === want) return;
  throw new WebGPUDTypeError(`${op}: the WebGPU backend needs ${what} as ${want}, got ${dtype}` +
    (dtype === 'float64' ? ' (WGSL has no f64; cast to float32 or use the cpu backend)' : ''));
}

/** A bound operand: the buffer to bind and the element offset of its first row. */
export interface RowOperand {
  buffer: GPUBuffer;
  offset: number;
}

/**
 * Prepares the operands of one row-kernel launch: inputs that are not contiguous are copied to a
 * contiguous temporary; inputs that share a buffer with an output are read from a snapshot; outputs
 * that are not contiguous, or share a buffer with an earlier output (WebGPU also forbids two
 * writable bindings of one buffer), are computed into a temporary and copied out by `finish()`,
 * which also releases the temporaries. Null operands stay null.
 */
export function rowOperands(rt: WebGPURuntime, inputs: readonly (View<GPUBuffer> | null)[], outputs: readonly (View<GPUBuffer> | null)[]): {
  ins: (RowOperand | null)[];
  outs: (RowOperand | null)[];
  finish: () => void;
} {
  const temps: GPUBuffer[] = [];
  const copyOuts: [View<GPUBuffer>, GPUBuffer][] = [];
  const numel = (v: View<GPUBuffer>) => v.shape.reduce((a, b) => a * b, 1);
  const contiguousTemp = (v: View<GPUBuffer>): GPUBuffer => {
    const t = rt.allocate(Math.max(1, numel(v)) * 4);
    temps.push(t);
    return t;
  };
  const outBuffers = new Set(outputs.filter((v): v is View<GPUBuffer> => !!v).map((v) => v.buffer));
  const snapshots = new Map<GPUBuffer, GPUBuffer>();
  const ins = inputs.map((v): RowOperand | null => {
    if (!v) return null;
    if (!isContiguous(v)) {
      const t = contiguousTemp(v);
      copy(rt, v, { buffer: t, dtype: v.dtype, shape: v.shape, strides: contiguousStrides(v.shape), offset: 0 });
      return { buffer: t, offset: 0 };
    }
    if (!outBuffers.has(v.buffer)) return { buffer: v.buffer, offset: v.offset };
    let snap = snapshots.get(v.buffer);
    if (!snap) {
      snap = rt.allocate(v.buffer.size);
      rt.copyBuffer(v.buffer, snap, v.buffer.size);
      snapshots.set(v.buffer, snap);
      temps.push(snap);
    }
    return { buffer: snap, offset: v.offset };
  });
  const bound = new Set<GPUBuffer>();
  const outs = outputs.map((v): RowOperand | null => {
    if (!v) return null;
    if (isContiguous(v) && !bound.has(v.buffer)) {
      bound.add(v.buffer);
      return { buffer: v.buffer, offset: v.offset };
    }
    const t = contiguousTemp(v);
    copyOuts.push([v, t]);
    return { buffer: t, offset: 0 };
  });
  const finish = () => {
    for (const [v, t] of copyOuts) copy(rt, { buffer: t, dtype: v.dtype, shape: v.shape, strides: contiguousStrides(v.shape), offset: 0 }, v);
    for (const t of temps) rt.release(t);
  };
  return { ins, outs, finish };
}

// ---- softmax -----------------------------------------------------------------------------------

function softmaxUniforms(rows: number, D: number, tpr: number, log: boolean, offs: Record<string, number>): UniformStruct {
  const u = new UniformStruct().u32('rows', rows).u32('d', D).u32('tpr', tpr).u32('log', log ? 1 : 0);
  for (const [k, v] of Object.entries(offs)) u.u32(`off_${k}`, v);
  return u;
}

/** Float storage of a row kernel's operand: f32, f16 (float16) or bf16 (bfloat16, two per u32 word). */
export type RowStorage = HalfStorage;
const ROW_STORAGE: Readonly<Record<string, RowStorage>> = { float32: 'f32', float16: 'f16', bfloat16: 'bf16' };

/** The storage of `dtype` for a float row operand, or a WebGPUDTypeError naming op and operand. */
export function rowStorage(op: string, what: string, dtype: DType): RowStorage {
  const s = ROW_STORAGE[dtype];
  if (s) return s;
  throw new WebGPUDTypeError(`${op}: the WebGPU backend needs ${what} as float32, float16 or bfloat16, got ${dtype}` +
    (dtype === 'float64' ? ' (WGSL has no f64; cast to float32 or use the cpu backend)' : ''));
}

function wgslSoftmax(u: UniformStruct, sx: RowStorage, so: RowStorage): ShaderSource {
  return shader([read('x', halfElement(sx, false)), readWrite('out', halfElement(so, true)), uniform(u)], `${wgslHalfHelpers([sx, so])}
${wgslLoadFn('ldx', 'x', sx)}${wgslStoreFn('sto', 'out', so)}
${WGSL_ROWS}
${WGSL_ROW_MAIN}
  let xb = u.off_x + s.row * u.d;
  let ob = u.off_out + s.row * u.d;
  var m = neg_inf();
  for (var j = s.lane; j < n; j += u.tpr) { m = max(m, ldx(xb + j)); }
  m = seg_max(s, m);
  var e = 0.0;
  for (var j = s.lane; j < n; j += u.tpr) { e += exp(ldx(xb + j) - m); }
  let sum = seg_sum(s, vec4<f32>(e, 0.0, 0.0, 0.0)).x;
  let log_sum = log(sum);
  for (var j = s.lane; j < n; j += u.tpr) {
    let z = ldx(xb + j) - m;
    sto(ob + j, select(exp(z) / sum, z - log_sum, u.log != 0u));
  }
}
`);
}

function wgslSoftmaxBackward(u: UniformStruct, sy: RowStorage, sg: RowStorage, so: RowStorage): ShaderSource {
  return shader([read('y', halfElement(sy, false)), read('dy', halfElement(sg, false)), readWrite('out', halfElement(so, true)), uniform(u)],
    `${wgslHalfHelpers([sy, sg, so])}${wgslLoadFn('ld_y', 'y', sy)}${wgslLoadFn('ld_dy', 'dy', sg)}${wgslStoreFn('sto', 'out', so)}
${WGSL_ROWS}
${WGSL_ROW_MAIN}
  let yb = u.off_y + s.row * u.d;
  let gb = u.off_dy + s.row * u.d;
  let ob = u.off_out + s.row * u.d;
  var acc = vec4<f32>(0.0);
  for (var j = s.lane; j < n; j += u.tpr) {
    let g = ld_dy(gb + j);
    acc += vec4<f32>(g * ld_y(yb + j), g, 0.0, 0.0);
  }
  let t = seg_sum(s, acc);   // (Σ dy·y, Σ dy)
  for (var j = s.lane; j < n; j += u.tpr) {
    let yj = ld_y(yb + j);
    let g = ld_dy(gb + j);
    sto(ob + j, select(yj * (g - t.x), g - exp(yj) * t.y, u.log != 0u));
  }
}
`);
}

export function softmax(rt: WebGPURuntime, x: View<GPUBuffer>, out: View<GPUBuffer>, log: boolean): void {
  const op = log ? 'logSoftmax' : 'softmax';
  const sx = rowStorage(op, 'x', x.dtype), so = rowStorage(op, 'out', out.dtype);
  const { rows, cols: D } = rowsOf(x.shape);
  if (rows === 0 || D === 0) return;
  const tpr = rowThreads(D);
  const { ins: [xi], outs: [oo], finish } = rowOperands(rt, [x], [out]);
  const u = softmaxUniforms(rows, D, tpr, log, { x: xi!.offset, out: oo!.offset });
  const p = rt.pipeline(`rows.softmax.${sx}.${so}`, () => wgslSoftmax(u, sx, so));
  rt.dispatch(p, [xi!.buffer, oo!.buffer], u.bytes(), rowWorkgroups(rows, tpr), op);
  finish();
}

export function softmaxBackward(rt: WebGPURuntime, y: View<GPUBuffer>, dy: View<GPUBuffer>, out: View<GPUBuffer>, log: boolean): void {
  const op = log ? 'logSoftmaxBackward' : 'softmaxBackward';
  const sy = rowStorage(op, 'y', y.dtype), sg = rowStorage(op, 'dy', dy.dtype), so = rowStorage(op, 'out', out.dtype);
  const { rows, cols: D } = rowsOf(y.shape);
  if (rows === 0 || D === 0) return;
  const tpr = rowThreads(D);
  const { ins: [yi, gi], outs: [oo], finish } = rowOperands(rt, [y, dy], [out]);
  const u = softmaxUniforms(rows, D, tpr, log, { y: yi!.offset, dy: gi!.offset, out: oo!.offset });
  const p = rt.pipeline(`rows.softmaxBackward.${sy}.${sg}.${so}`, () => wgslSoftmaxBackward(u, sy, sg, so));
  rt.dispatch(p, [yi!.buffer, gi!.buffer, oo!.buffer], u.bytes(), rowWorkgroups(rows, tpr), op);
  finish();
}
