// Continual pre-training: the pre-trained character GPT keeps training on a new text domain
// (generated recipes) at a smaller learning rate, twice from the same weights — once on a mix of
// 70% new-domain and 30% old-domain windows (replay), once on the new domain alone. Both runs are
// evaluated on fixed validation windows of both domains every few steps: the new-domain loss falls
// in both, and the old-domain loss rises more without replay (catastrophic forgetting).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, type DeviceName, type Tensor } from '@webgrad/core';
import { DataLoader, Subset, mixDatasets } from '@webgrad/data';
import type { GPT } from '@webgrad/nn';
import { AdamW, LrScheduler, cosineWithWarmup } from '@webgrad/optim';
import { Trainer, formatSummary, lineChart, type ProgressStream, type TrainResult } from '@webgrad/train';
import type { PretrainOptions } from '../pretrain-gpt/pretrain.js';
import { trainValSplit } from '../shared/batches.js';
import { generateCorpus } from '../shared/corpus.js';
import { selectDevice, type DeviceChoice } from '../shared/device.js';
import { loadOrPretrainGpt, loadPretrainedGpt } from '../shared/pretrained_gpt.js';
import { formatTable, percent } from '../shared/table.js';
import { fitVocabulary } from '../shared/vocab_extension.js';
import { generateRecipes } from './recipes.js';
import { TokenWindows, type Window } from './token_windows.js';

export interface ContinualOptions {
  device: DeviceChoice | DeviceName;
  /** pretrain-gpt's output directory (or a checkpoint directory) to start from. */
  pretrained: string;
  /** Steps of the pre-training run made when `pretrained` holds no checkpoint. */
  pretrainSteps: number;
  /** More settings of that pre-training run (tests: a tiny model). */
  pretrain?: Partial<PretrainOptions>;
  /** The old domain: the text the model was pre-trained on (default pretrain's text, else the built-in verse). */
  oldText?: string;
  /** The new domain (default: `newChars` characters of generated recipes). */
  newText?: string;
  newChars: number;
  /** Share of new-domain windows in the mixed run (the rest replays the old domain). */
  newShare: number;
  steps: number;
  lr: number;
  minLr: number;
  warmup: number;
  batchSize: number;
  weightDecay: number;
  gradClip: number;
  evalInterval: number;
  /** Validation batches per domain per evaluation (the same windows every time). */
  evalBatches: number;
  seed: number;
  out: string;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
  handleSigint?: boolean;
}

export const DEFAULT_OPTIONS: ContinualOptions = {
  device: 'auto', pretrained: 'runs/pretrain-gpt', pretrainSteps: 600, newChars: 200_000, newShare: 0.7,
  steps: 300, lr: 5e-4, minLr: 5e-5, warmup: 20, batchSize: 16, weightDecay: 0.1, gradClip: 1.0,
  evalInterval: 25, evalBatches: 8, seed: 1337, out: 'runs/continual-pretrain',
};

export interface DomainLosses { new: number; old: number }

export interface ContinualRun {
  name: string;
  /** Share of new-domain windows in its training batches. */
  newShare: number;
  before: DomainLosses;
  after: DomainLosses;
  /** Validation loss of each domain at each evaluation. */
  curve: { step: number; new: number; old: number }[];
  train: TrainResult;
}

export interface ContinualResult {
  runs: ContinualRun[];
  device: DeviceName;
  pretrained: string;
  /** Characters added to the vocabulary for the new domain (none for the built-in domains). */
  addedChars: string;
  plotPath: string;
  resultPath: string;
  table: string;
}

const signed = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;

