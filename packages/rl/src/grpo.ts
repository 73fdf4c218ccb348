// GRPO, Group Relative Policy Optimization (Shao et al. 2024, "DeepSeekMath: Pushing the Limits of
// Mathematical Reasoning in Open Language Models", §4.1): reinforcement fine-tuning with a reward
// function and no value model. Each prompt gets G sampled completions; a completion's advantage is
// its reward relative to its group, Â_i = (r_i − mean(r_group)) / (std(r_group) + 1e-4) (unbiased
// std, as TRL), shared by all its tokens. Per token, as TRL's GRPOTrainer:
//   ratio = exp(log π − log π_old)
//   ℓ_t = −min(ratio·Â, clip(ratio, 1 − ε_low, 1 + ε_high)·Â) + β·k3_t,
//   k3_t = exp(log π_ref − log π) − (log π_ref − log π) − 1
// aggregated by `lossType`: 'grpo' (mean over each sequence's tokens, then over sequences),
// 'bnpo' (mean over all completion tokens of the batch), 'dr_grpo' (sum / (B · maxCompletionLength),
// Liu et al. 2025, "Understanding R1-Zero-Like Training").
import {
  ShapeError, ValueError, checkBool, checkEnum, checkFunction, checkOptions, checkRange, checkSize, checkTensor, fmtShape, noGrad, shapesEqual,
  tensor, tidy, type Tensor,
} from '@webgrad/core';
import type { GPT } from '@webgrad/nn';
import type { Optimizer } from '@webgrad/optim';
import { klPenalty } from './kl.js';
import { maskedMean } from './masked.js';
import { generateRollouts, scoreRollout, tokenLogProbs, type RewardFn } from './rollout.js';
import { mean, meanStats, optimizerStep, std } from './stats.js';
import { GENERATION_KEYS, checkGPT, checkGeneration, checkInput, checkOptimizer, checkPrompts } from './args.js';

const LOSS_KEYS = ['beta', 'epsilon', 'epsilonHigh', 'lossType', 'maxCompletionLength'] as const;

/** GRPOLossOptions of `op` (keys checked by the caller). */
function checkLossOptions(op: string, o: GRPOLossOptions): void {
  for (const k of ['beta', 'epsilon', 'epsilonHigh'] as const) if (o[k] !== undefined) checkRange(op, k, o[k], 0, Infinity);
  if (o.lossType !== undefined) checkEnum(op, 'lossType', o.lossType, ['grpo', 'bnpo', 'dr_grpo']);
  if (o.maxCompletionLength !== undefined) checkSize(op, 'maxCompletionLength', o.maxCompletionLength, 1);
}

/** Options of `groupAdvantages` (TRL GRPOConfig's `scale_rewards`). */
export interface GroupAdvantageOptions {
  /** Divide by the group's std (+1e-4); default true. false: only subtract the group mean
   *  (Dr. GRPO's choice). */
  scaleRewards?: boolean;
}

/** Group-relative advantages of rewards (B), B = groups × groupSize, rows of a group adjacent. */
export function groupAdvantages(rewards: Tensor, groupSize: number, opts: GroupAdvantageOptions = {}): Tensor {
  checkTensor('groupAdvantages', 'rewards', rewards);
  checkOptions('groupAdvantages', opts, ['scaleRewards']);
  if (opts.scaleRewards !== undefined) checkBool('groupAdvantages', 'scaleRewards', opts.scaleRewards);
  if (rewards.ndim !== 1) throw new ShapeError(`groupAdvantages: rewards must be (B), got ${fmtShape(rewards.shape)}`);
  const B = rewards.shape[0]!;
  if (!Number.isInteger(groupSize) || groupSize < 2 || B % groupSize !== 0) {
    throw new ValueError(`groupAdvantages: groupSize must be an integer ≥ 2 that divides the batch (${B}), got ${groupSize}`);
  }
  return tidy(() => {
    const g = rewards.reshape([B / groupSize, groupSize]); // (groups, G)
    let a = g.sub(g.mean(1, { keepdim: true }));
    if (opts.scaleRewards !== false) a = a.div(g.std(1, { keepdim: true }).add(1e-4));
    return a.reshape([B]); // (B)
  });
}

