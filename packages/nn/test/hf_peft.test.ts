// LoRA adapters in PEFT's format: for each fixture model, the adapter webgrad writes after
// applyLora on the layers PEFT adapted has exactly the tensor names and shapes PEFT's own
// save_pretrained wrote for that model (recorded by scripts/hf/make_fixtures.py), the
// adapter_config.json fields agree with PEFT's, and an adapter PEFT saved loads into webgrad with
// PEFT's logits.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { noGrad } from '@webgrad/core';
import { GPT, HFCheckpointError, Llama, loadHFModel, loadPeftAdapter, peftAdapterFiles, peftTargetModules, readSafetensorsFile, savePeftAdapter } from '@webgrad/nn';
import { applyLora } from '@webgrad/optim';
import { DEVICES } from './helpers.js';
import { idsTensor, maxAbsDiff, modelFixture } from './hf_helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'webgrad-hf-peft-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** webgrad module names for PEFT's target_modules (HF names). */
const TARGETS: Record<string, string[]> = { c_attn: ['attn.cAttn'], q_proj: ['selfAttn.qProj'], v_proj: ['selfAttn.vProj'] };

describe('PEFT adapters', () => {
  it.each(['gpt2', 'llama', 'qwen2'] as const)('%s: names, shapes and config as PEFT writes them', async (name) => {
    const fx = await modelFixture(name);
    const ref = fx.peft.adapter_config;
    const model = (await loadHFModel(fx.dir)) as GPT | Llama;
    const targets = (ref.target_modules as string[]).flatMap((t) => TARGETS[t]!);
    applyLora(model, { r: ref.r as number, alpha: ref.lora_alpha as number, targetModules: targets });
    const { config, tensors } = await peftAdapterFiles(model, { baseModelNameOrPath: fx.dir });
    const shapes = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t.shape]));
    expect(shapes).toEqual(fx.peft.tensors);
    for (const [k, v] of Object.entries(config)) {
      expect(k in ref, `${k} is a PEFT field`).toBe(true);
      if (k !== 'base_model_name_or_path') expect(v, k).toEqual(ref[k]);   // target_modules: both sorted
    }
    expect(config.base_model_name_or_path).toBe(fx.dir);
    // The files: adapter_model.safetensors holds webgrad's lora_A / lora_B values as they are.
    const dir = join(tmp, name);
    await savePeftAdapter(model, dir, { baseModelNameOrPath: 'org/tiny' });
    const file = await readSafetensorsFile(join(dir, 'adapter_model.safetensors'));
    expect(file.names.sort()).toEqual(Object.keys(fx.peft.tensors).sort());
    const first = Object.keys(fx.peft.tensors).find((k) => k.includes('.0.') && k.endsWith('lora_A.weight'))!;
    const layer = model instanceof GPT ? model.h.at(0).attn.cAttn : model.layers.at(0).selfAttn.qProj;
    const a = (layer as unknown as { lora_A: { weight: { data(): Promise<Float32Array> } } }).lora_A.weight;
    const values = await a.data();
    expect(Buffer.from(file.tensors[first]!.data).equals(Buffer.from(values.buffer, values.byteOffset, values.byteLength))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')).base_model_name_or_path).toBe('org/tiny');
    model.dispose();
  });

  it.each(DEVICES.flatMap((d) => (['gpt2', 'llama', 'qwen2'] as const).map((n) => [n, d] as const)))('%s on %s: an adapter PEFT saved loads with PEFT\'s logits', async (name, device) => {
    const fx = await modelFixture(name);
    const model = (await loadHFModel(fx.dir, { device })) as GPT | Llama;
    const adapterDir = join(fx.dir, 'peft_adapter');
    const config = JSON.parse(readFileSync(join(adapterDir, 'adapter_config.json'), 'utf8')) as { r: number; lora_alpha: number; target_modules: string[] };
    applyLora(model, { r: config.r, alpha: config.lora_alpha, targetModules: peftTargetModules(model, config.target_modules) });
    await loadPeftAdapter(model, adapterDir);
    const ids = idsTensor(fx.ids, device);
    const logits = noGrad(() => model.forward(ids).logits);
    const err = maxAbsDiff(await logits.data(), fx.loraLogits);
    console.log(`${name} + PEFT adapter on ${device}: max |logit - PEFT| = ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-5);
    expect(maxAbsDiff(fx.loraLogits, fx.logits)).toBeGreaterThan(0.1);   // the adapter matters
    // Written back, the adapter file holds PEFT's bytes.
    const out = join(tmp, `${name}-${device}-back`);
    await savePeftAdapter(model, out);
    const [a, b] = [await readSafetensorsFile(join(adapterDir, 'adapter_model.safetensors')), await readSafetensorsFile(join(out, 'adapter_model.safetensors'))];
    for (const k of a.names) expect(Buffer.from(b.tensors[k]!.data).equals(Buffer.from(a.tensors[k]!.data)), k).toBe(true);
    for (const t of [ids, logits]) t.dispose();
    model.dispose();
  });

  it('loadPeftAdapter refuses an adapter that does not fit the model\'s adapters', async () => {
    const fx = await modelFixture('llama');
    const adapterDir = join(fx.dir, 'peft_adapter');
    const model = (await loadHFModel(fx.dir)) as Llama;
    await expect(loadPeftAdapter(model, adapterDir)).rejects.toThrow(/no LoRA adapters; add them with applyLora/);
    applyLora(model, { r: 4, alpha: 8, targetModules: peftTargetModules(model, ['q_proj']) });
    await expect(loadPeftAdapter(model, adapterDir)).rejects.toThrow(/v_proj\.lora_A\.weight has no LoRA layer in the model \(layers\.0\.selfAttn\.vProj has no adapter\)/);
    model.dispose();
    const other = (await loadHFModel(fx.dir)) as Llama;
    applyLora(other, { r: 2, alpha: 8, targetModules: peftTargetModules(other, ['q_proj', 'v_proj']) });
    await expect(loadPeftAdapter(other, adapterDir)).rejects.toThrow(/has r=2, alpha=8; the adapter has r=4, lora_alpha=8/);
    other.dispose();
    const wide = (await loadHFModel(fx.dir)) as Llama;
    applyLora(wide, { r: 4, alpha: 8, targetModules: peftTargetModules(wide, ['q_proj', 'v_proj', 'o_proj']) });
    await expect(loadPeftAdapter(wide, adapterDir)).rejects.toThrow(/no tensors for layers\.0\.selfAttn\.oProj\.lora_A/);
    expect(() => peftTargetModules(wide, ['nothing'])).toThrow(/no Linear layer of the model matches \["nothing"\]/);
    wide.dispose();
  });

  it('refuses a model without adapters, or with adapters of different ranks', async () => {
    const model = new GPT({ vocabSize: 7, blockSize: 4, nLayer: 2, nHead: 1, nEmbd: 4 });
    await expect(peftAdapterFiles(model)).rejects.toThrow(HFCheckpointError);
    await expect(peftAdapterFiles(model)).rejects.toThrow(/no LoRA adapters/);
    applyLora(model, { r: 2, targetModules: ['h.0.attn.cAttn'] });
    model.requiresGrad_(true);
    applyLora(model, { r: 3, targetModules: ['h.1.attn.cAttn'] });
    await expect(peftAdapterFiles(model)).rejects.toThrow(/h\.1\.attn\.cAttn has r=3.*h\.0\.attn\.cAttn r=2/);
    await expect(peftAdapterFiles({} as GPT)).rejects.toThrow(/model must be a GPT or a Llama/);
    model.dispose();
  });
});
