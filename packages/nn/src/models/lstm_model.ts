// A recurrent sequence model: Embedding → LSTM → Linear. In 'lm' mode it gives next-token logits
// at every position, (B, T, outputSize); in 'classify' mode one prediction per sequence from the
// final hidden state of the top layer (both directions concatenated when bidirectional), (B, outputSize).
// Inputs are batch-first int32 ids (B, T). Parameter names: embedding, lstm, head.
import { ValueError, cat, checkBool, checkEnum, checkOptions, checkRange, checkSize, tidy, type Tensor } from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory } from '../args.js';
import { Embedding } from '../layers/embedding.js';
import { Linear, type FactoryOptions } from '../layers/linear.js';
import { LSTM } from '../layers/rnn.js';

/** Configuration of LSTMModel: vocabulary, embedding and hidden sizes (required); `numLayers` (default 1), `bidirectional` and `dropout` are the LSTM's; `mode` 'lm' (default: next-token logits (B, T, outputSize)) or 'classify' (one prediction per sequence, (B, outputSize)); 'lm' with bidirectional throws a ValueError. */
export interface LSTMModelConfig extends FactoryOptions {
  /** Token ids are in [0, vocabSize). */
  vocabSize: number;
  /** Width of the token embeddings. */
  embedDim: number;
  /** Width of the LSTM state. */
  hiddenSize: number;
  /** Stacked LSTM layers (default 1). */
  numLayers?: number;
  /** Classes in 'classify' mode; defaults to vocabSize (language modelling). */
  outputSize?: number;
  /** 'lm' (default): logits at every position; 'classify': one prediction per sequence. */
  mode?: 'lm' | 'classify';
  /** A bidirectional LSTM ('classify' mode only; default false). */
  bidirectional?: boolean;
  /** Dropout between LSTM layers (default 0). */
  dropout?: number;
}

export class LSTMModel extends Module {
  /** vocabSize → embedDim. */
  declare embedding: Embedding;
  /** The batch-first LSTM. */
  declare lstm: LSTM;
  /** (D·)hiddenSize → outputSize. */
  declare head: Linear;
  /** 'lm' or 'classify'. */
  readonly mode: 'lm' | 'classify';

  constructor(c: LSTMModelConfig) {
    super();
    const op = 'LSTMModel';
    checkOptions(op, c, ['vocabSize', 'embedDim', 'hiddenSize', 'numLayers', 'outputSize', 'mode', 'bidirectional', 'dropout', ...FACTORY_KEYS], 'config');
    for (const k of ['vocabSize', 'embedDim', 'hiddenSize'] as const) checkSize(op, `config.${k}`, c[k], 1);
    if (c.numLayers !== undefined) checkSize(op, 'config.numLayers', c.numLayers, 1);
    if (c.outputSize !== undefined) checkSize(op, 'config.outputSize', c.outputSize, 1);
    if (c.bidirectional !== undefined) checkBool(op, 'config.bidirectional', c.bidirectional);
    if (c.dropout !== undefined) checkRange(op, 'config.dropout', c.dropout, 0, 1);
    checkFactory(op, c);
    this.mode = checkEnum(op, 'config.mode', c.mode === undefined ? 'lm' : c.mode, ['lm', 'classify']);
    if (this.mode === 'lm' && c.bidirectional) throw new ValueError('LSTMModel: a bidirectional LSTM would see the future in language-model mode');
    const f = { dtype: c.dtype, device: c.device };
    this.registerModule('embedding', new Embedding(c.vocabSize, c.embedDim, f));
    this.registerModule('lstm', new LSTM(c.embedDim, c.hiddenSize, { ...f, numLayers: c.numLayers, bidirectional: c.bidirectional, dropout: c.dropout, batchFirst: true }));
    this.registerModule('head', new Linear(c.hiddenSize * (c.bidirectional ? 2 : 1), c.outputSize ?? c.vocabSize, f));
  }

  /** ids (B, T) int32, optional initial [h0, c0] → logits, and the final LSTM state. */
  forward(ids: Tensor, state?: readonly [Tensor, Tensor] | null): {
    /** (B, T, outputSize) in 'lm' mode, (B, outputSize) in 'classify' mode. */
    logits: Tensor;
    /** The final [h, c], each (L·D, B, H). */
    state: [Tensor, Tensor];
  } {
    return tidy(() => {
      const [out, [h, c]] = this.lstm.forward(this.embedding.forward(ids), state);  // (B, T, D·H), (L·D, B, H)
      if (this.mode === 'lm') return { logits: this.head.forward(out), state: [h, c] };
      const D = this.lstm.numDirections;
      const top = Array.from({ length: D }, (_, d) => h.select(0, h.shape[0]! - D + d));   // (B, H) each
      const feat = D === 1 ? top[0]! : cat(top, -1);                                      // (B, D·H)
      return { logits: this.head.forward(feat), state: [h, c] };
    });
  }
}
