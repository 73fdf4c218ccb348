// Token windows (nanoGPT's get_batch) and contiguous token splits.
import { ValueError, manualSeed, memory, randint, type Tensor } from '@webgrad/core';
import { TokenStream, getBatch, randomWindows, splitTokens } from '@webgrad/data';
import { describe, expect, it } from 'vitest';

const values = (t: Tensor) => Array.from(t.dataSync());

describe('token windows', () => {
  const tokens = Int32Array.from({ length: 1000 }, (_, i) => (i * 7919) % 5003);

  it('x is a window of the source at each offset, y the same window one token on', () => {
    const { x, y, offsets } = getBatch(tokens, { blockSize: 16, batchSize: 8, seed: 1 });
    expect(x.shape).toEqual([8, 16]);
    expect(x.dtype).toBe('int32');
    const xs = values(x);
    const ys = values(y);
    offsets.forEach((o, b) => {
      expect(o).toBeGreaterThanOrEqual(0);
      expect(o).toBeLessThanOrEqual(1000 - 17);
      expect(xs.slice(b * 16, b * 16 + 16)).toEqual(Array.from(tokens.subarray(o, o + 16)));
      expect(ys.slice(b * 16, b * 16 + 16)).toEqual(Array.from(tokens.subarray(o + 1, o + 17)));
    });
    x.dispose(); y.dispose();
  });

  it('seeded streams repeat; windows reach both ends of the array', () => {
    const a = randomWindows(tokens, { blockSize: 4, batchSize: 4, seed: 9 });
    const b = new TokenStream(tokens, { blockSize: 4, batchSize: 4, seed: 9 });
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const p = a.next();
      const q = b.next();
      expect(Array.from(p.offsets)).toEqual(Array.from(q.offsets));
      p.offsets.forEach((o) => seen.add(o));
      [p.x, p.y, q.x, q.y].forEach((t) => t.dispose());
    }
    expect(a.numWindows).toBe(996);
    expect(Math.min(...seen)).toBeLessThan(20);
    expect(Math.max(...seen)).toBeGreaterThan(975);
    expect(Math.max(...seen)).toBeLessThan(996);
  });

  it('without a seed, draws the offsets nanoGPT-style from the global generator', () => {
    manualSeed(5);
    const b1 = getBatch(tokens, { blockSize: 8, batchSize: 3 });
    manualSeed(5);
    const ix = randint(0, 1000 - 8, [3], { device: 'cpu' });
    expect(Array.from(b1.offsets)).toEqual(values(ix));
    [b1.x, b1.y, ix].forEach((t) => t.dispose());
  });

  it('iterating a stream disposes each batch when the next is drawn', () => {
    const before = memory().tensors;
    let n = 0;
    let first: Tensor | undefined;
    for (const { x } of randomWindows(tokens, { blockSize: 8, batchSize: 2, seed: 0 })) {
      first ??= x;
      if (++n === 50) break;
    }
    expect(first!.isDisposed).toBe(true);
    expect(memory().tensors).toBe(before);
  });

  it('splits tokens contiguously and validates', () => {
    const [train, val] = splitTokens(tokens, [0.9, 0.1]);
    expect([train!.length, val!.length]).toEqual([900, 100]);
    expect(val![0]).toBe(tokens[900]);
    expect(train!.buffer).toBe(tokens.buffer);
    expect(splitTokens([1, 2, 3, 4, 5], [3, 2]).map((a) => Array.from(a))).toEqual([[1, 2, 3], [4, 5]]);
    expect(() => getBatch(tokens.subarray(0, 8), { blockSize: 8, batchSize: 1 })).toThrow(/too few/);
    expect(() => getBatch(tokens, { blockSize: 0, batchSize: 1 })).toThrow(ValueError);
    expect(() => getBatch(tokens, { blockSize: 4, batchSize: NaN })).toThrow(/batchSize must be an integer/);
    expect(() => getBatch(tokens, { blockSize: 4, batchSize: 2, block: 1 } as never)).toThrow(/unknown option "block"/);
    expect(() => getBatch([1, 2.5, 3], { blockSize: 1, batchSize: 1 })).toThrow(/integer ids/);
    expect(() => new TokenStream(tokens, undefined as never)).toThrow(ValueError);
  });
});
