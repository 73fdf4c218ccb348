// The row family of the fast cpu tier: kernels over the last dim of [rows, cols] blocks — softmax /
// logSoftmax and their backward, layerNorm and its backward, cross-entropy and its backward.
//
// - softmax, layerNorm, layerNorm backward (even row length): float32 contiguous rows in
//   WebAssembly (rows_program.ts), threads taking ranges of rows; float32 arithmetic with float64
//   row sums where the program says so, so results agree with the reference to float32 rounding.
// - cross-entropy and its backward (float32 contiguous [N, C] logits, int32 targets, float32
//   per-row operands of any stride): WebAssembly (cross_entropy_program.ts) over row ranges, float32
//   arithmetic; the targets are checked and gathered here first, per-row inputs and outputs copied
//   through scratch.
// - softmax backward, layerNorm backward with an odd row length, and cross-entropy's other layouts:
//   TypeScript loops over float32 contiguous operands with the reference's float64 arithmetic in
//   the reference's order.
// float16/bfloat16 operands run the same paths on float32 copies, each 16-bit result encoded once
// (`viaFloat32`, half_arrays.ts). Other dtypes and layouts take the reference.

import { rowsOf } from '../geometry.js';
import type { CrossEntropyOptions, TypedArray, View } from '../types.js';
import { allF32Contiguous, isF32, isFloat, readPtr, writePtr, type Range } from '../wasm/operands.js';
import { wasmRuntime, type WasmRuntime } from '../wasm/runtime.js';
import { rowSplit } from '../wasm/schedule.js';
import { anyHalf, viaFloat32 } from './half_arrays.js';

type V = View<TypedArray>;

/** softmax / logSoftmax over float32 contiguous rows in WebAssembly (`softmax_rows`), threads taking row ranges. */
export function softmax(x: V, out: V, log: boolean): boolean {
  if (anyHalf(x, out)) return viaFloat32([x], [out], ([x32], [o32]) => softmax(x32!, o32!, log));
  if (!allF32Contiguous(x, out)) return false;
  const { rows, cols } = rowsOf(x.shape);
  const total = rows * cols;
  if (total === 0) return true;
  const rt = wasmRuntime();
  rt.reset();
  // Each row is read in full before it is written, so out may be x itself.
  const xp = readPtr(rt, x, total);
  const o = writePtr(rt, out, total, [[xp, total * 4]], true);
  const parts = rowSplit(rt, rows, cols).map(([lo, hi]) =>
    (hi > lo ? [xp + lo * cols * 4, o.addr + lo * cols * 4, hi - lo, cols, log ? 1 : 0] : []));
  rt.parallel('softmax_rows', 5, parts);
  o.done();
  return true;
}

/** layerNorm forward over float32 contiguous rows in WebAssembly (`layernorm_rows`), writing mean and rstd too. */
export function layerNorm(x: V, weight: V | null, bias: V | null, eps: number, out: V, mean: V, rstd: V): boolean {
  if (anyHalf(x, weight, bias, out, mean, rstd)) {
    return viaFloat32([x, weight, bias], [out, mean, rstd], ([x32, w32, b32], [o32, m32, r32]) =>
      layerNorm(x32!, w32!, b32!, eps, o32!, m32!, r32!));
  }
  if (!allF32Contiguous(x, weight, bias, out, mean, rstd)) return false;
  const { rows, cols: D } = rowsOf(x.shape);
  const total = rows * D;
  if (total === 0) return true;
  const rt = wasmRuntime();
  rt.reset();
  const constant = (value: number) => { const p = rt.alloc(D * 4); rt.f32().fill(value, p >> 2, (p >> 2) + D); return p; };
  const xp = readPtr(rt, x, total);
  const wp = weight ? readPtr(rt, weight, D) : constant(1), bp = bias ? readPtr(rt, bias, D) : constant(0);
  // A row is reduced before it is written, so out may be x itself.
  const reads: Range[] = [[xp, total * 4], [wp, D * 4], [bp, D * 4]];
  const o = writePtr(rt, out, total, reads, true);
  const m = writePtr(rt, mean, rows, [...reads, [o.addr, total * 4]]);
  const rs = writePtr(rt, rstd, rows, [...reads, [o.addr, total * 4], [m.addr, rows * 4]]);
  const params = rt.alloc(8);
  rt.f64()[params >> 3] = eps;
  const parts = rowSplit(rt, rows, D).map(([lo, hi]) =>
    (hi > lo ? [xp + lo * D * 4, wp, bp, o.addr + lo * D * 4, m.addr + lo * 4, rs.addr + lo * 4, hi - lo, D, params] : []));
  rt.parallel('layernorm_rows', 9, parts);
  o.done();
  m.done();
  rs.done();
  return true;
}

