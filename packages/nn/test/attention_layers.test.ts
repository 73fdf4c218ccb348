// MultiheadAttention and TransformerEncoderLayer against PyTorch fixtures
// (fixtures/make_attention.py), float64 gradient checks, the KV-cache path against a full
// recompute, and attention-probability dropout.
import { describe, expect, it } from 'vitest';
import { cat, manualSeed, memory, noGrad, ones, randn, tensor, tidy, triu, type Tensor } from '@webgrad/core';
import { KVCache, MultiheadAttention, TransformerEncoder, TransformerEncoderLayer, type LayerKV } from '@webgrad/nn';
import { DEVICES, onCpu, disposeAll, expectClose, expectTensorsClose, fixedRandom, gradcheck, loadFixture, stateFrom, toTensor, type JT } from './helpers/layer_check.js';

type Case = Record<string, JT> & { state: Record<string, JT>; kpm?: number[][] };
const F = loadFixture<Record<string, Case>>('attention');

const boolMask = (rows: number[][], device: 'cpu' | 'webgpu') => tensor(rows.map((r) => r.map((v) => v !== 0)), { device });
const causalBool = (t: number, device: 'cpu' | 'webgpu') => triu(ones([t, t], { device }), 1).gt(0);

describe.each(DEVICES)('attention layers on %s', (device) => {
  function loaded<M extends { loadStateDict(sd: Record<string, Tensor>): unknown }>(m: M, c: Case): M {
    const sd = stateFrom(c.state, { device });
    m.loadStateDict(sd);
    disposeAll(sd);
    return m;
  }

  it('cross-attention with a key padding mask matches PyTorch (batch first)', async () => {
    const c = F.mha_cross_kpm!;
    const m = loaded(new MultiheadAttention(8, 2, { batchFirst: true, device }), c);
    const y = m.forward(toTensor(c.q!, { device }), toTensor(c.k!, { device }), toTensor(c.v!, { device }), { keyPaddingMask: boolMask(c.kpm!, device) });
    await expectClose(y, c.y!);
    m.dispose();
  });

  it('self-attention with a causal bool attnMask plus key padding matches PyTorch; isCausal agrees', async () => {
    const c = F.mha_self_causal!;
    const m = loaded(new MultiheadAttention(8, 2, { batchFirst: true, device }), c);
    const x = toTensor(c.x!, { device });
    const kpm = boolMask(c.kpm!, device);
    await expectClose(m.forward(x, x, x, { attnMask: causalBool(5, device), keyPaddingMask: kpm }), c.y!);
    await expectClose(m.forward(x, null, null, { isCausal: true, keyPaddingMask: kpm }), c.y!);
    m.dispose();
  });

  it('sequence-first, no bias, additive float mask matches PyTorch', async () => {
    const c = F.mha_seqfirst_float_mask!;
    const m = loaded(new MultiheadAttention(8, 4, { bias: false, device }), c);
    expect(Object.keys(m.stateDict())).toEqual(['inProjWeight', 'outProj.weight']);
    const x = toTensor(c.x!, { device });
    await expectClose(m.forward(x, x, x, { attnMask: toTensor(c.mask!, { device }) }), c.y!);
    // Unbatched (T, E) equals batch element 0.
    const y0 = m.forward(x.select(1, 0), null, null, { attnMask: toTensor(c.mask!, { device }) });
    const yAll = m.forward(x, null, null, { attnMask: toTensor(c.mask!, { device }) });
    await expectTensorsClose(y0, yAll.select(1, 0));
    m.dispose();
  });

  it.each([
    ['enc_post_relu', () => new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, batchFirst: true, device })],
    ['enc_pre_gelu_causal', () => new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, activation: 'gelu', normFirst: true, batchFirst: true, layerNormEps: 1e-6, device })],
  ] as const)('TransformerEncoderLayer %s matches PyTorch', async (name, make) => {
    const c = F[name]!;
    const m = loaded(make(), c);
    const x = toTensor(c.x!, { device });
    const opts = name === 'enc_post_relu' ? { srcKeyPaddingMask: boolMask(c.kpm!, device) } : { srcMask: causalBool(5, device) };
    await expectClose(m.forward(x, opts), c.y!);
    if (name !== 'enc_post_relu') await expectClose(m.forward(x, { isCausal: true }), c.y!);
    m.dispose();
  });

  it('MultiheadAttention initial values follow PyTorch (xavier inProjWeight, zero biases)', async () => {
    manualSeed(0);
    const m = new MultiheadAttention(6, 3, { device });
    const a = Math.sqrt(6 / (6 + 18));
    const w = await m.inProjWeight.data();
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(a);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(a * 0.8);
    expect(Array.from(await m.inProjBias!.data()).every((v) => v === 0)).toBe(true);
    expect(Array.from(await m.outProj.bias!.data()).every((v) => v === 0)).toBe(true);
    m.dispose();
  });

  // float64 is a CPU-only dtype, so the central-difference gradchecks run on 'cpu' only; the
  // fixture comparisons above cover the same layers on every device.
  onCpu(device)('gradcheck MultiheadAttention (cross, masks) in float64', () => {
    manualSeed(1);
    const m = new MultiheadAttention(4, 2, { batchFirst: true, dtype: 'float64', device });
    const q = randn([2, 3, 4], { dtype: 'float64', device, requiresGrad: true });
    const kv = randn([2, 4, 4], { dtype: 'float64', device, requiresGrad: true });
    const kpm = boolMask([[0, 0, 0, 1], [0, 0, 0, 0]], device);
    const am = randn([3, 4], { dtype: 'float64', device });
    const r = fixedRandom([2, 3, 4], 3, device);
    gradcheck(() => m.forward(q, kv, kv, { keyPaddingMask: kpm, attnMask: am }).mul(r).sum(), [q, kv, ...m.parameters()]);
    const x = randn([3, 2, 4], { dtype: 'float64', device, requiresGrad: true });
    const m2 = new MultiheadAttention(4, 1, { dtype: 'float64', device });
    const r2 = fixedRandom([3, 2, 4], 4, device);
    gradcheck(() => m2.forward(x, null, null, { isCausal: true }).mul(r2).sum(), [x, ...m2.parameters()]);
    for (const t of [q, kv, kpm, am, r, x, r2]) t.dispose();
    m.dispose(); m2.dispose();
  });

  // float64 is CPU-only (see above).
  onCpu(device)('gradcheck TransformerEncoderLayer (post-LN and pre-LN) in float64', () => {
    manualSeed(2);
    for (const normFirst of [false, true]) {
      const m = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, activation: normFirst ? 'gelu' : 'relu', normFirst, batchFirst: true, dtype: 'float64', device });
      const x = randn([2, 3, 4], { dtype: 'float64', device, requiresGrad: true });
      const r = fixedRandom([2, 3, 4], 9, device);
      gradcheck(() => m.forward(x, { isCausal: true }).mul(r).sum(), [x, ...m.parameters()], { maxPerTensor: 8 });
      x.dispose(); r.dispose(); m.dispose();
    }
  });

  it('KV cache: decoding one token at a time (and a chunk) equals the full causal recompute', async () => {
    manualSeed(3);
    const m = new MultiheadAttention(8, 2, { batchFirst: true, device }).eval();
    const x = randn([2, 6, 8], { device });
    const full = m.forward(x, null, null, { isCausal: true });
    const cache: LayerKV = { k: null, v: null };
    const steps: Tensor[] = [];
    noGrad(() => {
      steps.push(m.forward(x.narrow(1, 0, 2), null, null, { isCausal: true, cache }));   // a 2-token prompt
      for (let t = 2; t < 6; t++) steps.push(m.forward(x.narrow(1, t, 1), null, null, { isCausal: true, cache }));
    });
    expect(cache.k!.shape).toEqual([2, 2, 6, 4]);
    const inc = cat(steps, 1);
    await expectTensorsClose(inc, full);
    // A KVCache's layers plug in directly, and key padding covers every cached key.
    const kv = new KVCache(1);
    const kpm = boolMask([[1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]], device);
    const fullP = m.forward(x, null, null, { isCausal: true, keyPaddingMask: kpm });
    noGrad(() => m.forward(x.narrow(1, 0, 5), null, null, { isCausal: true, keyPaddingMask: kpm.narrow(1, 0, 5), cache: kv.layers[0] }).dispose());
    const last = noGrad(() => m.forward(x.narrow(1, 5, 1), null, null, { isCausal: true, keyPaddingMask: kpm, cache: kv.layers[0] }));
    await expectTensorsClose(last, fullP.narrow(1, 5, 1));
    kv.dispose();
    m.dispose();
  });

  it('KV cache: memory is flat across decoding runs once the cache is disposed', () => {
    manualSeed(4);
    const m = new MultiheadAttention(8, 2, { device }).eval();
    const run = () => {
      const cache: LayerKV = { k: null, v: null };
      noGrad(() => tidy(() => { for (let t = 0; t < 4; t++) m.forward(randn([1, 1, 8], { device }), null, null, { isCausal: true, cache }); }));
      cache.k!.dispose(); cache.v!.dispose();
    };
    run();
    const before = memory().tensors;
    run(); run();
    expect(memory().tensors).toBe(before);
    m.dispose();
  });

  it('attention dropout is active only in training mode', async () => {
    manualSeed(5);
    const m = new MultiheadAttention(8, 2, { dropout: 0.5, batchFirst: true, device });
    const x = randn([1, 4, 8], { device });
    const a = m.forward(x), b = m.forward(x);
    expect(Array.from(await a.data())).not.toEqual(Array.from(await b.data()));
    m.eval();
    const c = m.forward(x);
    m.train();
    const m0 = new MultiheadAttention(8, 2, { batchFirst: true, device });
    m0.loadStateDict(m.stateDict());
    await expectTensorsClose(c, m0.forward(x));
    m.dispose(); m0.dispose();
  });

  it('TransformerEncoder stacks layers and applies the final norm', () => {
    const enc = new TransformerEncoder(() => new TransformerEncoderLayer(8, 2, { dimFeedforward: 12, batchFirst: true, device }), 2);
    expect(Object.keys(enc.stateDict()).filter((k) => k.startsWith('layers.1.')).length).toBe(12);
    const y = enc.forward(randn([2, 3, 8], { device }), { isCausal: true });
    expect(y.shape).toEqual([2, 3, 8]);
    enc.dispose();
  });

  it('a per-head (B·numHeads, T, S) attnMask equals the shared (T, S) mask repeated', async () => {
    manualSeed(6);
    const m = new MultiheadAttention(8, 2, { batchFirst: true, device });
    const x = randn([3, 4, 8], { device });
    const shared = randn([4, 4], { device }).gt(0.5).logicalAnd(triu(ones([4, 4], { device }), 1).gt(0));
    const perHead = shared.unsqueeze(0).expand([6, 4, 4]);
    await expectTensorsClose(m.forward(x, null, null, { attnMask: perHead }), m.forward(x, null, null, { attnMask: shared }));
    m.dispose();
  });

  it('mask shape errors say what was expected', () => {
    const m = new MultiheadAttention(8, 2, { batchFirst: true, device });
    const x = randn([2, 3, 8], { device });
    expect(() => m.forward(x, null, null, { keyPaddingMask: boolMask([[0, 0]], device) })).toThrow(/keyPaddingMask must be \(B, S\) = \[2, 3\]/);
    expect(() => m.forward(x, null, null, { attnMask: randn([3, 4], { device }) })).toThrow(/attnMask must be \(T, S\) = \[3, 3\]/);
    m.dispose();
  });
});
