// REINFORCE with a baseline (Williams 1992, "Simple statistical gradient-following algorithms for
// connectionist reinforcement learning") for reinforcement fine-tuning with a reward function.
// The default baseline is RLOO's leave-one-out mean (Kool et al. 2019, "Buy 4 REINFORCE Samples,
// Get a Baseline for Free!"; Ahmadian et al. 2024, "Back to Basics: Revisiting REINFORCE Style
// Optimization for Learning from Human Feedback in LLMs"), as TRL's RLOOTrainer: with k samples of
// one prompt and sequence-level rewards R_i = score_i − β·Σ_t KL_t (k1, per completion),
//   b_i = (Σ_j R_j − R_i) / (k − 1),   A_i = R_i − b_i,
//   loss = −mean_i A_i · Σ_t log π(y_i,t)        (the whole completion is one action).
import {
  ShapeError, ValueError, checkEnum, checkFunction, checkRange, checkTensor, fmtShape, noGrad, tensor, tidy, type Tensor,
} from '@webgrad/core';
import type { GPT } from '@webgrad/nn';
import type { Optimizer } from '@webgrad/optim';
import { klPenalty } from './kl.js';
import { generateRollouts, scoreRollout, tokenLogProbs, type RewardFn } from './rollout.js';
import { mean, meanStats, optimizerStep } from './stats.js';
import { GENERATION_KEYS, checkGPT, checkGeneration, checkInput, checkOptimizer, checkPrompts } from './args.js';

const BASELINES: readonly BaselineKind[] = ['leave-one-out', 'mean', 'none'];

/** The baseline subtracted from each sample's reward: 'leave-one-out' (RLOO, Ahmadian et al. 2024: the mean of the other samples of the prompt), 'mean' (the group mean, self included) or 'none'. */
export type BaselineKind = 'leave-one-out' | 'mean' | 'none';

/** Advantages (B) of rewards (B) arranged in adjacent groups of `groupSize` samples per prompt:
 *  'leave-one-out' (RLOO, needs groupSize ≥ 2), 'mean' (the group mean, self included) or 'none'. */
export function baselineAdvantages(rewards: Tensor, groupSize: number, baseline: BaselineKind = 'leave-one-out'): Tensor {
  checkTensor('baselineAdvantages', 'rewards', rewards);
  checkEnum('baselineAdvantages', 'baseline', baseline, BASELINES);
  if (rewards.ndim !== 1) throw new ShapeError(`baselineAdvantages: rewards must be (B), got ${fmtShape(rewards.shape)}`);
  const B = rewards.shape[0]!;
  if (!Number.isInteger(groupSize) || groupSize < 1 || B % groupSize !== 0) throw new ValueError(`baselineAdvantages: groupSize must be a positive integer dividing the batch (${B}), got ${groupSize}`);
  if (baseline === 'leave-one-out' && groupSize < 2) throw new ValueError('baselineAdvantages: the leave-one-out baseline needs groupSize ≥ 2');
  return tidy(() => {
    const g = rewards.reshape([B / groupSize, groupSize]); // (groups, k)
    switch (baseline) {
      case 'none': return rewards.clone();
      case 'mean': return g.sub(g.mean(1, { keepdim: true })).reshape([B]);
      default: return g.sub(g.sum(1, { keepdim: true }).sub(g).div(groupSize - 1)).reshape([B]); // 'leave-one-out'
    }
  });
}

/** REINFORCE loss −mean_i A_i·Σ_t mask·log π over completions: logProbs, mask (B, N), advantages (B). */
export function reinforceLoss(logProbs: Tensor, mask: Tensor, advantages: Tensor): Tensor {
  for (const [n, t] of [['logProbs', logProbs], ['mask', mask], ['advantages', advantages]] as const) checkTensor('reinforceLoss', n, t);
  if (logProbs.ndim !== 2 || mask.ndim !== 2 || advantages.ndim !== 1 || advantages.shape[0] !== logProbs.shape[0]) {
    throw new ShapeError(`reinforceLoss: expected logProbs and mask (B, N) and advantages (B), got ${fmtShape(logProbs.shape)}, ${fmtShape(mask.shape)} and ${fmtShape(advantages.shape)}`);
  }
  return tidy(() => logProbs.mul(mask.to(logProbs.dtype)).sum(1).mul(advantages.detach()).mean().neg());
}

/** Configuration of `reinforceStep` (REINFORCE with a leave-one-out baseline: RLOO): sampling, baseline, KL penalty and gradient clipping. */
export interface ReinforceConfig {
  /** Samples per prompt, k (default 4). */
  numGenerations?: number;
  /** Most tokens sampled per completion. */
  maxNewTokens: number;
  /** Default 'leave-one-out'. */
  baseline?: BaselineKind;
  /** β of the sequence-level KL penalty in the reward (default 0.05, TRL's RLOO default; needs ref). */
  klCoef?: number;
  /** Sampling temperature (default 1). */
  temperature?: number;
  /** Sample among the k most likely tokens only (default: all). */
  topK?: number | null;
  /** Sample within the nucleus of probability topP (default 1: all). */
  topP?: number | null;
  /** Token ids that end a completion. */
  stopTokens?: readonly number[];
  /** Fills rows after their end (default 0); never trained on. */
  padToken?: number;
  /** Global gradient-norm clip (default 1; null: off). */
  maxGradNorm?: number | null;
  /** Seed for sampling (default: the global generator). */
  seed?: number;
}

