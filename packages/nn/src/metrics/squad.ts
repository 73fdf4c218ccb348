// Question-answering metrics exactly as the SQuAD v1.1 evaluation script computes them:
// answer normalization, exact match, token-overlap F1, max over ground truths, and the
// dataset-level percentages.

const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'); // Python's string.punctuation
// Python's \b(a|an|the)\b on str: word characters are Unicode letters/digits and "_".
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** SQuAD normalize_answer: lowercase, drop ASCII punctuation, drop articles a/an/the, collapse whitespace. */
export function normalizeAnswer(s: string): string {
  let t = s.toLowerCase();
  let out = '';
  for (const ch of t) if (!PUNCTUATION.has(ch)) out += ch;
  t = out.replace(ARTICLES, ' ');
  return t.split(/\s+/u).filter((w) => w.length > 0).join(' ');
}

function tokens(s: string): string[] {
  const n = normalizeAnswer(s);
  return n.length === 0 ? [] : n.split(' ');
}

function asList(groundTruths: string | readonly string[]): readonly string[] {
  return typeof groundTruths === 'string' ? [groundTruths] : groundTruths;
}

function f1Single(prediction: string, truth: string): number {
  const p = tokens(prediction);
  const g = tokens(truth);
  const counts = new Map<string, number>();
  for (const w of g) counts.set(w, (counts.get(w) ?? 0) + 1);
  let same = 0;
  for (const w of p) {
    const c = counts.get(w) ?? 0;
    if (c > 0) {
      same++;
      counts.set(w, c - 1);
    }
  }
  if (same === 0) return 0; // v1.1: also 0 when both answers normalize to nothing
  const precision = same / p.length;
  const recall = same / g.length;
  return (2 * precision * recall) / (precision + recall);
}

/** 1 if the normalized prediction equals a normalized ground truth, else 0 (max over truths). */
export function squadExactMatch(prediction: string, groundTruths: string | readonly string[]): number {
  const np = normalizeAnswer(prediction);
  let best = 0;
  for (const g of asList(groundTruths)) if (normalizeAnswer(g) === np) best = 1;
  return best;
}

/** Token-overlap F1 in [0, 1], max over ground truths (SQuAD v1.1 f1_score). */
export function squadF1(prediction: string, groundTruths: string | readonly string[]): number {
  let best = 0;
  for (const g of asList(groundTruths)) best = Math.max(best, f1Single(prediction, g));
  return best;
}

/** Dataset-level scores as the SQuAD v1.1 script reports them: percentages in [0, 100]. */
export interface SquadScores {
  /** Percentage of predictions equal to a ground truth after normalization. */
  exactMatch: number;
  /** Mean token-overlap F1 against the best-matching ground truth, in percent. */
  f1: number;
}

/** Mean exact match and F1 over examples, times 100 (like the SQuAD v1.1 script's output). */
export function squadEvaluate(predictions: readonly string[], groundTruths: readonly (string | readonly string[])[]): SquadScores {
  if (predictions.length !== groundTruths.length) {
    throw new RangeError(`squadEvaluate: ${predictions.length} predictions but ${groundTruths.length} ground-truth lists`);
  }
  if (predictions.length === 0) throw new RangeError('squadEvaluate: empty input');
  let em = 0;
  let f1 = 0;
  for (let i = 0; i < predictions.length; i++) {
    em += squadExactMatch(predictions[i]!, groundTruths[i]!);
    f1 += squadF1(predictions[i]!, groundTruths[i]!);
  }
  return { exactMatch: (100 * em) / predictions.length, f1: (100 * f1) / predictions.length };
}