export async function continualPretrain(opts: ContinualOptions): Promise<ContinualResult> {
  if (!(opts.newShare > 0 && opts.newShare <= 1)) throw new RangeError(`continual-pretrain: newShare must be in (0, 1], got ${opts.newShare}`);
  const stream = opts.stream ?? process.stdout;
  const say = (s: string) => { stream.write(`${s}\n`); };
  const device: DeviceName = opts.device === 'cpu' || opts.device === 'webgpu' || opts.device === 'auto' ? await selectDevice(opts.device, say) : opts.device;

  const pre = await loadOrPretrainGpt({
    dir: opts.pretrained, device, say, stream, tty: opts.tty, fsync: opts.fsync,
    pretrain: { ...opts.pretrain, steps: opts.pretrainSteps },
  });
  pre.model.dispose();
  const oldText = opts.oldText ?? opts.pretrain?.text ?? generateCorpus();
  const newText = opts.newText ?? generateRecipes({ chars: opts.newChars, seed: opts.seed });
  // Each run starts from the pre-trained weights, with the vocabulary grown if the new text needs it.
  const freshModel = async (): Promise<GPT> => {
    const { model, tokenizer } = await loadPretrainedGpt(pre.checkpoint, device);
    return (await fitVocabulary(model, tokenizer, oldText + newText, () => {})).model;
  };
  const tokenizer = pre.tokenizer.extend(oldText + newText);
  const addedChars = tokenizer.chars.slice(pre.tokenizer.vocabSize).join('');
  if (addedChars) say(`vocabulary: adding ${JSON.stringify(addedChars)} for the new domain (${pre.tokenizer.vocabSize} → ${tokenizer.vocabSize} tokens)`);
  const T = pre.config.blockSize;
  const old = trainValSplit(tokenizer.encode(oldText), 0.9);
  const neu = trainValSplit(tokenizer.encode(newText), 0.9);
  say(`domains: old (pre-training text) ${old.train.length.toLocaleString('en-US')} / ${old.val.length.toLocaleString('en-US')} train/val tokens; new (${opts.newText ? 'given text' : 'generated recipes'}) ${neu.train.length.toLocaleString('en-US')} / ${neu.val.length.toLocaleString('en-US')}`);
  const cut = newText.indexOf('\n\n');
  say(`the start of the new domain:\n${newText.slice(0, cut > 0 && cut < 600 ? cut : 300)}\n`);

  const oldTrain = new TokenWindows(old.train, T);
  const newTrain = new TokenWindows(neu.train, T);
  const evalLoader = (tokens: Int32Array) => {
    const w = new TokenWindows(tokens, T);
    return new DataLoader(new Subset(w, w.evenlySpaced(opts.evalBatches * opts.batchSize)), { batchSize: opts.batchSize, device });
  };
  const evalData = { new: evalLoader(neu.val), old: evalLoader(old.val) };

  const specs = [
    { name: 'mixed', newShare: opts.newShare },
    { name: 'new-only', newShare: 1 },
  ];
  const runs: ContinualRun[] = [];
  for (const spec of specs) {
    say(`\n=== ${spec.name}: ${percent(spec.newShare)} new domain, ${percent(1 - spec.newShare)} old, ${opts.steps} steps at lr ${opts.lr} → ${opts.minLr} ===`);
    manualSeed(opts.seed);
    const model = await freshModel();
    const optimizer = new AdamW(model.configureOptimizerGroups(opts.weightDecay), { lr: opts.lr, betas: [0.9, 0.99] });
    const scheduler = new LrScheduler(optimizer, cosineWithWarmup({ lr: opts.lr, warmupSteps: opts.warmup, decaySteps: Math.max(opts.steps, opts.warmup + 1), minLr: opts.minLr }));
    // One pipeline for both runs; only the ratio differs (1: the old domain is never drawn).
    const mixed = mixDatasets(newTrain, oldTrain, { ratio: spec.newShare, seed: opts.seed });
    const trainData = new DataLoader<Window, { x: Tensor; y: Tensor }>(mixed, { batchSize: opts.batchSize, device });
    try {
      const trainer = new Trainer({
        model, optimizer, scheduler, steps: opts.steps, trainData,
        trainLoss: (b) => model.forward(b.x, b.y).loss!,
        evalData, evalLoss: (_split, b) => model.forward(b.x, b.y).loss!,
        evalInterval: opts.evalInterval, gradClip: opts.gradClip, best: { metric: 'new' },
        itemsPerStep: opts.batchSize * T, outDir: join(opts.out, spec.name),
        checkpointExtra: { model: { ...pre.config, vocabSize: tokenizer.vocabSize }, chars: tokenizer.chars.join('') },
        config: {
          run: spec.name, newShare: spec.newShare, seed: opts.seed, device, pretrained: pre.checkpoint, steps: opts.steps, lr: opts.lr, minLr: opts.minLr,
          warmup: opts.warmup, batchSize: opts.batchSize, blockSize: T, weightDecay: opts.weightDecay, gradClip: opts.gradClip, evalBatches: opts.evalBatches,
        },
        stream, tty: opts.tty, fsync: opts.fsync, handleSigint: opts.handleSigint,
      });
      const train = await trainer.run();
      say(formatSummary(train));
      const curve = train.evals.map((e) => ({ step: e.step, new: e.losses.new!, old: e.losses.old! }));
      const first = curve[0]!;
      const last = curve[curve.length - 1]!;
      runs.push({ name: spec.name, newShare: spec.newShare, before: { new: first.new, old: first.old }, after: { new: last.new, old: last.old }, curve, train });
      if (train.interrupted) break;
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  }

  const colors = { mixed: ['#1f77b4', '#9ecae1'], 'new-only': ['#d62728', '#f4a6a6'] } as Record<string, [string, string]>;
  const plotPath = join(opts.out, 'forgetting.svg');
  writeFileSync(plotPath, lineChart(runs.flatMap((r) => [
    { name: `${r.name}: new domain`, points: r.curve.map((c) => [c.step, c.new] as [number, number]), color: colors[r.name]?.[0], markers: true },
    { name: `${r.name}: old domain`, points: r.curve.map((c) => [c.step, c.old] as [number, number]), color: colors[r.name]?.[1], markers: true },
  ]), { title: 'Validation loss of both domains during continual pre-training', xLabel: 'step', yLabel: 'val loss' }));

  const table = formatTable(
    ['run', 'new share', 'new val before', 'new val after', 'old val before', 'old val after', 'old Δ (forgetting)'],
    runs.map((r) => [r.name, percent(r.newShare), ...[r.before.new, r.after.new, r.before.old, r.after.old].map((v) => v.toFixed(4)), signed(r.after.old - r.before.old)]),
  );
  say(`\n${table}`);
  const [mix, only] = runs;
  if (mix && only) {
    const fm = mix.after.old - mix.before.old;
    const fo = only.after.old - only.before.old;
    say(`\nforgetting of the old domain: ${fo.toFixed(4)} without replay, ${fm.toFixed(4)} with ${percent(1 - mix.newShare)} replay — ${fo > fm ? 'replay forgot less' : 'replay did not forget less in this run'}`);
  }
  const resultPath = join(opts.out, 'results.json');
  writeFileSync(resultPath, `${JSON.stringify({
    device, pretrained: pre.checkpoint, addedChars,
    runs: runs.map(({ train, ...r }) => ({ ...r, wallSeconds: train.wallSeconds, msPerStep: train.msPerStep, metrics: train.metricsPath, plot: train.plotPath })),
  }, null, 2)}\n`);
  say(`plot: ${plotPath}\nresults: ${resultPath}`);
  return { runs, device, pretrained: pre.checkpoint, addedChars, plotPath, resultPath, table };
}
