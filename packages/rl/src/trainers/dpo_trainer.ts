// DPOTrainer: Direct Preference Optimization of a GPT policy on preference pairs, on @webgrad/train's
// Trainer (as TRL's DPOTrainer on transformers' Trainer). Each step runs the policy once over the
// batch's chosen and rejected sequences (`concatenatedLogProbs`) and takes `dpoLoss` against the
// reference log-probs, plus `rpoAlpha` × the NLL of the chosen completions when set (RPO, Pang et
// al. 2024, "Iterative Reasoning Preference Optimization", TRL's `rpo_alpha`).
//
// The reference policy, in order of precedence:
// - `referenceFree: true`: none (log π_ref = 0);
// - `precomputeRefLogProbs: true`: the log-probs of every train and eval pair under `refModel`, or
//   under the model itself as it is when train()/evaluate() is first called, computed once in eval
//   mode and carried in the batches; no second model is held during training;
// - `refModel`: that (frozen) GPT, run under noGrad every step;
// - otherwise a frozen copy of the model made when the trainer is constructed
//   (`createReferenceModel`). Construct the trainer from the starting (SFT) weights — also when
//   resuming: the checkpoint is loaded into the model afterwards, the reference stays the start.
//
// Metrics (TRL's names): loss, rewards/chosen, rewards/rejected, rewards/accuracies,
// rewards/margins, logps/chosen, logps/rejected, logits/chosen, logits/rejected, and nll_loss with
// rpoAlpha; evaluation logs them as eval_….
import { ValueError, checkBool, checkEnum, checkFinite, checkRange, noGrad, type Tensor } from '@webgrad/core';
import type { GPT } from '@webgrad/nn';
import { checkGPT } from '../args.js';
import { DPO_LOSS_TYPES, dpoLoss, type DPOLossType } from '../dpo.js';
import { createReferenceModel } from '../reference.js';
import { concatenatedLogProbs } from './concatenated_forward.js';
import type { PreferenceBatch } from './preference_data.js';
import { precomputeRefLogProbs } from './reference_logprobs.js';
import { INPUT_KEYS, PreferenceTrainer, checkTrainerInput, type PreferenceDataArgs, type PreferenceTrainerInput } from './preference_trainer.js';
import type { TrainingArgs } from './training_args.js';

/** DPOTrainer's settings: the shared training settings and TRL's DPOConfig fields (camelCased). */
export interface DPOConfig extends TrainingArgs, PreferenceDataArgs {
  /** Temperature β of the implicit reward (default 0.1). */
  beta?: number;
  /** 'sigmoid' (DPO, default), 'hinge' (SLiC), 'ipo' (IPO, on length-averaged log-probs) or 'robust'. */
  lossType?: DPOLossType;
  /** Probability ε that a label is flipped: conservative DPO (cDPO) with 'sigmoid', robust DPO with 'robust' (default 0). */
  labelSmoothing?: number;
  /** Weight of the NLL of the chosen completions added to the loss (RPO; default null: off). */
  rpoAlpha?: number | null;
  /** Use no reference model (log π_ref = 0). */
  referenceFree?: boolean;
  /** Compute the reference log-probs of all pairs once before training (see the file header). */
  precomputeRefLogProbs?: boolean;
}

const DPO_KEYS = ['beta', 'lossType', 'labelSmoothing', 'rpoAlpha', 'referenceFree', 'precomputeRefLogProbs'];

/** DPOTrainer's input: the preference-trainer input (policy as `model`, datasets, tokenizer, optimizer, DPOConfig) and the reference policy. */
export interface DPOTrainerInput extends PreferenceTrainerInput<GPT, DPOConfig> {
  /** The frozen reference policy (default: see the file header). */
  refModel?: GPT | null;
}

/**
 * TRL's DPOTrainer over @webgrad/train's Trainer.
 *
 * ```ts
 * const trainer = new DPOTrainer({ model: policy, tokenizer, trainDataset, evalDataset,
 *   config: { outDir: 'runs/dpo', beta: 0.1, rpoAlpha: 1, epochs: 3, learningRate: 5e-5 } });
 * await trainer.train();
 * console.log(await trainer.evaluate()); // { eval_loss, 'eval_rewards/accuracies', … }
 * trainer.dispose();
 * ```
 */
export class DPOTrainer extends PreferenceTrainer<GPT, DPOConfig> {
  /** The reference model run every step (null when reference-free or precomputed). */
  readonly refModel: GPT | null;
  /** β of the implicit reward. */
  readonly beta: number;
  /** The DPO variant. */
  readonly lossType: DPOLossType;
  /** Preference-flip probability ε (cDPO, robust DPO). */
  readonly labelSmoothing: number;
  /** Weight of the NLL term on the chosen answers (RPO), or null: none. */
  readonly rpoAlpha: number | null;
  /** Whether the reference is taken as uniform. */
  readonly referenceFree: boolean;
  /** Whether the reference log-probs were computed once before training. */
  readonly precomputeRefLogProbs: boolean;
  readonly #ownsRef: boolean;
  readonly #givenRef: GPT | null;

