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
  /** Its weights go to model.safetensors. */
  model?: Module;
  /** Its state tensors go to optimizer.safetensors, the rest to state.json. */
  optimizer?: Optimizer;
  /** Its state dict goes to state.json. */
  scheduler?: Stateful;
  /** More stateful objects by name (GradScaler, accumulator, early stopping, ...). */
  others?: Record<string, Stateful>;
  /** The training step; names the directory (`checkpoint-<step>`). */
  step: number;
  /** The RNG state to restore (default: the global generator's state now). */
  rng?: {
    /** The seed (`manualSeed`). */
    seed: number;
    /** Random numbers drawn since seeding. */
    offset: number;
  };
  /** The metric keep-best ranks by (e.g. validation loss); a non-finite one is stored as none. */
  metric?: number;
  /** Anything else to save (JSON), returned by `loadCheckpoint`. */
  extra?: JsonValue;
  /** Which checkpoints to keep after this one is written (default: all). */
  keep?: KeepPolicy;
  /** fsync files and directories (default true; tests may turn it off). */
  fsync?: boolean;
  /** The file system to write through (default: Node's). */
  fs?: CheckpointFs;
}

/** A checkpoint on disk: its directory, step and (when recorded) metric. */
export interface CheckpointInfo {
  /** The checkpoint's directory (`<dir>/checkpoint-<step>`). */
  path: string;
  /** The step it was saved at. */
  step: number;
  /** The metric it was saved with, when finite. */
  metric?: number;
}

/** The objects `loadCheckpoint` restores in place (each optional), and whether to restore the RNG. */
export interface LoadCheckpointOptions {
  /** Receives the saved weights (names, shapes and dtypes must match, else a CheckpointError). */
  model?: Module;
  /** Receives the saved optimizer state (moments, step counts, hyperparameters). */
  optimizer?: Optimizer;
  /** Receives the saved scheduler state. */
  scheduler?: Stateful;
  /** Receive the states saved under the same names. */
  others?: Record<string, Stateful>;
  /** Restore the global RNG state (default true). */
  restoreRng?: boolean;
}

/** What `loadCheckpoint` read besides the restored objects: path, step, metric, RNG state and `extra`. */
export interface LoadedCheckpoint {
  /** The checkpoint directory read. */
  path: string;
  /** The step it was saved at. */
  step: number;
  /** The metric it was saved with, when finite. */
  metric?: number;
  /** The global generator's state at the save. */
  rng: {
    /** The seed (`manualSeed`). */
    seed: number;
    /** Random numbers drawn since seeding. */
    offset: number;
  };
  /** The `extra` value saved with it. */
  extra?: JsonValue;
}
