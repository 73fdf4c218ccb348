// Training steps under compile(step) against the same steps run eagerly from the same initial
// state: the losses of every call and the parameters after the last one agree to float32 rounding,
// with optimizer state, step counts, scheduled learning rates, dropout masks and batch-norm running
// statistics advancing at every replay as they do eagerly.
import { describe, expect, it, vi } from 'vitest';
import { compile, crossEntropy, hasDevice, manualSeed, tensor, tidy, type DeviceName, type Tensor } from '@webgrad/core';
import {
  BatchNorm2d, Conv2d, Flatten, GPT, LSTMModel, LeNet5, Linear, MaxPool2d, ReLU, Sequential, mseLoss, type Module,
} from '@webgrad/nn';
import { Adam, AdamW, GradientAccumulator, LrScheduler, ReduceLrOnPlateau, SGD, clipGradNorm, cosineWithWarmup, type Optimizer } from '../src/index.js';

const DEVICES: DeviceName[] = hasDevice('webgpu') ? ['cpu', 'webgpu'] : ['cpu'];

/** Deterministic data from a seed (independent of the library's generator). */
function data(n: number, seed: number, scale = 1): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return scale * (s / 2 ** 32 - 0.5); });
}
const ids = (n: number, seed: number, vocab: number): number[] => data(n, seed).map((v) => Math.floor((v + 0.5) * vocab) % vocab);

interface Setup {
  model: Module;
  opt: Optimizer;
  sched?: LrScheduler;
  /** Clip the gradients' norm to this before the optimizer step (on the device). */
  clip?: number;
  loss(x: Tensor, y: Tensor): Tensor;
}

/** `got` equals `want` element by element within `tol` relative to (1 + |want|); names the first element that is not. */
function expectClose(got: readonly number[], want: readonly number[], tol: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const bad = want.findIndex((w, i) => !(Math.abs((got[i] ?? NaN) - w) <= tol * (1 + Math.abs(w))));
  expect(bad, bad < 0 ? what : `${what}[${bad}]: ${got[bad]} vs ${want[bad]}`).toBe(-1);
}

/** Runs `steps` steps eagerly and compiled from the same seed; compares the losses and the final parameters. */
async function compare(make: () => Setup, batch: (i: number) => [Tensor, Tensor], steps = 7, tol = 2e-5): Promise<ReturnType<ReturnType<typeof compile>['stats']>> {
  const run = async (compiled: boolean) => {
    manualSeed(1);
    const s = make();
    const step = (x: Tensor, y: Tensor): Tensor => tidy(() => {
      s.opt.zeroGrad();
      const l = s.loss(x, y);
      l.backward();
      if (s.clip !== undefined) clipGradNorm(s.model.parameters(), s.clip);
      s.opt.step();
      s.sched?.step();
      return l;
    });
    const f = compiled ? compile(step) : step;
    manualSeed(2);
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      const [x, y] = batch(i);
      const l = f(x, y);
      losses.push((await l.data())[0]!);
      for (const t of [l, x, y]) t.dispose();
    }
    const params = await Promise.all(s.model.parameters().map(async (p) => Array.from(await p.data())));
    const stats = compiled ? (f as ReturnType<typeof compile>).stats() : null;
    return { losses, params, stats };
  };
  const eager = await run(false), comp = await run(true);
  expectClose(comp.losses, eager.losses, tol, 'losses per step');
  eager.params.forEach((p, i) => expectClose(comp.params[i] ?? [], p, tol, `param ${i}`));
  expect(comp.losses[steps - 1]).not.toBe(comp.losses[0]);
  const stats = comp.stats!;
  expect(stats).toMatchObject({ traces: 2, replays: steps - 3, fallbacks: 0 });
  return stats;
}

const mlp = (device: DeviceName) => new Sequential(new Linear(6, 16, { device }), new ReLU(), new Linear(16, 16, { device }), new ReLU(), new Linear(16, 3, { device }));
const mlpBatch = (device: DeviceName) => (i: number): [Tensor, Tensor] => [
  tensor(data(24, 10 + i), { shape: [4, 6], device }), tensor(data(12, 50 + i), { shape: [4, 3], device }),
];

