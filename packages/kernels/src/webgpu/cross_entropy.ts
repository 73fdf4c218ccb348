// Fused cross-entropy over class logits (log-softmax, target pick, label smoothing and class
// weights in one pass per row), forward and backward.
//
// What (as cpu/cross_entropy.ts), per row n of C logits x with target t, smoothing ε, class
// weights w (all ones when null), W = Σ_c w_c and p_c = exp(x_c − lse):
//   lse  = log Σ_c exp(x_c)                                       (max-subtracted)
//   loss = (1−ε)·w_t·(lse − x_t) + (ε/C)·Σ_c w_c·(lse − x_c)
//   dx_c = dloss_n · [ (1−ε)·w_t·(p_c − [c == t]) + (ε/C)·(W·p_c − w_c) ]
// A row whose target equals ignoreIndex gets loss 0 and a zero gradient (its lse is still written).
// With a divisor (float32; a pipeline variant), the backward's upstream gradient is dloss_n / divisor:
// a mean's division, done where it is read instead of by a kernel of its own.
// With a rowWeight output (a pipeline variant with one more binding), the forward also writes w_t
// per row, 0 where ignored: the terms of a mean's denominator, so that needs no kernels of its own.
// A target outside [0, C) is recorded in the runtime's error buffer (the GPU cannot throw) and
// raised as a WebGPUIndexError naming the op when the result (or data computed from it) is read;
// the row is treated as ignored meanwhile.
// Reducing the per-row losses (mean / sum) is core's business. Arithmetic is f32; logits, weights,
// loss, lse, dloss and dlogits are each float32, float16 or bfloat16 storage (a parameter of the
// WGSL and the pipeline key: converted to f32 on load, rounded to nearest-even on store,
// half_wgsl.ts), targets int32; anything else throws a WebGPUDTypeError.
//
// Precision: with m the row max, the forward accumulates Σ exp(x_c − m), Σ w_c·(m − x_c) and
// Σ w_c in one pass, then uses lse − x_t = (m − x_t) + log s and
// Σ w_c·(lse − x_c) = W·log s + Σ w_c·(m − x_c): every term is non-negative, so nothing cancels
// even for logits of ±80 (computing lse first and subtracting would lose the small differences).
//
// Layout: logits and dlogits [N, C] contiguous with any element offset (row n at offset + n·C);
// targets int32 [N]; weight [C]; loss, lse [N]; dloss [N] with any stride (a mean's gradient
// arrives as one value broadcast to every row, stride 0: read in place, no contiguous copy).
//
// Thread mapping: the row kernels' segments (see softmax.ts) — TPR threads per row stride over its
// C classes; the max and the three sums go through workgroup memory; the segment's first thread
// reads the target and writes loss and lse. The backward needs W only with class weights and ε ≠ 0,
// so that reduction runs behind a uniform branch; an ignored row writes zeros from the same loop
// (a select, not a branch, so the row's threads never diverge around a barrier). Whether class
// weights exist is a uniform flag (an absent weight is bound to the logits, never read), so each
// direction is one pipeline.

import { isContiguous } from '../geometry.js';
import type { CrossEntropyOptions, View } from '../types.js';
import { halfElement, wgslHalfHelpers, wgslLoadFn, wgslStoreFn } from './half_wgsl.js';
import { UniformStruct } from './kernel_args.js';
import { read, readWrite, shader, uniform, type ShaderSource } from './bindings.js';
import type { WebGPURuntime } from './runtime.js';
import { requireDType, rowOperands, rowStorage, rowThreads, rowWorkgroups, WGSL_ROW_MAIN, WGSL_ROWS, type RowStorage } from './softmax.js';

/** WGSL: records a bad target in the runtime's error buffer (first one wins). */
const WGSL_FLAG_TARGET = /* wgsl */ `
fn flag_target(t: i32) {
  if (atomicAdd(&err[0], 1u) == 0u) {
    atomicStore(&err[1], u.code);
    atomicStore(&err[2], bitcast<u32>(t));
    atomicStore(&err[3], u.d);
  }
}
`;

/** Storage of the float operands by name (an absent weight takes the logits': it is bound to their buffer). */
type Storages = Readonly<Record<string, RowStorage>>;

/** WGSL: ld_<name>(i) for each read float operand, st_<name>(i, v) for each written one. */
function access(st: Storages, written: readonly string[]): string {
  return wgslHalfHelpers(Object.values(st)) +
    Object.entries(st).map(([n, s]) => (written.includes(n) ? wgslStoreFn(`st_${n}`, n, s) : wgslLoadFn(`ld_${n}`, n, s))).join('');
}

const key = (st: Storages): string => Object.values(st).join('.');

