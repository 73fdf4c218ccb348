// Whole-model check: a tiny GPT's logits, loss, every parameter gradient, and a few AdamW steps
// agree between the cpu and webgpu devices (same weights, same data).
import { describe, expect, it } from 'vitest';
import { hasDevice, manualSeed, randint, tidy, keep, memory, type Tensor } from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { AdamW } from '@webgrad/optim';

const cfg = { vocabSize: 23, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true };

async function close(a: Tensor, b: Tensor, what: string, tol: number): Promise<void> {
  const x = await a.data(), y = await b.data();
  expect(x.length, what).toBe(y.length);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / (1 + Math.abs(y[i]!)));
  expect(worst, `${what}: max relative difference`).toBeLessThan(tol);
}

describe('tiny GPT on cpu and webgpu', () => {
  it('has the webgpu device', () => {
    expect(hasDevice('webgpu')).toBe(true);
  });

  it('logits, loss, gradients and AdamW steps agree', async () => {
    manualSeed(7);
    const cpu = new GPT(cfg);
    const gpu = new GPT(cfg);
    gpu.loadStateDict(cpu.stateDict());
    gpu.to('webgpu');
    const idx = randint(0, cfg.vocabSize, [3, cfg.blockSize]);
    const tgt = randint(0, cfg.vocabSize, [3, cfg.blockSize]);
    const idxG = idx.to('webgpu'), tgtG = tgt.to('webgpu');

    const outC = cpu.forward(idx, tgt);
    const outG = gpu.forward(idxG, tgtG);
    await close(outG.logits, outC.logits, 'logits', 1e-4);
    await close(outG.loss!, outC.loss!, 'loss', 1e-5);
    outC.loss!.backward();
    outG.loss!.backward();
    const gp = new Map(gpu.namedParameters());
    for (const [name, p] of cpu.namedParameters()) {
      expect(gp.get(name)!.grad, `${name} has a gradient on webgpu`).not.toBeNull();
      await close(gp.get(name)!.grad!, p.grad!, `grad ${name}`, 1e-4);
    }

    const optC = new AdamW(cpu.parameters(), { lr: 1e-2, weightDecay: 0.1 });
    const optG = new AdamW(gpu.parameters(), { lr: 1e-2, weightDecay: 0.1 });
    optC.step(); optG.step();
    const lossesC: number[] = [], lossesG: number[] = [];
    for (let s = 0; s < 3; s++) {
      for (const [model, opt, i, t, out] of [[cpu, optC, idx, tgt, lossesC], [gpu, optG, idxG, tgtG, lossesG]] as const) {
        const loss = tidy(() => {
          opt.zeroGrad();
          const l = model.forward(i, t).loss!;
          l.backward();
          opt.step();
          return keep(l);
        });
        out.push(await loss.item());
        loss.dispose();
      }
    }
    for (let s = 0; s < 3; s++) expect(Math.abs(lossesG[s]! - lossesC[s]!), `step ${s} loss`).toBeLessThan(1e-4);
    const gpuParams = new Map(gpu.namedParameters());
    for (const [name, p] of cpu.namedParameters()) await close(gpuParams.get(name)!, p, `param ${name} after 4 steps`, 1e-4);
    expect(memory().devices.webgpu!.bytes).toBeGreaterThan(0);
  });
});