/** layerNorm backward in WebAssembly for float32 contiguous operands with an even row length; else the loops. */
export function layerNormBackward(x: V, weight: V | null, mean: V, rstd: V, dy: V, dx: V, dweight: V | null, dbias: V | null): boolean {
  if (anyHalf(x, weight, mean, rstd, dy, dx, dweight, dbias)) {
    return viaFloat32([x, weight, mean, rstd, dy], [dx, dweight, dbias], ([x32, w32, m32, r32, g32], [dx32, dw32, db32]) =>
      layerNormBackward(x32!, w32!, m32!, r32!, g32!, dx32!, dw32!, db32!));
  }
  const { rows, cols: D } = rowsOf(x.shape);
  if (!allF32Contiguous(x, weight, mean, rstd, dy, dx, dweight, dbias) || D % 2 !== 0 || rows * D === 0) {
    return layerNormBackwardLoops(x, weight, mean, rstd, dy, dx, dweight, dbias);
  }
  const rt = wasmRuntime();
  rt.reset();
  const total = rows * D;
  const xp = readPtr(rt, x, total), gp = readPtr(rt, dy, total), mp = readPtr(rt, mean, rows), rp = readPtr(rt, rstd, rows);
  const o = writePtr(rt, dx, total, [[xp, total * 4], [gp, total * 4], [mp, rows * 4], [rp, rows * 4]]);
  const op_ = o.addr;
  const wp = rt.alloc(D * 8), dwp = rt.alloc(D * 8), dbp = rt.alloc(D * 8), xhp = rt.alloc(D * 8), g2p = rt.alloc(D * 8);
  const f64 = rt.f64();
  if (weight) for (let j = 0; j < D; j++) f64[(wp >> 3) + j] = weight.buffer[weight.offset + j]!;
  else f64.fill(1, wp >> 3, (wp >> 3) + D);
  f64.fill(0, dwp >> 3, (dwp >> 3) + D);
  f64.fill(0, dbp >> 3, (dbp >> 3) + D);
  rt.call('layernorm_backward_rows', xp, gp, mp, rp, wp, op_, dwp, dbp, xhp, g2p, rows, D);
  o.done();
  const res = rt.f64();
  if (dweight) for (let j = 0; j < D; j++) dweight.buffer[dweight.offset + j] = res[(dwp >> 3) + j]!;
  if (dbias) for (let j = 0; j < D; j++) dbias.buffer[dbias.offset + j] = res[(dbp >> 3) + j]!;
  return true;
}

/** softmax / logSoftmax backward over float32 contiguous rows, in float64 (TypeScript). */
export function softmaxBackward(y: V, dy: V, out: V, log: boolean): boolean {
  if (anyHalf(y, dy, out)) return viaFloat32([y, dy], [out], ([y32, g32], [o32]) => softmaxBackward(y32!, g32!, o32!, log));
  if (!allF32Contiguous(y, dy, out)) return false;
  const { rows, cols } = rowsOf(y.shape);
  const ys = y.buffer, gs = dy.buffer, dx = out.buffer;
  const oy = y.offset, og = dy.offset, oo = out.offset;
  const tmp = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let dot = 0, sum = 0;
    for (let j = 0; j < cols; j++) {
      const g = gs[og + base + j]!;
      dot += g * ys[oy + base + j]!;
      sum += g;
    }
    // Computed into a scratch row first so that `out` may alias `dy` or `y`.
    if (log) for (let j = 0; j < cols; j++) tmp[j] = gs[og + base + j]! - Math.exp(ys[oy + base + j]!) * sum;
    else for (let j = 0; j < cols; j++) tmp[j] = ys[oy + base + j]! * (gs[og + base + j]! - dot);
    for (let j = 0; j < cols; j++) dx[oo + base + j] = tmp[j]!;
  }
  return true;
}

