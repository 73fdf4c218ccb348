// float16/bfloat16 operands of the fast cpu tier. The tier computes 16-bit kernels in float32: each
// 16-bit input is decoded once into float32 scratch, the float32 fast kernel runs, and each 16-bit
// output is encoded once from float32 scratch (`viaFloat32`). The conversion loops (also used by the
// casts in copy.ts and by 16-bit matmul) give the same results as half.ts:
//
// - decode: float16 through half.ts's 65,536-entry table; bfloat16 is the top half of a float32, so
//   its bits shift into a Uint32Array view of the output. Exact.
// - encode from a float32: bit arithmetic on the float32's pattern, round to nearest with ties to
//   even — one rounding of a float32, so it equals half.ts's encoding of the same value. The common
//   case (a normal float16, any non-NaN bfloat16) is inline; subnormal, overflow and NaN float16
//   results take `float16FromF32Bits`. NaN becomes the quiet NaN without its sign, overflow ±inf.
// A float64 source is not handled here: rounding it to float32 first would round twice.
//
// Results through float32: add, sub, mul, div and sqrt of 16-bit values are correctly rounded (the
// float32 result, rounded again to 16 bits, is the 16-bit result: 24 ≥ 2·11 + 2 bits, so the double
// rounding is innocuous); other ops carry the float32 kernel's error plus the final ½ ulp of the
// 16-bit dtype, far inside the tolerance of kernels/test/dtype_tolerance.ts.

import { contiguousStrides, forEachRow, numel } from '../geometry.js';
import { float16FromF32Bits, float16Table } from '../half.js';
import type { TypedArray, View } from '../types.js';
import { wasmRuntime } from '../wasm/runtime.js';

type V = View<TypedArray>;

/** A float16 or bfloat16 view over its bit patterns. */
export type Half = View<Uint16Array> & { dtype: 'float16' | 'bfloat16' };
export const isHalf = (v: V | null): v is Half =>
  v !== null && (v.dtype === 'float16' || v.dtype === 'bfloat16') && v.buffer instanceof Uint16Array;

/** A strided run: n elements at arr[off + i·stride]. */
export interface Run<A> {
  /** The array holding the run. */
  arr: A;
  /** Index of the first element. */
  off: number;
  /** Elements between consecutive elements of the run. */
  stride: number;
}

// The bits of the last float32 array converted, as an Int32Array (a tensor's rows convert one after
// another). Int32, not Uint32: the loops' bit arithmetic then stays in small integers, which V8 keeps
// unboxed (a uint32 above 2^31 would be a double).
let lastF32: Float32Array | null = null;
let lastI32: Int32Array = new Int32Array(0);
function bitsOf(a: Float32Array): Int32Array {
  if (a !== lastF32) {
    lastF32 = a;
    lastI32 = new Int32Array(a.buffer, a.byteOffset, a.length);
  }
  return lastI32;
}

/** dst[i] = the value of 16-bit pattern src[i] (`dtype` float16 or bfloat16), n elements. */
export function decodeRun(dtype: 'float16' | 'bfloat16', n: number, src: Run<Uint16Array>, dst: Run<Float32Array>): void {
  const s = src.arr, ss = src.stride, ds = dst.stride;
  let p = src.off, q = dst.off;
  if (dtype === 'float16') {
    const t = float16Table(), d = dst.arr;
    if (ss === 1 && ds === 1) for (let i = 0; i < n; i++) d[q + i] = t[s[p + i]!]!;
    else for (let i = 0; i < n; i++, p += ss, q += ds) d[q] = t[s[p]!]!;
  } else {
    const d = bitsOf(dst.arr);
    if (ss === 1 && ds === 1) for (let i = 0; i < n; i++) d[q + i] = s[p + i]! << 16;
    else for (let i = 0; i < n; i++, p += ss, q += ds) d[q] = s[p]! << 16;
  }
}

/** dst[i] = the 16-bit pattern nearest to float32 src[i] (`dtype` float16 or bfloat16), n elements. */
export function encodeRun(dtype: 'float16' | 'bfloat16', n: number, src: Run<Float32Array>, dst: Run<Uint16Array>): void {
  const s = bitsOf(src.arr), d = dst.arr, ss = src.stride, ds = dst.stride;
  let p = src.off, q = dst.off;
  if (dtype === 'float16') {
    for (let i = 0; i < n; i++, p += ss, q += ds) {
      const u = s[p]!, a = u & 0x7fffffff;
      // Normal results (2^-14 ≤ |x| < 65520): rebias 127 → 15 and drop 13 mantissa bits, adding
      // 0xfff plus the kept lowest bit (ties to even); a carry out of the mantissa bumps the exponent.
      d[q] = a >= 0x38800000 && a < 0x477ff000
        ? ((u >>> 16) & 0x8000) | ((a - 0x38000000 + 0xfff + ((a >>> 13) & 1)) >>> 13)
        : float16FromF32Bits(u);
    }
  } else {
    for (let i = 0; i < n; i++, p += ss, q += ds) {
      const u = s[p]!;
      // The top half, rounded ties-to-even (a carry into the exponent rounds up to inf); NaN → quiet NaN.
      d[q] = (u & 0x7fffffff) > 0x7f800000 ? 0x7fc0 : ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
    }
  }
}

