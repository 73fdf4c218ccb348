// The WebAssembly SIMD softmax / logSoftmax and layerNorm against the reference (float32 arithmetic
// vs the reference's float64: agreement to a few float32 ulps), awkward row lengths, -∞ and NaN rows,
// 1, 2 and 3 threads, and identical bits for a fixed thread count.
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { fastCpuKernels } from '../src/cpu_fast/index.js';
import { AWKWARD, bitsEqual, eachThreadCount, expectWithin, forceThreading, seeded, view } from './wasm_helpers.js';

forceThreading();

describe('wasm softmax vs reference', () => {
  it('softmax and logSoftmax over awkward row lengths', () => {
    for (const cols of AWKWARD) {
      for (const rows of [1, 5]) {
        const x = view(seeded(rows * cols, cols + rows, -20, 20), [rows, cols]);
        for (const log of [false, true]) {
          const ref = view(new Float32Array(rows * cols), [rows, cols]);
          cpuKernels.softmax(x, ref, log);
          const outs = eachThreadCount((t) => {
            const out = view(new Float32Array(rows * cols), [rows, cols]);
            fastCpuKernels.softmax(x, out, log);
            expectWithin(out.buffer, ref.buffer, (i) => (log ? 2e-6 * Math.max(1, Math.abs(ref.buffer[i]!)) : 3e-6 * Math.abs(ref.buffer[i]!) + 1e-37),
              `softmax log=${log} ${rows}x${cols} threads=${t}`);
            return out.buffer as Float32Array;
          });
          expect(bitsEqual(outs[1]!, outs[2]!)).toBe(true);
        }
      }
    }
  });

  it('masked (-∞) entries give exact zeros; an all -∞ row and a NaN row give NaN', () => {
    const x = view(Float32Array.from([0, -Infinity, 1, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, 1, NaN, 2]), [3, 4]);
    const ref = view(new Float32Array(12), [3, 4]);
    cpuKernels.softmax(x, ref, false);
    const out = view(new Float32Array(12), [3, 4]);
    fastCpuKernels.softmax(x, out, false);
    expect(out.buffer[1]).toBe(0);
    expect(out.buffer[3]).toBe(0);
    for (let i = 4; i < 12; i++) expect(Number.isNaN(out.buffer[i]!)).toBe(true);
    expectWithin(out.buffer.subarray(0, 4), ref.buffer.subarray(0, 4), () => 1e-6, 'masked row');
  });
});

describe('wasm layerNorm vs reference', () => {
  it('with and without weight/bias, awkward D', () => {
    for (const D of AWKWARD) {
      const rows = 6;
      const x = view(seeded(rows * D, D, -3, 5), [2, 3, D]);
      const w = view(seeded(D, D + 1, 0.5, 1.5), [D]);
      const b = view(seeded(D, D + 2), [D]);
      for (const affine of [true, false]) {
        const mk = () => ({ out: view(new Float32Array(rows * D), [2, 3, D]), mean: view(new Float32Array(rows), [2, 3]), rstd: view(new Float32Array(rows), [2, 3]) });
        const ref = mk();
        cpuKernels.layerNorm(x, affine ? w : null, affine ? b : null, 1e-5, ref.out, ref.mean, ref.rstd);
        const outs = eachThreadCount((t) => {
          const got = mk();
          fastCpuKernels.layerNorm(x, affine ? w : null, affine ? b : null, 1e-5, got.out, got.mean, got.rstd);
          const what = `layerNorm D=${D} affine=${affine} threads=${t}`;
          expectWithin(got.out.buffer, ref.out.buffer, () => 2e-5, what);
          expectWithin(got.mean.buffer, ref.mean.buffer, (i) => 2e-6 * Math.max(1, Math.abs(ref.mean.buffer[i]!)), what + ' mean');
          expectWithin(got.rstd.buffer, ref.rstd.buffer, (i) => 1e-5 * ref.rstd.buffer[i]!, what + ' rstd');
          return got.out.buffer as Float32Array;
        });
        expect(bitsEqual(outs[1]!, outs[2]!)).toBe(true);
      }
    }
  });
});
