// How the online RL trainers (PPOTrainer, GRPOTrainer) run on @webgrad/train's Trainer: one
// *iteration* — sample completions of a batch of prompts, score them, compute what the updates
// need — is one Trainer epoch, whose batches are that iteration's optimizer updates (PPO: epochs ×
// minibatches; GRPO: μ). The Trainer brings the progress bar, metrics.jsonl, checkpoints (keep
// last/best), evaluation, Ctrl-C handling and resume; this loop adds the rollout statistics under
// TRL's metric names, one JSONL record per iteration in `outDir/train_metrics.jsonl`.
//
// Resume: the checkpoint's user extra holds the iterations done and the trainers' own state (the
// KL coefficient). Sampling is seeded per iteration and the Trainer restores the global RNG, so a
// run resumed from a checkpoint taken between iterations (every checkpoint except one written on
// an interrupt) takes the same steps as an uninterrupted one. An interrupt mid-iteration resumes
// by sampling that iteration's batch again with the weights of the checkpoint.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ValueError, checkBool, checkFinite, checkFunction, checkRange, checkSize, fmtValue, keep, type Tensor } from '@webgrad/core';
import type { GPT, Module } from '@webgrad/nn';
import { latestCheckpoint, loadCheckpoint, type JsonValue, type Optimizer } from '@webgrad/optim';
import {
  MetricsLog, Trainer, readMetrics, type BestOptions, type MetricsRecord, type ProgressStream, type StepScheduler, type TrainResult,
} from '@webgrad/train';
import { checkPrompts } from '../args.js';
import { permutation, seededRandom } from '../random.js';
import { generateRollouts, type Rollout } from '../rollout.js';
import { mean, meanStats, std } from '../stats.js';
import { hasEos, missingEosPenalty, scoreBatch, type BatchRewardFn } from './reward_functions.js';

/** Settings every online RL trainer shares: the loop, sampling, rewards and outputs. */
export interface RLLoopConfig {
  /** Iterations (sampled batches) of the run; a resumed run continues up to it. */
  iterations: number;
  /** Prompts sampled per iteration (default: all of them, at most 32), drawn without replacement. */
  promptsPerBatch?: number;
  /** Completion tokens at most. */
  maxNewTokens: number;
  /** Sampling temperature (default 1); log-probs are computed at the same temperature. */
  temperature?: number;
  /** Sample among the k most likely tokens only (default: all). */
  topK?: number | null;
  /** Sample within the nucleus of probability topP (default 1: all). */
  topP?: number | null;
  /** EOS token ids: a completion ends after one. */
  stopTokens?: readonly number[];
  /** Fills rows past their end (default 0); never trained on. */
  padToken?: number;
  /** Subtracted from the score of a completion with no stop token (TRL's missing_eos_penalty;
   *  default null: none). Needs stopTokens. */
  missingEosPenalty?: number | null;
  /** AdamW learning rate when no optimizer is given. */
  learningRate?: number;
  /** Global gradient-norm clip (default 1, TRL's max_grad_norm; null: off). */
  maxGradNorm?: number | null;
  /** Seeds prompt order, sampling and minibatch order (default 0). */
  seed?: number;
  /** Output directory: checkpoints/, metrics.jsonl, train_metrics.jsonl, loss.svg. */
  outDir: string;
  /** Continue from the latest checkpoint in outDir/checkpoints. */
  resume?: boolean;
  /** Extra evaluation metrics (e.g. a task's success rate on held-out prompts), under noGrad in
   *  eval mode, every `evalEvery` iterations, before the first and after the last. Needs `best`. */
  evalMetrics?: (trainer: Trainer<unknown>) => Record<string, number> | Promise<Record<string, number>>;
  /** Evaluate every this many iterations (default 10). */
  evalEvery?: number;
  /** Which evaluation is best (the best checkpoint, early stopping), e.g. { metric: 'accuracy', mode: 'max' }. */
  best?: BestOptions;
  /** Checkpoints to keep: the last N and the best K (default 1 and 1). */
  keep?: {
    /** The most recent checkpoints kept (default 1). */
    last?: number;
    /** The best checkpoints by the monitored metric kept (default 1). */
    best?: number;
  };
  /** Stepped after every optimizer step (default: none, a constant LR). */
  scheduler?: StepScheduler;
  /** Print a line of the main statistics every this many iterations (default 1; 0: never). */
  printEvery?: number;
  /** Where progress and messages go (default process.stdout). */
  stream?: ProgressStream;
  /** Draw the progress bar in place (default: the stream's isTTY). */
  tty?: boolean;
  /** Stop on Ctrl-C after saving a checkpoint (default true). */
  handleSigint?: boolean;
  /** fsync checkpoint files (default true). */
  fsync?: boolean;
}

