// Reinforcement fine-tuning with a programmatic reward and GRPO: a small character GPT learns
// two-digit addition by SFT from imperfect demonstrations, then GRPOTrainer improves it with a
// weighted sum of reward functions (rewards.ts). Reports held-out accuracy (exact answers) and
// each reward component before and after.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceName } from '@webgrad/core';
import { GRPOTrainer, createReferenceModel, mean, seededRandom, type RLTrainResult } from '@webgrad/rl';
import { lineChart, type ProgressStream } from '@webgrad/train';
import { ADD_TASK, EOS, readPromptJsonl, taskPrompts, taskTokenizer } from '../shared/checkable_tasks.js';
import { samplePolicy } from '../shared/policy_eval.js';
import { trainTaskPolicy } from '../shared/task_policy.js';
import { REWARD_WEIGHTS, additionReward, rewardChecks } from './rewards.js';

export interface RftGrpoOptions {
  device: DeviceName;
  seed: number;
  out: string;
  /** A JSONL file of { "prompt": "..." } records to train on (default: generated addition prompts). */
  data?: string;
  /** Continue the GRPO stage from its latest checkpoint in <out>/grpo. */
  resume: boolean;
  sftExamples: number;
  sftNoise: number;
  sftSteps: number;
  iterations: number;
  promptsPerBatch: number;
  numGenerations: number;
  lr: number;
  beta: number;
  evalPrompts: number;
  evalEvery: number;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
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
  const stream = o.stream ?? process.stdout;
  const say = (s: string) => { stream.write(`${s}\n`); };
  const task = ADD_TASK;
  const tok = taskTokenizer();
  const eos = tok.encode(EOS)[0]!;
  const maxNewTokens = task.maxCompletion;
  mkdirSync(o.out, { recursive: true });
  const quiet = { stream: o.stream, tty: o.tty, fsync: o.fsync };

  const sft = await trainTaskPolicy({
    task, tokenizer: tok, device: o.device, seed: o.seed, examples: o.sftExamples, noise: o.sftNoise, steps: o.sftSteps, batchSize: 32, lr: 3e-3,
    ...MODEL, dir: join(o.out, 'sft'), say, ...quiet,
  });
  const policy = sft.model;
  const train = o.data ? readPromptJsonl(o.data, tok) : taskPrompts(task, 2048, seededRandom(o.seed + 11));
  const held = taskPrompts(task, o.evalPrompts, seededRandom(o.seed + 12));
  say(`prompts: ${train.length} for training (${o.data ?? 'generated'}), ${held.length} held out`);
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
