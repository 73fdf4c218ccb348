// Storage helpers shared by every CPU reference kernel: typed arrays per dtype, dtype conversion,
// and gathering/scattering a view's elements. Views and their shape/stride arithmetic (rank 0,
// broadcast strides, row-major logical order) are described in `../geometry.ts`.
//
// Storage and dtype conversion (what a write of the JS number `v` stores):
// - float64: v unchanged;  float32: v rounded to the nearest float32 (done by Float32Array).
// - int32:   truncation toward zero like a C cast (2.7 → 2, -2.7 → -2); NaN and ±∞ → 0; finite values outside
//            the int32 range wrap modulo 2^32 (ECMAScript ToInt32).
// - float16, bfloat16: v rounded once to the nearest value of the format, ties to even (half.ts); the
//            Uint16Array holds the bit pattern, and reads decode it exactly.
// - bool:    stored in a Uint8Array as 1 when v is non-zero (NaN counts as non-zero, like
//            PyTorch's bool(nan) == True) and 0 otherwise.
// Reads return plain JS numbers (float64); bool reads return 0 or 1.
//
// The reference kernels favour clarity over speed: most of them gather their inputs into
// contiguous Float64Arrays with `readAll`, compute in float64, and scatter the result with `writeAll`.

import { contiguousStrides, elementOffsets, numel } from '../geometry.js';
import { bfloat16Bits, bfloat16Value, float16Bits, float16Value } from '../half.js';
import type { DType, TypedArray, View } from '../types.js';

/** A new zero-filled typed array of the storage type for `dtype`. */
export function typedArrayFor(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(length);
    case 'float64': return new Float64Array(length);
    case 'float16': case 'bfloat16': return new Uint16Array(length);
    case 'int32': return new Int32Array(length);
    case 'bool': return new Uint8Array(length);
  }
}

/** A contiguous view over a fresh buffer (convenience for callers and tests). */
export function contiguousView(dtype: DType, shape: readonly number[], data?: ArrayLike<number>): View<TypedArray> {
  const buffer = typedArrayFor(dtype, numel(shape));
  const v: View<TypedArray> = { buffer, dtype, shape: [...shape], strides: contiguousStrides(shape), offset: 0 };
  if (data) writeAll(v, data);
  return v;
}

/** Converts a JS number to the value that storing it as `dtype` keeps (see the header). */
export function convertTo(dtype: DType, v: number): number {
  switch (dtype) {
    case 'float64': return v;
    case 'float32': return Math.fround(v);
    case 'float16': return float16Value(float16Bits(v));
    case 'bfloat16': return bfloat16Value(bfloat16Bits(v));
    case 'int32': return Number.isNaN(v) ? 0 : Math.trunc(v) | 0;
    case 'bool': return v !== 0 ? 1 : 0; // NaN !== 0, so NaN → 1
  }
}

/** Reads the element at buffer offset `off` as a JS number. */
export function readAt(view: View<TypedArray>, off: number): number {
  const x = view.buffer[off]!;
  return view.dtype === 'float16' ? float16Value(x) : view.dtype === 'bfloat16' ? bfloat16Value(x) : x;
}

/** Writes `v` (converted to the view's dtype) at buffer offset `off`. */
export function writeAt(view: View<TypedArray>, off: number, v: number): void {
  view.buffer[off] = storedBits(view.dtype, v);
}

/** What a `dtype` array element holds for the value `v`: the converted value, or a 16-bit float's bits. */
export function storedBits(dtype: DType, v: number): number {
  if (dtype === 'float16') return float16Bits(v);
  if (dtype === 'bfloat16') return bfloat16Bits(v);
  return convertTo(dtype, v);
}

/** The values of a storage array of `dtype` (bit patterns decoded for float16/bfloat16; others copied). */
export function decodeArray(dtype: DType, a: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  const dec = dtype === 'float16' ? float16Value : dtype === 'bfloat16' ? bfloat16Value : null;
  if (dec) for (let i = 0; i < a.length; i++) out[i] = dec(a[i]!);
  else for (let i = 0; i < a.length; i++) out[i] = a[i]!;
  return out;
}

/** A storage array of `dtype` holding `values` (converted as a write of each would). */
export function encodeArray(dtype: DType, values: ArrayLike<number>): TypedArray {
  const out = typedArrayFor(dtype, values.length);
  for (let i = 0; i < values.length; i++) out[i] = storedBits(dtype, values[i]!);
  return out;
}

/** Gathers the view's elements into a contiguous Float64Array, row-major. */
export function readAll(view: View<TypedArray>): Float64Array {
  const offs = elementOffsets(view);
  const out = new Float64Array(offs.length);
  const buf = view.buffer;
  const dec = view.dtype === 'float16' ? float16Value : view.dtype === 'bfloat16' ? bfloat16Value : null;
  if (dec) for (let i = 0; i < offs.length; i++) out[i] = dec(buf[offs[i]!]!);
  else for (let i = 0; i < offs.length; i++) out[i] = buf[offs[i]!]!;
  return out;
}

/** Scatters `values` (row-major, one per element) into the view, converting to its dtype. */
export function writeAll(view: View<TypedArray>, values: ArrayLike<number>): void {
  const offs = elementOffsets(view);
  if (values.length !== offs.length) {
    throw new RangeError(`writeAll: ${values.length} values for a view of ${offs.length} elements (shape [${view.shape.join(', ')}])`);
  }
  for (let i = 0; i < offs.length; i++) writeAt(view, offs[i]!, values[i]!);
}
