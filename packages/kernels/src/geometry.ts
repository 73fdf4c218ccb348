// View geometry: the shape and stride arithmetic every backend and the tensor layer share.
//
// A view is a window onto a buffer: `shape`, `strides` and `offset`, with strides and offset counted
// in elements. Element (i0, ..., i_{r-1}) lives at offset + Σ i_d·strides[d]. Logical element order
// is always row-major over `shape`. Conventions every function here keeps:
// - rank 0: shape [] and strides [] hold exactly one element, at `offset`;
// - a dim of size 0 makes the view empty (numel 0) whatever its strides;
// - the stride of a dim of size 1 never matters (it is never multiplied by a non-zero index);
// - stride 0 repeats an element along a dim (a broadcast), so distinct indices may share an
//   element: such views are never contiguous and must not be written to as if they were.
// Negative strides are not produced by the library; the functions that only add strides up
// (offsetOf, elementOffsets, forEachIndex) work with them, the others assume strides ≥ 0.
//
// Nothing here looks at the buffer's contents or dtype, except `sharesMemory` and
// `aliasesDifferently`, which compare the memory behind two typed-array views.

import type { View } from './types.js';

/** The geometry part of a view. A `View`, and anything with a shape and strides, is one. */
export interface Strided {
  /** Size of each dimension. */
  readonly shape: readonly number[];
  /** Elements to step per index of each dimension. */
  readonly strides: readonly number[];
}

/** Number of elements of a shape (1 for the rank-0 shape [], 0 when any dim is 0). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Row-major contiguous strides for `shape`, in elements ([] for rank 0). */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  return strides;
}

/**
 * True when the view's elements are consecutive in row-major order: each dim's stride is the
 * product of the sizes after it. Size-1 dims are ignored, so a rank-0 view and an all-ones shape
 * are contiguous; a broadcast (stride 0) dim of size > 1 is not.
 */
export function isContiguous(v: Strided): boolean {
  let want = 1;
  for (let d = v.shape.length - 1; d >= 0; d--) {
    const n = v.shape[d]!;
    if (n !== 1 && v.strides[d] !== want) return false;
    want *= n;
  }
  return true;
}

/**
 * A [..., cols] shape as `rows` rows of its last dim, for the row kernels (softmax, layerNorm,
 * cross-entropy). Rank 0 is one row of one element; an empty shape has 0 rows or 0 cols.
 */
export function rowsOf(shape: readonly number[]): {
  /** Product of all but the last dimension. */
  rows: number;
  /** The last dimension. */
  cols: number;
} {
  if (shape.length === 0) return { rows: 1, cols: 1 };
  const cols = shape[shape.length - 1]!;
  let rows = 1;
  for (let d = 0; d < shape.length - 1; d++) rows *= shape[d]!;
  return { rows, cols };
}

/**
 * Calls `fn(index, linear)` for every multi-index of `shape` in row-major order (once, with index
 * [], for rank 0; never for an empty shape). `index` is one array mutated in place between calls
 * (copy it to keep it); `linear` counts 0, 1, 2, ...
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

/** Buffer offset of the element at multi-index `index` of a view (no bounds check). */
export function offsetOf(view: Strided & { readonly offset: number }, index: readonly number[]): number {
  let off = view.offset;
  for (let d = 0; d < index.length; d++) off += index[d]! * view.strides[d]!;
  return off;
}

/**
 * The buffer offset of every element of a view, in row-major logical order. Views that repeat
 * elements (stride 0, overlapping strides) list the shared offsets as often as they are seen.
 */
