// Crash safety of checkpoint saves. A file system that dies before its N-th call (that call and
// every later one fail, as after a kill) stands in for the disk; N runs over every call of a save of
// a new step (with retention deleting the older one) and of a re-save of an existing step, and over
// every call of a second save interrupted the same way. After each crash every listed checkpoint
// must load with the contents it was saved with, latestCheckpoint / loadCheckpoint(dir) must find
// one, and a following normal save must work and keep it.
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, randn, tidy } from '@webgrad/core';
import { Linear } from '@webgrad/nn';
import { nodeCheckpointFs, type CheckpointFs } from '../src/checkpoint_fs.js';
import { AdamW, latestCheckpoint, listCheckpoints, loadCheckpoint, saveCheckpoint, type KeepPolicy } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-ckpt-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

class Crash extends Error {}

/**
 * The real file system until call number `at` (1-based): that call and every later one throw a
 * Crash. With `torn`, the call hit is half done first: a write leaves half of its bytes, a
 * directory removal removes one entry. fsync requests
 * are counted as calls but not passed on: a kill, unlike a power cut, loses nothing written.
 */
function dyingFs(inner: CheckpointFs, at: number, torn = false) {
  let calls = 0;
  const log: string[] = [];
  const step = async (what: string, args: string[]) => {
    calls++;
    log.push(`${what} ${args.map((a) => basename(a)).join(' ')}`);
    if (calls >= at) throw new Crash(`killed before call ${at} (${log[at - 1]})`);
  };
  const fs: CheckpointFs = {
    mkdir: async (p) => { await step('mkdir', [p]); await inner.mkdir(p); },
    readdir: async (p) => { await step('readdir', [p]); return inner.readdir(p); },
    exists: async (p) => { await step('exists', [p]); return inner.exists(p); },
    readFile: async (p) => { await step('readFile', [p]); return inner.readFile(p); },
    writeFile: async (p, bytes) => {
      try { await step('writeFile', [p]); } catch (e) {
        if (torn && calls === at) await inner.writeFile(p, bytes.subarray(0, bytes.length >> 1), false);
        throw e;
      }
      await inner.writeFile(p, bytes, false);
    },
    rename: async (a, b) => { await step('rename', [a, b]); await inner.rename(a, b); },
    rm: async (p) => {
      try { await step('rm', [p]); } catch (e) {
        if (torn && calls === at) await inner.rm(join(p, readdirSync(p).sort()[0] ?? ''));
        throw e;
      }
      await inner.rm(p);
    },
    syncDir: async (p) => { await step('syncDir', [p]); },
  };
  return { fs, calls: () => calls, log };
}

// Three versions of one model + optimizer, each saved with its tag in `extra`.
type Version = { tag: string; model: Linear; optimizer: AdamW; weights: number[][]; moments: number[][] };
const versions: Record<string, Version> = {};
async function makeVersion(tag: string, seed: number): Promise<Version> {
  manualSeed(seed);
  const model = new Linear(3, 2);
  const optimizer = new AdamW(model.parameters(), { lr: 0.01 });
  tidy(() => model.forward(randn([4, 3])).square().mean().backward());
  optimizer.step();
  optimizer.zeroGrad();
  const weights = await Promise.all(model.parameters().map(async (p) => [...(await p.data())]));
  const sd = await optimizer.stateDict();
  const moments = Object.values(sd.state).flatMap((s) => Object.values(s.buffers).map((b) => [...b.data]));
  return (versions[tag] = { tag, model, optimizer, weights, moments });
}
const ready = Promise.all([makeVersion('A', 1), makeVersion('B', 2), makeVersion('C', 3)]);

const save = (dir: string, tag: string, step: number, more: { fs?: CheckpointFs; keep?: KeepPolicy } = {}) =>
  saveCheckpoint(dir, { model: versions[tag]!.model, optimizer: versions[tag]!.optimizer, step, extra: { tag }, ...more });

/** Load one checkpoint into fresh objects and check it holds exactly what its tag was saved with. */
async function expectIntact(path: string): Promise<{ step: number; tag: string }> {
  const model = new Linear(3, 2);
  const optimizer = new AdamW(model.parameters(), { lr: 0.5 });
  const info = await loadCheckpoint(path, { model, optimizer, restoreRng: false });
  const tag = (info.extra as { tag: string }).tag;
  const v = versions[tag]!;
  expect(await Promise.all(model.parameters().map(async (p) => [...(await p.data())]))).toEqual(v.weights);
  const sd = await optimizer.stateDict();
  expect(Object.values(sd.state).flatMap((s) => Object.values(s.buffers).map((b) => [...b.data]))).toEqual(v.moments);
  model.dispose();
  optimizer.dispose();
  return { step: info.step, tag };
}

/** Every listed checkpoint is intact and one of `allowed` ("step:tag"); the latest is found by path and by directory. */
async function expectSurvivors(dir: string, allowed: string[]): Promise<string[]> {
  const all = await listCheckpoints(dir);
  expect(all.length).toBeGreaterThan(0);
  const found: string[] = [];
  for (const c of all) {
    const { step, tag } = await expectIntact(c.path);
    expect(step).toBe(c.step);
    found.push(`${step}:${tag}`);
  }
  for (const f of found) expect(allowed).toContain(f);
  const latest = (await latestCheckpoint(dir))!;
  const viaDir = await expectIntact(dir);
  expect(`${viaDir.step}:${viaDir.tag}`).toBe(found[found.length - 1]);
  expect(latest.step).toBe(viaDir.step);
  return found;
}