/** layerNorm backward over float32 contiguous rows of any length, in float64 (TypeScript). */
function layerNormBackwardLoops(x: V, weight: V | null, mean: V, rstd: V, dy: V, dx: V, dweight: V | null, dbias: V | null): boolean {
  if (!allF32Contiguous(x, weight, mean, rstd, dy, dx, dweight, dbias)) return false;
  const { rows, cols: D } = rowsOf(x.shape);
  const xs = x.buffer, gs = dy.buffer, out = dx.buffer, ms = mean.buffer, rs_ = rstd.buffer;
  const ox = x.offset, og = dy.offset, oo = dx.offset;
  const w = new Float64Array(D).fill(1);
  if (weight) for (let j = 0; j < D; j++) w[j] = weight.buffer[weight.offset + j]!;
  const dw = new Float64Array(D), db = new Float64Array(D), xh = new Float64Array(D), g = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    const mu = ms[mean.offset + r]!, rs = rs_[rstd.offset + r]!;
    let meanG = 0, meanGX = 0;
    for (let j = 0; j < D; j++) {
      const gj = gs[og + base + j]!;
      const h = (xs[ox + base + j]! - mu) * rs;
      const gw = gj * w[j]!;
      xh[j] = h;
      g[j] = gw;
      meanG += gw;
      meanGX += gw * h;
      dw[j] += gj * h;
      db[j] += gj;
    }
    meanG /= D;
    meanGX /= D;
    for (let j = 0; j < D; j++) out[oo + base + j] = rs * (g[j]! - meanG - xh[j]! * meanGX);
  }
  if (dweight) for (let j = 0; j < D; j++) dweight.buffer[dweight.offset + j] = dw[j]!;
  if (dbias) for (let j = 0; j < D; j++) dbias.buffer[dbias.offset + j] = db[j]!;
  return true;
}

function checkTarget(kernel: string, t: number, C: number, ignoreIndex: number): boolean {
  if (t === ignoreIndex) return false;
  if (!(t >= 0 && t < C)) {
    throw new RangeError(`${kernel}: target ${t} is out of range for ${C} classes (valid: 0..${C - 1}, or ignoreIndex ${ignoreIndex})`);
  }
  return true;
}

/** Class weights as float64 (ones when null). */
function classWeights(weight: V | null, C: number): Float64Array {
  const w = new Float64Array(C).fill(1);
  if (weight) {
    const st = weight.shape.length === 0 ? 0 : weight.strides[0]!;
    for (let c = 0; c < C; c++) w[c] = weight.buffer[weight.offset + c * st]!;
  }
  return w;
}

const vec1d = (v: V): boolean => v.shape.length === 1;
/** A float32 1-d operand of any stride (null, an absent optional operand, counts as one). */
const f32Vec = (v: V | null): boolean => v === null || (isF32(v) && vec1d(v));

/**
 * The WebAssembly cross-entropy kernels' operands: float32 contiguous non-empty [N, C] logits,
 * int32 1-d targets and float32 1-d others (`perRow`, any stride; null ones count).
 */
function wasmCrossEntropy(logits: V, targets: V, ...perRow: (V | null)[]): boolean {
  return allF32Contiguous(logits) && logits.shape.length === 2 && logits.shape[0]! > 0 && logits.shape[1]! > 0
    && targets.dtype === 'int32' && vec1d(targets) && perRow.every(f32Vec);
}

/**
 * Checks every target (`checkTarget`'s RangeError, before any WebAssembly runs) and gathers them
 * into int32 scratch, −1 for an ignored row. Returns its address.
 */
function targetRows(rt: WasmRuntime, kernel: string, targets: V, N: number, C: number, ignoreIndex: number): number {
  const p = rt.alloc(N * 4);
  const out = i32Of(rt), at = p >> 2;
  const ts = targets.buffer, o = targets.offset, st = targets.strides[0]!;
  for (let n = 0; n < N; n++) {
    const t = ts[o + n * st]!;
    if (t === ignoreIndex) out[at + n] = -1;
    else if (t >= 0 && t < C) out[at + n] = t;
    else checkTarget(kernel, t, C, ignoreIndex); // throws
  }
  return p;
}

let i32View: Int32Array<ArrayBufferLike> = new Int32Array(0);
/** An int32 view of the whole memory, re-taken when the memory has grown. */
function i32Of(rt: WasmRuntime): Int32Array {
  const buffer = rt.f32().buffer;
  if (i32View.buffer !== buffer) i32View = new Int32Array(buffer);
  return i32View;
}

/** Copies n float32 values from the memory at `addr` into the 1-d view v (any stride). */
function copyOut(rt: WasmRuntime, addr: number, v: V, n: number): void {
  const src = rt.f32(), at = addr >> 2, dst = v.buffer, o = v.offset, st = v.strides[0]!;
  for (let i = 0; i < n; i++) dst[o + i * st] = src[at + i]!;
}

