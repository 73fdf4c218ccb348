// Mixing datasets by ratio: draw a given share of the items from each source (e.g. 70% from a
// general corpus, 30% from a domain corpus), with a seeded interleaving.
import { ValueError, checkEnum, checkFinite, checkOptions, checkRange, checkSize, fmtValue } from '@webgrad/core';
import { Dataset, IterableDataset, asDataset, checkIndex, type AnyDataset } from './dataset.js';
import { SeededRandom, checkSeed, deriveSeed, seedFromGlobal } from './random.js';

/** When a mix ends (without an explicit `length`). */
export type StoppingStrategy = 'firstExhausted' | 'allExhausted';

/** Options of `MixedDataset` and `MixedIterableDataset`. */
export interface MixedDatasetOptions {
  /** Share of each source (non-negative, normalized to sum 1); default equal shares. */
  weights?: readonly number[];
  /** Seed of the draws; default one drawn from core's global generator. */
  seed?: number;
  /** Items per epoch (map-style) or per pass (iterable). */
  length?: number;
  /**
   * Without `length`: 'firstExhausted' (default) ends when the source that runs out first has
   * given about all its items (length floor(min nᵢ / wᵢ)); 'allExhausted' when every source has
   * (length ceil(max nᵢ / wᵢ), smaller sources repeating).
   */
  stoppingStrategy?: StoppingStrategy;
}

const MIX_KEYS = ['weights', 'seed', 'length', 'stoppingStrategy'];

function checkWeights(op: string, weights: unknown, k: number): number[] {
  if (weights === undefined) return Array.from({ length: k }, () => 1 / k);
  if (!Array.isArray(weights) || weights.length !== k) throw new ValueError(`${op}: weights must be an array of ${k} numbers (one per source), got ${fmtValue(weights)}`);
  const w = weights.map((x, i) => {
    const v = checkFinite(op, `weights[${i}]`, x);
    if (v < 0) throw new ValueError(`${op}: weights[${i}] must be >= 0, got ${v}`);
    return v;
  });
  const total = w.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new ValueError(`${op}: weights must not all be 0`);
  return w.map((x) => x / total);
}

/** Counts per source that add up to `n` and are as close as possible to n·wᵢ (largest remainders). */
function apportion(n: number, w: readonly number[]): number[] {
  const exact = w.map((x) => n * x);
  const counts = exact.map(Math.floor);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let r = n - counts.reduce((a, b) => a + b, 0), j = 0; r > 0; r--, j++) counts[order[j % order.length]![1]]!++;
  return counts;
}

/**
 * Map-style datasets mixed by weight. Each epoch holds `length` items, of which a share
 * round(length · wᵢ) comes from source i (exact proportions, largest remainders); the sources'
 * items are read in a shuffled order that starts over, reshuffled, when a source runs out, and the
 * sources are interleaved at random. `setEpoch(e)` (which the `DataLoader` calls) draws a new mix
 * from (seed, e), so successive epochs see other items of the larger sources.
 */
export class MixedDataset<T> extends Dataset<T> {
  /** The sources, in the order of their weights. */
  readonly datasets: readonly Dataset<T>[];
  /** The normalized weights. */
  readonly weights: readonly number[];
  readonly #length: number;
  readonly #seed: number;
  #source = new Uint8Array(0);
  #index = new Int32Array(0);
  #epoch = -1;

  constructor(datasets: readonly (Dataset<T> | readonly T[])[], options?: MixedDatasetOptions) {
    super();
    const op = 'MixedDataset';
    if (!Array.isArray(datasets) || datasets.length === 0 || datasets.length > 255) {
      throw new ValueError(`${op}: expected an array of 1 to 255 datasets, got ${fmtValue(datasets)}`);
    }
    this.datasets = datasets.map((d, i) => {
      const ds = asDataset<T>(op, d, `datasets[${i}]`);
      if (!(ds instanceof Dataset)) throw new ValueError(`${op}: datasets[${i}] is an IterableDataset; mix streams with MixedIterableDataset`);
      if (ds.length === 0) throw new ValueError(`${op}: datasets[${i}] is empty`);
      return ds;
    });
    const o = checkOptions(op, options, MIX_KEYS);
    this.weights = checkWeights(op, o.weights, this.datasets.length);
    const strategy = o.stoppingStrategy === undefined ? 'firstExhausted' : checkEnum(op, 'stoppingStrategy', o.stoppingStrategy, ['firstExhausted', 'allExhausted']);
    this.#seed = checkSeed(op, o.seed) ?? seedFromGlobal();
    if (o.length !== undefined) this.#length = checkSize(op, 'length', o.length);
    else {
      const r = this.datasets.map((d, i) => (this.weights[i]! > 0 ? d.length / this.weights[i]! : NaN)).filter((x) => !Number.isNaN(x));
      this.#length = strategy === 'firstExhausted' ? Math.floor(Math.min(...r) + 1e-9) : Math.ceil(Math.max(...r) - 1e-9);
    }
    this.setEpoch(0);
  }

