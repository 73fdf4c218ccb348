// The recurrent step functions (Elman RNN, LSTM, GRU) with PyTorch's gate layouts, and the
// single-step modules RNNCell, LSTMCell, GRUCell built on them (LSTM and GRU through core's fused
// lstmCell / gruCell ops). The multi-layer layers in ./rnn.ts run whole sequences through core's
// rnnSequence / lstmSequence / gruSequence, the same cells.
//
// Gate layouts (rows of weightIh / weightHh, each block hiddenSize rows), as in PyTorch:
//   LSTM: i, f, g, o      c' = σ(f)·c + σ(i)·tanh(g);  h' = σ(o)·tanh(c')   (Hochreiter & Schmidhuber 1997)
//   GRU:  r, z, n         n = tanh(x_n + σ(r)·(h·W_hn + b_hn));  h' = (1 − z)·n + z·h   (Cho et al. 2014)
//   RNN:  one block       h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) (or relu)
// Every weight and bias starts U(-1/√hiddenSize, 1/√hiddenSize).
import { ShapeError, checkBool, checkEnum, checkOptions, checkSize, fmtShape, gruCell, lstmCell, matmul, tanh, tidy, zeros, type Tensor } from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory, checkFloatInput } from '../args.js';
import { uniformTensor, type FactoryOptions } from './uniform_init.js';

/** The activation of an Elman RNN (RNN, RNNCell): 'tanh' or 'relu'. */
export type RNNNonlinearity = 'tanh' | 'relu';

/** x·Wᵀ + b for the (B, I) or (T, B, I) input (the part of every gate that does not depend on h). */
export function inputProjection(x: Tensor, weightIh: Tensor, biasIh: Tensor | null): Tensor {
  return tidy(() => {
    const y = matmul(x, weightIh.mT);
    return biasIh ? y.add(biasIh) : y;
  });
}

/** h·W_hhᵀ + b_hh. */
function hiddenProjection(h: Tensor, weightHh: Tensor, biasHh: Tensor | null): Tensor {
  const y = matmul(h, weightHh.mT);
  return biasHh ? y.add(biasHh) : y;
}

/** One Elman step from the precomputed input projection xi (B, H). */
export function rnnStep(xi: Tensor, h: Tensor, weightHh: Tensor, biasHh: Tensor | null, nonlinearity: RNNNonlinearity): Tensor {
  return tidy(() => {
    const pre = xi.add(hiddenProjection(h, weightHh, biasHh));
    return nonlinearity === 'tanh' ? tanh(pre) : pre.relu();
  });
}

/** One LSTM step from the precomputed input projection xi (B, 4H): one fused cell op. Returns [h', c']. */
export function lstmStep(xi: Tensor, h: Tensor, c: Tensor, weightHh: Tensor, biasHh: Tensor | null): [Tensor, Tensor] {
  return tidy(() => lstmCell(xi.add(hiddenProjection(h, weightHh, biasHh)), c));   // gates (B, 4H)
}

/** One GRU step from the precomputed input projection xi (B, 3H): one fused cell op. */
export function gruStep(xi: Tensor, h: Tensor, weightHh: Tensor, biasHh: Tensor | null): Tensor {
  return tidy(() => gruCell(xi, hiddenProjection(h, weightHh, biasHh), h));
}

/** Options of RNNCell, LSTMCell and GRUCell. */
export interface RNNCellOptions extends FactoryOptions {
  /** Bias vectors biasIh and biasHh (default true). */
  bias?: boolean;
  /** Only for RNNCell: 'tanh' (default) or 'relu'. */
  nonlinearity?: RNNNonlinearity;
}

/** Parameters weightIh (G·H, I), weightHh (G·H, H), biasIh, biasHh (G·H) of a cell with G gate blocks. */
abstract class CellBase extends Module {
  /** (G·H, I): the input-to-hidden weights of the G gate blocks. */
  declare weightIh: Tensor;
  /** (G·H, H): the hidden-to-hidden weights. */
  declare weightHh: Tensor;
  /** (G·H), or null with `bias: false`. */
  declare biasIh: Tensor | null;
  /** (G·H), or null with `bias: false`. */
  declare biasHh: Tensor | null;
  /** Features I of the input. */
  readonly inputSize: number;
  /** Features H of the state. */
  readonly hiddenSize: number;

