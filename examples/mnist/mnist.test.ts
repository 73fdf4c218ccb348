// The MNIST example on a few hundred digits (CPU): the digits load and split as documented, both
// models learn well above chance in a couple of epochs, the reports agree with the confusion
// matrix, the saved weights reproduce the reported test accuracy, the files are written, every
// tensor is freed, and the flags are checked.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { manualSeed, memory, tensor } from '@webgrad/core';
import { loadModule, readSafetensorsFile } from '@webgrad/nn';
import { readMetrics } from '@webgrad/train';
import { UsageError } from '../shared/args.js';
import { evaluateClassifier } from '../shared/classifier_eval.js';
import { buildClassifier } from '../shared/classifier_models.js';
import { DEFAULT_SPLIT, PIXEL_MEAN, PIXEL_STD, SPLIT_SEED, loadMnistDigits, mnistSplitIndices, mnistSplits } from '../shared/mnist_digits.js';
import { randomShift } from '../shared/random_shift.js';
import { formatTable } from '../shared/table.js';
import { main, optionsFromArgv } from './main.js';
import { DEFAULT_OPTIONS, trainMnist, type MnistOptions } from './mnist.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-mnist-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const quiet = { write: () => true, isTTY: false };
const TINY: MnistOptions = {
  ...DEFAULT_OPTIONS, device: 'cpu', split: { train: 400, val: 100, test: 200 }, epochs: 2, batchSize: 20, lr: 3e-3, shift: 1,
  fsync: false, handleSigint: false, stream: quiet,
};

