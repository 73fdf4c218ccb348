// GRPOTrainer: reinforcement fine-tuning with a programmatic reward (Shao et al. 2024,
// "DeepSeekMath", §4.1) on the shared training loop, as TRL's GRPOTrainer. Each iteration samples
// G completions of each prompt of a batch, scores them with a batched reward (often
// `combineRewards` of reward functions), subtracts the missing-EOS penalty, computes group-relative
// advantages (`groupAdvantages`) and takes μ = `numIterations` optimizer updates of `grpoLoss`
// (clipped ratio, k3 KL penalty with coefficient β to a frozen reference; formulas in grpo.ts).
//
// Logged per iteration (TRL's names): reward, reward_std (mean within-group std), kl (nats per
// sequence, k3, of the sampling policy vs the reference — see kl_stats.ts), completion_length,
// clip_ratio (mean over the updates), frac_reward_zero_std (groups with nothing to learn from),
// rewards/<name>/mean|std (the reward's components), val/num_eos_tokens, loss, lr, episode.
import { ValueError, checkBool, checkEnum, checkRange, checkSize, fmtValue, noGrad, tensor, tidy, type Tensor } from '@webgrad/core';
import type { GPT } from '@webgrad/nn';
import { AdamW, Optimizer } from '@webgrad/optim';
import { checkGPT, checkInput } from '../args.js';
import { groupAdvantages, grpoLoss, type GRPOLossType } from '../grpo.js';
import { createReferenceModel } from '../reference.js';
import { tokenLogProbs } from '../rollout.js';
import { mean, std } from '../stats.js';
import { sequenceKL } from './kl_stats.js';
import type { BatchRewardFn } from './reward_functions.js';
import { RLLoop, RL_LOOP_KEYS, checkRLInputs, checkRLLoopConfig, runConfig, type RLLoopConfig, type RLTrainResult } from './rl_loop.js';

export interface GRPOTrainerConfig extends RLLoopConfig {
  /** Completions per prompt, G (default 4). */
  numGenerations?: number;
  /** KL coefficient β (default 0.04, DeepSeekMath's; 0: the reference only measures the KL). */
  beta?: number;
  /** Lower clip ε (default 0.2) and upper clip (default ε; DAPO raises it). */
  epsilon?: number;
  /** Upper clip (default: epsilon). */
  epsilonHigh?: number;
  /** Loss aggregation (default 'grpo'; see grpoLoss). */
  lossType?: GRPOLossType;
  /** Divide advantages by the group's std (default true; Dr. GRPO: false). */
  scaleRewards?: boolean;
  /** Optimizer updates per sampled batch, μ (default 1). */
  numIterations?: number;
}

const GRPO_KEYS = [...RL_LOOP_KEYS, 'numGenerations', 'beta', 'epsilon', 'epsilonHigh', 'lossType', 'scaleRewards', 'numIterations'] as const;

/** GRPOTrainer's input: the policy, its reference, the optimizer, the prompts, the reward function and the configuration. */
export interface GRPOTrainerInput {
  /** The policy to train. */
  policy: GPT;
  /** Frozen reference. Default: a frozen copy of the policy as given; null: no KL term or statistic (needs beta 0). */
  ref?: GPT | null;
  /** Default: AdamW (weight decay 0) over the policy's parameters. */
  optimizer?: Optimizer;
  /** Prompts (token ids); each iteration takes a batch of them, each sampled `numGenerations` times. */
  prompts: readonly (readonly number[])[];
  /** Scores a batch of completions, e.g. combineRewards([...]). */
  reward: BatchRewardFn;
  /** The run's settings. */
  config: GRPOTrainerConfig;
}

interface GRPOBatch { sequences: Tensor; mask: Tensor; advantages: Tensor; oldLogProbs: Tensor | null; refLogProbs: Tensor | null }

/** Check a GRPOTrainerConfig. */
function checkConfig(op: string, c: GRPOTrainerConfig): void {
  checkInput(op, c, GRPO_KEYS, 'config');
  checkRLLoopConfig(op, c);
  if (c.numGenerations !== undefined) checkSize(op, 'numGenerations', c.numGenerations, 2);
  if (c.numIterations !== undefined) checkSize(op, 'numIterations', c.numIterations, 1);
  for (const k of ['beta', 'epsilon', 'epsilonHigh'] as const) if (c[k] !== undefined) checkRange(op, k, c[k], 0, Infinity);
  if (c.lossType !== undefined) checkEnum(op, 'lossType', c.lossType, ['grpo', 'bnpo', 'dr_grpo']);
  if (c.scaleRewards !== undefined) checkBool(op, 'scaleRewards', c.scaleRewards);
}

/** GRPO on the shared Trainer: `await new GRPOTrainer({ policy, prompts, reward, config }).train()`. */
export class GRPOTrainer {
  /** The policy trained. */
  readonly policy: GPT;
  /** The frozen reference, or null: no KL term. */
  readonly ref: GPT | null;
  /** The optimizer (given, or the default AdamW). */
  readonly optimizer: Optimizer;
  /** The run's settings. */
  readonly config: GRPOTrainerConfig;
  /** The per-iteration loop on the Trainer. */
  readonly loop: RLLoop<GRPOBatch>;
  readonly #owned: { dispose(): void }[] = [];

