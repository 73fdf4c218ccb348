// `pnpm example quantize [flags]`: the pre-trained character GPT in float32, float16, int8, int4 and
// NF4 — file size, bits per weight, validation perplexity and generation speed. See --help.
import { pathToFileURL } from 'node:url';
import type { DeviceName } from '@webgrad/core';
import { parseFlags, type FlagSpecs } from '../shared/args.js';
import { runExample } from '../shared/cli.js';
import { DEFAULT_OPTIONS, quantizeExample, type QuantizeExampleOptions } from './quantize.js';

const d = DEFAULT_OPTIONS;
export const FLAGS: FlagSpecs = {
  'pretrained': { type: 'string', help: 'pretrain-gpt output directory or checkpoint (pre-trained there first when it holds none)', default: d.pretrained },
  'device': { type: 'string', help: 'where to run', choices: ['cpu', 'webgpu'], default: d.device as string },
  'eval-windows': { type: 'int', help: 'held-out windows of one context length scored', default: d.evalWindows, min: 1 },
  'gen-tokens': { type: 'int', help: 'tokens generated (greedy, KV cache) per speed round', default: d.genTokens, min: 1 },
  'rounds': { type: 'int', help: 'speed rounds, every variant once per round in rotating order; tokens/s is the median', default: d.rounds, min: 1 },
  'threads': { type: 'int', help: 'cpu kernel threads during the speed rounds', default: d.threads, min: 1 },
  'out': { type: 'string', help: 'output directory (one safetensors file per variant)', default: d.out },
};

export function optionsFromArgv(argv: readonly string[]): QuantizeExampleOptions & { help?: boolean } {
  const opts: QuantizeExampleOptions & { help?: boolean } = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(parseFlags(argv, FLAGS))) if (v !== undefined) (opts as unknown as Record<string, unknown>)[k] = v;
  opts.device = opts.device as DeviceName;
  return opts;
}

export async function main(argv: readonly string[]) {
  return runExample(argv, {
    command: 'pnpm example quantize', flags: FLAGS, parse: optionsFromArgv,
    summary: 'The pre-trained character GPT in float32, float16, int8, int4 and NF4: file size, bits per weight, validation perplexity, generation speed (interleaved rounds).',
  }, (opts: QuantizeExampleOptions & { help?: boolean }) => quantizeExample(opts));
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
