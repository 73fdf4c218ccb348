// state.json: its checksum, its schema, and loadCheckpoint's promise to change nothing when any
// part of a checkpoint is bad. Each corruption is written with a valid checksum (except the one
// that tests the checksum), so the schema or fit check is what must catch it; after the typed error
// the model's weights, the optimizer's state, the scheduler, the GradScaler and the RNG are
// compared with their values before the load.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRngState, manualSeed, randn, setRngState, tidy, type Tensor } from '@webgrad/core';
import { Linear, Module } from '@webgrad/nn';
import { MOMENTS, stateChecksum } from '../src/checkpoint_state.js';
import {
  Adam, AdamW, CheckpointError, cosineWithWarmup, GradScaler, Lion, loadCheckpoint, LrScheduler, paramGroupsWithDecay, saveCheckpoint, SGD,
} from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-ckpt-state-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

class Mlp extends Module {
  declare fc1: Linear;
  declare fc2: Linear;
  constructor() {
    super();
    this.registerModule('fc1', new Linear(3, 4));
    this.registerModule('fc2', new Linear(4, 1));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => this.fc2.forward(this.fc1.forward(x).tanh())); // (B, 1)
  }
}

function setup() {
  manualSeed(11);
  const model = new Mlp();
  const optimizer = new AdamW(paramGroupsWithDecay(model.namedParameters(), 0.1), { lr: 0.01 });
  const scheduler = new LrScheduler(cosineWithWarmup({ lr: 0.01, warmupSteps: 2, decaySteps: 10, minLr: 1e-4 }), { onLr: (lr) => optimizer.setLr(lr) });
  const scaler = new GradScaler({ initScale: 256, growthInterval: 1 });
  return { model, optimizer, scheduler, scaler };
}
type Setup = ReturnType<typeof setup>;

async function step(s: Setup): Promise<void> {
  tidy(() => s.scaler.scale(s.model.forward(randn([5, 3])).square().mean()).backward());
  s.scaler.unscale_(s.optimizer);
  await s.scaler.step(s.optimizer);
  s.scaler.update();
  s.optimizer.zeroGrad();
  s.scheduler.step();
}

/** Everything a load may change, as plain data. */
async function everything(s: Setup) {
  return {
    weights: await Promise.all(s.model.parameters().map(async (p) => [...(await p.data())])),
    optimizer: await s.optimizer.stateDict(),
    lrs: s.optimizer.paramGroups.map((g) => g.lr),
    scheduler: s.scheduler.stateDict(),
    scaler: s.scaler.stateDict(),
    rng: getRngState(),
  };
}

const load = (path: string, s: Setup) =>
  loadCheckpoint(path, { model: s.model, optimizer: s.optimizer, scheduler: s.scheduler, others: { scaler: s.scaler } });

type State = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let good = '';
let s: Setup;
beforeAll(async () => {
  s = setup();
  for (let i = 0; i < 3; i++) await step(s);
  good = await saveCheckpoint(join(root, 'good'), { ...s, others: { scaler: s.scaler }, step: 3, fsync: false });
  // Move on, so that a load that changed anything would show.
  for (let i = 0; i < 2; i++) await step(s);
  randn([7]).dispose();
});

let copies = 0;
/** A copy of the good checkpoint with state.json edited by `edit` and, unless `reseal` is false, its checksum recomputed. */
async function corrupted(edit: (st: State) => void, reseal = true): Promise<string> {
  const dir = join(root, `bad-${copies++}`, 'checkpoint-00000003');
  cpSync(good, dir, { recursive: true });
  const file = join(dir, 'state.json');
  const st = JSON.parse(readFileSync(file, 'utf8')) as State;
  edit(st);
  if (reseal) {
    const { sha256: _, ...rest } = st;
    st.sha256 = await stateChecksum(rest);
  }
  writeFileSync(file, JSON.stringify(st));
  return dir;
}

