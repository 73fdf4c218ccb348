// The Trainer as a library: batches from data, gradient accumulation, evaluation with extra
// metrics, one "best" for checkpoints and early stopping, callbacks, and memory left flat.
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValueError, manualSeed, memory, randn, tensor, tidy, type Tensor } from '@webgrad/core';
import { Linear, mseLoss } from '@webgrad/nn';
import { SGD, bestCheckpoint } from '@webgrad/optim';
import { Trainer, readMetrics, type TrainerOptions } from '@webgrad/train';

const root = mkdtempSync(join(tmpdir(), 'webgrad-trainer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let runs = 0;
const quiet = { handleSigint: false, fsync: false, stream: { write: () => true }, tty: false } as const;

type Batch = { x: Tensor; y: Tensor };
/** n batches of a linear target y = x·[1, -2, 0.5] + 0.3, fresh tensors each epoch. */
function batches(n: number, size: number, seed = 1): Batch[] & { setEpoch?(e: number): void } {
  manualSeed(seed);
  const w = tensor([[1], [-2], [0.5]], { dtype: 'float32' });
  const out = Array.from({ length: n }, () => tidy(() => { const x = randn([size, 3]); return { x, y: x.matmul(w).add(0.3) }; }));
  w.dispose();
  return out;
}

function setup(extra: Partial<TrainerOptions<Batch>> = {}, lr = 0.1) {
  manualSeed(3);
  const model = new Linear(3, 1);
  const optimizer = new SGD(model.parameters(), { lr });
  const loss = (b: Batch) => mseLoss(model.forward(b.x), b.y);
  return { model, optimizer, opts: { model, optimizer, trainLoss: loss, outDir: join(root, `run${runs++}`), ...quiet, ...extra } as TrainerOptions<Batch> };
}

describe('Trainer', () => {
  it('epochs over trainData, with evaluation data and a per-epoch evaluation', async () => {
    const data = batches(4, 8);
    const val = batches(2, 8, 9);
    const { model, opts } = setup({ trainData: Object.assign([...data, ...data], { length: 8 }), epochs: 3, evalData: { val }, evalLoss: (_s, b) => mseLoss(model.forward(b.x), b.y) });
    const r = await new Trainer(opts).run();
    expect(r.step).toBe(24);
    expect(r.epoch).toBe(3);
    expect(r.evals.map((e) => e.step)).toEqual([0, 8, 16, 24]);
    expect(r.evals.at(-1)!.losses.val!).toBeLessThan(r.evals[0]!.losses.val! / 10);
    expect(existsSync(r.plotPath) && readFileSync(r.plotPath, 'utf8').startsWith('<svg')).toBe(true);
  });

  it('gradient accumulation over k micro-batches equals one step on their union', async () => {
    const full = batches(1, 8, 4);
    const halves = [0, 4].map((s) => ({ x: full[0]!.x.narrow(0, s, 4), y: full[0]!.y.narrow(0, s, 4) }));
    const a = setup({ trainData: full.map((b) => ({ x: b.x.clone(), y: b.y.clone() })), steps: 1 });
    await new Trainer(a.opts).run();
    const b = setup({ trainData: halves, steps: 1, gradAccumSteps: 2 });
    await new Trainer(b.opts).run();
    const wa = Array.from(await a.model.weight.data()), wb = Array.from(await b.model.weight.data());
    wa.forEach((v, i) => expect(wb[i]).toBeCloseTo(v, 6));
  });

  it('one definition of best: the best checkpoint and early stopping agree (max mode, extra metric)', async () => {
    const scores = [0.5, 0.7, 0.69, 0.71, 0.6, 0.6, 0.6, 0.6];
    let k = 0;
    const { opts } = setup({
      trainData: batches(4, 4), steps: 20, evalInterval: 2, evalMetrics: () => ({ accuracy: scores[k++] ?? 0 }),
      best: { metric: 'accuracy', mode: 'max', minDelta: 0.015, patience: 3 }, keep: { last: 1, best: 1 },
    });
    const r = await new Trainer(opts).run();
    // 0.71 does not beat 0.7 by more than minDelta, so the best stays at step 2; three evaluations
    // later (steps 4, 6, 8) patience runs out.
    expect(r.earlyStopped).toBe(true);
    expect(r.step).toBe(8);
    expect(r.bestMetricName).toBe('accuracy');
    expect(r.bestMetric).toBe(0.7);
    expect(r.bestStep).toBe(2);
    const best = await bestCheckpoint(join(opts.outDir, 'checkpoints'), 'max');
    expect(best?.step).toBe(2);
    expect(readMetrics(r.metricsPath).find((m) => m.type === 'summary')!.early_stopped).toBe(true);
  });

  it('callbacks see every step and evaluation; no tensor outlives the run', async () => {
    const before = memory().tensors;
    const data = batches(3, 4);
    const seen: string[] = [];
    const { model, optimizer, opts } = setup({
      trainData: data, steps: 6, evalInterval: 3,
      evalLoss: (_s, b) => mseLoss(model.forward(b.x), b.y), evalData: { val: data },
      callbacks: [{ onStep: (s) => { seen.push(`step${s.step}`); }, onEval: (e) => { seen.push(`eval${e.step}`); }, onEnd: () => { seen.push('end'); } }],
    });
    const r = await new Trainer(opts).run();
    expect(seen).toEqual(['eval0', 'step1', 'step2', 'step3', 'eval3', 'step4', 'step5', 'step6', 'eval6', 'end']);
    expect(r.trainLosses.length).toBe(6);
    for (const b of data) { b.x.dispose(); b.y.dispose(); }
    model.dispose();
    optimizer.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('refuses what it cannot honour', () => {
    const { opts } = setup();
    expect(() => new Trainer({ ...opts })).toThrow(/steps/);
    expect(() => new Trainer({ ...opts, steps: 3, epochs: 1 })).toThrow(ValueError);
    expect(() => new Trainer({ ...opts, epochs: 2 })).toThrow(/length/);
    expect(() => new Trainer({ ...opts, steps: 2, gradAccumSteps: 0 })).toThrow(/gradAccumSteps/);
    expect(() => new Trainer({ ...opts, steps: 2, evalEvery: 3 } as never)).toThrow(/unknown option/);
    expect(() => new Trainer({ ...opts, steps: 2, best: { mode: 'avg' } } as never)).toThrow(/best.mode/);
  });
});

describe('Trainer, for loops with more state', () => {
  it('logs the figures trainLoss returns, saves every saveInterval steps, and checkpoints extra state', async () => {
    const counter = { n: 0, stateDict() { return { n: this.n }; }, loadStateDict(s: { n: number }) { this.n = s.n; } };
    const seen: Record<string, number>[] = [];
    const make = (resume: boolean, outDir: string, stopAt?: number) => {
      const { model, opts } = setup({ trainData: batches(3, 4), steps: 6, saveInterval: 2, state: { counter }, resume, outDir });
      return new Trainer<Batch>({
        ...opts,
        trainLoss: (b) => { counter.n++; const loss = mseLoss(model.forward(b.x), b.y); return { loss, metrics: { half: loss.mul(0.5), constant: 3 } }; },
        onStep: (s, t) => { if (s.metrics) seen.push(s.metrics); if (s.step === stopAt) t.stop(); },
      });
    };
    const outDir = join(root, `run${runs++}`);
    const r = await make(false, outDir, 3).run();
    expect(r.interrupted).toBe(true);
    expect(seen.every((m) => m.constant === 3 && m.half! > 0)).toBe(true);
    const rec = readMetrics(r.metricsPath).filter((m) => m.type === 'train');
    expect((rec[0]!.half as number)).toBeCloseTo((rec[0]!.loss as number) / 2, 6);
    const { listCheckpoints } = await import('@webgrad/optim');
    expect((await listCheckpoints(join(outDir, 'checkpoints'))).map((c) => c.step)).toContain(3);
    counter.n = 100; // resume must restore the saved counter (3 steps done)
    const r2 = await make(true, outDir).run();
    expect(r2.step).toBe(6);
    expect(counter.n).toBe(6);
  });
});

describe('Trainer and its output folder', () => {
  it('a fresh run removes an earlier run\'s checkpoints', async () => {
    const outDir = join(root, `run${runs++}`);
    const { model, opts } = setup({ trainData: batches(2, 4), steps: 4, evalInterval: 2, outDir, evalMetrics: () => ({ score: 1 }), best: { metric: 'score', mode: 'max' }, keep: { last: 3, best: 3 } });
    void model;
    await new Trainer(opts).run();
    const { listCheckpoints } = await import('@webgrad/optim');
    expect((await listCheckpoints(join(outDir, 'checkpoints'))).map((c) => c.step).sort()).toEqual([4]);
    const again = setup({ trainData: batches(2, 4), steps: 1, outDir, keep: { last: 3, best: 3 } });
    await new Trainer(again.opts).run();
    expect((await listCheckpoints(join(outDir, 'checkpoints'))).map((c) => c.step)).toEqual([1]);
  });
});

describe('Trainer keeps the checkpoint its best names', () => {
  it('a final evaluation that ties the best does not displace it', async () => {
    const outDir = join(root, `run${runs++}`);
    const scores = [0.5, 0.9, 0.9];
    let k = 0;
    const { opts } = setup({ trainData: batches(2, 4), steps: 4, evalInterval: 2, outDir, evalMetrics: () => ({ acc: scores[k++]! }), best: { metric: 'acc', mode: 'max' }, keep: { last: 1, best: 1 } });
    const r = await new Trainer(opts).run();
    expect(r.bestStep).toBe(2);
    const { bestCheckpoint } = await import('@webgrad/optim');
    expect((await bestCheckpoint(join(outDir, 'checkpoints'), 'max'))?.step).toBe(2);
  });
});
