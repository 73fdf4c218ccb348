// The 16-bit floating-point formats, as bit patterns in a Uint16Array element or a u32 word.
//
//   float16  (IEEE 754 binary16): 1 sign, 5 exponent (bias 15), 10 mantissa bits. Max finite 65504,
//            min normal 2^-14, min subnormal 2^-24, machine epsilon 2^-10.
//   bfloat16 (the top half of a float32): 1 sign, 8 exponent (bias 127), 7 mantissa bits. Max finite
//            (2 - 2^-7)·2^127, min normal 2^-126, min subnormal 2^-133, machine epsilon 2^-7.
//
// Encoding rounds the JS number (a float64) once, to nearest with ties to even, straight to the
// format — never through float32, whose own rounding could make a second, different rounding
// (double rounding) for float64 inputs. Values past the largest finite number by half an ulp or
// more become ±inf; subnormals are kept; NaN becomes the quiet NaN (0x7e00 / 0x7fc0) with its sign
// dropped; -0 keeps its sign. Decoding is exact (every value of both formats is a float32).
//
// The fast cpu kernels convert in bulk with the float32 forms at the end of this file: decoding
// float16 through a 65,536-entry table, and encoding from a float32 by bit arithmetic. Encoding a
// float32 value is exact in the sense above — one nearest-even rounding of that float32 value,
// equal to `float16Bits` / `bfloat16Bits` of the same value — since every float32 is a float64.
// Only a float64 that is not a float32 must not go through them (it would be rounded twice).

interface HalfFormat {
  mantBits: number;
  bias: number;
  /** Bit pattern of +inf and of the quiet NaN. */
  inf: number;
  nan: number;
}

const F16: HalfFormat = { mantBits: 10, bias: 15, inf: 0x7c00, nan: 0x7e00 };
const BF16: HalfFormat = { mantBits: 7, bias: 127, inf: 0x7f80, nan: 0x7fc0 };

/** x ≥ 0 rounded to an integer, ties to even (x is exact: a float64 scaled by a power of two). */
function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties up
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function encode(f: HalfFormat, v: number): number {
  if (Number.isNaN(v)) return f.nan;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === Infinity) return sign | f.inf;
  const minNormalExp = 1 - f.bias;
  if (a < 2 ** minNormalExp) {
    // Subnormal: a = m · 2^(minNormalExp - mantBits). m = 2^mantBits (rounded up) is the smallest
    // normal's bit pattern, so the same formula covers it.
    return sign | roundHalfEven(a * 2 ** (f.mantBits - minNormalExp));
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven(a * 2 ** (f.mantBits - e)); // in [2^mantBits, 2^(mantBits+1)]
  if (m === 2 ** (f.mantBits + 1)) { m /= 2; e++; }
  const biased = e + f.bias;
  if (biased >= 2 * f.bias + 1) return sign | f.inf;
  return sign | (biased << f.mantBits) | (m - 2 ** f.mantBits);
}

/** The float16 bit pattern nearest to `v` (ties to even). */
export const float16Bits = (v: number): number => encode(F16, v);

/** The bfloat16 bit pattern nearest to `v` (ties to even). */
export const bfloat16Bits = (v: number): number => encode(BF16, v);

/** The value of a float16 bit pattern. */
export function float16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (exp === 0) return sign * m * 2 ** -24;
  if (exp === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1024 + m) * 2 ** (exp - 25);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The value of a bfloat16 bit pattern (the top half of a float32). */
export function bfloat16Value(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0]!;
}

/** `v` rounded to the nearest float16 value. */
export const roundFloat16 = (v: number): number => float16Value(float16Bits(v));

/** `v` rounded to the nearest bfloat16 value. */
export const roundBfloat16 = (v: number): number => bfloat16Value(bfloat16Bits(v));

// ---- float32 <-> 16-bit, for bulk conversion ---------------------------------------------------

let f16Table: Float32Array | null = null;

/** The value of every float16 bit pattern, indexed by the pattern (built on first use). */
export function float16Table(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = float16Value(h);
  }
  return f16Table;
}

/** The float16 bit pattern of the float32 whose bits are `u`, rounded to nearest, ties to even. */
export function float16FromF32Bits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const a = u & 0x7fffffff;
  if (a > 0x7f800000) return 0x7e00; // NaN
  if (a >= 0x477ff000) return sign | 0x7c00; // ≥ 65520 (65504 + ½ ulp, a tie that rounds to even: inf)
  if (a >= 0x38800000) {
    // Normal (≥ 2^-14): rebias the exponent (127 → 15) and drop 13 mantissa bits, adding 0xfff plus
    // the kept lowest bit first (ties to even); a carry out of the mantissa bumps the exponent.
    return sign | ((a - 0x38000000 + 0xfff + ((a >>> 13) & 1)) >>> 13);
  }
  if (a < 0x33000000) return sign; // < 2^-25 (half the smallest subnormal; the tie rounds to even: 0)
  // Subnormal: the value is m·2^-24 with m < 1024 (m = 1024 is the smallest normal's pattern).
  // Shift the 24-bit significand right so its units are 2^-24, rounding ties to even.
  const e = a >>> 23; // 102..112
  const sig = (a & 0x7fffff) | 0x800000;
  const shift = 126 - e; // value = sig·2^(e-150) = (sig >> (126-e))·2^-24
  const half = 1 << (shift - 1);
  const rem = sig & ((1 << shift) - 1);
  let m = sig >>> shift;
  if (rem > half || (rem === half && (m & 1) === 1)) m++;
  return sign | m;
}

/** The bfloat16 bit pattern of the float32 whose bits are `u`, rounded to nearest, ties to even. */
export function bfloat16FromF32Bits(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return 0x7fc0; // NaN
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff; // a carry into the exponent rounds up to inf
}

/** The float16 bit pattern nearest to `v` rounded to float32 first: exact for a float32 `v` (see the header). */
export function float16BitsOfF32(v: number): number {
  f32[0] = v;
  return float16FromF32Bits(u32[0]!);
}

/** The bfloat16 bit pattern nearest to `v` rounded to float32 first: exact for a float32 `v` (see the header). */
export function bfloat16BitsOfF32(v: number): number {
  f32[0] = v;
  return bfloat16FromF32Bits(u32[0]!);
}
