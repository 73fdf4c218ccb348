// Tests for @webgrad/nn metrics. Expected values come from the reference implementations'
// documented outputs (scikit-learn docstrings, NLTK doctests, rouge-score README) or are
// computed by hand from their definitions; each case says which. (No Python reference
// packages are installed on the test machine, so nothing is generated at test time.)
import { describe, expect, it } from 'vitest';
import {
  accuracy,
  confusionMatrix,
  corpusBleu,
  f1Score,
  normalizeAnswer,
  perplexity,
  perplexityFromNlls,
  precisionRecallF1,
  precisionRecallF1PerClass,
  precisionScore,
  recallScore,
  rocAuc,
  rougeScores,
  rougeScoresMulti,
  rougeTokenize,
  sentenceBleu,
  squadEvaluate,
  squadExactMatch,
  squadF1,
  topKAccuracy,
} from '../src/metrics/index.js';

describe('accuracy', () => {
  it('matches sklearn accuracy_score docstring', () => {
    // sklearn docs: accuracy_score([0, 2, 1, 3], [0, 1, 2, 3]) == 0.5
    expect(accuracy([0, 2, 1, 3], [0, 1, 2, 3])).toBe(0.5);
    expect(accuracy(new Int32Array([1, 1]), new Int32Array([1, 1]))).toBe(1);
    expect(accuracy(['a', 'b'], ['a', 'c'])).toBe(0.5);
    expect(() => accuracy([1], [1, 2])).toThrow(RangeError);
  });
  it('top-k accuracy (sklearn top_k_accuracy_score docstring)', () => {
    // sklearn docs: y_true=[0,1,2,2], scores rows below, k=2 -> 0.75
    const s = [0.5, 0.2, 0.2, 0.3, 0.4, 0.2, 0.2, 0.4, 0.3, 0.7, 0.2, 0.1];
    expect(topKAccuracy(s, 3, [0, 1, 2, 2], 2)).toBe(0.75);
    expect(topKAccuracy(s, 3, [0, 1, 2, 2], 3)).toBe(1);
  });
});

describe('precision / recall / F1', () => {
  it('binary (hand count: tp=3, fp=2, fn=1)', () => {
    const t = [1, 1, 0, 1, 0, 0, 1, 0];
    const p = [1, 0, 0, 1, 1, 0, 1, 1];
    const r = precisionRecallF1(t, p);
    expect(r.precision).toBeCloseTo(3 / 5, 15);
    expect(r.recall).toBeCloseTo(3 / 4, 15);
    expect(r.f1).toBeCloseTo(6 / 9, 15); // 2tp/(2tp+fp+fn)
    expect(r.support).toBe(4);
    expect(precisionScore(t, p, { posLabel: 0 })).toBeCloseTo(2 / 3, 15); // tp0=2 (idx 2,5), pred0=3
  });
  it('multiclass macro/micro/weighted/per-class match sklearn docstring', () => {
    // sklearn precision_recall_fscore_support docs: y_true=[0,1,2,0,1,2], y_pred=[0,2,1,0,0,1]
    // macro (0.2222, 0.3333, 0.2666), micro (0.3333, 0.3333, 0.3333), weighted (0.2222, 0.3333, 0.2666)
    const t = [0, 1, 2, 0, 1, 2];
    const p = [0, 2, 1, 0, 0, 1];
    const macro = precisionRecallF1(t, p, { average: 'macro' });
    expect(macro.precision).toBeCloseTo(2 / 9, 12);
    expect(macro.recall).toBeCloseTo(1 / 3, 12);
    expect(macro.f1).toBeCloseTo(0.8 / 3, 12);
    const micro = precisionRecallF1(t, p, { average: 'micro' });
    expect([micro.precision, micro.recall, micro.f1].map((x) => +x.toFixed(12))).toEqual([0.333333333333, 0.333333333333, 0.333333333333]);
    const w = precisionRecallF1(t, p, { average: 'weighted' });
    expect(w.precision).toBeCloseTo(2 / 9, 12);
    expect(w.f1).toBeCloseTo(0.8 / 3, 12);
    const per = precisionRecallF1PerClass(t, p);
    expect(per.labels).toEqual([0, 1, 2]);
    expect(per.precision[0]).toBeCloseTo(2 / 3, 12);
    expect(per.precision.slice(1)).toEqual([0, 0]);
    expect(per.recall).toEqual([1, 0, 0]);
    expect(per.f1[0]).toBeCloseTo(0.8, 12);
    expect(per.support).toEqual([2, 2, 2]);
    expect(() => precisionRecallF1(t, p)).toThrow(/binary/);
  });
  it('zeroDivision like sklearn (default 0, or 1 / nan)', () => {
    // all-negative target and prediction: tp=fp=fn=0 -> every ratio is 0/0
    expect(precisionRecallF1([0, 0, 0], [0, 0, 0])).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(precisionRecallF1([0, 0, 0], [0, 0, 0], { zeroDivision: 1 })).toEqual({ precision: 1, recall: 1, f1: 1, support: 0 });
    expect(Number.isNaN(precisionScore([0, 0], [0, 0], { zeroDivision: 'nan' }))).toBe(true);
    // no positive predictions: precision 0/0 -> 0, recall 0/2, f1 0/(2) = 0
    expect(precisionRecallF1([1, 1, 0], [0, 0, 0])).toEqual({ precision: 0, recall: 0, f1: 0, support: 2 });
    // macro with a label never predicted: per-class precision of label 2 is 0 (zeroDivision)
    expect(precisionScore([0, 1, 2], [0, 1, 1], { average: 'macro' })).toBeCloseTo((1 + 0.5 + 0) / 3, 15);
    // with 'nan' sklearn skips it in the macro mean
    expect(precisionScore([0, 1, 2], [0, 1, 1], { average: 'macro', zeroDivision: 'nan' })).toBeCloseTo(0.75, 15);
  });
  it('all-one class', () => {
    expect(precisionRecallF1([1, 1, 1], [1, 1, 1])).toEqual({ precision: 1, recall: 1, f1: 1, support: 3 });
    expect(recallScore([1, 1, 1], [1, 0, 1])).toBeCloseTo(2 / 3, 15);
    expect(f1Score([1, 1, 1], [1, 0, 1])).toBeCloseTo(0.8, 15); // 2*2/(4+0+1)
  });
});