  constructor(input: DPOTrainerInput) {
    const op = 'DPOTrainer';
    checkTrainerInput(op, input, [...INPUT_KEYS, 'refModel']);
    const model = checkGPT(op, 'model', input.model);
    super(op, input, DPO_KEYS, 1e-4, model.config.vocabSize, model.config.blockSize);
    const c = input.config;
    this.beta = c.beta === undefined ? 0.1 : checkRange(op, 'config.beta', checkFinite(op, 'config.beta', c.beta), 0, Infinity, { lo: true });
    this.lossType = c.lossType === undefined ? 'sigmoid' : checkEnum(op, 'config.lossType', c.lossType, DPO_LOSS_TYPES);
    this.labelSmoothing = c.labelSmoothing === undefined ? 0 : checkRange(op, 'config.labelSmoothing', c.labelSmoothing, 0, 0.5, { hi: true });
    if (this.labelSmoothing > 0 && (this.lossType === 'ipo' || this.lossType === 'hinge')) {
      throw new ValueError(`${op}: config.labelSmoothing applies to the 'sigmoid' and 'robust' losses, not '${this.lossType}'`);
    }
    this.rpoAlpha = c.rpoAlpha === undefined || c.rpoAlpha === null ? null : checkRange(op, 'config.rpoAlpha', c.rpoAlpha, 0, Infinity);
    this.referenceFree = c.referenceFree === undefined ? false : checkBool(op, 'config.referenceFree', c.referenceFree);
    this.precomputeRefLogProbs = c.precomputeRefLogProbs === undefined ? false : checkBool(op, 'config.precomputeRefLogProbs', c.precomputeRefLogProbs);
    const given = input.refModel ?? null;
    if (given !== null) {
      checkGPT(op, 'refModel', given);
      if (given === model) throw new ValueError(`${op}: refModel must be a separate model (createReferenceModel(model) makes a frozen copy), not the policy itself`);
      if (given.config.vocabSize !== model.config.vocabSize) throw new ValueError(`${op}: refModel's vocabSize ${given.config.vocabSize} differs from the model's ${model.config.vocabSize}`);
    }
    if (this.referenceFree && given !== null) throw new ValueError(`${op}: refModel is given but config.referenceFree is set; give one or the other`);
    this.#givenRef = given;
    const runEachStep = !this.referenceFree && !this.precomputeRefLogProbs;
    this.#ownsRef = runEachStep && given === null;
    this.refModel = runEachStep ? given ?? createReferenceModel(model) : null;
  }

  /** Reference log-probs of every pair, once, when `precomputeRefLogProbs` is set. */
  protected override async prepare(): Promise<void> {
    if (!this.precomputeRefLogProbs || this.referenceFree) return;
    const ref = this.#givenRef ?? this.model;
    const batchSize = this.config.evalBatchSize ?? this.config.batchSize ?? 8;
    for (const pairs of [this.trainPairs, ...Object.values(this.evalPairs)]) {
      // In place: the data loaders hold these arrays.
      const withRef = await precomputeRefLogProbs(ref, pairs, { batchSize, averageLogProb: this.lossType === 'ipo' });
      pairs.splice(0, pairs.length, ...withRef);
    }
  }

  protected computeLoss(batch: PreferenceBatch): {
    /** 0-d loss of the batch (differentiable). */
    loss: Tensor;
    /** 0-d per-batch sums of the logged metrics, by TRL name. */
    sums: Record<string, Tensor>;
  } {
    const average = this.lossType === 'ipo';
    const pol = concatenatedLogProbs(this.model, batch, { averageLogProb: average });
    let refChosen: Tensor | null = null;
    let refRejected: Tensor | null = null;
    if (!this.referenceFree) {
      if (this.precomputeRefLogProbs) {
        if (!batch.refChosenLogps || !batch.refRejectedLogps) throw new ValueError('DPOTrainer: the batch lacks precomputed reference log-probs');
        refChosen = batch.refChosenLogps;
        refRejected = batch.refRejectedLogps;
      } else {
        const ref = noGrad(() => concatenatedLogProbs(this.refModel!, batch, { averageLogProb: average }));
        refChosen = ref.chosenLogps;
        refRejected = ref.rejectedLogps;
      }
    }
    const out = dpoLoss(pol.chosenLogps, pol.rejectedLogps, refChosen, refRejected, {
      beta: this.beta, lossType: this.lossType, labelSmoothing: this.labelSmoothing, referenceFree: this.referenceFree,
    });
    const loss = this.rpoAlpha ? out.loss.add(pol.chosenNll.mul(this.rpoAlpha)) : out.loss;
    const B = batch.size;
    const sums: Record<string, Tensor> = {
      'rewards/chosen': out.chosenRewards.sum(),
      'rewards/rejected': out.rejectedRewards.sum(),
      'rewards/accuracies': out.chosenRewards.gt(out.rejectedRewards).to('float32').sum(),
      'rewards/margins': out.chosenRewards.sub(out.rejectedRewards).sum(),
      'logps/chosen': pol.chosenLogps.detach().sum(),
      'logps/rejected': pol.rejectedLogps.detach().sum(),
      'logits/chosen': pol.meanChosenLogits.mul(B),
      'logits/rejected': pol.meanRejectedLogits.mul(B),
    };
    if (this.rpoAlpha !== null) sums.nll_loss = pol.chosenNll.detach().mul(B);
    return { loss, sums };
  }

  /** Free the reference copy the trainer made (not a given refModel), and what the base frees. */
  override dispose(): void {
    if (this.#ownsRef) this.refModel?.dispose();
    super.dispose();
  }
}
