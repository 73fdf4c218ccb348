// WebAssembly SIMD programs for the float32 unary kernels on contiguous data.
//
// unary_<op>(x, out, n) writes out[i] = op(x[i]) for i < n, four elements per loop step. The caller
// hands each thread a range starting at a multiple of 4; a range whose length is not a multiple of 4
// is finished by one more full step, which reads up to three floats past x's range and writes up to
// three past out's — both inside the 16 bytes of slack every heap block has (runtime.ts), so
// there is no scalar tail.
//
// Two kinds of op:
// - neg, abs, square, relu, sqrt run on f32x4 directly. These float32 operations are exact or
//   correctly rounded, as is the reference's float64 result rounded to float32 (a product of two
//   floats is exact in float64; float64 has more than twice float32's precision for sqrt), so the
//   results are bit-identical to the reference.
// - rsqrt, exp, tanh, sigmoid, silu, gelu, geluTanh and erf promote each half of the vector to f64x2,
//   evaluate in float64 and round the result to float32 once. rsqrt (1/√x in float64) is then
//   bit-identical to the reference; the others use the approximations below, whose float64 errors
//   (≤ 1e-11 relative, erf ≤ 1.6e-8 absolute) are far below float32's resolution, so the result is
//   the reference's float32 value or, in rare near-tie cases, its neighbour (1 ulp), with the
//   exceptions noted for gelu/erf. Working in float64 also avoids float32 cancellation (tanh near 0,
//   1 + erf near −1) without extra cases. Where the engine has relaxed SIMD the polynomials use
//   fused multiply-adds (`estrin`); that moves float64 results by about 1e-16, which the single
//   rounding to float32 does not see except in the rare near-tie cases already counted above.
//
// exp (float64, two lanes): the input is clamped to [−708, 709] so that 2ⁿ stays a normal float64;
// n = round(x·log₂e), r = x − n·ln2 with ln2 split into a high part of 24 significant bits (n·hi is
// exact) and a low part (Cody–Waite), so |r| ≤ ln2/2 is accurate; e^r by its degree-9 Taylor
// polynomial (truncation below 0.347¹⁰/10! ≈ 7e-12 relative). 2ⁿ is built as float bits: adding
// 2⁵² + 1023 to the integer-valued n leaves n + 1023 in the low mantissa bits, and a 64-bit shift left
// by 52 moves it into the exponent field. Inputs above 709 give +∞ and below −708 give 0 (as float32
// results those are +∞ and 0 anyway); NaN stays NaN.
//
// tanh(x) = (e − 1)/(e + 1) with e = e^{2x} on x clamped to [−20, 20] (tanh(±20) is ±1 in float64),
// and tanh(x) = x for |x| < 1e-5 (there x³/3 is below 1e-10 relative, and the quotient's
// cancellation would cost accuracy). sigmoid(x) = 1/(1 + e^{−x}), silu(x) = x/(1 + e^{−x}) and
// geluTanh(x) = ½x(1 + tanh u) = x/(1 + e^{−2u}), u = √(2/π)(x + 0.044715x³): no cancellation
// anywhere, and ±∞ give the reference's values (silu(−∞) = geluTanh(−∞) = NaN = −∞·0).
//
// erf(z): for |z| ≤ 4, erf(z) = z·P(z²)/Q(z²) with P and Q of degree 7 in z² (all coefficients
// positive, so Q has no zero on the real line). The coefficients were fitted for this library by an
// iteratively reweighted linear least-squares (Lawson) fit of the rational form to erf on a dense
// grid of [0, 4], with erf evaluated in 40-digit arithmetic; the maximum absolute error of the fit on
// [0, 4] is 1.3e-11, and as z·R(z²) it is odd and keeps relative accuracy near 0 (erf(−0) = −0).
// For |z| > 4 the result is ±1; erf(4) = 1 − 1.54e-8, so the overall maximum absolute error is
// 1.6e-8, a quarter of float32's spacing just below 1. gelu(x) = ½x(1 + erf(x/√2)) inherits an
// absolute error of at most ½|x|·1.6e-8 (≤ 5e-8, where |x| ≤ 4√2; exactly −0 beyond, against true
// values below 1e-9 in magnitude), on top of float32 rounding.

