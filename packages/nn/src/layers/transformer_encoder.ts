// TransformerEncoderLayer (Vaswani et al. 2017) with PyTorch's structure, names and defaults:
// self-attention (selfAttn), a feed-forward linear1 → activation → dropout → linear2, and
// LayerNorms norm1, norm2. Post-LN by default, as PyTorch:
//   x = norm1(x + dropout1(selfAttn(x)));  x = norm2(x + dropout2(ff(x)))
// and pre-LN with normFirst (Xiong et al. 2020):
//   x = x + dropout1(selfAttn(norm1(x)));  x = x + dropout2(ff(norm2(x)))
// TransformerEncoder stacks such layers (built by a factory) with an optional final norm.
import { ValueError, checkBool, checkFunction, checkOptions, checkRange, checkSize, checkTensor, fmtValue, tidy, type Tensor } from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory, checkFloatInput } from '../args.js';
import { ModuleList } from '../containers.js';
import { Dropout } from './activation.js';
import { Linear, type FactoryOptions } from './linear.js';
import { LayerNorm } from './norm.js';
import { MultiheadAttention } from './multihead_attention.js';

/** The feed-forward activation of TransformerEncoderLayer: 'relu', 'gelu' (exact) or any elementwise function. */
export type EncoderActivation = 'relu' | 'gelu' | ((x: Tensor) => Tensor);

/** Options of TransformerEncoderLayer (PyTorch's names, camelCase). */
export interface TransformerEncoderLayerOptions extends FactoryOptions {
  /** Hidden width of the feed-forward block (default 2048). */
  dimFeedforward?: number;
  /** Dropout after attention, inside and after the feed-forward block, and on attention probabilities (default 0.1). */
  dropout?: number;
  /** 'relu' (default), 'gelu' (exact) or any elementwise function. */
  activation?: EncoderActivation;
  /** LayerNorm epsilon (default 1e-5). */
  layerNormEps?: number;
  /** Input and output are (B, T, E) instead of (T, B, E) (default false, as PyTorch). */
  batchFirst?: boolean;
  /** Pre-LN instead of post-LN (default false). */
  normFirst?: boolean;
  /** Biases in the linear layers and LayerNorms (default true). */
  bias?: boolean;
}

/** Masks of `TransformerEncoderLayer.forward` / `TransformerEncoder.forward` (PyTorch's `src_mask`, `src_key_padding_mask`, `is_causal`). */
export interface EncoderForwardOptions {
  /** (T, T) or (B·nhead, T, T): bool true = not allowed, or additive float. */
  srcMask?: Tensor | null;
  /** (B, T): bool true = padding (ignored as a key). */
  srcKeyPaddingMask?: Tensor | null;
  /** Apply the causal mask: position i attends to positions ≤ i (default false). */
  isCausal?: boolean;
}

const ENCODER_FORWARD_KEYS = ['srcMask', 'srcKeyPaddingMask', 'isCausal'] as const;

export class TransformerEncoderLayer extends Module {
  /** Self-attention over the sequence. */
  declare selfAttn: MultiheadAttention;
  /** dModel → dimFeedforward. */
  declare linear1: Linear;
  /** Dropout inside the feed-forward block. */
  declare dropout: Dropout;
  /** dimFeedforward → dModel. */
  declare linear2: Linear;
  /** The LayerNorm of the attention sub-block. */
  declare norm1: LayerNorm;
  /** The LayerNorm of the feed-forward sub-block. */
  declare norm2: LayerNorm;
  /** Dropout on the attention sub-block's output. */
  declare dropout1: Dropout;
  /** Dropout on the feed-forward sub-block's output. */
  declare dropout2: Dropout;
  /** Pre-LN (normalize before each sub-block) instead of post-LN. */
  readonly normFirst: boolean;
  readonly #activation: (x: Tensor) => Tensor;

