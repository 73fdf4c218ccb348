// Tests of the view-geometry helpers (src/geometry.ts) on awkward views: rank 0, empty dims,
// broadcast (stride 0) dims, permutations and views whose elements overlap.
import { describe, expect, it } from 'vitest';
import {
  aliasesDifferently, broadcastStrides, coalesce, contiguousStrides, elementOffsets, forEachIndex, forEachRow, isContiguous, numel,
  offsetOf, rowsOf, sharesMemory, transposeLast, type View,
} from '../src/index.js';

const view = <B>(buffer: B, shape: number[], strides: number[], offset = 0): View<B> =>
  ({ buffer, dtype: 'float32', shape, strides, offset });

/** Every multi-index of `shape` in row-major order, by brute force. */
function allIndices(shape: number[]): number[][] {
  const out: number[][] = [[]];
  for (const n of shape) {
    const next: number[][] = [];
    for (const prefix of out) for (let i = 0; i < n; i++) next.push([...prefix, i]);
    out.splice(0, out.length, ...next);
  }
  return out;
}

/** Buffer offsets of a (coalesced) walk, row-major, by brute force. */
const offsetsOf = (shape: number[], strides: number[], offset: number): number[] =>
  allIndices(shape).map((ix) => ix.reduce((o, i, d) => o + i * strides[d]!, offset));

describe('geometry: sizes and strides', () => {
  it('numel counts rank 0 as one element and any 0-size dim as empty', () => {
    expect(numel([])).toBe(1);
    expect(numel([1, 1])).toBe(1);
    expect(numel([2, 3, 4])).toBe(24);
    expect(numel([2, 0, 3])).toBe(0);
    expect(numel([0])).toBe(0);
  });

  it('contiguousStrides is row-major, with size-0 dims giving 0 to the dims before them', () => {
    expect(contiguousStrides([])).toEqual([]);
    expect(contiguousStrides([5])).toEqual([1]);
    expect(contiguousStrides([2, 3, 4])).toEqual([12, 4, 1]);
    expect(contiguousStrides([2, 0, 3])).toEqual([0, 3, 1]);
    expect(contiguousStrides([3, 1, 2])).toEqual([2, 2, 1]);
  });

  it('rowsOf splits off the last dim; rank 0 is one row of one', () => {
    expect(rowsOf([])).toEqual({ rows: 1, cols: 1 });
    expect(rowsOf([7])).toEqual({ rows: 1, cols: 7 });
    expect(rowsOf([2, 3, 4])).toEqual({ rows: 6, cols: 4 });
    expect(rowsOf([0, 4])).toEqual({ rows: 0, cols: 4 });
    expect(rowsOf([3, 0])).toEqual({ rows: 3, cols: 0 });
  });
});

describe('geometry: isContiguous', () => {
  it('ignores size-1 dims and accepts rank 0', () => {
    expect(isContiguous({ shape: [], strides: [] })).toBe(true);
    expect(isContiguous({ shape: [1, 1], strides: [99, -7] })).toBe(true);
    expect(isContiguous({ shape: [2, 1, 3], strides: [3, 1000, 1] })).toBe(true);
  });

  it('rejects permutations, broadcasts and overlapping views', () => {
    expect(isContiguous({ shape: [2, 3], strides: [3, 1] })).toBe(true);
    expect(isContiguous({ shape: [3, 2], strides: [1, 3] })).toBe(false); // transpose
    expect(isContiguous({ shape: [2, 3, 4], strides: [4, 8, 1] })).toBe(false); // dims 0 and 1 swapped
    expect(isContiguous({ shape: [4, 3], strides: [0, 1] })).toBe(false); // broadcast rows
    expect(isContiguous({ shape: [3, 4], strides: [1, 1] })).toBe(false); // sliding windows that overlap
    expect(isContiguous({ shape: [2, 3], strides: [6, 1] })).toBe(false); // rows with gaps
  });

  it('an empty view is judged by its strides (size-0 dims are not skipped)', () => {
    expect(isContiguous({ shape: [0, 3], strides: [3, 1] })).toBe(true);
    expect(isContiguous({ shape: [3, 0], strides: [1, 3] })).toBe(false);
  });
});

