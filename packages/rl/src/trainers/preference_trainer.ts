// What `RewardTrainer` and `DPOTrainer` share: preference datasets (text records with a tokenizer,
// or pairs of token ids) turned into batches by a DataLoader, @webgrad/train's Trainer for the loop
// (accumulation, clipping, evaluation, best checkpoint, exact resume, Ctrl-C), and metrics logged
// under TRL's names:
// - training: the trainer's metrics, each the mean over the pairs seen since the previous log (as
//   TRL averages over its logging steps), in the Trainer's `train` records of outDir/metrics.jsonl
//   (beside its loss and lr of the logged step), on the progress bar, and in `logHistory` as
//   { step, epoch, learning_rate, loss, … };
// - evaluation: `eval_loss` and `eval_<metric>` (`eval_<name>_…` for named eval datasets), in the
//   Trainer's `eval` records and in `logHistory`; `best.metric` can name any of them.
import { ValueError, checkSize, fmtValue, type DeviceName, type Tensor } from '@webgrad/core';
import type { Module } from '@webgrad/nn';
import { DataLoader } from '@webgrad/data';
import { Optimizer } from '@webgrad/optim';
import { Trainer, type StepScheduler, type TrainResult, type TrainerOptions } from '@webgrad/train';
import { checkInput } from '../args.js';
import { MetricSums } from './metric_sums.js';
import {
  checkPairsFit, checkPreferencePair, checkTokenizeOptions, preferenceCollate, resolveEosTokenId, tokenizeRecord,
  type PreferenceBatch, type PreferencePair, type PreferenceText, type PreferenceTokenizer,
} from './preference_data.js';
import { checkTrainingArgs, defaultOptimizer, defaultScheduler, totalSteps, type TrainingArgs } from './training_args.js';

/** A dataset of preference records: an array, or anything with `length` and `get(i)` (a @webgrad/data Dataset). */
export type PreferenceDataset = readonly (PreferencePair | PreferenceText)[] | {
  /** Number of records. */
  readonly length: number;
  /** The record at `index` (0 … length − 1). */
  get(index: number): PreferencePair | PreferenceText;
};

/** How text records become token ids, and the padding id. */
export interface PreferenceDataArgs {
  /** Appended to each completion (default: the tokenizer's eosId; null: none). Text records only. */
  eosTokenId?: number | null;
  /** Keep the last this many prompt tokens (text records only; default: all). */
  maxPromptLength?: number;
  /** Keep the first this many completion tokens, EOS included (text records only; default: all). */
  maxCompletionLength?: number;
  /** Fills the rows of a batch after their end (default: the tokenizer's padId, else 0); never counted. */
  padTokenId?: number;
}

export const PREFERENCE_DATA_KEYS = ['eosTokenId', 'maxPromptLength', 'maxCompletionLength', 'padTokenId'] as const;

/** A preference trainer's input (RewardTrainer, DPOTrainer): the model, the datasets, and optionally a tokenizer, optimizer and scheduler. */
export interface PreferenceTrainerInput<M extends Module, C extends TrainingArgs & PreferenceDataArgs> {
  /** The model trained. */
  model: M;
  /** Training pairs: { prompt, chosen, rejected } as text (with `tokenizer`) or as token ids. */
  trainDataset: PreferenceDataset;
  /** Held-out pairs (split 'eval', metrics `eval_…`), or several by name (metrics `eval_<name>_…`). */
  evalDataset?: PreferenceDataset | Record<string, PreferenceDataset> | null;
  /** Encodes text records (anything with encode(text); its eosId and padId are the defaults). */
  tokenizer?: (PreferenceTokenizer & {
    /** The padding id, the default `padTokenId`. */
    readonly padId?: number;
  }) | null;
  /** Default: AdamW over the model's trainable parameters (config.learningRate, weightDecay, adamBetas). */
  optimizer?: Optimizer | null;
  /** Default: config.lrSchedule with config.warmupSteps (only when the optimizer is the default one). */
  scheduler?: StepScheduler | null;
  /** The training arguments (TRL's config of the trainer). */
  config: C;
}

/** One logged record: the step, the epoch and metrics under TRL's names. */
export type LogRecord = {
  /** Optimizer steps done. */
  step: number;
  /** Passes over the training pairs done (fractional). */
  epoch: number;
} & Record<string, number>;

