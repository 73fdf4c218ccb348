// LearnedPositionalEmbedding.positions over the whole table (offset 0, every position) is a view of
// the table — no gather forward, no scatter of its gradient — with the values and the gradient of
// the gathered rows; a partial range still gathers.
import { describe, expect, it } from 'vitest';
import { arange, randn, tidy } from '@webgrad/core';
import { LearnedPositionalEmbedding } from '@webgrad/nn';
import { DEVICES } from './helpers.js';

describe.each(DEVICES)('LearnedPositionalEmbedding.positions on %s', (device) => {
  it('the whole table is a view of the weight, with the gathered rows and their gradient', async () => {
    const wpe = new LearnedPositionalEmbedding(7, 3, { device });
    const w = randn([2, 7, 3], { device });
    const p = wpe.positions(7);
    expect(p.storage, 'a view of the table').toBe(wpe.weight.storage);
    expect(p.shape).toEqual([7, 3]);
    const gathered = wpe.forward(arange(0, 7, 1, { device, dtype: 'int32' }));
    expect(gathered.storage).not.toBe(wpe.weight.storage);
    expect(Array.from(await p.data())).toEqual(Array.from(await gathered.data()));
    tidy(() => p.mul(w).sum().backward());
    const viaView = Array.from(await wpe.weight.grad!.data());
    wpe.weight.grad = null;
    tidy(() => gathered.mul(w).sum().backward());
    expect(viaView).toEqual(Array.from(await wpe.weight.grad!.data()));
    expect(viaView.every((g) => g !== 0)).toBe(true);
    p.dispose();
    expect(wpe.weight.isDisposed, 'disposing the positions leaves the table').toBe(false);
    const part = wpe.positions(3, 2);
    expect(part.storage).not.toBe(wpe.weight.storage);
    expect(Array.from(await part.data())).toEqual(Array.from(await wpe.weight.narrow(0, 2, 3).contiguous().data()));
    for (const t of [w, gathered, part]) t.dispose();
    wpe.dispose();
  });
});
