// RewardTrainer and DPOTrainer on every device present: a few steps from the same weights give the
// same metrics and weights on the WebGPU device as on the CPU (batches, masks, running sums and the
// reference log-probs all live on the model's device).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasDevice, manualSeed, type DeviceName } from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { DPOTrainer, RewardModel, RewardTrainer, type PreferenceText } from '@webgrad/rl';
import { expectClose } from './helpers.js';

const DEVICES: DeviceName[] = hasDevice('webgpu') ? ['cpu', 'webgpu'] : ['cpu'];
const root = mkdtempSync(join(tmpdir(), 'webgrad-pref-dev-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quiet = { handleSigint: false, fsync: false, stream: { write: () => true }, tty: false } as const;
const letters = { encode: (s: string) => [...s].map((c) => c.charCodeAt(0) - 96), eosId: 7 };
const data: PreferenceText[] = ['a', 'f', 'af', 'fa', 'aa', 'ff'].map((prompt, i) => ({ prompt, chosen: 'bc', rejected: ['de', 'cb', 'b'][i % 3]! }));

function gpt(device: DeviceName): GPT {
  manualSeed(9);
  return new GPT({ vocabSize: 8, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16, device });
}

async function run(device: DeviceName, kind: 'dpo' | 'reward'): Promise<{ metrics: Record<string, number>; weights: number[] }> {
  const config = { outDir: join(root, `${kind}-${device}`), steps: 4, batchSize: 3, learningRate: 1e-2, logInterval: 2, ...quiet };
  const model = gpt(device);
  if (kind === 'dpo') {
    const t = new DPOTrainer({ model, tokenizer: letters, trainDataset: data, evalDataset: data, config: { ...config, rpoAlpha: 0.5 } });
    await t.train();
    const metrics = await t.evaluate();
    t.dispose();
    const weights = Array.from(await model.lmHead.weight.data());
    model.dispose();
    return { metrics, weights };
  }
  const rm = new RewardModel(model);
  const t = new RewardTrainer({ model: rm, tokenizer: letters, trainDataset: data, evalDataset: data, config });
  await t.train();
  const metrics = await t.evaluate();
  t.dispose();
  const weights = Array.from(await rm.score.head.weight.data());
  rm.dispose();
  return { metrics, weights };
}

describe.each(DEVICES)('preference trainers on %s', (device) => {
  for (const kind of ['dpo', 'reward'] as const) {
    it(`${kind}: the same metrics and weights as on the CPU`, async () => {
      const got = await run(device, kind);
      for (const v of Object.values(got.metrics)) expect(Number.isFinite(v)).toBe(true);
      if (device === 'cpu') return;
      const want = await run('cpu', kind);
      for (const k of Object.keys(want.metrics)) expectClose(got.metrics[k]!, want.metrics[k]!, 2e-3);
      expectClose(got.weights, want.weights, 2e-3);
    });
  }
});
