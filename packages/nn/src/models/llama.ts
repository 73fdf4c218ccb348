// Llama: the decoder-only language model of Llama 2/3 (Touvron et al. 2023), SmolLM, Mistral
// without sliding windows, and Qwen2 (q/k/v biases). Token embedding → numHiddenLayers pre-norm
// blocks → RMSNorm → LM head (optionally tied to the embedding). Each block:
//   h = x + selfAttn(inputLayernorm(x));  out = h + mlp(postAttentionLayernorm(h))
// with grouped-query causal attention under rotary position embeddings (base ropeTheta, the
// "rotate half" layout) and a SwiGLU MLP. No absolute positions and no dropout. Init as
// transformers: N(0, 0.02) for every Linear and Embedding weight, zero biases, unit norms.
//
// Parameter names are transformers' in camelCase without the `model.` prefix: embedTokens.weight,
// layers.{i}.inputLayernorm.weight, layers.{i}.selfAttn.{q,k,v,o}Proj.{weight,bias},
// layers.{i}.postAttentionLayernorm.weight, layers.{i}.mlp.{gate,up,down}Proj.weight, norm.weight,
// lmHead.weight (= embedTokens.weight when tied). The HF mapping is in ../hf/llama.ts.
import {
  Tensor, IndexError, ShapeError, ValueError, checkBool, checkOptions, checkRange, checkSize, checkTensor, checkpoint, crossEntropy,
  fmtShape, fmtValue, tidy, type DType, type DeviceName,
} from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory, checkFloatInput } from '../args.js';
import { ModuleList } from '../containers.js';
import * as init from '../init.js';
import { Linear } from '../layers/linear.js';
import { Embedding } from '../layers/embedding.js';
import { RMSNorm } from '../layers/norm.js';
import { RotaryEmbedding } from '../layers/positional.js';
import { GroupedQueryAttention } from '../layers/grouped_query_attention.js';
import { GatedMLP } from '../layers/gated_mlp.js';
import { KVCache, type LayerKV } from '../layers/transformer_block.js';
import { checkTokenIds, generateTokens, type GenerateOptions } from './generate.js';
import type { GPTForwardOptions, GPTOutput } from './gpt.js';

/** The shape and options of a Llama, in transformers' LlamaConfig terms (camelCase); llamaConfigFromHF reads a config.json into one. */
export interface LlamaConfig {
  /** Number of token ids. */
  vocabSize: number;
  /** Model width. */
  hiddenSize: number;
  /** Width of the SwiGLU hidden layer. */
  intermediateSize: number;
  /** Decoder layers. */
  numHiddenLayers: number;
  /** Query heads per layer. */
  numAttentionHeads: number;
  /** Key/value heads for grouped-query attention (default numAttentionHeads). */
  numKeyValueHeads?: number;
  /** Width of one attention head (default hiddenSize / numAttentionHeads). */
  headDim?: number;
  /** Longest sequence: the size of the rotary table. */
  maxPositionEmbeddings: number;
  /** RMSNorm epsilon (default 1e-6). */
  rmsNormEps?: number;
  /** Rotary base θ (default 10000). */
  ropeTheta?: number;
  /** The LM head is the token embedding (default false). */
  tieWordEmbeddings?: boolean;
  /** Biases on q, k, v and o projections (default false; transformers' attention_bias). */
  attentionBias?: boolean;
  /** Biases on q, k and v only (default false; Qwen2). */
  qkvBias?: boolean;
  /** Biases in the MLP (default false; transformers' mlp_bias). */
  mlpBias?: boolean;
  /** Recompute each layer's activations in backward instead of keeping them (HF's gradient_checkpointing;
   *  default false): applies while training, without a KV cache. See Llama.gradientCheckpointingEnable(). */
  gradientCheckpointing?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
  /** Device of the parameters (default the current default device). */
  device?: DeviceName;
}

const CONFIG_KEYS = [
  'vocabSize', 'hiddenSize', 'intermediateSize', 'numHiddenLayers', 'numAttentionHeads', 'numKeyValueHeads', 'headDim',
  'maxPositionEmbeddings', 'rmsNormEps', 'ropeTheta', 'tieWordEmbeddings', 'attentionBias', 'qkvBias', 'mlpBias', 'gradientCheckpointing', ...FACTORY_KEYS,
] as const;

type ResolvedLlamaConfig = Readonly<Required<Omit<LlamaConfig, 'device'>>> & { device?: DeviceName };

