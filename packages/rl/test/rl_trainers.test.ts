// PPOTrainer and GRPOTrainer on a toy problem (a tiny GPT rewarded for emitting token 5): the
// reward rises; every TRL metric name is logged; the missing-EOS penalty is applied; a batched
// scorer sees whole batches; the KL statistic (nats per sequence) matches a computation by hand
// from the models' logits; a run resumed from a checkpoint takes the same steps as an
// uninterrupted one. Plus combineRewards, missingEosPenalty, rewardModelScorer and the argument
// checks of the new API. CPU only, as the other rl tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, memory, noGrad, tensor } from '@webgrad/core';
import type { GPT } from '@webgrad/nn';
import {
  AdaptiveKLController, GRPOTrainer, PPOTrainer, RewardModel, combineRewards, createReferenceModel, missingEosPenalty, perCompletion,
  rewardModelScorer, sequenceKL, type BatchRewardFn, type RewardBatch,
} from '@webgrad/rl';
import { checkArguments, nullable, type Case } from '../../nn/test/helpers/arguments.js';
import { expectClose, f32, read, tinyGPT } from './helpers.js';

const TARGET = 5;
const EOS = 7;
const prompts = [[1], [2]];
const quiet = { stream: { write: () => true }, tty: false, handleSigint: false, fsync: false } as const;
const targetRate = (c: readonly number[]) => c.filter((t) => t === TARGET).length / Math.max(1, c.length);
const reward: BatchRewardFn = ({ completions }) => completions.map(targetRate);

