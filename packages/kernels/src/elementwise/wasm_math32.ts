// Float32 forms of exp and erf on four lanes (f32x4), for WebAssembly kernels that work in float32
// throughout: the rows kernels (softmax, layerNorm, …), attention, the recurrent cells, and the
// elementwise ops that take the 'f32poly' route (wasm.ts: gelu, geluGrad). Every step is one
// instruction on x86-64 and ARM and no form branches or divides.
//
// exp (`emitExp`): n = round(x·log₂e), r = x − n·ln2 (ln2 split in a high and a low part,
//   Cody–Waite, so r is accurate), e^r by its degree-7 Taylor polynomial on |r| ≤ ln2/2
//   (truncation < 1e-8), and the factor 2ⁿ built directly as float bits. Inputs below −87.33 give 0
//   (the true value is a float32 subnormal or 0), which keeps exp(−∞) = 0 exact for masked logits;
//   NaN stays NaN. Inputs above 88.37 are clamped there (`exp32` turns those past float32's
//   overflow into +∞). Maximum error 1.7 ulp, measured on 10⁶ points of [−87, 0].
//   The clamp uses pseudo-min/max (IEEE min/max cost several instructions for their NaN and ±0
//   rules), and the rounding adds 1.5·2²³ — after which the float's low mantissa bits hold n (round
//   to nearest even), so n = j − 1.5·2²³ is exact and j's bits shifted left by 23 are n's exponent
//   field (the high bits of the magic number shift out).
//
// erf (`erf32`), two forms computed on every lane and blended by |z| < 1.25:
// - |z| < 1.25: erf(z) = z + z·R(z²), R of degree 7 fitted to erf(z)/z − 1. The leading z is exact,
//   so the rounding of the correction (at most |z·R| ≤ 0.37·|z|) costs little, and the form is
//   odd with relative accuracy down to subnormals (erf(±0) = ±0);
// - |z| ≥ 1.25: erf(z) = sign(z)·(1 − e^{Q(t − 2.625)}), t = min(|z|, 4), Q of degree 6 fitted to
//   log erfc on [1.25, 4]. Past 4, e^Q < 2⁻²⁵ and the result rounds to exactly ±1 (erf(±∞) = ±1);
//   NaN passes through the clamp and stays NaN.
// The coefficients were fitted for this library by an iteratively reweighted least-squares (Lawson)
// fit minimizing the maximum error of erf itself (relative error of z + z·R; for Q the error of
// log erfc weighted by erfc, which is erf's absolute error), in float64 against the C library's
// erf/erfc, then rounded to float32. Evaluated in float32 (Estrin's scheme, this file's exp) the
// maximum error is 2.4 ulp of erf (absolute 1.4e-7), measured on every 2.5e-6 of [0, 5], 10⁶
// random points of [0, 5] and 2·10⁵ log-uniform magnitudes in [e⁻⁹⁰, 1], both signs.

import type { FuncBuilder, Local, Val } from '../wasm/emitter.js';
import type { WasmCtx } from './wasm_math.js';

type L = Local<'v128'>;

const LOG2E = 1.4426950408889634;
const LN2_HI = 0.693359375; // exactly representable: n·LN2_HI is exact for |n| ≤ 2^8
const LN2_LO = -2.12194440e-4;
const EXP_LO = -87.33;
const EXP_HI = 88.37;
/** log(float32 max): e^x overflows float32 above it. */
const EXP_OVERFLOW = 88.72283935546875;
const ROUND_MAGIC = 12582912; // 1.5·2²³
const splat4 = (c: number): [number, number, number, number] => [c, c, c, c];

/** out = exp(x) on four lanes (see the header); `t`, `n` and `r2` are scratch v128 locals. */
export function emitExp(f: FuncBuilder, x: L, out: L, t: L, n: L, r2: L): void {
  const j = n;
  f.set(t, f.f32x4Pmax(f.f32x4Pmin(f.get(x), f.v128Const(splat4(EXP_HI))), f.v128Const(splat4(EXP_LO))));
  f.set(j, f.f32x4Add(f.f32x4Mul(f.get(t), f.v128Const(splat4(LOG2E))), f.v128Const(splat4(ROUND_MAGIC))));
  f.set(out, f.f32x4Sub(f.get(j), f.v128Const(splat4(ROUND_MAGIC)))); // n as a float
  f.set(t, f.f32x4Sub(f.get(t), f.f32x4Mul(f.get(out), f.v128Const(splat4(LN2_HI)))));
  f.set(t, f.f32x4Sub(f.get(t), f.f32x4Mul(f.get(out), f.v128Const(splat4(LN2_LO)))));
  // e^r ≈ Σ_{k≤7} r^k/k!, by Estrin's scheme (pairs c_k + c_{k+1}·r, combined with r² and r⁴), whose
  // dependency chain is about half as long as Horner's.
  const c = (k: number) => f.v128Const(splat4(1 / [1, 1, 2, 6, 24, 120, 720, 5040][k]!));
  const pair = (k: number) => f.f32x4Add(c(k), f.f32x4Mul(c(k + 1), f.get(t)));
  f.set(r2, f.f32x4Mul(f.get(t), f.get(t)));
  f.set(out, f.f32x4Add(pair(4), f.f32x4Mul(pair(6), f.get(r2)))); // c4 + c5r + r²(c6 + c7r)
  f.set(out, f.f32x4Add(f.f32x4Add(pair(0), f.f32x4Mul(pair(2), f.get(r2))), // + r⁴·(…)
    f.f32x4Mul(f.get(out), f.f32x4Mul(f.get(r2), f.get(r2)))));
  // 2ⁿ as bits: n << 23 plus the exponent bias 127 << 23 (n ∈ [-126, 127] after the clamp).
  f.set(j, f.i32x4Add(f.i32x4Shl(f.get(j), f.i32(23)), f.i32x4Splat(f.i32(127 << 23))));
  f.set(out, f.f32x4Mul(f.get(out), f.get(j)));
  // Underflow (and -∞) to exactly 0: clear the lanes where x < EXP_LO.
  f.set(out, f.v128AndNot(f.get(out), f.f32x4Lt(f.get(x), f.v128Const(splat4(EXP_LO)))));
}

