// RLHF with PPO end to end on a task with a checkable answer (sort the prompt's digits):
//   1. SFT: a small character GPT learns the task from imperfect demonstrations (the policy, and
//      the frozen reference of the KL penalty);
//   2. a reward model learns from preference pairs, with hard negatives;
//   3. PPOTrainer optimises the policy against the reward model with a KL penalty to the
//      reference, the missing-EOS penalty and (optionally) an adaptive KL coefficient.
// The checkable property (the completion is the sorted digits + EOS) is never shown to PPO: it is
// measured alongside the reward-model score, so reward hacking — the score rising while the
// property does not — is visible in the plot and the summary. Turn the guards off to watch it
// (--hard-negatives=false --missing-eos-penalty 0 --kl-coef 0).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdaptiveKLController, PPOTrainer, createReferenceModel, mean, rewardModelScorer, type BatchRewardFn, type RLTrainResult } from '@webgrad/rl';
import { lineChart } from '@webgrad/train';
import { SORT_TASK, isCorrect } from '../shared/checkable_tasks.js';
import { samplePolicy, type PolicySample } from '../shared/policy_eval.js';
import { rlTaskPrompts, setUpRlTask, type RlTaskOptions } from '../shared/rl_task.js';
import { trainRewardModel } from './reward_model.js';

/** The shared options (`data`: prompts to train on, default generated sort prompts), the reward model's and PPO's. */
export interface RlhfPpoOptions extends RlTaskOptions {
  /** Continue the PPO stage from its latest checkpoint in <out>/ppo. */
  resume: boolean;
  rmPairs: number;
  rmSteps: number;
  hardNegatives: boolean;
  iterations: number;
  promptsPerBatch: number;
  numGenerations: number;
  lr: number;
  klCoef: number;
  /** Target KL (nats per sequence) of an adaptive coefficient (0: a fixed one). */
  klTarget: number;
  missingEosPenalty: number;
  ppoEpochs: number;
  numMiniBatches: number;
  evalEvery: number;
}

export const DEFAULTS: RlhfPpoOptions = {
  device: 'cpu', seed: 1, out: 'runs/rlhf-ppo', resume: false,
  sftExamples: 4000, sftNoise: 0.4, sftSteps: 250, rmPairs: 4000, rmSteps: 300, hardNegatives: true,
  iterations: 30, promptsPerBatch: 32, numGenerations: 2, lr: 3e-4, klCoef: 0.2, klTarget: 0.5, missingEosPenalty: 1,
  ppoEpochs: 4, numMiniBatches: 2, evalPrompts: 256, evalEvery: 10,
};

/** The model shape of the policy, reference, reward and value models. */
const MODEL = { nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 16 } as const;

export interface RlhfPpoResult {
  before: PolicySample & { score: number; scoreOfWrong: number };
  after: PolicySample & { score: number; scoreOfWrong: number };
  greedy: { before: number; after: number };
  rewardModelAccuracy: { easy: number; hard: number };
  ppo: RLTrainResult;
  seconds: number;
}

const fmt = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : 'n/a');

