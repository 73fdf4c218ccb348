// Comparisons of int32 operands into bool on the fast cpu tier (cpu_fast/elementwise_loops.ts), as
// `ne(targets, ignoreIndex)` in cross-entropy: against the reference for every comparison op, with a
// scalar, a broadcast row, a transposed view and an offset, and taken by the fast path (no fallback).
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { fastCpuKernels } from '../src/cpu_fast/index.js';
import { referenceCalls } from '../src/cpu_fast/fallback.js';
import { BOOL_RESULT_OPS, type TypedArray, type View } from '../src/types.js';

type V = View<TypedArray>;
const ints = (n: number, seed: number): Int32Array => Int32Array.from({ length: n }, (_, i) => ((i * 7 + seed * 13) % 11) - 5 + (i % 5 === 0 ? -100 : 0));
const iv = (buf: Int32Array, shape: number[], strides: number[], offset = 0): V => ({ buffer: buf, dtype: 'int32', shape, strides, offset });
const bv = (shape: number[]): V => ({ buffer: new Uint8Array(shape.reduce((a, b) => a * b, 1)).fill(7), dtype: 'bool', shape, strides: shape.length === 2 ? [shape[1]!, 1] : [1], offset: 0 });

describe('int32 comparisons into bool on the fast cpu tier', () => {
  it('every comparison op, with scalars, broadcasts, transposed and offset views, equals the reference', () => {
    const before = referenceCalls().binary ?? 0;
    for (const op of BOOL_RESULT_OPS) {
      const a = ints(3 * 5 + 2, 1), b = ints(5, 2);
      const cases: [V, V, number[]][] = [
        [iv(a, [1], [1]), iv(b, [1], [1]), [1]],
        [iv(a, [13], [1], 2), iv(b, [13], [0], 3), [13]], // scalar b (stride 0), a from offset 2
        [iv(a, [3, 5], [5, 1], 2), iv(b, [3, 5], [0, 1]), [3, 5]], // a row broadcast over the rows
        [iv(a, [5, 3], [1, 5]), iv(ints(15, 3), [5, 3], [3, 1]), [5, 3]], // a transposed
      ];
      for (const [x, y, shape] of cases) {
        const want = bv(shape), got = bv(shape);
        cpuKernels.binary(op, x, y, want);
        fastCpuKernels.binary(op, x, y, got);
        expect(Array.from(got.buffer), `${op} ${shape}`).toEqual(Array.from(want.buffer));
      }
      const want = bv([17]), got = bv([17]);
      cpuKernels.binaryScalar(op, iv(a, [17], [1]), -100, false, want);
      fastCpuKernels.binaryScalar(op, iv(a, [17], [1]), -100, false, got);
      expect(Array.from(got.buffer), `${op} scalar`).toEqual(Array.from(want.buffer));
    }
    expect(referenceCalls().binary ?? 0).toBe(before);
  });
});
