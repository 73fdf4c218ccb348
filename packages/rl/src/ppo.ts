// PPO for RLHF: the clipped-surrogate policy loss (Schulman et al. 2017, "Proximal Policy
// Optimization Algorithms", eq. 7), the clipped value loss, and the RLHF reward shaping of
// Ouyang et al. 2022 ("Training language models to follow instructions with human feedback", eq. 2)
// / Ziegler et al. 2019: a per-token KL penalty against a frozen reference plus the reward-model
// score on the last completion token. Definitions follow TRL's PPOTrainer:
//   kl_t = log π_old(y_t) − log π_ref(y_t)            (k1; see klPenalty for k2/k3)
//   r_t = −β·kl_t + [t is the last completion token]·score
//   A, returns = GAE(r, V_old; γ, λ);  A ← whiten(A) over completion tokens
//   ratio = exp(log π − log π_old)
//   L_pg = mean_mask max(−A·ratio, −A·clip(ratio, 1 − ε, 1 + ε))
//   L_vf = ½·mean_mask max((V − R)², (clip(V, V_old − ε_v, V_old + ε_v) − R)²)
//   loss = L_pg + c_vf·L_vf − c_ent·H
// Stats: approxKL = ½·mean_mask (log π − log π_old)², clipFrac = mean_mask [clipped term larger].
import {
  ShapeError, ValueError, arange, checkBool, checkEnum, checkFinite, checkInt, checkOptions, checkRange, checkSize, checkTensor, fmtShape,
  fmtValue, noGrad, shapesEqual, tensor, tidy, type Tensor,
} from '@webgrad/core';
import type { GPT } from '@webgrad/nn';
import type { Optimizer } from '@webgrad/optim';
import { computeGAE } from './gae.js';
import { FixedKLController, klPenalty, type KLController, type KLEstimator } from './kl.js';
import { maskedMean, maskedWhiten } from './masked.js';
import { permutation, seededRandom } from './random.js';
import { tokenLogProbs, tokenLogProbsAndEntropy, type Rollout } from './rollout.js';
import { meanStats, optimizerStep } from './stats.js';
import { checkGPT, checkInput, checkOptimizer } from './args.js';

const KL_ESTIMATORS: readonly KLEstimator[] = ['k1', 'k2', 'k3', 'abs'];

/** Tensors of one shape. */
function sameShapes(op: string, named: Record<string, Tensor>): void {
  const entries = Object.entries(named);
  for (const [n, t] of entries) checkTensor(op, n, t);
  const shape = entries[0]![1].shape;
  if (entries.some(([, t]) => !shapesEqual(t.shape, shape))) {
    throw new ShapeError(`${op}: ${entries.map(([n, t]) => `${n} ${fmtShape(t.shape)}`).join(', ')} must all have one shape`);
  }
}

/** Index (B) of each row's last nonzero mask entry (0 for an empty row). */
function lastMaskIndex(mask: Tensor): Tensor {
  return tidy(() => {
    const N = mask.shape[1]!;
    const pos = arange(1, N + 1, 1, { dtype: 'float32', device: mask.device }); // (N)
    return mask.to('float32').mul(pos).argmax(1); // (B)
  });
}

/** Options of `ppoRewards` (TRL PPOConfig's `kl_coef`, `kl_estimator`). */
export interface PPORewardsOptions {
  /** KL coefficient β (default 0.05, TRL's default). */
  klCoef?: number;
  /** Per-token KL estimator (default 'k1'). */
  klEstimator?: KLEstimator;
}

/** Per-token RLHF rewards (B, N): −β·KL on every completion token and the score added at each row's
 *  last completion token. `kl` is the masked per-token KL, `nonScoreReward` = −β·kl. */
