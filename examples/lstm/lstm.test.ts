// The lstm example on tiny sizes (CPU): both tasks train through the Trainer, the character model's
// validation loss falls below the unigram baseline, the forecaster beats the last-value and
// seasonal-naive forecasts on held-out data, a GRU cell trains too, outputs are written, nothing
// leaks; and the pieces (window datasets, baselines, flags, --help) on their own.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { memory } from '@webgrad/core';
import { readMetrics } from '@webgrad/train';
import { UsageError } from '../shared/args.js';
import { generateCorpus } from '../shared/corpus.js';
import { bigramNll, entropy, forecastErrors, naiveForecasts, unigramNll } from './baselines.js';
import { main, optionsFromArgv } from './main.js';
import { runLstm, type LstmOptions } from './lstm.js';
import { generateSeries } from './series.js';
import { ForecastWindows, NextTokenWindows } from './windows.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-lstm-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const quiet = { stream: { write: () => true, isTTY: false }, fsync: false, handleSigint: false };
const TINY: LstmOptions = {
  task: 'both', cell: 'lstm', device: 'cpu', seed: 3, out: root, text: generateCorpus({ chars: 6000, seed: 7 }),
  charlm: { embedDim: 8, hidden: 16, blockSize: 16, batchSize: 16, steps: 30, lr: 3e-2, warmup: 2, evalInterval: 15, sampleChars: 30 },
  forecast: { hidden: 12, window: 24, length: 600, batchSize: 32, steps: 40, lr: 3e-2, warmup: 2, evalInterval: 20 },
  ...quiet,
};

