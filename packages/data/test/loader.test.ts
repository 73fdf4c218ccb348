// DataLoader and collate functions: batch counts, seeded shuffles per epoch, dtypes, padding and
// masks, prefetch, who disposes batches, and memory held flat over many epochs.
import {
  DisposedError, ValueError, arange, crossEntropy, manualSeed, memory, randn, scope, tensor, tidy, type Tensor,
} from '@webgrad/core';
import { DataError, DataLoader, Dataset, IterableDataset, TensorDataset, defaultCollate, padCollate } from '@webgrad/data';
import { describe, expect, it } from 'vitest';
import { DEVICES } from './helpers.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const values = (t: unknown) => Array.from((t as Tensor).dataSync());

/** Item i is i itself: batches show which items they hold. */
const indexDataset = (n: number) => Dataset.from(range(n));

function epochOrder(loader: DataLoader<number, Tensor>): number[] {
  const out: number[] = [];
  for (const b of loader) out.push(...values(b));
  return out;
}

describe('DataLoader', () => {
  it('counts batches with and without dropLast', () => {
    const ds = indexDataset(10);
    const sizes = (l: DataLoader<number, Tensor>) => [...l].map((b) => b.shape[0]);
    expect(new DataLoader(ds, { batchSize: 3 }).length).toBe(4);
    expect(new DataLoader(ds, { batchSize: 3, dropLast: true }).length).toBe(3);
    const l1 = new DataLoader(ds, { batchSize: 3 });
    const shapes: number[] = [];
    for (const b of l1) shapes.push(b.shape[0]!);
    expect(shapes).toEqual([3, 3, 3, 1]);
    const l2 = new DataLoader(ds, { batchSize: 3, dropLast: true });
    const s2: number[] = [];
    for (const b of l2) s2.push(b.shape[0]!);
    expect(s2).toEqual([3, 3, 3]);
    expect(new DataLoader(ds, { batchSize: 5, dropLast: true }).length).toBe(2);
    expect(new DataLoader(indexDataset(2), { batchSize: 5, dropLast: true }).length).toBe(0);
    void sizes;
  });

  it('visits items in order without shuffle', () => {
    expect(epochOrder(new DataLoader(indexDataset(7), { batchSize: 2 }))).toEqual(range(7));
  });

  it('shuffles with a seed: a permutation each epoch, new each epoch, the same on every run', () => {
    const make = () => new DataLoader(indexDataset(50), { batchSize: 8, shuffle: true, seed: 123 });
    const a = make();
    const e0 = epochOrder(a);
    const e1 = epochOrder(a);
    expect([...e0].sort((x, y) => x - y)).toEqual(range(50));
    expect([...e1].sort((x, y) => x - y)).toEqual(range(50));
    expect(e0).not.toEqual(range(50));
    expect(e1).not.toEqual(e0);
    const b = make();
    expect(epochOrder(b)).toEqual(e0);
    expect(epochOrder(b)).toEqual(e1);
    // Resuming at epoch 1 gives epoch 1's order.
    const c = make();
    c.setEpoch(1);
    expect(c.epoch).toBe(1);
    expect(epochOrder(c)).toEqual(e1);
    expect(epochOrder(new DataLoader(indexDataset(50), { batchSize: 8, shuffle: true, seed: 124 }))).not.toEqual(e0);
  });

  it('without a seed, shuffles follow manualSeed', () => {
    const l = new DataLoader(indexDataset(30), { batchSize: 30, shuffle: true });
    manualSeed(4);
    const a = epochOrder(l);
    manualSeed(4);
    expect(epochOrder(l)).toEqual(a);
  });

  it('default collate: int labels → int32, floats → float32, arrays, objects, tuples, strings', () => {
    const ds = Dataset.from([
      { x: [1.5, 2], y: 1, name: 'a', f: new Float32Array([1, 2]), ok: true },
      { x: [3, 4], y: 0, name: 'b', f: new Float32Array([3, 4]), ok: false },
    ]);
    const [b] = [...new DataLoader(ds, { batchSize: 2 })].slice(0, 1);
    // Collected by spreading: the loader disposed it when the loop ended.
    expect(() => (b!.x as Tensor).dataSync()).toThrow(DisposedError);
    for (const batch of new DataLoader(ds, { batchSize: 2 })) {
      expect(batch.x.shape).toEqual([2, 2]);
      expect(batch.x.dtype).toBe('float32');
      expect(values(batch.x)).toEqual([1.5, 2, 3, 4]);
      expect(batch.y.dtype).toBe('int32');
      expect(values(batch.y)).toEqual([1, 0]);
      expect(batch.name).toEqual(['a', 'b']);
      expect(batch.f.dtype).toBe('float32');
      expect(batch.ok.dtype).toBe('bool');
    }
    const tuples = defaultCollate([[tensor([1, 2]), 3], [tensor([4, 5]), 6]]) as [Tensor, Tensor];
    expect(tuples[0].shape).toEqual([2, 2]);
    expect(values(tuples[1])).toEqual([3, 6]);
    tuples.forEach((t) => t.dispose());
    expect(() => defaultCollate([[1, 2], [1, 2, 3]])).toThrow(/use padCollate/);
    expect(() => defaultCollate([{ a: 1 }, { b: 1 }])).toThrow(/item 1 has no field "a"/);
    expect(() => defaultCollate([{ a: 1 }, { a: 'x' }])).toThrow(DataError);
    expect(() => defaultCollate([])).toThrow(ValueError);
    expect(() => defaultCollate([null])).toThrow(/cannot collate/);
  });

  it('TensorDataset batches: one gather, moved to the device', () => {
    const x = arange(0, 20).reshape([10, 2]);
    const y = arange(0, 10);
    for (const device of DEVICES) {
      const l = new DataLoader(new TensorDataset(x, y), { batchSize: 4, shuffle: true, seed: 0, device });
      const seen: number[] = [];
      for (const [xb, yb] of l) {
        expect(xb!.device).toBe(device);
        expect(xb!.shape[1]).toBe(2);
        if (device === 'cpu') {
          const xs = values(xb);
          values(yb).forEach((v, i) => expect([xs[2 * i], xs[2 * i + 1]]).toEqual([2 * v, 2 * v + 1]));
          seen.push(...values(yb));
        }
      }
      if (device === 'cpu') expect([...seen].sort((a, b) => a - b)).toEqual(range(10));
    }
    x.dispose(); y.dispose();
  });

  it('iterable datasets: sync and async sources, dropLast, shuffle refused', async () => {
    const gen = IterableDataset.from(function* () { for (let i = 0; i < 7; i++) yield i; });
    const sizes: number[][] = [];
    for (const b of new DataLoader(gen, { batchSize: 3 })) sizes.push(values(b));
    expect(sizes).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    const agen = IterableDataset.from(async function* () { for (let i = 0; i < 7; i++) { await new Promise((r) => setTimeout(r, 1)); yield [i, i]; } });
    const got: number[][] = [];
    for await (const b of new DataLoader(agen, { batchSize: 3, dropLast: true })) got.push(values(b));
    expect(got).toEqual([[0, 0, 1, 1, 2, 2], [3, 3, 4, 4, 5, 5]]);
    expect(() => { for (const _ of new DataLoader(agen, { batchSize: 3 })) void _; }).toThrow(/for await/);
    expect(() => new DataLoader(gen, { shuffle: true })).toThrow(/not supported with an IterableDataset/);
    expect(() => new DataLoader(gen).length).toThrow(/no length/);
  });

  it('prefetch: the next batch is prepared while the consumer awaits, and every batch arrives in order', async () => {
    const made: number[] = [];
    const ds = new (class extends Dataset<number> {
      get length() { return 6; }
      get(i: number) { made.push(i); return i; }
    })();
    const l = new DataLoader(ds, { batchSize: 2, prefetch: 2 });
    const order: number[] = [];
    let madeBeforeNext = -1;
    let step = 0;
    for await (const b of l) {
      order.push(...values(b));
      await new Promise((r) => setTimeout(r, 5)); // "waiting for the GPU"
      if (step++ === 0) madeBeforeNext = made.length;
    }
    expect(order).toEqual(range(6));
    // While the first batch was being used, the next two were prepared.
    expect(madeBeforeNext).toBe(6);
    const none = new DataLoader(indexDataset(6), { batchSize: 2, prefetch: 0 });
    const o2: number[] = [];
    for await (const b of none) o2.push(...values(b));
    expect(o2).toEqual(range(6));
  });

  it('errors in a batch surface at that batch and leave nothing behind', async () => {
    const ds = new (class extends Dataset<number[]> {
      get length() { return 6; }
      get(i: number) { if (i === 4) throw new Error('bad item 4'); return [i]; }
    })();
    const before = memory().tensors;
    const seen: number[] = [];
    await expect((async () => { for await (const b of new DataLoader(ds, { batchSize: 2 })) seen.push(...values(b)); })()).rejects.toThrow('bad item 4');
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(memory().tensors).toBe(before);
  });

  it('disposes each batch when the next is asked for, the last at the end or on break; keep() opts out', async () => {
    const l = new DataLoader(indexDataset(6), { batchSize: 2 });
    const batches: Tensor[] = [];
    for (const b of l) {
      if (batches.length > 0) expect(batches[batches.length - 1]!.isDisposed).toBe(true);
      expect(b.isDisposed).toBe(false);
      batches.push(b);
    }
    expect(batches.every((b) => b.isDisposed)).toBe(true);
    let last: Tensor | undefined;
    for await (const b of l) { last = b; break; }
    expect(last!.isDisposed).toBe(true);
    let kept: Tensor | undefined;
    for (const b of l) { kept = l.keep(b); break; }
    expect(kept!.isDisposed).toBe(false);
    expect(values(kept)).toEqual([0, 1]);
    kept!.dispose();
    // A scope open in the loop body while the next batch is prefetched does not take that batch.
    const seen: number[] = [];
    for await (const b of l) {
      using _s = scope();
      seen.push(...values(b));
      tensor([1]);
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(seen).toEqual(range(6));
  });

  it('memory stays flat over many epochs (training-loop shape, sync and async, every device)', async () => {
    for (const device of DEVICES) {
      const x = randn([64, 8]);
      const y = tensor(range(64).map((i) => i % 4));
      const w = randn([8, 4], { requiresGrad: true });
      const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 16, shuffle: true, seed: 1, device: 'cpu' });
      const tokens = new DataLoader(range(40).map((i) => range(1 + (i % 7))), { batchSize: 8, shuffle: true, seed: 2, collate: padCollate(), device });
      const step = (xb: Tensor, yb: Tensor) => {
        const loss = tidy(() => crossEntropy(xb.matmul(w), yb));
        loss.backward();
        w.grad?.dispose(); w.grad = null;
        loss.dispose();
      };
      for (const [xb, yb] of loader) step(xb!, yb!); // warm-up
      for await (const b of tokens) void b;
      const before = memory();
      for (let epoch = 0; epoch < 20; epoch++) {
        for (const [xb, yb] of loader) step(xb!, yb!);
        for await (const [xb, yb] of loader) step(xb!, yb!);
        for await (const b of tokens) expect(b.inputIds).toBeDefined();
        for (const b of tokens) { void b; break; }
      }
      const after = memory();
      expect(after.tensors).toBe(before.tensors);
      expect(after.devices[device]?.bytes ?? 0).toBe(before.devices[device]?.bytes ?? 0);
      x.dispose(); y.dispose(); w.dispose();
    }
  });

  it('validates its options', () => {
    const ds = indexDataset(4);
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow(/batchSize must be an integer >= 1/);
    expect(() => new DataLoader(ds, { batchSize: NaN })).toThrow(ValueError);
    expect(() => new DataLoader(ds, { batchSize: 2.5 })).toThrow(ValueError);
    expect(() => new DataLoader(ds, { shuffle: 1 as never })).toThrow(/shuffle must be true or false/);
    expect(() => new DataLoader(ds, { batch_size: 2 } as never)).toThrow(/unknown option "batch_size"/);
    expect(() => new DataLoader(ds, { seed: -3 })).toThrow(ValueError);
    expect(() => new DataLoader(ds, { prefetch: -1 })).toThrow(ValueError);
    expect(() => new DataLoader(ds, { collate: 3 as never })).toThrow(/collate must be a function/);
    expect(() => new DataLoader(42 as never)).toThrow(/DataLoader: dataset must be/);
    expect(() => new DataLoader(ds).setEpoch(-1)).toThrow(ValueError);
  });
});