/** Class weights as float32 scratch (ones when null). Returns its address. */
function classWeightRow(rt: WasmRuntime, weight: V | null, C: number): number {
  const p = rt.alloc(C * 4);
  const f32 = rt.f32(), at = p >> 2;
  if (!weight) f32.fill(1, at, at + C);
  else for (let c = 0; c < C; c++) f32[at + c] = weight.buffer[weight.offset + c * weight.strides[0]!]!;
  return p;
}

/** Cross-entropy of float32 contiguous [N, C] logits: WebAssembly, or the TypeScript loops; out-of-range targets throw. */
export function crossEntropy(logits: V, targets: V, weight: V | null, opts: CrossEntropyOptions, loss: V, lse: V, rowWeight: V | null = null): boolean {
  if (anyHalf(logits, weight, loss, lse, rowWeight)) {
    return viaFloat32([logits, targets, weight], [loss, lse, rowWeight], ([x32, t, w32], [l32, s32, r32]) => crossEntropy(x32!, t!, w32!, opts, l32!, s32!, r32));
  }
  if (wasmCrossEntropy(logits, targets, weight, loss, lse, rowWeight)) {
    const [N, C] = [logits.shape[0]!, logits.shape[1]!];
    const eps = opts.labelSmoothing;
    const rt = wasmRuntime();
    rt.reset();
    const tp = targetRows(rt, 'crossEntropy', targets, N, C, opts.ignoreIndex);
    const xp = readPtr(rt, logits, N * C), wp = classWeightRow(rt, weight, C);
    const op = rt.alloc(N * 12), params = rt.alloc(12);
    const f32 = rt.f32();
    f32[params >> 2] = 1 - eps;
    f32[(params >> 2) + 1] = eps / C;
    i32Of(rt)[(params >> 2) + 2] = eps !== 0 ? 1 : 0;
    const parts = rowSplit(rt, N, C).map(([lo, hi]) =>
      (hi > lo ? [xp + lo * C * 4, tp + lo * 4, wp, op + lo * 4, hi - lo, C, params, N * 4] : []));
    rt.parallel('cross_entropy_rows', 8, parts);
    // The loss, lse and w_t planes, into the (strided) outputs.
    copyOut(rt, op, loss, N);
    copyOut(rt, op + N * 4, lse, N);
    if (rowWeight) copyOut(rt, op + N * 8, rowWeight, N);
    return true;
  }
  return crossEntropyLoops(logits, targets, weight, opts, loss, lse, rowWeight);
}

/** Cross-entropy of float32 contiguous [N, C] logits, in float64 (TypeScript); out-of-range targets throw. */
function crossEntropyLoops(logits: V, targets: V, weight: V | null, opts: CrossEntropyOptions, loss: V, lse: V, rowWeight: V | null): boolean {
  if (!allF32Contiguous(logits) || logits.shape.length !== 2 || !vec1d(targets) || !vec1d(loss) || !vec1d(lse)
    || (weight && !vec1d(weight)) || !isFloat(loss) || !isFloat(lse) || (rowWeight && (!vec1d(rowWeight) || !isFloat(rowWeight)))) return false;
  const [N, C] = [logits.shape[0]!, logits.shape[1]!];
  const xs = logits.buffer, ox = logits.offset;
  const w = classWeights(weight, C);
  const eps = opts.labelSmoothing;
  for (let n = 0; n < N; n++) {
    const base = ox + n * C;
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, xs[base + c]!);
    let l = -Infinity;
    if (m !== -Infinity) {
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(xs[base + c]! - m);
      l = m + Math.log(s);
    }
    lse.buffer[lse.offset + n * lse.strides[0]!] = l;
    const t = targets.buffer[targets.offset + n * targets.strides[0]!]!;
    let value = 0, wt = 0;
    if (checkTarget('crossEntropy', t, C, opts.ignoreIndex)) {
      let smooth = 0;
      if (eps !== 0) for (let c = 0; c < C; c++) smooth += w[c]! * (l - xs[base + c]!);
      value = (1 - eps) * w[t]! * (l - xs[base + t]!) + (eps / C) * smooth;
      wt = w[t]!;
    }
    loss.buffer[loss.offset + n * loss.strides[0]!] = value;
    if (rowWeight) rowWeight.buffer[rowWeight.offset + n * rowWeight.strides[0]!] = wt;
  }
  return true;
}

