// BERT's masked-LM corruption (Devlin et al. 2019, §3.1), drawn on the host for sparse prediction:
// each token that is not special is chosen with probability `prob` (at least one per batch); a
// chosen token becomes [MASK] 80% of the time, a random non-special token 10%, and stays as it is
// 10%. Besides the corrupted ids it returns the chosen positions and their original ids, so the
// model predicts only those (the output layer over the vocabulary runs on ~15% of the positions
// instead of all of them). Randomness comes from a SeededRandom of `seed`.
import { SeededRandom } from '@webgrad/data';

export interface MaskTokensOptions {
  /** Probability that a token is chosen for prediction (BERT: 0.15). */
  prob: number;
  maskId: number;
  vocabSize: number;
  /** Ids never chosen and never drawn as random replacements ([PAD], [CLS], [SEP], [MASK]). */
  specialIds: readonly number[];
  seed: number;
}

export interface MaskedTokens {
  /** The ids with the chosen positions corrupted (same layout as the input). */
  inputs: Int32Array;
  /** Flat indices of the chosen positions, ascending. */
  positions: Int32Array;
  /** The original ids at those positions. */
  targets: Int32Array;
}

export function maskTokens(ids: Int32Array, opts: MaskTokensOptions): MaskedTokens {
  const { prob, maskId, vocabSize, specialIds } = opts;
  if (!(prob >= 0 && prob <= 1)) throw new RangeError(`maskTokens: prob must be in [0, 1], got ${prob}`);
  const special = new Set(specialIds);
  if (special.size >= vocabSize) throw new RangeError(`maskTokens: every id of the vocabulary of ${vocabSize} is special`);
  const rng = new SeededRandom(opts.seed);
  const inputs = Int32Array.from(ids);
  const positions: number[] = [];
  const eligible: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (special.has(ids[i]!)) continue;
    eligible.push(i);
    if (rng.random() < prob) positions.push(i);
  }
  if (positions.length === 0 && eligible.length > 0) positions.push(eligible[rng.below(eligible.length)]!);
  const randomToken = () => {
    for (;;) {
      const t = rng.below(vocabSize);
      if (!special.has(t)) return t;
    }
  };
  for (const i of positions) {
    const u = rng.random();
    if (u < 0.8) inputs[i] = maskId;
    else if (u < 0.9) inputs[i] = randomToken();
  }
  return { inputs, positions: Int32Array.from(positions), targets: Int32Array.from(positions, (i) => ids[i]!) };
}
