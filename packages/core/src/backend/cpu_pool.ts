// Reuse of the `cpu` device's TypedArrays. A training step allocates the same buffers every step;
// handing a disposed tensor's array to the next tensor of the same dtype and length avoids the
// allocator, the page faults of fresh large arrays, and the garbage collector. A reused array keeps
// its old contents, like a reused WebGPU buffer: kernels write every element of their outputs (the
// `KernelSet` contract) and zeros()/full() fill explicitly.
//
// Only arrays released through `release` (a disposed tensor's storage) are pooled; tensors the
// garbage collector reclaims are simply gone. The pool holds at most `maxBytes`; past that the
// least recently released arrays are dropped.
import type { TypedArray } from '@webgrad/kernels';

/** Counters of a `CpuArrayPool`. */
export interface CpuPoolStats {
  /** Bytes held in the pool now. */ pooledBytes: number;
  /** Acquisitions served from the pool. */ reuses: number;
  /** Acquisitions that made a new array. */ allocations: number;
}

/** Free lists of typed arrays by dtype and length for the cpu device's storage, holding at most `maxBytes` (least recently released dropped first). */
export class CpuArrayPool {
  private readonly free = new Map<string, TypedArray[]>();
  /** Released arrays and their keys, oldest first (a Map keeps insertion order), for eviction. */
  private readonly order = new Map<TypedArray, string>();
  private pooledBytes = 0;
  private reuses = 0;
  private allocations = 0;

  /** Testing aid: fill every array handed out with NaN (integer arrays: 0). */
  poison = false;

  /** @param make Allocates a new array of `dtype` and `length`.
   *  @param maxBytes Most bytes the pool holds (default 256 MiB). */
  constructor(private readonly make: (dtype: string, length: number) => TypedArray, public maxBytes = 256 * 2 ** 20) {}

  /** A pooled array of `dtype` and `length`, or a new one; its contents are undefined. */
  acquire(dtype: string, length: number): TypedArray {
    const key = `${dtype}:${length}`;
    const arr = this.free.get(key)?.pop();
    if (!arr) {
      this.allocations++;
      const fresh = this.make(dtype, length);
      if (this.poison) fresh.fill(NaN as never);
      return fresh;
    }
    this.order.delete(arr);
    this.pooledBytes -= arr.byteLength;
    this.reuses++;
    if (this.poison) arr.fill(NaN as never);
    return arr;
  }

  /** Give an array back to the pool (dropped when larger than `maxBytes` or empty). */
  release(dtype: string, length: number, arr: TypedArray): void {
    if (arr.byteLength > this.maxBytes || arr.byteLength === 0) return;
    const key = `${dtype}:${length}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(arr);
    this.order.set(arr, key);
    this.pooledBytes += arr.byteLength;
    for (const [old, oldKey] of this.order) {
      if (this.pooledBytes <= this.maxBytes) break;
      const l = this.free.get(oldKey);
      l?.splice(l.indexOf(old), 1);
      this.order.delete(old);
      this.pooledBytes -= old.byteLength;
    }
  }

  /** Drops every pooled array. */
  clear(): void {
    this.free.clear();
    this.order.clear();
    this.pooledBytes = 0;
  }

  /** The pool's counters. */
  stats(): CpuPoolStats {
    return { pooledBytes: this.pooledBytes, reuses: this.reuses, allocations: this.allocations };
  }
}
