// MultiheadAttention with PyTorch's parameters and semantics: packed input projection
// inProjWeight (3E, E) / inProjBias (3E) (rows q, k, v), an output projection outProj (Linear), heads
// of size E/numHeads, (T, B, E) inputs or (B, T, E) with batchFirst (unbatched (T, E) too).
// Init as PyTorch: xavier-uniform inProjWeight, zero biases, Linear's default for outProj.weight.
//
// Masks (PyTorch's MultiheadAttention conventions):
//   keyPaddingMask (B, S): bool, true = that key is padding and is ignored; or float, added.
//   attnMask (T, S) or (B·numHeads, T, S): bool, true = may NOT attend; or float, added to scores.
//   isCausal: query i sees keys j ≤ i + (S − T) (so it also holds with a KV cache).
// The scores never materialize outside core's fused scaledDotProductAttention, except in training
// with dropout > 0, where the probabilities are dropped out (softmax, dropout, matmul).
// Attention weights are not returned (forward gives the output only).
//
// Incremental decoding: pass `cache` (a LayerKV, e.g. one layer of a KVCache) and the new tokens'
// queries; their keys and values are appended to the cache (which owns them) and attention runs
// over everything cached.
import {
  ShapeError, ValueError, cat, checkBool, checkOptions, checkRange, checkSize, checkTensor, dropout, fmtShape, full, keep, matmul,
  packedSelfAttention, scaledDotProductAttention, tidy, triu, where, type Tensor,
} from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory, checkFloatInput } from '../args.js';
import * as init from '../init.js';
import { Linear, type FactoryOptions } from './linear.js';
import type { LayerKV } from './transformer_block.js';

/** Options of MultiheadAttention (PyTorch's `dropout`, `bias`, `batch_first`). */
export interface MultiheadAttentionOptions extends FactoryOptions {
  /** Dropout on the attention probabilities in training mode (default 0). */
  dropout?: number;
  /** Biases of the input and output projections (default true). */
  bias?: boolean;
  /** Inputs and output are (B, T, E) instead of (T, B, E) (default false, as PyTorch). */
  batchFirst?: boolean;
}

/** Masks of an attention call (PyTorch's `key_padding_mask`, `attn_mask`, `is_causal`); T queries, S keys. */
export interface AttentionMasks {
  /** (B, S): bool true = ignore that key; or an additive float mask. */
  keyPaddingMask?: Tensor | null;
  /** (T, S) or (B·numHeads, T, S): bool true = not allowed; or an additive float mask. */
  attnMask?: Tensor | null;
  /** Causal mask: query i sees keys j ≤ i + (S − T), so it also holds with a key/value cache (default false). */
  isCausal?: boolean;
}

/** Options of `MultiheadAttention.forward`: the masks and an optional key/value cache. */
export interface MultiheadAttentionForwardOptions extends AttentionMasks {
  /** Append this call's keys and values to the cache and attend over all of it. */
  cache?: LayerKV | null;
}

export class MultiheadAttention extends Module {
  /** (3E, E): the query, key and value projections stacked (PyTorch's `in_proj_weight`). */
  declare inProjWeight: Tensor;
  /** (3E), or null with `bias: false`. */
  declare inProjBias: Tensor | null;
  /** The output projection, E → E. */
  declare outProj: Linear;
  /** Model width E. */
  readonly embedDim: number;
  /** Number of heads. */
  readonly numHeads: number;
  /** E / numHeads. */
  readonly headDim: number;
  /** Dropout probability on the attention weights (training mode only). */
  readonly dropout: number;
  /** Whether inputs and output are (B, T, E) instead of (T, B, E). */
  readonly batchFirst: boolean;

  constructor(embedDim: number, numHeads: number, opts: MultiheadAttentionOptions = {}) {
    super();
    const op = 'MultiheadAttention';
    checkSize(op, 'embedDim', embedDim, 1);
    checkSize(op, 'numHeads', numHeads, 1);
    if (embedDim % numHeads !== 0) throw new ValueError(`MultiheadAttention: embedDim (${embedDim}) must be a multiple of numHeads (${numHeads})`);
    checkOptions(op, opts, ['dropout', 'bias', 'batchFirst', ...FACTORY_KEYS]);
    checkFactory(op, opts);
    if (opts.bias !== undefined) checkBool(op, 'bias', opts.bias);
    this.embedDim = embedDim;
    this.numHeads = numHeads;
    this.headDim = embedDim / numHeads;
    this.dropout = checkRange(op, 'dropout', opts.dropout === undefined ? 0 : opts.dropout, 0, 1);
    this.batchFirst = checkBool(op, 'batchFirst', opts.batchFirst === undefined ? false : opts.batchFirst);
    const f = { dtype: opts.dtype ?? 'float32', device: opts.device } as const;
    const bias = opts.bias ?? true;
    this.registerParameter('inProjWeight', init.xavierUniform(full([3 * embedDim, embedDim], 0, f)));
    this.registerParameter('inProjBias', bias ? full([3 * embedDim], 0, f) : null);
    this.registerModule('outProj', new Linear(embedDim, embedDim, { ...f, bias }));
    if (this.outProj.bias) init.zeros(this.outProj.bias);
  }