function resolveConfig(cfg: LlamaConfig): ResolvedLlamaConfig {
  const op = 'Llama';
  checkOptions(op, cfg, CONFIG_KEYS, 'config');
  for (const k of ['vocabSize', 'hiddenSize', 'intermediateSize', 'numHiddenLayers', 'numAttentionHeads', 'maxPositionEmbeddings'] as const) checkSize(op, `config.${k}`, cfg[k], 1);
  if (cfg.numKeyValueHeads !== undefined) checkSize(op, 'config.numKeyValueHeads', cfg.numKeyValueHeads, 1);
  if (cfg.headDim !== undefined) checkSize(op, 'config.headDim', cfg.headDim, 1);
  if (cfg.rmsNormEps !== undefined) checkRange(op, 'config.rmsNormEps', cfg.rmsNormEps, 0, Infinity, { lo: true });
  if (cfg.ropeTheta !== undefined) checkRange(op, 'config.ropeTheta', cfg.ropeTheta, 0, Infinity, { lo: true });
  for (const k of ['tieWordEmbeddings', 'attentionBias', 'qkvBias', 'mlpBias', 'gradientCheckpointing'] as const) if (cfg[k] !== undefined) checkBool(op, `config.${k}`, cfg[k]);
  checkFactory(op, cfg);
  const nKV = cfg.numKeyValueHeads ?? cfg.numAttentionHeads;
  if (cfg.numAttentionHeads % nKV !== 0) throw new ValueError(`${op}: config.numAttentionHeads ${cfg.numAttentionHeads} is not a multiple of config.numKeyValueHeads ${nKV}`);
  if (cfg.headDim === undefined && cfg.hiddenSize % cfg.numAttentionHeads !== 0) {
    throw new ValueError(`${op}: config.hiddenSize ${cfg.hiddenSize} is not divisible by config.numAttentionHeads ${cfg.numAttentionHeads} (give config.headDim)`);
  }
  const headDim = cfg.headDim ?? cfg.hiddenSize / cfg.numAttentionHeads;
  if (headDim % 2 !== 0) throw new ValueError(`${op}: the head width ${headDim} must be even for rotary embeddings`);
  return {
    numKeyValueHeads: nKV, headDim, rmsNormEps: 1e-6, ropeTheta: 10000, tieWordEmbeddings: false, attentionBias: false,
    qkvBias: false, mlpBias: false, gradientCheckpointing: false, dtype: 'float32', ...cfg,
  };
}

/** One pre-norm decoder layer: attention and SwiGLU MLP, each with an RMSNorm before and a residual around. */
export class LlamaDecoderLayer extends Module {
  /** RMSNorm before attention. */
  declare inputLayernorm: RMSNorm;
  /** Grouped-query causal self-attention. */
  declare selfAttn: GroupedQueryAttention;
  /** RMSNorm before the MLP. */
  declare postAttentionLayernorm: RMSNorm;
  /** SwiGLU MLP. */
  declare mlp: GatedMLP;

  constructor(c: ResolvedLlamaConfig) {
    super();
    const f = { dtype: c.dtype, device: c.device };
    this.registerModule('inputLayernorm', new RMSNorm(c.hiddenSize, { ...f, eps: c.rmsNormEps }));
    this.registerModule('selfAttn', new GroupedQueryAttention({
      nEmbd: c.hiddenSize, nHead: c.numAttentionHeads, nKVHead: c.numKeyValueHeads, headDim: c.headDim,
      qkvBias: c.attentionBias || c.qkvBias, outBias: c.attentionBias, ...f,
    }));
    this.registerModule('postAttentionLayernorm', new RMSNorm(c.hiddenSize, { ...f, eps: c.rmsNormEps }));
    this.registerModule('mlp', new GatedMLP({ nEmbd: c.hiddenSize, hidden: c.intermediateSize, bias: c.mlpBias, ...f }));
  }

  /** x (B, T, C) → (B, T, C). */
  forward(x: Tensor, cache: LayerKV | null, rotary: RotaryEmbedding): Tensor {
    checkFloatInput('LlamaDecoderLayer', x);
    return tidy(() => {
      const h = x.add(this.selfAttn.forward(this.inputLayernorm.forward(x), cache, rotary)); // (B, T, C)
      return h.add(this.mlp.forward(this.postAttentionLayernorm.forward(h))); // (B, T, C)
    });
  }
}

/** The Llama-family decoder-only language model (see the file comment); HF checkpoints load with loadHFModel / llamaFromHF. */
export class Llama extends Module {
  /** Token embedding [vocabSize, hiddenSize]. */
  declare embedTokens: Embedding;
  /** The numHiddenLayers decoder layers. */
  declare layers: ModuleList<LlamaDecoderLayer>;
  /** Final RMSNorm. */
  declare norm: RMSNorm;
  /** LM head (its weight is embedTokens.weight when tieWordEmbeddings). */
  declare lmHead: Linear;
  /** Rotary tables shared by every layer (not in the stateDict). */
  declare rotary: RotaryEmbedding;
  /** The config with every default filled in. */
  readonly config: ResolvedLlamaConfig;
  /** Whether training forwards run each layer under `checkpoint` (starts as config.gradientCheckpointing). */
  gradientCheckpointing: boolean;

