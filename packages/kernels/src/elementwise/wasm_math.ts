// The WebAssembly forms of the transcendental primitives: float64 sequences on two lanes (f64x2),
// for the float32 kernels that promote each half of a vector, evaluate in float64 and round to
// float32 once (wasm.ts). Their float64 errors (≤ 1e-11 relative; erf ≤ 1.6e-8 absolute) are far
// below float32's resolution, so a kernel's result is the reference's float32 value or, in rare
// near-tie cases, its neighbour (1 ulp). Working in float64 also avoids float32 cancellation (tanh
// near 0, 1 + erf near −1) without extra cases. Where the engine has relaxed SIMD the polynomials
// use fused multiply-adds (`estrin`); that moves float64 results by about 1e-16, which the single
// rounding to float32 does not see except in the near-tie cases already counted.
//
// exp: the input is clamped to [−708, 709] so that 2ⁿ stays a normal float64; n = round(x·log₂e),
// r = x − n·ln2 with ln2 split into a high part of 24 significant bits (n·hi is exact) and a low
// part (Cody–Waite), so |r| ≤ ln2/2 is accurate; e^r by its degree-9 Taylor polynomial (truncation
// below 0.347¹⁰/10! ≈ 7e-12 relative). 2ⁿ is built as float bits: adding 2⁵² + 1023 to the
// integer-valued n leaves n + 1023 in the low mantissa bits, and a 64-bit shift left by 52 moves it
// into the exponent field. Inputs above 709 give +∞ and below −708 give 0 (as float32 results those
// are +∞ and 0 anyway); NaN stays NaN.
//
// tanh(x) = (e − 1)/(e + 1) with e = e^{2x} on x clamped to [−20, 20] (tanh(±20) is ±1 in float64),
// and tanh(x) = x for |x| < 1e-5 (there x³/3 is below 1e-10 relative, and the quotient's
// cancellation would cost accuracy). sigmoid(x) = 1/(1 + e^{−x}): no cancellation anywhere.
//
// erf(z): for |z| ≤ 4, erf(z) = z·P(z²)/Q(z²) with P and Q of degree 7 in z² (all coefficients
// positive, so Q has no zero on the real line). The coefficients were fitted for this library by an
// iteratively reweighted linear least-squares (Lawson) fit of the rational form to erf on a dense
// grid of [0, 4], with erf evaluated in 40-digit arithmetic; the maximum absolute error of the fit on
// [0, 4] is 1.3e-11, and as z·R(z²) it is odd and keeps relative accuracy near 0 (erf(−0) = −0).
// For |z| > 4 the result is ±1; erf(4) = 1 − 1.54e-8, so the overall maximum absolute error is
// 1.6e-8, a quarter of float32's spacing just below 1.

import type { FuncBuilder, Local, Val } from '../wasm/emitter.js';

type V = Val<'v128'>;
type L = Local<'v128'>;

/** What a lowering needs (float64 lanes here, float32 lanes in wasm_math32.ts): the function being built, fresh v128 locals, and whether to fuse multiply-adds. */
export interface WasmCtx {
  readonly f: FuncBuilder;
  /** Evaluate polynomials with relaxed fused multiply-adds (relaxed_simd.ts). */
  readonly fma: boolean;
  /** A fresh v128 local. */
  tmp(): L;
}

const LOG2E = Math.LOG2E;
const LN2_HI = Math.fround(Math.LN2); // 24 significant bits: n·LN2_HI is exact for |n| < 2^29
const LN2_LO = Math.LN2 - LN2_HI;
const EXP_MIN = -708;
const EXP_MAX = 709;
/** 2⁵² + 1023: added to an integer-valued float64 n, leaves n + 1023 in the low mantissa bits. */
const EXP_MAGIC = 4503599627370496 + 1023;
const TANH_CLAMP = 20;
const TANH_SMALL = 1e-5;
const ERF_CLAMP = 4;
/** erf(z) ≈ z·P(z²)/Q(z²) on |z| ≤ 4; coefficients in increasing powers of z². */
const ERF_P = [1.1283791669556544, 0.20482693422420412, 0.0588453303852565, 0.005178534536600461,
  0.0005281768142701473, 2.3363758827652742e-05, 7.742325250030655e-07, 2.9496977085665293e-09];
const ERF_Q = [1.0, 0.5148564750584448, 0.12376915526222378, 0.018169580853381023, 0.0017766102066384755,
  0.0001167619243412207, 4.791208972187718e-06, 7.34228943277714e-08];
const EXP_TAYLOR = [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040, 1 / 40320, 1 / 362880];

/** A float64 constant in both lanes. */
export const c2 = (f: FuncBuilder, v: number): V => f.v128ConstF64([v, v]);

/**
 * x clamped to [lo, hi] on two float64 lanes, NaN kept. Pseudo-min/max are one instruction each;
 * IEEE min/max, whose NaN and ±0 rules a clamp against constants does not need, take several.
 */
const clamp = (f: FuncBuilder, x: L, lo: number, hi: number): V => f.f64x2Pmax(f.f64x2Pmin(f.get(x), c2(f, hi)), c2(f, lo));

/** The lane arithmetic a polynomial needs: float64 on two lanes or float32 on four. */
export interface LaneOps {
  mul(a: V, b: V): V;
  add(a: V, b: V): V;
  /** a·b + c, fused (relaxed SIMD). */
  madd(a: V, b: V, c: V): V;
  splat(c: number): V;
}

/** Two float64 lanes. */
export const F64X2 = (f: FuncBuilder): LaneOps => ({
  mul: (a, b) => f.f64x2Mul(a, b), add: (a, b) => f.f64x2Add(a, b), madd: (a, b, c) => f.f64x2RelaxedMadd(a, b, c), splat: (c) => c2(f, c),
});

