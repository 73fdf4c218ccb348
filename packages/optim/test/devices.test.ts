// Optimizers on the webgpu device: a few SGD (momentum, Nesterov, weight decay) and AdamW (the fused
// kernel) steps on a small MLP give the same losses and parameters as on cpu (same weights, same data).
import { describe, expect, it } from 'vitest';
import { hasDevice, keep, manualSeed, randn, tidy, type Tensor } from '@webgrad/core';
import { Linear, ReLU, Sequential, mseLoss } from '@webgrad/nn';
import { AdamW, SGD, type Optimizer } from '../src/index.js';

/** Max of |a − b| / (1 + |b|) over the elements. */
async function maxRelDiff(a: Tensor, b: Tensor): Promise<number> {
  const x = await a.data(), y = await b.data();
  expect(x.length).toBe(y.length);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / (1 + Math.abs(y[i]!)));
  return worst;
}

const makers: [string, (ps: Tensor[]) => Optimizer][] = [
  ['SGD (momentum, Nesterov, weight decay)', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ['AdamW', (ps) => new AdamW(ps, { lr: 1e-2, weightDecay: 0.1 })],
];

describe('optimizers on cpu and webgpu', () => {
  it('has the webgpu device', () => {
    expect(hasDevice('webgpu')).toBe(true);
  });

  it.each(makers)('%s: steps on webgpu equal the cpu steps', async (_name, make) => {
    manualSeed(3);
    const mlp = () => new Sequential(new Linear(5, 8), new ReLU(), new Linear(8, 3));
    const cpu = mlp();
    const gpu = mlp();
    gpu.loadStateDict(cpu.stateDict());
    gpu.to('webgpu');
    const x = randn([6, 5]), y = randn([6, 3]);
    const xG = x.to('webgpu'), yG = y.to('webgpu');
    const optC = make(cpu.parameters()), optG = make(gpu.parameters());
    for (let s = 0; s < 4; s++) {
      const losses: number[] = [];
      for (const [model, opt, xi, yi] of [[cpu, optC, x, y], [gpu, optG, xG, yG]] as const) {
        const loss = tidy(() => {
          opt.zeroGrad();
          const l = mseLoss(model.forward(xi), yi);
          l.backward();
          opt.step();
          return keep(l);
        });
        losses.push(await loss.item());
        loss.dispose();
      }
      expect(Math.abs(losses[1]! - losses[0]!), `step ${s} loss`).toBeLessThan(1e-5);
    }
    // float32 on both devices; differences come only from the order of float32 sums.
    const gp = new Map(gpu.namedParameters());
    for (const [name, p] of cpu.namedParameters()) {
      expect(gp.get(name)!.device).toBe('webgpu');
      expect(await maxRelDiff(gp.get(name)!, p), `${name} after 4 steps`).toBeLessThan(1e-5);
    }
    for (const t of [x, y, xG, yG]) t.dispose();
    optC.zeroGrad(); optG.zeroGrad();
    cpu.dispose(); gpu.dispose();
  });
});
