// The Trainer's `compile` option: a compiled run takes the steps an eager run takes (the losses it
// reads back and the final parameters agree to float32 rounding) on every device, with gradient
// clipping, an LR schedule, dropout, gradient accumulation and tensor metrics; and the settings it
// cannot compile are refused as documented (gradScaler at construction, number metrics at the
// first step) or run eagerly after compile's warning (a host read inside trainLoss).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CompileError, ValueError, hasDevice, manualSeed, tensor, type DeviceName, type Tensor } from '@webgrad/core';
import { Dropout, Linear, ReLU, Sequential, mseLoss } from '@webgrad/nn';
import { DataLoader, TensorDataset } from '@webgrad/data';
import { AdamW, GradScaler, LrScheduler, cosineWithWarmup } from '@webgrad/optim';
import { Trainer, readMetrics, type TrainResult, type TrainerOptions } from '@webgrad/train';

const DEVICES: DeviceName[] = hasDevice('webgpu') ? ['cpu', 'webgpu'] : ['cpu'];
const root = mkdtempSync(join(tmpdir(), 'webgrad-trainer-compile-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let runs = 0;
const quiet = { handleSigint: false, fsync: false, stream: { write: () => true }, tty: false } as const;

/** Deterministic data from a seed (independent of the library's generator). */
function data(n: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32 - 0.5; });
}

type Batch = [Tensor, Tensor];
/** `n` batches of 4 rows (x: 4×5, y: 4×2); `short` makes the last one 3 rows (a signature of its own). */
const batches = (device: DeviceName, n: number, short = false): Batch[] => Array.from({ length: n }, (_, i) => {
  const rows = short && i === n - 1 ? 3 : 4;
  return [tensor(data(rows * 5, 10 + i), { shape: [rows, 5], device }), tensor(data(rows * 2, 40 + i), { shape: [rows, 2], device })];
});

interface Run { result: TrainResult; params: number[][] }

/** One Trainer run from a fixed seed; `extra` may replace trainLoss (it gets the model). */
async function train(device: DeviceName, compiled: boolean, extra: Partial<TrainerOptions<Batch>> = {}, loss?: (m: Sequential, b: Batch) => ReturnType<TrainerOptions<Batch>['trainLoss']>): Promise<Run> {
  manualSeed(5);
  const model = new Sequential(new Linear(5, 12, { device }), new ReLU(), new Dropout(0.25), new Linear(12, 2, { device }));
  const optimizer = new AdamW(model.parameters(), { lr: 0.02, weightDecay: 0.05 });
  const scheduler = new LrScheduler(optimizer, cosineWithWarmup({ lr: 0.02, warmupSteps: 2, decaySteps: 8, minLr: 0.002 }));
  const data = batches(device, 5);
  const result = await new Trainer<Batch>({
    model, optimizer, scheduler, trainData: data, steps: 9, gradClip: 0.5, outDir: join(root, `run${runs++}`), ...quiet,
    trainLoss: (b) => (loss ? loss(model, b) : mseLoss(model.forward(b[0]), b[1])), compile: compiled, ...extra,
  }).run();
  const params = await Promise.all(model.parameters().map(async (p) => Array.from(await p.data())));
  for (const b of data) for (const t of b) t.dispose();
  model.dispose();
  optimizer.dispose();
  return { result, params };
}

/** `got` equals `want` element by element within `tol` relative to (1 + |want|); names the first element that is not. */
function expectClose(got: readonly number[], want: readonly number[], tol: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const bad = want.findIndex((w, i) => !(Math.abs((got[i] ?? NaN) - w) <= tol * (1 + Math.abs(w))));
  expect(bad, bad < 0 ? what : `${what}[${bad}]: ${got[bad]} vs ${want[bad]}`).toBe(-1);
}

function expectSameRun(c: Run, e: Run, what: string): void {
  expect(c.result.trainLosses.map(([s]) => s)).toEqual(e.result.trainLosses.map(([s]) => s));
  expectClose(c.result.trainLosses.map(([, l]) => l), e.result.trainLosses.map(([, l]) => l), 2e-5, `${what}: losses`);
  e.params.forEach((p, i) => expectClose(c.params[i] ?? [], p, 2e-5, `${what}: param ${i}`));
  expect(c.result.trainLosses.at(-1)![1]).not.toBe(c.result.trainLosses[0]![1]);
}

for (const device of DEVICES) {
  describe(`Trainer with compile on ${device}`, () => {
    it('equals the eager run: clipping, an LR schedule, dropout; replays from the fourth step', async () => {
      const e = await train(device, false), c = await train(device, true);
      expectSameRun(c, e, 'one micro-batch per step');
      expect(e.result.compileStats).toBeUndefined();
      expect(c.result.compileStats).toMatchObject({ eagerCalls: 1, traces: 2, replays: 6, fallbacks: 0, hostActions: 1 });
    });

    it('equals the eager run with gradient accumulation over 3 micro-batches and tensor metrics', async () => {
      const loss = (m: Sequential, [x, y]: Batch) => { const out = m.forward(x); return { loss: mseLoss(out, y), metrics: { meanOut: out.mean() } }; };
      const e = await train(device, false, { gradAccumSteps: 3 }, loss), c = await train(device, true, { gradAccumSteps: 3 }, loss);
      expectSameRun(c, e, 'three micro-batches per step');
      // One compiled call per step over its three micro-batches.
      expect(c.result.compileStats).toMatchObject({ signatures: 1, calls: 9, eagerCalls: 1, traces: 2, replays: 6, fallbacks: 0, hostActions: 1 });
      const figures = (r: Run) => readMetricsOf(r).map((m) => m.meanOut as number);
      expectClose(figures(c), figures(e), 2e-5, 'meanOut');
    });
  });
}

