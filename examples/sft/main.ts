// `pnpm example sft [flags]`: instruction-tune the character GPT of pretrain-gpt on generated tasks
// with checkable answers (or a JSONL file of { instruction, input, output } records), with the
// loss on the responses only, and report held-out exact match before and after. Starts from
// pretrain-gpt's checkpoint in --pretrained (pre-training one there first if missing).
import { pathToFileURL } from 'node:url';
import { UsageError, parseFlags, usage } from '../shared/args.js';
import { releaseDevices } from '../shared/device.js';
import { SFT_FLAGS } from './flags.js';
import { DEFAULT_OPTIONS, sftGpt, type SftOptions, type SftResult } from './sft.js';

export function optionsFromArgv(argv: readonly string[]): SftOptions & { help?: boolean } {
  const flags = parseFlags(argv, SFT_FLAGS);
  const opts: SftOptions & { help?: boolean } = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) (opts as unknown as Record<string, unknown>)[k] = v;
  return opts;
}

export async function main(argv: readonly string[]): Promise<SftResult | null> {
  const title = 'pnpm example sft';
  const summary = 'Instruction-tune the character GPT (loss on responses only) and measure held-out exact match.';
  let opts: SftOptions & { help?: boolean };
  try {
    opts = optionsFromArgv(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}\n\n${usage(title, summary, SFT_FLAGS)}`);
    process.exitCode = 2;
    return null;
  }
  if (opts.help) {
    console.log(usage(title, summary, SFT_FLAGS));
    return null;
  }
  try {
    const result = await sftGpt(opts);
    if (result.train.interrupted) process.exitCode = 130;
    return result;
  } finally {
    await releaseDevices();
  }
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
