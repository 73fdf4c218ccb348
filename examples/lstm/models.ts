// The two recurrent models of the example, each with an LSTM or a GRU cell:
//   CharRNN     Embedding → LSTM/GRU → Linear: next-character logits at every position, and
//               sampling that carries the recurrent state from one character to the next;
//   Forecaster  LSTM/GRU over a window of values → Linear on the last step's output: the next K values.
// Inputs are batch-first. Parameter names: embedding, rnn, head.
import { noGrad, tensor, tidy, type DeviceName, type Tensor } from '@webgrad/core';
import { Embedding, GRU, LSTM, Linear, Module, sampleToken } from '@webgrad/nn';
import { SeededRandom } from '@webgrad/data';

export type Cell = 'lstm' | 'gru';

/** An LSTM's state is [h, c], a GRU's [h]; each (L, B, H). */
export type RecurrentState = Tensor[];

interface RecurrentOptions { cell: Cell; hiddenSize: number; numLayers: number; dropout?: number; device?: DeviceName }

function recurrentLayer(inputSize: number, o: RecurrentOptions): LSTM | GRU {
  const opts = { numLayers: o.numLayers, dropout: o.dropout ?? 0, batchFirst: true, device: o.device };
  return o.cell === 'gru' ? new GRU(inputSize, o.hiddenSize, opts) : new LSTM(inputSize, o.hiddenSize, opts);
}

/** x (B, T, I) → the output sequence (B, T, H) and the final state. */
function runRecurrent(rnn: LSTM | GRU, x: Tensor, state?: RecurrentState | null): [Tensor, RecurrentState] {
  if (rnn instanceof LSTM) {
    const [out, [h, c]] = rnn.forward(x, state ? [state[0]!, state[1]!] : null);
    return [out, [h, c]];
  }
  const [out, h] = rnn.forward(x, state ? state[0]! : null);
  return [out, [h]];
}

export interface CharRNNConfig extends RecurrentOptions { vocabSize: number; embedDim: number }

export class CharRNN extends Module {
  declare embedding: Embedding;
  declare rnn: LSTM | GRU;
  declare head: Linear;

  constructor(readonly config: CharRNNConfig) {
    super();
    const f = { device: config.device };
    this.registerModule('embedding', new Embedding(config.vocabSize, config.embedDim, f));
    this.registerModule('rnn', recurrentLayer(config.embedDim, config));
    this.registerModule('head', new Linear(config.hiddenSize, config.vocabSize, f));
  }

  /** ids (B, T) int32 → logits (B, T, V) and the final state. */
  forward(ids: Tensor, state?: RecurrentState | null): { logits: Tensor; state: RecurrentState } {
    return tidy(() => {
      const [out, next] = runRecurrent(this.rnn, this.embedding.forward(ids), state); // (B, T, H)
      return { logits: this.head.forward(out), state: next };                         // (B, T, V)
    });
  }

  /**
   * `length` characters after `prompt` (token ids), sampled one at a time with the state carried
   * over, at `temperature` from the `topK` most likely (null: all). Eval mode, no gradients; the
   * draws come from a generator seeded with `seed`.
   */
  async sample(prompt: Int32Array, length: number, opts: { temperature: number; topK: number | null; seed: number }): Promise<Int32Array> {
    const rng = new SeededRandom(opts.seed);
    const device = this.head.weight.device;
    const wasTraining = this.training;
    this.eval();
    const out = new Int32Array(length);
    let state: RecurrentState | null = null;
    let feed = prompt;
    try {
      for (let i = 0; i < length; i++) {
        const ids = tensor(feed, { shape: [1, feed.length], dtype: 'int32', device }); // (1, T)
        const prev: RecurrentState | null = state;
        const { last, next } = noGrad(() => tidy(() => {
          const { logits, state: s } = this.forward(ids, prev);
          return { last: logits.select(1, feed.length - 1).reshape([-1]), next: s }; // (1, T, V) → (V)
        }));
        ids.dispose();
        for (const t of prev ?? []) t.dispose();
        state = next;
        const logits = await last.data();
        last.dispose();
        out[i] = sampleToken(logits, { temperature: opts.temperature, topK: opts.topK }, rng.random());
        feed = out.subarray(i, i + 1);
      }
    } finally {
      for (const t of state ?? []) t.dispose();
      this.train(wasTraining);
    }
    return out;
  }
}

export interface ForecasterConfig extends RecurrentOptions { horizon: number }

export class Forecaster extends Module {
  declare rnn: LSTM | GRU;
  declare head: Linear;

  constructor(readonly config: ForecasterConfig) {
    super();
    this.registerModule('rnn', recurrentLayer(1, config));
    this.registerModule('head', new Linear(config.hiddenSize, config.horizon, { device: config.device }));
  }

  /** x (B, W, 1) → the next K values (B, K). */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const [out] = runRecurrent(this.rnn, x);                                 // (B, W, H)
      return this.head.forward(out.select(1, out.shape[1]! - 1));              // (B, H) → (B, K)
    });
  }
}
