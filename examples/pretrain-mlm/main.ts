// `pnpm example pretrain-mlm [flags]`: masked-LM pre-training of a small BERT-style encoder on the
// text of the SpamAssassin mail corpus (or a text file), with a byte-level BPE trained on it; saves
// the encoder, its config and tokenizer for `pnpm example finetune-classifier`. See --help.
import { pathToFileURL } from 'node:url';
import { parseFlags, type FlagSpecs } from '../shared/args.js';
import { runExample } from '../shared/cli.js';
import { DEFAULT_OPTIONS, pretrainMlm, type PretrainMlmOptions, type PretrainMlmResult } from './pretrain.js';

const d = DEFAULT_OPTIONS;
const SUMMARY = 'Masked-LM pre-training of a small BERT-style encoder on mail text (SpamAssassin) or a text file.';
export const FLAGS: FlagSpecs = {
  'data': { type: 'string', help: 'UTF-8 text file to pre-train on (paragraphs separated by blank lines are documents)', default: 'the SpamAssassin corpus' },
  'mails': { type: 'int', help: "mails of the corpus' train split to pre-train on (at most all 4,837)", default: d.mails },
  'val-mails': { type: 'int', help: "mails of the corpus' val split to evaluate on", default: d.valMails },
  'max-chars': { type: 'int', help: 'characters kept per mail (Subject + body)', default: d.maxChars },
  'split-seed': { type: 'int', help: 'seed of the corpus train/val/test split (finetune-classifier uses the same)', default: d.splitSeed },
  'vocab-size': { type: 'int', help: 'BPE vocabulary (4 special tokens + 256 bytes + merges)', default: d.vocabSize },
  'device': { type: 'string', help: 'where to train', choices: ['cpu', 'webgpu', 'auto'], default: d.device as string },
  'hidden-size': { type: 'int', help: 'encoder width', default: d.hiddenSize },
  'num-layers': { type: 'int', help: 'transformer encoder layers', default: d.numLayers },
  'num-heads': { type: 'int', help: 'attention heads', default: d.numHeads },
  'intermediate-size': { type: 'int', help: 'feed-forward width (0: 4 × hidden size)', default: d.intermediateSize },
  'seq-len': { type: 'int', help: 'tokens per sequence ([CLS] included)', default: d.seqLen },
  'batch-size': { type: 'int', help: 'sequences per step', default: d.batchSize },
  'steps': { type: 'int', help: 'optimizer steps (also the end of the LR decay)', default: d.steps },
  'lr': { type: 'number', help: 'peak learning rate', default: d.lr },
  'min-lr': { type: 'number', help: 'learning rate at the end of the cosine decay', default: d.minLr },
  'warmup': { type: 'int', help: 'linear warmup steps', default: d.warmup },
  'weight-decay': { type: 'number', help: 'AdamW weight decay (matrices only)', default: d.weightDecay },
  'grad-clip': { type: 'number', help: 'clip the global gradient norm (0: off)', default: d.gradClip },
  'dropout': { type: 'number', help: 'dropout probability', default: d.dropout },
  'mask-prob': { type: 'number', help: 'fraction of tokens chosen for prediction', default: d.maskProb },
  'eval-interval': { type: 'int', help: 'evaluate every N steps', default: d.evalInterval },
  'eval-sequences': { type: 'int', help: 'held-out sequences per evaluation', default: d.evalSequences },
  'seed': { type: 'int', help: 'seed of the mail sample, initialization, masking and batch order', default: d.seed },
  'out': { type: 'string', help: 'output directory (encoder.safetensors, encoder_config.json, tokenizer.json, checkpoints/, metrics.jsonl, loss.svg)', default: d.out },
  'resume': { type: 'boolean', help: 'continue from the latest checkpoint in --out' },
};

/** Options from command-line flags: the defaults, then each explicit flag. */
export function optionsFromArgv(argv: readonly string[]): PretrainMlmOptions & { help?: boolean } {
  const flags = parseFlags(argv, FLAGS);
  const opts: PretrainMlmOptions & { help?: boolean } = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) (opts as unknown as Record<string, unknown>)[k] = v;
  return opts;
}

export async function main(argv: readonly string[]): Promise<PretrainMlmResult | null> {
  return runExample(argv, { command: 'pnpm example pretrain-mlm', summary: SUMMARY, flags: FLAGS, parse: optionsFromArgv }, async (opts: PretrainMlmOptions & { help?: boolean }) => {
    const result = await pretrainMlm(opts);
    if (result.train.interrupted) process.exitCode = 130;
    return result;
  });
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
