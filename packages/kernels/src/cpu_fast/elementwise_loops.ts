// The elementwise family of the fast cpu tier, TypeScript side: tight loops straight over the
// TypedArrays for the unary and binary ops, dtypes and layouts the WebAssembly programs do not take
// (elementwise.ts), and `where`. Each function returns false when it does not handle the case; the
// reference kernel then runs (fallback.ts).
//
// Strided views are walked by `forEachRow` (geometry.ts): a contiguous tensor is one row and a
// transposed one a few nested rows, each op running its own tight loop along the innermost one.
//
// Each op's row loop is generated from its expression (elementwise/ops.ts, elementwise/javascript.ts):
// one compiled function per op, the expression inlined in the loop. The loops evaluate in float64
// and round to float32 on store like the reference, so they are bit-identical to it, except where a
// primitive has a quicker float32-loop form: the unary loops take erf from a table (fastErf, absolute
// error below 1e-12), so gelu and erf are within the accuracy ops.ts states for the `fast` target. The
// binary loops use the reference primitives throughout (geluGrad bit-identical).

import { BINARY_DEFS, UNARY_DEFS } from '../elementwise/ops.js';
import { binaryLoop, unaryLoop, type BinaryLoop, type UnaryLoop } from '../elementwise/javascript.js';
import { aliasesDifferently, forEachRow, sharesMemory } from '../geometry.js';
import { BOOL_RESULT_OPS } from '../types.js';
import type { BinaryOp, TypedArray, UnaryOp, View } from '../types.js';
import { isF32 } from '../wasm/operands.js';
import { detached } from './copy.js';
import { whereF32 } from './select.js';

export { fastErf } from '../elementwise/math.js';

type V = View<TypedArray>;

// Compiled on first use, one per op.
const unaryLoops: Partial<Record<UnaryOp, UnaryLoop>> = {};
const binaryLoops: Partial<Record<BinaryOp, BinaryLoop>> = {};

// ---- unary -------------------------------------------------------------------------------------

export function unary(op: UnaryOp, x: V, out: V): boolean {
  if (!isF32(x) || !isF32(out) || op === 'logicalNot') return false;
  const src = aliasesDifferently(x, out) ? detached(x) : x;
  const xb = src.buffer, ob = out.buffer;
  const row = (unaryLoops[op] ??= unaryLoop(UNARY_DEFS[op].expr, true));
  forEachRow(out.shape, [src, out], (offs, n, inner) => row(xb, offs[0]!, inner[0]!, ob, offs[1]!, inner[1]!, n));
  return true;
}

// ---- binary / where ------------------------------------------------------------------------------

export function binary(op: BinaryOp, a: V, b: V, out: V): boolean {
  if (isI32(a) && isI32(b) && out.dtype === 'bool' && BOOL_RESULT_OPS.has(op)) return compareInt32(op, a, b, out);
  if (!isF32(a) || !isF32(b) || !(isF32(out) || out.dtype === 'bool')) return false;
  const arith = out.dtype === 'float32';
  if (arith === BOOL_RESULT_OPS.has(op)) return false;
  const A = aliasesDifferently(a, out) ? detached(a) : a;
  const B = aliasesDifferently(b, out) ? detached(b) : b;
  const ab = A.buffer, bb = B.buffer, ob = out.buffer as Float32Array | Uint8Array; // float32 or bool, checked above
  // Comparisons give 1/0, which a bool (Uint8Array) output stores as is.
  const row = (binaryLoops[op] ??= binaryLoop(BINARY_DEFS[op].expr, false));
  forEachRow(out.shape, [A, B, out], (offs, n, inner) => row(ab, offs[0]!, inner[0]!, bb, offs[1]!, inner[1]!, ob, offs[2]!, inner[2]!, n));
  return true;
}

const isI32 = (v: V): v is View<Int32Array> => v.dtype === 'int32' && v.buffer instanceof Int32Array;

/**
 * A comparison of int32 operands into a bool output (as `ne(targets, ignoreIndex)`): int32 values are
 * exact in float64, so the op's expression gives the reference's results. Its own compiled loops, so
 * the float32 loops' element accesses stay monomorphic. The output never shares the inputs' arrays.
 */
function compareInt32(op: BinaryOp, a: View<Int32Array>, b: View<Int32Array>, out: V): boolean {
  const ab = a.buffer, bb = b.buffer, ob = out.buffer as Uint8Array; // bool, checked by the caller
  const row = (int32CompareLoops[op] ??= binaryLoop(BINARY_DEFS[op].expr, false));
  forEachRow(out.shape, [a, b, out], (offs, n, inner) => row(ab, offs[0]!, inner[0]!, bb, offs[1]!, inner[1]!, ob, offs[2]!, inner[2]!, n));
  return true;
}
const int32CompareLoops: Partial<Record<BinaryOp, BinaryLoop>> = {};

export function where(cond: V, a: V, b: V, out: V): boolean {
  if (!isF32(a) || !isF32(b) || !isF32(out)) return false;
  if (whereF32(cond, a, b, out)) return true; // a float32 condition, contiguous: WebAssembly (select.ts)
  const C = sharesMemory(cond, out) ? null : cond;
  if (!C) return false;
  const A = aliasesDifferently(a, out) ? detached(a) : a;
  const B = aliasesDifferently(b, out) ? detached(b) : b;
  const cb = C.buffer, ab = A.buffer, bb = B.buffer, ob = out.buffer;
  forEachRow(out.shape, [C, A, B, out], (offs, n, inner) => {
    const pc = offs[0]!, pa = offs[1]!, pb = offs[2]!, po = offs[3]!;
    const sc = inner[0]!, sa = inner[1]!, sb = inner[2]!, so = inner[3]!;
    // `!== 0` is true for NaN too: any non-zero condition picks a, like the reference.
    for (let i = 0; i < n; i++) ob[po + i * so] = cb[pc + i * sc] !== 0 ? ab[pa + i * sa]! : bb[pb + i * sb]!;
  });
  return true;
}
