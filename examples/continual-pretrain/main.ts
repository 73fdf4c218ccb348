// `pnpm example continual-pretrain [flags]`: continue pre-training the character GPT of
// pretrain-gpt on a new text domain (generated recipes) at a smaller learning rate, with and
// without replaying the old domain, and compare how much of the old domain each run forgets.
// Starts from pretrain-gpt's checkpoint in --pretrained (pre-training one there first if missing).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseFlags, type FlagSpecs } from '../shared/args.js';
import { runExample } from '../shared/cli.js';
import { DEFAULT_OPTIONS, continualPretrain, type ContinualOptions, type ContinualResult } from './continual.js';

const d = DEFAULT_OPTIONS;
export const FLAGS: FlagSpecs = {
  'device': { type: 'string', help: 'where to train', choices: ['cpu', 'webgpu', 'auto'], default: d.device as string },
  'pretrained': { type: 'string', help: "pretrain-gpt's output directory (or a checkpoint directory) to start from", default: d.pretrained },
  'pretrain-steps': { type: 'int', help: 'steps of the pre-training run made when --pretrained holds no checkpoint', default: d.pretrainSteps },
  'old-data': { type: 'string', help: 'UTF-8 text the model was pre-trained on (the old domain)', default: 'built-in generated verse' },
  'new-data': { type: 'string', help: 'UTF-8 text of the new domain', default: 'generated recipes' },
  'new-chars': { type: 'int', help: 'characters of generated recipes', default: d.newChars },
  'new-share': { type: 'number', help: 'share of new-domain windows in the mixed run (the rest replays the old domain)', default: d.newShare },
  'steps': { type: 'int', help: 'optimizer steps of each run', default: d.steps },
  'lr': { type: 'number', help: 'peak learning rate (pretrain-gpt uses 2e-3)', default: d.lr },
  'min-lr': { type: 'number', help: 'learning rate at the end of the cosine decay', default: d.minLr },
  'warmup': { type: 'int', help: 'linear warmup steps', default: d.warmup },
  'batch-size': { type: 'int', help: 'windows per step', default: d.batchSize },
  'weight-decay': { type: 'number', help: 'AdamW weight decay (matrices only)', default: d.weightDecay },
  'grad-clip': { type: 'number', help: 'clip the global gradient norm (0: off)', default: d.gradClip },
  'eval-interval': { type: 'int', help: 'evaluate both domains every N steps', default: d.evalInterval },
  'eval-batches': { type: 'int', help: 'validation batches per domain per evaluation (fixed windows)', default: d.evalBatches },
  'seed': { type: 'int', help: 'seed of the library generator, the data mix and the recipes', default: d.seed },
  'out': { type: 'string', help: 'output directory (mixed/, new-only/, forgetting.svg, results.json)', default: d.out },
};

type CliOptions = ContinualOptions & { help?: boolean; oldData?: string; newData?: string };

export function optionsFromArgv(argv: readonly string[]): CliOptions {
  const flags = parseFlags(argv, FLAGS);
  const opts: CliOptions = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) (opts as unknown as Record<string, unknown>)[k] = v;
  return opts;
}

export async function main(argv: readonly string[]): Promise<ContinualResult | null> {
  const title = 'pnpm example continual-pretrain';
  const summary = 'Continue pre-training the character GPT on a new domain, with and without replay of the old one, and measure forgetting.';
  return runExample(argv, { command: title, summary, flags: FLAGS, parse: optionsFromArgv }, async (opts: CliOptions) => {
    if (opts.oldData) opts.oldText = readFileSync(opts.oldData, 'utf8');
    if (opts.newData) opts.newText = readFileSync(opts.newData, 'utf8');
    delete opts.oldData;
    delete opts.newData;
    const result = await continualPretrain(opts);
    if (result.runs.some((r) => r.train.interrupted)) process.exitCode = 130;
    return result;
  });
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
