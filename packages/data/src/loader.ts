// DataLoader: batches from a dataset, as torch.utils.data.DataLoader — seeded shuffling per epoch,
// batch size, drop-last, a collate function, and (with `for await`) batches prepared ahead.
//
// Batch ownership: a batch's tensors belong to the loader. It disposes batch i when batch i+1 is
// asked for, and the last batch when the loop ends (normally, by `break`, or by an exception), so a
// training loop holds at most one batch (plus the prefetched ones) however many epochs it runs.
// To use a batch's tensors after that, `loader.keep(batch)` hands them to the caller, who then
// disposes them. Batch tensors are taken out of every open `tidy`/`scope`, so a scope around the
// loop body never disposes a batch the loader still holds.
//
// Prefetch, in a single-threaded runtime: after handing out batch i, the loader schedules the
// preparation of the next batches (reading items, collating, uploading) as a macrotask. It runs
// when the consumer yields to the event loop — typically while it awaits the device (`await
// loss.item()` on WebGPU), so the host work of batch i+1 overlaps the GPU work of step i. If the
// consumer asks for a batch before that happened, the batch is prepared on the spot. For an
// IterableDataset whose items arrive asynchronously (files, network), the reads of the next
// batches run while the consumer computes. Nothing runs on another thread.
import {
  ValueError, checkBool, checkOptions, checkSize, fmtValue, keep as keepTensor, tidy, to, type DeviceName, type Tensor,
} from '@webgrad/core';
import { defaultCollate, type CollateContext, type CollateFn } from './collate.js';
import { Dataset, IterableDataset, asDataset, hasGetBatch, type AnyDataset } from './dataset.js';
import { checkSeed, deriveSeed, randperm, seedFromGlobal } from './random.js';
import { isTensor, macrotask, tensorsIn } from './util.js';

/** The batch type `defaultCollate` makes of items of type T. */
export type Collated<T> =
  T extends Tensor ? Tensor
  : T extends string ? string[]
  : T extends number | boolean ? Tensor
  : T extends ArrayBufferView ? Tensor
  : T extends readonly (number | boolean)[] ? Tensor
  : T extends readonly (readonly (number | boolean)[])[] ? Tensor
  : T extends readonly unknown[] ? { -readonly [K in keyof T]: Collated<T[K]> }
  : T extends object ? { -readonly [K in keyof T]: Collated<T[K]> }
  : unknown;

/** Options of `DataLoader`. */
export interface DataLoaderOptions<T, B> {
  /** Items per batch (default 1). */
  batchSize?: number;
  /** Visit the items in a new random order each epoch (default false; map-style datasets only). */
  shuffle?: boolean;
  /**
   * Seed of the shuffles: epoch e uses the order drawn from (seed, e), so a run — or a run resumed
   * with `setEpoch` — sees the same batches. Without a seed, each epoch's order is drawn from core's
   * global generator (`manualSeed` makes it reproducible), like PyTorch without a generator.
   */
  seed?: number;
  /** Leave out the last batch when it would be smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /** Items → batch (default `defaultCollate`; `padCollate(...)` for token sequences). */
  collate?: CollateFn<T, B>;
  /** Batches prepared ahead during `for await` (default 1; 0 prepares each when asked). */
  prefetch?: number;
  /** Device of the batch tensors (default: core's default device). */
  device?: DeviceName;
}

type Ready<B> = { batch: B } | { end: true };

/**
 * Batches of a dataset. Iterate it with `for (const batch of loader)` or, to prefetch,
 * `for await (const batch of loader)`; each iteration is one epoch.
 *
 * ```ts
 * const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 32, shuffle: true, seed: 0 });
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for await (const [xb, yb] of loader) {
 *     const loss = tidy(() => step(xb, yb));
 *     await loss.item();   // the next batch is prepared while the device works
 *     loss.dispose();
 *   }
 * }
 * ```
 * See the header of this file for who disposes batches and what prefetch overlaps.
 */
