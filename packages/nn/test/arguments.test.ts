// Run-time argument checks of every public layer, model, loss, initializer, metric and Module method:
// each argument and option replaced by wrong values must throw a WebgradError naming the public
// class or function and the argument (see ./helpers/arguments.ts), and the valid baseline still works.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { randn, tensor, zeros, type DeviceName, type Tensor } from '@webgrad/core';
import {
  AvgPool2d, BatchNorm1d, BatchNorm2d, BertForMaskedLM, BertForSequenceClassification, BertModel, Block, CausalSelfAttention, Conv1d, Conv2d,
  Dropout, Embedding, Flatten, GELU, GPT, GRU, GRUCell, KVCache, LSTM, LSTMCell, LSTMModel, LayerNorm, LeNet5, LearnedPositionalEmbedding,
  Linear, LogSoftmax, MLP, MaxPool2d, ModuleDict, ModuleList, MultiheadAttention, RMSNorm, RNN, RNNCell, RotaryEmbedding, Sequential, SiLU,
  SinusoidalPositionalEncoding, Softmax, TransformerEncoder, TransformerEncoderLayer, ValueHead, bceWithLogits, binaryCrossEntropy,
  confusionMatrix, corpusBleu, cosineSimilarity, f1Score, fromSafetensorsBytes, init, klDiv, l1Loss, loadModule, maskTokens, mseLoss,
  nllLoss, perplexity, precisionRecallF1, precisionRecallF1PerClass, precisionScore, recallScore, rocAuc, rougeN, sampleToken,
  samplingDistribution, saveModule, sentenceBleu, sequenceLogProbs, toSafetensorsBytes, topKAccuracy, type Module,
} from '@webgrad/nn';
import { DEVICES } from './helpers.js';
import { checkArguments, nullable, type Case, type Options } from './helpers/arguments.js';

const factory: Options = { dtype: 'floatDType', device: 'device' };
const pair = { bad: [0, NaN, 1.5, '3', true, {}, [3], [3, 0], [3, 1.5]] };
const shape = { bad: [NaN, -1, 1.5, '4', {}, [2, -1], [1.5]] };
const notTensor = { bad: [3, '3', {}] };

