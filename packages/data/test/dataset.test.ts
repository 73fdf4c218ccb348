// Datasets, seeded permutations, splits and mixing.
import { IndexError, ShapeError, ValueError, arange, manualSeed, memory, tensor, tidy } from '@webgrad/core';
import {
  ConcatDataset, Dataset, IterableDataset, MixedDataset, MixedIterableDataset, SeededRandom, Subset, TensorDataset, deriveSeed, mixDatasets,
  randomSplit, randperm, seedFromGlobal, splitSizes,
} from '@webgrad/data';
import { describe, expect, it } from 'vitest';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const isPermutation = (p: ArrayLike<number>, n: number) => p.length === n && [...Array.from(p)].sort((a, b) => a - b).every((v, i) => v === i);

describe('seeded randomness', () => {
  it('SeededRandom is deterministic, uniform enough, and unbiased below n', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const xs = range(1000).map(() => a.nextUint32());
    expect(range(1000).map(() => b.nextUint32())).toEqual(xs);
    expect(new SeededRandom(43).nextUint32()).not.toBe(xs[0]);
    const r = new SeededRandom(1);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[r.below(6)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400);
    const us = range(10000).map(() => r.random());
    expect(Math.min(...us)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...us)).toBeLessThan(1);
    expect(Math.abs(us.reduce((x, y) => x + y, 0) / 10000 - 0.5)).toBeLessThan(0.02);
    // Seeds beyond 32 bits are distinct seeds.
    expect(new SeededRandom(2 ** 40).nextUint32()).not.toBe(new SeededRandom(0).nextUint32());
  });

  it('randperm: a permutation, reproducible per seed, different across seeds', () => {
    const p = randperm(100, { seed: 3 });
    expect(isPermutation(p, 100)).toBe(true);
    expect(Array.from(randperm(100, { seed: 3 }))).toEqual(Array.from(p));
    expect(Array.from(randperm(100, { seed: 4 }))).not.toEqual(Array.from(p));
    expect(Array.from(p)).not.toEqual(range(100));
    expect(randperm(0, { seed: 1 })).toHaveLength(0);
    // Every position is uniformly likely: item 0 lands in each of 4 places ~1/4 of the time.
    const where = new Array(4).fill(0);
    const g = new SeededRandom(9);
    for (let i = 0; i < 8000; i++) where[randperm(4, { generator: g }).indexOf(0)]++;
    for (const w of where) expect(Math.abs(w - 2000)).toBeLessThan(200);
  });

  it('without a seed, follows manualSeed', () => {
    manualSeed(11);
    const a = Array.from(randperm(50));
    const s = seedFromGlobal();
    manualSeed(11);
    expect(Array.from(randperm(50))).toEqual(a);
    expect(seedFromGlobal()).toBe(s);
    expect(deriveSeed(1, 0)).not.toBe(deriveSeed(1, 1));
    expect(deriveSeed(1, 5)).toBe(deriveSeed(1, 5));
  });

  it('validates', () => {
    expect(() => randperm(-1)).toThrow(ValueError);
    expect(() => randperm(3.5)).toThrow(/n must be an integer/);
    expect(() => randperm(3, { seed: -1 })).toThrow(ValueError);
    expect(() => randperm(3, { seed: 1, generator: new SeededRandom(1) })).toThrow(/either seed or generator/);
    expect(() => randperm(3, { sed: 1 } as never)).toThrow(/unknown option "sed"/);
    expect(() => new SeededRandom(NaN)).toThrow(ValueError);
  });
});

describe('datasets', () => {
  it('Dataset.from, Subset, ConcatDataset', () => {
    const a = Dataset.from(['a', 'b', 'c']);
    const b = Dataset.from(['d', 'e']);
    expect([...a]).toEqual(['a', 'b', 'c']);
    const cat = new ConcatDataset([a, b, ['f']]);
    expect(cat.length).toBe(6);
    expect(range(6).map((i) => cat.get(i))).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(() => cat.get(6)).toThrow(IndexError);
    const sub = new Subset(cat, [5, 0, 3]);
    expect([...sub]).toEqual(['f', 'a', 'd']);
    expect(() => new Subset(cat, [6])).toThrow(IndexError);
    expect(() => a.get(-1)).toThrow(IndexError);
    expect(() => new ConcatDataset([])).toThrow(ValueError);
  });

  it('TensorDataset gives rows and gathers batches without leaking', () => {
    const x = arange(0, 12).reshape([4, 3]);
    const y = tensor([10, 11, 12, 13]);
    const ds = new TensorDataset(x, y);
    expect(ds.length).toBe(4);
    const before = memory().tensors;
    tidy(() => {
      const [xr, yr] = ds.get(2);
      expect(Array.from(xr!.dataSync())).toEqual([6, 7, 8]);
      expect(yr!.dataSync()[0]).toBe(12);
    });
    const [xb, yb] = ds.getBatch([3, 1]);
    expect(xb!.shape).toEqual([2, 3]);
    expect(Array.from(xb!.dataSync())).toEqual([9, 10, 11, 3, 4, 5]);
    expect(Array.from(yb!.dataSync())).toEqual([13, 11]);
    xb!.dispose(); yb!.dispose();
    expect(memory().tensors).toBe(before);
    // Subset passes getBatch through.
    const sub = new Subset(ds, [3, 2]);
    const [sx] = sub.getBatch!([1]) as [typeof x];
    expect(Array.from(sx!.dataSync())).toEqual([6, 7, 8]);
    sx!.dispose();
    expect(() => new TensorDataset(x, tensor([1, 2]))).toThrow(ShapeError);
    expect(() => new TensorDataset()).toThrow(ValueError);
    x.dispose(); y.dispose();
  });
});