/** How `grpoLoss` aggregates token losses (TRL's `loss_type`): 'grpo' (per-sequence mean, then mean), 'bnpo' (mean over all completion tokens), 'dr_grpo' (sum / (B · maxCompletionLength)). */
export type GRPOLossType = 'grpo' | 'bnpo' | 'dr_grpo';

/** The tensors `grpoLoss` reads. */
export interface GRPOLossInput {
  /** (B, N) log-probs of the completion tokens under the policy being trained. */
  logProbs: Tensor;
  /** (B, N) under the policy that sampled them; null: logProbs.detach() (one update per batch). */
  oldLogProbs?: Tensor | null;
  /** (B, N) under the frozen reference; needed when beta > 0. */
  refLogProbs?: Tensor | null;
  /** (B) one advantage per completion. */
  advantages: Tensor;
  /** (B, N) completion mask. */
  mask: Tensor;
}

/** Options of `grpoLoss` (TRL GRPOConfig's `beta`, `epsilon`, `epsilon_high`, `loss_type`, `max_completion_length`). */
export interface GRPOLossOptions {
  /** KL coefficient β (default 0, TRL's current default; DeepSeekMath used 0.04). */
  beta?: number;
  /** Lower clip ε (default 0.2). */
  epsilon?: number;
  /** Upper clip (default: epsilon; DAPO raises it). */
  epsilonHigh?: number;
  /** Default 'grpo'. */
  lossType?: GRPOLossType;
  /** For 'dr_grpo': the constant divisor's length (default: N). */
  maxCompletionLength?: number;
}

/** The GRPO loss (0-d, differentiable) and its statistics (0-d, detached). */
export interface GRPOLossOutput {
  /** 0-d loss (differentiable). */
  loss: Tensor;
  /** Mean per-token k3 KL to the reference over completion tokens (0 without a reference). */
  kl: Tensor;
  /** Fraction of completion tokens whose ratio was clipped in the direction of the advantage. */
  clipRatio: Tensor;
}

