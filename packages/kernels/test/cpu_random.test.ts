// Tests of the counter-based RNG (Threefry-2x32-20) and the `random` kernel built on it.
import { describe, expect, it } from 'vitest';
import { contiguousView, cpuKernels, randomWords, threefry2x32 } from '../src/cpu/index.js';

const hex = (w: [number, number]): string[] => w.map((x) => x.toString(16).padStart(8, '0'));

describe('cpu threefry2x32', () => {
  it('reproduces the Random123 known-answer vectors for Threefry-2x32-20', () => {
    // Random123 kat_vectors, "threefry2x32 20 <ctr0> <ctr1> <key0> <key1> <out0> <out1>".
    expect(hex(threefry2x32(0, 0, 0, 0))).toEqual(['6b200159', '99ba4efe']);
    expect(hex(threefry2x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff))).toEqual(['1cb996fc', 'bb002be7']);
    // ctr = (0x243f6a88, 0x85a308d3), key = (0x13198a2e, 0x03707344): the digits of π.
    expect(hex(threefry2x32(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3))).toEqual(['c4923a9c', '483df7a0']);
  });

  it('returns u32 words and depends on every input', () => {
    const base = threefry2x32(1, 2, 3, 4);
    for (const w of base) expect(w >>> 0).toBe(w);
    expect(threefry2x32(1, 2, 3, 5)).not.toEqual(base);
    expect(threefry2x32(1, 2, 4, 4)).not.toEqual(base);
    expect(threefry2x32(1, 3, 3, 4)).not.toEqual(base);
    expect(threefry2x32(0, 2, 3, 4)).not.toEqual(base);
  });
});

describe('cpu random kernel', () => {
  it('uniform: element i is (w0 >>> 8)·2^-24 of counter offset+i', () => {
    const out = contiguousView('float64', [5]);
    cpuKernels.random(out, { seed: 42, offset: 7, distribution: 'uniform' });
    for (let i = 0; i < 5; i++) {
      const [w0] = randomWords(42, 7 + i);
      expect(out.buffer[i]).toBe((w0 >>> 8) / 2 ** 24);
    }
    // the key for seed 42 is (42, 0 ^ 0x1BD11BDA)
    expect(randomWords(42, 7)).toEqual(threefry2x32(42, 0x1bd11bda, 7, 0));
    expect(randomWords(2 ** 32 + 5, 1)).toEqual(threefry2x32(5, 1 ^ 0x1bd11bda, 1, 0));
  });

  it('is deterministic, and a call at offset n continues the stream of a call at 0', () => {
    const a = contiguousView('float32', [100]);
    const b = contiguousView('float32', [100]);
    cpuKernels.random(a, { seed: 3, offset: 0, distribution: 'normal' });
    cpuKernels.random(b, { seed: 3, offset: 0, distribution: 'normal' });
    expect(Array.from(b.buffer)).toEqual(Array.from(a.buffer));
    const tail = contiguousView('float32', [40]);
    cpuKernels.random(tail, { seed: 3, offset: 60, distribution: 'normal' });
    expect(Array.from(tail.buffer)).toEqual(Array.from(a.buffer.slice(60)));
    const other = contiguousView('float32', [100]);
    cpuKernels.random(other, { seed: 4, offset: 0, distribution: 'normal' });
    expect(Array.from(other.buffer)).not.toEqual(Array.from(a.buffer));
  });

  it('uniform over 1e5 samples: in [0,1), mean ≈ 1/2, variance ≈ 1/12', () => {
    const n = 100_000;
    const out = contiguousView('float32', [n]);
    cpuKernels.random(out, { seed: 1234, offset: 0, distribution: 'uniform' });
    let s = 0;
    let s2 = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const u of out.buffer) {
      s += u;
      s2 += u * u;
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
    }
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    // standard error of the mean is √(1/12/n) ≈ 9e-4: 5 sigma
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.0046);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
  });

  it('normal over 1e5 samples: mean ≈ 0, variance ≈ 1, ~68.3% within one sigma', () => {
    const n = 100_000;
    const out = contiguousView('float64', [n]);
    cpuKernels.random(out, { seed: 99, offset: 0, distribution: 'normal' });
    let s = 0;
    let s2 = 0;
    let within = 0;
    let finite = 0;
    for (const z of out.buffer) {
      if (Number.isFinite(z)) finite++;
      s += z;
      s2 += z * z;
      if (Math.abs(z) < 1) within++;
    }
    expect(finite).toBe(n);
    const mean = s / n;
    expect(Math.abs(mean)).toBeLessThan(0.016); // 5 · 1/√n
    expect(Math.abs(s2 / n - mean * mean - 1)).toBeLessThan(0.025);
    expect(Math.abs(within / n - 0.6827)).toBeLessThan(0.008);
  });

  it('normal follows the documented Box–Muller formula exactly', () => {
    const out = contiguousView('float64', [3]);
    cpuKernels.random(out, { seed: 5, offset: 10, distribution: 'normal' });
    for (let i = 0; i < 3; i++) {
      const [w0, w1] = randomWords(5, 10 + i);
      const u1 = ((w0 >>> 8) + 1) * 2 ** -24;
      const u2 = (w1 >>> 8) * 2 ** -24;
      expect(out.buffer[i]).toBe(Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
    }
  });
});
