// A reward model as a batched scorer: each batch of prompt ‖ completion rows is right-padded into
// one (B, T) tensor with a (B, T) mask of the real tokens and scored in one forward pass (in
// chunks of `batchSize` rows), without gradients and in eval mode — what TRL's PPOTrainer does
// with `get_reward` on each rollout batch.
import { ValueError, checkOptions, checkSize, fmtValue, noGrad, tensor } from '@webgrad/core';
import { RewardModel } from '../reward_model.js';
import type { BatchRewardFn } from './reward_functions.js';

/** Options of `rewardModelScorer`. */
export interface RewardModelScorerOptions {
  /** Rows per forward pass (default: the whole batch). */
  batchSize?: number;
  /** Fills rows past their end (default: the model's padTokenId, else 0); masked out either way. */
  padToken?: number;
}

/** A BatchRewardFn that scores rows with `model` (one reward per row, read at its last real token). */
export function rewardModelScorer(model: RewardModel, opts: RewardModelScorerOptions = {}): BatchRewardFn {
  const op = 'rewardModelScorer';
  if (!(model instanceof RewardModel)) throw new ValueError(`${op}: model must be a RewardModel, got ${fmtValue(model)}`);
  checkOptions(op, opts, ['batchSize', 'padToken']);
  if (opts.batchSize !== undefined) checkSize(op, 'batchSize', opts.batchSize, 1);
  if (opts.padToken !== undefined) checkSize(op, 'padToken', opts.padToken);
  const pad = opts.padToken ?? model.padTokenId ?? 0;
  const { blockSize } = model.backbone.config;
  const device = model.backbone.wte.weight.device;
  return async ({ prompts, completions }) => {
    const B = completions.length;
    const chunk = opts.batchSize ?? Math.max(1, B);
    const scores: number[] = [];
    const wasTraining = model.training;
    model.eval();
    try {
      for (let s = 0; s < B; s += chunk) {
        const rows = Array.from({ length: Math.min(chunk, B - s) }, (_, k) => [...prompts[s + k]!, ...completions[s + k]!]);
        const T = Math.max(...rows.map((r) => r.length));
        if (T > blockSize) throw new ValueError(`${op}: a row of ${T} tokens exceeds the reward model's blockSize ${blockSize}`);
        if (rows.some((r) => r.length === 0)) throw new ValueError(`${op}: every row needs at least one token`);
        const ids = new Int32Array(rows.length * T).fill(pad);
        const real = new Float32Array(rows.length * T);
        rows.forEach((r, b) => { ids.set(r, b * T); real.fill(1, b * T, b * T + r.length); });
        const idx = tensor(ids, { shape: [rows.length, T], dtype: 'int32', device }); // (b, T)
        const mask = tensor(real, { shape: [rows.length, T], dtype: 'float32', device }); // (b, T)
        const out = noGrad(() => model.forward(idx, mask)); // (b)
        idx.dispose();
        mask.dispose();
        scores.push(...(await out.data()));
        out.dispose();
      }
    } finally {
      model.train(wasTraining);
    }
    return scores;
  };
}