/** Locals holding x, x², x⁴, … up to the powers `estrin` needs for `terms` coefficients. */
export function powers(cx: WasmCtx, lanes: LaneOps, x: L, terms: number): L[] {
  const { f } = cx;
  const p = [x];
  for (let k = 1; 1 << k < terms; k++) {
    const q = cx.tmp();
    f.set(q, lanes.mul(f.get(p[k - 1]!), f.get(p[k - 1]!)));
    p.push(q);
  }
  return p;
}

/**
 * coef[0] + coef[1]·x + … by Estrin's scheme, the powers x^(2^k) in p: the lower half of the
 * coefficients plus x^half times the upper half, recursively. Its longest chain is about
 * log₂(terms) multiply-adds instead of Horner's terms − 1, so the out-of-order core overlaps more
 * of it; the kernels are bound by that chain, not by the instruction count.
 */
export function estrin(cx: WasmCtx, lanes: LaneOps, coef: readonly number[], p: readonly L[], lo = 0, n = coef.length): V {
  const { f } = cx;
  if (n === 1) return lanes.splat(coef[lo]!);
  let k = 0;
  while (2 << k < n) k++;
  const half = 1 << k;
  // (Operands are pushed in argument order: relaxed_madd(a, b, c) = a·b + c.)
  if (cx.fma) return lanes.madd(f.get(p[k]!), estrin(cx, lanes, coef, p, lo + half, n - half), estrin(cx, lanes, coef, p, lo, half));
  return lanes.add(estrin(cx, lanes, coef, p, lo, half), lanes.mul(f.get(p[k]!), estrin(cx, lanes, coef, p, lo + half, n - half)));
}

/** e^t for t already inside [EXP_MIN, EXP_MAX] (or NaN), into a new local. */
function expCore(cx: WasmCtx, t: L): L {
  const { f } = cx;
  const n = cx.tmp(), r = cx.tmp(), out = cx.tmp();
  f.set(n, f.f64x2Nearest(f.f64x2Mul(f.get(t), c2(f, LOG2E))));
  f.set(r, f.f64x2Sub(f.get(t), f.f64x2Mul(f.get(n), c2(f, LN2_HI))));
  f.set(r, f.f64x2Sub(f.get(r), f.f64x2Mul(f.get(n), c2(f, LN2_LO))));
  f.set(out, estrin(cx, F64X2(f), EXP_TAYLOR, powers(cx, F64X2(f), r, EXP_TAYLOR.length)));
  f.set(n, f.i64x2Shl(f.f64x2Add(f.get(n), c2(f, EXP_MAGIC)), f.i32(52)));
  f.set(out, f.f64x2Mul(f.get(out), f.get(n)));
  return out;
}

/** e^x for any x: +∞ above EXP_MAX, 0 below EXP_MIN, NaN for NaN. */
export function exp64(cx: WasmCtx, x: L): L {
  const { f } = cx;
  const t = cx.tmp();
  f.set(t, clamp(f, x, EXP_MIN, EXP_MAX));
  const out = expCore(cx, t);
  f.set(out, f.v128Bitselect(c2(f, Infinity), f.get(out), f.f64x2Gt(f.get(x), c2(f, EXP_MAX))));
  f.set(out, f.v128AndNot(f.get(out), f.f64x2Lt(f.get(x), c2(f, EXP_MIN))));
  return out;
}

/** erf(z) by the rational fit above. */
export function erf64(cx: WasmCtx, z: L): L {
  const { f } = cx;
  const t = cx.tmp(), u = cx.tmp(), out = cx.tmp();
  f.set(t, clamp(f, z, -ERF_CLAMP, ERF_CLAMP));
  f.set(u, f.f64x2Mul(f.get(t), f.get(t)));
  const lanes = F64X2(f);
  const p = powers(cx, lanes, u, ERF_P.length);
  f.set(out, f.f64x2Div(f.f64x2Mul(f.get(t), estrin(cx, lanes, ERF_P, p)), estrin(cx, lanes, ERF_Q, p)));
  // Past the clamp t = ±4 exactly, so t/4 is the exact ±1.
  f.set(out, f.v128Bitselect(f.f64x2Mul(f.get(t), c2(f, 1 / ERF_CLAMP)), f.get(out),
    f.f64x2Gt(f.f64x2Abs(f.get(z)), c2(f, ERF_CLAMP))));
  return out;
}

/** tanh(x) = (e^{2x} − 1)/(e^{2x} + 1), x itself near 0. */
export function tanh64(cx: WasmCtx, x: L): L {
  const { f } = cx;
  const t = cx.tmp(), out = cx.tmp();
  f.set(t, f.f64x2Mul(clamp(f, x, -TANH_CLAMP, TANH_CLAMP), c2(f, 2)));
  const e = expCore(cx, t);
  f.set(out, f.f64x2Div(f.f64x2Sub(f.get(e), c2(f, 1)), f.f64x2Add(f.get(e), c2(f, 1))));
  f.set(out, f.v128Bitselect(f.get(x), f.get(out), f.f64x2Lt(f.f64x2Abs(f.get(x)), c2(f, TANH_SMALL))));
  return out;
}

/** σ(x) = 1/(1 + e^{−x}). */
export function sigmoid64(cx: WasmCtx, x: L): L {
  const { f } = cx;
  const m = cx.tmp(), out = cx.tmp();
  f.set(m, f.f64x2Neg(f.get(x)));
  const e = exp64(cx, m);
  f.set(out, f.f64x2Div(c2(f, 1), f.f64x2Add(c2(f, 1), f.get(e))));
  return out;
}
