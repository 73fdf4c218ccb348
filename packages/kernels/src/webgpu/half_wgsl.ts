// WGSL conversions between f32 and the 16-bit formats, on bit patterns held in a u32 (low half).
// Integer arithmetic only, so the results do not depend on how an adapter converts f32 to f16
// (WGSL leaves an out-of-range conversion's value indeterminate) or whether it flushes subnormals:
// rounding is to nearest, ties to even; overflow gives ±inf; NaN gives the quiet NaN; f16
// subnormals are kept (decoded as m·2^-24, a normal f32).
//
// An f16 element of a storage array is turned into its bits and back through `vec2<f16>`, whose
// two halves share one u32 (`half_of`, `f16_of`: those two need `enable f16`).

/** The u32-only helpers (no f16 type): bfloat16 and float16 bit patterns ↔ f32. */
export const WGSL_HALF_BITS = `
fn half_to_f32(h: u32) -> f32 {
  let s = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 0u) { return bitcast<f32>(bitcast<u32>(f32(m) * 5.9604644775390625e-8) | s); }
  if (e == 31u) { return bitcast<f32>(s | 0x7f800000u | (m << 13u)); }
  return bitcast<f32>(s | ((e + 112u) << 23u) | (m << 13u));
}
fn f32_to_half(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  let s = (b >> 16u) & 0x8000u;
  let a = b & 0x7fffffffu;
  if (a > 0x7f800000u) { return 0x7e00u; }
  if (a >= 0x477ff000u) { return s | 0x7c00u; }
  if (a >= 0x38800000u) {
    let r = a - 0x38000000u;
    return s | ((r + 0xfffu + ((r >> 13u) & 1u)) >> 13u);
  }
  let e = a >> 23u;
  if (e < 102u) { return s; }
  let mant = (a & 0x7fffffu) | 0x800000u;
  let sh = 126u - e;
  let q = mant >> sh;
  let rem = mant & ((1u << sh) - 1u);
  let hf = 1u << (sh - 1u);
  return s | (q + select(0u, 1u, rem > hf || (rem == hf && (q & 1u) == 1u)));
}
fn bf16_to_f32(h: u32) -> f32 { return bitcast<f32>(h << 16u); }
fn f32_to_bf16(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return 0x7fc0u; }
  return (b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u;
}
`;

/** The f16 element ↔ bits helpers (need `enable f16`). */
export const WGSL_F16_BITS = `
fn half_of(x: f16) -> u32 { return bitcast<u32>(vec2<f16>(x, 0.0h)) & 0xffffu; }
fn f16_of(h: u32) -> f16 { return bitcast<vec2<f16>>(h)[0]; }
`;
