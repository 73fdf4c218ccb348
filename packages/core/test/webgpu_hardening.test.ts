// Failure paths on every device: an unknown dtype is refused before anything is allocated (memory()
// stays as it was), oneHot checks its ids on WebGPU too, and an index error found by a WebGPU
// kernel is raised by reads of the faulty result (and of tensors computed from it), never by
// an unrelated read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wg from '@webgrad/core';
import { testDevices } from './helpers.js';

const F16 = 'float8' as wg.DType; // no such dtype

/** Runs `f`, which must throw; returns the error, after checking memory() is as it was. */
function failsCleanly(f: () => unknown): Error {
  const before = wg.memory();
  let err: unknown = null;
  try { f(); } catch (e) { err = e; }
  const after = wg.memory();
  expect(err).toBeInstanceOf(Error);
  expect(Number.isFinite(after.bytes)).toBe(true);
  expect([after.bytes, after.tensors]).toEqual([before.bytes, before.tensors]);
  return err as Error;
}

describe('an unknown dtype', () => {
  // New cpu storage is poisoned in the tests; without that, the allocation itself used to succeed
  // and leave memory().bytes NaN.
  let poisoned = true;
  beforeAll(() => { poisoned = wg.poisonCpuAllocations(false); });
  afterAll(() => { wg.poisonCpuAllocations(poisoned); });

  for (const device of testDevices()) {
    it(`is a DTypeError naming the op and the dtype, with nothing allocated (${device})`, () => {
      const x = wg.tensor([1, 2, 3], { device });
      const o = { device, dtype: F16 };
      const calls: [string, () => unknown][] = [
        ['cast', () => wg.cast(x, F16)], ['cast', () => wg.tidy(() => wg.cast(x.mul(2), F16))],
        ['zeros', () => wg.zeros([2], o)], ['ones', () => wg.ones([2], o)], ['full', () => wg.full([2], 1, o)],
        ['tensor', () => wg.tensor([1, 2], o)], ['tensor', () => wg.tensor(new Float32Array(2), o)],
        ['arange', () => wg.arange(3, undefined, 1, o)], ['linspace', () => wg.linspace(0, 1, 3, o)],
        ['eye', () => wg.eye(2, 2, o)], ['rand', () => wg.rand([2], o)], ['randn', () => wg.randn([2], o)],
        ['randint', () => wg.randint(0, 3, [2], o)],
        ['zerosLike', () => wg.zerosLike(x, { dtype: F16 })], ['onesLike', () => wg.onesLike(x, { dtype: F16 })],
        ['fullLike', () => wg.fullLike(x, 2, { dtype: F16 })],
      ];
      for (const [op, f] of calls) {
        const e = failsCleanly(f);
        expect(e, op).toBeInstanceOf(wg.DTypeError);
        expect(e.message, op).toMatch(new RegExp(`^${op}\\b.*float8`));
      }
      // `to` takes a device or a dtype, so an unknown string is refused as either
      const e = failsCleanly(() => wg.to(x, F16));
      expect(e).toBeInstanceOf(wg.WebgradError);
      expect(e.message).toMatch(/^to\b.*float8/);
      x.dispose();
    });
  }

  it('is not accepted by the webgpu device at allocation either', () => {
    const b = wg.getBackend('webgpu');
    expect(b.supports(F16)).toBe(false);
    expect(b.supports('float64')).toBe(false);
    expect(['float32', 'int32', 'bool'].every((d) => b.supports(d as wg.DType))).toBe(true);
  });
});

describe('oneHot', () => {
  for (const device of testDevices()) {
    it(`encodes ids and refuses a bad class count (${device})`, async () => {
      const ids = wg.tensor([[2, 0], [1, 2]], { device });
      const y = wg.oneHot(ids, 3);
      expect(y.shape).toEqual([2, 2, 3]);
      expect(y.dtype).toBe('int32');
      expect(Array.from(await y.data())).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
      for (const n of [-1, NaN, 2.5]) {
        const e = failsCleanly(() => wg.oneHot(ids, n));
        expect(e).toBeInstanceOf(wg.WebgradError);
        expect(e.message).toMatch(new RegExp(`^oneHot: numClasses .*${n}`));
      }
      y.dispose(); ids.dispose();
    });

    it(`reports an out-of-range id as an IndexError naming oneHot, the id and the class count (${device})`, async () => {
      for (const bad of [3, -1]) {
        const ids = wg.tensor([0, bad, 1], { device });
        const innocent = wg.tensor([5, 6], { device }).mul(2);
        let err: unknown = null;
        try {
          const y = wg.oneHot(ids, 3); // the CPU throws here; WebGPU at the read of y
          await expect(innocent.data()).resolves.toEqual(new Int32Array([10, 12]));
          const total = y.sum();
          await y.data().catch((e: unknown) => { err = e; });
          await expect(total.data()).rejects.toThrow(wg.IndexError); // computed from y
          y.dispose(); total.dispose();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(wg.IndexError);
        expect((err as Error).message).toMatch(new RegExp(`^oneHot: index ${bad} is out of range for numClasses of size 3`));
        await expect(innocent.data()).resolves.toEqual(new Int32Array([10, 12]));
        ids.dispose(); innocent.dispose();
      }
    });
  }
});

describe('webgpu index errors', () => {
  it('are raised by reads of the faulty result and what is computed from it, not by other reads', async () => {
    const w = wg.randn([4, 3], { device: 'webgpu' });
    const before = wg.randn([2], { device: 'webgpu' }).add(1);
    const e = wg.embedding(w, wg.tensor([1, 4], { device: 'webgpu' }));
    const after = w.sum(); // uses the same table, not the faulty lookup
    const downstream = e.mul(2).sum();
    await before.data();
    await after.data();
    await expect(downstream.data()).rejects.toThrow(/^indexSelect: index 4 is out of range for a dimension of size 4/);
    await expect(e.data()).rejects.toThrow(wg.IndexError);
    await expect(w.data()).resolves.toHaveLength(12);
    e.dispose(); downstream.dispose();
    // the released storage is reused without the error
    const ok = wg.embedding(w, wg.tensor([3, 0], { device: 'webgpu' })).mul(2).sum();
    const wv = Array.from(await w.data());
    const want = 2 * [...wv.slice(9, 12), ...wv.slice(0, 3)].reduce((a, b) => a + b, 0);
    expect(await ok.item()).toBeCloseTo(want, 4);
    for (const t of [w, before, after, ok]) t.dispose();
  });
});