  /**
   * @param dModel Model width.
   * @param nhead Number of attention heads (divides dModel).
   * @param opts The feed-forward width, dropout, activation, normalization order, and where the parameters go.
   */
  constructor(readonly dModel: number, readonly nhead: number, opts: TransformerEncoderLayerOptions = {}) {
    super();
    const op = 'TransformerEncoderLayer';
    checkSize(op, 'dModel', dModel, 1);
    checkSize(op, 'nhead', nhead, 1);
    if (dModel % nhead !== 0) throw new ValueError(`${op}: dModel (${dModel}) must be a multiple of nhead (${nhead})`);
    checkOptions(op, opts, ['dimFeedforward', 'dropout', 'activation', 'layerNormEps', 'batchFirst', 'normFirst', 'bias', ...FACTORY_KEYS]);
    checkFactory(op, opts);
    const f = { dtype: opts.dtype, device: opts.device };
    const p = checkRange(op, 'dropout', opts.dropout === undefined ? 0.1 : opts.dropout, 0, 1);
    const bias = checkBool(op, 'bias', opts.bias === undefined ? true : opts.bias);
    const ff = checkSize(op, 'dimFeedforward', opts.dimFeedforward === undefined ? 2048 : opts.dimFeedforward, 1);
    const eps = checkRange(op, 'layerNormEps', opts.layerNormEps === undefined ? 1e-5 : opts.layerNormEps, 0, Infinity);
    if (opts.batchFirst !== undefined) checkBool(op, 'batchFirst', opts.batchFirst);
    const act = opts.activation ?? 'relu';
    if (act !== 'relu' && act !== 'gelu' && typeof act !== 'function') throw new ValueError(`${op}: activation must be 'relu', 'gelu' or a function, got ${fmtValue(act)}`);
    this.#activation = act === 'relu' ? (x) => x.relu() : act === 'gelu' ? (x) => x.gelu() : act;
    this.normFirst = checkBool(op, 'normFirst', opts.normFirst === undefined ? false : opts.normFirst);
    this.registerModule('selfAttn', new MultiheadAttention(dModel, nhead, { ...f, dropout: p, bias, batchFirst: opts.batchFirst }));
    this.registerModule('linear1', new Linear(dModel, ff, { ...f, bias }));
    this.registerModule('dropout', new Dropout(p));
    this.registerModule('linear2', new Linear(ff, dModel, { ...f, bias }));
    this.registerModule('norm1', new LayerNorm(dModel, { ...f, eps, bias }));
    this.registerModule('norm2', new LayerNorm(dModel, { ...f, eps, bias }));
    this.registerModule('dropout1', new Dropout(p));
    this.registerModule('dropout2', new Dropout(p));
  }

  /** Whether input and output are (B, T, E); set by the `batchFirst` option. */
  get batchFirst(): boolean { return this.selfAttn.batchFirst; }

  /** src (T, B, dModel), or (B, T, dModel) with batchFirst → same shape. */
  forward(src: Tensor, opts: EncoderForwardOptions = {}): Tensor {
    checkFloatInput('TransformerEncoderLayer', src, 'src');
    checkOptions('TransformerEncoderLayer.forward', opts, ENCODER_FORWARD_KEYS);
    if (opts.isCausal !== undefined) checkBool('TransformerEncoderLayer.forward', 'isCausal', opts.isCausal);
    for (const k of ['srcMask', 'srcKeyPaddingMask'] as const) if (opts[k] != null) checkTensor('TransformerEncoderLayer.forward', k, opts[k]);
    const masks = { attnMask: opts.srcMask, keyPaddingMask: opts.srcKeyPaddingMask, isCausal: opts.isCausal };
    const sa = (x: Tensor): Tensor => this.dropout1.forward(this.selfAttn.forward(x, x, x, masks));
    const ff = (x: Tensor): Tensor => this.dropout2.forward(this.linear2.forward(this.dropout.forward(this.#activation(this.linear1.forward(x)))));
    return tidy(() => {
      let x = src;
      if (this.normFirst) {
        x = x.add(sa(this.norm1.forward(x)));
        x = x.add(ff(this.norm2.forward(x)));
      } else {
        x = this.norm1.forward(x.add(sa(x)));
        x = this.norm2.forward(x.add(ff(x)));
      }
      return x;
    });
  }

  override extraRepr(): string { return `dModel=${this.dModel}, nhead=${this.nhead}${this.normFirst ? ', normFirst=true' : ''}`; }
}

/** A stack of encoder layers (`layers.0`, `layers.1`, ...) and an optional final `norm`. */
export class TransformerEncoder extends Module {
  /** The stacked layers. */
  declare layers: ModuleList<TransformerEncoderLayer>;
  /** A final LayerNorm, or null. */
  declare norm: LayerNorm | null;

  constructor(makeLayer: (index: number) => TransformerEncoderLayer, numLayers: number, opts: { norm?: LayerNorm | null } = {}) {
    super();
    const op = 'TransformerEncoder';
    checkFunction(op, 'makeLayer', makeLayer);
    checkSize(op, 'numLayers', numLayers, 1);
    checkOptions(op, opts, ['norm']);
    if (opts.norm != null && !(opts.norm instanceof Module)) throw new ValueError(`${op}: norm must be a LayerNorm (or null), got ${fmtValue(opts.norm)}`);
    this.registerModule('layers', new ModuleList(Array.from({ length: numLayers }, (_, i) => makeLayer(i))));
    this.registerModule('norm', opts.norm ?? null);
  }

  forward(src: Tensor, opts: EncoderForwardOptions = {}): Tensor {
    checkOptions('TransformerEncoder.forward', opts, ENCODER_FORWARD_KEYS);
    return tidy(() => {
      let x = src;
      for (const layer of this.layers) x = layer.forward(x, opts);
      return this.norm ? this.norm.forward(x) : x;
    });
  }
}
