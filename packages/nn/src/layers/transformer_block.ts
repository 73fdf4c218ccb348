// The pre-LN transformer decoder block of GPT-2 (Radford et al. 2019):
//   x = x + attn(ln1(x));  x = x + mlp(ln2(x))
// with causal multi-head self-attention through core's fused scaledDotProductAttention, an MLP
// that widens 4× with GELU, and an optional per-layer KV cache for incremental decoding.
// Parameter names follow nanoGPT in camelCase: ln1, attn.cAttn, attn.cProj, ln2, mlp.cFc, mlp.cProj.
// Attention-probability dropout is not applied (the fused attention has none); residual dropout is.
import {
  Tensor, ValueError, cat, checkBool, checkEnum, checkFinite, checkOptions, checkRange, checkSize, keep, packedSelfAttention,
  scaledDotProductAttention, tidy,
} from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory, checkFloatInput } from '../args.js';
import { Linear, type FactoryOptions } from './linear.js';
import { LayerNorm } from './norm.js';
import { Dropout, GELU } from './activation.js';
import type { RotaryEmbedding } from './positional.js';

/** Cached keys and values of one attention layer: (B, H, Tcache, D) each, or null when empty. */
export interface LayerKV {
  /** Keys (B, H, Tcache, D), or null when empty. */
  k: Tensor | null;
  /** Values (B, H, Tcache, D), or null when empty. */
  v: Tensor | null;
}

/** Keys and values of every layer of a decoder, for generating one token at a time. Owns its
 *  tensors: call dispose() (or reset()) when done. */
export class KVCache {
  /** One entry per layer. */
  readonly layers: LayerKV[];
  constructor(nLayer: number) {
    checkSize('KVCache', 'nLayer', nLayer);
    this.layers = Array.from({ length: nLayer }, () => ({ k: null, v: null }));
  }
  /** Number of cached positions. */
  get length(): number { return this.layers[0]?.k?.shape[2] ?? 0; }
  /** Disposes every cached tensor and empties the cache (length 0). */
  reset(): void {
    for (const l of this.layers) {
      l.k?.dispose(); l.v?.dispose();
      l.k = null; l.v = null;
    }
  }
  /** Same as `reset()`. */
  dispose(): void { this.reset(); }
  /** Same as `reset()`, for `using cache = new KVCache(n)`. */
  [Symbol.dispose](): void { this.reset(); }
}

/** Configuration of a pre-LN GPT-2 transformer Block. */
export interface BlockConfig extends FactoryOptions {
  /** Embedding width; a multiple of nHead. */
  nEmbd: number;
  /** Number of attention heads. */
  nHead: number;
  /** Biases in Linear and LayerNorm (default true, as GPT-2). */
  bias?: boolean;
  /** Dropout probability on attention probabilities and residual branches in training mode (default 0). */
  dropout?: number;
  /** MLP width multiple (default 4). */
  mlpRatio?: number;
  /** GELU variant (default exact). */
  gelu?: 'none' | 'tanh';
}

const BLOCK_KEYS = ['nEmbd', 'nHead', 'bias', 'dropout', 'mlpRatio', 'gelu', ...FACTORY_KEYS] as const;

/** Check a BlockConfig; `op` is the public class built from it. Returns the MLP's hidden width. */
function checkBlockConfig(op: string, cfg: BlockConfig): number {
  checkOptions(op, cfg, BLOCK_KEYS, 'config');
  checkSize(op, 'nEmbd', cfg.nEmbd, 1);
  checkSize(op, 'nHead', cfg.nHead, 1);
  if (cfg.nEmbd % cfg.nHead !== 0) throw new ValueError(`${op}: nEmbd ${cfg.nEmbd} is not divisible by nHead ${cfg.nHead}`);
  if (cfg.bias !== undefined) checkBool(op, 'bias', cfg.bias);
  if (cfg.dropout !== undefined) checkRange(op, 'dropout', cfg.dropout, 0, 1);
  if (cfg.gelu !== undefined) checkEnum(op, 'gelu', cfg.gelu, ['none', 'tanh']);
  checkFactory(op, cfg);
  const hidden = checkFinite(op, 'mlpRatio', cfg.mlpRatio === undefined ? 4 : cfg.mlpRatio) * cfg.nEmbd;
  if (!Number.isInteger(hidden) || hidden < 1) throw new ValueError(`${op}: mlpRatio·nEmbd must be a positive integer (the MLP width), got ${cfg.mlpRatio}·${cfg.nEmbd}`);
  return hidden;
}

export class CausalSelfAttention extends Module {
  /** The fused query/key/value projection, C → 3C (GPT-2's `c_attn`). */
  declare cAttn: Linear;
  /** The output projection, C → C (`c_proj`). */
  declare cProj: Linear;
  /** Dropout on the output (training mode only). */
  declare residDropout: Dropout;
  /** Number of heads. */
  readonly nHead: number;
  /** Model width C. */
  readonly nEmbd: number;

