import { describe, expect, it } from 'vitest';
import { tensor, zeros, memory, tidy, matmul, crossEntropy, layerNorm, softmax, randn, manualSeed } from '@webgrad/core';

describe('smoke', () => {
  it('adds and backprops', async () => {
    const a = tensor([[1, 2], [3, 4]], { dtype: 'float32', requiresGrad: true });
    const b = tensor([10, 20], { dtype: 'float32' });
    const y = a.mul(b).sum();
    expect(await y.item()).toBe(10 + 40 + 30 + 80);
    y.backward();
    expect(Array.from(await a.grad!.data())).toEqual([10, 20, 10, 20]);
  });
  it('matmul + CE + LN', async () => {
    manualSeed(1);
    const x = randn([4, 6], { requiresGrad: true });
    const w = randn([6, 5], { requiresGrad: true });
    const loss = crossEntropy(layerNorm(matmul(x, w), [5]), tensor([0, 1, 2, 3]));
    loss.backward();
    expect(Number.isFinite(await loss.item())).toBe(true);
    expect(w.grad!.shape).toEqual([6, 5]);
    const s = softmax(x, 0);
    expect((await s.sum(0).data())[0]).toBeCloseTo(1, 5);
  });
});
