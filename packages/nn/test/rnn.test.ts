// RNN, LSTM, GRU (and their cells) against PyTorch fixtures (fixtures/make_rnn.py), float64
// gradient checks, batch-first/unbatched layouts, and a long sequence through the iterative backward.
import { describe, expect, it } from 'vitest';
import { manualSeed, memory, randn, tidy, zeros, type Tensor } from '@webgrad/core';
import { GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell } from '@webgrad/nn';
import { DEVICES, onCpu, disposeAll, expectClose, expectTensorsClose, fixedRandom, gradcheck, loadFixture, stateFrom, toTensor, type JT } from './helpers/layer_check.js';

interface Case { state: Record<string, JT>; x: JT; out: JT; hn: JT; cn?: JT; h0?: JT; c0?: JT }
const F = loadFixture<Record<string, Case>>('rnn');

describe.each(DEVICES)('recurrent layers on %s', (device) => {
  it.each([
    ['rnn_tanh_2l_bi_bf', () => new RNN(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true, device })],
    ['rnn_relu_1l', () => new RNN(3, 4, { nonlinearity: 'relu', device })],
    ['lstm_2l_bi', () => new LSTM(3, 4, { numLayers: 2, bidirectional: true, device })],
    ['lstm_1l_bf_nobias', () => new LSTM(2, 3, { batchFirst: true, bias: false, device })],
    ['gru_2l_bi_bf', () => new GRU(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true, device })],
    ['gru_1l', () => new GRU(2, 3, { device })],
  ] as const)('%s matches PyTorch', async (name, make) => {
    const c = F[name]!;
    const m = make();
    const sd = stateFrom(c.state, { device });
    m.loadStateDict(sd);
    disposeAll(sd);
    const x = toTensor(c.x, { device });
    const h0 = c.h0 ? toTensor(c.h0, { device }) : null;
    const c0 = c.c0 ? toTensor(c.c0, { device }) : null;
    if (m instanceof LSTM) {
      const [out, [hn, cn]] = m.forward(x, h0 && c0 ? [h0, c0] : null);
      await expectClose(out, c.out);
      await expectClose(hn, c.hn);
      await expectClose(cn, c.cn!);
      for (const t of [out, hn, cn]) t.dispose();
    } else {
      const [out, hn] = m.forward(x, h0);
      await expectClose(out, c.out);
      await expectClose(hn, c.hn);
      out.dispose(); hn.dispose();
    }
    for (const t of [x, h0, c0]) t?.dispose();
    m.dispose();
  });

  it('parameter names, shapes and init bound follow PyTorch', async () => {
    manualSeed(0);
    const m = new LSTM(3, 5, { numLayers: 2, bidirectional: true, device });
    const sd = m.stateDict();
    expect(Object.keys(sd)).toEqual([
      'weightIhL0', 'weightHhL0', 'biasIhL0', 'biasHhL0', 'weightIhL0Reverse', 'weightHhL0Reverse', 'biasIhL0Reverse', 'biasHhL0Reverse',
      'weightIhL1', 'weightHhL1', 'biasIhL1', 'biasHhL1', 'weightIhL1Reverse', 'weightHhL1Reverse', 'biasIhL1Reverse', 'biasHhL1Reverse',
    ]);
    expect(sd.weightIhL0!.shape).toEqual([20, 3]);
    expect(sd.weightIhL1!.shape).toEqual([20, 10]);
    const bound = 1 / Math.sqrt(5);
    for (const t of Object.values(sd)) {
      const v = await t.data();
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
    }
    const gru = new GRU(2, 4, { device });
    expect(gru.getParameter('weightHhL0')!.shape).toEqual([12, 4]);
    gru.dispose();
    m.dispose();
  });

  it('unbatched input gives the batched result without the batch dim', async () => {
    manualSeed(1);
    const m = new GRU(3, 4, { numLayers: 2, device });
    const x = randn([5, 3], { device });
    const [y1, h1] = m.forward(x);
    const [y2, h2] = m.forward(x.unsqueeze(1));
    expect(y1.shape).toEqual([5, 4]);
    expect(h1.shape).toEqual([2, 4]);
    await expectTensorsClose(y1, y2.squeeze(1));
    await expectTensorsClose(h1, h2.squeeze(1));
    for (const t of [x, y1, h1, y2, h2]) t.dispose();
    m.dispose();
  });

  it('the last output step equals the final state; the reverse direction ends at t = 0', async () => {
    manualSeed(2);
    const m = new LSTM(2, 3, { bidirectional: true, batchFirst: true, device });
    const x = randn([2, 4, 2], { device });
    const [y, [h]] = m.forward(x);
    await expectTensorsClose(y.select(1, 3).narrow(1, 0, 3), h.select(0, 0));
    await expectTensorsClose(y.select(1, 0).narrow(1, 3, 3), h.select(0, 1));
    for (const t of [x, y, h]) t.dispose();
    m.dispose();
  });

  it('cells equal one step of the sequence layer', async () => {
    manualSeed(3);
    const x = randn([2, 3], { device }), h = randn([2, 4], { device }), c = randn([2, 4], { device });
    const lstm = new LSTM(3, 4, { device }), cell = new LSTMCell(3, 4, { device });
    const load = (from: { stateDict(): Record<string, Tensor> }, to: { loadStateDict(s: Record<string, Tensor>): unknown }) => {
      const s = from.stateDict();
      to.loadStateDict({ weightIh: s.weightIhL0!, weightHh: s.weightHhL0!, biasIh: s.biasIhL0!, biasHh: s.biasHhL0! });
    };
    load(lstm, cell);
    const [, [hn, cn]] = lstm.forward(x.unsqueeze(0), [h.unsqueeze(0), c.unsqueeze(0)]);
    const [h1, c1] = cell.forward(x, [h, c]);
    await expectTensorsClose(h1, hn.squeeze(0));
    await expectTensorsClose(c1, cn.squeeze(0));
    const gru = new GRU(3, 4, { device }), gcell = new GRUCell(3, 4, { device });
    load(gru, gcell);
    await expectTensorsClose(gcell.forward(x, h), gru.forward(x.unsqueeze(0), h.unsqueeze(0))[1].squeeze(0));
    const rnn = new RNN(3, 4, { nonlinearity: 'relu', device }), rcell = new RNNCell(3, 4, { nonlinearity: 'relu', device });
    load(rnn, rcell);
    await expectTensorsClose(rcell.forward(x.select(0, 0)), rnn.forward(x.select(0, 0).unsqueeze(0))[1].squeeze(0).squeeze(0));
  });

  // float64 is a CPU-only dtype, so the central-difference gradchecks run on 'cpu' only; the
  // fixture comparisons above cover the same layers on every device.
  onCpu(device).each([
    ['LSTM 2 layers bidirectional', () => new LSTM(2, 3, { numLayers: 2, bidirectional: true, dtype: 'float64', device }), 2],
    ['GRU 2 layers batch-first', () => new GRU(2, 3, { numLayers: 2, batchFirst: true, dtype: 'float64', device }), 1],
    ['RNN relu', () => new RNN(2, 3, { nonlinearity: 'relu', dtype: 'float64', device }), 1],
  ] as const)('gradcheck %s (inputs, initial state, every parameter)', (_n, make, states) => {
    manualSeed(4);
    const m = make();
    const LD = m.numLayers * m.numDirections;
    const x = randn(m.batchFirst ? [2, 3, 2] : [3, 2, 2], { dtype: 'float64', device, requiresGrad: true });
    const init = Array.from({ length: states }, () => randn([LD, 2, 3], { dtype: 'float64', device, requiresGrad: true }));
    const D = m.numDirections * 3;
    const r = fixedRandom(m.batchFirst ? [2, 3, D] : [3, 2, D], 5, device), rh = fixedRandom([LD, 2, 3], 6, device);
    const loss = (): Tensor => {
      if (m instanceof LSTM) {
        const [y, [h, c]] = m.forward(x, [init[0]!, init[1]!]);
        return y.mul(r).sum().add(h.mul(rh).sum()).add(c.mul(rh).sum());
      }
      const [y, h] = (m as RNN | GRU).forward(x, init[0]!);
      return y.mul(r).sum().add(h.mul(rh).sum());
    };
    gradcheck(loss, [x, ...init, ...m.parameters()], { maxPerTensor: 10 });
    for (const t of [x, ...init, r, rh]) t.dispose();
    m.dispose();
  });

  it('a 300-step sequence backpropagates (iterative backward) and memory stays flat', async () => {
    manualSeed(5);
    const m = new LSTM(2, 4, { device });
    const step = () => tidy(() => {
      const x = randn([300, 1, 2], { device });
      const [y] = m.forward(x);
      y.select(0, 299).sum().backward();
    });
    step();
    const g = Array.from(await m.getParameter('weightHhL0')!.grad!.data());
    expect(g.some((v) => v !== 0)).toBe(true);
    expect(g.every(Number.isFinite)).toBe(true);
    m.zeroGrad();
    const before = memory().tensors;
    step(); m.zeroGrad();
    expect(memory().tensors).toBe(before);
    m.dispose();
  });

  it('dropout between layers applies only in training mode', async () => {
    manualSeed(6);
    const m = new GRU(2, 8, { numLayers: 2, dropout: 0.5, device });
    const x = randn([4, 1, 2], { device });
    m.eval();
    const [a] = m.forward(x);
    const [b] = m.forward(x);
    await expectTensorsClose(a, b, 0, 0);
    m.train();
    const [c] = m.forward(x);
    expect(Array.from(await c.data())).not.toEqual(Array.from(await a.data()));
    const h = zeros([2, 1, 8], { device });
    expect(() => m.forward(x, zeros([1, 1, 8], { device }))).toThrow(/expected initial state \[2, 1, 8\]/);
    for (const t of [x, a, b, c, h]) t.dispose();
    m.dispose();
  });
});
