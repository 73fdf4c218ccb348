// Positional information for sequence models:
// - LearnedPositionalEmbedding: a trained table [maxLen, dim] (GPT-2);
// - SinusoidalPositionalEncoding: the fixed sin/cos table of Vaswani et al. 2017,
//   pe[p, 2i] = sin(p / base^(2i/d)), pe[p, 2i+1] = cos(p / base^(2i/d));
// - RotaryEmbedding: RoPE (Su et al. 2021) on (B, H, T, D) queries/keys, in the "rotate half" layout
//   (dims i and i + D/2 form a pair, as in GPT-NeoX and LLaMA), with a position offset so a decoder
//   with a KV cache rotates new tokens at their true positions.
// Every forward takes `offset`, the position of the first element (the KV-cache length).
import { Tensor, IndexError, ValueError, arange, cat, checkOptions, checkSize, checkRange, tensor, tidy, view, type DType } from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory } from '../args.js';
import { Embedding } from './embedding.js';
import type { FactoryOptions } from './linear.js';

function checkPositions(who: string, offset: number, T: number, maxLen: number): void {
  checkSize(who, 'length', T);
  checkSize(who, 'offset', offset);
  if (offset + T > maxLen) {
    throw new IndexError(`${who}: positions ${offset}..${offset + T - 1} exceed the table of ${maxLen} positions`);
  }
}

/** A learned table of position vectors (GPT-2's wpe). forward(T, offset) → (T, dim). */
export class LearnedPositionalEmbedding extends Embedding {
  /**
   * @param maxLen Positions in the table.
   * @param dim Size of each position vector.
   */
  constructor(readonly maxLen: number, dim: number, opts: FactoryOptions = {}) {
    const op = 'LearnedPositionalEmbedding';
    super(checkSize(op, 'maxLen', maxLen), checkSize(op, 'dim', dim), checkOptions(op, opts, FACTORY_KEYS));
  }
  /** The vectors of positions offset … offset + T − 1, (T, dim). Throws a ValueError past `maxLen`. */
  positions(T: number, offset = 0): Tensor {
    checkPositions('LearnedPositionalEmbedding', offset, T, this.maxLen);
    // Every position in order is the table itself: a view of it, so neither a gather nor (in the
    // backward) a scatter of its gradient runs. The values are the same, as is the gradient (up to
    // the sign of a zero, which the scatter into zeros turns into +0).
    if (offset === 0 && T === this.maxLen) return view(this.weight, [T, this.embeddingDim]);
    return tidy(() => super.forward(arange(offset, offset + T, 1, { device: this.weight.device })));
  }
  override forward(T: number | Tensor, offset = 0): Tensor {
    return typeof T === 'number' ? this.positions(T, offset) : super.forward(T);
  }
}

function sinusoid(maxLen: number, dim: number, base: number): Float64Array {
  const pe = new Float64Array(maxLen * dim);
  for (let p = 0; p < maxLen; p++) {
    for (let i = 0; 2 * i < dim; i++) {
      const angle = p / Math.pow(base, (2 * i) / dim);
      pe[p * dim + 2 * i] = Math.sin(angle);
      if (2 * i + 1 < dim) pe[p * dim + 2 * i + 1] = Math.cos(angle);
    }
  }
  return pe;
}

/** Adds the fixed sinusoidal table: forward(x (B, T, C), offset) → x + pe[offset : offset+T]. */
export class SinusoidalPositionalEncoding extends Module {
  /** The table (maxLen, dim): sin at even, cos at odd indices (a buffer, not saved). */
  declare pe: Tensor;
  /**
   * @param maxLen Positions in the table.
   * @param dim Size of each position vector (the model width).
   * @param opts `base` of the frequencies (default 10000), `dtype`, `device`.
   */
  constructor(readonly maxLen: number, readonly dim: number, opts: FactoryOptions & { base?: number } = {}) {
    super();
    const op = 'SinusoidalPositionalEncoding';
    checkSize(op, 'maxLen', maxLen);
    checkSize(op, 'dim', dim);
    checkOptions(op, opts, ['base', ...FACTORY_KEYS]);
    checkFactory(op, opts);
    if (opts.base !== undefined) checkRange(op, 'base', opts.base, 0, Infinity, { lo: true });
    const data = sinusoid(maxLen, dim, opts.base ?? 10000);
    this.registerBuffer('pe', tensor(data, { shape: [maxLen, dim], dtype: opts.dtype ?? 'float32', device: opts.device }), { persistent: false });
  }
  /** The table rows for positions offset..offset+T−1: (T, C). */
  encoding(T: number, offset = 0): Tensor {
    checkPositions('SinusoidalPositionalEncoding', offset, T, this.maxLen);
    return this.pe.narrow(0, offset, T);
  }
  forward(x: Tensor, offset = 0): Tensor {
    const T = x.shape[x.ndim - 2]!;
    return tidy(() => x.add(this.encoding(T, offset)));
  }
}