describe('randomSplit', () => {
  it('splits into disjoint parts that cover every item, reproducibly', () => {
    const ds = Dataset.from(range(103));
    const parts = randomSplit(ds, [0.8, 0.1, 0.1], { seed: 5 });
    expect(parts.map((p) => p.length)).toEqual([83, 10, 10]);
    const all = parts.flatMap((p) => [...p]);
    expect(new Set(all).size).toBe(103);
    expect(isPermutation(all, 103)).toBe(true);
    const again = randomSplit(ds, [0.8, 0.1, 0.1], { seed: 5 });
    expect(again.map((p) => [...p])).toEqual(parts.map((p) => [...p]));
    expect([...randomSplit(ds, [0.8, 0.1, 0.1], { seed: 6 })[1]!]).not.toEqual([...parts[1]!]);
  });

  it('takes counts, and fractions the way PyTorch rounds them', () => {
    expect(splitSizes('t', 10, [0.5, 0.5])).toEqual([5, 5]);
    expect(splitSizes('t', 11, [0.5, 0.5])).toEqual([6, 5]);
    expect(splitSizes('t', 10, [0.33, 0.33, 0.34])).toEqual([4, 3, 3]);
    expect(randomSplit(range(7), [4, 3], { seed: 0 }).map((p) => p.length)).toEqual([4, 3]);
    expect(() => randomSplit(range(7), [4, 4])).toThrow(/add up to 8, but the dataset has 7/);
    expect(() => randomSplit(range(7), [0.5, 0.6])).toThrow(ValueError);
    expect(() => randomSplit(range(7), [NaN, 1])).toThrow(ValueError);
    expect(() => randomSplit(range(7), [])).toThrow(ValueError);
    expect(() => randomSplit(range(7), [7], { seeds: 1 } as never)).toThrow(/unknown option "seeds"/);
  });
});

describe('mixing', () => {
  it('MixedDataset: 70/30 exactly per epoch, items from the right sources, new mix per epoch', () => {
    const a = Dataset.from(range(1000).map((i) => `a${i}`));
    const b = Dataset.from(range(100).map((i) => `b${i}`));
    const mix = mixDatasets(a, b, { ratio: 0.7, seed: 1, length: 1000 }) as MixedDataset<string>;
    expect(mix).toBeInstanceOf(MixedDataset);
    expect(mix.length).toBe(1000);
    const drawn = [...mix];
    const fromA = drawn.filter((s) => s.startsWith('a')).length;
    expect(fromA).toBe(700);
    const sources = drawn.map((s) => (s.startsWith('a') ? 0 : 1));
    expect(sources).toEqual(range(1000).map((i) => mix.sourceOf(i)));
    // b (100 items) is read 3× in shuffled passes: each pass holds every item once.
    const bs = drawn.filter((s) => s.startsWith('b'));
    expect(new Set(bs.slice(0, 100)).size).toBe(100);
    // Interleaved, not blocked: both sources appear in every window of 50.
    for (let i = 0; i < 1000; i += 50) expect(new Set(range(50).map((k) => mix.sourceOf(i + k))).size).toBe(2);
    mix.setEpoch(1);
    expect([...mix]).not.toEqual(drawn);
    mix.setEpoch(0);
    expect([...mix]).toEqual(drawn);
  });

  it('MixedDataset default length: until the first source is used up', () => {
    const mix = new MixedDataset([range(700), range(1000)], { weights: [0.7, 0.3], seed: 0 });
    expect(mix.length).toBe(1000); // 700 / 0.7
    const all = new MixedDataset([range(700), range(1000)], { weights: [0.7, 0.3], seed: 0, stoppingStrategy: 'allExhausted' });
    expect(all.length).toBe(3334); // ceil(1000 / 0.3)
    expect(() => new MixedDataset([range(3)], { weights: [1, 2] })).toThrow(ValueError);
    expect(() => new MixedDataset([range(3), []])).toThrow(/is empty/);
    expect(() => mixDatasets(range(3), range(3), { ratio: 1.5 })).toThrow(ValueError);
    expect(() => mixDatasets(range(3), range(3), { ratio: 0.5, mode: 1 } as never)).toThrow(/unknown option "mode"/);
  });

  it('MixedIterableDataset: per-item draws near the ratio over many draws', async () => {
    const stream = (tag: string) => IterableDataset.from(function* () { for (let i = 0; ; i++) yield `${tag}${i}`; });
    const mix = mixDatasets(stream('a'), stream('b'), { ratio: 0.7, seed: 3, length: 20000 });
    expect(mix).toBeInstanceOf(MixedIterableDataset);
    const got: string[] = [];
    for await (const s of (mix as MixedIterableDataset<string>).iterate()) got.push(s);
    expect(got).toHaveLength(20000);
    const share = got.filter((s) => s.startsWith('a')).length / got.length;
    expect(Math.abs(share - 0.7)).toBeLessThan(0.015);
    // Each source is read in order.
    const as = got.filter((s) => s.startsWith('a'));
    expect(as.slice(0, 3)).toEqual(['a0', 'a1', 'a2']);
    // firstExhausted stops when a finite source runs out.
    const short = mixDatasets(stream('a'), Dataset.from(['x', 'y']), { ratio: 0.5, seed: 0 }) as MixedIterableDataset<string>;
    const s2: string[] = [];
    for await (const s of short.iterate()) s2.push(s);
    expect(s2.filter((s) => s === 'x' || s === 'y')).toEqual(['x', 'y']);
  });
});