export function ppoRewards(scores: Tensor, logProbs: Tensor, refLogProbs: Tensor, mask: Tensor, opts: PPORewardsOptions = {}): {
  /** (B, N) per-token rewards. */
  rewards: Tensor;
  /** (B, N) masked per-token KL. */
  kl: Tensor;
  /** (B, N) −β·kl. */
  nonScoreReward: Tensor;
} {
  sameShapes('ppoRewards', { logProbs, refLogProbs, mask });
  checkTensor('ppoRewards', 'scores', scores);
  checkOptions('ppoRewards', opts, ['klCoef', 'klEstimator']);
  if (opts.klEstimator !== undefined) checkEnum('ppoRewards', 'klEstimator', opts.klEstimator, KL_ESTIMATORS);
  if (scores.ndim !== 1 || scores.shape[0] !== logProbs.shape[0]) throw new ShapeError(`ppoRewards: scores must be (B) = [${logProbs.shape[0]}], got ${fmtShape(scores.shape)}`);
  const beta = checkRange('ppoRewards', 'klCoef', opts.klCoef === undefined ? 0.05 : opts.klCoef, 0, Infinity);
  return noGrad(() => tidy(() => {
    const m = mask.to(logProbs.dtype);
    const kl = klPenalty(logProbs, refLogProbs, opts.klEstimator ?? 'k1').mul(m); // (B, N)
    const nonScoreReward = kl.mul(-beta); // (B, N)
    const N = logProbs.shape[1]!;
    const cols = arange(0, N, 1, { device: logProbs.device }).unsqueeze(0); // (1, N)
    const atLast = cols.eq(lastMaskIndex(mask).unsqueeze(1)).to(logProbs.dtype).mul(m); // (B, N)
    const rewards = nonScoreReward.add(atLast.mul(scores.to(logProbs.dtype).unsqueeze(1))); // (B, N)
    return { rewards, kl, nonScoreReward };
  }));
}

/** The clipped-surrogate policy loss (0-d, differentiable) and its statistics (0-d, detached), over completion tokens. */
export interface PPOPolicyLossOutput {
  /** 0-d loss (differentiable). */
  loss: Tensor;
  /** Fraction of tokens where the clipped objective was the one taken. */
  clipFrac: Tensor;
  /** ½·mean (log π − log π_old)². */
  approxKL: Tensor;
  /** Mean probability ratio. */
  ratio: Tensor;
}

/** Clipped surrogate policy loss over completion tokens (all inputs (B, N)). */
export function ppoPolicyLoss(logProbs: Tensor, oldLogProbs: Tensor, advantages: Tensor, mask: Tensor, clipRange = 0.2): PPOPolicyLossOutput {
  sameShapes('ppoPolicyLoss', { logProbs, oldLogProbs, advantages, mask });
  checkRange('ppoPolicyLoss', 'clipRange', clipRange, 0, Infinity);
  return tidy(() => {
    const A = advantages.detach();
    const diff = logProbs.sub(oldLogProbs.detach()); // (B, N)
    const ratio = diff.exp();
    const l1 = A.neg().mul(ratio);
    const l2 = A.neg().mul(ratio.clamp(1 - clipRange, 1 + clipRange));
    const loss = maskedMean(l1.maximum(l2), mask);
    return {
      loss,
      clipFrac: maskedMean(l2.detach().gt(l1.detach()).to(logProbs.dtype), mask),
      approxKL: maskedMean(diff.detach().square(), mask).mul(0.5),
      ratio: maskedMean(ratio.detach(), mask),
    };
  });
}

/** Clipped value loss ½·mean max((V − R)², (clip(V, V_old ± ε_v) − R)²) over completion tokens,
 *  and the fraction of tokens where the clipped term was larger. `clipRangeValue` null: unclipped. */
export function ppoValueLoss(values: Tensor, oldValues: Tensor, returns: Tensor, mask: Tensor, clipRangeValue: number | null = 0.2): {
  /** 0-d loss (differentiable). */
  loss: Tensor;
  /** 0-d fraction of tokens where the clipped term was larger (detached). */
  clipFrac: Tensor;
} {
  sameShapes('ppoValueLoss', { values, oldValues, returns, mask });
  if (clipRangeValue !== null) checkRange('ppoValueLoss', 'clipRangeValue', clipRangeValue, 0, Infinity);
  return tidy(() => {
    const R = returns.detach();
    const l1 = values.sub(R).square();
    if (clipRangeValue === null) return { loss: maskedMean(l1, mask).mul(0.5), clipFrac: maskedMean(l1.detach().mul(0), mask) };
    const old = oldValues.detach();
    const clipped = values.sub(old).clamp(-clipRangeValue, clipRangeValue).add(old);
    const l2 = clipped.sub(R).square();
    return { loss: maskedMean(l1.maximum(l2), mask).mul(0.5), clipFrac: maskedMean(l2.detach().gt(l1.detach()).to(values.dtype), mask) };
  });
}

