// Checkpoints: exact resume (N steps straight = N/2, save, load into fresh objects, N/2 more —
// identical losses and weights on CPU, with dropout and data drawn from the restored RNG), typed
// errors for truncated/corrupted/missing files, crash safety, keep-last/keep-best retention, and a
// flat memory() over 300 steps of an nn model in a tidy loop.
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, memory, randn, tidy, getRngState, type Tensor } from '@webgrad/core';
import { Dropout, Linear, Module } from '@webgrad/nn';
import {
  AdamW, applyKeepPolicy, bestCheckpoint, CheckpointError, clipGradNorm, cosineWithWarmup, GradScaler, latestCheckpoint,
  listCheckpoints, loadCheckpoint, LrScheduler, paramGroupsWithDecay, saveCheckpoint, SGD,
} from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

class Mlp extends Module {
  declare fc1: Linear;
  declare drop: Dropout;
  declare fc2: Linear;
  constructor() {
    super();
    this.registerModule('fc1', new Linear(4, 8));
    this.registerModule('drop', new Dropout(0.25));
    this.registerModule('fc2', new Linear(8, 1));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => this.fc2.forward(this.drop.forward(this.fc1.forward(x).tanh()))); // (B, 1)
  }
}

function setup(seed: number) {
  manualSeed(seed);
  const model = new Mlp();
  const optimizer = new AdamW(paramGroupsWithDecay(model.namedParameters(), 0.1), { lr: 0.01 });
  const scheduler = new LrScheduler(cosineWithWarmup({ lr: 0.01, warmupSteps: 2, decaySteps: 10, minLr: 1e-4 }), { onLr: (lr) => optimizer.setLr(lr) });
  const scaler = new GradScaler({ initScale: 256, growthInterval: 2 });
  return { model, optimizer, scheduler, scaler };
}

async function trainStep(s: ReturnType<typeof setup>): Promise<number> {
  // Data comes from the global generator, so resuming must restore the RNG too.
  const loss = tidy(() => {
    const x = randn([8, 4]);
    const y = randn([8, 1]);
    const l = s.model.forward(x).sub(y).square().mean();
    s.scaler.scale(l).backward();
    return l;
  });
  s.scaler.unscale_(s.optimizer);
  clipGradNorm(s.model.parameters(), 1).dispose();
  await s.scaler.step(s.optimizer);
  s.scaler.update();
  s.optimizer.zeroGrad();
  s.scheduler.step();
  const v = await loss.item();
  loss.dispose();
  return v;
}

const allWeights = async (m: Module) => Promise.all(m.parameters().map(async (p) => [...(await p.data())]));

describe('checkpoint round trip', () => {
  it('resumes exactly: N straight steps equal N/2 + save + load into fresh objects + N/2', async () => {
    const N = 8;
    const straight = setup(0);
    const lossesA: number[] = [];
    for (let i = 0; i < N; i++) lossesA.push(await trainStep(straight));

    const dir = join(root, 'resume');
    const first = setup(0);
    const lossesB: number[] = [];
    for (let i = 0; i < N / 2; i++) lossesB.push(await trainStep(first));
    const saved = await saveCheckpoint(dir, { ...first, others: { scaler: first.scaler }, step: N / 2, extra: { note: 'half' } });
    expect(saved).toBe(join(dir, 'checkpoint-00000004'));
    expect(readdirSync(saved).sort()).toEqual(['model.safetensors', 'optimizer.safetensors', 'state.json']);
    // Burn some RNG and change the LR so the restore has something to undo.
    randn([100]).dispose();

    const second = setup(123);
    const info = await loadCheckpoint(dir, { model: second.model, optimizer: second.optimizer, scheduler: second.scheduler, others: { scaler: second.scaler } });
    expect(info.step).toBe(N / 2);
    expect(info.extra).toEqual({ note: 'half' });
    expect(getRngState()).toEqual(info.rng);
    expect(second.scheduler.currentStep).toBe(N / 2);
    expect(second.optimizer.paramGroups.map((g) => g.lr)).toEqual(first.optimizer.paramGroups.map((g) => g.lr));
    expect(second.scaler.stateDict()).toEqual(first.scaler.stateDict());
    for (let i = N / 2; i < N; i++) lossesB.push(await trainStep(second));

    expect(lossesB).toEqual(lossesA);
    expect(await allWeights(second.model)).toEqual(await allWeights(straight.model));
    for (const s of [straight, first, second]) { s.model.dispose(); s.optimizer.dispose(); }
  });

  it('works with the model alone and with a plain SGD optimizer (no state yet)', async () => {
    const dir = join(root, 'plain');
    manualSeed(5);
    const m = new Mlp();
    const opt = new SGD(m.parameters(), { lr: 0.1 });
    await saveCheckpoint(dir, { model: m, optimizer: opt, step: 0 });
    manualSeed(6);
    const m2 = new Mlp();
    const opt2 = new SGD(m2.parameters(), { lr: 0.5 });
    await loadCheckpoint(join(dir, 'checkpoint-00000000'), { model: m2, optimizer: opt2 });
    expect(await allWeights(m2)).toEqual(await allWeights(m));
    expect(opt2.paramGroups[0]!.lr).toBe(0.1);
    m.dispose(); m2.dispose();
  });
});

