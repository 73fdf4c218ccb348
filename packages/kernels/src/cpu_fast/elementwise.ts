// The elementwise family of the fast cpu tier, WebAssembly side: float32 unary ops, binary
// add/sub/mul/div and the activation gradients (geluGrad/siluGrad), from the programs in
// ../wasm/unary_program.ts and ../wasm/elementwise_program.ts; every other op, dtype or layout goes
// to the TypeScript loops (elementwise_loops.ts, which also hold `where`).
//
// - unary: every op whose expression has a WebAssembly form (UNARY_FAST_OPS: neg, abs, sqrt, rsqrt,
//   square, reciprocal, exp, tanh, sigmoid, relu, gelu, geluTanh, silu, erf): float32 contiguous x
//   and out.
// - binary add/sub/mul/div: float32, out contiguous, each input either same-shape contiguous, a
//   scalar, or a row pattern ([R, C] rows with a row stride, the last dim contiguous or broadcast —
//   covers bias adds and per-row scales).
// - geluGrad/siluGrad: float32 contiguous same-shape operands.
// float16/bfloat16 operands (unary, binary, binaryScalar through binary, where) run the float32
// paths above on float32 copies, the result encoded once (`viaFloat32`, half_arrays.ts).

import { contiguousStrides, isContiguous, numel } from '../geometry.js';
import type { BinaryOp, TypedArray, UnaryOp, View } from '../types.js';
import { BINARY_FAST_OPS, type BinaryFastOp } from '../wasm/elementwise_program.js';
import { isF32, readPtr, writePtr } from '../wasm/operands.js';
import { wasmRuntime } from '../wasm/runtime.js';
import { FAST_CPU_CONFIG, partsFor, splitRange, threadsFor } from '../wasm/schedule.js';
import { GRAD_FAST_OPS, UNARY_FAST_OPS, kernelCost, type GradFastOp, type UnaryFastOp } from '../wasm/unary_program.js';
import * as loops from './elementwise_loops.js';
import { anyHalf, viaFloat32 } from './half_arrays.js';

type V = View<TypedArray>;

/** How a binary operand is read: `rows` rows of `n`, row stride `ro` elements, `inner` 1 or 0. */
interface RowPattern { inner: 0 | 1; ro: number }

/**
 * The operand's pattern when out's shape is split at dim `s` into [R = product of dims < s,
 * n = product of dims ≥ s]: the inner block must be contiguous (inner 1) or broadcast (inner 0),
 * and the outer dims must step by one row stride. Null when the strides are not of that form.
 */
function rowPattern(v: V, shape: readonly number[], s: number): RowPattern | null {
  const r = shape.length;
  const innerShape = shape.slice(s);
  const ics = contiguousStrides(innerShape);
  let contiguous = true, broadcast = true;
  for (let d = s; d < r; d++) {
    if (shape[d]! <= 1) continue;
    if (v.strides[d] !== ics[d - s]) contiguous = false;
    if (v.strides[d] !== 0) broadcast = false;
  }
  if (!contiguous && !broadcast) return null;
  const outer = shape.slice(0, s);
  const cs = contiguousStrides(outer);
  let ro: number | null = null;
  for (let d = 0; d < s; d++) {
    if (outer[d]! <= 1) continue;
    const st = v.strides[d]!;
    if (st % cs[d]! !== 0) return null;
    const k = st / cs[d]!;
    if (ro === null) ro = k;
    else if (ro !== k) return null;
  }
  return { inner: contiguous ? 1 : 0, ro: ro ?? 0 };
}

/** The non-WebAssembly binary path: the TypeScript loops. */
function binarySlow(op: BinaryOp, a: V, b: V, out: V): boolean {
  return loops.binary(op, a, b, out);
}

