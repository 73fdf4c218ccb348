// crossEntropy's mean where the fused kernel runs divides by the sum of the row weights it writes
// beside the losses (w[t], 1 without class weights, 0 where ignored). That must equal the mean
// built from the per-row losses and the denominator from primitives (ne, cast, indexSelect, where,
// sum), in value and gradient, bit for bit — with and without class weights, with 0, some and all
// targets ignored, for targets with extra dims, for a few rows and for thousands — and a compiled step must follow each call's
// targets (the row weights are written again at every replay).
import { describe, expect, it } from 'vitest';
import {
  cast, compile, crossEntropy, div, gradients, indexSelect, ne, noGrad, sum, tensor, tidy, where, type DeviceName, type Tensor,
} from '@webgrad/core';
import { randomArray, testDevices } from './helpers.js';

const C = 5;
const bits = async (t: Tensor) => Array.from(new Uint32Array(Float32Array.from(await t.data() as Float32Array).buffer));
const targetsOf = (device: DeviceName, shape: number[], ignored: number[]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Array.from({ length: n }, (_, i) => (ignored.includes(i) ? -100 : (i * 3 + 1) % C)), { shape, dtype: 'int32', device });
};

/** The mean from primitives: Σ per-row losses / Σ w[t] over the targets not ignored. */
function meanFromPrimitives(x: Tensor, t: Tensor, weight: Tensor | undefined): Tensor {
  return tidy(() => {
    const perRow = crossEntropy(x, t, { weight, reduction: 'none' });
    const denom = noGrad(() => {
      const flat = t.reshape([-1]);
      const valid = ne(flat, -100);
      return weight ? sum(where(valid, indexSelect(weight, 0, where(valid, flat, 0)), 0)) : sum(cast(valid, 'float32'));
    });
    return div(sum(perRow), denom);
  });
}

describe.each(testDevices())('crossEntropy mean from the kernel\'s row weights on %s', (device) => {
  it('equals the mean from primitives in value and gradient, bit for bit', async () => {
    for (const weighted of [false, true]) {
      for (const [shape, ignored] of [[[6], []], [[6], [1]], [[6], [0, 3, 5]], [[6], [0, 1, 2, 3, 4, 5]], [[1], []], [[2, 3], [4]], [[768], [5, 700]], [[12, 400], [0, 4799]]] as [number[], number[]][]) {
        const what = `weighted ${weighted}, targets [${shape}], ignored ${ignored}`;
        const lshape = shape.length === 1 ? [shape[0]!, C] : [shape[0]!, C, ...shape.slice(1)];
        const n = lshape.reduce((a, b) => a * b, 1);
        const x = tensor(randomArray(n, 7, -3, 3), { shape: lshape, device }).requiresGrad_();
        const t = targetsOf(device, shape, ignored);
        const w = weighted ? tensor([0.5, 2, 1.25, 0.75, 3], { device }) : undefined;
        const [a, ga] = tidy(() => { const l = crossEntropy(x, t, { weight: w }); return [l, gradients(l, [x])[0]!]; });
        const [b, gb] = tidy(() => { const l = meanFromPrimitives(x, t, w); return [l, gradients(l, [x])[0]!]; });
        expect(await bits(a), `loss, ${what}`).toEqual(await bits(b));
        expect(await bits(ga), `gradient, ${what}`).toEqual(await bits(gb));
        if (ignored.length === 6) expect(Number.isNaN((await a.data())[0])).toBe(true); // 0 / 0, as in PyTorch
        for (const z of [x, t, a, b, ga, gb, w]) z?.dispose();
      }
    }
  });

  it('a compiled step follows each call\'s ignored targets', async () => {
    const x = tensor(randomArray(6 * C, 9, -3, 3), { shape: [6, C], device }).requiresGrad_();
    const w = tensor([0.5, 2, 1.25, 0.75, 3], { device });
    const step = compile((xs: Tensor, ts: Tensor) => tidy(() => {
      const l = crossEntropy(xs, ts, { weight: w });
      return [l, gradients(l, [xs])[0]!];
    }));
    for (const ignored of [[1], [1], [0, 3, 5], [], [2], [4, 5]]) {
      const t = targetsOf(device, [6], ignored);
      const [lc, gc] = step(x, t);
      const [le, ge] = tidy(() => { const l = crossEntropy(x, t, { weight: w }); return [l, gradients(l, [x])[0]!]; });
      expect(await bits(lc!), `loss, ignored ${ignored}`).toEqual(await bits(le!));
      expect(await bits(gc!), `gradient, ignored ${ignored}`).toEqual(await bits(ge!));
      for (const z of [t, lc!, gc!, le!, ge!]) z.dispose();
    }
    expect(step.stats().replays).toBeGreaterThan(0);
    x.dispose(); w.dispose();
  });
});