describe('geometry: walking a view', () => {
  it('forEachIndex visits rank 0 once, an empty shape never, others row-major', () => {
    const seen: string[] = [];
    forEachIndex([], (ix, lin) => seen.push(`${ix.join(',')}@${lin}`));
    expect(seen).toEqual(['@0']);
    let calls = 0;
    forEachIndex([3, 0, 2], () => calls++);
    expect(calls).toBe(0);
    const all: number[][] = [];
    forEachIndex([2, 1, 3], (ix, lin) => { expect(lin).toBe(all.length); all.push([...ix]); });
    expect(all).toEqual(allIndices([2, 1, 3]));
  });

  it('elementOffsets and offsetOf agree with the definition on permuted, broadcast and overlapping views', () => {
    const cases: [number[], number[], number][] = [
      [[], [], 5],
      [[2, 3, 4], [12, 4, 1], 0],
      [[4, 2, 3], [1, 12, 4], 2], // a permutation of a [2, 3, 4] block
      [[3, 2], [0, 1], 1], // broadcast rows
      [[3, 4], [1, 1], 0], // overlapping windows
      [[2, 0, 3], [0, 3, 1], 0],
    ];
    for (const [shape, strides, offset] of cases) {
      const v = view(null, shape, strides, offset);
      const want = offsetsOf(shape, strides, offset);
      expect(Array.from(elementOffsets(v))).toEqual(want);
      expect(allIndices(shape).map((ix) => offsetOf(v, ix))).toEqual(want);
    }
  });
});

describe('geometry: coalesce', () => {
  it('merges what every view walks uniformly and keeps each view\'s offsets in order', () => {
    const cases: [number[], number[][]][] = [
      [[2, 3, 4], [[12, 4, 1]]],
      [[2, 3, 4], [[12, 4, 1], [1, 2, 6]]], // one view transposed: nothing merges
      [[2, 3, 4], [[12, 4, 1], [0, 4, 1]]], // a broadcast leading dim: the inner two merge
      [[4, 2, 3], [[1, 12, 4], [6, 3, 1]]], // a permutation against a contiguous output
      [[3, 4], [[1, 1]]], // overlapping windows: not mergeable
      [[2, 1, 3, 1], [[3, 99, 1, -4]]],
      [[5, 2], [[0, 0]]], // fully broadcast
    ];
    for (const [shape, stridesList] of cases) {
      const c = coalesce(shape, stridesList);
      expect(c.strides).toHaveLength(stridesList.length);
      expect(numel(c.shape)).toBe(numel(shape));
      expect(c.shape).not.toContain(1);
      stridesList.forEach((s, k) => {
        expect(c.strides[k]).toHaveLength(c.shape.length);
        expect(offsetsOf(c.shape, c.strides[k]!, 3)).toEqual(offsetsOf(shape, s, 3));
      });
    }
    expect(coalesce([2, 3, 4], [[12, 4, 1]])).toEqual({ shape: [24], strides: [[1]] });
    expect(coalesce([2, 3, 4], [[12, 4, 1], [0, 4, 1]])).toEqual({ shape: [2, 12], strides: [[12, 1], [0, 1]] });
    expect(coalesce([5, 2], [[0, 0]])).toEqual({ shape: [10], strides: [[0]] });
  });

  it('a single element coalesces to rank 0; an empty shape keeps its 0', () => {
    expect(coalesce([], [[], []])).toEqual({ shape: [], strides: [[], []] });
    expect(coalesce([1, 1, 1], [[7, 8, 9]])).toEqual({ shape: [], strides: [[]] });
    expect(numel(coalesce([2, 0, 3], [[0, 3, 1]]).shape)).toBe(0);
  });
});

