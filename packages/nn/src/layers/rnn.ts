// Multi-layer recurrent layers RNN (tanh or relu), LSTM and GRU over whole sequences, with
// PyTorch's semantics: (T, B, I) input ((B, T, I) with batchFirst; unbatched (T, I) too), an
// optional initial state (numLayers·numDirections, B, H) in, the output sequence and final states
// out, dropout between layers in training mode, and bidirectional layers whose output
// concatenates the forward and the backward direction.
//
// Parameters keep PyTorch's names in the library's camelCase: weightIhL{k}, weightHhL{k},
// biasIhL{k}, biasHhL{k}, plus the suffix 'Reverse' for the backward direction (PyTorch's
// weight_ih_l0_reverse is weightIhL0Reverse). Gate layouts and init are those of ./rnn_cells.ts.
//
// Per layer and direction the input projection of every step is one matmul; the whole direction
// then runs as one core op (rnnSequence / lstmSequence / gruSequence: per step one recurrent matmul
// and one fused cell kernel, an analytic backward over the steps in reverse). RNN and LSTM fold b_hh
// into the input projection (GRU cannot: b_hn sits inside r·(W_hn·h + b_hn)). Backward is
// iterative, so long sequences work.
import {
  ShapeError, ValueError, cat, checkBool, checkEnum, checkOptions, checkRange, checkSize, dropout, fmtShape, gruSequence, lstmSequence, rnnSequence, stack, tidy, zeros, type Tensor,
} from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory, checkFloatInput } from '../args.js';
import { inputProjection, type RNNNonlinearity } from './rnn_cells.js';
import { uniformTensor, type FactoryOptions } from './uniform_init.js';

/** Options of RNN, LSTM and GRU (PyTorch's names). */
export interface RNNOptions extends FactoryOptions {
  /** Number of stacked layers (default 1). */
  numLayers?: number;
  /** Bias vectors biasIhL{k} and biasHhL{k} in every layer (default true). */
  bias?: boolean;
  /** Input and output are (B, T, ·) instead of (T, B, ·). States stay (L·D, B, H), as in PyTorch. */
  batchFirst?: boolean;
  /** Dropout probability on the outputs of every layer but the last (training mode only). */
  dropout?: number;
  /** Run a second pass from the end of the sequence; outputs are the two directions concatenated (default false). */
  bidirectional?: boolean;
  /** Only for RNN: 'tanh' (default) or 'relu'. */
  nonlinearity?: RNNNonlinearity;
}

type Mode = 'rnn' | 'lstm' | 'gru';
const GATES: Record<Mode, number> = { rnn: 1, lstm: 4, gru: 3 };

abstract class RNNBase extends Module {
  /** Features I of each input step. */
  readonly inputSize: number;
  /** Features H of the state. */
  readonly hiddenSize: number;
  /** Stacked layers L. */
  readonly numLayers: number;
  /** Whether the layers have bias vectors. */
  readonly bias: boolean;
  /** Whether input and output are (B, T, ·) instead of (T, B, ·). */
  readonly batchFirst: boolean;
  /** Dropout probability between layers (training mode only). */
  readonly dropout: number;
  /** Whether each layer also runs from the end of the sequence (D = 2). */
  readonly bidirectional: boolean;
  readonly #mode: Mode;
  /** The Elman RNN's activation (unused by LSTM and GRU). */
  protected readonly nonlinearity: RNNNonlinearity;

