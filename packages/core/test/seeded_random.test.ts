// seededRandom's sequences are part of what users reproduce (shuffles, pruning masks, example data):
// the first values of several seeds are pinned here, as 32-bit integers (value × 2³²).
import { describe, expect, it } from 'vitest';
import { seededRandom, ValueError } from '@webgrad/core';

const first4 = (seed: number): number[] => {
  const r = seededRandom(seed);
  return [r(), r(), r(), r()].map((x) => x * 4294967296);
};

describe('seededRandom', () => {
  it('gives mulberry32’s sequence for each seed', () => {
    expect(first4(0)).toEqual([1144304738, 1416247, 958946056, 627933444]);
    expect(first4(1)).toEqual([2693262067, 11749833, 2265367787, 4213581821]);
    expect(first4(2024)).toEqual([3486492848, 3052955074, 2793987405, 2943453892]);
  });

  it('takes the seed modulo 2³²', () => {
    expect(first4(-1)).toEqual([3850105811, 813802916, 3073704848, 4054706436]);
    expect(first4(2 ** 32 - 1)).toEqual(first4(-1));
    expect(first4(2 ** 32 + 5)).toEqual(first4(5));
  });

  it('returns integers of 32 bits scaled into [0, 1)', () => {
    const r = seededRandom(9);
    for (let i = 0; i < 10000; i++) {
      const u = r();
      expect(u >= 0 && u < 1 && Number.isInteger(u * 4294967296)).toBe(true);
    }
  });

  it('rejects a seed that is not an integer', () => {
    for (const bad of [1.5, NaN, Infinity, '1', null]) {
      expect(() => seededRandom(bad as number)).toThrow(ValueError);
      expect(() => seededRandom(bad as number)).toThrow(/^seededRandom: seed must be an integer/);
    }
  });
});