/** The layers' constructors. */
function constructors(device: DeviceName): Case[] {
  const f = { dtype: 'float32', device };
  const block = { nEmbd: 8, nHead: 2, bias: true, dropout: 0, mlpRatio: 4, gelu: 'none', ...f };
  const blockKinds: Options = { nEmbd: 'posInt', nHead: 'posInt', bias: 'bool', dropout: 'prob', mlpRatio: { bad: [NaN, Infinity, '4', 0.3, -1] }, gelu: 'enum', ...factory };
  const rnn: Options = { numLayers: 'posInt', bias: 'bool', batchFirst: 'bool', dropout: 'prob', bidirectional: 'bool', ...factory };
  const rnnOpts = { numLayers: 2, bias: true, batchFirst: false, dropout: 0, bidirectional: false, ...f };
  const conv2d: Options = { stride: pair, padding: { bad: [-1, 1.5, 'full', [1, -1], true, {}] }, dilation: pair, groups: 'posInt', bias: 'bool', ...factory };
  const conv1d: Options = { stride: 'posInt', padding: { bad: [-1, 1.5, 'full', [1, 1], true, {}] }, dilation: 'posInt', groups: 'posInt', bias: 'bool', ...factory };
  const pool: Options = { stride: pair, padding: { bad: [-1, 1.5, 2, true, {}] } };
  const cell: Options = { bias: 'bool', ...factory };
  const size = (name: string, v = 4): [string, number, 'posInt'] => [name, v, 'posInt'];
  return [
    { name: 'Linear', call: (i, o, opts) => new Linear(i, o, opts), args: [['inFeatures', 3, 'size'], ['outFeatures', 2, 'size'], ['options', { bias: true, ...f }, { bias: 'bool', ...factory }]] },
    {
      name: 'Embedding', call: (n, d, opts) => new Embedding(n, d, opts),
      args: [['numEmbeddings', 5, 'size'], ['embeddingDim', 3, 'size'], ['options', { paddingIdx: 0, ...f }, { paddingIdx: { bad: [5, -6, 1.5, NaN, '1', true] }, ...factory }]],
    },
    {
      name: 'LayerNorm', call: (s, opts) => new LayerNorm(s, opts),
      args: [['normalizedShape', [4], shape], ['options', { eps: 1e-5, elementwiseAffine: true, bias: true, ...f }, { eps: 'nonNeg', elementwiseAffine: 'bool', bias: 'bool', ...factory }]],
    },
    {
      name: 'RMSNorm', call: (s, opts) => new RMSNorm(s, opts),
      args: [['normalizedShape', 4, shape], ['options', { eps: null, elementwiseAffine: true, ...f }, { eps: nullable('nonNeg'), elementwiseAffine: 'bool', ...factory }]],
    },
    { name: 'GELU', call: (opts) => new GELU(opts), args: [['options', { approximate: 'tanh' }, { approximate: 'enum' }]] },
    { name: 'Softmax', call: (d) => new Softmax(d), args: [['dim', -1, 'int']] },
    { name: 'LogSoftmax', call: (d) => new LogSoftmax(d), args: [['dim', 1, 'int']] },
    { name: 'Flatten', call: (a, b) => new Flatten(a, b), args: [['startDim', 1, 'int'], ['endDim', -1, 'int']] },
    { name: 'Dropout', call: (p) => new Dropout(p), args: [['p', 0.1, 'prob']] },
    { name: 'LearnedPositionalEmbedding', call: (n, d, opts) => new LearnedPositionalEmbedding(n, d, opts), args: [['maxLen', 8, 'size'], ['dim', 4, 'size'], ['options', f, factory]] },
    {
      name: 'SinusoidalPositionalEncoding', call: (n, d, opts) => new SinusoidalPositionalEncoding(n, d, opts),
      args: [['maxLen', 8, 'size'], ['dim', 4, 'size'], ['options', { base: 100, ...f }, { base: 'positive', ...factory }]],
    },
    {
      name: 'RotaryEmbedding', call: (d, opts) => new RotaryEmbedding(d, opts),
      args: [['headDim', 4, { bad: [3, NaN, -2, 1.5, '4', true, {}] }], ['options', { maxSeqLen: 16, base: 100, ...f }, { maxSeqLen: 'size', base: 'positive', ...factory }]],
    },
    { name: 'KVCache', call: (n) => new KVCache(n), args: [['nLayer', 2, 'size']] },
    ...(['Block', 'CausalSelfAttention', 'MLP'] as const).map((name): Case => ({
      name, call: (cfg) => new { Block, CausalSelfAttention, MLP }[name](cfg), args: [['config', block, blockKinds]],
      extra: [['nHead', [{ ...block, nEmbd: 6, nHead: 4 }]]],
    })),
    {
      name: 'MultiheadAttention', call: (e, h, opts) => new MultiheadAttention(e, h, opts),
      args: [size('embedDim'), size('numHeads', 2), ['options', { dropout: 0.1, bias: true, batchFirst: true, ...f }, { dropout: 'prob', bias: 'bool', batchFirst: 'bool', ...factory }]],
      extra: [['numHeads', [6, 4, {}]]],
    },
    {
      name: 'TransformerEncoderLayer', call: (d, h, opts) => new TransformerEncoderLayer(d, h, opts),
      args: [size('dModel'), size('nhead', 2), ['options', { dimFeedforward: 8, dropout: 0.1, activation: 'gelu', layerNormEps: 1e-5, batchFirst: true, normFirst: true, bias: true, ...f }, {
        dimFeedforward: 'posInt', dropout: 'prob', activation: { bad: ['tanh', 3, {}, true] }, layerNormEps: 'nonNeg', batchFirst: 'bool', normFirst: 'bool', bias: 'bool', ...factory,
      }]],
      extra: [['nhead', [6, 4, {}]]],
    },
    {
      name: 'TransformerEncoder', call: (make, n, opts) => new TransformerEncoder(make, n, opts),
      args: [['makeLayer', () => new TransformerEncoderLayer(4, 2, { dimFeedforward: 8, device }), 'fn'], size('numLayers', 2), ['options', { norm: null }, { norm: { bad: [3, 'x', {}] } }]],
    },
    {
      name: 'Conv2d', call: (i, o, k, opts) => new Conv2d(i, o, k, opts),
      args: [size('inChannels'), size('outChannels', 2), ['kernelSize', [3, 2], pair], ['options', { stride: 1, padding: 'same', dilation: [1, 2], groups: 2, bias: true, ...f }, conv2d]],
      extra: [['groups', [3, 4, 3, { groups: 2 }]], ['stride', [4, 4, 3, { padding: 'same', stride: 2 }]]],
    },
    {
      name: 'Conv1d', call: (i, o, k, opts) => new Conv1d(i, o, k, opts),
      args: [size('inChannels'), size('outChannels', 2), ['kernelSize', 3, 'posInt'], ['options', { stride: 1, padding: 1, dilation: 1, groups: 1, bias: false, ...f }, conv1d]],
    },
    { name: 'MaxPool2d', call: (k, opts) => new MaxPool2d(k, opts), args: [['kernelSize', 2, pair], ['options', { stride: 2, padding: 1 }, pool]] },
    { name: 'AvgPool2d', call: (k, opts) => new AvgPool2d(k, opts), args: [['kernelSize', [2, 2], pair], ['options', { stride: [1, 2], padding: 0 }, pool]] },
    ...([['BatchNorm1d', BatchNorm1d], ['BatchNorm2d', BatchNorm2d]] as const).map(([name, C]): Case => ({
      name, call: (n, opts) => new C(n, opts),
      args: [size('numFeatures', 3), ['options', { eps: 1e-5, momentum: null, affine: true, trackRunningStats: true, ...f }, { eps: 'nonNeg', momentum: nullable('prob'), affine: 'bool', trackRunningStats: 'bool', ...factory }]],
    })),
    { name: 'RNNCell', call: (i, h, opts) => new RNNCell(i, h, opts), args: [size('inputSize', 3), size('hiddenSize'), ['options', { bias: true, nonlinearity: 'relu', ...f }, { ...cell, nonlinearity: 'enum' }]] },
    ...([['LSTMCell', LSTMCell], ['GRUCell', GRUCell]] as const).map(([name, C]): Case => ({
      name, call: (i, h, opts) => new C(i, h, opts), args: [size('inputSize', 3), size('hiddenSize'), ['options', { bias: false, ...f }, cell]],
      extra: [['nonlinearity', [3, 4, { nonlinearity: 'tanh' }]]],
    })),
    { name: 'RNN', call: (i, h, opts) => new RNN(i, h, opts), args: [size('inputSize', 3), size('hiddenSize'), ['options', { ...rnnOpts, nonlinearity: 'relu' }, { ...rnn, nonlinearity: 'enum' }]] },
    ...([['LSTM', LSTM], ['GRU', GRU]] as const).map(([name, C]): Case => ({
      name, call: (i, h, opts) => new C(i, h, opts), args: [size('inputSize', 3), size('hiddenSize'), ['options', rnnOpts, rnn]],
      extra: [['nonlinearity', [3, 4, { nonlinearity: 'tanh' }]]],
    })),
  ];
}

