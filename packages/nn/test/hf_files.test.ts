// HF model directories on disk beyond the single float32 file: a checkpoint split into shards with
// model.safetensors.index.json loads to the same weights, and half-precision files (F16, BF16,
// as most hub checkpoints are stored) widen to float32 exactly.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { noGrad } from '@webgrad/core';
import {
  Llama, bf16ToF32, decodeToFloat32, f32ToBf16, f32ToF16, f16ToF32, loadHFModel, readHFCheckpoint, writeSafetensorsFile,
  type SafeTensorInput,
} from '@webgrad/nn';
import { idsTensor, maxAbsDiff, modelFixture } from './hf_helpers.js';

const fx = await modelFixture('llama');
const tmp = mkdtempSync(join(tmpdir(), 'webgrad-hf-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function logitsOf(dir: string): Promise<Float32Array> {
  const model = (await loadHFModel(dir)) as Llama;
  const ids = idsTensor(fx.ids, 'cpu');
  const logits = noGrad(() => model.forward(ids).logits);
  const out = (await logits.data()) as Float32Array;
  for (const t of [ids, logits]) t.dispose();
  model.dispose();
  return out;
}

describe('HF checkpoint files', () => {
  it('loads a checkpoint split into shards', async () => {
    const { tensors } = await readHFCheckpoint(fx.dir);
    const names = Object.keys(tensors).sort();
    const dir = join(tmp, 'sharded');
    mkdirSync(dir);
    copyFileSync(join(fx.dir, 'config.json'), join(dir, 'config.json'));
    const weightMap: Record<string, string> = {};
    const halves = [names.slice(0, 9), names.slice(9)];
    for (const [i, part] of halves.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      const shard: Record<string, SafeTensorInput> = {};
      for (const n of part) { shard[n] = { dtype: 'F32', shape: tensors[n]!.shape, data: tensors[n]!.data }; weightMap[n] = file; }
      await writeSafetensorsFile(join(dir, file), shard, { format: 'pt' });
    }
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    expect(maxAbsDiff(await logitsOf(dir), await logitsOf(fx.dir))).toBe(0);
  });

  it.each([['F16', f32ToF16, f16ToF32], ['BF16', f32ToBf16, bf16ToF32]] as const)('widens %s files to float32 exactly', async (dtype, narrow, widen) => {
    const { tensors } = await readHFCheckpoint(fx.dir);
    const dir = join(tmp, dtype);
    mkdirSync(dir);
    copyFileSync(join(fx.dir, 'config.json'), join(dir, 'config.json'));
    const half: Record<string, SafeTensorInput> = {};
    for (const [n, v] of Object.entries(tensors)) {
      const f = decodeToFloat32(v);
      half[n] = { dtype, shape: v.shape, data: Uint16Array.from(f, (x) => narrow(x)) };
    }
    await writeSafetensorsFile(join(dir, 'model.safetensors'), half);
    const model = (await loadHFModel(dir)) as Llama;
    const w = await model.layers.at(1).selfAttn.kProj.weight.data();
    const stored = half['model.layers.1.self_attn.k_proj.weight']!.data as Uint16Array;
    expect(Array.from(w)).toEqual(Array.from(stored, (b) => widen(b)));
    model.dispose();
  });
});