/** The GRPO objective over a batch of scored completions. */
export function grpoLoss(input: GRPOLossInput, opts: GRPOLossOptions = {}): GRPOLossOutput {
  const op = 'grpoLoss';
  checkInput(op, input, ['logProbs', 'oldLogProbs', 'refLogProbs', 'advantages', 'mask']);
  for (const k of ['logProbs', 'advantages', 'mask'] as const) checkTensor(op, k, input[k]);
  for (const k of ['oldLogProbs', 'refLogProbs'] as const) if (input[k] != null) checkTensor(op, k, input[k]);
  checkOptions(op, opts, LOSS_KEYS);
  checkLossOptions(op, opts);
  const { logProbs, mask, advantages } = input;
  const beta = opts.beta ?? 0;
  const epsLow = opts.epsilon ?? 0.2;
  const epsHigh = opts.epsilonHigh ?? epsLow;
  const lossType = opts.lossType ?? 'grpo';
  if (!shapesEqual(logProbs.shape, mask.shape) || logProbs.ndim !== 2) throw new ShapeError(`grpoLoss: logProbs ${fmtShape(logProbs.shape)} and mask ${fmtShape(mask.shape)} must be one (B, N) shape`);
  if (advantages.ndim !== 1 || advantages.shape[0] !== logProbs.shape[0]) throw new ShapeError(`grpoLoss: advantages must be (B) = [${logProbs.shape[0]}], got ${fmtShape(advantages.shape)}`);
  for (const [n, t] of [['oldLogProbs', input.oldLogProbs], ['refLogProbs', input.refLogProbs]] as const) {
    if (t && !shapesEqual(t.shape, logProbs.shape)) throw new ShapeError(`grpoLoss: ${n} ${fmtShape(t.shape)} must match logProbs ${fmtShape(logProbs.shape)}`);
  }
  if (beta > 0 && !input.refLogProbs) throw new ValueError('grpoLoss: beta > 0 needs refLogProbs');
  return tidy(() => {
    const m = mask.to(logProbs.dtype);
    const A = advantages.detach().to(logProbs.dtype).unsqueeze(1); // (B, 1)
    const old = input.oldLogProbs ? input.oldLogProbs.detach() : logProbs.detach();
    const ratio = logProbs.sub(old).exp(); // (B, N)
    const clipped = ratio.clamp(1 - epsLow, 1 + epsHigh);
    let perToken = ratio.mul(A).minimum(clipped.mul(A)).neg(); // (B, N)
    let kl: Tensor | null = null;
    if (input.refLogProbs) {
      kl = klPenalty(logProbs, input.refLogProbs.detach(), 'k3'); // (B, N)
      if (beta > 0) perToken = perToken.add(kl.mul(beta));
    }
    let loss: Tensor;
    switch (lossType) {
      case 'grpo': loss = perToken.mul(m).sum(1).div(m.sum(1).clamp(1, null)).mean(); break;
      case 'bnpo': loss = perToken.mul(m).sum().div(m.sum().clamp(1, null)); break;
      default: loss = perToken.mul(m).sum().div(logProbs.shape[0]! * (opts.maxCompletionLength ?? logProbs.shape[1]!)); // 'dr_grpo'
    }
    const r = ratio.detach();
    const isClipped = r.lt(1 - epsLow).logicalAnd(A.lt(0)).logicalOr(r.gt(1 + epsHigh).logicalAnd(A.gt(0)));
    return {
      loss,
      kl: kl ? maskedMean(kl.detach(), m) : m.sum().mul(0),
      clipRatio: maskedMean(isClipped.to(logProbs.dtype), m),
    };
  });
}

/** Configuration of `grpoStep` / GRPOTrainer: the loss options, sampling (TRL's `num_generations`, `max_completion_length` as `maxNewTokens`, temperature, top-k/top-p), and the update. */
export interface GRPOConfig extends GRPOLossOptions, GroupAdvantageOptions {
  /** Completions per prompt, G (default 4). */
  numGenerations?: number;
  /** Most tokens sampled per completion. */
  maxNewTokens: number;
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
  /** Optimizer updates per generated batch, μ (default 1). */
  numIterations?: number;
  /** Global gradient-norm clip (default 1; null: off). */
  maxGradNorm?: number | null;
  /** Seed for sampling (default: the global generator). */
  seed?: number;
}

/** The models, optimizer, prompts and reward function of one `grpoStep`. */
export interface GRPOStepInput {
  /** The policy trained. */
  policy: GPT;
  /** Frozen reference; needed when beta > 0 (else only used for the KL statistic, may be null). */
  ref: GPT | null;
  /** Steps the policy's parameters. */
  optimizer: Optimizer;
  /** Prompt token ids; each is sampled `numGenerations` times. */
  prompts: readonly (readonly number[])[];
  /** Scores one completion. */
  rewardFn: RewardFn;
  /** Sampling, loss and update settings. */
  config: GRPOConfig;
}

/** Host-side statistics of one `grpoStep` (TRL's logged `reward`, `reward_std`, `completion_length`, `kl`, `clip_ratio`). */
export interface GRPOStats {
  /** Mean reward of the sampled completions. */
  reward: number;
  /** Mean over groups of the within-group reward std. */
  rewardStd: number;
  /** Mean completion length in tokens. */
  completionLength: number;
  /** Mean loss over the updates. */
  loss: number;
  /** Mean per-token k3 KL to the reference. */
  kl: number;
  /** Fraction of tokens whose ratio was clipped. */
  clipRatio: number;
  /** Global gradient norm before clipping (the last update's). */
  gradNorm: number;
  /** The rewards of this batch (host numbers, row order). */
  rewards: number[];
}