/** Models, their forward options, and generation. */
function models(device: DeviceName): Case[] {
  const f = { dtype: 'float32' as const, device };
  const gptCfg = { vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, dropout: 0, bias: true, ...f };
  const gpt = new GPT(gptCfg);
  const idx = tensor([[1, 2, 3]], { dtype: 'int32', device });
  const bert = { vocabSize: 10, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16, maxPositions: 8, typeVocabSize: 2, dropout: 0, layerNormEps: 1e-12, initStd: 0.02, numLabels: 3, classifierDropout: 0, ...f };
  const bertKinds: Options = {
    vocabSize: 'posInt', hiddenSize: 'posInt', numLayers: 'posInt', numHeads: 'posInt', intermediateSize: 'posInt', maxPositions: 'posInt', typeVocabSize: 'posInt',
    dropout: 'prob', layerNormEps: 'nonNeg', initStd: 'nonNeg', numLabels: 'posInt', classifierDropout: 'prob', ...factory,
  };
  const bertModel = new BertModel(bert);
  const sampling: Options = { temperature: 'nonNeg', topK: { bad: [0, 1.5, NaN, '3'] }, topP: { bad: [0, 1.5, NaN, '0.5'] }, greedy: 'bool' };
  return [
    {
      name: 'GPT', call: (cfg) => new GPT(cfg),
      args: [['config', gptCfg, { vocabSize: 'posInt', blockSize: 'posInt', nLayer: 'posInt', nHead: 'posInt', nEmbd: 'posInt', dropout: 'prob', bias: 'bool', ...factory }]],
      extra: [['nHead', [{ ...gptCfg, nEmbd: 6, nHead: 4 }]]],
    },
    {
      name: 'GPT.forward', call: (i, t, opts) => gpt.forward(i, t, opts),
      args: [['idx', idx, { bad: [randn([1, 3], { device }), 3, {}] }], ['targets', null, null], ['options', { kvCache: null, lastOnly: true }, { kvCache: { bad: [3, {}] }, lastOnly: 'bool' }]],
    },
    {
      name: 'GPT.generate', call: (i, opts) => gpt.generate(i, opts),
      args: [['idx', idx, { bad: [randn([1, 3], { device }), 3] }], ['options', { maxNewTokens: 2, stopTokens: [1], padToken: 0, seed: 1, useCache: true, temperature: 1, topK: 3, topP: 0.9, greedy: false }, {
        maxNewTokens: 'size', stopTokens: { bad: [3, [1.5], ['a']] }, padToken: 'size', seed: 'int', useCache: 'bool', ...sampling,
      }]],
    },
    { name: 'GPT.configureOptimizerGroups', call: (wd) => { gpt.configureOptimizerGroups(wd); }, args: [['weightDecay', 0.1, 'nonNeg']] },
    { name: 'samplingDistribution', call: (l, opts) => samplingDistribution(l, opts), args: [['logits', [1, 2, 3], null], ['options', { temperature: 0.5, topK: 2, topP: 0.9, greedy: false }, { ...sampling, temperature: 'positive' }]] },
    { name: 'sampleToken', call: (l, opts, u) => sampleToken(l, opts, u), args: [['logits', [1, 2, 3], null], ['options', { temperature: 0.5 }, null], ['u', 0.3, { bad: [1, -0.1, NaN, '0.5'] }]] },
    ...([['BertModel', BertModel], ['BertForMaskedLM', BertForMaskedLM], ['BertForSequenceClassification', BertForSequenceClassification]] as const).map(([name, C]): Case => ({
      name, call: (cfg) => new C(cfg), args: [['config', bert, bertKinds]], extra: [['numHeads', [{ ...bert, hiddenSize: 10, numHeads: 4 }]]],
    })),
    {
      name: 'BertModel.forward', call: (ids, opts) => bertModel.forward(ids, opts),
      args: [['ids', idx, null], ['options', { tokenTypeIds: zeros([1, 3], { dtype: 'int32', device }), attentionMask: null }, { tokenTypeIds: notTensor, attentionMask: notTensor }]],
    },
    {
      name: 'maskTokens', call: (ids, opts) => maskTokens(ids, opts),
      args: [['ids', idx, { bad: [randn([1, 3], { device }), 3] }], ['options', { maskTokenId: 4, vocabSize: 10, prob: 0.5, specialTokenIds: [0], attentionMask: null, seed: 1 }, {
        maskTokenId: { bad: [-1, 1.5, NaN, '3'] }, vocabSize: 'posInt', prob: 'prob', specialTokenIds: { bad: [3, [1.5]] }, attentionMask: notTensor, seed: 'int',
      }]],
    },
    { name: 'LeNet5', call: (opts) => new LeNet5(opts), args: [['options', { inChannels: 1, numClasses: 3, ...f }, { inChannels: 'posInt', numClasses: 'posInt', ...factory }]] },
    {
      name: 'LSTMModel', call: (cfg) => new LSTMModel(cfg),
      args: [['config', { vocabSize: 5, embedDim: 2, hiddenSize: 3, numLayers: 1, outputSize: 2, mode: 'classify', bidirectional: true, dropout: 0, ...f }, {
        vocabSize: 'posInt', embedDim: 'posInt', hiddenSize: 'posInt', numLayers: 'posInt', outputSize: 'posInt', mode: 'enum', bidirectional: 'bool', dropout: 'prob', ...factory,
      }]],
    },
    { name: 'ValueHead', call: (h, opts) => new ValueHead(h, opts), args: [['hiddenSize', 4, 'posInt'], ['options', { bias: true, ...f }, { bias: 'bool', ...factory }]] },
  ];
}