describe('geometry: forEachRow', () => {
  /** Each view's offsets as forEachRow visits them, run by run; and the runs' lengths. */
  function walk(shape: number[], views: View<null>[]): { offsets: number[][]; runs: number[] } {
    const offsets: number[][] = views.map(() => []);
    const runs: number[] = [];
    forEachRow(shape, views, (offs, n, inner) => {
      runs.push(n);
      views.forEach((_, k) => { for (let i = 0; i < n; i++) offsets[k]!.push(offs[k]! + i * inner[k]!); });
    });
    return { offsets, runs };
  }

  it('visits every element of every view in row-major order, in as few runs as the layouts allow', () => {
    const cases: [number[], [number[], number][], number][] = [
      [[2, 3, 4], [[[12, 4, 1], 0], [[12, 4, 1], 5]], 1], // contiguous: one run
      [[2, 3, 4], [[[12, 4, 1], 0], [[1, 2, 6], 1]], 6], // against a transpose: a run per innermost row
      [[3, 4], [[[4, 1], 0], [[0, 1], 2]], 3], // a row broadcast down: a run per row
      [[4, 2, 3], [[[1, 12, 4], 0]], 4], // a permutation: one run per merged outer index
      [[3, 4], [[[1, 1], 0]], 3], // overlapping windows
      [[2, 1, 3], [[[3, 7, 1], 0], [[0, 9, 1], 0]], 2],
    ];
    for (const [shape, specs, runCount] of cases) {
      const views = specs.map(([strides, offset]) => view(null, shape, strides, offset));
      const { offsets, runs } = walk(shape, views);
      views.forEach((v, k) => expect(offsets[k]).toEqual(Array.from(elementOffsets(v))));
      expect(runs).toHaveLength(runCount);
    }
  });

  it('a single element is one run of 1; an empty shape is no run', () => {
    expect(walk([], [view(null, [], [], 4)])).toEqual({ offsets: [[4]], runs: [1] });
    expect(walk([1, 1], [view(null, [1, 1], [5, 6], 2), view(null, [1, 1], [0, 0], 9)])).toEqual({ offsets: [[2], [9]], runs: [1] });
    expect(walk([3, 0, 2], [view(null, [3, 0, 2], [0, 2, 1])])).toEqual({ offsets: [[]], runs: [] });
  });
});

describe('geometry: transposes and broadcasts', () => {
  it('transposeLast swaps the last two dims by strides, keeping the rest of the view', () => {
    const v = view('buf', [2, 3, 4], [12, 4, 1], 7);
    const t = transposeLast(v);
    expect(t).toEqual({ buffer: 'buf', dtype: 'float32', shape: [2, 4, 3], strides: [12, 1, 4], offset: 7 });
    expect(v.shape).toEqual([2, 3, 4]);
    expect(transposeLast(t)).toEqual(v);
  });

  it('broadcastStrides gives 0 on new and stretched dims and names the shapes when it cannot', () => {
    expect(broadcastStrides([3], [1], [2, 3])).toEqual([0, 1]);
    expect(broadcastStrides([2, 1], [5, 1], [2, 4])).toEqual([5, 0]);
    expect(broadcastStrides([], [], [2, 2])).toEqual([0, 0]);
    expect(broadcastStrides([1], [1], [0])).toEqual([0]);
    expect(broadcastStrides([2, 3], [1, 2], [2, 3])).toEqual([1, 2]);
    expect(() => broadcastStrides([3], [1], [4])).toThrow(/shape \[3\] cannot be broadcast to \[4\]/);
    expect(() => broadcastStrides([2, 3], [3, 1], [3])).toThrow(RangeError);
  });
});

describe('geometry: views that share memory', () => {
  it('sharesMemory compares byte ranges, not just the ArrayBuffer', () => {
    const mem = new ArrayBuffer(64);
    const a = new Float32Array(mem, 0, 4), b = new Float32Array(mem, 16, 4), c = new Float32Array(mem, 8, 4);
    expect(sharesMemory(view(a, [4], [1]), view(a, [2], [2]))).toBe(true);
    expect(sharesMemory(view(a, [4], [1]), view(b, [4], [1]))).toBe(false); // adjacent, disjoint
    expect(sharesMemory(view(a, [4], [1]), view(c, [4], [1]))).toBe(true);
    expect(sharesMemory(view(a, [4], [1]), view(new Float32Array(4), [4], [1]))).toBe(false);
  });

  it('aliasesDifferently allows only the same elements in the same order', () => {
    const a = new Float32Array(12);
    const x = view(a, [3, 4], [4, 1]);
    expect(aliasesDifferently(x, view(a, [3, 4], [4, 1]))).toBe(false); // in place
    expect(aliasesDifferently(view(a, [1, 4], [4, 1]), view(a, [1, 4], [99, 1]))).toBe(false); // size-1 stride ignored
    expect(aliasesDifferently(x, view(a, [3, 4], [1, 3]))).toBe(true); // transposed onto itself
    expect(aliasesDifferently(x, view(a, [3, 4], [4, 1], 1))).toBe(true); // shifted by one
    expect(aliasesDifferently(x, view(new Float32Array(a.buffer, 4, 11), [3, 4], [4, 1]))).toBe(true);
    expect(aliasesDifferently(x, view(new Float32Array(12), [3, 4], [4, 1]))).toBe(false);
  });
});
