// The WebAssembly SIMD add/sub/mul/div against the reference: bit-identical results
// (float32 ops are correctly rounded, like the reference's float64 op rounded to float32), for
// same-shape, scalar, bias-row, column and batch-broadcast operands, on 1, 2 and 3 threads.
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { fastCpuKernels } from '../src/cpu_fast/index.js';
import type { BinaryOp, TypedArray, View } from '../src/types.js';
import { AWKWARD, bitsEqual, eachThreadCount, forceThreading, seeded, view } from './wasm_helpers.js';

forceThreading();

function checkBinary(op: BinaryOp, a: View<TypedArray>, b: View<TypedArray>, shape: number[], what: string): void {
  const n = shape.reduce((x, y) => x * y, 1);
  const ref = view(new Float32Array(n), shape);
  cpuKernels.binary(op, a, b, ref);
  eachThreadCount((t) => {
    const out = view(new Float32Array(n), shape);
    fastCpuKernels.binary(op, a, b, out);
    expect(bitsEqual(out.buffer as Float32Array, ref.buffer as Float32Array), `${op} ${what} threads=${t}`).toBe(true);
  });
}

describe('wasm binary vs reference', () => {
  it('same-shape, scalar, row, column and batch broadcasts, awkward sizes', () => {
    for (const op of ['add', 'sub', 'mul', 'div'] as const) {
      for (const s of AWKWARD) {
        const a = view(seeded(s * 3, s), [3, s]);
        const b = view(seeded(s * 3, s + 1, 0.5, 2), [3, s]);
        checkBinary(op, a, b, [3, s], `same ${s}`);
        checkBinary(op, a, view(seeded(1, 9), [3, s], [0, 0]), [3, s], `scalar ${s}`);
        checkBinary(op, view(seeded(1, 9), [3, s], [0, 0]), b, [3, s], `scalar-left ${s}`);
        checkBinary(op, a, view(seeded(s, 5), [3, s], [0, 1]), [3, s], `bias row ${s}`);
        checkBinary(op, a, view(seeded(3, 6), [3, s], [1, 0]), [3, s], `column ${s}`);
        // [2, 3, s] + [3, s] broadcast over the batch (a position-embedding add).
        checkBinary(op, view(seeded(6 * s, 7), [2, 3, s]), view(seeded(3 * s, 8), [2, 3, s], [0, s, 1]), [2, 3, s], `batch ${s}`);
      }
    }
  });

  it('in place (out aliases an input) and odd layouts fall back correctly', () => {
    const buf = seeded(40, 3);
    const want = view(new Float32Array(40), [4, 10]);
    cpuKernels.binary('mul', view(buf, [4, 10]), view(buf, [4, 10]), want);
    const x = view(Float32Array.from(buf), [4, 10]);
    fastCpuKernels.binary('mul', x, x, x);
    expect(bitsEqual(x.buffer as Float32Array, want.buffer as Float32Array)).toBe(true);
    // Transposed input: reference path.
    const t = view(seeded(40, 4), [4, 10], [1, 4]);
    checkBinary('add', t, view(seeded(40, 5), [4, 10]), [4, 10], 'transposed');
    // float64 and other ops: reference path.
    const o = view(new Float64Array(3), [3]);
    fastCpuKernels.binary('pow', view(Float64Array.from([2, 3, 4]), [3]), view(Float64Array.from([2, 2, 0.5]), [3]), o);
    expect(Array.from(o.buffer)).toEqual([4, 9, 2]);
  });
});
