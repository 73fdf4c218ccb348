// Language-model batches as nanoGPT's get_batch: B random windows of a token array,
// x = data[i : i+T], y = data[i+1 : i+T+1]. Offsets come from the library's seeded generator
// (randint), so a run — and a run resumed from a checkpoint that restored the RNG — draws the
// same batches.
import { randint, tensor, type DeviceName, type Tensor } from '@webgrad/core';

export interface Batch {
  x: Tensor;
  y: Tensor;
  /** Where each of the B windows starts in `data`. */
  offsets: Int32Array;
}

/** Split tokens into the first `trainFraction` (train) and the rest (val). */
export function trainValSplit(data: Int32Array, trainFraction = 0.9): { train: Int32Array; val: Int32Array } {
  const n = Math.floor(data.length * trainFraction);
  return { train: data.subarray(0, n), val: data.subarray(n) };
}

/** One (B, T) int32 batch of inputs and next-token targets on `device`. */
export function getBatch(data: Int32Array, batchSize: number, blockSize: number, device?: DeviceName): Batch {
  const hi = data.length - blockSize;
  if (hi < 1) throw new RangeError(`getBatch: ${data.length} tokens are too few for windows of ${blockSize + 1}`);
  const ixT = randint(0, hi, [batchSize], { device: 'cpu' });
  const ix = Int32Array.from(ixT.dataSync());
  ixT.dispose();
  const x = new Int32Array(batchSize * blockSize);
  const y = new Int32Array(batchSize * blockSize);
  for (let b = 0; b < batchSize; b++) {
    const i = ix[b]!;
    x.set(data.subarray(i, i + blockSize), b * blockSize);
    y.set(data.subarray(i + 1, i + blockSize + 1), b * blockSize);
  }
  const shape = [batchSize, blockSize];
  return {
    x: tensor(x, { shape, dtype: 'int32', device }), // (B, T)
    y: tensor(y, { shape, dtype: 'int32', device }), // (B, T)
    offsets: ix,
  };
}
