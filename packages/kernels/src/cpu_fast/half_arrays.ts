// float32 ↔ float16/bfloat16 conversion loops of the fast cpu tier (the 16-bit casts in copy.ts
// and the operand/result conversions of 16-bit matmul). Same results as half.ts, faster:
//
// - decode: float16 through a 65536-entry float32 table (built once from `float16Value`); bfloat16
//   is the top half of a float32, so its bits shift into a Uint32Array view of the output. Exact.
// - encode from a float32: bit arithmetic on the float32's pattern, round to nearest with ties to
//   even — one rounding of a float32, so it equals half.ts's encoding of the same value. NaN becomes
//   the quiet NaN without its sign and overflow ±inf, as in half.ts.
// A float64 source is not handled here: rounding it to float32 first would round twice.

import { float16Value } from '../half.js';

/** A strided run: n elements at arr[off + i·stride]. */
export interface Run<A> {
  /** The array holding the run. */
  arr: A;
  /** Index of the first element. */
  off: number;
  /** Elements between consecutive elements of the run. */
  stride: number;
}

let f16Table: Float32Array | null = null;
function float16Table(): Float32Array {
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

/** dst[i] = the value of 16-bit pattern src[i] (`dtype` float16 or bfloat16), n elements. */
export function decodeRun(dtype: 'float16' | 'bfloat16', n: number, src: Run<Uint16Array>, dst: Run<Float32Array>): void {
  const s = src.arr, ss = src.stride, ds = dst.stride;
  let p = src.off, q = dst.off;
  if (dtype === 'float16') {
    const t = float16Table(), d = dst.arr;
    for (let i = 0; i < n; i++, p += ss, q += ds) d[q] = t[s[p]!]!;
  } else {
    const d = new Uint32Array(dst.arr.buffer, dst.arr.byteOffset, dst.arr.length);
    for (let i = 0; i < n; i++, p += ss, q += ds) d[q] = s[p]! << 16;
  }
}

/** dst[i] = the 16-bit pattern nearest to float32 src[i] (`dtype` float16 or bfloat16), n elements. */
export function encodeRun(dtype: 'float16' | 'bfloat16', n: number, src: Run<Float32Array>, dst: Run<Uint16Array>): void {
  const s = new Uint32Array(src.arr.buffer, src.arr.byteOffset, src.arr.length), d = dst.arr, ss = src.stride, ds = dst.stride;
  let p = src.off, q = dst.off;
  if (dtype === 'float16') {
    for (let i = 0; i < n; i++, p += ss, q += ds) d[q] = float16FromF32Bits(s[p]!);
  } else {
    for (let i = 0; i < n; i++, p += ss, q += ds) d[q] = bfloat16FromF32Bits(s[p]!);
  }
}
