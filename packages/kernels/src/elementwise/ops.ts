// Every elementwise op, once: its expression over the primitives (expr.ts, primitives.ts) and its
// accuracy contract on the targets that are not bit-identical to the reference. The reference
// (reference.ts), the fast float32 loops, the WGSL (wgsl.ts) and the WebAssembly (wasm.ts) are all
// generated from these entries, and types.ts derives UNARY_OPS, BINARY_OPS and BOOL_RESULT_OPS
// from them: adding an elementwise kernel op is one entry here plus its tests.
//
// Semantics follow PyTorch:
// - gelu is the exact 0.5·x·(1 + erf(x/√2)); geluTanh is the tanh approximation
//   0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), written as x·σ(2·√(2/π)·(x + 0.044715·x³)), the
//   same function without the cancellation of 1 + tanh for negative x;
// - sigmoid and softplus are evaluated in forms that neither overflow nor lose the small tail for
//   large |x|: softplus(x) = max(x, 0) + log1p(e^{−|x|});
// - round is round-half-to-even (torch.round); sign(±0) = ±0 and sign(NaN) = NaN; relu, maximum and
//   minimum propagate NaN;
// - logicalNot / logicalAnd / logicalOr treat any non-zero (NaN included) as true and write 1/0;
// - mod is the floored remainder (torch.remainder / Python %): the result has the divisor's sign;
// - comparisons write 1/0; any comparison with NaN is false except `ne`;
// - geluGrad(x, g) = g·(Φ(x) + x·φ(x)) with Φ(x) = ½(1 + erf(x/√2)), φ(x) = e^{−x²/2}/√(2π);
//   siluGrad(x, g) = g·σ(x)·(1 + x·(1 − σ(x))): the derivatives of gelu and silu times g;
// - div is true division; with an int32 `out` the quotient is truncated toward zero on store.
//
// Accuracy is stated against the float64 reference rounded to the output dtype, per target:
// `fast` (the float32 TypeScript loops), `wasm` (the float32 WebAssembly kernels), `wgsl` (f32 on the
// GPU). A target missing from an op's `accuracy` is bit-identical there, except `wgsl`, which
// computes in f32 and defaults to `WGSL_DEFAULT`, and `wasm` in float64 lanes through a primitive
// that is inexact there (exp, tanh, sigmoid: rounded once from a float64 approximation): 1 ulp.
// An op with `route: 'f32poly'` (gelu, geluGrad) runs in float32 lanes in WebAssembly (wasm.ts) and
// states its `wasm` accuracy.

import type { ArgName, Expr } from './expr.js';
import {
  a, abs, add, and, b, ceil, cos, div, eq, erf, exp, expm1, floor, ge, gt, le, log, log1p, lt, max, min, mod, mul, ne, neg,
  or, pow, roundHalfEven, sigmoid, sign, sin, sqrt, sub, tanh, truth, x,
} from './expr.js';

/**
 * |got − want| ≤ ulp·(float32 spacing at want) + rel·|want| + abs + absPer.k·max(1, |operand absPer.arg|).
 * NaN must be NaN and ±∞ exact; with no tolerance at all the result must be equal bit for bit (signed zero included).
 */
export interface Accuracy {
  ulp?: number;
  rel?: number;
  abs?: number;
  absPer?: { arg: ArgName; k: number };
}
export type Target = 'fast' | 'wasm' | 'wgsl';

export interface OpDef {
  readonly expr: Expr;
  /**
   * 'f32poly': the WebAssembly kernels evaluate the op in float32 lanes with float32 approximations
   * of its transcendental primitives (elementwise/wasm.ts) instead of in float64 lanes.
   */
  readonly route?: 'f32poly';
  readonly accuracy?: Partial<Record<Target, Accuracy>>;
}

/**
 * f32 on the GPU against float64: a few f32 roundings of the result. On finite normal inputs whose result
 * is finite: WGSL leaves non-finite f32 arithmetic and subnormals to the adapter.
 */
export const WGSL_DEFAULT: Accuracy = { rel: 1e-5, abs: 1e-6 };
/** GPU ops built on the WGSL_MATH transcendental helpers (exp_, sin_, erf_, …) on |x| ≤ 8. */
const WGSL_TRANSCENDENTAL: Accuracy = { rel: 1e-5, abs: 1e-5 };

const SQRT_HALF = 0.7071067811865476; // 1/√2
const SQRT_8_OVER_PI = 1.5957691216057308; // 2·√(2/π), exactly twice the float64 √(2/π)
const INV_SQRT_2PI = 0.3989422804014327; // 1/√(2π)

/** erf(x/√2): the table of the float32 loops is 1e-12 absolute, the WebAssembly fit 1.6e-8. */
const erfHalf = (v: Expr) => erf(mul(v, SQRT_HALF));

/**
 * gelu in float32 lanes (route 'f32poly'): erf within 5.5 ulp (3.3e-7 absolute, wasm_math32.ts).
 * Where 1 + erf(x/√2) cancels (x < 0) that is an absolute error of about ½|x|·3e-7: measured at
 * most 1.5e-7·|x| beyond 2 ulp (x ≈ −3.2), on every 2.5e-5 of [−12, 12] and 2·10⁵ log-uniform
 * magnitudes, in both builds (with and without fused multiply-adds). Past x ≈ −5.5, where erf
 * rounds to −1, the result is −0 against true values below 1e-7·|x|. PyTorch's float32 GELU has
 * the same kind of bound (torch 1.13 on x86-64, same grid: 9.7e-8·max(1, |x|) beyond 2 ulp).
 */
