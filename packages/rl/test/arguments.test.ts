// Run-time argument checks of the rl losses, KL controllers, masked statistics, reward and value
// models, rollouts and trainers (PPO, GRPO, REINFORCE): each argument and option replaced by wrong
// values must throw a WebgradError naming the public function and the argument (see nn's
// test/helpers/arguments.ts), and the valid baseline still works. CPU only, as the other rl tests.
import { describe, expect, it } from 'vitest';
import { manualSeed, tensor } from '@webgrad/core';
import { AdamW } from '@webgrad/optim';
import {
  AdaptiveKLController, FixedKLController, RewardModel, ScalarHeadModel, baselineAdvantages, computeGAE, createReferenceModel, dpoLoss,
  entropyFromLogits, generateRollouts, gptHiddenStates, groupAdvantages, grpoLoss, grpoStep, klPenalty, logSigmoid, makeRollout, maskedMean,
  maskedSum, maskedVar, maskedWhiten, pairwiseRewardLoss, permutation, ppoPolicyLoss, ppoRewards, ppoStep, ppoValueLoss, reinforceLoss,
  reinforceStep, scoreRollout, seededRandom, tokenLogProbs, tokenLogProbsAndEntropy,
} from '@webgrad/rl';
import { checkArguments, nullable, type Case, type Options } from '../../nn/test/helpers/arguments.js';
import { f32, tinyGPT } from './helpers.js';

const notTensor = { bad: [3, '3', {}] };
const gpt = { bad: [3, {}] };
const reward = (_p: readonly number[], c: readonly number[]) => c.length;

function losses(): Case[] {
  const v = f32([0.1, -0.2]);
  const m = f32([[1, 1], [1, 0]]);
  const x = f32([[0.5, -1], [2, 0.3]]);
  const adv = f32([1, -1]);
  const pos = (name: string) => [name, v, notTensor] as [string, unknown, typeof notTensor];
  const pairs = (name: string) => [name, x, notTensor] as [string, unknown, typeof notTensor];
  return [
    {
      name: 'dpoLoss', call: dpoLoss,
      args: [pos('policyChosen'), pos('policyRejected'), pos('refChosen'), pos('refRejected'), ['options', { beta: 0.2, labelSmoothing: 0.1, lossType: 'robust', referenceFree: false }, {
        beta: 'positive', labelSmoothing: { bad: [0.5, -0.1, NaN, '0.1', true] }, lossType: 'enum', referenceFree: 'bool',
      }]],
      extra: [['labelSmoothing', [v, v, v, v, { lossType: 'ipo', labelSmoothing: 0.1 }]], ['refChosen', [v, v, null, null, {}]]],
    },
    { name: 'computeGAE', call: computeGAE, args: [pairs('rewards'), pairs('values'), ['options', { gamma: 0.9, lam: 0.95, mask: m }, { gamma: 'prob', lam: 'prob', mask: notTensor }]] },
    { name: 'klPenalty', call: klPenalty, args: [pairs('logProbs'), pairs('refLogProbs'), ['estimator', 'k3', 'enum']] },
    { name: 'FixedKLController', call: (c) => new FixedKLController(c), args: [['value', 0.1, 'nonNeg']] },
    { name: 'AdaptiveKLController', call: (a, b, c) => new AdaptiveKLController(a, b, c), args: [['initKLCoef', 0.1, 'nonNeg'], ['target', 6, 'positive'], ['horizon', 1000, 'positive']] },
    { name: 'AdaptiveKLController.update', call: (kl, n) => new AdaptiveKLController(0.1, 6, 100).update(kl, n), args: [['currentKL', 3, 'finite'], ['nSteps', 4, 'size']] },
    { name: 'maskedSum', call: maskedSum, args: [pairs('x'), ['mask', m, notTensor], ['dim', 1, { bad: [2, -3, 1.5, '0'] }]] },
    { name: 'maskedMean', call: maskedMean, args: [pairs('x'), ['mask', m, notTensor], ['dim', -1, { bad: [2, -3, 1.5, '0'] }]] },
    { name: 'maskedVar', call: maskedVar, args: [pairs('x'), ['mask', m, notTensor], ['options', { unbiased: false }, { unbiased: 'bool' }]] },
    { name: 'maskedWhiten', call: maskedWhiten, args: [pairs('x'), ['mask', m, notTensor], ['options', { shiftMean: false }, { shiftMean: 'bool' }]] },
    { name: 'logSigmoid', call: logSigmoid, args: [pairs('x')] },
    { name: 'entropyFromLogits', call: entropyFromLogits, args: [pairs('logits')] },
    {
      name: 'pairwiseRewardLoss', call: pairwiseRewardLoss,
      args: [pos('chosen'), pos('rejected'), ['options', { margin: 0.5, centerRewardsCoefficient: 0.01 }, { margin: { bad: [NaN, '1', {}, true] }, centerRewardsCoefficient: 'nonNeg' }]],
    },
    { name: 'ppoRewards', call: ppoRewards, args: [pos('scores'), pairs('logProbs'), pairs('refLogProbs'), ['mask', m, notTensor], ['options', { klCoef: 0.1, klEstimator: 'k2' }, { klCoef: 'nonNeg', klEstimator: 'enum' }]] },
    { name: 'ppoPolicyLoss', call: ppoPolicyLoss, args: [pairs('logProbs'), pairs('oldLogProbs'), pairs('advantages'), ['mask', m, notTensor], ['clipRange', 0.2, 'nonNeg']] },
    { name: 'ppoValueLoss', call: ppoValueLoss, args: [pairs('values'), pairs('oldValues'), pairs('returns'), ['mask', m, notTensor], ['clipRangeValue', 0.2, nullable('nonNeg')]] },
    { name: 'groupAdvantages', call: groupAdvantages, args: [pos('rewards'), ['groupSize', 2, { bad: [1, 3, 1.5, NaN, '2'] }], ['options', { scaleRewards: false }, { scaleRewards: 'bool' }]] },
    {
      name: 'grpoLoss', call: grpoLoss,
      args: [['input', { logProbs: x, oldLogProbs: x, refLogProbs: x, advantages: adv, mask: m }, { logProbs: notTensor, oldLogProbs: notTensor, refLogProbs: notTensor, advantages: notTensor, mask: notTensor }],
        ['options', { beta: 0.1, epsilon: 0.2, epsilonHigh: 0.3, lossType: 'dr_grpo', maxCompletionLength: 4 }, {
          beta: 'nonNeg', epsilon: 'nonNeg', epsilonHigh: 'nonNeg', lossType: 'enum', maxCompletionLength: 'posInt',
        }]],
    },
    { name: 'baselineAdvantages', call: baselineAdvantages, args: [pos('rewards'), ['groupSize', 2, { bad: [3, 0, 1.5, NaN, '2'] }], ['baseline', 'mean', 'enum']] },
    { name: 'reinforceLoss', call: reinforceLoss, args: [pairs('logProbs'), ['mask', m, notTensor], ['advantages', adv, notTensor]] },
    { name: 'seededRandom', call: seededRandom, args: [['seed', 7, 'int']] },
    { name: 'permutation', call: permutation, args: [['n', 4, 'size'], ['rand', seededRandom(1), 'fn']] },
  ];
}

