// Reference log-probs computed once: the reference policy's log-probs of every pair's chosen and
// rejected completions, stored on the pairs (`refChosenLogp`, `refRejectedLogp`) so that training
// needs no second model (TRL's `precompute_ref_log_probs`). `collatePreferences` turns them into
// the batch's `refChosenLogps` / `refRejectedLogps`.
import { ValueError, checkBool, checkOptions, checkSize, fmtValue, noGrad, tidy } from '@webgrad/core';
import type { GPT } from '@webgrad/nn';
import { checkGPT } from '../args.js';
import { concatenatedLogProbs } from './concatenated_forward.js';
import { checkPreferencePair, collatePreferences, type PreferencePair } from './preference_data.js';

/** Options of `precomputeRefLogProbs`. */
export interface PrecomputeRefOptions {
  /** Pairs per forward pass (default 32). */
  batchSize?: number;
  /** Length-averaged log-probs, as the IPO loss takes them (default false: sums). */
  averageLogProb?: boolean;
}

/**
 * Copies of `pairs` carrying `ref`'s log-probs of their completions. `ref` runs in eval mode
 * under noGrad (its mode is restored); it may be the policy itself before training starts.
 */
export async function precomputeRefLogProbs(ref: GPT, pairs: readonly PreferencePair[], opts: PrecomputeRefOptions = {}): Promise<PreferencePair[]> {
  const op = 'precomputeRefLogProbs';
  checkGPT(op, 'ref', ref);
  checkOptions(op, opts, ['batchSize', 'averageLogProb']);
  const n = opts.batchSize === undefined ? 32 : checkSize(op, 'batchSize', opts.batchSize, 1);
  const averageLogProb = opts.averageLogProb === undefined ? false : checkBool(op, 'averageLogProb', opts.averageLogProb);
  if (!Array.isArray(pairs) || pairs.length === 0) throw new ValueError(`${op}: pairs must be a non-empty array of preference pairs, got ${fmtValue(pairs)}`);
  const out = pairs.map((p, i) => checkPreferencePair(op, p, `pairs[${i}]`, ref.config.vocabSize));
  const device = ref.wte.weight.device;
  const wasTraining = ref.training;
  ref.eval();
  try {
    for (let s = 0; s < out.length; s += n) {
      const chunk = out.slice(s, s + n);
      const lp = noGrad(() => tidy(() => {
        const { chosenLogps, rejectedLogps } = concatenatedLogProbs(ref, collatePreferences(chunk, { device }), { averageLogProb });
        return { chosenLogps, rejectedLogps };
      }));
      const c = await lp.chosenLogps.data();
      const r = await lp.rejectedLogps.data();
      lp.chosenLogps.dispose();
      lp.rejectedLogps.dispose();
      chunk.forEach((p, i) => { p.refChosenLogp = c[i]!; p.refRejectedLogp = r[i]!; });
    }
  } finally {
    ref.train(wasTraining);
  }
  return out;
}
