// Classification metrics with scikit-learn semantics: accuracy, top-k accuracy, confusion
// matrix, and precision / recall / F-beta (binary, micro, macro, weighted, per class) with
// sklearn's zero_division handling (default: an undefined ratio counts as 0, silently).

import { ValueError, checkEnum, checkNumber, checkOptions, checkRange, checkSize, fmtValue } from '@webgrad/core';
import { checkPaired, uniqueLabels, type Label, type LabelArray } from './labels.js';

/** Fraction of positions where yPred equals yTrue (sklearn.metrics.accuracy_score). */
export function accuracy(yTrue: LabelArray, yPred: LabelArray): number {
  checkPaired('accuracy', yTrue, yPred);
  if (yTrue.length === 0) throw new RangeError('accuracy: empty input');
  let hit = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hit++;
  return hit / yTrue.length;
}

/**
 * Top-k accuracy from row-major scores [n, numClasses] (sklearn.metrics.top_k_accuracy_score
 * for multiclass): a row counts if its true class is among the k highest scores. Ties are
 * broken like sklearn (a stable ascending sort reversed: among equal scores the higher class
 * index ranks first).
 */
export function topKAccuracy(scores: ArrayLike<number>, numClasses: number, yTrue: ArrayLike<number>, k: number): number {
  const n = yTrue.length;
  checkSize('topKAccuracy', 'numClasses', numClasses, 1);
  checkSize('topKAccuracy', 'k', k, 1);
  if (scores.length !== n * numClasses) throw new RangeError(`topKAccuracy: scores has ${scores.length} entries, expected ${n} x ${numClasses}`);
  if (n === 0) throw new RangeError('topKAccuracy: empty input');
  let hit = 0;
  for (let r = 0; r < n; r++) {
    const t = yTrue[r]!;
    if (!Number.isInteger(t) || t < 0 || t >= numClasses) throw new RangeError(`topKAccuracy: label ${t} at row ${r} is not in [0, ${numClasses})`);
    const st = scores[r * numClasses + t]!;
    // Classes ranked before t: strictly higher score, or equal score and higher index.
    let ahead = 0;
    for (let c = 0; c < numClasses; c++) {
      const s = scores[r * numClasses + c]!;
      if (s > st || (s === st && c > t)) ahead++;
    }
    if (ahead < k) hit++;
  }
  return hit / n;
}

/** Result of `confusionMatrix`. */
export interface ConfusionMatrix {
  /** Row/column labels (sorted union of yTrue and yPred unless given). */
  labels: Label[];
  /** matrix[i][j] = number of samples with true label labels[i] predicted as labels[j]. */
  matrix: number[][];
}

/** Confusion matrix like sklearn.metrics.confusion_matrix (rows: true, columns: predicted). */
export function confusionMatrix(yTrue: LabelArray, yPred: LabelArray, options: { labels?: readonly Label[] } = {}): ConfusionMatrix {
  checkPaired('confusionMatrix', yTrue, yPred);
  checkOptions('confusionMatrix', options, ['labels']);
  if (options.labels !== undefined) checkLabels('confusionMatrix', options.labels);
  const labels = options.labels ? [...options.labels] : uniqueLabels(yTrue, yPred);
  const index = new Map<Label, number>();
  labels.forEach((l, i) => index.set(l, i));
  const matrix = labels.map(() => labels.map(() => 0));
  for (let i = 0; i < yTrue.length; i++) {
    const a = index.get(yTrue[i]!);
    const b = index.get(yPred[i]!);
    if (a !== undefined && b !== undefined) matrix[a]![b]!++;
  }
  return { labels, matrix };
}

/** Value of an undefined ratio (0/0), like sklearn's zero_division: 0 (default), 1 or NaN. */
export type ZeroDivision = 0 | 1 | 'nan';
/** How precision/recall/F are averaged over classes, as sklearn's `average`: 'binary' (the `posLabel` class only), 'micro' (global counts), 'macro' (unweighted mean), 'weighted' (mean weighted by support). */
export type Average = 'binary' | 'micro' | 'macro' | 'weighted';

/** Options of `precisionRecallF1`, `precisionScore`, `recallScore` and `f1Score` (sklearn's names, camelCase). */
export interface PrfOptions {
  /** Default 'binary' (as sklearn). */
  average?: Average;
  /** Positive class for average='binary' (default 1). */
  posLabel?: Label;
  /** Labels to include (default: sorted union of yTrue and yPred). Ignored for 'binary'. */
  labels?: readonly Label[];
  /** Default 0. */
  zeroDivision?: ZeroDivision;
  /** F-beta's beta (default 1). */
  beta?: number;
}

