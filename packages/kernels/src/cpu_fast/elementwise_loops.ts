// The elementwise family of the fast cpu tier, TypeScript side: tight loops straight over the
// TypedArrays for the unary and binary ops, dtypes and layouts the WebAssembly programs do not take
// (elementwise.ts), and `where`. Each function returns false when it does not handle the case; the
// reference kernel then runs (fallback.ts).
//
// Strided views are walked by `forEachRow` (geometry.ts): a contiguous tensor is one row and a
// transposed one a few nested rows, each op running its own tight loop along the innermost one.
//
// Results: the ops use the same scalar functions as the reference and round the same float64 value
// to float32, so they are bit-identical, except gelu/erf, whose erf comes from a table with a short
// Taylor expansion (absolute error below 1e-12, far under float32 resolution).

import { BINARY_FNS, UNARY_FNS, erf as erfRef } from '../cpu/elementwise.js';
import { aliasesDifferently, forEachRow, sharesMemory } from '../geometry.js';
import { BOOL_RESULT_OPS } from '../types.js';
import type { BinaryOp, TypedArray, UnaryOp, View } from '../types.js';
import { isF32 } from '../wasm/operands.js';
import { detached } from './copy.js';

type V = View<TypedArray>;

// ---- erf / gelu --------------------------------------------------------------------------------

// erf on a table: nodes x_i = i/32 on [0, 6] hold erf(x_i) (from the reference) and
// c_i = 2/√π·e^{-x_i²}. Near a node, erf(x_i + h) = erf(x_i) + c_i·(h - x_i h² + (2x_i²-1)/3 h³
// + (3x_i - 2x_i³)/6 h⁴ + (4x_i⁴ - 12x_i² + 3)/30 h⁵) + O(h⁶) (the derivatives of erf are Hermite
// polynomials times e^{-x²}); with |h| ≤ 1/64 the remainder is below 1e-12. For |x| ≥ 6, erf = ±1.
const ERF_SCALE = 32;
const ERF_NODES = 6 * ERF_SCALE + 1;
const ERF_TAB = new Float64Array(ERF_NODES * 6);
for (let i = 0; i < ERF_NODES; i++) {
  const x = i / ERF_SCALE, x2 = x * x;
  ERF_TAB.set([erfRef(x), 1.1283791670955126 * Math.exp(-x2), -x, (2 * x2 - 1) / 3, (3 * x - 2 * x2 * x) / 6,
    (4 * x2 * x2 - 12 * x2 + 3) / 30], i * 6);
}

export function fastErf(x: number): number {
  if (x === 0 || x !== x) return x; // keeps -0 and NaN, like the reference
  const ax = x < 0 ? -x : x;
  if (ax >= 6) return x < 0 ? -1 : 1;
  const i = (ax * ERF_SCALE + 0.5) | 0;
  const h = ax - i / ERF_SCALE;
  const t = i * 6;
  const r = ERF_TAB[t]! + ERF_TAB[t + 1]! * h * (1 + h * (ERF_TAB[t + 2]! + h * (ERF_TAB[t + 3]! + h * (ERF_TAB[t + 4]! + h * ERF_TAB[t + 5]!))));
  return x < 0 ? -r : r;
}

const SQRT_HALF = 0.7071067811865476;

// ---- unary -------------------------------------------------------------------------------------

/** o[po + i·so] = op(x[px + i·sx]) for i < n, the hot ops as dedicated loops. */
function unaryRow(op: UnaryOp, x: Float32Array, px: number, sx: number, o: Float32Array, po: number, so: number, n: number): void {
  switch (op) {
    case 'gelu':
      for (let i = 0; i < n; i++) { const v = x[px + i * sx]!; o[po + i * so] = 0.5 * v * (1 + fastErf(v * SQRT_HALF)); }
      return;
    case 'erf':
      for (let i = 0; i < n; i++) o[po + i * so] = fastErf(x[px + i * sx]!);
      return;
    case 'exp':
      for (let i = 0; i < n; i++) o[po + i * so] = Math.exp(x[px + i * sx]!);
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) o[po + i * so] = Math.tanh(x[px + i * sx]!);
      return;
    case 'neg':
      for (let i = 0; i < n; i++) o[po + i * so] = -x[px + i * sx]!;
      return;
    case 'square':
      for (let i = 0; i < n; i++) { const v = x[px + i * sx]!; o[po + i * so] = v * v; }
      return;
    case 'relu':
      for (let i = 0; i < n; i++) o[po + i * so] = Math.max(x[px + i * sx]!, 0);
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) o[po + i * so] = Math.sqrt(x[px + i * sx]!);
      return;
    case 'rsqrt':
      for (let i = 0; i < n; i++) o[po + i * so] = 1 / Math.sqrt(x[px + i * sx]!);
      return;
    case 'log':
      for (let i = 0; i < n; i++) o[po + i * so] = Math.log(x[px + i * sx]!);
      return;
    default: {
      const f = UNARY_FNS[op];
      for (let i = 0; i < n; i++) o[po + i * so] = f(x[px + i * sx]!);
    }
  }
}

export function unary(op: UnaryOp, x: V, out: V): boolean {
  if (!isF32(x) || !isF32(out) || op === 'logicalNot') return false;
  const src = aliasesDifferently(x, out) ? detached(x) : x;
  const xb = src.buffer, ob = out.buffer;
  forEachRow(out.shape, [src, out], (offs, n, inner) => unaryRow(op, xb, offs[0]!, inner[0]!, ob, offs[1]!, inner[1]!, n));
  return true;
}

// ---- binary / where ------------------------------------------------------------------------------

export function binary(op: BinaryOp, a: V, b: V, out: V): boolean {
  if (!isF32(a) || !isF32(b) || !(isF32(out) || out.dtype === 'bool')) return false;
  const arith = out.dtype === 'float32';
  if (arith === BOOL_RESULT_OPS.has(op)) return false;
  const A = aliasesDifferently(a, out) ? detached(a) : a;
  const B = aliasesDifferently(b, out) ? detached(b) : b;
  const ab = A.buffer, bb = B.buffer, ob = out.buffer;
  const f = BINARY_FNS[op];
  forEachRow(out.shape, [A, B, out], (offs, n, inner) => {
    const pa = offs[0]!, pb = offs[1]!, po = offs[2]!, sa = inner[0]!, sb = inner[1]!, so = inner[2]!;
    switch (op) {
      case 'add': for (let i = 0; i < n; i++) ob[po + i * so] = ab[pa + i * sa]! + bb[pb + i * sb]!; return;
      case 'sub': for (let i = 0; i < n; i++) ob[po + i * so] = ab[pa + i * sa]! - bb[pb + i * sb]!; return;
      case 'mul': for (let i = 0; i < n; i++) ob[po + i * so] = ab[pa + i * sa]! * bb[pb + i * sb]!; return;
      case 'div': for (let i = 0; i < n; i++) ob[po + i * so] = ab[pa + i * sa]! / bb[pb + i * sb]!; return;
      default:
        // Comparisons return 1/0, which a bool (Uint8Array) output stores as is.
        for (let i = 0; i < n; i++) ob[po + i * so] = f(ab[pa + i * sa]!, bb[pb + i * sb]!);
    }
  });
  return true;
}

export function where(cond: V, a: V, b: V, out: V): boolean {
  if (!isF32(a) || !isF32(b) || !isF32(out)) return false;
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
