// `pnpm example rlhf-ppo [flags]`: RLHF with PPO against a learned reward model, on a task whose
// answers a program can check (sort the prompt's digits). See --help.
import { pathToFileURL } from 'node:url';
import { UsageError, type FlagSpecs } from '../shared/args.js';
import { flagName, runRlExample } from '../shared/rl_task.js';
import { DEFAULTS, rlhfPpo, type RlhfPpoOptions, type RlhfPpoResult } from './rlhf_ppo.js';

const d = DEFAULTS;
export const FLAGS: FlagSpecs = {
  'device': { type: 'string', help: 'where to train', choices: ['cpu', 'webgpu', 'auto'], default: 'cpu' },
  'seed': { type: 'int', help: 'seed of the data, the models and the sampling', default: d.seed },
  'out': { type: 'string', help: 'output directory (sft/, reward-model/, ppo/, training.svg)', default: d.out },
  'data': { type: 'string', help: 'JSONL file of {"prompt": "..."} records to train on, e.g. {"prompt": "3142:"}', default: 'generated' },
  'resume': { type: 'boolean', help: 'continue the PPO stage from its latest checkpoint' },
  'sft-steps': { type: 'int', help: 'SFT steps of the policy (a matching checkpoint in <out>/sft is reused)', default: d.sftSteps },
  'sft-noise': { type: 'number', help: 'share of wrong SFT demonstrations', default: d.sftNoise },
  'rm-steps': { type: 'int', help: 'reward-model steps (a matching checkpoint in <out>/reward-model is reused)', default: d.rmSteps },
  'hard-negatives': { type: 'boolean', help: 'train the reward model on hard negatives too (--hard-negatives=false to see reward hacking)', default: d.hardNegatives },
  'iterations': { type: 'int', help: 'PPO iterations (each samples a batch, then updates)', default: d.iterations },
  'prompts-per-batch': { type: 'int', help: 'prompts per PPO iteration', default: d.promptsPerBatch },
  'num-generations': { type: 'int', help: 'completions per prompt', default: d.numGenerations },
  'lr': { type: 'number', help: 'PPO learning rate (policy and value model)', default: d.lr },
  'kl-coef': { type: 'number', help: 'KL penalty coefficient β (0: no KL control)', default: d.klCoef },
  'kl-target': { type: 'number', help: 'adapt β towards this KL in nats per sequence (0: fixed β)', default: d.klTarget },
  'missing-eos-penalty': { type: 'number', help: 'subtracted from the score of a completion without EOS (0: off)', default: d.missingEosPenalty },
  'ppo-epochs': { type: 'int', help: 'passes over each batch', default: d.ppoEpochs },
  'num-mini-batches': { type: 'int', help: 'minibatches per pass', default: d.numMiniBatches },
  'eval-prompts': { type: 'int', help: 'held-out prompts measured before, during and after PPO', default: d.evalPrompts },
  'eval-every': { type: 'int', help: 'greedy held-out property rate every N iterations (picks the best checkpoint)', default: d.evalEvery },
};

const SUMMARY = 'RLHF with PPO: SFT a small GPT on digit sorting, train a reward model on preference pairs (with hard negatives), then PPO against it with a KL penalty and a missing-EOS penalty; plots reward, KL and the checkable property\'s rate.';

/** Check the numeric ranges the flag parser cannot. */
function checkRanges(o: RlhfPpoOptions): void {
  const positive = ['iterations', 'promptsPerBatch', 'numGenerations', 'ppoEpochs', 'numMiniBatches', 'evalPrompts', 'evalEvery', 'sftSteps', 'rmSteps', 'lr'] as const;
  for (const k of positive) if (!(o[k] > 0)) throw new UsageError(`${flagName(k)} must be > 0, got ${o[k]}`);
  for (const k of ['klCoef', 'klTarget', 'missingEosPenalty'] as const) if (!(o[k] >= 0)) throw new UsageError(`${flagName(k)} must be >= 0, got ${o[k]}`);
  if (!(o.sftNoise >= 0 && o.sftNoise < 1)) throw new UsageError(`--sft-noise must be in [0, 1), got ${o.sftNoise}`);
}

export async function main(argv: readonly string[], extra: Partial<RlhfPpoOptions> = {}): Promise<RlhfPpoResult | null> {
  return runRlExample(argv, { command: 'pnpm example rlhf-ppo', summary: SUMMARY, flags: FLAGS, defaults: DEFAULTS, extra, checkRanges }, rlhfPpo);
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
