// Tests of the strided-view helpers the CPU reference kernels are built on.
import { describe, expect, it } from 'vitest';
import {
  contiguousStrides, contiguousView, convertTo, elementOffsets, forEachIndex, numel, readAll, typedArrayFor, writeAll,
} from '../src/cpu/index.js';
import type { View, TypedArray } from '../src/types.js';

describe('cpu strided helpers', () => {
  it('numel and contiguous strides, including 0-d and empty shapes', () => {
    expect(numel([])).toBe(1);
    expect(numel([2, 0, 3])).toBe(0);
    expect(contiguousStrides([2, 3, 4])).toEqual([12, 4, 1]);
    expect(contiguousStrides([])).toEqual([]);
  });

  it('typedArrayFor picks the storage type of each dtype', () => {
    expect(typedArrayFor('float32', 3)).toBeInstanceOf(Float32Array);
    expect(typedArrayFor('float64', 3)).toBeInstanceOf(Float64Array);
    expect(typedArrayFor('int32', 3)).toBeInstanceOf(Int32Array);
    expect(typedArrayFor('bool', 3)).toBeInstanceOf(Uint8Array);
    expect(typedArrayFor('float32', 3).length).toBe(3);
  });

  it('element offsets of a transposed view walk the buffer column-major', () => {
    // Buffer holds a 2x3 matrix row-major; its transpose is shape [3,2], strides [1,3].
    const t: View<TypedArray> = { buffer: new Float64Array([0, 1, 2, 3, 4, 5]), dtype: 'float64', shape: [3, 2], strides: [1, 3], offset: 0 };
    expect(Array.from(elementOffsets(t))).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(readAll(t))).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('stride-0 broadcast, offsets, 0-d and empty views', () => {
    const buf = new Float64Array([7, 8, 9]);
    const bcast: View<TypedArray> = { buffer: buf, dtype: 'float64', shape: [2, 3], strides: [0, 1], offset: 0 };
    expect(Array.from(readAll(bcast))).toEqual([7, 8, 9, 7, 8, 9]);
    const scalar: View<TypedArray> = { buffer: buf, dtype: 'float64', shape: [], strides: [], offset: 2 };
    expect(Array.from(readAll(scalar))).toEqual([9]);
    const empty: View<TypedArray> = { buffer: buf, dtype: 'float64', shape: [0, 3], strides: [3, 1], offset: 0 };
    expect(readAll(empty).length).toBe(0);
    const reversed: View<TypedArray> = { buffer: buf, dtype: 'float64', shape: [3], strides: [-1], offset: 2 };
    expect(Array.from(readAll(reversed))).toEqual([9, 8, 7]);
  });

  it('forEachIndex visits row-major multi-indices', () => {
    const seen: string[] = [];
    forEachIndex([2, 2], (idx, lin) => seen.push(`${lin}:${idx.join(',')}`));
    expect(seen).toEqual(['0:0,0', '1:0,1', '2:1,0', '3:1,1']);
    let count = 0;
    forEachIndex([], () => count++);
    expect(count).toBe(1);
    forEachIndex([3, 0], () => count++);
    expect(count).toBe(1);
  });

  it('dtype conversion on write: int32 truncates toward zero, bool is 0/1, float32 rounds', () => {
    expect(convertTo('int32', 2.7)).toBe(2);
    expect(convertTo('int32', -2.7)).toBe(-2);
    expect(convertTo('int32', NaN)).toBe(0);
    expect(convertTo('bool', 0.1)).toBe(1);
    expect(convertTo('bool', -3)).toBe(1);
    expect(convertTo('bool', NaN)).toBe(1);
    expect(convertTo('bool', 0)).toBe(0);
    expect(convertTo('float32', 0.1)).toBe(Math.fround(0.1));
    const b = contiguousView('bool', [3]);
    writeAll(b, [256, 0, -1]); // a raw Uint8Array store would keep 256 as 0 and -1 as 255
    expect(Array.from(b.buffer)).toEqual([1, 0, 1]);
    const i = contiguousView('int32', [2], [-0.5, 1e9 + 0.9]);
    expect(Array.from(i.buffer)).toEqual([0, 1e9]);
  });

  it('writeAll rejects a value count that does not match the view', () => {
    expect(() => writeAll(contiguousView('float32', [2]), [1, 2, 3])).toThrow(RangeError);
  });
});
