// Knowledge distillation on MNIST: a teacher (LeNet-5 by default) and two copies of a small MLP
// student — same initial weights, same batches in the same order, same number of steps — one
// trained on the labels alone, the other on the distillation loss (softened teacher
// distribution plus labels). Both are tested after their last step on the 2,000 held-out digits
// (accuracy, NLL, agreement with the teacher). Writes <out>/{teacher,student-labels,
// student-distilled}/ (each a Trainer run), <out>/accuracy.svg and <out>/summary.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, type DeviceName, type Tensor } from '@webgrad/core';
import { Subset, TensorDataset } from '@webgrad/data';
import type { ProgressStream, TrainResult } from '@webgrad/train';
import { accuracyChart } from '../shared/accuracy_chart.js';
import { evaluateClassifier, type ClassifierScores } from '../shared/classifier_eval.js';
import { buildMlp, type ModelKind } from '../shared/classifier_models.js';
import { RunInterrupted, trainClassifier } from '../shared/classifier_training.js';
import { selectDevice, type DeviceChoice } from '../shared/device.js';
import { DEFAULT_SPLIT, mnistSplits, type SplitSizes } from '../shared/mnist_digits.js';
import { checkDistillationOptions, distillationLoss } from './distillation_loss.js';
import { formatDistillTable } from './report.js';
import { obtainTeacher, teacherLogits } from './teacher.js';

export interface DistillOptions {
  temperature: number;
  alpha: number;
  /** Epochs of each student's training. */
  epochs: number;
  batchSize: number;
  lr: number;
  /** Hidden widths of the student MLP. */
  studentHidden: number[];
  teacherModel: ModelKind;
  /** The teacher's weights (default: the MNIST example's output for teacherModel); when they do
   *  not fit this split, a teacher an earlier run trained in <out>/teacher, else one trained now. */
  teacherWeights?: string;
  /** Epochs of the teacher's training when its weights are not there. */
  teacherEpochs: number;
  /** Random shift (pixels) of the teacher's training images when it is trained here, as the MNIST example does. */
  teacherShift: number;
  device: DeviceChoice | DeviceName;
  /** Seed of the students' (shared) initial weights, the batch order and a teacher trained here. */
  seed: number;
  out: string;
  split?: SplitSizes;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
  handleSigint?: boolean;
}

export const DEFAULT_OPTIONS: DistillOptions = {
  temperature: 4, alpha: 0.9, epochs: 10, batchSize: 32, lr: 2e-3, studentHidden: [128], teacherModel: 'lenet', teacherEpochs: 4, teacherShift: 2,
  device: 'auto', seed: 0, out: 'runs/distill',
};

/** The MNIST example's weights for a model kind (its default --out). */
export const mnistWeights = (kind: ModelKind): string => join('runs', 'mnist', kind, 'model.safetensors');

export interface StudentReport {
  name: 'labels' | 'distilled';
  test: Omit<ClassifierScores, 'predicted' | 'labels'>;
  /** Share of test digits where the student predicts what the teacher predicts. */
  agreement: number;
  /** Validation accuracy per epoch, [epoch, accuracy]. */
  valAccuracy: [number, number][];
  wallSeconds: number;
  train: TrainResult;
}

export interface DistillResult {
  device: DeviceName;
  teacher: { kind: ModelKind; parameters: number; source: 'loaded' | 'trained'; weightsPath: string; test: Omit<ClassifierScores, 'predicted' | 'labels'>; trainSeconds: number };
  studentParameters: number;
  students: { labels: StudentReport; distilled: StudentReport };
  accuracyPlot: string;
  summaryPath: string;
}

const agreementOf = (a: Int32Array, b: Int32Array) => a.reduce((n, v, i) => n + (v === b[i] ? 1 : 0), 0) / a.length;

