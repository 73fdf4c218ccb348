// A scalar head over any backbone's hidden states (reward models, PPO value functions): a Linear
// hidden → 1 ('head'), read per token (B, T) or once per sequence (B) at the last non-pad token given
// an attention mask (1 = real token; left or right padding both work: the last position whose mask
// is set). Without a mask the last position is used.
import { ShapeError, arange, checkBool, checkOptions, checkSize, fmtShape, tidy, type Tensor } from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory, checkFloatInput } from '../args.js';
import { Linear, type FactoryOptions } from '../layers/linear.js';

export class ValueHead extends Module {
  /** hiddenSize → 1. */
  declare head: Linear;

  /**
   * @param hiddenSize Width of the hidden states it reads.
   * @param opts `bias` (default true), `dtype`, `device`.
   */
  constructor(readonly hiddenSize: number, opts: FactoryOptions & { bias?: boolean } = {}) {
    super();
    checkSize('ValueHead', 'hiddenSize', hiddenSize, 1);
    checkOptions('ValueHead', opts, ['bias', ...FACTORY_KEYS]);
    checkFactory('ValueHead', opts);
    if (opts.bias !== undefined) checkBool('ValueHead', 'bias', opts.bias);
    this.registerModule('head', new Linear(hiddenSize, 1, opts));
  }

  /** hidden (B, T, H) → values (B, T). */
  forward(hidden: Tensor): Tensor {
    checkFloatInput('ValueHead', hidden, 'hidden');
    if (hidden.ndim !== 3 || hidden.shape[2] !== this.hiddenSize) throw new ShapeError(`ValueHead: expected hidden states (B, T, ${this.hiddenSize}), got ${fmtShape(hidden.shape)}`);
    return tidy(() => this.head.forward(hidden).squeeze(-1));
  }

  /** hidden (B, T, H), mask (B, T) → one value per sequence (B), at the last position with mask set. */
  sequenceValue(hidden: Tensor, attentionMask?: Tensor | null): Tensor {
    return tidy(() => {
      const perToken = this.forward(hidden);                                  // (B, T)
      const [B, T] = perToken.shape as [number, number];
      if (!attentionMask) return perToken.select(1, T - 1);
      if (attentionMask.ndim !== 2 || attentionMask.shape[0] !== B || attentionMask.shape[1] !== T) {
        throw new ShapeError(`ValueHead: attentionMask must be (B, T) = ${fmtShape([B, T])}, got ${fmtShape(attentionMask.shape)}`);
      }
      return perToken.gather(1, lastTokenIndex(attentionMask).unsqueeze(1)).squeeze(1);   // (B)
    });
  }
}

/** The last index of each row where the mask is set ((B, T) → (B) int32); 0 for an all-zero row. */
export function lastTokenIndex(attentionMask: Tensor): Tensor {
  return tidy(() => attentionMask.ne(0).int().mul(arange(attentionMask.shape[1]!, undefined, 1, { device: attentionMask.device })).argmax(1));
}
