// The one unit every RL trainer reports its KL statistic in: nats per sequence — the per-token
// estimator (k1, k2, k3 or abs; see kl.ts, Schulman 2020) summed over a completion's tokens, then
// averaged over the completions of the batch, measured between the policy that sampled the batch
// and the frozen reference. It is TRL PPOTrainer's `objective/kl` (mean of `kl.sum(1)`); TRL's
// GRPOTrainer logs a per-token mean instead, which this unit multiplies by the completion length.
// Each logged record also names the estimator (`kl_estimator`).
import { ShapeError, checkEnum, checkTensor, fmtShape, shapesEqual, tidy, type Tensor } from '@webgrad/core';
import { klPenalty, type KLEstimator } from '../kl.js';

/** Describes the unit of the trainers' KL statistics, for logs and plots. */
export const KL_UNIT = 'nats per sequence (per-token estimator summed over completion tokens, mean over sequences)';

/** Every KLEstimator name, for validation. */
export const KL_ESTIMATORS: readonly KLEstimator[] = ['k1', 'k2', 'k3', 'abs'];

/** Per-sequence KL (B) in nats: Σ_t mask·klPenalty(logProbs, refLogProbs, estimator) over (B, N) inputs. */
export function sequenceKL(logProbs: Tensor, refLogProbs: Tensor, mask: Tensor, estimator: KLEstimator = 'k1'): Tensor {
  const op = 'sequenceKL';
  checkTensor(op, 'logProbs', logProbs);
  checkTensor(op, 'refLogProbs', refLogProbs);
  checkTensor(op, 'mask', mask);
  checkEnum(op, 'estimator', estimator, KL_ESTIMATORS);
  if (logProbs.ndim !== 2 || !shapesEqual(logProbs.shape, refLogProbs.shape) || !shapesEqual(logProbs.shape, mask.shape)) {
    throw new ShapeError(`${op}: logProbs ${fmtShape(logProbs.shape)}, refLogProbs ${fmtShape(refLogProbs.shape)} and mask ${fmtShape(mask.shape)} must be one (B, N) shape`);
  }
  return tidy(() => klPenalty(logProbs.detach(), refLogProbs.detach(), estimator).mul(mask.to(logProbs.dtype)).sum(1)); // (B)
}
