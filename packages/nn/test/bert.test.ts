// The BERT-style encoder, its masked-LM head (tied decoder) and classification head against a
// PyTorch reference (fixtures/make_bert.py), plus maskTokens' 80/10/10 statistics and seeding.
import { describe, expect, it } from 'vitest';
import { manualSeed, rand, tensor, zeros } from '@webgrad/core';
import { BertForMaskedLM, BertForSequenceClassification, BertModel, maskTokens } from '@webgrad/nn';
import { DEVICES, disposeAll, expectClose, loadFixture, stateFrom, type JT } from './helpers/layer_check.js';

interface Fix {
  config: { vocabSize: number; hiddenSize: number; numHeads: number; numLayers: number; intermediateSize: number; maxPositions: number; numLabels: number };
  state: Record<string, JT>;
  ids: number[][]; types: number[][]; attn: number[][]; labels: number[][]; clsLabels: number[];
  hidden: JT; pooled: JT; mlmLogits: JT; clsLogits: JT; mlmLoss: number; clsLoss: number;
}
const F = loadFixture<Fix>('bert');

describe.each(DEVICES)('BERT on %s', (device) => {
  const cfg = { ...F.config, dropout: 0, device };
  const inputs = () => ({
    ids: tensor(F.ids, { device }),
    opts: { tokenTypeIds: tensor(F.types, { device }), attentionMask: tensor(F.attn, { device }) },
  });

  it('masked-LM model: hidden states, pooled output, logits and loss match PyTorch; decoder is tied', async () => {
    const m = new BertForMaskedLM(cfg);
    const sd = stateFrom(F.state, { device });
    const mlm = Object.fromEntries(Object.entries(sd).filter(([k]) => !k.startsWith('classifier.')));
    m.loadStateDict(mlm);
    disposeAll(sd);
    const { ids, opts } = inputs();
    const out = m.forward(ids, { ...opts, labels: tensor(F.labels, { device }) });
    await expectClose(out.lastHiddenState, F.hidden);
    await expectClose(out.logits, F.mlmLogits);
    expect(await out.loss!.item()).toBeCloseTo(F.mlmLoss, 4);
    const pooled = m.bert.forward(ids, opts).pooledOutput;
    await expectClose(pooled, F.pooled);
    // Tied: one parameter, a gradient from both the embedding lookup and the decoder.
    const names = m.parameters().length;
    expect(Object.keys(m.stateDict()).length).toBe(names);
    out.loss!.backward();
    expect(m.bert.embeddings.wordEmbeddings.weight.grad!.shape).toEqual([F.config.vocabSize, F.config.hiddenSize]);
    m.dispose();
  });

  it('sequence classification: logits and loss match PyTorch', async () => {
    const m = new BertForSequenceClassification(cfg);
    const sd = stateFrom(F.state, { device });
    const cls = Object.fromEntries(Object.entries(sd).filter(([k]) => !k.startsWith('mlmHead.')));
    m.loadStateDict(cls);
    disposeAll(sd);
    const { ids, opts } = inputs();
    const out = m.forward(ids, { ...opts, labels: tensor(F.clsLabels, { device }) });
    await expectClose(out.logits, F.clsLogits);
    expect(await out.loss!.item()).toBeCloseTo(F.clsLoss, 4);
    m.dispose();
  });

  it('BertModel defaults, init and error messages', async () => {
    manualSeed(0);
    const m = new BertModel({ vocabSize: 20, hiddenSize: 16, numLayers: 1, numHeads: 4, maxPositions: 8, device });
    expect(m.config.intermediateSize).toBe(64);
    const w = await m.embeddings.wordEmbeddings.weight.data();
    const std = Math.sqrt(Array.from(w).reduce((a, v) => a + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.025);
    expect(Array.from(await m.pooler.bias!.data()).every((v) => v === 0)).toBe(true);
    const ids = zeros([1, 9], { dtype: 'int32', device });
    expect(() => m.forward(ids)).toThrow(/exceeds maxPositions 8/);
    expect(() => new BertModel({ vocabSize: 5, hiddenSize: 10, numHeads: 4 })).toThrow(/not divisible/);
    m.dispose();
  });

  it('maskTokens: 80/10/10 statistics, labels, special tokens and padding', async () => {
    const V = 1000, MASK = 3;
    const B = 64, T = 256;
    manualSeed(7);
    const ids = rand([B, T], { device }).mul(V - 10).add(10).floor().int();
    const special = [0, 1, 2];
    const idsArr = await ids.data();
    // make the first column [CLS]=1 and pad the last 56 positions of every row with 0
    const raw = Array.from(idsArr);
    for (let b = 0; b < B; b++) { raw[b * T] = 1; for (let t = 200; t < T; t++) raw[b * T + t] = 0; }
    const ids2 = tensor(Int32Array.from(raw), { shape: [B, T], device });
    const attn = tensor(Int32Array.from(raw.map((v, i) => (i % T < 200 ? 1 : 0))), { shape: [B, T], device });
    const { inputs, labels } = maskTokens(ids2, { maskTokenId: MASK, vocabSize: V, specialTokenIds: special, attentionMask: attn });
    const inp = await inputs.data(), lab = await labels.data();
    let chosen = 0, masked = 0, random = 0, kept = 0, eligible = 0;
    for (let i = 0; i < raw.length; i++) {
      const isEligible = raw[i]! >= 10;
      if (isEligible) eligible++;
      if (lab[i] === -100) { expect(inp[i]).toBe(raw[i]); continue; }
      expect(isEligible).toBe(true);
      expect(lab[i]).toBe(raw[i]);
      chosen++;
      if (inp[i] === MASK) masked++;
      else if (inp[i] === raw[i]) kept++;
      else random++;
      expect(inp[i]).toBeGreaterThanOrEqual(0);
      expect(inp[i]).toBeLessThan(V);
    }
    const rate = chosen / eligible;
    expect(Math.abs(rate - 0.15)).toBeLessThan(0.01);
    expect(Math.abs(masked / chosen - 0.8)).toBeLessThan(0.03);
    expect(Math.abs(random / chosen - 0.1)).toBeLessThan(0.025);
    expect(Math.abs(kept / chosen - 0.1)).toBeLessThan(0.025);
    for (const t of [ids, ids2, attn, inputs, labels]) t.dispose();
  });

  it('maskTokens is reproducible with a seed and leaves the global generator alone', async () => {
    const ids = tensor([[5, 6, 7, 8, 9, 10, 11, 12], [13, 14, 15, 16, 17, 18, 19, 20]], { device });
    manualSeed(1);
    const before = await rand([3], { device }).data();
    manualSeed(1);
    const a = maskTokens(ids, { maskTokenId: 1, vocabSize: 30, prob: 0.5, seed: 42 });
    const after = await rand([3], { device }).data();
    expect(Array.from(after)).toEqual(Array.from(before));
    const b = maskTokens(ids, { maskTokenId: 1, vocabSize: 30, prob: 0.5, seed: 42 });
    expect(Array.from(await a.inputs.data())).toEqual(Array.from(await b.inputs.data()));
    expect(Array.from(await a.labels.data())).toEqual(Array.from(await b.labels.data()));
    manualSeed(9);
    const c = maskTokens(ids, { maskTokenId: 1, vocabSize: 30, prob: 0.5 });
    manualSeed(9);
    const d = maskTokens(ids, { maskTokenId: 1, vocabSize: 30, prob: 0.5 });
    expect(Array.from(await c.labels.data())).toEqual(Array.from(await d.labels.data()));
    expect(a.labels.dtype).toBe('int32');
    expect(a.inputs.dtype).toBe('int32');
  });
});