/** One GRPO iteration: sample G completions per prompt, score them with `rewardFn`, compute
 *  group-relative advantages, and take `numIterations` optimizer steps on the batch. */
export async function grpoStep(input: GRPOStepInput): Promise<GRPOStats> {
  const op = 'grpoStep';
  checkInput(op, input, ['policy', 'ref', 'optimizer', 'prompts', 'rewardFn', 'config']);
  const { policy, ref, optimizer, prompts, rewardFn, config: c } = input;
  checkGPT(op, 'policy', policy);
  if (ref != null) checkGPT(op, 'ref', ref);
  checkOptimizer(op, optimizer);
  checkPrompts(op, prompts);
  checkFunction(op, 'rewardFn', rewardFn);
  checkInput(op, c, [...LOSS_KEYS, 'scaleRewards', 'numIterations', 'maxGradNorm', ...GENERATION_KEYS], 'config');
  checkLossOptions(op, c);
  checkGeneration(op, c);
  if (c.numGenerations !== undefined) checkSize(op, 'numGenerations', c.numGenerations, 2);
  if (c.scaleRewards !== undefined) checkBool(op, 'scaleRewards', c.scaleRewards);
  if (c.numIterations !== undefined) checkSize(op, 'numIterations', c.numIterations, 1);
  if (c.maxGradNorm != null) checkRange(op, 'maxGradNorm', c.maxGradNorm, 0, Infinity);
  const G = c.numGenerations ?? 4;
  const beta = c.beta ?? 0;
  if (beta > 0 && !ref) throw new ValueError('grpoStep: beta > 0 needs a reference model');
  const temperature = c.temperature ?? 1;
  const rollout = await generateRollouts(policy, prompts, {
    maxNewTokens: c.maxNewTokens, numGenerations: G, temperature, topK: c.topK, topP: c.topP,
    stopTokens: c.stopTokens, padToken: c.padToken, seed: c.seed,
  });
  try {
    const rewards = await scoreRollout(rollout, rewardFn);
    const { sequences, mask } = rollout;
    const B = rewards.length;
    const iterations = c.numIterations ?? 1;
    const pre = noGrad(() => tidy(() => ({
      advantages: groupAdvantages(tensor(Float32Array.from(rewards), { shape: [B], device: mask.device }), G, { scaleRewards: c.scaleRewards }),
      old: iterations > 1 ? tokenLogProbs(policy, sequences, mask, { temperature }) : null,
      ref: ref ? tokenLogProbs(ref, sequences, mask, { temperature }) : null,
    })));
    const collected: Record<string, Tensor>[] = [];
    try {
      for (let it = 0; it < iterations; it++) {
        collected.push(optimizerStep(optimizer, c.maxGradNorm === undefined ? 1 : c.maxGradNorm, () => {
          const logProbs = tokenLogProbs(policy, sequences, mask, { temperature });
          const { beta: b, epsilon, epsilonHigh, lossType, maxCompletionLength } = c;
          const out = grpoLoss({ logProbs, oldLogProbs: pre.old, refLogProbs: pre.ref, advantages: pre.advantages, mask }, { beta: b, epsilon, epsilonHigh, lossType, maxCompletionLength });
          return { loss: out.loss, stats: { kl: out.kl, clipRatio: out.clipRatio } };
        }));
      }
    } finally {
      for (const t of [pre.advantages, pre.old, pre.ref]) t?.dispose();
    }
    const m = await meanStats(collected);
    const groupStds: number[] = [];
    for (let i = 0; i < B; i += G) groupStds.push(std(rewards.slice(i, i + G)));
    return {
      reward: mean(rewards), rewardStd: mean(groupStds),
      completionLength: mean(rollout.completions.map((x) => x.length)),
      loss: m.loss!, kl: m.kl!, clipRatio: m.clipRatio!, gradNorm: m.gradNorm ?? NaN, rewards,
    };
  } finally {
    rollout.dispose();
  }
}
