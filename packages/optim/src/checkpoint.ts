// Training checkpoints on disk (Node): model weights and optimizer state tensors as safetensors,
// everything else (step, optimizer hyperparameters and step counts, scheduler, RNG, extra) as JSON.
//
// Layout:  <dir>/checkpoint-<step>/{model.safetensors, optimizer.safetensors, state.json}
// state.json is written last and records each file's byte length and SHA-256, so a truncated or
// corrupted file is detected on load and reported as a CheckpointError naming it.
//
// Writes are atomic: files go to a temp directory in <dir>, each is fsynced, the directory is
// renamed into place and <dir> is fsynced. A crash mid-write leaves only a temp directory (cleaned
// by the next save) and never touches earlier checkpoints. Retention (keep the last N, keep the best
// K by a metric) runs only after the new checkpoint is in place.
import { getRngState, setRngState, WebgradError } from '@webgrad/core';
import {
  fromSafetensorsBytes, parseSafetensors, serializeSafetensors, toSafetensorsBytes, writeFileAtomic,
  type Module, type SafeTensorInput,
} from '@webgrad/nn';
import type { Optimizer, OptimizerStateDict, TensorSnapshot } from './optimizer.js';
import { safeToSnapshot, snapshotToSafe } from './tensor_io.js';

export type CheckpointErrorCode = 'not_found' | 'truncated' | 'corrupt' | 'mismatch' | 'io';

/** A checkpoint that cannot be written or read; `file` names the offending file. */
export class CheckpointError extends WebgradError {
  constructor(readonly code: CheckpointErrorCode, readonly file: string, detail: string, opts?: { cause?: unknown }) {
    super(`checkpoint file "${file}": ${detail}`);
    if (opts?.cause !== undefined) (this as { cause?: unknown }).cause = opts.cause;
  }
}

