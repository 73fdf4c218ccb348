// Llama-family checkpoints in transformers' layout (LlamaForCausalLM, Qwen2ForCausalLM,
// MistralForCausalLM without sliding windows; SmolLM is a Llama) ↔ webgrad's Llama.
//
// Name mapping (LLAMA_HF_NAMES; {i} = layer; every weight [out, in] in both):
//   model.embed_tokens.weight                          embedTokens.weight
//   model.layers.{i}.input_layernorm.weight            layers.{i}.inputLayernorm.weight
//   model.layers.{i}.self_attn.{q,k,v,o}_proj.weight   layers.{i}.selfAttn.{q,k,v,o}Proj.weight
//   model.layers.{i}.self_attn.{q,k,v,o}_proj.bias     layers.{i}.selfAttn.{q,k,v,o}Proj.bias (attention_bias; q/k/v on Qwen2)
//   model.layers.{i}.post_attention_layernorm.weight   layers.{i}.postAttentionLayernorm.weight
//   model.layers.{i}.mlp.{gate,up,down}_proj.weight    layers.{i}.mlp.{gate,up,down}Proj.weight (and .bias with mlp_bias)
//   model.norm.weight                                  norm.weight
//   lm_head.weight                                     lmHead.weight (absent when tie_word_embeddings)
// The `self_attn.rotary_emb.inv_freq` buffers of older files are skipped. Config: vocab_size,
// hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads,
// head_dim, rms_norm_eps, rope_theta (or transformers 5's rope_parameters.rope_theta),
// max_position_embeddings, tie_word_embeddings, attention_bias, mlp_bias; hidden_act must be silu
// and rope scaling the default.
import { Llama, type LlamaConfig } from '../models/llama.js';
import type { SafeTensorView } from '../safetensors/index.js';
import { ConfigReader } from './config_json.js';
import { loadStateFromHF, stateToHF } from './convert.js';
import type { HFModelOptions } from './gpt2.js';
import { HFCheckpointError, HFNameMap, type HFModelFiles, type HFNameRule } from './names.js';

const layerRule = (hf: string, webgrad: string): HFNameRule => ({ hf: `model.layers.{i}.${hf}`, webgrad: `layers.{i}.${webgrad}` });

/** The Llama-family name table (see the file comment). */
export const LLAMA_HF_NAMES: readonly HFNameRule[] = [
  { hf: 'model.embed_tokens.weight', webgrad: 'embedTokens.weight' },
  layerRule('input_layernorm.weight', 'inputLayernorm.weight'),
  ...['q', 'k', 'v', 'o'].flatMap((p) => ['weight', 'bias'].map((w) => layerRule(`self_attn.${p}_proj.${w}`, `selfAttn.${p}Proj.${w}`))),
  layerRule('post_attention_layernorm.weight', 'postAttentionLayernorm.weight'),
  ...['gate', 'up', 'down'].flatMap((p) => ['weight', 'bias'].map((w) => layerRule(`mlp.${p}_proj.${w}`, `mlp.${p}Proj.${w}`))),
  { hf: 'model.norm.weight', webgrad: 'norm.weight' },
  { hf: 'lm_head.weight', webgrad: 'lmHead.weight' },
];

const LLAMA_MAP = new HFNameMap(LLAMA_HF_NAMES);
const LLAMA_IGNORE = [/\.rotary_emb\.inv_freq$/];
const TYPES = ['llama', 'qwen2', 'mistral'];

