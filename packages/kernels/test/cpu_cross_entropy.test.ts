// Tests of the CPU crossEntropy kernels, forward values and backward by finite differences.
import { describe, expect, it } from 'vitest';
import { contiguousView, cpuKernels } from '../src/cpu/index.js';
import type { TypedArray, View } from '../src/types.js';
import { noise, fdGrad, vals } from './cpu_helpers.js';

const K = cpuKernels;

const NO_SMOOTH = { ignoreIndex: -100, labelSmoothing: 0 };

describe('cpu crossEntropy forward', () => {
  it('known values: uniform logits give ln C; lse of [0, ln 2, ln 3] is ln 6', () => {
    const logits = contiguousView('float64', [2, 3], [5, 5, 5, 0, Math.log(2), Math.log(3)]);
    const targets = contiguousView('int32', [2], [1, 2]);
    const loss = contiguousView('float64', [2]);
    const lse = contiguousView('float64', [2]);
    K.crossEntropy(logits, targets, null, NO_SMOOTH, loss, lse);
    expect(vals(loss)[0]).toBeCloseTo(Math.log(3), 14);
    expect(vals(loss)[1]).toBeCloseTo(Math.log(6) - Math.log(3), 14); // -log p_2 = -log(3/6)
    expect(vals(lse)[0]).toBeCloseTo(5 + Math.log(3), 14);
    expect(vals(lse)[1]).toBeCloseTo(Math.log(6), 14);
  });

  it('class weights, label smoothing and ignoreIndex', () => {
    // row logits [0, ln 2, ln 3]: lse = ln 6; lse - x = [ln 6, ln 3, ln 2]
    const logits = contiguousView('float64', [2, 3], [0, Math.log(2), Math.log(3), 9, 9, 9]);
    const targets = contiguousView('int32', [2], [0, -100]);
    const weight = contiguousView('float64', [3], [2, 1, 0.5]);
    const loss = contiguousView('float64', [2]);
    const lse = contiguousView('float64', [2]);
    const eps = 0.1;
    K.crossEntropy(logits, targets, weight, { ignoreIndex: -100, labelSmoothing: eps }, loss, lse);
    // (1-ε)·w0·ln 6 + (ε/3)(2 ln 6 + 1 ln 3 + 0.5 ln 2)
    const expected = 0.9 * 2 * Math.log(6) + (0.1 / 3) * (2 * Math.log(6) + Math.log(3) + 0.5 * Math.log(2));
    expect(vals(loss)[0]).toBeCloseTo(expected, 14);
    expect(vals(loss)[1]).toBe(0); // ignored row
    expect(vals(lse)[1]).toBeCloseTo(9 + Math.log(3), 14); // lse still written
  });

  it('huge logits are stable, and a bad target throws a RangeError', () => {
    const loss = contiguousView('float32', [1]);
    K.crossEntropy(contiguousView('float32', [1, 2], [1000, 0]), contiguousView('int32', [1], [1]), null, NO_SMOOTH,
      loss, contiguousView('float32', [1]));
    expect(vals(loss)).toEqual([1000]);
    expect(() => K.crossEntropy(contiguousView('float64', [1, 2]), contiguousView('int32', [1], [2]), null, NO_SMOOTH,
      contiguousView('float64', [1]), contiguousView('float64', [1]))).toThrow(/crossEntropy: target 2 is out of range for 2 classes/);
  });
});

describe('cpu crossEntropy backward', () => {
  const cases = [
    { name: 'plain', weighted: false, eps: 0 },
    { name: 'weighted + label smoothing', weighted: true, eps: 0.2 },
  ];
  for (const c of cases) {
    it(`${c.name}: matches central finite differences; ignored rows get zero gradient`, () => {
      const [N, C] = [4, 5];
      const opts = { ignoreIndex: 3, labelSmoothing: c.eps };
      const logits = contiguousView('float64', [N, C], noise(N * C, 11).map((v) => 2 * v));
      const targets = contiguousView('int32', [N], [0, 3, 4, 2]); // row 1 is ignored (target 3 = ignoreIndex)
      const weight = c.weighted ? contiguousView('float64', [C], noise(C, 12).map((v) => v + 1.5)) : null;
      const dl = noise(N, 13);
      const loss = contiguousView('float64', [N]);
      const lse = contiguousView('float64', [N]);
      const f = (): number => {
        K.crossEntropy(logits, targets, weight, opts, loss, lse);
        let s = 0;
        for (let n = 0; n < N; n++) s += loss.buffer[n]! * dl[n]!;
        return s;
      };
      const fd = fdGrad(f, logits.buffer as Float64Array);
      K.crossEntropy(logits, targets, weight, opts, loss, lse);
      expect(loss.buffer[1]).toBe(0);
      const d = contiguousView('float64', [N, C]);
      K.crossEntropyBackward(logits, targets, weight, lse, contiguousView('float64', [N], dl), opts, d);
      for (let i = 0; i < fd.length; i++) expect(Math.abs(d.buffer[i]! - fd[i]!)).toBeLessThan(1e-8);
      for (let j = 0; j < C; j++) expect(d.buffer[C + j]).toBe(0);
      expect(d.buffer.some((v) => v !== 0)).toBe(true);
    });
  }
});
