// The public shapes of the checkpoint API: what saveCheckpoint and loadCheckpoint take and return.
import type { Module } from '@webgrad/nn';
import type { CheckpointFs } from './checkpoint_fs.js';
import type { Optimizer } from './optimizer.js';

/** Anything with torch-style state: LR schedulers, GradScaler, GradientAccumulator, EarlyStopping, ... */
export interface Stateful {
  /** A snapshot of the state (plain data that survives JSON or structuredClone). */
  stateDict(): unknown;
  /** Restores a snapshot made by `stateDict()`. */
  loadStateDict(state: never): void;
}

/** A value that survives JSON.stringify / JSON.parse unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** Which checkpoints `saveCheckpoint` keeps after writing one: the union of the `last` most recent and the `best` best by metric; with neither, all. */
export interface KeepPolicy {
  /** Keep the N most recent checkpoints (by step). */
  last?: number;
  /** Keep the K best checkpoints by `metric`. */
  best?: number;
  /** 'min' (default): lower metric is better. */
  mode?: 'min' | 'max';
}

/** What `saveCheckpoint` writes: the objects to snapshot, the step, and the retention policy. */
export interface SaveCheckpointOptions {
  model?: Module;
  optimizer?: Optimizer;
  scheduler?: Stateful;
  /** More stateful objects by name (GradScaler, accumulator, early stopping, ...). */
  others?: Record<string, Stateful>;
  step: number;
  /** The RNG state to restore (default: the global generator's state now). */
  rng?: { seed: number; offset: number };
  /** The metric keep-best ranks by (e.g. validation loss); a non-finite one is stored as none. */
  metric?: number;
  extra?: JsonValue;
  keep?: KeepPolicy;
  /** fsync files and directories (default true; tests may turn it off). */
  fsync?: boolean;
  /** The file system to write through (default: Node's). */
  fs?: CheckpointFs;
}

/** A checkpoint on disk: its directory, step and (when recorded) metric. */
export interface CheckpointInfo {
  path: string;
  step: number;
  metric?: number;
}

/** The objects `loadCheckpoint` restores in place (each optional), and whether to restore the RNG. */
export interface LoadCheckpointOptions {
  model?: Module;
  optimizer?: Optimizer;
  scheduler?: Stateful;
  others?: Record<string, Stateful>;
  /** Restore the global RNG state (default true). */
  restoreRng?: boolean;
}

/** What `loadCheckpoint` read besides the restored objects: path, step, metric, RNG state and `extra`. */
export interface LoadedCheckpoint {
  path: string;
  step: number;
  metric?: number;
  rng: { seed: number; offset: number };
  extra?: JsonValue;
}