/** A LlamaConfig from a Llama / Qwen2 / Mistral config.json object; refuses what Llama does not implement. */
export function llamaConfigFromHF(json: Record<string, unknown>, opts: HFModelOptions = {}, source = 'config.json'): LlamaConfig {
  const c = new ConfigReader(json, source);
  const type = c.string('model_type');
  if (!TYPES.includes(type)) throw new HFCheckpointError(`${source}: model_type "${type}" is not a Llama-family model (${TYPES.join(', ')})`);
  if (opts.dropout !== undefined) throw new HFCheckpointError(`${source}: Llama has no dropout option`);
  c.require('hidden_act', 'silu', 'Llama uses a SwiGLU MLP (silu)');
  c.require('pretraining_tp', 1, 'tensor-parallel pretraining slices are not supported');
  const rope = json.rope_parameters ?? json.rope_scaling;
  let ropeTheta = c.has('rope_theta') ? c.positive('rope_theta') : 10000;
  if (rope !== undefined && rope !== null) {
    const r = new ConfigReader(rope as Record<string, unknown>, `${source} (rope_parameters)`);
    const kind = r.string('rope_type', r.string('type', 'default'));
    if (kind !== 'default') throw new HFCheckpointError(`${source}: rope scaling "${kind}" is not supported (only the default rotary embedding)`);
    if (r.has('rope_theta')) ropeTheta = r.positive('rope_theta');
  }
  if (type === 'qwen2' || type === 'mistral') {
    if (c.bool('use_sliding_window', false) || (type === 'mistral' && c.has('sliding_window') && c.int('sliding_window') < c.int('max_position_embeddings'))) {
      throw new HFCheckpointError(`${source}: sliding-window attention is not supported`);
    }
  }
  const heads = c.int('num_attention_heads');
  return {
    vocabSize: c.int('vocab_size'),
    hiddenSize: c.int('hidden_size'),
    intermediateSize: c.int('intermediate_size'),
    numHiddenLayers: c.int('num_hidden_layers'),
    numAttentionHeads: heads,
    numKeyValueHeads: c.int('num_key_value_heads', heads),
    ...(c.has('head_dim') ? { headDim: c.int('head_dim') } : {}),
    maxPositionEmbeddings: c.int('max_position_embeddings'),
    rmsNormEps: c.positive('rms_norm_eps', 1e-6),
    ropeTheta,
    tieWordEmbeddings: c.bool('tie_word_embeddings', false),
    attentionBias: type === 'llama' ? c.bool('attention_bias', false) : false,
    qkvBias: type === 'qwen2',
    mlpBias: type === 'llama' ? c.bool('mlp_bias', false) : false,
    ...(opts.dtype ? { dtype: opts.dtype } : {}),
    ...(opts.device ? { device: opts.device } : {}),
  };
}

/** The config.json transformers needs for `model`: LlamaForCausalLM, or Qwen2ForCausalLM when
 *  only q/k/v have biases. */
export function llamaConfigToHF(model: Llama): Record<string, unknown> {
  const c = model.config;
  const qwen = c.qkvBias && !c.attentionBias;
  if (qwen && c.mlpBias) throw new HFCheckpointError('llamaToHF: q/k/v biases with MLP biases match neither Llama nor Qwen2');
  return {
    architectures: [qwen ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
    model_type: qwen ? 'qwen2' : 'llama',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads,
    num_key_value_heads: c.numKeyValueHeads,
    head_dim: c.headDim,
    hidden_act: 'silu',
    max_position_embeddings: c.maxPositionEmbeddings,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_parameters: { rope_theta: c.ropeTheta, rope_type: 'default' },
    tie_word_embeddings: c.tieWordEmbeddings,
    ...(qwen ? { use_sliding_window: false } : { attention_bias: c.attentionBias, mlp_bias: c.mlpBias }),
    torch_dtype: c.dtype === 'float64' ? 'float64' : 'float32',
  };
}

/** A Llama built from a config.json object and its tensors (transformers' names). */
export function llamaFromHF(config: Record<string, unknown>, tensors: Readonly<Record<string, SafeTensorView>>, opts: HFModelOptions = {}, source = 'checkpoint'): Llama {
  const model = new Llama(llamaConfigFromHF(config, opts, `${source}/config.json`));
  try {
    loadStateFromHF(model, LLAMA_MAP, tensors, { source, ignore: LLAMA_IGNORE });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** The config.json object and tensors of `model` in transformers' layout. */
export async function llamaToHF(model: Llama): Promise<HFModelFiles> {
  return { config: llamaConfigToHF(model), tensors: await stateToHF(model, LLAMA_MAP, 'llamaToHF') };
}

/** The Llama name map (webgrad ↔ transformers names). */
export const llamaNameMap = LLAMA_MAP;
