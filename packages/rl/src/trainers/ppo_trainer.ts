// PPOTrainer: RLHF with PPO (Ouyang et al. 2022, §3.5; Ziegler et al. 2019) on the shared
// training loop, as TRL's PPOTrainer. Each iteration samples completions of a batch of prompts,
// scores them with a batched reward (a reward model via `rewardModelScorer`, or reward functions),
// subtracts the missing-EOS penalty, shapes per-token rewards with the KL penalty to a frozen
// reference (`ppoRewards`), runs GAE over the value model's estimates (`computeGAE`), whitens the
// advantages, and takes `ppoEpochs` × `numMiniBatches` optimizer updates of the clipped policy and
// value losses (`ppoPolicyLoss`, `ppoValueLoss`; formulas in ppo.ts).
//
// Logged per iteration (TRL's names; KL in nats per sequence, see kl_stats.ts):
//   objective/kl               mean_b Σ_t kl_t of the sampling policy vs the reference
//   objective/entropy          mean_b Σ_t −log π_old(y_t)   (TRL's sequence entropy estimate)
//   objective/non_score_reward mean_b Σ_t −β·kl_t
//   objective/rlhf_reward      mean_b (score_b + Σ_t −β·kl_t)
//   objective/scores           mean score (missing-EOS penalty included)
//   policy/approxkl_avg, policy/clipfrac_avg, policy/entropy_avg, loss/policy_avg, loss/value_avg,
//   val/clipfrac_avg, val/ratio (means over the updates), val/num_eos_tokens, kl_coef,
//   completion_length, rewards/<name>/mean|std (the reward's components), loss, lr, episode.
import { ValueError, checkBool, checkEnum, checkRange, checkSize, fmtValue, noGrad, tensor, tidy, type Tensor } from '@webgrad/core';
import { GPT, Module } from '@webgrad/nn';
import { AdamW, Optimizer } from '@webgrad/optim';
import { checkGPT, checkInput } from '../args.js';
import { ScalarHeadModel } from '../backbone.js';
import { computeGAE } from '../gae.js';
import { FixedKLController, type KLController, type KLEstimator } from '../kl.js';
import { maskedMean, maskedWhiten } from '../masked.js';
import { ppoPolicyLoss, ppoRewards, ppoValueLoss } from '../ppo.js';
import { permutation, seededRandom } from '../random.js';
import { createReferenceModel } from '../reference.js';
import { tokenLogProbs, tokenLogProbsAndEntropy } from '../rollout.js';
import { mean } from '../stats.js';
import { KL_ESTIMATORS } from './kl_stats.js';
import type { BatchRewardFn } from './reward_functions.js';
import { RLLoop, RL_LOOP_KEYS, checkRLInputs, checkRLLoopConfig, iterationSeed, runConfig, type RLLoopConfig, type RLTrainResult } from './rl_loop.js';

export interface PPOTrainerConfig extends RLLoopConfig {
  /** Completions sampled per prompt (default 1). */
  numGenerations?: number;
  /** Passes over each sampled batch (default 4, TRL's num_ppo_epochs). */
  ppoEpochs?: number;
  /** Minibatches per pass (default 1, TRL's num_mini_batches). */
  numMiniBatches?: number;
  /** Policy clip ε (default 0.2). */
  clipRange?: number;
  /** Value clip (default 0.2; null: unclipped). */
  clipRangeValue?: number | null;
  /** Value-loss coefficient (default 0.1). */
  vfCoef?: number;
  /** Entropy bonus coefficient (default 0). */
  entCoef?: number;
  /** GAE discount (default 1) and λ (default 0.95). */
  gamma?: number;
  /** GAE λ (default 0.95). */
  lam?: number;
  /** A fixed β (default 0.05) or a controller (e.g. AdaptiveKLController), updated after each iteration. */
  klCoef?: number | KLController;
  /** Per-token KL estimator of the penalty and of objective/kl (default 'k1', TRL's). */
  klEstimator?: KLEstimator;
  /** Scale the shaped rewards to unit variance before GAE (default false). */
  whitenRewards?: boolean;
  /** Whiten the advantages over the batch (default true). */
  whitenAdvantages?: boolean;
}

const PPO_KEYS = [
  ...RL_LOOP_KEYS, 'numGenerations', 'ppoEpochs', 'numMiniBatches', 'clipRange', 'clipRangeValue', 'vfCoef', 'entCoef', 'gamma', 'lam', 'klCoef',
  'klEstimator', 'whitenRewards', 'whitenAdvantages',
] as const;