/** `rw`: where the row weights go — nowhere, a binding of their own, or the loss buffer at off_rw. */
function wgslForward(u: UniformStruct, st: Storages, rw: 'none' | 'own' | 'loss'): ShaderSource {
  return shader([
    read('x', halfElement(st.x!, false)), read('targets', 'i32'), read('weight', halfElement(st.weight!, false)),
    readWrite('loss', halfElement(st.loss!, true)), readWrite('lse', halfElement(st.lse!, true)),
    ...(rw === 'own' ? [readWrite('rw', halfElement(st.rw!, true))] : []), readWrite('err', 'atomic<u32>', 4), uniform(u),
  ], `${access(st, ['loss', 'lse', 'rw'])}
${WGSL_ROWS}
${WGSL_FLAG_TARGET}
${WGSL_ROW_MAIN}
  let xb = u.off_x + s.row * u.d;
  var m = neg_inf();
  for (var j = s.lane; j < n; j += u.tpr) { m = max(m, ld_x(xb + j)); }
  m = seg_max(s, m);
  var acc = vec4<f32>(0.0);
  for (var j = s.lane; j < n; j += u.tpr) {
    let xj = ld_x(xb + j);
    let w = select(1.0, ld_weight(u.off_w + j), u.has_w != 0u);
    acc += vec4<f32>(exp(xj - m), w * (m - xj), w, 0.0);
  }
  let t = seg_sum(s, acc);   // (Σ exp(x − m), Σ w·(m − x), W)
  if (s.live && s.lane == 0u) {
    let log_s = log(t.x);
    // An all −∞ row has lse −∞ (not −∞ − −∞ = NaN), as in the reference.
    st_lse(u.off_lse + s.row, select(m + log_s, m, m == neg_inf()));
    let tg = targets[u.off_t + s.row];
    var l = 0.0;
    var wt = 0.0;
    if (tg != u.ignore_index) {
      if (tg < 0 || u32(tg) >= u.d) {
        flag_target(tg);
      } else {
        wt = select(1.0, ld_weight(u.off_w + u32(tg)), u.has_w != 0u);
        l = (1.0 - u.eps) * wt * ((m - ld_x(xb + u32(tg))) + log_s);
        if (u.eps != 0.0) { l += (u.eps / f32(u.d)) * (t.z * log_s + t.y); }
      }
    }
    st_loss(u.off_loss + s.row, l);${rw === 'none' ? '' : `
    st_${rw === 'own' ? 'rw' : 'loss'}(u.off_rw + s.row, wt);`}
  }
}
`);
}

function wgslBackward(u: UniformStruct, st: Storages, divided: boolean): ShaderSource {
  return shader([
    read('x', halfElement(st.x!, false)), read('targets', 'i32'), read('weight', halfElement(st.weight!, false)),
    read('lse', halfElement(st.lse!, false)), read('dloss', halfElement(st.dloss!, false)), ...(divided ? [read('dv', 'f32')] : []),
    readWrite('dx', halfElement(st.dx!, true)), readWrite('err', 'atomic<u32>', 4), uniform(u),
  ], `${access(st, ['dx'])}
${WGSL_ROWS}
${WGSL_FLAG_TARGET}
${WGSL_ROW_MAIN}
  let r = min(s.row, u.rows - 1u);
  let tg = targets[u.off_t + r];
  let in_range = tg >= 0 && u32(tg) < u.d;
  let valid = s.live && tg != u.ignore_index && in_range;
  if (s.live && s.lane == 0u && tg != u.ignore_index && !in_range) { flag_target(tg); }
  let tc = select(0u, u32(tg), in_range);
  let wt = select(1.0, ld_weight(u.off_w + tc), u.has_w != 0u);
  // W = Σ_c w_c: C without class weights; a reduction only when the smoothing term needs it.
  var W = f32(u.d);
  if (u.has_w != 0u && u.eps != 0.0) {
    var acc = 0.0;
    for (var j = s.lane; j < n; j += u.tpr) { acc += ld_weight(u.off_w + j); }
    W = seg_sum(s, vec4<f32>(acc, 0.0, 0.0, 0.0)).x;
  }
  let g = ld_dloss(u32(i32(u.off_dloss) + i32(r) * u.st_dloss))${divided ? ' / dv[u.off_dv]' : ''};
  let hard = g * (1.0 - u.eps) * wt;
  let soft = g * u.eps / f32(u.d);
  let l = ld_lse(u.off_lse + r);
  let xb = u.off_x + s.row * u.d;
  let ob = u.off_dx + s.row * u.d;
  for (var j = s.lane; j < n; j += u.tpr) {
    let p = exp(ld_x(xb + j) - l);
    let w = select(1.0, ld_weight(u.off_w + j), u.has_w != 0u);
    let v = hard * (p - select(0.0, 1.0, j == tc)) + soft * (W * p - w);
    st_dx(ob + j, select(0.0, v, valid));
  }
}
`);
}

/** The storage of each float operand by its WGSL name (a WebGPUDTypeError naming a bad dtype), after checking targets are int32. */
function storagesOf(op: string, logits: View<GPUBuffer>, targets: View<GPUBuffer>, weight: View<GPUBuffer> | null,
  floats: [string, string, View<GPUBuffer>][]): Storages {
  const x = rowStorage(op, 'logits', logits.dtype);
  requireDType(op, 'targets', targets.dtype, 'int32');
  const st: Record<string, RowStorage> = { x, weight: weight ? rowStorage(op, 'weight', weight.dtype) : x };
  for (const [name, what, v] of floats) st[name] = rowStorage(op, what, v.dtype);
  return st;
}

