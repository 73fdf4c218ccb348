// Digit classification on the `mnist` package's 10,000 digits: a fixed seeded split (7,000 train,
// 1,000 validation, 2,000 held-out test), an MLP and/or LeNet-5 trained with the Trainer on
// randomly shifted copies of the training digits (best epoch by validation accuracy), then each
// model tested once on the held-out digits: accuracy, NLL, confusion matrix and per-digit
// accuracy. Writes per model <out>/<model>/{metrics.jsonl, loss.svg, checkpoints/,
// model.safetensors}, and <out>/accuracy.svg and <out>/summary.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, type DeviceName } from '@webgrad/core';
import { saveModule } from '@webgrad/nn';
import { accuracyChart } from '../shared/accuracy_chart.js';
import { digitConfusion, evaluateClassifier } from '../shared/classifier_eval.js';
import { buildClassifier, describeClassifier, type ModelKind } from '../shared/classifier_models.js';
import { trainClassifier } from '../shared/classifier_training.js';
import { selectDevice, type DeviceChoice } from '../shared/device.js';
import { BLANK_PIXEL, DEFAULT_SPLIT, mnistSplits, type SplitSizes } from '../shared/mnist_digits.js';
import { randomShift } from '../shared/random_shift.js';
import type { ProgressStream, TrainResult } from '@webgrad/train';
import { formatConfusion, formatSummaryTable } from './report.js';

export interface MnistOptions {
  model: ModelKind | 'both';
  epochs: number;
  batchSize: number;
  lr: number;
  device: DeviceChoice | DeviceName;
  /** Seed of the initial weights and the batch order (the split has its own fixed seed). */
  seed: number;
  out: string;
  /** Move each training image by a random offset of up to this many pixels (0: no augmentation). */
  shift: number;
  /** Stop a model's training after this many epochs without a better validation accuracy (0: never). */
  patience: number;
  /** Digits in each part of the split (default 7,000 / 1,000 / 2,000). */
  split?: SplitSizes;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
  handleSigint?: boolean;
}

export const DEFAULT_OPTIONS: MnistOptions = {
  model: 'both', epochs: 10, batchSize: 32, lr: 2e-3, shift: 2, device: 'auto', seed: 0, out: 'runs/mnist', patience: 0,
};

export interface ModelReport {
  kind: ModelKind;
  description: string;
  parameters: number;
  /** Epochs trained (fewer than asked when stopped early), the best one by validation accuracy,
   *  and the one whose weights were tested (the best, unless no epoch beat the untrained model). */
  epochs: number;
  bestEpoch: number;
  bestValAccuracy: number;
  testedEpoch: number;
  /** On the held-out test digits, with the tested epoch's weights. */
  testAccuracy: number;
  testNll: number;
  /** confusion[t][p]: test digits t predicted as p; perClass[d]: accuracy on digit d. */
  confusion: number[][];
  perClass: number[];
  /** Validation accuracy per epoch, [epoch, accuracy] (epoch 0: before training). */
  valAccuracy: [number, number][];
  /** Training, evaluations and checkpoints. */
  wallSeconds: number;
  train: TrainResult;
  /** The best weights, with the split recorded in the file's metadata. */
  weightsPath: string;
}

export interface MnistResult {
  device: DeviceName;
  split: SplitSizes;
  models: ModelReport[];
  accuracyPlot: string;
  summaryPath: string;
}

