// BERT's masked-language-model corruption (Devlin et al. 2019, §3.1): each eligible token is chosen
// with probability `prob`; a chosen token becomes [MASK] 80% of the time, a uniformly random token
// 10%, and stays unchanged 10%. Labels hold the original id where chosen and −100 elsewhere (the
// ignore index of crossEntropy). Randomness comes from the core seeded generator.
import {
  DTypeError, ValueError, checkInt, checkOptions, checkRange, checkSize, checkTensor, fmtValue, getRngState, manualSeed, rand, randint,
  setRngState, tidy, where, type Tensor,
} from '@webgrad/core';

/** Options of `maskTokens` (BERT's masking, as Hugging Face's DataCollatorForLanguageModeling with `mlm_probability` = `prob`). */
export interface MaskTokensOptions {
  /** Id of the [MASK] token. */
  maskTokenId: number;
  /** Random replacements are drawn uniformly from [0, vocabSize). */
  vocabSize: number;
  /** Probability that a token is chosen (default 0.15). */
  prob?: number;
  /** Ids never chosen (e.g. [CLS], [SEP], [PAD]). */
  specialTokenIds?: readonly number[];
  /** (B, T): 0/false positions (padding) are never chosen. */
  attentionMask?: Tensor | null;
  /** Draw from this seed and then restore the global generator state (reproducible, no side effect). */
  seed?: number;
}

/** ids (B, T) int32 → { inputs: corrupted ids, labels: original id where chosen, −100 elsewhere }. */
export function maskTokens(ids: Tensor, opts: MaskTokensOptions): {
  /** (B, T) int32: the ids with the chosen tokens corrupted. */
  inputs: Tensor;
  /** (B, T) int32: the original id where chosen, −100 elsewhere. */
  labels: Tensor;
} {
  const op = 'maskTokens';
  if (checkTensor(op, 'ids', ids).dtype !== 'int32') throw new DTypeError(`maskTokens: ids must be int32, got ${ids.dtype}`);
  checkOptions(op, opts, ['maskTokenId', 'vocabSize', 'prob', 'specialTokenIds', 'attentionMask', 'seed']);
  checkSize(op, 'vocabSize', opts.vocabSize, 1);
  checkInt(op, 'maskTokenId', opts.maskTokenId, { min: 0 });
  const prob = checkRange(op, 'prob', opts.prob === undefined ? 0.15 : opts.prob, 0, 1);
  if (opts.specialTokenIds !== undefined) {
    if (!Array.isArray(opts.specialTokenIds)) throw new ValueError(`maskTokens: specialTokenIds must be an array of token ids, got ${fmtValue(opts.specialTokenIds)}`);
    opts.specialTokenIds.forEach((t, i) => checkInt(op, `specialTokenIds[${i}]`, t));
  }
  if (opts.attentionMask != null) checkTensor(op, 'attentionMask', opts.attentionMask);
  if (opts.seed !== undefined) checkInt(op, 'seed', opts.seed);
  const saved = opts.seed === undefined ? null : getRngState();
  if (opts.seed !== undefined) manualSeed(opts.seed);
  try {
    return tidy(() => {
      const device = ids.device;
      let chosen = rand(ids.shape, { device }).lt(prob);
      for (const s of opts.specialTokenIds ?? []) chosen = chosen.logicalAnd(ids.ne(s));
      if (opts.attentionMask) chosen = chosen.logicalAnd(opts.attentionMask.ne(0));
      const labels = where(chosen, ids, -100);
      const u = rand(ids.shape, { device });
      const random = randint(0, opts.vocabSize, ids.shape, { device });
      let inputs = where(chosen.logicalAnd(u.lt(0.8)), opts.maskTokenId, ids);
      inputs = where(chosen.logicalAnd(u.ge(0.8)).logicalAnd(u.lt(0.9)), random, inputs);
      return { inputs: inputs.int(), labels: labels.int() };
    });
  } finally {
    if (saved) setRngState(saved);
  }
}