//
// grad_<op>(x, g, out, n) writes out[i] = g[i]·f'(x[i]) for the activation gradients (binary ops
// geluGrad and siluGrad), with the same float64 evaluation: gelu' = Φ(x) + x·φ(x) from erf and exp
// above, silu' = σ(1 + x(1 − σ)) with σ = 1/(1 + e^{−x}).

import type { FuncBuilder, Local, ModuleBuilder, Val } from './emitter.js';

export const UNARY_FAST_OPS = [
  'neg', 'abs', 'square', 'relu', 'sqrt', 'rsqrt', 'exp', 'tanh', 'sigmoid', 'silu', 'gelu', 'geluTanh', 'erf',
] as const;
export type UnaryFastOp = (typeof UNARY_FAST_OPS)[number];

type V = Val<'v128'>;
type L = Local<'v128'>;

/** The f32x4 ops (exact or correctly rounded in float32). */
const F32: Partial<Record<UnaryFastOp, (f: FuncBuilder, x: L) => V>> = {
  neg: (f, x) => f.f32x4Neg(f.get(x)),
  abs: (f, x) => f.f32x4Abs(f.get(x)),
  square: (f, x) => f.f32x4Mul(f.get(x), f.get(x)),
  sqrt: (f, x) => f.f32x4Sqrt(f.get(x)),
  relu: (f, x) => f.f32x4Max(f.get(x), f.v128Const([0, 0, 0, 0])),
};

const LOG2E = Math.LOG2E;
const LN2_HI = Math.fround(Math.LN2); // 24 significant bits: n·LN2_HI is exact for |n| < 2^29
const LN2_LO = Math.LN2 - LN2_HI;
const EXP_MIN = -708;
const EXP_MAX = 709;
/** 2⁵² + 1023: added to an integer-valued float64 n, leaves n + 1023 in the low mantissa bits. */
const EXP_MAGIC = 4503599627370496 + 1023;
const TANH_CLAMP = 20;
const TANH_SMALL = 1e-5;
const SQRT_HALF = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const ERF_CLAMP = 4;
/** erf(z) ≈ z·P(z²)/Q(z²) on |z| ≤ 4; coefficients in increasing powers of z². */
const ERF_P = [1.1283791669556544, 0.20482693422420412, 0.0588453303852565, 0.005178534536600461,
  0.0005281768142701473, 2.3363758827652742e-05, 7.742325250030655e-07, 2.9496977085665293e-09];
const ERF_Q = [1.0, 0.5148564750584448, 0.12376915526222378, 0.018169580853381023, 0.0017766102066384755,
  0.0001167619243412207, 4.791208972187718e-06, 7.34228943277714e-08];

/**
 * Scratch locals of the float64 evaluation, shared by both halves of a step; p holds powers for
 * `estrin`; fma: evaluate polynomials with relaxed fused multiply-adds (relaxed_simd.ts), whose
 * rounding differences (about 1e-16) are far below float32's resolution.
 */
export interface F64Scratch { t: L; n: L; u: L; w: L; p: L[]; fma: boolean }

const f64Scratch = (f: FuncBuilder, fma: boolean): F64Scratch => ({
  t: f.local('v128'), n: f.local('v128'), u: f.local('v128'), w: f.local('v128'), p: Array.from({ length: 4 }, () => f.local('v128')), fma,
});

/** A float64 constant in both lanes. */
const c2 = (f: FuncBuilder, v: number): V => f.v128ConstF64([v, v]);

/**
 * x clamped to [lo, hi] on two float64 lanes, NaN kept. Pseudo-min/max are one instruction each;
 * IEEE min/max, whose NaN and ±0 rules a clamp against constants does not need, take several.
 */
