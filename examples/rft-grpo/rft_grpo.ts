// Reinforcement fine-tuning with a programmatic reward and GRPO: a small character GPT learns
// two-digit addition by SFT from imperfect demonstrations, then GRPOTrainer improves it with a
// weighted sum of reward functions (rewards.ts). Reports held-out accuracy (exact answers) and
// each reward component before and after.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GRPOTrainer, createReferenceModel, mean, type RLTrainResult } from '@webgrad/rl';
import { lineChart } from '@webgrad/train';
import { ADD_TASK } from '../shared/checkable_tasks.js';
import { samplePolicy } from '../shared/policy_eval.js';
import { rlTaskPrompts, setUpRlTask, type RlTaskOptions } from '../shared/rl_task.js';
import { REWARD_WEIGHTS, additionReward, rewardChecks } from './rewards.js';

/** The shared options (`data`: prompts to train on, default generated addition prompts) and GRPO's. */
export interface RftGrpoOptions extends RlTaskOptions {
  /** Continue the GRPO stage from its latest checkpoint in <out>/grpo. */
  resume: boolean;
  iterations: number;
  promptsPerBatch: number;
  numGenerations: number;
  lr: number;
  beta: number;
  evalEvery: number;
}

export const DEFAULTS: RftGrpoOptions = {
  device: 'cpu', seed: 1, out: 'runs/rft-grpo', resume: false,
  sftExamples: 4000, sftNoise: 0.3, sftSteps: 300,
  iterations: 200, promptsPerBatch: 16, numGenerations: 8, lr: 5e-4, beta: 0.04, evalPrompts: 256, evalEvery: 25,
};

const MODEL = { nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 12 } as const;

/** What the summary compares before and after: accuracy and each reward component. */
export interface Measured {
  /** Exact answers, greedy decoding. */
  accuracyGreedy: number;
  /** Exact answers, sampled at temperature 1. */
  accuracySampled: number;
  /** Mean of each reward component and of the weighted reward on the sampled completions. */
  rewards: Record<string, number>;
}

export interface RftGrpoResult { before: Measured; after: Measured; grpo: RLTrainResult; seconds: number }

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : 'n/a');

export async function rftGrpo(o: RftGrpoOptions): Promise<RftGrpoResult> {
  const t0 = performance.now();
  const task = ADD_TASK;
  const setup = await setUpRlTask(task, o, MODEL);
  const { say, tok, eos, maxNewTokens, quiet } = setup;
  const policy = setup.sft.model;
  const { train, held } = rlTaskPrompts(task, o, 2048, setup);
  const checks = rewardChecks(task);
  const measure = async (): Promise<Measured> => {
    const greedy = await samplePolicy(policy, tok, task, held, { maxNewTokens, greedy: true });
    const sampled = await samplePolicy(policy, tok, task, held, { maxNewTokens, seed: o.seed + 100 });
    const rewards: Record<string, number> = {};
    let total = 0;
    for (const [name, f] of Object.entries(checks)) {
      rewards[name] = mean(held.map((p, i) => f(p, sampled.completions[i]!)));
      total += REWARD_WEIGHTS[name as keyof typeof REWARD_WEIGHTS] * rewards[name]!;
    }
    rewards.reward = total;
    return { accuracyGreedy: greedy.propertyRate, accuracySampled: sampled.propertyRate, rewards };
  };
  const before = await measure();
  say(`before GRPO: accuracy ${pct(before.accuracyGreedy)} (greedy), ${pct(before.accuracySampled)} (sampled)`);

  const ref = createReferenceModel(policy);
  const trainer = new GRPOTrainer({
    policy, ref, prompts: train.map((p) => Array.from(tok.encode(p))), reward: additionReward(task, tok),
    config: {
      iterations: o.iterations, promptsPerBatch: Math.min(o.promptsPerBatch, train.length), numGenerations: o.numGenerations, maxNewTokens,
      stopTokens: [eos], padToken: eos, beta: o.beta, learningRate: o.lr, seed: o.seed, outDir: join(o.out, 'grpo'), resume: o.resume,
      evalEvery: o.evalEvery, best: { metric: 'accuracy_greedy', mode: 'max' },
      evalMetrics: async () => ({ accuracy_greedy: (await samplePolicy(policy, tok, task, held, { maxNewTokens, greedy: true })).propertyRate }),
      printEvery: Math.max(1, Math.round(o.iterations / 10)), ...quiet, handleSigint: true,
    },
  });
  const grpo = await trainer.train();
  const after = await measure();

  const h = grpo.logHistory;
  writeFileSync(join(o.out, 'rewards.svg'), lineChart([
    { name: `reward (weighted sum)`, points: h.map((r) => [r.iteration as number, r.reward as number]) },
    ...Object.keys(REWARD_WEIGHTS).map((k) => ({ name: `${k} (×${REWARD_WEIGHTS[k as keyof typeof REWARD_WEIGHTS]})`, points: h.map((r) => [r.iteration as number, r[`rewards/${k}/mean`] as number] as [number, number]) })),
  ], { title: 'GRPO: mean reward and its components per iteration', xLabel: 'GRPO iteration', yLabel: 'mean over the batch' }));

  const seconds = (performance.now() - t0) / 1000;
  const row = (name: string, b: string, a: string) => `| ${name} | ${b} | ${a} |`;
  say([
    '',
    `| held-out addition prompts (${held.length}) | before (SFT) | after GRPO |`,
    '| --- | --- | --- |',
    row('accuracy, greedy decoding', pct(before.accuracyGreedy), pct(after.accuracyGreedy)),
    row('accuracy, sampled (temperature 1)', pct(before.accuracySampled), pct(after.accuracySampled)),
    ...Object.entries(REWARD_WEIGHTS).map(([k, w]) => row(`reward component ${k} (weight ${w})`, before.rewards[k]!.toFixed(3), after.rewards[k]!.toFixed(3))),
    row('reward (weighted sum)', before.rewards.reward!.toFixed(3), after.rewards.reward!.toFixed(3)),
    '',
    `GRPO: ${grpo.train.step} updates (${o.promptsPerBatch} prompts × ${o.numGenerations} samples each) in ${grpo.train.wallSeconds.toFixed(1)} s; KL to the reference at the end ${(h.at(-1)?.kl as number | undefined)?.toFixed(3) ?? 'n/a'} nats per sequence (k3); whole run ${seconds.toFixed(1)} s on ${o.device}`,
    `plot: ${join(o.out, 'rewards.svg')}   metrics: ${grpo.trainMetricsPath}`,
  ].join('\n'));
  trainer.dispose();
  ref.dispose();
  policy.dispose();
  return { before, after, grpo, seconds };
}
