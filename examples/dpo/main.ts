// `pnpm example dpo [flags]`: Direct Preference Optimization of the instruction-tuned character GPT
// (sft's checkpoint in --sft, made there first if missing) on generated preference pairs for the
// sort task or a JSONL file of { prompt, chosen, rejected } records; reports held-out
// implicit-reward accuracy and margins and, on generated data, how many sampled answers are sorted
// and well-formed before and after — by default without and with an NLL term on the chosen answers.
import { pathToFileURL } from 'node:url';
import { parseFlags, type FlagSpecs } from '../shared/args.js';
import { runExample } from '../shared/cli.js';
import { DEFAULT_OPTIONS, dpoExample, type DpoOptions, type DpoResult } from './dpo.js';

const d = DEFAULT_OPTIONS;
export const FLAGS: FlagSpecs = {
  'device': { type: 'string', help: 'where to train', choices: ['cpu', 'webgpu', 'auto'], default: d.device as string },
  'sft': { type: 'string', help: 'sft output directory (or checkpoint directory) to start from; instruction-tuned there first if missing', default: d.sft },
  'data': { type: 'string', help: 'JSONL file of {prompt, chosen, rejected} records', default: 'generated sort pairs (written to <out>/data/)' },
  'eval-data': { type: 'string', help: 'JSONL file of held-out records', default: '10% of --data, or generated held-out pairs' },
  'prompt-template': { type: 'string', help: "--data prompts as sft's instruction (\"Instruction:\\n<prompt>\\nResponse:\\n\") or as they are", choices: ['sft', 'none'], default: d.promptTemplate },
  'train-pairs': { type: 'int', help: 'generated training pairs', default: d.trainPairs },
  'eval-pairs': { type: 'int', help: 'generated held-out pairs', default: d.evalPairs },
  'loss-type': { type: 'string', help: 'sigmoid (DPO), ipo, hinge (SLiC), robust', choices: ['sigmoid', 'ipo', 'hinge', 'robust'], default: d.lossType },
  'beta': { type: 'number', help: 'β, the temperature of the implicit reward', default: d.beta },
  'label-smoothing': { type: 'number', help: 'label-flip rate ε: cDPO with sigmoid, robust DPO with robust', default: d.labelSmoothing },
  'rpo-alpha': { type: 'number', help: 'weight of the NLL of the chosen answers (TRL rpo_alpha; 0: none)', default: d.rpoAlpha },
  'compare': { type: 'boolean', help: 'also train without the NLL term, from the same sft model (--compare=false: only the configured run)', default: d.compare },
  'ref-policy': { type: 'string', help: 'reference log-probs computed once before training, or a frozen copy run every step', choices: ['precomputed', 'copy'], default: d.refPolicy },
  'epochs': { type: 'int', help: 'passes over the training pairs', default: d.epochs },
  'batch-size': { type: 'int', help: 'pairs per step', default: d.batchSize },
  'lr': { type: 'number', help: 'peak learning rate (linear decay to 0)', default: d.lr },
  'warmup': { type: 'int', help: 'linear warmup steps', default: d.warmup },
  'sample-prompts': { type: 'int', help: 'held-out prompts whose sampled answers are checked (0: none)', default: d.samplePrompts },
  'samples-per-prompt': { type: 'int', help: 'sampled answers per prompt', default: d.samplesPerPrompt },
  'temperature': { type: 'number', help: 'sampling temperature', default: d.temperature },
  'seed': { type: 'int', help: 'seed of the library generator, the shuffles and the generated pairs', default: d.seed },
  'out': { type: 'string', help: 'output directory (data/, plain/ and with-nll/ runs, results.json)', default: d.out },
  'resume': { type: 'boolean', help: 'continue each run from its latest checkpoint in --out' },
};

export function optionsFromArgv(argv: readonly string[]): DpoOptions & { help?: boolean } {
  const flags = parseFlags(argv, FLAGS);
  const opts: DpoOptions & { help?: boolean } = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) (opts as unknown as Record<string, unknown>)[k] = v;
  return opts;
}

export async function main(argv: readonly string[]): Promise<DpoResult | null> {
  const title = 'pnpm example dpo';
  const summary = 'DPO (and IPO, hinge, cDPO) of the instruction-tuned character GPT on preference pairs.';
  return runExample(argv, { command: title, summary, flags: FLAGS, parse: optionsFromArgv }, async (opts: DpoOptions & { help?: boolean }) => {
    const { help: _help, ...run } = opts;
    return await dpoExample(run);
  });
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
