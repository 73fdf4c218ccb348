// Grouped-query causal self-attention (Ainslie et al. 2023), as in Llama 2/3, Mistral, Qwen2:
// nHead query heads share nKVHead key/value heads (nHead = g·nKVHead; g = 1 is multi-head
// attention, nKVHead = 1 multi-query attention). Separate q/k/v/o projections (qProj, kProj,
// vProj, oProj), rotary position embeddings on queries and keys, and an optional KV cache that
// stores the nKVHead heads before they are shared, so it is g times smaller than the queries.
// Kv head j serves query heads j·g … j·g + g − 1 (transformers' repeat_kv).
import { Tensor, ValueError, cat, checkBool, checkOptions, checkSize, keep, scaledDotProductAttention, tidy } from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory, checkFloatInput } from '../args.js';
import { Linear, type FactoryOptions } from './linear.js';
import type { RotaryEmbedding } from './positional.js';
import type { LayerKV } from './transformer_block.js';

/** The shape and options of a GroupedQueryAttention layer. */
export interface GroupedQueryAttentionConfig extends FactoryOptions {
  /** Model width (input and output features). */
  nEmbd: number;
  /** Query heads. */
  nHead: number;
  /** Key/value heads; must divide nHead (default nHead). */
  nKVHead?: number;
  /** Width of one head (default nEmbd / nHead). */
  headDim?: number;
  /** Biases on the q, k and v projections (default false; Qwen2 has them). */
  qkvBias?: boolean;
  /** Bias on the output projection (default false). */
  outBias?: boolean;
}

const GQA_KEYS = ['nEmbd', 'nHead', 'nKVHead', 'headDim', 'qkvBias', 'outBias', ...FACTORY_KEYS] as const;

/** Causal self-attention with nKVHead key/value heads shared by nHead query heads (see the file comment). */
export class GroupedQueryAttention extends Module {
  /** nEmbd → nHead·headDim. */
  declare qProj: Linear;
  /** nEmbd → nKVHead·headDim. */
  declare kProj: Linear;
  /** nEmbd → nKVHead·headDim. */
  declare vProj: Linear;
  /** nHead·headDim → nEmbd. */
  declare oProj: Linear;
  /** Query heads. */
  readonly nHead: number;
  /** Key/value heads. */
  readonly nKVHead: number;
  /** Width of one head. */
  readonly headDim: number;

  constructor(cfg: GroupedQueryAttentionConfig) {
    super();
    const op = 'GroupedQueryAttention';
    checkOptions(op, cfg, GQA_KEYS, 'config');
    checkSize(op, 'nEmbd', cfg.nEmbd, 1);
    checkSize(op, 'nHead', cfg.nHead, 1);
    if (cfg.nKVHead !== undefined) checkSize(op, 'nKVHead', cfg.nKVHead, 1);
    if (cfg.headDim !== undefined) checkSize(op, 'headDim', cfg.headDim, 1);
    if (cfg.qkvBias !== undefined) checkBool(op, 'qkvBias', cfg.qkvBias);
    if (cfg.outBias !== undefined) checkBool(op, 'outBias', cfg.outBias);
    checkFactory(op, cfg);
    this.nHead = cfg.nHead;
    this.nKVHead = cfg.nKVHead ?? cfg.nHead;
    if (this.nHead % this.nKVHead !== 0) throw new ValueError(`${op}: nHead ${this.nHead} is not a multiple of nKVHead ${this.nKVHead}`);
    if (cfg.headDim === undefined && cfg.nEmbd % cfg.nHead !== 0) throw new ValueError(`${op}: nEmbd ${cfg.nEmbd} is not divisible by nHead ${cfg.nHead} (give headDim)`);
    this.headDim = cfg.headDim ?? cfg.nEmbd / cfg.nHead;
    const f = { dtype: cfg.dtype, device: cfg.device };
    const qkvBias = cfg.qkvBias ?? false;
    this.registerModule('qProj', new Linear(cfg.nEmbd, this.nHead * this.headDim, { ...f, bias: qkvBias }));
    this.registerModule('kProj', new Linear(cfg.nEmbd, this.nKVHead * this.headDim, { ...f, bias: qkvBias }));
    this.registerModule('vProj', new Linear(cfg.nEmbd, this.nKVHead * this.headDim, { ...f, bias: qkvBias }));
    this.registerModule('oProj', new Linear(this.nHead * this.headDim, cfg.nEmbd, { ...f, bias: cfg.outBias ?? false }));
  }

  /** (B, nKV, T, D) → (B, nKV·g, T, D): each key/value head repeated for its g query heads. */
  #share(x: Tensor): Tensor {
    const g = this.nHead / this.nKVHead;
    if (g === 1) return x;
    const [B, H, T, D] = x.shape as [number, number, number, number];
    return x.unsqueeze(2).expand([B, H, g, T, D]).reshape([B, H * g, T, D]);
  }

  /** x (B, T, C) → (B, T, C), causal. With `cache`, new keys/values are appended to it and the
   *  queries sit at positions cache length, …; `rotary` rotates queries and keys at those positions. */
  forward(x: Tensor, cache?: LayerKV | null, rotary?: RotaryEmbedding | null): Tensor {
    checkFloatInput('GroupedQueryAttention', x);
    const [B, T] = x.shape as [number, number, number];
    const D = this.headDim;
    return tidy(() => {
      let q = this.qProj.forward(x).reshape([B, T, this.nHead, D]).transpose(1, 2); // (B, H, T, D)
      let k = this.kProj.forward(x).reshape([B, T, this.nKVHead, D]).transpose(1, 2); // (B, Hkv, T, D)
      let v = this.vProj.forward(x).reshape([B, T, this.nKVHead, D]).transpose(1, 2); // (B, Hkv, T, D)
      const offset = cache?.k ? cache.k.shape[2]! : 0;
      if (rotary) [q, k] = rotary.forward(q, k, offset);
      if (cache) {
        if (cache.k && cache.v) {
          k = cat([cache.k, k], 2); // (B, Hkv, Tcache + T, D)
          v = cat([cache.v, v], 2);
        }
        const nk = keep(k.detach());
        const nv = keep(v.detach());
        cache.k?.dispose(); cache.v?.dispose();
        cache.k = nk; cache.v = nv;
      }
      const y = scaledDotProductAttention(q, this.#share(k), this.#share(v), { isCausal: true }); // (B, H, T, D)
      return this.oProj.forward(y.transpose(1, 2).reshape([B, T, this.nHead * D])); // (B, T, C)
    });
  }

  override extraRepr(): string { return `nHead=${this.nHead}, nKVHead=${this.nKVHead}, headDim=${this.headDim}`; }
}