/** Float-only layers given int32 (or non-tensor) inputs, and Embedding given float ids, as PyTorch rejects them. */
function floatInputs(device: DeviceName): Case[] {
  const layers: [string, Module, number[], string?][] = [
    ['Linear', new Linear(3, 2, { device }), [2, 3]],
    ['Conv2d', new Conv2d(2, 3, 3, { device }), [1, 2, 5, 5]],
    ['Conv1d', new Conv1d(2, 3, 3, { device }), [1, 2, 5]],
    ['MaxPool2d', new MaxPool2d(2), [1, 1, 4, 4]],
    ['AvgPool2d', new AvgPool2d(2), [1, 1, 4, 4]],
    ['LayerNorm', new LayerNorm(4, { device }), [2, 4]],
    ['RMSNorm', new RMSNorm(4, { device }), [2, 4]],
    ['BatchNorm1d', new BatchNorm1d(3, { device }), [4, 3]],
    ['RNN', new RNN(3, 4, { device }), [5, 2, 3]],
    ['LSTMCell', new LSTMCell(3, 4, { device }), [2, 3]],
    ['GELU', new GELU(), [2, 3]],
    ['SiLU', new SiLU(), [2, 3]],
    ['Softmax', new Softmax(), [2, 3]],
    ['MultiheadAttention', new MultiheadAttention(4, 2, { device }), [3, 2, 4], 'query'],
    ['TransformerEncoderLayer', new TransformerEncoderLayer(4, 2, { dimFeedforward: 8, device }), [3, 2, 4], 'src'],
    ['Block', new Block({ nEmbd: 4, nHead: 2, device }), [1, 3, 4]],
    ['ValueHead', new ValueHead(4, { device }), [1, 3, 4], 'hidden'],
    ['LeNet5', new LeNet5({ device }), [1, 1, 28, 28]],
  ];
  const embedding = new Embedding(5, 3, { device });
  return [
    ...layers.map(([name, m, shape, arg = 'input']): Case => ({
      name, call: (x) => m.forward(x), args: [[arg, randn(shape, { device }), { bad: [zeros(shape, { dtype: 'int32', device }), 3] }]],
    })),
    { name: 'Embedding', call: (ids) => embedding.forward(ids), args: [['ids', tensor([1, 4], { dtype: 'int32', device }), { bad: [randn([2], { device }), 3, [1, 4]] }]] },
  ];
}