/** A float32 array of n elements in the heap where memory is shared (kernels use it in place), else an ordinary one. */
function f32Array(n: number): { arr: Float32Array; free: () => void } {
  const rt = wasmRuntime();
  const arr = rt.tensorArray(n);
  return arr ? { arr, free: () => rt.freeTensorArray(arr) } : { arr: new Float32Array(n), free: () => {} };
}

/**
 * A float32 copy of a 16-bit view, contiguous in its logical order: each element decoded once.
 * Broadcast dims (stride 0) stay broadcast (size 1 in the copy, stride 0 in the returned view), so
 * an expanded bias or scalar is decoded once and fast kernels still see it as broadcast.
 */
export function decodedView(v: Half): { view: View<Float32Array>; free: () => void } {
  const kept = v.shape.map((n, d) => (v.strides[d] === 0 ? 1 : n));
  const dense = contiguousStrides(kept);
  const { arr, free } = f32Array(Math.max(1, numel(kept)));
  forEachRow(kept, [v, { shape: kept, strides: dense, offset: 0 }], (offs, n, inner) =>
    decodeRun(v.dtype, n, { arr: v.buffer, off: offs[0]!, stride: inner[0]! }, { arr, off: offs[1]!, stride: inner[1]! }));
  const strides = dense.map((s, d) => (v.strides[d] === 0 ? 0 : s));
  return { view: { buffer: arr, dtype: 'float32', shape: v.shape, strides, offset: 0 }, free };
}

/** Encodes the contiguous float32 `src` (out's shape, logical order) into the 16-bit view `out`. */
export function encodeInto(src: Float32Array, out: Half): void {
  forEachRow(out.shape, [{ shape: out.shape, strides: contiguousStrides(out.shape), offset: 0 }, out], (offs, n, inner) =>
    encodeRun(out.dtype, n, { arr: src, off: offs[0]!, stride: inner[0]! }, { arr: out.buffer, off: offs[1]!, stride: inner[1]! }));
}

/**
 * Runs the float32 fast kernel `kernel` for a call with 16-bit operands: each 16-bit input (in
 * `ins`) is decoded once into float32 scratch (`decodedView`), each 16-bit output (in `outs`) is
 * computed into contiguous float32 scratch and encoded once, nearest even, after the kernel returns
 * (so an output may share memory with an input). Other operands (float32, int32 targets, bool
 * conditions, absent ones) are passed as they are. False, with nothing written, when an operand is
 * float64 (a float64 kernel must not round through float32) or when the kernel declines the
 * float32 call; the reference then runs on the original operands.
 */
export function viaFloat32<I extends readonly (V | null)[], O extends readonly (V | null)[]>(ins: I, outs: O,
  kernel: (ins: I, outs: O) => boolean): boolean {
  for (const v of ins) if (v && v.dtype === 'float64') return false;
  for (const v of outs) if (v && v.dtype === 'float64') return false;
  const frees: (() => void)[] = [];
  try {
    const ins32 = ins.map((v) => {
      if (!isHalf(v)) return v;
      const d = decodedView(v);
      frees.push(d.free);
      return d.view;
    }) as unknown as I;
    const encodes: (() => void)[] = [];
    const outs32 = outs.map((v) => {
      if (!isHalf(v)) return v;
      const { arr, free } = f32Array(Math.max(1, numel(v.shape)));
      frees.push(free);
      encodes.push(() => encodeInto(arr, v));
      return { buffer: arr, dtype: 'float32', shape: v.shape, strides: contiguousStrides(v.shape), offset: 0 } as View<Float32Array>;
    }) as unknown as O;
    if (!kernel(ins32, outs32)) return false;
    for (const e of encodes) e();
    return true;
  } finally {
    for (const f of frees) f();
  }
}

/** Whether any operand given is a float16/bfloat16 view (then the family runs it through `viaFloat32`). */
export const anyHalf = (...vs: (V | null)[]): boolean => vs.some(isHalf);