describe('padCollate', () => {
  it('pads sequences, masks padding and labels it −100 (right and left)', () => {
    const collate = padCollate({ padValue: 9 });
    const b = collate([[1, 2, 3], [4], Int32Array.from([5, 6])], {}) as Record<string, Tensor>;
    expect(b.inputIds!.shape).toEqual([3, 3]);
    expect(b.inputIds!.dtype).toBe('int32');
    expect(values(b.inputIds)).toEqual([1, 2, 3, 4, 9, 9, 5, 6, 9]);
    expect(values(b.attentionMask)).toEqual([1, 1, 1, 1, 0, 0, 1, 1, 0]);
    expect(values(b.labels)).toEqual([1, 2, 3, 4, -100, -100, 5, 6, -100]);
    Object.values(b).forEach((t) => t.dispose());
    const left = padCollate({ padSide: 'left', padToMultipleOf: 4 })([[1, 2, 3], [4]], {}) as Record<string, Tensor>;
    expect(values(left.inputIds)).toEqual([0, 1, 2, 3, 0, 0, 0, 4]);
    expect(values(left.attentionMask)).toEqual([0, 1, 1, 1, 0, 0, 0, 1]);
    Object.values(left).forEach((t) => t.dispose());
  });

  it('pads given labels, truncates, and collates other fields', () => {
    const items = [
      { inputIds: [1, 2, 3, 4], labels: [-100, -100, 3, 4], id: 7 },
      { inputIds: [5, 6], labels: [-100, 6], id: 8 },
    ];
    const b = padCollate({ maxLength: 3 })(items, {}) as Record<string, Tensor>;
    expect(values(b.inputIds)).toEqual([1, 2, 3, 5, 6, 0]);
    expect(values(b.labels)).toEqual([-100, -100, 3, -100, 6, -100]);
    expect(values(b.attentionMask)).toEqual([1, 1, 1, 1, 1, 0]);
    expect(values(b.id)).toEqual([7, 8]);
    // The padded labels give crossEntropy no loss at padding.
    const logits = tidy(() => randn([2, 3, 10]));
    const l1 = crossEntropy(logits.reshape([6, 10]), b.labels!.reshape([6]));
    expect(Number.isFinite(l1.dataSync()[0])).toBe(true);
    [logits, l1, ...Object.values(b)].forEach((t) => t.dispose());
    // Prefixed pairs (preference data) share one length and get their own masks.
    const pair = padCollate()([{ chosenInputIds: [1, 2], rejectedInputIds: [3] }, { chosenInputIds: [4], rejectedInputIds: [5, 6, 7] }], {}) as Record<string, Tensor>;
    expect(Object.keys(pair).sort()).toEqual(['chosenAttentionMask', 'chosenInputIds', 'chosenLabels', 'rejectedAttentionMask', 'rejectedInputIds', 'rejectedLabels']);
    expect(pair.chosenInputIds!.shape).toEqual([2, 3]);
    expect(values(pair.rejectedAttentionMask)).toEqual([1, 0, 0, 1, 1, 1]);
    Object.values(pair).forEach((t) => t.dispose());
    expect(() => padCollate()([{ inputIds: [1, 2], labels: [1] }], {})).toThrow(/must be of one length/);
    expect(() => padCollate()([{ foo: 1 }], {})).toThrow(/no field to pad/);
    expect(() => padCollate({ padSide: 'middle' as never })).toThrow(ValueError);
    expect(() => padCollate({ maxLength: 0 })).toThrow(ValueError);
    expect(() => padCollate({ pad: 0 } as never)).toThrow(/unknown option "pad"/);
  });
});
