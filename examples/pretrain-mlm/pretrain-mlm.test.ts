// The pretrain-mlm example on a tiny encoder and a few dozen mails (CPU): BERT's masking draws
// what it should, packing fills sequences, the sparse MLM loss equals the model's dense one, a run's
// held-out MLM loss falls and its masked-token accuracy rises, the encoder files reload, and the
// command line parses and prints --help.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { manualSeed, memory, noGrad, tensor } from '@webgrad/core';
import { BertForMaskedLM, BertModel, loadModule } from '@webgrad/nn';
import { readMetrics } from '@webgrad/train';
import { loadEncoderFiles } from './encoder_files.js';
import { FLAGS, main, optionsFromArgv } from './main.js';
import { packSequences, maskedBatch } from './mlm_data.js';
import { sparseMlmForward } from './mlm_loss.js';
import { maskTokens } from './mlm_masking.js';
import { DEFAULT_OPTIONS, pretrainMlm, type PretrainMlmOptions } from './pretrain.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-pretrain-mlm-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const quiet = { write: () => true, isTTY: false };
const TINY_PRETRAIN: PretrainMlmOptions = {
  ...DEFAULT_OPTIONS, device: 'cpu', mails: 40, valMails: 10, maxChars: 1500, vocabSize: 300,
  hiddenSize: 32, numLayers: 1, numHeads: 2, seqLen: 32, batchSize: 8, steps: 30, lr: 3e-3, warmup: 3,
  evalInterval: 10, evalSequences: 32, seed: 5, fsync: false, handleSigint: false, stream: quiet,
};

describe('maskTokens (host)', () => {
  const special = [0, 1, 2, 3];
  const ids = Int32Array.from({ length: 40_000 }, (_, i) => (i % 50 === 0 ? 1 : 4 + (i % 97)));
  const opts = { prob: 0.15, maskId: 3, vocabSize: 101, specialIds: special, seed: 11 };

  it('chooses 15% of the non-special tokens: 80% → [MASK], 10% → a random token, 10% kept', () => {
    const m = maskTokens(ids, opts);
    const eligible = ids.filter((t) => !special.includes(t)).length;
    expect(m.positions.length / eligible).toBeGreaterThan(0.14);
    expect(m.positions.length / eligible).toBeLessThan(0.16);
    let masked = 0, kept = 0, replaced = 0, wrong = 0;
    m.positions.forEach((p, k) => {
      if (special.includes(ids[p]!) || m.targets[k] !== ids[p]) wrong++;
      if (m.inputs[p] === 3) masked++;
      else if (m.inputs[p] === ids[p]) kept++;
      else { replaced++; if (special.includes(m.inputs[p]!)) wrong++; }
    });
    expect(wrong).toBe(0);
    const n = m.positions.length;
    expect(masked / n).toBeGreaterThan(0.77);
    expect(masked / n).toBeLessThan(0.83);
    expect(kept / n).toBeGreaterThan(0.08); // (a random replacement may also draw the same id)
    expect(replaced / n).toBeGreaterThan(0.08);
    // Positions not chosen are untouched; positions ascend.
    const chosen = new Set(m.positions);
    expect(ids.filter((t, i) => !chosen.has(i) && m.inputs[i] !== t).length).toBe(0);
    expect(m.positions.every((p, k) => k === 0 || p > m.positions[k - 1]!)).toBe(true);
  });

  it('is a function of the seed, and predicts at least one token', () => {
    const [a, b, c] = [maskTokens(ids, opts), maskTokens(ids, opts), maskTokens(ids, { ...opts, seed: 12 })];
    const same = (x: Int32Array, y: Int32Array) => x.length === y.length && x.every((v, i) => v === y[i]);
    expect(same(a.inputs, b.inputs) && same(a.positions, b.positions) && same(a.targets, b.targets)).toBe(true);
    expect(same(a.positions, c.positions)).toBe(false);
    const one = maskTokens(Int32Array.of(1, 9, 9, 2), { ...opts, prob: 0 });
    expect(one.positions.length).toBe(1);
    expect([1, 2]).toContain(one.positions[0]);
    expect(() => maskTokens(ids, { ...opts, prob: 1.5 })).toThrow(/prob must be in \[0, 1\]/);
  });
});

describe('packSequences', () => {
  it('packs documents, each followed by [SEP], into [CLS]-led sequences of one length', () => {
    const seqs = packSequences([[10, 11, 12], [13], [14, 15, 16, 17, 18], [19]], 4, { cls: 1, sep: 2 });
    expect(seqs.map((s) => [...s])).toEqual([[1, 10, 11, 12], [1, 2, 13, 2], [1, 14, 15, 16], [1, 17, 18, 2]]); // the rest [CLS, 19, SEP] is dropped
    expect(() => packSequences([[1]], 1, { cls: 1, sep: 2 })).toThrow(/seqLen/);
  });
});

