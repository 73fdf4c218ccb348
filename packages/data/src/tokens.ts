// Token streams for language-model pretraining, as nanoGPT's get_batch: batches of B random
// windows of a long token array, x = tokens[i : i+T] and y = tokens[i+1 : i+T+1] (next tokens).
import { ValueError, checkOptions, checkSize, fmtValue, randint, tensor, type DeviceName, type Tensor } from '@webgrad/core';
import { SeededRandom, checkSeed } from './random.js';
import { splitSizes } from './split.js';

/** Options of `TokenStream` / `randomWindows` / `getBatch`. */
export interface WindowOptions {
  /** Tokens per window, T. */
  blockSize: number;
  /** Windows per batch, B. */
  batchSize: number;
  /**
   * Seed of the window offsets. Without one, offsets come from core's global generator (`randint`),
   * so `manualSeed` — or restoring `getRngState()` from a checkpoint — reproduces the batches.
   */
  seed?: number;
  /** Device of x and y (default: core's default device). */
  device?: DeviceName;
}

/** A batch of windows. */
export interface WindowBatch {
  /** (B, T) int32 inputs. */
  x: Tensor;
  /** (B, T) int32 targets: x shifted one token ahead. */
  y: Tensor;
  /** Where each of the B windows starts in the token array. */
  offsets: Int32Array;
}

/** `tokens` as an Int32Array (shared, not copied, when it already is one). */
export function toTokenArray(op: string, tokens: unknown): Int32Array {
  if (tokens instanceof Int32Array) return tokens;
  if (Array.isArray(tokens) || ArrayBuffer.isView(tokens)) {
    const a = tokens as ArrayLike<number>;
    const out = new Int32Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
        throw new ValueError(`${op}: tokens must be integer ids, got ${fmtValue(v)} at position ${i}`);
      }
      out[i] = v;
    }
    return out;
  }
  throw new ValueError(`${op}: tokens must be an Int32Array or an array of integer ids, got ${fmtValue(tokens)}`);
}

function windowOptions(op: string, options: WindowOptions, n: number) {
  const o = checkOptions(op, options, ['blockSize', 'batchSize', 'seed', 'device']);
  const blockSize = checkSize(op, 'blockSize', o.blockSize, 1);
  const batchSize = checkSize(op, 'batchSize', o.batchSize, 1);
  if (n < blockSize + 1) throw new ValueError(`${op}: ${n} tokens are too few for windows of ${blockSize} tokens plus a target (need at least ${blockSize + 1})`);
  if (o.device !== undefined && typeof o.device !== 'string') throw new ValueError(`${op}: device must be a device name, got ${fmtValue(o.device)}`);
  return { blockSize, batchSize, seed: checkSeed(op, o.seed), device: o.device };
}

/** The (x, y) tensors of the windows at `offsets`. */
function windowsAt(tokens: Int32Array, offsets: Int32Array, T: number, device: DeviceName | undefined): WindowBatch {
  const B = offsets.length;
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const i = offsets[b]!;
    x.set(tokens.subarray(i, i + T), b * T);
    y.set(tokens.subarray(i + 1, i + T + 1), b * T);
  }
  const xt = tensor(x, { shape: [B, T], dtype: 'int32', device }); // (B, T)
  let yt: Tensor;
  try {
    yt = tensor(y, { shape: [B, T], dtype: 'int32', device }); // (B, T)
  } catch (e) {
    xt.dispose();
    throw e;
  }
  return { x: xt, y: yt, offsets };
}

/** B offsets uniform on [0, n − T) from core's global generator (as nanoGPT's torch.randint). */
function globalOffsets(n: number, T: number, B: number): Int32Array {
  const t = randint(0, n - T, [B], { device: 'cpu' });
  try {
    return Int32Array.from(t.dataSync());
  } finally {
    t.dispose();
  }
}

/**
 * Random windows of a token array, batch after batch. `next()` returns a new batch that the caller
 * owns (dispose x and y). Iterating it (`for (const { x, y } of stream)`, endless — break out)
 * disposes each batch when the next is asked for, and the last one when the loop ends.
 */
export class TokenStream implements Iterable<WindowBatch> {
  /** The token array windows are cut from. */
  readonly tokens: Int32Array;
  /** Tokens per window, T. */
  readonly blockSize: number;
  /** Windows per batch, B. */
  readonly batchSize: number;
  /** Device of the batches (undefined: core's default device). */
  readonly device: DeviceName | undefined;
  readonly #rng: SeededRandom | null;

  constructor(tokens: ArrayLike<number>, options: WindowOptions) {
    const op = 'TokenStream';
    this.tokens = toTokenArray(op, tokens);
    const o = windowOptions(op, options, this.tokens.length);
    this.blockSize = o.blockSize;
    this.batchSize = o.batchSize;
    this.device = o.device;
    this.#rng = o.seed === undefined ? null : new SeededRandom(o.seed);
  }

  /** The number of distinct window offsets, n − T. */
  get numWindows(): number { return this.tokens.length - this.blockSize; }

  /** The next batch of B windows (owned by the caller). */
  next(): WindowBatch {
    const hi = this.numWindows;
    const offsets = this.#rng ? Int32Array.from({ length: this.batchSize }, () => this.#rng!.below(hi)) : globalOffsets(this.tokens.length, this.blockSize, this.batchSize);
    return windowsAt(this.tokens, offsets, this.blockSize, this.device);
  }

  /** Endless batches (break out of the loop); each batch is disposed when the next is asked for, the last when the loop ends. */
  *[Symbol.iterator](): Iterator<WindowBatch> {
    let current: WindowBatch | undefined;
    try {
      for (;;) {
        current = this.next();
        yield current;
        current.x.dispose();
        current.y.dispose();
        current = undefined;
      }
    } finally {
      current?.x.dispose();
      current?.y.dispose();
    }
  }
}

/** A `TokenStream` of random (x, y) windows of `tokens` (nanoGPT's get_batch, as a stream). */
export function randomWindows(tokens: ArrayLike<number>, options: WindowOptions): TokenStream {
  return new TokenStream(tokens, options);
}

/**
 * One batch of B random windows of `tokens`, owned by the caller (nanoGPT's get_batch). With a
 * seed, the batch depends on the seed alone; without, offsets come from core's global generator.
 */
export function getBatch(tokens: ArrayLike<number>, options: WindowOptions): WindowBatch {
  const op = 'getBatch';
  const data = toTokenArray(op, tokens);
  const o = windowOptions(op, options, data.length);
  const hi = data.length - o.blockSize;
  let offsets: Int32Array;
  if (o.seed === undefined) offsets = globalOffsets(data.length, o.blockSize, o.batchSize);
  else {
    const rng = new SeededRandom(o.seed);
    offsets = Int32Array.from({ length: o.batchSize }, () => rng.below(hi));
  }
  return windowsAt(data, offsets, o.blockSize, o.device);
}

/**
 * Split a token array into contiguous parts (views, not copies): `splitTokens(tokens, [0.9, 0.1])`
 * gives the first 90% for training and the rest for validation. Lengths are fractions adding up
 * to 1 (each part floor(n · f), the remainder to the first parts) or counts adding up to n.
 */
export function splitTokens(tokens: ArrayLike<number>, lengths: readonly number[]): Int32Array[] {
  const op = 'splitTokens';
  const data = toTokenArray(op, tokens);
  const sizes = splitSizes(op, data.length, lengths);
  let at = 0;
  return sizes.map((s) => data.subarray(at, (at += s)));
}