/** A per-token value model: idx (B, T) int32 → values (B, T), e.g. `ScalarHeadModel`. */
export interface ValueModel {
  /** Values (B, T) of token ids (B, T) int32. */
  forward(idx: Tensor): Tensor;
}

/** Configuration of `ppoStep` / PPOTrainer (TRL PPOConfig's names, camelCase: `num_ppo_epochs` is `epochs`, `cliprange` `clipRange`, `vf_coef` `vfCoef`). */
export interface PPOConfig {
  /** Passes over the rollout batch (default 4). */
  epochs?: number;
  /** Rows per minibatch (default: the whole batch). */
  miniBatchSize?: number;
  /** Policy ratio clip ε (default 0.2). */
  clipRange?: number;
  /** null: no value clipping. Default 0.2. */
  clipRangeValue?: number | null;
  /** Value-loss coefficient (default 0.1). */
  vfCoef?: number;
  /** Entropy bonus coefficient (default 0). */
  entCoef?: number;
  /** GAE discount γ (default 1). */
  gamma?: number;
  /** GAE λ (default 0.95). */
  lam?: number;
  /** A fixed β (default 0.05) or a controller (e.g. AdaptiveKLController), updated after the step. */
  klCoef?: number | KLController;
  /** Per-token KL estimator of the penalty (default 'k1'). */
  klEstimator?: KLEstimator;
  /** Whiten the shaped rewards (scale only) before GAE (default false). */
  whitenRewards?: boolean;
  /** Whiten the advantages (default true). */
  whitenAdvantages?: boolean;
  /** Global gradient-norm clip (default 1; null: off). */
  maxGradNorm?: number | null;
  /** Sampling temperature the rollout used; logits are divided by it (default 1). */
  temperature?: number;
  /** Seed of the minibatch shuffling (default 0). */
  seed?: number;
}

/** Check a PPOConfig of `op`. */
function checkPPOConfig(op: string, c: PPOConfig): PPOConfig {
  checkOptions(op, c, [
    'epochs', 'miniBatchSize', 'clipRange', 'clipRangeValue', 'vfCoef', 'entCoef', 'gamma', 'lam', 'klCoef', 'klEstimator', 'whitenRewards',
    'whitenAdvantages', 'maxGradNorm', 'temperature', 'seed',
  ], 'config');
  for (const k of ['epochs', 'miniBatchSize'] as const) if (c[k] !== undefined) checkSize(op, k, c[k], 1);
  for (const k of ['clipRange', 'vfCoef', 'entCoef'] as const) if (c[k] !== undefined) checkRange(op, k, c[k], 0, Infinity);
  for (const k of ['clipRangeValue', 'maxGradNorm'] as const) if (c[k] != null) checkRange(op, k, c[k], 0, Infinity);
  for (const k of ['gamma', 'lam'] as const) if (c[k] !== undefined) checkRange(op, k, c[k], 0, 1);
  for (const k of ['whitenRewards', 'whitenAdvantages'] as const) if (c[k] !== undefined) checkBool(op, k, c[k]);
  if (typeof c.klCoef === 'object' && c.klCoef !== null) {
    if (typeof c.klCoef.update !== 'function' || typeof c.klCoef.value !== 'number') throw new ValueError(`${op}: klCoef must be a number or a KLController, got ${fmtValue(c.klCoef)}`);
  } else if (c.klCoef !== undefined) checkRange(op, 'klCoef', c.klCoef, 0, Infinity);
  if (c.klEstimator !== undefined) checkEnum(op, 'klEstimator', c.klEstimator, KL_ESTIMATORS);
  if (c.temperature !== undefined) checkRange(op, 'temperature', c.temperature, 0, Infinity, { lo: true });
  if (c.seed !== undefined) checkInt(op, 'seed', c.seed);
  return c;
}

