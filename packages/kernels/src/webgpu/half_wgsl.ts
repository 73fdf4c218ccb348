// WGSL conversions between f32 and the 16-bit formats, on bit patterns held in a u32 (low half).
// Integer arithmetic only, so the results do not depend on how an adapter converts f32 to f16
// (WGSL leaves an out-of-range conversion's value indeterminate) or whether it flushes subnormals:
// rounding is to nearest, ties to even; overflow gives ±inf; NaN gives the quiet NaN; f16
// subnormals are kept (decoded as m·2^-24, a normal f32).
//
// An f16 element of a storage array is turned into its bits and back through `vec2<f16>`, whose
// two halves share one u32 (`half_of`, `f16_of`: those two need `enable f16`).
//
// bfloat16 storage is packed, two elements per u32 word (2 bytes per element, as on the CPU and in
// a file): element i is half i & 1 of word i >> 1, the low half for even i (the little-endian order
// of a Uint16Array viewed as a Uint32Array). A view's element offset may be odd, so a view can start
// or end in the middle of a word whose other half belongs to a neighbour.
//   Loads: `(w >> ((i & 1) · 16)) << 16` is the element's f32 (bf16 is the top half of an f32).
//   Stores: WGSL has no 16-bit store, so writing one half is a read-modify-write of its word, and
//   two threads that own the two halves of one word must not overwrite each other. Two ways:
//   - atomics (`wgslStoreFn` for bf16): the written binding is `array<atomic<u32>>` and a store is
//     atomicAnd(word, mask keeping the other half) then atomicOr(word, bits << shift). Each half has
//     one owner and each of the two operations touches only the owner's half, so any interleaving
//     of the two owners ends with both halves right. Correct for every layout; the cost is two
//     atomics per element stored, small beside the work of the kernels that use it (every family
//     but the elementwise one, and its strided path).
//   - whole words: a thread computes both elements of a word and stores the word once, merging the
//     half outside the view with the word's old value (no other thread writes that word). The
//     elementwise kernels do this on their contiguous paths (elementwise.ts), where the output is
//     the bulk of the traffic.
// Kernels generate their accessors with `wgslLoadFn` / `wgslStoreFn` below.
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
fn bf16_bits(w: u32, i: u32) -> u32 { return (w >> ((i & 1u) << 4u)) & 0xffffu; }
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

/** Float storage of a kernel operand: f32, f16 (float16) or bf16 (bfloat16, two per u32 word). */
export type HalfStorage = 'f32' | 'f16' | 'bf16';

/** The WGSL element type of a binding of storage `s`; a `written` bf16 binding is atomic (see the header). */
export function halfElement(s: HalfStorage, written: boolean): 'f32' | 'f16' | 'u32' | 'atomic<u32>' {
  return s === 'bf16' ? (written ? 'atomic<u32>' : 'u32') : s;
}

/**
 * WGSL: `fn <fn>(i: u32) -> f32`, element i of the binding `array` of storage `s` as f32; `written`:
 * the kernel also stores into `array` (a bf16 one is then atomic, read with atomicLoad).
 */
export function wgslLoadFn(fn: string, array: string, s: HalfStorage, written = false): string {
  const word = written ? `atomicLoad(&${array}[i >> 1u])` : `${array}[i >> 1u]`;
  const v = s === 'f16' ? `half_to_f32(half_of(${array}[i]))`
    : s === 'bf16' ? `bitcast<f32>((${word} >> ((i & 1u) << 4u)) << 16u)` : `${array}[i]`;
  return `fn ${fn}(i: u32) -> f32 { return ${v}; }\n`;
}

/** WGSL: `fn <fn>(i: u32, value_: f32)`, the value rounded to nearest-even into element i of the binding `array` (atomic for bf16). */
export function wgslStoreFn(fn: string, array: string, s: HalfStorage): string {
  if (s === 'bf16') {
    return `fn ${fn}(i: u32, value_: f32) { let sh = (i & 1u) << 4u; ` +
      `atomicAnd(&${array}[i >> 1u], ~(0xffffu << sh)); atomicOr(&${array}[i >> 1u], f32_to_bf16(value_) << sh); }\n`;
  }
  return `fn ${fn}(i: u32, value_: f32) { ${array}[i] = ${s === 'f16' ? 'f16_of(f32_to_half(value_))' : 'value_'}; }\n`;
}

/** WGSL: the conversion helpers the storages `ss` need (none for f32 alone). */
export function wgslHalfHelpers(ss: readonly string[]): string {
  return (ss.some((s) => s === 'f16' || s === 'bf16') ? WGSL_HALF_BITS : '') + (ss.includes('f16') ? WGSL_F16_BITS : '');
}
