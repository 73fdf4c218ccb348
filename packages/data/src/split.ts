// Splitting a dataset into disjoint random parts (train / validation / test), as
// torch.utils.data.random_split.
import { ValueError, checkOptions, fmtValue } from '@webgrad/core';
import { Subset, asMapDataset, type Dataset } from './dataset.js';
import { randperm, resolveGenerator, type SeededRandom } from './random.js';

/** Options of `randomSplit`. */
export interface RandomSplitOptions {
  /** Seed of the assignment; without one (and no `generator`) it is drawn from core's global generator. */
  seed?: number;
  /** Draw from this generator instead. */
  generator?: SeededRandom;
}

/**
 * The sizes `randomSplit` gives `n` items for `lengths`. Lengths adding up to 1 are fractions: each
 * part gets floor(n · f) and the remaining items go one at a time to the parts in order, as PyTorch
 * does. Otherwise they are counts, which must add up to n.
 */
export function splitSizes(op: string, n: number, lengths: readonly number[]): number[] {
  if (!Array.isArray(lengths) || lengths.length === 0) throw new ValueError(`${op}: lengths must be a non-empty array of counts or fractions, got ${fmtValue(lengths)}`);
  for (const [i, l] of lengths.entries()) {
    if (typeof l !== 'number' || !Number.isFinite(l) || l < 0) throw new ValueError(`${op}: lengths[${i}] must be a count or a fraction >= 0, got ${fmtValue(l)}`);
  }
  const total = lengths.reduce((a, b) => a + b, 0);
  if (!(Math.abs(total - 1) <= 1e-6 && total <= 1)) {
    if (!lengths.every((l) => Number.isInteger(l))) {
      throw new ValueError(`${op}: lengths must be counts (integers adding up to ${n}) or fractions adding up to 1, got ${fmtValue(lengths)} (sum ${total})`);
    }
    if (total !== n) throw new ValueError(`${op}: the lengths ${fmtValue(lengths)} add up to ${total}, but the dataset has ${n} items`);
    return [...lengths];
  }
  const sizes = lengths.map((f) => Math.floor(n * f));
  const rest = n - sizes.reduce((a, b) => a + b, 0);
  for (let i = 0; i < rest; i++) sizes[i % sizes.length]!++;
  return sizes;
}

/**
 * Split `dataset` into disjoint random subsets of the given sizes — counts adding up to its length,
 * or fractions adding up to 1 (e.g. `[0.8, 0.1, 0.1]`). Together the subsets hold every item once.
 * With a seed the split is the same on every run.
 */
export function randomSplit<T>(dataset: Dataset<T> | readonly T[], lengths: readonly number[], options?: RandomSplitOptions): Subset<T>[] {
  const op = 'randomSplit';
  const ds = asMapDataset(op, dataset);
  const o = checkOptions(op, options, ['seed', 'generator']);
  const sizes = splitSizes(op, ds.length, lengths);
  const perm = randperm(ds.length, { generator: resolveGenerator(op, o.seed, o.generator) });
  let at = 0;
  return sizes.map((s) => new Subset(ds, perm.subarray(at, (at += s))));
}