/** The models, optimizer, rollout and scores of one `ppoStep`. */
export interface PPOStepInput {
  /** The policy trained. */
  policy: GPT;
  /** Frozen reference for the KL penalty; null: no penalty. */
  ref: GPT | null;
  /** The value model trained with it. */
  valueModel: ValueModel;
  /** Optimizes the policy's and the value model's parameters. */
  optimizer: Optimizer;
  /** The sampled sequences and their completion mask. */
  rollout: Rollout;
  /** One score per rollout row (e.g. a reward model's or a reward function's). */
  scores: readonly number[];
  /** Update settings (defaults as in PPOConfig). */
  config?: PPOConfig;
}

/** Host-side statistics of one `ppoStep`, under TRL PPOTrainer's metric names. */
export interface PPOStats {
  /** Mean score of the rows. */
  'objective/scores': number;
  /** Mean over rows of the summed per-token KL. */
  'objective/kl': number;
  /** Mean over rows of the summed −β·KL. */
  'objective/nonScoreReward': number;
  /** Mean over rows of score − β·KL. */
  'objective/rlhfReward': number;
  /** ½·mean (log π − log π_old)² over the updates. */
  'policy/approxKL': number;
  /** Fraction of tokens where the clipped objective was taken. */
  'policy/clipFrac': number;
  /** Mean per-token entropy of the policy. */
  'policy/entropy': number;
  /** Mean probability ratio π / π_old. */
  'policy/ratio': number;
  /** Mean policy loss. */
  'loss/policy': number;
  /** Mean value loss. */
  'loss/value': number;
  /** Mean total loss (policy + vfCoef·value − entCoef·entropy). */
  'loss/total': number;
  /** Fraction of tokens where the clipped value loss was taken. */
  'value/clipFrac': number;
  /** Global gradient norm before clipping (the last update's). */
  gradNorm: number;
  /** The KL coefficient β of this step. */
  klCoef: number;
}

/**
 * One PPO iteration over a batch of generated rollouts: score shaping with the KL penalty, GAE,
 * then `epochs` passes of shuffled minibatches, each one optimizer update of the policy and the
 * value model. Returns mean statistics (TRL's names, camelCased).
 */