for (const device of DEVICES) {
  describe(`compiled training on ${device}`, () => {
    it('MLP with SGD (momentum, weight decay)', async () => {
      const stats = await compare(() => {
        const model = mlp(device);
        return { model, opt: new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 }), loss: (x, y) => mseLoss(model.forward(x), y) };
      }, mlpBatch(device));
      expect(stats.hostActions).toBe(1);
    });

    it('forward and backward compiled, the optimizer step and zeroGrad outside it', async () => {
      const run = async (compiled: boolean) => {
        manualSeed(1);
        const model = mlp(device);
        const opt = new Adam(model.parameters(), { lr: 0.01 });
        const fwdBwd = (x: Tensor, y: Tensor): Tensor => tidy(() => { const l = mseLoss(model.forward(x), y); l.backward(); return l; });
        const f = compiled ? compile(fwdBwd) : fwdBwd;
        const losses: number[] = [];
        for (let i = 0; i < 7; i++) {
          const [x, y] = mlpBatch(device)(i);
          const l = f(x, y);
          opt.step();
          opt.zeroGrad();
          losses.push((await l.data())[0]!);
          for (const t of [l, x, y]) t.dispose();
        }
        return { losses, params: await Promise.all(model.parameters().map(async (p) => Array.from(await p.data()))), stats: compiled ? (f as ReturnType<typeof compile>).stats() : null };
      };
      const e = await run(false), c = await run(true);
      expectClose(c.losses, e.losses, 2e-5, 'losses per step');
      e.params.forEach((p, i) => expectClose(c.params[i] ?? [], p, 2e-5, `param ${i}`));
      expect(c.stats).toMatchObject({ replays: 4, fallbacks: 0, hostActions: 0 });
    });

    it('MLP with Adam', async () => {
      await compare(() => {
        const model = mlp(device);
        return { model, opt: new Adam(model.parameters(), { lr: 0.01 }), loss: (x, y) => mseLoss(model.forward(x), y) };
      }, mlpBatch(device));
    });

    it('MLP with AdamW, gradient clipping and a cosine LR scheduler', async () => {
      const lrs: number[] = [];
      const stats = await compare(() => {
        const model = mlp(device);
        const opt = new AdamW(model.parameters(), { lr: 0.02, weightDecay: 0.1 });
        const sched = new LrScheduler(opt, cosineWithWarmup({ lr: 0.02, warmupSteps: 2, decaySteps: 6, minLr: 0.002 }), { onLr: (lr) => lrs.push(lr) });
        return { model, opt, sched, clip: 0.05, loss: (x, y) => mseLoss(model.forward(x), y) };
      }, mlpBatch(device));
      expect(stats.hostActions).toBe(2);
      // Both runs walked the whole schedule: the compiled run's replays advanced it too.
      expect(lrs.slice(lrs.length / 2)).toEqual(lrs.slice(0, lrs.length / 2));
      expect(lrs.length).toBe(16);
    });

    it('tiny GPT with dropout: the same seed gives the eager losses', async () => {
      const cfg = { vocabSize: 11, blockSize: 8, nLayer: device === 'cpu' ? 2 : 1, nHead: 2, nEmbd: 16, dropout: 0.2, device };
      await compare(() => {
        const model = new GPT(cfg);
        return { model, opt: new AdamW(model.parameters(), { lr: 3e-3 }), loss: (x, y) => model.forward(x, y).loss! };
      }, (i) => [tensor(ids(16, 3 + i, 11), { shape: [2, 8], dtype: 'int32', device }), tensor(ids(16, 70 + i, 11), { shape: [2, 8], dtype: 'int32', device })], 6, 5e-5);
    });

    // LeNet5's 28×28 convolutions are slow on a software WebGPU adapter: cpu only; the next case has conv and pooling on every device.
    if (device === 'cpu') it('LeNet5 (conv, pooling) with SGD', async () => {
      await compare(() => {
        const model = new LeNet5({ device });
        return { model, opt: new SGD(model.parameters(), { lr: 0.05 }), loss: (x, y) => crossEntropy(model.forward(x), y) };
      }, (i) => [tensor(data(2 * 784, 5 + i), { shape: [2, 1, 28, 28], device }), tensor(ids(2, 9 + i, 10), { dtype: 'int32', device })], 5, 5e-5);
    });

    it('conv + batch norm + max pooling (running statistics updated in place at every replay)', async () => {
      let bn!: BatchNorm2d;
      const runs: number[][] = [];
      await compare(() => {
        bn = new BatchNorm2d(4, { device });
        const model = new Sequential(new Conv2d(2, 4, 3, { device }), bn, new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 2 * 2, 3, { device }));
        return {
          model, opt: new Adam(model.parameters(), { lr: 0.01 }),
          loss: (x, y) => { const l = crossEntropy(model.forward(x), y); return l; },
        };
      }, (i) => {
        if (i === 5) void bn.runningMean!.data().then((d) => runs.push(Array.from(d)));
        return [tensor(data(3 * 2 * 36, 20 + i), { shape: [3, 2, 6, 6], device }), tensor(ids(3, 40 + i, 3), { dtype: 'int32', device })];
      }, 6, 5e-5);
      await Promise.resolve();
      expect(runs.length).toBe(2);
      for (let j = 0; j < 4; j++) expect(Math.abs(runs[0]![j]! - runs[1]![j]!)).toBeLessThan(1e-6);
      expect(runs[0]!.some((v) => v !== 0)).toBe(true);
    });

    it('LSTM language model with Adam', async () => {
      await compare(() => {
        const model = new LSTMModel({ vocabSize: 9, embedDim: 6, hiddenSize: 8, device });
        return {
          model, opt: new Adam(model.parameters(), { lr: 0.01 }),
          loss: (x, y) => crossEntropy(model.forward(x).logits.reshape([-1, 9]), y.reshape([-1])),
        };
      }, (i) => [tensor(ids(10, 60 + i, 9), { shape: [2, 5], dtype: 'int32', device }), tensor(ids(10, 80 + i, 9), { shape: [2, 5], dtype: 'int32', device })], 5, 5e-5);
    });
  });
}