/** A per-token value model: a Module with forward(idx (B, T) int32) → (B, T), e.g. ScalarHeadModel. */
export type PPOValueModel = Module & {
  /** Values (B, T) of token ids (B, T) int32. */
  forward(idx: Tensor): Tensor;
};

/** PPOTrainer's input: the policy, its reference, the value model, the optimizer, the prompts, the reward function and the configuration. */
export interface PPOTrainerInput {
  /** The policy to train (typically the SFT model). */
  policy: GPT;
  /** Frozen reference of the KL penalty. Default: a frozen copy of the policy as given; null: no penalty. */
  ref?: GPT | null;
  /** Default: a ScalarHeadModel on a trainable copy of the policy. */
  valueModel?: PPOValueModel;
  /** Default: AdamW (weight decay 0) over the policy's and the value model's parameters. */
  optimizer?: Optimizer;
  /** Prompts (token ids). */
  prompts: readonly (readonly number[])[];
  /** Scores a batch of completions, e.g. rewardModelScorer(rm) or combineRewards([...]). */
  reward: BatchRewardFn;
  /** The run's settings. */
  config: PPOTrainerConfig;
}

/** The policy and the value model as one module: what checkpoints hold. */
class PolicyAndValue extends Module {
  constructor(policy: GPT, value: PPOValueModel) {
    super();
    this.registerModule('policy', policy);
    this.registerModule('value', value);
  }

  forward(): never {
    throw new ValueError('PPOTrainer: the policy-and-value container is not called; use its policy and value modules');
  }
}

/** What the pre-pass over a sampled batch computes (old policy, reference, values, GAE). */
interface PrePass {
  oldLogProbs: Tensor; oldValues: Tensor; advantages: Tensor; returns: Tensor; klSeq: Tensor; nonScoreSeq: Tensor; entropySeq: Tensor;
}

interface PPOBatch {
  sequences: Tensor; mask: Tensor; oldLogProbs: Tensor; oldValues: Tensor; advantages: Tensor; returns: Tensor;
}

/** Check a PPOTrainerConfig. */
function checkConfig(op: string, c: PPOTrainerConfig): void {
  checkInput(op, c, PPO_KEYS, 'config');
  checkRLLoopConfig(op, c);
  for (const k of ['numGenerations', 'ppoEpochs', 'numMiniBatches'] as const) if (c[k] !== undefined) checkSize(op, k, c[k], 1);
  for (const k of ['clipRange', 'vfCoef', 'entCoef'] as const) if (c[k] !== undefined) checkRange(op, k, c[k], 0, Infinity);
  if (c.clipRangeValue != null) checkRange(op, 'clipRangeValue', c.clipRangeValue, 0, Infinity);
  for (const k of ['gamma', 'lam'] as const) if (c[k] !== undefined) checkRange(op, k, c[k], 0, 1);
  for (const k of ['whitenRewards', 'whitenAdvantages'] as const) if (c[k] !== undefined) checkBool(op, k, c[k]);
  if (typeof c.klCoef === 'object' && c.klCoef !== null) {
    if (typeof c.klCoef.update !== 'function' || typeof c.klCoef.value !== 'number') throw new ValueError(`${op}: klCoef must be a number or a KLController, got ${fmtValue(c.klCoef)}`);
  } else if (c.klCoef !== undefined) checkRange(op, 'klCoef', c.klCoef, 0, Infinity);
  if (c.klEstimator !== undefined) checkEnum(op, 'klEstimator', c.klEstimator, KL_ESTIMATORS);
}

/** PPO for RLHF on the shared Trainer: `await new PPOTrainer({ policy, prompts, reward, config }).train()`. */
export class PPOTrainer {
  /** The policy trained. */
  readonly policy: GPT;
  /** The frozen reference, or null: no KL penalty. */
  readonly ref: GPT | null;
  /** The value model trained with the policy. */
  readonly valueModel: PPOValueModel;
  /** The optimizer (given, or the default AdamW). */
  readonly optimizer: Optimizer;
  /** β: fixed or adaptive. */
  readonly klController: KLController;
  /** The run's settings. */
  readonly config: PPOTrainerConfig;
  /** The per-iteration loop on the Trainer. */
  readonly loop: RLLoop<PPOBatch>;
  readonly #owned: { dispose(): void }[] = [];

