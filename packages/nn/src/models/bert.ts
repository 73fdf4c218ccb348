// A BERT-style encoder (Devlin et al. 2019): token + position + segment embeddings → LayerNorm →
// dropout, a stack of post-LN TransformerEncoderLayers with GELU, and a pooler tanh(dense(h[CLS])).
// Heads: BertForMaskedLM (transform dense → GELU → LayerNorm, then a decoder whose weight is the
// token embedding, tied, plus its own bias) and BertForSequenceClassification (dropout → linear on
// the pooled output). Weights start N(0, 0.02²) with zero biases and unit LayerNorms, as BERT.
//
// Names (camelCase): embeddings.{wordEmbeddings, positionEmbeddings, tokenTypeEmbeddings, layerNorm},
// layers.{i}.{selfAttn.inProjWeight, selfAttn.outProj, linear1, linear2, norm1, norm2}, pooler,
// and bert.*, mlmHead.{dense, layerNorm, bias}, classifier for the heads.
import {
  ShapeError, ValueError, checkBool, checkOptions, checkRange, checkSize, checkTensor, checkpoint, crossEntropy, fmtShape, tidy, zeros, type Tensor,
} from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory } from '../args.js';
import { ModuleList } from '../containers.js';
import * as init from '../init.js';
import { Dropout } from '../layers/activation.js';
import { Embedding } from '../layers/embedding.js';
import { Linear, type FactoryOptions } from '../layers/linear.js';
import { LayerNorm } from '../layers/norm.js';
import { MultiheadAttention } from '../layers/multihead_attention.js';
import { TransformerEncoderLayer } from '../layers/transformer_encoder.js';

/** Configuration of BertModel and its heads (Hugging Face BertConfig's fields, camelCase; `numLayers`/`numHeads` are `num_hidden_layers`/`num_attention_heads`). Only `vocabSize` is required; the defaults are bert-base's. */
export interface BertConfig extends FactoryOptions {
  /** Token ids are in [0, vocabSize). */
  vocabSize: number;
  /** Model width H (default 768). */
  hiddenSize?: number;
  /** Encoder layers (default 12). */
  numLayers?: number;
  /** Attention heads; divides hiddenSize (default 12). */
  numHeads?: number;
  /** Feed-forward width (default 4·hiddenSize). */
  intermediateSize?: number;
  /** Learned positions, the longest input (default 512). */
  maxPositions?: number;
  /** Segment ids are in [0, typeVocabSize) (default 2). */
  typeVocabSize?: number;
  /** Dropout on embeddings, attention and feed-forward outputs (default 0.1). */
  dropout?: number;
  /** LayerNorm epsilon (default 1e-12). */
  layerNormEps?: number;
  /** Standard deviation of the N(0, σ²) initial weights (default 0.02). */
  initStd?: number;
  /** Classes of BertForSequenceClassification (the other models ignore it, so one config serves every head). */
  numLabels?: number;
  /** Dropout before the classifier of BertForSequenceClassification (default: dropout). */
  classifierDropout?: number;
  /** Recompute each encoder layer's activations in backward instead of keeping them (HF's
   *  gradient_checkpointing; default false), while training. See BertModel.gradientCheckpointingEnable(). */
  gradientCheckpointing?: boolean;
}

type Full = Required<Omit<BertConfig, 'dtype' | 'device' | 'numLabels' | 'classifierDropout'>> & FactoryOptions;

const BERT_KEYS = [
  'vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'maxPositions', 'typeVocabSize', 'dropout', 'layerNormEps',
  'initStd', 'numLabels', 'classifierDropout', 'gradientCheckpointing', ...FACTORY_KEYS,
] as const;