/** The models, optimizer, prompts and reward function of one `reinforceStep`. */
export interface ReinforceStepInput {
  /** The policy trained. */
  policy: GPT;
  /** Frozen reference for the KL penalty; null: no penalty. */
  ref: GPT | null;
  /** Steps the policy's parameters. */
  optimizer: Optimizer;
  /** Prompt token ids; each is sampled `numGenerations` times. */
  prompts: readonly (readonly number[])[];
  /** Scores one completion. */
  rewardFn: RewardFn;
  /** Sampling, baseline and update settings. */
  config: ReinforceConfig;
}

/** Host-side statistics of one `reinforceStep`. */
export interface ReinforceStats {
  /** Mean score from the reward function. */
  reward: number;
  /** Mean of score − β·KL. */
  rlhfReward: number;
  /** Mean summed per-completion KL (k1). */
  kl: number;
  /** Mean completion length in tokens. */
  completionLength: number;
  /** The loss of the update. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** The scores of this batch (host numbers, row order). */
  rewards: number[];
}

/** One REINFORCE/RLOO iteration: sample k completions per prompt, score them, and take one
 *  optimizer step on the baseline-corrected policy gradient. */
export async function reinforceStep(input: ReinforceStepInput): Promise<ReinforceStats> {
  const op = 'reinforceStep';
  checkInput(op, input, ['policy', 'ref', 'optimizer', 'prompts', 'rewardFn', 'config']);
  const { policy, ref, optimizer, prompts, rewardFn, config: c } = input;
  checkGPT(op, 'policy', policy);
  if (ref != null) checkGPT(op, 'ref', ref);
  checkOptimizer(op, optimizer);
  checkPrompts(op, prompts);
  checkFunction(op, 'rewardFn', rewardFn);
  checkInput(op, c, ['baseline', 'klCoef', 'maxGradNorm', ...GENERATION_KEYS], 'config');
  checkGeneration(op, c);
  if (c.baseline !== undefined) checkEnum(op, 'baseline', c.baseline, BASELINES);
  if (c.klCoef !== undefined) checkRange(op, 'klCoef', c.klCoef, 0, Infinity);
  if (c.maxGradNorm != null) checkRange(op, 'maxGradNorm', c.maxGradNorm, 0, Infinity);
  if ((c.baseline ?? 'leave-one-out') === 'leave-one-out' && (c.numGenerations ?? 4) < 2) {
    throw new ValueError(`${op}: the leave-one-out baseline needs numGenerations >= 2, got ${c.numGenerations}`);
  }
  const k = c.numGenerations ?? 4;
  const temperature = c.temperature ?? 1;
  const beta = ref ? (c.klCoef ?? 0.05) : 0;
  const rollout = await generateRollouts(policy, prompts, {
    maxNewTokens: c.maxNewTokens, numGenerations: k, temperature, topK: c.topK, topP: c.topP,
    stopTokens: c.stopTokens, padToken: c.padToken, seed: c.seed,
  });
  try {
    const scores = await scoreRollout(rollout, rewardFn);
    const { sequences, mask } = rollout;
    const B = scores.length;
    const pre = noGrad(() => tidy(() => {
      const score = tensor(Float32Array.from(scores), { shape: [B], device: mask.device });
      let kl = score.mul(0);
      if (ref) {
        const lp = tokenLogProbs(policy, sequences, mask, { temperature });
        const refLp = tokenLogProbs(ref, sequences, mask, { temperature });
        kl = klPenalty(lp, refLp, 'k1').mul(mask).sum(1); // (B)
      }
      const rlhf = score.sub(kl.mul(beta)); // (B)
      return { advantages: baselineAdvantages(rlhf, k, c.baseline), kl: kl.mean(), rlhf: rlhf.mean() };
    }));
    let stats: Record<string, Tensor>;
    try {
      stats = optimizerStep(optimizer, c.maxGradNorm === undefined ? 1 : c.maxGradNorm, () => ({
        loss: reinforceLoss(tokenLogProbs(policy, sequences, mask, { temperature }), mask, pre.advantages),
        stats: {},
      }));
    } finally {
      pre.advantages.dispose();
    }
    const m = await meanStats([stats, { kl: pre.kl, rlhf: pre.rlhf }]);
    return {
      reward: mean(scores), rlhfReward: m.rlhf!, kl: m.kl!,
      completionLength: mean(rollout.completions.map((x) => x.length)),
      loss: m.loss!, gradNorm: m.gradNorm ?? NaN, rewards: scores,
    };
  } finally {
    rollout.dispose();
  }
}
