// LoRA adapters written in PEFT's format: for each fixture model, the adapter webgrad writes after
// applyLora on the layers PEFT adapted has exactly the tensor names and shapes PEFT's own
// save_pretrained wrote for that model (recorded by scripts/hf/make_fixtures.py), and the
// adapter_config.json fields agree with PEFT's.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GPT, HFCheckpointError, Llama, loadHFModel, peftAdapterFiles, readSafetensorsFile, savePeftAdapter } from '@webgrad/nn';
import { applyLora } from '@webgrad/optim';
import { modelFixture } from './hf_helpers.js';

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
      if (k !== 'base_model_name_or_path') expect(v, k).toEqual(ref[k]);
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
