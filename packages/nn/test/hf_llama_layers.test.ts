// The Llama building blocks: GroupedQueryAttention (against attention written out with each
// key/value head repeated for its query heads, as transformers' repeat_kv; with a KV cache; float64
// finite differences) and GatedMLP (SwiGLU against its formula; finite differences), plus the
// argument checks of the new layers, Llama's config and GPT's new options.
import { describe, expect, it } from 'vitest';
import { attentionDecomposed, cat, noGrad, tidy, type DeviceName, type Tensor } from '@webgrad/core';
import { GPT, GatedMLP, GroupedQueryAttention, KVCache, Llama, RotaryEmbedding, type LlamaConfig } from '@webgrad/nn';
import { DEVICES, expectTensorsClose, fixedRandom, gradcheck } from './helpers.js';
import { checkArguments, nullable, type Case } from './helpers/arguments.js';

/** Attention with shared key/value heads written out: kv head j serves query heads j·g … j·g+g−1. */
function referenceGqa(m: GroupedQueryAttention, x: Tensor, rotary: RotaryEmbedding | null): Tensor {
  return tidy(() => {
    const [B, T] = x.shape as [number, number, number];
    const D = m.headDim, g = m.nHead / m.nKVHead;
    let q = x.matmul(m.qProj.weight.mT).reshape([B, T, m.nHead, D]).transpose(1, 2);
    let k = x.matmul(m.kProj.weight.mT).reshape([B, T, m.nKVHead, D]).transpose(1, 2);
    const v = x.matmul(m.vProj.weight.mT).reshape([B, T, m.nKVHead, D]).transpose(1, 2);
    if (rotary) [q, k] = rotary.forward(q, k, 0);
    const heads: Tensor[] = [];
    for (let h = 0; h < m.nHead; h++) {
      const j = Math.floor(h / g);
      heads.push(attentionDecomposed(q.narrow(1, h, 1), k.narrow(1, j, 1), v.narrow(1, j, 1), { isCausal: true }));
    }
    return cat(heads, 1).transpose(1, 2).reshape([B, T, m.nHead * D]).matmul(m.oProj.weight.mT);
  });
}

/** A fixed pseudo-random float32 tensor on `device`. */
const rand32 = (shape: number[], seed: number, device: DeviceName): Tensor => tidy(() => fixedRandom(shape, seed).float().to(device));

describe.each(DEVICES)('Llama layers on %s', (device: DeviceName) => {
  it.each([[4, 4], [4, 2], [4, 1]])('GroupedQueryAttention with %i query and %i key/value heads equals repeated-head attention', async (nHead, nKVHead) => {
    const m = new GroupedQueryAttention({ nEmbd: 16, nHead, nKVHead, device });
    const rotary = new RotaryEmbedding(16 / nHead, { maxSeqLen: 16, base: 500, device });
    const x = rand32([2, 7, 16], 5, device);
    for (const rot of [null, rotary]) {
      const y = noGrad(() => m.forward(x, null, rot));
      const ref = noGrad(() => referenceGqa(m, x, rot));
      await expectTensorsClose(y, ref, 1e-5, 1e-4);
      // Decoding with a cache: 4 tokens, then 3, equals the full pass.
      const cache = new KVCache(1);
      const a = noGrad(() => m.forward(x.narrow(1, 0, 4), cache.layers[0], rot));
      const b = noGrad(() => m.forward(x.narrow(1, 4, 3), cache.layers[0], rot));
      expect(cache.layers[0]!.k!.shape).toEqual([2, nKVHead, 7, 16 / nHead]);
      const joined = cat([a, b], 1);
      await expectTensorsClose(joined, y, 1e-5, 1e-4);
      for (const t of [y, ref, a, b, joined]) t.dispose();
      cache.dispose();
    }
    x.dispose();
    m.dispose();
    rotary.dispose();
  });

  it('GatedMLP is downProj(silu(gateProj x) · upProj x)', async () => {
    const m = new GatedMLP({ nEmbd: 6, hidden: 10, device });
    const x = rand32([3, 6], 2, device);
    const y = noGrad(() => m.forward(x));
    const ref = noGrad(() => tidy(() => {
      const gate = x.matmul(m.gateProj.weight.mT);
      return gate.mul(gate.sigmoid()).mul(x.matmul(m.upProj.weight.mT)).matmul(m.downProj.weight.mT);
    }));
    await expectTensorsClose(y, ref, 1e-6, 1e-5);
    for (const t of [x, y, ref]) t.dispose();
    m.dispose();
  });
});

