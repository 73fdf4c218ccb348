// What a reward model is for, measured on the sft policy's own sampled answers: its score of each
// sample, how often it ranks a sorted answer above a wrong answer to the same prompt, and
// best-of-n — the share of sorted answers when the highest-scored of n samples is kept, against
// the share among all samples.
import { noGrad, tensor, tidy, type DeviceName } from '@webgrad/core';
import type { RewardModel } from '@webgrad/rl';
import type { SampleReport } from '../shared/sampled_answers.js';

/** Scores (one per sequence) of prompt ‖ completion token lists, in batches of `batchSize`. */
export async function scoreSequences(rm: RewardModel, sequences: readonly number[][], device: DeviceName, batchSize = 64): Promise<number[]> {
  const out: number[] = [];
  const wasTraining = rm.training;
  rm.eval();
  try {
    for (let s = 0; s < sequences.length; s += batchSize) {
      const rows = sequences.slice(s, s + batchSize);
      const T = Math.max(...rows.map((r) => r.length));
      const ids = new Int32Array(rows.length * T);
      const mask = new Float32Array(rows.length * T);
      rows.forEach((r, b) => { ids.set(r, b * T); mask.fill(1, b * T, b * T + r.length); });
      const scores = noGrad(() => tidy(() => rm.forward(
        tensor(ids, { shape: [rows.length, T], dtype: 'int32', device }), // (B, T), right-padded
        tensor(mask, { shape: [rows.length, T], dtype: 'float32', device }), // (B, T): 1 on real tokens
      )));
      out.push(...(await scores.data()));
      scores.dispose();
    }
  } finally {
    rm.train(wasTraining);
  }
  return out;
}

export interface BestOfN {
  /** Samples per prompt. */
  n: number;
  /** Share of sorted answers among all samples, and among the highest-scored sample of each prompt. */
  sortedRate: number;
  bestOfNSortedRate: number;
  /** Among pairs (sorted, not sorted) of samples of one prompt: share the model scores the sorted one higher. */
  rankingAccuracy: number;
  rankedPairs: number;
  /** Mean score of sorted and of other samples. */
  meanScoreSorted: number;
  meanScoreOther: number;
}

/** Score the samples and read off best-of-n and the ranking accuracy. */
export async function bestOfN(rm: RewardModel, report: SampleReport, promptIds: readonly number[][], device: DeviceName): Promise<BestOfN> {
  const { samples } = report;
  const scores = await scoreSequences(rm, samples.map((s) => [...promptIds[s.prompt]!, ...s.ids]), device);
  const byPrompt = new Map<number, number[]>();
  samples.forEach((s, i) => byPrompt.set(s.prompt, [...(byPrompt.get(s.prompt) ?? []), i]));
  let best = 0;
  let right = 0;
  let pairs = 0;
  for (const idx of byPrompt.values()) {
    const top = idx.reduce((a, i) => (scores[i]! > scores[a]! ? i : a), idx[0]!);
    if (samples[top]!.sorted) best++;
    for (const i of idx) for (const j of idx) {
      if (samples[i]!.sorted && !samples[j]!.sorted) { pairs++; if (scores[i]! > scores[j]!) right++; }
    }
  }
  const mean = (f: (i: number) => boolean) => {
    const xs = scores.filter((_, i) => f(i));
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  };
  return {
    n: Math.round(samples.length / Math.max(1, byPrompt.size)), sortedRate: report.sortedRate, bestOfNSortedRate: best / Math.max(1, byPrompt.size),
    rankingAccuracy: pairs ? right / pairs : NaN, rankedPairs: pairs,
    meanScoreSorted: mean((i) => samples[i]!.sorted), meanScoreOther: mean((i) => !samples[i]!.sorted),
  };
}
