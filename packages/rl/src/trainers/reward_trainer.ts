// RewardTrainer: a Bradley–Terry reward model trained on preference pairs, on @webgrad/train's
// Trainer (as TRL's RewardTrainer on transformers' Trainer). Each step scores the batch's chosen
// and rejected sequences in one forward (`concatenatedRewards`, read at each sequence's last real
// token) and takes `pairwiseRewardLoss`: −log σ(r_chosen − r_rejected − margin), with the pair's
// margin when the pairs carry one and TRL's optional centring term.
//
// Metrics: loss, accuracy (fraction of pairs with r_chosen > r_rejected), margin (mean
// r_chosen − r_rejected), rewards/chosen and rewards/rejected (mean scores); evaluation logs them
// as eval_….
import { ValueError, checkRange, fmtValue, type Tensor } from '@webgrad/core';
import { pairwiseRewardLoss, type RewardModel } from '../reward_model.js';
import { checkScorer, concatenatedRewards, type SequenceScorer } from './concatenated_forward.js';
import type { PreferenceBatch } from './preference_data.js';
import { INPUT_KEYS, PreferenceTrainer, checkTrainerInput, type PreferenceDataArgs, type PreferenceTrainerInput } from './preference_trainer.js';
import type { TrainingArgs } from './training_args.js';

/** RewardTrainer's settings: the shared training settings and TRL's RewardConfig field (camelCased). */
export interface RewardConfig extends TrainingArgs, PreferenceDataArgs {
  /** Weight of mean((r_chosen + r_rejected)²), which keeps rewards centred at 0 (default 0: off). */
  centerRewardsCoefficient?: number;
}

/** RewardTrainer's input: a sequence scorer (a RewardModel) as `model`, the preference datasets and a RewardConfig. */
export type RewardTrainerInput = PreferenceTrainerInput<SequenceScorer, RewardConfig>;

/** The vocabulary and context of a scorer's GPT backbone (a RewardModel's). */
function backboneSizes(model: SequenceScorer): { vocabSize: number; blockSize: number } {
  const cfg = (model as unknown as Partial<Pick<RewardModel, 'backbone'>>).backbone?.config;
  if (!cfg) throw new ValueError(`RewardTrainer: model must have a GPT backbone (a RewardModel), got ${fmtValue(model)}`);
  return { vocabSize: cfg.vocabSize, blockSize: cfg.blockSize };
}

/**
 * TRL's RewardTrainer over @webgrad/train's Trainer.
 *
 * ```ts
 * const rm = new RewardModel(backbone);
 * const trainer = new RewardTrainer({ model: rm, tokenizer, trainDataset, evalDataset,
 *   config: { outDir: 'runs/rm', epochs: 2, learningRate: 1e-4 } });
 * await trainer.train();
 * console.log(await trainer.evaluate()); // { eval_loss, eval_accuracy, eval_margin, … }
 * ```
 */
export class RewardTrainer extends PreferenceTrainer<SequenceScorer, RewardConfig> {
  /** Weight of the mean((r_chosen + r_rejected)²) centring term (0: off). */
  readonly centerRewardsCoefficient: number;

  constructor(input: RewardTrainerInput) {
    const op = 'RewardTrainer';
    checkTrainerInput(op, input, INPUT_KEYS);
    const model = checkScorer(op, 'model', input.model);
    const { vocabSize, blockSize } = backboneSizes(model);
    super(op, input, ['centerRewardsCoefficient'], 1e-4, vocabSize, blockSize);
    const c = input.config.centerRewardsCoefficient;
    this.centerRewardsCoefficient = c === undefined ? 0 : checkRange(op, 'config.centerRewardsCoefficient', c, 0, Infinity);
  }

  protected computeLoss(batch: PreferenceBatch): {
    /** 0-d loss of the batch (differentiable). */
    loss: Tensor;
    /** 0-d per-batch sums of the logged metrics, by TRL name. */
    sums: Record<string, Tensor>;
  } {
    const { chosen, rejected } = concatenatedRewards(this.model, batch);
    const { loss } = pairwiseRewardLoss(chosen, rejected, { margin: batch.margin ?? null, centerRewardsCoefficient: this.centerRewardsCoefficient });
    const c = chosen.detach();
    const r = rejected.detach();
    return {
      loss,
      sums: {
        accuracy: c.gt(r).to('float32').sum(),
        margin: c.sub(r).sum(),
        'rewards/chosen': c.sum(),
        'rewards/rejected': r.sum(),
      },
    };
  }
}