  constructor(cfg: LlamaConfig) {
    super();
    this.config = resolveConfig(cfg);
    this.gradientCheckpointing = this.config.gradientCheckpointing;
    const c = this.config;
    const f = { dtype: c.dtype, device: c.device };
    this.registerModule('embedTokens', new Embedding(c.vocabSize, c.hiddenSize, f));
    this.registerModule('layers', new ModuleList(Array.from({ length: c.numHiddenLayers }, () => new LlamaDecoderLayer(c))));
    this.registerModule('norm', new RMSNorm(c.hiddenSize, { ...f, eps: c.rmsNormEps }));
    this.registerModule('lmHead', new Linear(c.hiddenSize, c.vocabSize, { ...f, bias: false }));
    // The rotary table holds no parameters (non-persistent buffers).
    this.registerModule('rotary', new RotaryEmbedding(c.headDim, { ...f, maxSeqLen: c.maxPositionEmbeddings, base: c.ropeTheta }));
    if (c.tieWordEmbeddings) {
      const untied = this.lmHead.weight;
      this.lmHead.weight = this.embedTokens.weight;
      untied.dispose();
    }
    this.#initWeights();
  }

  /** Recompute layer activations in backward from now on (HF's gradient_checkpointing_enable). Returns this. */
  gradientCheckpointingEnable(): this { this.gradientCheckpointing = true; return this; }

  /** Keep every activation for backward again (the default). Returns this. */
  gradientCheckpointingDisable(): this { this.gradientCheckpointing = false; return this; }

  #initWeights(): void {
    for (const m of this.modules()) {
      if (m instanceof Linear) {
        init.normal(m.weight, 0, 0.02);
        if (m.bias) init.zeros(m.bias);
      } else if (m instanceof Embedding) {
        init.normal(m.weight, 0, 0.02);
      }
    }
  }

  /** idx (B, T) int32 → logits (B, T, V), and the mean cross-entropy when targets (B, T) are given
   *  (targets of −100 are ignored). Same options as GPT.forward. */
  forward(idx: Tensor, targets?: Tensor | null, opts: GPTForwardOptions = {}): GPTOutput {
    const op = 'Llama.forward';
    checkTokenIds(op, idx);
    if (targets != null) checkTensor(op, 'targets', targets);
    checkOptions(op, opts, ['kvCache', 'lastOnly']);
    if (opts.lastOnly !== undefined) checkBool(op, 'lastOnly', opts.lastOnly);
    if (opts.kvCache != null && !(opts.kvCache instanceof KVCache)) throw new ValueError(`${op}: kvCache must be a KVCache (see createKVCache), got ${fmtValue(opts.kvCache)}`);
    const [B, T] = idx.shape as [number, number];
    const cache = opts.kvCache ?? null;
    if (cache && cache.layers.length !== this.config.numHiddenLayers) throw new ValueError(`${op}: kvCache has ${cache.layers.length} layers, the model ${this.config.numHiddenLayers}`);
    const offset = cache?.length ?? 0;
    if (offset + T > this.config.maxPositionEmbeddings) {
      throw new IndexError(`${op}: sequence of length ${offset + T}${offset ? ` (${offset} cached + ${T} new)` : ''} exceeds maxPositionEmbeddings ${this.config.maxPositionEmbeddings}`);
    }
    if (targets && (targets.ndim !== 2 || targets.shape[0] !== B || targets.shape[1] !== T)) {
      throw new ShapeError(`${op}: targets ${fmtShape(targets.shape)} must match idx ${fmtShape(idx.shape)}`);
    }
    return tidy(() => {
      let x = this.embedTokens.forward(idx); // (B, T, C)
      let i = 0;
      const recompute = this.gradientCheckpointing && this.training && !cache;
      for (const layer of this.layers) {
        x = recompute ? checkpoint((h: Tensor) => layer.forward(h, null, this.rotary), x) : layer.forward(x, cache ? cache.layers[i++]! : null, this.rotary); // (B, T, C)
      }
      x = this.norm.forward(x); // (B, T, C)
      if (opts.lastOnly) x = x.narrow(1, T - 1, 1); // (B, 1, C)
      const logits = this.lmHead.forward(x); // (B, T, V)
      if (!targets) return { logits };
      const V = this.config.vocabSize;
      const loss = crossEntropy(logits.reshape([B * T, V]), targets.reshape([B * T])); // (B·T, V) vs (B·T)
      return { logits, loss };
    });
  }

  /** A new cache sized for this model (keys/values of the numKeyValueHeads heads). */
  createKVCache(): KVCache { return new KVCache(this.config.numHiddenLayers); }

  /**
   * Extend each row of idx (B, T) int32 by up to maxNewTokens tokens (greedy or sampled; see
   * GenerateOptions); returns (B, T + n). Uses a KV cache; past maxPositionEmbeddings the last
   * maxPositionEmbeddings tokens are recomputed each step.
   */
  async generate(idx: Tensor, opts: GenerateOptions): Promise<Tensor> {
    const { maxPositionEmbeddings: contextSize, vocabSize } = this.config;
    return generateTokens('Llama.generate', this, idx, opts, { contextSize, vocabSize, device: this.embedTokens.weight.device });
  }

  override extraRepr(): string {
    const c = this.config;
    return `vocabSize=${c.vocabSize}, hiddenSize=${c.hiddenSize}, layers=${c.numHiddenLayers}, heads=${c.numAttentionHeads}, kvHeads=${c.numKeyValueHeads}`;
  }
}