/** Rotary position embedding for (B, H, T, D) tensors, D even. */
export class RotaryEmbedding extends Module {
  /** cos of each position's angles, (maxSeqLen, headDim) (a buffer, not saved). */
  declare cos: Tensor;
  /** sin of each position's angles, (maxSeqLen, headDim) (a buffer, not saved). */
  declare sin: Tensor;
  /**
   * @param headDim Size D of each head's vectors (even).
   * @param opts `maxSeqLen`, `base` of the frequencies (default 10000), `dtype`, `device`.
   */
  constructor(readonly headDim: number, opts: FactoryOptions & { maxSeqLen?: number; base?: number } = {}) {
    super();
    const op = 'RotaryEmbedding';
    if (checkSize(op, 'headDim', headDim) % 2 !== 0) throw new ValueError(`RotaryEmbedding: headDim must be even, got ${headDim}`);
    checkOptions(op, opts, ['maxSeqLen', 'base', ...FACTORY_KEYS]);
    checkFactory(op, opts);
    if (opts.maxSeqLen !== undefined) checkSize(op, 'maxSeqLen', opts.maxSeqLen);
    if (opts.base !== undefined) checkRange(op, 'base', opts.base, 0, Infinity, { lo: true });
    this.maxSeqLen = opts.maxSeqLen ?? 2048;
    const base = opts.base ?? 10000;
    const half = headDim / 2;
    const c = new Float64Array(this.maxSeqLen * headDim);
    const s = new Float64Array(this.maxSeqLen * headDim);
    for (let p = 0; p < this.maxSeqLen; p++) {
      for (let i = 0; i < half; i++) {
        const angle = p / Math.pow(base, (2 * i) / headDim);
        c[p * headDim + i] = c[p * headDim + i + half] = Math.cos(angle);
        s[p * headDim + i] = s[p * headDim + i + half] = Math.sin(angle);
      }
    }
    const f: { dtype: DType; device?: FactoryOptions['device'] } = { dtype: opts.dtype ?? 'float32', device: opts.device };
    this.registerBuffer('cos', tensor(c, { ...f, shape: [this.maxSeqLen, headDim] }), { persistent: false });
    this.registerBuffer('sin', tensor(s, { ...f, shape: [this.maxSeqLen, headDim] }), { persistent: false });
  }
  /** Positions the tables cover. */
  readonly maxSeqLen: number;

  /** Rotate x (B, H, T, D) as if its first position were `offset`. */
  apply_(x: Tensor, offset = 0): Tensor {
    const T = x.shape[x.ndim - 2]!;
    const D = x.shape[x.ndim - 1]!;
    if (D !== this.headDim) throw new ValueError(`RotaryEmbedding: expected head dim ${this.headDim}, got shape [${x.shape.join(', ')}]`);
    checkPositions('RotaryEmbedding', offset, T, this.maxSeqLen);
    return tidy(() => {
      const cos = this.cos.narrow(0, offset, T).to(x.dtype); // (T, D)
      const sin = this.sin.narrow(0, offset, T).to(x.dtype); // (T, D)
      const [x1, x2] = x.split(D / 2, -1) as [Tensor, Tensor]; // (B, H, T, D/2) each
      const rotated = cat([x2.neg(), x1], -1); // (B, H, T, D)
      return x.mul(cos).add(rotated.mul(sin));
    });
  }

  /** forward(q, k, offset) → [q rotated, k rotated]. */
  forward(q: Tensor, k: Tensor, offset = 0): [Tensor, Tensor] {
    return [this.apply_(q, offset), this.apply_(k, offset)];
  }
}
