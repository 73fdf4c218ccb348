// `pnpm example rft-grpo [flags]`: reinforcement fine-tuning of a small GPT on addition with GRPO
// and a weighted sum of reward functions. See --help.
import { pathToFileURL } from 'node:url';
import { UsageError, type FlagSpecs } from '../shared/args.js';
import { flagName, runRlExample } from '../shared/rl_task.js';
import { DEFAULTS, rftGrpo, type RftGrpoOptions, type RftGrpoResult } from './rft_grpo.js';

const d = DEFAULTS;
export const FLAGS: FlagSpecs = {
  'device': { type: 'string', help: 'where to train', choices: ['cpu', 'webgpu', 'auto'], default: 'cpu' },
  'seed': { type: 'int', help: 'seed of the data, the model and the sampling', default: d.seed },
  'out': { type: 'string', help: 'output directory (sft/, grpo/, rewards.svg)', default: d.out },
  'data': { type: 'string', help: 'JSONL file of {"prompt": "..."} records to train on, e.g. {"prompt": "23+45="}', default: 'generated' },
  'resume': { type: 'boolean', help: 'continue the GRPO stage from its latest checkpoint' },
  'sft-steps': { type: 'int', help: 'SFT steps of the policy (a matching checkpoint in <out>/sft is reused)', default: d.sftSteps },
  'sft-noise': { type: 'number', help: 'share of wrong SFT demonstrations', default: d.sftNoise },
  'iterations': { type: 'int', help: 'GRPO iterations (each samples a batch, then one update)', default: d.iterations },
  'prompts-per-batch': { type: 'int', help: 'prompts per GRPO iteration', default: d.promptsPerBatch },
  'num-generations': { type: 'int', help: 'completions per prompt, the group size G (>= 2)', default: d.numGenerations },
  'lr': { type: 'number', help: 'learning rate', default: d.lr },
  'beta': { type: 'number', help: 'KL coefficient to the SFT reference (0: none)', default: d.beta },
  'eval-prompts': { type: 'int', help: 'held-out prompts for the accuracy before, during and after', default: d.evalPrompts },
  'eval-every': { type: 'int', help: 'greedy held-out accuracy every N iterations (picks the best checkpoint)', default: d.evalEvery },
};

const SUMMARY = 'Reinforcement fine-tuning with GRPO: SFT a small GPT on two-digit addition, then GRPO with the reward 0.5·correct + 0.3·close + 0.2·format; prints accuracy and each reward component before and after.';

/** Check the numeric ranges the flag parser cannot. */
function checkRanges(o: RftGrpoOptions): void {
  for (const k of ['iterations', 'promptsPerBatch', 'evalPrompts', 'evalEvery', 'sftSteps', 'lr'] as const) if (!(o[k] > 0)) throw new UsageError(`${flagName(k)} must be > 0, got ${o[k]}`);
  if (!(o.numGenerations >= 2)) throw new UsageError(`--num-generations must be >= 2, got ${o.numGenerations}`);
  if (!(o.beta >= 0)) throw new UsageError(`--beta must be >= 0, got ${o.beta}`);
  if (!(o.sftNoise >= 0 && o.sftNoise < 1)) throw new UsageError(`--sft-noise must be in [0, 1), got ${o.sftNoise}`);
}

export async function main(argv: readonly string[], extra: Partial<RftGrpoOptions> = {}): Promise<RftGrpoResult | null> {
  return runRlExample(argv, { command: 'pnpm example rft-grpo', summary: SUMMARY, flags: FLAGS, defaults: DEFAULTS, extra, checkRanges }, rftGrpo);
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
