// GPT: a GPT-2-style decoder-only language model in the spirit of nanoGPT (Radford et al. 2019).
// Token embedding + learned position embedding → nLayer pre-LN blocks → final LayerNorm → LM head
// whose weight is the token embedding (tied; Press & Wolf 2017). Init: N(0, 0.02) for every Linear
// and Embedding weight, zero biases, and the residual projections (attn.cProj, mlp.cProj) at
// N(0, (0.02/√(2·nLayer))²), the residual scaling of the GPT-2 paper.
//
// Parameter names: wte.weight, wpe.weight, h.{i}.ln1.{weight,bias}, h.{i}.attn.cAttn.{weight,bias},
// h.{i}.attn.cProj.*, h.{i}.ln2.*, h.{i}.mlp.cFc.*, h.{i}.mlp.cProj.*, lnF.*, lmHead.weight (= wte.weight).
import {
  Tensor, IndexError, ShapeError, ValueError, checkBool, checkEnum, checkOptions, checkRange, checkSize, checkTensor,
  checkpoint, crossEntropy, fmtShape, fmtValue, tidy, type DType, type DeviceName,
} from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory } from '../args.js';
import { ModuleList } from '../containers.js';
import * as init from '../init.js';
import { Linear } from '../layers/linear.js';
import { Embedding } from '../layers/embedding.js';
import { LayerNorm } from '../layers/norm.js';
import { Dropout } from '../layers/activation.js';
import { LearnedPositionalEmbedding } from '../layers/positional.js';
import { Block, KVCache } from '../layers/transformer_block.js';
import { checkTokenIds, generateTokens, type GenerateOptions } from './generate.js';

/** The shape and options of a GPT; GPT-2 small is { vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768, gelu: 'tanh' }. */
export interface GPTConfig {
  /** Number of token ids (rows of the embedding and of the LM head). */
  vocabSize: number;
  /** Maximum context length. */
  blockSize: number;
  /** Transformer blocks. */
  nLayer: number;
  /** Attention heads per block. */
  nHead: number;
  /** Model width. */
  nEmbd: number;
  /** Dropout on embeddings and residual branches while training (default 0). */
  dropout?: number;
  /** Biases in Linear and LayerNorm layers (default true, as GPT-2). */
  bias?: boolean;
  /** GELU of the MLP: 'none' (exact, erf; the default) or 'tanh' (GPT-2's `gelu_new`). */
  gelu?: 'none' | 'tanh';
  /** Epsilon of every LayerNorm (default 1e-5, GPT-2's `layer_norm_epsilon`). */
  layerNormEps?: number;
  /**
   * Recompute each block's activations in backward instead of keeping them (activation
   * checkpointing, HF's gradient_checkpointing; default false): applies while training, without a
   * KV cache. Toggle later with gradientCheckpointingEnable() / gradientCheckpointingDisable().
   */
  gradientCheckpointing?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
  /** Device of the parameters (default the current default device). */
  device?: DeviceName;
}

/** Options of GPT.forward (and Llama.forward). */
export interface GPTForwardOptions {
  /** Decode incrementally: positions start at the cache length and the cache is extended. */
  kvCache?: KVCache | null;
  /** Compute logits for the last position only (B, 1, V), as generation needs. */
  lastOnly?: boolean;
}

/** What GPT.forward (and Llama.forward) returns: logits (B, T, V) and, with targets, the mean loss. */
export interface GPTOutput {
  /** (B, T, V), or (B, 1, V) with lastOnly. */
  logits: Tensor;
  /** Mean cross-entropy over the targets that are not −100 (when targets were given). */
  loss?: Tensor;
}

/** An optimizer parameter group with its weight decay (see GPT.configureOptimizerGroups). */
export interface ParamGroup {
  /** The group's parameters. */
  params: Tensor[];
  /** Its decoupled weight decay. */
  weightDecay: number;
}

export type { GenerateOptions } from './generate.js';

