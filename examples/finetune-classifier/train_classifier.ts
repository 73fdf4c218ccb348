// One classifier run: a model (pre-trained encoder + new head under gradual unfreezing, or the
// same model from scratch) trained on the labelled mails by the Trainer — evaluation every epoch
// on the validation mails (loss, accuracy, F1, ROC-AUC), the best checkpoint and early stopping by
// validation F1 — then scored once on the test mails with the weights of its best checkpoint.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, noGrad, tensor, tidy, type DeviceName } from '@webgrad/core';
import { loadModule } from '@webgrad/nn';
import { AdamW, LrScheduler, bestCheckpoint, cosineWithWarmup, loadCheckpoint, paramGroupsWithDecay, type JsonValue } from '@webgrad/optim';
import { Trainer, formatSummary, type BatchSource, type ProgressStream, type TrainResult } from '@webgrad/train';
import type { LoadedEncoderFiles } from '../pretrain-mlm/encoder_files.js';
import { specialIds } from '../pretrain-mlm/tokenizer.js';
import { makeClassifier, type Classifier, type Pooling } from './classifier.js';
import { mailLoader, spamShare, type MailBatch, type MailItem } from './mail_dataset.js';
import { BinaryPredictions, binaryMetrics, type BinaryMetrics } from './predictions.js';
import { encoderUnfreezing } from './unfreezing.js';

export type ModelKind = 'pretrained' | 'scratch';

/** The settings of a run. */
export interface RunSettings {
  pooling: Pooling;
  batchSize: number;
  epochs: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  gradClip: number;
  unfreezeEpochs: number;
  /** Evaluate every this many steps (0: once per epoch). */
  evalInterval: number;
  patience: number;
  seed: number;
}

export interface RunData { train: MailItem[]; val: MailItem[]; test: MailItem[] }

export interface RunResult {
  model: ModelKind;
  /** Labelled training mails. */
  labels: number;
  train: TrainResult;
  /** Validation metrics of the checkpoint the test scores come from, and its step. */
  val: BinaryMetrics;
  bestStep: number;
  test: BinaryMetrics;
  /** Training, evaluation and the test pass. */
  wallSeconds: number;
}

export interface RunContext {
  enc: LoadedEncoderFiles;
  device: DeviceName;
  /** Output directory of this run (metrics.jsonl, loss.svg, checkpoints/). */
  out: string;
  stream: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
  handleSigint?: boolean;
  /** Logged as the run's config record. */
  config: JsonValue;
}