export const RL_LOOP_KEYS = [
  'iterations', 'promptsPerBatch', 'maxNewTokens', 'temperature', 'topK', 'topP', 'stopTokens', 'padToken', 'missingEosPenalty',
  'learningRate', 'maxGradNorm', 'seed', 'outDir', 'resume', 'evalMetrics', 'evalEvery', 'best', 'keep', 'scheduler', 'printEvery', 'stream',
  'tty', 'handleSigint', 'fsync',
] as const;

/** Check the shared settings of `op`'s config (the caller checks the keys). */
export function checkRLLoopConfig(op: string, c: RLLoopConfig): void {
  checkSize(op, 'iterations', c.iterations, 0);
  checkSize(op, 'maxNewTokens', c.maxNewTokens, 1);
  if (c.promptsPerBatch !== undefined) checkSize(op, 'promptsPerBatch', c.promptsPerBatch, 1);
  if (c.temperature !== undefined) checkRange(op, 'temperature', c.temperature, 0, Infinity, { lo: true });
  if (c.topK != null) checkSize(op, 'topK', c.topK, 1);
  if (c.topP != null) checkRange(op, 'topP', c.topP, 0, 1, { lo: true });
  if (c.stopTokens !== undefined) {
    if (!Array.isArray(c.stopTokens)) throw new ValueError(`${op}: stopTokens must be an array of token ids, got ${fmtValue(c.stopTokens)}`);
    c.stopTokens.forEach((t, i) => checkSize(op, `stopTokens[${i}]`, t));
  }
  if (c.padToken !== undefined) checkSize(op, 'padToken', c.padToken);
  if (c.missingEosPenalty != null) {
    checkFinite(op, 'missingEosPenalty', c.missingEosPenalty);
    if (!c.stopTokens?.length) throw new ValueError(`${op}: missingEosPenalty needs stopTokens (the EOS ids)`);
  }
  if (c.learningRate !== undefined) checkRange(op, 'learningRate', c.learningRate, 0, Infinity, { lo: true });
  if (c.maxGradNorm != null) checkRange(op, 'maxGradNorm', c.maxGradNorm, 0, Infinity, { lo: true });
  if (c.seed !== undefined) checkSize(op, 'seed', c.seed);
  if (typeof c.outDir !== 'string' || c.outDir === '') throw new ValueError(`${op}: outDir must be a directory path, got ${fmtValue(c.outDir)}`);
  for (const k of ['resume', 'tty', 'handleSigint', 'fsync'] as const) if (c[k] !== undefined) checkBool(op, k, c[k]);
  if (c.evalMetrics !== undefined) {
    checkFunction(op, 'evalMetrics', c.evalMetrics);
    if (!c.best?.metric) throw new ValueError(`${op}: evalMetrics needs best: { metric, mode } naming one of its metrics`);
  }
  if (c.evalEvery !== undefined) checkSize(op, 'evalEvery', c.evalEvery, 1);
  if (c.printEvery !== undefined) checkSize(op, 'printEvery', c.printEvery, 0);
}

/** The prompts and reward of `op` (after its config was checked): they must fit the policy. Call
 *  before allocating anything. */
export function checkRLInputs(op: string, policy: GPT, prompts: readonly (readonly number[])[], reward: BatchRewardFn, c: RLLoopConfig): void {
  checkPrompts(op, prompts);
  checkFunction(op, 'reward', reward);
  const maxLen = Math.max(...prompts.map((p) => p.length));
  if (maxLen + c.maxNewTokens > policy.config.blockSize) {
    throw new ValueError(`${op}: the longest prompt (${maxLen} tokens) + maxNewTokens ${c.maxNewTokens} exceeds the policy's blockSize ${policy.config.blockSize}`);
  }
  if (c.promptsPerBatch !== undefined && c.promptsPerBatch > prompts.length) {
    throw new ValueError(`${op}: promptsPerBatch ${c.promptsPerBatch} exceeds the ${prompts.length} prompts given`);
  }
}

