// The Trainer with a GradScaler (mixed precision): losses are scaled before backward, gradients
// unscaled before clipping, overflowing steps skipped with the scale backing off, and the
// scaler's state checkpointed through `state`. The forward runs under autocast float16 (cpu).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValueError, autocast, manualSeed, memory, randn, tensor, tidy, type Tensor } from '@webgrad/core';
import { Linear, mseLoss } from '@webgrad/nn';
import { GradScaler, SGD, loadCheckpoint, latestCheckpoint } from '@webgrad/optim';
import { Trainer, type TrainerOptions } from '@webgrad/train';

const root = mkdtempSync(join(tmpdir(), 'webgrad-trainer-amp-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quiet = { handleSigint: false, fsync: false, stream: { write: () => true }, tty: false } as const;

type Batch = { x: Tensor; y: Tensor };
function batches(n: number): Batch[] {
  manualSeed(1);
  const w = tensor([[1], [-2], [0.5]], { dtype: 'float32' });
  const out = Array.from({ length: n }, () => tidy(() => { const x = randn([8, 3]); return { x, y: x.matmul(w).add(0.3) }; }));
  w.dispose();
  return out;
}

describe('Trainer with a GradScaler', () => {
  it('skips the overflowing steps (the scale backs off from 2^40), then trains; float32 weights; the scale is checkpointed', async () => {
    manualSeed(3);
    const model = new Linear(3, 1);
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    const gradScaler = new GradScaler({ initScale: 2 ** 40, growthInterval: 1000 });
    const w0 = Array.from(await model.weight.data());
    const opts: TrainerOptions<Batch> = {
      model, optimizer, gradScaler, state: { gradScaler }, gradClip: 1, trainData: batches(8), steps: 60, outDir: join(root, 'amp'), ...quiet,
      trainLoss: (b) => autocast({ dtype: 'float16' }, () => mseLoss(model.forward(b.x), b.y)),
    };
    const r = await new Trainer(opts).run();
    expect(r.step).toBe(60);
    // 2^40 · (gradient ≈ 1) overflows float16 (max 65504): the scale halves on each such step
    // (and never grows: growthInterval 1000), so the skipped steps are counted by the scale.
    const scale = gradScaler.getScale();
    expect(scale).toBeLessThanOrEqual(2 ** 16);
    const skipped = 40 - Math.log2(scale);
    expect(60 - skipped).toBeGreaterThan(20); // steps applied
    expect(model.weight.dtype).toBe('float32');
    expect(Array.from(await model.weight.data())).not.toEqual(w0);
    const last = r.trainLosses.at(-1)![1];
    expect(last).toBeLessThan(r.trainLosses[0]![1] / 4);
    const restored = new GradScaler();
    await loadCheckpoint((await latestCheckpoint(join(root, 'amp', 'checkpoints')))!.path, { model, optimizer, others: { gradScaler: restored } });
    expect(restored.getScale()).toBe(scale);
    optimizer.dispose(); model.dispose();
  });

  it('memory stays flat across scaled steps', async () => {
    manualSeed(4);
    const model = new Linear(3, 1);
    const optimizer = new SGD(model.parameters(), { lr: 0.05 });
    const data = batches(4);
    const run = (steps: number, out: string) => new Trainer<Batch>({
      model, optimizer, gradScaler: new GradScaler({ initScale: 1024 }), gradClip: 1, trainData: data, steps, outDir: join(root, out), ...quiet,
      trainLoss: (b) => autocast({ dtype: 'float16' }, () => mseLoss(model.forward(b.x), b.y)),
    }).run();
    await run(2, 'm1');
    const before = memory().tensors;
    await run(10, 'm2');
    expect(memory().tensors).toBe(before);
    optimizer.dispose(); model.dispose();
  });

  it('gradScaler must be a GradScaler', () => {
    const model = new Linear(3, 1);
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    expect(() => new Trainer({ model, optimizer, gradScaler: {} as never, steps: 1, trainLoss: () => tensor(0), outDir: join(root, 'bad'), ...quiet }))
      .toThrow(ValueError);
  });
});