export async function ppoStep(input: PPOStepInput): Promise<PPOStats> {
  const op = 'ppoStep';
  checkInput(op, input, ['policy', 'ref', 'valueModel', 'optimizer', 'rollout', 'scores', 'config']);
  const { policy, ref, valueModel, optimizer, rollout, scores } = input;
  checkGPT(op, 'policy', policy);
  if (ref != null) checkGPT(op, 'ref', ref);
  if (typeof valueModel?.forward !== 'function') throw new ValueError(`${op}: valueModel must have forward(idx) (e.g. a ScalarHeadModel), got ${fmtValue(valueModel)}`);
  checkOptimizer(op, optimizer);
  if (!rollout?.sequences?.__isTensor || !rollout.mask?.__isTensor) throw new ValueError(`${op}: rollout must be a Rollout (from generateRollouts or makeRollout), got ${fmtValue(rollout)}`);
  if (!Array.isArray(scores)) throw new ValueError(`${op}: scores must be an array of numbers, got ${fmtValue(scores)}`);
  scores.forEach((x, i) => checkFinite(op, `scores[${i}]`, x));
  const c = checkPPOConfig(op, input.config === undefined ? {} : input.config);
  const B = rollout.sequences.shape[0]!;
  if (scores.length !== B) throw new ValueError(`ppoStep: got ${scores.length} scores for ${B} rollout rows`);
  const epochs = c.epochs ?? 4;
  const mb = c.miniBatchSize ?? B;
  const controller: KLController = typeof c.klCoef === 'object' ? c.klCoef : new FixedKLController(c.klCoef ?? 0.05);
  const klCoef = controller.value;
  const temperature = c.temperature ?? 1;
  const { sequences, mask } = rollout;
  const Tm1 = mask.shape[1]!;

  const pre = noGrad(() => tidy(() => {
    const oldLogProbs = tokenLogProbs(policy, sequences, mask, { temperature });
    const refLogProbs = ref ? tokenLogProbs(ref, sequences, mask, { temperature }) : oldLogProbs;
    const oldValues = valueModel.forward(sequences).narrow(1, 0, Tm1).mul(mask); // (B, T−1)
    const scoreT = tensor(Float32Array.from(scores), { shape: [B], device: mask.device });
    const shaped = ppoRewards(scoreT, oldLogProbs, refLogProbs, mask, { klCoef, klEstimator: c.klEstimator });
    const rewards = c.whitenRewards ? maskedWhiten(shaped.rewards, mask, { shiftMean: false }) : shaped.rewards;
    const gae = computeGAE(rewards, oldValues, { gamma: c.gamma, lam: c.lam, mask });
    const advantages = c.whitenAdvantages === false ? gae.advantages : maskedWhiten(gae.advantages, mask);
    const klPerRow = shaped.kl.sum(1); // (B)
    return {
      oldLogProbs, oldValues, advantages, returns: gae.returns,
      stats: { kl: klPerRow.mean(), nonScore: shaped.nonScoreReward.sum(1).mean(), rlhf: shaped.nonScoreReward.sum(1).add(scoreT).mean() },
    };
  }));

  const rand = seededRandom(c.seed ?? 0);
  const collected: Record<string, Tensor>[] = [];
  try {
    for (let e = 0; e < epochs; e++) {
      const order = permutation(B, rand);
      for (let s = 0; s < B; s += mb) {
        const rows = order.slice(s, s + mb);
        collected.push(optimizerStep(optimizer, c.maxGradNorm === undefined ? 1 : c.maxGradNorm, () => {
          const idx = tensor(Int32Array.from(rows), { shape: [rows.length], dtype: 'int32', device: mask.device });
          const pick = (t: Tensor) => t.indexSelect(0, idx);
          const seq = pick(sequences);
          const m = pick(mask);
          const { logProbs, entropy } = tokenLogProbsAndEntropy(policy, seq, m, { temperature, entropy: true });
          const values = valueModel.forward(seq).narrow(1, 0, Tm1); // (b, T−1)
          const pg = ppoPolicyLoss(logProbs, pick(pre.oldLogProbs), pick(pre.advantages), m, c.clipRange ?? 0.2);
          const vf = ppoValueLoss(values, pick(pre.oldValues), pick(pre.returns), m, c.clipRangeValue === undefined ? 0.2 : c.clipRangeValue);
          const ent = maskedMean(entropy!, m);
          let loss = pg.loss.add(vf.loss.mul(c.vfCoef ?? 0.1));
          if (c.entCoef) loss = loss.sub(ent.mul(c.entCoef));
          return {
            loss,
            stats: {
              'policy/approxKL': pg.approxKL, 'policy/clipFrac': pg.clipFrac, 'policy/entropy': ent.detach(), 'policy/ratio': pg.ratio,
              'loss/policy': pg.loss.detach(), 'loss/value': vf.loss.detach(), 'value/clipFrac': vf.clipFrac,
            },
          };
        }));
      }
    }
  } finally {
    for (const t of [pre.oldLogProbs, pre.oldValues, pre.advantages, pre.returns]) t.dispose();
  }
  const m = await meanStats(collected);
  const head = await meanStats([{ kl: pre.stats.kl, nonScore: pre.stats.nonScore, rlhf: pre.stats.rlhf }]);
  controller.update(head.kl!, B);
  return {
    'objective/scores': scores.reduce((a, b) => a + b, 0) / B,
    'objective/kl': head.kl!,
    'objective/nonScoreReward': head.nonScore!,
    'objective/rlhfReward': head.rlhf!,
    'policy/approxKL': m['policy/approxKL']!,
    'policy/clipFrac': m['policy/clipFrac']!,
    'policy/entropy': m['policy/entropy']!,
    'policy/ratio': m['policy/ratio']!,
    'loss/policy': m['loss/policy']!,
    'loss/value': m['loss/value']!,
    'loss/total': m.loss!,
    'value/clipFrac': m['value/clipFrac']!,
    gradNorm: m.gradNorm ?? NaN,
    klCoef,
  };
}