  get length(): number { return this.#length; }

  /** The epoch whose mix is current. */
  get epoch(): number { return this.#epoch; }

  /** Draw the mix of epoch `epoch` (deterministic in the seed and the epoch). */
  setEpoch(epoch: number): void {
    checkSize('MixedDataset.setEpoch', 'epoch', epoch);
    if (epoch === this.#epoch) return;
    this.#epoch = epoch;
    const rng = new SeededRandom(deriveSeed(this.#seed, epoch));
    const n = this.#length;
    const counts = apportion(n, this.weights);
    const source = new Uint8Array(n);
    let at = 0;
    counts.forEach((c, s) => source.fill(s, at, (at += c)));
    rng.shuffle(source);
    const index = new Int32Array(n);
    const orders = this.datasets.map(() => ({ perm: new Int32Array(0), pos: 0 }));
    for (let i = 0; i < n; i++) {
      const s = source[i]!;
      const o = orders[s]!;
      if (o.pos === o.perm.length) {
        const len = this.datasets[s]!.length;
        o.perm = rng.shuffle(Int32Array.from({ length: len }, (_, j) => j));
        o.pos = 0;
      }
      index[i] = o.perm[o.pos++]!;
    }
    this.#source = source;
    this.#index = index;
  }

  /** Which source item `index` comes from. */
  sourceOf(index: number): number {
    return this.#source[checkIndex('MixedDataset.sourceOf', index, this.#length)]!;
  }

  get(index: number): T {
    checkIndex('MixedDataset.get', index, this.#length);
    return this.datasets[this.#source[index]!]!.get(this.#index[index]!);
  }
}

/**
 * Streams mixed by weight: each item comes from source i with probability wᵢ (a seeded draw per
 * item), taken in order from that source. A pass ends after `length` items, or (without one) when
 * a source runs out ('firstExhausted', default) or when every source has run out at least once,
 * earlier ones starting over ('allExhausted'). Pass p draws from (seed, p).
 */
export class MixedIterableDataset<T> extends IterableDataset<T> {
  /** The sources, in the order of their weights. */
  readonly datasets: readonly (Dataset<T> | IterableDataset<T>)[];
  /** The normalized weights. */
  readonly weights: readonly number[];
  readonly #length: number | undefined;
  readonly #strategy: StoppingStrategy;
  readonly #seed: number;
  #pass = 0;

  constructor(datasets: readonly AnyDataset<T>[], options?: MixedDatasetOptions) {
    super();
    const op = 'MixedIterableDataset';
    if (!Array.isArray(datasets) || datasets.length === 0) throw new ValueError(`${op}: expected a non-empty array of datasets, got ${fmtValue(datasets)}`);
    this.datasets = datasets.map((d, i) => asDataset(op, d, `datasets[${i}]`));
    const o = checkOptions(op, options, MIX_KEYS);
    this.weights = checkWeights(op, o.weights, this.datasets.length);
    this.#strategy = o.stoppingStrategy === undefined ? 'firstExhausted' : checkEnum(op, 'stoppingStrategy', o.stoppingStrategy, ['firstExhausted', 'allExhausted']);
    this.#length = o.length === undefined ? undefined : checkSize(op, 'length', o.length);
    this.#seed = checkSeed(op, o.seed) ?? seedFromGlobal();
  }

  async *iterate(): AsyncGenerator<T> {
    const rng = new SeededRandom(deriveSeed(this.#seed, this.#pass++));
    const open = (d: Dataset<T> | IterableDataset<T>): Iterator<T> | AsyncIterator<T> => {
      const it = d instanceof Dataset ? d : d.iterate();
      const a = (it as AsyncIterable<T>)[Symbol.asyncIterator];
      return a ? a.call(it) : (it as Iterable<T>)[Symbol.iterator]();
    };
    const iters = this.datasets.map(open);
    const exhausted = this.datasets.map(() => false);
    const cum: number[] = [];
    this.weights.reduce((a, w) => (cum.push(a + w), a + w), 0);
    try {
      for (let n = 0; this.#length === undefined || n < this.#length; n++) {
        const u = rng.random();
        let s = cum.findIndex((c) => u < c);
        if (s < 0) s = cum.length - 1;
        let r = await iters[s]!.next();
        if (r.done) {
          exhausted[s] = true;
          const stop = this.#length === undefined && (this.#strategy === 'firstExhausted' || exhausted.every((e, i) => e || this.weights[i] === 0));
          if (stop) return;
          iters[s] = open(this.datasets[s]!);
          r = await iters[s]!.next();
          if (r.done) throw new ValueError(`MixedIterableDataset: datasets[${s}] yields no items`);
        }
        yield r.value;
      }
    } finally {
      for (const it of iters) await it.return?.();
    }
  }
}

/** Options of `mixDatasets`. */
export interface MixOptions extends Omit<MixedDatasetOptions, 'weights'> {
  /** Share of `a` in [0, 1] (default 0.5); `b` gets 1 − ratio. */
  ratio?: number;
}

/**
 * Two sources mixed by ratio: `mixDatasets(general, domain, { ratio: 0.7, seed: 0 })` takes 70% of
 * the items from `general` and 30% from `domain`. Two map-style datasets give a `MixedDataset`;
 * if either is an `IterableDataset`, a `MixedIterableDataset`.
 */
export function mixDatasets<T>(a: AnyDataset<T>, b: AnyDataset<T>, options?: MixOptions): MixedDataset<T> | MixedIterableDataset<T> {
  const op = 'mixDatasets';
  const o = checkOptions(op, options, ['ratio', 'seed', 'length', 'stoppingStrategy']);
  const ratio = o.ratio === undefined ? 0.5 : checkRange(op, 'ratio', o.ratio, 0, 1);
  const da = asDataset(op, a, 'a');
  const db = asDataset(op, b, 'b');
  const { ratio: _r, ...rest } = o;
  const opts: MixedDatasetOptions = { ...rest, weights: [ratio, 1 - ratio] };
  return da instanceof Dataset && db instanceof Dataset ? new MixedDataset([da, db], opts) : new MixedIterableDataset([da, db], opts);
}