function losses(device: DeviceName): Case[] {
  const x = randn([2, 3], { device });
  const p = x.sigmoid();
  const ix = zeros([2, 3], { dtype: 'int32', device });
  const target = tensor([0, 2], { dtype: 'int32', device });
  const floatOnly = { bad: [ix, 3] };
  const reduction: Options = { reduction: 'enum' };
  const pairLoss = (name: string, fn: (a: Tensor, b: Tensor, o: object) => Tensor, input: Tensor, opts: object, kinds: Options): Case => ({
    name, call: fn, args: [['input', input, floatOnly], ['target', input, notTensor], ['options', opts, kinds]],
  });
  return [
    {
      name: 'nllLoss', call: nllLoss,
      args: [['logProbs', x.logSoftmax(-1), floatOnly], ['target', target, { bad: [tensor([0, 2], { dtype: 'float32', device }), 3] }], ['options', { weight: null, ignoreIndex: -100, reduction: 'sum' }, { weight: notTensor, ignoreIndex: 'int', ...reduction }]],
    },
    pairLoss('mseLoss', mseLoss, x, { reduction: 'sum' }, reduction),
    pairLoss('l1Loss', l1Loss, x, { reduction: 'none' }, reduction),
    pairLoss('binaryCrossEntropy', binaryCrossEntropy, p, { weight: null, reduction: 'mean' }, { weight: notTensor, ...reduction }),
    pairLoss('bceWithLogits', bceWithLogits, p, { weight: null, posWeight: null, reduction: 'mean' }, { weight: notTensor, posWeight: notTensor, ...reduction }),
    pairLoss('klDiv', klDiv, p, { reduction: 'batchmean', logTarget: false }, { reduction: 'enum', logTarget: 'bool' }),
    { name: 'cosineSimilarity', call: cosineSimilarity, args: [['x1', x, floatOnly], ['x2', x, floatOnly], ['options', { dim: 1, eps: 1e-8 }, { dim: 'int', eps: 'nonNeg' }]] },
    {
      name: 'sequenceLogProbs', call: sequenceLogProbs,
      args: [['logits', randn([1, 2, 3], { device }), { bad: [zeros([1, 2, 3], { dtype: 'int32', device }), 3] }], ['labels', tensor([[0, 2]], { dtype: 'int32', device }), { bad: [randn([1, 2], { device }), 3] }],
        ['mask', null, { bad: [3, {}] }], ['options', { reduction: 'mean' }, reduction]],
    },
  ];
}

