// The quantize example on a tiny GPT pre-trained inside the test (CPU): every variant's file is
// written and smaller than float32's, the quantized Linears' bits per weight are the schemes', and
// int8 keeps the validation loss within 1% of float32's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { generateCorpus } from '../shared/corpus.js';
import { optionsFromArgv } from './main.js';
import { DEFAULT_OPTIONS, quantizeExample } from './quantize.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-quantize-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quiet = { write: () => true, isTTY: false };

it('stores the pre-trained GPT in float16 and quantizes it to int8, int4 and NF4, and measures each', async () => {
  const { results, table } = await quantizeExample({
    ...DEFAULT_OPTIONS, pretrained: join(root, 'pretrained'), out: join(root, 'out'), evalWindows: 8, genTokens: 8, rounds: 2, stream: quiet,
    pretrain: { text: generateCorpus({ chars: 20_000, seed: 7 }), steps: 30, nLayer: 1, nHead: 2, nEmbd: 64, blockSize: 32, batchSize: 8, lr: 1e-2, minLr: 1e-3, warmup: 2, evalInterval: 30, evalIters: 1, dropout: 0, seed: 3 },
  });
  expect(results.map((r) => r.name)).toEqual(['f32', 'f16 (all weights)', 'int8 (per channel)', 'int4 (group 64)', 'nf4 (block 64, double quant)']);
  const [f32, f16, int8, int4, nf4] = results as [typeof results[0], typeof results[0], typeof results[0], typeof results[0], typeof results[0]];
  expect(f32.linearBits).toBe(32);
  expect(f16.linearBits).toBe(16);
  // float16 storage: about half the float32 file (the header and names are the rest), loss within 1%.
  expect(f16.fileBytes).toBeLessThan(0.52 * f32.fileBytes);
  expect(Math.abs(f16.valLoss - f32.valLoss)).toBeLessThan(0.01 * f32.valLoss);
  // int8: 8 bits + a float scale per row (in = 64 for cAttn, attn.cProj, cFc: 2/3 of the weights; 256 for mlp.cProj);
  // int4: 4 bits + a float scale and a 4-bit zero point per 64; nf4 ≈ 4.127 (+ the per-layer second level).
  expect(int8.linearBits).toBeCloseTo(8 + (2 / 3) * (32 / 64) + (1 / 3) * (32 / 256), 6);
  expect(int4.linearBits).toBeCloseTo(4 + 32 / 64 + 4 / 64, 6);
  expect(nf4.linearBits).toBeGreaterThan(4.125);
  expect(nf4.linearBits).toBeLessThan(4.2);
  for (const r of [int8, int4, nf4]) expect(r.fileBytes).toBeLessThan(f32.fileBytes);
  expect(Math.abs(int8.valLoss - f32.valLoss)).toBeLessThan(0.01 * f32.valLoss);
  for (const r of results) {
    expect(r.roundTokensPerSecond).toHaveLength(2);
    expect(r.tokensPerSecond).toBeGreaterThan(0);
    expect(r.tokensPerCpuSecond).toBeGreaterThan(0);
  }
  expect(table).toMatch(/perplexity/);
});

it('parses flags', () => {
  expect(optionsFromArgv(['--eval-windows', '3', '--gen-tokens=5', '--rounds', '7'])).toMatchObject({ evalWindows: 3, genTokens: 5, rounds: 7, threads: 1, device: 'cpu' });
});