/** The GPT-2-style decoder-only language model (see the file comment); HF GPT-2 checkpoints load with loadHFModel / gptFromHF. */
export class GPT extends Module {
  /** Token embedding [vocabSize, nEmbd]. */
  declare wte: Embedding;
  /** Learned positions [blockSize, nEmbd]. */
  declare wpe: LearnedPositionalEmbedding;
  /** Dropout on the summed embeddings. */
  declare drop: Dropout;
  /** The nLayer blocks. */
  declare h: ModuleList<Block>;
  /** Final LayerNorm. */
  declare lnF: LayerNorm;
  /** LM head; its weight is wte.weight. */
  declare lmHead: Linear;
  /** The config with every default filled in. */
  readonly config: Readonly<Required<Omit<GPTConfig, 'device'>>> & {
    /** The device the model was created on, when one was given. */
    device?: DeviceName;
  };
  /** Whether training forwards run each block under `checkpoint` (starts as config.gradientCheckpointing). */
  gradientCheckpointing: boolean;

  constructor(cfg: GPTConfig) {
    super();
    checkOptions('GPT', cfg, ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd', 'dropout', 'bias', 'gelu', 'layerNormEps', 'gradientCheckpointing', ...FACTORY_KEYS], 'config');
    for (const k of ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd'] as const) checkSize('GPT', `config.${k}`, cfg[k], 1);
    if (cfg.nEmbd % cfg.nHead !== 0) throw new ValueError(`GPT: config.nEmbd ${cfg.nEmbd} is not divisible by config.nHead ${cfg.nHead}`);
    if (cfg.dropout !== undefined) checkRange('GPT', 'config.dropout', cfg.dropout, 0, 1);
    if (cfg.bias !== undefined) checkBool('GPT', 'config.bias', cfg.bias);
    if (cfg.gelu !== undefined) checkEnum('GPT', 'config.gelu', cfg.gelu, ['none', 'tanh']);
    if (cfg.layerNormEps !== undefined) checkRange('GPT', 'config.layerNormEps', cfg.layerNormEps, 0, Infinity, { lo: true });
    if (cfg.gradientCheckpointing !== undefined) checkBool('GPT', 'config.gradientCheckpointing', cfg.gradientCheckpointing);
    checkFactory('GPT', cfg);
    this.config = { dropout: 0, bias: true, gelu: 'none', layerNormEps: 1e-5, gradientCheckpointing: false, dtype: 'float32', ...cfg };
    this.gradientCheckpointing = this.config.gradientCheckpointing;
    const { vocabSize, blockSize, nLayer, nHead, nEmbd, dropout, bias, gelu, layerNormEps } = this.config;
    const f = { dtype: this.config.dtype, device: cfg.device };
    this.registerModule('wte', new Embedding(vocabSize, nEmbd, f));
    this.registerModule('wpe', new LearnedPositionalEmbedding(blockSize, nEmbd, f));
    this.registerModule('drop', new Dropout(dropout));
    const blocks = Array.from({ length: nLayer }, () => new Block({ nEmbd, nHead, dropout, bias, gelu, ...f }));
    if (layerNormEps !== 1e-5) {
      // Block builds its norms with LayerNorm's default eps; swap in norms with the configured one.
      for (const b of blocks) {
        for (const name of ['ln1', 'ln2'] as const) {
          const old = b[name];
          b.registerModule(name, new LayerNorm(nEmbd, { ...f, bias, eps: layerNormEps }));
          old.dispose();
        }
      }
    }
    this.registerModule('h', new ModuleList(blocks));
    this.registerModule('lnF', new LayerNorm(nEmbd, { ...f, bias, eps: layerNormEps }));
    this.registerModule('lmHead', new Linear(nEmbd, vocabSize, { ...f, bias: false }));
    // Tie the LM head to the token embedding: one tensor under two names.
    const untied = this.lmHead.weight;
    this.lmHead.weight = this.wte.weight;
    untied.dispose();
    this.#initWeights();
  }

  /** Recompute block activations in backward from now on (HF's gradient_checkpointing_enable). Returns this. */
  gradientCheckpointingEnable(): this { this.gradientCheckpointing = true; return this; }

  /** Keep every activation for backward again (the default). Returns this. */
  gradientCheckpointingDisable(): this { this.gradientCheckpointing = false; return this; }

  /** Same as `new GPT(cfg)`. */
  static fromConfig(cfg: GPTConfig): GPT { return new GPT(cfg); }

  #initWeights(): void {
    const std = 0.02;
    for (const m of this.modules()) {
      if (m instanceof Linear) {
        init.normal(m.weight, 0, std);
        if (m.bias) init.zeros(m.bias);
      } else if (m instanceof Embedding) {
        init.normal(m.weight, 0, std);
      }
    }
    const residStd = std / Math.sqrt(2 * this.config.nLayer);
    for (const b of this.h) {
      init.normal(b.attn.cProj.weight, 0, residStd);
      init.normal(b.mlp.cProj.weight, 0, residStd);
    }
  }

  /** idx (B, T) int32 → logits (B, T, V), and the mean cross-entropy when targets (B, T) are given
   *  (targets of −100 are ignored). */
  forward(idx: Tensor, targets?: Tensor | null, opts: GPTForwardOptions = {}): GPTOutput {
    checkTokenIds('GPT.forward', idx);
    if (targets != null) checkTensor('GPT.forward', 'targets', targets);
    checkOptions('GPT.forward', opts, ['kvCache', 'lastOnly']);
    if (opts.lastOnly !== undefined) checkBool('GPT.forward', 'lastOnly', opts.lastOnly);
    if (opts.kvCache != null && !(opts.kvCache instanceof KVCache)) throw new ValueError(`GPT.forward: kvCache must be a KVCache (see createKVCache), got ${fmtValue(opts.kvCache)}`);
    const [B, T] = idx.shape as [number, number];
    const cache = opts.kvCache ?? null;
    const offset = cache?.length ?? 0;
    if (offset + T > this.config.blockSize) {
      throw new IndexError(`GPT.forward: sequence of length ${offset + T}${offset ? ` (${offset} cached + ${T} new)` : ''} exceeds blockSize ${this.config.blockSize}`);
    }
    if (targets && (targets.ndim !== 2 || targets.shape[0] !== B || targets.shape[1] !== T)) {
      throw new ShapeError(`GPT.forward: targets ${fmtShape(targets.shape)} must match idx ${fmtShape(idx.shape)}`);
    }
    return tidy(() => {
      const tok = this.wte.forward(idx); // (B, T, C)
      const pos = this.wpe.positions(T, offset); // (T, C)
      let x = this.drop.forward(tok.add(pos)); // (B, T, C)
      let i = 0;
      const recompute = this.gradientCheckpointing && this.training && !cache;
      for (const block of this.h) {
        x = recompute ? checkpoint((h: Tensor) => block.forward(h, null), x) : block.forward(x, cache ? cache.layers[i++] : null); // (B, T, C)
      }
      x = this.lnF.forward(x); // (B, T, C)
      if (opts.lastOnly) x = x.narrow(1, T - 1, 1); // (B, 1, C)
      const logits = this.lmHead.forward(x); // (B, T, V)
      if (!targets) return { logits };
      const V = this.config.vocabSize;
      const loss = crossEntropy(logits.reshape([B * T, V]), targets.reshape([B * T])); // (B·T, V) vs (B·T)
      return { logits, loss };
    });
  }

  /** Two optimizer groups, as nanoGPT: every matrix (dim ≥ 2: Linear and embedding weights) with
   *  weight decay, biases and norm gains without. Frozen parameters are left out. */
  configureOptimizerGroups(weightDecay: number): [ParamGroup, ParamGroup] {
    checkRange('GPT.configureOptimizerGroups', 'weightDecay', weightDecay, 0, Infinity);
    const decay: Tensor[] = [];
    const noDecay: Tensor[] = [];
    for (const p of this.parameters()) {
      if (!p.requiresGrad) continue;
      (p.ndim >= 2 ? decay : noDecay).push(p);
    }
    return [{ params: decay, weightDecay }, { params: noDecay, weightDecay: 0 }];
  }

  /** A new cache sized for this model. */
  createKVCache(): KVCache { return new KVCache(this.config.nLayer); }

  /**
   * Extend each row of idx (B, T) int32 by up to maxNewTokens sampled tokens; returns (B, T + n).
   * Prefills a KV cache with the prompt, then feeds one token per step. When the context reaches
   * blockSize the cache is dropped and the last blockSize tokens are recomputed each step (learned
   * positions cannot slide). Runs in eval mode without gradients; sampling draws from the core
   * generator, so `seed` (or manualSeed) reproduces the output.
   */
  async generate(idx: Tensor, opts: GenerateOptions): Promise<Tensor> {
    const { blockSize: contextSize, vocabSize } = this.config;
    return generateTokens('GPT.generate', this, idx, opts, { contextSize, vocabSize, device: this.wte.weight.device });
  }

  override extraRepr(): string {
    const c = this.config;
    return `vocabSize=${c.vocabSize}, blockSize=${c.blockSize}, nLayer=${c.nLayer}, nHead=${c.nHead}, nEmbd=${c.nEmbd}`;
  }
}
