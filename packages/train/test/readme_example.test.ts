// The README's "Training from the packages" program, run as written (a shorter schedule) on synthetic data
// (noise plus a bright pixel at the class's index): it must train, so the README stays true.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { manualSeed, oneHot, pad, randint, randn, tidy, type Tensor } from '@webgrad/core';
import { TensorDataset, DataLoader, randomSplit } from '@webgrad/data';
import { Linear, Module, crossEntropy } from '@webgrad/nn';
import { AdamW, LrScheduler, cosineWithWarmup } from '@webgrad/optim';
import { Trainer } from '@webgrad/train';

const out = mkdtempSync(join(tmpdir(), 'webgrad-readme-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('the README training program trains', async () => {
  manualSeed(1);
  const { images, labels } = tidy(() => {
    const labels = randint(0, 10, [2000]);
    // Noise, plus a bright pixel at the class's index among the first ten.
    const images = randn([2000, 784]).add(pad(oneHot(labels, 10).to('float32').mul(3), [0, 774]));
    return { images, labels };
  });

  class Net extends Module {
    fc1 = new Linear(784, 256);
    fc2 = new Linear(256, 10);
    forward(x: Tensor): Tensor { return this.fc2.forward(this.fc1.forward(x).relu()); }
  }
  manualSeed(0);
  const [train, val] = randomSplit(new TensorDataset(images, labels), [0.9, 0.1], { seed: 0 });
  const model = new Net();
  const optimizer = new AdamW(model.parameters(), { lr: 1e-3 });
  const scheduler = new LrScheduler(optimizer, cosineWithWarmup({ lr: 1e-3, warmupSteps: 10, decaySteps: 150 }));
  const result = await new Trainer({
    model, optimizer, scheduler, epochs: 5, outDir: join(out, 'mlp'),
    trainData: new DataLoader(train!, { batchSize: 64, shuffle: true, seed: 0 }),
    trainLoss: ([x, y]) => crossEntropy(model.forward(x), y),
    evalData: { val: new DataLoader(val!, { batchSize: 256 }) },
    evalLoss: (_split, [x, y]) => crossEntropy(model.forward(x), y),
    best: { metric: 'val', patience: 3 },
    stream: { write: () => true }, tty: false, handleSigint: false, fsync: false,
  }).run();
  expect([...model.namedParameters()].map(([n]) => n)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
  expect(result.evals.at(-1)!.losses.val!).toBeLessThan(result.evals[0]!.losses.val! * 0.8);
  images.dispose(); labels.dispose();
});