  constructor(input: PPOTrainerInput) {
    const op = 'PPOTrainer';
    checkInput(op, input, ['policy', 'ref', 'valueModel', 'optimizer', 'prompts', 'reward', 'config']);
    const c = input.config;
    checkConfig(op, c);
    this.policy = checkGPT(op, 'policy', input.policy);
    if (input.ref != null) checkGPT(op, 'ref', input.ref);
    if (input.valueModel !== undefined && !(input.valueModel instanceof Module && typeof input.valueModel.forward === 'function')) {
      throw new ValueError(`${op}: valueModel must be a Module with forward(idx) (e.g. a ScalarHeadModel), got ${fmtValue(input.valueModel)}`);
    }
    if (input.optimizer !== undefined && !(input.optimizer instanceof Optimizer)) throw new ValueError(`${op}: optimizer must be an Optimizer (e.g. AdamW), got ${fmtValue(input.optimizer)}`);
    checkRLInputs(op, this.policy, input.prompts, input.reward, c);
    this.config = c;
    this.ref = input.ref === undefined ? this.#own(createReferenceModel(this.policy)) : input.ref;
    if (input.valueModel) this.valueModel = input.valueModel;
    else {
      const trunk = new GPT(this.policy.config);
      trunk.loadStateDict(this.policy.stateDict());
      this.valueModel = this.#own(new ScalarHeadModel(trunk));
    }
    this.optimizer = input.optimizer ?? this.#own(new AdamW([...this.policy.parameters(), ...this.valueModel.parameters()], { lr: c.learningRate ?? 3e-6, weightDecay: 0 }));
    this.klController = typeof c.klCoef === 'object' ? c.klCoef : new FixedKLController(c.klCoef ?? 0.05);
    const model = new PolicyAndValue(this.policy, this.valueModel);
    const updates = (c.ppoEpochs ?? 4) * (c.numMiniBatches ?? 1);
    this.loop = new RLLoop<PPOBatch>(op, model, this.optimizer, this.policy, input.prompts, input.reward, c, updates, {
      prepare: (e, idx) => this.#prepare(e, idx),
      loss: (b) => this.#loss(b),
      finish: (r) => this.klController.update(r['objective/kl']!, r.rows!),
      state: () => ({ klCoef: this.klController.value }),
      restore: (s) => { if (typeof s.klCoef === 'number') (this.klController as { value: number }).value = s.klCoef; },
      printed: ['objective/scores', 'objective/kl', 'objective/rlhf_reward', 'policy/approxkl_avg', 'policy/clipfrac_avg', 'loss/value_avg'],
      labels: { kl_estimator: c.klEstimator ?? 'k1' },
    }, runConfig(c));
  }

  #own<T extends { dispose(): void }>(x: T): T { this.#owned.push(x); return x; }

  /** Run (or resume) training; returns the Trainer's result and the per-iteration records. */
  train(): Promise<RLTrainResult> { return this.loop.run(); }

