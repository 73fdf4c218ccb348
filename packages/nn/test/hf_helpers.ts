// Shared by the HF parity tests: the fixture directories made by scripts/hf/make_fixtures.py and
// comparisons against transformers' logits.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { tensor, type DeviceName, type Tensor } from '@webgrad/core';
import { decodeToFloat32, readSafetensorsFile } from '@webgrad/nn';

export const HF_FIXTURES = fileURLToPath(new URL('./fixtures/hf/', import.meta.url));

/** One model directory of fixtures/hf with what transformers and PEFT computed for it. */
export interface ModelFixture {
  dir: string;
  ids: number[][];
  generated: number[][];
  /** transformers' logits (B, T, V), float32. */
  logits: Float32Array;
  /** PEFT's logits with the adapter in peft_adapter/. */
  loraLogits: Float32Array;
  peft: { adapter_config: Record<string, unknown>; tensors: Record<string, number[]> };
}

export async function modelFixture(name: 'gpt2' | 'llama' | 'qwen2'): Promise<ModelFixture> {
  const dir = join(HF_FIXTURES, name);
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Omit<ModelFixture, 'dir' | 'logits'>;
  const file = await readSafetensorsFile(join(dir, 'expected.safetensors'));
  return { dir, ...expected, logits: decodeToFloat32(file.tensors.logits!), loraLogits: decodeToFloat32(file.tensors.lora_logits!) };
}

export function idsTensor(rows: number[][], device: DeviceName): Tensor {
  return tensor(Int32Array.from(rows.flat()), { shape: [rows.length, rows[0]!.length], dtype: 'int32', device });
}

/** Largest |a − b| over two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}
