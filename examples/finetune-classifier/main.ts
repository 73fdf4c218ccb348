// `pnpm example finetune-classifier [flags]`: spam vs ham on the SpamAssassin corpus with
// pretrain-mlm's encoder (pre-trained first if missing) and a new head — gradual unfreezing,
// early stopping on validation F1 — against the same model trained from scratch. See --help.
import { pathToFileURL } from 'node:url';
import { UsageError, parseFlags, type FlagSpecs } from '../shared/args.js';
import { runExample } from '../shared/cli.js';
import { DEFAULT_OPTIONS, finetuneClassifier, type FinetuneOptions, type FinetuneResult, type ModelKind } from './finetune.js';

const d = DEFAULT_OPTIONS;
const SUMMARY = 'Fine-tune the MLM-pre-trained encoder to tell spam from ham, and compare it with the same model trained from scratch.';
export const FLAGS: FlagSpecs = {
  'encoder': { type: 'string', help: "pretrain-mlm's output directory (pre-trained there first if it holds no encoder)", default: d.encoder },
  'pretrain-steps': { type: 'int', help: 'steps of that pre-training, when it is needed', default: d.pretrainSteps },
  'train-mails': { type: 'string', help: "labelled mails from the corpus' train split: a number or a comma-separated list (each is run)", default: d.trainMails.join(',') },
  'val-mails': { type: 'int', help: "mails from the val split (early stopping, best checkpoint)", default: d.valMails },
  'test-mails': { type: 'int', help: 'mails from the test split (the reported scores)', default: d.testMails },
  'max-chars': { type: 'int', help: 'characters kept per mail before tokenization', default: d.maxChars },
  'models': { type: 'string', help: 'which models to train', choices: ['both', 'pretrained', 'scratch'], default: 'both' },
  'pooling': { type: 'string', help: 'classification head: mean of the token states, or BERT\'s pooler over [CLS]', choices: ['mean', 'cls'], default: d.pooling },
  'device': { type: 'string', help: 'where to train', choices: ['cpu', 'webgpu', 'auto'], default: d.device as string },
  'batch-size': { type: 'int', help: 'mails per step', default: d.batchSize },
  'epochs': { type: 'int', help: 'passes over the labelled mails (at most: early stopping may end sooner)', default: d.epochs },
  'lr': { type: 'number', help: 'peak learning rate (cosine decay to a tenth)', default: d.lr },
  'warmup': { type: 'int', help: 'linear warmup steps', default: d.warmup },
  'weight-decay': { type: 'number', help: 'AdamW weight decay (matrices only)', default: d.weightDecay },
  'grad-clip': { type: 'number', help: 'clip the global gradient norm (0: off)', default: d.gradClip },
  'unfreeze-epochs': { type: 'int', help: 'epochs per unfreezing stage of the pre-trained model: head, + top half of the layers, all (0: all from the start)', default: d.unfreezeEpochs },
  'eval-interval': { type: 'int', help: 'evaluate on the validation mails every N steps (0: once per epoch)', default: d.evalInterval },
  'patience': { type: 'int', help: 'stop after this many evaluations without a better validation F1', default: d.patience },
  'seed': { type: 'int', help: 'seed of the mail samples, the head, dropout and batch order', default: d.seed },
  'out': { type: 'string', help: 'output directory (<model>/metrics.jsonl, loss.svg, checkpoints/; summary.json)', default: d.out },
};

/** Options from command-line flags: the defaults, then each explicit flag. */
export function optionsFromArgv(argv: readonly string[]): FinetuneOptions & { help?: boolean } {
  const { models, trainMails, ...flags } = parseFlags(argv, FLAGS);
  const opts: FinetuneOptions & { help?: boolean } = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) (opts as unknown as Record<string, unknown>)[k] = v;
  if (models !== undefined) opts.models = models === 'both' ? ['pretrained', 'scratch'] : [models as ModelKind];
  if (trainMails !== undefined) {
    const sizes = String(trainMails).split(',').map((x) => Number(x.trim()));
    if (!sizes.every((n) => Number.isInteger(n) && n > 0)) throw new UsageError(`--train-mails expects positive integers separated by commas, got '${trainMails}'`);
    opts.trainMails = sizes;
  }
  return opts;
}

export async function main(argv: readonly string[]): Promise<FinetuneResult | null> {
  return runExample(argv, { command: 'pnpm example finetune-classifier', summary: SUMMARY, flags: FLAGS, parse: optionsFromArgv }, async (opts: FinetuneOptions & { help?: boolean }) => {
    const result = await finetuneClassifier(opts);
    if (result.results.some((r) => r.train.interrupted)) process.exitCode = 130;
    return result;
  });
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
