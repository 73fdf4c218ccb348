// Gradual pruning: the cubic schedule against Zhu & Gupta's formula, a GradualPruner driven from a
// hand-written loop (global and per-layer scope, nested masks) and from the Trainer as a callback,
// including an exact resume from a checkpoint in the middle of the schedule.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, randn, tidy, type Tensor } from '@webgrad/core';
import { Linear, mseLoss, Sequential, Tanh } from '@webgrad/nn';
import { Trainer } from '@webgrad/train';
import { SGD, GradualPruner, attachMasks, cubicSparsity, getMask, roundHalfEven, sparsity } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-prune-schedule-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('cubicSparsity', () => {
  const s = cubicSparsity({ initialSparsity: 0.1, finalSparsity: 0.9, beginStep: 10, frequency: 5, pruningSteps: 4 });

  it('equals s_f + (s_i − s_f)(1 − (t − t0)/(nΔt))³ at every pruning step, and holds in between', () => {
    const formula = (t: number) => 0.9 + (0.1 - 0.9) * (1 - (t - 10) / (4 * 5)) ** 3;
    for (const t of [10, 15, 20, 25, 30]) expect(s.sparsityAt(t)).toBeCloseTo(formula(t), 14);
    [0.1, 0.5625, 0.8, 0.8875, 0.9].forEach((v, i) => expect(s.sparsityAt(10 + 5 * i)).toBeCloseTo(v, 14)); // 0.9 − 0.8·(1, ¾, ½, ¼, 0)³
    expect(s.sparsityAt(0)).toBe(0);
    expect(s.sparsityAt(9)).toBe(0);
    expect(s.sparsityAt(14)).toBe(s.sparsityAt(10));
    expect(s.sparsityAt(29)).toBe(s.sparsityAt(25));
    expect(s.sparsityAt(1000)).toBe(0.9);
    expect([s.beginStep, s.endStep]).toEqual([10, 30]);
  });

  it('prunes every Δt steps from t0 to t0 + nΔt', () => {
    const steps = Array.from({ length: 40 }, (_, t) => t).filter((t) => s.isPruningStep(t));
    expect(steps).toEqual([10, 15, 20, 25, 30]);
    const dense = cubicSparsity({ finalSparsity: 0.5, pruningSteps: 2 });
    expect([0, 1, 2, 3].map((t) => dense.sparsityAt(t))).toEqual([0, 0.5 - 0.5 * 0.125, 0.5, 0.5]);
  });
});

function model(seed = 1): Sequential {
  manualSeed(seed);
  return new Sequential(new Linear(6, 10), new Tanh(), new Linear(10, 4));
}
const layers = (m: Sequential) => [[m.at(0), 'weight'], [m.at(2), 'weight']] as [Linear, string][];
const read = async (t: Tensor) => Array.from(await t.data(), (v) => v + 0);

describe('GradualPruner', () => {
  it('global: reaches round(s_t · n) masked entries at each pruning step, keeping earlier zeros', async () => {
    const m = model();
    const schedule = cubicSparsity({ finalSparsity: 0.8, beginStep: 1, frequency: 2, pruningSteps: 3 });
    const pruner = new GradualPruner({ params: layers(m), schedule });
    const opt = new SGD(m.parameters(), { lr: 0.05, momentum: 0.9 });
    attachMasks(opt, m);
    const n = 6 * 10 + 10 * 4;
    let prev: number[] = [];
    for (let t = 0; t <= 8; t++) {
      if (t > 0) {
        tidy(() => { const x = randn([8, 6]); mseLoss(m.forward(x), x.narrow(1, 0, 4)).backward(); });
        opt.step();
        opt.zeroGrad();
      }
      const r = await pruner.step(t);
      expect(r === null).toBe(!schedule.isPruningStep(t));
      const rep = await sparsity(m);
      expect(rep.zeros).toBe(roundHalfEven(schedule.sparsityAt(t) * n));
      const masks = (await Promise.all(layers(m).map(([l]) => read(getMask(l, 'weight')!)))).flat();
      prev.forEach((v, i) => { if (v === 0) expect(masks[i]).toBe(0); });
      prev = masks;
    }
    expect((await sparsity(m)).global).toBe(0.8);
  });

  it('layer scope: each parameter reaches the target on its own', async () => {
    const m = model(2);
    const pruner = new GradualPruner({ params: layers(m), schedule: cubicSparsity({ finalSparsity: 0.7, pruningSteps: 1 }), scope: 'layer' });
    await pruner.pruneTo(0.35);
    expect((await sparsity(m)).layers.map((l) => l.zeros)).toEqual([roundHalfEven(0.35 * 60), roundHalfEven(0.35 * 40)]);
  });

  it('runs as a Trainer callback, and a resumed run ends where an uninterrupted one does', async () => {
    manualSeed(7);
    const data = Array.from({ length: 12 }, () => tidy(() => { const x = randn([8, 6]); return { x, y: x.narrow(1, 0, 4).mul(2) }; }));
    const quiet = { handleSigint: false, fsync: false, stream: { write: () => true }, tty: false } as const;
    const schedule = cubicSparsity({ initialSparsity: 0.2, finalSparsity: 0.75, beginStep: 2, frequency: 3, pruningSteps: 3 }); // 2, 5, 8, 11
    const setup = (outDir: string, steps: number, resume: boolean) => {
      const m = model(3);
      const optimizer = new SGD(m.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 0.01 });
      attachMasks(optimizer, m);
      const pruner = new GradualPruner({ params: layers(m), schedule });
      const seen: [number, number][] = [];
      const record = { onStep: async (info: { step: number }) => { seen.push([info.step, (await sparsity(m)).zeros]); } };
      const trainer = new Trainer<{ x: Tensor; y: Tensor }>({
        model: m, optimizer, steps, trainData: Object.assign([...data], { length: data.length }), trainLoss: (b) => mseLoss(m.forward(b.x), b.y),
        outDir, resume, saveInterval: 1, evalInterval: 100, callbacks: [pruner, record], ...quiet,
      });
      return { m, trainer, seen };
    };
    const whole = setup(join(root, 'whole'), 12, false);
    await whole.trainer.run();
    expect(whole.seen).toEqual(whole.seen.map(([t]) => [t, roundHalfEven(schedule.sparsityAt(t) * 100)]));
    expect(whole.seen.map(([, z]) => z)).toEqual([0, 20, 20, 20, 59, 59, 59, 73, 73, 73, 75, 75]); // 0.75 − 0.55·(2/3)³ = 0.587, 0.75 − 0.55·(1/3)³ = 0.730

    const first = setup(join(root, 'split'), 6, false);
    await first.trainer.run();
    const second = setup(join(root, 'split'), 12, true); // a fresh model: masks come back from the checkpoint
    expect((await second.trainer.run()).startStep).toBe(6);
    for (const [k, t] of Object.entries(whole.m.stateDict())) expect(await read(second.m.stateDict()[k]!)).toEqual(await read(t));
  });
});
