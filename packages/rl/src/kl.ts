// Per-token KL estimators between the policy and a frozen reference, and the KL-coefficient
// controllers of RLHF.
//
// With log r = log π_ref(y_t) − log π(y_t) at sampled tokens y_t ~ π (Schulman 2020, "Approximating
// KL divergence"), each estimates KL(π ‖ π_ref):
//   k1 = −log r (unbiased, can be negative)   k2 = ½ (log r)²   k3 = (r − 1) − log r (unbiased, ≥ 0)
//   abs = |log r|
// PPO for RLHF penalizes k1 per token by default (TRL's PPOTrainer, kl_estimator 'k1'); GRPO
// adds k3 to its loss (Shao et al. 2024).
// The adaptive controller is Ziegler et al. 2019 ("Fine-Tuning Language Models from Human
// Preferences", §2.2): e = clip(KL/target − 1, −0.2, 0.2), β ← β·(1 + e·n/horizon).
import { ShapeError, checkEnum, checkFinite, checkRange, checkSize, checkTensor, fmtShape, shapesEqual, tidy, type Tensor } from '@webgrad/core';

/** A per-token estimator of KL(π ‖ π_ref) from log r = log π_ref − log π at sampled tokens (Schulman 2020; TRL's `kl_estimator`): 'k1' = −log r, 'k2' = ½(log r)², 'k3' = (r − 1) − log r, 'abs' = |log r|. */
export type KLEstimator = 'k1' | 'k2' | 'k3' | 'abs';

/** Per-token KL estimate from log-probs of the sampled tokens under the policy and the reference
 *  (same shape, e.g. (B, N)). Not masked: multiply by the completion mask where it matters. */
export function klPenalty(logProbs: Tensor, refLogProbs: Tensor, estimator: KLEstimator = 'k1'): Tensor {
  checkTensor('klPenalty', 'logProbs', logProbs);
  checkTensor('klPenalty', 'refLogProbs', refLogProbs);
  checkEnum('klPenalty', 'estimator', estimator, ['k1', 'k2', 'k3', 'abs']);
  if (!shapesEqual(logProbs.shape, refLogProbs.shape)) {
    throw new ShapeError(`klPenalty: log-probs ${fmtShape(logProbs.shape)} and reference log-probs ${fmtShape(refLogProbs.shape)} must have the same shape`);
  }
  return tidy(() => {
    const logR = refLogProbs.sub(logProbs);
    switch (estimator) {
      case 'k1': return logR.neg();
      case 'k2': return logR.square().mul(0.5);
      case 'k3': return logR.exp().sub(1).sub(logR);
      default: return logR.abs(); // 'abs'
    }
  });
}

/** A KL coefficient β that may adapt to the measured KL. */
export interface KLController {
  /** The current coefficient β. */
  readonly value: number;
  /** Report the mean per-sequence KL of a batch of `nSteps` rollouts. */
  update(currentKL: number, nSteps: number): void;
}

/** A constant coefficient. */
export class FixedKLController implements KLController {
  /** @param value The coefficient β (≥ 0). */
  constructor(public value: number) {
    checkRange('FixedKLController', 'value', value, 0, Infinity);
  }
  update(): void {}
}

/** Ziegler et al. 2019's proportional controller driving the KL towards `target`. */
export class AdaptiveKLController implements KLController {
  /** The current coefficient β. */
  value: number;
  /**
   * @param initKLCoef The starting β.
   * @param target The KL (nats per sequence) β is driven towards.
   * @param horizon Rollouts over which β adapts: β ← β·(1 + e·n/horizon).
   */
  constructor(initKLCoef: number, readonly target: number, readonly horizon: number) {
    checkRange('AdaptiveKLController', 'initKLCoef', initKLCoef, 0, Infinity);
    checkRange('AdaptiveKLController', 'target', target, 0, Infinity, { lo: true });
    checkRange('AdaptiveKLController', 'horizon', horizon, 0, Infinity, { lo: true });
    this.value = initKLCoef;
  }
  update(currentKL: number, nSteps: number): void {
    checkFinite('AdaptiveKLController.update', 'currentKL', currentKL);
    checkSize('AdaptiveKLController.update', 'nSteps', nSteps);
    const err = Math.min(0.2, Math.max(-0.2, currentKL / this.target - 1));
    this.value *= 1 + (err * nSteps) / this.horizon;
  }
}