describe('checkpoint errors and crash safety', () => {
  async function fresh(name: string) {
    const dir = join(root, name);
    const s = setup(1);
    await trainStep(s);
    const path = await saveCheckpoint(dir, { ...s, step: 1 });
    return { dir, path, s };
  }

  it('a truncated model file is a typed error naming the file', async () => {
    const { path, s } = await fresh('trunc');
    const file = join(path, 'model.safetensors');
    truncateSync(file, 40);
    const err = await loadCheckpoint(path, { model: s.model }).catch((e) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.code).toBe('truncated');
    expect(err.file).toBe(file);
    expect(err.message).toContain('model.safetensors');
  });

  it('a corrupted optimizer file is detected and nothing is changed', async () => {
    const { path, s } = await fresh('corrupt');
    const file = join(path, 'optimizer.safetensors');
    const bytes = readFileSync(file);
    bytes[bytes.length - 3] ^= 0xff;
    writeFileSync(file, bytes);
    const before = await allWeights(s.model);
    const stepBefore = [...s.optimizer.state.values()][0]!.step;
    const err = await loadCheckpoint(path, { model: s.model, optimizer: s.optimizer }).catch((e) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.code).toBe('corrupt');
    expect(err.message).toContain('optimizer.safetensors');
    expect(await allWeights(s.model)).toEqual(before);
    expect([...s.optimizer.state.values()][0]!.step).toBe(stepBefore);
  });

  it('a truncated state.json, a missing checkpoint and a wrong model are typed errors', async () => {
    const { path, s } = await fresh('state');
    const file = join(path, 'state.json');
    truncateSync(file, 30);
    await expect(loadCheckpoint(path, { model: s.model })).rejects.toThrow(/state\.json.*not valid JSON/);
    await expect(loadCheckpoint(join(root, 'nowhere'))).rejects.toMatchObject({ code: 'not_found' });

    const good = await fresh('mismatch');
    const other = new Linear(3, 3);
    const err = await loadCheckpoint(good.path, { model: other }).catch((e) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.code).toBe('mismatch');
    expect(err.message).toMatch(/model\.safetensors.*missing weight/);
  });

  it('a crash mid-write never hides or corrupts the previous checkpoint; the next save cleans up', async () => {
    const { dir, s } = await fresh('crash');
    // What an interrupted save leaves behind: a temp directory with partial files.
    const tmp = join(dir, '.tmp-checkpoint-00000002-999-abc');
    mkdirSync(tmp);
    writeFileSync(join(tmp, 'model.safetensors'), new Uint8Array(10));
    expect((await listCheckpoints(dir)).map((c) => c.step)).toEqual([1]);
    const info = await loadCheckpoint(dir, { model: s.model, optimizer: s.optimizer });
    expect(info.step).toBe(1);
    await saveCheckpoint(dir, { ...s, step: 2 });
    expect(existsSync(tmp)).toBe(false);
    expect((await latestCheckpoint(dir))!.step).toBe(2);
    // Re-saving a step replaces it atomically.
    await saveCheckpoint(dir, { ...s, step: 2, extra: 'again' });
    expect((await loadCheckpoint(dir)).extra).toBe('again');
    expect(readdirSync(dir).filter((e) => e.startsWith('.'))).toEqual([]);
  });
});

describe('retention', () => {
  it('keeps the last N and the best K by metric', async () => {
    const dir = join(root, 'keep');
    manualSeed(2);
    const m = new Linear(2, 2);
    const metrics = [5, 1, 4, 3, 2, 6];
    for (let i = 0; i < metrics.length; i++) {
      await saveCheckpoint(dir, { model: m, step: (i + 1) * 10, metric: metrics[i], keep: { last: 2, best: 1 }, fsync: false });
    }
    expect((await listCheckpoints(dir)).map((c) => [c.step, c.metric])).toEqual([[20, 1], [50, 2], [60, 6]]);
    expect((await bestCheckpoint(dir))!.step).toBe(20);
    expect((await bestCheckpoint(dir, 'max'))!.step).toBe(60);
    expect(await applyKeepPolicy(dir, { best: 1, mode: 'max' })).toEqual([join(dir, 'checkpoint-00000020'), join(dir, 'checkpoint-00000050')]);
    m.dispose();
  });
});

describe('memory', () => {
  it('memory() is unchanged over 300 steps of an nn model (AdamW, clipping, schedule) in a tidy loop', async () => {
    const s = setup(3);
    const x = randn([16, 4]);
    const y = randn([16, 1]);
    const once = () => {
      tidy(() => s.model.forward(x).sub(y).square().mean().backward());
      clipGradNorm(s.model.parameters(), 1).dispose();
      s.optimizer.step();
      s.optimizer.zeroGrad();
      s.scheduler.step();
    };
    for (let i = 0; i < 3; i++) once();
    const before = memory();
    for (let i = 0; i < 300; i++) once();
    const after = memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
    s.model.dispose(); s.optimizer.dispose(); x.dispose(); y.dispose();
  });
});
