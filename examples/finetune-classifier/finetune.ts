// Spam vs ham with a pre-trained encoder: pretrain-mlm's BERT encoder (pre-trained first when
// missing) plus a new head, fine-tuned with gradual unfreezing and early stopping on validation F1,
// and scored on the test part of the corpus split (accuracy, F1, ROC-AUC) — against the same model
// trained from scratch on the same mails with the same budget (epochs, learning rate, early
// stopping; every layer trainable from the start). Evaluations come every fixed number of steps,
// not every epoch, so that patience means the same number of steps however few the mails: with
// 40 mails an epoch is 3 steps, and a model that ranks spam well but still answers "ham" for
// everything (F1 0 until its scores cross 0.5) would otherwise be stopped before it gets there. Both are trained for each number of labelled
// mails asked for, since what pre-training buys depends on how few labels there are. Each run
// writes <out>/<labels>-<model>/ (metrics.jsonl, loss.svg, checkpoints/); the table goes to
// <out>/summary.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceName } from '@webgrad/core';
import type { JsonValue } from '@webgrad/optim';
import type { ProgressStream } from '@webgrad/train';
import { selectDevice, type DeviceChoice } from '../shared/device.js';
import { hasEncoder, loadEncoderFiles } from '../pretrain-mlm/encoder_files.js';
import { DEFAULT_OPTIONS as PRETRAIN_DEFAULTS, pretrainMlm, type PretrainMlmOptions } from '../pretrain-mlm/pretrain.js';
import { loadMailSplits, spamShare } from './mail_dataset.js';
import { binaryMetrics, type BinaryMetrics } from './predictions.js';
import { formatTable } from './summary_table.js';
import { trainClassifier, type ModelKind, type RunResult, type RunSettings } from './train_classifier.js';

export type { ModelKind } from './train_classifier.js';

export interface FinetuneOptions extends RunSettings {
  /** Directory of pretrain-mlm's output (encoder.safetensors, encoder_config.json, tokenizer.json). */
  encoder: string;
  /** Steps of the pre-training run made when `encoder` holds no encoder. */
  pretrainSteps: number;
  /** Other settings of that run (default: pretrain-mlm's). */
  pretrain?: Partial<PretrainMlmOptions>;
  /** Numbers of labelled mails to train on (each a sample of the corpus' train split; smaller ones are part of larger ones). */
  trainMails: readonly number[];
  valMails: number;
  testMails: number;
  maxChars: number;
  /** The models to train, in order. */
  models: readonly ModelKind[];
  device: DeviceChoice | DeviceName;
  out: string;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
  handleSigint?: boolean;
}

export const DEFAULT_OPTIONS: FinetuneOptions = {
  encoder: PRETRAIN_DEFAULTS.out, pretrainSteps: PRETRAIN_DEFAULTS.steps, trainMails: [40, 400], valMails: 200, testMails: 600,
  maxChars: PRETRAIN_DEFAULTS.maxChars, models: ['pretrained', 'scratch'], pooling: 'mean', device: 'auto', batchSize: 16, epochs: 20,
  lr: 1e-3, warmup: 10, weightDecay: 0.01, gradClip: 1.0, unfreezeEpochs: 1, evalInterval: 12, patience: 6, seed: 1337, out: 'runs/finetune-classifier',
};

export interface FinetuneResult {
  results: RunResult[];
  /** Test metrics of always answering the majority class of the training mails. */
  majority: BinaryMetrics;
  counts: { val: number; test: number };
  device: DeviceName;
  /** Whether the encoder was pre-trained by this run (there was none). */
  pretrainedNow: boolean;
}

