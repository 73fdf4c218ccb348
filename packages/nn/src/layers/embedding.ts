// Embedding: a lookup table [numEmbeddings, embeddingDim] indexed by int32 ids. Default init is
// N(0, 1) as in PyTorch. With `paddingIdx`, that row starts at zero and never receives a gradient
// (its output is the row's value, detached).
import { Tensor, DTypeError, checkInt, checkOptions, checkSize, checkTensor, embedding, ne, noGrad, tidy, where, zeros } from '@webgrad/core';
import { Module } from '../module.js';
import * as init from '../init.js';
import { FACTORY_KEYS, checkFactory } from '../args.js';
import type { FactoryOptions } from './linear.js';

export class Embedding extends Module {
  /** The table, (numEmbeddings, embeddingDim), N(0, 1) at construction. */
  declare weight: Tensor;
  /** The row that stays zero and gets no gradient; null: none. */
  readonly paddingIdx: number | null;

  /**
   * @param numEmbeddings Rows of the table (the vocabulary size).
   * @param embeddingDim Size of each vector.
   * @param opts `paddingIdx` (negative counts from the end), `dtype`, `device`.
   */
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: FactoryOptions & { paddingIdx?: number | null } = {}) {
    super();
    const op = new.target.name;
    checkSize(op, 'numEmbeddings', numEmbeddings);
    checkSize(op, 'embeddingDim', embeddingDim);
    checkOptions(op, opts, ['paddingIdx', ...FACTORY_KEYS]);
    checkFactory(op, opts);
    let p = opts.paddingIdx ?? null;
    if (p !== null) {
      checkInt(op, 'paddingIdx', p, { min: -numEmbeddings, max: numEmbeddings - 1 });
      if (p < 0) p += numEmbeddings;
    }
    this.paddingIdx = p;
    this.registerParameter('weight', zeros([numEmbeddings, embeddingDim], { dtype: opts.dtype ?? 'float32', device: opts.device }));
    this.resetParameters();
  }

  /** Re-draws the table from N(0, 1) (PyTorch's default) and zeroes the row at `paddingIdx`, if any. */
  resetParameters(): void {
    init.normal(this.weight);
    if (this.paddingIdx !== null) noGrad(() => this.weight.select(0, this.paddingIdx!).zero_());
  }

  /** ids (*) int32 → (*, embeddingDim) */
  forward(ids: Tensor): Tensor {
    if (checkTensor(this.constructor.name, 'ids', ids).dtype !== 'int32') {
      throw new DTypeError(`${this.constructor.name}: ids must be int32 indices, got ${ids.dtype} (convert with .int())`);
    }
    return tidy(() => {
      const out = embedding(this.weight, ids);
      if (this.paddingIdx === null || !out.requiresGrad) return out;
      const keepGrad = ne(ids, this.paddingIdx).unsqueeze(-1);
      return where(keepGrad, out, out.detach());
    });
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, paddingIdx=${this.paddingIdx}` : ''}`;
  }
}
