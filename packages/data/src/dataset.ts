// Datasets as in torch.utils.data: map-style (`Dataset`: a length and an item per index) and
// iterable (`IterableDataset`: a stream), and the containers built from them — `TensorDataset`,
// `Subset`, `ConcatDataset` and a dataset over a plain array.
import { IndexError, ShapeError, ValueError, checkTensor, fmtShape, fmtValue, indexSelect, select, tensor, type Tensor } from '@webgrad/core';

/** Check a map-style index: an integer in [0, length). */
export function checkIndex(op: string, index: unknown, length: number): number {
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= length) {
    throw new IndexError(`${op}: index ${fmtValue(index)} is out of range for a dataset of length ${length}`);
  }
  return index;
}

/**
 * A map-style dataset (torch.utils.data.Dataset): `length` items, item `i` from `get(i)`.
 * Subclass it and implement both. Items may be anything the loader's collate function accepts
 * (numbers, arrays, typed arrays, tensors, strings, objects and tuples of these).
 *
 * Tensors that `get` creates (for example views of a larger tensor) are disposed by the
 * `DataLoader` once the batch is assembled; tensors `get` returns that existed before the call
 * (stored in the dataset) are left alone.
 */
export abstract class Dataset<T> {
  /** The number of items. */
  abstract get length(): number;
  /** Item `index`, for an integer index in [0, length). */
  abstract get(index: number): T;

  /** A dataset over the items of an array (which is not copied). */
  static from<T>(items: readonly T[]): Dataset<T> {
    return new ArrayDataset(items);
  }

  /** The items in index order. */
  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
}

/**
 * An optional fast path a map-style dataset may offer: the whole batch for `indices` at once,
 * already collated (one gather instead of an item each). The `DataLoader` calls it when it was
 * given no `collate` function. `TensorDataset` implements it with `indexSelect`.
 */
export interface BatchedDataset {
  /** The collated batch of the items at `indices`. */
  getBatch(indices: readonly number[]): unknown;
}

/** True when `ds` offers `getBatch`. */
export function hasGetBatch(ds: unknown): ds is BatchedDataset {
  return typeof (ds as Partial<BatchedDataset>).getBatch === 'function';
}

/** A dataset over the items of an array; `Dataset.from(items)` makes one. */
export class ArrayDataset<T> extends Dataset<T> {
  /** @param items The items, item i at index i (kept, not copied). */
  constructor(readonly items: readonly T[]) {
    super();
    if (!Array.isArray(items)) throw new ValueError(`ArrayDataset: items must be an array, got ${fmtValue(items)}`);
  }
  get length(): number { return this.items.length; }
  get(index: number): T { return this.items[checkIndex('ArrayDataset.get', index, this.items.length)]!; }
}

/**
 * An iterable dataset (torch.utils.data.IterableDataset): a stream of items with no random access,
 * for data read or generated on the fly. Subclass it and implement `iterate()` as a generator
 * (`*iterate()`) or an async generator (`async *iterate()`), or wrap a function with
 * `IterableDataset.from`. Each call of `iterate()` starts a new pass.
 *
 * Tensors an iterable dataset yields are handed over: the `DataLoader` disposes them once the
 * batch they went into is assembled (unless collate returned them as they are).
 */
export abstract class IterableDataset<T> {
  /** A new pass over the items. */
  abstract iterate(): Iterable<T> | AsyncIterable<T>;

  /** An iterable dataset whose passes are `source()`; e.g. `IterableDataset.from(() => readLines(f))`. */
  static from<T>(source: () => Iterable<T> | AsyncIterable<T>): IterableDataset<T> {
    if (typeof source !== 'function') throw new ValueError(`IterableDataset.from: source must be a function returning an iterable, got ${fmtValue(source)}`);
    return new (class extends IterableDataset<T> {
      iterate() { return source(); }
    })();
  }
}

/** A map-style or iterable dataset, or a plain array (treated as `Dataset.from(array)`). */
export type AnyDataset<T> = Dataset<T> | IterableDataset<T> | readonly T[];

/** Check that `ds` is a dataset and return it as one (arrays become `ArrayDataset`s). */
export function asDataset<T>(op: string, ds: AnyDataset<T>, name = 'dataset'): Dataset<T> | IterableDataset<T> {
  if (Array.isArray(ds)) return new ArrayDataset(ds as readonly T[]);
  if (ds instanceof Dataset || ds instanceof IterableDataset) return ds;
  throw new ValueError(`${op}: ${name} must be a Dataset, an IterableDataset or an array, got ${fmtValue(ds)}`);
}

/** Check that `ds` is a map-style dataset (or an array) and return it as one. */
export function asMapDataset<T>(op: string, ds: Dataset<T> | readonly T[], name = 'dataset'): Dataset<T> {
  const d = asDataset(op, ds, name);
  if (!(d instanceof Dataset)) throw new ValueError(`${op}: ${name} must be a map-style Dataset (with a length and get(i)), got an IterableDataset`);
  return d;
}