  /**
   * query (T, B, E) (or (B, T, E) with batchFirst, or (T, E)); key and value (S, B, E) likewise,
   * defaulting to query (self-attention). Returns (T, B, E) in the layout of the input.
   */
  forward(query: Tensor, key?: Tensor | null, value?: Tensor | null, opts: MultiheadAttentionForwardOptions = {}): Tensor {
    checkFloatInput('MultiheadAttention', query, 'query');
    checkOptions('MultiheadAttention.forward', opts, ['keyPaddingMask', 'attnMask', 'isCausal', 'cache']);
    for (const k of ['keyPaddingMask', 'attnMask'] as const) if (opts[k] != null) checkTensor('MultiheadAttention.forward', k, opts[k]);
    if (opts.isCausal !== undefined) checkBool('MultiheadAttention.forward', 'isCausal', opts.isCausal);
    key ??= query;
    value ??= key;
    const E = this.embedDim;
    for (const [n, t] of [['query', query], ['key', key], ['value', value]] as const) {
      if ((t.ndim !== 3 && t.ndim !== 2) || t.shape[t.ndim - 1] !== E || t.ndim !== query.ndim) {
        throw new ShapeError(`MultiheadAttention: ${n} must be ${this.batchFirst ? '(B, T, ' : '(T, B, '}${E}) or (T, ${E}) like the query, got ${fmtShape(t.shape)}`);
      }
    }
    const batched = query.ndim === 3;
    const toBTE = (t: Tensor): Tensor => (!batched ? t.unsqueeze(0) : this.batchFirst ? t : t.transpose(0, 1));
    return tidy(() => {
      const q0 = toBTE(query), k0 = toBTE(key!), v0 = toBTE(value!);
      const [B, T] = q0.shape as [number, number];
      if (k0.shape[0] !== B || v0.shape[0] !== B || k0.shape[1] !== v0.shape[1]) {
        throw new ShapeError(`MultiheadAttention: query ${fmtShape(query.shape)}, key ${fmtShape(key!.shape)} and value ${fmtShape(value!.shape)} disagree in batch or key length`);
      }
      const self = query === key && key === value;
      // Self-attention without a cache or attention dropout runs straight from the packed
      // projection (no split, head transposes or merge copies).
      const merged = self && !opts.cache && !(this.training && this.dropout > 0)
        ? packedSelfAttention(this.#packed(q0), this.numHeads, { mask: this.#mask(opts, B, T, T, q0.dtype), isCausal: !!opts.isCausal })
        : this.#attendHeads(q0, k0, v0, self, opts);                              // (B, T, E)
      const y = this.outProj.forward(merged);                                     // (B, T, E)
      return !batched ? y.squeeze(0) : this.batchFirst ? y : y.transpose(0, 1).contiguous();
    });
  }

  /** Projections, heads, cache and attention on (B, ·, E) inputs; the heads merged back, (B, T, E). */
  #attendHeads(q0: Tensor, k0: Tensor, v0: Tensor, self: boolean, opts: MultiheadAttentionForwardOptions): Tensor {
    const [B, T] = q0.shape as [number, number];
    let [q, k, v] = this.#project(q0, k0, v0, self);   // (B, ·, E) each
    const heads = (t: Tensor): Tensor => t.reshape([B, t.shape[1]!, this.numHeads, this.headDim]).transpose(1, 2); // (B, H, ·, Dh)
    q = heads(q); k = heads(k); v = heads(v);
    if (opts.cache) [k, v] = appendToCache(opts.cache, k, v);
    const S = k.shape[2]!;
    const mask = this.#mask(opts, B, T, S, q.dtype);
    let out: Tensor;
    if (this.training && this.dropout > 0) {
      let s = matmul(q, k.mT).mul(1 / Math.sqrt(this.headDim));                // (B, H, T, S)
      if (mask) s = s.add(mask);
      if (opts.isCausal) s = where(causalBlocked(T, S, q.device), -Infinity, s);
      out = matmul(dropout(s.softmax(-1), this.dropout, true), v);
    } else {
      out = scaledDotProductAttention(q, k, v, { mask, isCausal: !!opts.isCausal });  // (B, H, T, Dh)
    }
    return out.transpose(1, 2).reshape([B, T, this.embedDim]);
  }

