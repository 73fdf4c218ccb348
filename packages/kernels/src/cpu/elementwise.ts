// CPU reference for the elementwise kernels: unary, binary, where, copy, fill.
//
// Layout: every input arrives already expanded to the output's shape (stride 0 on broadcast
// dims; core resolves broadcasting), inputs and `out` may be arbitrary strided views, and the
// i-th logical element (row-major) of each input pairs with the i-th element of `out`.
// Values are computed in float64 JS numbers and stored with the conversion rules of strided.ts
// (float32 rounds, int32 truncates toward zero, bool stores 0/1).
//
// The scalar function of each op is generated from its one expression in elementwise/ops.ts, where
// its semantics (PyTorch's: NaN, ±∞, signed zero, erf to ~1e-16, overflow-free sigmoid/softplus,
// round half to even, floored mod, comparisons as 1/0) are written down.
// div computes a/b in float64 and stores it in the out dtype. Core promotes integer division to
// float (true division, like torch.div); if it does pass an int32 `out`, the quotient is truncated
// toward zero on store (C semantics).

import type { BinaryOp, TypedArray, UnaryOp, View } from '../types.js';
import { BINARY_DEFS, UNARY_DEFS } from '../elementwise/ops.js';
import { binaryFunction, unaryFunction } from '../elementwise/javascript.js';
import { elementOffsets } from '../geometry.js';
import { readAll, typedArrayFor, writeAll, writeAt } from './strided.js';

export { erf, roundHalfEven, sigmoid } from '../elementwise/math.js';

const mapValues = <K extends string, T, R>(o: Record<K, T>, f: (v: T) => R): Record<K, R> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v as T)])) as Record<K, R>;

/** The float64 scalar function of each unary op. */
export const UNARY_FNS: Readonly<Record<UnaryOp, (x: number) => number>> = mapValues(UNARY_DEFS, (d) => unaryFunction(d.expr));

/** The float64 scalar function of each binary op (comparisons and logical ops return 1/0). */
export const BINARY_FNS: Readonly<Record<BinaryOp, (a: number, b: number) => number>> = mapValues(BINARY_DEFS, (d) => binaryFunction(d.expr));

/** out = op(x), elementwise. */
export function unary(op: UnaryOp, x: View<TypedArray>, out: View<TypedArray>): void {
  const f = UNARY_FNS[op];
  const xs = readAll(x);
  for (let i = 0; i < xs.length; i++) xs[i] = f(xs[i]!);
  writeAll(out, xs);
}

/** out = op(a, b), elementwise (a and b already expanded to out's shape). */
export function binary(op: BinaryOp, a: View<TypedArray>, b: View<TypedArray>, out: View<TypedArray>): void {
  const f = BINARY_FNS[op];
  const as = readAll(a);
  const bs = readAll(b);
  const r = new Float64Array(as.length);
  for (let i = 0; i < r.length; i++) r[i] = f(as[i]!, bs[i]!);
  writeAll(out, r);
}

/**
 * `binaryScalar` for any TypedArray `binary`: the scalar becomes a one-element buffer of a's dtype
 * (converted exactly as `fill` stores it) read through stride-0 broadcast, so the result equals
 * `binary` with a filled 0-d operand.
 */
export function binaryScalarVia(bin: typeof binary) {
  return (op: BinaryOp, a: View<TypedArray>, scalar: number, scalarFirst: boolean, out: View<TypedArray>): void => {
    const s: View<TypedArray> = { buffer: typedArrayFor(a.dtype, 1), dtype: a.dtype, shape: out.shape, strides: out.shape.map(() => 0), offset: 0 };
    writeAt(s, 0, scalar);
    if (scalarFirst) bin(op, s, a, out);
    else bin(op, a, s, out);
  };
}

export const binaryScalar = binaryScalarVia(binary);

/** out = cond ? a : b, elementwise (cond is read as truthy when non-zero). */
export function where(cond: View<TypedArray>, a: View<TypedArray>, b: View<TypedArray>, out: View<TypedArray>): void {
  const cs = readAll(cond);
  const as = readAll(a);
  const bs = readAll(b);
  const r = new Float64Array(cs.length);
  for (let i = 0; i < r.length; i++) r[i] = cs[i] !== 0 ? as[i]! : bs[i]!;
  writeAll(out, r);
}

/**
 * Strided → strided copy with dtype conversion. All of `x` is read before anything is written,
 * so a copy between overlapping views of one buffer (e.g. shifting a slice in place) is correct.
 */
export function copy(x: View<TypedArray>, out: View<TypedArray>): void {
  writeAll(out, readAll(x));
}

/** Sets every element of the (possibly strided) view to `value`, converted to its dtype. */
export function fill(out: View<TypedArray>, value: number): void {
  for (const off of elementOffsets(out)) writeAt(out, off, value);
}
