// Corpus BLEU on pre-tokenized text with sacrebleu's arithmetic (equal to NLTK's corpus_bleu
// apart from the two differences noted below): clipped n-gram matches summed over the corpus,
// geometric mean of modified precisions, brevity penalty from the closest reference length.

import { ValueError, checkBool, checkEnum, checkOptions, checkRange, checkSize, fmtValue } from '@webgrad/core';
import { NgramCounter } from './ngrams.js';

const SMOOTHINGS: readonly BleuSmoothing[] = ['none', 'floor', 'add-k', 'exp', 'method1', 'add-1', 'method2', 'method3'];

function checkBleuOptions(op: string, options: BleuOptions): void {
  checkOptions(op, options, ['maxOrder', 'smoothing', 'smoothValue', 'effectiveOrder']);
  if (options.maxOrder !== undefined) checkSize(op, 'maxOrder', options.maxOrder, 1);
  if (options.smoothing !== undefined) checkEnum(op, 'smoothing', options.smoothing, SMOOTHINGS);
  if (options.smoothValue !== undefined) checkRange(op, 'smoothValue', options.smoothValue, 0, Infinity);
  if (options.effectiveOrder !== undefined) checkBool(op, 'effectiveOrder', options.effectiveOrder);
}

/**
 * Smoothing of zero n-gram precisions (applied to corpus-level counts):
 * - 'none': any zero precision makes BLEU 0 (sacrebleu 'none'; NLTK method0 gives ~1e-77).
 * - 'floor' (alias 'method1'): a zero match count becomes `smoothValue` (default 0.1), i.e.
 *   p_n = 0.1 / total_n — NLTK SmoothingFunction().method1 (epsilon 0.1) = sacrebleu 'floor'.
 * - 'add-k' (alias 'add-1', 'method2'): for n >= 2 add k (`smoothValue`, default 1) to both the
 *   match count and the total — sacrebleu 'add-k' = NLTK method2 (Lin & Och 2004).
 * - 'exp' (alias 'method3'): the i-th zero precision becomes 1 / (2^i * total_n) — sacrebleu
 *   'exp' = NLTK method3 (NIST geometric sequence).
 * In every mode, no unigram match at all gives BLEU 0 (both references do the same).
 */
export type BleuSmoothing = 'none' | 'floor' | 'add-k' | 'exp' | 'method1' | 'add-1' | 'method2' | 'method3';

/** Options of `corpusBleu` / `sentenceBleu`. */
export interface BleuOptions {
  /** Highest n-gram order (default 4); weights are uniform 1/maxOrder. */
  maxOrder?: number;
  /** How zero n-gram precisions are smoothed (default 'none'). */
  smoothing?: BleuSmoothing;
  /** epsilon for 'floor' (default 0.1), k for 'add-k' (default 1). */
  smoothValue?: number;
  /** Average only over orders with at least one hypothesis n-gram (sacrebleu effective order). Default false. */
  effectiveOrder?: boolean;
}

/** BLEU with its parts, as sacrebleu's BLEUScore reports them (on a 0–1 scale). */
export interface BleuResult {
  /** BLEU in [0, 1] (sacrebleu reports 100x this). */
  bleu: number;
  /** Modified precision per order after smoothing, in [0, 1]. */
  precisions: number[];
  /** Clipped match counts per order (before smoothing). */
  matches: number[];
  /** Hypothesis n-gram counts per order (before smoothing). */
  totals: number[];
  /** exp(1 − refLength / hypLength) when the hypotheses are shorter, else 1. */
  brevityPenalty: number;
  /** hypLength / refLength. */
  ratio: number;
  /** Tokens in the hypotheses. */
  hypLength: number;
  /** Tokens in the closest-length reference of each hypothesis, summed. */
  refLength: number;
}

/** A tokenized sentence, or a string split on whitespace. */
export type BleuTokens = readonly string[] | string;

function toks(t: BleuTokens): readonly string[] {
  return typeof t === 'string' ? t.split(/\s+/u).filter((w) => w.length > 0) : t;
}

/**
 * Corpus BLEU. `references[i]` lists the references of hypothesis i (any count >= 1).
 * Differences from NLTK's corpus_bleu (this follows sacrebleu): a hypothesis with fewer than n
 * tokens adds 0 (NLTK: 1) to the order-n total, and unsmoothed zero precisions give exactly 0.
 */