export async function distill(opts: DistillOptions): Promise<DistillResult> {
  checkDistillationOptions(opts);
  const stream = opts.stream ?? process.stdout;
  const say = (s: string) => { stream.write(`${s}\n`); };
  const device: DeviceName = opts.device === 'cpu' || opts.device === 'webgpu' || opts.device === 'auto'
    ? await selectDevice(opts.device, say)
    : opts.device;
  const sizes = opts.split ?? DEFAULT_SPLIT;
  const data = mnistSplits(sizes, device);
  say(`data: ${data.x.shape[0]} MNIST digits; split (seed ${data.id.seed}): train ${sizes.train}, val ${sizes.val}, test ${sizes.test}`);
  const run = { stream, tty: opts.tty, fsync: opts.fsync, handleSigint: opts.handleSigint };
  const tensors: Tensor[] = [data.x, data.y];
  try {
    const teacher = await obtainTeacher({
      kind: opts.teacherModel, weights: [opts.teacherWeights ?? mnistWeights(opts.teacherModel), join(opts.out, 'teacher', 'model.safetensors')], epochs: opts.teacherEpochs, shift: opts.teacherShift,
      batchSize: opts.batchSize, lr: opts.lr, seed: opts.seed, outDir: join(opts.out, 'teacher'), device, ...run,
    }, data);
    let teacherScores: ClassifierScores;
    let logits: Tensor;
    try {
      teacherScores = await evaluateClassifier(teacher.model, data.test);
      logits = teacherLogits(teacher.model, data.x); // (N, 10): soft targets for every digit
      tensors.push(logits);
    } finally {
      teacher.model.dispose();
    }
    say(`teacher: ${teacher.description}, ${teacher.parameters.toLocaleString('en-US')} parameters, test accuracy ${(100 * teacherScores.accuracy).toFixed(2)}%, NLL ${teacherScores.nll.toFixed(4)}`);

    // The same training digits, now with the teacher's logits: items [x, y, teacher logits].
    const withTeacher = new Subset(new TensorDataset(data.x, data.y, logits), data.train.indices);
    const { temperature, alpha } = opts;
    const students = {} as DistillResult['students'];
    let studentParameters = 0;
    for (const name of ['labels', 'distilled'] as const) {
      manualSeed(opts.seed); // the same initial weights for both students
      const model = buildMlp(opts.studentHidden, device);
      studentParameters = model.numParameters();
      say(`\n== student (${name === 'labels' ? 'labels only' : `distilled: T ${temperature}, alpha ${alpha}`}): MLP 784-${opts.studentHidden.join('-')}-10, ${studentParameters.toLocaleString('en-US')} parameters, ${opts.epochs} epochs`);
      try {
        const t0 = performance.now();
        const trained = await trainClassifier({
          model, train: name === 'labels' ? data.train : withTeacher, val: data.val,
          loss: name === 'labels' ? undefined : (out, [, y, t]) => distillationLoss(out, t!, y!, { temperature, alpha }),
          epochs: opts.epochs, batchSize: opts.batchSize, lr: opts.lr, seed: opts.seed, restoreBest: false, outDir: join(opts.out, `student-${name}`),
          config: { role: `student-${name}`, hidden: opts.studentHidden, epochs: opts.epochs, batchSize: opts.batchSize, lr: opts.lr, seed: opts.seed, split: data.id, ...(name === 'distilled' ? { temperature, alpha } : {}) },
          ...run,
        });
        if (trained.result.interrupted) throw new RunInterrupted(`student (${name}) stopped at step ${trained.result.step}`);
        const wallSeconds = (performance.now() - t0) / 1000;
        const { predicted, labels: _labels, ...test } = await evaluateClassifier(model, data.test);
        students[name] = { name, test, agreement: agreementOf(predicted, teacherScores.predicted), valAccuracy: trained.valAccuracy, wallSeconds, train: trained.result };
        say(`student (${name}): test accuracy ${(100 * test.accuracy).toFixed(2)}%, NLL ${test.nll.toFixed(4)}, agrees with the teacher on ${(100 * students[name].agreement).toFixed(2)}%`);
      } finally {
        model.dispose();
      }
    }

    const { predicted: _p, labels: _l, ...teacherTest } = teacherScores;
    const result: DistillResult = {
      device,
      teacher: { kind: teacher.kind, parameters: teacher.parameters, source: teacher.source, weightsPath: teacher.weightsPath, test: teacherTest, trainSeconds: teacher.trainSeconds },
      studentParameters, students, accuracyPlot: join(opts.out, 'accuracy.svg'), summaryPath: join(opts.out, 'summary.json'),
    };
    mkdirSync(opts.out, { recursive: true });
    writeFileSync(result.accuracyPlot, accuracyChart([
      { name: 'student, labels only', points: students.labels.valAccuracy },
      { name: 'student, distilled', points: students.distilled.valAccuracy },
    ]));
    writeFileSync(result.summaryPath, `${JSON.stringify({
      ...result, split: data.id, temperature, alpha, epochs: opts.epochs, batchSize: opts.batchSize, lr: opts.lr, seed: opts.seed,
      students: Object.fromEntries(Object.entries(students).map(([k, { train, ...s }]) => [k, { ...s, steps: train.step, metricsPath: train.metricsPath }])),
    }, null, 1)}\n`);
    say(`\n${formatDistillTable(result)}\n\nruns: ${opts.out}/{${teacher.source === 'trained' ? 'teacher,' : ''}student-labels,student-distilled}/; validation accuracy per epoch: ${result.accuracyPlot}; summary: ${result.summaryPath}`);
    return result;
  } finally {
    for (const t of tensors) t.dispose();
  }
}
