// loadCheckpoint: verify and parse everything first, then change the objects.
//
// Phase 1 changes nothing: state.json's checksum and schema; each tensor file's length and SHA-256;
// the model file against the model (names, shapes, dtypes); the optimizer state against the
// optimizer (kind, groups, hyperparameter types, state tensors); the scheduler's and others'
// entries against the shape of their current state. Phase 2 loads the scheduler and others first,
// each with its previous state kept so that all of them are put back if one refuses its entry;
// then the optimizer and the model, which phase 1 checked as fully as they check themselves; then
// the RNG.
import { isFloat, setRngState } from '@webgrad/core';
import { fromSafetensorsBytes, parseSafetensors, type Module, type ParsedSafetensors, type SafeDType } from '@webgrad/nn';
import { resolveCheckpoint } from './checkpoint_dir.js';
import { CheckpointError } from './checkpoint_error.js';
import { nodeCheckpointFs, nodePath, type CheckpointFs } from './checkpoint_fs.js';
import { MODEL, OPTIM, STATE, parseState, sha256, type FileRecord, type StateJson } from './checkpoint_state.js';
import type { LoadCheckpointOptions, LoadedCheckpoint, Stateful } from './checkpoint_types.js';
import type { Optimizer, OptimizerStateDict, TensorSnapshot } from './optimizer.js';
import { safeToSnapshot } from './tensor_io.js';

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v));

async function readFile(fs: CheckpointFs, file: string): Promise<Uint8Array> {
  try { return await fs.readFile(file); } catch (cause) {
    throw new CheckpointError('not_found', file, `cannot be read: ${message(cause)}`, { cause });
  }
}

async function readVerified(fs: CheckpointFs, file: string, rec: FileRecord): Promise<Uint8Array> {
  const bytes = await readFile(fs, file);
  if (bytes.length < rec.bytes) throw new CheckpointError('truncated', file, `is truncated: ${bytes.length} bytes, expected ${rec.bytes}`);
  if (bytes.length > rec.bytes) throw new CheckpointError('corrupt', file, `has ${bytes.length} bytes, expected ${rec.bytes}`);
  if ((await sha256(bytes)) !== rec.sha256) throw new CheckpointError('corrupt', file, 'is corrupted: its SHA-256 does not match state.json');
  return bytes;
}

function parseTensors(file: string, bytes: Uint8Array): ParsedSafetensors {
  try { return parseSafetensors(bytes, { source: file }); } catch (cause) {
    throw new CheckpointError('corrupt', file, `is not a valid safetensors file: ${message(cause)}`, { cause });
  }
}

const FLOAT: readonly SafeDType[] = ['F64', 'F32', 'F16', 'BF16', 'F8_E5M2', 'F8_E4M3'];
const SAFE_OF = { float32: 'F32', float64: 'F64', float16: 'F16', bfloat16: 'BF16', int32: 'I32', bool: 'BOOL' } as const;

/** The model file's bytes, verified to load into `model`. */
async function checkModel(fs: CheckpointFs, ckpt: string, state: StateJson, model: Module, join: (...p: string[]) => string): Promise<Uint8Array> {
  const file = join(ckpt, MODEL);
  const rec = state.files[MODEL];
  if (!rec) throw new CheckpointError('mismatch', file, 'the checkpoint has no model weights');
  const bytes = await readVerified(fs, file, rec);
  const { tensors } = parseTensors(file, bytes);
  const own = model.stateDict();
  const missing = Object.keys(own).filter((k) => !(k in tensors));
  const unexpected = Object.keys(tensors).filter((k) => !(k in own));
  const shapes = Object.entries(own).filter(([k, t]) => tensors[k] && tensors[k]!.shape.join() !== t.shape.join()).map(([k]) => k);
  const dtypes = Object.entries(own).filter(([k, t]) => {
    const d = tensors[k]?.dtype;
    return d !== undefined && d !== SAFE_OF[t.dtype] && !(FLOAT.includes(d) && isFloat(t.dtype));
  }).map(([k]) => `${k} (${tensors[k]!.dtype} into ${own[k]!.dtype})`);
  if (missing.length || unexpected.length || shapes.length || dtypes.length) {
    throw new CheckpointError('mismatch', file, `does not fit the model:${missing.length ? ` missing weight ${missing.join(', ')};` : ''}${unexpected.length ? ` unexpected ${unexpected.join(', ')};` : ''}${shapes.length ? ` shape differs for ${shapes.join(', ')};` : ''}${dtypes.length ? ` dtype differs for ${dtypes.join(', ')}` : ''}`);
  }
  return bytes;
}