export function binary(op: BinaryOp, a: V, b: V, out: V): boolean {
  if (anyHalf(a, b, out)) return viaFloat32([a, b], [out], ([a32, b32], [o32]) => binary(op, a32!, b32!, o32!));
  if ((GRAD_FAST_OPS as readonly string[]).includes(op)) return activationGrad(op as GradFastOp, a, b, out);
  if (!(BINARY_FAST_OPS as readonly string[]).includes(op) || !isF32(a) || !isF32(b) || !isF32(out) || !isContiguous(out)) {
    return binarySlow(op, a, b, out);
  }
  const total = numel(out.shape);
  if (total === 0) return true;
  // The outermost split at which both inputs are [rows, n] patterns (s = 0: one flat row).
  const r = out.shape.length;
  let rows = 1, n = total, pa: RowPattern | null = null, pb: RowPattern | null = null;
  for (let s = 0; s < Math.max(r, 1); s++) {
    pa = rowPattern(a, out.shape, s);
    pb = rowPattern(b, out.shape, s);
    if (pa && pb) {
      n = numel(out.shape.slice(s));
      rows = total / n;
      break;
    }
  }
  if (!pa || !pb) return binarySlow(op, a, b, out);
  // Elements each input occupies in its buffer; give up on views that would copy a much larger span.
  const span = (p: RowPattern) => (rows - 1) * p.ro + (p.inner ? n : 1);
  const sa = span(pa), sb = span(pb);
  if (sa > 2 * total + 16 || sb > 2 * total + 16) return binarySlow(op, a, b, out);

  const rt = wasmRuntime();
  rt.reset();
  const ap = readPtr(rt, a, sa), bp = readPtr(rt, b, sb);
  // In place over an operand only when that operand is read with out's own layout.
  const exact = (p: RowPattern) => p.inner === 1 && (rows === 1 || p.ro === n);
  const o = writePtr(rt, out, total, [[ap, sa * 4], [bp, sb * 4]], exact(pa) && exact(pb));
  const op_ = o.addr;
  const threads = threadsFor(rt, total, FAST_CPU_CONFIG.elementwiseParallelMin);
  const parts: number[][] = [];
  if (rows === 1) {
    for (const [lo, hi] of splitRange(n, partsFor(threads), 4)) {
      parts.push(hi > lo ? [ap + lo * 4 * pa.inner, pa.inner, 0, bp + lo * 4 * pb.inner, pb.inner, 0, op_ + lo * 4, hi - lo, 1] : []);
    }
  } else {
    for (const [lo, hi] of splitRange(rows, partsFor(threads), 1)) {
      parts.push(hi > lo ? [ap + lo * pa.ro * 4, pa.inner, pa.ro * 4, bp + lo * pb.ro * 4, pb.inner, pb.ro * 4, op_ + lo * n * 4, n, hi - lo] : []);
    }
  }
  rt.parallel(`binary_${op as BinaryFastOp}`, 9, parts);
  o.done();
  return true;
}

/** geluGrad / siluGrad of float32 contiguous same-shape x and g in WebAssembly; else the slow path. */
function activationGrad(op: GradFastOp, x: V, g: V, out: V): boolean {
  if (![x, g, out].every((v) => isF32(v) && isContiguous(v))) return binarySlow(op, x, g, out);
  const n = numel(out.shape);
  if (n === 0) return true;
  const rt = wasmRuntime();
  rt.reset();
  const xp = readPtr(rt, x, n), gp = readPtr(rt, g, n);
  const o = writePtr(rt, out, n, [[xp, n * 4], [gp, n * 4]], true);
  const threads = threadsFor(rt, n * kernelCost(`grad_${op}`), FAST_CPU_CONFIG.elementwiseParallelMin);
  rt.parallel(`grad_${op}`, 4, splitRange(n, partsFor(threads), 4).map(([lo, hi]) => (hi > lo ? [xp + lo * 4, gp + lo * 4, o.addr + lo * 4, hi - lo] : [])));
  o.done();
  return true;
}

export function unary(op: UnaryOp, x: V, out: V): boolean {
  if (anyHalf(x, out)) return viaFloat32([x], [out], ([x32], [o32]) => unary(op, x32!, o32!));
  if (!(UNARY_FAST_OPS as readonly string[]).includes(op) || !isF32(x) || !isF32(out) || !isContiguous(x) || !isContiguous(out)) {
    return loops.unary(op, x, out);
  }
  const n = numel(out.shape);
  if (n === 0) return true;
  const rt = wasmRuntime();
  rt.reset();
  // Elementwise, so out may be x itself; any other overlap goes through scratch.
  const xp = readPtr(rt, x, n);
  const o = writePtr(rt, out, n, [[xp, n * 4]], true);
  const threads = threadsFor(rt, n * kernelCost(`unary_${op as UnaryFastOp}`), FAST_CPU_CONFIG.elementwiseParallelMin);
  const parts = splitRange(n, partsFor(threads), 4).map(([lo, hi]) => (hi > lo ? [xp + lo * 4, o.addr + lo * 4, hi - lo] : []));
  rt.parallel(`unary_${op as UnaryFastOp}`, 3, parts);
  o.done();
  return true;
}

/** out = cond ? a : b: the TypeScript loop (elementwise_loops.ts), 16-bit a/b/out through float32. */
export function where(cond: V, a: V, b: V, out: V): boolean {
  if (anyHalf(a, b, out)) return viaFloat32([cond, a, b], [out], ([c, a32, b32], [o32]) => loops.where(c!, a32!, b32!, o32!));
  return loops.where(cond, a, b, out);
}
