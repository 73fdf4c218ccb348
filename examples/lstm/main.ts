// `pnpm example lstm [flags]`: recurrent networks on two tasks — a character language model
// (LSTM or GRU) on the built-in verse or a text file, compared with unigram and bigram models, and
// forecasting a generated seasonal series, compared with the last-value and seasonal-naive
// forecasts — then a summary table. See --help.
import { pathToFileURL } from 'node:url';
import { parseFlags, type FlagSpecs } from '../shared/args.js';
import { runExample } from '../shared/cli.js';
import { CHARLM_DEFAULTS as C } from './charlm.js';
import { FORECAST_DEFAULTS as F } from './forecast.js';
import { DEFAULT_OPTIONS as D, runLstm, type LstmOptions, type LstmResult } from './lstm.js';

const both = (c: number, f: number) => `charlm ${c}, forecast ${f}`;
export const FLAGS: FlagSpecs = {
  'task': { type: 'string', help: 'which task to run', choices: ['charlm', 'forecast', 'both'], default: D.task },
  'cell': { type: 'string', help: 'recurrent cell', choices: ['lstm', 'gru'], default: D.cell },
  'data': { type: 'string', help: 'UTF-8 text file for the character model', default: 'built-in generated verse' },
  'device': { type: 'string', help: 'where to train', choices: ['cpu', 'webgpu', 'auto'], default: D.device as string },
  'seed': { type: 'int', help: 'seed of initialization, shuffling and sampling', default: D.seed },
  'out': { type: 'string', help: 'output directory (<out>/charlm and <out>/forecast: checkpoints/, metrics.jsonl, loss.svg)', default: D.out },
  'steps': { type: 'int', help: 'optimizer steps of each task', default: both(C.steps, F.steps) },
  'epochs': { type: 'int', help: 'passes over the training windows instead of --steps' },
  'hidden': { type: 'int', help: 'hidden size of the recurrent layer', default: both(C.hidden, F.hidden) },
  'layers': { type: 'int', help: 'stacked recurrent layers', default: both(C.layers, F.layers) },
  'lr': { type: 'number', help: 'peak Adam learning rate (cosine decay to a tenth)', default: both(C.lr, F.lr) },
  'batch-size': { type: 'int', help: 'windows per step', default: both(C.batchSize, F.batchSize) },
  'eval-interval': { type: 'int', help: 'evaluate every N steps', default: both(C.evalInterval, F.evalInterval) },
  'block-size': { type: 'int', help: 'characters per training window (charlm)', default: C.blockSize },
  'embed-dim': { type: 'int', help: 'character embedding width (charlm)', default: C.embedDim },
  'sample-chars': { type: 'int', help: 'characters to sample after training (charlm; 0: none)', default: C.sampleChars },
  'temperature': { type: 'number', help: 'sampling temperature (charlm)', default: C.temperature },
  'window': { type: 'int', help: 'past values the forecaster reads (forecast; at least the period, 24)', default: F.window },
  'horizon': { type: 'int', help: 'values predicted at once (forecast; at most the period, 24)', default: F.horizon },
  'resume': { type: 'boolean', help: 'continue each task from the latest checkpoint in its output directory' },
};

/** Options from command-line flags: the defaults, then each flag given. */
export function optionsFromArgv(argv: readonly string[]): LstmOptions & { help?: boolean } {
  const f = parseFlags(argv, FLAGS);
  // The flags given, by camelCase key (parseFlags checked their types and choices).
  const pick = (keys: readonly string[]) => Object.fromEntries(keys.filter((k) => f[k] !== undefined).map((k) => [k, f[k]]));
  return {
    ...D,
    ...(pick(['task', 'cell', 'device', 'seed', 'out', 'data', 'steps', 'epochs', 'hidden', 'lr', 'batchSize', 'evalInterval', 'resume', 'help']) as Partial<LstmOptions>),
    charlm: pick(['layers', 'blockSize', 'embedDim', 'sampleChars', 'temperature']) as LstmOptions['charlm'],
    forecast: pick(['layers', 'window', 'horizon']) as LstmOptions['forecast'],
  };
}

const SUMMARY = 'Train recurrent networks (LSTM or GRU): a character language model against unigram/bigram baselines, and a forecaster of a seasonal series against naive forecasts.';

export async function main(argv: readonly string[]): Promise<LstmResult | null> {
  return runExample(argv, { command: 'pnpm example lstm', summary: SUMMARY, flags: FLAGS, parse: optionsFromArgv }, async (opts: LstmOptions & { help?: boolean }) => {
    const result = await runLstm(opts);
    if (result.charlm?.train.interrupted || result.forecast?.train.interrupted) process.exitCode = 130;
    return result;
  });
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