/** The config with its defaults filled in, checked; `op` is the public class being built. */
function fullConfig(op: string, c: BertConfig): Full {
  checkOptions(op, c, BERT_KEYS, 'config');
  checkSize(op, 'config.vocabSize', c.vocabSize, 1);
  for (const k of ['hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'maxPositions', 'typeVocabSize', 'numLabels'] as const) {
    if (c[k] !== undefined) checkSize(op, `config.${k}`, c[k], 1);
  }
  for (const k of ['dropout', 'classifierDropout'] as const) if (c[k] !== undefined) checkRange(op, `config.${k}`, c[k], 0, 1);
  if (c.layerNormEps !== undefined) checkRange(op, 'config.layerNormEps', c.layerNormEps, 0, Infinity);
  if (c.initStd !== undefined) checkRange(op, 'config.initStd', c.initStd, 0, Infinity);
  if (c.gradientCheckpointing !== undefined) checkBool(op, 'config.gradientCheckpointing', c.gradientCheckpointing);
  checkFactory(op, c);
  const hiddenSize = c.hiddenSize ?? 768;
  const f: Full = {
    vocabSize: c.vocabSize, hiddenSize, numLayers: c.numLayers ?? 12, numHeads: c.numHeads ?? 12,
    intermediateSize: c.intermediateSize ?? 4 * hiddenSize, maxPositions: c.maxPositions ?? 512,
    typeVocabSize: c.typeVocabSize ?? 2, dropout: c.dropout ?? 0.1, layerNormEps: c.layerNormEps ?? 1e-12,
    initStd: c.initStd ?? 0.02, gradientCheckpointing: c.gradientCheckpointing ?? false, dtype: c.dtype, device: c.device,
  };
  if (hiddenSize % f.numHeads !== 0) throw new ValueError(`${op}: hiddenSize ${hiddenSize} is not divisible by numHeads ${f.numHeads}`);
  return f;
}

/** BERT's init: Linear and Embedding weights N(0, std²), biases 0, LayerNorm weight 1 / bias 0. */
function initBert(root: Module, std: number): void {
  for (const m of root.modules()) {
    if (m instanceof Linear) { init.normal(m.weight, 0, std); if (m.bias) init.zeros(m.bias); }
    else if (m instanceof Embedding) init.normal(m.weight, 0, std);
    else if (m instanceof LayerNorm) { if (m.weight) init.ones(m.weight); if (m.bias) init.zeros(m.bias); }
    else if (m instanceof MultiheadAttention) { init.normal(m.inProjWeight, 0, std); if (m.inProjBias) init.zeros(m.inProjBias); }
  }
}

/** Optional inputs of BertModel and its heads besides the (B, T) int32 input ids. */
export interface BertInputs {
  /** (B, T) int32 segment ids (default all 0). */
  tokenTypeIds?: Tensor | null;
  /** (B, T): 1/true = real token, 0/false = padding (ignored as a key). */
  attentionMask?: Tensor | null;
}

/** BertInputs (plus `labels` for the heads), each a tensor when given. */
function checkBertInputs(op: string, opts: BertInputs & { labels?: Tensor | null }, keys: readonly string[] = ['tokenTypeIds', 'attentionMask']): void {
  checkOptions(op, opts, keys);
  for (const k of keys) {
    const v = (opts as Record<string, unknown>)[k];
    if (v != null) checkTensor(op, k, v);
  }
}

export class BertEmbeddings extends Module {
  /** vocabSize → H. */
  declare wordEmbeddings: Embedding;
  /** maxPositions → H. */
  declare positionEmbeddings: Embedding;
  /** typeVocabSize → H. */
  declare tokenTypeEmbeddings: Embedding;
  /** Applied to the summed embeddings. */
  declare layerNorm: LayerNorm;
  /** After the LayerNorm. */
  declare dropout: Dropout;

  constructor(c: Full) {
    super();
    const f = { dtype: c.dtype, device: c.device };
    this.registerModule('wordEmbeddings', new Embedding(c.vocabSize, c.hiddenSize, f));
    this.registerModule('positionEmbeddings', new Embedding(c.maxPositions, c.hiddenSize, f));
    this.registerModule('tokenTypeEmbeddings', new Embedding(c.typeVocabSize, c.hiddenSize, f));
    this.registerModule('layerNorm', new LayerNorm(c.hiddenSize, { ...f, eps: c.layerNormEps }));
    this.registerModule('dropout', new Dropout(c.dropout));
  }

  /** ids (B, T) int32 → (B, T, H) */
  forward(ids: Tensor, tokenTypeIds?: Tensor | null): Tensor {
    checkTensor('BertEmbeddings', 'ids', ids);
    if (tokenTypeIds != null) checkTensor('BertEmbeddings', 'tokenTypeIds', tokenTypeIds);
    const T = ids.shape[1]!;
    if (ids.ndim !== 2) throw new ShapeError(`BertEmbeddings: expected ids (B, T), got ${fmtShape(ids.shape)}`);
    if (T > this.positionEmbeddings.numEmbeddings) throw new ValueError(`BertEmbeddings: sequence length ${T} exceeds maxPositions ${this.positionEmbeddings.numEmbeddings}`);
    return tidy(() => {
      const pos = this.positionEmbeddings.weight.narrow(0, 0, T);                 // (T, H)
      const types = tokenTypeIds ?? zeros(ids.shape, { dtype: 'int32', device: ids.device });
      const e = this.wordEmbeddings.forward(ids).add(pos).add(this.tokenTypeEmbeddings.forward(types)); // (B, T, H)
      return this.dropout.forward(this.layerNorm.forward(e));
    });
  }
}

/** Output of BertModel.forward. */
export interface BertOutput {
  /** (B, T, H) */
  lastHiddenState: Tensor;
  /** (B, H): tanh(dense(h[:, 0])) */
  pooledOutput: Tensor;
}

export class BertModel extends Module {
  /** Word, position and segment embeddings. */
  declare embeddings: BertEmbeddings;
  /** The post-LN encoder layers (GELU). */
  declare layers: ModuleList<TransformerEncoderLayer>;
  /** H → H, tanh-activated, on the first token. */
  declare pooler: Linear;
  /** The configuration with every default filled in. */
  readonly config: Full;
  /** Whether training forwards run each encoder layer under `checkpoint` (starts as config.gradientCheckpointing). */
  gradientCheckpointing: boolean;

  constructor(config: BertConfig) {
    super();
    const c = fullConfig('BertModel', config);
    this.config = c;
    this.gradientCheckpointing = c.gradientCheckpointing;
    const f = { dtype: c.dtype, device: c.device };
    this.registerModule('embeddings', new BertEmbeddings(c));
    this.registerModule('layers', new ModuleList(Array.from({ length: c.numLayers }, () => new TransformerEncoderLayer(c.hiddenSize, c.numHeads, {
      ...f, dimFeedforward: c.intermediateSize, dropout: c.dropout, activation: 'gelu', layerNormEps: c.layerNormEps, batchFirst: true,
    }))));
    this.registerModule('pooler', new Linear(c.hiddenSize, c.hiddenSize, f));
    initBert(this, c.initStd);
  }

  /** Recompute encoder-layer activations in backward from now on (HF's gradient_checkpointing_enable). Returns this. */
  gradientCheckpointingEnable(): this { this.gradientCheckpointing = true; return this; }

  /** Keep every activation for backward again (the default). Returns this. */
  gradientCheckpointingDisable(): this { this.gradientCheckpointing = false; return this; }

  forward(ids: Tensor, opts: BertInputs = {}): BertOutput {
    checkBertInputs('BertModel.forward', opts);
    return tidy(() => {
      const kpm = opts.attentionMask ? opts.attentionMask.eq(0) : null;         // (B, T) true = padding
      let h = this.embeddings.forward(ids, opts.tokenTypeIds);                   // (B, T, H)
      const recompute = this.gradientCheckpointing && this.training;
      for (const layer of this.layers) {
        // The padding mask goes in as an argument: checkpoint keeps it until the layer is recomputed.
        h = recompute ? checkpoint((x: Tensor, m: Tensor | null) => layer.forward(x, { srcKeyPaddingMask: m }), h, kpm) : layer.forward(h, { srcKeyPaddingMask: kpm });
      }
      const pooledOutput = this.pooler.forward(h.select(1, 0)).tanh();          // (B, H)
      return { lastHiddenState: h, pooledOutput };
    });
  }
}

/** transform (dense → GELU → LayerNorm), then logits = h·Eᵀ + bias with E the tied token embedding. */
export class BertMLMHead extends Module {
  /** H → H, before GELU and the LayerNorm. */
  declare dense: Linear;
  /** After the GELU. */
  declare layerNorm: LayerNorm;
  /** (vocabSize): added to the logits. */
  declare bias: Tensor;

  constructor(c: Full) {
    super();
    const f = { dtype: c.dtype, device: c.device };
    this.registerModule('dense', new Linear(c.hiddenSize, c.hiddenSize, f));
    this.registerModule('layerNorm', new LayerNorm(c.hiddenSize, { ...f, eps: c.layerNormEps }));
    this.registerParameter('bias', zeros([c.vocabSize], { dtype: c.dtype ?? 'float32', device: c.device }));
  }

  /** h (B, T, H), decoder weight (V, H) → (B, T, V) */
  forward(h: Tensor, decoderWeight: Tensor): Tensor {
    return tidy(() => this.layerNorm.forward(this.dense.forward(h).gelu()).matmul(decoderWeight.mT).add(this.bias));
  }
}

/** Output of BertForMaskedLM.forward: logits (B, T, vocabSize), the mean cross-entropy over the labelled positions when `labels` was given, and the encoder's (B, T, H) states. */
export interface MaskedLMOutput {
  /** (B, T, vocabSize). */
  logits: Tensor;
  /** 0-d mean cross-entropy over the labelled positions, when `labels` was given. */
  loss?: Tensor;
  /** (B, T, H): the encoder's output. */
  lastHiddenState: Tensor;
}

export class BertForMaskedLM extends Module {
  /** The encoder. */
  declare bert: BertModel;
  /** The masked-LM head, tied to the token embedding. */
  declare mlmHead: BertMLMHead;

  constructor(config: BertConfig) {
    super();
    fullConfig('BertForMaskedLM', config);
    this.registerModule('bert', new BertModel(config));
    this.registerModule('mlmHead', new BertMLMHead(this.bert.config));
    initBert(this.mlmHead, this.bert.config.initStd);
  }

  /** logits (B, T, V); with `labels` (B, T) int32 (−100 = not predicted), the mean cross-entropy too. */
  forward(ids: Tensor, opts: BertInputs & { labels?: Tensor | null } = {}): MaskedLMOutput {
    checkBertInputs('BertForMaskedLM.forward', opts, ['tokenTypeIds', 'attentionMask', 'labels']);
    return tidy(() => {
      const { labels, ...inputs } = opts;
      const { lastHiddenState } = this.bert.forward(ids, inputs);
      const logits = this.mlmHead.forward(lastHiddenState, this.bert.embeddings.wordEmbeddings.weight);
      if (!labels) return { logits, lastHiddenState };
      const V = logits.shape[2]!;
      const loss = crossEntropy(logits.reshape([-1, V]), labels.reshape([-1]), { ignoreIndex: -100 });
      return { logits, loss, lastHiddenState };
    });
  }
}

/** Output of BertForSequenceClassification.forward: logits (B, numLabels), the mean cross-entropy when `labels` was given, and the pooled (B, H) output. */
export interface SequenceClassifierOutput {
  /** (B, numLabels). */
  logits: Tensor;
  /** 0-d mean cross-entropy, when `labels` was given. */
  loss?: Tensor;
  /** (B, H): the pooler's output. */
  pooledOutput: Tensor;
}

export class BertForSequenceClassification extends Module {
  /** The encoder. */
  declare bert: BertModel;
  /** Before the classifier. */
  declare dropout: Dropout;
  /** H → numLabels, on the pooled output. */
  declare classifier: Linear;
  /** Classes predicted. */
  readonly numLabels: number;

  constructor(config: BertConfig & { numLabels: number }) {
    super();
    fullConfig('BertForSequenceClassification', config);
    this.numLabels = checkSize('BertForSequenceClassification', 'config.numLabels', config.numLabels, 1);
    this.registerModule('bert', new BertModel(config));
    this.registerModule('dropout', new Dropout(config.classifierDropout ?? this.bert.config.dropout));
    this.registerModule('classifier', new Linear(this.bert.config.hiddenSize, config.numLabels, { dtype: config.dtype, device: config.device }));
    initBert(this.classifier, this.bert.config.initStd);
  }

  /** logits (B, numLabels); with `labels` (B) int32, the mean cross-entropy too. */
  forward(ids: Tensor, opts: BertInputs & { labels?: Tensor | null } = {}): SequenceClassifierOutput {
    checkBertInputs('BertForSequenceClassification.forward', opts, ['tokenTypeIds', 'attentionMask', 'labels']);
    return tidy(() => {
      const { labels, ...inputs } = opts;
      const { pooledOutput } = this.bert.forward(ids, inputs);
      const logits = this.classifier.forward(this.dropout.forward(pooledOutput));
      if (!labels) return { logits, pooledOutput };
      return { logits, loss: crossEntropy(logits, labels), pooledOutput };
    });
  }
}
