// Language-model windows of a token array as a map-style dataset: item i is the window at offset i,
// x = tokens[i : i+T] and y = tokens[i+1 : i+T+1] (views, not copies). As a Dataset it can be mixed
// with another by ratio (@webgrad/data's mixDatasets) and batched by a DataLoader, whose default
// collate stacks the windows into (B, T) int32 tensors.
import { Dataset } from '@webgrad/data';

export interface Window {
  x: Int32Array;
  y: Int32Array;
}

export class TokenWindows extends Dataset<Window> {
  constructor(readonly tokens: Int32Array, readonly blockSize: number) {
    super();
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`TokenWindows: blockSize must be a positive integer, got ${blockSize}`);
    if (tokens.length < blockSize + 1) throw new RangeError(`TokenWindows: ${tokens.length} tokens are too few for windows of ${blockSize} plus a target`);
  }

  /** Every offset that leaves room for the target: n − T windows. */
  get length(): number { return this.tokens.length - this.blockSize; }

  get(index: number): Window {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) throw new RangeError(`TokenWindows.get: index ${index} is out of range for ${this.length} windows`);
    const T = this.blockSize;
    return { x: this.tokens.subarray(index, index + T), y: this.tokens.subarray(index + 1, index + T + 1) };
  }

  /** `count` offsets spread evenly over the array: a fixed evaluation set that needs no RNG. */
  evenlySpaced(count: number): number[] {
    const n = Math.min(count, this.length);
    const step = this.length / n;
    return Array.from({ length: n }, (_, k) => Math.floor(k * step));
  }
}