describe('sparseMlmForward', () => {
  it("equals BertForMaskedLM's dense loss with −100 on the positions not chosen", async () => {
    manualSeed(0);
    const model = new BertForMaskedLM({ vocabSize: 40, hiddenSize: 16, numLayers: 1, numHeads: 2, maxPositions: 8, device: 'cpu' });
    model.eval();
    const seqs = [Int32Array.of(1, 5, 6, 7, 8, 9, 10, 2), Int32Array.of(1, 11, 12, 13, 14, 15, 16, 2)];
    const batch = maskedBatch(seqs, { prob: 0.4, vocabSize: 40, ids: { pad: 0, cls: 1, sep: 2, mask: 3 } }, 7, 'cpu');
    const positions = await batch.positions.data();
    const targets = await batch.targets.data();
    const labels = new Int32Array(16).fill(-100);
    positions.forEach((p, k) => { labels[p] = targets[k]!; });
    const [sparse, dense] = noGrad(() => {
      const s = sparseMlmForward(model, batch);
      const l = tensor(labels, { shape: [2, 8], dtype: 'int32', device: 'cpu' });
      const d = model.forward(batch.inputs, { labels: l });
      return [s, d, l] as const;
    });
    expect(sparse.logits.shape).toEqual([positions.length, 40]);
    expect(await sparse.loss.item()).toBeCloseTo(await dense.loss!.item(), 5);
    for (const t of [sparse.loss, sparse.logits, dense.loss!, dense.logits, dense.lastHiddenState, batch.inputs, batch.positions, batch.targets]) t.dispose();
    model.dispose();
  });
});

describe('pretrain-mlm example', () => {
  it('pre-trains: held-out MLM loss falls, masked-token accuracy rises, the encoder is saved and reloads', async () => {
    const out = join(root, 'run');
    const before = memory();
    const r = await pretrainMlm({ ...TINY_PRETRAIN, out });
    expect(memory().tensors).toBe(before.tensors);
    expect(r.train.step).toBe(30);
    expect(r.train.evals.map((e) => e.step)).toEqual([0, 10, 20, 30]);
    expect(r.final.loss).toBeLessThan(r.first.loss - 0.5);
    expect(r.final.accuracy).toBeGreaterThan(r.first.accuracy + 0.05);
    expect(r.vocabSize).toBe(300);

    const records = readMetrics(r.train.metricsPath);
    expect(records.filter((x) => x.type === 'eval').every((x) => typeof (x.metrics as Record<string, number>).maskedAcc === 'number')).toBe(true);
    expect(readFileSync(r.train.plotPath, 'utf8').startsWith('<svg')).toBe(true);

    const enc = await loadEncoderFiles(out);
    expect(enc.config).toMatchObject({ seqLen: 32, steps: 30, specialIds: { pad: 0, cls: 1, sep: 2, mask: 3 }, data: { source: 'spam-assassin', splitSeed: 0, mails: 40 } });
    expect(enc.config.bert).toMatchObject({ vocabSize: 300, hiddenSize: 32, numLayers: 1, maxPositions: 32 });
    expect(enc.tokenizer.decode(enc.tokenizer.encode('Free money!!! Click here'))).toBe('Free money!!! Click here');
    const bert = await loadModule(new BertModel({ ...enc.config.bert, device: 'cpu' }), enc.weightsPath);
    const trained = new BertForMaskedLM({ ...enc.config.bert, device: 'cpu' });
    expect(Object.keys(bert.stateDict()).length).toBe(Object.keys(trained.bert.stateDict()).length);
    bert.dispose();
    trained.dispose();
  });

  it('a run stopped midway and resumed masks and trains exactly as an uninterrupted one', async () => {
    const o = { ...TINY_PRETRAIN, steps: 8, evalInterval: 4, dropout: 0.1 };
    const full = await pretrainMlm({ ...o, out: join(root, 'whole') });
    const out = join(root, 'resumed');
    const stopped = await pretrainMlm({ ...o, out, onStep: (s, trainer) => { if (s.step === 3) trainer.stop(); } });
    expect(stopped.train.interrupted).toBe(true);
    const resumed = await pretrainMlm({ ...o, out, resume: true });
    expect(resumed.train.startStep).toBe(3);
    expect(resumed.train.trainLosses).toEqual(full.train.trainLosses);
    expect(resumed.final).toEqual(full.final);
  });

  it('reads a text file instead of the corpus', async () => {
    const file = join(root, 'text.txt');
    const para = (i: number) => `Paragraph ${i}: the quick brown fox jumps over the lazy dog, and the dog sleeps in the sun.`;
    writeFileSync(file, Array.from({ length: 60 }, (_, i) => para(i)).join('\n\n'));
    const r = await pretrainMlm({ ...TINY_PRETRAIN, data: file, steps: 20, out: join(root, 'file') });
    expect(r.final.loss).toBeLessThan(r.first.loss - 0.5);
    expect((await loadEncoderFiles(join(root, 'file'))).config.data).toEqual({ source: 'file', path: file });
  });

  it('parses flags and prints --help', async () => {
    expect(optionsFromArgv(['--steps', '7', '--device=cpu', '--mask-prob', '0.2'])).toMatchObject({ steps: 7, device: 'cpu', maskProb: 0.2, hiddenSize: DEFAULT_OPTIONS.hiddenSize });
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await main(['--help'])).toBeNull();
      const text = log.mock.calls.map((c) => String(c[0])).join('\n');
      expect(text).toContain('usage: pnpm example pretrain-mlm');
      for (const flag of Object.keys(FLAGS)) expect(text).toContain(`--${flag}`);
    } finally {
      log.mockRestore();
    }
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await main(['--stepz', '3'])).toBeNull();
      expect(process.exitCode).toBe(2);
      expect(String(err.mock.calls[0]![0])).toContain('unknown flag --stepz');
    } finally {
      process.exitCode = undefined;
      err.mockRestore();
    }
  });
});
