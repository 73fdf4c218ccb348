// Choosing the next token from one row of logits: greedy (argmax, first index on ties), or
// temperature sampling optionally restricted to the topK most likely tokens and/or the nucleus of
// smallest total probability ≥ topP (Holtzman et al. 2019). The uniform draw comes from the caller
// (the core generator), so sampling is reproducible from a seed.
import { ValueError, checkBool, checkOptions, checkRange, checkSize } from '@webgrad/core';

/** How the next token is chosen from a row of logits (Hugging Face's `temperature`, `top_k`, `top_p`, `do_sample=False`). */
export interface SamplingOptions {
  /** Divide logits by this before softmax (default 1; 0 means greedy). */
  temperature?: number;
  /** Keep only the k largest logits (ties at the k-th value are kept). */
  topK?: number | null;
  /** Keep the most likely tokens whose cumulative probability first reaches topP (default 1). */
  topP?: number | null;
  /** Always take the argmax. */
  greedy?: boolean;
}

/** The option keys of SamplingOptions, for `checkOptions` in functions that accept them with options of their own. */
export const SAMPLING_KEYS = ['temperature', 'topK', 'topP', 'greedy'] as const;

/** Check the sampling options of `opts` (other keys are the caller's to check). */
export function checkSamplingOptions(op: string, opts: SamplingOptions): void {
  if (opts.temperature !== undefined) checkRange(op, 'temperature', opts.temperature, 0, Infinity);
  if (opts.topK != null) checkSize(op, 'topK', opts.topK, 1);
  if (opts.topP != null) checkRange(op, 'topP', opts.topP, 0, 1, { lo: true });
  if (opts.greedy !== undefined) checkBool(op, 'greedy', opts.greedy);
}

/** Index of the largest value of `row` (the first on ties); greedy decoding's choice. */
export function argmaxOf(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/** The filtered, renormalized distribution over the vocabulary (for tests and inspection). */
export function samplingDistribution(logits: ArrayLike<number>, opts: SamplingOptions): Float64Array {
  checkOptions('samplingDistribution', opts, SAMPLING_KEYS);
  checkSamplingOptions('samplingDistribution', opts);
  const V = logits.length;
  const temperature = opts.temperature ?? 1;
  if (temperature === 0) throw new ValueError('samplingDistribution: temperature must be > 0 (use greedy), got 0');
  const z = new Float64Array(V);
  for (let i = 0; i < V; i++) z[i] = logits[i]! / temperature;
  if (opts.topK != null) {
    if (opts.topK < V) {
      const kth = Float64Array.from(z).sort().reverse()[opts.topK - 1]!;
      for (let i = 0; i < V; i++) if (z[i]! < kth) z[i] = -Infinity;
    }
  }
  let m = -Infinity;
  for (let i = 0; i < V; i++) m = Math.max(m, z[i]!);
  const p = new Float64Array(V);
  let total = 0;
  for (let i = 0; i < V; i++) { p[i] = Math.exp(z[i]! - m); total += p[i]!; }
  for (let i = 0; i < V; i++) p[i]! /= total;
  const topP = opts.topP ?? 1;
  if (topP < 1) {
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b);
    let cum = 0;
    let kept = 0;
    const keep = new Uint8Array(V);
    for (const i of order) {
      if (cum >= topP && kept > 0) break;
      keep[i] = 1;
      cum += p[i]!;
      kept++;
    }
    let s = 0;
    for (let i = 0; i < V; i++) { if (!keep[i]) p[i] = 0; s += p[i]!; }
    for (let i = 0; i < V; i++) p[i]! /= s;
  }
  return p;
}

/** The next token: argmax when greedy, else an inverse-CDF draw with uniform u ∈ [0, 1). */
export function sampleToken(logits: ArrayLike<number>, opts: SamplingOptions, u: number): number {
  checkRange('sampleToken', 'u', u, 0, 1, { hi: true });
  if (opts.greedy || opts.temperature === 0) return argmaxOf(logits);
  const p = samplingDistribution(logits, opts);
  let cum = 0;
  let last = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i]! <= 0) continue;
    cum += p[i]!;
    last = i;
    if (u < cum) return i;
  }
  return last;
}
