// Perplexity of a language model from its negative log-likelihood in nats.
import { checkNumber } from '@webgrad/core';

/** exp(mean NLL): perplexity from the mean per-token negative log-likelihood in nats. */
export function perplexity(meanNll: number): number {
  checkNumber('perplexity', 'meanNll', meanNll);
  return Math.exp(meanNll);
}

/**
 * Perplexity from per-token NLLs (nats), or from per-batch NLL sums with token counts:
 * exp(sum(nll) / sum(counts)).
 */
export function perplexityFromNlls(nlls: ArrayLike<number>, counts?: ArrayLike<number>): number {
  if (counts !== undefined && counts.length !== nlls.length) {
    throw new RangeError(`perplexityFromNlls: ${nlls.length} nll values but ${counts.length} counts`);
  }
  let s = 0;
  let c = 0;
  for (let i = 0; i < nlls.length; i++) {
    s += nlls[i]!;
    c += counts ? counts[i]! : 1;
  }
  if (c === 0) throw new RangeError('perplexityFromNlls: no tokens');
  return Math.exp(s / c);
}
