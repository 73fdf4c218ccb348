// Strided-view helpers shared by every CPU reference kernel.
//
// A view is `{buffer, dtype, shape, strides, offset}` with `offset` and `strides` counted in
// elements. Element (i0, ..., i_{r-1}) of a view lives at buffer[offset + Σ i_d·strides[d]].
// Strides may be zero (broadcast), negative is not produced by core but works here, and a 0-d view
// (shape [], strides []) has exactly one element at `offset`. Logical element order is always
// row-major over `shape`.
//
// Storage and dtype conversion (what a write of the JS number `v` stores):
// - float64: v unchanged;  float32: v rounded to the nearest float32 (done by Float32Array).
// - int32:   truncation toward zero like a C cast (2.7 → 2, -2.7 → -2); NaN and ±∞ → 0; finite values outside
//            the int32 range wrap modulo 2^32 (ECMAScript ToInt32).
// - bool:    stored in a Uint8Array as 1 when v is non-zero (NaN counts as non-zero, like
//            PyTorch's bool(nan) == True) and 0 otherwise.
// Reads return plain JS numbers (float64); bool reads return 0 or 1.
//
// The reference kernels favour clarity over speed: most of them gather their inputs into
// contiguous Float64Arrays with `readAll`, compute in float64, and scatter the result with `writeAll`.

import type { DType, TypedArray, View } from '../types.js';

/** Number of elements of a shape (1 for the 0-d shape []). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Row-major contiguous strides for `shape` (in elements). */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  return strides;
}

/** A new zero-filled typed array of the storage type for `dtype`. */
export function typedArrayFor(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(length);
    case 'float64': return new Float64Array(length);
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

/**
 * Calls `fn(index, linear)` for every multi-index of `shape` in row-major order. `index` is one
 * array mutated in place between calls (copy it if you keep it); `linear` counts 0, 1, 2, ...
 */
export function forEachIndex(shape: readonly number[], fn: (index: number[], linear: number) => void): void {
  const total = numel(shape);
  if (total === 0) return;
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  for (let linear = 0; linear < total; linear++) {
    fn(index, linear);
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
}

/** Element offset of multi-index `index` in a view (no bounds check). */
export function offsetOf(view: View<TypedArray>, index: readonly number[]): number {
  let off = view.offset;
  for (let d = 0; d < index.length; d++) off += index[d]! * view.strides[d]!;
  return off;
}

/** The buffer offset of every element of the view, in row-major logical order. */
export function elementOffsets(view: View<TypedArray>): Float64Array {
  const { shape, strides } = view;
  const out = new Float64Array(numel(shape));
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let off = view.offset;
  for (let linear = 0; linear < out.length; linear++) {
    out[linear] = off;
    // Odometer increment, keeping `off` in sync with `index`.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]!++;
      off += strides[d]!;
      if (index[d]! < shape[d]!) break;
      off -= strides[d]! * shape[d]!;
      index[d] = 0;
    }
  }
  return out;
}

/** Converts a JS number to the value that storing it as `dtype` keeps (see the header). */
export function convertTo(dtype: DType, v: number): number {
  switch (dtype) {
    case 'float64': return v;
    case 'float32': return Math.fround(v);
    case 'int32': return Number.isNaN(v) ? 0 : Math.trunc(v) | 0;
    case 'bool': return v !== 0 ? 1 : 0; // NaN !== 0, so NaN → 1
  }
}

/** Reads the element at buffer offset `off` as a JS number. */
export function readAt(view: View<TypedArray>, off: number): number {
  return view.buffer[off]!;
}

/** Writes `v` (converted to the view's dtype) at buffer offset `off`. */
export function writeAt(view: View<TypedArray>, off: number, v: number): void {
  view.buffer[off] = convertTo(view.dtype, v);
}

/** Gathers the view's elements into a contiguous Float64Array, row-major. */
export function readAll(view: View<TypedArray>): Float64Array {
  const offs = elementOffsets(view);
  const out = new Float64Array(offs.length);
  const buf = view.buffer;
  for (let i = 0; i < offs.length; i++) out[i] = buf[offs[i]!]!;
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

/** Size of the last dimension and number of rows for the "rows" kernels (0-d counts as one row of one). */
export function rowsOf(shape: readonly number[]): { rows: number; cols: number } {
  if (shape.length === 0) return { rows: 1, cols: 1 };
  const cols = shape[shape.length - 1]!;
  return { rows: numel(shape.slice(0, -1)), cols };
}
