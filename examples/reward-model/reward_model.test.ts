// The reward-model example at tiny sizes (CPU): a tiny sft model is made inside the test, the
// reward model's held-out accuracy and margin rise, the sft policy's samples are scored (best-of-n),
// and a user's JSONL is read with --data.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memory } from '@webgrad/core';
import { UsageError } from '../shared/args.js';
import { generateCorpus } from '../shared/corpus.js';
import { DEFAULT_OPTIONS as SFT_DEFAULTS } from '../sft/sft.js';
import { optionsFromArgv } from './main.js';
import { DEFAULT_OPTIONS, rewardModelExample, type RewardModelOptions } from './reward_model.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-rm-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quiet = { write: () => true, isTTY: false };

/** A tiny sft model (made on first use in root/sft): 1 layer, 32 wide, context 64. */
const TINY: RewardModelOptions = {
  ...DEFAULT_OPTIONS, device: 'cpu', sft: join(root, 'sft'),
  sftOptions: {
    ...SFT_DEFAULTS, pretrained: join(root, 'pretrained'), pretrainSteps: 20,
    pretrain: { text: generateCorpus({ chars: 20_000, seed: 7 }), nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 64, batchSize: 8, lr: 1e-2, minLr: 1e-3, warmup: 2, evalInterval: 20, evalIters: 1, dropout: 0, seed: 3 },
    trainExamples: 200, evalExamples: 8, steps: 30, lr: 1e-2, minLr: 1e-3, warmup: 2, batchSize: 16, evalInterval: 30, seed: 5,
  },
  trainPairs: 96, evalPairs: 32, epochs: 6, batchSize: 16, lr: 5e-3, warmup: 0, samplePrompts: 4, samplesPerPrompt: 3,
  out: join(root, 'rm'), stream: process.env.DEBUG_EX ? process.stdout : quiet, fsync: false, handleSigint: false,
};

describe('reward-model example', () => {
  it('parses flags: --help, typed values, unknown flags', () => {
    expect(optionsFromArgv(['--help']).help).toBe(true);
    const o = optionsFromArgv(['--epochs', '3', '--data', 'x.jsonl', '--device=webgpu', '--seed', '9']);
    expect([o.epochs, o.data, o.device, o.seed]).toEqual([3, 'x.jsonl', 'webgpu', 9]);
    expect(() => optionsFromArgv(['--epochs', '1.5'])).toThrow(UsageError);
    expect(() => optionsFromArgv(['--nope'])).toThrow(UsageError);
  });

  it('trains the reward model: the loss falls, the held-out margin rises; scores the policy’s samples', async () => {
    const mem = memory().tensors;
    const r = await rewardModelExample(TINY);
    expect(memory().tensors).toBe(mem);
    // A tiny model on a few pairs: the training pairs are learned, held-out ones move less.
    const logged = r.logHistory.filter((h) => 'accuracy' in h);
    expect(logged.at(-1)!.accuracy!).toBeGreaterThan(0.55);
    expect(r.after.eval_loss!).toBeLessThan(r.before.eval_loss!);
    expect(r.after.eval_margin!).toBeGreaterThan(r.before.eval_margin! + 0.2);
    expect(r.after.eval_accuracy!).toBeGreaterThanOrEqual(0.5);
    expect(r.bestOfN!.n).toBe(3);
    expect(r.logHistory.some((h) => 'accuracy' in h && 'margin' in h)).toBe(true);
    expect(JSON.parse(readFileSync(r.resultPath, 'utf8')).after.eval_accuracy).toBe(r.after.eval_accuracy);
  });

  it('reads a user JSONL with --data', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ prompt: `Q${i % 7}:`, chosen: 'good', rejected: i % 2 ? 'bad' : 'worse' }));
    const file = join(root, 'user.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await rewardModelExample({ ...TINY, data: file, out: join(root, 'user'), epochs: 4 });
    expect(r.data).toEqual({ source: file, train: 36, eval: 4 });
    expect(r.bestOfN).toBeNull();
    expect(r.after.eval_accuracy!).toBeGreaterThan(0.6);
  });

  it('checks its options', async () => {
    await expect(rewardModelExample({ ...TINY, lr: -1 })).rejects.toThrow(/lr/);
    await expect(rewardModelExample({ ...TINY, samplesPerPrompt: 0 })).rejects.toThrow(/samplesPerPrompt/);
  });
});
