// LeNet-5, the LSTM sequence model and the value head against PyTorch fixtures (fixtures/make_models.py).
import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, memory, noGrad, randn, tensor, tidy, crossEntropy, zeros } from '@webgrad/core';
import { LeNet5, LSTMModel, ValueHead, lastTokenIndex } from '@webgrad/nn';
import { DEVICES, disposeAll, expectClose, loadFixture, stateFrom, toTensor, type JT } from './helpers/layer_check.js';

type Case = { state: Record<string, JT>; names?: string[]; x?: JT; y?: JT; ids?: number[][]; hidden?: JT; mask?: number[][]; perToken?: JT; perSequence?: JT };
const F = loadFixture<Record<string, Case>>('models');

describe.each(DEVICES)('models on %s', (device) => {
  it('LeNet5 logits match PyTorch (formula weights)', async () => {
    const c = F.lenet!;
    const m = new LeNet5({ device });
    const sd = m.stateDict();
    expect(Object.keys(sd)).toEqual(c.names!.map((n) => n));
    noGrad(() => c.names!.forEach((n, p) => {
      const t = sd[n]!;
      const s = t.ndim === 1 ? 0.1 : 1 / Math.sqrt(t.size / t.shape[0]!);
      const v = Float32Array.from({ length: t.size }, (_, i) => s * Math.sin(0.37 * i + 1.1 * p + 0.5));
      const src = tensor(v, { shape: t.shape, device });
      t.copy_(src);
      src.dispose();
    }));
    const x = toTensor(c.x!, { device });
    await expectClose(m.forward(x), c.y!, 1e-4, 1e-3);
    expect(m.numParameters()).toBe(61706);
    m.dispose();
  });

  it('LeNet5 trains: loss falls on a fixed batch, memory stays flat', async () => {
    manualSeed(1);
    const m = new LeNet5({ device });
    const x = randn([4, 1, 28, 28], { device });
    const y = tensor([0, 1, 2, 3], { device });
    const step = () => tidy(() => {
      const loss = crossEntropy(m.forward(x), y);
      loss.backward();
      noGrad(() => { for (const p of m.parameters()) p.sub_(p.grad!.mul(0.05)); });
      m.zeroGrad();
      return loss.detach();
    });
    const read = async (loss: Tensor): Promise<number> => { const v = await loss.item(); loss.dispose(); return v; };
    const first = await read(step());
    await read(step());
    const before = memory().tensors;
    let last = 0;
    for (let i = 0; i < 6; i++) last = await read(step());
    expect(memory().tensors).toBe(before);
    expect(last).toBeLessThan(first);
    m.dispose();
  });

  it('LSTMModel (lm) logits match PyTorch', async () => {
    const c = F.lstm_lm!;
    const m = new LSTMModel({ vocabSize: 11, embedDim: 4, hiddenSize: 5, numLayers: 2, device });
    const sd = stateFrom(c.state, { device });
    m.loadStateDict(sd);
    disposeAll(sd);
    const { logits, state } = m.forward(tensor(c.ids!, { device }));
    await expectClose(logits, c.y!);
    expect(state[0].shape).toEqual([2, 2, 5]);
    m.dispose();
  });

  it('LSTMModel (classify, bidirectional) logits match PyTorch', async () => {
    const c = F.lstm_cls!;
    const m = new LSTMModel({ vocabSize: 11, embedDim: 4, hiddenSize: 5, outputSize: 3, mode: 'classify', bidirectional: true, device });
    const sd = stateFrom(c.state, { device });
    m.loadStateDict(sd);
    disposeAll(sd);
    await expectClose(m.forward(tensor(c.ids!, { device })).logits, c.y!);
    expect(() => new LSTMModel({ vocabSize: 5, embedDim: 2, hiddenSize: 2, bidirectional: true })).toThrow(/future/);
    m.dispose();
  });

  it('ValueHead per token and at the last real token match PyTorch', async () => {
    const c = F.value_head!;
    const m = new ValueHead(6, { device });
    const sd = stateFrom(c.state, { device });
    m.loadStateDict(sd);
    disposeAll(sd);
    const h = toTensor(c.hidden!, { device });
    const mask = tensor(c.mask!, { device });
    await expectClose(m.forward(h), c.perToken!);
    await expectClose(m.sequenceValue(h, mask), c.perSequence!);
    expect(Array.from(await lastTokenIndex(mask).data())).toEqual([2, 3, 3]);
    const noMask = m.sequenceValue(h);
    expect(Array.from(await noMask.data())).toEqual(Array.from(await m.forward(h).select(1, 3).data()));
    expect(() => m.sequenceValue(h, zeros([3, 5], { device }))).toThrow(/attentionMask must be \(B, T\)/);
    m.dispose();
  });

  it('ValueHead gradients reach the backbone hidden states only at the chosen tokens', async () => {
    manualSeed(2);
    const m = new ValueHead(4, { device });
    const h = randn([2, 3, 4], { device, requiresGrad: true });
    const mask = tensor([[1, 1, 0], [1, 1, 1]], { device });
    m.sequenceValue(h, mask).sum().backward();
    const g = await h.grad!.abs().sum(-1).data();
    expect(Array.from(g).map((v) => v > 0)).toEqual([false, true, false, false, false, true]);
    m.dispose();
  });
});
