// The training settings the preference trainers share (Hugging Face's TrainingArguments, in the
// names of @webgrad/train's Trainer), their checks, and the optimizer and learning-rate schedule
// built from them when the caller brings none: AdamW and, as Hugging Face's default, a linear
// decay to 0 after an optional linear warmup.
import { ValueError, checkBool, checkEnum, checkInt, checkOptions, checkRange, checkSize, fmtValue, type Tensor } from '@webgrad/core';
import type { Module } from '@webgrad/nn';
import { AdamW, LrScheduler, constantLr, cosineWithWarmup, linearDecay, linearWarmup, type JsonValue, type Optimizer } from '@webgrad/optim';
import type { BestOptions, ProgressStream, StepScheduler, TrainerCallbacks } from '@webgrad/train';
import type { PreferenceBatch } from './preference_data.js';

/** The learning-rate schedule after warmup (Hugging Face's `lr_scheduler_type`): 'linear' decay to 0, 'constant', or 'cosine' decay to 0. */
export type LrScheduleType = 'linear' | 'constant' | 'cosine';

/** Settings of a training run (TRL's configs extend Hugging Face's TrainingArguments likewise). */
export interface TrainingArgs {
  /** Output directory: checkpoints/, the Trainer's metrics.jsonl and loss.svg. */
  outDir: string;
  /** Optimizer steps (TRL's `max_steps`). Give this or `epochs` (default: 1 epoch). */
  steps?: number;
  /** Passes over the training pairs (`num_train_epochs`). */
  epochs?: number;
  /** Pairs per micro-batch (`per_device_train_batch_size`; default 8). */
  batchSize?: number;
  /** Pairs per evaluation batch (default: batchSize). */
  evalBatchSize?: number;
  /** Micro-batches per optimizer step (default 1). */
  gradAccumSteps?: number;
  /** Peak learning rate of the AdamW built when no optimizer is given (default: the trainer's). */
  learningRate?: number;
  /** AdamW weight decay (default 0, as Hugging Face's). */
  weightDecay?: number;
  /** AdamW betas (default [0.9, 0.999]). */
  adamBetas?: [number, number];
  /** Learning-rate schedule when no scheduler is given: 'linear' decay to 0 (default), 'constant', 'cosine'. */
  lrSchedule?: LrScheduleType;
  /** Linear warmup steps before the schedule (default 0). */
  warmupSteps?: number;
  /** Clip the global gradient norm to this (default 1, Hugging Face's; null or 0: off). */
  maxGradNorm?: number | null;
  /** Evaluate every this many steps (default: once per epoch with `epochs`, else every 250), and at the end. */
  evalInterval?: number;
  /** Read back and log the training metrics every this many steps (default 10). */
  logInterval?: number;
  /** Seed of the per-epoch shuffle of the training pairs (default 42). */
  seed?: number;
  /** Shuffle the training pairs each epoch (default true). */
  shuffle?: boolean;
  /** Continue from the latest checkpoint in outDir/checkpoints. */
  resume?: boolean;
  /** Which evaluation is the best (the best checkpoint and early stopping), e.g.
   *  `{ metric: 'eval_rewards/accuracies', mode: 'max' }`; default the eval loss. */
  best?: BestOptions;
  /** Checkpoints to keep: the last N and the best K (default 1 and 1). */
  keep?: {
    /** The most recent checkpoints kept (default 1). */
    last?: number;
    /** The best checkpoints by the monitored metric kept (default 1). */
    best?: number;
  };
  /** Stored with every checkpoint (e.g. the model config and the tokenizer). */
  checkpointExtra?: JsonValue;
  /** The run's settings, logged as a `config` record. */
  runConfig?: JsonValue;
  /** Where progress and messages go (default process.stdout). */
  stream?: ProgressStream;
  /** Draw the progress bar in place (default: the stream's isTTY). */
  tty?: boolean;
  /** fsync checkpoint files (default true). */
  fsync?: boolean;
  /** Stop on Ctrl-C after saving a checkpoint (default true). */
  handleSigint?: boolean;
  /** The Trainer's callbacks (onStep, onEval, onEnd). */
  callbacks?: TrainerCallbacks<PreferenceBatch>[];
}

export const TRAINING_ARGS_KEYS = [
  'outDir', 'steps', 'epochs', 'batchSize', 'evalBatchSize', 'gradAccumSteps', 'learningRate', 'weightDecay', 'adamBetas', 'lrSchedule',
  'warmupSteps', 'maxGradNorm', 'evalInterval', 'logInterval', 'seed', 'shuffle', 'resume', 'best', 'keep', 'checkpointExtra', 'runConfig',
  'stream', 'tty', 'fsync', 'handleSigint', 'callbacks',
] as const;

