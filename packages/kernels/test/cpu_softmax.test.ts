// Tests of the CPU softmax / logSoftmax kernels, forward values and backward by finite differences.
import { describe, expect, it } from 'vitest';
import { contiguousView, cpuKernels } from '../src/cpu/index.js';
import type { TypedArray, View } from '../src/types.js';
import { noise, fdGrad, vals } from './cpu_helpers.js';

const K = cpuKernels;

/** Deterministic pseudo-random numbers in [-1, 1). */

/** Central-difference gradient of the scalar f() with respect to each entry of xs. */

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

describe('cpu softmax forward', () => {
  it('known values: softmax([0, ln 2, ln 3]) = [1/6, 2/6, 3/6]', () => {
    const x = contiguousView('float64', [1, 3], [0, Math.log(2), Math.log(3)]);
    const out = contiguousView('float64', [1, 3]);
    K.softmax(x, out, false);
    const y = vals(out);
    [1 / 6, 2 / 6, 3 / 6].forEach((e, i) => expect(y[i]).toBeCloseTo(e, 15));
    K.softmax(x, out, true);
    const ly = vals(out);
    [1 / 6, 2 / 6, 3 / 6].forEach((e, i) => expect(ly[i]).toBeCloseTo(Math.log(e), 14));
  });

  it('is max-subtracted: huge logits do not overflow', () => {
    const x = contiguousView('float32', [2, 2], [1000, 1000, -1000, 0]);
    const out = contiguousView('float32', [2, 2]);
    K.softmax(x, out, false);
    expect(vals(out)).toEqual([0.5, 0.5, 0, 1]);
    K.softmax(x, out, true);
    expect(vals(out)[0]).toBeCloseTo(-Math.LN2, 6);
    expect(vals(out)[2]).toBe(-1000);
  });

  it('rows of a broadcast view, size-1 rows, 0-d and empty', () => {
    // one row [1, 2] broadcast to 3 rows (stride 0)
    const x: View<TypedArray> = { buffer: new Float64Array([1, 2]), dtype: 'float64', shape: [3, 2], strides: [0, 1], offset: 0 };
    const out = contiguousView('float64', [3, 2]);
    K.softmax(x, out, false);
    const s = 1 / (1 + Math.E);
    for (let r = 0; r < 3; r++) {
      expect(vals(out)[2 * r]).toBeCloseTo(s, 15);
      expect(vals(out)[2 * r + 1]).toBeCloseTo(1 - s, 15);
    }
    const one = contiguousView('float64', [4, 1]);
    K.softmax(contiguousView('float64', [4, 1], [5, -3, 0, 100]), one, false);
    expect(vals(one)).toEqual([1, 1, 1, 1]);
    const scalar = contiguousView('float64', []);
    K.softmax(contiguousView('float64', [], [7]), scalar, true);
    expect(vals(scalar)).toEqual([0]);
    const empty = contiguousView('float64', [0, 3]);
    K.softmax(contiguousView('float64', [0, 3]), empty, false);
    expect(empty.buffer.length).toBe(0);
  });
});

describe('cpu softmax backward', () => {
  for (const log of [false, true]) {
    it(`${log ? 'logSoftmax' : 'softmax'} backward matches central finite differences`, () => {
      const shape = [2, 3, 5];
      const x = contiguousView('float64', shape, noise(30, 1).map((v) => 3 * v));
      const cot = noise(30, 2);
      const y = contiguousView('float64', shape);
      const loss = (): number => {
        K.softmax(x, y, log);
        return dot(y.buffer, cot);
      };
      const fd = fdGrad(loss, x.buffer as Float64Array);
      K.softmax(x, y, log);
      const dx = contiguousView('float64', shape);
      K.softmaxBackward(y, contiguousView('float64', shape, cot), dx, log);
      for (let i = 0; i < fd.length; i++) expect(Math.abs(dx.buffer[i]! - fd[i]!)).toBeLessThan(1e-8);
    });
  }
});
