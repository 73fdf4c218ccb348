// GPT-2 checkpoints in transformers' layout (GPT2LMHeadModel) ↔ webgrad's GPT.
//
// Name mapping (GPT2_HF_NAMES; {i} = layer):
//   transformer.wte.weight                  wte.weight            [V, C]
//   transformer.wpe.weight                  wpe.weight            [n_positions, C]
//   transformer.h.{i}.ln_1.{weight,bias}    h.{i}.ln1.*
//   transformer.h.{i}.attn.c_attn.weight    h.{i}.attn.cAttn.weight   HF [C, 3C] → [3C, C] (Conv1D, transposed)
//   transformer.h.{i}.attn.c_attn.bias      h.{i}.attn.cAttn.bias     [3C], q | k | v as in webgrad
//   transformer.h.{i}.attn.c_proj.*         h.{i}.attn.cProj.*        weight transposed
//   transformer.h.{i}.ln_2.*                h.{i}.ln2.*
//   transformer.h.{i}.mlp.c_fc.*            h.{i}.mlp.cFc.*           weight transposed
//   transformer.h.{i}.mlp.c_proj.*          h.{i}.mlp.cProj.*         weight transposed
//   transformer.ln_f.*                      lnF.*
//   lm_head.weight                          lmHead.weight = wte.weight (tied; HF's files omit it)
// Checkpoints saved from GPT2Model (no `transformer.` prefix) load too; the causal-mask buffers
// `attn.bias` / `attn.masked_bias` of old files are skipped. Config: vocab_size, n_positions,
// n_embd, n_layer, n_head, layer_norm_epsilon, activation_function (gelu_new /
// gelu_pytorch_tanh → tanh GELU, gelu → exact); dropout is 0 (set `dropout` to train with it).
import { type DType, type DeviceName } from '@webgrad/core';
import { GPT, type GPTConfig } from '../models/gpt.js';
import type { SafeTensorView } from '../safetensors/index.js';
import { ConfigReader } from './config_json.js';
import { loadStateFromHF, stateToHF } from './convert.js';
import { HFCheckpointError, HFNameMap, type HFModelFiles, type HFNameRule } from './names.js';

/** The GPT-2 name table (see the file comment). */
export const GPT2_HF_NAMES: readonly HFNameRule[] = [
  { hf: 'transformer.wte.weight', webgrad: 'wte.weight' },
  { hf: 'transformer.wpe.weight', webgrad: 'wpe.weight' },
  { hf: 'transformer.h.{i}.ln_1.weight', webgrad: 'h.{i}.ln1.weight' },
  { hf: 'transformer.h.{i}.ln_1.bias', webgrad: 'h.{i}.ln1.bias' },
  { hf: 'transformer.h.{i}.attn.c_attn.weight', webgrad: 'h.{i}.attn.cAttn.weight', transpose: true },
  { hf: 'transformer.h.{i}.attn.c_attn.bias', webgrad: 'h.{i}.attn.cAttn.bias' },
  { hf: 'transformer.h.{i}.attn.c_proj.weight', webgrad: 'h.{i}.attn.cProj.weight', transpose: true },
  { hf: 'transformer.h.{i}.attn.c_proj.bias', webgrad: 'h.{i}.attn.cProj.bias' },
  { hf: 'transformer.h.{i}.ln_2.weight', webgrad: 'h.{i}.ln2.weight' },
  { hf: 'transformer.h.{i}.ln_2.bias', webgrad: 'h.{i}.ln2.bias' },
  { hf: 'transformer.h.{i}.mlp.c_fc.weight', webgrad: 'h.{i}.mlp.cFc.weight', transpose: true },
  { hf: 'transformer.h.{i}.mlp.c_fc.bias', webgrad: 'h.{i}.mlp.cFc.bias' },
  { hf: 'transformer.h.{i}.mlp.c_proj.weight', webgrad: 'h.{i}.mlp.cProj.weight', transpose: true },
  { hf: 'transformer.h.{i}.mlp.c_proj.bias', webgrad: 'h.{i}.mlp.cProj.bias' },
  { hf: 'transformer.ln_f.weight', webgrad: 'lnF.weight' },
  { hf: 'transformer.ln_f.bias', webgrad: 'lnF.bias' },
  { hf: 'lm_head.weight', webgrad: 'lmHead.weight' },
];

const GPT2_MAP = new HFNameMap(GPT2_HF_NAMES);
const GPT2_IGNORE = [/(^|\.)h\.\d+\.attn\.(masked_)?bias$/];