  /** The packed self-attention projection x·Wᵀ + b, (B, T, 3E): q, k, v side by side. */
  #packed(x: Tensor): Tensor {
    const qkv = matmul(x, this.inProjWeight.mT);
    return this.inProjBias ? qkv.add(this.inProjBias) : qkv;
  }

  /** Input projections; one matmul for self-attention. */
  #project(q: Tensor, k: Tensor, v: Tensor, self: boolean): [Tensor, Tensor, Tensor] {
    const E = this.embedDim;
    const w = this.inProjWeight, b = this.inProjBias;
    if (self) return this.#packed(q).split(E, -1) as [Tensor, Tensor, Tensor];
    const proj = (x: Tensor, i: number): Tensor => {
      const y = matmul(x, w.narrow(0, i * E, E).mT);
      return b ? y.add(b.narrow(0, i * E, E)) : y;
    };
    return [proj(q, 0), proj(k, 1), proj(v, 2)];
  }

  /** Both masks as one additive float mask broadcastable to (B, H, T, S), or null. */
  #mask(opts: AttentionMasks, B: number, T: number, S: number, dtype: Tensor['dtype']): Tensor | null {
    const additive = (m: Tensor): Tensor => (m.dtype === 'bool' ? where(m, -Infinity, full([], 0, { dtype, device: m.device })) : m.to(dtype));
    let mask: Tensor | null = null;
    const kpm = opts.keyPaddingMask;
    if (kpm) {
      if (kpm.ndim !== 2 || kpm.shape[0] !== B || kpm.shape[1] !== S) {
        throw new ShapeError(`MultiheadAttention: keyPaddingMask must be (B, S) = ${fmtShape([B, S])}, got ${fmtShape(kpm.shape)}`);
      }
      mask = additive(kpm).reshape([B, 1, 1, S]);
    }
    const am = opts.attnMask;
    if (am) {
      let m: Tensor;
      if (am.ndim === 2 && am.shape[0] === T && am.shape[1] === S) m = additive(am);
      else if (am.ndim === 3 && am.shape[0] === B * this.numHeads && am.shape[1] === T && am.shape[2] === S) m = additive(am).reshape([B, this.numHeads, T, S]);
      else throw new ShapeError(`MultiheadAttention: attnMask must be (T, S) = ${fmtShape([T, S])} or (B·numHeads, T, S) = ${fmtShape([B * this.numHeads, T, S])}, got ${fmtShape(am.shape)}`);
      mask = mask ? mask.add(m) : m;
    }
    return mask;
  }

  override extraRepr(): string {
    return `embedDim=${this.embedDim}, numHeads=${this.numHeads}${this.dropout ? `, dropout=${this.dropout}` : ''}${this.batchFirst ? ', batchFirst=true' : ''}`;
  }
}

/** Query i of T may not see key j of S when j > i + (S − T). */
function causalBlocked(T: number, S: number, device: Tensor['device']): Tensor {
  return triu(full([T, S], 1, { device }), S - T + 1).gt(0);
}

/** Append (B, H, t, Dh) keys and values to `cache` (which keeps the concatenation) and return all of it. */
function appendToCache(cache: LayerKV, k: Tensor, v: Tensor): [Tensor, Tensor] {
  if (cache.k && (cache.k.shape[0] !== k.shape[0] || cache.k.shape[1] !== k.shape[1] || cache.k.shape[3] !== k.shape[3])) {
    throw new ShapeError(`MultiheadAttention: cached keys ${fmtShape(cache.k.shape)} do not fit new keys ${fmtShape(k.shape)} (B, H, ·, Dh)`);
  }
  const k2 = cache.k ? cat([cache.k, k], 2) : k.contiguous();
  const v2 = cache.v ? cat([cache.v, v], 2) : v.contiguous();
  cache.k?.dispose(); cache.v?.dispose();
  cache.k = keep(k2); cache.v = keep(v2);
  return [k2, v2];
}
