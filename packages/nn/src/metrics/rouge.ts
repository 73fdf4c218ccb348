// ROUGE-1, ROUGE-2 and ROUGE-L (sentence-level LCS) as Google's rouge-score package computes
// them without stemming: lowercase, every run of characters other than [a-z0-9] separates
// tokens, precision/recall/F-measure per type.

import { checkSize } from '@webgrad/core';
import { NgramCounter } from './ngrams.js';

/** One ROUGE variant's precision, recall and F-measure, each in [0, 1]. */
export interface RougeScore {
  /** Matches over the prediction's n-grams (or length, for ROUGE-L). */
  precision: number;
  /** Matches over the target's n-grams (or length). */
  recall: number;
  /** Harmonic mean of precision and recall. */
  fmeasure: number;
}

/** ROUGE-1 (unigrams), ROUGE-2 (bigrams) and ROUGE-L (longest common subsequence), as Google's rouge-score computes them. */
export interface RougeScores {
  /** Unigram overlap. */
  rouge1: RougeScore;
  /** Bigram overlap. */
  rouge2: RougeScore;
  /** Longest common subsequence. */
  rougeL: RougeScore;
}

/** rouge-score's default tokenizer without stemming. Non-ASCII letters are separators. */
export function rougeTokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .split(/\s+/)
    .filter((t) => /^[a-z0-9]+$/.test(t));
}

function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function ngramScore(target: readonly string[], prediction: readonly string[], n: number): RougeScore {
  const c = new NgramCounter();
  const t = NgramCounter.count(c.ids(target), n);
  const p = NgramCounter.count(c.ids(prediction), n);
  let overlap = 0;
  for (const [k, v] of t) overlap += Math.min(v, p.get(k) ?? 0);
  let tc = 0;
  let pc = 0;
  for (const v of t.values()) tc += v;
  for (const v of p.values()) pc += v;
  const precision = overlap / Math.max(pc, 1);
  const recall = overlap / Math.max(tc, 1);
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

function lcsLength(a: readonly string[], b: readonly string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diag = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = a[i - 1] === b[j - 1] ? diag + 1 : Math.max(up, row[j - 1]!);
      diag = up;
    }
  }
  return row[b.length]!;
}

/** ROUGE-N between a target (reference) and a prediction. */
export function rougeN(target: string, prediction: string, n: number): RougeScore {
  checkSize('rougeN', 'n', n, 1);
  return ngramScore(rougeTokenize(target), rougeTokenize(prediction), n);
}

/** Sentence-level ROUGE-L (longest common subsequence); all zeros if either side has no tokens. */
export function rougeL(target: string, prediction: string): RougeScore {
  const t = rougeTokenize(target);
  const p = rougeTokenize(prediction);
  if (t.length === 0 || p.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const l = lcsLength(t, p);
  const precision = l / p.length;
  const recall = l / t.length;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** ROUGE-1, ROUGE-2 and ROUGE-L, like rouge_scorer.RougeScorer([...]).score(target, prediction). */
export function rougeScores(target: string, prediction: string): RougeScores {
  const t = rougeTokenize(target);
  const p = rougeTokenize(prediction);
  return { rouge1: ngramScore(t, p, 1), rouge2: ngramScore(t, p, 2), rougeL: rougeL(target, prediction) };
}

/** Several references: per type, the score with the highest F-measure (rouge-score's score_multi). */
export function rougeScoresMulti(targets: readonly string[], prediction: string): RougeScores {
  if (targets.length === 0) throw new RangeError('rougeScoresMulti: no targets');
  const all = targets.map((t) => rougeScores(t, prediction));
  const pick = (k: keyof RougeScores): RougeScore => all.reduce((a, b) => (b[k].fmeasure > a[k].fmeasure ? b : a))[k];
  return { rouge1: pick('rouge1'), rouge2: pick('rouge2'), rougeL: pick('rougeL') };
}

/** Plain mean of per-example scores (rouge-score's BootstrapAggregator estimates it by resampling). */
export function meanRouge(scores: readonly RougeScores[]): RougeScores {
  if (scores.length === 0) throw new RangeError('meanRouge: no scores');
  const mean = (k: keyof RougeScores): RougeScore => {
    let p = 0;
    let r = 0;
    let f = 0;
    for (const s of scores) {
      p += s[k].precision;
      r += s[k].recall;
      f += s[k].fmeasure;
    }
    return { precision: p / scores.length, recall: r / scores.length, fmeasure: f / scores.length };
  };
  return { rouge1: mean('rouge1'), rouge2: mean('rouge2'), rougeL: mean('rougeL') };
}
