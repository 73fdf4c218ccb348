// Lifetimes: tidy/keep/scope, graph release, and a training loop that holds memory flat.
import { describe, expect, it } from 'vitest';
import * as wg from '@webgrad/core';
import { memory, tidy, keep, scope, tensor, randn, zeros, noGrad } from '@webgrad/core';
import { testDevices } from './helpers.js';

const live = (d: string) => memory().devices[d] ?? { tensors: 0, bytes: 0, buffers: 0 };

describe('memory', () => {
  it('tidy disposes intermediates, keeps what it returns (nested in objects too)', () => {
    const before = memory().tensors;
    const { y, list } = tidy(() => {
      const a = zeros([4]).add(1);
      const b = a.mul(2);
      return { y: b.exp(), list: [a.neg()] };
    });
    expect(memory().tensors).toBe(before + 2);
    y.dispose(); list[0]!.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('keep() survives the scope; nested tidy passes results outward', () => {
    const before = memory().tensors;
    let kept: wg.Tensor | undefined;
    tidy(() => {
      kept = keep(zeros([2]));
      tidy(() => zeros([3]).add(1));
      zeros([5]);
    });
    expect(memory().tensors).toBe(before + 1);
    kept!.dispose();
  });

  it('tidy does not take ownership of tensors made outside it', () => {
    const x = zeros([2]);
    const y = tidy(() => wg.contiguous(x)); // returns x itself
    expect(y).toBe(x);
    tidy(() => { tidy(() => x); });
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });

  it('`using` a scope disposes on exit', () => {
    const before = memory().tensors;
    {
      using s = scope();
      const a = zeros([3]).add(2);
      s.keep(a);
      zeros([7]);
      expect(memory().tensors).toBe(before + 3);
    }
    expect(memory().tensors).toBe(before + 1);
  });

  it('Symbol.dispose on a tensor', () => {
    const before = memory().tensors;
    { using t = zeros([3]); expect(t.size).toBe(3); }
    expect(memory().tensors).toBe(before);
  });

  it('disposing the outputs of an un-backwarded graph frees its saved tensors', () => {
    const w = randn([8, 8], { requiresGrad: true });
    const before = memory().devices.cpu!.bytes;
    tidy(() => { w.matmul(w).tanh().exp().sum(); });
    expect(memory().devices.cpu!.bytes).toBe(before);
    w.dispose();
  });

  for (const device of testDevices()) {
    it(`an MLP learns XOR on ${device}, with memory flat over 200 steps`, async () => {
      wg.manualSeed(0);
      const X = tensor([[0, 0], [0, 1], [1, 0], [1, 1]], { dtype: 'float32', device });
      const Y = tensor([[0], [1], [1], [0]], { dtype: 'float32', device });
      const params = [
        randn([2, 16], { device }).mul(0.8), zeros([16], { device }),
        randn([16, 1], { device }).mul(0.5), zeros([1], { device }),
      ].map((p) => keep(p.requiresGrad_(true)));
      const [w1, b1, w2, b2] = params as [wg.Tensor, wg.Tensor, wg.Tensor, wg.Tensor];
      const step = (lr: number) => tidy(() => {
        const h = X.matmul(w1).add(b1).tanh();
        const out = h.matmul(w2).add(b2).sigmoid();
        const loss = out.sub(Y).square().mean();
        loss.backward();
        noGrad(() => { for (const p of params) { p.sub_(p.grad!.mul(lr)); p.grad!.zero_(); } });
        return loss;
      });
      let first = 0, last = 0, mem0 = { tensors: 0, bytes: 0 };
      for (let i = 0; i < 1500; i++) {
        const loss = step(1.0);
        if (i === 0) first = await loss.item();
        if (i === 10) mem0 = { ...live(device) };
        if (i === 210) expect(live(device)).toEqual(expect.objectContaining(mem0)); // flat over 200 steps
        last = await loss.item();
        loss.dispose();
      }
      expect(first).toBeGreaterThan(0.2);
      expect(last).toBeLessThan(0.01);
      for (const p of params) { p.grad?.dispose(); p.dispose(); }
    });
  }
});