function models(): Case[] {
  manualSeed(0);
  const policy = tinyGPT();
  const ref = createReferenceModel(policy);
  const rm = new RewardModel(tinyGPT(), { padTokenId: 0 });
  const idx = tensor([[1, 2, 3]], { dtype: 'int32', device: 'cpu' });
  const mask = f32([[1, 1, 1]]);
  const opt = new AdamW(policy.parameters(), { lr: 1e-3 });
  const value = new ScalarHeadModel(tinyGPT());
  const prompts = [[1], [2]];
  const promptsKind = { bad: [3, [], [[]], [[1.5]], [['a']]] };
  const rollout = makeRollout([[1, 2], [3]], [[4, 5], [6]]);
  const sampling: Options = { temperature: 'nonNeg', topK: { bad: [0, 1.5, NaN, '3'] }, topP: { bad: [0, 1.5, NaN] }, greedy: 'bool' };
  const generation: Options = { maxNewTokens: 'posInt', stopTokens: { bad: [3, [1.5]] }, padToken: 'size', seed: 'int', ...sampling };
  const trainer: Options = { policy: gpt, ref: { bad: [3] }, optimizer: { bad: [3, {}] }, prompts: promptsKind, rewardFn: 'fn' };
  const trainerInput = { policy, ref, optimizer: opt, prompts, rewardFn: reward };
  return [
    { name: 'RewardModel', call: (b, o) => new RewardModel(b, o), args: [['backbone', tinyGPT(), gpt], ['options', { padTokenId: 0 }, { padTokenId: { bad: [-1, 1.5, NaN, '0'] } }]] },
    {
      name: 'RewardModel.pairwiseLoss', call: (c, r, o) => rm.pairwiseLoss(c, r, o),
      args: [['chosen', idx, null], ['rejected', idx, null], ['options', { margin: 0, centerRewardsCoefficient: 0, chosenMask: mask, rejectedMask: null }, {
        margin: { bad: [NaN, '1', {}] }, centerRewardsCoefficient: 'nonNeg', chosenMask: notTensor, rejectedMask: notTensor,
      }]],
    },
    { name: 'ScalarHeadModel', call: (b) => new ScalarHeadModel(b), args: [['backbone', tinyGPT(), gpt]] },
    { name: 'gptHiddenStates', call: gptHiddenStates, args: [['gpt', policy, gpt], ['idx', idx, { bad: [f32([[1, 2]]), 3] }]] },
    { name: 'createReferenceModel', call: createReferenceModel, args: [['policy', policy, gpt]] },
    {
      name: 'makeRollout', call: (p, c, o) => makeRollout(p, c, o),
      args: [['prompts', [[1, 2], [3]], promptsKind], ['completions', [[4], [5, 6]], { bad: [3, [3], [[1.5], [1]]] }], ['options', { padToken: 0, promptIndex: [0, 0], device: 'cpu' }, {
        padToken: 'size', promptIndex: { bad: [3, [1.5, 0], [0, 1, 2]] }, device: 'device',
      }]],
    },
    {
      name: 'generateRollouts', call: generateRollouts,
      args: [['policy', policy, gpt], ['prompts', prompts, promptsKind], ['options', { maxNewTokens: 2, numGenerations: 2, stopTokens: [3], padToken: 0, seed: 1, temperature: 1, topK: 5, topP: 0.9, greedy: false }, {
        ...generation, numGenerations: 'posInt',
      }]],
    },
    { name: 'tokenLogProbs', call: tokenLogProbs, args: [['model', policy, gpt], ['sequences', idx, { bad: [f32([[1, 2]]), 3] }], ['mask', f32([[1, 1]]), { bad: [3, {}] }], ['options', { temperature: 0.7 }, { temperature: 'positive' }]] },
    {
      name: 'tokenLogProbsAndEntropy', call: tokenLogProbsAndEntropy,
      args: [['model', policy, gpt], ['sequences', idx, { bad: [f32([[1, 2]]), 3] }], ['mask', null, { bad: [3, {}] }], ['options', { temperature: 0.7, entropy: true }, { temperature: 'positive', entropy: 'bool' }]],
    },
    { name: 'scoreRollout', call: scoreRollout, args: [['rollout', rollout, { bad: [3, {}] }], ['rewardFn', reward, 'fn']] },
    {
      name: 'ppoStep', call: ppoStep,
      args: [['input', { policy, ref, valueModel: value, optimizer: opt, rollout, scores: [1, 0], config: { epochs: 1, miniBatchSize: 2, klCoef: 0.01, seed: 1 } }, {
        policy: gpt, ref: { bad: [3] }, valueModel: { bad: [3, {}] }, optimizer: { bad: [3, {}] }, rollout: { bad: [3, {}] }, scores: { bad: [3, [NaN, 1], ['1', 1]] },
        config: {
          epochs: 'posInt', miniBatchSize: 'posInt', clipRange: 'nonNeg', clipRangeValue: nullable('nonNeg'), vfCoef: 'nonNeg', entCoef: 'nonNeg', gamma: 'prob', lam: 'prob',
          klCoef: { bad: [-1, NaN, '0.1', {}] }, klEstimator: 'enum', whitenRewards: 'bool', whitenAdvantages: 'bool', maxGradNorm: nullable('nonNeg'), temperature: 'positive', seed: 'int',
        },
      }]],
    },
    {
      name: 'grpoStep', call: grpoStep,
      args: [['input', { ...trainerInput, config: { numGenerations: 2, maxNewTokens: 2, beta: 0.01, seed: 1, numIterations: 1 } }, {
        ...trainer,
        config: {
          beta: 'nonNeg', epsilon: 'nonNeg', epsilonHigh: 'nonNeg', lossType: 'enum', maxCompletionLength: 'posInt', scaleRewards: 'bool', numIterations: 'posInt',
          maxGradNorm: nullable('nonNeg'), ...generation, numGenerations: { bad: [1, 0, 1.5, NaN] },
        },
      }]],
    },
    {
      name: 'reinforceStep', call: reinforceStep,
      args: [['input', { ...trainerInput, config: { numGenerations: 2, maxNewTokens: 2, baseline: 'mean', klCoef: 0.05, seed: 1 } }, {
        ...trainer, config: { baseline: 'enum', klCoef: 'nonNeg', maxGradNorm: nullable('nonNeg'), ...generation, numGenerations: 'posInt' },
      }]],
      extra: [['numGenerations', [{ ...trainerInput, config: { numGenerations: 1, maxNewTokens: 2 } }]]],
    },
  ];
}

describe('argument checks', () => {
  it('every wrong argument of a public rl API throws a typed error naming the API and the argument', async () => {
    const cases = [...losses(), ...models()];
    const t = await checkArguments(cases);
    console.log(`[rl arguments] ${cases.length} APIs, ${t.tried} wrong calls, ${t.typed} typed errors naming the API, ${t.namedArg} also naming the argument`);
    expect(t.failures).toEqual([]);
    expect(t.typed).toBe(t.tried);
    expect(t.namedArg).toBe(t.tried);
    expect(t.tried).toBeGreaterThan(300);
  });
});
