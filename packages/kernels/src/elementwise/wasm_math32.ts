// Float32 forms of exp and erf on four lanes (f32x4), for WebAssembly kernels that work in float32
// throughout: the rows kernels (softmax, layerNorm, …), attention, the recurrent cells, and the
// elementwise ops that take the 'f32poly' route (wasm.ts: gelu, geluGrad). Every step is one
// instruction on x86-64 and ARM; nothing branches, and erf divides once.
//
// exp (`emitExp`): n = round(x·log₂e), r = x − n·ln2 (ln2 split in a high and a low part,
//   Cody–Waite, so r is accurate), e^r by its degree-7 Taylor polynomial on |r| ≤ ln2/2
//   (truncation < 1e-8), and the factor 2ⁿ built directly as float bits. Inputs below −87.33 give 0
//   (the true value is a float32 subnormal or 0), which keeps exp(−∞) = 0 exact for masked logits;
//   NaN stays NaN. Inputs above 88.37 are clamped there (`exp32` turns those past float32's
//   overflow into +∞). Maximum error 1.7 ulp with separate multiplies and adds, measured on 10⁶
//   points of [−87, 0].
//   The clamp uses pseudo-min/max (IEEE min/max cost several instructions for their NaN and ±0
//   rules), and the rounding adds 1.5·2²³ — after which the float's low mantissa bits hold n (round
//   to nearest even), so n = j − 1.5·2²³ is exact and j's bits shifted left by 23 are n's exponent
//   field (the high bits of the magic number shift out).
//
// erf (`erf32`): erf(z) = z·P(z²)/Q(z²) for |z| < 3.92, P and Q of degree 5 in z² (Q(0) = 1), and
//   ±1 beyond (erf(3.92) = 1 − 2.97e-8 already rounds to 1 in float32; erf(±∞) = ±1). The argument
//   is clamped to ±3.92 before the fit (pseudo-min/max, so NaN passes through and stays NaN) and the
//   ±1 selected after it. As z·R(z²) the form is odd and keeps relative accuracy down to subnormals
//   (erf(±0) = ±0). The coefficients were fitted for this library by iteratively reweighted
//   linearized least squares (Loeb's iteration with Lawson weights) minimizing the maximum relative
//   error of erf(z)/z on [0, 3.92] against the C library's erf (float64), reaching 1.9e-8, then
//   rounded to float32. Evaluated in float32 (Estrin's scheme, one division) the maximum error is
//   5.5 ulp of erf (3.3e-7 absolute) with separate multiplies and adds and 5.0 ulp (2.9e-7) with
//   fused multiply-adds, measured on every 2.5e-6 of [0, 5] and 2·10⁵ log-uniform magnitudes in
//   [e⁻⁹⁰, 1]. One form instead of a polynomial near 0 and 1 − e^{Q} beyond costs a few ulp and
//   halves the instructions (no exp, no second polynomial, no blend).
//
// Polynomials use relaxed fused multiply-adds where the context asks for them (`fma`: the engine has
// relaxed SIMD, relaxed_simd.ts): erf32 and exp32 do; the rows, attention and recurrent kernels call
// `emitExp` without them. A kernel and the fused programs built with the same flag give the same bits.

import type { FuncBuilder, Local, Val } from '../wasm/emitter.js';
import { estrin, powers, type LaneOps, type WasmCtx } from './wasm_math.js';

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

/**
 * out = exp(x) on four lanes (see the header); `t`, `n` and `r2` are scratch v128 locals; `fma`
 * evaluates the polynomial with relaxed fused multiply-adds.
 */