export const INPUT_KEYS = ['model', 'trainDataset', 'evalDataset', 'tokenizer', 'optimizer', 'scheduler', 'config'];

/** A trainer's input: an object of the known `keys` with model, trainDataset and config. */
export function checkTrainerInput(op: string, input: unknown, keys: readonly string[]): void {
  checkInput(op, input as object, keys);
  for (const k of ['model', 'trainDataset', 'config']) {
    if ((input as Record<string, unknown>)[k] === undefined) throw new ValueError(`${op}: input.${k} is required`);
  }
}

function isRecordOfDatasets(v: unknown): v is Record<string, PreferenceDataset> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { get?: unknown }).get !== 'function' && Object.getPrototypeOf(v) === Object.prototype;
}

/** The items of a dataset (array, or length + get). */
function items(op: string, name: string, ds: unknown): unknown[] {
  if (Array.isArray(ds)) return ds;
  const d = ds as { length?: unknown; get?: unknown };
  if (typeof d === 'object' && d !== null && typeof d.length === 'number' && typeof d.get === 'function') {
    return Array.from({ length: d.length }, (_, i) => (d.get as (i: number) => unknown)(i));
  }
  throw new ValueError(`${op}: ${name} must be an array of preference records or a Dataset (length and get(i)), got ${fmtValue(ds)}`);
}

/** Base of RewardTrainer and DPOTrainer (TRL's trainers over preference pairs, on @webgrad/train's Trainer): tokenizes the datasets, builds the default AdamW and schedule, batches pairs, and logs TRL's metric names. `await trainer.train()`, `await trainer.evaluate()`, `trainer.dispose()`. */
export abstract class PreferenceTrainer<M extends Module, C extends TrainingArgs & PreferenceDataArgs> {
  /** The model trained. */
  readonly model: M;
  /** The training arguments. */
  readonly config: C;
  /** The optimizer (given, or the default AdamW). */
  readonly optimizer: Optimizer;
  /** The LR scheduler (given, or built from the config with the default optimizer), or null. */
  readonly scheduler: StepScheduler | null;
  /** The training pairs as token ids. */
  readonly trainPairs: PreferencePair[];
  /** The evaluation pairs by split name ('eval' for a single dataset). */
  readonly evalPairs: Record<string, PreferencePair[]>;
  /** The loop (@webgrad/train's Trainer): checkpoints, resume, evaluation, callbacks. */
  readonly trainer: Trainer<PreferenceBatch>;
  /** Training and evaluation records of this object's runs, TRL's `state.log_history`. */
  readonly logHistory: LogRecord[] = [];
  /** The device of the model's parameters, where batches are made. */
  readonly device: DeviceName;
  readonly #ownsOptimizer: boolean;
  readonly #trainSums = new MetricSums();
  readonly #evalSums = new Map<string, MetricSums>();
  readonly #stepsPerEpoch: number;
  #prepared = false;