/** The gradient of `crossEntropy` with respect to the logits; `dlogits` may alias `logits`. */
export function crossEntropyBackward(logits: V, targets: V, weight: V | null, lse: V, dloss: V, opts: CrossEntropyOptions,
  dlogits: V, divisor: V | null = null): boolean {
  if (divisor && (anyHalf(dloss, divisor) || !isFloat(dloss))) return false; // the reference refuses it
  if (anyHalf(logits, weight, lse, dloss, dlogits)) {
    return viaFloat32([logits, targets, weight, lse, dloss, divisor], [dlogits], ([x32, t, w32, l32, g32, dv], [d32]) =>
      crossEntropyBackward(x32!, t!, w32!, l32!, g32!, opts, d32!, dv));
  }
  if (allF32Contiguous(dlogits) && wasmCrossEntropy(logits, targets, weight, lse, dloss)) {
    const [N, C] = [logits.shape[0]!, logits.shape[1]!];
    const total = N * C, eps = opts.labelSmoothing;
    const rt = wasmRuntime();
    rt.reset();
    const tp = targetRows(rt, 'crossEntropyBackward', targets, N, C, opts.ignoreIndex);
    const xp = readPtr(rt, logits, total), wp = classWeightRow(rt, weight, C);
    // One pass over the row, each element read before it is written: dlogits may be logits itself.
    const o = writePtr(rt, dlogits, total, [[xp, total * 4]], true);
    const rowp = rt.alloc(N * 8), params = rt.alloc(12);
    const f32 = rt.f32(), r = rowp >> 2;
    const dv = divisor ? divisor.buffer[divisor.offset]! : null;
    const gs = dloss.buffer, og = dloss.offset, sg = dloss.strides[0]!;
    const ls = lse.buffer, ol = lse.offset, sl = lse.strides[0]!;
    for (let n = 0; n < N; n++) {
      const g = gs[og + n * sg]!;
      f32[r + 2 * n] = ls[ol + n * sl]!;
      f32[r + 2 * n + 1] = dv === null ? g : g / dv;
    }
    let W = 0;
    for (let c = 0; c < C; c++) W += f32[(wp >> 2) + c]!;
    f32[params >> 2] = 1 - eps;
    f32[(params >> 2) + 1] = eps / C;
    f32[(params >> 2) + 2] = W;
    const parts = rowSplit(rt, N, C).map(([lo, hi]) =>
      (hi > lo ? [xp + lo * C * 4, tp + lo * 4, wp, rowp + lo * 8, o.addr + lo * C * 4, hi - lo, C, params] : []));
    rt.parallel('cross_entropy_backward_rows', 8, parts);
    o.done();
    return true;
  }
  if (!allF32Contiguous(logits, dlogits) || logits.shape.length !== 2 || !vec1d(targets) || !vec1d(lse) || !vec1d(dloss)
    || (weight && !vec1d(weight))) return false;
  const [N, C] = [logits.shape[0]!, logits.shape[1]!];
  const xs = logits.buffer, ox = logits.offset, dx = dlogits.buffer, od = dlogits.offset;
  const w = classWeights(weight, C);
  let W = 0;
  for (let c = 0; c < C; c++) W += w[c]!;
  const eps = opts.labelSmoothing;
  const dv = divisor ? divisor.buffer[divisor.offset]! : null;
  const row = new Float64Array(C); // scratch, so dlogits may alias logits
  for (let n = 0; n < N; n++) {
    const t = targets.buffer[targets.offset + n * targets.strides[0]!]!;
    if (!checkTarget('crossEntropyBackward', t, C, opts.ignoreIndex)) {
      dx.fill(0, od + n * C, od + (n + 1) * C);
      continue;
    }
    const l = lse.buffer[lse.offset + n * lse.strides[0]!]!;
    const g = dloss.buffer[dloss.offset + n * dloss.strides[0]!]!;
    const gn = dv === null ? g : dloss.dtype === 'float32' ? Math.fround(g / dv) : g / dv;
    const base = ox + n * C;
    const hardW = (1 - eps) * w[t]!;
    for (let c = 0; c < C; c++) {
      const p = Math.exp(xs[base + c]! - l);
      const hard = hardW * (p - (c === t ? 1 : 0));
      const smooth = (eps / C) * (W * p - w[c]!);
      row[c] = gn * (hard + smooth);
    }
    for (let c = 0; c < C; c++) dx[od + n * C + c] = row[c]!;
  }
  return true;
}
