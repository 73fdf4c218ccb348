// Run-time argument checks of the preference-data helpers, the concatenated forwards, the reference
// log-probs and the RewardTrainer / DPOTrainer constructors (inputs and configs: unknown keys,
// ranges, enums): each wrong argument must throw a WebgradError naming the API and the argument
// (see nn's test/helpers/arguments.ts), and the valid baseline still works.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed } from '@webgrad/core';
import { AdamW } from '@webgrad/optim';
import {
  DPOTrainer, RewardModel, RewardTrainer, collatePreferences, concatenatedLogProbs, concatenatedRewards, precomputeRefLogProbs, preferenceCollate,
  tokenizePreferencePair,
} from '@webgrad/rl';
import { checkArguments, nullable, type Case, type Options } from '../../nn/test/helpers/arguments.js';
import { f32, tinyGPT } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-pref-args-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quiet = { handleSigint: false, fsync: false, stream: { write: () => true }, tty: false };
const letters = { encode: (s: string) => [...s].map((c) => c.charCodeAt(0) - 96), eosId: 7 };
const gpt = { bad: [3, {}] };
const ids = { bad: [3, [], [[1, 2]], [{ prompt: [1], chosen: [], rejected: [2] }], [{ prompt: [1], chosen: [1.5], rejected: [2] }]] };

function cases(): Case[] {
  manualSeed(0);
  const policy = tinyGPT();
  const ref = tinyGPT();
  const rm = new RewardModel(tinyGPT());
  const pairs = [{ prompt: [1, 2], chosen: [3, 7], rejected: [4, 7] }, { prompt: [5], chosen: [6, 7], rejected: [1, 2, 7] }];
  const text = [{ prompt: 'ab', chosen: 'c', rejected: 'd' }, { prompt: 'e', chosen: 'f', rejected: 'ab' }];
  const batch = collatePreferences(pairs);
  const badBatch = { bad: [3, {}, { ...batch, inputIds: f32([[1, 2]]) }, { ...batch, completionMask: f32([[1]]) }] };
  const training: Options = {
    outDir: { bad: [null, 3, ''] }, steps: 'size', batchSize: 'posInt', evalBatchSize: 'posInt', gradAccumSteps: 'posInt', learningRate: 'positive',
    weightDecay: 'nonNeg', adamBetas: { bad: [null, 0.9, [0.9], [0.9, 1.5], ['a', 0.9]] }, lrSchedule: 'enum', warmupSteps: 'size', maxGradNorm: nullable('nonNeg'),
    evalInterval: 'posInt', logInterval: 'posInt', seed: 'int', shuffle: 'bool', resume: 'bool', tty: 'bool', fsync: 'bool', handleSigint: 'bool',
    callbacks: { bad: [null, 3, {}] }, eosTokenId: nullable('size'), maxPromptLength: 'posInt', maxCompletionLength: 'posInt', padTokenId: 'size',
  };
  const input = { tokenizer: { bad: [3, {}] }, trainDataset: { bad: [3, [], [{ prompt: 'a', chosen: 3, rejected: 'b' }], [{ prompt: 'abcdefgh', chosen: 'a', rejected: 'b' }]] }, evalDataset: { bad: [3, {}, []] }, optimizer: gpt, scheduler: gpt };
  const config = { outDir: join(root, 'args'), steps: 2, batchSize: 2, ...quiet };
  return [
    {
      name: 'tokenizePreferencePair', call: tokenizePreferencePair,
      args: [['record', text[0], { bad: [null, 3, { prompt: 1, chosen: 'a', rejected: 'b' }, { prompt: 'a', chosen: 'b' }] }], ['tokenizer', letters, { bad: [3, {}, { encode: () => [1.5] }] }],
        ['options', { eosTokenId: 6, maxPromptLength: 4, maxCompletionLength: 4 }, { eosTokenId: nullable('size'), maxPromptLength: 'posInt', maxCompletionLength: 'posInt' }]],
      extra: [['eosId', [text[0], { encode: letters.encode }, {}]]],
    },
    { name: 'collatePreferences', call: collatePreferences, args: [['pairs', pairs, ids], ['options', { padTokenId: 0, device: 'cpu' }, { padTokenId: 'size', device: 'device' }]] },
    { name: 'preferenceCollate', call: preferenceCollate, args: [['options', { padTokenId: 0 }, { padTokenId: 'size', device: 'device' }]] },
    { name: 'concatenatedLogProbs', call: concatenatedLogProbs, args: [['model', policy, gpt], ['batch', batch, badBatch], ['options', { averageLogProb: true }, { averageLogProb: 'bool' }]] },
    { name: 'concatenatedRewards', call: concatenatedRewards, args: [['model', rm, { bad: [3, {}] }], ['batch', batch, { bad: [...badBatch.bad, { ...batch, attentionMask: f32([[1]]) }] }]] },
    { name: 'precomputeRefLogProbs', call: precomputeRefLogProbs, args: [['ref', ref, gpt], ['pairs', pairs, ids], ['options', { batchSize: 1, averageLogProb: false }, { batchSize: 'posInt', averageLogProb: 'bool' }]] },
    {
      name: 'DPOTrainer', call: (i) => new DPOTrainer(i),
      args: [['input', { model: policy, refModel: ref, tokenizer: letters, trainDataset: text, evalDataset: text, optimizer: new AdamW(policy.parameters()), config: { ...config, beta: 0.2, lossType: 'sigmoid', labelSmoothing: 0.1, rpoAlpha: 0.5, referenceFree: false, precomputeRefLogProbs: false } }, {
        model: gpt, refModel: { bad: [3, {}, policy] }, ...input,
        config: { ...training, beta: 'positive', lossType: 'enum', labelSmoothing: { bad: [null, 0.6, -0.1, NaN, '0.1', true] }, rpoAlpha: nullable('nonNeg'), referenceFree: 'bool', precomputeRefLogProbs: 'bool' },
      }]],
      extra: [
        ['labelSmoothing', [{ model: policy, tokenizer: letters, trainDataset: text, config: { ...config, lossType: 'ipo', labelSmoothing: 0.1 } }]],
        ['epochs', [{ model: policy, tokenizer: letters, trainDataset: text, config: { ...config, epochs: 1 } }]],
        ['tokenizer', [{ model: policy, trainDataset: text, config }]],
      ],
    },
    {
      name: 'RewardTrainer', call: (i) => new RewardTrainer(i),
      args: [['input', { model: rm, tokenizer: letters, trainDataset: text, evalDataset: { a: text, b: pairs }, config: { ...config, centerRewardsCoefficient: 0.01 } }, {
        model: { bad: [3, {}, policy] }, ...input, config: { ...training, centerRewardsCoefficient: 'nonNeg' },
      }]],
    },
  ];
}

describe('argument checks', () => {
  it('every wrong argument of the preference-learning APIs throws a typed error naming the API and the argument', async () => {
    const all = cases();
    const t = await checkArguments(all);
    console.log(`[rl preference arguments] ${all.length} APIs, ${t.tried} wrong calls, ${t.typed} typed errors naming the API, ${t.namedArg} also naming the argument`);
    expect(t.failures).toEqual([]);
    expect(t.typed).toBe(t.tried);
    expect(t.namedArg).toBe(t.tried);
    expect(t.tried).toBeGreaterThan(200);
  });
});