function initializers(device: DeviceName): Case[] {
  const w = zeros([3, 4], { device });
  const t: ['tensor', Tensor, { bad: unknown[] }] = ['tensor', w, { bad: [zeros([3, 4], { dtype: 'int32', device }), 3, {}] }];
  const kaiming: Options = { a: 'finite', mode: 'enum', nonlinearity: 'enum' };
  return [
    { name: 'uniform', call: init.uniform, args: [t, ['a', -1, 'finite'], ['b', 1, 'finite']], extra: [['a <= b', [w, 1, -1]]] },
    { name: 'normal', call: init.normal, args: [t, ['mean', 0, 'finite'], ['std', 0.5, 'nonNeg']] },
    { name: 'constant', call: init.constant, args: [['tensor', w, { bad: [3, {}] }], ['value', 2, { bad: ['3', true, {}] }]] },
    { name: 'xavierUniform', call: init.xavierUniform, args: [t, ['gain', 1, 'nonNeg']] },
    { name: 'xavierNormal', call: init.xavierNormal, args: [t, ['gain', 1, 'nonNeg']] },
    { name: 'kaimingUniform', call: init.kaimingUniform, args: [t, ['options', { a: 0.1, mode: 'fanOut', nonlinearity: 'relu' }, kaiming]] },
    { name: 'kaimingNormal', call: init.kaimingNormal, args: [t, ['options', { a: 0.1, mode: 'fanIn', nonlinearity: 'leakyRelu' }, kaiming]] },
    {
      name: 'truncNormal', call: init.truncNormal,
      args: [t, ['mean', 0, 'finite'], ['std', 1, 'positive'], ['a', -2, { bad: ['x', {}] }], ['b', 2, { bad: ['x', {}] }]], extra: [['a < b', [w, 0, 1, 2, 2]]],
    },
    { name: 'calculateGain', call: init.calculateGain, args: [['nonlinearity', 'leakyRelu', 'enum'], ['param', 0.2, 'finite']] },
    { name: 'computeFans', call: init.computeFans, args: [['shape', [3, 4], { bad: [3, [1.5, 2], 'x'] }]] },
  ];
}

function metrics(): Case[] {
  const y = [0, 1, 1, 0];
  const labels = { bad: [3, [{}]] };
  const prf: Options = { average: 'enum', posLabel: { bad: [{}, true] }, labels, zeroDivision: { bad: [2, 'NaN', true] }, beta: { bad: [-1, NaN, '3', true, {}] } };
  const prfOpts = { average: 'macro', posLabel: 1, labels: [0, 1], zeroDivision: 0, beta: 2 };
  const bleu: Options = { maxOrder: 'posInt', smoothing: 'enum', smoothValue: 'nonNeg', effectiveOrder: 'bool' };
  const bleuOpts = { maxOrder: 2, smoothing: 'floor', smoothValue: 0.1, effectiveOrder: false };
  return [
    { name: 'corpusBleu', call: corpusBleu, args: [['hypotheses', ['a b c'], { bad: ['a b', 3] }], ['references', [['a b c']], { bad: [3, 'x'] }], ['options', bleuOpts, bleu]] },
    { name: 'sentenceBleu', call: sentenceBleu, args: [['hypothesis', 'a b c', null], ['references', ['a b c'], { bad: [3, 'x'] }], ['options', bleuOpts, bleu]] },
    { name: 'topKAccuracy', call: topKAccuracy, args: [['scores', [0.1, 0.9, 0.8, 0.2], null], ['numClasses', 2, 'posInt'], ['yTrue', [1, 0], null], ['k', 1, 'posInt']] },
    { name: 'confusionMatrix', call: confusionMatrix, args: [['yTrue', y, null], ['yPred', y, null], ['options', { labels: [0, 1] }, { labels }]] },
    ...([['precisionRecallF1', precisionRecallF1], ['precisionScore', precisionScore], ['recallScore', recallScore], ['f1Score', f1Score]] as const).map(([name, fn]): Case => ({
      name, call: fn, args: [['yTrue', y, null], ['yPred', y, null], ['options', prfOpts, prf]],
    })),
    {
      name: 'precisionRecallF1PerClass', call: precisionRecallF1PerClass,
      args: [['yTrue', y, null], ['yPred', y, null], ['options', { labels: [0, 1], zeroDivision: 'nan', beta: 1 }, { labels, zeroDivision: prf.zeroDivision!, beta: prf.beta! }]],
    },
    { name: 'rocAuc', call: rocAuc, args: [['yTrue', y, null], ['scores', [0.1, 0.9, 0.8, 0.2], null], ['options', { posLabel: 1 }, { posLabel: { bad: [{}, true] } }]] },
    { name: 'rougeN', call: rougeN, args: [['target', 'a b', null], ['prediction', 'a b', null], ['n', 2, 'posInt']] },
    { name: 'perplexity', call: perplexity, args: [['meanNll', 1.5, { bad: ['3', true, {}] }]] },
  ];
}