const GELU_F32POLY: Accuracy = { ulp: 2, absPer: { arg: 'x', k: 1.6e-7 } };
/**
 * geluGrad in float32 lanes: Φ(a) + a·φ(a) has an absolute error below 1.5e-7 beyond 2 ulp
 * (measured as for gelu: 1.45e-7 at a ≈ −4.2); it crosses 0 at a ≈ −0.75, so the error is stated
 * absolutely, times max(1, |g|). For a < −13.2 the derivative underflows float32 to 0, so an
 * infinite g gives NaN (∞·0) where the float64 reference gives ±∞.
 */
const GELU_GRAD_F32POLY: Accuracy = { ulp: 2, absPer: { arg: 'b', k: 1.6e-7 } };

/** σ(a), one node used twice by siluGrad: evaluated once where the target shares nodes. */
const sigmoidA = sigmoid(a);

export const UNARY_DEFS = {
  neg: { expr: neg(x) },
  abs: { expr: abs(x) },
  sign: { expr: sign(x) },
  exp: { expr: exp(x), accuracy: { wgsl: WGSL_TRANSCENDENTAL } },
  expm1: { expr: expm1(x), accuracy: { wgsl: WGSL_TRANSCENDENTAL } },
  log: { expr: log(x) },
  log1p: { expr: log1p(x) },
  sqrt: { expr: sqrt(x) },
  rsqrt: { expr: div(1, sqrt(x)) },
  square: { expr: mul(x, x) },
  reciprocal: { expr: div(1, x) },
  sin: { expr: sin(x), accuracy: { wgsl: WGSL_TRANSCENDENTAL } },
  cos: { expr: cos(x), accuracy: { wgsl: WGSL_TRANSCENDENTAL } },
  tanh: { expr: tanh(x), accuracy: { wgsl: WGSL_TRANSCENDENTAL } },
  sigmoid: { expr: sigmoid(x), accuracy: { wgsl: WGSL_TRANSCENDENTAL } },
  relu: { expr: max(x, 0) },
  gelu: {
    expr: mul(0.5, x, add(1, erfHalf(x))),
    route: 'f32poly',
    accuracy: { fast: { ulp: 1, absPer: { arg: 'x', k: 1e-12 } }, wasm: GELU_F32POLY, wgsl: WGSL_TRANSCENDENTAL },
  },
  geluTanh: { expr: mul(x, sigmoid(mul(SQRT_8_OVER_PI, add(x, mul(0.044715, x, x, x))))), accuracy: { wgsl: WGSL_TRANSCENDENTAL } },
  silu: { expr: mul(x, sigmoid(x)), accuracy: { wgsl: WGSL_TRANSCENDENTAL } },
  softplus: { expr: add(max(x, 0), log1p(exp(neg(abs(x))))), accuracy: { wgsl: WGSL_TRANSCENDENTAL } },
  erf: { expr: erf(x), accuracy: { fast: { ulp: 1, abs: 1e-12 }, wasm: { ulp: 1, abs: 2e-8 }, wgsl: WGSL_TRANSCENDENTAL } },
  floor: { expr: floor(x) },
  ceil: { expr: ceil(x) },
  round: { expr: roundHalfEven(x) },
  logicalNot: { expr: eq(x, 0) },
} satisfies Record<string, OpDef>;

export const BINARY_DEFS = {
  add: { expr: add(a, b) },
  sub: { expr: sub(a, b) },
  mul: { expr: mul(a, b) },
  div: { expr: div(a, b) },
  pow: { expr: pow(a, b), accuracy: { wgsl: WGSL_TRANSCENDENTAL } },
  maximum: { expr: max(a, b) },
  minimum: { expr: min(a, b) },
  mod: { expr: mod(a, b) },
  eq: { expr: eq(a, b) },
  ne: { expr: ne(a, b) },
  lt: { expr: lt(a, b) },
  le: { expr: le(a, b) },
  gt: { expr: gt(a, b) },
  ge: { expr: ge(a, b) },
  logicalAnd: { expr: and(truth(a), truth(b)) },
  logicalOr: { expr: or(truth(a), truth(b)) },
  geluGrad: {
    expr: mul(b, add(mul(0.5, add(1, erfHalf(a))), mul(a, INV_SQRT_2PI, exp(mul(-0.5, a, a))))),
    route: 'f32poly',
    accuracy: { wasm: GELU_GRAD_F32POLY, wgsl: WGSL_TRANSCENDENTAL },
  },
  siluGrad: { expr: mul(b, sigmoidA, add(1, mul(a, sub(1, sigmoidA)))), accuracy: { wgsl: WGSL_TRANSCENDENTAL } },
} satisfies Record<string, OpDef>;

export type UnaryOpName = keyof typeof UNARY_DEFS;
export type BinaryOpName = keyof typeof BINARY_DEFS;