describe('confusionMatrix', () => {
  it('matches sklearn confusion_matrix docstring', () => {
    // sklearn docs: y_true=[2,0,2,2,0,1], y_pred=[0,0,2,2,0,2] -> [[2,0,0],[0,0,1],[1,0,2]]
    expect(confusionMatrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2])).toEqual({ labels: [0, 1, 2], matrix: [[2, 0, 0], [0, 0, 1], [1, 0, 2]] });
    // sklearn docs, string labels with labels=["ant","bird","cat"] -> same matrix
    const cm = confusionMatrix(['cat', 'ant', 'cat', 'cat', 'ant', 'bird'], ['ant', 'ant', 'cat', 'cat', 'ant', 'cat'], { labels: ['ant', 'bird', 'cat'] });
    expect(cm.matrix).toEqual([[2, 0, 0], [0, 0, 1], [1, 0, 2]]);
  });
});

describe('rocAuc', () => {
  it('matches sklearn roc_auc_score', () => {
    // sklearn roc_curve/roc_auc docs: y=[0,0,1,1], scores=[0.1,0.4,0.35,0.8] -> 0.75
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
    // same with labels {1,2} and pos_label=2
    expect(rocAuc([1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8], { posLabel: 2 })).toBe(0.75);
  });
  it('handles ties as the trapezoid rule does', () => {
    // all scores tied: the ROC is the diagonal, area 0.5
    expect(rocAuc([0, 0, 1, 1], [0.5, 0.5, 0.5, 0.5])).toBe(0.5);
    // pairs (pos,neg): (.5,.1)=1, (.5,.5)=0.5, (.9,.1)=1, (.9,.5)=1 -> 3.5/4
    expect(rocAuc([0, 1, 0, 1], [0.1, 0.5, 0.5, 0.9])).toBe(0.875);
    expect(rocAuc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4])).toBe(0);
  });
  it('rejects a single class like sklearn', () => {
    expect(() => rocAuc([1, 1, 1], [0.1, 0.2, 0.3])).toThrow(/one class/);
  });
});

describe('perplexity', () => {
  it('is exp(mean NLL in nats)', () => {
    expect(perplexity(Math.log(10))).toBeCloseTo(10, 12);
    expect(perplexity(0)).toBe(1);
    expect(perplexityFromNlls([1, 2, 3])).toBeCloseTo(Math.exp(2), 12);
    expect(perplexityFromNlls([6, 2], [3, 1])).toBeCloseTo(Math.exp(2), 12);
  });
});

