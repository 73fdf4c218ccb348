// HF checkpoint directories on disk (Node.js): config.json + model.safetensors, or shards listed
// in model.safetensors.index.json. node:fs is loaded lazily so browser bundles never pull it in.
import { checkOptions, fmtValue } from '@webgrad/core';
import { GPT } from '../models/gpt.js';
import { Llama } from '../models/llama.js';
import { readSafetensorsFile, writeFileAtomic, writeSafetensorsFile, type SafeTensorView } from '../safetensors/index.js';
import { gptFromHF, gptToHF, type HFModelOptions } from './gpt2.js';
import { llamaFromHF, llamaToHF } from './llama.js';
import { HFCheckpointError } from './names.js';

const nodeModule = (name: string): Promise<unknown> => import(name);
const loadFs = async () => (await nodeModule('node:fs/promises')) as typeof import('node:fs/promises');
const loadPath = async () => (await nodeModule('node:path')) as typeof import('node:path');

/** A checkpoint directory read into memory: its config.json and every tensor by HF name. */
export interface HFCheckpoint {
  /** config.json. */
  config: Record<string, unknown>;
  /** Every tensor of every shard, by transformers' name (views into the file bytes). */
  tensors: Record<string, SafeTensorView>;
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  const fs = await loadFs();
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    throw new HFCheckpointError(`${path}: cannot read (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new HFCheckpointError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

async function exists(path: string): Promise<boolean> {
  const fs = await loadFs();
  return fs.access(path).then(() => true, () => false);
}

/** Read config.json and the weights of an HF model directory (single file or shards). */
export async function readHFCheckpoint(dir: string): Promise<HFCheckpoint> {
  if (typeof dir !== 'string' || dir === '') throw new HFCheckpointError(`readHFCheckpoint: dir must be a non-empty string, got ${fmtValue(dir)}`);
  const path = await loadPath();
  const config = await readJson(path.join(dir, 'config.json'));
  const single = path.join(dir, 'model.safetensors');
  const index = path.join(dir, 'model.safetensors.index.json');
  let files: string[];
  if (await exists(single)) {
    files = [single];
  } else if (await exists(index)) {
    const map = (await readJson(index)).weight_map;
    if (typeof map !== 'object' || map === null) throw new HFCheckpointError(`${index}: no "weight_map" object`);
    files = [...new Set(Object.values(map as Record<string, string>))].map((f) => path.join(dir, f));
  } else {
    throw new HFCheckpointError(`${dir}: no model.safetensors or model.safetensors.index.json (PyTorch .bin checkpoints are not read; convert them to safetensors)`);
  }
  const tensors: Record<string, SafeTensorView> = {};
  for (const f of files) {
    const parsed = await readSafetensorsFile(f);
    for (const [k, v] of Object.entries(parsed.tensors)) {
      if (k in tensors) throw new HFCheckpointError(`${f}: tensor ${k} appears in more than one shard`);
      tensors[k] = v;
    }
  }
  return { config, tensors };
}

/** Load an HF model directory as a GPT (model_type gpt2) or a Llama (llama, qwen2, mistral). */
export async function loadHFModel(dir: string, opts: HFModelOptions = {}): Promise<GPT | Llama> {
  const { config, tensors } = await readHFCheckpoint(dir);
  const type = config.model_type;
  if (type === 'gpt2') return gptFromHF(config, tensors, opts, dir);
  if (type === 'llama' || type === 'qwen2' || type === 'mistral') return llamaFromHF(config, tensors, opts, dir);
  throw new HFCheckpointError(`${dir}/config.json: model_type ${fmtValue(type)} is not supported (gpt2, llama, qwen2, mistral)`);
}

/** Options of saveHFModel. */
export interface SaveHFModelOptions {
  /** Extra config.json entries merged over the generated ones (e.g. bos_token_id, eos_token_id,
   *  which the model itself does not know). */
  config?: Record<string, unknown>;
}

/** Write `model` as an HF model directory: config.json and model.safetensors in transformers'
 *  names and layouts (tied weights stored once, as save_pretrained does). */
export async function saveHFModel(model: GPT | Llama, dir: string, opts: SaveHFModelOptions = {}): Promise<void> {
  if (!(model instanceof GPT) && !(model instanceof Llama)) throw new HFCheckpointError(`saveHFModel: model must be a GPT or a Llama, got ${fmtValue(model)}`);
  if (typeof dir !== 'string' || dir === '') throw new HFCheckpointError(`saveHFModel: dir must be a non-empty string, got ${fmtValue(dir)}`);
  checkOptions('saveHFModel', opts, ['config']);
  const extra = opts.config ?? {};
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) throw new HFCheckpointError(`saveHFModel: config must be an object of config.json entries, got ${fmtValue(extra)}`);
  const { config: generated, tensors } = model instanceof GPT ? await gptToHF(model) : await llamaToHF(model);
  const config = { ...generated, ...extra };
  const fs = await loadFs();
  const path = await loadPath();
  await fs.mkdir(dir, { recursive: true });
  await writeSafetensorsFile(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  await writeFileAtomic(path.join(dir, 'config.json'), new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`));
}