/** A sampled and scored batch: the rollout (owned by the caller) and its host-side scores. */
export interface ScoredRollout {
  /** The sampled sequences (owned by the caller). */
  rollout: Rollout;
  /** Scores after the missing-EOS penalty. */
  scores: number[];
  /** The reward's named per-row values. */
  components: Record<string, number[]>;
  /** How many completions emitted a stop token. */
  eosCount: number;
}

/** What a trainer does in each iteration, called by the loop. */
export interface RLIterationHooks<B> {
  /** Sample, score and prepare iteration `iteration` (rows of `prompts`); return the batch of each
   *  update and the rollout statistics. */
  prepare(iteration: number, prompts: number[]): Promise<PreparedIteration<B>>;
  /** The loss of one update and its 0-d statistics (called inside the Trainer's memory scope). */
  loss(batch: B, update: number): {
    /** 0-d loss of the update (differentiable). */
    loss: Tensor;
    /** 0-d statistics by name, logged as the iteration's means. */
    stats: Record<string, Tensor>;
  };
  /** Called with the iteration's record (and `rows`, the batch's row count) before it is logged
   *  (e.g. to adapt the KL coefficient). */
  finish?(record: Record<string, number>): void;
  /** The trainer's own state, saved with each checkpoint and given back on resume. */
  state?(): Record<string, JsonValue>;
  /** Restores the state saved by `state()` (on resume). */
  restore?(state: Record<string, JsonValue>): void;
  /** The statistics printed per iteration. */
  printed: readonly string[];
  /** Text fields of every record (e.g. { kl_estimator: 'k1' }). */
  labels?: Record<string, string>;
}

/** One iteration's sampled and scored data, prepared for its updates. */
export interface PreparedIteration<B> {
  /** Rollout statistics (host numbers), logged with the iteration's record; `rows` (the batch's
   *  row count) counts the episodes and is not logged. */
  stats: Record<string, number>;
  /** The k-th update's batch; the loop calls `release` on it after the update. */
  batch(k: number): B;
  /** Frees what `batch(k)` made. */
  release(batch: B): void;
  /** Free what the iteration holds. */
  dispose(): void;
}

/** What the loop saves with each checkpoint. */
interface LoopState { iterationsDone: number; episodes: number; trainer: Record<string, JsonValue> }

/** One batch the Trainer hands to the loss: which iteration and update, and the data. */
interface LoopBatch<B> { iteration: number; update: number; last: boolean; data: B | null }

/** What the RL trainers' `train()` returns. */
export interface RLTrainResult {
  /** The Trainer's result (steps, wall time, checkpoint, paths). */
  train: TrainResult;
  /** One record per iteration of this run and the runs it resumed (TRL metric names). */
  logHistory: MetricsRecord[];
  /** Path of train_metrics.jsonl. */
  trainMetricsPath: string;
}

/** The per-iteration loop on the Trainer, shared by the RL trainers. */
export class RLLoop<B> {
  /** The Trainer the iterations run on (one optimizer step per update). */
  readonly trainer: Trainer<LoopBatch<B>>;
  /** `<outDir>/train_metrics.jsonl`: one record per iteration. */
  readonly trainMetricsPath: string;
  /** One record per iteration of this run and the runs it resumed (TRL metric names). */
  readonly logHistory: MetricsRecord[] = [];
  readonly #state: LoopState;
  readonly #pending: Record<string, Tensor>[] = [];
  #prepared: PreparedIteration<B> | null = null;
  #last: LoopBatch<B> | null = null;
  #epoch = 0;
  readonly #log: MetricsLog;