describe('SQuAD v1.1 EM / F1', () => {
  it('normalizes like normalize_answer', () => {
    expect(normalizeAnswer('The  Quick, brown fox!')).toBe('quick brown fox');
    expect(normalizeAnswer('An apple a day')).toBe('apple day');
    expect(normalizeAnswer("theatre's")).toBe('theatres'); // "the" inside a word is kept
    expect(normalizeAnswer('  ')).toBe('');
  });
  it('token F1 and exact match', () => {
    // pred tokens [cat, sat], truth [cat, sat, down]: P=1, R=2/3, F1=0.8
    expect(squadF1('the cat sat', 'a cat sat down')).toBeCloseTo(0.8, 15);
    expect(squadExactMatch('Denver Broncos', ['Denver Broncos', 'The Denver Broncos'])).toBe(1);
    expect(squadExactMatch('the Denver Broncos.', 'Denver Broncos')).toBe(1);
    // max over ground truths
    expect(squadF1('cat', ['dog', 'cat'])).toBe(1);
    // empty prediction
    expect(squadF1('', 'abc')).toBe(0);
    expect(squadExactMatch('', 'abc')).toBe(0);
    // v1.1 quirk: both normalize to nothing -> EM 1 but F1 0 (num_same == 0)
    expect(squadExactMatch('the', 'a')).toBe(1);
    expect(squadF1('the', 'a')).toBe(0);
    // repeated tokens are counted with multiplicity (Counter &): common=1, P=1/2, R=1
    expect(squadF1('cat cat', 'cat')).toBeCloseTo(2 / 3, 15);
  });
  it('dataset percentages like evaluate-v1.1.py', () => {
    const r = squadEvaluate(['the cat sat', 'Paris'], [['a cat sat down'], ['paris', 'France']]);
    expect(r.exactMatch).toBe(50);
    expect(r.f1).toBeCloseTo(90, 12); // (0.8 + 1) / 2 * 100
  });
});

const hyp1 = 'It is a guide to action which ensures that the military always obeys the commands of the party'.split(' ');
const ref1a = 'It is a guide to action that ensures that the military will forever heed Party commands'.split(' ');
const ref1b = 'It is the guiding principle which guarantees the military forces always being under the command of the Party'.split(' ');
const ref1c = 'It is the practical guide for the army always to heed the directions of the party'.split(' ');
const hyp2 = 'he read the book because he was interested in world history'.split(' ');
const ref2a = 'he was interested in world history because he read the book'.split(' ');