export async function finetuneClassifier(opts: FinetuneOptions): Promise<FinetuneResult> {
  const stream = opts.stream ?? process.stdout;
  const say = (s: string) => { stream.write(`${s}\n`); };
  const device: DeviceName = opts.device === 'cpu' || opts.device === 'webgpu' || opts.device === 'auto' ? await selectDevice(opts.device, say) : opts.device;
  if (opts.trainMails.length === 0 || !opts.trainMails.every((n) => Number.isInteger(n) && n > 0)) {
    throw new RangeError(`finetune-classifier: trainMails must be positive integers, got ${JSON.stringify(opts.trainMails)}`);
  }

  const pretrainedNow = !hasEncoder(opts.encoder);
  if (pretrainedNow) {
    say(`no pre-trained encoder in ${opts.encoder}: pre-training one first (\`pnpm example pretrain-mlm --steps ${opts.pretrainSteps} --seed ${opts.seed} --out ${opts.encoder}\`)`);
    await pretrainMlm({
      ...PRETRAIN_DEFAULTS, maxChars: opts.maxChars, ...opts.pretrain, steps: opts.pretrainSteps, device, seed: opts.seed, out: opts.encoder,
      stream, tty: opts.tty, fsync: opts.fsync, handleSigint: opts.handleSigint,
    });
    say('');
  }
  const enc = await loadEncoderFiles(opts.encoder);
  const splitSeed = enc.config.data.source === 'spam-assassin' ? enc.config.data.splitSeed : PRETRAIN_DEFAULTS.splitSeed;
  if (enc.config.data.source === 'file') say(`note: the encoder was pre-trained on ${enc.config.data.path}, not on the corpus; the corpus split seed is ${splitSeed}`);
  const b = enc.config.bert;
  say(`encoder: ${opts.encoder} — ${b.numLayers} layers, ${b.hiddenSize} wide, vocab ${b.vocabSize}, ${enc.config.steps} MLM steps${enc.config.final ? ` (held-out MLM loss ${enc.config.final.loss.toFixed(3)}, masked-token accuracy ${(100 * enc.config.final.accuracy).toFixed(1)}%)` : ''}`);

  const sizes = [...new Set(opts.trainMails)].sort((x, y) => x - y);
  const data = loadMailSplits(enc.tokenizer, {
    splitSeed, seed: opts.seed, train: sizes.at(-1)!, val: opts.valMails, test: opts.testMails, maxChars: opts.maxChars, maxLen: enc.config.seqLen,
  });
  const counts = { val: data.val.length, test: data.test.length };
  say(`data: SpamAssassin split seed ${splitSeed} (the encoder read no val or test mail): ${sizes.join(' / ')} labelled train mails (spam ${pct(spamShare(data.train))}), ${counts.val} val (spam ${pct(spamShare(data.val))}), ${counts.test} test (spam ${pct(spamShare(data.test))}); [CLS] + ≤ ${enc.config.seqLen - 2} tokens + [SEP]`);
  const majorityLabel = spamShare(data.train) > 0.5 ? 1 : 0;
  const majority = binaryMetrics(data.test.map((x) => x.label), data.test.map(() => majorityLabel));

  const { encoder: _e, pretrain: _p, stream: _s, tty: _t, fsync: _f, handleSigint: _h, ...settings } = opts;
  const results: RunResult[] = [];
  for (const n of sizes) {
    const train = data.train.slice(0, n);
    for (const kind of opts.models) {
      say(`\n=== ${n} labelled mails: ${kind === 'pretrained' ? 'pre-trained encoder + new head, gradual unfreezing' : 'the same model from scratch, all layers trainable'} ===`);
      const config = JSON.parse(JSON.stringify({ model: kind, labels: n, encoder: opts.encoder, bert: b, ...settings, device })) as JsonValue;
      results.push(await trainClassifier(kind, opts, { train, val: data.val, test: data.test }, {
        enc, device, out: join(opts.out, `${n}-${kind}`), stream, tty: opts.tty, fsync: opts.fsync, handleSigint: opts.handleSigint, config,
      }));
    }
  }
  const rows = [
    ...results.map((r) => ({ model: r.model === 'pretrained' ? 'pre-trained (MLM) + fine-tuned' : 'from scratch', labels: r.labels, ...r.test, wallSeconds: r.wallSeconds })),
    { model: `majority class (${majorityLabel === 1 ? 'spam' : 'ham'})`, ...majority, wallSeconds: NaN },
  ];
  say(`\ntest split (${counts.test} mails), each model at its best validation F1:\n${formatTable(rows)}`);
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, 'summary.json'), `${JSON.stringify({
    encoder: opts.encoder, encoderSteps: enc.config.steps, encoderFinal: enc.config.final, counts, device, seed: opts.seed, splitSeed,
    results: results.map((r) => ({ model: r.model, labels: r.labels, test: r.test, val: r.val, bestStep: r.bestStep, steps: r.train.step, earlyStopped: r.train.earlyStopped, wallSeconds: r.wallSeconds })),
    majority,
  }, null, 2)}\n`);
  say(`summary: ${join(opts.out, 'summary.json')}`);
  return { results, majority, counts, device, pretrainedNow };
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
