// A directory of checkpoints: naming, listing, retention, and how it survives a crash at any
// point of a save.
//
// Entries of <dir>:
//   checkpoint-<step>           a complete checkpoint (step zero-padded to 8 digits)
//   .old-checkpoint-<step>      a complete checkpoint moved aside while a re-save of its step
//                               replaces it; it is checkpoint <step> whenever checkpoint-<step> is absent
//   .tmp-checkpoint-<step>-...  a checkpoint being written: garbage once its writer is gone
//   .del-checkpoint-<step>-...  a checkpoint being deleted: garbage
//
// Invariant: checkpoint-* and .old-checkpoint-* directories are always complete. They only come
// into being by renaming a complete directory, and are never deleted in place: deletion renames
// to .del-* first, and only .tmp-* and .del-* are removed file by file. A kill at any point
// therefore leaves every step that had a complete checkpoint with one, which readers find without
// repairing anything. A writer repairs first (recoverDir): a checkpoint moved aside goes back
// under its name, or is deleted when its replacement is in place; garbage is deleted.
// One writer per directory at a time.
import { STATE } from './checkpoint_state.js';
import { nodeCheckpointFs, nodePath, type CheckpointFs } from './checkpoint_fs.js';
import type { CheckpointInfo, KeepPolicy } from './checkpoint_types.js';

const LIVE = /^checkpoint-(\d+)$/;
const ASIDE = /^\.old-(checkpoint-(\d+))$/;
const GARBAGE = /^\.(tmp|del)-checkpoint-/;

export const checkpointName = (step: number): string => `checkpoint-${String(step).padStart(8, '0')}`;
const suffix = (): string => Math.random().toString(36).slice(2, 8);

/** A fresh name for the directory a save of `step` writes before installing it. */
export const tempName = (step: number): string => `.tmp-${checkpointName(step)}-${process.pid}-${suffix()}`;

/** The directory holding each step's checkpoint: checkpoint-<step>, else .old-checkpoint-<step>. */
async function scan(fs: CheckpointFs, dir: string): Promise<{ step: number; name: string }[]> {
  let names: string[];
  try { names = await fs.readdir(dir); } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw e;
  }
  const present = new Set(names);
  const out: { step: number; name: string }[] = [];
  for (const name of names) {
    const live = LIVE.exec(name);
    if (live) { out.push({ step: Number(live[1]), name }); continue; }
    const aside = ASIDE.exec(name);
    if (aside && !present.has(aside[1]!)) out.push({ step: Number(aside[2]), name });
  }
  return out.sort((a, b) => a.step - b.step);
}

export async function listCheckpointsIn(fs: CheckpointFs, dir: string): Promise<CheckpointInfo[]> {
  const { join } = await nodePath();
  const out: CheckpointInfo[] = [];
  for (const { step, name } of await scan(fs, dir)) {
    const info: CheckpointInfo = { path: join(dir, name), step };
    try {
      const s = JSON.parse(new TextDecoder().decode(await fs.readFile(join(dir, name, STATE)))) as { metric?: unknown };
      if (typeof s.metric === 'number') info.metric = s.metric;
    } catch { /* listed without a metric */ }
    out.push(info);
  }
  return out;
}

/** Checkpoints under `dir`, oldest step first (a checkpoint whose state.json is unreadable has no metric). */
export async function listCheckpoints(dir: string): Promise<CheckpointInfo[]> {
  return listCheckpointsIn(await nodeCheckpointFs(), dir);
}

/** The checkpoint under `dir` with the highest step, or null when there is none. */
export async function latestCheckpoint(dir: string): Promise<CheckpointInfo | null> {
  const all = await listCheckpoints(dir);
  return all[all.length - 1] ?? null;
}

const byMetric = (mode: 'min' | 'max') => (a: CheckpointInfo, b: CheckpointInfo) =>
  (mode === 'min' ? a.metric! - b.metric! : b.metric! - a.metric!) || b.step - a.step;

