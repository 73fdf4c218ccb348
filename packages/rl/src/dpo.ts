// Direct Preference Optimization and its variants, from sequence log-probabilities of the chosen
// and rejected completions under the policy and a frozen reference (see `sequenceLogProbs` in
// @webgrad/nn, or `tokenLogProbs` here summed over the completion mask).
//
// With h = (log π(y_w) − log π(y_l)) − (log π_ref(y_w) − log π_ref(y_l)):
// - 'sigmoid' — DPO (Rafailov et al. 2023, "Direct Preference Optimization: Your Language Model is
//   Secretly a Reward Model", eq. 7): −log σ(β·h). With label smoothing ε it is conservative DPO
//   (cDPO, Mitchell 2023, "A note on DPO with noisy preferences"): −(1−ε)·log σ(β·h) − ε·log σ(−β·h).
// - 'robust' — robust DPO (Chowdhury et al. 2024, "Provably Robust DPO"), an unbiased loss under
//   preference-flip rate ε: (−(1−ε)·log σ(β·h) + ε·log σ(−β·h)) / (1 − 2ε).
// - 'hinge' — the hinge loss of SLiC (Zhao et al. 2023, "SLiC-HF: Sequence Likelihood Calibration
//   with Human Feedback"), as TRL: max(0, 1 − β·h).
// - 'ipo' — IPO (Azar et al. 2023, "A General Theoretical Paradigm to Understand Learning from
//   Human Preferences", eq. 17): (h − 1/(2β))². As in TRL, IPO is meant for length-averaged
//   log-probs (sequenceLogProbs with reduction 'mean').
// Metrics are TRL DPOTrainer's: rewards/chosen = β·(log π(y_w) − log π_ref(y_w)) (detached),
// rewards/rejected likewise, rewards/accuracies = mean(chosen > rejected), rewards/margins =
// mean(chosen − rejected).
import {
  ShapeError, ValueError, checkBool, checkEnum, checkOptions, checkRange, checkTensor, fmtShape, shapesEqual, tidy, zerosLike, type Tensor,
} from '@webgrad/core';
import { logSigmoid } from './masked.js';

/** The `dpoLoss` variant (TRL's `loss_type`): 'sigmoid' (DPO; cDPO with label smoothing), 'robust' (robust DPO), 'hinge' (SLiC), 'ipo' (IPO). */
export type DPOLossType = 'sigmoid' | 'robust' | 'hinge' | 'ipo';

/** The loss types of `dpoLoss`. */
export const DPO_LOSS_TYPES: readonly DPOLossType[] = ['sigmoid', 'robust', 'hinge', 'ipo'];

/** Options of `dpoLoss` (TRL DPOConfig's `beta`, `label_smoothing`, `loss_type`, `reference_free`). */
export interface DPOOptions {
  /** Temperature β of the implicit reward (default 0.1, TRL's default). */
  beta?: number;
  /** Probability ε that a preference label is flipped (cDPO / robust DPO); default 0. */
  labelSmoothing?: number;
  /** default 'sigmoid'. */
  lossType?: DPOLossType;
  /** Treat the reference as uniform (log π_ref = 0), so the reference log-probs are ignored. */
  referenceFree?: boolean;
}

/** The loss and TRL DPOTrainer's metrics (rewards/chosen, rewards/rejected, rewards/accuracies, rewards/margins). */
export interface DPOOutput {
  /** 0-d mean loss (differentiable). */
  loss: Tensor;
  /** Per-pair losses (B). */
  losses: Tensor;
  /** β·(log π(y_w) − log π_ref(y_w)), detached (B). */
  chosenRewards: Tensor;
  /** β·(log π(y_l) − log π_ref(y_l)), detached (B). */
  rejectedRewards: Tensor;
  /** 0-d mean of (chosenRewards > rejectedRewards). */
  rewardAccuracy: Tensor;
  /** 0-d mean of chosenRewards − rejectedRewards. */
  rewardMargin: Tensor;
}

/** DPO-family loss over per-pair sequence log-probs (B) of the policy and the reference. */
export function dpoLoss(policyChosen: Tensor, policyRejected: Tensor, refChosen: Tensor | null, refRejected: Tensor | null, opts: DPOOptions = {}): DPOOutput {
  checkOptions('dpoLoss', opts, ['beta', 'labelSmoothing', 'lossType', 'referenceFree']);
  const beta = checkRange('dpoLoss', 'beta', opts.beta === undefined ? 0.1 : opts.beta, 0, Infinity, { lo: true });
  const eps = checkRange('dpoLoss', 'labelSmoothing', opts.labelSmoothing === undefined ? 0 : opts.labelSmoothing, 0, 0.5, { hi: true });
  const lossType = checkEnum('dpoLoss', 'lossType', opts.lossType === undefined ? 'sigmoid' : opts.lossType, DPO_LOSS_TYPES);
  if (opts.referenceFree !== undefined) checkBool('dpoLoss', 'referenceFree', opts.referenceFree);
  if ((lossType === 'ipo' || lossType === 'hinge') && eps > 0) throw new ValueError(`dpoLoss: labelSmoothing does not apply to the ${lossType === 'ipo' ? 'IPO' : 'hinge'} loss (only to 'sigmoid' and 'robust')`);
  const named = { policyChosen, policyRejected, ...(opts.referenceFree ? {} : { refChosen, refRejected }) };
  const all = Object.values(named);
  for (const [name, t] of Object.entries(named)) {
    if (!t) throw new ValueError(`dpoLoss: reference log-probs are required unless referenceFree is set (${name} is ${t})`);
    checkTensor('dpoLoss', name, t);
    if (t.ndim !== 1 || !shapesEqual(t.shape, policyChosen.shape)) {
      throw new ShapeError(`dpoLoss: every log-prob tensor must be (B) of one shape, got ${all.map((x) => (x ? fmtShape(x.shape) : 'null')).join(', ')}`);
    }
  }
  return tidy(() => {
    const rc = opts.referenceFree ? zerosLike(policyChosen) : refChosen!.detach();
    const rr = opts.referenceFree ? zerosLike(policyRejected) : refRejected!.detach();
    const chosenLogRatio = policyChosen.sub(rc); // (B)
    const rejectedLogRatio = policyRejected.sub(rr); // (B)
    const h = chosenLogRatio.sub(rejectedLogRatio); // (B)
    let losses: Tensor;
    switch (lossType) {
      case 'sigmoid':
        losses = logSigmoid(h.mul(beta)).mul(-(1 - eps)).sub(logSigmoid(h.mul(-beta)).mul(eps));
        break;
      case 'robust':
        losses = logSigmoid(h.mul(beta)).mul(-(1 - eps)).add(logSigmoid(h.mul(-beta)).mul(eps)).div(1 - 2 * eps);
        break;
      case 'hinge':
        losses = h.mul(-beta).add(1).relu();
        break;
      default: // 'ipo'
        losses = h.sub(1 / (2 * beta)).square();
    }
    const chosenRewards = chosenLogRatio.detach().mul(beta);
    const rejectedRewards = rejectedLogRatio.detach().mul(beta);
    return {
      loss: losses.mean(),
      losses,
      chosenRewards,
      rejectedRewards,
      rewardAccuracy: chosenRewards.gt(rejectedRewards).to(chosenRewards.dtype).mean(),
      rewardMargin: chosenRewards.sub(rejectedRewards).mean(),
    };
  });
}
