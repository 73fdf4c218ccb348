// The sft example on a tiny GPT pre-trained inside the test (CPU): the generated tasks are
// checkable and split by input, the response-only labels are right, the held-out response loss
// falls, exact match is measured before and after, and JSONL data is read with --data.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memory } from '@webgrad/core';
import { parseInstructionRecords } from '@webgrad/data';
import { readMetrics } from '@webgrad/train';
import { CharTokenizer } from '../shared/char_tokenizer.js';
import { generateCorpus } from '../shared/corpus.js';
import { main, optionsFromArgv } from './main.js';
import { encodeExample, formatExample, formatPrompt } from './prompt.js';
import { DEFAULT_OPTIONS, sftGpt, type SftOptions } from './sft.js';
import { generateTaskData, isHeldOut } from './tasks.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-sft-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const quiet = { write: () => true, isTTY: false };
const text = generateCorpus({ chars: 20_000, seed: 7 });
/** A tiny GPT with room for the prompts (context 64), pre-trained for a few steps. */
export const TINY_SFT: SftOptions = {
  ...DEFAULT_OPTIONS, device: 'cpu', pretrained: join(root, 'pretrained'), pretrainSteps: 20,
  pretrain: { text, nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 64, batchSize: 8, lr: 1e-2, minLr: 1e-3, warmup: 2, evalInterval: 20, evalIters: 1, dropout: 0, seed: 3 },
  trainExamples: 200, evalExamples: 16, steps: 24, lr: 1e-2, minLr: 1e-3, warmup: 2, batchSize: 16, evalInterval: 12, seed: 5,
  out: join(root, 'sft'), stream: process.env.DEBUG_EX ? process.stdout : quiet, fsync: false, handleSigint: false,
};

describe('sft example', () => {
  it('generates checkable tasks, held out by input', () => {
    const { train, eval: held } = generateTaskData({ train: 400, eval: 40, seed: 1 });
    expect(train).toHaveLength(400);
    expect(new Set(train.map((r) => r.instruction))).toEqual(new Set(['copy', 'reverse', 'uppercase', 'sort']));
    expect(train.every((r) => !isHeldOut(r)) && held.every(isHeldOut)).toBe(true);
    const inputs = new Set(train.map((r) => r.input));
    expect(held.some((r) => inputs.has(r.input))).toBe(false);
    const rev = train.find((r) => r.instruction === 'reverse')!;
    expect([...rev.output].reverse().join('')).toBe(rev.input);
    expect(train.filter((r) => r.instruction === 'sort').every((r) => r.output === [...r.input].sort().join(''))).toBe(true);
    expect(train.filter((r) => r.instruction === 'uppercase').every((r) => r.output === r.input.toUpperCase())).toBe(true);
  });

  it('labels only the response: −100 on every prompt target', () => {
    const tok = CharTokenizer.fromText(generateCorpus());
    const r = { instruction: 'reverse', input: 'moon', output: 'noom' };
    const e = encodeExample(r, tok, 64)!;
    const full = formatExample(r);
    expect(tok.decode(e.inputIds)).toBe(full.slice(0, -1));
    expect(e.promptLength).toBe(formatPrompt(r).length);
    const labelled = [...e.labels].map((v, i) => [v, i] as const).filter(([v]) => v !== -100);
    expect(tok.decode(labelled.map(([v]) => v))).toBe('noom\n');
    expect(labelled[0]![1]).toBe(e.promptLength - 1); // the last prompt position predicts the first answer character
    expect(encodeExample({ ...r, input: 'm'.repeat(60) }, tok, 64)).toBeNull();
  });

  it('fine-tunes: the held-out response loss falls; exact match before and after; JSONL written', async () => {
    const before = memory();
    const r = await sftGpt(TINY_SFT);
    expect(memory().tensors).toBe(before.tensors);
    expect(r.train.step).toBe(24);
    expect(r.train.evals.map((e) => e.step)).toEqual([0, 12, 24]);
    expect(r.after.loss).toBeLessThan(r.before.loss - 0.5);
    for (const s of [r.before, r.after]) expect(s.exactMatch).toBeGreaterThanOrEqual(0);
    expect(r.before.exactMatch).toBe(0);
    expect(Object.keys(r.after.byInstruction).sort()).toEqual(['copy', 'reverse', 'sort', 'uppercase']);
    expect(r.parameters.trainable).toBe(r.parameters.total);
    const written = parseInstructionRecords(readFileSync(join(TINY_SFT.out, 'data', 'train.jsonl'), 'utf8')).records;
    expect(written).toHaveLength(r.data.train);
    const evals = readMetrics(r.train.metricsPath).filter((x) => x.type === 'eval');
    expect(evals[0]!.metrics).toHaveProperty('exact_match');
    expect(JSON.parse(readFileSync(r.resultPath, 'utf8')).after.loss).toBe(r.after.loss);
  });

  it('reads --data JSONL, splits off held-out records, and grows the vocabulary for new characters', async () => {
    const records = Array.from({ length: 60 }, (_, i) => ({ instruction: 'count', input: 'a'.repeat(1 + (i % 9)), output: String(1 + (i % 9)) }));
    const file = join(root, 'digits.jsonl');
    writeFileSync(file, records.map((x) => JSON.stringify(x)).join('\n'));
    const lines: string[] = [];
    const r = await sftGpt({ ...TINY_SFT, data: file, steps: 4, evalInterval: 4, out: join(root, 'sft-data'), stream: { write: (s: string) => { lines.push(s); return true; }, isTTY: false } });
    expect(r.data).toMatchObject({ train: 54, eval: 6, tooLong: 0 });
    expect(lines.join('')).toMatch(/vocabulary: adding 9 characters .*"123456789"/);
    expect(r.after.loss).toBeLessThan(r.before.loss);
  });

  it('parses flags and prints --help', async () => {
    expect(optionsFromArgv(['--data', 'x.jsonl', '--steps=3', '--lr', '0.01'])).toMatchObject({ data: 'x.jsonl', steps: 3, lr: 0.01, batchSize: DEFAULT_OPTIONS.batchSize });
    const logs: string[] = [];
    const log = console.log;
    console.log = (s: string) => { logs.push(s); };
    try { expect(await main(['--help'])).toBeNull(); } finally { console.log = log; }
    expect(logs.join('\n')).toMatch(/--data <string> +JSONL file/);
  });
});