/** The checkpoint under `dir` with the best recorded metric ('min': lowest, the default; 'max': highest; the later step on ties), or null when none has a finite metric. */
export async function bestCheckpoint(dir: string, mode: 'min' | 'max' = 'min'): Promise<CheckpointInfo | null> {
  const scored = (await listCheckpoints(dir)).filter((c) => c.metric !== undefined && Number.isFinite(c.metric));
  return scored.sort(byMetric(mode))[0] ?? null;
}

/** Delete a checkpoint directory: rename it out of the readers' sight, then remove it. */
async function retire(fs: CheckpointFs, dir: string, name: string): Promise<void> {
  const { join } = await nodePath();
  const doomed = join(dir, `.del-${name.replace(/^\.old-/, '')}-${suffix()}`);
  await fs.rename(join(dir, name), doomed);
  await fs.rm(doomed);
}

/** Finish what an interrupted save left: restore or drop checkpoints moved aside, delete garbage. */
export async function recoverDir(fs: CheckpointFs, dir: string, sync: boolean): Promise<void> {
  const { join } = await nodePath();
  const names = await fs.readdir(dir);
  const present = new Set(names);
  let restored = false;
  for (const name of names) {
    const aside = ASIDE.exec(name);
    if (!aside) continue;
    if (present.has(aside[1]!)) await retire(fs, dir, name);
    else { await fs.rename(join(dir, name), join(dir, aside[1]!)); restored = true; }
  }
  if (restored && sync) await fs.syncDir(dir);
  for (const name of names) if (GARBAGE.test(name)) await fs.rm(join(dir, name));
}

/**
 * Move the complete directory `tmp` into place as the checkpoint of `step`. An existing one is
 * moved aside first (rename over a non-empty directory is impossible) and deleted once the new one
 * is in place. Returns the checkpoint's path.
 */
export async function install(fs: CheckpointFs, dir: string, tmp: string, step: number, sync: boolean): Promise<string> {
  const { join } = await nodePath();
  const name = checkpointName(step);
  const final = join(dir, name);
  const replacing = await fs.exists(final);
  if (replacing) await fs.rename(final, join(dir, `.old-${name}`));
  await fs.rename(tmp, final);
  if (sync) await fs.syncDir(dir);
  if (replacing) await retire(fs, dir, `.old-${name}`);
  return final;
}

export async function applyKeepPolicyIn(fs: CheckpointFs, dir: string, keep: KeepPolicy): Promise<string[]> {
  if (keep.last === undefined && keep.best === undefined) return [];
  const { basename } = await nodePath();
  const all = await listCheckpointsIn(fs, dir);
  const kept = new Set<string>();
  if (keep.last !== undefined) for (const c of all.slice(Math.max(0, all.length - keep.last))) kept.add(c.path);
  if (keep.best !== undefined) {
    const scored = all.filter((c) => c.metric !== undefined && Number.isFinite(c.metric)).sort(byMetric(keep.mode ?? 'min'));
    for (const c of scored.slice(0, keep.best)) kept.add(c.path);
  }
  const removed: string[] = [];
  for (const c of all) {
    if (kept.has(c.path)) continue;
    await retire(fs, dir, basename(c.path));
    removed.push(c.path);
  }
  return removed;
}

/** Delete checkpoints outside the policy: kept = the `last` most recent ∪ the `best` best by metric. */
export async function applyKeepPolicy(dir: string, keep: KeepPolicy): Promise<string[]> {
  const fs = await nodeCheckpointFs();
  if (!(await fs.exists(dir))) return [];
  await recoverDir(fs, dir, true);
  return applyKeepPolicyIn(fs, dir, keep);
}

/**
 * The checkpoint directory `dir` names: itself when it holds state.json (or, while a re-save
 * replaces it, the copy moved aside), else the latest checkpoint under it; null when none.
 */
export async function resolveCheckpoint(fs: CheckpointFs, dir: string): Promise<string | null> {
  const { basename, dirname, join } = await nodePath();
  if (await fs.exists(join(dir, STATE))) return dir;
  if (LIVE.test(basename(dir))) {
    const aside = join(dirname(dir), `.old-${basename(dir)}`);
    if (await fs.exists(join(aside, STATE))) return aside;
  }
  const all = await listCheckpointsIn(fs, dir);
  return all[all.length - 1]?.path ?? null;
}