/** Averaged precision, recall and F-beta, each in [0, 1]. */
export interface PrfScores {
  /** TP / (TP + FP). */
  precision: number;
  /** TP / (TP + FN). */
  recall: number;
  /** F-beta score (F1 unless beta was given). */
  f1: number;
  /** Number of true samples of the included labels. */
  support: number;
}

/** Per-class precision, recall, F-beta and support, aligned with `labels`. */
export interface PrfPerClass {
  /** The labels, in the order of the arrays below. */
  labels: Label[];
  /** Precision of each label. */
  precision: number[];
  /** Recall of each label. */
  recall: number[];
  /** F-beta of each label. */
  f1: number[];
  /** True samples of each label. */
  support: number[];
}

const AVERAGES: readonly Average[] = ['binary', 'micro', 'macro', 'weighted'];

function checkLabels(op: string, labels: unknown): void {
  if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'number' && typeof l !== 'string')) {
    throw new ValueError(`${op}: labels must be an array of numbers or strings, got ${fmtValue(labels)}`);
  }
}

/** Check the options of the precision/recall/F functions; `keys` are the ones `op` takes. */
function checkPrfOptions(op: string, options: PrfOptions, keys: readonly (keyof PrfOptions)[] = ['average', 'posLabel', 'labels', 'zeroDivision', 'beta']): void {
  checkOptions(op, options, keys);
  if (options.average !== undefined) checkEnum(op, 'average', options.average, AVERAGES);
  if (options.posLabel !== undefined && typeof options.posLabel !== 'string') checkNumber(op, 'posLabel', options.posLabel);
  if (options.labels !== undefined) checkLabels(op, options.labels);
  if (options.zeroDivision !== undefined) checkEnum(op, 'zeroDivision', options.zeroDivision, [0, 1, 'nan']);
  if (options.beta !== undefined && options.beta !== Infinity) checkRange(op, 'beta', options.beta, 0, Infinity);
}

function zdValue(z: ZeroDivision): number {
  return z === 'nan' ? NaN : z;
}

function divide(num: number, den: number, z: ZeroDivision): number {
  return den === 0 ? zdValue(z) : num / den;
}

/** F-beta from counts, as sklearn >= 1.3: (1+b²)tp / (b²(tp+fn) + (tp+fp)). */
function fbeta(tp: number, predSum: number, trueSum: number, beta: number, z: ZeroDivision): number {
  const b2 = beta * beta;
  if (beta === Infinity) return divide(tp, trueSum, z);
  if (beta === 0) return divide(tp, predSum, z);
  return divide((1 + b2) * tp, b2 * trueSum + predSum, z);
}

interface Counts {
  labels: Label[];
  tp: number[];
  predSum: number[];
  trueSum: number[];
}

function countPerLabel(yTrue: LabelArray, yPred: LabelArray, labels: Label[]): Counts {
  const index = new Map<Label, number>();
  labels.forEach((l, i) => index.set(l, i));
  const tp = labels.map(() => 0);
  const predSum = labels.map(() => 0);
  const trueSum = labels.map(() => 0);
  for (let i = 0; i < yTrue.length; i++) {
    const t = index.get(yTrue[i]!);
    const p = index.get(yPred[i]!);
    if (t !== undefined) trueSum[t]!++;
    if (p !== undefined) predSum[p]!++;
    if (t !== undefined && yTrue[i] === yPred[i]) tp[t]!++;
  }
  return { labels, tp, predSum, trueSum };
}

/** Precision, recall, F-beta and support per label (sklearn average=None). */
export function precisionRecallF1PerClass(
  yTrue: LabelArray,
  yPred: LabelArray,
  options: { labels?: readonly Label[]; zeroDivision?: ZeroDivision; beta?: number } = {},
): PrfPerClass {
  checkPaired('precisionRecallF1PerClass', yTrue, yPred);
  checkPrfOptions('precisionRecallF1PerClass', options, ['labels', 'zeroDivision', 'beta']);
  const z = options.zeroDivision ?? 0;
  const beta = options.beta ?? 1;
  const labels = options.labels ? [...options.labels] : uniqueLabels(yTrue, yPred);
  const c = countPerLabel(yTrue, yPred, labels);
  return {
    labels,
    precision: labels.map((_, i) => divide(c.tp[i]!, c.predSum[i]!, z)),
    recall: labels.map((_, i) => divide(c.tp[i]!, c.trueSum[i]!, z)),
    f1: labels.map((_, i) => fbeta(c.tp[i]!, c.predSum[i]!, c.trueSum[i]!, beta, z)),
    support: c.trueSum.slice(),
  };
}