  /**
   * @param op The trainer's name, for messages.
   * @param model What checkpoints hold (the policy, with the value model for PPO).
   * @param optimizer Steps the model's parameters.
   * @param policy The policy that samples.
   * @param prompts Prompt token ids.
   * @param reward Scores a batch of completions.
   * @param config The loop's settings.
   * @param updatesPerIteration Optimizer steps per sampled batch.
   * @param hooks What the trainer does in each iteration.
   */
  constructor(
    readonly op: string,
    readonly model: Module,
    readonly optimizer: Optimizer,
    readonly policy: GPT,
    readonly prompts: readonly (readonly number[])[],
    readonly reward: BatchRewardFn,
    readonly config: RLLoopConfig,
    readonly updatesPerIteration: number,
    readonly hooks: RLIterationHooks<B>,
    runConfig: JsonValue,
  ) {
    checkRLInputs(op, policy, prompts, reward, config);
    const c = config;
    this.#state = { iterationsDone: 0, episodes: 0, trainer: {} };
    this.trainMetricsPath = join(c.outDir, 'train_metrics.jsonl');
    this.#log = new MetricsLog(this.trainMetricsPath);
    const source = {
      length: updatesPerIteration,
      setEpoch: (e: number) => { this.#epoch = e; },
      [Symbol.asyncIterator]: () => this.#iterate(this.#epoch),
    };
    this.trainer = new Trainer<LoopBatch<B>>({
      model, optimizer, scheduler: c.scheduler, epochs: c.iterations, trainData: source,
      trainLoss: (b) => this.#loss(b),
      gradClip: c.maxGradNorm === undefined ? 1 : c.maxGradNorm ?? undefined,
      evalMetrics: c.evalMetrics as ((t: Trainer<LoopBatch<B>>) => Record<string, number>) | undefined,
      evalInterval: (c.evalEvery ?? 10) * updatesPerIteration,
      best: c.best, keep: c.keep, outDir: c.outDir, resume: c.resume, checkpointExtra: { rl: this.#state as unknown as JsonValue },
      config: runConfig, handleSigint: c.handleSigint, fsync: c.fsync, stream: c.stream, tty: c.tty, itemsName: 'updates',
      onStep: (info) => this.#afterStep(info.step, info.lr),
    });
  }

  /** Prompt indices of iteration `e`: the first promptsPerBatch of a permutation seeded by (seed, e). */
  promptsOf(e: number): number[] {
    const n = this.prompts.length;
    const P = this.config.promptsPerBatch ?? Math.min(n, 32);
    if (P === n) return Array.from({ length: n }, (_, i) => i);
    return permutation(n, seededRandom(iterationSeed(this.config.seed ?? 0, e, 1))).slice(0, P);
  }

  /** Sample `numGenerations` completions of each prompt index and score them (penalty applied). */
  async sampleAndScore(iteration: number, promptIdx: readonly number[], numGenerations: number): Promise<ScoredRollout> {
    const c = this.config;
    const rollout = await generateRollouts(this.policy, promptIdx.map((i) => this.prompts[i]!), {
      maxNewTokens: c.maxNewTokens, numGenerations, temperature: c.temperature, topK: c.topK, topP: c.topP,
      stopTokens: c.stopTokens, padToken: c.padToken, seed: iterationSeed(c.seed ?? 0, iteration, 2),
    });
    try {
      const promptIndex = rollout.promptIndex.map((k) => promptIdx[k]!);
      const scored = await scoreBatch(this.op, this.reward, { prompts: rollout.prompts, completions: rollout.completions, promptIndex });
      const eos = c.stopTokens ?? [];
      const scores = c.missingEosPenalty != null ? missingEosPenalty(scored.scores, rollout.completions, eos, c.missingEosPenalty) : scored.scores;
      const eosCount = eos.length ? rollout.completions.filter((x) => hasEos(x, eos)).length : 0;
      return { rollout, scores, components: scored.components ?? {}, eosCount };
    } catch (e) {
      rollout.dispose();
      throw e;
    }
  }

  /** Statistics every trainer logs for a scored batch: each reward component's mean and std. */
  static componentStats(s: ScoredRollout): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(s.components)) { out[`rewards/${k}/mean`] = mean(v); out[`rewards/${k}/std`] = std(v); }
    return out;
  }