/** A normal save of step 9 works, and what survived is still there under its own name. */
async function expectNextSaveKeeps(dir: string, survivors: string[]): Promise<void> {
  await save(dir, 'C', 9);
  const after = await expectSurvivors(dir, [...survivors, '9:C']);
  expect(after).toEqual([...survivors, '9:C']);
  expect(readdirSync(dir).filter((e) => e.startsWith('.'))).toEqual([]);
  expect((await latestCheckpoint(dir))!.step).toBe(9);
}

interface Scenario {
  name: string;
  /** Write the checkpoints that exist before the interrupted save. */
  before: (dir: string) => Promise<unknown>;
  /** The save that gets interrupted. */
  run: (dir: string, fs: CheckpointFs) => Promise<unknown>;
  /** What may be found afterwards ("step:tag"). */
  allowed: string[];
}

const scenarios: Scenario[] = [
  {
    name: 'a save of a new step (retention then deletes the older one)',
    before: (dir) => save(dir, 'A', 1),
    run: (dir, fs) => save(dir, 'B', 2, { fs, keep: { last: 1 } }),
    allowed: ['1:A', '2:B'],
  },
  {
    name: 'a re-save of the same step',
    before: (dir) => save(dir, 'A', 2),
    run: (dir, fs) => save(dir, 'B', 2, { fs }),
    allowed: ['2:A', '2:B'],
  },
];

/** Calls a save makes when nothing fails (and checks that it then succeeds). */
async function countCalls(s: Scenario, dir: string): Promise<{ calls: number; log: string[] }> {
  await s.before(dir);
  const d = dyingFs(await nodeCheckpointFs(), Infinity);
  await s.run(dir, d.fs);
  return { calls: d.calls(), log: d.log };
}

const covered: Record<string, number> = {};
afterAll(() => console.log(`checkpoint crash points covered: ${JSON.stringify(covered)}`));

describe('a kill before any file-system call of a save leaves a complete checkpoint', () => {
  scenarios.forEach((s, si) => {
    it(s.name, async () => {
      await ready;
      const { calls, log } = await countCalls(s, join(root, `count-${si}`));
      expect(calls).toBeGreaterThan(8);
      const real = await nodeCheckpointFs();
      let points = 0;
      for (let at = 1; at <= calls; at++) {
        for (const torn of /^(writeFile|rm) /.test(log[at - 1]!) ? [false, true] : [false]) {
          const dir = join(root, `s${si}-${at}${torn ? 't' : ''}`);
          await s.before(dir);
          const d = dyingFs(real, at, torn);
          const err = await s.run(dir, d.fs).then(() => null, (e: unknown) => e);
          expect(err, `call ${at}: ${log[at - 1]}`).not.toBeNull();
          expect((err as Error).cause).toBeInstanceOf(Crash);
          const survivors = await expectSurvivors(dir, s.allowed);
          await expectNextSaveKeeps(dir, survivors);
          points++;
        }
      }
      covered[s.name] = points;
      expect(points).toBeGreaterThanOrEqual(calls);
    });
  });

  it('a second save killed anywhere after the first was killed anywhere (a re-save of the same step)', async () => {
    await ready;
    const s = scenarios[1]!;
    const { calls } = await countCalls(s, join(root, 'count-double'));
    const real = await nodeCheckpointFs();
    let points = 0;
    for (let first = 1; first <= calls; first++) {
      const crashed = join(root, `d-${first}`);
      await s.before(crashed);
      await s.run(crashed, dyingFs(real, first).fs).catch(() => undefined);
      for (let second = 1; ; second++) {
        const dir = join(root, `d-${first}-${second}`);
        cpSync(crashed, dir, { recursive: true });
        const d = dyingFs(real, second);
        const failed = await save(dir, 'C', 2, { fs: d.fs }).then(() => false, () => true);
        expect((await listCheckpoints(dir)).map((c) => c.step)).toEqual([2]);
        expect(['A', 'B', 'C']).toContain((await expectIntact(dir)).tag);
        if (!failed) break;
        points++;
        rmSync(dir, { recursive: true, force: true });
      }
    }
    covered['re-save killed, then re-save killed again'] = points;
    expect(points).toBeGreaterThan(calls * calls * 0.8);
  });

  it('loadCheckpoint given checkpoint-<step> finds it while a re-save has it moved aside', async () => {
    await ready;
    const dir = join(root, 'aside');
    await save(dir, 'A', 2);
    const { log } = await countCalls(scenarios[1]!, join(root, 'aside-count'));
    const between = log.findIndex((l) => l.startsWith('rename checkpoint-00000002 .old-')) + 2; // after the first rename
    await save(dir, 'B', 2, { fs: dyingFs(await nodeCheckpointFs(), between).fs }).catch(() => undefined);
    expect(readdirSync(dir).filter((e) => !e.startsWith('.tmp-')).sort()).toEqual(['.old-checkpoint-00000002']);
    expect(await expectIntact(join(dir, 'checkpoint-00000002'))).toEqual({ step: 2, tag: 'A' });
    expect((await latestCheckpoint(dir))!.path).toBe(join(dir, '.old-checkpoint-00000002'));
  });
});