function nanAverage(values: number[], weights?: number[]): number {
  let s = 0;
  let w = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    const wi = weights ? weights[i]! : 1;
    s += v * wi;
    w += wi;
  }
  return w === 0 ? NaN : s / w;
}

/**
 * Precision, recall and F-beta like sklearn.metrics.precision_recall_fscore_support with an
 * average: 'binary' (scores of posLabel; throws for more than two classes), 'micro' (global
 * counts), 'macro' (unweighted mean over labels; NaN entries from zeroDivision 'nan' are
 * skipped) or 'weighted' (mean weighted by support).
 */
export function precisionRecallF1(yTrue: LabelArray, yPred: LabelArray, options: PrfOptions = {}): PrfScores {
  checkPaired('precisionRecallF1', yTrue, yPred);
  checkPrfOptions('precisionRecallF1', options);
  const average = options.average ?? 'binary';
  const z = options.zeroDivision ?? 0;
  const beta = options.beta ?? 1;
  if (average === 'binary') {
    const present = uniqueLabels(yTrue, yPred);
    const pos = options.posLabel ?? 1;
    if (present.length > 2) {
      throw new RangeError(`precisionRecallF1: target has ${present.length} classes but average='binary'; choose 'micro', 'macro' or 'weighted'`);
    }
    if (present.length === 2 && !present.includes(pos)) {
      throw new RangeError(`precisionRecallF1: posLabel=${String(pos)} is not a valid label; labels are ${present.join(', ')}`);
    }
    const c = countPerLabel(yTrue, yPred, [pos]);
    return {
      precision: divide(c.tp[0]!, c.predSum[0]!, z),
      recall: divide(c.tp[0]!, c.trueSum[0]!, z),
      f1: fbeta(c.tp[0]!, c.predSum[0]!, c.trueSum[0]!, beta, z),
      support: c.trueSum[0]!,
    };
  }
  const labels = options.labels ? [...options.labels] : uniqueLabels(yTrue, yPred);
  const c = countPerLabel(yTrue, yPred, labels);
  const support = c.trueSum.reduce((a, b) => a + b, 0);
  if (average === 'micro') {
    const tp = c.tp.reduce((a, b) => a + b, 0);
    const ps = c.predSum.reduce((a, b) => a + b, 0);
    return { precision: divide(tp, ps, z), recall: divide(tp, support, z), f1: fbeta(tp, ps, support, beta, z), support };
  }
  const per = precisionRecallF1PerClass(yTrue, yPred, { labels, zeroDivision: z, beta });
  if (average === 'weighted') {
    if (support === 0) return { precision: zdValue(z), recall: zdValue(z), f1: zdValue(z), support };
    const w = c.trueSum;
    return { precision: nanAverage(per.precision, w), recall: nanAverage(per.recall, w), f1: nanAverage(per.f1, w), support };
  }
  if (average === 'macro') {
    return { precision: nanAverage(per.precision), recall: nanAverage(per.recall), f1: nanAverage(per.f1), support };
  }
  throw new RangeError(`precisionRecallF1: unknown average ${String(average)}`);
}

/** Precision only (see precisionRecallF1). */
export function precisionScore(yTrue: LabelArray, yPred: LabelArray, options: PrfOptions = {}): number {
  checkPrfOptions('precisionScore', options);
  return precisionRecallF1(yTrue, yPred, options).precision;
}

/** Recall only (see precisionRecallF1). */
export function recallScore(yTrue: LabelArray, yPred: LabelArray, options: PrfOptions = {}): number {
  checkPrfOptions('recallScore', options);
  return precisionRecallF1(yTrue, yPred, options).recall;
}

/** F1 (or F-beta with options.beta) only (see precisionRecallF1). */
export function f1Score(yTrue: LabelArray, yPred: LabelArray, options: PrfOptions = {}): number {
  checkPrfOptions('f1Score', options);
  return precisionRecallF1(yTrue, yPred, options).f1;
}