/** Anything with torch-style state: LR schedulers, GradScaler, GradientAccumulator, EarlyStopping, ... */
export interface Stateful {
  stateDict(): unknown;
  loadStateDict(state: never): void;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export interface KeepPolicy {
  /** Keep the N most recent checkpoints (by step). */
  last?: number;
  /** Keep the K best checkpoints by `metric`. */
  best?: number;
  /** 'min' (default): lower metric is better. */
  mode?: 'min' | 'max';
}

export interface SaveCheckpointOptions {
  model?: Module;
  optimizer?: Optimizer;
  scheduler?: Stateful;
  /** More stateful objects by name (GradScaler, accumulator, early stopping, ...). */
  others?: Record<string, Stateful>;
  step: number;
  /** The RNG state to restore (default: the global generator's state now). */
  rng?: { seed: number; offset: number };
  /** The metric keep-best ranks by (e.g. validation loss). */
  metric?: number;
  extra?: JsonValue;
  keep?: KeepPolicy;
  /** fsync files and directories (default true; tests may turn it off). */
  fsync?: boolean;
}

export interface CheckpointInfo {
  path: string;
  step: number;
  metric?: number;
}

export interface LoadCheckpointOptions {
  model?: Module;
  optimizer?: Optimizer;
  scheduler?: Stateful;
  others?: Record<string, Stateful>;
  /** Restore the global RNG state (default true). */
  restoreRng?: boolean;
}

export interface LoadedCheckpoint {
  path: string;
  step: number;
  metric?: number;
  rng: { seed: number; offset: number };
  extra?: JsonValue;
}

interface FileRecord { bytes: number; sha256: string }
interface OptimizerMeta {
  kind: string;
  paramGroups: OptimizerStateDict['paramGroups'];
  state: Record<string, { step: number; buffers: string[] }>;
}
interface StateJson {
  format: 'webgrad-checkpoint';
  version: 1;
  step: number;
  metric?: number;
  rng: { seed: number; offset: number };
  optimizer?: OptimizerMeta;
  scheduler?: unknown;
  others?: Record<string, unknown>;
  extra?: JsonValue;
  files: Record<string, FileRecord>;
}

const PREFIX = 'checkpoint-';
const STATE = 'state.json';
const MODEL = 'model.safetensors';
const OPTIM = 'optimizer.safetensors';

const nodeModule = (name: string): Promise<unknown> => import(name);
const fsP = async () => (await nodeModule('node:fs/promises')) as typeof import('node:fs/promises');
const pathM = async () => (await nodeModule('node:path')) as typeof import('node:path');
const cryptoM = async () => (await nodeModule('node:crypto')) as typeof import('node:crypto');

async function sha256(bytes: Uint8Array): Promise<string> {
  return (await cryptoM()).createHash('sha256').update(bytes).digest('hex');
}

async function fsyncDir(dir: string): Promise<void> {
  const fs = await fsP();
  try {
    const h = await fs.open(dir, 'r');
    try { await h.sync(); } finally { await h.close(); }
  } catch { /* not every platform can fsync a directory */ }
}

const checkpointName = (step: number) => `${PREFIX}${String(step).padStart(8, '0')}`;

/** Write a checkpoint for `opts.step` under `dir` atomically, then apply the retention policy. Returns its path. */
export async function saveCheckpoint(dir: string, opts: SaveCheckpointOptions): Promise<string> {
  const fs = await fsP();
  const path = await pathM();
  const doSync = opts.fsync ?? true;
  if (!Number.isInteger(opts.step) || opts.step < 0) throw new CheckpointError('io', dir, `step must be a non-negative integer, got ${opts.step}`);
  if (opts.metric !== undefined && typeof opts.metric !== 'number') throw new CheckpointError('io', dir, `metric must be a number, got ${typeof opts.metric}`);

  // Gather everything in memory first (reads from the device happen here).
  const files: Record<string, Uint8Array> = {};
  if (opts.model) files[MODEL] = await toSafetensorsBytes(opts.model);
  let optimizer: OptimizerMeta | undefined;
  if (opts.optimizer) {
    const sd = await opts.optimizer.stateDict();
    const tensors: Record<string, SafeTensorInput> = {};
    const state: OptimizerMeta['state'] = {};
    for (const [i, st] of Object.entries(sd.state)) {
      state[i] = { step: st.step, buffers: Object.keys(st.buffers) };
      for (const [name, snap] of Object.entries(st.buffers)) tensors[`${i}.${name}`] = snapshotToSafe(snap);
    }
    files[OPTIM] = serializeSafetensors(tensors, { format: 'webgrad-optimizer', kind: sd.kind });
    optimizer = { kind: sd.kind, paramGroups: sd.paramGroups, state };
  }
  const others: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(opts.others ?? {})) others[k] = await s.stateDict();
  const records: Record<string, FileRecord> = {};
  for (const [name, bytes] of Object.entries(files)) records[name] = { bytes: bytes.length, sha256: await sha256(bytes) };
  const state: StateJson = {
    format: 'webgrad-checkpoint', version: 1, step: opts.step, metric: opts.metric, rng: opts.rng ?? getRngState(),
    optimizer, scheduler: opts.scheduler ? await opts.scheduler.stateDict() : undefined,
    others: Object.keys(others).length ? others : undefined, extra: opts.extra, files: records,
  };
  const stateBytes = new TextEncoder().encode(JSON.stringify(state, null, 1));