const clamp = (f: FuncBuilder, x: L, lo: number, hi: number): V => f.f64x2Pmax(f.f64x2Pmin(f.get(x), c2(f, hi)), c2(f, lo));

/** Sets s.p[0] = x, s.p[1] = x², s.p[2] = x⁴, … up to the powers `estrin` needs for `terms` coefficients. */
function powers(f: FuncBuilder, x: L, terms: number, s: F64Scratch): void {
  f.set(s.p[0]!, f.get(x));
  for (let k = 1; 1 << k < terms; k++) f.set(s.p[k]!, f.f64x2Mul(f.get(s.p[k - 1]!), f.get(s.p[k - 1]!)));
}

/**
 * coef[0] + coef[1]·x + … in float64 by Estrin's scheme, the powers x^(2^k) already in s.p: the
 * lower half of the coefficients plus x^half times the upper half, recursively. Its longest chain
 * is about log₂(terms) multiply-adds instead of Horner's terms − 1, so the out-of-order core
 * overlaps more of it; the kernels here are bound by that chain, not by the instruction count.
 */
function estrin(f: FuncBuilder, coef: readonly number[], s: F64Scratch, lo = 0, n = coef.length): V {
  if (n === 1) return c2(f, coef[lo]!);
  let k = 0;
  while (2 << k < n) k++;
  const half = 1 << k;
  // (Operands are pushed in argument order: relaxed_madd(a, b, c) = a·b + c.)
  if (s.fma) return f.f64x2RelaxedMadd(f.get(s.p[k]!), estrin(f, coef, s, lo + half, n - half), estrin(f, coef, s, lo, half));
  return f.f64x2Add(estrin(f, coef, s, lo, half), f.f64x2Mul(f.get(s.p[k]!), estrin(f, coef, s, lo + half, n - half)));
}

const EXP_TAYLOR = [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040, 1 / 40320, 1 / 362880];

/**
 * out = e^t for t already inside [EXP_MIN, EXP_MAX] (or NaN); clobbers t and s.n.
 */
function expCore(f: FuncBuilder, t: L, out: L, s: F64Scratch): void {
  f.set(s.n, f.f64x2Nearest(f.f64x2Mul(f.get(t), c2(f, LOG2E))));
  f.set(t, f.f64x2Sub(f.get(t), f.f64x2Mul(f.get(s.n), c2(f, LN2_HI))));
  f.set(t, f.f64x2Sub(f.get(t), f.f64x2Mul(f.get(s.n), c2(f, LN2_LO))));
  powers(f, t, EXP_TAYLOR.length, s);
  f.set(out, estrin(f, EXP_TAYLOR, s));
  f.set(s.n, f.i64x2Shl(f.f64x2Add(f.get(s.n), c2(f, EXP_MAGIC)), f.i32(52)));
  f.set(out, f.f64x2Mul(f.get(out), f.get(s.n)));
}

/** out = e^x for any x (x is kept): +∞ above EXP_MAX, 0 below EXP_MIN, NaN for NaN. */
export function exp64(f: FuncBuilder, x: L, out: L, s: F64Scratch): void {
  f.set(s.t, clamp(f, x, EXP_MIN, EXP_MAX));
  expCore(f, s.t, out, s);
  f.set(out, f.v128Bitselect(c2(f, Infinity), f.get(out), f.f64x2Gt(f.get(x), c2(f, EXP_MAX))));
  f.set(out, f.v128AndNot(f.get(out), f.f64x2Lt(f.get(x), c2(f, EXP_MIN))));
}

/** out = erf(z) (z is kept). */
function erf64(f: FuncBuilder, z: L, out: L, s: F64Scratch): void {
  f.set(s.t, clamp(f, z, -ERF_CLAMP, ERF_CLAMP));
  f.set(s.u, f.f64x2Mul(f.get(s.t), f.get(s.t)));
  powers(f, s.u, ERF_P.length, s);
  f.set(out, f.f64x2Div(f.f64x2Mul(f.get(s.t), estrin(f, ERF_P, s)), estrin(f, ERF_Q, s)));
  // Past the clamp t = ±4 exactly, so t/4 is the exact ±1.
  f.set(out, f.v128Bitselect(f.f64x2Mul(f.get(s.t), c2(f, 1 / ERF_CLAMP)), f.get(out),
    f.f64x2Gt(f.f64x2Abs(f.get(z)), c2(f, ERF_CLAMP))));
}