describe('lstm example', () => {
  it('trains both tasks: the LM beats the unigram model, the forecaster the naive forecasts', async () => {
    const before = memory();
    const r = await runLstm({ ...TINY, out: join(root, 'both') });
    expect(memory().tensors).toBe(before.tensors);
    expect(memory().bytes).toBe(before.bytes);

    const lm = r.charlm!;
    expect(lm.train.step).toBe(30);
    expect(lm.train.evals.map((e) => e.step)).toEqual([0, 15, 30]);
    const [first, last] = [lm.train.evals[0]!.losses, lm.train.evals[2]!.losses];
    expect(last.val!).toBeLessThan(first.val! - 0.5);
    expect(lm.valNll).toBeLessThan(lm.baselines.unigramNll - 0.1);
    expect(lm.valPerplexity).toBeCloseTo(Math.exp(lm.valNll), 6);
    expect(lm.sample).toHaveLength(30);
    expect([...lm.sample].every((c) => TINY.text!.includes(c))).toBe(true);

    const fc = r.forecast!;
    expect(fc.train.step).toBe(40);
    expect(fc.test.windows).toBe(90); // the last 15% of 600 values, one target each
    expect(fc.test.model.mse).toBeLessThan(0.8 * Math.min(fc.test.lastValue.mse, fc.test.seasonalNaive.mse));
    expect(fc.test.model.mae).toBeLessThan(Math.min(fc.test.lastValue.mae, fc.test.seasonalNaive.mae));

    for (const task of ['charlm', 'forecast']) {
      const dir = join(root, 'both', task);
      const records = readMetrics(join(dir, 'metrics.jsonl'));
      expect(records[0]).toMatchObject({ type: 'config', config: { task, seed: 3 } });
      expect(records.at(-1)!.type).toBe('summary');
      expect(readFileSync(join(dir, 'loss.svg'), 'utf8')).toMatch(/^<svg[\s\S]*val \(eval\)[\s\S]*<\/svg>\s*$/);
      expect(existsSync(join(dir, 'checkpoints'))).toBe(true);
    }
    expect(r.summary.map((row) => [row.task, row.metric])).toEqual([
      ['charlm', 'val loss (nats/char)'], ['charlm', 'val perplexity'], ['forecast', 'test MSE'], ['forecast', 'test MAE'],
    ]);
    expect(r.summary.map((row) => row.model)).toEqual(['LSTM 1×16', 'LSTM 1×16', 'LSTM 1×12', 'LSTM 1×12']);
  });

  it('trains a GRU cell', async () => {
    const r = await runLstm({ ...TINY, task: 'charlm', cell: 'gru', out: join(root, 'gru'), charlm: { ...TINY.charlm, steps: 20, evalInterval: 20, sampleChars: 0 } });
    const evals = r.charlm!.train.evals;
    expect(evals.at(-1)!.losses.val!).toBeLessThan(evals[0]!.losses.val! - 0.5);
    expect(r.charlm!.model).toBe('GRU 1×16');
    expect(r.forecast).toBeUndefined();
  });

  it('windows a sequence for the DataLoader', () => {
    const tokens = Int32Array.from({ length: 10 }, (_, i) => i);
    const w = new NextTokenWindows(tokens, 4, 4); // tiles: offsets 0 and 4
    expect(w.length).toBe(2);
    expect(w.get(1)).toEqual({ x: Int32Array.of(4, 5, 6, 7), y: Int32Array.of(5, 6, 7, 8) });
    const b = w.getBatch([1, 0]);
    expect(b.x.shape).toEqual([2, 4]);
    expect(Array.from(b.y.dataSync())).toEqual([5, 6, 7, 8, 1, 2, 3, 4]);
    b.x.dispose(); b.y.dispose();
    expect(new NextTokenWindows(tokens, 4).length).toBe(6);

    const f = new ForecastWindows(Float32Array.from(tokens), 3, 2);
    expect(f.length).toBe(6);
    const fb = f.getBatch([5]);
    expect(fb.x.shape).toEqual([1, 3, 1]);
    expect(Array.from(fb.x.dataSync())).toEqual([5, 6, 7]);
    expect(Array.from(fb.y.dataSync())).toEqual([8, 9]);
    fb.x.dispose(); fb.y.dispose();
    expect(() => new ForecastWindows(Float32Array.of(1, 2), 2)).toThrow(/too short/);
  });

  it('computes the baselines', () => {
    // Uniform data over 4 symbols: entropy ln 4; with add-one smoothing the unigram stays uniform.
    const uniform = Int32Array.from({ length: 400 }, (_, i) => i % 4);
    expect(entropy(uniform, 4)).toBeCloseTo(Math.log(4), 10);
    expect(unigramNll(uniform, uniform, 4)).toBeCloseTo(Math.log(4), 10);
    // A cycle is almost deterministic for the bigram model: (99 + 1) / (100 + 4) per step.
    expect(bigramNll(uniform, uniform, 4)).toBeLessThan(0.05);

    const s = Float32Array.from({ length: 12 }, (_, i) => i % 4);
    const { last, seasonal, target } = naiveForecasts(s, 4, 1, 4);
    expect(Array.from(target)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect(Array.from(seasonal)).toEqual(Array.from(target)); // period 4 is exact
    expect(Array.from(last)).toEqual([3, 0, 1, 2, 3, 0, 1, 2]);
    expect(forecastErrors(last, target)).toEqual({ mse: 3, mae: 1.5 }); // errors 3, −1, −1, −1
    expect(() => naiveForecasts(s, 3, 1, 4)).toThrow(/period ≤ window/);

    const a = generateSeries({ length: 50, seed: 1 });
    expect(a.values).toEqual(generateSeries({ length: 50, seed: 1 }).values);
    expect(a.values).not.toEqual(generateSeries({ length: 50, seed: 2 }).values);
  });

  it('parses flags and prints --help', async () => {
    const o = optionsFromArgv(['--task', 'forecast', '--cell=gru', '--steps', '7', '--hidden', '5', '--window', '30', '--block-size', '12', '--layers', '2']);
    expect(o).toMatchObject({ task: 'forecast', cell: 'gru', steps: 7, hidden: 5, charlm: { blockSize: 12, layers: 2 }, forecast: { window: 30, layers: 2 } });
    expect(optionsFromArgv([])).toMatchObject({ task: 'both', cell: 'lstm', device: 'auto', charlm: {}, forecast: {} });
    expect(() => optionsFromArgv(['--cell', 'rnn'])).toThrow(UsageError);
    expect(() => optionsFromArgv(['--hiden', '5'])).toThrow(/unknown flag --hiden/);

    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await main(['--help'])).toBeNull();
      const text = log.mock.calls.map((c) => String(c[0])).join('\n');
      for (const flag of ['--task', '--cell', '--data', '--device', '--seed', '--out', '--steps', '--epochs', '--hidden', '--lr']) expect(text).toContain(flag);
    } finally {
      log.mockRestore();
    }
  });
});
