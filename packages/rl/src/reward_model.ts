// Reward modelling from pairwise preferences: the Bradley–Terry loss, its accuracy, and
// `RewardModel`, a GPT trunk with a scalar head read at each sequence's last non-pad token.
//
// Loss (Ouyang et al. 2022, "Training language models to follow instructions with human
// feedback", eq. 1; the Bradley–Terry model of Bradley & Terry 1952), as TRL's RewardTrainer:
//   loss = mean_i −log σ(r_chosen,i − r_rejected,i − margin_i)
// with an optional margin per pair (Llama 2, Touvron et al. 2023) and TRL's optional
// `centerRewardsCoefficient`·mean((r_chosen + r_rejected)²) that keeps rewards centred at 0
// (Eisenstein et al. 2023).
import {
  ShapeError, checkFinite, checkInt, checkOptions, checkRange, checkTensor, fmtShape, shapesEqual, tidy, type Tensor,
} from '@webgrad/core';
import type { GPT } from '@webgrad/nn';
import { ScalarHeadModel, gptHiddenStates } from './backbone.js';
import { logSigmoid } from './masked.js';

/** Options of `pairwiseRewardLoss` (TRL RewardTrainer's per-pair `margin` and `center_rewards_coefficient`). */
export interface PairwiseRewardLossOptions {
  /** Subtracted from r_chosen − r_rejected: a number, or a tensor (B) of per-pair margins. */
  margin?: number | Tensor | null;
  /** Weight of the mean((r_chosen + r_rejected)²) centring term (default 0: off). */
  centerRewardsCoefficient?: number;
}

/** The Bradley–Terry loss and its metrics. */
export interface PairwiseRewardLossOutput {
  /** 0-d mean loss (differentiable). */
  loss: Tensor;
  /** 0-d fraction of pairs with r_chosen > r_rejected (ties count as wrong). */
  accuracy: Tensor;
  /** 0-d mean of r_chosen − r_rejected. */
  margin: Tensor;
}

/** Pairwise reward-model loss over scores (B) of the chosen and the rejected completions. */
export function pairwiseRewardLoss(chosen: Tensor, rejected: Tensor, opts: PairwiseRewardLossOptions = {}): PairwiseRewardLossOutput {
  checkLossOptions('pairwiseRewardLoss', opts);
  checkTensor('pairwiseRewardLoss', 'chosen', chosen);
  checkTensor('pairwiseRewardLoss', 'rejected', rejected);
  if (chosen.ndim !== 1 || !shapesEqual(chosen.shape, rejected.shape)) {
    throw new ShapeError(`pairwiseRewardLoss: expected chosen and rejected rewards of the same shape (B), got ${fmtShape(chosen.shape)} and ${fmtShape(rejected.shape)}`);
  }
  const center = opts.centerRewardsCoefficient ?? 0;
  return tidy(() => {
    const diff = chosen.sub(rejected); // (B)
    const shifted = opts.margin == null ? diff : diff.sub(opts.margin);
    let loss = logSigmoid(shifted).neg().mean();
    if (center > 0) loss = loss.add(chosen.add(rejected).square().mean().mul(center));
    const d = diff.detach();
    return { loss, accuracy: d.gt(0).to(chosen.dtype).mean(), margin: d.mean() };
  });
}

/** The options of the pairwise loss; `extraKeys` are the caller's own. */
function checkLossOptions(op: string, opts: PairwiseRewardLossOptions, extraKeys: readonly string[] = []): void {
  checkOptions(op, opts, ['margin', 'centerRewardsCoefficient', ...extraKeys]);
  if (typeof opts.margin === 'number') checkFinite(op, 'margin', opts.margin);
  else if (opts.margin != null) checkTensor(op, 'margin', opts.margin);
  if (opts.centerRewardsCoefficient !== undefined) checkRange(op, 'centerRewardsCoefficient', opts.centerRewardsCoefficient, 0, Infinity);
}

/** Options of RewardModel. */
export interface RewardModelOptions {
  /** Token id used for right padding: positions holding it are not real tokens. */
  padTokenId?: number | null;
}

/**
 * backbone + scalar head (nn's ValueHead) → one reward per sequence, read at the last non-pad
 * token (the token that has seen the whole sequence), as TRL reads
 * `AutoModelForSequenceClassification` scores. Sequences should be right-padded: the GPT has no
 * attention mask, and causal attention leaves real tokens unaffected only by trailing padding.
 */
export class RewardModel extends ScalarHeadModel {
  /** The right-padding token id (null: no padding in the inputs). */
  readonly padTokenId: number | null;

  constructor(backbone: GPT, opts: RewardModelOptions = {}) {
    super(backbone);
    checkOptions('RewardModel', opts, ['padTokenId']);
    this.padTokenId = opts.padTokenId == null ? null : checkInt('RewardModel', 'padTokenId', opts.padTokenId, { min: 0 });
  }

  /** idx (B, T) int32 (right-padded) → rewards (B). `mask` (B, T) marks real tokens; without it
   *  real tokens are those ≠ padTokenId, or every token when no pad id is set. */
  override forward(idx: Tensor, mask: Tensor | null = null): Tensor {
    return tidy(() => {
      const m = mask ?? (this.padTokenId !== null ? idx.ne(this.padTokenId) : null);
      return this.score.sequenceValue(gptHiddenStates(this.backbone, idx), m); // (B, T, C) → (B)
    });
  }

  /** Pairwise loss of a batch of preference pairs (each side right-padded to its own length). */
  pairwiseLoss(chosen: Tensor, rejected: Tensor, opts: PairwiseRewardLossOptions & { chosenMask?: Tensor | null; rejectedMask?: Tensor | null } = {}): PairwiseRewardLossOutput & {
    /** (B) scores of the chosen sequences. */
    chosenRewards: Tensor;
    /** (B) scores of the rejected sequences. */
    rejectedRewards: Tensor;
  } {
    checkLossOptions('RewardModel.pairwiseLoss', opts, ['chosenMask', 'rejectedMask']);
    for (const k of ['chosenMask', 'rejectedMask'] as const) if (opts[k] != null) checkTensor('RewardModel.pairwiseLoss', k, opts[k]);
    const { chosenMask, rejectedMask, ...lossOpts } = opts;
    return tidy(() => {
      const rc = this.forward(chosen, chosenMask ?? null);
      const rr = this.forward(rejected, rejectedMask ?? null);
      const out = pairwiseRewardLoss(rc, rr, lossOpts);
      return { ...out, chosenRewards: rc.detach(), rejectedRewards: rr.detach() };
    });
  }
}
