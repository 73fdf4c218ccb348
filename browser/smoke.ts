// The program the browser test runs, in a page, in a Web Worker and — as the reference — in Node:
// a tiny GPT trained for a few steps on one device, and one matmul big enough to be split over the
// cpu device's threads. Everything comes from the seeded generator, so every run computes the same.
import { cat, getNumThreads, keep, manualSeed, randint, randn, tidy, type DeviceName } from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { AdamW, clipGradNorm } from '@webgrad/optim';

export interface SmokeResult {
  device: DeviceName;
  /** Training loss of each step. */
  losses: number[];
  /** Sum and first element of a [192, 256]·[256, 320] product. */
  matmul: [number, number];
  /** Threads of the fast cpu kernels where this ran. */
  threads: number;
}

export async function smokeRun(device: DeviceName, steps = 6): Promise<SmokeResult> {
  manualSeed(42);
  const V = 23, T = 16;
  const model = new GPT({ vocabSize: V, blockSize: T, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0, bias: true, device });
  const opt = new AdamW(model.configureOptimizerGroups(0.1), { lr: 3e-3, betas: [0.9, 0.99] });
  const x = randint(0, V, [4, T], { device });
  const y = randint(0, V, [4, T], { device });
  const losses: number[] = [];
  try {
    for (let s = 0; s < steps; s++) {
      const loss = tidy(() => {
        const l = model.forward(x, y).loss!;
        l.backward();
        clipGradNorm(opt.params(), 1).dispose();
        opt.step();
        opt.zeroGrad();
        return keep(l);
      });
      losses.push(await loss.item());
      loss.dispose();
    }
    const c = tidy(() => {
      const p = randn([192, 256], { device }).matmul(randn([256, 320], { device }));
      return keep(cat([p.sum().reshape([1]), p.reshape([-1]).slice(0, 0, 1)]));
    });
    const vals = await c.data();
    c.dispose();
    return { device, losses, matmul: [vals[0]!, vals[1]!], threads: getNumThreads() };
  } finally {
    for (const t of [x, y]) t.dispose();
    opt.dispose();
    model.dispose();
  }
}
