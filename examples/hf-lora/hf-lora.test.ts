// The hf-lora example on its own tiny bases (CPU, few steps): the base directory it writes is an HF
// model directory that loads back, the adapter it writes has PEFT's file names, tensor names,
// shapes and config fields (compared with what PEFT itself wrote for the fixture models, made by
// scripts/hf/make_fixtures.py), and a bad flag is a usage error.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensorsFile } from '@webgrad/nn';
import { DEFAULT_OPTIONS, hfLora, type HfLoraOptions } from './hf_lora.js';
import { main } from './main.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-hf-lora-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../packages/nn/test/fixtures/hf/${name}/expected.json`, import.meta.url), 'utf8')) as {
  peft: { adapter_config: Record<string, unknown>; tensors: Record<string, number[]> };
};
const quiet: HfLoraOptions = { ...DEFAULT_OPTIONS, device: 'cpu', steps: 40, log: () => undefined };

/** PEFT's key pattern with layer numbers as {i}, and r as the fixtures' 4. */
const pattern = (k: string) => k.replace(/\.(h|layers)\.\d+\./, '.$1.{i}.');

describe('hf-lora example', () => {
  it.each(['gpt2', 'llama'] as const)('%s: trains, writes an HF base and a PEFT adapter in PEFT\'s layout', async (family) => {
    const out = join(root, family);
    const targets = family === 'gpt2' ? ['c_attn'] : ['q_proj', 'v_proj'];
    const r = await hfLora({ ...quiet, baseFamily: family, out, r: 4, alpha: 8, targets });
    expect(r.family).toBe(family);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) expect(existsSync(join(out, 'base', f)), f).toBe(true);
    expect(r.after.loss).toBeLessThan(r.before.loss);
    // Names and shapes: PEFT's for its fixture model (hidden 32 there, 64 here, both with 2 layers; r = 4).
    const peft = fixture(family === 'gpt2' ? 'gpt2' : 'llama').peft;
    const adapter = await readSafetensorsFile(join(out, 'adapter', 'adapter_model.safetensors'));
    expect(new Set(adapter.names.map(pattern))).toEqual(new Set(Object.keys(peft.tensors).map(pattern)));
    expect(adapter.names.length).toBe(Object.keys(peft.tensors).length);
    for (const [k, shape] of Object.entries(peft.tensors)) {
      expect(adapter.tensors[k]!.shape, k).toEqual(shape.map((d) => (d === 4 ? 4 : 2 * d)));
    }
    expect(adapter.metadata).toEqual({ format: 'pt' });
    const config = JSON.parse(readFileSync(join(out, 'adapter', 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    const ref = peft.adapter_config;
    for (const k of Object.keys(config)) expect(k in ref, `${k} is a PEFT field`).toBe(true);
    for (const k of ['peft_type', 'task_type', 'r', 'lora_alpha', 'lora_dropout', 'target_modules', 'fan_in_fan_out', 'bias', 'use_rslora', 'use_dora']) {
      expect(config[k], k).toEqual(ref[k]);
    }
    expect(config.base_model_name_or_path).toBe(resolve(out, 'base'));
    const probe = await readSafetensorsFile(join(out, 'probe.safetensors'));
    expect(probe.tensors.logits!.shape.slice(0, 2)).toEqual(probe.tensors.ids!.shape);
  });

  it('a bad flag prints the usage and exits 2', async () => {
    const err = console.error;
    console.error = () => undefined;
    try {
      expect(await main(['--r', '0'])).toBeNull();
      expect(process.exitCode).toBe(2);
    } finally {
      console.error = err;
      process.exitCode = 0;
    }
  });
});