  constructor(cfg: BlockConfig) {
    super();
    checkBlockConfig('CausalSelfAttention', cfg);
    this.nHead = cfg.nHead;
    this.nEmbd = cfg.nEmbd;
    const f = { bias: cfg.bias ?? true, dtype: cfg.dtype, device: cfg.device };
    this.registerModule('cAttn', new Linear(cfg.nEmbd, 3 * cfg.nEmbd, f));
    this.registerModule('cProj', new Linear(cfg.nEmbd, cfg.nEmbd, f));
    this.registerModule('residDropout', new Dropout(cfg.dropout ?? 0));
  }

  /** x (B, T, C) → (B, T, C). With `cache`, the new keys/values are appended to it and queries
   *  attend to every cached position (queries sit at positions cache.length..). */
  forward(x: Tensor, cache?: LayerKV | null, rotary?: RotaryEmbedding | null): Tensor {
    checkFloatInput('CausalSelfAttention', x);
    const [B, T, C] = x.shape as [number, number, number];
    const nh = this.nHead;
    const hs = C / nh;
    return tidy(() => {
      const qkv = this.cAttn.forward(x); // (B, T, 3C)
      // Training and full-sequence passes: attention straight from the packed projection.
      if (!cache && !rotary) return this.residDropout.forward(this.cProj.forward(packedSelfAttention(qkv, nh, { isCausal: true })));
      const [q0, k0, v0] = qkv.split(C, 2) as [Tensor, Tensor, Tensor]; // (B, T, C) each
      let q = q0.reshape([B, T, nh, hs]).transpose(1, 2); // (B, nh, T, hs)
      let k = k0.reshape([B, T, nh, hs]).transpose(1, 2); // (B, nh, T, hs)
      let v = v0.reshape([B, T, nh, hs]).transpose(1, 2); // (B, nh, T, hs)
      const offset = cache?.k ? cache.k.shape[2]! : 0;
      if (rotary) [q, k] = rotary.forward(q, k, offset);
      if (cache) {
        if (cache.k && cache.v) {
          k = cat([cache.k, k], 2); // (B, nh, Tcache + T, hs)
          v = cat([cache.v, v], 2); // (B, nh, Tcache + T, hs)
        }
        const nk = keep(k.detach());
        const nv = keep(v.detach());
        cache.k?.dispose(); cache.v?.dispose();
        cache.k = nk; cache.v = nv;
      }
      const y = scaledDotProductAttention(q, k, v, { isCausal: true }); // (B, nh, T, hs)
      const merged = y.transpose(1, 2).reshape([B, T, C]); // (B, T, C)
      return this.residDropout.forward(this.cProj.forward(merged));
    });
  }
}

export class MLP extends Module {
  /** C → hidden (`c_fc`; hidden = mlpRatio·C). */
  declare cFc: Linear;
  /** The GELU between the two projections. */
  declare act: GELU;
  /** hidden → C (`c_proj`). */
  declare cProj: Linear;
  /** Dropout on the output (training mode only). */
  declare dropout: Dropout;

  constructor(cfg: BlockConfig) {
    super();
    const hidden = checkBlockConfig('MLP', cfg);
    const f = { bias: cfg.bias ?? true, dtype: cfg.dtype, device: cfg.device };
    this.registerModule('cFc', new Linear(cfg.nEmbd, hidden, f));
    this.registerModule('act', new GELU({ approximate: cfg.gelu ?? 'none' }));
    this.registerModule('cProj', new Linear(hidden, cfg.nEmbd, f));
    this.registerModule('dropout', new Dropout(cfg.dropout ?? 0));
  }

  forward(x: Tensor): Tensor {
    checkFloatInput('MLP', x);
    return tidy(() => this.dropout.forward(this.cProj.forward(this.act.forward(this.cFc.forward(x)))));
  }
}

export class Block extends Module {
  /** The LayerNorm before attention. */
  declare ln1: LayerNorm;
  /** Causal self-attention. */
  declare attn: CausalSelfAttention;
  /** The LayerNorm before the MLP. */
  declare ln2: LayerNorm;
  /** The feed-forward block. */
  declare mlp: MLP;

  constructor(cfg: BlockConfig) {
    super();
    checkBlockConfig('Block', cfg);
    const ln = { bias: cfg.bias ?? true, dtype: cfg.dtype, device: cfg.device };
    this.registerModule('ln1', new LayerNorm(cfg.nEmbd, ln));
    this.registerModule('attn', new CausalSelfAttention(cfg));
    this.registerModule('ln2', new LayerNorm(cfg.nEmbd, ln));
    this.registerModule('mlp', new MLP(cfg));
  }

  /** x (B, T, C) → (B, T, C). */
  forward(x: Tensor, cache?: LayerKV | null, rotary?: RotaryEmbedding | null): Tensor {
    checkFloatInput('Block', x);
    return tidy(() => {
      const h = x.add(this.attn.forward(this.ln1.forward(x), cache, rotary)); // (B, T, C)
      return h.add(this.mlp.forward(this.ln2.forward(h))); // (B, T, C)
    });
  }
}
