// The indexing family of the fast cpu tier: indexSelect / indexAdd along one dim as copies or adds
// of whole slices, for operands that share no memory and int32 indices. indexSelect: contiguous x
// and out. indexAdd (the embedding's backward): float32, contiguous out, src of any strides.
// Out-of-range indices throw a RangeError naming the kernel, index, dim and size. Other cases (and
// gather / scatterAdd) take the reference.

import { elementOffsets, isContiguous, numel, sharesMemory } from '../geometry.js';
import type { TypedArray, View } from '../types.js';
import { isF32 } from '../wasm/operands.js';

type V = View<TypedArray>;

function checkIndex(kernel: string, i: number, size: number, dim: number): void {
  if (!(i >= 0 && i < size)) {
    throw new RangeError(`${kernel}: index ${i} is out of range for dimension ${dim} of size ${size} (valid: 0..${size - 1})`);
  }
}

function readIndex1d(kernel: string, index: V, size: number, dim: number): Int32Array {
  const n = index.shape.length === 0 ? 1 : index.shape[0]!;
  const stride = index.shape.length === 0 ? 0 : index.strides[0]!;
  const values = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const i = index.buffer[index.offset + j * stride]!;
    checkIndex(kernel, i, size, dim);
    values[j] = i;
  }
  return values;
}

/** out[o, j, k] = x[o, index[j], k] with o the dims before `dim` and k those after (slices copied whole). */
export function indexSelect(x: V, dim: number, index: V, out: V, addend: V | null = null): boolean {
  if (x.dtype !== out.dtype || !isContiguous(x) || !isContiguous(out) || sharesMemory(x, out) || index.dtype !== 'int32') return false;
  if (addend && (!isF32(out) || !isF32(addend) || numel(addend.shape) !== numel(out.shape) || sharesMemory(addend, out))) return false;
  const idx = readIndex1d('indexSelect', index, x.shape[dim]!, dim);
  const outer = numel(x.shape.slice(0, dim)), inner = numel(x.shape.slice(dim + 1));
  const S = x.shape[dim]!, L = idx.length;
  const xb = x.buffer, ob = out.buffer;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < L; j++) {
      const src = x.offset + (o * S + idx[j]!) * inner, dst = out.offset + (o * L + j) * inner;
      if (inner >= 16) ob.set(xb.subarray(src, src + inner) as never, dst);
      else for (let k = 0; k < inner; k++) ob[dst + k] = xb[src + k]!;
    }
  }
  if (addend) addInto(out, addend);
  return true;
}

/**
 * out[o, index[i], k] += src[o, i, k], in src's logical row-major order: each add rounds to float32,
 * exactly like the reference's read-add-store, so repeated indices (an embedding row used by many
 * tokens) accumulate in the same order and to the same bits, whatever src's strides. A contiguous
 * src is read row by row; a strided one through its precomputed element offsets (outer dims, and
 * the dims after `dim`).
 */
export function indexAdd(out: V, dim: number, index: V, src: V, zeroed = false, addend: V | null = null): boolean {
  if (!isF32(out) || !isF32(src) || !isContiguous(out) || sharesMemory(src, out) || index.dtype !== 'int32') return false;
  if (addend && (!zeroed || !isF32(addend) || sharesMemory(addend, out))) return false;
  const idx = readIndex1d('indexAdd', index, out.shape[dim]!, dim);
  const outer = numel(out.shape.slice(0, dim)), inner = numel(out.shape.slice(dim + 1));
  const S = out.shape[dim]!, L = idx.length;
  const ob = out.buffer, sb = src.buffer;
  if (zeroed) ob.fill(0, out.offset, out.offset + outer * S * inner);
  if (isContiguous(src)) {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < L; i++) {
        const d = out.offset + (o * S + idx[i]!) * inner, s = src.offset + (o * L + i) * inner;
        for (let k = 0; k < inner; k++) ob[d + k] += sb[s + k]!;
      }
    }
    if (addend) addInto(out, addend);
    return true;
  }
  const outerOff = elementOffsets({ shape: src.shape.slice(0, dim), strides: src.strides.slice(0, dim), offset: src.offset });
  const innerOff = elementOffsets({ shape: src.shape.slice(dim + 1), strides: src.strides.slice(dim + 1), offset: 0 });
  const step = src.strides[dim]!;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < L; i++) {
      const d = out.offset + (o * S + idx[i]!) * inner, s = outerOff[o]! + i * step;
      for (let k = 0; k < inner; k++) ob[d + k] += sb[s + innerOff[k]!]!;
    }
  }
  if (addend) addInto(out, addend);
  return true;
}

/** out = addend + out elementwise (out contiguous float32, addend any strides over out's shape), rounded as a float32 add. */
function addInto(out: V, addend: V): void {
  const offs = elementOffsets(addend);
  const ob = out.buffer, ab = addend.buffer;
  for (let k = 0; k < offs.length; k++) ob[out.offset + k] = ab[offs[k]!]! + ob[out.offset + k]!;
}
