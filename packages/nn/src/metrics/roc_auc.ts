// Binary ROC-AUC from scores, equal to sklearn.metrics.roc_auc_score: the trapezoid area under
// the ROC curve, computed as the Mann-Whitney U statistic with average ranks for tied scores
// (the two are identical, ties included).

import { checkNumber, checkOptions } from '@webgrad/core';
import type { Label, LabelArray } from './labels.js';

/**
 * Area under the ROC curve. `yTrue` holds binary labels: the positive class is `posLabel`
 * (default 1) and every other value is negative. Throws if only one class is present (as
 * sklearn does) or a score is NaN.
 */
export function rocAuc(yTrue: LabelArray, scores: ArrayLike<number>, options: { posLabel?: Label } = {}): number {
  checkOptions('rocAuc', options, ['posLabel']);
  if (options.posLabel !== undefined && typeof options.posLabel !== 'string') checkNumber('rocAuc', 'posLabel', options.posLabel);
  const n = yTrue.length;
  if (scores.length !== n) throw new RangeError(`rocAuc: yTrue has ${n} entries but scores has ${scores.length}`);
  const pos = options.posLabel ?? 1;
  const distinct = new Set<Label>();
  for (let i = 0; i < n; i++) distinct.add(yTrue[i]!);
  if (distinct.size > 2) throw new RangeError(`rocAuc: yTrue has ${distinct.size} classes; only binary targets are supported`);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n; i++) if (Number.isNaN(scores[i]!)) throw new RangeError(`rocAuc: score ${i} is NaN`);
  order.sort((a, b) => scores[a]! - scores[b]!);
  let nPos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const avgRank = (i + j) / 2 + 1; // 1-based average rank of the tie group
    for (let k = i; k <= j; k++) {
      if (yTrue[order[k]!] === pos) {
        nPos++;
        rankSumPos += avgRank;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) {
    throw new RangeError('rocAuc: only one class present in yTrue; ROC AUC is not defined in that case');
  }
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}