export class DataLoader<T = unknown, B = Collated<T>> implements Iterable<B>, AsyncIterable<B> {
  /** The dataset batched. */
  readonly dataset: Dataset<T> | IterableDataset<T>;
  /** Items per batch. */
  readonly batchSize: number;
  /** Whether each epoch visits the items in a new random order. */
  readonly shuffle: boolean;
  /** Whether a smaller last batch is left out. */
  readonly dropLast: boolean;
  /** Batches prepared ahead during `for await`. */
  readonly prefetch: number;
  /** Device of the batch tensors (undefined: core's default device). */
  readonly device: DeviceName | undefined;
  /** Seed of the shuffles (undefined: core's global generator). */
  readonly seed: number | undefined;
  // Stored with a `never[]` parameter so that DataLoader<X, B> stays assignable to DataLoader<unknown, B>.
  readonly #collate: ((items: never[], context: CollateContext) => B) | undefined;
  readonly #kept = new WeakSet<Tensor>();
  #epoch = 0;

  constructor(dataset: AnyDataset<T>, options?: DataLoaderOptions<T, B>) {
    const op = 'DataLoader';
    this.dataset = asDataset(op, dataset);
    const o = checkOptions(op, options, ['batchSize', 'shuffle', 'seed', 'dropLast', 'collate', 'prefetch', 'device']);
    this.batchSize = o.batchSize === undefined ? 1 : checkSize(op, 'batchSize', o.batchSize, 1);
    this.shuffle = o.shuffle === undefined ? false : checkBool(op, 'shuffle', o.shuffle);
    this.dropLast = o.dropLast === undefined ? false : checkBool(op, 'dropLast', o.dropLast);
    this.prefetch = o.prefetch === undefined ? 1 : checkSize(op, 'prefetch', o.prefetch);
    this.seed = checkSeed(op, o.seed);
    if (o.collate !== undefined && typeof o.collate !== 'function') throw new ValueError(`${op}: collate must be a function (items, context) => batch, got ${fmtValue(o.collate)}`);
    this.#collate = o.collate;
    if (o.device !== undefined && typeof o.device !== 'string') throw new ValueError(`${op}: device must be a device name, got ${fmtValue(o.device)}`);
    this.device = o.device;
    if (this.shuffle && this.dataset instanceof IterableDataset) {
      throw new ValueError(`${op}: shuffle is not supported with an IterableDataset (it has no random access); shuffle the stream itself`);
    }
  }

  /** Batches per epoch (map-style datasets; an IterableDataset has no length). */
  get length(): number {
    const ds = this.dataset;
    if (!(ds instanceof Dataset)) throw new ValueError('DataLoader.length: a loader over an IterableDataset has no length');
    return this.dropLast ? Math.floor(ds.length / this.batchSize) : Math.ceil(ds.length / this.batchSize);
  }

  /** The epoch the next iteration runs (0 at first; each iteration advances it). */
  get epoch(): number { return this.#epoch; }

  /** Make the next iteration epoch `epoch` (to resume a run: with a seed, its order is that epoch's). */
  setEpoch(epoch: number): void {
    this.#epoch = checkSize('DataLoader.setEpoch', 'epoch', epoch);
  }

  /**
   * Take the tensors of `batch` (or of any part of it) from the loader: it will not dispose them,
   * and the caller disposes them when done. Returns `batch`.
   */
  keep<V>(batch: V): V {
    for (const t of tensorsIn(batch)) this.#kept.add(t);
    return batch;
  }

  /** The item order of epoch `epoch` for a map-style dataset (identity without shuffle). */
  #order(epoch: number, n: number): Int32Array {
    if (!this.shuffle) return Int32Array.from({ length: n }, (_, i) => i);
    return randperm(n, { seed: this.seed === undefined ? seedFromGlobal() : deriveSeed(this.seed, epoch) });
  }

