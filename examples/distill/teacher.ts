// The teacher: trained weights from a file made with the same split (its metadata records the
// split) — the MNIST example's, or a teacher an earlier run trained — otherwise a model of the
// same kind trained here. Its logits for every digit are computed once, in eval mode, and stored
// beside the images.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cat, manualSeed, noGrad, tidy, type DeviceName, type Tensor } from '@webgrad/core';
import { loadModule, readSafetensorsFile, saveModule, type Module } from '@webgrad/nn';
import type { ProgressStream } from '@webgrad/train';
import { buildClassifier, describeClassifier, type ModelKind } from '../shared/classifier_models.js';
import { RunInterrupted, trainClassifier } from '../shared/classifier_training.js';
import { BLANK_PIXEL, type MnistSplits } from '../shared/mnist_digits.js';
import { randomShift } from '../shared/random_shift.js';

export interface TeacherOptions {
  kind: ModelKind;
  /** Weights to try, in order (model.safetensors files written by the MNIST example or an earlier run). */
  weights: readonly string[];
  /** Epochs of training when the weights cannot be used. */
  epochs: number;
  /** Random shift (pixels) of the training images then (0: none). */
  shift: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** Where a teacher trained here goes (its run and model.safetensors). */
  outDir: string;
  device: DeviceName;
  stream: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
  handleSigint?: boolean;
}

export interface Teacher {
  model: Module;
  kind: ModelKind;
  description: string;
  parameters: number;
  /** Where the weights came from: loaded from a file, or trained here. */
  source: 'loaded' | 'trained';
  weightsPath: string;
  /** Seconds spent training it (0 when loaded). */
  trainSeconds: number;
}

/** Why the file at `path` cannot serve as the teacher for this split, or null when it can. */
async function unusable(path: string, kind: ModelKind, split: MnistSplits['id']): Promise<string | null> {
  if (!existsSync(path)) return `${path} does not exist`;
  const { metadata } = await readSafetensorsFile(path);
  if (metadata.model !== kind) return `${path} holds a '${metadata.model ?? 'unknown'}' model, not '${kind}'`;
  if (metadata.split !== JSON.stringify(split)) return `${path} was trained on another split (${metadata.split ?? 'not recorded'}), so its training digits may include this run's test digits`;
  return null;
}

export async function obtainTeacher(o: TeacherOptions, data: MnistSplits): Promise<Teacher> {
  const say = (s: string) => { o.stream.write(`${s}\n`); };
  manualSeed(o.seed);
  const model = buildClassifier(o.kind, o.device);
  const base = { model, kind: o.kind, description: describeClassifier(o.kind), parameters: model.numParameters() };
  const t0 = performance.now();
  try {
    const problems: string[] = [];
    for (const path of o.weights) {
      const why = await unusable(path, o.kind, data.id);
      if (why !== null) { problems.push(why); continue; }
      await loadModule(model, path);
      say(`teacher: ${o.kind} loaded from ${path}`);
      return { ...base, source: 'loaded', weightsPath: path, trainSeconds: 0 };
    }
    say(`teacher: training a ${o.kind} here for ${o.epochs} epochs (${problems.join('; ')}; \`pnpm example mnist\` writes one)`);
    const run = await trainClassifier({
      model, train: data.train, val: data.val, augment: o.shift > 0 ? (x) => randomShift(x, o.shift, BLANK_PIXEL) : undefined,
      epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, seed: o.seed, outDir: o.outDir,
      config: { role: 'teacher', model: o.kind, epochs: o.epochs, shift: o.shift, batchSize: o.batchSize, lr: o.lr, seed: o.seed, split: data.id },
      stream: o.stream, tty: o.tty, fsync: o.fsync, handleSigint: o.handleSigint,
    });
    if (run.result.interrupted) throw new RunInterrupted(`the teacher's training stopped at step ${run.result.step}`);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  const weightsPath = join(o.outDir, 'model.safetensors');
  await saveModule(model, weightsPath, { metadata: { model: o.kind, split: JSON.stringify(data.id) } });
  return { ...base, source: 'trained', weightsPath, trainSeconds };
}

/** The teacher's logits (N, 10) for all N digits of `x` (N, 1, 28, 28), in eval mode. */
export function teacherLogits(model: Module, x: Tensor, batchSize = 500): Tensor {
  model.eval();
  const n = x.shape[0]!;
  return noGrad(() => tidy(() => {
    const parts: Tensor[] = [];
    for (let i = 0; i < n; i += batchSize) parts.push(model.forward(x.slice(0, i, Math.min(n, i + batchSize))) as Tensor); // (b, 10)
    return cat(parts, 0); // (N, 10)
  }));
}