function commonUniforms(rt: WebGPURuntime, op: string, N: number, C: number, tpr: number, opts: CrossEntropyOptions, hasW: boolean): UniformStruct {
  return new UniformStruct().u32('rows', N).u32('d', C).u32('tpr', tpr).u32('has_w', hasW ? 1 : 0)
    .f32('eps', opts.labelSmoothing).i32('ignore_index', opts.ignoreIndex).u32('code', rt.errorCode(op));
}

export function crossEntropy(rt: WebGPURuntime, logits: View<GPUBuffer>, targets: View<GPUBuffer>, weight: View<GPUBuffer> | null,
  opts: CrossEntropyOptions, loss: View<GPUBuffer>, lse: View<GPUBuffer>, rowWeight: View<GPUBuffer> | null = null): void {
  const op = 'crossEntropy';
  // Row weights beside the losses in one buffer (the two rows of a mean's [2, N] sums) are written
  // through the loss binding: one buffer bound twice for writing would be refused.
  const inLoss = rowWeight !== null && rowWeight.buffer === loss.buffer && rowWeight.dtype === loss.dtype && isContiguous(loss) && isContiguous(rowWeight);
  const own = rowWeight !== null && !inLoss;
  const st = storagesOf(op, logits, targets, weight, [['loss', 'loss', loss], ['lse', 'lse', lse], ...(own ? [['rw', 'rowWeight', rowWeight] as [string, string, View<GPUBuffer>]] : [])]);
  const N = logits.shape[0]!, C = logits.shape[1]!;
  if (N === 0) return;
  const tpr = rowThreads(C);
  const { ins: [xi, ti, wi], outs: [lo, so, ro], finish } = rowOperands(rt, [logits, targets, weight], [loss, lse, own ? rowWeight : null]);
  const u = commonUniforms(rt, op, N, C, tpr, opts, !!wi)
    .u32('off_x', xi!.offset).u32('off_t', ti!.offset).u32('off_w', wi?.offset ?? 0)
    .u32('off_loss', lo!.offset).u32('off_lse', so!.offset);
  if (ro) u.u32('off_rw', ro.offset);
  else if (inLoss) u.u32('off_rw', rowWeight.offset);
  const rw = ro ? 'own' : inLoss ? 'loss' : 'none';
  const p = rt.pipeline(`rows.crossEntropy.rw-${rw}.${key(st)}`, () => wgslForward(u, st, rw));
  rt.dispatch(p, [xi!.buffer, ti!.buffer, (wi ?? xi!).buffer, lo!.buffer, so!.buffer, ...(ro ? [ro.buffer] : []), rt.errorBuffer], u.bytes(),
    rowWorkgroups(N, tpr), op);
  finish();
}

export function crossEntropyBackward(rt: WebGPURuntime, logits: View<GPUBuffer>, targets: View<GPUBuffer>, weight: View<GPUBuffer> | null,
  lse: View<GPUBuffer>, dloss: View<GPUBuffer>, opts: CrossEntropyOptions, dlogits: View<GPUBuffer>, divisor: View<GPUBuffer> | null = null): void {
  const op = 'crossEntropyBackward';
  if (divisor && (dloss.dtype !== 'float32' || divisor.dtype !== 'float32')) {
    throw new TypeError(`${op}: a divisor takes float32 dloss and divisor, got ${dloss.dtype} and ${divisor.dtype}`);
  }
  const st = storagesOf(op, logits, targets, weight, [['lse', 'lse', lse], ['dloss', 'dloss', dloss], ['dx', 'dlogits', dlogits]]);
  const N = logits.shape[0]!, C = logits.shape[1]!;
  if (N === 0 || C === 0) return;
  const tpr = rowThreads(C);
  // A 1-D dloss that is not written here is read with its stride; anything else goes through rowOperands.
  const strided = dloss.shape.length === 1 && dloss.buffer !== dlogits.buffer;
  const { ins: [xi, ti, wi, si, gc], outs: [dxo], finish } = rowOperands(rt, [logits, targets, weight, lse, strided ? null : dloss], [dlogits]);
  const gi = gc ?? { buffer: dloss.buffer, offset: dloss.offset };
  const u = commonUniforms(rt, op, N, C, tpr, opts, !!wi)
    .u32('off_x', xi!.offset).u32('off_t', ti!.offset).u32('off_w', wi?.offset ?? 0)
    .u32('off_lse', si!.offset).u32('off_dloss', gi.offset).u32('off_dx', dxo!.offset).i32('st_dloss', strided ? dloss.strides[0]! : 1);
  if (divisor) u.u32('off_dv', divisor.offset);
  const p = rt.pipeline(`rows.crossEntropyBackward${divisor ? '.div' : ''}.${key(st)}`, () => wgslBackward(u, st, divisor !== null));
  rt.dispatch(p, [xi!.buffer, ti!.buffer, (wi ?? xi!).buffer, si!.buffer, gi.buffer, ...(divisor ? [divisor.buffer] : []), dxo!.buffer, rt.errorBuffer], u.bytes(),
    rowWorkgroups(N, tpr), op);
  finish();
}
