// The lora example on a tiny GPT pre-trained inside the test (CPU): only the adapters train (every
// base weight is bit-for-bit unchanged), the response loss falls, the adapter file is small and
// restores the model on a fresh base, the merged model's logits equal the adapter model's, and a
// comparable sft result is read instead of fine-tuning again.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memory } from '@webgrad/core';
import { readSafetensorsFile } from '@webgrad/nn';
import { generateCorpus } from '../shared/corpus.js';
import { DEFAULT_OPTIONS as SFT_DEFAULTS } from '../sft/sft.js';
import { main, optionsFromArgv } from './main.js';
import { DEFAULT_OPTIONS, loraSft, type LoraSftOptions } from './lora.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-lora-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const quiet = { write: () => true, isTTY: false };
const TINY: LoraSftOptions = {
  ...DEFAULT_OPTIONS, device: 'cpu', pretrained: join(root, 'pretrained'), pretrainSteps: 20,
  pretrain: { text: generateCorpus({ chars: 20_000, seed: 7 }), nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 64, batchSize: 8, lr: 1e-2, minLr: 1e-3, warmup: 2, evalInterval: 20, evalIters: 1, dropout: 0, seed: 3 },
  trainExamples: 200, evalExamples: 16, steps: 24, lr: 3e-2, minLr: 3e-3, warmup: 2, batchSize: 16, evalInterval: 24, seed: 5,
  r: 4, alpha: 8, fullFt: 'run', fullLr: 1e-2, sftResult: join(root, 'none.json'),
  out: join(root, 'lora'), stream: process.env.DEBUG_EX ? process.stdout : quiet, fsync: false, handleSigint: false,
};

describe('lora example', () => {
  it('trains only the adapters; merged == adapter model; the adapter file restores it', async () => {
    const before = memory();
    const r = await loraSft(TINY);
    expect(memory().tensors).toBe(before.tensors);
    const c = r.checks;
    expect(c.baseMaxDelta).toBe(0);
    // 1 block × 4 adapted Linears: cAttn 32→96, cProj 32→32, cFc 32→128, cProj 128→32, each r·(in + out).
    expect(c.trainable).toBe(4 * (32 + 96) + 4 * (32 + 32) + 4 * (32 + 128) + 4 * (128 + 32));
    expect(r.lora.parameters.trainable).toBe(c.trainable);
    expect(c.mergedMaxDelta).toBeLessThanOrEqual(c.mergeTolerance);
    expect(c.mergedMaxDelta).toBeLessThan(1e-4);
    expect(c.reloadedMaxDelta).toBe(0);
    expect(c.adapterBytes).toBeLessThan(c.mergedBytes / 2);
    const adapter = await readSafetensorsFile(c.adapterPath);
    expect(Object.keys(adapter.tensors).every((k) => /lora_[AB]\.weight$/.test(k))).toBe(true);
    expect(Object.keys(adapter.tensors)).toHaveLength(8);
    expect(r.lora.after.loss).toBeLessThan(r.lora.before.loss - 0.15);
    expect(r.full?.source).toBe(join(TINY.out, 'full-ft', 'results.json'));
    expect(r.full!.result.parameters.trainable).toBe(r.full!.result.parameters.total);
    expect(r.table).toMatch(/trainable parameters/);
  });

  it('--qlora: adapters on an NF4 base; the codes stay unchanged, the loss falls, the adapter restores the model on a freshly quantized base', async () => {
    const before = memory();
    const r = await loraSft({ ...TINY, qlora: true, fullFt: 'skip', out: join(root, 'qlora') });
    expect(memory().tensors).toBe(before.tensors);
    const c = r.checks;
    expect(c.baseMaxDelta).toBe(0);
    expect(c.reloadedMaxDelta).toBe(0);
    // 4-bit codes and one int8 absmax per 64 weights (4.125), plus per layer a second-level float
    // scale and the offset, which layers this small (1k–4k weights) do not amortize.
    expect(c.qloraBaseBits).toBeGreaterThan(4.125);
    expect(c.qloraBaseBits).toBeLessThan(4.25);
    expect(r.lora.after.loss).toBeLessThan(r.lora.before.loss - 0.15);
    expect(r.table).toMatch(/adapted base Linears, bits\/weight/);
  });

  it('reads a comparable sft result instead of fine-tuning again', async () => {
    const lines: string[] = [];
    const r = await loraSft({ ...TINY, fullFt: 'auto', sftResult: join(TINY.out, 'full-ft', 'results.json'), out: join(root, 'lora-2'), stream: { write: (s: string) => { lines.push(s); return true; }, isTTY: false } });
    expect(lines.join('')).toMatch(/full fine-tuning: read from/);
    expect(existsSync(join(root, 'lora-2', 'full-ft'))).toBe(false);
    expect(r.full?.result.after.loss).toBeGreaterThan(0);
  });

  it('refuses data with characters outside the vocabulary (their embedding rows would stay untrained)', async () => {
    const file = join(root, 'digits.jsonl');
    writeFileSync(file, Array.from({ length: 20 }, (_, i) => JSON.stringify({ instruction: 'count', input: 'a'.repeat(1 + (i % 9)), output: String(1 + (i % 9)) })).join('\n'));
    const before = memory();
    await expect(loraSft({ ...TINY, data: file, out: join(root, 'lora-digits') })).rejects.toThrow(/LoRA keeps the embedding frozen/);
    expect(memory().tensors).toBe(before.tensors);
  });

  it('parses flags and prints --help', async () => {
    const o = optionsFromArgv(['--r', '2', '--alpha=4', '--targets', 'attn.cAttn, mlp.cFc', '--full-ft', 'skip', '--qlora']);
    expect(o).toMatchObject({ r: 2, alpha: 4, targets: ['attn.cAttn', 'mlp.cFc'], fullFt: 'skip', steps: SFT_DEFAULTS.steps, qlora: true });
    expect(() => optionsFromArgv(['--full-ft', 'maybe'])).toThrow(/one of auto, run, skip/);
    const logs: string[] = [];
    const log = console.log;
    console.log = (s: string) => { logs.push(s); };
    try { expect(await main(['--help'])).toBeNull(); } finally { console.log = log; }
    expect(logs.join('\n')).toMatch(/--r <int> +rank of each LoRA update/);
  });
});