  constructor(mode: Mode, inputSize: number, hiddenSize: number, opts: RNNOptions) {
    super();
    const name = this.constructor.name;
    this.#mode = mode;
    this.inputSize = checkSize(name, 'inputSize', inputSize, 1);
    this.hiddenSize = checkSize(name, 'hiddenSize', hiddenSize, 1);
    // Only RNN takes a nonlinearity.
    checkOptions(name, opts, ['numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional', ...(mode === 'rnn' ? ['nonlinearity'] : []), ...FACTORY_KEYS]);
    checkFactory(name, opts);
    this.numLayers = checkSize(name, 'numLayers', opts.numLayers === undefined ? 1 : opts.numLayers, 1);
    this.bias = checkBool(name, 'bias', opts.bias === undefined ? true : opts.bias);
    this.batchFirst = checkBool(name, 'batchFirst', opts.batchFirst === undefined ? false : opts.batchFirst);
    this.dropout = checkRange(name, 'dropout', opts.dropout === undefined ? 0 : opts.dropout, 0, 1);
    this.bidirectional = checkBool(name, 'bidirectional', opts.bidirectional === undefined ? false : opts.bidirectional);
    this.nonlinearity = checkEnum(name, 'nonlinearity', opts.nonlinearity === undefined ? 'tanh' : opts.nonlinearity, ['tanh', 'relu']);
    const G = GATES[mode] * hiddenSize;
    const k = 1 / Math.sqrt(hiddenSize);
    for (let l = 0; l < this.numLayers; l++) {
      const inSize = l === 0 ? inputSize : hiddenSize * this.numDirections;
      for (const sfx of this.#suffixes()) {
        this.registerParameter(`weightIhL${l}${sfx}`, uniformTensor([G, inSize], k, opts));
        this.registerParameter(`weightHhL${l}${sfx}`, uniformTensor([G, hiddenSize], k, opts));
        if (this.bias) {
          this.registerParameter(`biasIhL${l}${sfx}`, uniformTensor([G], k, opts));
          this.registerParameter(`biasHhL${l}${sfx}`, uniformTensor([G], k, opts));
        }
      }
    }
  }

  /** 2 when bidirectional, else 1. */
  get numDirections(): number { return this.bidirectional ? 2 : 1; }
  #suffixes(): string[] { return this.bidirectional ? ['', 'Reverse'] : ['']; }

  /** The four tensors of layer `layer`, direction 0 (forward) or 1 (reverse). */
  layerParameters(layer: number, direction = 0): {
    /** (G·H, I) for layer 0, (G·H, D·H) above, with G gate blocks (LSTM 4, GRU 3, RNN 1). */
    weightIh: Tensor;
    /** (G·H, H). */
    weightHh: Tensor;
    /** (G·H), or null without biases. */
    biasIh: Tensor | null;
    /** (G·H), or null without biases. */
    biasHh: Tensor | null;
  } {
    const sfx = direction === 1 ? 'Reverse' : '';
    const get = (n: string) => this.getParameter(`${n}L${layer}${sfx}`) ?? null;
    const weightIh = get('weightIh'), weightHh = get('weightHh');
    if (!weightIh || !weightHh) throw new ValueError(`${this.constructor.name}: no layer ${layer} direction ${direction}`);
    return { weightIh, weightHh, biasIh: get('biasIh'), biasHh: get('biasHh') };
  }

  /**
   * Run every layer. `x` is validated and made (T, B, I); `init` holds one (L·D, B, H) tensor per
   * state (1, or 2 for the LSTM) or nulls. Returns the (T, B, D·H) output and the final states.
   */
  protected run(x: Tensor, init: (Tensor | null | undefined)[]): {
    /** (T, B, D·H): the top layer's states at every step. */
    output: Tensor;
    /** The final states, each (L·D, B, H). */
    finals: Tensor[];
  } {
    const name = this.constructor.name;
    const LD = this.numLayers * this.numDirections;
    const H = this.hiddenSize;
    checkFloatInput(name, x);
    if ((x.ndim !== 3 && x.ndim !== 2) || x.shape[x.ndim - 1] !== this.inputSize) {
      const seq = this.batchFirst ? '(B, T' : '(T, B';
      throw new ShapeError(`${name}: expected input ${seq}, ${this.inputSize}) or (T, ${this.inputSize}), got ${fmtShape(x.shape)}`);
    }
    const batched = x.ndim === 3;
    const T = x.shape[batched && this.batchFirst ? 1 : 0]!;
    const B = batched ? x.shape[this.batchFirst ? 0 : 1]! : 1;
    if (T === 0) throw new ShapeError(`${name}: the input sequence is empty (${fmtShape(x.shape)})`);
    for (const s of init) {
      if (!s) continue;
      const want = batched ? [LD, B, H] : [LD, H];
      if (s.ndim !== want.length || s.shape.some((d, i) => d !== want[i])) {
        throw new ShapeError(`${name}: expected initial state ${fmtShape(want)} (numLayers·numDirections, batch, hiddenSize), got ${fmtShape(s.shape)}`);
      }
    }
    return tidy(() => {
      let seq = !batched ? x.unsqueeze(1) : this.batchFirst ? x.transpose(0, 1) : x;   // (T, B, I)
      const states = init.map((s) => (!s ? zeros([LD, B, H], { device: x.device, dtype: x.dtype }) : batched ? s : s.unsqueeze(1)));
      const finals: Tensor[][] = init.map(() => []);
      for (let l = 0; l < this.numLayers; l++) {
        const dirOuts: Tensor[] = [];
        for (let d = 0; d < this.numDirections; d++) {
          const idx = l * this.numDirections + d;
          const { out, last } = this.#direction(seq, l, d, states.map((s) => s.select(0, idx)));
          dirOuts.push(out);                                              // (T, B, H)
          last.forEach((t, i) => finals[i]!.push(t));
        }
        seq = dirOuts.length === 1 ? dirOuts[0]! : cat(dirOuts, -1);      // (T, B, D·H)
        if (l < this.numLayers - 1 && this.training && this.dropout > 0) seq = dropout(seq, this.dropout, true);
      }
      let output = !batched ? seq.squeeze(1) : this.batchFirst ? seq.transpose(0, 1) : seq;
      if (batched && this.batchFirst) output = output.contiguous();       // (B, T, D·H)
      const fin = finals.map((f) => (batched ? stack(f, 0) : stack(f, 0).squeeze(1)));
      return { output, finals: fin };
    });
  }

