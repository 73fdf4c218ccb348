// The gated feed-forward block of Llama-family models, SwiGLU (Shazeer 2020):
//   y = downProj(silu(gateProj(x)) ⊙ upProj(x))
// with gateProj and upProj widening nEmbd → hidden and downProj narrowing back.
import { Tensor, checkBool, checkOptions, checkSize, tidy } from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory, checkFloatInput } from '../args.js';
import { Linear, type FactoryOptions } from './linear.js';

/** The shape and options of a GatedMLP. */
export interface GatedMLPConfig extends FactoryOptions {
  /** Input and output width. */
  nEmbd: number;
  /** Width of the gated hidden layer (transformers' intermediate_size). */
  hidden: number;
  /** Biases on the three projections (default false; transformers' mlp_bias). */
  bias?: boolean;
}

/** SwiGLU feed-forward block: downProj(silu(gateProj(x)) ⊙ upProj(x)). */
export class GatedMLP extends Module {
  /** nEmbd → hidden, through SiLU: the gate. */
  declare gateProj: Linear;
  /** nEmbd → hidden. */
  declare upProj: Linear;
  /** hidden → nEmbd. */
  declare downProj: Linear;

  constructor(cfg: GatedMLPConfig) {
    super();
    checkOptions('GatedMLP', cfg, ['nEmbd', 'hidden', 'bias', ...FACTORY_KEYS], 'config');
    checkSize('GatedMLP', 'nEmbd', cfg.nEmbd, 1);
    checkSize('GatedMLP', 'hidden', cfg.hidden, 1);
    if (cfg.bias !== undefined) checkBool('GatedMLP', 'bias', cfg.bias);
    checkFactory('GatedMLP', cfg);
    const f = { dtype: cfg.dtype, device: cfg.device, bias: cfg.bias ?? false };
    this.registerModule('gateProj', new Linear(cfg.nEmbd, cfg.hidden, f));
    this.registerModule('upProj', new Linear(cfg.nEmbd, cfg.hidden, f));
    this.registerModule('downProj', new Linear(cfg.hidden, cfg.nEmbd, f));
  }

  /** (*, nEmbd) → (*, nEmbd) */
  forward(x: Tensor): Tensor {
    checkFloatInput('GatedMLP', x);
    return tidy(() => this.downProj.forward(this.gateProj.forward(x).silu().mul(this.upProj.forward(x))));
  }
}
