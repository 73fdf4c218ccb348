// Map-style datasets of windows over one long sequence, for the DataLoader:
//
//   NextTokenWindows  item i: x = tokens[s·i : s·i+T], y = tokens[s·i+1 : s·i+T+1] (next tokens)
//   ForecastWindows   item i: x = series[s·i : s·i+W] as (W, 1), y = series[s·i+W : s·i+W+K]
//
// With stride 1 and a shuffling loader, the training set is every window in a new random order each
// epoch; with stride T (or W) the windows tile the sequence, for evaluation. Both offer `getBatch`,
// the loader's fast path: a batch is gathered into one typed array and made a tensor once.
import { tensor, type Tensor } from '@webgrad/core';
import { Dataset } from '@webgrad/data';

function checkWindows(name: string, n: number, span: number, stride: number): number {
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`${name}: stride must be a positive integer, got ${stride}`);
  if (n < span) throw new RangeError(`${name}: a sequence of ${n} values is too short for windows of ${span}`);
  return Math.floor((n - span) / stride) + 1;
}

function checkIndex(name: string, i: number, length: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= length) throw new RangeError(`${name}: index ${i} is out of range for ${length} windows`);
}

/** Windows of T tokens and their next-token targets. */
export class NextTokenWindows extends Dataset<{ x: Int32Array; y: Int32Array }> {
  readonly #n: number;

  constructor(readonly tokens: Int32Array, readonly blockSize: number, readonly stride = 1) {
    super();
    this.#n = checkWindows('NextTokenWindows', tokens.length, blockSize + 1, stride);
  }

  get length(): number { return this.#n; }

  get(i: number): { x: Int32Array; y: Int32Array } {
    checkIndex('NextTokenWindows', i, this.#n);
    const at = i * this.stride;
    return { x: this.tokens.slice(at, at + this.blockSize), y: this.tokens.slice(at + 1, at + this.blockSize + 1) };
  }

  /** The windows at `indices` as { x, y }, each (B, T) int32. */
  getBatch(indices: readonly number[]): { x: Tensor; y: Tensor } {
    const T = this.blockSize;
    const x = new Int32Array(indices.length * T);
    const y = new Int32Array(indices.length * T);
    indices.forEach((i, b) => {
      checkIndex('NextTokenWindows', i, this.#n);
      const at = i * this.stride;
      x.set(this.tokens.subarray(at, at + T), b * T);
      y.set(this.tokens.subarray(at + 1, at + T + 1), b * T);
    });
    const shape = [indices.length, T];
    return { x: tensor(x, { shape, dtype: 'int32', device: 'cpu' }), y: tensor(y, { shape, dtype: 'int32', device: 'cpu' }) }; // (B, T) each
  }
}

/** Windows of W past values and the K values that follow them. */
export class ForecastWindows extends Dataset<{ x: Float32Array; y: Float32Array }> {
  readonly #n: number;

  constructor(readonly series: Float32Array, readonly window: number, readonly horizon = 1, readonly stride = 1) {
    super();
    this.#n = checkWindows('ForecastWindows', series.length, window + horizon, stride);
  }

  get length(): number { return this.#n; }

  get(i: number): { x: Float32Array; y: Float32Array } {
    checkIndex('ForecastWindows', i, this.#n);
    const at = i * this.stride;
    return { x: this.series.slice(at, at + this.window), y: this.series.slice(at + this.window, at + this.window + this.horizon) };
  }

  /** The windows at `indices`: x (B, W, 1) and y (B, K), float32. */
  getBatch(indices: readonly number[]): { x: Tensor; y: Tensor } {
    const [W, K] = [this.window, this.horizon];
    const x = new Float32Array(indices.length * W);
    const y = new Float32Array(indices.length * K);
    indices.forEach((i, b) => {
      checkIndex('ForecastWindows', i, this.#n);
      const at = i * this.stride;
      x.set(this.series.subarray(at, at + W), b * W);
      y.set(this.series.subarray(at + W, at + W + K), b * K);
    });
    return {
      x: tensor(x, { shape: [indices.length, W, 1], device: 'cpu' }), // (B, W, 1): one feature per step
      y: tensor(y, { shape: [indices.length, K], device: 'cpu' }),    // (B, K)
    };
  }
}
