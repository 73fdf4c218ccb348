// GPT-2 checkpoints from transformers: a tiny GPT2LMHeadModel (fixtures/hf/gpt2, made by
// scripts/hf/make_fixtures.py) loads into webgrad's GPT with the same logits and greedy
// generation, and writes back to HF names and layouts with identical tensor values.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { noGrad } from '@webgrad/core';
import {
  GPT, GPT2_HF_NAMES, HFCheckpointError, LayerNorm, gpt2ConfigFromHF, gptFromHF, gptToHF, loadHFModel, readHFCheckpoint,
  readSafetensorsFile, saveHFModel, serializeSafetensors, parseSafetensors, type SafeTensorView,
} from '@webgrad/nn';
import { DEVICES } from './helpers.js';
import { idsTensor, maxAbsDiff, modelFixture } from './hf_helpers.js';

const fx = await modelFixture('gpt2');
const tmp = mkdtempSync(join(tmpdir(), 'webgrad-hf-gpt2-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Measured max |Δ logit| against transformers: cpu 2.0e-6, webgpu (lavapipe) 2.4e-6.
const LOGIT_TOL = 1e-5;

describe.each(DEVICES)('GPT-2 checkpoint on %s', (device) => {
  it('gives transformers\' logits and greedy generation', async () => {
    const model = (await loadHFModel(fx.dir, { device })) as GPT;
    expect(model).toBeInstanceOf(GPT);
    model.eval();
    const ids = idsTensor(fx.ids, device);
    const logits = noGrad(() => model.forward(ids).logits);
    const err = maxAbsDiff(await logits.data(), fx.logits);
    console.log(`GPT-2 ${device}: max |logit - transformers| = ${err.toExponential(2)}`);
    expect(err).toBeLessThan(LOGIT_TOL);
    const out = await model.generate(ids, { maxNewTokens: fx.generated[0]!.length - fx.ids[0]!.length, greedy: true });
    expect(Array.from(await out.data())).toEqual(fx.generated.flat());
    for (const t of [ids, logits, out]) t.dispose();
    model.dispose();
  });
});

describe('GPT-2 config and names', () => {
  it('reads config.json: tanh GELU, LayerNorm eps, tied head', async () => {
    const { config } = await readHFCheckpoint(fx.dir);
    expect(gpt2ConfigFromHF(config)).toEqual({ vocabSize: 300, blockSize: 32, nLayer: 2, nHead: 4, nEmbd: 32, gelu: 'tanh', layerNormEps: 1e-6, dropout: 0 });
    const model = (await loadHFModel(fx.dir)) as GPT;
    expect(model.h.at(0).ln1.eps).toBe(1e-6);
    expect(model.h.at(1).ln2.eps).toBe(1e-6);
    expect(model.lnF.eps).toBe(1e-6);
    expect(model.h.at(0).mlp.act.approximate).toBe('tanh');
    expect(model.lmHead.weight).toBe(model.wte.weight);
    model.dispose();
  });

  it('keeps GPT\'s defaults when the new options are not given', () => {
    const m = new GPT({ vocabSize: 11, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4 });
    expect(m.config.gelu).toBe('none');
    expect(m.config.layerNormEps).toBe(1e-5);
    expect(m.h.at(0).ln1).toBeInstanceOf(LayerNorm);
    expect(m.h.at(0).ln1.eps).toBe(1e-5);
    expect(m.h.at(0).mlp.act.approximate).toBe('none');
    m.dispose();
  });

  it('round-trips HF → webgrad → HF with identical tensor bytes', async () => {
    const original = await readSafetensorsFile(join(fx.dir, 'model.safetensors'));
    const model = (await loadHFModel(fx.dir)) as GPT;
    const { config, tensors } = await gptToHF(model);
    const back = parseSafetensors(serializeSafetensors(tensors));
    expect(back.names.sort()).toEqual([...original.names].sort());
    for (const name of original.names) {
      const a = original.tensors[name]!, b = back.tensors[name]!;
      expect(b.shape, name).toEqual(a.shape);
      expect(b.dtype, name).toBe(a.dtype);
      expect(Buffer.from(b.data).equals(Buffer.from(a.data)), `${name} bytes`).toBe(true);
    }
    const hfConfig = JSON.parse(readFileSync(join(fx.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    for (const k of ['vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head', 'layer_norm_epsilon', 'activation_function']) expect(config[k], k).toEqual(hfConfig[k]);
    // Through the files: saveHFModel, then load again.
    await saveHFModel(model, join(tmp, 'saved'));
    const saved = await readSafetensorsFile(join(tmp, 'saved', 'model.safetensors'));
    for (const name of original.names) expect(Buffer.from(saved.tensors[name]!.data).equals(Buffer.from(original.tensors[name]!.data)), name).toBe(true);
    expect(saved.metadata).toEqual({ format: 'pt' });
    const again = (await loadHFModel(join(tmp, 'saved'))) as GPT;
    expect(again.config).toEqual(model.config);
    model.dispose();
    again.dispose();
  });

  it('maps every webgrad parameter to an HF name and back', () => {
    const model = new GPT({ vocabSize: 7, blockSize: 4, nLayer: 3, nHead: 1, nEmbd: 4 });
    const rules = new Set(GPT2_HF_NAMES.map((r) => r.webgrad));
    for (const name of Object.keys(model.stateDict())) expect(rules.has(name.replace(/^h\.\d+\./, 'h.{i}.')), name).toBe(true);
    model.dispose();
  });

  it('loads old checkpoints without the transformer. prefix and with mask buffers', async () => {
    const { config, tensors } = await readHFCheckpoint(fx.dir);
    const bare: Record<string, SafeTensorView> = {};
    for (const [k, v] of Object.entries(tensors)) bare[k.replace(/^transformer\./, '')] = v;
    bare['h.0.attn.bias'] = { dtype: 'F32', shape: [1, 1, 2, 2], data: new Uint8Array(16) };
    bare['lm_head.weight'] = tensors['transformer.wte.weight']!;
    const model = gptFromHF(config, bare);
    const ref = gptFromHF(config, tensors);
    expect(maxAbsDiff(await model.lnF.weight!.data(), await ref.lnF.weight!.data())).toBe(0);
    expect(maxAbsDiff(await model.h.at(1).attn.cAttn.weight.data(), await ref.h.at(1).attn.cAttn.weight.data())).toBe(0);
    model.dispose();
    ref.dispose();
  });

  it('refuses checkpoints that do not fit, naming the tensor or key', async () => {
    const { config, tensors } = await readHFCheckpoint(fx.dir);
    const drop = { ...tensors };
    delete drop['transformer.h.1.mlp.c_fc.bias'];
    expect(() => gptFromHF(config, drop)).toThrow(/missing tensors transformer\.h\.1\.mlp\.c_fc\.bias/);
    const extra = { ...tensors, 'transformer.h.2.ln_1.weight': tensors['transformer.h.1.ln_1.weight']! };
    expect(() => gptFromHF(config, extra)).toThrow(/no place for: transformer\.h\.2\.ln_1\.weight/);
    const wrongShape = { ...tensors, 'transformer.h.0.attn.c_attn.weight': tensors['transformer.h.0.attn.c_proj.weight']! };
    expect(() => gptFromHF(config, wrongShape)).toThrow(/c_attn\.weight has shape \[32, 32\], the model's h\.0\.attn\.cAttn\.weight needs \[32, 96\]/);
    const untied = { ...tensors, 'lm_head.weight': tensors['transformer.wpe.weight']! };
    expect(() => gptFromHF(config, untied)).toThrow(HFCheckpointError);
    expect(() => gptFromHF({ ...config, activation_function: 'relu' }, tensors)).toThrow(/activation_function "relu" is not supported/);
    expect(() => gptFromHF({ ...config, n_inner: 100 }, tensors)).toThrow(/"n_inner" is 100/);
    expect(() => gptFromHF({ ...config, model_type: 'llama' }, tensors)).toThrow(HFCheckpointError);
    expect(() => gptFromHF({ ...config, n_embd: 'wide' }, tensors)).toThrow(/"n_embd" must be a positive integer/);
    await expect(loadHFModel(join(tmp, 'nowhere'))).rejects.toThrow(/config\.json: cannot read/);
  });

  it('refuses to save a model GPT-2 cannot represent', async () => {
    const m = new GPT({ vocabSize: 7, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4, bias: false });
    await expect(gptToHF(m)).rejects.toThrow(/bias: false/);
    m.dispose();
  });
});