/** Check the shared settings of `cfg` (whose other keys are the trainer's own `extraKeys`). */
export function checkTrainingArgs(op: string, cfg: TrainingArgs, extraKeys: readonly string[]): void {
  if (cfg === undefined || cfg === null || typeof cfg !== 'object') throw new ValueError(`${op}: config must be an object with at least { outDir }, got ${fmtValue(cfg)}`);
  checkOptions(op, cfg, [...TRAINING_ARGS_KEYS, ...extraKeys], 'config');
  if (typeof cfg.outDir !== 'string' || cfg.outDir === '') throw new ValueError(`${op}: config.outDir must be a directory path, got ${fmtValue(cfg.outDir)}`);
  if (cfg.steps !== undefined && cfg.epochs !== undefined) throw new ValueError(`${op}: give config.steps or config.epochs, not both`);
  if (cfg.steps !== undefined) checkSize(op, 'config.steps', cfg.steps);
  if (cfg.epochs !== undefined) checkSize(op, 'config.epochs', cfg.epochs);
  for (const k of ['batchSize', 'evalBatchSize', 'gradAccumSteps', 'evalInterval', 'logInterval'] as const) if (cfg[k] !== undefined) checkSize(op, `config.${k}`, cfg[k], 1);
  if (cfg.warmupSteps !== undefined) checkSize(op, 'config.warmupSteps', cfg.warmupSteps);
  if (cfg.learningRate !== undefined) checkRange(op, 'config.learningRate', cfg.learningRate, 0, Infinity, { lo: true });
  if (cfg.weightDecay !== undefined) checkRange(op, 'config.weightDecay', cfg.weightDecay, 0, Infinity);
  if (cfg.adamBetas !== undefined) {
    if (!Array.isArray(cfg.adamBetas) || cfg.adamBetas.length !== 2) throw new ValueError(`${op}: config.adamBetas must be [beta1, beta2], got ${fmtValue(cfg.adamBetas)}`);
    cfg.adamBetas.forEach((b, i) => checkRange(op, `config.adamBetas[${i}]`, b, 0, 1, { hi: true }));
  }
  if (cfg.lrSchedule !== undefined) checkEnum(op, 'config.lrSchedule', cfg.lrSchedule, ['linear', 'constant', 'cosine']);
  if (cfg.maxGradNorm !== undefined && cfg.maxGradNorm !== null) checkRange(op, 'config.maxGradNorm', cfg.maxGradNorm, 0, Infinity);
  if (cfg.seed !== undefined) checkInt(op, 'config.seed', cfg.seed);
  for (const k of ['shuffle', 'resume', 'tty', 'fsync', 'handleSigint'] as const) if (cfg[k] !== undefined) checkBool(op, `config.${k}`, cfg[k]);
  if (cfg.callbacks !== undefined && !Array.isArray(cfg.callbacks)) throw new ValueError(`${op}: config.callbacks must be an array of { onStep?, onEval?, onEnd? }, got ${fmtValue(cfg.callbacks)}`);
}

/** Optimizer steps of a run over `batches` micro-batches per epoch. */
export function totalSteps(cfg: TrainingArgs, batches: number): number {
  if (cfg.steps !== undefined) return cfg.steps;
  return (cfg.epochs ?? 1) * Math.ceil(batches / (cfg.gradAccumSteps ?? 1));
}

/** The trainable parameters of `model` (those that require gradients). */
export function trainableParameters(model: Module): Tensor[] {
  return model.parameters().filter((p) => p.requiresGrad);
}

/** AdamW over the model's trainable parameters with the config's learning rate, weight decay and betas. */
export function defaultOptimizer(model: Module, cfg: TrainingArgs, defaultLr: number): Optimizer {
  const params = trainableParameters(model);
  if (params.length === 0) throw new ValueError('the model has no trainable parameters (every parameter has requiresGrad false)');
  return new AdamW(params, { lr: cfg.learningRate ?? defaultLr, weightDecay: cfg.weightDecay ?? 0, betas: cfg.adamBetas ?? [0.9, 0.999] });
}

/** The config's schedule over `steps` optimizer steps, attached to `optimizer`. */
export function defaultScheduler(optimizer: Optimizer, cfg: TrainingArgs, steps: number): StepScheduler {
  const lr = optimizer.paramGroups[0]!.lr;
  const warmupSteps = cfg.warmupSteps ?? 0;
  const kind = cfg.lrSchedule ?? 'linear';
  const schedule = kind === 'linear' ? linearDecay({ lr, totalSteps: Math.max(1, steps), warmupSteps })
    : kind === 'cosine' ? cosineWithWarmup({ lr, warmupSteps, decaySteps: Math.max(steps, warmupSteps + 1) })
      : warmupSteps > 0 ? linearWarmup({ lr, warmupSteps }) : constantLr({ lr });
  return new LrScheduler(optimizer, schedule);
}
