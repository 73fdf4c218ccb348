// The WGSL implementations of the elementwise primitives (primitives.ts) that are functions rather
// than operators, shared by every shader that does math: the elementwise kernels, random (Box–Muller
// uses cos_ and log_) and the reductions.

/** WGSL helper functions used by the generated expressions (and by the random/reduce kernels). */
export const WGSL_MATH = /* wgsl */ `
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// NaN and infinity are not valid WGSL constants: build them from run-time bits.
fn nan_() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }
fn inf_() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }
// WGSL bounds the built-ins loosely, and adapters use the slack (measured on SwiftShader, Chrome's
// software adapter: log near 1 and sin/cos off by ~2e-4): log is only 2^-21 *absolute* in
// [0.5, 2], sin/cos 2^-11 absolute in [-π, π] and unbounded outside. So the functions below do not
// rely on those regimes: log near 1, log1p and expm1 use series, sin and cos an exact range reduction
// and Taylor polynomials, exp a Cody–Waite reduction by ln2; sqrt stays built-in (exact or nearly).
//
// log(1 + f) for f in [1/√2 − 1, √2 − 1]: 2·atanh(s) with s = f/(2 + f), |s| ≤ 0.1716, so the
// series 2s(1 + s²/3 + … + s¹⁰/11) is exact to f32.
fn log1p_series(f: f32) -> f32 {
  let s = f / (2.0 + f);
  let s2 = s * s;
  return 2.0 * s * (1.0 + s2 * (0.33333333 + s2 * (0.2 + s2 * (0.14285714 + s2 * (0.11111111 + s2 * 0.09090909)))));
}
// log and sqrt with IEEE results outside their domain (some drivers leave these undefined).
fn log_(x: f32) -> f32 {
  if (x < 0.0 || is_nan(x)) { return nan_(); }
  if (x == 0.0) { return -inf_(); }
  if (x == inf_()) { return x; }
  // x − 1 is exact here (Sterbenz), and log(x) small: the series keeps its relative precision.
  if (x > 0.70710678 && x < 1.41421356) { return log1p_series(x - 1.0); }
  return log(x);
}
fn sqrt_(x: f32) -> f32 { if (x < 0.0 || is_nan(x)) { return nan_(); } return sqrt(x); }
// exp(x) to about 1 ulp (the built-in may be off by 3 + 2|x| ulp): x = k·ln2 + r, |r| ≤ ln2/2, with
// ln2 in two parts whose first has 16 significant bits, so k·part is exact for every k that does
// not overflow; Taylor of exp(r) to r⁷/7! (the next term is below 2^-27); then scaled by 2^k in one
// step, or two where 2^k itself is not a normal f32.
fn exp_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (x > 88.72283) { return inf_(); }
  if (x < -103.97208) { return 0.0; }
  let k = round(x * 1.4426950408889634);
  let r = (x - k * 0.693145751953125) - k * 1.4286068202862268e-6;
  let p = 1.0 + r * (1.0 + r * (0.5 + r * (0.16666667 + r * (0.041666668 + r * (0.008333334 + r * (0.0013888889 + r * 0.0001984127))))));
  let ki = i32(k);
  if (ki < -125) { return ldexp(p, ki + 64) * 5.421010862427522e-20; }
  if (ki > 127) { return ldexp(ldexp(p, ki - 64), 64); }
  return ldexp(p, ki);
}
// exp(x) − 1: Taylor to x⁹/9! for |x| < 0.35 (the next term is below 2^-24 of the result), where
// exp(x) − 1 would cancel; exp(x) − 1 elsewhere, where it does not.
fn expm1_(x: f32) -> f32 {
  if (abs(x) < 0.35) {
    return x * (1.0 + x * (0.5 + x * (0.16666667 + x * (0.041666668 + x * (0.008333334 + x * (0.0013888889 +
      x * (0.0001984127 + x * (0.0000248016 + x * 0.0000027557319))))))));
  }
  return exp_(x) - 1.0;
}
// log(1 + x): the series where 1 + x is near 1; Kahan's log(u)·x/(u − 1) with u = 1 + x elsewhere,
// which corrects the rounding of u.
fn log1p_(x: f32) -> f32 {
  if (is_nan(x) || x < -1.0) { return nan_(); }
  if (x > -0.29289322 && x < 0.41421356) { return log1p_series(x); }
  let u = 1.0 + x;
  if (u == inf_()) { return u; }
  if (u == 0.0) { return -inf_(); }
  return log_(u) * (x / (u - 1.0)); // x/(u − 1) first: log(u)·x overflows for x near the f32 maximum
}
// sin and cos: x = k·π/2 + r with |r| ≤ π/4 (Cody–Waite: π/2 in three parts with few significant
// bits, so k·part is exact for |k| < 2^13 — accurate to ~1 ulp for |x| ≤ 8192), then
// Taylor series of sin r (to r⁹) and cos r (to r¹⁰), exact to f32 on [−π/4, π/4], picked and signed
// by the quadrant k mod 4.
fn sincos_(x: f32) -> vec2<f32> {
  let k = round(x * 0.63661977236758134);
  let r = ((x - k * 1.5703125) - k * 4.8375129699707031e-4) - k * 7.5497899548918821e-8;
  let r2 = r * r;
  let s = r * (1.0 + r2 * (-0.16666667 + r2 * (0.008333334 + r2 * (-0.0001984127 + r2 * 0.0000027557319))));
  let c = 1.0 + r2 * (-0.5 + r2 * (0.041666668 + r2 * (-0.0013888889 + r2 * (0.0000248016 + r2 * -0.00000027557319))));
  let q = u32(i32(k) & 3);
  let sv = select(select(-c, -s, q == 2u), select(c, s, q == 0u), q < 2u);
  let cv = select(select(s, -c, q == 2u), select(-s, c, q == 0u), q < 2u);
  return vec2<f32>(sv, cv);
}
// Beyond |x| = 8192 the reduction is no longer exact (a Payne–Hanek reduction would be needed);
// there, and for ±Infinity and NaN, the built-ins.
fn sin_(x: f32) -> f32 { if (!(abs(x) <= 8192.0)) { return sin(x); } return sincos_(x).x; }
fn cos_(x: f32) -> f32 { if (!(abs(x) <= 8192.0)) { return cos(x); } return sincos_(x).y; }
fn tanh_(x: f32) -> f32 {
  let e = expm1_(-2.0 * abs(x));
  let t = -e / (2.0 + e);
  return select(t, -t, x < 0.0);
}
fn sigmoid_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp_(-x)); }
  let e = exp_(x);
  return e / (1.0 + e);
}
fn erf_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let z = abs(x);
  var r: f32;
  if (z < 1.0) {
    // erf(z) = 2/sqrt(pi) * sum_n (-1)^n z^(2n+1) / (n! (2n+1))
    let z2 = z * z;
    var term = z;
    var sum = z;
    for (var n = 1u; n < 14u; n++) {
      term = -term * z2 / f32(n);
      sum += term / f32(2u * n + 1u);
    }
    r = 1.1283791670955126 * sum;
  } else {
    let t = 1.0 / (1.0 + 0.5 * z);
    let p = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
      t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    r = 1.0 - t * exp_(p);
  }
  return select(r, -r, x < 0.0);
}
// C pow: pow(1, y) = 1 and pow(x, 0) = 1 even for NaN; negative bases need integral exponents.
fn pow_c(a: f32, b: f32) -> f32 {
  if (a == 1.0 || b == 0.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return nan_(); }
  if (a == -1.0 && abs(b) == inf_()) { return 1.0; }
  if (a == 0.0) { return select(0.0, inf_(), b < 0.0); }
  let r = pow(abs(a), b);
  if (a < 0.0) {
    if (floor(b) != b) { return nan_(); }
    let odd = abs(b) < 16777216.0 && (i32(abs(b)) & 1) == 1;
    return select(r, -r, odd);
  }
  return r;
}
// Floored remainder: the result has the divisor's sign (torch.remainder).
fn fmod_floor(a: f32, b: f32) -> f32 {
  if (b == 0.0 || is_nan(a) || is_nan(b) || abs(a) == inf_()) { return nan_(); }
  if (abs(b) == inf_()) { return select(a, b, a != 0.0 && (a < 0.0) != (b < 0.0)); }
  var r = a - b * trunc(a / b);
  if (abs(r) >= abs(b)) { r = r - b * trunc(r / b); }
  if (r != 0.0 && ((r < 0.0) != (b < 0.0))) { r = r + b; }
  return r;
}
fn imod_floor(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  if (b == -1) { return 0; }
  var r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) { r = r + b; }
  return r;
}
// f32 -> i32 like the CPU's int32 store: NaN -> 0, truncation toward zero (saturating).
fn f2i(v: f32) -> i32 {
  if (is_nan(v)) { return 0; }
  if (v >= 2147483647.0) { return 2147483647; }
  if (v <= -2147483648.0) { return -2147483647 - 1; }
  return i32(trunc(v));
}
`;
