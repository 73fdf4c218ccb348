// The README's "Load a HuggingFace checkpoint" program, run as written on a tiny Llama directory
// (config.json + model.safetensors + tokenizer.json) made here in place of a hub download.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { manualSeed, tensor } from '@webgrad/core';
import { ByteLevelBPETokenizer, HFTokenizer } from '@webgrad/data';
import { Llama, loadHFModel, readSafetensorsFile, saveHFModel } from '@webgrad/nn';

const root = mkdtempSync(join(tmpdir(), 'webgrad-hf-readme-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('the README program loads, generates and saves', async () => {
  const dir = join(root, 'SmolLM-tiny');
  const tokenizer = ByteLevelBPETokenizer.train('The capital of France is Paris. The capital of Italy is Rome.', { vocabSize: 270 });
  await tokenizer.save(dir);
  manualSeed(0);
  const made = new Llama({ vocabSize: tokenizer.vocabSize, hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, maxPositionEmbeddings: 64, tieWordEmbeddings: true });
  await saveHFModel(made, dir);
  made.dispose();

  // As in the README, with this directory and output path.
  const model = await loadHFModel(dir);
  const tok = await HFTokenizer.load(dir);
  const ids = tok.encode('The capital of France is');
  const out = await model.generate(tensor(Int32Array.from(ids), { shape: [1, ids.length], dtype: 'int32' }), { maxNewTokens: 20, greedy: true });
  await saveHFModel(model, join(root, 'copy'));

  expect(model).toBeInstanceOf(Llama);
  expect(out.shape).toEqual([1, ids.length + 20]);
  expect(Array.from(await out.data()).slice(0, ids.length)).toEqual(ids);
  const a = await readSafetensorsFile(join(dir, 'model.safetensors'));
  const b = await readSafetensorsFile(join(root, 'copy', 'model.safetensors'));
  expect(b.names).toEqual(a.names);
  for (const n of a.names) expect(Buffer.from(b.tensors[n]!.data).equals(Buffer.from(a.tensors[n]!.data)), n).toBe(true);
  out.dispose();
  model.dispose();
});