  #startEpoch(): number {
    const epoch = this.#epoch++;
    const ds = this.dataset as { setEpoch?: (e: number) => void };
    if (typeof ds.setEpoch === 'function') ds.setEpoch(epoch);
    return epoch;
  }

  #context(): CollateContext {
    return this.device === undefined ? {} : { device: this.device };
  }

  /** The batch of map-style items at `indices`, its tensors owned by the loader. */
  #mapBatch(indices: number[]): B {
    const ds = this.dataset as Dataset<T>;
    const device = this.device;
    const batch = tidy(() => {
      if (this.#collate === undefined && hasGetBatch(ds)) {
        const b = ds.getBatch(indices);
        return (device === undefined ? b : moveTo(b, device)) as B;
      }
      const collate = this.#collate ?? (defaultCollate as unknown as (items: never[], context: CollateContext) => B);
      return collate(indices.map((i) => ds.get(i)) as never[], this.#context());
    });
    return this.#own(batch);
  }

  /** The batch of stream items; the items' tensors are disposed unless the batch holds them. */
  #streamBatch(items: T[]): B {
    const collate = this.#collate ?? (defaultCollate as unknown as (items: never[], context: CollateContext) => B);
    const inItems = tensorsIn(items);
    let batch: B;
    try {
      batch = tidy(() => collate(items as never[], this.#context()));
    } catch (e) {
      for (const t of inItems) t.dispose();
      throw e;
    }
    const inBatch = tensorsIn(batch);
    for (const t of inItems) if (!inBatch.has(t)) t.dispose();
    return this.#own(batch);
  }

  #own(batch: B): B {
    for (const t of tensorsIn(batch)) keepTensor(t);
    return batch;
  }

  #release(batch: B | undefined): void {
    if (batch === undefined) return;
    for (const t of tensorsIn(batch)) if (!this.#kept.has(t) && !t.isDisposed) t.dispose();
  }

  /** Batches of one epoch, made on demand (no prefetch). */
  *[Symbol.iterator](): Iterator<B> {
    const ds = this.dataset;
    const epoch = this.#startEpoch();
    let current: B | undefined;
    try {
      if (ds instanceof Dataset) {
        const order = this.#order(epoch, ds.length);
        const nb = this.dropLast ? Math.floor(order.length / this.batchSize) : Math.ceil(order.length / this.batchSize);
        for (let b = 0; b < nb; b++) {
          current = this.#mapBatch(Array.from(order.subarray(b * this.batchSize, (b + 1) * this.batchSize)));
          yield current;
          this.#release(current);
          current = undefined;
        }
      } else {
        const source = ds.iterate();
        if (typeof (source as Iterable<T>)[Symbol.iterator] !== 'function') {
          throw new ValueError('DataLoader: this IterableDataset is asynchronous; iterate the loader with `for await`');
        }
        const it = (source as Iterable<T>)[Symbol.iterator]();
        try {
          for (;;) {
            const items: T[] = [];
            let done = false;
            while (items.length < this.batchSize) {
              const r = it.next();
              if (r.done) { done = true; break; }
              items.push(r.value);
            }
            if (items.length > 0 && !(done && this.dropLast && items.length < this.batchSize)) {
              current = this.#streamBatch(items);
              yield current;
              this.#release(current);
              current = undefined;
            } else disposeItems(items);
            if (done) break;
          }
        } finally {
          it.return?.();
        }
      }
    } finally {
      this.#release(current);
    }
  }

  /** Batches of one epoch, with `prefetch` batches prepared ahead. */
  [Symbol.asyncIterator](): AsyncIterator<B> {
    return new PrefetchIterator<T, B>(this, {
      startEpoch: () => this.#startEpoch(),
      order: (e, n) => this.#order(e, n),
      mapBatch: (ix) => this.#mapBatch(ix),
      streamBatch: (items) => this.#streamBatch(items),
      release: (b) => this.#release(b),
    });
  }
}

function disposeItems(items: unknown): void {
  for (const t of tensorsIn(items)) t.dispose();
}

/** `value` with every tensor moved to `device` (inside a tidy: the originals are disposed). */
function moveTo(value: unknown, device: DeviceName): unknown {
  if (isTensor(value)) return value.device === device ? value : to(value, device);
  if (Array.isArray(value)) return value.map((v) => moveTo(v, device));
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, moveTo(v, device)]));
  }
  return value;
}

interface LoaderHooks<T, B> {
  startEpoch(): number;
  order(epoch: number, n: number): Int32Array;
  mapBatch(indices: number[]): B;
  streamBatch(items: T[]): B;
  release(batch: B | undefined): void;
}

