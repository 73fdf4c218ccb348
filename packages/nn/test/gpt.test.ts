// GPT: logits, loss and every parameter gradient against a PyTorch implementation of the same
// architecture (fixtures/gpt.json, made by fixtures/make_gpt.py), plus init statistics, tied
// weights, optimizer groups, KV-cache generation, and safetensors save/load round trips.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, manualSeed, memory, noGrad, randint, tensor, tidy } from '@webgrad/core';
import {
  GPT, SafetensorsError, StateDictError, fromSafetensorsBytes, loadModule, toSafetensorsBytes, samplingDistribution, sampleToken, argmaxOf,
} from '@webgrad/nn';
import { DEVICES, expectClose, expectTensorsClose, loadFixture, loadFixtureState } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const F = loadFixture<Record<string, any>>('gpt');
const tiny = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8 };

/** Greedy decoding by recomputing the whole (cropped) context every step, the reference for generate. */
async function greedyReference(m: GPT, prompt: number[][], n: number): Promise<number[][]> {
  const rows = prompt.map((r) => [...r]);
  for (let s = 0; s < n; s++) {
    const ctx = rows.map((r) => r.slice(Math.max(0, r.length - m.config.blockSize)));
    const idx = tensor(ctx, { dtype: 'int32', device: m.config.device });
    const logits = noGrad(() => m.forward(idx).logits);
    const V = m.config.vocabSize, T = ctx[0]!.length;
    const vals = await logits.data();
    rows.forEach((r, b) => r.push(argmaxOf(vals.subarray((b * T + T - 1) * V, (b * T + T) * V))));
    idx.dispose(); logits.dispose();
  }
  return rows;
}

