// The Trainer's options, what it reports after every step and evaluation, and its result.
import type { CompileStats, Tensor } from '@webgrad/core';
import type { Module } from '@webgrad/nn';
import type { GradScaler, JsonValue, Optimizer } from '@webgrad/optim';
import type { BestOptions } from './best.js';
import type { ProgressStream } from './progress.js';

/** A learning-rate scheduler the Trainer steps once per optimizer step (LrScheduler fits). */
export interface StepScheduler {
  /** Advances one optimizer step. */
  step(): number | void;
  /** The LR of the current step (shown in the progress bar and logged). */
  getLastLr(): number;
  /** A snapshot of the state, saved in checkpoints. */
  stateDict(): unknown;
  /** Restores a snapshot made by `stateDict()` (on resume). */
  loadStateDict(state: never): void;
}

/** Data to iterate: an array, a DataLoader, any (async) iterable. Re-iterated every epoch; a
 *  `setEpoch(n)` method, when present, is called first (a seeded shuffle per epoch). On resume, a
 *  `skip(n)` method, when present, is asked to pass over the n batches already used (else they are
 *  drawn and dropped). */
export type BatchSource<B> = (Iterable<B> | AsyncIterable<B>) & {
  /** Called with the epoch number before each pass (e.g. `DataLoader.setEpoch`: a new seeded order). */
  setEpoch?(epoch: number): void;
  /** On resume, passes over the first `n` batches of the epoch without producing them. */
  skip?(n: number): void | Promise<void>;
  /** Batches per pass; needed for `epochs`. */
  length?: number;
};

/** What `trainLoss` may return: the loss, or the loss with more per-step figures to log. */
export type LossOutput = Tensor | {
  /** The 0-d loss to backpropagate. */
  loss: Tensor;
  /** Per-step figures logged under their names (0-d tensors are read back with the loss). */
  metrics?: Record<string, Tensor | number>;
};

/** Something with state to checkpoint (LR schedulers, GradScaler, KL controllers, counters). */
export interface Stateful {
  /** A snapshot of the state, saved in checkpoints. */
  stateDict(): unknown;
  /** Restores a snapshot made by `stateDict()` (on resume). */
  loadStateDict(state: never): void;
}

/** Hooks the Trainer calls during a run. */
export interface TrainerCallbacks<B = unknown> {
  /** After every optimizer step. `trainer.stop()` stops the run as Ctrl-C does. */
  onStep?: (info: StepInfo, trainer: Trainer<B>) => void | Promise<void>;
  /** After every evaluation. */
  onEval?: (info: EvalRecord & { improved: boolean }, trainer: Trainer<B>) => void | Promise<void>;
  /** Once, with the result. */
  onEnd?: (result: TrainResult, trainer: Trainer<B>) => void | Promise<void>;
}

