// nanoGPT's training recipe end to end against PyTorch (fixtures/gpt_training.json, made by
// fixtures/make_gpt_training.py in float64): a tiny bias-free GPT from a fixed initial state, eight
// steps of AdamW with nanoGPT's parameter groups, the warmup + cosine schedule and gradient-norm
// clipping, on fixed batches. Every step's loss and pre-clip gradient norm and the final weights
// must agree — tightly in float64 on cpu, to float32 rounding in float32 on every device.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasDevice, poisonCpuAllocations, tensor, tidy, type DeviceName, type Tensor } from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { AdamW, LrScheduler, clipGradNorm, cosineWithWarmup } from '../src/index.js';

interface JT { shape: number[]; data: number[] }
interface Step { x: number[][]; y: number[][]; lr: number; loss: number; gradNorm: number }
const fx = JSON.parse(readFileSync(new URL('./fixtures/gpt_training.json', import.meta.url), 'utf8')) as {
  config: { vocabSize: number; blockSize: number; nLayer: number; nHead: number; nEmbd: number; bias: boolean };
  schedule: { lr: number; minLr: number; warmupSteps: number; decaySteps: number };
  init: Record<string, JT>; steps: Step[]; final: Record<string, JT>;
};

const DEVICES: DeviceName[] = hasDevice('webgpu') ? ['cpu', 'webgpu'] : ['cpu'];
const cases: [DeviceName, 'float32' | 'float64', number, boolean][] = [
  ['cpu', 'float64', 1e-9, false],
  ...DEVICES.map((d): [DeviceName, 'float32', number, boolean] => [d, 'float32', 2e-4, false]),
  // New cpu tensors filled with NaN: every op of the step must write all of its output.
  ['cpu', 'float32', 2e-4, true],
];

describe.each(cases)('nanoGPT recipe on %s in %s matches PyTorch (poisoned allocations: %s)', (device, dtype, tol, poison) => {
  it('per-step loss and gradient norm, and the final weights', async () => {
    const prev = poisonCpuAllocations(poison);
    try { await run(device, dtype, tol); } finally { poisonCpuAllocations(prev); }
  });
});

async function run(device: DeviceName, dtype: 'float32' | 'float64', tol: number): Promise<void> {
  {
    const model = new GPT({ ...fx.config, dtype, device });
    const sd: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(fx.init)) sd[k] = tensor(v.data, { shape: v.shape, dtype, device });
    model.loadStateDict(sd, { strict: false }); // lmHead.weight is the tied wte.weight
    for (const t of Object.values(sd)) t.dispose();

    const opt = new AdamW(model.configureOptimizerGroups(0.1), { lr: fx.schedule.lr, betas: [0.9, 0.99] });
    const sched = new LrScheduler(cosineWithWarmup(fx.schedule), { onLr: (lr) => opt.setLr(lr) });
    for (const [i, s] of fx.steps.entries()) {
      expect(sched.getLastLr()).toBeCloseTo(s.lr, 12);
      const x = tensor(s.x, { dtype: 'int32', device });
      const y = tensor(s.y, { dtype: 'int32', device });
      const [loss, norm] = tidy(() => {
        const l = model.forward(x, y).loss!;
        l.backward();
        return [l, clipGradNorm(opt.params(), 1.0)];
      });
      opt.step();
      opt.zeroGrad();
      sched.step();
      const got = { loss: await loss.item(), norm: await norm.item() };
      expect(Math.abs(got.loss - s.loss), `step ${i} loss ${got.loss} vs ${s.loss}`).toBeLessThan(tol * (1 + s.loss));
      expect(Math.abs(got.norm - s.gradNorm), `step ${i} grad norm ${got.norm} vs ${s.gradNorm}`).toBeLessThan(tol * (1 + s.gradNorm));
      for (const t of [x, y, loss, norm]) t.dispose();
    }
    expect(fx.steps.some((s) => s.gradNorm > 1)).toBe(true); // clipping was active
    for (const [name, p] of model.namedParameters()) {
      const want = fx.final[name]!;
      const got = await p.data();
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want.data[i]!) / (1 + Math.abs(want.data[i]!)));
      expect(worst, `${name}`).toBeLessThan(tol * 10);
    }
    opt.dispose();
    model.dispose();
  }
}