export function corpusBleu(hypotheses: readonly BleuTokens[], references: readonly (readonly BleuTokens[])[], options: BleuOptions = {}): BleuResult {
  for (const [name, v] of [['hypotheses', hypotheses], ['references', references]] as const) {
    if (!Array.isArray(v)) throw new ValueError(`corpusBleu: ${name} must be an array, got ${fmtValue(v)}`);
  }
  checkBleuOptions('corpusBleu', options);
  if (hypotheses.length !== references.length) {
    throw new RangeError(`corpusBleu: ${hypotheses.length} hypotheses but ${references.length} reference lists`);
  }
  const N = options.maxOrder ?? 4;
  let smoothing = options.smoothing ?? 'none';
  if (smoothing === 'method1') smoothing = 'floor';
  if (smoothing === 'add-1' || smoothing === 'method2') smoothing = 'add-k';
  if (smoothing === 'method3') smoothing = 'exp';
  const smoothValue = options.smoothValue ?? (smoothing === 'floor' ? 0.1 : 1);

  const counter = new NgramCounter();
  const matches = new Array<number>(N).fill(0);
  const totals = new Array<number>(N).fill(0);
  let hypLength = 0;
  let refLength = 0;
  for (let s = 0; s < hypotheses.length; s++) {
    const hyp = counter.ids(toks(hypotheses[s]!));
    const refs = references[s]!.map((r) => counter.ids(toks(r)));
    if (refs.length === 0) throw new RangeError(`corpusBleu: hypothesis ${s} has no references`);
    hypLength += hyp.length;
    // Closest reference length; ties go to the shorter reference.
    let best = refs[0]!.length;
    for (const r of refs) {
      const d = Math.abs(r.length - hyp.length);
      const bd = Math.abs(best - hyp.length);
      if (d < bd || (d === bd && r.length < best)) best = r.length;
    }
    refLength += best;
    for (let n = 1; n <= N; n++) {
      const h = NgramCounter.count(hyp, n);
      const maxRef = new Map<string, number>();
      for (const r of refs) {
        for (const [k, c] of NgramCounter.count(r, n)) if (c > (maxRef.get(k) ?? 0)) maxRef.set(k, c);
      }
      for (const [k, c] of h) {
        totals[n - 1]! += c;
        matches[n - 1]! += Math.min(c, maxRef.get(k) ?? 0);
      }
    }
  }

  const brevityPenalty = hypLength >= refLength ? 1 : hypLength > 0 ? Math.exp(1 - refLength / hypLength) : 0;
  const ratio = refLength > 0 ? hypLength / refLength : hypLength > 0 ? Infinity : 0;
  const precisions = new Array<number>(N).fill(0);
  const result = (bleu: number): BleuResult => ({ bleu, precisions, matches, totals, brevityPenalty, ratio, hypLength, refLength });
  if (matches.every((m) => m === 0)) return result(0);

  let effOrder = N;
  let expDen = 1;
  for (let n = 1; n <= N; n++) {
    let m = matches[n - 1]!;
    let t = totals[n - 1]!;
    if (smoothing === 'add-k' && n > 1) {
      m += smoothValue;
      t += smoothValue;
    }
    if (t === 0) break;
    if (options.effectiveOrder) effOrder = n;
    if (m === 0) {
      if (smoothing === 'exp') {
        expDen *= 2;
        precisions[n - 1] = 1 / (expDen * t);
      } else if (smoothing === 'floor') {
        precisions[n - 1] = smoothValue / t;
      }
    } else {
      precisions[n - 1] = m / t;
    }
  }
  let logSum = 0;
  for (let n = 0; n < effOrder; n++) {
    const p = precisions[n]!;
    if (p <= 0) return result(0);
    logSum += Math.log(p);
  }
  return result(brevityPenalty * Math.exp(logSum / effOrder));
}

/** BLEU of one hypothesis against its references (corpusBleu of a one-sentence corpus). */
export function sentenceBleu(hypothesis: BleuTokens, references: readonly BleuTokens[], options: BleuOptions = {}): BleuResult {
  if (!Array.isArray(references)) throw new ValueError(`sentenceBleu: references must be an array, got ${fmtValue(references)}`);
  checkBleuOptions('sentenceBleu', options);
  return corpusBleu([hypothesis], [references], options);
}
