// Training a digit classifier with @webgrad/train's Trainer: seeded shuffled batches from a
// DataLoader (optionally augmented), Adam with a cosine decay of the learning rate, an evaluation on the validation
// digits after every epoch (loss and accuracy), the best epoch by validation accuracy kept as a
// checkpoint (and optional early stopping), then the best weights restored for testing.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { crossEntropy, type Tensor } from '@webgrad/core';
import { DataLoader, type Dataset } from '@webgrad/data';
import type { Module } from '@webgrad/nn';
import { Adam, LrScheduler, bestCheckpoint, cosineWithWarmup, listCheckpoints, loadCheckpoint, type JsonValue } from '@webgrad/optim';
import { Trainer, type ProgressStream, type TrainResult } from '@webgrad/train';
import { CorrectCounter } from './classifier_eval.js';

export interface ClassifierTrainingOptions {
  model: Module;
  /** Items [x (1, 28, 28), y (), …]: a batch is [x (B, 1, 28, 28), y (B), …]. */
  train: Dataset<Tensor[]>;
  val: Dataset<Tensor[]>;
  /** Applied to each training batch's images before the model (augmentation). */
  augment?: (x: Tensor) => Tensor;
  /** The training loss of a batch from the model's logits (B, 10) (default: cross-entropy with y). */
  loss?: (logits: Tensor, batch: Tensor[]) => Tensor;
  epochs: number;
  batchSize: number;
  /** Adam's initial learning rate, decayed along a cosine to a twentieth of it by the last step. */
  lr: number;
  /** Seed of the batch order (each epoch's shuffle is drawn from it). */
  seed: number;
  /** Stop after this many epochs without a better validation accuracy (default: never). */
  patience?: number;
  /** After training, load the weights of the best epoch (default true); false keeps the last. */
  restoreBest?: boolean;
  /** The run's directory: metrics.jsonl, loss.svg, checkpoints/ (replaced by this run). */
  outDir: string;
  config?: JsonValue;
  checkpointExtra?: JsonValue;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
  handleSigint?: boolean;
}

export interface ClassifierTraining {
  result: TrainResult;
  /** The step whose weights the model holds now. */
  restoredStep: number;
  /** Validation accuracy after each epoch, [epoch, accuracy] (epoch 0: before training). */
  valAccuracy: [number, number][];
}

export const EVAL_BATCH_SIZE = 250;

/** For programs that need a run to finish: thrown when Ctrl-C stopped one (its checkpoint is saved). */
export class RunInterrupted extends Error {}

export async function trainClassifier(o: ClassifierTrainingOptions): Promise<ClassifierTraining> {
  const { model } = o;
  const trainLoader = new DataLoader(o.train, { batchSize: o.batchSize, shuffle: true, seed: o.seed });
  const valLoader = new DataLoader(o.val, { batchSize: EVAL_BATCH_SIZE });
  const stepsPerEpoch = trainLoader.length;
  const steps = o.epochs * stepsPerEpoch;
  const optimizer = new Adam(model.parameters(), { lr: o.lr });
  const scheduler = new LrScheduler(optimizer, cosineWithWarmup({ lr: o.lr, warmupSteps: 0, decaySteps: Math.max(1, steps), minLr: o.lr / 20 }));
  const loss = o.loss ?? ((logits: Tensor, batch: Tensor[]) => crossEntropy(logits, batch[1]!));
  const correct = new CorrectCounter();
  // A run starts afresh: checkpoints of an earlier run in the same directory would otherwise
  // compete with this run's for "best" and "last".
  rmSync(join(o.outDir, 'checkpoints'), { recursive: true, force: true });
  try {
    const trainer = new Trainer<Tensor[]>({
      model, optimizer, scheduler, epochs: o.epochs, trainData: trainLoader,
      trainLoss: (batch) => loss(model.forward(o.augment ? o.augment(batch[0]!) : batch[0]!) as Tensor, batch),
      evalData: { val: valLoader },
      evalLoss: (_split, [x, y]) => {
        const logits = model.forward(x!) as Tensor; // (B, 10)
        correct.add(logits, y!);
        return crossEntropy(logits, y!);
      },
      evalMetrics: async () => ({ accuracy: await correct.take() }),
      best: { metric: 'accuracy', mode: 'max', ...(o.patience ? { patience: o.patience } : {}) },
      itemsPerStep: o.batchSize, itemsName: 'images', outDir: o.outDir, config: o.config, checkpointExtra: o.checkpointExtra,
      stream: o.stream, tty: o.tty, fsync: o.fsync, handleSigint: o.handleSigint,
    });
    const result = await trainer.run();
    let restoredStep = result.step;
    if ((o.restoreBest ?? true) && result.bestStep > 0 && result.bestStep !== result.step) {
      // The best evaluation's checkpoint; when a later one tied it, the checkpoint keep policy
      // (which prefers the later of equal metrics) kept that one instead: same accuracy, later epoch.
      const saved = await listCheckpoints(trainer.checkpointDir);
      const best = saved.find((c) => c.step === result.bestStep)
        ?? (await bestCheckpoint(trainer.checkpointDir, 'max').then((c) => (c && c.metric === result.bestMetric ? c : undefined)));
      if (best && best.step !== result.step) await loadCheckpoint(best.path, { model, restoreRng: false });
      if (best) restoredStep = best.step;
    }
    const valAccuracy = result.evals.map((e): [number, number] => [e.step / stepsPerEpoch, e.metrics?.accuracy ?? NaN]);
    return { result, restoredStep, valAccuracy };
  } finally {
    optimizer.dispose();
  }
}