  constructor(inputSize: number, hiddenSize: number, gates: number, opts: RNNCellOptions) {
    super();
    const op = this.constructor.name;
    this.inputSize = checkSize(op, 'inputSize', inputSize, 1);
    this.hiddenSize = checkSize(op, 'hiddenSize', hiddenSize, 1);
    // Only RNNCell takes a nonlinearity.
    checkOptions(op, opts, ['bias', ...(gates === 1 ? ['nonlinearity'] : []), ...FACTORY_KEYS]);
    checkFactory(op, opts);
    const k = 1 / Math.sqrt(hiddenSize);
    const bias = checkBool(op, 'bias', opts.bias === undefined ? true : opts.bias);
    this.registerParameter('weightIh', uniformTensor([gates * hiddenSize, inputSize], k, opts));
    this.registerParameter('weightHh', uniformTensor([gates * hiddenSize, hiddenSize], k, opts));
    this.registerParameter('biasIh', bias ? uniformTensor([gates * hiddenSize], k, opts) : null);
    this.registerParameter('biasHh', bias ? uniformTensor([gates * hiddenSize], k, opts) : null);
  }

  /** Validate x (B, I) or (I) and the state; returns batched x and a zero state if none given. */
  protected prepare(x: Tensor, states: (Tensor | null | undefined)[]): {
    /** x as (B, I). */
    xb: Tensor;
    /** The states as (B, H). */
    sb: Tensor[];
    /** Whether x was given batched. */
    batched: boolean;
  } {
    const name = this.constructor.name;
    checkFloatInput(name, x);
    if ((x.ndim !== 2 && x.ndim !== 1) || x.shape[x.ndim - 1] !== this.inputSize) {
      throw new ShapeError(`${name}: expected input (B, ${this.inputSize}) or (${this.inputSize}), got ${fmtShape(x.shape)}`);
    }
    const batched = x.ndim === 2;
    const xb = batched ? x : x.unsqueeze(0);
    const B = xb.shape[0]!;
    const sb = states.map((s) => {
      if (!s) return zeros([B, this.hiddenSize], { device: x.device, dtype: x.dtype });
      const want = batched ? [B, this.hiddenSize] : [this.hiddenSize];
      if (s.ndim !== want.length || s.shape.some((d, i) => d !== want[i])) throw new ShapeError(`${name}: expected state ${fmtShape(want)}, got ${fmtShape(s.shape)}`);
      return batched ? s : s.unsqueeze(0);
    });
    return { xb, sb, batched };
  }

  override extraRepr(): string { return `${this.inputSize}, ${this.hiddenSize}${this.biasIh ? '' : ', bias=false'}`; }
}

/** One Elman step: forward(x (B, I), h (B, H)?) → h' (B, H). */
export class RNNCell extends CellBase {
  /** 'tanh' or 'relu'. */
  readonly nonlinearity: RNNNonlinearity;
  constructor(inputSize: number, hiddenSize: number, opts: RNNCellOptions = {}) {
    super(inputSize, hiddenSize, 1, opts);
    this.nonlinearity = checkEnum('RNNCell', 'nonlinearity', opts.nonlinearity === undefined ? 'tanh' : opts.nonlinearity, ['tanh', 'relu']);
  }
  forward(x: Tensor, h?: Tensor | null): Tensor {
    return tidy(() => {
      const { xb, sb, batched } = this.prepare(x, [h]);
      const y = rnnStep(inputProjection(xb, this.weightIh, this.biasIh), sb[0]!, this.weightHh, this.biasHh, this.nonlinearity);
      return batched ? y : y.squeeze(0);
    });
  }
}

/** One LSTM step: forward(x (B, I), [h, c]?) → [h', c'] each (B, H). */
export class LSTMCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: Omit<RNNCellOptions, 'nonlinearity'> = {}) {
    super(inputSize, hiddenSize, 4, opts);
  }
  forward(x: Tensor, state?: readonly [Tensor, Tensor] | null): [Tensor, Tensor] {
    return tidy(() => {
      const { xb, sb, batched } = this.prepare(x, [state?.[0], state?.[1]]);
      const [h, c] = lstmStep(inputProjection(xb, this.weightIh, this.biasIh), sb[0]!, sb[1]!, this.weightHh, this.biasHh);
      return batched ? [h, c] : [h.squeeze(0), c.squeeze(0)];
    });
  }
}

/** One GRU step: forward(x (B, I), h (B, H)?) → h' (B, H). */
export class GRUCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: Omit<RNNCellOptions, 'nonlinearity'> = {}) {
    super(inputSize, hiddenSize, 3, opts);
  }
  forward(x: Tensor, h?: Tensor | null): Tensor {
    return tidy(() => {
      const { xb, sb, batched } = this.prepare(x, [h]);
      const y = gruStep(inputProjection(xb, this.weightIh, this.biasIh), sb[0]!, this.weightHh, this.biasHh);
      return batched ? y : y.squeeze(0);
    });
  }
}