describe('Llama layers: gradients (float64 finite differences)', () => {
  it('GroupedQueryAttention with biases, rotary and 2 key/value heads', () => {
    const m = new GroupedQueryAttention({ nEmbd: 8, nHead: 4, nKVHead: 2, qkvBias: true, outBias: true, dtype: 'float64' });
    const rotary = new RotaryEmbedding(2, { maxSeqLen: 8, dtype: 'float64' });
    const x = fixedRandom([2, 5, 8], 3).double().requiresGrad_(true);
    const w = fixedRandom([2, 5, 8], 4).double();
    const params = [m.qProj.weight, m.kProj.weight, m.vProj.weight, m.oProj.weight, m.qProj.bias!, m.kProj.bias!, m.oProj.bias!];
    gradcheck(() => m.forward(x, null, rotary).mul(w).sum(), [x, ...params]);
  });

  it('GatedMLP with biases', () => {
    const m = new GatedMLP({ nEmbd: 5, hidden: 7, bias: true, dtype: 'float64' });
    const x = fixedRandom([3, 5], 6).double().requiresGrad_(true);
    const w = fixedRandom([3, 5], 7).double();
    gradcheck(() => m.forward(x).mul(w).sum(), [x, m.gateProj.weight, m.upProj.weight, m.downProj.weight, m.gateProj.bias!, m.downProj.bias!]);
  });
});

describe('argument checks of the Llama layers and models', () => {
  it('every wrong argument throws a typed error naming the API and the argument', async () => {
    const gqa = { nEmbd: 8, nHead: 4, nKVHead: 2, headDim: 2, qkvBias: false, outBias: false, dtype: 'float32', device: 'cpu' };
    const llama: LlamaConfig = {
      vocabSize: 11, hiddenSize: 8, intermediateSize: 12, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 4,
      maxPositionEmbeddings: 8, rmsNormEps: 1e-6, ropeTheta: 100, tieWordEmbeddings: true, attentionBias: false, qkvBias: true, mlpBias: false,
      dtype: 'float32', device: 'cpu',
    };
    const model = new Llama(llama);
    const idx = fixedRandom([1, 3], 1).abs().mul(5).floor().int();
    const cases: Case[] = [
      {
        name: 'GroupedQueryAttention', call: (c) => new GroupedQueryAttention(c),
        args: [['config', gqa, { nEmbd: 'posInt', nHead: 'posInt', nKVHead: 'posInt', headDim: 'posInt', qkvBias: 'bool', outBias: 'bool', dtype: 'floatDType', device: 'device' }]],
        extra: [['nKVHead', [{ ...gqa, nKVHead: 3 }]], ['nHead', [{ nEmbd: 6, nHead: 4 }]]],
      },
      { name: 'GatedMLP', call: (c) => new GatedMLP(c), args: [['config', { nEmbd: 4, hidden: 6, bias: true }, { nEmbd: 'posInt', hidden: 'posInt', bias: 'bool' }]] },
      {
        name: 'Llama', call: (c) => new Llama(c),
        args: [['config', llama, {
          vocabSize: 'posInt', hiddenSize: 'posInt', intermediateSize: 'posInt', numHiddenLayers: 'posInt', numAttentionHeads: 'posInt',
          numKeyValueHeads: 'posInt', headDim: 'posInt', maxPositionEmbeddings: 'posInt', rmsNormEps: 'positive', ropeTheta: 'positive',
          tieWordEmbeddings: 'bool', attentionBias: 'bool', qkvBias: 'bool', mlpBias: 'bool', dtype: 'floatDType', device: 'device',
        }]],
        extra: [['numKeyValueHeads', [{ ...llama, numKeyValueHeads: 3 }]]],
      },
      {
        name: 'Llama.forward', call: (i, t, o) => model.forward(i, t, o),
        args: [['idx', idx, { bad: [rand32([1, 3], 1, 'cpu'), 3, {}] }], ['targets', null, null], ['options', { kvCache: null, lastOnly: true }, { kvCache: { bad: [3, {}] }, lastOnly: 'bool' }]],
      },
      {
        name: 'Llama.generate', call: (i, o) => model.generate(i, o),
        args: [['idx', idx, { bad: [rand32([1, 3], 1, 'cpu'), 3] }], ['options', { maxNewTokens: 2, temperature: 1, topK: 2, seed: 1, useCache: true }, { maxNewTokens: 'size', temperature: 'nonNeg', topK: nullable('posInt'), seed: 'int', useCache: 'bool' }]],
      },
      {
        name: 'GPT', call: (c) => new GPT(c),
        args: [['config', { vocabSize: 7, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4, gelu: 'tanh', layerNormEps: 1e-6 }, { gelu: 'enum', layerNormEps: 'positive' }]],
      },
    ];
    const t = await checkArguments(cases);
    expect(t.failures).toEqual([]);
    expect(t.typed).toBe(t.tried);
    expect(t.namedArg).toBe(t.tried);
    expect(t.tried).toBeGreaterThan(100);
    for (const x of [idx]) x.dispose();
    model.dispose();
  });
});
