// pretrain-gpt --precision: f16 and bf16 train under autocast (f16 with a GradScaler), free every
// tensor, keep float32 weights in the checkpoint, and use less memory than f32; the flag is
// parsed and a bad value refused. A tiny model on the cpu.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memory } from '@webgrad/core';
import { UsageError } from '../shared/args.js';
import { generateCorpus } from '../shared/corpus.js';
import { optionsFromArgv } from './main.js';
import { DEFAULT_OPTIONS, pretrainGpt, type PretrainOptions } from './pretrain.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-pretrain-precision-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TINY: PretrainOptions = {
  ...DEFAULT_OPTIONS, text: generateCorpus({ chars: 5_000, seed: 7 }), device: 'cpu', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8, batchSize: 4,
  steps: 4, lr: 1e-2, minLr: 1e-3, warmup: 1, dropout: 0, evalInterval: 4, evalIters: 1, seed: 3,
  sampleTokens: 0, fsync: false, handleSigint: false, stream: { write: () => true, isTTY: false },
};

describe('pretrain-gpt --precision', () => {
  it('parses f32 (default), f16 and bf16 and refuses anything else', async () => {
    expect(optionsFromArgv([]).precision).toBe('f32');
    expect(optionsFromArgv(['--precision', 'f16']).precision).toBe('f16');
    expect(optionsFromArgv(['--precision', 'bf16']).precision).toBe('bf16');
    expect(() => optionsFromArgv(['--precision', 'fp8'])).toThrow(UsageError);
    await expect(pretrainGpt({ ...TINY, precision: 'half' as never, out: join(root, 'bad') })).rejects.toThrow(/precision/);
  });

  it('f16 and bf16 train with float32 weights, free everything, and peak below f32', async () => {
    const peaks: Record<string, number> = {};
    for (const precision of ['f32', 'f16', 'bf16'] as const) {
      const before = memory();
      const r = await pretrainGpt({ ...TINY, precision, out: join(root, precision) });
      expect(memory().tensors).toBe(before.tensors);
      expect(r.precision).toBe(precision);
      const losses = r.train.trainLosses.map(([, l]) => l);
      expect(losses.length).toBe(4);
      for (const l of losses) expect(Number.isFinite(l)).toBe(true);
      expect(r.train.evals.at(-1)!.losses.val).toBeLessThan(r.train.evals[0]!.losses.val!);
      peaks[precision] = r.peakBytes;
    }
    expect(peaks.f32).toBeGreaterThan(0);
    expect(peaks.f16).toBeLessThan(peaks.f32!);
    expect(peaks.bf16).toBeLessThan(peaks.f32!);
  });
});