export async function rlhfPpo(o: RlhfPpoOptions): Promise<RlhfPpoResult> {
  const t0 = performance.now();
  const task = SORT_TASK;
  const setup = await setUpRlTask(task, o, MODEL);
  const { say, tok, eos, maxNewTokens, quiet } = setup;
  const policy = setup.sft.model;
  const rm = await trainRewardModel({
    task, tokenizer: tok, policy, device: o.device, seed: o.seed, pairs: o.rmPairs, hardNegatives: o.hardNegatives, steps: o.rmSteps, batchSize: 32,
    lr: 1e-3, dir: join(o.out, 'reward-model'), say, ...quiet,
  });
  say(`reward model: held-out pairwise accuracy ${pct(rm.accuracy.easy)} on easy pairs, ${pct(rm.accuracy.hard)} on hard negatives`);

  const { train, held } = rlTaskPrompts(task, o, 1024, setup);
  const ref = createReferenceModel(policy);
  const score = rewardModelScorer(rm.model);
  const decode = (ids: readonly number[]) => tok.decode(ids);
  // The reward-model score is the reward; the checkable property rides along as a logged component.
  const reward: BatchRewardFn = async (batch) => {
    const scores = (await score(batch)) as number[];
    const property = batch.prompts.map((p, i) => (isCorrect(task, decode(p), decode(batch.completions[i]!)) ? 1 : 0));
    return { scores, components: { property } };
  };
  const measure = async (seed: number) => {
    const s = await samplePolicy(policy, tok, task, held, { maxNewTokens, seed, ref });
    const rows = { prompts: s.prompts.map((p) => Array.from(tok.encode(p))), completions: s.completions.map((c) => Array.from(tok.encode(c))), promptIndex: s.prompts.map((_, i) => i) };
    const scores = (await score(rows)) as number[];
    const wrong = scores.filter((_, i) => s.correct[i] === false);
    return { ...s, score: mean(scores), scoreOfWrong: wrong.length ? mean(wrong) : NaN };
  };
  const greedyRate = async () => (await samplePolicy(policy, tok, task, held, { maxNewTokens, greedy: true })).propertyRate;
  const before = await measure(o.seed + 100);
  const greedyBefore = await greedyRate();

  // An adaptive β may change by up to 5% per iteration (Ziegler et al.'s controller, horizon = 4 batches).
  const rowsPerIteration = Math.min(o.promptsPerBatch, train.length) * o.numGenerations;
  const trainer = new PPOTrainer({
    policy, ref, prompts: train.map((p) => Array.from(tok.encode(p))), reward,
    config: {
      iterations: o.iterations, promptsPerBatch: Math.min(o.promptsPerBatch, train.length), numGenerations: o.numGenerations, maxNewTokens,
      stopTokens: [eos], padToken: eos, missingEosPenalty: o.missingEosPenalty > 0 ? o.missingEosPenalty : null,
      klCoef: o.klCoef > 0 && o.klTarget > 0 ? new AdaptiveKLController(o.klCoef, o.klTarget, 4 * rowsPerIteration) : o.klCoef, learningRate: o.lr,
      ppoEpochs: o.ppoEpochs, numMiniBatches: o.numMiniBatches, seed: o.seed, outDir: join(o.out, 'ppo'), resume: o.resume,
      evalEvery: o.evalEvery, evalMetrics: async () => ({ property_rate_greedy: await greedyRate() }), best: { metric: 'property_rate_greedy', mode: 'max' },
      printEvery: Math.max(1, Math.round(o.iterations / 10)), ...quiet, handleSigint: true,
    },
  });
  const ppo = await trainer.train();
  const after = await measure(o.seed + 100);
  const greedyAfter = await greedyRate();

  const h = ppo.logHistory;
  const x = (r: (typeof h)[number]) => r.iteration as number;
  writeFileSync(join(o.out, 'training.svg'), lineChart([
    { name: 'mean reward-model score', points: h.map((r) => [x(r), r['objective/scores'] as number]) },
    { name: 'KL to reference (nats/seq)', points: h.map((r) => [x(r), r['objective/kl'] as number]) },
    { name: 'property rate (sorted + EOS)', points: h.map((r) => [x(r), r['rewards/property/mean'] as number]) },
  ], { title: 'RLHF with PPO: reward, KL and the checkable property per iteration', xLabel: 'PPO iteration', yLabel: 'value' }));

  say('\nsamples (held-out prompt → completion before / after):');
  for (let i = 0; i < 5; i++) say(`  ${held[i]} ${before.completions[i]!.padEnd(7)} → ${after.completions[i]}${after.correct[i] ? '  ✓' : ''}`);
  const seconds = (performance.now() - t0) / 1000;
  say([
    '',
    `| held-out prompts (${held.length}), sampled at temperature 1 | SFT policy | after PPO |`,
    '| --- | --- | --- |',
    `| mean reward-model score | ${fmt(before.score)} | ${fmt(after.score)} |`,
    `| property rate (sorted digits + EOS) | ${pct(before.propertyRate)} | ${pct(after.propertyRate)} |`,
    `| property rate, greedy decoding | ${pct(greedyBefore)} | ${pct(greedyAfter)} |`,
    `| completions that emit the EOS | ${pct(before.eosRate)} | ${pct(after.eosRate)} |`,
    `| reward-model score of wrong completions | ${fmt(before.scoreOfWrong)} | ${fmt(after.scoreOfWrong)} |`,
    `| KL to the reference (nats per sequence, k1) | ${fmt(before.kl)} | ${fmt(after.kl)} |`,
    '',
    `reward model: ${pct(rm.accuracy.easy)} / ${pct(rm.accuracy.hard)} held-out accuracy on easy / hard pairs (hard negatives ${o.hardNegatives ? 'on' : 'off'}); guards: missing-EOS penalty ${o.missingEosPenalty || 'off'}, ${o.klCoef > 0 ? `KL coefficient ${o.klCoef}${o.klTarget > 0 ? ` adapted towards ${o.klTarget} nats per sequence (ended at ${trainer.klController.value.toFixed(3)})` : ''}` : 'no KL penalty'}`,
    `PPO: ${ppo.train.step} updates in ${ppo.train.wallSeconds.toFixed(1)} s; whole run ${seconds.toFixed(1)} s on ${o.device}`,
    `plot: ${join(o.out, 'training.svg')}   metrics: ${ppo.trainMetricsPath}`,
  ].join('\n'));
  trainer.dispose();
  ref.dispose();
  rm.model.dispose();
  policy.dispose();
  return { before, after, greedy: { before: greedyBefore, after: greedyAfter }, rewardModelAccuracy: rm.accuracy, ppo, seconds };
}
