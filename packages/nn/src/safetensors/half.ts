// Reduced-precision float conversions used by safetensors: F16 (IEEE binary16), BF16 and the
// two FP8 formats (decode only). Encoding rounds the exact input value to nearest, ties to even,
// in one step, so there is no double rounding when the input is a float64.

function roundHalfEven(x: number): number {
  // x >= 0 and < 2^52, so floor and the difference are exact.
  const r = Math.floor(x);
  const d = x - r;
  if (d > 0.5) return r + 1;
  if (d < 0.5) return r;
  return r % 2 === 0 ? r : r + 1;
}

/** Encode `x` into an IEEE-like binary format with `expBits`/`mantBits`, round-to-nearest-even. */
function encodeIeee(x: number, expBits: number, mantBits: number, nanBits: number): number {
  const bias = (1 << (expBits - 1)) - 1;
  const expMask = (1 << expBits) - 1;
  const signBit = 1 << (expBits + mantBits);
  if (Number.isNaN(x)) return nanBits;
  const sign = x < 0 || Object.is(x, -0) ? signBit : 0;
  const a = Math.abs(x);
  const inf = sign | (expMask << mantBits);
  if (a === Infinity) return inf;
  const emin = 1 - bias;
  // Values at or above the midpoint between the largest finite value and 2^(emax+1) round to inf.
  const overflow = (2 - Math.pow(2, -(mantBits + 1))) * Math.pow(2, bias);
  if (a >= overflow) return inf;
  if (a < Math.pow(2, emin)) {
    // Subnormal (a rounding carry into the min normal encodes correctly by itself).
    return sign | roundHalfEven(a * Math.pow(2, mantBits - emin));
  }
  let e = Math.floor(Math.log2(a));
  if (Math.pow(2, e) > a) e -= 1;
  else if (Math.pow(2, e + 1) <= a) e += 1;
  let m = roundHalfEven((a / Math.pow(2, e) - 1) * Math.pow(2, mantBits));
  if (m === 1 << mantBits) {
    m = 0;
    e += 1;
  }
  if (e > bias) return inf;
  return sign | ((e + bias) << mantBits) | m;
}

function decodeIeee(bits: number, expBits: number, mantBits: number): number {
  const bias = (1 << (expBits - 1)) - 1;
  const expMask = (1 << expBits) - 1;
  const sign = (bits >> (expBits + mantBits)) & 1 ? -1 : 1;
  const e = (bits >> mantBits) & expMask;
  const m = bits & ((1 << mantBits) - 1);
  if (e === 0) return sign * m * Math.pow(2, 1 - bias - mantBits);
  if (e === expMask) return m !== 0 ? NaN : sign * Infinity;
  return sign * (1 + m / (1 << mantBits)) * Math.pow(2, e - bias);
}

/** IEEE binary16 bits (0..0xffff) → value. */
export function f16ToF32(bits: number): number {
  return decodeIeee(bits & 0xffff, 5, 10);
}

/** Value → IEEE binary16 bits, round-to-nearest-even; NaN becomes the quiet NaN 0x7e00. */
export function f32ToF16(x: number): number {
  return encodeIeee(x, 5, 10, 0x7e00);
}

/** bfloat16 bits (0..0xffff) → value (exact: bf16 is the top half of a float32). */
export function bf16ToF32(bits: number): number {
  return decodeIeee(bits & 0xffff, 8, 7);
}

/** Value → bfloat16 bits, round-to-nearest-even; NaN becomes the quiet NaN 0x7fc0. */
export function f32ToBf16(x: number): number {
  return encodeIeee(x, 8, 7, 0x7fc0);
}

/** FP8 E5M2 bits → value (IEEE-like: bias 15, has inf and NaN). */
export function f8e5m2ToF32(bits: number): number {
  return decodeIeee(bits & 0xff, 5, 2);
}

/** FP8 E4M3 ("fn" variant: bias 7, no infinities, only S.1111.111 is NaN) bits → value. */
export function f8e4m3ToF32(bits: number): number {
  const b = bits & 0xff;
  const sign = b & 0x80 ? -1 : 1;
  const e = (b >> 3) & 0xf;
  const m = b & 0x7;
  if (e === 0xf && m === 0x7) return NaN;
  if (e === 0) return sign * m * Math.pow(2, -9);
  return sign * (1 + m / 8) * Math.pow(2, e - 7);
}

/** Array form of f32ToF16. */
export function float32ToF16Array(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32ToF16(src[i]!);
  return out;
}

/** Array form of f16ToF32. */
export function f16ArrayToFloat32(src: ArrayLike<number>): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f16ToF32(src[i]!);
  return out;
}

/** Array form of f32ToBf16. */
export function float32ToBf16Array(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32ToBf16(src[i]!);
  return out;
}

/** Array form of bf16ToF32. */
export function bf16ArrayToFloat32(src: ArrayLike<number>): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = bf16ToF32(src[i]!);
  return out;
}