export function emitExp(f: FuncBuilder, x: L, out: L, t: L, n: L, r2: L, opts: { fma?: boolean } = {}): void {
  const k = (v: number) => f.v128Const(splat4(v));
  /** a·b + c; the operands are emitted in the order each form consumes them. */
  type E = () => Val<'v128'>;
  const madd = (a: E, b: E, c: E) => (opts.fma ? f.f32x4RelaxedMadd(a(), b(), c()) : f.f32x4Add(c(), f.f32x4Mul(a(), b())));
  const j = n;
  f.set(t, f.f32x4Pmax(f.f32x4Pmin(f.get(x), k(EXP_HI)), k(EXP_LO)));
  f.set(j, f.f32x4Add(f.f32x4Mul(f.get(t), k(LOG2E)), k(ROUND_MAGIC)));
  f.set(out, f.f32x4Sub(f.get(j), k(ROUND_MAGIC))); // n as a float
  f.set(t, f.f32x4Sub(f.get(t), f.f32x4Mul(f.get(out), k(LN2_HI))));
  f.set(t, f.f32x4Sub(f.get(t), f.f32x4Mul(f.get(out), k(LN2_LO))));
  // e^r ≈ Σ_{k≤7} r^k/k!, by Estrin's scheme (pairs c_k + c_{k+1}·r, combined with r² and r⁴), whose
  // dependency chain is about half as long as Horner's.
  const c = (i: number) => k(1 / [1, 1, 2, 6, 24, 120, 720, 5040][i]!);
  const pair = (i: number) => () => madd(() => c(i + 1), () => f.get(t), () => c(i));
  const r2v = () => f.get(r2);
  f.set(r2, f.f32x4Mul(f.get(t), f.get(t)));
  f.set(out, madd(pair(6), r2v, pair(4))); // c4 + c5r + r²(c6 + c7r)
  f.set(out, madd(() => f.get(out), () => f.f32x4Mul(f.get(r2), f.get(r2)), () => madd(pair(2), r2v, pair(0)))); // c0 + … + r⁴·(…)
  // 2ⁿ as bits: n << 23 plus the exponent bias 127 << 23 (n ∈ [-126, 127] after the clamp).
  f.set(j, f.i32x4Add(f.i32x4Shl(f.get(j), f.i32(23)), k(1))); // 1.0f's bits are 127 << 23
  f.set(out, f.f32x4Mul(f.get(out), f.get(j)));
  // Underflow (and -∞) to exactly 0: clear the lanes where x < EXP_LO.
  f.set(out, f.v128AndNot(f.get(out), f.f32x4Lt(f.get(x), k(EXP_LO))));
}

/** A float32 constant in four lanes. */
const splatOf = (cx: WasmCtx) => (v: number): Val<'v128'> => cx.f.v128Const(splat4(v));

/**
 * e^x into a new local: `emitExp`, with +∞ past float32's overflow. On (88.37, 88.72] it gives
 * e^88.37 (low by up to 1.43×); the ops on this route use it on arguments ≤ 0 only.
 */
export function exp32(cx: WasmCtx, x: L): L {
  const { f } = cx;
  const out = cx.tmp(), k = splatOf(cx);
  emitExp(f, x, out, cx.tmp(), cx.tmp(), cx.tmp(), { fma: cx.fma });
  f.set(out, f.v128Bitselect(k(Infinity), f.get(out), f.f32x4Lt(k(EXP_OVERFLOW), f.get(x))));
  return out;
}

const ERF_CLAMP = 3.92;
/** The float32 just below 3.92 (the spacing in [2, 4) is 2⁻²²). */
const ERF_BELOW_CLAMP = Math.fround(ERF_CLAMP) - 2 ** -22;
/** erf(z)/z ≈ P(z²)/Q(z²) on |z| < 3.92, increasing powers of z² (float32 values). */
const ERF_P = [1.1283791065216064, 0.19041071832180023, 0.05274913087487221, 0.0037657564971596003,
  0.00028487853705883026, 2.0499589936662233e-06];
const ERF_Q = [1, 0.5020798444747925, 0.11411073058843613, 0.01496950164437294, 0.0011625556508079171,
  3.8090161979198456e-05];

/** Four float32 lanes. */
const F32X4 = (f: FuncBuilder): LaneOps => ({
  mul: (a, b) => f.f32x4Mul(a, b), add: (a, b) => f.f32x4Add(a, b), madd: (a, b, c) => f.f32x4RelaxedMadd(a, b, c), splat: (c) => f.v128Const(splat4(c)),
});

/** erf(z) on four float32 lanes (see the header), into a new local. */
export function erf32(cx: WasmCtx, z: L): L {
  const { f } = cx;
  const c = splatOf(cx);
  const t = cx.tmp(), u = cx.tmp(), out = cx.tmp();
  f.set(t, f.f32x4Pmax(f.f32x4Pmin(f.get(z), c(ERF_CLAMP)), c(-ERF_CLAMP)));
  f.set(u, f.f32x4Mul(f.get(t), f.get(t)));
  const lanes = F32X4(f);
  const p = powers(cx, lanes, u, ERF_P.length);
  f.set(out, f.f32x4Mul(f.get(t), f.f32x4Div(estrin(cx, lanes, ERF_P, p), estrin(cx, lanes, ERF_Q, p))));
  // ±1 (1 with z's sign bit) where |z| ≥ 3.92, i.e. above the float32 just below it.
  f.set(out, f.v128Bitselect(f.v128Bitselect(f.get(z), c(1), c(-0)), f.get(out), f.f32x4Lt(c(ERF_BELOW_CLAMP), f.f32x4Abs(f.get(z)))));
  return out;
}
