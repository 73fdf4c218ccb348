// The continual-pretrain example on a tiny GPT pre-trained inside the test (CPU): both runs start
// from the same weights and evaluation, the new domain's loss falls in both, the run without replay
// forgets more of the old domain, and the logs, plots and result file are written.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memory } from '@webgrad/core';
import { readMetrics } from '@webgrad/train';
import { UsageError } from '../shared/args.js';
import { CharTokenizer } from '../shared/char_tokenizer.js';
import { generateCorpus } from '../shared/corpus.js';
import { DEFAULT_OPTIONS, continualPretrain, type ContinualOptions } from './continual.js';
import { main, optionsFromArgv } from './main.js';
import { generateRecipes } from './recipes.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-continual-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const quiet = { write: () => true, isTTY: false };
const oldText = generateCorpus({ chars: 20_000, seed: 7 });
const TINY: ContinualOptions = {
  ...DEFAULT_OPTIONS, device: 'cpu', pretrained: join(root, 'pretrained'), pretrainSteps: 60,
  pretrain: { text: oldText, nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 16, batchSize: 16, lr: 1e-2, minLr: 1e-3, warmup: 5, evalInterval: 60, evalIters: 2, dropout: 0, seed: 3 },
  newChars: 20_000, steps: 30, lr: 3e-3, minLr: 3e-4, warmup: 3, batchSize: 16, evalInterval: 10, evalBatches: 4, seed: 5,
  out: join(root, 'out'), stream: process.env.DEBUG_EX ? process.stdout : quiet, fsync: false, handleSigint: false,
};

describe('continual-pretrain example', () => {
  it('the recipes use only characters of the verse corpus, and look different', () => {
    const recipes = generateRecipes({ chars: 50_000 });
    expect(CharTokenizer.fromText(generateCorpus()).unknownChars(recipes)).toEqual([]);
    expect(recipes).toBe(generateRecipes({ chars: 50_000 }));
    expect(recipes).toMatch(/^Recipe: [a-z ]+\nServes [a-z]+\.\n/);
    const avgLine = (t: string) => t.length / t.split('\n').length;
    expect(avgLine(recipes)).toBeGreaterThan(1.5 * avgLine(generateCorpus({ chars: 50_000 })));
  });

  it('continues on the new domain: its loss falls; without replay the old domain is forgotten more', async () => {
    const before = memory();
    const r = await continualPretrain(TINY);
    expect(existsSync(join(TINY.pretrained, 'checkpoints'))).toBe(true); // pre-trained first
    expect(memory().tensors).toBe(before.tensors);
    expect(r.runs.map((x) => x.name)).toEqual(['mixed', 'new-only']);
    const [mixed, only] = r.runs as [typeof r.runs[0], typeof r.runs[0]];
    // Same start: the same weights evaluated on the same windows.
    expect(only.before).toEqual(mixed.before);
    expect(mixed.before.new).toBeGreaterThan(mixed.before.old + 0.2); // the new domain is new to the model
    for (const run of r.runs) {
      expect(run.train.step).toBe(30);
      expect(run.curve.map((c) => c.step)).toEqual([0, 10, 20, 30]);
      expect(run.after.new).toBeLessThan(run.before.new - 0.2);
    }
    expect(only.after.old - only.before.old).toBeGreaterThan(mixed.after.old - mixed.before.old);
    expect(r.addedChars).toBe('');

    const svg = readFileSync(r.plotPath, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    for (const name of ['mixed: new domain', 'mixed: old domain', 'new-only: new domain', 'new-only: old domain']) expect(svg).toContain(name);
    const evals = readMetrics(join(TINY.out, 'mixed', 'metrics.jsonl')).filter((x) => x.type === 'eval');
    expect(evals).toHaveLength(4);
    expect(Object.keys(evals[0]!.losses as object)).toEqual(['new', 'old']);
    const saved = JSON.parse(readFileSync(r.resultPath, 'utf8')) as { runs: { name: string; after: { old: number } }[] };
    expect(saved.runs[1]!.after.old).toBe(only.after.old);
    expect(r.table).toContain('new-only');
  });

  it('parses flags and prints --help', async () => {
    expect(optionsFromArgv(['--steps', '5', '--new-share=0.5', '--device', 'cpu'])).toMatchObject({ steps: 5, newShare: 0.5, device: 'cpu', lr: DEFAULT_OPTIONS.lr });
    expect(() => optionsFromArgv(['--new-shares', '1'])).toThrow(UsageError);
    const logs: string[] = [];
    const log = console.log;
    console.log = (s: string) => { logs.push(s); };
    try { expect(await main(['--help'])).toBeNull(); } finally { console.log = log; }
    expect(logs.join('\n')).toMatch(/--new-share <number>.*\(default 0\.7\)/);
  });
});