describe('compiled training refusals', () => {
  it('a gradient-norm read on the host inside the step falls back with a warning', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    manualSeed(1);
    const model = mlp('cpu');
    const opt = new SGD(model.parameters(), { lr: 0.05 });
    const step = compile(function hostNorm(x: Tensor, y: Tensor) {
      return tidy(() => {
        opt.zeroGrad();
        const l = mseLoss(model.forward(x), y);
        l.backward();
        const n = model.parameters().map((p) => p.grad!.square().sum()).reduce((a, b) => a.add(b)).dataSync()[0]!;
        if (n < 1e6) opt.step();
        return l;
      });
    });
    for (let i = 0; i < 5; i++) step(...mlpBatch('cpu')(i)).dispose();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/compile\(hostNorm\): the step reads a float32 tensor of 1 element on the host/);
    warn.mockRestore();
  });

  it('GradientAccumulator over several micro-batches and ReduceLrOnPlateau refuse to be traced', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    manualSeed(1);
    const model = mlp('cpu');
    const acc = new GradientAccumulator(new SGD(model.parameters(), { lr: 0.05 }), 2);
    const micro = compile(function microStep(x: Tensor, y: Tensor) { return tidy(() => { const l = mseLoss(model.forward(x), y); acc.backward(l); return l; }); });
    for (let i = 0; i < 6; i++) micro(...mlpBatch('cpu')(i)).dispose();
    expect(micro.stats()).toMatchObject({ fallbacks: 1, replays: 0 });
    expect(String(warn.mock.calls[0]![0])).toMatch(/compile\(microStep\): GradientAccumulator.backward steps the optimizer on every 2th call/);
    expect(acc.pending).toBe(0); // six micro-batches, three optimizer steps, all eager
    const plateau = new ReduceLrOnPlateau({ lr: 0.1 });
    const f = compile(function withPlateau(x: Tensor) { plateau.step(1); return x.sum(); });
    for (let i = 0; i < 4; i++) f(tensor([1, 2], { dtype: 'float32' })).dispose();
    expect(String(warn.mock.calls[1]![0])).toMatch(/ReduceLrOnPlateau.step takes a metric from the host/);
    warn.mockRestore();
  });

  it('a backward that would add to gradients left from the last call runs eagerly, with a warning', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    manualSeed(1);
    const model = mlp('cpu');
    const opt = new SGD(model.parameters(), { lr: 0.05 });
    const f = compile(function fwdBwd(x: Tensor, y: Tensor) { return tidy(() => { const l = mseLoss(model.forward(x), y); l.backward(); return l; }); });
    for (let i = 0; i < 5; i++) { f(...mlpBatch('cpu')(i)).dispose(); opt.step(); opt.zeroGrad(); }
    f(...mlpBatch('cpu')(5)).dispose(); // no zeroGrad after this one
    f(...mlpBatch('cpu')(6)).dispose();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/compile\(fwdBwd\): a \[\d+(, \d+)*\] tensor .*has a gradient when the call begins/);
    expect(f.stats()).toMatchObject({ replays: 3, fallbacks: 1 });
    warn.mockRestore();
  });
});
