// Masked statistics over per-token tensors: the reductions every RL loss in this package uses.
// A mask is 1 (or true) on tokens that count (completion tokens) and 0 on the rest (prompt, padding);
// it has the shape of the values it masks. Definitions follow HuggingFace TRL's `masked_mean`,
// `masked_var` (unbiased: Bessel-corrected by n/(n−1)) and `masked_whiten` (rsqrt(var + 1e-8)).
import { ShapeError, checkBool, checkDim, checkOptions, checkTensor, fmtShape, shapesEqual, tidy, type Tensor } from '@webgrad/core';

/** Values and a mask of their shape, and `dim` (when given) a dim of theirs. */
function checkMask(op: string, x: Tensor, mask: Tensor, dim?: number): void {
  checkTensor(op, 'x', x);
  checkTensor(op, 'mask', mask);
  if (dim !== undefined) checkDim(op, 'dim', dim, x.ndim);
  if (!shapesEqual(x.shape, mask.shape)) throw new ShapeError(`${op}: mask ${fmtShape(mask.shape)} must have the shape of the values ${fmtShape(x.shape)}`);
}

/** Σ x·mask (over `dim`, or over everything when dim is undefined). */
export function maskedSum(x: Tensor, mask: Tensor, dim?: number): Tensor {
  checkMask('maskedSum', x, mask, dim);
  return tidy(() => x.mul(mask.to(x.dtype)).sum(dim));
}

/** Σ x·mask / Σ mask (over `dim`, or over everything). A row with an empty mask gives 0
 *  (its denominator is clamped to 1). */
export function maskedMean(x: Tensor, mask: Tensor, dim?: number): Tensor {
  checkMask('maskedMean', x, mask, dim);
  return tidy(() => {
    const m = mask.to(x.dtype);
    return x.mul(m).sum(dim).div(m.sum(dim).clamp(1, null));
  });
}

/** Variance of the unmasked entries (over everything); `unbiased` (default) multiplies by n/(n−1). */
export function maskedVar(x: Tensor, mask: Tensor, opts: { unbiased?: boolean } = {}): Tensor {
  checkMask('maskedVar', x, mask);
  checkOptions('maskedVar', opts, ['unbiased']);
  if (opts.unbiased !== undefined) checkBool('maskedVar', 'unbiased', opts.unbiased);
  return tidy(() => {
    const m = mask.to(x.dtype);
    const mean = maskedMean(x, m);
    const v = maskedMean(x.sub(mean).square(), m);
    if (opts.unbiased === false) return v;
    const n = m.sum();
    return v.mul(n.div(n.sub(1).clamp(1, null)));
  });
}

/** (x − mean)·rsqrt(var + 1e-8) over the unmasked entries (unbiased variance); with
 *  `shiftMean: false` the mean is added back (only the scale changes), as TRL does for rewards.
 *  Masked entries are returned as 0. */
export function maskedWhiten(x: Tensor, mask: Tensor, opts: { shiftMean?: boolean } = {}): Tensor {
  checkMask('maskedWhiten', x, mask);
  checkOptions('maskedWhiten', opts, ['shiftMean']);
  if (opts.shiftMean !== undefined) checkBool('maskedWhiten', 'shiftMean', opts.shiftMean);
  return tidy(() => {
    const m = mask.to(x.dtype);
    const mean = maskedMean(x, m);
    const variance = maskedVar(x, m);
    let w = x.sub(mean).mul(variance.add(1e-8).rsqrt());
    if (opts.shiftMean === false) w = w.add(mean);
    return w.mul(m);
  });
}

/** log σ(x), computed stably as −softplus(−x). */
export function logSigmoid(x: Tensor): Tensor {
  checkTensor('logSigmoid', 'x', x);
  return tidy(() => x.neg().softplus().neg());
}

/** Entropy of the categorical distribution of each row of logits (…, V) → (…):
 *  H = logsumexp(z) − Σ softmax(z)·z. */
export function entropyFromLogits(logits: Tensor): Tensor {
  checkTensor('entropyFromLogits', 'logits', logits);
  return tidy(() => logits.logsumexp(-1).sub(logits.softmax(-1).mul(logits).sum(-1)));
}