/** out = x / (1 + e^{−k·y}) for the input lanes y (kept); x = null means 1 (sigmoid). */
function overOnePlusExpNeg(f: FuncBuilder, x: L | null, y: L, k: number, out: L, s: F64Scratch): void {
  f.set(s.w, f.f64x2Mul(f.get(y), c2(f, -k)));
  exp64(f, s.w, out, s);
  f.set(out, f.f64x2Div(x ? f.get(x) : c2(f, 1), f.f64x2Add(c2(f, 1), f.get(out))));
}

/** The float64 ops: `out` = op(x) for two lanes; x must be kept. */
const F64: Partial<Record<UnaryFastOp, (f: FuncBuilder, x: L, out: L, s: F64Scratch) => void>> = {
  rsqrt: (f, x, out) => f.set(out, f.f64x2Div(c2(f, 1), f.f64x2Sqrt(f.get(x)))),
  exp: exp64,
  tanh: (f, x, out, s) => {
    f.set(s.t, f.f64x2Mul(clamp(f, x, -TANH_CLAMP, TANH_CLAMP), c2(f, 2)));
    expCore(f, s.t, s.w, s);
    f.set(out, f.f64x2Div(f.f64x2Sub(f.get(s.w), c2(f, 1)), f.f64x2Add(f.get(s.w), c2(f, 1))));
    f.set(out, f.v128Bitselect(f.get(x), f.get(out), f.f64x2Lt(f.f64x2Abs(f.get(x)), c2(f, TANH_SMALL))));
  },
  sigmoid: (f, x, out, s) => overOnePlusExpNeg(f, null, x, 1, out, s),
  silu: (f, x, out, s) => overOnePlusExpNeg(f, x, x, 1, out, s),
  geluTanh: (f, x, out, s) => {
    // u = √(2/π)·(x + 0.044715·x³), kept in s.u (exp64 leaves it alone)
    f.set(s.u, f.f64x2Mul(f.f64x2Add(f.get(x), f.f64x2Mul(c2(f, 0.044715), f.f64x2Mul(f.f64x2Mul(f.get(x), f.get(x)), f.get(x)))),
      c2(f, SQRT_2_OVER_PI)));
    overOnePlusExpNeg(f, x, s.u, 2, out, s);
  },
  erf: erf64,
  gelu: (f, x, out, s) => {
    f.set(s.w, f.f64x2Mul(f.get(x), c2(f, SQRT_HALF)));
    erf64(f, s.w, out, s);
    f.set(out, f.f64x2Mul(f.f64x2Mul(c2(f, 0.5), f.get(x)), f.f64x2Add(c2(f, 1), f.get(out))));
  },
};

export const GRAD_FAST_OPS = ['geluGrad', 'siluGrad'] as const;
export type GradFastOp = (typeof GRAD_FAST_OPS)[number];
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** out = f'(x)·g for two float64 lanes; x and g are kept. */
const GRAD: Record<GradFastOp, (f: FuncBuilder, x: L, g: L, out: L, s: F64Scratch) => void> = {
  geluGrad: (f, x, g, out, s) => {
    // Φ(x) into out (erf64 uses s.t and s.u), then e^{−x²/2} into s.u (exp64 uses s.t and s.n)
    f.set(s.w, f.f64x2Mul(f.get(x), c2(f, SQRT_HALF)));
    erf64(f, s.w, out, s);
    f.set(out, f.f64x2Mul(c2(f, 0.5), f.f64x2Add(c2(f, 1), f.get(out))));
    f.set(s.w, f.f64x2Mul(f.f64x2Mul(f.get(x), f.get(x)), c2(f, -0.5)));
    exp64(f, s.w, s.u, s);
    f.set(out, f.f64x2Mul(f.get(g), f.f64x2Add(f.get(out), f.f64x2Mul(f.f64x2Mul(f.get(s.u), c2(f, INV_SQRT_2PI)), f.get(x)))));
  },
  siluGrad: (f, x, g, out, s) => {
    overOnePlusExpNeg(f, null, x, 1, out, s); // σ(x)
    f.set(out, f.f64x2Mul(f.f64x2Mul(f.get(g), f.get(out)),
      f.f64x2Add(c2(f, 1), f.f64x2Mul(f.get(x), f.f64x2Sub(c2(f, 1), f.get(out))))));
  },
};

