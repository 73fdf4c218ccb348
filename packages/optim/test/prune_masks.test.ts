// Pruning masks against hand-computed ones on small weights: magnitude per parameter (fraction vs
// count, PyTorch's half-to-even rounding, ties, pruning again), global magnitude, random, Ln-norm
// slices along each dim, output channels with their biases, attention heads (MultiheadAttention
// and the GPT's attention) and the N:M pattern.
import { describe, expect, it } from 'vitest';
import { manualSeed, noGrad, randn, tensor, tidy, type Tensor } from '@webgrad/core';
import { CausalSelfAttention, Conv2d, Linear, MultiheadAttention, type Module } from '@webgrad/nn';
import {
  getMask, globalUnstructured, l1Unstructured, lnStructured, nmStructured, pruneChannels, prunedHeads, pruneHeads, randomUnstructured,
  satisfiesNM, sparsity,
} from '../src/index.js';

/** A Linear whose weight (and bias) are set to the given rows. */
function linear(rows: number[][], bias?: number[]): Linear {
  const l = new Linear(rows[0]!.length, rows.length, { bias: bias !== undefined });
  noGrad(() => {
    l.weight.copy_(tensor(rows));
    if (bias) l.bias!.copy_(tensor(bias));
  });
  return l;
}

const maskOf = async (m: Module, name = 'weight'): Promise<number[]> => Array.from(await getMask(m, name)!.data());
/** The values, with -0 (a negative weight times a 0 mask) read as 0. */
const values = async (t: Tensor): Promise<number[]> => Array.from(await t.data(), (v) => v + 0);

