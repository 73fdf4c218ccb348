// CPU reference for the elementwise kernels: unary, binary, where, copy, fill.
//
// Layout: every input arrives already expanded to the output's shape (stride 0 on broadcast
// dims; core resolves broadcasting), inputs and `out` may be arbitrary strided views, and the
// i-th logical element (row-major) of each input pairs with the i-th element of `out`.
// Values are computed in float64 JS numbers and stored with the conversion rules of strided.ts
// (float32 rounds, int32 truncates toward zero, bool stores 0/1).
//
// Semantics follow PyTorch:
// - gelu is the exact 0.5·x·(1 + erf(x/√2)); geluTanh is the tanh approximation
//   0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
// - erf is computed here to about 1e-16 absolute error (tested < 1e-15) (series / continued fraction, see `erf`),
//   accurate enough for float64 finite-difference gradient checks.
// - sigmoid and softplus are evaluated in forms that neither overflow nor lose the small tail
//   for large |x|: sigmoid(x) = e^x/(1+e^x) for x < 0, softplus(x) = max(x,0) + log1p(e^-|x|).
// - round is round-half-to-even (torch.round); sign(0) = 0 and sign(NaN) = NaN.
// - logicalNot / logicalAnd / logicalOr treat any non-zero (including NaN) as true and write 1/0.
// - mod is the floored remainder (torch.remainder / Python %): the result has the divisor's sign.
// - comparisons write 1/0; any comparison with NaN is false except `ne`.
// - geluGrad(x, g) = g·(Φ(x) + x·φ(x)) with Φ(x) = ½(1 + erf(x/√2)), φ(x) = e^{−x²/2}/√(2π);
//   siluGrad(x, g) = g·σ(x)·(1 + x·(1 − σ(x))): the derivatives of gelu and silu times g.
// - div computes a/b in float64 and stores it in the out dtype. Core promotes integer division to
//   float (true division, like torch.div); if it does pass an int32 `out`, the quotient is
//   truncated toward zero on store (C semantics).

import type { BinaryOp, TypedArray, UnaryOp, View } from '../types.js';
import { elementOffsets } from '../geometry.js';
import { readAll, typedArrayFor, writeAll, writeAt } from './strided.js';

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2/√π
const ONE_OVER_SQRT_PI = 0.5641895835477563; // 1/√π
const SQRT_2_OVER_PI = 0.7978845608028654; // √(2/π)
const SQRT_HALF = 0.7071067811865476; // 1/√2
const INV_SQRT_2PI = 0.3989422804014327; // 1/√(2π)

/**
 * The error function erf(x) = 2/√π ∫₀ˣ e^{-t²} dt, to about 1e-16 absolute error.
 * - |x| < 3: the everywhere-positive series erf(x) = 2/√π · e^{-x²} · Σ_{n≥0} 2ⁿ x^{2n+1} / (1·3·…·(2n+1))
 *   (no cancellation between terms, so it keeps full double precision).
 * - 3 ≤ |x| < 6: erf = 1 - erfc, with erfc from its continued fraction
 *   erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), evaluated bottom-up.
 * - |x| ≥ 6: erfc(x) < 2.2e-17, so erf(x) = ±1 in double precision.
 */
export function erf(x: number): number {
  if (Number.isNaN(x) || x === 0) return x;
  const ax = Math.abs(x);
  let r: number;
  if (ax < 3) {
    const x2 = ax * ax;
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  } else if (ax < 6) {
    r = 1 - erfcContinuedFraction(ax);
  } else {
    r = 1;
  }
  return x < 0 ? -r : r;
}

/** erfc(x) for x ≥ 3 by its continued fraction (80 levels converge to double precision there). */
function erfcContinuedFraction(x: number): number {
  let f = x;
  for (let n = 80; n >= 1; n--) f = x + n / 2 / f;
  return (ONE_OVER_SQRT_PI * Math.exp(-x * x)) / f;
}

/** Stable logistic function. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Round half to even (banker's rounding), like torch.round. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round sends halves toward +∞; for exact halves pick the even neighbour instead.
  return Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** The scalar function of each unary op. */
export const UNARY_FNS: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  abs: (x) => Math.abs(x),
  sign: (x) => Math.sign(x),
  exp: (x) => Math.exp(x),
  expm1: (x) => Math.expm1(x),
  log: (x) => Math.log(x),
  log1p: (x) => Math.log1p(x),
  sqrt: (x) => Math.sqrt(x),
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  sin: (x) => Math.sin(x),
  cos: (x) => Math.cos(x),
  tanh: (x) => Math.tanh(x),
  sigmoid,
  relu: (x) => Math.max(x, 0), // NaN stays NaN, like torch.relu
  gelu: (x) => 0.5 * x * (1 + erf(x * SQRT_HALF)),
  geluTanh: (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))),
  silu: (x) => x * sigmoid(x),
  softplus: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  erf,
  floor: (x) => Math.floor(x),
  ceil: (x) => Math.ceil(x),
  round: roundHalfEven,
  logicalNot: (x) => (x === 0 ? 1 : 0),
};

/** C-style pow: JS Math.pow differs from C/PyTorch only for a base of ±1 with a NaN or infinite exponent. */
function powC(a: number, b: number): number {
  if (a === 1) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return Math.pow(a, b);
}

/** Floored remainder: a - b·floor(a/b), computed via fmod for accuracy; sign follows the divisor. */
function remainder(a: number, b: number): number {
  let r = a % b; // fmod: sign of the dividend
  if (r !== 0 && r < 0 !== b < 0) r += b;
  return r;
}

const truth = (x: number): boolean => x !== 0; // NaN is true

/** The scalar function of each binary op (comparisons and logical ops return 1/0). */
export const BINARY_FNS: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: powC,
  maximum: (a, b) => Math.max(a, b), // propagates NaN, like torch.maximum
  minimum: (a, b) => Math.min(a, b),
  mod: remainder,
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  logicalAnd: (a, b) => (truth(a) && truth(b) ? 1 : 0),
  logicalOr: (a, b) => (truth(a) || truth(b) ? 1 : 0),
  geluGrad: (x, g) => g * (0.5 * (1 + erf(x * SQRT_HALF)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x)),
  siluGrad: (x, g) => {
    const s = sigmoid(x);
    return g * s * (1 + x * (1 - s));
  },
};

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