const readMetricsOf = (r: Run) => readMetrics(r.result.metricsPath).filter((m) => m.type === 'train');

describe('Trainer with compile: what it cannot compile', () => {
  it('a short last batch of an epoch is a signature of its own, still equal to eager', async () => {
    const run = async (compiled: boolean) => {
      manualSeed(7);
      const model = new Linear(5, 2);
      const optimizer = new AdamW(model.parameters(), { lr: 0.05 });
      const data = Object.assign(batches('cpu', 3, true), { length: 3 });
      const result = await new Trainer<Batch>({ model, optimizer, trainData: data, epochs: 5, outDir: join(root, `run${runs++}`), ...quiet, trainLoss: ([x, y]) => mseLoss(model.forward(x), y), compile: compiled }).run();
      return { result, params: await Promise.all(model.parameters().map(async (p) => Array.from(await p.data()))) };
    };
    const e = await run(false), c = await run(true);
    expectSameRun(c, e, 'short last batch');
    expect(c.result.compileStats).toMatchObject({ signatures: 2, calls: 15, replays: 9, fallbacks: 0 });
  });

  it('gradient accumulation over a DataLoader (which frees each batch when the next is drawn) equals eager', async () => {
    const run = async (compiled: boolean) => {
      manualSeed(9);
      const model = new Linear(5, 2);
      const optimizer = new AdamW(model.parameters(), { lr: 0.05 });
      const [x, y] = [tensor(data(40, 3), { shape: [8, 5] }), tensor(data(16, 4), { shape: [8, 2] })];
      const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 2, shuffle: true, seed: 1 });
      const result = await new Trainer<Tensor[]>({
        model, optimizer, trainData: loader, steps: 6, gradAccumSteps: 2, outDir: join(root, `run${runs++}`), ...quiet,
        trainLoss: ([bx, by]) => mseLoss(model.forward(bx!), by!), compile: compiled,
      }).run();
      x.dispose(); y.dispose();
      return { result, params: await Promise.all(model.parameters().map(async (p) => Array.from(await p.data()))) };
    };
    const e = await run(false), c = await run(true);
    expectSameRun(c, e, 'DataLoader');
    expect(c.result.compileStats).toMatchObject({ replays: 3, fallbacks: 0 });
  });

  it('refuses a gradScaler at construction, and a non-boolean compile', () => {
    const model = new Linear(2, 1);
    const optimizer = new AdamW(model.parameters());
    const base = { model, optimizer, steps: 1, outDir: join(root, `run${runs++}`), trainLoss: () => model.forward(tensor([[1, 2]])).sum(), ...quiet };
    expect(() => new Trainer({ ...base, compile: true, gradScaler: new GradScaler() })).toThrow(ValueError);
    expect(() => new Trainer({ ...base, compile: true, gradScaler: new GradScaler() })).toThrow(/compile does not take a gradScaler/);
    expect(() => new Trainer({ ...base, compile: false, gradScaler: new GradScaler() })).not.toThrow();
    expect(() => new Trainer({ ...base, compile: 'yes' } as never)).toThrow(/compile/);
  });

  it('a batch that is not tensors and JSON values is a CompileError at the first step', async () => {
    class Pair { constructor(readonly x: Tensor, readonly y: Tensor) {} }
    manualSeed(3);
    const model = new Linear(5, 2);
    const [x, y] = batches('cpu', 1)[0]!;
    const trainer = new Trainer<Pair>({
      model, optimizer: new AdamW(model.parameters()), trainData: [new Pair(x, y)], steps: 2, outDir: join(root, `run${runs++}`), ...quiet,
      trainLoss: (b) => mseLoss(model.forward(b.x), b.y), compile: true,
    });
    await expect(trainer.run()).rejects.toThrow(CompileError);
    await expect(trainer.run()).rejects.toThrow(/compile\(Trainer step\): argument 0\[0\] is .*capture models and optimizers in the closure/);
    x.dispose(); y.dispose();
  });

  it('refuses number metrics at the first step', async () => {
    await expect(train('cpu', true, {}, (m, [x, y]) => ({ loss: mseLoss(m.forward(x), y), metrics: { rows: x.shape[0]! } })))
      .rejects.toThrow(/metrics must be tensors; 'rows' is a number/);
    const ok = await train('cpu', false, {}, (m, [x, y]) => ({ loss: mseLoss(m.forward(x), y), metrics: { rows: x.shape[0]! } }));
    expect(ok.result.step).toBe(9);
  });

  it('a host read inside trainLoss: compile warns once with the cause and the run equals eager', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const reads = (m: Sequential, [x, y]: Batch) => { const l = mseLoss(m.forward(x), y); void l.dataSync(); return l; };
      const e = await train('cpu', false, {}, reads), c = await train('cpu', true, {}, reads);
      expectSameRun(c, e, 'host read');
      expect(c.result.compileStats).toMatchObject({ fallbacks: 1, replays: 0 });
      const msgs = warn.mock.calls.map((a) => String(a[0])).filter((m) => m.startsWith('compile(Trainer step)'));
      expect(msgs.length).toBe(1);
      expect(msgs[0]).toMatch(/runs eagerly from now on/);
    } finally {
      warn.mockRestore();
    }
  });
});