describe('mnist example', () => {
  it('loads the 10,000 digits of the mnist package and splits them as documented', async () => {
    const { pixels, labels } = loadMnistDigits();
    expect(labels.length).toBe(10_000);
    expect(pixels.length).toBe(10_000 * 784);
    const counts = Array.from({ length: 10 }, (_, d) => labels.filter((l) => l === d).length);
    expect(counts.every((c) => c > 800 && c < 1200)).toBe(true);
    expect(pixels.reduce((a, b) => Math.min(a, b), Infinity)).toBe(0);
    expect(pixels.reduce((a, b) => Math.max(a, b), -Infinity)).toBeLessThanOrEqual(1);

    const a = mnistSplitIndices(DEFAULT_SPLIT);
    const b = mnistSplitIndices({ train: 300, val: 1000, test: 2000 });
    expect([a.train.length, a.val.length, a.test.length]).toEqual([7000, 1000, 2000]);
    // Disjoint parts; the test digits depend only on the test size, a smaller train part is a prefix.
    expect(new Set([...a.train, ...a.val, ...a.test]).size).toBe(10_000);
    expect([...b.test]).toEqual([...a.test]);
    expect([...b.train]).toEqual([...a.train.subarray(0, 300)]);
    expect([...mnistSplitIndices(DEFAULT_SPLIT, 1).test]).not.toEqual([...a.test]);
    // Every digit class is in the test part.
    expect(new Set([...a.test].map((i) => labels[i])).size).toBe(10);

    // The tensors: (N, 1, 28, 28) pixels normalized by MNIST's mean and std, int32 labels; items [x, y].
    const s = mnistSplits({ train: 300, val: 100, test: 200 }, 'cpu');
    try {
      expect(s.x.shape).toEqual([10_000, 1, 28, 28]);
      const i = s.test.indices[5]!;
      const [x, y] = s.test.get(5);
      expect(x!.shape).toEqual([1, 28, 28]);
      expect(await y!.item()).toBe(labels[i]);
      expect(x!.dataSync()[400]).toBeCloseTo((pixels[i * 784 + 400]! - PIXEL_MEAN) / PIXEL_STD, 5);
      x!.dispose();
      y!.dispose();
      expect(s.id).toEqual({ seed: SPLIT_SEED, train: 300, val: 100, test: 200 });
    } finally {
      s.x.dispose();
      s.y.dispose();
    }
    expect(() => mnistSplitIndices({ train: 9000, val: 1000, test: 2000 })).toThrow(/only 10000/);
    expect(() => mnistSplitIndices({ train: 0, val: 10, test: 10 })).toThrow(/train size/);
  });

  it('trains an MLP and LeNet-5 well above chance, tests them, and writes the run', async () => {
    const out = join(root, 'both');
    const before = memory();
    const r = await trainMnist({ ...TINY, out });
    expect(memory().tensors).toBe(before.tensors);
    expect(r.models.map((m) => m.kind)).toEqual(['mlp', 'lenet']);
    for (const m of r.models) {
      // Chance is 10%; the step-0 evaluation is near it, the last one far above.
      expect(m.valAccuracy[0]![0]).toBe(0);
      expect(m.valAccuracy[0]![1]).toBeLessThan(0.3);
      expect(m.valAccuracy.map(([e]) => e)).toEqual([0, 1, 2]);
      expect(m.bestValAccuracy).toBeGreaterThan(m.valAccuracy[0]![1] + 0.3);
      expect(m.testAccuracy).toBeGreaterThan(0.5);
      expect(m.testNll).toBeLessThan(1.5);
      // The confusion matrix covers the 200 test digits and agrees with the accuracy.
      const total = m.confusion.flat().reduce((a, b) => a + b, 0);
      const diagonal = m.confusion.reduce((s, row, i) => s + row[i]!, 0);
      expect(total).toBe(200);
      expect(diagonal / total).toBeCloseTo(m.testAccuracy, 12);
      m.perClass.forEach((p, i) => expect(p).toBeCloseTo(m.confusion[i]![i]! / m.confusion[i]!.reduce((a, b) => a + b, 0), 12));
      expect(m.parameters).toBe(m.kind === 'lenet' ? 61_706 : 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
      // The log holds the config, every step, an eval with accuracy per epoch, and the summary.
      const records = readMetrics(m.train.metricsPath);
      expect(records[0]).toMatchObject({ type: 'config', config: { model: m.kind, epochs: 2, shift: 1, split: { train: 400, val: 100, test: 200 } } });
      expect(records.filter((x) => x.type === 'train')).toHaveLength(40);
      expect(records.filter((x) => x.type === 'eval').map((x) => typeof (x.metrics as { accuracy?: number }).accuracy)).toEqual(['number', 'number', 'number']);
      expect(readFileSync(m.train.plotPath, 'utf8')).toContain('val (eval)');
    }
    const svg = readFileSync(r.accuracyPlot, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('>mlp<');
    expect(svg).toContain('>lenet<');
    const summary = JSON.parse(readFileSync(r.summaryPath, 'utf8')) as { models: { kind: string; testAccuracy: number }[] };
    expect(summary.models.map((m) => [m.kind, m.testAccuracy])).toEqual(r.models.map((m) => [m.kind, m.testAccuracy]));

    // The saved weights are the tested ones: reloaded into a fresh model, the same test accuracy.
    const lenet = r.models[1]!;
    expect((await readSafetensorsFile(lenet.weightsPath)).metadata).toMatchObject({ model: 'lenet', split: JSON.stringify({ seed: 20_150_309, train: 400, val: 100, test: 200 }) });
    const data = mnistSplits(TINY.split, 'cpu');
    const fresh = await loadModule(buildClassifier('lenet', 'cpu'), lenet.weightsPath);
    expect((await evaluateClassifier(fresh, data.test)).accuracy).toBe(lenet.testAccuracy);
    for (const t of [fresh, data.x, data.y]) t.dispose();
  });

  it('tests the best epoch by validation accuracy, and stops early when it stalls', async () => {
    // 20 validation digits: the accuracy moves in steps of 5% and soon stops improving.
    const split = { train: 400, val: 20, test: 200 };
    const r = await trainMnist({ ...TINY, split, model: 'mlp', out: join(root, 'early'), epochs: 6, patience: 1 });
    const m = r.models[0]!;
    const accs = m.valAccuracy.map(([, a]) => a);
    // The best is the first evaluation with the highest accuracy; patience 1: one more evaluation, then stop.
    expect(m.train.earlyStopped).toBe(true);
    expect(m.bestValAccuracy).toBe(Math.max(...accs));
    expect(m.bestEpoch).toBe(accs.indexOf(m.bestValAccuracy));
    expect(m.epochs).toBe(m.bestEpoch + 1);
    expect(accs).toHaveLength(m.epochs + 1);
    // The tested (and saved) weights are the best epoch's (or a later epoch's that tied it), not the last one's.
    expect(m.testedEpoch).toBeLessThan(m.epochs);
    expect(m.valAccuracy[m.testedEpoch]![1]).toBe(m.bestValAccuracy);
    const data = mnistSplits(split, 'cpu');
    const fresh = await loadModule(buildClassifier('mlp', 'cpu'), m.weightsPath);
    expect((await evaluateClassifier(fresh, data.val)).accuracy).toBe(m.bestValAccuracy);
    expect((await evaluateClassifier(fresh, data.test)).accuracy).toBe(m.testAccuracy);
    for (const t of [fresh, data.x, data.y]) t.dispose();
  });

  it('parses and checks its flags, and prints --help', async () => {
    expect(optionsFromArgv(['--model', 'lenet', '--epochs', '3', '--batch-size=16', '--lr', '1e-3', '--device', 'cpu', '--seed', '7', '--out', 'x']))
      .toMatchObject({ model: 'lenet', epochs: 3, batchSize: 16, lr: 1e-3, device: 'cpu', seed: 7, out: 'x' });
    expect(optionsFromArgv([])).toMatchObject({ model: 'both', device: 'auto', epochs: DEFAULT_OPTIONS.epochs });
    for (const bad of [['--model', 'cnn'], ['--epochs', '0'], ['--epochs', '2.5'], ['--lr', '0'], ['--lr', '-1'], ['--batch-size', '0'], ['--device', 'tpu'], ['--steps', '3']]) {
      expect(() => optionsFromArgv(bad)).toThrow(UsageError);
    }
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(await main(['--help'])).toBeNull();
      const text = log.mock.calls.map((c) => String(c[0])).join('\n');
      expect(text).toMatch(/usage: pnpm example mnist/);
      for (const f of ['--model', '--epochs', '--batch-size', '--lr', '--device', '--seed', '--out']) expect(text).toContain(f);
    } finally {
      log.mockRestore();
    }
  });

  it('shifts each image by its own random offset within the bound, filling with the given value', async () => {
    const [B, H, W, s] = [12, 5, 6, 2];
    const x = tensor(Float32Array.from({ length: B * H * W }, (_, i) => i + 1), { shape: [B, 1, H, W] });
    expect(randomShift(x, 0)).toBe(x);
    manualSeed(3);
    const y = randomShift(x, s, -7);
    manualSeed(3);
    const again = randomShift(x, s, -7);
    expect(y.shape).toEqual([B, 1, H, W]);
    const [xs, ys] = [x.dataSync(), y.dataSync()];
    expect([...again.dataSync()]).toEqual([...ys]);
    const seen = new Set<string>();
    for (let b = 0; b < B; b++) {
      // Exactly one offset (dy, dx) in [−s, s]² explains image b.
      const fits: string[] = [];
      for (let dy = -s; dy <= s; dy++) {
        for (let dx = -s; dx <= s; dx++) {
          let ok = true;
          for (let i = 0; i < H && ok; i++) {
            for (let j = 0; j < W && ok; j++) {
              const [si, sj] = [i - dy, j - dx];
              const want = si >= 0 && si < H && sj >= 0 && sj < W ? xs[b * H * W + si * W + sj]! : -7;
              ok = ys[b * H * W + i * W + j] === want;
            }
          }
          if (ok) fits.push(`${dy},${dx}`);
        }
      }
      expect(fits).toHaveLength(1);
      seen.add(fits[0]!);
    }
    expect(seen.size).toBeGreaterThan(3); // offsets differ from image to image
    expect(() => randomShift(x, 1.5)).toThrow(/maxShift must be an integer >= 0/);
    for (const t of [x, y, again]) t.dispose();
  });

  it('formats tables with aligned columns', () => {
    expect(formatTable(['model', 'acc'], [['mlp', '97.50%'], ['lenet', '9.00%']]).split('\n')).toEqual([
      'model  acc', '-----  ------', 'mlp    97.50%', 'lenet   9.00%',
    ]);
  });
});