/** The optimizer's state dict, verified to load into `optimizer` (the checks its loadStateDict makes, and more). */
async function checkOptimizer(fs: CheckpointFs, ckpt: string, state: StateJson, optimizer: Optimizer, join: (...p: string[]) => string): Promise<OptimizerStateDict> {
  const statePath = join(ckpt, STATE);
  const file = join(ckpt, OPTIM);
  const meta = state.optimizer;
  const rec = state.files[OPTIM];
  if (!meta || !rec) throw new CheckpointError('mismatch', file, 'the checkpoint has no optimizer state');
  const mismatch = (field: string, detail: string): never => { throw new CheckpointError('mismatch', statePath, detail, { field }); };
  if (meta.kind !== optimizer.kind) mismatch('optimizer.kind', `the checkpoint holds ${meta.kind} state, the optimizer is ${optimizer.kind}`);
  if (meta.paramGroups.length !== optimizer.paramGroups.length) {
    mismatch('optimizer.paramGroups', `the checkpoint has ${meta.paramGroups.length} parameter groups, the optimizer ${optimizer.paramGroups.length}`);
  }
  meta.paramGroups.forEach((g, i) => {
    const own = optimizer.paramGroups[i]! as unknown as Record<string, unknown>;
    const n = (own.params as unknown[]).length;
    if (g.params.length !== n) mismatch(`optimizer.paramGroups[${i}].params`, `the checkpoint has ${g.params.length} parameters in group ${i}, the optimizer ${n}`);
    for (const [k, v] of Object.entries(g.hyper)) {
      const cur = own[k];
      if (cur === undefined || k === 'params') continue;
      const same = Array.isArray(cur) ? Array.isArray(v) && v.length === cur.length : typeof v === typeof cur;
      if (!same) mismatch(`optimizer.paramGroups[${i}].hyper.${k}`, `must be like the optimizer's ${show(cur)}, got ${show(v)}`);
    }
  });
  const params = optimizer.params();
  const { tensors } = parseTensors(file, await readVerified(fs, file, rec));
  const st: OptimizerStateDict['state'] = {};
  for (const [i, s] of Object.entries(meta.state)) {
    const p = params[Number(i)]!;
    const buffers: Record<string, TensorSnapshot> = {};
    for (const name of s.buffers) {
      const view = tensors[`${i}.${name}`];
      const snap = view ? safeToSnapshot(view) : null;
      if (!snap) throw new CheckpointError('corrupt', file, `tensor ${i}.${name} is missing or has an unsupported dtype`);
      if (snap.data.length !== p.size) {
        throw new CheckpointError('mismatch', file, `tensor ${i}.${name} has shape [${snap.shape.join(', ')}], parameter #${i} has [${p.shape.join(', ')}]`);
      }
      buffers[name] = snap;
    }
    st[i] = { step: s.step, buffers };
  }
  return { kind: meta.kind, paramGroups: meta.paramGroups, state: st };
}

/**
 * Check a saved Stateful entry against the object's current state: every value both have keeps its
 * kind (object, list, number, string, boolean; null stands for a non-finite number). Keys the
 * entry lacks are left to the object, which may treat them as optional.
 */
function checkLike(saved: unknown, current: unknown, field: string, fail: (field: string, detail: string) => never): void {
  if (current === null || current === undefined) return;
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v);
  const want = kind(current);
  const got = kind(saved);
  if (got !== want && !(want === 'number' && got === 'null')) fail(field, `must be a ${want === 'list' ? 'list' : want}, got ${show(saved)}`);
  if (want !== 'object') return;
  for (const [k, v] of Object.entries(current as Record<string, unknown>)) {
    if (v === undefined || !(k in (saved as object))) continue;
    checkLike((saved as Record<string, unknown>)[k], v, `${field}.${k}`, fail);
  }
}

function copyOf<T>(v: T): T {
  try { return structuredClone(v); } catch { return v; }
}

/**
 * Restore a checkpoint into the given objects (model weights, optimizer state, scheduler, others)
 * and, by default, the global RNG. `dir` is a checkpoint directory or a directory of checkpoints
 * (the latest is taken). A checkpoint that is damaged or does not fit throws a CheckpointError and
 * leaves every object as it was.
 */
export async function loadCheckpoint(dir: string, opts: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const fs = await nodeCheckpointFs();
  const { join } = await nodePath();
  const ckpt = await resolveCheckpoint(fs, dir);
  if (!ckpt) throw new CheckpointError('not_found', join(dir, STATE), 'no checkpoint here (neither a state.json nor checkpoint-* directories)');
  const statePath = join(ckpt, STATE);
  const state = await parseState(await readFile(fs, statePath), statePath);

  // Phase 1: verify and parse; nothing changes.
  const modelBytes = opts.model ? await checkModel(fs, ckpt, state, opts.model, join) : null;
  const optimState = opts.optimizer ? await checkOptimizer(fs, ckpt, state, opts.optimizer, join) : null;
  const mismatch = (field: string, detail: string): never => { throw new CheckpointError('mismatch', statePath, detail, { field }); };
  const entries: { field: string; target: Stateful; saved: unknown; before: unknown }[] = [];
  const add = async (field: string, target: Stateful, saved: unknown) => {
    if (saved === undefined) mismatch(field, 'is not in the checkpoint');
    const before = copyOf(await target.stateDict());
    checkLike(saved, before, field, mismatch);
    entries.push({ field, target, saved, before });
  };
  if (opts.scheduler) await add('scheduler', opts.scheduler, state.scheduler);
  for (const [k, s] of Object.entries(opts.others ?? {})) await add(`others.${k}`, s, state.others?.[k]);

  // Phase 2: apply.
  const undo: (() => void)[] = [];
  try {
    for (const { field, target, saved, before } of entries) {
      undo.push(() => target.loadStateDict(before as never));
      try { target.loadStateDict(copyOf(saved) as never); } catch (cause) {
        throw new CheckpointError('invalid', statePath, `is refused: ${message(cause)}`, { field, cause });
      }
    }
    if (opts.optimizer && optimState) {
      try { opts.optimizer.loadStateDict(optimState); } catch (cause) {
        throw new CheckpointError('mismatch', join(ckpt, OPTIM), `does not fit the optimizer: ${message(cause)}`, { cause });
      }
    }
    if (opts.model && modelBytes) {
      try { fromSafetensorsBytes(opts.model, modelBytes, { source: join(ckpt, MODEL) }); } catch (cause) {
        throw new CheckpointError('mismatch', join(ckpt, MODEL), `does not fit the model: ${message(cause)}`, { cause });
      }
    }
  } catch (e) {
    for (const u of undo.reverse()) { try { u(); } catch { /* the first error is the one to report */ } }
    throw e;
  }
  if (opts.restoreRng ?? true) setRngState(state.rng);
  return { path: ckpt, step: state.step, metric: state.metric ?? undefined, rng: state.rng, extra: state.extra };
}
