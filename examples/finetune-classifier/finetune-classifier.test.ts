// The finetune-classifier example on a tiny encoder and a few dozen mails (CPU): with no encoder
// it pre-trains one first; both models train, their losses fall and the better one beats the
// majority class on the test mails; gradual unfreezing trains the head, then the top layers, then
// everything; the metrics and the table are right; the command line parses and prints --help.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { manualSeed, tensor } from '@webgrad/core';
import { BertForSequenceClassification } from '@webgrad/nn';
import { DEFAULT_OPTIONS as PRETRAIN_DEFAULTS } from '../pretrain-mlm/pretrain.js';
import { DEFAULT_OPTIONS, finetuneClassifier, type FinetuneOptions } from './finetune.js';
import { FLAGS, main, optionsFromArgv } from './main.js';
import { BinaryPredictions, binaryMetrics } from './predictions.js';
import { formatTable } from './summary_table.js';
import { encoderUnfreezing } from './unfreezing.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-finetune-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TINY: FinetuneOptions = {
  ...DEFAULT_OPTIONS, encoder: join(root, 'encoder'), pretrainSteps: 20, device: 'cpu',
  pretrain: { mails: 40, valMails: 10, vocabSize: 300, hiddenSize: 32, numLayers: 2, numHeads: 2, seqLen: 64, batchSize: 8, lr: 3e-3, warmup: 3, evalInterval: 10, evalSequences: 16 },
  trainMails: [96], valMails: 32, testMails: 64, batchSize: 16, epochs: 6, lr: 3e-3, warmup: 2, patience: 6,
  seed: 3, fsync: false, handleSigint: false, stream: { write: () => true, isTTY: false },
};

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('finetune-classifier example', () => {
  it('pre-trains an encoder when there is none, fine-tunes it and trains the baseline; losses fall and the classifiers beat the majority class', async () => {
    const lines: string[] = [];
    const out = join(root, 'run');
    const r = await finetuneClassifier({ ...TINY, out, stream: { write: (s: string) => { lines.push(s); return true; }, isTTY: false } });
    const text = lines.join('');
    expect(r.pretrainedNow).toBe(true);
    expect(text).toContain(`no pre-trained encoder in ${TINY.encoder}: pre-training one first`);
    expect(existsSync(join(TINY.encoder, 'encoder.safetensors'))).toBe(true);
    expect(r.counts).toEqual({ val: 32, test: 64 });
    expect(r.results.map((x) => [x.labels, x.model])).toEqual([[96, 'pretrained'], [96, 'scratch']]);
    expect(text).toMatch(/epoch 0: training the head \(classifier\)/);
    for (const m of r.results) {
      const losses = m.train.trainLosses.map(([, l]) => l);
      expect(mean(losses.slice(-6))).toBeLessThan(mean(losses.slice(0, 6)) - 0.03);
      expect(m.train.evals[0]!.metrics).toHaveProperty('f1');
      expect(existsSync(join(out, `96-${m.model}`, 'metrics.jsonl'))).toBe(true);
    }
    // Tiny models on 96 mails: the better one ranks spam above ham and beats always answering "ham".
    expect(Math.max(...r.results.map((m) => m.test.rocAuc))).toBeGreaterThan(0.7);
    expect(Math.max(...r.results.map((m) => m.test.accuracy))).toBeGreaterThan(r.majority.accuracy);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { results: { model: string; labels: number; test: { f1: number } }[] };
    expect(summary.results.map((x) => [x.labels, x.model])).toEqual([[96, 'pretrained'], [96, 'scratch']]);
    expect(summary.results[1]!.test.f1).toBe(r.results[1]!.test.f1);
    expect(text).toMatch(/\| model +\| labelled mails \| accuracy \| +F1 \| ROC-AUC \| wall time \|/);

    // The encoder is there now: a second run uses it.
    const again = await finetuneClassifier({ ...TINY, out: join(root, 'again'), models: ['scratch'], trainMails: [16], epochs: 1 });
    expect(again.pretrainedNow).toBe(false);
    expect(again.results).toHaveLength(1);
  });

  it('unfreezes gradually: the head, then the top half of the layers, then everything', () => {
    manualSeed(0);
    const model = new BertForSequenceClassification({ vocabSize: 50, hiddenSize: 16, numLayers: 2, numHeads: 2, maxPositions: 8, numLabels: 2, device: 'cpu' });
    const plan = encoderUnfreezing(model, 2);
    const trainable = () => [...model.namedParameters()].filter(([, p]) => p.requiresGrad).map(([n]) => n.split('.').slice(0, 3).join('.'));
    const groups = () => [...new Set(trainable().map((n) => (n.startsWith('bert.layers') ? n : n.split('.').slice(0, 2).join('.'))))].sort();
    expect(plan.onEpoch(0)).toMatch(/epoch 0: training the head \(pooler \+ classifier\)/);
    expect(groups()).toEqual(['bert.pooler', 'classifier.bias', 'classifier.weight']);
    expect(plan.onEpoch(1)).toBeNull();
    expect(plan.onEpoch(2)).toMatch(/the head and the top 1 of 2 layers/);
    expect(groups()).toEqual(['bert.layers.1', 'bert.pooler', 'classifier.bias', 'classifier.weight']);
    expect(plan.onEpoch(4)).toMatch(/everything/);
    expect(model.numParameters({ trainableOnly: true })).toBe(model.numParameters());
    model.dispose();
  });

  it('scores predictions: accuracy and F1 at 0.5, ROC-AUC from the scores', async () => {
    expect(binaryMetrics([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])).toEqual({ accuracy: 0.5, f1: 0.5, rocAuc: 0.75 });
    expect(binaryMetrics([0, 0], [0.2, 0.7]).rocAuc).toBeNaN();
    const p = new BinaryPredictions();
    const logits = tensor([[0, 0], [0, Math.log(3)]], { device: 'cpu' });
    const labels = tensor([0, 1], { dtype: 'int32', device: 'cpu' });
    p.add(logits, labels);
    logits.dispose();
    labels.dispose();
    const got = await p.take();
    expect([...got.scores].map((x) => +x.toFixed(5))).toEqual([0.5, 0.75]);
    expect([...got.labels]).toEqual([0, 1]);
    expect(formatTable([{ model: 'm', labels: 40, accuracy: 0.5, f1: 1, rocAuc: NaN, wallSeconds: 2 }]).split('\n')[2]).toBe('| m     |             40 |   0.5000 | 1.0000 |       – |     2.0 s |');
  });

  it('parses flags and prints --help', async () => {
    expect(optionsFromArgv(['--models', 'scratch', '--epochs', '3', '--train-mails', '20,80'])).toMatchObject({ models: ['scratch'], epochs: 3, trainMails: [20, 80], encoder: PRETRAIN_DEFAULTS.out });
    expect(optionsFromArgv([])).toMatchObject({ models: ['pretrained', 'scratch'], trainMails: [40, 400] });
    expect(() => optionsFromArgv(['--train-mails', '40,x'])).toThrow(/--train-mails expects positive integers/);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await main(['--help'])).toBeNull();
      const text = log.mock.calls.map((c) => String(c[0])).join('\n');
      expect(text).toContain('usage: pnpm example finetune-classifier');
      for (const flag of Object.keys(FLAGS)) expect(text).toContain(`--${flag}`);
    } finally {
      log.mockRestore();
    }
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await main(['--models', 'bert'])).toBeNull();
      expect(process.exitCode).toBe(2);
      expect(String(err.mock.calls[0]![0])).toContain('--models must be one of both, pretrained, scratch');
    } finally {
      process.exitCode = undefined;
      err.mockRestore();
    }
  });
});
