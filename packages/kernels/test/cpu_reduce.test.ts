// Tests of the CPU reductions (sum/prod/max/min over axes, keepdim layout) and argmax/argmin.
import { describe, expect, it } from 'vitest';
import { contiguousView, cpuKernels } from '../src/cpu/index.js';
import type { TypedArray, View } from '../src/types.js';
import { vals } from './cpu_helpers.js';

const K = cpuKernels;
// x = [[1, 2, 3], [4, 5, 6]]
const x23 = () => contiguousView('float64', [2, 3], [1, 2, 3, 4, 5, 6]);

describe('cpu reduce', () => {
  it('sum over each axis, both, and none', () => {
    const o0 = contiguousView('float64', [1, 3]);
    K.reduce('sum', x23(), [0], o0);
    expect(vals(o0)).toEqual([5, 7, 9]);
    const o1 = contiguousView('float64', [2, 1]);
    K.reduce('sum', x23(), [1], o1);
    expect(vals(o1)).toEqual([6, 15]);
    const o01 = contiguousView('float64', [1, 1]);
    K.reduce('sum', x23(), [0, 1], o01);
    expect(vals(o01)).toEqual([21]);
    const none = contiguousView('float64', [2, 3]);
    K.reduce('sum', x23(), [], none);
    expect(vals(none)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('prod, max, min; NaN propagates through max/min', () => {
    const o = contiguousView('float64', [2, 1]);
    K.reduce('prod', x23(), [1], o);
    expect(vals(o)).toEqual([6, 120]);
    K.reduce('max', contiguousView('float64', [2, 3], [1, 9, 3, -4, -5, -6]), [1], o);
    expect(vals(o)).toEqual([9, -4]);
    K.reduce('min', contiguousView('float64', [2, 3], [1, 9, 3, -4, -5, -6]), [1], o);
    expect(vals(o)).toEqual([1, -6]);
    K.reduce('max', contiguousView('float64', [2, 3], [1, NaN, 3, NaN, 5, 6]), [1], o);
    expect(vals(o).every(Number.isNaN)).toBe(true);
    K.reduce('min', contiguousView('float64', [2, 3], [1, 2, NaN, 4, 5, 6]), [1], o);
    expect(Number.isNaN(vals(o)[0])).toBe(true);
    expect(vals(o)[1]).toBe(4);
  });

  it('middle axis of a 3-D transposed view', () => {
    // base b[i][j][k] = 100i + 10j + k with shape [2,3,2]; view v = b.permute(2,1,0), shape [2,3,2]
    const base = new Float64Array(12);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 2; k++) base[i * 6 + j * 2 + k] = 100 * i + 10 * j + k;
    const v: View<TypedArray> = { buffer: base, dtype: 'float64', shape: [2, 3, 2], strides: [1, 2, 6], offset: 0 };
    const out = contiguousView('float64', [2, 1, 2]);
    K.reduce('sum', v, [1], out);
    // out[k][0][i] = Σ_j (100i + 10j + k) = 300i + 30 + 3k
    expect(vals(out)).toEqual([30, 330, 33, 333]);
  });

  it('stride-0 broadcast input, 0-d, and int32 output', () => {
    const b: View<TypedArray> = { buffer: new Float64Array([2.5]), dtype: 'float64', shape: [4], strides: [0], offset: 0 };
    const o = contiguousView('float64', [1]);
    K.reduce('sum', b, [0], o);
    expect(vals(o)).toEqual([10]);
    const s = contiguousView('float64', [], [7]);
    const os = contiguousView('float64', []);
    K.reduce('sum', s, [], os);
    expect(vals(os)).toEqual([7]);
    const oi = contiguousView('int32', [1, 1]);
    K.reduce('sum', contiguousView('int32', [2, 2], [1, 2, 3, -10]), [0, 1], oi);
    expect(vals(oi)).toEqual([-4]);
  });

  it('empty reductions give the identity', () => {
    const e = contiguousView('float64', [2, 0]);
    const o = contiguousView('float64', [2, 1]);
    K.reduce('sum', e, [1], o);
    expect(vals(o)).toEqual([0, 0]);
    K.reduce('prod', e, [1], o);
    expect(vals(o)).toEqual([1, 1]);
    K.reduce('max', e, [1], o);
    expect(vals(o)).toEqual([-Infinity, -Infinity]);
    K.reduce('min', e, [1], o);
    expect(vals(o)).toEqual([Infinity, Infinity]);
    const none = contiguousView('float64', [1, 0]);
    K.reduce('sum', contiguousView('float64', [2, 0]), [0], none); // output itself empty
    expect(none.buffer.length).toBe(0);
  });

  it('float32 sums accumulate in float64', () => {
    // 1e8 + 1 + 1 + ... (100 ones) - 1e8 would lose the ones in float32 accumulation
    const data = [1e8, ...new Array<number>(100).fill(1), -1e8];
    const o = contiguousView('float32', [1]);
    K.reduce('sum', contiguousView('float32', [102], data), [0], o);
    expect(o.buffer[0]).toBe(100);
  });
});

describe('cpu argReduce', () => {
  it('argmax/argmin along each axis, ties take the first', () => {
    const x = contiguousView('float64', [2, 3], [3, 1, 3, 0, 7, 0]);
    const o1 = contiguousView('int32', [2, 1]);
    K.argReduce('argmax', x, 1, o1);
    expect(vals(o1)).toEqual([0, 1]);
    K.argReduce('argmin', x, 1, o1);
    expect(vals(o1)).toEqual([1, 0]);
    const o0 = contiguousView('int32', [1, 3]);
    K.argReduce('argmax', x, 0, o0);
    expect(vals(o0)).toEqual([0, 1, 0]);
    K.argReduce('argmin', contiguousView('float64', [2, 3], [3, 1, 3, 3, 7, 3]), 0, o0);
    expect(vals(o0)).toEqual([0, 0, 0]);
  });

  it('NaN wins (first NaN), for argmax and argmin alike', () => {
    const x = contiguousView('float64', [5], [1, NaN, 9, NaN, -9]);
    const o = contiguousView('int32', [1]);
    K.argReduce('argmax', x, 0, o);
    expect(vals(o)).toEqual([1]);
    K.argReduce('argmin', x, 0, o);
    expect(vals(o)).toEqual([1]);
  });

  it('transposed input and a 0-d input', () => {
    // view of [[1,5],[4,2],[3,6]] transposed: [[1,4,3],[5,2,6]]
    const t: View<TypedArray> = { buffer: new Float64Array([1, 5, 4, 2, 3, 6]), dtype: 'float64', shape: [2, 3], strides: [1, 2], offset: 0 };
    const o = contiguousView('int32', [2, 1]);
    K.argReduce('argmax', t, 1, o);
    expect(vals(o)).toEqual([1, 2]);
    const os = contiguousView('int32', []);
    K.argReduce('argmax', contiguousView('float64', [], [3]), 0, os);
    expect(vals(os)).toEqual([0]);
  });
});
