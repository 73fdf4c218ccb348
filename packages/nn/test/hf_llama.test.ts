// Llama-family checkpoints from transformers: tiny LlamaForCausalLM (grouped-query attention,
// untied head) and Qwen2ForCausalLM (q/k/v biases, tied head) fixtures, made by
// scripts/hf/make_fixtures.py, load into webgrad's Llama with transformers' logits and greedy
// generation, and write back to HF names with identical tensor values.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, noGrad, randint } from '@webgrad/core';
import {
  Llama, LLAMA_HF_NAMES, llamaConfigFromHF, llamaFromHF, llamaToHF, loadHFModel, parseSafetensors, readHFCheckpoint,
  readSafetensorsFile, saveHFModel, serializeSafetensors,
} from '@webgrad/nn';
import { AdamW } from '@webgrad/optim';
import { DEVICES } from './helpers.js';
import { idsTensor, maxAbsDiff, modelFixture } from './hf_helpers.js';

const fixtures = { llama: await modelFixture('llama'), qwen2: await modelFixture('qwen2') };
const tmp = mkdtempSync(join(tmpdir(), 'webgrad-hf-llama-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Measured max |Δ logit| against transformers: llama cpu 4.1e-6, webgpu (lavapipe) 4.2e-6; qwen2
// cpu 2.0e-6, webgpu 4.1e-6 (printed by the test).
const LOGIT_TOL = 1e-5;

describe.each(DEVICES)('Llama-family checkpoints on %s', (device) => {
  it.each(['llama', 'qwen2'] as const)('%s: transformers\' logits and greedy generation', async (name) => {
    const fx = fixtures[name];
    const model = (await loadHFModel(fx.dir, { device })) as Llama;
    expect(model).toBeInstanceOf(Llama);
    const ids = idsTensor(fx.ids, device);
    const logits = noGrad(() => model.forward(ids).logits);
    const err = maxAbsDiff(await logits.data(), fx.logits);
    console.log(`${name} ${device}: max |logit - transformers| = ${err.toExponential(2)}`);
    expect(err).toBeLessThan(LOGIT_TOL);
    const n = fx.generated[0]!.length - fx.ids[0]!.length;
    const out = await model.generate(ids, { maxNewTokens: n, greedy: true });
    expect(Array.from(await out.data())).toEqual(fx.generated.flat());
    const noCache = await model.generate(ids, { maxNewTokens: n, greedy: true, useCache: false });
    expect(Array.from(await noCache.data())).toEqual(fx.generated.flat());
    for (const t of [ids, logits, out, noCache]) t.dispose();
    model.dispose();
  });
});

describe('Llama model', () => {
  it('reads Llama and Qwen2 config.json (transformers 5 rope_parameters, GQA, biases, tying)', async () => {
    const { config: l } = await readHFCheckpoint(fixtures.llama.dir);
    expect(llamaConfigFromHF(l)).toEqual({
      vocabSize: 300, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2,
      headDim: 8, maxPositionEmbeddings: 64, rmsNormEps: 1e-6, ropeTheta: 500, tieWordEmbeddings: false,
      attentionBias: false, qkvBias: false, mlpBias: false,
    });
    // transformers 4.x writes rope_theta at the top level.
    const { rope_parameters: _, ...legacy } = l;
    expect(llamaConfigFromHF({ ...legacy, rope_theta: 1234 }).ropeTheta).toBe(1234);
    const { config: q } = await readHFCheckpoint(fixtures.qwen2.dir);
    expect(llamaConfigFromHF(q)).toMatchObject({ qkvBias: true, attentionBias: false, tieWordEmbeddings: true, ropeTheta: 10000 });
    const model = (await loadHFModel(fixtures.qwen2.dir)) as Llama;
    expect(model.lmHead.weight).toBe(model.embedTokens.weight);
    const attn = model.layers.at(0).selfAttn;
    expect([attn.qProj.bias, attn.kProj.bias, attn.vProj.bias].every((b) => b !== null)).toBe(true);
    expect(attn.oProj.bias).toBeNull();
    expect(attn.nKVHead).toBe(2);
    model.dispose();
  });

  it.each(['llama', 'qwen2'] as const)('%s round-trips HF → webgrad → HF with identical tensor bytes', async (name) => {
    const fx = fixtures[name];
    const original = await readSafetensorsFile(join(fx.dir, 'model.safetensors'));
    const model = (await loadHFModel(fx.dir)) as Llama;
    const back = parseSafetensors(serializeSafetensors((await llamaToHF(model)).tensors));
    expect(back.names.sort()).toEqual([...original.names].sort());
    for (const n of original.names) expect(Buffer.from(back.tensors[n]!.data).equals(Buffer.from(original.tensors[n]!.data)), n).toBe(true);
    await saveHFModel(model, join(tmp, name));
    const again = (await loadHFModel(join(tmp, name))) as Llama;
    expect(again.config).toEqual(model.config);
    const ids = idsTensor(fx.ids, 'cpu');
    const [a, b] = noGrad(() => [model.forward(ids).logits, again.forward(ids).logits]);
    expect(maxAbsDiff(await a!.data(), await b!.data())).toBe(0);
    for (const t of [ids, a!, b!]) t.dispose();
    model.dispose();
    again.dispose();
  });

  it('maps every webgrad parameter to an HF name', () => {
    const model = new Llama({ vocabSize: 9, hiddenSize: 8, intermediateSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, maxPositionEmbeddings: 8, attentionBias: true, mlpBias: true });
    const rules = new Set(LLAMA_HF_NAMES.map((r) => r.webgrad));
    for (const name of Object.keys(model.stateDict())) expect(rules.has(name.replace(/^layers\.\d+\./, 'layers.{i}.')), name).toBe(true);
    model.dispose();
  });

  it('trains: the loss falls and the KV cache matches the full forward', async () => {
    manualSeed(3);
    const model = new Llama({ vocabSize: 17, hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 1, maxPositionEmbeddings: 16 });
    const idx = randint(0, 17, [2, 10]);
    const full = noGrad(() => model.forward(idx).logits);
    const cache = model.createKVCache();
    const first = noGrad(() => model.forward(idx.narrow(1, 0, 6), null, { kvCache: cache }).logits);
    const rest = noGrad(() => model.forward(idx.narrow(1, 6, 4), null, { kvCache: cache }).logits);
    expect(cache.length).toBe(10);
    expect(cache.layers[0]!.k!.shape).toEqual([2, 1, 10, 4]);
    const fullData = await full.data();
    const V = 17;
    const joined = new Float32Array(2 * 10 * V);
    const a = await first.data(), b = await rest.data();
    for (let r = 0; r < 2; r++) { joined.set(a.subarray(r * 6 * V, (r + 1) * 6 * V), r * 10 * V); joined.set(b.subarray(r * 4 * V, (r + 1) * 4 * V), r * 10 * V + 6 * V); }
    expect(maxAbsDiff(joined, fullData)).toBeLessThan(1e-5);
    cache.dispose();
    const params = model.parameters();
    const lossOf = async () => { const l = noGrad(() => model.forward(idx.narrow(1, 0, 9), idx.narrow(1, 1, 9)).loss!); const v = (await l.data())[0]!; l.dispose(); return v; };
    const loss0 = await lossOf();
    const opt = new AdamW(params, { lr: 1e-2, weightDecay: 0 });
    for (let s = 0; s < 30; s++) {
      opt.zeroGrad();
      const { loss } = model.forward(idx.narrow(1, 0, 9), idx.narrow(1, 1, 9));
      loss!.backward();
      opt.step();
      loss!.dispose();
    }
    const loss1 = await lossOf();
    expect(loss1, `loss ${loss0} → ${loss1}`).toBeLessThan(loss0 * 0.5);
    // Sampling is reproducible from a seed and stays in the vocabulary.
    const s1 = Array.from(await (await model.generate(idx.narrow(1, 0, 3), { maxNewTokens: 5, seed: 11, temperature: 0.8, topK: 5 })).data());
    const s2 = Array.from(await (await model.generate(idx.narrow(1, 0, 3), { maxNewTokens: 5, seed: 11, temperature: 0.8, topK: 5 })).data());
    expect(s1).toEqual(s2);
    expect(s1.every((t) => t >= 0 && t < 17)).toBe(true);
    for (const t of [idx, full, first, rest]) t.dispose();
    model.dispose();
  });

  it('refuses configurations and checkpoints it does not implement', async () => {
    const { config, tensors } = await readHFCheckpoint(fixtures.llama.dir);
    expect(() => llamaConfigFromHF({ ...config, rope_parameters: { rope_type: 'llama3', rope_theta: 1, factor: 8 } })).toThrow(/rope scaling "llama3" is not supported/);
    expect(() => llamaConfigFromHF({ ...config, hidden_act: 'gelu' })).toThrow(/"hidden_act" is "gelu"/);
    expect(() => llamaConfigFromHF({ ...config, model_type: 'qwen2', use_sliding_window: true })).toThrow(/sliding-window/);
    expect(() => llamaConfigFromHF({ ...config, num_key_value_heads: 3 })).not.toThrow();
    expect(() => llamaFromHF({ ...config, num_key_value_heads: 3 }, tensors)).toThrow(/not a multiple of config\.numKeyValueHeads 3/);
    expect(() => llamaFromHF({ ...config, num_key_value_heads: 4 }, tensors)).toThrow(/k_proj\.weight has shape \[16, 32\], the model's layers\.0\.selfAttn\.kProj\.weight needs \[32, 32\]/);
    expect(() => llamaFromHF({ ...config, tie_word_embeddings: true }, tensors)).toThrow(/differs from model\.embed_tokens\.weight, but the model ties them/);
    expect(() => new Llama({ vocabSize: 9, hiddenSize: 6, intermediateSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, maxPositionEmbeddings: 4 })).toThrow(/head width 3 must be even/);
    const m = new Llama({ vocabSize: 9, hiddenSize: 8, intermediateSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, maxPositionEmbeddings: 4 });
    const long = randint(0, 9, [1, 5]);
    expect(() => m.forward(long)).toThrow(/length 5 exceeds maxPositionEmbeddings 4/);
    long.dispose();
    m.dispose();
  });
});
