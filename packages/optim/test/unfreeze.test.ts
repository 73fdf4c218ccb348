// Gradual unfreezing (ULMFiT, Howard & Ruder 2018): the top k layers become trainable at the
// scheduled epochs; frozen layers get no gradient and are left alone by an optimizer over all params.
import { describe, expect, it } from 'vitest';
import { manualSeed, randn, tidy } from '@webgrad/core';
import { Linear, Sequential, Tanh } from '@webgrad/nn';
import { GradualUnfreezing, SGD } from '../src/index.js';

describe('GradualUnfreezing', () => {
  it('unfreezes top layers at the scheduled epochs and only they train', async () => {
    manualSeed(0);
    const layers = [new Linear(3, 3), new Linear(3, 3), new Linear(3, 3), new Linear(3, 2)];
    const head = new Linear(2, 2);
    const net = new Sequential(layers[0]!, new Tanh(), layers[1]!, new Tanh(), layers[2]!, new Tanh(), layers[3]!, head);
    const u = new GradualUnfreezing(layers, { schedule: { 1: 1, 3: 2, 5: 4 }, alwaysTrainable: [head] });
    const trainable = () => layers.map((l) => l.weight.requiresGrad);
    expect(trainable()).toEqual([false, false, false, false]);
    expect(head.weight.requiresGrad).toBe(true);
    expect(u.step(1)).toEqual([3]);
    expect(trainable()).toEqual([false, false, false, true]);
    expect(u.step(2)).toEqual([]);
    expect(u.step(3)).toEqual([2]);
    expect(trainable()).toEqual([false, false, true, true]);
    expect(u.trainableAt(4)).toBe(2);

    const opt = new SGD(net.parameters(), { lr: 0.1 });
    const before = await Promise.all(layers.map((l) => l.weight.data()));
    tidy(() => net.forward(randn([4, 3])).square().mean().backward());
    expect(layers[0]!.weight.grad).toBeNull();
    opt.step();
    opt.zeroGrad();
    const after = await Promise.all(layers.map((l) => l.weight.data()));
    expect(after.map((a, i) => a.some((v, j) => v !== before[i]![j]))).toEqual([false, false, true, true]);

    expect(u.step(5)).toEqual([0, 1]);
    expect(trainable()).toEqual([true, true, true, true]);
    const v = new GradualUnfreezing(layers, { schedule: [[0, 0], [2, 1]] });
    expect(trainable()).toEqual([false, false, false, false]);
    v.loadStateDict(u.stateDict());
    expect(v.numTrainable).toBe(1);
    expect(() => new GradualUnfreezing(layers, { schedule: { 0: 9 } })).toThrow(/\[0, 4\]/);
    net.dispose();
  });
});