  constructor(input: GRPOTrainerInput) {
    const op = 'GRPOTrainer';
    checkInput(op, input, ['policy', 'ref', 'optimizer', 'prompts', 'reward', 'config']);
    const c = input.config;
    checkConfig(op, c);
    this.policy = checkGPT(op, 'policy', input.policy);
    if (input.ref != null) checkGPT(op, 'ref', input.ref);
    if (input.optimizer !== undefined && !(input.optimizer instanceof Optimizer)) throw new ValueError(`${op}: optimizer must be an Optimizer (e.g. AdamW), got ${fmtValue(input.optimizer)}`);
    if (input.ref === null && (c.beta ?? 0.04) > 0) throw new ValueError(`${op}: beta ${c.beta ?? 0.04} > 0 needs a reference model (ref is null)`);
    checkRLInputs(op, this.policy, input.prompts, input.reward, c);
    this.config = c;
    this.ref = input.ref === undefined ? this.#own(createReferenceModel(this.policy)) : input.ref;
    this.optimizer = input.optimizer ?? this.#own(new AdamW(this.policy.parameters(), { lr: c.learningRate ?? 1e-6, weightDecay: 0 }));
    this.loop = new RLLoop<GRPOBatch>(op, this.policy, this.optimizer, this.policy, input.prompts, input.reward, c, c.numIterations ?? 1, {
      prepare: (e, idx) => this.#prepare(e, idx),
      loss: (b, k) => this.#loss(b, k),
      printed: ['reward', 'reward_std', 'kl', 'completion_length', 'clip_ratio'],
      labels: { kl_estimator: 'k3' },
    }, runConfig(c));
  }

  #own<T extends { dispose(): void }>(x: T): T { this.#owned.push(x); return x; }

  /** Run (or resume) training; returns the Trainer's result and the per-iteration records. */
  train(): Promise<RLTrainResult> { return this.loop.run(); }

  /** Free what the trainer created (the default reference and optimizer). */
  dispose(): void { for (const x of this.#owned.splice(0)) x.dispose(); }

  async #prepare(e: number, promptIdx: number[]) {
    const c = this.config;
    const G = c.numGenerations ?? 4;
    const s = await this.loop.sampleAndScore(e, promptIdx, G);
    const { rollout, scores } = s;
    const { sequences, mask } = rollout;
    const B = scores.length;
    const temperature = c.temperature ?? 1;
    const training = this.policy.training;
    this.policy.eval();
    let held: { advantages: Tensor; old: Tensor | null; ref: Tensor | null };
    try {
      held = noGrad(() => tidy(() => ({
        advantages: groupAdvantages(tensor(Float32Array.from(scores), { shape: [B], device: mask.device }), G, { scaleRewards: c.scaleRewards }), // (B)
        old: (c.numIterations ?? 1) > 1 ? tokenLogProbs(this.policy, sequences, mask, { temperature }) : null, // (B, N)
        ref: this.ref ? tokenLogProbs(this.ref, sequences, mask, { temperature }) : null, // (B, N)
      })));
    } catch (err) {
      rollout.dispose();
      throw err;
    } finally {
      this.policy.train(training);
    }
    const groupStds: number[] = [];
    for (let i = 0; i < B; i += G) groupStds.push(std(scores.slice(i, i + G)));
    const stats: Record<string, number> = {
      reward: mean(scores),
      reward_std: mean(groupStds),
      frac_reward_zero_std: groupStds.filter((x) => x === 0).length / groupStds.length,
      completion_length: mean(rollout.completions.map((x) => x.length)),
      'val/num_eos_tokens': s.eosCount,
      ...RLLoop.componentStats(s),
      rows: B,
    };
    const batch: GRPOBatch = { sequences, mask, advantages: held.advantages, oldLogProbs: held.old, refLogProbs: held.ref };
    return {
      stats,
      batch: () => batch,
      release: () => {},
      dispose: () => { for (const t of [held.advantages, held.old, held.ref]) t?.dispose(); rollout.dispose(); },
    };
  }

  #loss(b: GRPOBatch, update: number): { loss: Tensor; stats: Record<string, Tensor> } {
    const c = this.config;
    const logProbs = tokenLogProbs(this.policy, b.sequences, b.mask, { temperature: c.temperature ?? 1 }); // (B, N)
    const out = grpoLoss(
      { logProbs, oldLogProbs: b.oldLogProbs, refLogProbs: b.refLogProbs, advantages: b.advantages, mask: b.mask },
      { beta: c.beta ?? 0.04, epsilon: c.epsilon, epsilonHigh: c.epsilonHigh, lossType: c.lossType, maxCompletionLength: c.maxNewTokens },
    );
    const stats: Record<string, Tensor> = { clip_ratio: out.clipRatio };
    // The first update's policy is the one that sampled the batch: its KL is the iteration's.
    if (update === 0 && b.refLogProbs) stats.kl = sequenceKL(logProbs, b.refLogProbs, b.mask, 'k3').mean();
    return { loss: out.loss, stats };
  }
}
