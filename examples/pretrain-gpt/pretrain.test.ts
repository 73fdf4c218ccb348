// The pretrain-gpt example end to end on a tiny model and corpus (CPU): it trains, its loss falls,
// its checkpoint reloads, a run stopped midway and resumed matches an uninterrupted run exactly,
// the metrics log and loss plot are written, and sampling returns text.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memory, tensor } from '@webgrad/core';
import { GPT, loadModule } from '@webgrad/nn';
import { latestCheckpoint, loadCheckpoint } from '@webgrad/optim';
import { UsageError } from '../shared/args.js';
import type { BatchTraceFile } from '../shared/batch_trace.js';
import { getBatch, trainValSplit } from '../shared/batches.js';
import { CharTokenizer } from '../shared/char_tokenizer.js';
import { generateCorpus } from '../shared/corpus.js';
import { readMetrics } from '@webgrad/train';
import { optionsFromArgv } from './main.js';
import { DEFAULT_OPTIONS, NANOGPT_CPU_CONFIG, pretrainGpt, type PretrainOptions, type PretrainResult } from './pretrain.js';


const root = mkdtempSync(join(tmpdir(), 'webgrad-pretrain-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const text = generateCorpus({ chars: 20_000, seed: 7 });
const TINY: PretrainOptions = {
  ...DEFAULT_OPTIONS, text, device: 'cpu', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8,
  steps: 16, lr: 1e-2, minLr: 1e-3, warmup: 2, dropout: 0.1, evalInterval: 4, evalIters: 2, seed: 3,
  sampleTokens: 40, fsync: false, handleSigint: false, stream: { write: () => true, isTTY: false },
};

describe('pretrain-gpt example', () => {
  let full: PretrainResult;

  it('trains: completes, loss falls, writes metrics and plot, samples text', async () => {
    const out = join(root, 'full');
    const before = memory();
    full = await pretrainGpt({ ...TINY, out });
    // Every tensor of the run (batches, activations, gradients, model, optimizer state) is freed.
    expect(memory().tensors).toBe(before.tensors);
    expect(memory().bytes).toBe(before.bytes);
    const r = full.train;
    expect(r.interrupted).toBe(false);
    expect(r.step).toBe(16);
    expect(r.trainLosses).toHaveLength(16);
    expect(r.msPerStep).toBeGreaterThan(0);
    const first = r.evals[0]!.losses;
    const last = r.evals[r.evals.length - 1]!.losses;
    expect(r.evals.map((e) => e.step)).toEqual([0, 4, 8, 12, 16]);
    expect(last.train!).toBeLessThan(first.train! - 0.3);
    expect(last.val!).toBeLessThan(first.val! - 0.3);

    const records = readMetrics(r.metricsPath);
    expect(readFileSync(r.metricsPath, 'utf8').trim().split('\n').every((l) => typeof JSON.parse(l) === 'object')).toBe(true);
    expect(records[0]).toMatchObject({ type: 'config', step: 0, config: { seed: 3, device: 'cpu', steps: 16, model: { nLayer: 1, nEmbd: 16 } } });
    expect(records.filter((x) => x.type === 'train')).toHaveLength(16);
    expect(records.filter((x) => x.type === 'eval')).toHaveLength(5);
    expect(records[records.length - 1]!.type).toBe('summary');

    const svg = readFileSync(r.plotPath, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('val (eval)');
    expect((svg.match(/<path /g) ?? []).length).toBe(3);
    expect(svg.split('<').length - 1).toBe(svg.split('>').length - 1);

    expect(full.sample).toHaveLength(40);
    expect([...full.sample].every((c) => text.includes(c))).toBe(true);
  });

  it('reloads the final checkpoint into a fresh model', async () => {
    const ckpt = await latestCheckpoint(join(root, 'full', 'checkpoints'));
    expect(ckpt?.step).toBe(16);
    const tok = CharTokenizer.fromText(text);
    const { val } = trainValSplit(tok.encode(text));
    const cfg = { vocabSize: tok.vocabSize, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16, device: 'cpu' as const };
    const lossOf = async (m: GPT) => {
      m.eval();
      const { x, y } = getBatch(val, 16, 16, 'cpu');
      const l = m.forward(x, y).loss!;
      const v = await l.item();
      for (const t of [x, y, l]) t.dispose();
      return v;
    };
    const fresh = new GPT(cfg);
    const loaded = new GPT(cfg);
    const info = await loadCheckpoint(ckpt!.path, { model: loaded, restoreRng: false });
    expect(info.step).toBe(16);
    expect((info.extra as { user: { model: { nEmbd: number } } }).user.model.nEmbd).toBe(16);
    expect(await lossOf(loaded)).toBeLessThan((await lossOf(fresh)) - 0.3);
    fresh.dispose();
    loaded.dispose();
  });

  it('a run stopped midway and resumed matches the uninterrupted run exactly', async () => {
    const out = join(root, 'resumed');
    const stopped = await pretrainGpt({ ...TINY, out, sampleTokens: 0, onStep: (s, trainer) => { if (s.step === 6) trainer.stop(); } });
    expect(stopped.train.interrupted).toBe(true);
    expect(stopped.train.step).toBe(6);
    expect(existsSync(join(out, 'checkpoints', 'checkpoint-00000006', 'state.json'))).toBe(true);

    const resumed = await pretrainGpt({ ...TINY, out, resume: true });
    expect(resumed.train.startStep).toBe(6);
    expect(resumed.train.step).toBe(16);
    const losses = (r: PretrainResult) => new Map(r.train.trainLosses);
    expect(losses(resumed).get(7)).toBe(losses(full).get(7)); // the next step after the stop
    expect(resumed.train.trainLosses).toEqual(full.train.trainLosses);
    expect(resumed.train.evals).toEqual(full.train.evals);
    expect(resumed.sample).toBe(full.sample);
    // The log holds each step once across both runs.
    const steps = readMetrics(join(out, 'metrics.jsonl')).filter((x) => x.type === 'train').map((x) => x.step);
    expect(steps).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it('ends with a finer evaluation when finalEvalIters is set, logged beside the periodic ones', async () => {
    const r = await pretrainGpt({ ...TINY, out: join(root, 'final-estimate'), steps: 4, sampleTokens: 0, finalEvalIters: 3 });
    expect(r.finalEstimate?.iters).toBe(3);
    const { train, val } = r.finalEstimate!.losses;
    for (const v of [train!, val!]) { expect(Number.isFinite(v)).toBe(true); expect(v).toBeGreaterThan(0); }
    // Other batches than the step-4 evaluation's: a different estimate of the same model.
    expect(val).not.toBe(r.train.evals[r.train.evals.length - 1]!.losses.val);
    const rec = readMetrics(r.train.metricsPath).filter((x) => x.type === 'final_estimate');
    expect(rec).toEqual([{ type: 'final_estimate', step: 4, iters: 3, losses: { train, val } }]);
    await expect(pretrainGpt({ ...TINY, out: join(root, 'bad'), finalEvalIters: -1 })).rejects.toThrow(/finalEvalIters must be a non-negative integer, got -1/);
  });

  it('traces a run: initial weights and every batch, enough to replay it exactly', async () => {
    const out = join(root, 'traced');
    const o = { ...TINY, steps: 6, evalInterval: 3, sampleTokens: 0, finalEvalIters: 3, dropout: 0 };
    const r = await pretrainGpt({ ...o, out, trace: true });
    // Tracing draws nothing extra: the run is the untraced run.
    const untraced = await pretrainGpt({ ...o, out: join(root, 'untraced') });
    expect(r.train.trainLosses).toEqual(untraced.train.trainLosses);
    const trace = JSON.parse(readFileSync(join(out, 'trace', 'batches.json'), 'utf8')) as BatchTraceFile;
    expect(trace.format).toBe('webgrad-batch-trace/1');
    expect(trace.run).toMatchObject({ data: 'corpus.txt', batchSize: 8, blockSize: 16, steps: 6, lr: 1e-2, minLr: 1e-3, warmup: 2, gradClip: 1, seed: 3 });
    expect(readFileSync(join(out, 'trace', 'corpus.txt'), 'utf8')).toBe(text);
    expect(trace.steps).toHaveLength(6);
    expect(trace.steps.every((off) => off.length === 8)).toBe(true);
    expect(trace.evaluations.map((e) => [e.after, e.batches.train!.length, e.batches.val!.length])).toEqual([[0, 2, 2], [3, 2, 2], [6, 2, 2], [6, 3, 3]]);

    // From the recorded weights and offsets alone: the step-0 evaluation and the first step's loss.
    const tok = CharTokenizer.fromText(text);
    const splits = trainValSplit(tok.encode(text));
    const cfg = (trace.run as { model: ConstructorParameters<typeof GPT>[0] }).model;
    const m = await loadModule(new GPT({ ...cfg, device: 'cpu' }), join(out, 'trace', 'initial.safetensors'));
    const lossAt = async (data: Int32Array, off: number[]) => {
      const x = new Int32Array(8 * 16);
      const y = new Int32Array(8 * 16);
      off.forEach((i, b) => { x.set(data.subarray(i, i + 16), b * 16); y.set(data.subarray(i + 1, i + 17), b * 16); });
      const [xt, yt] = [x, y].map((a) => tensor(a, { shape: [8, 16], dtype: 'int32', device: 'cpu' }));
      const l = m.forward(xt!, yt!).loss!;
      const v = await l.item();
      for (const t of [xt!, yt!, l]) t.dispose();
      return v;
    };
    const first = trace.evaluations[0]!.batches;
    let val = 0;
    for (const off of first.val!) val += await lossAt(splits.val, off);
    expect(val / first.val!.length).toBeCloseTo(r.train.evals[0]!.losses.val!, 5);
    expect(await lossAt(splits.train, trace.steps[0]!)).toBe(new Map(r.train.trainLosses).get(1));
    m.dispose();

    await expect(pretrainGpt({ ...o, out, trace: true, resume: true })).rejects.toThrow(/trace .* cannot be combined with resume/);
  });

  it('stops on SIGINT after the current step and saves a checkpoint', async () => {
    const out = join(root, 'sigint');
    let sent = false;
    const r = await pretrainGpt({
      ...TINY, out, evalInterval: 100, sampleTokens: 0, handleSigint: true,
      onStep: (s) => { if (s.step === 3 && !sent) { sent = true; process.kill(process.pid, 'SIGINT'); } },
    });
    expect(r.train.interrupted).toBe(true);
    expect(r.train.step).toBeGreaterThan(3);
    expect(r.train.step).toBeLessThan(8);
    expect((await latestCheckpoint(join(out, 'checkpoints')))?.step).toBe(r.train.step);
  });

  it('parses flags: --full is nanoGPT\'s CPU config, explicit flags override it', () => {
    const o = optionsFromArgv(['--full', '--steps', '50', '--device=cpu', '--resume']);
    expect(o).toMatchObject({ ...NANOGPT_CPU_CONFIG, steps: 50, device: 'cpu', resume: true });
    expect(optionsFromArgv([]).nEmbd).toBe(DEFAULT_OPTIONS.nEmbd);
    // nanoGPT's README command evaluates over 20 batches; --full adds a final one over 200.
    expect(optionsFromArgv(['--full'])).toMatchObject({ evalInterval: 250, evalIters: 20, finalEvalIters: 200 });
    expect(optionsFromArgv(['--full', '--final-eval-iters', '0']).finalEvalIters).toBe(0);
    expect(optionsFromArgv([]).finalEvalIters ?? 0).toBe(0);
    expect(() => optionsFromArgv(['--n-layers', '2'])).toThrow(UsageError);
    expect(() => optionsFromArgv(['--steps', 'many'])).toThrow(UsageError);
  });
});
