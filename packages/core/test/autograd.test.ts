// Autograd semantics: accumulation, graph freeing, retainGraph, noGrad, detach, gradients(), grad(),
// user-defined ops, deep graphs (iterative sweep) and shared subgraphs (no path explosion).
import { describe, expect, it } from 'vitest';
import * as wg from '@webgrad/core';
import { tensor, ones } from '@webgrad/core';
import { expectClose } from './helpers.js';

describe('autograd', () => {
  it('accumulates into .grad across backward calls and sums broadcast gradients', async () => {
    const w = tensor([1, 2, 3], { dtype: 'float32', requiresGrad: true });
    const x = tensor([[1, 1, 1], [2, 2, 2]], { dtype: 'float32' });
    x.mul(w).sum().backward();
    await expectClose(w.grad!, [3, 3, 3]);
    x.mul(w).sum().backward();
    await expectClose(w.grad!, [6, 6, 6]);
    expect(w.grad!.shape).toEqual([3]);
  });

  it('frees the graph after backward unless retainGraph', () => {
    const x = ones([2], { requiresGrad: true });
    const y = x.exp().sum();
    y.backward(null, { retainGraph: true });
    y.backward();
    expect(() => y.backward()).toThrow(/a second time/);
  });

  it('noGrad records nothing; detach cuts the graph', () => {
    const x = ones([2], { requiresGrad: true });
    const y = wg.noGrad(() => x.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    const z = x.mul(2).detach();
    expect(z.requiresGrad).toBe(false);
    expect(x.mul(3).gradFn?.op).toBe('mul');
  });

  it('gradients() returns grads without touching .grad; supports non-leaf inputs', async () => {
    const x = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const h = x.mul(x);
    const y = h.mul(3).sum();
    const [gx, gh] = wg.gradients(y, [x, h]);
    await expectClose(gx!, [6, 12]);
    await expectClose(gh!, [3, 3]);
    expect(x.grad).toBeNull();
  });

  it('grad(f) and higher-order gradients with createGraph', async () => {
    const df = wg.grad((x) => x.pow(3).sum());
    await expectClose(df(tensor([2], { dtype: 'float32' }))[0]!, [12]);
    const x = tensor([2], { dtype: 'float32', requiresGrad: true });
    const [g] = wg.gradients(x.pow(3).sum(), [x], { createGraph: true });
    const [g2] = wg.gradients(g!.sum(), [x]);
    await expectClose(g2!, [12]); // d²/dx² x³ = 6x
  });

  it('retainGrad keeps a non-leaf gradient', async () => {
    const x = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const h = x.mul(2).retainGrad();
    h.sum().mul(5).backward();
    await expectClose(h.grad!, [5, 5]);
  });

  it('user-defined ops with their own backward', async () => {
    // A "straight-through" clamp: forward clamps, backward passes the gradient unchanged.
    const ste = wg.customOp<{ lo: number; hi: number }>({
      name: 'straightThroughClamp',
      forward: ([x], a) => x!.clamp(a.lo, a.hi),
      backward: (g) => [g],
    });
    const x = tensor([-5, 0.5, 5], { dtype: 'float32', requiresGrad: true });
    const y = ste([x], { lo: -1, hi: 1 });
    await expectClose(y, [-1, 0.5, 1]);
    y.sum().backward();
    await expectClose(x.grad!, [1, 1, 1]);
  });

  it('deep chains do not overflow the stack (iterative sweep)', async () => {
    const x = tensor([1], { dtype: 'float32', requiresGrad: true });
    let y = x;
    for (let i = 0; i < 20000; i++) y = y.mul(1);
    y.sum().backward();
    await expectClose(x.grad!, [1]);
  });

  it('shared subgraphs are visited once (no exponential paths)', async () => {
    // Each level feeds one node's output to both operands of an add: 2^60 paths from the root to x.
    // A node's backward runs once, after all its consumers — count them through a custom op.
    let calls = 0;
    const tap = wg.customOp({ name: 'countingIdentity', forward: ([t]) => t!.mul(1), backward: (g) => { calls++; return [g]; } });
    const x = tensor([1], { dtype: 'float32', requiresGrad: true });
    let y = x;
    for (let i = 0; i < 60; i++) { const z = tap([y]); y = z.add(z); }
    y.sum().backward();
    expect(calls).toBe(60);
    await expectClose(x.grad!, [2 ** 60], 1e-6);
  });

  it('branches that need no gradient are skipped', () => {
    const a = ones([2], { requiresGrad: true });
    const b = ones([2]);
    a.mul(b.exp()).sum().backward();
    expect(b.grad).toBeNull();
  });

  it('fused ops match their decompositions forward and backward', async () => {
    wg.manualSeed(5);
    const cases: [string, (x: wg.Tensor) => wg.Tensor, (x: wg.Tensor) => wg.Tensor][] = [
      ['softmax', (x) => wg.softmax(x, 1), (x) => wg.softmaxDecomposed(x, 1)],
      ['logSoftmax', (x) => wg.logSoftmax(x, 0), (x) => wg.logSoftmaxDecomposed(x, 0)],
      ['layerNorm', (x) => wg.layerNorm(x, [5]), (x) => wg.layerNormDecomposed(x, [5])],
      ['crossEntropy', (x) => wg.crossEntropy(x, tensor([0, 4, 2, -100]), { labelSmoothing: 0.1 }), (x) => wg.crossEntropyDecomposed(x, tensor([0, 4, 2, -100]), { labelSmoothing: 0.1 })],
      ['attention', (x) => wg.scaledDotProductAttention(x.reshape([1, 1, 4, 5]), x.reshape([1, 1, 4, 5]).mul(0.5), x.reshape([1, 1, 4, 5]), { isCausal: true }),
        (x) => wg.attentionDecomposed(x.reshape([1, 1, 4, 5]), x.reshape([1, 1, 4, 5]).mul(0.5), x.reshape([1, 1, 4, 5]), { isCausal: true })],
    ];
    for (const [name, fused, ref] of cases) {
      const x1 = wg.randn([4, 5], { requiresGrad: true });
      const x2 = x1.detach().clone().requiresGrad_(true);
      const w = wg.randn(fused(x1.detach()).shape);
      const a = fused(x1); const b = ref(x2);
      expect(Array.from(await a.data()).map((v) => +v.toFixed(4)), name).toEqual(Array.from(await b.data()).map((v) => +v.toFixed(4)));
      a.mul(w).sum().backward();
      b.mul(w).sum().backward();
      const ga = await x1.grad!.data(), gb = await x2.grad!.data();
      for (let i = 0; i < ga.length; i++) expect(Math.abs(ga[i]! - gb[i]!), `${name} grad ${i}`).toBeLessThan(1e-5);
    }
  });
});