  /** One direction of one layer over (T, B, I): the (T, B, H) states in time order and the final states. */
  #direction(seq: Tensor, layer: number, dir: number, state: Tensor[]): { out: Tensor; last: Tensor[] } {
    const { weightIh, weightHh, biasIh, biasHh } = this.layerParameters(layer, dir);
    const reverse = dir === 1;
    // b_hh joins b_ih in the input projection, except for the GRU, whose cell adds b_hn inside r·(…).
    const bias = this.#mode !== 'gru' && biasIh && biasHh ? biasIh.add(biasHh) : biasIh;
    const xg = inputProjection(seq, weightIh, bias);                      // (T, B, G·H)
    if (this.#mode === 'lstm') {
      const { output, h, c } = lstmSequence(xg, state[0]!, state[1]!, weightHh, { reverse });
      return { out: output, last: [h, c] };
    }
    const { output, h } = this.#mode === 'gru'
      ? gruSequence(xg, state[0]!, weightHh, biasHh, { reverse })
      : rnnSequence(xg, state[0]!, weightHh, { reverse, nonlinearity: this.nonlinearity });
    return { out: output, last: [h] };
  }

  /** `toString` details: sizes and the options that differ from the defaults. */
  override extraRepr(): string {
    const o: string[] = [`${this.inputSize}, ${this.hiddenSize}`];
    if (this.numLayers !== 1) o.push(`numLayers=${this.numLayers}`);
    if (!this.bias) o.push('bias=false');
    if (this.batchFirst) o.push('batchFirst=true');
    if (this.dropout) o.push(`dropout=${this.dropout}`);
    if (this.bidirectional) o.push('bidirectional=true');
    return o.join(', ');
  }
}

/** Elman RNN. forward(x, h0?) → [output (T, B, D·H), hN (L·D, B, H)]. */
export class RNN extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super('rnn', inputSize, hiddenSize, opts);
  }
  forward(x: Tensor, h0?: Tensor | null): [Tensor, Tensor] {
    const { output, finals } = this.run(x, [h0]);
    return [output, finals[0]!];
  }
  /** `toString` details, with the nonlinearity when it is 'relu'. */
  override extraRepr(): string { return super.extraRepr() + (this.nonlinearity === 'relu' ? ", nonlinearity='relu'" : ''); }
}

/** LSTM. forward(x, [h0, c0]?) → [output (T, B, D·H), [hN, cN] each (L·D, B, H)]. */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: Omit<RNNOptions, 'nonlinearity'> = {}) {
    super('lstm', inputSize, hiddenSize, opts);
  }
  forward(x: Tensor, state?: readonly [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]] {
    const { output, finals } = this.run(x, [state?.[0], state?.[1]]);
    return [output, [finals[0]!, finals[1]!]];
  }
}

/** GRU. forward(x, h0?) → [output (T, B, D·H), hN (L·D, B, H)]. */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: Omit<RNNOptions, 'nonlinearity'> = {}) {
    super('gru', inputSize, hiddenSize, opts);
  }
  forward(x: Tensor, h0?: Tensor | null): [Tensor, Tensor] {
    const { output, finals } = this.run(x, [h0]);
    return [output, finals[0]!];
  }
}