/** The async iteration of one epoch: a queue of batches in preparation, filled as a macrotask. */
class PrefetchIterator<T, B> implements AsyncIterator<B> {
  readonly #loader: DataLoader<T, B>;
  readonly #hooks: LoaderHooks<T, B>;
  readonly #queue: Promise<Ready<B>>[] = [];
  #current: B | undefined;
  #closed = false;
  #scheduled = false;
  // Map-style state.
  #order: Int32Array | null = null;
  #nextBatch = 0;
  #numBatches = 0;
  // Stream state: pulls are chained so the source is read in order.
  #source: Iterator<T> | AsyncIterator<T> | null = null;
  #sourceDone = false;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(loader: DataLoader<T, B>, hooks: LoaderHooks<T, B>) {
    this.#loader = loader;
    this.#hooks = hooks;
    const ds = loader.dataset;
    const epoch = hooks.startEpoch();
    if (ds instanceof Dataset) {
      this.#order = hooks.order(epoch, ds.length);
      this.#numBatches = loader.dropLast ? Math.floor(ds.length / loader.batchSize) : Math.ceil(ds.length / loader.batchSize);
    } else {
      const src = ds.iterate();
      const a = (src as AsyncIterable<T>)[Symbol.asyncIterator];
      this.#source = a ? a.call(src) : (src as Iterable<T>)[Symbol.iterator]();
    }
  }

  [Symbol.asyncIterator](): this { return this; }

  #more(): boolean {
    return this.#order ? this.#nextBatch < this.#numBatches : !this.#sourceDone;
  }

  /** Start preparing the next batch (map-style: now, synchronously). */
  #startOne(): void {
    let p: Promise<Ready<B>>;
    if (this.#order) {
      const bs = this.#loader.batchSize;
      const b = this.#nextBatch++;
      try {
        p = Promise.resolve({ batch: this.#hooks.mapBatch(Array.from(this.#order.subarray(b * bs, (b + 1) * bs))) });
      } catch (e) {
        p = Promise.reject(e);
      }
    } else {
      const next = this.#chain.then(() => this.#pull());
      this.#chain = next.catch(() => undefined);
      p = next;
    }
    p.catch(() => undefined); // surfaced when the consumer reaches it
    this.#queue.push(p);
  }

  async #pull(): Promise<Ready<B>> {
    if (this.#sourceDone || this.#closed) return { end: true };
    const items: T[] = [];
    while (items.length < this.#loader.batchSize) {
      const r = await this.#source!.next();
      if (r.done) { this.#sourceDone = true; break; }
      items.push(r.value);
    }
    if (items.length === 0 || this.#closed || (this.#sourceDone && this.#loader.dropLast && items.length < this.#loader.batchSize)) {
      disposeItems(items);
      return { end: true };
    }
    return { batch: this.#hooks.streamBatch(items) };
  }

  #schedule(): void {
    if (this.#scheduled || this.#loader.prefetch === 0) return;
    this.#scheduled = true;
    macrotask(() => {
      this.#scheduled = false;
      while (!this.#closed && this.#queue.length < this.#loader.prefetch && this.#more()) this.#startOne();
    });
  }

  async next(): Promise<IteratorResult<B>> {
    this.#hooks.release(this.#current);
    this.#current = undefined;
    if (this.#closed) return { value: undefined, done: true };
    try {
      if (this.#queue.length === 0 && this.#more()) this.#startOne();
      const p = this.#queue.shift();
      const r = p === undefined ? ({ end: true } as const) : await p;
      if ('end' in r) {
        await this.#close();
        return { value: undefined, done: true };
      }
      if (this.#closed) { // closed while waiting
        this.#hooks.release(r.batch);
        return { value: undefined, done: true };
      }
      this.#current = r.batch;
      if (this.#more()) this.#schedule();
      return { value: r.batch, done: false };
    } catch (e) {
      await this.#close();
      throw e;
    }
  }

  async return(): Promise<IteratorResult<B>> {
    this.#hooks.release(this.#current);
    this.#current = undefined;
    await this.#close();
    return { value: undefined, done: true };
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pending = this.#queue.splice(0);
    for (const p of pending) {
      try {
        const r = await p;
        if ('batch' in r) this.#hooks.release(r.batch);
      } catch { /* an error in a batch nobody will read */ }
    }
    await this.#chain;
    try {
      await this.#source?.return?.();
    } catch { /* the source's own cleanup failed; nothing to hand back */ }
  }
}
