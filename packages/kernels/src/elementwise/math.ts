// The float64 scalar functions behind the primitives that JavaScript's Math lacks or defines
// differently from PyTorch: erf (and a faster table form for the float32 loops), the stable
// logistic function, round-half-to-even, C's pow and the floored remainder.

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2/√π
const ONE_OVER_SQRT_PI = 0.5641895835477563; // 1/√π

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

// erf on a table, for the float32 loops: nodes x_i = i/32 on [0, 6] hold erf(x_i) (from `erf`)
// and c_i = 2/√π·e^{-x_i²}. Near a node, erf(x_i + h) = erf(x_i) + c_i·(h - x_i h² + (2x_i²-1)/3 h³
// + (3x_i - 2x_i³)/6 h⁴ + (4x_i⁴ - 12x_i² + 3)/30 h⁵) + O(h⁶) (the derivatives of erf are Hermite
// polynomials times e^{-x²}); with |h| ≤ 1/64 the remainder is below 1e-12. For |x| ≥ 6, erf = ±1.
const ERF_SCALE = 32;
const ERF_NODES = 6 * ERF_SCALE + 1;
const ERF_TAB = new Float64Array(ERF_NODES * 6);
for (let i = 0; i < ERF_NODES; i++) {
  const x = i / ERF_SCALE, x2 = x * x;
  ERF_TAB.set([erf(x), TWO_OVER_SQRT_PI * Math.exp(-x2), -x, (2 * x2 - 1) / 3, (3 * x - 2 * x2 * x) / 6,
    (4 * x2 * x2 - 12 * x2 + 3) / 30], i * 6);
}

/** erf to 1e-12 absolute error from the table above: about 5× faster than `erf`. */
export function fastErf(x: number): number {
  if (x === 0 || x !== x) return x; // keeps -0 and NaN, like `erf`
  const ax = x < 0 ? -x : x;
  if (ax >= 6) return x < 0 ? -1 : 1;
  const i = (ax * ERF_SCALE + 0.5) | 0;
  const h = ax - i / ERF_SCALE;
  const t = i * 6;
  const r = ERF_TAB[t]! + ERF_TAB[t + 1]! * h * (1 + h * (ERF_TAB[t + 2]! + h * (ERF_TAB[t + 3]! + h * (ERF_TAB[t + 4]! + h * ERF_TAB[t + 5]!))));
  return x < 0 ? -r : r;
}

/** The logistic function, in forms that neither overflow nor lose the small tail: e^x/(1+e^x) for x < 0. */
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

/** C-style pow: JS Math.pow differs from C/PyTorch only for a base of ±1 with a NaN or infinite exponent. */
export function powC(a: number, b: number): number {
  if (a === 1) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return Math.pow(a, b);
}

/** Floored remainder: a - b·floor(a/b), computed via fmod for accuracy; the sign follows the divisor. */
export function remainder(a: number, b: number): number {
  let r = a % b; // fmod: sign of the dividend
  if (r !== 0 && r < 0 !== b < 0) r += b;
  return r;
}
