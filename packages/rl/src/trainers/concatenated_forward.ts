// One forward pass over a preference batch's chosen and rejected sequences together (TRL's
// `concatenated_forward`): the policy's summed log-probs of each completion, the NLL of the chosen
// completions (the `rpoAlpha` term), the mean completion logits TRL logs — and, for a reward
// model, the score of each sequence. One (2B, T) forward instead of two (B, T) ones: the same
// numbers, half the launches.
import { DTypeError, ShapeError, ValueError, checkBool, checkOptions, checkTensor, fmtShape, fmtValue, tidy, type Tensor } from '@webgrad/core';
import { Module, sequenceLogProbs } from '@webgrad/nn';
import { checkGPT } from '../args.js';
import { maskedMean } from '../masked.js';
import type { PreferenceBatch } from './preference_data.js';
import type { GPT } from '@webgrad/nn';

/** Options of `concatenatedLogProbs`. */
export interface ConcatenatedLogProbsOptions {
  /** Divide each sequence's log-prob by its completion length (TRL does for IPO); default false: the sum. */
  averageLogProb?: boolean;
}

/** What one forward pass over a batch's chosen and rejected rows gives (TRL's concatenated forward). */
export interface ConcatenatedLogProbs {
  /** (B) log π(chosen completion | prompt), summed (or averaged) over its tokens; differentiable. */
  chosenLogps: Tensor;
  /** (B) the same for the rejected completions. */
  rejectedLogps: Tensor;
  /** 0-d −mean log-prob per chosen completion token: the cross-entropy of the chosen completions
   *  (TRL's `nll_loss`); differentiable. */
  chosenNll: Tensor;
  /** 0-d mean logit over the vocabulary at the chosen completions' positions (detached). */
  meanChosenLogits: Tensor;
  /** 0-d the same for the rejected completions (detached). */
  meanRejectedLogits: Tensor;
}

/** The (2B, T) ids and (2B, T − 1) completion mask of a batch, checked. */
function checkBatch(op: string, batch: Pick<PreferenceBatch, 'inputIds' | 'completionMask'>): { B: number; T: number } {
  if (typeof batch !== 'object' || batch === null) throw new ValueError(`${op}: batch must be a PreferenceBatch (collatePreferences), got ${fmtValue(batch)}`);
  const ids = checkTensor(op, 'batch.inputIds', batch.inputIds);
  const mask = checkTensor(op, 'batch.completionMask', batch.completionMask);
  if (ids.dtype !== 'int32') throw new DTypeError(`${op}: batch.inputIds must be int32 token ids, got ${ids.dtype}`);
  if (ids.ndim !== 2 || ids.shape[0]! % 2 !== 0 || ids.shape[0]! === 0 || ids.shape[1]! < 2) {
    throw new ShapeError(`${op}: batch.inputIds must be (2B, T) with B ≥ 1 and T ≥ 2 (chosen rows then rejected rows), got ${fmtShape(ids.shape)}`);
  }
  const [N, T] = ids.shape as [number, number];
  if (mask.ndim !== 2 || mask.shape[0] !== N || mask.shape[1] !== T - 1) {
    throw new ShapeError(`${op}: batch.completionMask must be (2B, T − 1) = [${N}, ${T - 1}], got ${fmtShape(mask.shape)}`);
  }
  return { B: N / 2, T };
}

/**
 * The policy's log-probs of a preference batch's completions from one forward pass over its
 * (2B, T) rows. Differentiable; call it under `noGrad` for a reference model.
 */
export function concatenatedLogProbs(model: GPT, batch: Pick<PreferenceBatch, 'inputIds' | 'completionMask'>, opts: ConcatenatedLogProbsOptions = {}): ConcatenatedLogProbs {
  const op = 'concatenatedLogProbs';
  checkGPT(op, 'model', model);
  const { B, T } = checkBatch(op, batch);
  checkOptions(op, opts, ['averageLogProb']);
  const average = opts.averageLogProb === undefined ? false : checkBool(op, 'averageLogProb', opts.averageLogProb);
  return tidy(() => {
    const mask = batch.completionMask;
    const logits = model.forward(batch.inputIds).logits.narrow(1, 0, T - 1); // (2B, T−1, V)
    const labels = batch.inputIds.narrow(1, 1, T - 1); // (2B, T−1): the token each position predicts
    const tokenLogps = sequenceLogProbs(logits, labels, mask, { reduction: 'none' }); // (2B, T−1), 0 off the mask
    let seq = tokenLogps.sum(1); // (2B)
    if (average) seq = seq.div(mask.sum(1).clamp(1, null));
    const chosenMask = mask.narrow(0, 0, B); // (B, T−1)
    const rejectedMask = mask.narrow(0, B, B); // (B, T−1)
    const chosenNll = tokenLogps.narrow(0, 0, B).sum().neg().div(chosenMask.sum().clamp(1, null));
    const meanLogits = logits.detach().mean(-1); // (2B, T−1)
    return {
      chosenLogps: seq.narrow(0, 0, B),
      rejectedLogps: seq.narrow(0, B, B),
      chosenNll,
      meanChosenLogits: maskedMean(meanLogits.narrow(0, 0, B), chosenMask),
      meanRejectedLogits: maskedMean(meanLogits.narrow(0, B, B), rejectedMask),
    };
  });
}

/** A model that scores sequences: idx (N, T) int32 and a (N, T) real-token mask → (N); `RewardModel` is one. */
export interface SequenceScorer extends Module {
  forward(idx: Tensor, mask: Tensor | null): Tensor;
}

/** Check that `v` is a Module with forward(idx, mask) (e.g. a RewardModel). */
export function checkScorer(op: string, name: string, v: unknown): SequenceScorer {
  if (!(v instanceof Module) || typeof (v as Partial<SequenceScorer>).forward !== 'function') {
    throw new ValueError(`${op}: ${name} must be a Module with forward(idx, mask) → rewards (e.g. a RewardModel), got ${fmtValue(v)}`);
  }
  return v as SequenceScorer;
}

/** A reward model's scores of a preference batch's chosen and rejected sequences (B each), from one
 *  forward over its (2B, T) rows, read at each row's last real token. Differentiable. */
export function concatenatedRewards(model: SequenceScorer, batch: Pick<PreferenceBatch, 'inputIds' | 'completionMask' | 'attentionMask'>): {
  /** (B) scores of the chosen rows. */
  chosen: Tensor;
  /** (B) scores of the rejected rows. */
  rejected: Tensor;
} {
  const op = 'concatenatedRewards';
  checkScorer(op, 'model', model);
  const { B, T } = checkBatch(op, batch);
  const att = checkTensor(op, 'batch.attentionMask', batch.attentionMask);
  if (att.ndim !== 2 || att.shape[0] !== 2 * B || att.shape[1] !== T) {
    throw new ShapeError(`${op}: batch.attentionMask must be (2B, T) = [${2 * B}, ${T}], got ${fmtShape(att.shape)}`);
  }
  return tidy(() => {
    const rewards = model.forward(batch.inputIds, att); // (2B)
    if (rewards.ndim !== 1 || rewards.shape[0] !== 2 * B) throw new ShapeError(`${op}: the model must return one score per row (${2 * B}), got ${fmtShape(rewards.shape)}`);
    return { chosen: rewards.narrow(0, 0, B), rejected: rewards.narrow(0, B, B) };
  });
}
