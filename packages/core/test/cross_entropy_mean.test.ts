// crossEntropy's mean on the cpu divides by the count of valid targets it read while checking them
// (a number), instead of summing a mask on the device. That must equal the tensor denominator the
// weighted form and compiled steps use: in value and gradient, bit for bit, with and without ignored
// targets, and a compiled step whose calls ignore different numbers of targets must still follow
// each call's count (the trace keeps the tensor denominator).
import { describe, expect, it } from 'vitest';
import { compile, crossEntropy, gradients, ones, tensor, tidy, type Tensor } from '@webgrad/core';
import { randomArray } from './helpers.js';

const logits = () => tensor(randomArray(6 * 5, 3, -3, 3), { shape: [6, 5] }).requiresGrad_();
const targets = (ignored: number[]) => tensor([0, 4, 2, 1, 3, 2].map((t, i) => (ignored.includes(i) ? -100 : t)), { shape: [6], dtype: 'int32' });
const bits = (t: Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer));

describe('crossEntropy mean with the host count of valid targets', () => {
  it('equals the tensor denominator (class weights of one) in value and gradient', () => {
    for (const ignored of [[], [1], [0, 3, 5], [0, 1, 2, 3, 4, 5]]) {
      const x = logits(), t = targets(ignored);
      const [a, ga] = tidy(() => { const l = crossEntropy(x, t); return [l, gradients(l, [x])[0]!]; });
      const [b, gb] = tidy(() => { const l = crossEntropy(x, t, { weight: ones([5]) }); return [l, gradients(l, [x])[0]!]; });
      expect(bits(a), `loss, ignored ${ignored}`).toEqual(bits(b));
      expect(bits(ga), `gradient, ignored ${ignored}`).toEqual(bits(gb));
      if (ignored.length === 6) expect(Number.isNaN(a.dataSync()[0])).toBe(true); // 0 / 0, as in PyTorch
      for (const z of [x, t, a, b, ga, gb]) z.dispose();
    }
  });

  it('a compiled step follows each call\'s count of ignored targets', () => {
    const x = logits();
    const step = compile((xs: Tensor, ts: Tensor) => tidy(() => {
      const l = crossEntropy(xs, ts);
      return [l, gradients(l, [xs])[0]!];
    }));
    for (const ignored of [[1], [1], [0, 3, 5], [], [2], [4, 5]]) {
      const t = targets(ignored);
      const [lc, gc] = step(x, t);
      const [le, ge] = tidy(() => { const l = crossEntropy(x, t); return [l, gradients(l, [x])[0]!]; });
      expect(bits(lc!), `loss, ignored ${ignored}`).toEqual(bits(le!));
      expect(bits(gc!), `gradient, ignored ${ignored}`).toEqual(bits(ge!));
      for (const z of [t, lc!, gc!, le!, ge!]) z.dispose();
    }
    x.dispose();
  });
});
