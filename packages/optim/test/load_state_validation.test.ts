// Optimizer.loadStateDict checks hyperparameters as the constructor does, before changing anything.
import { describe, expect, it } from 'vitest';
import { ValueError, zeros } from '@webgrad/core';
import { AdamW } from '@webgrad/optim';

describe('Optimizer.loadStateDict', () => {
  it('refuses a negative eps, betas out of range or a NaN lr, and keeps its own state', async () => {
    const opt = new AdamW([zeros([2], { requiresGrad: true })], { lr: 0.01 });
    const good = await opt.stateDict();
    for (const [k, v] of [['eps', -1], ['betas', [0.9, 1.5]], ['lr', NaN], ['weightDecay', -0.1]] as const) {
      const bad = JSON.parse(JSON.stringify(good));
      bad.paramGroups[0].hyper[k] = v;
      if (k === 'lr') bad.paramGroups[0].hyper.lr = NaN;
      expect(() => opt.loadStateDict(bad), k).toThrow(ValueError);
      expect(opt.paramGroups[0]!.lr).toBe(0.01);
    }
  });
});