/** Module methods, containers and serialization. */
function moduleApi(device: DeviceName, dir: string): Case[] {
  const m = new Linear(3, 2, { device });
  const model = { bad: [3, {}] };
  return [
    { name: 'Linear.train', call: (mode) => { m.train(mode); }, args: [['mode', true, 'bool']] },
    { name: 'Linear.requiresGrad_', call: (r) => { m.requiresGrad_(r); }, args: [['requiresGrad', true, 'bool']] },
    { name: 'Linear.numParameters', call: (opts) => m.numParameters(opts), args: [['options', { trainableOnly: true }, { trainableOnly: 'bool' }]] },
    { name: 'Linear.parameters', call: (opts) => { m.parameters(opts); }, args: [['options', { recurse: false }, { recurse: 'bool' }]] },
    { name: 'Linear.loadStateDict', call: (sd, opts) => m.loadStateDict(sd, opts), args: [['state dict', m.stateDict(), { bad: [3, 'x'] }], ['options', { strict: true }, { strict: 'bool' }]] },
    { name: 'Linear.to', call: (d) => { m.to(d); }, args: [['device', device, 'device']] },
    { name: 'Linear.toDType', call: (d) => { m.toDType(d); }, args: [['dtype', 'float32', { bad: ['float8', 'int32', 3] }]] },
    { name: 'Sequential.at', call: (i) => new Sequential(new Linear(1, 1)).at(i), args: [['index', 0, 'int']] },
    { name: 'ModuleList', call: (ms) => new ModuleList(ms), args: [['modules', [], { bad: [3, 'x'] }]] },
    { name: 'ModuleList.at', call: (i) => new ModuleList([new Linear(1, 1)]).at(i), args: [['index', -1, 'int']] },
    { name: 'ModuleDict', call: (ms) => new ModuleDict(ms), args: [['modules', {}, { bad: [3, 'x'] }]] },
    { name: 'toSafetensorsBytes', call: toSafetensorsBytes, args: [['model', m, model], ['options', { metadata: { a: 'b' } }, { metadata: { bad: [3, { a: 1 }] } }]] },
    {
      name: 'fromSafetensorsBytes', call: async (mod, b, opts) => fromSafetensorsBytes(mod, await b, opts),
      args: [['model', m, model], ['bytes', toSafetensorsBytes(m), { bad: [3, [1, 2]] }], ['options', { strict: true, source: 's' }, { strict: 'bool', source: { bad: [3] } }]],
    },
    { name: 'saveModule', call: saveModule, args: [['model', m, model], ['path', join(dir, 'm.safetensors'), { bad: [3, ''] }], ['options', { metadata: {} }, { metadata: { bad: [3] } }]] },
    { name: 'loadModule', call: (mod, path, opts) => loadModule(mod, path, opts), args: [['model', m, model], ['path', join(dir, 'm.safetensors'), { bad: [3, ''] }], ['options', { strict: true }, { strict: 'bool' }]] },
  ];
}

describe.each(DEVICES)('argument checks on %s', (device) => {
  it('every wrong argument of a public nn API throws a typed error naming the API and the argument', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webgrad-args-'));
    try {
      const cases = [...constructors(device), ...models(device), ...floatInputs(device), ...losses(device), ...initializers(device), ...metrics(), ...moduleApi(device, dir)];
      const t = await checkArguments(cases);
      console.log(`[nn arguments on ${device}] ${cases.length} APIs, ${t.tried} wrong calls, ${t.typed} typed errors naming the API, ${t.namedArg} also naming the argument`);
      expect(t.failures).toEqual([]);
      expect(t.typed).toBe(t.tried);
      expect(t.namedArg).toBe(t.tried);
      expect(t.tried).toBeGreaterThan(500);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