describe('BLEU', () => {
  it('matches the NLTK doctests', () => {
    // nltk.translate.bleu_score.modified_precision doctest: 17/18 unigram and 10/17 bigram precision
    const s = sentenceBleu(hyp1, [ref1a, ref1b, ref1c]);
    expect(s.matches.slice(0, 2)).toEqual([17, 10]);
    expect(s.totals.slice(0, 2)).toEqual([18, 17]);
    // sentence_bleu doctest: 0.5045...
    expect(s.bleu).toBeCloseTo(0.5045666840058485, 10);
    // corpus_bleu doctest: 0.5920...
    expect(corpusBleu([hyp1, hyp2], [[ref1a, ref1b, ref1c], [ref2a]]).bleu).toBeCloseTo(0.5920778868801042, 10);
  });
  it('hand-computed BLEU with brevity penalty', () => {
    // hyp 'the cat sat on mat' vs ref 'the cat sat on the mat': p = 5/5, 3/4, 2/3, 1/2, c=5, r=6
    // BLEU = exp(1 - 6/5) * (1 * 3/4 * 2/3 * 1/2)^(1/4) = 0.5789300674674098
    const r = sentenceBleu('the cat sat on mat', ['the cat sat on the mat']);
    expect(r.bleu).toBeCloseTo(0.5789300674674098, 14);
    expect(r.brevityPenalty).toBeCloseTo(Math.exp(-0.2), 15);
    expect(r.ratio).toBeCloseTo(5 / 6, 15);
  });
  it('zero 4-gram overlap with and without smoothing', () => {
    // hyp 'the cat sat mat on', ref 'the cat sat on the mat': matches 5/5, 2/4, 1/3, 0/2; BP exp(-0.2)
    const hyp = 'the cat sat mat on';
    const refs = ['the cat sat on the mat'];
    expect(sentenceBleu(hyp, refs).bleu).toBe(0); // sacrebleu 'none' (NLTK method0 gives ~1e-77)
    // floor / NLTK method1: p4 = 0.1/2 -> exp(-0.2) * (1 * .5 * 1/3 * .05)^(1/4)
    expect(sentenceBleu(hyp, refs, { smoothing: 'floor' }).bleu).toBeCloseTo(0.24736929544091932, 14);
    expect(sentenceBleu(hyp, refs, { smoothing: 'method1' }).bleu).toBeCloseTo(0.24736929544091932, 14);
    // add-1 (sacrebleu add-k, NLTK method2): p2..p4 = 3/5, 2/4, 1/3 -> exp(-0.2) * 0.1^(1/4)
    expect(sentenceBleu(hyp, refs, { smoothing: 'add-1' }).bleu).toBeCloseTo(0.46040613665996477, 14);
    // exp (sacrebleu exp, NLTK method3): p4 = 1/(2*2) -> exp(-0.2) * (1 * .5 * 1/3 * .25)^(1/4)
    expect(sentenceBleu(hyp, refs, { smoothing: 'exp' }).bleu).toBeCloseTo(0.36990337444913074, 14);
  });
  it('edge cases', () => {
    const ref = 'a b c d e'.split(' ');
    expect(sentenceBleu(ref, [ref]).bleu).toBe(1); // perfect match
    expect(sentenceBleu([], [ref]).bleu).toBe(0); // empty hypothesis
    expect(sentenceBleu(['x', 'y'], [ref], { smoothing: 'floor' }).bleu).toBe(0); // no unigram match
    // closest reference length, ties to the shorter one: c=5, refs 4 and 6 -> r=4, BP=1
    expect(sentenceBleu('a b c d e', ['a b c d', 'a b c d e f']).brevityPenalty).toBe(1);
    expect(sentenceBleu('a b c d e', ['a b c d', 'a b c d e f']).refLength).toBe(4);
    // 2-token hypothesis: no 3/4-grams -> 0, unless effective order (sacrebleu) -> sqrt(1*1)=1
    expect(sentenceBleu('a b', ['a b']).bleu).toBe(0);
    expect(sentenceBleu('a b', ['a b'], { effectiveOrder: true }).bleu).toBe(1);
  });
});

describe('ROUGE', () => {
  it('matches the rouge-score README example', () => {
    // README: score('The quick brown fox jumps over the lazy dog', 'The quick brown dog jumps on the log.')
    // rouge1 P=0.75 R=0.6666666666666666 F=0.7058823529411765; rougeL P=0.625 R=0.5555555555555556 F=0.5882352941176471
    const s = rougeScores('The quick brown fox jumps over the lazy dog', 'The quick brown dog jumps on the log.');
    expect(s.rouge1.precision).toBe(0.75);
    expect(s.rouge1.recall).toBeCloseTo(0.6666666666666666, 15);
    expect(s.rouge1.fmeasure).toBeCloseTo(0.7058823529411765, 15);
    expect(s.rougeL.precision).toBe(0.625);
    expect(s.rougeL.recall).toBeCloseTo(0.5555555555555556, 15);
    expect(s.rougeL.fmeasure).toBeCloseTo(0.5882352941176471, 15);
    // by hand: 2 shared bigrams (the quick, quick brown) of 7 predicted / 8 target -> F = 4/15
    expect(s.rouge2.precision).toBeCloseTo(2 / 7, 15);
    expect(s.rouge2.recall).toBe(0.25);
    expect(s.rouge2.fmeasure).toBeCloseTo(4 / 15, 15);
  });
  it('tokenizes like rouge-score without stemming', () => {
    expect(rougeTokenize("Hello, WORLD! it's 2024")).toEqual(['hello', 'world', 'it', 's', '2024']);
    expect(rougeTokenize('café')).toEqual(['caf']);
  });
  it('edge cases', () => {
    const zero = { precision: 0, recall: 0, fmeasure: 0 };
    expect(rougeScores('a b c', '')).toEqual({ rouge1: zero, rouge2: zero, rougeL: zero });
    const one = { precision: 1, recall: 1, fmeasure: 1 };
    expect(rougeScores('the cat sat', 'The cat, sat!')).toEqual({ rouge1: one, rouge2: one, rougeL: one });
    expect(rougeScores('a b', 'c d').rouge1).toEqual(zero);
    expect(rougeScoresMulti(['x y', 'the cat'], 'the cat').rouge1).toEqual(one);
  });
});