export function elementOffsets(view: Strided & { readonly offset: number }): Float64Array {
  const { shape, strides } = view;
  const out = new Float64Array(numel(shape));
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let off = view.offset;
  for (let linear = 0; linear < out.length; linear++) {
    out[linear] = off;
    // Odometer increment, keeping `off` in step with `index`.
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

/** A shape of merged dims and each view's strides over them (`strides[k]` has the shape's length). */
export interface Coalesced {
  /** Sizes of the merged dimensions. */
  shape: number[];
  /** Per view, its strides over the merged dimensions. */
  strides: number[][];
}

/**
 * Merges the dims of a shape that several views (one stride list each, all over `shape`) walk
 * uniformly, so loops and kernels see the fewest dims: size-1 dims are dropped, and a dim merges
 * into the one after it when every view has stride[d] = stride[d+1]·shape[d+1]. A contiguous view
 * becomes one dim; a transposed one stays two. The element order and every view's offsets are
 * unchanged. A single element (rank 0 or all ones) coalesces to rank 0: shape [], strides [].
 * An empty shape coalesces to a shape containing 0 (callers test numel first).
 */
export function coalesce(shape: readonly number[], stridesList: readonly (readonly number[])[]): Coalesced {
  const outShape: number[] = [];
  const outStrides: number[][] = stridesList.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const k = outShape.length - 1;
    // outStrides[v][k] is the stride of the innermost dim merged into k so far.
    if (k >= 0 && stridesList.every((s, v) => outStrides[v]![k] === s[d]! * n)) {
      outShape[k] = outShape[k]! * n;
      stridesList.forEach((s, v) => { outStrides[v]![k] = s[d]!; });
      continue;
    }
    outShape.push(n);
    stridesList.forEach((s, v) => outStrides[v]!.push(s[d]!));
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * Walks views of one `shape` together, a run of elements at a time: calls `fn(offs, n, inner)` once
 * per innermost run of their coalesced walk, in row-major order, with `offs[k]` the buffer offset of
 * the run's first element in view k, `n` the run's length and `inner[k]` view k's stride along it.
 * A contiguous shape is one call; a transposed one a call per row. Loops written inside `fn` stay
 * tight, and no per-element offsets are built. An empty shape makes no call; a single element is
 * one run of 1. `offs` is reused between calls (copy it to keep it).
 */
export function forEachRow(shape: readonly number[], views: readonly (Strided & { readonly offset: number })[],
  fn: (offs: number[], n: number, inner: number[]) => void): void {
  if (numel(shape) === 0) return;
  const c = coalesce(shape, views.map((v) => v.strides));
  if (c.shape.length === 0) return fn(views.map((v) => v.offset), 1, views.map(() => 0)); // one element
  const r = c.shape.length;
  const n = c.shape[r - 1]!;
  const inner = c.strides.map((s) => s[r - 1]!);
  const base = views.map((v) => v.offset);
  if (r === 1) return fn(base, n, inner);
  // Odometer over the outer dims, keeping each view's run offset in step.
  const idx = new Array<number>(r - 1).fill(0);
  const offs = base.slice();
  const rows = numel(c.shape.slice(0, r - 1));
  for (let row = 0; row < rows; row++) {
    fn(offs, n, inner);
    for (let d = r - 2; d >= 0; d--) {
      const sd = c.shape[d]!;
      if (++idx[d]! < sd) {
        for (let k = 0; k < offs.length; k++) offs[k]! += c.strides[k]![d]!;
        break;
      }
      idx[d] = 0;
      for (let k = 0; k < offs.length; k++) offs[k]! -= c.strides[k]![d]! * (sd - 1);
    }
  }
}

/** The view with its last two dims swapped: a transpose by strides, no copy (rank ≥ 2). */
export function transposeLast<V extends Strided>(v: V): V {
  const r = v.shape.length;
  const swap = (a: readonly number[]) => [...a.slice(0, r - 2), a[r - 1]!, a[r - 2]!];
  return { ...v, shape: swap(v.shape), strides: swap(v.strides) };
}

/**
 * The strides of a view of shape `shape` seen as shape `to` under NumPy/PyTorch broadcasting
 * (right-aligned): 0 on new leading dims and on size-1 dims that `to` stretches, the view's own
 * stride elsewhere. Throws a RangeError naming both shapes when `shape` does not broadcast to `to`.
 */
export function broadcastStrides(shape: readonly number[], strides: readonly number[], to: readonly number[]): number[] {
  const lead = to.length - shape.length;
  const fail = () => new RangeError(`broadcastStrides: shape [${shape.join(', ')}] cannot be broadcast to [${to.join(', ')}]`);
  if (lead < 0) throw fail();
  return to.map((d, i) => {
    const j = i - lead;
    if (j < 0) return 0;
    const n = shape[j]!;
    if (n === d) return strides[j]!;
    if (n === 1) return 0;
    throw fail();
  });
}

/**
 * Whether two typed-array views may touch the same bytes: views of one array, or arrays over one
 * underlying buffer whose byte ranges intersect. (Every float32 tensor of the fast `cpu` device is
 * an array over one WebAssembly memory, so sharing an ArrayBuffer alone says nothing.)
 */
export function sharesMemory(a: View<ArrayBufferView>, b: View<ArrayBufferView>): boolean {
  if (a.buffer === b.buffer) return true;
  if (a.buffer.buffer !== b.buffer.buffer) return false;
  const aa = a.buffer.byteOffset, ba = b.buffer.byteOffset;
  return aa < ba + b.buffer.byteLength && ba < aa + a.buffer.byteLength;
}

/**
 * True when `x` and `out` share memory but not the same element layout, so that writing `out`
 * element by element could change elements of `x` not yet read. Two views of the same elements in
 * the same order (an in-place elementwise op) do not count.
 */
export function aliasesDifferently(x: View<ArrayBufferView>, out: View<ArrayBufferView>): boolean {
  if (!sharesMemory(x, out)) return false;
  if (x.buffer.byteOffset !== out.buffer.byteOffset || x.offset !== out.offset) return true;
  for (let d = 0; d < x.shape.length; d++) if (x.shape[d]! > 1 && x.strides[d] !== out.strides[d]) return true;
  return false;
}
