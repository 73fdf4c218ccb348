// How much to prune and which entries go: the `amount` (a fraction) or `count` option of every
// pruning function, PyTorch's rounding of a fraction to a count, and the selection of the k
// lowest-scoring entries with a fixed tie rule.
import { checkOptions, checkRange, checkSize, fmtValue } from '@webgrad/core';
import { PruningError } from './masks.js';

/** How much to prune: a fraction of what is still unpruned, or a number of entries (exactly one).
 *  JavaScript has one number type, so PyTorch's "int is a count, float a fraction" is two options. */
export interface AmountOptions {
  /** Fraction in [0, 1] of the still-unpruned entries (or channels, heads) to prune; rounded half to even as PyTorch's `round`. */
  amount?: number;
  /** Number of still-unpruned entries (or channels, heads) to prune. */
  count?: number;
}

/** A checked amount. */
export type Amount = { fraction: number } | { count: number };

/** Check `opts` (keys `AmountOptions` plus `extra`) and return the amount. */
export function checkAmount(op: string, opts: unknown, extra: readonly string[] = []): Amount {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw new PruningError(`${op}: options must be an object with amount or count, got ${fmtValue(opts)}`);
  checkOptions(op, opts as object, ['amount', 'count', ...extra]);
  const { amount, count } = opts as AmountOptions;
  if (amount !== undefined && count !== undefined) throw new PruningError(`${op}: give amount (a fraction) or count (a number of entries), not both`);
  if (amount !== undefined) return { fraction: checkRange(op, 'amount', amount, 0, 1) };
  if (count !== undefined) return { count: checkSize(op, 'count', count) };
  throw new PruningError(`${op}: options must give amount (a fraction in [0, 1]) or count (a number of entries to prune)`);
}

/** Python's round(): to the nearest integer, halves to even (what torch.nn.utils.prune uses). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Number of entries to prune out of `available` unpruned ones; a count above it is an error naming `what`. */
export function pruneCount(op: string, amount: Amount, available: number, what: string): number {
  if ('fraction' in amount) return roundHalfEven(amount.fraction * available);
  if (amount.count > available) throw new PruningError(`${op}: count ${amount.count} is more than the ${available} unpruned ${what}`);
  return amount.count;
}

/**
 * Indices of the `k` lowest `scores` among those with `eligible[i]` set. Ties go by index: of
 * equal scores the lower index is pruned first, so the result never depends on sort stability
 * or the device. NaN scores count as lowest.
 */
export function lowestK(scores: ArrayLike<number>, eligible: ArrayLike<number>, k: number): number[] {
  if (k <= 0) return [];
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (eligible[i]) idx.push(i);
  const key = (i: number) => { const s = scores[i]!; return Number.isNaN(s) ? -Infinity : s; };
  idx.sort((a, b) => key(a) - key(b) || a - b);
  return idx.slice(0, k);
}

/** Number of nonzero entries. */
export function countNonzero(v: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) c++;
  return c;
}
