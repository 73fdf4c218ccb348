// The cpu device's memory: disposed tensors' arrays are reused for new tensors of the
// same dtype and length, the pool stays under its byte cap, and a training-style loop stops
// allocating after its first step (float32 tensors in the fast kernels' WebAssembly heap, other
// dtypes from the pool).
import { describe, expect, it } from 'vitest';
import { CpuArrayPool, cpuArrayPool, randn, tidy } from '@webgrad/core';
import { wasmRuntime } from '@webgrad/kernels';

describe('CpuArrayPool', () => {
  it('reuses a released array of the same dtype and length', () => {
    const pool = new CpuArrayPool((_d, n) => new Float32Array(n));
    const a = pool.acquire('float32', 8) as Float32Array;
    a.fill(7);
    pool.release('float32', 8, a);
    expect(pool.acquire('float32', 9)).not.toBe(a); // other length
    expect(pool.acquire('int32', 8)).not.toBe(a); // other dtype key
    const b = pool.acquire('float32', 8);
    expect(b).toBe(a);
    expect(pool.stats()).toMatchObject({ reuses: 1, allocations: 3, pooledBytes: 0 });
  });

  it('drops the oldest arrays beyond maxBytes', () => {
    const pool = new CpuArrayPool((_d, n) => new Float32Array(n), 100);
    const arrs = [0, 1, 2].map(() => pool.acquire('float32', 10)); // 40 bytes each
    for (const a of arrs) pool.release('float32', 10, a);
    expect(pool.stats().pooledBytes).toBe(80);
    expect(pool.acquire('float32', 10)).toBe(arrs[2]); // most recent survivors
    expect(pool.acquire('float32', 10)).toBe(arrs[1]);
    expect(pool.acquire('float32', 10)).not.toBe(arrs[0]);
    pool.release('float32', 1000, new Float32Array(1000)); // larger than the cap: not kept
    expect(pool.stats().pooledBytes).toBe(0);
  });

  it('a repeated step on the cpu device reuses memory: float32 in the WebAssembly heap, other dtypes from the pool', () => {
    const rt = wasmRuntime();
    const w = randn([64, 64]);
    expect(rt.addressOf(w.storage.buffer as Float32Array)).toBeGreaterThanOrEqual(0); // float32: in the heap
    const step = () => tidy(() => { w.matmul(w).relu().sum(); w.gt(0).sum(); });
    step();
    const heap = rt.heapStats(), pool = cpuArrayPool.stats();
    for (let i = 0; i < 5; i++) step();
    expect(rt.heapStats()).toEqual(heap);
    expect(cpuArrayPool.stats().allocations).toBe(pool.allocations);
    expect(cpuArrayPool.stats().reuses).toBeGreaterThan(pool.reuses); // the bool masks
    w.dispose();
  });
});