/** Model options a loader takes beyond what config.json says. */
export interface HFModelOptions {
  /** Parameter dtype of the model built (default float32; half-precision files widen). */
  dtype?: DType;
  /** Device of the model built. */
  device?: DeviceName;
  /** GPT only: dropout while training (default 0). */
  dropout?: number;
}

const ACTIVATIONS: Record<string, 'none' | 'tanh'> = { gelu_new: 'tanh', gelu_pytorch_tanh: 'tanh', gelu_fast: 'tanh', gelu: 'none' };

/** A GPTConfig from a GPT-2 config.json object; refuses settings GPT does not implement. */
export function gpt2ConfigFromHF(json: Record<string, unknown>, opts: HFModelOptions = {}, source = 'config.json'): GPTConfig {
  const c = new ConfigReader(json, source);
  const type = c.string('model_type', 'gpt2');
  if (type !== 'gpt2') throw new HFCheckpointError(`${source}: model_type "${type}" is not GPT-2 (use llamaConfigFromHF for Llama-family models)`);
  const nEmbd = c.int('n_embd');
  const act = c.string('activation_function', 'gelu_new');
  const gelu = ACTIVATIONS[act];
  if (gelu === undefined) throw new HFCheckpointError(`${source}: activation_function "${act}" is not supported (${Object.keys(ACTIVATIONS).join(', ')})`);
  c.require('n_inner', 4 * nEmbd, `GPT's MLP is 4·n_embd = ${4 * nEmbd} wide`);
  c.require('scale_attn_weights', true, 'GPT scales attention scores by 1/√head_dim');
  c.require('scale_attn_by_inverse_layer_idx', false, 'GPT does not scale attention by layer');
  c.require('add_cross_attention', false, 'GPT is decoder-only');
  c.require('tie_word_embeddings', true, "GPT's LM head is the token embedding");
  return {
    vocabSize: c.int('vocab_size'),
    blockSize: c.int('n_positions', c.has('n_ctx') ? c.int('n_ctx') : undefined),
    nLayer: c.int('n_layer'),
    nHead: c.int('n_head'),
    nEmbd,
    gelu,
    layerNormEps: c.positive('layer_norm_epsilon', 1e-5),
    dropout: opts.dropout ?? 0,
    ...(opts.dtype ? { dtype: opts.dtype } : {}),
    ...(opts.device ? { device: opts.device } : {}),
  };
}

/** The config.json transformers' GPT2LMHeadModel needs for `model`. */
export function gpt2ConfigToHF(model: GPT): Record<string, unknown> {
  const c = model.config;
  if (!c.bias) throw new HFCheckpointError('gptToHF: GPT-2 has biases in every Linear and LayerNorm; this model was built with bias: false');
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: c.vocabSize,
    n_positions: c.blockSize,
    n_embd: c.nEmbd,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_inner: null,
    activation_function: c.gelu === 'tanh' ? 'gelu_new' : 'gelu',
    layer_norm_epsilon: c.layerNormEps,
    resid_pdrop: c.dropout,
    embd_pdrop: c.dropout,
    attn_pdrop: 0,
    scale_attn_weights: true,
    tie_word_embeddings: true,
    torch_dtype: c.dtype === 'float64' ? 'float64' : 'float32',
  };
}

/** A GPT built from a GPT-2 config.json object and its tensors (transformers' names). */
export function gptFromHF(config: Record<string, unknown>, tensors: Readonly<Record<string, SafeTensorView>>, opts: HFModelOptions = {}, source = 'checkpoint'): GPT {
  const model = new GPT(gpt2ConfigFromHF(config, opts, `${source}/config.json`));
  try {
    loadStateFromHF(model, GPT2_MAP, withTransformerPrefix(tensors), { source, ignore: GPT2_IGNORE });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** The config.json object and tensors of `model` in transformers' GPT-2 layout. */
export async function gptToHF(model: GPT): Promise<HFModelFiles> {
  return { config: gpt2ConfigToHF(model), tensors: await stateToHF(model, GPT2_MAP, 'gptToHF') };
}

/** A GPT-2 checkpoint whose names lack the `transformer.` prefix (saved from GPT2Model) gets it. */
function withTransformerPrefix(tensors: Readonly<Record<string, SafeTensorView>>): Record<string, SafeTensorView> {
  const out: Record<string, SafeTensorView> = {};
  for (const [k, v] of Object.entries(tensors)) out[/^(wte|wpe|h|ln_f)\./.test(k) ? `transformer.${k}` : k] = v;
  return out;
}

/** The GPT-2 name map (webgrad ↔ transformers names). */
export const gpt2NameMap = GPT2_MAP;
