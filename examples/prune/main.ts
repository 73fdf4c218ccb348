// `pnpm example prune [flags]`: prune LeNet-5 (MNIST) and a character GPT (built-in verse) by
// magnitude, by whole channels and heads, and to N:M patterns; measure accuracy / validation loss
// against sparsity right after pruning and after a short fine-tune with the masks attached. See --help.
import { pathToFileURL } from 'node:url';
import { parseFlags, UsageError, type FlagSpecs } from '../shared/args.js';
import { runExample } from '../shared/cli.js';
import { DEFAULT_OPTIONS, pruneExample, type PruneOptions, type PruneResult } from './prune.js';

const d = DEFAULT_OPTIONS;
export const FLAGS: FlagSpecs = {
  'model': { type: 'string', help: 'which model(s) to sweep', choices: ['lenet', 'gpt', 'both'], default: d.model },
  'sparsities': { type: 'string', help: 'comma-separated sparsities of the unstructured and structured sweeps', default: d.sparsities.join(',') },
  'finetune-steps': { type: 'int', help: 'fine-tuning steps after each pruning (masks attached)', default: d.finetuneSteps, min: 0 },
  'train-digits': { type: 'int', help: 'MNIST training digits (at most 7,000)', default: d.trainDigits, min: 1, max: 7000 },
  'lenet-epochs': { type: 'int', help: 'LeNet-5 training epochs before pruning', default: d.lenetEpochs, min: 1 },
  'test-digits': { type: 'int', help: 'held-out digits LeNet-5 is scored on (at most 2,000)', default: d.testDigits, min: 1, max: 2000 },
  'gpt-steps': { type: 'int', help: 'GPT training steps before pruning', default: d.gptSteps, min: 1 },
  'n-layer': { type: 'int', help: 'GPT blocks', default: d.nLayer, min: 1 },
  'n-head': { type: 'int', help: 'GPT attention heads', default: d.nHead, min: 1 },
  'n-embd': { type: 'int', help: 'GPT width (a multiple of n-head and of 16, for the N:M patterns)', default: d.nEmbd, min: 16 },
  'block-size': { type: 'int', help: 'GPT context length', default: d.blockSize, min: 2 },
  'batch-size': { type: 'int', help: 'digits or sequences per step', default: d.batchSize, min: 1 },
  'eval-batches': { type: 'int', help: 'GPT validation batches (fixed for every point)', default: d.evalBatches, min: 1 },
  'device': { type: 'string', help: 'where to run', choices: ['cpu', 'webgpu', 'auto'], default: d.device as string },
  'seed': { type: 'int', help: 'seed of the initial weights and the batches', default: d.seed },
  'out': { type: 'string', help: 'output directory (SVG curves, summary.json)', default: d.out },
};

const SUMMARY = 'Prune LeNet-5 (MNIST) and a character GPT by magnitude, whole channels/heads and N:M; accuracy / validation loss vs sparsity, before and after a short fine-tune with the masks attached.';

/** Options from command-line flags over the defaults. */
export function optionsFromArgv(argv: readonly string[]): PruneOptions & { help?: boolean } {
  const opts: PruneOptions & { help?: boolean } = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(parseFlags(argv, FLAGS))) if (v !== undefined) (opts as unknown as Record<string, unknown>)[k] = v;
  if (typeof opts.sparsities === 'string') {
    const list = (opts.sparsities as string).split(',').map(Number);
    if (list.length === 0 || list.some((s) => !(s >= 0 && s <= 1))) throw new UsageError(`--sparsities must be comma-separated numbers in [0, 1], got '${opts.sparsities}'`);
    opts.sparsities = list;
  }
  if (opts.nEmbd % opts.nHead !== 0 || opts.nEmbd % 16 !== 0) throw new UsageError(`--n-embd (${opts.nEmbd}) must be a multiple of --n-head (${opts.nHead}) and of 16`);
  return opts;
}

export async function main(argv: readonly string[]): Promise<PruneResult | null> {
  return runExample(argv, { command: 'pnpm example prune', summary: SUMMARY, flags: FLAGS, parse: optionsFromArgv }, pruneExample);
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