describe('l1Unstructured', () => {
  const rows = [[0.5, -0.1, 0.3], [-0.2, 0.4, 0.1]];

  it('prunes the smallest magnitudes; a fraction rounds half to even as PyTorch, a count is exact', async () => {
    const a = linear(rows);
    await l1Unstructured(a, 'weight', { amount: 0.5 }); // 3 of 6: |0.1|, |0.1|, |0.2|
    expect(await maskOf(a)).toEqual([1, 0, 1, 0, 1, 0]);
    expect(await values(a.weight)).toEqual([0.5, 0, 0.30000001192092896, 0, 0.4000000059604645, 0]);

    const b = linear(rows);
    await l1Unstructured(b, 'weight', { amount: 0.25 }); // 1.5 → 2
    expect(await maskOf(b)).toEqual([1, 0, 1, 1, 1, 0]);
    const c = linear(rows);
    await l1Unstructured(c, 'weight', { amount: 0.75 }); // 4.5 → 4
    expect(await maskOf(c)).toEqual([1, 0, 0, 0, 1, 0]);
    const d = linear(rows);
    await l1Unstructured(d, 'weight', { count: 4 });
    expect(await maskOf(d)).toEqual(await maskOf(c));
    const e = linear(rows);
    await l1Unstructured(e, 'weight', { count: 0 });
    expect(await maskOf(e)).toEqual([1, 1, 1, 1, 1, 1]);
    const f = linear(rows);
    await l1Unstructured(f, 'weight', { amount: 1 });
    expect(await maskOf(f)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('breaks ties by index: of equal magnitudes the lower flat index goes first', async () => {
    const a = linear(rows);
    await l1Unstructured(a, 'weight', { count: 1 }); // -0.1 (index 1) and 0.1 (index 5) tie
    expect(await maskOf(a)).toEqual([1, 0, 1, 1, 1, 1]);
    const b = linear([[2, 2, 2, 2]]);
    await l1Unstructured(b, 'weight', { count: 2 });
    expect(await maskOf(b)).toEqual([0, 0, 1, 1]);
  });

  it('pruning again takes the amount of what is still unpruned and keeps the old zeros', async () => {
    const a = linear(rows);
    await l1Unstructured(a, 'weight', { amount: 0.5 });
    await l1Unstructured(a, 'weight', { amount: 0.5 }); // round(1.5) = 2 of the 3 left: 0.3, 0.4
    expect(await maskOf(a)).toEqual([1, 0, 0, 0, 0, 0]);
    await expect(l1Unstructured(a, 'weight', { count: 2 })).rejects.toThrow(/l1Unstructured: count 2 is more than the 1 unpruned entries of 'weight'/);
  });

  it('ranks by importanceScores when given', async () => {
    const a = linear(rows);
    const s = tensor([[6, 5, 4], [3, 2, 1]]);
    await l1Unstructured(a, 'weight', { count: 2, importanceScores: s });
    expect(await maskOf(a)).toEqual([1, 1, 1, 1, 0, 0]);
  });

  it('prunes biases and other parameters by name', async () => {
    const a = linear(rows, [0.3, -0.05]);
    await l1Unstructured(a, 'bias', { count: 1 });
    expect(await maskOf(a, 'bias')).toEqual([1, 0]);
    expect(getMask(a, 'weight')).toBeNull();
  });
});

describe('globalUnstructured', () => {
  it('one threshold across parameters; ties go to the earlier parameter, then the lower index', async () => {
    const a = linear([[1, -4], [2, 0.5]]);
    const b = linear([[2, -0.25, 6]]);
    await globalUnstructured([[a, 'weight'], [b, 'weight']], { count: 4 }); // 0.25, 0.5, 1, then 2 (a) before 2 (b)
    expect(await maskOf(a)).toEqual([0, 1, 0, 0]);
    expect(await maskOf(b)).toEqual([1, 0, 1]);
    const c = linear([[1, -4], [2, 0.5]]);
    const d = linear([[2, -0.25, 6]]);
    await globalUnstructured([[c, 'weight'], [d, 'weight']], { amount: 3 / 7 }); // round(3) = 3
    expect(await maskOf(c)).toEqual([0, 1, 1, 0]);
    expect(await maskOf(d)).toEqual([1, 0, 1]);
    const r = await sparsity(c);
    expect(r.layers).toEqual([{ name: 'weight', zeros: 2, total: 4, sparsity: 0.5 }]);
  });
});

describe('randomUnstructured', () => {
  it('prunes the asked number of entries, the same ones for the same seed', async () => {
    manualSeed(1);
    const w = noGrad(() => randn([8, 10]));
    const mk = () => { const l = new Linear(10, 8, { bias: false }); noGrad(() => l.weight.copy_(w)); return l; };
    const [a, b, c] = [mk(), mk(), mk()];
    await randomUnstructured(a, 'weight', { amount: 0.3, seed: 5 });
    await randomUnstructured(b, 'weight', { amount: 0.3, seed: 5 });
    await randomUnstructured(c, 'weight', { amount: 0.3, seed: 6 });
    const ma = await maskOf(a);
    expect(ma.filter((v) => v === 0)).toHaveLength(24);
    expect(await maskOf(b)).toEqual(ma);
    expect(await maskOf(c)).not.toEqual(ma);
  });
});

describe('lnStructured', () => {
  const rows = [[1, 1, 1, 1], [3, 0, 0, 0], [0, 0, 0, 1]];

  it('prunes rows (dim 0) or columns (dim 1 / -1) of smallest Ln norm', async () => {
    const a = linear(rows);
    await lnStructured(a, 'weight', { count: 1, dim: 0 }); // L2 norms 2, 3, 1
    expect(await maskOf(a)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
    const b = linear(rows);
    await lnStructured(b, 'weight', { count: 2, n: 1, dim: 0 }); // L1 norms 4, 3, 1
    expect(await maskOf(b)).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const c = linear(rows);
    await lnStructured(c, 'weight', { count: 1, dim: -1 }); // column norms √10, 1, 1, √2: the tie goes to column 1
    expect(await maskOf(c)).toEqual([1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1]);
    const d = linear(rows);
    await lnStructured(d, 'weight', { amount: 0.5, n: Infinity, dim: 1 }); // max norms 3, 1, 1, 1 → round(2) = 2: columns 1, 2
    expect(await maskOf(d)).toEqual([1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1]);
  });

  it('counts an amount among the slices not yet pruned', async () => {
    const a = linear(rows);
    await lnStructured(a, 'weight', { count: 1, dim: 0 });
    await lnStructured(a, 'weight', { amount: 0.5, dim: 0 }); // 1 of the 2 live rows: row 0 (norm 2)
    expect(await maskOf(a)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0]);
  });
});

describe('pruneChannels', () => {
  it('prunes Linear neurons with their bias entries', async () => {
    const a = linear([[1, 1], [0.1, 0], [5, 5]], [1, 2, 3]);
    expect(await pruneChannels(a, { count: 1 })).toEqual([1]);
    expect(await maskOf(a)).toEqual([1, 1, 0, 0, 1, 1]);
    expect(await maskOf(a, 'bias')).toEqual([1, 0, 1]);
    const y = noGrad(() => a.forward(tensor([[2, -3]], { dtype: 'float32' })));
    expect(await values(y)).toEqual([2 - 3 + 1, 0, 10 - 15 + 3]);
    expect(await pruneChannels(a, { amount: 0.5 })).toEqual([0, 1]); // 1 of the 2 live channels; the list holds every pruned one
    const b = linear([[1, 1], [2, 2]], [1, 2]);
    await lnStructured(b, 'weight', { count: 1, dim: 0 }); // row 0 masked without its bias
    expect(await pruneChannels(b, { count: 0 })).toEqual([0]);
    expect(await maskOf(b, 'bias')).toEqual([0, 1]);
  });

  it('prunes Conv2d filters: a pruned filter outputs zeros', async () => {
    manualSeed(2);
    const conv = new Conv2d(2, 4, 3);
    noGrad(() => conv.weight.narrow(0, 2, 1).mul_(0.01)); // filter 2 is the smallest
    expect(await pruneChannels(conv, { amount: 0.25 })).toEqual([2]);
    const mask = await maskOf(conv);
    expect(mask.slice(36, 54).every((v) => v === 0) && mask.filter((v) => v === 0).length === 18).toBe(true);
    const y = noGrad(() => conv.forward(randn([1, 2, 5, 5])));
    expect((await values(y.narrow(1, 2, 1))).every((v) => v === 0)).toBe(true);
    expect((await values(y.narrow(1, 1, 1))).some((v) => v !== 0)).toBe(true);
  });
});

describe('pruneHeads', () => {
  it('masks a head\'s q/k/v rows, bias entries and output columns (MultiheadAttention)', async () => {
    manualSeed(3);
    const mha = new MultiheadAttention(4, 2, { batchFirst: true }); // E = 4, D = 2
    expect(await pruneHeads(mha, { heads: [1] })).toEqual([1]);
    const rowsKept = [1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0];
    expect(await maskOf(mha, 'inProjWeight')).toEqual(rowsKept.flatMap((r) => [r, r, r, r]));
    expect(await maskOf(mha, 'inProjBias')).toEqual(rowsKept);
    expect(await maskOf(mha.outProj)).toEqual([0, 1, 2, 3].flatMap(() => [1, 1, 0, 0]));
    expect(await prunedHeads(mha)).toEqual([1]);
  });

  it('a pruned head contributes nothing: layers that differ only in that head agree after pruning', async () => {
    manualSeed(4);
    const mk = () => { manualSeed(4); return new MultiheadAttention(8, 4, { batchFirst: true }); };
    const a = mk(), b = mk();
    noGrad(() => {
      for (const s of [0, 8, 16]) b.inProjWeight.narrow(0, s + 2, 2).copy_(randn([2, 8])); // head 1's q, k, v rows
      b.outProj.weight.narrow(1, 2, 2).copy_(randn([8, 2]));
    });
    const x = randn([2, 5, 8]);
    const before = [await values(noGrad(() => a.forward(x))), await values(noGrad(() => b.forward(x)))];
    expect(before[0]).not.toEqual(before[1]);
    await pruneHeads(a, { heads: [1] });
    await pruneHeads(b, { heads: [1] });
    expect(await values(noGrad(() => a.forward(x)))).toEqual(await values(noGrad(() => b.forward(x))));
  });

  it('GPT attention: by norm, by given scores, and an amount among the live heads', async () => {
    manualSeed(5);
    const attn = new CausalSelfAttention({ nEmbd: 6, nHead: 3 }); // D = 2
    noGrad(() => {
      for (const s of [0, 6, 12]) attn.cAttn.weight.narrow(0, s + 4, 2).mul_(0.01); // head 2 is the smallest
      attn.cProj.weight.narrow(1, 4, 2).mul_(0.01);
    });
    expect(await pruneHeads(attn, { count: 1 })).toEqual([2]);
    expect(await maskOf(attn.cProj)).toEqual([0, 1, 2, 3, 4, 5].flatMap(() => [1, 1, 1, 1, 0, 0]));
    expect(await maskOf(attn.cAttn, 'bias')).toEqual([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0]);
    expect(await pruneHeads(attn, { amount: 0.5, scores: [0.1, 0.9, 0] })).toEqual([0, 2]); // 1 of the 2 live heads
    const y = noGrad(() => tidy(() => attn.forward(randn([1, 3, 6]))));
    expect((await values(y)).some((v) => v !== 0)).toBe(true);
  });
});

describe('nmStructured (2:4 and N:M)', () => {
  it('keeps the 2 largest of every 4 along the input dim; ties prune the lower index', async () => {
    const a = linear([[1, -5, 3, 2, 0.5, 0.5, -0.5, 4], [0, 0, 0, 1, -2, 1, 3, -4]]);
    await nmStructured(a, 'weight');
    expect(await maskOf(a)).toEqual([0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]);
    expect(await satisfiesNM(getMask(a, 'weight')!)).toBe(true);
    expect(await satisfiesNM(a.weight)).toBe(true);
    expect(await satisfiesNM(tensor([[1, 1, 1, 0]]))).toBe(false);
    expect(await satisfiesNM(tensor([[1, 1, 1, 0]]), { n: 3, m: 4 })).toBe(true);
  });

  it('1:4 and 1:2, and Conv2d weights grouped along input channels', async () => {
    const a = linear([[1, -5, 3, 2, 0.5, 0.25, -0.5, 4]]);
    await nmStructured(a, 'weight', { n: 1, m: 4 });
    expect(await maskOf(a)).toEqual([0, 1, 0, 0, 0, 0, 0, 1]);
    await nmStructured(a, 'weight', { n: 1, m: 2 }); // already 1:2 — nothing more goes
    expect(await maskOf(a)).toEqual([0, 1, 0, 0, 0, 0, 0, 1]);
    const conv = new Conv2d(4, 1, 1, { bias: false });
    noGrad(() => conv.weight.copy_(tensor([3, -1, 2, 0.5]).reshape([1, 4, 1, 1])));
    await nmStructured(conv, 'weight');
    expect(await maskOf(conv)).toEqual([1, 0, 1, 0]);
    const conv2 = new Conv2d(4, 2, 2, { bias: false }); // [2, 4, 2, 2]: groups of 4 input channels per (out, kh, kw)
    await nmStructured(conv2, 'weight');
    expect(await satisfiesNM(getMask(conv2, 'weight')!)).toBe(true);
    expect(await satisfiesNM(getMask(conv2, 'weight')!, { dim: 3, m: 2, n: 1 })).toBe(false);
    expect((await sparsity(conv2)).global).toBe(0.5);
  });
});