/**
 * Rows of tensors that share their first dimension (torch.utils.data.TensorDataset): item `i` is
 * `[t0[i], t1[i], …]`, views of the stored tensors. The tensors stay owned by the caller.
 * With the default collate, the loader gathers each batch with one `indexSelect` per tensor.
 */
export class TensorDataset extends Dataset<Tensor[]> implements BatchedDataset {
  /** The stored tensors, each with the dataset's length as its first dimension. */
  readonly tensors: readonly Tensor[];

  constructor(...tensors: Tensor[]) {
    super();
    if (tensors.length === 0) throw new ValueError('TensorDataset: expected at least one tensor');
    tensors.forEach((t, i) => checkTensor('TensorDataset', `tensors[${i}]`, t));
    const n = tensors[0]!.shape[0];
    if (n === undefined) throw new ShapeError('TensorDataset: tensors must have at least one dim (the item dim), got a 0-d tensor');
    for (const [i, t] of tensors.entries()) {
      if (t.shape.length === 0 || t.shape[0] !== n) {
        throw new ShapeError(`TensorDataset: every tensor must have the same size ${n} in dim 0; tensors[${i}] has shape ${fmtShape(t.shape)}`);
      }
    }
    this.tensors = tensors;
  }

  get length(): number { return this.tensors[0]!.shape[0]!; }

  /** `[t0[index], t1[index], …]` as views (dispose them, or call inside `tidy`). */
  get(index: number): Tensor[] {
    checkIndex('TensorDataset.get', index, this.length);
    return this.tensors.map((t) => select(t, 0, index));
  }

  /** `[t0[indices], t1[indices], …]`: new tensors of batch size `indices.length`. */
  getBatch(indices: readonly number[]): Tensor[] {
    for (const i of indices) checkIndex('TensorDataset.getBatch', i, this.length);
    const idx = new Map<string, Tensor>();
    try {
      return this.tensors.map((t) => {
        let ix = idx.get(t.device);
        if (!ix) idx.set(t.device, (ix = tensor(Int32Array.from(indices), { device: t.device })));
        return indexSelect(t, 0, ix);
      });
    } finally {
      for (const ix of idx.values()) ix.dispose();
    }
  }
}

/** The items of `dataset` at `indices`, in that order (torch.utils.data.Subset). */
export class Subset<T> extends Dataset<T> {
  /** The dataset the items come from. */
  readonly dataset: Dataset<T>;
  /** The indices into `dataset` of this subset's items, in order. */
  readonly indices: Int32Array;

  constructor(dataset: Dataset<T> | readonly T[], indices: ArrayLike<number>) {
    super();
    this.dataset = asMapDataset('Subset', dataset);
    if (indices === null || typeof indices !== 'object' || typeof indices.length !== 'number') {
      throw new ValueError(`Subset: indices must be an array of integers, got ${fmtValue(indices)}`);
    }
    const n = this.dataset.length;
    this.indices = Int32Array.from({ length: indices.length }, (_, k) => checkIndex('Subset', indices[k], n));
  }

  get length(): number { return this.indices.length; }
  get(index: number): T { return this.dataset.get(this.indices[checkIndex('Subset.get', index, this.indices.length)]!); }

  /** Present when the underlying dataset offers `getBatch`. */
  get getBatch(): ((indices: readonly number[]) => unknown) | undefined {
    const base = this.dataset;
    if (!hasGetBatch(base)) return undefined;
    return (indices) => base.getBatch(indices.map((i) => this.indices[checkIndex('Subset.getBatch', i, this.indices.length)]!));
  }
}

/** Datasets one after another (torch.utils.data.ConcatDataset). */
export class ConcatDataset<T> extends Dataset<T> {
  /** The datasets, in order. */
  readonly datasets: readonly Dataset<T>[];
  /** cumulativeSizes[k] = total length of datasets 0 … k. */
  readonly cumulativeSizes: readonly number[];

  constructor(datasets: readonly (Dataset<T> | readonly T[])[]) {
    super();
    if (!Array.isArray(datasets) || datasets.length === 0) throw new ValueError(`ConcatDataset: expected a non-empty array of datasets, got ${fmtValue(datasets)}`);
    this.datasets = datasets.map((d, i) => asMapDataset('ConcatDataset', d, `datasets[${i}]`));
    let total = 0;
    this.cumulativeSizes = this.datasets.map((d) => (total += d.length));
  }

  get length(): number { return this.cumulativeSizes[this.cumulativeSizes.length - 1]!; }

  get(index: number): T {
    checkIndex('ConcatDataset.get', index, this.length);
    let lo = 0;
    let hi = this.cumulativeSizes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (index < this.cumulativeSizes[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return this.datasets[lo]!.get(index - (lo === 0 ? 0 : this.cumulativeSizes[lo - 1]!));
  }
}
