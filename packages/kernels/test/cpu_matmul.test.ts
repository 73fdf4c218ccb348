// Tests of the CPU batched strided matmul.
import { describe, expect, it } from 'vitest';
import { contiguousView, cpuKernels } from '../src/cpu/index.js';
import type { TypedArray, View } from '../src/types.js';
import { vals } from './cpu_helpers.js';

describe('cpu matmul', () => {
  it('2x3 @ 3x2 (hand-computed)', () => {
    // [[1,2,3],[4,5,6]] @ [[7,8],[9,10],[11,12]] = [[58,64],[139,154]]
    const a = contiguousView('float64', [2, 3], [1, 2, 3, 4, 5, 6]);
    const b = contiguousView('float64', [3, 2], [7, 8, 9, 10, 11, 12]);
    const out = contiguousView('float64', [2, 2]);
    cpuKernels.matmul(a, b, out);
    expect(vals(out)).toEqual([58, 64, 139, 154]);
  });

  it('transposes as strides: aᵀ @ bᵀ', () => {
    // aT is the transpose of stored [[1,4],[2,5],[3,6]] → [[1,2,3],[4,5,6]]; bT of [[7,9,11],[8,10,12]] → [[7,8],[9,10],[11,12]]
    const a: View<TypedArray> = { buffer: new Float64Array([1, 4, 2, 5, 3, 6]), dtype: 'float64', shape: [2, 3], strides: [1, 2], offset: 0 };
    const b: View<TypedArray> = { buffer: new Float64Array([7, 9, 11, 8, 10, 12]), dtype: 'float64', shape: [3, 2], strides: [1, 3], offset: 0 };
    const out = contiguousView('float64', [2, 2]);
    cpuKernels.matmul(a, b, out);
    expect(vals(out)).toEqual([58, 64, 139, 154]);
  });

  it('batched with a broadcast (stride-0) operand and a strided out', () => {
    // a: batch of 2: I and 2I (2x2); b: one 2x2 matrix [[1,2],[3,4]] broadcast over the batch.
    const a = contiguousView('float64', [2, 2, 2], [1, 0, 0, 1, 2, 0, 0, 2]);
    const b: View<TypedArray> = { buffer: new Float64Array([1, 2, 3, 4]), dtype: 'float64', shape: [2, 2, 2], strides: [0, 2, 1], offset: 0 };
    // out written transposed within each batch: out[b][i][j] at 4b + 2j + i
    const buf = new Float64Array(8);
    const out: View<TypedArray> = { buffer: buf, dtype: 'float64', shape: [2, 2, 2], strides: [4, 1, 2], offset: 0 };
    cpuKernels.matmul(a, b, out);
    expect(vals(out)).toEqual([1, 2, 3, 4, 2, 4, 6, 8]);
    expect(Array.from(buf)).toEqual([1, 3, 2, 4, 2, 6, 4, 8]);
  });

  it('size-1 dims (GEMV, outer product) and K = 0', () => {
    const out = contiguousView('float64', [1, 1]);
    cpuKernels.matmul(contiguousView('float64', [1, 3], [1, 2, 3]), contiguousView('float64', [3, 1], [4, 5, 6]), out);
    expect(vals(out)).toEqual([32]);
    const outer = contiguousView('float64', [2, 3]);
    cpuKernels.matmul(contiguousView('float64', [2, 1], [1, 2]), contiguousView('float64', [1, 3], [3, 4, 5]), outer);
    expect(vals(outer)).toEqual([3, 4, 5, 6, 8, 10]);
    const z = contiguousView('float64', [2, 2], [9, 9, 9, 9]);
    cpuKernels.matmul(contiguousView('float64', [2, 0]), contiguousView('float64', [0, 2]), z);
    expect(vals(z)).toEqual([0, 0, 0, 0]);
    const empty = contiguousView('float64', [0, 2]);
    expect(() => cpuKernels.matmul(contiguousView('float64', [0, 3]), contiguousView('float64', [3, 2]), empty)).not.toThrow();
  });

  it('accumulates in float64 and rounds once into float32', () => {
    // [1e8, 1, -1e8] · [1, 1, 1]: float32 accumulation would give 0, float64 gives 1
    const out = contiguousView('float32', [1, 1]);
    cpuKernels.matmul(contiguousView('float32', [1, 3], [1e8, 1, -1e8]), contiguousView('float32', [3, 1], [1, 1, 1]), out);
    expect(out.buffer[0]).toBe(1);
  });
});
