// The dpo example at tiny sizes (CPU): a tiny sft model is made inside the test, the generated
// pairs are checkable, both runs (without and with the NLL term) raise the held-out
// implicit-reward accuracy and margin, samples are checked before and after, and a user's JSONL
// (with characters the vocabulary lacks) is read with --data.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memory } from '@webgrad/core';
import { UsageError } from '../shared/args.js';
import { generateCorpus } from '../shared/corpus.js';
import { WRONG_KINDS, checkSortAnswer, generateSortPreferences, wordOf, wrongAnswer } from '../shared/sort_preferences.js';
import { DEFAULT_OPTIONS as SFT_DEFAULTS } from '../sft/sft.js';
import { optionsFromArgv } from './main.js';
import { DEFAULT_OPTIONS, dpoExample, type DpoOptions } from './dpo.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-dpo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quiet = { write: () => true, isTTY: false };
const stream = process.env.DEBUG_EX ? process.stdout : quiet;

/** A tiny sft model (made on first use in root/sft): 1 layer, 32 wide, context 64. */
const TINY: DpoOptions = {
  ...DEFAULT_OPTIONS, device: 'cpu', sft: join(root, 'sft'),
  sftOptions: {
    ...SFT_DEFAULTS, pretrained: join(root, 'pretrained'), pretrainSteps: 20,
    pretrain: { text: generateCorpus({ chars: 20_000, seed: 7 }), nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 64, batchSize: 8, lr: 1e-2, minLr: 1e-3, warmup: 2, evalInterval: 20, evalIters: 1, dropout: 0, seed: 3 },
    trainExamples: 200, evalExamples: 8, steps: 30, lr: 1e-2, minLr: 1e-3, warmup: 2, batchSize: 16, evalInterval: 30, seed: 5,
  },
  trainPairs: 96, evalPairs: 32, epochs: 4, batchSize: 16, lr: 3e-3, warmup: 0, beta: 0.5, samplePrompts: 4, samplesPerPrompt: 2,
  out: join(root, 'dpo'), stream, fsync: false, handleSigint: false,
};

describe('dpo example', () => {
  it('generates checkable pairs: every rejected answer is wrong, every chosen one sorted', () => {
    const { train, eval: held } = generateSortPreferences({ train: 60, eval: 12, seed: 1 });
    expect(train).toHaveLength(60);
    expect(held).toHaveLength(12);
    for (const r of [...train, ...held]) {
      const w = wordOf(r.prompt);
      expect(checkSortAnswer(w, r.chosen, true)).toEqual({ valid: true, sorted: true });
      expect(checkSortAnswer(w, r.rejected, true).sorted).toBe(false);
    }
    const words = new Set(train.map((r) => wordOf(r.prompt)));
    expect(held.some((r) => words.has(wordOf(r.prompt)))).toBe(false);
    let n = 0;
    for (const kind of WRONG_KINDS) for (let s = 0; s < 20; s++) { const w = wrongAnswer('hello', kind, Math.random); if (w !== null) { n++; expect(w).not.toBe('ehllo'); } }
    expect(n).toBeGreaterThan(100);
    expect(checkSortAnswer('ab', 'ab', false).valid).toBe(false);
    expect(checkSortAnswer('ab', 'a b', true).valid).toBe(false);
  });

  it('parses flags: --help, typed values, unknown flags', () => {
    expect(optionsFromArgv(['--help']).help).toBe(true);
    const o = optionsFromArgv(['--loss-type', 'ipo', '--rpo-alpha=0.5', '--compare=false', '--device', 'cpu', '--seed', '3', '--out', 'x']);
    expect([o.lossType, o.rpoAlpha, o.compare, o.device, o.seed, o.out]).toEqual(['ipo', 0.5, false, 'cpu', 3, 'x']);
    expect(() => optionsFromArgv(['--loss-type', 'kto'])).toThrow(UsageError);
    expect(() => optionsFromArgv(['--bogus'])).toThrow(UsageError);
  });

  it('trains DPO without and with the NLL term: held-out implicit-reward accuracy and margins rise', async () => {
    const mem = memory().tensors;
    const r = await dpoExample(TINY);
    expect(memory().tensors).toBe(mem);
    expect(r.variants.map((v) => v.rpoAlpha)).toEqual([null, 1]);
    for (const v of r.variants) {
      expect(v.before['eval_rewards/accuracies']).toBe(0); // policy = reference: every margin is 0
      // A tiny model on a few pairs: the training pairs are learned, held-out ones move less.
      const logged = v.logHistory.filter((h) => 'rewards/accuracies' in h);
      expect(logged.at(-1)!['rewards/accuracies']!).toBeGreaterThan(0.6);
      expect(logged.at(-1)!['rewards/margins']!).toBeGreaterThan(logged[0]!['rewards/margins']!);
      expect(v.after['eval_rewards/accuracies']!).toBeGreaterThan(0.5);
      expect(v.after['eval_rewards/margins']!).toBeGreaterThan(0);
      expect(v.samples!.samples).toHaveLength(8);
    }
    expect('eval_nll_loss' in r.variants[1]!.after).toBe(true);
    expect(r.samplesBefore!.samples).toHaveLength(8);
    expect(r.table).toMatch(/sampled answers well-formed/);
    const saved = JSON.parse(readFileSync(r.resultPath, 'utf8'));
    expect(saved.variants).toHaveLength(2);
    expect(existsSync(join(TINY.out, 'data', 'train.jsonl'))).toBe(true);
  });

  it('reads a user JSONL with --data (new characters grow the vocabulary); IPO with a frozen reference copy', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ prompt: `Q${i % 5}#`, chosen: 'yes#', rejected: i % 2 ? 'no' : 'maybe' }));
    const file = join(root, 'user.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await dpoExample({ ...TINY, data: file, out: join(root, 'user'), lossType: 'ipo', compare: false, refPolicy: 'copy', epochs: 3 });
    expect(r.data).toEqual({ source: file, train: 27, eval: 3 });
    expect(r.samplesBefore).toBeNull();
    expect(r.variants).toHaveLength(1);
    expect(r.variants[0]!.after['eval_rewards/accuracies']!).toBeGreaterThan(0.6);
  });

  it('checks its options', async () => {
    await expect(dpoExample({ ...TINY, beta: 0 })).rejects.toThrow(/beta/);
    await expect(dpoExample({ ...TINY, epochs: 0 })).rejects.toThrow(/epochs/);
    await expect(dpoExample({ ...TINY, refPolicy: 'none' as never })).rejects.toThrow(/refPolicy/);
  });
});