  protected constructor(op: string, input: PreferenceTrainerInput<M, C>, ownKeys: readonly string[], defaultLr: number, vocabSize: number, blockSize: number) {
    const cfg = input.config;
    checkTrainingArgs(op, cfg, [...PREFERENCE_DATA_KEYS, ...ownKeys]);
    this.model = input.model;
    this.config = cfg;
    const firstParam = this.model.parameters()[0];
    if (!firstParam) throw new ValueError(`${op}: the model has no parameters`);
    this.device = firstParam.device;

    const tok = input.tokenizer ?? null;
    if (tok !== null && (typeof tok !== 'object' || typeof tok.encode !== 'function')) throw new ValueError(`${op}: tokenizer must have encode(text) → token ids, got ${fmtValue(tok)}`);
    const lengths = checkTokenizeOptions(op, cfg);
    if (cfg.eosTokenId !== undefined && cfg.eosTokenId !== null) checkSize(op, 'config.eosTokenId', cfg.eosTokenId);
    const padTokenId = cfg.padTokenId !== undefined ? cfg.padTokenId : tok?.padId ?? 0;
    if (!(Number.isInteger(padTokenId) && padTokenId >= 0 && padTokenId < vocabSize)) {
      const from = cfg.padTokenId !== undefined ? 'config.padTokenId' : "the tokenizer's padId (set config.padTokenId)";
      throw new ValueError(`${op}: ${from} must be a token id in [0, ${vocabSize}), got ${fmtValue(padTokenId)}`);
    }
    let eos: number | null | undefined;
    const toPairs = (name: string, ds: unknown): PreferencePair[] => {
      const list = items(op, name, ds);
      if (list.length === 0) throw new ValueError(`${op}: ${name} is empty`);
      const pairs = list.map((r, i) => {
        if (typeof (r as PreferenceText)?.prompt === 'string') {
          if (tok === null) throw new ValueError(`${op}: ${name}[${i}] is a text record; pass a tokenizer (or give pairs of token ids)`);
          if (eos === undefined) eos = resolveEosTokenId(op, tok, cfg.eosTokenId);
          return checkPreferencePair(op, tokenizeRecord(op, `${name}[${i}]`, r, tok, eos, lengths), `${name}[${i}]`, vocabSize);
        }
        return checkPreferencePair(op, r, `${name}[${i}]`, vocabSize);
      });
      checkPairsFit(op, pairs, blockSize, name);
      return pairs;
    };
    this.trainPairs = toPairs('trainDataset', input.trainDataset);
    this.evalPairs = {};
    const ev = input.evalDataset ?? null;
    if (ev !== null) {
      if (isRecordOfDatasets(ev)) {
        if (Object.keys(ev).length === 0) throw new ValueError(`${op}: evalDataset has no splits`);
        for (const [name, ds] of Object.entries(ev)) this.evalPairs[name] = toPairs(`evalDataset.${name}`, ds);
      } else this.evalPairs.eval = toPairs('evalDataset', ev);
    }

    if (input.optimizer != null && !(input.optimizer instanceof Optimizer)) throw new ValueError(`${op}: optimizer must be an Optimizer (e.g. AdamW), got ${fmtValue(input.optimizer)}`);
    if (input.scheduler != null && typeof input.scheduler.step !== 'function') throw new ValueError(`${op}: scheduler must be an LR scheduler (e.g. an LrScheduler), got ${fmtValue(input.scheduler)}`);
    const batchSize = cfg.batchSize ?? 8;
    // Tokens of a pair's two sequences (unpadded), on average: the throughput's unit.
    const tokensPerPair = this.trainPairs.reduce((n, p) => n + 2 * p.prompt.length + p.chosen.length + p.rejected.length, 0) / this.trainPairs.length;
    const collate = preferenceCollate({ padTokenId });
    const trainData = new DataLoader(this.trainPairs, { batchSize, shuffle: cfg.shuffle ?? true, seed: cfg.seed ?? 42, collate, device: this.device });
    this.#stepsPerEpoch = Math.ceil(trainData.length / (cfg.gradAccumSteps ?? 1));
    const steps = totalSteps(cfg, trainData.length);
    this.#ownsOptimizer = input.optimizer == null;
    this.optimizer = input.optimizer ?? defaultOptimizer(this.model, cfg, defaultLr);
    this.scheduler = input.scheduler ?? (this.#ownsOptimizer ? defaultScheduler(this.optimizer, cfg, steps) : null);

    const evalData: Record<string, DataLoader<PreferencePair, PreferenceBatch>> = {};
    for (const [name, pairs] of Object.entries(this.evalPairs)) {
      evalData[name] = new DataLoader(pairs, { batchSize: cfg.evalBatchSize ?? batchSize, collate, device: this.device });
      this.#evalSums.set(name, new MetricSums());
    }
    const hasEval = Object.keys(evalData).length > 0;
    const maxGradNorm = cfg.maxGradNorm === undefined ? 1 : cfg.maxGradNorm;
    const opts: TrainerOptions<PreferenceBatch> = {
      model: this.model, optimizer: this.optimizer, scheduler: this.scheduler ?? undefined, steps, trainData,
      trainLoss: (batch) => {
        const { loss, sums } = this.computeLoss(batch);
        this.#trainSums.add(sums, batch.size);
        return { loss, metrics: this.#trainSums.means() }; // read back by the Trainer at logged steps only
      },
      gradAccumSteps: cfg.gradAccumSteps, gradClip: maxGradNorm ?? 0,
      evalData: hasEval ? evalData : undefined,
      evalLoss: hasEval ? (split, batch) => {
        const { loss, sums } = this.computeLoss(batch);
        this.#evalSums.get(split)!.add(sums, batch.size);
        return loss;
      } : undefined,
      evalMetrics: hasEval ? async () => {
        let out: Record<string, number> = {};
        for (const [split, sums] of this.#evalSums) out = { ...out, ...(await sums.read(this.evalPrefix(split))) };
        return out;
      } : undefined,
      evalInterval: cfg.evalInterval ?? (cfg.steps === undefined ? this.#stepsPerEpoch : undefined),
      logInterval: cfg.logInterval ?? 10,
      best: cfg.best, keep: cfg.keep, itemsPerStep: Math.round(batchSize * (cfg.gradAccumSteps ?? 1) * tokensPerPair), itemsName: 'tokens',
      outDir: cfg.outDir, resume: cfg.resume, checkpointExtra: cfg.checkpointExtra, config: cfg.runConfig,
      stream: cfg.stream, tty: cfg.tty, fsync: cfg.fsync, handleSigint: cfg.handleSigint,
      callbacks: [{
        onStep: (info) => {
          if (info.loss === undefined) return; // not a logged step: the sums run on
          this.#trainSums.dispose(); // the next log averages from here
          this.logHistory.push({ step: info.step, epoch: this.#fractionalEpoch(info.step), learning_rate: info.lr, loss: info.loss, ...info.metrics });
        },
        onEval: (info) => {
          const rec: LogRecord = { step: info.step, epoch: this.#fractionalEpoch(info.step) };
          for (const [split, l] of Object.entries(info.losses)) rec[`${this.evalPrefix(split)}loss`] = l;
          Object.assign(rec, info.metrics ?? {});
          this.logHistory.push(rec);
        },
      }, ...(cfg.callbacks ?? [])],
    };
    this.trainer = new Trainer(opts);
  }

  #fractionalEpoch(step: number): number {
    return Math.round((step / Math.max(1, this.#stepsPerEpoch)) * 1e4) / 1e4;
  }

  /** The prefix of a split's evaluation metrics: 'eval_' for the single dataset, 'eval_<name>_' for named ones. */
  protected evalPrefix(split: string): string {
    return this.evalPairs.eval !== undefined && Object.keys(this.evalPairs).length === 1 ? 'eval_' : `eval_${split}_`;
  }

  /** The loss of a batch and its metrics as 0-d sums over the batch's pairs (detached). */
  protected abstract computeLoss(batch: PreferenceBatch): {
    /** 0-d loss of the batch (differentiable). */
    loss: Tensor;
    /** 0-d per-batch sums of the logged metrics, by TRL name. */
    sums: Record<string, Tensor>;
  };

  /** Work before the first step or evaluation (e.g. reference log-probs); runs once. */
  protected async prepare(): Promise<void> {}

  async #ensurePrepared(): Promise<void> {
    if (this.#prepared) return;
    await this.prepare();
    this.#prepared = true;
  }

  /**
   * Train for config.steps (or epochs), evaluating every evalInterval steps and at the end, saving
   * checkpoints in outDir/checkpoints; with config.resume, continue from the latest one. Returns
   * the Trainer's result (its `evals` hold the eval_… metrics).
   */
  async train(): Promise<TrainResult> {
    await this.#ensurePrepared();
    try {
      return await this.trainer.run();
    } finally {
      this.#trainSums.dispose();
    }
  }

  /** Evaluate on every eval split now: { eval_loss, eval_<metric>, … } (no checkpoint is written). */
  async evaluate(): Promise<Record<string, number>> {
    if (Object.keys(this.evalPairs).length === 0) throw new ValueError('evaluate: the trainer has no evalDataset');
    await this.#ensurePrepared();
    const { losses, metrics } = await this.trainer.evaluate();
    const out: Record<string, number> = {};
    for (const [split, l] of Object.entries(losses)) out[`${this.evalPrefix(split)}loss`] = l;
    return { ...out, ...metrics };
  }

  /** Free what the trainer made: its optimizer's state (when it built the optimizer) and running sums. The model is the caller's. */
  dispose(): void {
    if (this.#ownsOptimizer) this.optimizer.dispose();
    this.#trainSums.dispose();
    for (const s of this.#evalSums.values()) s.dispose();
  }
}
