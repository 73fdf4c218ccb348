// LoRA adapters of a GPT or Llama (made with @webgrad/optim's applyLora) written the way HF PEFT
// saves them, so `PeftModel.from_pretrained(base, dir)` loads them:
//   adapter_config.json        peft_type LORA, task_type CAUSAL_LM, r, lora_alpha, lora_dropout,
//                              target_modules (HF module names), fan_in_fan_out (true for GPT-2's
//                              Conv1D), base_model_name_or_path, …
//   adapter_model.safetensors  base_model.model.<HF module>.lora_A.weight [r, in] and
//                              .lora_B.weight [out, r]: PEFT keeps these shapes for Conv1D too,
//                              so webgrad's tensors are written as they are.
// loadPeftAdapter reads such a directory (from PEFT or from here) back into a model whose adapters
// were added with applyLora on peftTargetModules(model, config.target_modules).
// A LoRA layer is recognised by its lora_A / lora_B sub-layers and r / loraAlpha / loraDropout
// fields (LoraLinear in @webgrad/optim), since this package sits below optim.
import { fmtValue, noGrad, tensor, tidy, type Tensor } from '@webgrad/core';
import { GPT } from '../models/gpt.js';
import { Llama } from '../models/llama.js';
import type { Module } from '../module.js';
import { decodeToFloat32, decodeToFloat64, readSafetensorsFile, writeFileAtomic, writeSafetensorsFile, type SafeTensorInput } from '../safetensors/index.js';
import { gpt2NameMap } from './gpt2.js';
import { llamaNameMap } from './llama.js';
import { HFCheckpointError, type HFModelFiles } from './names.js';

// A non-literal specifier keeps browser bundlers from resolving Node built-ins.
const nodeModule = (name: string): Promise<unknown> => import(name);

interface LoraLike {
  lora_A: { weight: Tensor };
  lora_B: { weight: Tensor };
  r: number;
  loraAlpha: number;
  loraDropout: number;
}

function isLora(m: Module): m is Module & LoraLike {
  const x = m as unknown as Partial<LoraLike>;
  return typeof x.r === 'number' && typeof x.loraAlpha === 'number' && x.lora_A?.weight !== undefined && x.lora_B?.weight !== undefined;
}

/** Options of peftAdapterFiles / savePeftAdapter. */
export interface PeftAdapterOptions {
  /** Written as base_model_name_or_path: the hub id or directory of the base model (default null). */
  baseModelNameOrPath?: string | null;
}

/** adapter_config.json (as an object) and the adapter tensors under PEFT's names. */
export async function peftAdapterFiles(model: GPT | Llama, opts: PeftAdapterOptions = {}): Promise<HFModelFiles> {
  const op = 'peftAdapterFiles';
  if (!(model instanceof GPT) && !(model instanceof Llama)) throw new HFCheckpointError(`${op}: model must be a GPT or a Llama, got ${fmtValue(model)}`);
  const base = opts.baseModelNameOrPath ?? null;
  if (base !== null && typeof base !== 'string') throw new HFCheckpointError(`${op}: baseModelNameOrPath must be a string or null, got ${fmtValue(base)}`);
  const map = model instanceof GPT ? gpt2NameMap : llamaNameMap;
  const layers = [...model.namedModules()].filter((e): e is [string, Module & LoraLike] => isLora(e[1]));
  if (layers.length === 0) throw new HFCheckpointError(`${op}: the model has no LoRA adapters (add them with applyLora from @webgrad/optim)`);
  const [, first] = layers[0]!;
  const tensors: Record<string, SafeTensorInput> = {};
  const targets = new Set<string>();
  for (const [name, l] of layers) {
    if (l.r !== first.r || l.loraAlpha !== first.loraAlpha || l.loraDropout !== first.loraDropout) {
      throw new HFCheckpointError(`${op}: ${name} has r=${l.r}, alpha=${l.loraAlpha}, dropout=${l.loraDropout}, but ${layers[0]![0]} r=${first.r}, alpha=${first.loraAlpha}, dropout=${first.loraDropout}; one adapter config is written for all layers`);
    }
    const hf = map.toHF(`${name}.weight`);
    if (!hf) throw new HFCheckpointError(`${op}: ${name} has no HF name`);
    const module = hf.name.replace(/\.weight$/, '');
    targets.add(module.slice(module.lastIndexOf('.') + 1));
    for (const part of ['lora_A', 'lora_B'] as const) {
      const t = l[part].weight;
      if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new HFCheckpointError(`${op}: ${name}.${part}.weight is ${t.dtype}`);
      tensors[`base_model.model.${module}.${part}.weight`] = { dtype: t.dtype === 'float64' ? 'F64' : 'F32', shape: [...t.shape], data: (await t.data()) as Float32Array };
    }
  }
  const config = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: base,
    r: first.r,
    lora_alpha: first.loraAlpha,
    lora_dropout: first.loraDropout,
    target_modules: [...targets].sort(),
    fan_in_fan_out: model instanceof GPT,
    bias: 'none',
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    use_rslora: false,
    use_dora: false,
    revision: null,
  };
  return { config, tensors };
}

