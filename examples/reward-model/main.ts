// `pnpm example reward-model [flags]`: a Bradley–Terry reward model — the instruction-tuned
// character GPT (sft's checkpoint in --sft, made there first if missing) with a scalar head —
// trained on generated preference pairs for the sort task or a JSONL file of
// { prompt, chosen, rejected } records; reports held-out accuracy and margin and, on generated
// data, how well it ranks the sft policy's own sampled answers (best-of-n).
import { pathToFileURL } from 'node:url';
import { parseFlags, type FlagSpecs } from '../shared/args.js';
import { runExample } from '../shared/cli.js';
import { DEFAULT_OPTIONS, rewardModelExample, type RewardModelOptions, type RewardModelResult } from './reward_model.js';

const d = DEFAULT_OPTIONS;
export const FLAGS: FlagSpecs = {
  'device': { type: 'string', help: 'where to train', choices: ['cpu', 'webgpu', 'auto'], default: d.device as string },
  'sft': { type: 'string', help: 'sft output directory (or checkpoint directory) whose model is the trunk; instruction-tuned there first if missing', default: d.sft },
  'data': { type: 'string', help: 'JSONL file of {prompt, chosen, rejected} records', default: 'generated sort pairs (written to <out>/data/)' },
  'eval-data': { type: 'string', help: 'JSONL file of held-out records', default: '10% of --data, or generated held-out pairs' },
  'prompt-template': { type: 'string', help: "--data prompts as sft's instruction (\"Instruction:\\n<prompt>\\nResponse:\\n\") or as they are", choices: ['sft', 'none'], default: d.promptTemplate },
  'train-pairs': { type: 'int', help: 'generated training pairs', default: d.trainPairs },
  'eval-pairs': { type: 'int', help: 'generated held-out pairs', default: d.evalPairs },
  'epochs': { type: 'int', help: 'passes over the training pairs', default: d.epochs },
  'batch-size': { type: 'int', help: 'pairs per step', default: d.batchSize },
  'lr': { type: 'number', help: 'peak learning rate (linear decay to 0)', default: d.lr },
  'warmup': { type: 'int', help: 'linear warmup steps', default: d.warmup },
  'center-rewards': { type: 'number', help: 'weight of mean((r_chosen + r_rejected)²), keeping rewards near 0 (0: off)', default: d.centerRewards },
  'sample-prompts': { type: 'int', help: 'held-out prompts whose sampled answers are ranked (best-of-n; 0: none)', default: d.samplePrompts },
  'samples-per-prompt': { type: 'int', help: 'sampled answers per prompt (the n of best-of-n)', default: d.samplesPerPrompt },
  'temperature': { type: 'number', help: 'sampling temperature', default: d.temperature },
  'seed': { type: 'int', help: 'seed of the library generator, the shuffles and the generated pairs', default: d.seed },
  'out': { type: 'string', help: 'output directory (data/, checkpoints/, metrics.jsonl, loss.svg, results.json)', default: d.out },
  'resume': { type: 'boolean', help: 'continue from the latest checkpoint in --out' },
};

export function optionsFromArgv(argv: readonly string[]): RewardModelOptions & { help?: boolean } {
  const flags = parseFlags(argv, FLAGS);
  const opts: RewardModelOptions & { help?: boolean } = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) (opts as unknown as Record<string, unknown>)[k] = v;
  return opts;
}

export async function main(argv: readonly string[]): Promise<RewardModelResult | null> {
  const title = 'pnpm example reward-model';
  const summary = 'Train a Bradley–Terry reward model on preference pairs and measure held-out accuracy and margin.';
  return runExample(argv, { command: title, summary, flags: FLAGS, parse: optionsFromArgv }, async (opts: RewardModelOptions & { help?: boolean }) => {
    const { help: _help, ...run } = opts;
    return await rewardModelExample(run);
  });
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
