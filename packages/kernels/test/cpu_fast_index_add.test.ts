// The fast cpu indexAdd (the embedding's backward) against the reference: repeated indices —
// every row to one index, a few hot rows, index order reversed — along dim 0 and 1, with
// contiguous, transposed, stepped and broadcast sources; the float32 results must be bit-identical
// (the same adds in the same order) and the fast path must take every one of these calls.
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { indexAdd } from '../src/cpu_fast/indexing.js';
import { fastCpuKernels } from '../src/cpu_fast/index.js';
import { contiguousStrides } from '../src/geometry.js';
import type { TypedArray, View } from '../src/types.js';
import { seeded, view } from './wasm_helpers.js';

const ints = (xs: number[]): View<TypedArray> => ({ buffer: Int32Array.from(xs), dtype: 'int32', shape: [xs.length], strides: [1], offset: 0 });
const zeros = (shape: number[]): View<TypedArray> => view(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);

/** out [outShape] += src along `dim`, fast and reference, from a src view over `data`. */
function both(outShape: number[], dim: number, idx: number[], src: View<TypedArray>): [Float32Array, Float32Array] {
  const fast = zeros(outShape), ref = zeros(outShape);
  expect(indexAdd(fast, dim, ints(idx), src), 'the fast path takes the call').toBe(true);
  cpuKernels.indexAdd(ref, dim, ints(idx), src);
  return [fast.buffer as Float32Array, ref.buffer as Float32Array];
}

const expectSameBits = ([a, b]: [Float32Array, Float32Array]) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Object.is(a[i], b[i]), `element ${i}: ${a[i]} vs ${b[i]}`).toBe(true);
};

describe('fast indexAdd with repeated indices', () => {
  const V = 7, D = 5;
  const cases: [string, number[]][] = [
    ['all rows to one index', Array.from({ length: 300 }, () => 3)],
    ['a few hot rows', Array.from({ length: 97 }, (_, i) => [0, 6, 6, 2][i % 4]!)],
    ['descending with repeats', Array.from({ length: 40 }, (_, i) => 6 - Math.floor(i / 6))],
    ['one index', [4]],
  ];
  for (const [name, idx] of cases) {
    it(`${name}: contiguous src [${idx.length}, ${D}] along dim 0`, () => {
      expectSameBits(both([V, D], 0, idx, view(seeded(idx.length * D, idx.length, -3, 3), [idx.length, D])));
    });
    it(`${name}: transposed src along dim 0`, () => {
      const L = idx.length;
      const t = view(seeded(L * D, L + 1, -3, 3), [L, D], [1, L]);             // a [D, L] array read as [L, D]
      expectSameBits(both([V, D], 0, idx, t));
    });
    it(`${name}: stepped src along dim 1, inner size 1`, () => {
      const L = idx.length;
      const base = seeded(2 * 3 * L, L + 2, -3, 3);
      const stepped = view(base, [3, L], [2 * L, 2], 1);                      // every other element, from offset 1
      expectSameBits(both([3, V], 1, idx, stepped));
    });
  }

  it('a broadcast (stride 0) source adds the same row each time', () => {
    const row = view(seeded(D, 9, -1, 1), [50, D], [0, 1]);
    const [fast, ref] = both([V, D], 0, Array.from({ length: 50 }, (_, i) => i % 2), row);
    expectSameBits([fast, ref]);
    for (let k = 0; k < D; k++) expect(fast[k]).not.toBe(0);
  });

  it('accumulates into what out already holds, and the kernel set routes here', () => {
    const src = view(seeded(6 * D, 11, -1, 1), [6, D]);
    const fast = view(Float32Array.from({ length: V * D }, (_, i) => i / 7), [V, D]);
    const ref = view(Float32Array.from({ length: V * D }, (_, i) => i / 7), [V, D]);
    fastCpuKernels.indexAdd(fast, 0, ints([1, 1, 5, 1, 0, 5]), src);
    cpuKernels.indexAdd(ref, 0, ints([1, 1, 5, 1, 0, 5]), src);
    expectSameBits([fast.buffer as Float32Array, ref.buffer as Float32Array]);
  });

  it('an out-of-range index is a RangeError naming the kernel', () => {
    expect(() => indexAdd(zeros([V, D]), 0, ints([1, V]), view(seeded(2 * D), [2, D]))).toThrow(/indexAdd: index 7 is out of range for dimension 0 of size 7/);
  });

  it('declines what it does not handle (float64, non-contiguous out)', () => {
    const src64: View<TypedArray> = { buffer: new Float64Array(2 * D), dtype: 'float64', shape: [2, D], strides: contiguousStrides([2, D]), offset: 0 };
    const out64: View<TypedArray> = { buffer: new Float64Array(V * D), dtype: 'float64', shape: [V, D], strides: contiguousStrides([V, D]), offset: 0 };
    expect(indexAdd(out64, 0, ints([0, 1]), src64)).toBe(false);
    expect(indexAdd(view(new Float32Array(V * D), [V, D], [1, V]), 0, ints([0, 1]), view(seeded(2 * D), [2, D]))).toBe(false);
  });
});