export function addUnaryGrad(m: ModuleBuilder, opts: { fma?: boolean } = {}): void {
  for (const op of GRAD_FAST_OPS) {
    m.func(`grad_${op}`, ['i32', 'i32', 'i32', 'i32'] as const, null, (f, x, g, out, n) => {
      const i = f.local('i32'), off = f.local('i32');
      const xl = f.local('v128'), xh = f.local('v128'), gl = f.local('v128'), gh = f.local('v128');
      const yl = f.local('v128'), yh = f.local('v128');
      const s = f64Scratch(f, opts.fma ?? false);
      const load2 = (base: Local<'i32'>, at: number) => f.f64x2PromoteLowF32x4(f.v128Load64Zero(f.add(f.get(base), f.get(off)), at));
      f.forRange(i, () => f.i32(0), () => f.get(n), 4, () => {
        f.set(off, f.shl(f.get(i), f.i32(2)));
        f.set(xl, load2(x, 0));
        f.set(xh, load2(x, 8));
        f.set(gl, load2(g, 0));
        f.set(gh, load2(g, 8));
        GRAD[op](f, xl, gl, yl, s);
        GRAD[op](f, xh, gh, yh, s);
        f.v128Store64Lane0(f.add(f.get(out), f.get(off)), f.f32x4DemoteF64x2Zero(f.get(yl)));
        f.v128Store64Lane0(f.add(f.get(out), f.get(off)), f.f32x4DemoteF64x2Zero(f.get(yh)), 8);
      });
    });
  }
}

export function addUnary(m: ModuleBuilder, opts: { fma?: boolean } = {}): void {
  for (const op of UNARY_FAST_OPS) {
    m.func(`unary_${op}`, ['i32', 'i32', 'i32'] as const, null, (f, x, out, n) => {
      const i = f.local('i32'), px = f.local('i32'), po = f.local('i32');
      const at = (base: Local<'i32'>) => f.add(f.get(base), f.shl(f.get(i), f.i32(2)));
      const vec = F32[op];
      if (vec) {
        const v = f.local('v128');
        f.forRange(i, () => f.i32(0), () => f.get(n), 4, () => {
          f.set(v, f.v128Load(at(x)));
          f.v128Store(at(out), vec(f, v));
        });
        return;
      }
      const g = F64[op]!;
      const lo = f.local('v128'), hi = f.local('v128'), ylo = f.local('v128'), yhi = f.local('v128');
      const s = f64Scratch(f, opts.fma ?? false);
      f.forRange(i, () => f.i32(0), () => f.get(n), 4, () => {
        f.set(px, at(x));
        f.set(po, at(out));
        f.set(lo, f.f64x2PromoteLowF32x4(f.v128Load64Zero(f.get(px))));
        f.set(hi, f.f64x2PromoteLowF32x4(f.v128Load64Zero(f.get(px), 8)));
        g(f, lo, ylo, s);
        g(f, hi, yhi, s);
        f.v128Store64Lane0(f.get(po), f.f32x4DemoteF64x2Zero(f.get(ylo)));
        f.v128Store64Lane0(f.get(po), f.f32x4DemoteF64x2Zero(f.get(yhi)), 8);
      });
    });
  }
}