/** Everything a Trainer run needs: the model and optimizer (required), the data and loss, the length of the run, evaluation, "best", checkpoints and output. `B` is the batch type of `trainData`. */
export interface TrainerOptions<B = void> extends TrainerCallbacks<B> {
  /** The model trained; its weights go into every checkpoint and the best one is restorable. */
  model: Module;
  /** The optimizer stepped after every `gradAccumSteps` micro-batches; its state goes into checkpoints. */
  optimizer: Optimizer;
  /** Stepped after every optimizer step (attach it to the optimizer: `new LrScheduler(optimizer, schedule)`). */
  scheduler?: StepScheduler;
  /** Optimizer steps of the run (a resumed run continues up to it). Or give `epochs`. */
  steps?: number;
  /** Passes over `trainData` (needs its `length`): steps = epochs × ⌈length / gradAccumSteps⌉. */
  epochs?: number;
  /** Training batches; each is handed to `trainLoss`. Without it, `trainLoss()` draws its own batch. */
  trainData?: BatchSource<B>;
  /**
   * The loss of one batch (a 0-d tensor). Called inside the Trainer's memory scope in train mode:
   * tensors made here are freed after the step, so no `tidy` is needed.
   */
  trainLoss: (batch: B) => LossOutput;
  /** Micro-batches per optimizer step: their gradients are summed, each loss scaled by 1/k. */
  gradAccumSteps?: number;
  /** Clip the global gradient norm to this before each optimizer step (0 or undefined: no clipping). */
  gradClip?: number;
  /**
   * Dynamic loss scaling for 16-bit (autocast) training: each loss is multiplied by the scale
   * before backward, the gradients are unscaled before clipping, and a step whose gradients
   * overflowed is skipped while the scale backs off. Name it in `state` to checkpoint its scale.
   */
  gradScaler?: GradScaler;
  /** Evaluation data by split name; each split's loss is the mean of `evalLoss` over all its batches. */
  evalData?: Record<string, BatchSource<B>>;
  /** Loss of one batch of `split` (inside noGrad and a memory scope, in eval mode). A split's loss
   *  is the mean of these per-batch losses (a smaller last batch weighs as much as the others);
   *  without `evalData` it draws its own batch and is averaged over `evalIters` calls. */
  evalLoss?: (split: string, batch: B) => Tensor;
  /** Splits to evaluate without evalData (default ['train', 'val']). */
  splits?: readonly string[];
  /** Batches per split per evaluation without evalData (default 200). */
  evalIters?: number;
  /** More metrics per evaluation (accuracy, F1, exact match...), in eval mode under noGrad. */
  evalMetrics?: (trainer: Trainer<B>) => Record<string, number> | Promise<Record<string, number>>;
  /** Evaluate every this many steps (default 250; with epochs, once per epoch), and at the end. */
  evalInterval?: number;
  /** Which evaluation is the best (for the best checkpoint and early stopping alike). */
  best?: BestOptions;
  /** Checkpoints to keep: the last N and the best K by the monitored metric (default 1 and 1). */
  keep?: {
    /** The most recent checkpoints kept (default 1). */
    last?: number;
    /** The best checkpoints by the monitored metric kept (default 1). */
    best?: number;
  };
  /** Also save a checkpoint every this many steps (default: at improving evaluations and the end). */
  saveInterval?: number;
  /** More objects whose state goes into every checkpoint and comes back on resume, by name. */
  state?: Record<string, Stateful>;
  /** Tokens (or samples) per optimizer step, for the throughput figure. */
  itemsPerStep?: number;
  /** What the throughput counts (default 'tokens'). */
  itemsName?: string;
  /** Output directory: checkpoints/, metrics.jsonl, loss.svg. */
  outDir: string;
  /** Continue from the latest checkpoint in outDir/checkpoints when there is one. */
  resume?: boolean;
  /** Read the training loss back every this many steps (default 1). */
  logInterval?: number;
  /** Stored with every checkpoint (e.g. the model config and tokenizer). */
  checkpointExtra?: JsonValue;
  /** The run's settings, logged as a `config` record each time a run starts or resumes. */
  config?: JsonValue;
  /** Stop on SIGINT after saving a checkpoint (default true). */
  handleSigint?: boolean;
  /** fsync checkpoint files (default true). */
  fsync?: boolean;
  /** Where progress and messages go (default process.stdout). */
  stream?: ProgressStream;
  /** Force the progress bar's TTY mode on or off. */
  tty?: boolean;
  /** More callbacks (each hook of each is called in order, after the options' own). */
  callbacks?: TrainerCallbacks<B>[];
  /**
   * Run each training step through `compile` (default false): one eager step, two traced, then
   * replays of the recorded kernels (forward, backward, clipping, optimizer step). The loss and
   * metrics are read back and the scheduler stepped outside the compiled step. With gradient
   * accumulation a step is one compiled call over its micro-batches, drawn (and copied) first. Batches
   * must be tensors and JSON values (arrays, plain objects); a short last batch of an epoch is a
   * signature of its own. A step that cannot be replayed (a host read such as `item()` in
   * `trainLoss`, a number that changes between calls) runs eagerly after compile's one-line warning.
   * Not with `gradScaler` (a ValueError at construction); `metrics` must be tensors (a ValueError
   * at the first step). See the package README, "Compiled steps".
   */
  compile?: boolean;
}

/** What `onStep` receives after every optimizer step. */
export interface StepInfo {
  /** Optimizer steps completed. */
  step: number;
  /** Passes over trainData completed (0 without trainData). */
  epoch: number;
  /** The training loss of this step, when it was read back. */
  loss?: number;
  /** The step's other figures (from `trainLoss`'s `metrics`), when read back. */
  metrics?: Record<string, number>;
  /** The learning rate of this step. */
  lr: number;
}

/** One evaluation: its step, each split's mean loss, and the `evalMetrics` figures. */
export interface EvalRecord {
  /** Optimizer steps completed at the evaluation. */
  step: number;
  /** Each split's mean loss. */
  losses: Record<string, number>;
  /** What `evalMetrics` returned. */
  metrics?: Record<string, number>;
}

/** What `Trainer.run()` returns. */
export interface TrainResult {
  /** The step this run started from (> 0 when resumed). */
  startStep: number;
  /** Steps completed. */
  step: number;
  /** Passes over trainData completed. */
  epoch: number;
  /** Stopped by Ctrl-C or `stop()` (a checkpoint was saved). */
  interrupted: boolean;
  /** Stopped because the monitored metric stopped improving. */
  earlyStopped: boolean;
  /** Wall time of this run, evaluations and checkpoints included. */
  wallSeconds: number;
  /** Training steps only (evaluations and checkpoints excluded): time per step and throughput. */
  msPerStep: number;
  /** Items (`itemsPerStep` per step) per second of training. */
  itemsPerSecond: number;
  /** What itemsPerSecond counts (the `itemsName` option; default 'tokens'). */
  itemsName: string;
  /** Training losses read back in this run and earlier runs of the same output directory. */
  trainLosses: [number, number][];
  /** Every evaluation, in step order. */
  evals: EvalRecord[];
  /** The monitored metric's name, best value and the step it came from. */
  bestMetricName: string;
  /** The best value of the monitored metric. */
  bestMetric: number;
  /** The step of the best evaluation. */
  bestStep: number;
  /** Path of the checkpoint written last. */
  checkpoint: string | null;
  /** `<outDir>/metrics.jsonl`. */
  metricsPath: string;
  /** `<outDir>/loss.svg`. */
  plotPath: string;
  /** With `compile`: the compiled step's counters (calls, traces, replays, fallbacks, …). */
  compileStats?: CompileStats;
}

// The Trainer class is declared in trainer.ts; the type is imported here for the callbacks.
import type { Trainer } from './trainer.js';
