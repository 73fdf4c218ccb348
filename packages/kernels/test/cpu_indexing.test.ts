// Tests of the CPU indexing kernels: gather, scatterAdd, indexSelect, indexAdd.
import { describe, expect, it } from 'vitest';
import { contiguousView, cpuKernels } from '../src/cpu/index.js';
import type { TypedArray, View } from '../src/types.js';
import { vals } from './cpu_helpers.js';

const K = cpuKernels;
// x = [[1, 2, 3], [4, 5, 6]]
const x23 = () => contiguousView('float64', [2, 3], [1, 2, 3, 4, 5, 6]);

describe('cpu gather / scatterAdd', () => {
  it('gather along dim 1 and dim 0', () => {
    const out = contiguousView('float64', [2, 2]);
    K.gather(x23(), 1, contiguousView('int32', [2, 2], [2, 0, 1, 1]), out);
    expect(vals(out)).toEqual([3, 1, 5, 5]); // out[i][j] = x[i][idx[i][j]]
    const out0 = contiguousView('float64', [1, 3]);
    K.gather(x23(), 0, contiguousView('int32', [1, 3], [1, 0, 1]), out0);
    expect(vals(out0)).toEqual([4, 2, 6]); // out[0][j] = x[idx[0][j]][j]
  });

  it('gather from a transposed view', () => {
    // xT = [[1,4],[2,5],[3,6]]
    const xt: View<TypedArray> = { buffer: new Float64Array([1, 2, 3, 4, 5, 6]), dtype: 'float64', shape: [3, 2], strides: [1, 3], offset: 0 };
    const out = contiguousView('float64', [3, 1]);
    K.gather(xt, 1, contiguousView('int32', [3, 1], [1, 0, 1]), out);
    expect(vals(out)).toEqual([4, 2, 6]);
  });

  it('scatterAdd accumulates repeated indices into out', () => {
    const out = contiguousView('float64', [2, 3], [1, 1, 1, 1, 1, 1]);
    K.scatterAdd(out, 1, contiguousView('int32', [2, 2], [0, 0, 2, 1]), contiguousView('float64', [2, 2], [10, 20, 30, 40]));
    expect(vals(out)).toEqual([31, 1, 1, 1, 41, 31]);
  });

  it('out-of-range indices throw a RangeError naming the kernel, index and range', () => {
    const out = contiguousView('float64', [2, 1]);
    expect(() => K.gather(x23(), 1, contiguousView('int32', [2, 1], [0, 3]), out)).toThrow(/gather: index 3 .*size 3.*0\.\.2/);
    expect(() => K.gather(x23(), 1, contiguousView('int32', [2, 1], [-1, 0]), out)).toThrow(RangeError);
    expect(() => K.scatterAdd(contiguousView('float64', [2, 3]), 0, contiguousView('int32', [1, 1], [2]), contiguousView('float64', [1, 1])))
      .toThrow(/scatterAdd: index 2/);
  });
});

describe('cpu indexSelect / indexAdd', () => {
  it('indexSelect rows and columns, with repeats', () => {
    const rows = contiguousView('float64', [3, 3]);
    K.indexSelect(x23(), 0, contiguousView('int32', [3], [1, 0, 1]), rows);
    expect(vals(rows)).toEqual([4, 5, 6, 1, 2, 3, 4, 5, 6]);
    const cols = contiguousView('float64', [2, 2]);
    K.indexSelect(x23(), 1, contiguousView('int32', [2], [2, 0]), cols);
    expect(vals(cols)).toEqual([3, 1, 6, 4]);
    const none = contiguousView('float64', [0, 3]);
    K.indexSelect(x23(), 0, contiguousView('int32', [0]), none);
    expect(none.buffer.length).toBe(0);
  });

  it('indexSelect with a strided index view (embedding lookup)', () => {
    // index = every other element of [2, 9, 0, 9]: [2, 0]
    const idx: View<TypedArray> = { buffer: new Int32Array([2, 9, 0, 9]), dtype: 'int32', shape: [2], strides: [2], offset: 0 };
    const table = contiguousView('float64', [3, 2], [0, 1, 10, 11, 20, 21]);
    const out = contiguousView('float64', [2, 2]);
    K.indexSelect(table, 0, idx, out);
    expect(vals(out)).toEqual([20, 21, 0, 1]);
  });

  it('indexAdd accumulates repeated indices (embedding backward)', () => {
    const out = contiguousView('float64', [3, 2]);
    K.indexAdd(out, 0, contiguousView('int32', [3], [2, 0, 2]), contiguousView('float64', [3, 2], [1, 2, 3, 4, 5, 6]));
    expect(vals(out)).toEqual([3, 4, 0, 0, 6, 8]);
    const out1 = contiguousView('float64', [2, 3], [1, 1, 1, 1, 1, 1]);
    K.indexAdd(out1, 1, contiguousView('int32', [2], [1, 1]), contiguousView('float64', [2, 2], [1, 2, 3, 4]));
    expect(vals(out1)).toEqual([1, 4, 1, 1, 8, 1]);
  });

  it('out-of-range indices throw before anything is written', () => {
    const out = contiguousView('float64', [3, 2]);
    expect(() => K.indexAdd(out, 0, contiguousView('int32', [2], [0, 3]), contiguousView('float64', [2, 2], [1, 1, 1, 1])))
      .toThrow(/indexAdd: index 3 is out of range for dimension 0 of size 3/);
    expect(vals(out)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => K.indexSelect(x23(), 1, contiguousView('int32', [1], [5]), contiguousView('float64', [2, 1]))).toThrow(/indexSelect: index 5/);
  });
});