/**
 * e^x into a new local: `emitExp`, with +∞ past float32's overflow. On (88.37, 88.72] it gives
 * e^88.37 (low by up to 1.43×); the ops on this route use it on arguments ≤ 0 only.
 */
export function exp32(cx: WasmCtx, x: L): L {
  const { f } = cx;
  const out = cx.tmp();
  emitExp(f, x, out, cx.tmp(), cx.tmp(), cx.tmp());
  f.set(out, f.v128Bitselect(f.v128Const(splat4(Infinity)), f.get(out), f.f32x4Lt(f.v128Const(splat4(EXP_OVERFLOW)), f.get(x))));
  return out;
}

const ERF_SPLIT = 1.25;
const ERF_CLAMP = 4;
const ERF_CENTER = 2.625;
/** erf(z)/z − 1 ≈ R(z²) on |z| < 1.25, increasing powers of z² (float32 values). */
const ERF_R = [0.12837916612625122, -0.3761262893676758, 0.11283674836158752, -0.026860248297452927,
  0.005209016148000956, -0.0008339566993527114, 0.00010393860429758206, -7.572932190669235e-06];
/** log erfc(t) ≈ Q(t − 2.625) on [1.25, 4], increasing powers (float32 values). */
const ERF_Q = [-8.490671157836914, -5.589155673980713, -0.9477725028991699, -0.009759648703038692,
  0.0021141015458852053, -0.00017078849487006664, 0.000154323541210033];

/**
 * coef[0] + coef[1]·x + … on four float32 lanes by Estrin's scheme (x^(2^k) in p): the lower half
 * of the coefficients plus x^half times the upper half, recursively — a dependency chain of about
 * log₂(terms) steps instead of Horner's terms − 1.
 */
function estrin32(f: FuncBuilder, coef: readonly number[], p: readonly L[], lo = 0, n = coef.length): Val<'v128'> {
  if (n === 1) return f.v128Const(splat4(coef[lo]!));
  let k = 0;
  while (2 << k < n) k++;
  const half = 1 << k;
  return f.f32x4Add(estrin32(f, coef, p, lo, half), f.f32x4Mul(f.get(p[k]!), estrin32(f, coef, p, lo + half, n - half)));
}

/** Locals holding x, x², x⁴, … as far as `estrin32` needs for `terms` coefficients. */
function powers32(cx: WasmCtx, x: L, terms: number): L[] {
  const { f } = cx;
  const p = [x];
  for (let k = 1; 1 << k < terms; k++) {
    const q = cx.tmp();
    f.set(q, f.f32x4Mul(f.get(p[k - 1]!), f.get(p[k - 1]!)));
    p.push(q);
  }
  return p;
}

/** erf(z) on four float32 lanes (see the header), into a new local. */
export function erf32(cx: WasmCtx, z: L): L {
  const { f } = cx;
  const c = (v: number) => f.v128Const(splat4(v));
  const az = cx.tmp(), u = cx.tmp(), small = cx.tmp(), s = cx.tmp(), q = cx.tmp();
  f.set(az, f.f32x4Abs(f.get(z)));
  f.set(u, f.f32x4Mul(f.get(z), f.get(z)));
  f.set(small, f.f32x4Add(f.get(z), f.f32x4Mul(f.get(z), estrin32(f, ERF_R, powers32(cx, u, ERF_R.length)))));
  f.set(s, f.f32x4Sub(f.f32x4Pmin(f.get(az), c(ERF_CLAMP)), c(ERF_CENTER)));
  f.set(q, estrin32(f, ERF_Q, powers32(cx, s, ERF_Q.length)));
  const e = cx.tmp();
  emitExp(f, q, e, cx.tmp(), cx.tmp(), cx.tmp());
  // 1 − e with z's sign bit, then the small form where |z| < 1.25.
  f.set(e, f.v128Bitselect(f.get(z), f.f32x4Sub(c(1), f.get(e)), f.v128ConstI32(splat4(0x80000000 | 0))));
  f.set(e, f.v128Bitselect(f.get(small), f.get(e), f.f32x4Lt(f.get(az), c(ERF_SPLIT))));
  return e;
}