  async *#iterate(e: number): AsyncGenerator<LoopBatch<B>> {
    const U = this.updatesPerIteration;
    if (e < this.#state.iterationsDone) {
      // Resuming: the Trainer skips the updates of an iteration the checkpoint already holds.
      for (let k = 0; k < U; k++) yield { iteration: e, update: k, last: k === U - 1, data: null };
      return;
    }
    const prepared = await this.hooks.prepare(e, this.promptsOf(e));
    this.#prepared = prepared;
    let current: B | null = null;
    try {
      for (let k = 0; k < U; k++) {
        current = prepared.batch(k);
        yield { iteration: e, update: k, last: k === U - 1, data: current };
        prepared.release(current);
        current = null;
      }
    } finally {
      if (current !== null) prepared.release(current);
      prepared.dispose();
    }
  }

  #loss(b: LoopBatch<B>): Tensor {
    if (b.data === null) throw new ValueError(`${this.op}: internal: an update of a finished iteration was trained on`);
    this.#last = b;
    const { loss, stats } = this.hooks.loss(b.data, b.update);
    const kept: Record<string, Tensor> = { loss: keep(loss.detach()) };
    for (const [k, t] of Object.entries(stats)) kept[k] = keep(t.detach());
    this.#pending.push(kept);
    return loss;
  }

  async #afterStep(step: number, lr: number): Promise<void> {
    const b = this.#last;
    if (!b?.last || !this.#prepared) return;
    const updates = await meanStats(this.#pending.splice(0));
    const rollout = this.#prepared.stats;
    this.#state.iterationsDone = b.iteration + 1;
    this.#state.episodes += rollout.rows ?? 0;
    const record: Record<string, number> = { ...rollout, ...updates, iteration: b.iteration + 1, episode: this.#state.episodes, learning_rate: lr };
    this.hooks.finish?.(record);
    delete record.rows;
    this.#state.trainer = this.hooks.state?.() ?? {};
    const entry: MetricsRecord = { type: 'rollout', step, ...record, ...this.hooks.labels };
    this.logHistory.push(entry);
    this.#log.append(entry);
    const every = this.config.printEvery ?? 1;
    if (every > 0 && ((b.iteration + 1) % every === 0 || b.iteration + 1 === this.config.iterations)) {
      const parts = this.hooks.printed.filter((k) => k in record).map((k) => `${k} ${fmt(record[k]!)}`);
      const s = this.config.stream ?? process.stdout;
      s.write(`${(this.config.tty ?? s.isTTY) ? '\r\x1b[2K' : ''}iteration ${b.iteration + 1}/${this.config.iterations}: ${parts.join(', ')}\n`);
    }
  }

  /** Run (or resume) the loop. */
  async run(): Promise<RLTrainResult> {
    const c = this.config;
    const latest = c.resume ? await latestCheckpoint(this.trainer.checkpointDir) : null;
    if (latest) {
      const meta = await loadCheckpoint(latest.path, { restoreRng: false });
      const saved: Partial<LoopState> = (meta.extra as { user?: { rl?: Partial<LoopState> } } | undefined)?.user?.rl ?? {};
      this.#state.iterationsDone = saved.iterationsDone ?? 0;
      this.#state.episodes = saved.episodes ?? 0;
      this.#state.trainer = saved.trainer ?? {};
      this.hooks.restore?.(this.#state.trainer);
      this.logHistory.push(...readMetrics(this.trainMetricsPath).filter((r) => r.type === 'rollout' && r.step <= latest.step));
    }
    mkdirSync(c.outDir, { recursive: true });
    this.#log.reset();
    for (const r of this.logHistory) this.#log.append(r);
    try {
      const train = await this.trainer.run();
      return { train, logHistory: this.logHistory, trainMetricsPath: this.trainMetricsPath };
    } finally {
      for (const rec of this.#pending.splice(0)) for (const t of Object.values(rec)) t.dispose();
      this.#prepared = null;
    }
  }

  /** The iteration state saved with checkpoints (iterations done, episodes, the trainer's own). */
  get state(): {
    /** Iterations completed, resumed runs included. */
    iterationsDone: number;
    /** Completions sampled so far. */
    episodes: number;
  } {
    return { iterationsDone: this.#state.iterationsDone, episodes: this.#state.episodes };
  }
}

/** A 32-bit seed for stream `stream` of iteration `e` under the run's seed. */
export function iterationSeed(seed: number, e: number, stream: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(e + 1, 0xc2b2ae35) ^ Math.imul(stream, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return (h ^ (h >>> 13)) >>> 0;
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(4));

/** The JSON-able part of a config, logged by the Trainer as the run's `config` record (a KL
 *  controller by its class name; functions and streams left out). */
export function runConfig(c: object): { [k: string]: JsonValue } {
  const out: { [k: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(c)) {
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) out[k] = v as JsonValue;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'number' || typeof x === 'string')) out[k] = v as JsonValue;
    else if (k === 'klCoef' && typeof v === 'object') out[k] = (v as object).constructor.name;
    else if (k === 'best' && typeof v === 'object') out[k] = { ...(v as Record<string, JsonValue>) };
  }
  return out;
}
