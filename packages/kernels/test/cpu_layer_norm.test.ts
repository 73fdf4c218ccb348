// Tests of the CPU layerNorm kernels, forward values and backward by finite differences.
import { describe, expect, it } from 'vitest';
import { contiguousView, cpuKernels } from '../src/cpu/index.js';
import type { TypedArray, View } from '../src/types.js';
import { noise, fdGrad, vals } from './cpu_helpers.js';

const K = cpuKernels;

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

describe('cpu layerNorm forward', () => {
  it('known values with biased variance', () => {
    // row [1, 2, 3, 4]: mean 2.5, biased var 1.25, rstd = 1/√(1.25 + eps)
    const x = contiguousView('float64', [1, 4], [1, 2, 3, 4]);
    const w = contiguousView('float64', [4], [1, 2, 1, 1]);
    const b = contiguousView('float64', [4], [0, 0, 10, 0]);
    const out = contiguousView('float64', [1, 4]);
    const mean = contiguousView('float64', [1]);
    const rstd = contiguousView('float64', [1]);
    K.layerNorm(x, w, b, 0, out, mean, rstd);
    const r = 1 / Math.sqrt(1.25);
    expect(vals(mean)).toEqual([2.5]);
    expect(vals(rstd)[0]).toBeCloseTo(r, 15);
    const y = vals(out);
    [-1.5 * r, -0.5 * r * 2, 0.5 * r + 10, 1.5 * r].forEach((e, i) => expect(y[i]).toBeCloseTo(e, 14));
  });

  it('no affine, eps, float32 mean/rstd, and a constant row', () => {
    const x = contiguousView('float32', [2, 2], [3, 3, -1, 1]);
    const out = contiguousView('float32', [2, 2]);
    const mean = contiguousView('float32', [2]);
    const rstd = contiguousView('float32', [2]);
    K.layerNorm(x, null, null, 1e-5, out, mean, rstd);
    expect(vals(mean)).toEqual([3, 0]);
    expect(vals(rstd)[0]).toBeCloseTo(1 / Math.sqrt(1e-5), 1); // var 0: rstd = 1/√eps, not ∞
    expect(vals(out)[0]).toBe(0);
    expect(vals(out)[3]).toBeCloseTo(1 / Math.sqrt(1 + 1e-5), 6);
  });

  it('D = 1 rows normalize to the bias', () => {
    const out = contiguousView('float64', [3, 1]);
    K.layerNorm(contiguousView('float64', [3, 1], [5, -2, 7]), null, contiguousView('float64', [1], [0.5]), 1e-5,
      out, contiguousView('float64', [3]), contiguousView('float64', [3]));
    expect(vals(out)).toEqual([0.5, 0.5, 0.5]);
  });
});

describe('cpu layerNorm backward', () => {
  for (const affine of [true, false]) {
    it(`dx${affine ? ', dweight, dbias' : ''} match central finite differences`, () => {
      const [R, D] = [3, 5];
      const x = contiguousView('float64', [R, D], noise(R * D, 7).map((v) => 2 * v + 0.3));
      const w = affine ? contiguousView('float64', [D], noise(D, 8).map((v) => v + 1)) : null;
      const b = affine ? contiguousView('float64', [D], noise(D, 9)) : null;
      const cot = noise(R * D, 10);
      const out = contiguousView('float64', [R, D]);
      const mean = contiguousView('float64', [R]);
      const rstd = contiguousView('float64', [R]);
      const loss = (): number => {
        K.layerNorm(x, w, b, 1e-5, out, mean, rstd);
        return dot(out.buffer, cot);
      };
      const fdx = fdGrad(loss, x.buffer as Float64Array);
      K.layerNorm(x, w, b, 1e-5, out, mean, rstd);
      const dx = contiguousView('float64', [R, D]);
      const dw = affine ? contiguousView('float64', [D]) : null;
      const db = affine ? contiguousView('float64', [D]) : null;
      K.layerNormBackward(x, w, mean, rstd, contiguousView('float64', [R, D], cot), dx, dw, db);
      for (let i = 0; i < fdx.length; i++) expect(Math.abs(dx.buffer[i]! - fdx[i]!)).toBeLessThan(1e-8);
      if (w && b && dw && db) {
        const fdw = fdGrad(loss, w.buffer as Float64Array);
        const fdb = fdGrad(loss, b.buffer as Float64Array);
        for (let j = 0; j < D; j++) {
          expect(Math.abs(dw.buffer[j]! - fdw[j]!)).toBeLessThan(1e-8);
          expect(Math.abs(db.buffer[j]! - fdb[j]!)).toBeLessThan(1e-8);
        }
      }
    });
  }
});