describe.each(DEVICES)('GPT on %s', (device) => {
  it('matches PyTorch: logits, loss and every parameter gradient', async () => {
    const m = new GPT({ ...tiny, device });
    loadFixtureState(m, F.state, { strict: false }); // lmHead.weight is tied to wte.weight
    const idx = tensor(F.idx, { dtype: 'int32', device });
    const tg = tensor(F.targets, { dtype: 'int32', device });
    const { logits, loss } = m.forward(idx, tg);
    await expectClose(logits, F.logits, 1e-5);
    await expectClose(loss!, F.loss, 1e-5);
    tidy(() => loss!.backward());
    for (const [n, p] of m.namedParameters()) await expectClose(p.grad!, F.grads[n], 2e-5, 1e-4);
    idx.dispose(); tg.dispose(); logits.dispose(); loss!.dispose(); m.dispose();
  });

  it('shapes, loss ≈ ln(V) at init, tied weights, backward reaches every parameter', async () => {
    manualSeed(0);
    const m = GPT.fromConfig({ vocabSize: 64, blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 32, device });
    expect(m.lmHead.weight).toBe(m.wte.weight);
    expect(m.lmHead.weight.storage).toBe(m.wte.weight.storage);
    const sd = m.stateDict();
    expect(sd['lmHead.weight']).toBe(sd['wte.weight']);
    expect(Object.keys(sd)).toContain('h.1.attn.cAttn.weight');
    // Tied weight counted once: wte 64·32, wpe 16·32, 2 blocks, lnF.
    const block = 2 * 32 + (32 * 96 + 96) + (32 * 32 + 32) + 2 * 32 + (32 * 128 + 128) + (128 * 32 + 32);
    expect(m.numParameters()).toBe(64 * 32 + 16 * 32 + 2 * block + 2 * 32);
    const idx = randint(0, 64, [3, 16], { device });
    const tg = randint(0, 64, [3, 16], { device });
    const { logits, loss } = m.forward(idx, tg);
    expect(logits.shape).toEqual([3, 16, 64]);
    expect(Math.abs((await loss!.item()) - Math.log(64))).toBeLessThan(0.1);
    tidy(() => loss!.backward());
    for (const [n, p] of m.namedParameters()) {
      expect(p.grad, n).not.toBeNull();
      const g = await p.grad!.data();
      expect(g.some((v) => v !== 0), n).toBe(true);
    }
    // Residual projections use std 0.02/sqrt(2·nLayer); other matrices 0.02.
    const std = async (t: Tensor) => { const v = Array.from(await t.data()); return Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length); };
    expect(await std(m.h.at(0).mlp.cProj.weight)).toBeCloseTo(0.02 / 2, 2);
    expect(await std(m.h.at(0).mlp.cFc.weight)).toBeCloseTo(0.02, 2);
    const [decay, noDecay] = m.configureOptimizerGroups(0.1);
    expect(decay.weightDecay).toBe(0.1);
    expect(noDecay.weightDecay).toBe(0);
    // Matrices (and embeddings) decay; biases and norm weights, all 1-D, do not.
    const decayed = decay.params, undecayed = noDecay.params;
    expect([...new Set(decayed.map((p) => p.ndim))]).toEqual([2]);
    expect([...new Set(undecayed.map((p) => p.ndim))]).toEqual([1]);
    expect(decayed.length + undecayed.length).toBe(m.parameters().length);
    expect(() => m.forward(randint(0, 64, [1, 17]))).toThrow(/exceeds blockSize 16/);
    idx.dispose(); tg.dispose(); logits.dispose(); loss!.dispose(); m.dispose();
  });

  it('generate: greedy with the KV cache equals argmax decoding by full recompute (past blockSize too)', async () => {
    manualSeed(1);
    const m = new GPT({ ...tiny, device });
    const prompt = [[1, 2, 3], [4, 5, 6]];
    const idx = tensor(prompt, { dtype: 'int32', device });
    const before = memory().tensors;
    const out = await m.generate(idx, { maxNewTokens: 9, greedy: true }); // 3 + 9 > blockSize 8
    expect(memory().tensors).toBe(before + 1);
    expect(out.shape).toEqual([2, 12]);
    const ref = await greedyReference(m, prompt, 9);
    expect(await out.array()).toEqual(ref);
    const noCache = await m.generate(idx, { maxNewTokens: 9, greedy: true, useCache: false });
    expect(await noCache.array()).toEqual(ref);
    idx.dispose(); out.dispose(); noCache.dispose(); m.dispose();
  });

  it('generate: a seed reproduces sampling; stop tokens end rows', async () => {
    manualSeed(2);
    const m = new GPT({ ...tiny, device });
    const idx = tensor([[1, 2], [3, 4]], { dtype: 'int32', device });
    const a = await m.generate(idx, { maxNewTokens: 6, temperature: 1.5, topK: 5, topP: 0.9, seed: 42 });
    const b = await m.generate(idx, { maxNewTokens: 6, temperature: 1.5, topK: 5, topP: 0.9, seed: 42 });
    expect(await a.array()).toEqual(await b.array());
    const gen = ((await a.array()) as number[][])[0]!.slice(2);
    const stopped = await m.generate(idx, { maxNewTokens: 6, temperature: 1.5, topK: 5, topP: 0.9, seed: 42, stopTokens: [gen[0]!] });
    const rows = (await stopped.array()) as number[][];
    expect(rows[0]![2]).toBe(gen[0]);
    expect(m.training).toBe(true); // mode restored
    for (const t of [idx, a, b, stopped]) t.dispose();
    m.dispose();
  });

  it('sampling filters: topK keeps k tokens, topP keeps the nucleus, inverse-CDF draw', () => {
    const logits = [0, 1, 2, 3, 4].map((x) => x * Math.log(2)); // probs ∝ 1, 2, 4, 8, 16
    const k2 = samplingDistribution(logits, { topK: 2 });
    expect(Array.from(k2).map((p) => +p.toFixed(6))).toEqual([0, 0, 0, +(8 / 24).toFixed(6), +(16 / 24).toFixed(6)]);
    const p = samplingDistribution(logits, { topP: 0.6 }); // 16/31 < 0.6 → also keep 8/31
    expect(Array.from(p).filter((v) => v > 0).length).toBe(2);
    expect(sampleToken(logits, { topK: 2 }, 0.0)).toBe(3);
    expect(sampleToken(logits, { topK: 2 }, 0.99)).toBe(4);
    expect(sampleToken(logits, { greedy: true }, 0.5)).toBe(4);
  });

  it('save/load round trip through safetensors bytes and files; errors name file and key', async () => {
    manualSeed(3);
    const a = new GPT({ ...tiny, device });
    manualSeed(4);
    const b = new GPT({ ...tiny, device });
    const bytes = await toSafetensorsBytes(a);
    fromSafetensorsBytes(b, bytes);
    for (const [k, t] of Object.entries(a.stateDict())) await expectTensorsClose(b.stateDict()[k]!, t, 0, 0);
    expect(b.lmHead.weight).toBe(b.wte.weight);

    const dir = mkdtempSync(join(tmpdir(), 'webgrad-nn-'));
    try {
      const path = join(dir, 'model.safetensors');
      await a.save(path);
      manualSeed(5);
      const c = await loadModule(new GPT({ ...tiny, device }), path);
      for (const [k, t] of Object.entries(a.stateDict())) await expectTensorsClose(c.stateDict()[k]!, t, 0, 0);
      const wrong = new GPT({ ...tiny, nEmbd: 4, device });
      await expect(wrong.load(path)).rejects.toThrow(StateDictError);
      await expect(wrong.load(path)).rejects.toThrow(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*'wte.weight' \\(model \\[11, 4\\], file \\[11, 8\\]\\)`));
      const deeper = new GPT({ ...tiny, nLayer: 3, device });
      await expect(deeper.load(path)).rejects.toThrow(/missing keys 'h\.2\.ln1\.weight'/);
      const r = await deeper.load(path, { strict: false });
      expect(r).toBe(deeper);
      writeFileSync(join(dir, 'bad.safetensors'), new Uint8Array([1, 2, 3]));
      await expect(c.load(join(dir, 'bad.safetensors'))).rejects.toThrow(SafetensorsError);
      for (const m of [c, wrong, deeper]) m.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    a.dispose(); b.dispose();
  });
});