  /** Free what the trainer created (the default reference, value model and optimizer). */
  dispose(): void { for (const x of this.#owned.splice(0)) x.dispose(); }

  async #prepare(e: number, promptIdx: number[]) {
    const c = this.config;
    const s = await this.loop.sampleAndScore(e, promptIdx, c.numGenerations ?? 1);
    const { rollout, scores } = s;
    const { sequences, mask } = rollout;
    const B = scores.length;
    const N = mask.shape[1]!;
    const temperature = c.temperature ?? 1;
    const beta = this.klController.value;
    const estimator = c.klEstimator ?? 'k1';
    const training = this.policy.training;
    this.policy.eval();
    this.valueModel.eval();
    let pre: PrePass;
    try {
      pre = noGrad(() => tidy((): PrePass => {
        const oldLogProbs = tokenLogProbs(this.policy, sequences, mask, { temperature }); // (B, N)
        const refLogProbs = this.ref ? tokenLogProbs(this.ref, sequences, mask, { temperature }) : oldLogProbs; // (B, N)
        const oldValues = this.valueModel.forward(sequences).narrow(1, 0, N).mul(mask); // (B, T) → (B, N)
        const scoreT = tensor(Float32Array.from(scores), { shape: [B], device: mask.device });
        const shaped = ppoRewards(scoreT, oldLogProbs, refLogProbs, mask, { klCoef: beta, klEstimator: estimator });
        const rewards = c.whitenRewards ? maskedWhiten(shaped.rewards, mask, { shiftMean: false }) : shaped.rewards;
        const gae = computeGAE(rewards, oldValues, { gamma: c.gamma, lam: c.lam, mask });
        const advantages = c.whitenAdvantages === false ? gae.advantages : maskedWhiten(gae.advantages, mask);
        return {
          oldLogProbs, oldValues, advantages, returns: gae.returns,
          klSeq: shaped.kl.sum(1), nonScoreSeq: shaped.nonScoreReward.sum(1), entropySeq: oldLogProbs.neg().mul(mask).sum(1), // (B) each
        };
      }));
    } catch (err) {
      rollout.dispose();
      throw err;
    } finally {
      this.policy.train(training);
      this.valueModel.train(training);
    }
    const [kl, nonScore, entropy] = await Promise.all([pre.klSeq.data(), pre.nonScoreSeq.data(), pre.entropySeq.data()]);
    for (const t of [pre.klSeq, pre.nonScoreSeq, pre.entropySeq]) t.dispose();
    const stats: Record<string, number> = {
      'objective/kl': mean(Array.from(kl)),
      'objective/entropy': mean(Array.from(entropy)),
      'objective/non_score_reward': mean(Array.from(nonScore)),
      'objective/rlhf_reward': mean(scores.map((x, i) => x + nonScore[i]!)),
      'objective/scores': mean(scores),
      'val/num_eos_tokens': s.eosCount,
      kl_coef: beta,
      completion_length: mean(rollout.completions.map((x) => x.length)),
      ...RLLoop.componentStats(s),
      rows: B,
    };
    const nMB = c.numMiniBatches ?? 1;
    const mb = Math.ceil(B / nMB);
    const orders: number[][] = [];
    const held = [pre.oldLogProbs, pre.oldValues, pre.advantages, pre.returns];
    return {
      stats,
      batch: (k: number): PPOBatch => {
        const epoch = Math.floor(k / nMB);
        orders[epoch] ??= permutation(B, seededRandom(iterationSeed(c.seed ?? 0, e, 3 + epoch)));
        const rows = orders[epoch]!.slice((k % nMB) * mb, (k % nMB + 1) * mb);
        return tidy(() => {
          const idx = tensor(Int32Array.from(rows), { shape: [rows.length], dtype: 'int32', device: mask.device });
          const pick = (t: Tensor) => t.indexSelect(0, idx); // (b, …)
          return {
            sequences: pick(sequences), mask: pick(mask), oldLogProbs: pick(pre.oldLogProbs), oldValues: pick(pre.oldValues),
            advantages: pick(pre.advantages), returns: pick(pre.returns),
          };
        });
      },
      release: (b: PPOBatch) => { for (const t of Object.values(b)) t.dispose(); },
      dispose: () => { for (const t of held) t.dispose(); rollout.dispose(); },
    };
  }

  #loss(b: PPOBatch): { loss: Tensor; stats: Record<string, Tensor> } {
    const c = this.config;
    const N = b.mask.shape[1]!;
    const { logProbs, entropy } = tokenLogProbsAndEntropy(this.policy, b.sequences, b.mask, { temperature: c.temperature ?? 1, entropy: true });
    const values = this.valueModel.forward(b.sequences).narrow(1, 0, N); // (b, T) → (b, N)
    const pg = ppoPolicyLoss(logProbs, b.oldLogProbs, b.advantages, b.mask, c.clipRange ?? 0.2);
    const vf = ppoValueLoss(values, b.oldValues, b.returns, b.mask, c.clipRangeValue === undefined ? 0.2 : c.clipRangeValue);
    const ent = maskedMean(entropy!, b.mask);
    let loss = pg.loss.add(vf.loss.mul(c.vfCoef ?? 0.1));
    if (c.entCoef) loss = loss.sub(ent.mul(c.entCoef));
    return {
      loss,
      stats: {
        'policy/approxkl_avg': pg.approxKL, 'policy/clipfrac_avg': pg.clipFrac, 'policy/entropy_avg': ent, 'loss/policy_avg': pg.loss,
        'loss/value_avg': vf.loss, 'val/clipfrac_avg': vf.clipFrac, 'val/ratio': pg.ratio,
      },
    };
  }
}