const root = mkdtempSync(join(tmpdir(), 'webgrad-rl-trainers-'));
let runs = 0;
const outDir = () => join(root, `run-${runs++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const firstLast = (xs: number[], n = 3) => [xs.slice(0, n), xs.slice(-n)].map((v) => v.reduce((a, b) => a + b, 0) / v.length) as [number, number];

/** Σ over completion tokens of the k1 or k3 estimate, per row, from both models' logits on the host. */
function klByHand(policy: GPT, ref: GPT, batch: RewardBatch, estimator: 'k1' | 'k3'): number[] {
  return batch.prompts.map((p, r) => {
    const row = [...p, ...batch.completions[r]!];
    const logProb = (m: GPT) => {
      const idx = tensor(Int32Array.from(row), { shape: [1, row.length], dtype: 'int32', device: 'cpu' });
      const logits = noGrad(() => m.forward(idx).logits); // (1, T, V)
      const z = read(logits);
      idx.dispose(); logits.dispose();
      const V = z.length / row.length;
      const out: number[] = [];
      for (let t = p.length - 1; t < row.length - 1; t++) {
        const zs = z.slice(t * V, (t + 1) * V);
        const mx = Math.max(...zs);
        const lse = mx + Math.log(zs.reduce((a, x) => a + Math.exp(x - mx), 0));
        out.push(zs[row[t + 1]!]! - lse);
      }
      return out;
    };
    const lp = logProb(policy), lr = logProb(ref);
    return lp.reduce((s, x, i) => {
      const logR = lr[i]! - x;
      return s + (estimator === 'k1' ? -logR : Math.exp(logR) - 1 - logR);
    }, 0);
  });
}

describe('PPOTrainer', () => {
  it('raises the reward and logs TRL metric names, with the KL in nats per sequence (k1) as computed by hand', async () => {
    manualSeed(13);
    const policy = tinyGPT();
    const initial = createReferenceModel(policy); // the weights that sample the first batch
    manualSeed(99);
    const ref = tinyGPT(); // a different reference, so the KL is not 0
    const batches: RewardBatch[] = [];
    const spy: BatchRewardFn = (b) => { batches.push(b); return reward(b); };
    const trainer = new PPOTrainer({
      policy, ref, prompts, reward: spy,
      config: {
        iterations: 20, maxNewTokens: 3, numGenerations: 4, ppoEpochs: 2, numMiniBatches: 2, learningRate: 1e-2, klCoef: 0.01, seed: 3,
        outDir: outDir(), ...quiet,
      },
    });
    const { logHistory, train } = await trainer.train();
    expect(train.step).toBe(20 * 4);
    expect(logHistory).toHaveLength(20);
    for (const k of [
      'objective/kl', 'objective/entropy', 'objective/non_score_reward', 'objective/rlhf_reward', 'objective/scores', 'policy/approxkl_avg',
      'policy/clipfrac_avg', 'loss/policy_avg', 'loss/value_avg', 'val/ratio', 'val/clipfrac_avg', 'policy/entropy_avg', 'val/num_eos_tokens',
      'kl_coef', 'completion_length', 'learning_rate', 'episode',
    ]) expect(Number.isFinite(logHistory[0]![k] as number), k).toBe(true);
    expect(logHistory[0]!.kl_estimator).toBe('k1');
    // Batched: one call per iteration with the whole batch (2 prompts × 4 samples).
    expect(batches).toHaveLength(20);
    expect(batches.every((b) => b.completions.length === 8 && b.promptIndex.length === 8)).toBe(true);
    // KL of the first batch, by hand: mean over rows of Σ_t (log π − log π_ref) under the initial weights.
    const want = klByHand(initial, ref, batches[0]!, 'k1');
    expectClose(logHistory[0]!['objective/kl'] as number, want.reduce((a, b) => a + b, 0) / want.length, 1e-4);
    expectClose(logHistory[0]!['objective/non_score_reward'] as number, -0.01 * (logHistory[0]!['objective/kl'] as number), 1e-6);
    const [before, after] = firstLast(logHistory.map((r) => r['objective/scores'] as number));
    expect(after).toBeGreaterThan(before + 0.25);
    trainer.dispose(); policy.dispose(); initial.dispose(); ref.dispose();
  });

  it('subtracts the missing-EOS penalty from completions without a stop token, and frees what it made', async () => {
    manualSeed(5);
    const live = memory().tensors;
    const policy = tinyGPT();
    const trainer = new PPOTrainer({
      policy, prompts, reward: ({ completions }) => completions.map(() => 0),
      config: { iterations: 2, maxNewTokens: 3, numGenerations: 8, ppoEpochs: 1, stopTokens: [EOS], missingEosPenalty: 2, outDir: outDir(), ...quiet },
    });
    const { logHistory } = await trainer.train();
    for (const r of logHistory) {
      const eos = r['val/num_eos_tokens'] as number;
      expect(eos).toBeLessThan(16);
      expectClose(r['objective/scores'] as number, (-2 * (16 - eos)) / 16, 1e-6);
    }
    trainer.dispose(); policy.dispose();
    expect(memory().tensors).toBe(live);
  });

  it('resumes from a checkpoint exactly, adaptive KL coefficient included', async () => {
    const run = async (dir: string, iterations: number, resume: boolean) => {
      manualSeed(21);
      const policy = tinyGPT();
      const trainer = new PPOTrainer({
        policy, prompts, reward,
        config: {
          iterations, maxNewTokens: 3, numGenerations: 2, ppoEpochs: 2, learningRate: 1e-2, klCoef: new AdaptiveKLController(0.1, 0.01, 10),
          seed: 4, outDir: dir, resume, ...quiet,
        },
      });
      const r = await trainer.train();
      const weights = read(policy.lmHead.weight);
      const out = { r, weights, klCoef: trainer.klController.value };
      trainer.dispose(); policy.dispose();
      return out;
    };
    const whole = await run(outDir(), 4, false);
    const dir = outDir();
    const first = await run(dir, 2, false);
    const resumed = await run(dir, 4, true);
    expect(first.klCoef).not.toBe(0.1);
    expect(resumed.r.train.startStep).toBe(2 * 2);
    expect(resumed.weights).toEqual(whole.weights);
    expect(resumed.klCoef).toBe(whole.klCoef);
    expect(resumed.r.logHistory.map((x) => x['objective/scores'])).toEqual(whole.r.logHistory.map((x) => x['objective/scores']));
  });
});

describe('GRPOTrainer', () => {
  it('raises the reward of combined reward functions, logs each component and the k3 KL in nats per sequence', async () => {
    manualSeed(11);
    const policy = tinyGPT();
    const initial = createReferenceModel(policy);
    const batches: RewardBatch[] = [];
    const combined = combineRewards([
      { name: 'target', weight: 0.8, fn: (_p, c) => targetRate(c) },
      { name: 'short', weight: 0.2, fn: ({ completions }: RewardBatch) => completions.map((c) => (c.length <= 3 ? 1 : 0)), batched: true },
    ]);
    const spy: BatchRewardFn = (b) => { batches.push(b); return combined(b); };
    manualSeed(98);
    const ref = tinyGPT();
    const trainer = new GRPOTrainer({
      policy, ref, prompts, reward: spy,
      config: { iterations: 30, maxNewTokens: 3, numGenerations: 4, beta: 0.01, learningRate: 2e-2, seed: 1, outDir: outDir(), ...quiet },
    });
    const { logHistory } = await trainer.train();
    for (const k of ['reward', 'reward_std', 'kl', 'completion_length', 'clip_ratio', 'rewards/target/mean', 'rewards/short/mean', 'loss', 'frac_reward_zero_std']) {
      expect(Number.isFinite(logHistory[0]![k] as number), k).toBe(true);
    }
    expect(logHistory[0]!.kl_estimator).toBe('k3');
    expect(batches.every((b) => b.completions.length === 8)).toBe(true);
    const r0 = logHistory[0]!;
    expectClose(r0.reward as number, 0.8 * (r0['rewards/target/mean'] as number) + 0.2 * (r0['rewards/short/mean'] as number), 1e-6);
    const want = klByHand(initial, ref, batches[0]!, 'k3');
    expectClose(r0.kl as number, want.reduce((a, b) => a + b, 0) / want.length, 1e-4);
    const [before, after] = firstLast(logHistory.map((r) => r['rewards/target/mean'] as number));
    expect(after).toBeGreaterThan(before + 0.25);
    trainer.dispose(); policy.dispose(); initial.dispose(); ref.dispose();
  });

  it('resumes from a checkpoint exactly', async () => {
    const run = async (dir: string, iterations: number, resume: boolean) => {
      manualSeed(31);
      const policy = tinyGPT();
      const trainer = new GRPOTrainer({
        policy, prompts, reward, config: { iterations, maxNewTokens: 3, numGenerations: 4, numIterations: 2, learningRate: 1e-2, seed: 2, outDir: dir, resume, ...quiet },
      });
      const r = await trainer.train();
      const weights = read(policy.lmHead.weight);
      trainer.dispose(); policy.dispose();
      return { r, weights };
    };
    const whole = await run(outDir(), 4, false);
    const dir = outDir();
    await run(dir, 2, false);
    const resumed = await run(dir, 4, true);
    expect(resumed.r.train.startStep).toBe(4);
    expect(resumed.weights).toEqual(whole.weights);
    expect(resumed.r.logHistory.map((x) => x.reward)).toEqual(whole.r.logHistory.map((x) => x.reward));
  });
});

describe('rewards', () => {
  it('combineRewards sums weighted components and returns each one', async () => {
    const batch: RewardBatch = { prompts: [[1], [2]], completions: [[5, 5], [3]], promptIndex: [0, 1] };
    const r = await combineRewards([
      { name: 'quality', weight: 0.5, fn: (_p, c) => c.length },
      { name: 'relevance', weight: 0.3, fn: async (p) => p[0]! },
      { name: 'safety', weight: 0.2, fn: () => [1, 0], batched: true },
    ])(batch);
    expect(Array.isArray(r)).toBe(false);
    const { scores, components } = r as { scores: number[]; components: Record<string, number[]> };
    expectClose(scores, [0.5 * 2 + 0.3 * 1 + 0.2, 0.5 * 1 + 0.3 * 2]);
    expect(components).toEqual({ quality: [2, 1], relevance: [1, 2], safety: [1, 0] });
    expect(await perCompletion((_p, c) => c.length)(batch)).toEqual([2, 1]);
  });

  it('missingEosPenalty subtracts the penalty where no EOS was emitted', () => {
    expect(missingEosPenalty([1, 1, 0.5], [[3, EOS], [3, 4], []], [EOS], 1)).toEqual([1, 0, -0.5]);
  });

  it('rewardModelScorer scores a batch in one forward per chunk, as the model does row by row', async () => {
    manualSeed(3);
    const rm = new RewardModel(tinyGPT(), { padTokenId: 0 });
    let calls = 0;
    const forward = rm.forward.bind(rm);
    rm.forward = (idx, mask) => { calls++; return forward(idx, mask); };
    const batch: RewardBatch = { prompts: [[1, 2], [3], [4, 4, 4]], completions: [[5], [6, 6, 6], [7]], promptIndex: [0, 1, 2] };
    const scores = await rewardModelScorer(rm)(batch) as number[];
    expect(calls).toBe(1);
    const one = batch.prompts.map((p, i) => {
      const row = [...p, ...batch.completions[i]!];
      const out = noGrad(() => forward(tensor(Int32Array.from(row), { shape: [1, row.length], dtype: 'int32' })));
      return read(out)[0]!;
    });
    expectClose(scores, one, 1e-5);
    calls = 0;
    expectClose(await rewardModelScorer(rm, { batchSize: 2 })(batch) as number[], one, 1e-5);
    expect(calls).toBe(2);
    rm.dispose();
  });

  it('sequenceKL sums the per-token estimate over the mask (nats per sequence)', () => {
    const lp = f32([[-1, -2, -0.5], [-0.1, -0.2, -0.3]]);
    const ref = f32([[-1.5, -1, -0.5], [-0.3, -0.2, -9]]);
    const mask = f32([[1, 1, 0], [0, 1, 1]]);
    const k3 = (a: number, b: number) => Math.exp(b - a) - 1 - (b - a);
    expectClose(read(sequenceKL(lp, ref, mask, 'k1')), [(-1 + 1.5) + (-2 + 1), 0 + (-0.3 + 9)]);
    expectClose(read(sequenceKL(lp, ref, mask, 'k3')), [k3(-1, -1.5) + k3(-2, -1), k3(-0.2, -0.2) + k3(-0.3, -9)], 1e-4);
  });
});

describe('argument checks of the trainers and reward helpers', () => {
  it('throw typed errors naming the API and the argument', async () => {
    const gpt = tinyGPT();
    const dir = outDir();
    const base = { iterations: 1, maxNewTokens: 2, outDir: dir, ...quiet };
    const loopKinds = {
      iterations: 'size', maxNewTokens: 'posInt', promptsPerBatch: 'posInt', temperature: 'positive', topK: nullable('posInt'), topP: nullable('positive'),
      stopTokens: { bad: [3, [-1], ['a']] }, padToken: 'size', missingEosPenalty: nullable('finite'), learningRate: 'positive', maxGradNorm: nullable('positive'),
      seed: 'size', outDir: { bad: [null, 3, ''] }, resume: 'bool', evalEvery: 'posInt', printEvery: 'size', evalMetrics: 'fn',
    } as const;
    const cases: Case[] = [
      {
        name: 'PPOTrainer', call: (i) => new PPOTrainer(i).dispose(),
        args: [['input', { policy: gpt, prompts, reward, config: { ...base, stopTokens: [EOS], missingEosPenalty: 1 } }, {
          policy: { bad: [3, {}] }, prompts: { bad: [[], [[]], [[-1]], 3] }, reward: 'fn',
          config: {
            ...loopKinds, numGenerations: 'posInt', ppoEpochs: 'posInt', numMiniBatches: 'posInt', clipRange: 'nonNeg', clipRangeValue: nullable('nonNeg'),
            vfCoef: 'nonNeg', entCoef: 'nonNeg', gamma: 'prob', lam: 'prob', klCoef: { bad: [-1, NaN, '0.1', {}] }, klEstimator: 'enum', whitenRewards: 'bool', whitenAdvantages: 'bool',
          },
        }]],
        extra: [['missingEosPenalty', [{ policy: gpt, prompts, reward, config: { ...base, missingEosPenalty: 1 } }]],
          ['maxNewTokens', [{ policy: gpt, prompts, reward, config: { ...base, maxNewTokens: 8 } }]],
          ['best', [{ policy: gpt, prompts, reward, config: { ...base, evalMetrics: () => ({}) } }]]],
      },
      {
        name: 'GRPOTrainer', call: (i) => new GRPOTrainer(i).dispose(),
        args: [['input', { policy: gpt, prompts, reward, config: base }, {
          policy: { bad: [3, {}] }, reward: 'fn',
          config: { ...loopKinds, numGenerations: { bad: [1, 1.5, '4'] }, beta: 'nonNeg', epsilon: 'nonNeg', epsilonHigh: 'nonNeg', lossType: 'enum', scaleRewards: 'bool', numIterations: 'posInt' },
        }]],
        extra: [['beta', [{ policy: gpt, ref: null, prompts, reward, config: { ...base, beta: 0.1 } }]]],
      },
      {
        name: 'combineRewards', call: combineRewards,
        args: [['components', [{ name: 'a', weight: 1, fn: () => 1 }], { bad: [[], 3, [{ name: '', weight: 1, fn: () => 1 }], [{ name: 'a', weight: NaN, fn: () => 1 }], [{ name: 'a', weight: 1, fn: 3 }], [{ name: 'a', weight: 1, fn: () => 1, x: 1 }]] }]],
      },
      {
        name: 'missingEosPenalty', call: missingEosPenalty,
        args: [['scores', [1], { bad: [3, [NaN]] }], ['completions', [[1]], { bad: [3, [], [3]] }], ['eosTokens', [EOS], { bad: [[], [-1], 3] }], ['penalty', 1, 'finite']],
      },
      { name: 'rewardModelScorer', call: rewardModelScorer, args: [['model', new RewardModel(tinyGPT()), { bad: [3, gpt] }], ['options', { batchSize: 2, padToken: 0 }, { batchSize: 'posInt', padToken: 'size' }]] },
      { name: 'sequenceKL', call: sequenceKL, args: [['logProbs', f32([[0.1]]), 'tensor'], ['refLogProbs', f32([[0.2]]), 'tensor'], ['mask', f32([[1]]), 'tensor'], ['estimator', 'k3', 'enum']] },
      { name: 'perCompletion', call: perCompletion, args: [['fn', () => 1, 'fn']] },
    ];
    const t = await checkArguments(cases);
    expect(t.failures).toEqual([]);
    expect(t.namedArg).toBe(t.tried);
    gpt.dispose();
  });

  it('a reward that returns the wrong number of scores is a typed error naming the trainer', async () => {
    const policy = tinyGPT();
    const trainer = new GRPOTrainer({ policy, prompts, reward: () => [1], config: { iterations: 1, maxNewTokens: 2, outDir: outDir(), ...quiet } });
    await expect(trainer.train()).rejects.toThrow(/GRPOTrainer: the reward's scores must hold 8 numbers/);
    trainer.dispose(); policy.dispose();
  });
});
