// Activation and simple shape modules: ReLU, GELU (exact or tanh approximation), SiLU, Tanh,
// Sigmoid, Softmax(dim), LogSoftmax(dim), Identity, Flatten, Dropout. Each wraps a core op.
import { Tensor, checkEnum, checkInt, checkOptions, checkRange, dropout, flatten } from '@webgrad/core';
import { Module } from '../module.js';
import { checkFloatInput } from '../args.js';

export class ReLU extends Module { forward(x: Tensor): Tensor { return x.relu(); } }
export class SiLU extends Module { forward(x: Tensor): Tensor { checkFloatInput('SiLU', x); return x.silu(); } }
export class Tanh extends Module { forward(x: Tensor): Tensor { return x.tanh(); } }
export class Sigmoid extends Module { forward(x: Tensor): Tensor { return x.sigmoid(); } }
export class Identity extends Module { forward(x: Tensor): Tensor { return x; } }

/** GELU (Hendrycks & Gimpel 2016): x·Φ(x), or its tanh approximation with `approximate: 'tanh'`. */
export class GELU extends Module {
  /** 'none': the exact x·Φ(x); 'tanh': the tanh approximation (GPT-2's `gelu_new`). */
  readonly approximate: 'none' | 'tanh';
  constructor(opts: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    checkOptions('GELU', opts, ['approximate']);
    this.approximate = checkEnum('GELU', 'approximate', opts.approximate === undefined ? 'none' : opts.approximate, ['none', 'tanh']);
  }
  forward(x: Tensor): Tensor { checkFloatInput('GELU', x); return x.gelu({ approximate: this.approximate }); }
  override extraRepr(): string { return `approximate='${this.approximate}'`; }
}

export class Softmax extends Module {
  /** @param dim The dimension that sums to 1 (default −1, the last). */
  constructor(readonly dim = -1) { super(); checkInt('Softmax', 'dim', dim); }
  forward(x: Tensor): Tensor { checkFloatInput('Softmax', x); return x.softmax(this.dim); }
  override extraRepr(): string { return `dim=${this.dim}`; }
}

export class LogSoftmax extends Module {
  /** @param dim The dimension normalized over (default −1, the last). */
  constructor(readonly dim = -1) { super(); checkInt('LogSoftmax', 'dim', dim); }
  forward(x: Tensor): Tensor { checkFloatInput('LogSoftmax', x); return x.logSoftmax(this.dim); }
  override extraRepr(): string { return `dim=${this.dim}`; }
}

/** Flattens dims startDim..endDim (default 1..−1, keeping the batch dim, as in PyTorch). */
export class Flatten extends Module {
  /**
   * @param startDim First dimension flattened (default 1: keeps the batch dimension).
   * @param endDim Last dimension flattened (default −1).
   */
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
    checkInt('Flatten', 'startDim', startDim);
    checkInt('Flatten', 'endDim', endDim);
  }
  forward(x: Tensor): Tensor { return flatten(x, this.startDim, this.endDim); }
}

/** Inverted dropout while training; the identity in eval mode. */
export class Dropout extends Module {
  /** @param p Probability that an element is zeroed in training mode (default 0.5); the others are scaled by 1/(1 − p). */
  constructor(readonly p = 0.5) { super(); checkRange('Dropout', 'p', p, 0, 1); }
  forward(x: Tensor): Tensor { return dropout(x, this.p, this.training); }
  override extraRepr(): string { return `p=${this.p}`; }
}
