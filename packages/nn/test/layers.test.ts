// Layers against PyTorch fixtures (fixtures/layers.json, made by fixtures/make_layers.py with
// PyTorch in float64), plus float64 gradient checks and KV-cache equivalence for the Block.
import { describe, expect, it } from 'vitest';
import { Tensor, manualSeed, randn, tensor, tidy, noGrad, cat } from '@webgrad/core';
import {
  Block, Embedding, Flatten, GELU, KVCache, LayerNorm, Linear, LogSoftmax, RMSNorm, ReLU, RotaryEmbedding, SiLU, Sigmoid,
  SinusoidalPositionalEncoding, LearnedPositionalEmbedding, Softmax, Tanh, type Module,
} from '@webgrad/nn';
import { DEVICES, expectClose, expectTensorsClose, gradcheck, loadFixture, loadFixtureState, toTensor, fixedRandom, type JT } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const F = loadFixture<Record<string, any>>('layers');

describe.each(DEVICES)('layers on %s', (device) => {
  const T = (j: JT, dtype: 'float32' | 'float64' = 'float32') => toTensor(j, { dtype, device });

  it('Linear matches torch.nn.Linear (weight [out, in])', async () => {
    const f = F.linear;
    const lin = new Linear(5, 3, { device });
    expect(lin.weight.shape).toEqual([3, 5]);
    loadFixtureState(lin, { weight: f.weight, bias: f.bias });
    const x = T(f.x);
    await expectClose(lin.forward(x), f.y);
    const noBias = new Linear(5, 3, { bias: false });
    expect(Object.keys(noBias.stateDict())).toEqual(['weight']);
    x.dispose(); lin.dispose(); noBias.dispose();
  });

  it('Linear default init is U(-1/sqrt(in), 1/sqrt(in)) for weight and bias', async () => {
    manualSeed(0);
    const lin = new Linear(64, 32);
    const b = 1 / 8;
    for (const t of [lin.weight, lin.bias!]) {
      const v = Array.from(await t.data());
      expect(Math.max(...v)).toBeLessThanOrEqual(b);
      expect(Math.min(...v)).toBeGreaterThanOrEqual(-b);
      expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(0.8 * b);
    }
    lin.dispose();
  });

  it('Embedding with paddingIdx: output and no gradient to the padding row', async () => {
    const f = F.embedding;
    const emb = new Embedding(6, 4, { paddingIdx: 2, device });
    expect(Array.from(await emb.weight.select(0, 2).data())).toEqual([0, 0, 0, 0]);
    loadFixtureState(emb, { weight: f.weight });
    const ids = tensor(f.ids, { dtype: 'int32', device });
    const y = emb.forward(ids);
    await expectClose(y, f.y);
    const w = T(f.w);
    tidy(() => y.mul(w).sum().backward());
    await expectClose(emb.weight.grad!, f.grad);
    ids.dispose(); y.dispose(); w.dispose(); emb.dispose();
  });

  it('LayerNorm and RMSNorm match PyTorch', async () => {
    const ln = new LayerNorm(6, { device });
    loadFixtureState(ln, { weight: F.layerNorm.weight, bias: F.layerNorm.bias });
    const x = T(F.layerNorm.x);
    await expectClose(ln.forward(x), F.layerNorm.y, 1e-5);
    const rms = new RMSNorm(6, { eps: F.rmsNorm.eps, device });
    loadFixtureState(rms, { weight: F.rmsNorm.weight });
    await expectClose(rms.forward(x), F.rmsNorm.y, 1e-5);
    x.dispose(); ln.dispose(); rms.dispose();
  });

  it('activations, softmax and flatten match PyTorch', async () => {
    const a = F.activations;
    const x = T(a.x);
    const cases: [Module, JT][] = [
      [new ReLU(), a.relu], [new GELU(), a.gelu], [new GELU({ approximate: 'tanh' }), a.geluTanh], [new SiLU(), a.silu],
      [new Tanh(), a.tanh], [new Sigmoid(), a.sigmoid], [new Softmax(0), a.softmax0], [new Softmax(1), a.softmax1],
      [new LogSoftmax(1), a.logSoftmax1],
    ];
    for (const [m, want] of cases) await expectClose(m.forward(x) as Tensor, want, 1e-5);
    const cube = tensor(Array.from({ length: 24 }, (_, i) => i), { shape: [2, 3, 4], dtype: 'float32', device });
    await expectClose(new Flatten().forward(cube), a.flatten);
    x.dispose(); cube.dispose();
  });

  it('positional encodings: sinusoidal table, learned offsets, rotary with an offset', async () => {
    const sin = new SinusoidalPositionalEncoding(16, 6, { device });
    expect(Object.keys(sin.stateDict())).toEqual([]); // non-persistent buffer
    await expectClose(sin.encoding(7), F.sinusoidal.pe, 1e-6);
    const zeros3 = tensor(new Float32Array(3 * 6), { shape: [1, 3, 6], device });
    const shifted = sin.forward(zeros3, 4); // rows 4..6
    await expectClose(shifted.reshape([3, 6]), { shape: [3, 6], data: F.sinusoidal.pe.data.slice(24) }, 1e-6);

    const rope = new RotaryEmbedding(6, { maxSeqLen: 32, device });
    const q = T(F.rotary.q);
    await expectClose(rope.apply_(q, F.rotary.offset), F.rotary.y, 1e-5);
    // Rotating a prefix and a suffix separately (with offsets) equals rotating the whole sequence.
    const whole = rope.apply_(q, 0);
    const parts = cat([rope.apply_(q.narrow(2, 0, 1), 0), rope.apply_(q.narrow(2, 1, 3), 1)], 2);
    await expectTensorsClose(parts, whole, 1e-6);

    const wpe = new LearnedPositionalEmbedding(8, 4, { device });
    await expectTensorsClose(wpe.positions(2, 5), wpe.weight.narrow(0, 5, 2));
    expect(() => wpe.positions(4, 5)).toThrow(/exceed the table of 8 positions/);
    for (const t of [zeros3, shifted, q, whole, parts]) t.dispose();
    sin.dispose(); rope.dispose(); wpe.dispose();
  });

  it('Block matches a PyTorch GPT-2 block (output and gradients)', async () => {
    const f = F.block;
    const blk = new Block({ nEmbd: 8, nHead: 2, device });
    loadFixtureState(blk, f.state);
    const x = T(f.x);
    x.requiresGrad = true;
    const w = T(f.w);
    const y = blk.forward(x);
    await expectClose(y, f.y, 1e-5);
    tidy(() => y.mul(w).sum().backward());
    await expectClose(x.grad!, f.gradX, 1e-5);
    for (const [n, p] of blk.namedParameters()) await expectClose(p.grad!, f.grads[n], 1e-5, 1e-4);
    x.dispose(); w.dispose(); y.dispose(); blk.dispose();
  });

  it('Block with a KV cache (prefill then one token at a time) equals the full forward', async () => {
    manualSeed(5);
    const blk = new Block({ nEmbd: 8, nHead: 2, device });
    const x = randn([2, 6, 8], { device });
    const full = noGrad(() => blk.forward(x));
    const cache = new KVCache(1);
    const pieces = noGrad(() => [blk.forward(x.narrow(1, 0, 3), cache.layers[0]), ...[3, 4, 5].map((t) => blk.forward(x.narrow(1, t, 1), cache.layers[0]))]);
    expect(cache.length).toBe(6);
    const inc = cat(pieces, 1);
    await expectTensorsClose(inc, full, 1e-5);
    cache.dispose();
    for (const t of [x, full, inc, ...pieces]) t.dispose();
    blk.dispose();
  });

  it('gradients agree with central differences in float64', () => {
    manualSeed(7);
    const mods: [string, Module, number[], boolean][] = [
      ['Linear', new Linear(4, 3), [2, 4], false],
      ['LayerNorm', new LayerNorm(5), [3, 5], false],
      ['RMSNorm', new RMSNorm(5, { eps: 1e-6 }), [3, 5], false],
      ['GELU', new GELU(), [2, 5], false],
      ['GELU tanh', new GELU({ approximate: 'tanh' }), [2, 5], false],
      ['Block', new Block({ nEmbd: 4, nHead: 2 }), [1, 3, 4], false],
    ];
    for (const [, m, shape] of mods) {
      m.toDType('float64');
      noGrad(() => { for (const p of m.parameters()) p.add_(randn(p.shape, { dtype: 'float64' }).mul(0.1)); });
      const x = randn(shape, { dtype: 'float64', requiresGrad: true });
      const outShape = tidy(() => [...(noGrad(() => m.forward(x)) as Tensor).shape]);
      const w = fixedRandom(outShape, 3);
      gradcheck(() => (m.forward(x) as Tensor).mul(w).sum(), [x, ...m.parameters()], { atol: 1e-6, rtol: 1e-4 });
      x.dispose(); w.dispose(); m.dispose();
    }
    const emb = new Embedding(5, 3).toDType('float64'); // (the padding row deliberately gets no gradient)
    const ids = tensor([[0, 1, 4], [2, 0, 1]], { dtype: 'int32' });
    const w = fixedRandom([2, 3, 3], 4);
    gradcheck(() => emb.forward(ids).mul(w).sum(), [emb.weight]);
    ids.dispose(); w.dispose(); emb.dispose();
  });
});
