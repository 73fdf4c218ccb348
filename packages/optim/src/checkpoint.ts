// Training checkpoints on disk (Node): model weights and optimizer state tensors as safetensors,
// everything else (step, optimizer hyperparameters and step counts, scheduler, RNG, extra) in
// state.json, which records each tensor file's length and SHA-256 and carries its own checksum.
//
// Layout:  <dir>/checkpoint-<step>/{model.safetensors, optimizer.safetensors, state.json}
//
//   checkpoint_save.ts   saveCheckpoint: gather in memory, write a temp directory, install it
//   checkpoint_dir.ts    naming, listing, retention, and the install that survives a kill anywhere
//   checkpoint_state.ts  state.json: checksum and schema
//   checkpoint_load.ts   loadCheckpoint: verify and parse everything, then apply
//   checkpoint_fs.ts     the file-system calls, replaceable (tests crash them)
export { CheckpointError, type CheckpointErrorCode } from './checkpoint_error.js';
export type { CheckpointFs } from './checkpoint_fs.js';
export type {
  CheckpointInfo, JsonValue, KeepPolicy, LoadCheckpointOptions, LoadedCheckpoint, SaveCheckpointOptions, Stateful,
} from './checkpoint_types.js';
export { applyKeepPolicy, bestCheckpoint, latestCheckpoint, listCheckpoints } from './checkpoint_dir.js';
export { saveCheckpoint } from './checkpoint_save.js';
export { loadCheckpoint } from './checkpoint_load.js';