  await fs.mkdir(dir, { recursive: true });
  await removeStale(dir);
  const final = path.join(dir, checkpointName(opts.step));
  const tmp = path.join(dir, `.tmp-${checkpointName(opts.step)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    await fs.mkdir(tmp);
    for (const [name, bytes] of Object.entries(files)) await writeFileAtomic(path.join(tmp, name), bytes, { fsync: doSync });
    await writeFileAtomic(path.join(tmp, STATE), stateBytes, { fsync: doSync });
    if (doSync) await fsyncDir(tmp);
    let old: string | null = null;
    if (await exists(final)) {
      old = path.join(dir, `.old-${checkpointName(opts.step)}-${Math.random().toString(36).slice(2, 8)}`);
      await fs.rename(final, old);
    }
    await fs.rename(tmp, final);
    if (doSync) await fsyncDir(dir);
    if (old) await fs.rm(old, { recursive: true, force: true });
  } catch (cause) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    if (cause instanceof CheckpointError) throw cause;
    throw new CheckpointError('io', final, `writing failed: ${(cause as Error).message}`, { cause });
  }
  if (opts.keep) await applyKeepPolicy(dir, opts.keep);
  return final;
}

async function exists(p: string): Promise<boolean> {
  try { await (await fsP()).stat(p); return true; } catch { return false; }
}

/** Remove temp directories left by interrupted saves. */
async function removeStale(dir: string): Promise<void> {
  const fs = await fsP();
  const path = await pathM();
  for (const e of await fs.readdir(dir)) {
    if (e.startsWith(`.tmp-${PREFIX}`) || e.startsWith(`.old-${PREFIX}`)) await fs.rm(path.join(dir, e), { recursive: true, force: true });
  }
}

/** Checkpoints under `dir`, oldest step first (a checkpoint whose state.json is unreadable has no metric). */
export async function listCheckpoints(dir: string): Promise<CheckpointInfo[]> {
  const fs = await fsP();
  const path = await pathM();
  let entries: string[];
  try { entries = await fs.readdir(dir); } catch { return []; }
  const out: CheckpointInfo[] = [];
  for (const e of entries) {
    const m = /^checkpoint-(\d+)$/.exec(e);
    if (!m) continue;
    const p = path.join(dir, e);
    const info: CheckpointInfo = { path: p, step: Number(m[1]) };
    try {
      const s = JSON.parse(await fs.readFile(path.join(p, STATE), 'utf8')) as StateJson;
      if (typeof s.metric === 'number') info.metric = s.metric;
    } catch { /* listed without a metric */ }
    out.push(info);
  }
  return out.sort((a, b) => a.step - b.step);
}

export async function latestCheckpoint(dir: string): Promise<CheckpointInfo | null> {
  const all = await listCheckpoints(dir);
  return all[all.length - 1] ?? null;
}

export async function bestCheckpoint(dir: string, mode: 'min' | 'max' = 'min'): Promise<CheckpointInfo | null> {
  const scored = (await listCheckpoints(dir)).filter((c) => c.metric !== undefined && Number.isFinite(c.metric));
  scored.sort((a, b) => (mode === 'min' ? a.metric! - b.metric! : b.metric! - a.metric!) || b.step - a.step);
  return scored[0] ?? null;
}

/** Delete checkpoints outside the policy: kept = the `last` most recent ∪ the `best` best by metric. */
export async function applyKeepPolicy(dir: string, keep: KeepPolicy): Promise<string[]> {
  if (keep.last === undefined && keep.best === undefined) return [];
  const all = await listCheckpoints(dir);
  const kept = new Set<string>();
  if (keep.last !== undefined) for (const c of all.slice(Math.max(0, all.length - keep.last))) kept.add(c.path);
  if (keep.best !== undefined) {
    const mode = keep.mode ?? 'min';
    const scored = all.filter((c) => c.metric !== undefined && Number.isFinite(c.metric));
    scored.sort((a, b) => (mode === 'min' ? a.metric! - b.metric! : b.metric! - a.metric!) || b.step - a.step);
    for (const c of scored.slice(0, keep.best)) kept.add(c.path);
  }
  const fs = await fsP();
  const removed: string[] = [];
  for (const c of all) {
    if (kept.has(c.path)) continue;
    await fs.rm(c.path, { recursive: true, force: true });
    removed.push(c.path);
  }
  return removed;
}

async function readVerified(file: string, rec: FileRecord | undefined): Promise<Uint8Array> {
  const fs = await fsP();
  let buf: Buffer;
  try { buf = await fs.readFile(file); } catch (cause) {
    throw new CheckpointError('not_found', file, `cannot be read: ${(cause as Error).message}`, { cause });
  }
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (!rec) throw new CheckpointError('corrupt', file, 'is not listed in state.json');
  if (bytes.length < rec.bytes) throw new CheckpointError('truncated', file, `is truncated: ${bytes.length} bytes, expected ${rec.bytes}`);
  if (bytes.length > rec.bytes) throw new CheckpointError('corrupt', file, `has ${bytes.length} bytes, expected ${rec.bytes}`);
  if ((await sha256(bytes)) !== rec.sha256) throw new CheckpointError('corrupt', file, 'is corrupted: its SHA-256 does not match state.json');
  return bytes;
}

/** Resolve `dir` to a checkpoint directory: itself when it holds state.json, else its latest checkpoint. */
async function resolve(dir: string): Promise<string> {
  const path = await pathM();
  if (await exists(path.join(dir, STATE))) return dir;
  const latest = await latestCheckpoint(dir);
  if (!latest) throw new CheckpointError('not_found', path.join(dir, STATE), 'no checkpoint here (neither a state.json nor checkpoint-* directories)');
  return latest.path;
}

/**
 * Restore a checkpoint into the given objects (model weights, optimizer state, scheduler, others)
 * and, by default, the global RNG. `dir` is a checkpoint directory or a directory of checkpoints
 * (the latest is taken). Every file is verified and parsed before anything is changed.
 */
export async function loadCheckpoint(dir: string, opts: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const fs = await fsP();
  const path = await pathM();
  const ckpt = await resolve(dir);
  const statePath = path.join(ckpt, STATE);
  let state: StateJson;
  try {
    state = JSON.parse(await fs.readFile(statePath, 'utf8')) as StateJson;
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'not_found' : 'corrupt';
    throw new CheckpointError(code, statePath, code === 'not_found' ? 'is missing' : `is not valid JSON (truncated or corrupted): ${(cause as Error).message}`, { cause });
  }
  if (state?.format !== 'webgrad-checkpoint' || state.version !== 1 || typeof state.files !== 'object' || !Number.isInteger(state.step)) {
    throw new CheckpointError('corrupt', statePath, 'is not a webgrad checkpoint state (format/version/files/step missing)');
  }

  // Verify and parse everything first.
  let modelBytes: Uint8Array | null = null;
  if (opts.model) {
    const file = path.join(ckpt, MODEL);
    if (!state.files[MODEL]) throw new CheckpointError('mismatch', file, 'the checkpoint has no model weights');
    modelBytes = await readVerified(file, state.files[MODEL]);
    const parsed = wrapParse(file, () => parseSafetensors(modelBytes!, { source: file }));
    const own = opts.model.stateDict();
    const missing = Object.keys(own).filter((k) => !(k in parsed.tensors));
    const unexpected = Object.keys(parsed.tensors).filter((k) => !(k in own));
    const shapes = Object.entries(own).filter(([k, t]) => parsed.tensors[k] && parsed.tensors[k]!.shape.join() !== t.shape.join()).map(([k]) => k);
    if (missing.length || unexpected.length || shapes.length) {
      throw new CheckpointError('mismatch', file, `does not fit the model:${missing.length ? ` missing ${missing.join(', ')};` : ''}${unexpected.length ? ` unexpected ${unexpected.join(', ')};` : ''}${shapes.length ? ` shape differs for ${shapes.join(', ')}` : ''}`);
    }
  }
  let optimState: OptimizerStateDict | null = null;
  if (opts.optimizer) {
    const file = path.join(ckpt, OPTIM);
    if (!state.optimizer || !state.files[OPTIM]) throw new CheckpointError('mismatch', file, 'the checkpoint has no optimizer state');
    const parsed = wrapParse(file, async () => parseSafetensors(await readVerified(file, state.files[OPTIM]), { source: file }));
    const tensors = (await parsed).tensors;
    const st: OptimizerStateDict['state'] = {};
    for (const [i, s] of Object.entries(state.optimizer.state)) {
      const buffers: Record<string, TensorSnapshot> = {};
      for (const name of s.buffers) {
        const view = tensors[`${i}.${name}`];
        const snap = view ? safeToSnapshot(view) : null;
        if (!snap) throw new CheckpointError('corrupt', file, `tensor ${i}.${name} is missing or has an unsupported dtype`);
        buffers[name] = snap;
      }
      st[i] = { step: s.step, buffers };
    }
    optimState = { kind: state.optimizer.kind, paramGroups: state.optimizer.paramGroups, state: st };
  }
  for (const k of Object.keys(opts.others ?? {})) {
    if (!state.others || !(k in state.others)) throw new CheckpointError('mismatch', statePath, `has no state for '${k}'`);
  }
  if (opts.scheduler && state.scheduler === undefined) throw new CheckpointError('mismatch', statePath, 'has no scheduler state');

  // Apply. The optimizer validates fully before changing anything, so it goes first.
  if (opts.optimizer && optimState) {
    try { opts.optimizer.loadStateDict(optimState); } catch (cause) {
      throw new CheckpointError('mismatch', path.join(ckpt, OPTIM), `does not fit the optimizer: ${(cause as Error).message}`, { cause });
    }
  }
  if (opts.model && modelBytes) fromSafetensorsBytes(opts.model, modelBytes, { source: path.join(ckpt, MODEL) });
  if (opts.scheduler) opts.scheduler.loadStateDict(state.scheduler as never);
  for (const [k, s] of Object.entries(opts.others ?? {})) s.loadStateDict(state.others![k] as never);
  if (opts.restoreRng ?? true) setRngState(state.rng);
  return { path: ckpt, step: state.step, metric: state.metric, rng: state.rng, extra: state.extra };
}

function wrapParse<T>(file: string, fn: () => T): T {
  const fail = (cause: unknown): never => {
    if (cause instanceof CheckpointError) throw cause;
    throw new CheckpointError('corrupt', file, `is not a valid safetensors file: ${(cause as Error).message}`, { cause });
  };
  try {
    const r = fn();
    return (r instanceof Promise ? r.catch(fail) : r) as T;
  } catch (cause) {
    return fail(cause);
  }
}
