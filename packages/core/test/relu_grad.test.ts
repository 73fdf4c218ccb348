// relu's gradient on every device: g where the output is non-zero (x > 0, or x NaN, as torch's
// threshold_backward gives), 0 at x ≤ 0 (−0 included); broadcast and non-contiguous inputs; and
// its second derivative through createGraph (the gradient is linear in g).
import { describe, expect, it } from 'vitest';
import { gradients, relu, tensor } from '@webgrad/core';
import { testDevices } from './helpers.js';

describe('relu gradient', () => {
  for (const device of testDevices()) {
    it(`g where x > 0 or NaN, 0 at x ≤ 0 and −0 (${device})`, async () => {
      const x = tensor([3, -2, 0, -0, NaN, 1e-30, -1e-30, Infinity, -Infinity], { device, dtype: 'float32', requiresGrad: true });
      const g = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { device });
      const [dx] = gradients(relu(x), [x], { gradOutputs: [g] });
      expect(Array.from(await dx!.data())).toEqual([1, 0, 0, 0, 5, 6, 0, 8, 0]);
    });

    it(`odd-sized transposed input and a broadcast gradient (${device})`, async () => {
      const vals = Array.from({ length: 7 * 5 }, (_, i) => ((i * 37) % 11) - 5);
      const base = tensor(vals, { device, dtype: 'float32', shape: [7, 5], requiresGrad: true });
      const xt = base.mT; // [5, 7], not contiguous
      const y = relu(xt).mul(tensor([[2], [3], [4], [5], [6]], { device })).sum();
      const [dbase] = gradients(y, [base]);
      const want = vals.map((v, i) => (v > 0 ? [2, 3, 4, 5, 6][i % 5]! : 0));
      expect(Array.from(await dbase!.data())).toEqual(want);
    });

    it(`second derivative: d/dg of the gradient is relu's mask again (${device})`, async () => {
      const x = tensor([1.5, -0.5, 2, 0], { device, dtype: 'float32', requiresGrad: true });
      const g = tensor([1, 1, 1, 1], { device, dtype: 'float32', requiresGrad: true });
      const [dx] = gradients(relu(x), [x], { gradOutputs: [g], createGraph: true });
      const [dg] = gradients(dx!.mul(tensor([1, 2, 3, 4], { device })).sum(), [g]);
      expect(Array.from(await dg!.data())).toEqual([1, 0, 3, 0]);
    });
  }
});
