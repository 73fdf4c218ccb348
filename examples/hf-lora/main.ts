// `pnpm example hf-lora [flags]`: LoRA fine-tuning of a HuggingFace checkpoint directory (GPT-2 or
// Llama family; by default a tiny one made here) on an alphabet-continuation task, written as a
// PEFT adapter that `PeftModel.from_pretrained` loads. See --help.
import { pathToFileURL } from 'node:url';
import { UsageError, parseFlags, type FlagSpecs } from '../shared/args.js';
import { runExample } from '../shared/cli.js';
import { DEFAULT_OPTIONS, hfLora, type HfLoraOptions, type HfLoraResult } from './hf_lora.js';

const d = DEFAULT_OPTIONS;
export const FLAGS: FlagSpecs = {
  'model': { type: 'string', help: 'HF model directory (config.json, model.safetensors, tokenizer.json); default: a tiny one made in <out>/base' },
  'base-family': { type: 'string', help: 'family of the tiny base made without --model', choices: ['gpt2', 'llama'], default: d.baseFamily },
  'out': { type: 'string', help: 'output directory (base/, adapter/, probe.safetensors, results.json)', default: d.out },
  'steps': { type: 'int', help: 'training steps', default: d.steps, min: 1 },
  'batch-size': { type: 'int', help: 'examples per step', default: d.batchSize, min: 1 },
  'lr': { type: 'number', help: 'AdamW learning rate of the adapters', default: d.lr, min: 0, exclusiveMin: true },
  'r': { type: 'int', help: 'rank of each LoRA update', default: d.r, min: 1 },
  'alpha': { type: 'number', help: 'LoRA scaling numerator (the update is scaled by alpha / r)', default: d.alpha, min: 0, exclusiveMin: true },
  'targets': { type: 'string', help: 'comma-separated HF module names to adapt (default: c_attn,c_proj,c_fc for GPT-2; every projection for Llama)' },
  'device': { type: 'string', help: 'cpu, webgpu or auto', choices: ['cpu', 'webgpu', 'auto'], default: d.device },
  'seed': { type: 'int', help: 'seed of the base, the adapters and the batches', default: d.seed },
};

export function optionsFromArgv(argv: readonly string[]): HfLoraOptions & { help?: boolean } {
  const flags = parseFlags(argv, FLAGS);
  const opts: HfLoraOptions & { help?: boolean } = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) (opts as unknown as Record<string, unknown>)[k] = v;
  if (typeof flags.targets === 'string') {
    opts.targets = flags.targets.split(',').map((s) => s.trim()).filter(Boolean);
    if (opts.targets.length === 0) throw new UsageError('--targets needs at least one module name');
  }
  return opts;
}

export async function main(argv: readonly string[]): Promise<HfLoraResult | null> {
  const summary = 'LoRA-fine-tune a HuggingFace checkpoint (GPT-2 or Llama family) and write a PEFT adapter.';
  return runExample(argv, { command: 'pnpm example hf-lora', summary, flags: FLAGS, parse: optionsFromArgv }, hfLora);
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