describe('a load that fails changes nothing', () => {
  const cases: [string, (st: State) => void, string, string | undefined][] = [
    // [what, edit, code, field]
    ['a negative step', (st) => { st.step = -1; }, 'invalid', 'step'],
    ['a fractional step', (st) => { st.step = 2.5; }, 'invalid', 'step'],
    ['a string seed', (st) => { st.rng.seed = '7'; }, 'invalid', 'rng.seed'],
    ['a negative RNG offset', (st) => { st.rng.offset = -4; }, 'invalid', 'rng.offset'],
    ['no RNG state', (st) => { delete st.rng; }, 'invalid', 'rng'],
    ['a string metric', (st) => { st.metric = 'low'; }, 'invalid', 'metric'],
    ['another format', (st) => { st.format = 'something-else'; }, 'invalid', 'format'],
    ['an unknown version', (st) => { st.version = 3; }, 'invalid', 'version'],
    ['a bad file digest', (st) => { st.files['model.safetensors'].sha256 = 'zz'; }, 'invalid', 'files.model.safetensors.sha256'],
    ['an empty moment list', (st) => { st.optimizer.state['0'].buffers = []; }, 'invalid', 'optimizer.state.0.buffers'],
    ['a moment listed twice', (st) => { st.optimizer.state['1'].buffers = ['expAvg', 'expAvg', 'expAvgSq']; }, 'invalid', 'optimizer.state.1.buffers'],
    ['a negative optimizer step', (st) => { st.optimizer.state['2'].step = -3; }, 'invalid', 'optimizer.state.2.step'],
    ['state for a parameter that does not exist', (st) => { st.optimizer.state['99'] = { step: 1, buffers: [] }; }, 'invalid', 'optimizer.state.99'],
    ['a non-numeric beta', (st) => { st.optimizer.paramGroups[0].hyper.betas = ['0.9', 0.999]; }, 'invalid', 'optimizer.paramGroups[0].hyper.betas[0]'],
    ['a beta of 1', (st) => { st.optimizer.paramGroups[1].hyper.betas = [0.9, 1]; }, 'invalid', 'optimizer.paramGroups[1].hyper.betas[1]'],
    ['a negative eps', (st) => { st.optimizer.paramGroups[0].hyper.eps = -1e-8; }, 'invalid', 'optimizer.paramGroups[0].hyper.eps'],
    ['a string learning rate', (st) => { st.optimizer.paramGroups[1].hyper.lr = '0.01'; }, 'invalid', 'optimizer.paramGroups[1].hyper.lr'],
    ['a null weight decay', (st) => { st.optimizer.paramGroups[0].hyper.weightDecay = null; }, 'invalid', 'optimizer.paramGroups[0].hyper.weightDecay'],
    ['parameter indices out of order', (st) => { st.optimizer.paramGroups[0].params.reverse(); }, 'invalid', 'optimizer.paramGroups[0].params[0]'],
    ['another optimizer kind', (st) => { st.optimizer.kind = 'Lion'; }, 'mismatch', 'optimizer.kind'],
    ['a hyperparameter of the wrong kind', (st) => { st.optimizer.paramGroups[0].hyper.betas = 0.9; }, 'invalid', 'optimizer.paramGroups[0].hyper.betas'],
    ['a scheduler step the scheduler refuses', (st) => { st.scheduler.lastStep = -2; }, 'invalid', 'scheduler'],
    ['a scheduler step that is a string', (st) => { st.scheduler.lastStep = '3'; }, 'mismatch', 'scheduler.lastStep'],
    ['no scheduler state', (st) => { delete st.scheduler; }, 'mismatch', 'scheduler'],
    // The scheduler loads first; the scaler then refuses its entry and the scheduler must be put back.
    ['a GradScaler scale the scaler refuses', (st) => { st.others.scaler.scale = -1; }, 'invalid', 'others.scaler'],
    ['no GradScaler state', (st) => { delete st.others.scaler; }, 'mismatch', 'others.scaler'],
  ];
  for (const [what, edit, code, field] of cases) {
    it(what, async () => {
      const path = await corrupted(edit);
      const before = await everything(s);
      const err = await load(path, s).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CheckpointError);
      expect((err as CheckpointError).code).toBe(code);
      expect((err as CheckpointError).field).toBe(field);
      expect((err as Error).message).toContain(join(path, 'state.json'));
      expect((err as Error).message).toContain(`field ${field}`);
      expect(await everything(s)).toEqual(before);
    });
  }

  it('an edit without a new checksum is detected', async () => {
    const path = await corrupted((st) => { st.extra = 'changed'; }, false);
    const before = await everything(s);
    const err = await load(path, s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err).toMatchObject({ code: 'corrupt', file: join(path, 'state.json') });
    expect((err as Error).message).toMatch(/state\.json.*do not match its sha256/);
    expect(await everything(s)).toEqual(before);
    const unsealed = await corrupted((st) => { delete st.sha256; }, false);
    await expect(load(unsealed, s)).rejects.toMatchObject({ code: 'corrupt', message: expect.stringMatching(/no checksum/) });
  });

  it('the good checkpoint loads, and changes every part (so the comparisons above can fail)', async () => {
    const path = await corrupted(() => undefined);
    const before = await everything(s);
    setRngState({ seed: 1, offset: 2 });
    await load(path, s);
    const after = await everything(s);
    for (const k of Object.keys(before) as (keyof typeof before)[]) expect(after[k], k).not.toEqual(before[k]);
    expect(after.scheduler.lastStep).toBe(3);
  });

  it('a version 1 state.json (no checksum) still loads', async () => {
    const path = await corrupted((st) => { delete st.sha256; st.version = 1; }, false);
    expect((await load(path, s)).step).toBe(3);
  });
});

describe('the writer refuses what the reader would', () => {
  it('a negative learning rate is refused at save time and nothing is written', async () => {
    manualSeed(3);
    const m = new Linear(2, 2);
    const opt = new SGD(m.parameters(), { lr: 0.1 });
    opt.paramGroups[0]!.lr = -0.5; // groups' hyperparameters may be changed between steps
    const dir = join(root, 'refused');
    const err = await saveCheckpoint(dir, { model: m, optimizer: opt, step: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err).toMatchObject({ code: 'invalid', field: 'optimizer.paramGroups[0].hyper.lr' });
    expect(() => readdirSync(dir)).toThrow();
  });
});

describe('the state tensors each optimizer keeps (MOMENTS)', () => {
  it('match what Adam, AdamW and Lion create in a step', async () => {
    for (const make of [(p: Tensor[]) => new Adam(p), (p: Tensor[]) => new AdamW(p), (p: Tensor[]) => new Lion(p)]) {
      manualSeed(4);
      const m = new Linear(2, 2);
      const opt = make(m.parameters());
      tidy(() => m.forward(randn([3, 2])).sum().backward());
      opt.step();
      const sd = await opt.stateDict();
      for (const st of Object.values(sd.state)) expect(Object.keys(st.buffers).sort()).toEqual([...MOMENTS[opt.kind]!].sort());
      opt.dispose();
      m.dispose();
    }
  });
});
