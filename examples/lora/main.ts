// `pnpm example lora [flags]`: the sft example's instruction tuning with LoRA adapters in the
// attention and MLP Linears of the pre-trained character GPT. Prints the trainable share, the
// adapter file's size, that merged and adapter models give the same logits, and exact match next
// to full fine-tuning (sft's result when comparable, else a run made here). See --help.
import { pathToFileURL } from 'node:url';
import { UsageError, parseFlags, type FlagSpecs } from '../shared/args.js';
import { runExample } from '../shared/cli.js';
import { SFT_FLAGS } from '../sft/flags.js';
import { DEFAULT_OPTIONS, loraSft, type LoraResult, type LoraSftOptions } from './lora.js';

const d = DEFAULT_OPTIONS;
export const FLAGS: FlagSpecs = {
  ...SFT_FLAGS,
  'lr': { type: 'number', help: 'peak learning rate of the adapters', default: d.lr },
  'min-lr': { type: 'number', help: 'learning rate at the end of the cosine decay', default: d.minLr },
  'weight-decay': { type: 'number', help: 'AdamW weight decay of the adapter matrices', default: d.weightDecay },
  'out': { type: 'string', help: 'output directory (adapter.safetensors, merged.safetensors, checkpoints/, metrics.jsonl, loss.svg, results.json)', default: d.out },
  'r': { type: 'int', help: 'rank of each LoRA update', default: d.r },
  'alpha': { type: 'number', help: 'LoRA scaling numerator (the update is scaled by alpha / r)', default: d.alpha },
  'lora-dropout': { type: 'number', help: 'dropout on the LoRA input path', default: d.loraDropout },
  'targets': { type: 'string', help: 'comma-separated Linear layers to adapt', default: d.targets.join(',') },
  'full-ft': { type: 'string', help: 'full fine-tuning to compare with: read --sft-result when comparable else run (auto), run, or skip', choices: ['auto', 'run', 'skip'], default: d.fullFt },
  'sft-result': { type: 'string', help: "the sft example's results.json", default: d.sftResult },
  'full-lr': { type: 'number', help: 'learning rate of a full fine-tuning run made here', default: d.fullLr },
  'qlora': { type: 'boolean', help: 'QLoRA: quantize the adapted base Linears to NF4 (double-quantized absmax) before adding the adapters', default: d.qlora },
};

export function optionsFromArgv(argv: readonly string[]): LoraSftOptions & { help?: boolean } {
  const flags = parseFlags(argv, FLAGS);
  const opts: LoraSftOptions & { help?: boolean } = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) (opts as unknown as Record<string, unknown>)[k] = v;
  if (typeof flags.targets === 'string') {
    opts.targets = flags.targets.split(',').map((s) => s.trim()).filter(Boolean);
    if (opts.targets.length === 0) throw new UsageError('--targets needs at least one layer name');
  }
  return opts;
}

export async function main(argv: readonly string[]): Promise<LoraResult | null> {
  const title = 'pnpm example lora';
  const summary = "Instruction-tune the character GPT with LoRA adapters; compare with full fine-tuning, save the adapter, check the merged model.";
  return runExample(argv, { command: title, summary, flags: FLAGS, parse: optionsFromArgv }, async (opts: LoraSftOptions & { help?: boolean }) => {
    const result = await loraSft(opts);
    if (result.lora.train.interrupted) process.exitCode = 130;
    return result;
  });
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