export async function trainMnist(opts: MnistOptions): Promise<MnistResult> {
  const stream = opts.stream ?? process.stdout;
  const say = (s: string) => { stream.write(`${s}\n`); };
  const device: DeviceName = opts.device === 'cpu' || opts.device === 'webgpu' || opts.device === 'auto'
    ? await selectDevice(opts.device, say)
    : opts.device;
  const sizes = opts.split ?? DEFAULT_SPLIT;
  const data = mnistSplits(sizes, device);
  say(`data: ${data.x.shape[0]} MNIST digits (28×28) from the mnist package; split (seed ${data.id.seed}): train ${sizes.train}, val ${sizes.val}, test ${sizes.test}`);
  const kinds: ModelKind[] = opts.model === 'both' ? ['mlp', 'lenet'] : [opts.model];
  const models: ModelReport[] = [];
  try {
    for (const kind of kinds) {
      manualSeed(opts.seed);
      const model = buildClassifier(kind, device);
      const parameters = model.numParameters();
      const description = describeClassifier(kind);
      say(`\n== ${kind}: ${description}, ${parameters.toLocaleString('en-US')} parameters; ${opts.epochs} epochs of batches of ${opts.batchSize}, Adam lr ${opts.lr} (cosine decay), ${opts.shift > 0 ? `images shifted by up to ${opts.shift} px` : 'no augmentation'}, seed ${opts.seed}, ${device}`);
      const outDir = join(opts.out, kind);
      try {
        const config = { model: kind, parameters, epochs: opts.epochs, batchSize: opts.batchSize, lr: opts.lr, shift: opts.shift, seed: opts.seed, device, split: data.id };
        const t0 = performance.now();
        const run = await trainClassifier({
          model, train: data.train, val: data.val, augment: opts.shift > 0 ? (x) => randomShift(x, opts.shift, BLANK_PIXEL) : undefined, epochs: opts.epochs, batchSize: opts.batchSize, lr: opts.lr, seed: opts.seed,
          patience: opts.patience > 0 ? opts.patience : undefined, outDir, config, checkpointExtra: config,
          stream, tty: opts.tty, fsync: opts.fsync, handleSigint: opts.handleSigint,
        });
        const wallSeconds = (performance.now() - t0) / 1000;
        const scores = await evaluateClassifier(model, data.test);
        const { matrix, perClass } = digitConfusion(scores);
        const stepsPerEpoch = Math.ceil(sizes.train / opts.batchSize);
        const weightsPath = join(outDir, 'model.safetensors');
        await saveModule(model, weightsPath, { metadata: { model: kind, split: JSON.stringify(data.id), test_accuracy: String(scores.accuracy) } });
        const report: ModelReport = {
          kind, description, parameters, epochs: run.result.step / stepsPerEpoch, bestEpoch: run.result.bestStep / stepsPerEpoch,
          testedEpoch: run.restoredStep / stepsPerEpoch, bestValAccuracy: run.result.bestMetric, valAccuracy: run.valAccuracy, testAccuracy: scores.accuracy, testNll: scores.nll, confusion: matrix, perClass,
          wallSeconds, train: run.result, weightsPath,
        };
        models.push(report);
        say(`${kind}: best val accuracy ${(100 * report.bestValAccuracy).toFixed(2)}% after epoch ${report.bestEpoch}; weights of epoch ${report.testedEpoch}: test accuracy ${(100 * scores.accuracy).toFixed(2)}%, NLL ${scores.nll.toFixed(4)}`);
        say(formatConfusion(matrix, perClass));
        if (run.result.interrupted) break;
      } finally {
        model.dispose();
      }
    }
  } finally {
    data.x.dispose();
    data.y.dispose();
  }

  mkdirSync(opts.out, { recursive: true });
  const accuracyPlot = join(opts.out, 'accuracy.svg');
  writeFileSync(accuracyPlot, accuracyChart(models.map((m) => ({ name: m.kind, points: m.valAccuracy }))));
  const summaryPath = join(opts.out, 'summary.json');
  writeFileSync(summaryPath, `${JSON.stringify({
    device, split: data.id, seed: opts.seed, epochs: opts.epochs, batchSize: opts.batchSize, lr: opts.lr, shift: opts.shift,
    models: models.map(({ train, ...m }) => ({ ...m, metricsPath: train.metricsPath, plotPath: train.plotPath })),
  }, null, 1)}\n`);
  say(`\n${formatSummaryTable(models)}\n\nper model: ${opts.out}/<model>/{metrics.jsonl, loss.svg, model.safetensors}; validation accuracy per epoch: ${accuracyPlot}; summary: ${summaryPath}`);
  return { device, split: sizes, models, accuracyPlot, summaryPath };
}