/** Write `model`'s LoRA adapters to `dir` as adapter_config.json + adapter_model.safetensors (HF PEFT's layout). */
export async function savePeftAdapter(model: GPT | Llama, dir: string, opts: PeftAdapterOptions = {}): Promise<void> {
  if (typeof dir !== 'string' || dir === '') throw new HFCheckpointError(`savePeftAdapter: dir must be a non-empty string, got ${fmtValue(dir)}`);
  const { config, tensors } = await peftAdapterFiles(model, opts);
  const fs = (await nodeModule('node:fs/promises')) as typeof import('node:fs/promises');
  const path = (await nodeModule('node:path')) as typeof import('node:path');
  await fs.mkdir(dir, { recursive: true });
  await writeSafetensorsFile(path.join(dir, 'adapter_model.safetensors'), tensors, { format: 'pt' });
  await writeFileAtomic(path.join(dir, 'adapter_config.json'), new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`));
}

/** The webgrad module names of the Linear layers whose HF module name is, or ends with, one of
 *  `hfTargets` (PEFT's target_modules, e.g. ['c_attn'] or ['q_proj', 'v_proj']): what applyLora's
 *  targetModules needs to adapt the layers PEFT would. */
export function peftTargetModules(model: GPT | Llama, hfTargets: readonly string[]): string[] {
  const op = 'peftTargetModules';
  if (!(model instanceof GPT) && !(model instanceof Llama)) throw new HFCheckpointError(`${op}: model must be a GPT or a Llama, got ${fmtValue(model)}`);
  if (!Array.isArray(hfTargets) || hfTargets.length === 0 || hfTargets.some((t) => typeof t !== 'string' || t === '')) {
    throw new HFCheckpointError(`${op}: hfTargets must be a non-empty array of module names, got ${fmtValue(hfTargets)}`);
  }
  const map = model instanceof GPT ? gpt2NameMap : llamaNameMap;
  const names: string[] = [];
  for (const [name, m] of model.namedModules()) {
    if (name === 'lmHead' || !(m as Partial<{ weight: Tensor; inFeatures: number }>).inFeatures) continue;
    const hf = map.toHF(`${name}.weight`)?.name.replace(/\.weight$/, '');
    if (hf && hfTargets.some((t) => hf === t || hf.endsWith(`.${t}`))) names.push(name);
  }
  if (names.length === 0) throw new HFCheckpointError(`${op}: no Linear layer of the model matches ${JSON.stringify(hfTargets)}`);
  return names;
}

async function readJsonFile(path: string): Promise<Record<string, unknown>> {
  const fs = (await nodeModule('node:fs/promises')) as typeof import('node:fs/promises');
  try {
    return JSON.parse(await fs.readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new HFCheckpointError(`${path}: cannot read as JSON (${(e as Error).message})`);
  }
}

/**
 * Copy a PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors) into
 * `model`'s adapters. Add them first with applyLora({ r, alpha: lora_alpha, targetModules:
 * peftTargetModules(model, target_modules) }) from the adapter's config; every adapter of the model
 * must be in the file and the other way round, with the same r and alpha. Returns the config.
 */
export async function loadPeftAdapter(model: GPT | Llama, dir: string): Promise<Record<string, unknown>> {
  const op = 'loadPeftAdapter';
  if (!(model instanceof GPT) && !(model instanceof Llama)) throw new HFCheckpointError(`${op}: model must be a GPT or a Llama, got ${fmtValue(model)}`);
  if (typeof dir !== 'string' || dir === '') throw new HFCheckpointError(`${op}: dir must be a non-empty string, got ${fmtValue(dir)}`);
  const path = (await nodeModule('node:path')) as typeof import('node:path');
  const configPath = path.join(dir, 'adapter_config.json');
  const config = await readJsonFile(configPath);
  if (config.peft_type !== 'LORA') throw new HFCheckpointError(`${configPath}: peft_type ${fmtValue(config.peft_type)} is not LORA`);
  for (const [k, ok] of [['use_dora', false], ['use_rslora', false]] as const) {
    if (config[k] !== undefined && config[k] !== ok) throw new HFCheckpointError(`${configPath}: "${k}": ${fmtValue(config[k])} is not supported`);
  }
  if (config.bias !== undefined && config.bias !== 'none') throw new HFCheckpointError(`${configPath}: "bias": ${fmtValue(config.bias)} is not supported (only "none")`);
  const r = config.r, alpha = config.lora_alpha;
  if (typeof r !== 'number' || typeof alpha !== 'number') throw new HFCheckpointError(`${configPath}: "r" and "lora_alpha" must be numbers, got ${fmtValue(r)} and ${fmtValue(alpha)}`);
  const filePath = path.join(dir, 'adapter_model.safetensors');
  const file = await readSafetensorsFile(filePath);
  const map = model instanceof GPT ? gpt2NameMap : llamaNameMap;
  const layers = new Map([...model.namedModules()].filter((e): e is [string, Module & LoraLike] => isLora(e[1])));
  if (layers.size === 0) throw new HFCheckpointError(`${op}: the model has no LoRA adapters; add them with applyLora (targetModules: peftTargetModules(model, ${JSON.stringify(config.target_modules)}))`);
  const pending: [Tensor, string][] = [];
  const filled = new Set<string>();
  for (const key of file.names) {
    const m = /^base_model\.model\.(.+)\.(lora_A|lora_B)(?:\.default)?\.weight$/.exec(key);
    const mapped = m ? map.fromHF(`${m[1]}.weight`) : null;
    const name = mapped?.name.replace(/\.weight$/, '');
    const layer = name === undefined ? undefined : layers.get(name);
    if (!m || !layer) throw new HFCheckpointError(`${filePath}: ${key} has no LoRA layer in the model${name ? ` (${name} has no adapter)` : ''}`);
    if (layer.r !== r || layer.loraAlpha !== alpha) throw new HFCheckpointError(`${op}: ${name} has r=${layer.r}, alpha=${layer.loraAlpha}; the adapter has r=${r}, lora_alpha=${alpha}`);
    const t = layer[m[2] as 'lora_A' | 'lora_B'].weight;
    const view = file.tensors[key]!;
    if (view.shape.join() !== t.shape.join()) throw new HFCheckpointError(`${filePath}: ${key} has shape [${view.shape.join(', ')}], ${name}.${m[2]}.weight is [${t.shape.join(', ')}]`);
    pending.push([t, key]);
    filled.add(`${name}.${m[2]}`);
  }
  const missing = [...layers.keys()].flatMap((n) => [`${n}.lora_A`, `${n}.lora_B`]).filter((n) => !filled.has(n));
  if (missing.length) throw new HFCheckpointError(`${filePath}: no tensors for ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ` (+${missing.length - 8} more)` : ''}`);
  for (const [t, key] of pending) {
    const where = { source: filePath, tensor: key };
    const data = t.dtype === 'float64' ? decodeToFloat64(file.tensors[key]!, where) : decodeToFloat32(file.tensors[key]!, where);
    noGrad(() => tidy(() => { t.copy_(tensor(data, { shape: [...t.shape], dtype: t.dtype, device: t.device })); }));
  }
  return config;
}
