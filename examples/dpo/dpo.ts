// Direct Preference Optimization of the instruction-tuned character GPT with @webgrad/rl's
// DPOTrainer: preference pairs for sft's "sort" task (generated, written to JSONL and read back) or
// a user's { prompt, chosen, rejected } JSONL; implicit-reward accuracy and margins on held-out
// pairs; and, on generated data, the share of sampled answers that are sorted and well-formed
// before and after. By default the same loss is trained twice from the same sft model, without
// and with an NLL term on the chosen answers (rpoAlpha), to compare what each does to the
// validity of the samples.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkBool, checkEnum, checkRange, manualSeed, type DeviceName } from '@webgrad/core';
import type { GPT } from '@webgrad/nn';
import { DPOTrainer, DPO_LOSS_TYPES, type DPOLossType, type LogRecord } from '@webgrad/rl';
import { formatSummary, type TrainResult } from '@webgrad/train';
import { END } from '../sft/prompt.js';
import type { CharTokenizer } from '../shared/char_tokenizer.js';
import { loadPretrainedGpt } from '../shared/pretrained_gpt.js';
import { sampleSortAnswers, type SampleReport } from '../shared/sampled_answers.js';
import { checkPreferenceTaskOptions, evalBeforeAfter, setUpPreferenceTask, type PreferenceTaskOptions } from '../shared/preference_task.js';
import { wordOf } from '../shared/sort_preferences.js';
import { formatTable, percent } from '../shared/table.js';
import { fitVocabulary } from '../shared/vocab_extension.js';

export interface DpoOptions extends PreferenceTaskOptions {
  lossType: DPOLossType;
  beta: number;
  /** cDPO's label smoothing ('sigmoid') or robust DPO's flip rate ('robust'). */
  labelSmoothing: number;
  /** Weight of the NLL of the chosen answers (0: none). */
  rpoAlpha: number;
  /** Also train the same loss without the NLL term (when rpoAlpha > 0), for comparison. */
  compare: boolean;
  /** 'precomputed' reference log-probs (one pass before training) or a frozen 'copy' run every step. */
  refPolicy: 'precomputed' | 'copy';
  handleSigint?: boolean;
}

export const DEFAULT_OPTIONS: DpoOptions = {
  device: 'auto', sft: 'runs/sft', promptTemplate: 'sft', trainPairs: 1200, evalPairs: 200, lossType: 'sigmoid', beta: 0.1, labelSmoothing: 0, rpoAlpha: 1,
  compare: true, refPolicy: 'precomputed', epochs: 3, batchSize: 16, lr: 5e-4, warmup: 10, samplePrompts: 100, samplesPerPrompt: 4,
  temperature: 1, seed: 1337, out: 'runs/dpo', resume: false,
};

/** The metrics of one trained variant. */
export interface VariantResult {
  name: string;
  rpoAlpha: number | null;
  /** Held-out implicit-reward metrics (eval_…) before and after training. */
  before: Record<string, number>;
  after: Record<string, number>;
  /** Sampled answers after training (generated data only). */
  samples: SampleReport | null;
  train: TrainResult;
  logHistory: LogRecord[];
  wallSeconds: number;
}

export interface DpoResult {
  device: DeviceName;
  sftCheckpoint: string;
  data: { source: string; train: number; eval: number };
  /** Sampled answers of the sft model (generated data only). */
  samplesBefore: SampleReport | null;
  variants: VariantResult[];
  table: string;
  resultPath: string;
}

/** Check the options a caller (or a flag) may get wrong. */
export function checkDpoOptions(o: DpoOptions): void {
  const op = 'dpo';
  checkPreferenceTaskOptions(op, o);
  checkEnum(op, 'lossType', o.lossType, DPO_LOSS_TYPES);
  checkRange(op, 'beta', o.beta, 0, Infinity, { lo: true });
  checkRange(op, 'labelSmoothing', o.labelSmoothing, 0, 0.5, { hi: true });
  checkRange(op, 'rpoAlpha', o.rpoAlpha, 0, Infinity);
  checkEnum(op, 'refPolicy', o.refPolicy, ['precomputed', 'copy']);
  checkBool(op, 'compare', o.compare);
}

