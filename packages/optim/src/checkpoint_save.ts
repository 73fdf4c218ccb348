// saveCheckpoint: gathers everything in memory first (tensors are read back from the device), then
// writes a temp directory in <dir> (tensor files, then state.json, each fsynced) and installs it
// as checkpoint-<step> the crash-safe way described in checkpoint_dir.ts, then applies retention.
import { getRngState } from '@webgrad/core';
import { serializeSafetensors, toSafetensorsBytes, type SafeTensorInput } from '@webgrad/nn';
import { applyKeepPolicyIn, checkpointName, install, recoverDir, tempName } from './checkpoint_dir.js';
import { CheckpointError } from './checkpoint_error.js';
import { nodeCheckpointFs, nodePath } from './checkpoint_fs.js';
import { MODEL, OPTIM, STATE, sealState, sha256, type FileRecord, type OptimizerMeta } from './checkpoint_state.js';
import type { SaveCheckpointOptions } from './checkpoint_types.js';
import { snapshotToSafe } from './tensor_io.js';

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Write a checkpoint for `opts.step` under `dir` (replacing one of the same step), then apply the retention policy. Returns its path. */
export async function saveCheckpoint(dir: string, opts: SaveCheckpointOptions): Promise<string> {
  if (!Number.isInteger(opts.step) || opts.step < 0) throw new CheckpointError('invalid', dir, `step must be a non-negative integer, got ${opts.step}`);
  if (opts.metric !== undefined && typeof opts.metric !== 'number') throw new CheckpointError('invalid', dir, `metric must be a number, got ${typeof opts.metric}`);
  const { join } = await nodePath();
  const final = join(dir, checkpointName(opts.step));
  const fs = opts.fs ?? (await nodeCheckpointFs());
  const sync = opts.fsync ?? true;

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
  const stateText = await sealState({
    format: 'webgrad-checkpoint', step: opts.step, metric: opts.metric, rng: opts.rng ?? getRngState(),
    optimizer, scheduler: opts.scheduler ? await opts.scheduler.stateDict() : undefined,
    others: Object.keys(others).length ? others : undefined, extra: opts.extra, files: records,
  }, join(final, STATE));

  try {
    await fs.mkdir(dir);
    await recoverDir(fs, dir, sync);
    const tmp = join(dir, tempName(opts.step));
    await fs.mkdir(tmp);
    for (const [name, bytes] of Object.entries(files)) await fs.writeFile(join(tmp, name), bytes, sync);
    await fs.writeFile(join(tmp, STATE), new TextEncoder().encode(stateText), sync);
    if (sync) await fs.syncDir(tmp);
    await install(fs, dir, tmp, opts.step, sync);
  } catch (cause) {
    await recoverDir(fs, dir, sync).catch(() => undefined);
    throw new CheckpointError('io', final, `writing failed: ${message(cause)}`, { cause });
  }
  if (opts.keep) {
    try {
      await applyKeepPolicyIn(fs, dir, opts.keep);
    } catch (cause) {
      throw new CheckpointError('io', dir, `the checkpoint was written, but deleting older ones failed: ${message(cause)}`, { cause });
    }
  }
  return final;
}
