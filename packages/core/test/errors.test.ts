// Bad input gets a typed error whose message names the op, the shapes and the dtypes.
import { describe, expect, it } from 'vitest';
import * as wg from '@webgrad/core';
import { tensor, zeros, ones } from '@webgrad/core';

describe('typed errors', () => {
  it('unbroadcastable shapes', () => {
    expect(() => zeros([2, 3]).add(zeros([4, 3]))).toThrow(wg.ShapeError);
    expect(() => zeros([2, 3]).add(zeros([4, 3]))).toThrow(/add: shapes \[2, 3\] and \[4, 3\] cannot be broadcast/);
  });
  it('matmul shape mismatch names both shapes', () => {
    expect(() => wg.matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(/matmul: shapes \[2, 3\] and \[4, 5\] cannot be multiplied/);
    expect(() => wg.matmul(zeros([]), zeros([3]))).toThrow(wg.ShapeError);
  });
  it('bad dims', () => {
    expect(() => zeros([2, 3]).sum(2)).toThrow(wg.IndexError);
    expect(() => zeros([2, 3]).sum(2)).toThrow(/sum: dim 2 is out of range for a tensor of rank 2/);
    expect(() => zeros([2, 3]).transpose(0, 5)).toThrow(wg.IndexError);
    expect(() => zeros([2, 3]).reshape([4, 2])).toThrow(/reshape: cannot reshape \[2, 3\] \(6 elements\) into \[4, 2\]/);
    expect(() => zeros([2, 3]).narrow(1, 2, 2)).toThrow(wg.IndexError);
    expect(() => zeros([2, 3]).permute([0, 0])).toThrow(wg.IndexError);
    expect(() => wg.cat([zeros([2, 3]), zeros([2, 4])], 0)).toThrow(wg.ShapeError);
  });
  it('out-of-range indices in gather, embedding, crossEntropy', () => {
    const w = zeros([4, 2]);
    expect(() => wg.embedding(w, tensor([1, 4]))).toThrow(wg.IndexError);
    expect(() => wg.embedding(w, tensor([1, 4]))).toThrow(/embedding: index 4 is out of range for an embedding table \[4, 2\]/);
    expect(() => wg.embedding(w, tensor([-1]))).toThrow(wg.IndexError);
    expect(() => zeros([2, 3]).gather(1, tensor([[3], [0]]))).toThrow(/gather: index 3 is out of range/);
    expect(() => wg.crossEntropy(zeros([2, 3]), tensor([0, 3]))).toThrow(wg.IndexError);
    expect(() => wg.embedding(w, tensor([1.5]))).toThrow(wg.DTypeError);
  });
  it('backward of a non-scalar without a gradient', () => {
    const x = ones([3], { requiresGrad: true });
    expect(() => x.mul(2).backward()).toThrow(wg.AutogradError);
    expect(() => x.mul(2).backward()).toThrow(/not a scalar/);
    expect(() => zeros([1]).backward()).toThrow(/does not require grad/);
  });
  it('use after dispose', () => {
    const x = ones([2]);
    x.dispose();
    expect(() => x.add(1)).toThrow(wg.DisposedError);
    expect(() => x.add(1)).toThrow(/add: input 0 \(shape \[2\]\) was used after dispose/);
    expect(() => x.dispose()).not.toThrow();
  });
  it('an in-place change to a tensor saved for backward', () => {
    const x = ones([3], { requiresGrad: true });
    const y = x.mul(2);
    const z = y.exp(); // saves its output
    wg.noGrad(() => z.add_(1));
    expect(() => z.sum().backward()).toThrow(wg.AutogradError);
    expect(() => y.exp().mul(y).sum().backward()).not.toThrow();
    const s = x.mul(1);
    const u = s.mul(s);
    wg.noGrad(() => s.mul_(3));
    expect(() => u.sum().backward()).toThrow(/'mul': saved tensor 0 .* was modified in place/);
  });
  it('in-place on a leaf that requires grad outside noGrad', () => {
    const w = ones([2], { requiresGrad: true });
    expect(() => w.add_(1)).toThrow(wg.AutogradError);
    expect(() => wg.noGrad(() => w.add_(1))).not.toThrow();
  });
  it('integer tensors cannot require grad; ragged arrays; bad values', () => {
    expect(() => tensor([1, 2], { requiresGrad: true })).toThrow(wg.ValueError);
    expect(() => tensor([[1, 2], [3]])).toThrow(wg.ShapeError);
    expect(() => wg.arange(0, 1, 0)).toThrow(wg.ValueError);
    expect(() => wg.dropout(ones([2]), 1.5)).toThrow(wg.ValueError);
    expect(() => zeros([-1])).toThrow(wg.ShapeError);
    expect(() => wg.max(zeros([0]))).toThrow(/cannot reduce over an empty dimension/);
  });
  it('unknown or uninitialised devices', () => {
    expect(() => zeros([2], { device: 'tpu' as never })).toThrow(wg.DeviceError);
    if (!wg.hasDevice('webgpu')) expect(() => zeros([2], { device: 'webgpu' })).toThrow(/initWebGPU/);
  });
  it('log of a negative number is NaN, not an error', async () => {
    expect(Number.isNaN((await tensor([-1.0]).log().data())[0])).toBe(true);
  });
});

describe('reads and copies of something that is not a tensor', () => {
  it('raise a typed error naming the function', async () => {
    const wg = await import('@webgrad/core');
    for (const [name, call] of [
      ['data', () => wg.data(3 as never)], ['dataSync', () => wg.dataSync({} as never)], ['item', () => wg.item([1] as never)],
      ['array', () => wg.array(null as never)], ['detach', () => wg.detach('x' as never)], ['contiguous', () => wg.contiguous(1 as never)], ['clone', () => wg.clone(undefined as never)],
    ] as const) {
      let caught: unknown;
      try { await call(); } catch (e) { caught = e; }
      expect(caught, name).toBeInstanceOf(wg.ValueError);
      expect((caught as Error).message.startsWith(`${name}: input must be a Tensor`), name).toBe(true);
    }
  });
});
