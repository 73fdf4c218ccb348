// `pnpm example pretrain-gpt [flags]`: train a character-level GPT (nanoGPT's shakespeare_char)
// on a text file or the built-in corpus, then print a sample. `--full` selects nanoGPT's CPU
// configuration; other flags override single settings. See --help.
import { pathToFileURL } from 'node:url';
import { parseFlags, type FlagSpecs } from '../shared/args.js';
import { runExample } from '../shared/cli.js';
import { DEFAULT_OPTIONS, NANOGPT_CPU_CONFIG, PRECISIONS, pretrainGpt, type PretrainOptions, type PretrainResult } from './pretrain.js';

const d = DEFAULT_OPTIONS;
export const FLAGS: FlagSpecs = {
  'data': { type: 'string', help: 'UTF-8 text file to train on', default: 'built-in generated verse' },
  'device': { type: 'string', help: 'where to train', choices: ['cpu', 'webgpu', 'auto'], default: d.device as string },
  'n-layer': { type: 'int', help: 'transformer blocks', default: d.nLayer },
  'n-head': { type: 'int', help: 'attention heads', default: d.nHead },
  'n-embd': { type: 'int', help: 'embedding width', default: d.nEmbd },
  'block-size': { type: 'int', help: 'context length', default: d.blockSize },
  'batch-size': { type: 'int', help: 'sequences per step', default: d.batchSize },
  'steps': { type: 'int', help: 'optimizer steps (also the end of the LR decay)', default: d.steps },
  'lr': { type: 'number', help: 'peak learning rate', default: d.lr },
  'min-lr': { type: 'number', help: 'learning rate at the end of the cosine decay', default: d.minLr },
  'warmup': { type: 'int', help: 'linear warmup steps', default: d.warmup },
  'weight-decay': { type: 'number', help: 'AdamW weight decay (matrices only)', default: d.weightDecay },
  'grad-clip': { type: 'number', help: 'clip the global gradient norm (0: off)', default: d.gradClip },
  'dropout': { type: 'number', help: 'dropout probability', default: d.dropout },
  'eval-interval': { type: 'int', help: 'evaluate every N steps', default: d.evalInterval },
  'eval-iters': { type: 'int', help: 'batches per split per evaluation', default: d.evalIters },
  'final-eval-iters': { type: 'int', help: 'batches per split of one more evaluation after the last step (0: none)', default: d.finalEvalIters ?? 0 },
  'precision': { type: 'string', help: 'compute precision of the forward passes: f16 and bf16 run under autocast with float32 master weights (f16 with loss scaling)', choices: PRECISIONS, default: 'f32' },
  'seed': { type: 'int', help: 'seed of the library generator', default: d.seed },
  'out': { type: 'string', help: 'output directory (checkpoints/, metrics.jsonl, loss.svg)', default: d.out },
  'resume': { type: 'boolean', help: 'continue from the latest checkpoint in --out' },
  'sample-tokens': { type: 'int', help: 'characters to sample after training (0: none)', default: d.sampleTokens },
  'temperature': { type: 'number', help: 'sampling temperature', default: d.temperature },
  'top-k': { type: 'int', help: 'sample from the k most likely characters (0: all)', default: d.topK },
  'trace': { type: 'boolean', help: 'record the initial weights and every batch in <out>/trace/ for an exact replay (benchmarks/peers/nanogpt_reference.py --replay <out>)' },
  'full': { type: 'boolean', help: "nanoGPT's CPU configuration: 4 layers, 4 heads, 128 wide, context 64, batch 12, 2000 steps, lr 1e-3→1e-4, warmup 100, no biases, eval every 250 steps over 20 batches (nanoGPT's --eval_iters=20), then a final one over 200" },
};

/** Options from command-line flags: defaults, then --full, then each explicit flag. */
export function optionsFromArgv(argv: readonly string[]): PretrainOptions & { help?: boolean } {
  const flags = parseFlags(argv, FLAGS);
  const opts: PretrainOptions & { help?: boolean } = { ...DEFAULT_OPTIONS, ...(flags.full ? NANOGPT_CPU_CONFIG : {}) };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined && k !== 'full') (opts as unknown as Record<string, unknown>)[k] = v;
  return opts;
}

export async function main(argv: readonly string[]): Promise<PretrainResult | null> {
  return runExample(argv, { command: 'pnpm example pretrain-gpt', summary: "Train a character-level GPT (nanoGPT's shakespeare_char) and sample from it.", flags: FLAGS, parse: optionsFromArgv }, async (opts: PretrainOptions & { help?: boolean }) => {
    const result = await pretrainGpt(opts);
    if (result.train.interrupted) process.exitCode = 130;
    return result;
  });
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