export async function trainClassifier(kind: ModelKind, opts: RunSettings, data: RunData, ctx: RunContext): Promise<RunResult> {
  const { enc, device, out, stream } = ctx;
  const say = (s: string) => { stream.write(`${s}\n`); };
  const t0 = performance.now();
  // Every run starts afresh: checkpoints of an earlier run would compete for "best".
  rmSync(join(out, 'checkpoints'), { recursive: true, force: true });
  manualSeed(opts.seed);
  const model = makeClassifier(opts.pooling, { ...enc.config.bert, numLabels: 2, device });
  if (kind === 'pretrained') await loadModule(model.bert, enc.weightsPath);
  initPriorBias(model, spamShare(data.train));
  const plan = kind === 'pretrained' && opts.unfreezeEpochs > 0 ? encoderUnfreezing(model, opts.unfreezeEpochs) : null;
  const pad = specialIds(enc.tokenizer).pad;
  const loader = mailLoader(data.train, opts.batchSize, pad, device, opts.seed);
  const valLoader = mailLoader(data.val, opts.batchSize, pad, device);
  const trainData: BatchSource<MailBatch> = {
    [Symbol.asyncIterator]: () => loader[Symbol.asyncIterator](),
    length: loader.length,
    setEpoch(epoch: number) {
      loader.setEpoch(epoch);
      const change = plan?.onEpoch(epoch);
      if (change) say(change);
    },
  };
  const steps = opts.epochs * loader.length;
  // Frozen parameters are in the optimizer from the start; they get no gradient, so no update, until unfrozen.
  const optimizer = new AdamW(paramGroupsWithDecay(model.namedParameters(), opts.weightDecay, { includeFrozen: true }), { lr: opts.lr });
  const scheduler = new LrScheduler(optimizer, cosineWithWarmup({ lr: opts.lr, warmupSteps: opts.warmup, decaySteps: Math.max(steps, opts.warmup + 1), minLr: opts.lr / 10 }));
  const predictions = new BinaryPredictions();
  try {
    const trainer = new Trainer<MailBatch>({
      model, optimizer, scheduler, epochs: opts.epochs, trainData,
      trainLoss: (batch) => model.forward(batch.inputIds, { attentionMask: batch.attentionMask, labels: batch.label }).loss!,
      evalData: { val: valLoader },
      evalLoss: (_split, batch) => {
        const { logits, loss } = model.forward(batch.inputIds, { attentionMask: batch.attentionMask, labels: batch.label });
        predictions.add(logits, batch.label);
        return loss!;
      },
      evalMetrics: async () => {
        const { labels, scores } = await predictions.take();
        return { ...binaryMetrics(labels, scores) };
      },
      best: { metric: 'f1', mode: 'max', patience: opts.patience }, evalInterval: opts.evalInterval > 0 ? opts.evalInterval : undefined,
      gradClip: opts.gradClip, itemsPerStep: opts.batchSize * enc.config.seqLen, outDir: out,
      config: ctx.config, stream, tty: ctx.tty, fsync: ctx.fsync, handleSigint: ctx.handleSigint,
    });
    const train = await trainer.run();
    say(formatSummary(train));
    // The test split is scored once, with the weights of the best validation F1.
    // (No checkpoint is written at step 0: if the untrained model scored best, the best saved one is used.)
    const best = await bestCheckpoint(trainer.checkpointDir, 'max');
    if (best) await loadCheckpoint(best.path, { model, restoreRng: false });
    const bestStep = best?.step ?? train.step;
    const bestEval = train.evals.find((e) => e.step === bestStep);
    const val = { accuracy: bestEval?.metrics?.accuracy ?? NaN, f1: bestEval?.metrics?.f1 ?? NaN, rocAuc: bestEval?.metrics?.rocAuc ?? NaN };
    const test = await score(model, mailLoader(data.test, opts.batchSize, pad, device), predictions);
    const wallSeconds = (performance.now() - t0) / 1000;
    say(`${kind}, ${data.train.length} labelled mails: checkpoint of step ${bestStep} (validation F1 ${val.f1.toFixed(4)}); test accuracy ${test.accuracy.toFixed(4)}, F1 ${test.f1.toFixed(4)}, ROC-AUC ${test.rocAuc.toFixed(4)} (${wallSeconds.toFixed(1)} s in all)`);
    return { model: kind, labels: data.train.length, train, val, bestStep, test, wallSeconds };
  } finally {
    predictions.reset();
    optimizer.dispose();
    model.dispose();
  }
}

/**
 * Start the classifier at the class prior: bias = (0, log(p / (1 − p))) with p the share of spam,
 * so the untrained model answers the majority class with the right confidence instead of a coin
 * flip (the step-0 evaluation is then no accidental all-spam F1 for training to beat, and no step
 * is spent learning the prior).
 */
function initPriorBias(model: Classifier, spam: number): void {
  const p = Math.min(Math.max(spam, 1e-3), 1 - 1e-3);
  const bias = model.classifier.bias!;
  noGrad(() => {
    const v = tensor([0, Math.log(p / (1 - p))], { dtype: bias.dtype, device: bias.device });
    bias.copy_(v);
    v.dispose();
  });
}

/** Accuracy, F1 and ROC-AUC of `model` over `loader`, in eval mode without gradients. */
async function score(model: Classifier, loader: Iterable<MailBatch>, predictions: BinaryPredictions): Promise<BinaryMetrics> {
  model.eval();
  noGrad(() => {
    for (const batch of loader) tidy(() => predictions.add(model.forward(batch.inputIds, { attentionMask: batch.attentionMask }).logits, batch.label));
  });
  const { labels, scores } = await predictions.take();
  return binaryMetrics(labels, scores);
}
