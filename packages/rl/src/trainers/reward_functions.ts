// Rewards for the RL trainers, scored a batch at a time: the batched scorer hook, a weighted sum
// of named reward functions (`combineRewards`, as TRL's GRPOTrainer takes `reward_funcs` with
// `reward_weights` and logs `rewards/<name>/mean`), per-completion functions lifted to batches, and
// TRL's `missing_eos_penalty` (subtracted from the score of a completion that never emitted an
// EOS token — a guard against a reward model that likes long, unfinished text).
import { ValueError, checkFinite, checkFunction, checkOptions, checkSize, fmtValue } from '@webgrad/core';
import type { RewardFn } from '../rollout.js';

/** One batch of completions to score: row i is prompts[i] ‖ completions[i] (token ids). */
export interface RewardBatch {
  /** Each row's prompt ids. */
  prompts: readonly (readonly number[])[];
  /** Each ends with its stop token when it emitted one. */
  completions: readonly (readonly number[])[];
  /** Index (into the trainer's prompt list) of each row's prompt: look up per-prompt data here. */
  promptIndex: readonly number[];
}

/** Scores of a batch, and optional named per-row values logged as `rewards/<name>/mean` and
 *  `rewards/<name>/std` (the terms of a weighted sum, or a diagnostic such as a checkable property). */
export interface ScoredBatch {
  /** One score per row. */
  scores: number[];
  /** Named per-row values, logged as `rewards/<name>/mean` and `/std`. */
  components?: Record<string, number[]>;
}

/** A batched reward: scores every row of a batch in one call (a reward model runs one forward). */
export type BatchRewardFn = (batch: RewardBatch) => number[] | ScoredBatch | Promise<number[] | ScoredBatch>;

/** Call `reward` on a batch and check what it returns: B finite scores (and B values per component). */
export async function scoreBatch(op: string, reward: BatchRewardFn, batch: RewardBatch): Promise<ScoredBatch> {
  const B = batch.completions.length;
  const out = await reward(batch);
  const scored: ScoredBatch = Array.isArray(out) ? { scores: out } : out;
  if (typeof scored !== 'object' || scored === null || !Array.isArray(scored.scores)) {
    throw new ValueError(`${op}: the reward returned ${fmtValue(out)}; expected an array of ${B} scores or { scores, components }`);
  }
  const check = (name: string, xs: unknown) => {
    if (!Array.isArray(xs) || xs.length !== B) throw new ValueError(`${op}: the reward's ${name} must hold ${B} numbers (one per row), got ${fmtValue(xs)}`);
    xs.forEach((x, i) => checkFinite(op, `${name}[${i}] (from the reward)`, x));
  };
  check('scores', scored.scores);
  for (const [k, v] of Object.entries(scored.components ?? {})) check(`components.${k}`, v);
  return scored;
}

/** A per-completion reward function as a batched one (called row by row). */
export function perCompletion(fn: RewardFn): BatchRewardFn {
  checkFunction('perCompletion', 'fn', fn);
  return async ({ prompts, completions }) => {
    const out: number[] = [];
    for (let i = 0; i < completions.length; i++) out.push(await fn(prompts[i]!, completions[i]!));
    return out;
  };
}

/** A named, weighted term of a combined reward: `fn` scores one completion, or (with
 *  `batched: true`) a whole batch. */
export type RewardComponent = {
  /** Logged as `rewards/<name>/mean` (letters, digits, `_`, `-`, `.`). */
  name: string;
  /** w_k of the weighted sum. */
  weight: number;
} & ({
  /** Scores one completion. */
  fn: RewardFn;
  /** false or absent: `fn` scores one completion at a time. */
  batched?: false;
} | {
  /** Scores a whole batch. */
  fn: BatchRewardFn;
  /** true: `fn` scores the whole batch in one call. */
  batched: true;
});

/**
 * The weighted sum Σ_k w_k·r_k of reward functions, e.g.
 * `combineRewards([{ name: 'quality', weight: 0.5, fn: q }, { name: 'relevance', weight: 0.3, fn: r }, { name: 'safety', weight: 0.2, fn: s }])`.
 * The result is a BatchRewardFn whose `components` hold each term's unweighted values, which the
 * trainers log as `rewards/<name>/mean` (TRL's GRPOTrainer names).
 */
export function combineRewards(components: readonly RewardComponent[]): BatchRewardFn {
  const op = 'combineRewards';
  if (!Array.isArray(components) || components.length === 0) throw new ValueError(`${op}: components must be a non-empty array of { name, weight, fn }, got ${fmtValue(components)}`);
  const seen = new Set<string>();
  components.forEach((c, i) => {
    checkOptions(op, c, ['name', 'weight', 'fn', 'batched'], `components[${i}]`);
    if (typeof c.name !== 'string' || !/^[\w.-]+$/.test(c.name)) throw new ValueError(`${op}: components[${i}].name must be a non-empty name of letters, digits, _, - or ., got ${fmtValue(c.name)}`);
    if (seen.has(c.name)) throw new ValueError(`${op}: the name ${fmtValue(c.name)} is used twice`);
    seen.add(c.name);
    checkFinite(op, `components[${i}].weight`, c.weight);
    checkFunction(op, `components[${i}].fn`, c.fn);
    if (c.batched !== undefined && typeof c.batched !== 'boolean') throw new ValueError(`${op}: components[${i}].batched must be a boolean, got ${fmtValue(c.batched)}`);
  });
  const fns = components.map((c) => (c.batched ? c.fn : perCompletion(c.fn)));
  return async (batch) => {
    const B = batch.completions.length;
    const scores = new Array<number>(B).fill(0);
    const parts: Record<string, number[]> = {};
    for (let k = 0; k < components.length; k++) {
      const { name, weight } = components[k]!;
      const r = (await scoreBatch(`${op} (${name})`, fns[k]!, batch)).scores;
      parts[name] = r;
      for (let i = 0; i < B; i++) scores[i]! += weight * r[i]!;
    }
    return { scores, components: parts };
  };
}

/** Did a completion emit one of `eosTokens`? */
export function hasEos(completion: readonly number[], eosTokens: readonly number[]): boolean {
  return completion.some((t) => eosTokens.includes(t));
}

/**
 * TRL's `missing_eos_penalty`: scores with `penalty` subtracted from every row whose completion
 * contains none of `eosTokens` (it ran out of tokens instead of ending).
 */
export function missingEosPenalty(scores: readonly number[], completions: readonly (readonly number[])[], eosTokens: readonly number[], penalty: number): number[] {
  const op = 'missingEosPenalty';
  if (!Array.isArray(scores)) throw new ValueError(`${op}: scores must be an array of numbers, got ${fmtValue(scores)}`);
  scores.forEach((s, i) => checkFinite(op, `scores[${i}]`, s));
  if (!Array.isArray(completions) || completions.length !== scores.length || completions.some((c) => !Array.isArray(c))) {
    throw new ValueError(`${op}: completions must be ${scores.length} token-id arrays (one per score), got ${fmtValue(completions)}`);
  }
  if (!Array.isArray(eosTokens) || eosTokens.length === 0) throw new ValueError(`${op}: eosTokens must be a non-empty array of token ids, got ${fmtValue(eosTokens)}`);
  eosTokens.forEach((t, i) => checkSize(op, `eosTokens[${i}]`, t));
  checkFinite(op, 'penalty', penalty);
  return scores.map((s, i) => (hasEos(completions[i]!, eosTokens) ? s : s - penalty));
}