/** The variant's display name: the loss (DPO, cDPO, IPO, hinge, robust DPO) and the NLL term. */
function variantName(o: DpoOptions, rpoAlpha: number | null): string {
  const base = o.lossType === 'sigmoid' ? (o.labelSmoothing > 0 ? `cDPO (ε ${o.labelSmoothing})` : 'DPO')
    : o.lossType === 'robust' ? `robust DPO (ε ${o.labelSmoothing})` : o.lossType === 'ipo' ? 'IPO' : 'hinge (SLiC)';
  return rpoAlpha ? `${base} + NLL (rpoAlpha ${rpoAlpha})` : base;
}

export async function dpoExample(o: DpoOptions): Promise<DpoResult> {
  checkDpoOptions(o);
  const { device, stream, say, sft, pairs, text } = await setUpPreferenceTask(o);
  const sftCheckpoint = sft.checkpoint;
  sft.model.dispose();

  /** A fresh copy of the sft model (vocabulary grown for the data if it must be). */
  const loadPolicy = async (quiet: boolean): Promise<{ model: GPT; tokenizer: CharTokenizer }> => {
    const loaded = await loadPretrainedGpt(sftCheckpoint, device);
    return fitVocabulary(loaded.model, loaded.tokenizer, text, quiet ? () => {} : say);
  };
  const prompts = pairs.generated ? pairs.eval.slice(0, o.samplePrompts).map((r) => r.prompt) : [];
  const sample = async (model: GPT, tokenizer: CharTokenizer) => (prompts.length > 0
    ? sampleSortAnswers(model, tokenizer, prompts, { perPrompt: o.samplesPerPrompt, temperature: o.temperature, seed: o.seed, end: END })
    : null);

  let samplesBefore: SampleReport | null = null;
  {
    const { model, tokenizer } = await loadPolicy(false);
    samplesBefore = await sample(model, tokenizer);
    model.dispose();
    if (samplesBefore) say(`sft model, ${samplesBefore.samples.length} sampled answers to ${prompts.length} held-out prompts (temperature ${o.temperature}): ${percent(samplesBefore.sortedRate)} sorted, ${percent(samplesBefore.validRate)} well-formed`);
  }

  const alphas: (number | null)[] = o.rpoAlpha > 0 ? (o.compare ? [null, o.rpoAlpha] : [o.rpoAlpha]) : [null];
  const variants: VariantResult[] = [];
  for (const rpoAlpha of alphas) {
    const name = variantName(o, rpoAlpha);
    const dir = join(o.out, rpoAlpha ? 'with-nll' : 'plain');
    say(`\n=== ${name}: ${o.epochs} epochs of ${o.batchSize} pairs, β ${o.beta}, lr ${o.lr}, reference ${o.refPolicy} → ${dir} ===`);
    manualSeed(o.seed);
    const { model, tokenizer } = await loadPolicy(true);
    const end = tokenizer.encode(END)[0]!;
    const trainer = new DPOTrainer({
      model, tokenizer, trainDataset: pairs.train, evalDataset: pairs.eval,
      config: {
        outDir: dir, epochs: o.epochs, batchSize: o.batchSize, evalBatchSize: 50, learningRate: o.lr, warmupSteps: o.warmup, lrSchedule: 'linear',
        beta: o.beta, lossType: o.lossType, labelSmoothing: o.labelSmoothing, rpoAlpha, precomputeRefLogProbs: o.refPolicy === 'precomputed',
        eosTokenId: end, padTokenId: end, seed: o.seed, logInterval: 10, resume: o.resume,
        best: { metric: 'eval_rewards/accuracies', mode: 'max' },
        checkpointExtra: { model: { ...sft.config, vocabSize: tokenizer.vocabSize }, chars: tokenizer.chars.join('') },
        runConfig: {
          run: name, sft: sftCheckpoint, data: pairs.source, lossType: o.lossType, beta: o.beta, labelSmoothing: o.labelSmoothing, rpoAlpha,
          refPolicy: o.refPolicy, epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, warmup: o.warmup, seed: o.seed,
        },
        stream, tty: o.tty, fsync: o.fsync, handleSigint: o.handleSigint,
      },
    });
    try {
      const train = await trainer.train();
      say(formatSummary(train));
      const { before, after } = evalBeforeAfter(train);
      const samples = await sample(model, tokenizer);
      variants.push({ name, rpoAlpha, before, after, samples, train, logHistory: trainer.logHistory, wallSeconds: train.wallSeconds });
      if (samples) say(`${name}: ${percent(samples.sortedRate)} of sampled answers sorted, ${percent(samples.validRate)} well-formed`);
    } finally {
      trainer.dispose();
      model.dispose();
    }
  }

  const col = (v: VariantResult) => v.name;
  const fmt = (x: number | undefined, d = 3) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(d));
  const perToken = o.lossType === 'ipo' ? ' per token' : ''; // IPO takes length-averaged log-probs
  const rows: string[][] = [
    ['held-out implicit-reward accuracy', ...variants.map((v) => `${percent(v.before['eval_rewards/accuracies']!)} → ${percent(v.after['eval_rewards/accuracies']!)}`)],
    ['held-out reward margin', ...variants.map((v) => `${fmt(v.before['eval_rewards/margins'])} → ${fmt(v.after['eval_rewards/margins'])}`)],
    ['held-out loss', ...variants.map((v) => `${fmt(v.before.eval_loss)} → ${fmt(v.after.eval_loss)}`)],
    [`held-out log p(chosen)${perToken}`, ...variants.map((v) => `${fmt(v.before['eval_logps/chosen'], 2)} → ${fmt(v.after['eval_logps/chosen'], 2)}`)],
    [`held-out log p(rejected)${perToken}`, ...variants.map((v) => `${fmt(v.before['eval_logps/rejected'], 2)} → ${fmt(v.after['eval_logps/rejected'], 2)}`)],
    ...(samplesBefore ? [
      ['sampled answers sorted', ...variants.map((v) => `${percent(samplesBefore!.sortedRate)} → ${percent(v.samples!.sortedRate)}`)],
      ['sampled answers well-formed', ...variants.map((v) => `${percent(samplesBefore!.validRate)} → ${percent(v.samples!.validRate)}`)],
    ] : []),
    ['training wall time (with evaluations)', ...variants.map((v) => `${v.wallSeconds.toFixed(1)} s`)],
  ];
  const table = formatTable([`from the sft model (${pairs.eval.length} held-out pairs${samplesBefore ? `, ${samplesBefore.samples.length} samples` : ''})`, ...variants.map(col)], rows);
  say(`\n${table}`);
  if (samplesBefore) {
    const last = variants[variants.length - 1]!;
    const shown = last.samples!.samples.filter((_, i) => i % o.samplesPerPrompt === 0).slice(0, 6);
    say(`\nsampled answers after ${last.name}:\n${shown.map((s) => `  sort ${JSON.stringify(wordOf(prompts[s.prompt]!))} → ${JSON.stringify(s.answer)} ${s.sorted ? '✓' : s.valid ? '✗ (wrong)' : '✗ (malformed)'}`).join('\n')}`);
  }
  const resultPath = join(o.out, 'results.json');
  writeFileSync(resultPath, `${JSON.stringify({
    device, sft: sftCheckpoint, data: { source: pairs.source, train: pairs.train.length, eval: pairs.eval.length },
    samplesBefore: samplesBefore && { sortedRate: samplesBefore.sortedRate, validRate: samplesBefore.validRate, n: samplesBefore.samples.length },
    variants: variants.map((v) => ({
      name: v.name, rpoAlpha: v.rpoAlpha, before: v.before, after: v.after, wallSeconds: v.wallSeconds, steps: v.train.step, checkpoint: v.train.checkpoint,
      samples: v.samples && { sortedRate: v.samples.sortedRate, validRate: v.samples.validRate, n: v.samples.samples.length },
    })),
  }, null, 2)}\n`);
  say(`results: ${resultPath}`);
  return { device, sftCheckpoint, data: { source: pairs.source, train: pairs.train.length, eval: pairs.eval.length }, samplesBefore, variants, table, resultPath };
}
