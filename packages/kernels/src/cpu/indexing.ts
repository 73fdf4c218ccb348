// CPU reference for the indexing kernels: gather, scatterAdd, indexSelect, indexAdd.
//
// Indices are int32 views; `dim` is a non-negative axis (core normalizes negatives). Every index
// is checked against the size of `dim` before use and an out-of-range one throws a RangeError
// naming the kernel, the bad index and the valid range: these kernels never touch memory
// outside a view, even if a caller skips core's validation.
//
// - gather(x, dim, index, out): out and index have the same shape; out[p] = x[p with p[dim] := index[p]].
// - scatterAdd(out, dim, index, src): for every position p of index, out[p with p[dim] := index[p]] += src[p].
// - indexSelect(x, dim, index, out): index is 1-D of length L; out = x.shape with L at dim;
//   out[..., j, ...] = x[..., index[j], ...].
// - indexAdd(out, dim, index, src): index 1-D of length L, src = out.shape with L at dim;
//   out[..., index[i], ...] += src[..., i, ...] (repeated indices accumulate; embedding backward).
// The accumulating kernels add into out's current contents (indexAdd with `zeroed`: into zeros), in
// float64, visiting src in row-major order, and store each sum in out's dtype; indexAdd's addend is
// added to each finished sum (and that stored), as a separate add kernel would.

import type { TypedArray, View } from '../types.js';
import { elementOffsets, forEachIndex, numel, offsetOf } from '../geometry.js';
import { readAt, writeAt } from './strided.js';

function checkIndex(kernel: string, i: number, size: number, dim: number): void {
  if (!(i >= 0 && i < size)) {
    throw new RangeError(`${kernel}: index ${i} is out of range for dimension ${dim} of size ${size} (valid: 0..${size - 1})`);
  }
}

export function gather(x: View<TypedArray>, dim: number, index: View<TypedArray>, out: View<TypedArray>): void {
  const size = x.shape[dim]!;
  const src = new Array<number>(x.shape.length);
  forEachIndex(out.shape, (p) => {
    const i = readAt(index, offsetOf(index, p));
    checkIndex('gather', i, size, dim);
    for (let d = 0; d < p.length; d++) src[d] = d === dim ? i : p[d]!;
    writeAt(out, offsetOf(out, p), readAt(x, offsetOf(x, src)));
  });
}

export function scatterAdd(out: View<TypedArray>, dim: number, index: View<TypedArray>, src: View<TypedArray>): void {
  const size = out.shape[dim]!;
  const dst = new Array<number>(out.shape.length);
  forEachIndex(index.shape, (p) => {
    const i = readAt(index, offsetOf(index, p));
    checkIndex('scatterAdd', i, size, dim);
    for (let d = 0; d < p.length; d++) dst[d] = d === dim ? i : p[d]!;
    const o = offsetOf(out, dst);
    writeAt(out, o, readAt(out, o) + readAt(src, offsetOf(src, p)));
  });
}

/** The index values of a 1-D int32 view, each checked against `size`. */
function readIndex1d(kernel: string, index: View<TypedArray>, size: number, dim: number): number[] {
  const n = index.shape.length === 0 ? 1 : index.shape[0]!;
  const stride = index.shape.length === 0 ? 0 : index.strides[0]!;
  const values: number[] = [];
  for (let j = 0; j < n; j++) {
    const i = index.buffer[index.offset + j * stride]!;
    checkIndex(kernel, i, size, dim);
    values.push(i);
  }
  return values;
}

export function indexSelect(x: View<TypedArray>, dim: number, index: View<TypedArray>, out: View<TypedArray>, addend: View<TypedArray> | null = null): void {
  const idx = readIndex1d('indexSelect', index, x.shape[dim]!, dim);
  const src = new Array<number>(x.shape.length);
  const adds = addend ? elementOffsets(addend) : null;
  if (adds && adds.length !== numel(out.shape)) throw new RangeError(`indexSelect: the addend has ${adds.length} elements, out ${numel(out.shape)}`);
  let k = 0;
  forEachIndex(out.shape, (p) => {
    for (let d = 0; d < p.length; d++) src[d] = d === dim ? idx[p[d]!]! : p[d]!;
    const v = readAt(x, offsetOf(x, src));
    writeAt(out, offsetOf(out, p), adds ? v + readAt(addend!, adds[k++]!) : v);
  });
}

export function indexAdd(out: View<TypedArray>, dim: number, index: View<TypedArray>, src: View<TypedArray>, zeroed = false,
  addend: View<TypedArray> | null = null): void {
  if (addend && !zeroed) throw new RangeError('indexAdd: an addend needs zeroed (out = addend + the added slices)');
  const idx = readIndex1d('indexAdd', index, out.shape[dim]!, dim);
  if (zeroed) forEachIndex(out.shape, (p) => writeAt(out, offsetOf(out, p), 0));
  const dst = new Array<number>(out.shape.length);
  forEachIndex(src.shape, (p) => {
    for (let d = 0; d < p.length; d++) dst[d] = d === dim ? idx[p[d]!]! : p[d]!;
    const o = offsetOf(out, dst);
    writeAt(out, o, readAt(out, o) + readAt(src, offsetOf(src, p)));
  });
  if (addend) forEachIndex(out.shape, (p) => { const o = offsetOf(out, p); writeAt(out, o, readAt(addend, offsetOf(addend, p)) + readAt(out, o)); });
}
