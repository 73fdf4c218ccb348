// Supervised fine-tuning (instruction tuning) of the pre-trained character GPT: instruction records
// from a JSONL file or generated tasks with checkable answers (written to JSONL and read back),
// a compact Alpaca-style prompt, loss on the response tokens only, padded batches from a shuffled
// DataLoader, AdamW with a cosine schedule, and the Trainer evaluating the held-out response loss
// and exact match of greedy answers (before training, every few steps and at the end).
//
// `sftGpt` takes hooks so that the lora example runs this same fine-tuning with adapters: `adapt`
// changes the loaded model before the optimizer sees its parameters, `after` reads the trained model.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { manualSeed, type DeviceName, type Tensor } from '@webgrad/core';
import { DataLoader, Dataset, padCollate, randomSplit, readInstructionRecords, type InstructionRecord } from '@webgrad/data';
import type { GPT } from '@webgrad/nn';
import { AdamW, LrScheduler, cosineWithWarmup } from '@webgrad/optim';
import { Trainer, formatSummary, type ProgressStream, type TrainResult } from '@webgrad/train';
import type { PretrainOptions } from '../pretrain-gpt/pretrain.js';
import type { CharTokenizer } from '../shared/char_tokenizer.js';
import { selectDevice, type DeviceChoice } from '../shared/device.js';
import { loadOrPretrainGpt } from '../shared/pretrained_gpt.js';
import { formatTable, percent } from '../shared/table.js';
import { fitVocabulary } from '../shared/vocab_extension.js';
import { exactMatch, type ExactMatch } from './exact_match.js';
import { encodeExample, formatExample, type SftExample } from './prompt.js';
import { generateTaskData } from './tasks.js';

export interface SftOptions {
  device: DeviceChoice | DeviceName;
  /** pretrain-gpt's output directory (or a checkpoint directory) to start from. */
  pretrained: string;
  /** Steps of the pre-training run made when `pretrained` holds no checkpoint. */
  pretrainSteps: number;
  /** More settings of that pre-training run (tests: a tiny model). */
  pretrain?: Partial<PretrainOptions>;
  /** A JSONL file of { instruction, input, output } records (default: generated tasks). */
  data?: string;
  /** Held-out records (default: 10% of `data`, or generated held-out tasks). */
  evalData?: string;
  /** Generated training and held-out records. */
  trainExamples: number;
  evalExamples: number;
  steps: number;
  lr: number;
  minLr: number;
  warmup: number;
  batchSize: number;
  weightDecay: number;
  gradClip: number;
  /** Evaluate (held-out loss and exact match) every N steps. */
  evalInterval: number;
  seed: number;
  out: string;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
  handleSigint?: boolean;
}

export const DEFAULT_OPTIONS: SftOptions = {
  device: 'auto', pretrained: 'runs/pretrain-gpt', pretrainSteps: 600, trainExamples: 4000, evalExamples: 200,
  steps: 800, lr: 3e-3, minLr: 3e-4, warmup: 50, batchSize: 32, weightDecay: 0.01, gradClip: 1.0, evalInterval: 200,
  seed: 1337, out: 'runs/sft',
};

/** What the fine-tuning saw, to tell whether two runs are comparable. */
export interface SftDataInfo {
  source: string;
  train: number;
  eval: number;
  /** Records left out because prompt + response exceed the model's context. */
  tooLong: number;
  /** FNV-1a of the held-out records. */
  evalHash: string;
}

export interface SftScores {
  /** Mean cross-entropy on the held-out responses. */
  loss: number;
  exactMatch: number;
  byInstruction: Record<string, number>;
}

/** What the hooks get to see. */
export interface SftContext {
  tokenizer: CharTokenizer;
  device: DeviceName;
  evalRecords: readonly InstructionRecord[];
  evalExamples: readonly SftExample[];
  /** Characters added to the vocabulary for the data. */
  addedChars: string[];
  pretrainedCheckpoint: string;
  out: string;
  say: (s: string) => void;
}

export interface SftHooks {
  /** What the run is called in messages and results (default 'full fine-tuning'). */
  name?: string;
  /** Called with the pre-trained model before the optimizer is made (LoRA wraps its layers here). */
  adapt?: (model: GPT, ctx: SftContext) => void | Promise<void>;
  /** Called with the trained model before it is disposed. */
  after?: (model: GPT, ctx: SftContext) => Promise<void>;
}

export interface SftResult {
  name: string;
  before: SftScores;
  after: SftScores;
  /** A few held-out records with the trained model's answers. */
  samples: { record: InstructionRecord; answer: string }[];
  parameters: { total: number; trainable: number };
  data: SftDataInfo;
  train: TrainResult;
  device: DeviceName;
  pretrained: string;
  table: string;
  resultPath: string;
}

const fnv = (s: string): string => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
};

const toJsonl = (records: readonly InstructionRecord[]): string => records.map((r) => JSON.stringify({ instruction: r.instruction, input: r.input, output: r.output })).join('\n') + '\n';

/** Training and held-out records: read from JSONL, or generated, written as JSONL and read back. */
async function loadRecords(opts: SftOptions, fits: (r: InstructionRecord) => boolean, say: (s: string) => void): Promise<{ train: InstructionRecord[]; eval: InstructionRecord[]; source: string }> {
  if (opts.data) {
    const all = (await readInstructionRecords(opts.data)).records;
    if (opts.evalData) return { train: all, eval: (await readInstructionRecords(opts.evalData)).records, source: resolve(opts.data) };
    const [train, held] = randomSplit(Dataset.from(all), [0.9, 0.1], { seed: opts.seed });
    return { train: [...train!], eval: [...held!], source: resolve(opts.data) };
  }
  const gen = generateTaskData({ train: opts.trainExamples, eval: opts.evalExamples, seed: opts.seed, accept: fits });
  const dir = join(opts.out, 'data');
  mkdirSync(dir, { recursive: true });
  const paths = { train: join(dir, 'train.jsonl'), eval: join(dir, 'eval.jsonl') };
  writeFileSync(paths.train, toJsonl(gen.train));
  writeFileSync(paths.eval, toJsonl(gen.eval));
  say(`data: generated ${gen.train.length} training and ${gen.eval.length} held-out records → ${paths.train}, ${paths.eval}`);
  return { train: (await readInstructionRecords(paths.train)).records, eval: (await readInstructionRecords(paths.eval)).records, source: 'generated tasks' };
}

const scoresOf = (losses: Record<string, number>, metrics: Record<string, number> | undefined): SftScores => ({
  loss: losses.val!,
  exactMatch: metrics?.exact_match ?? NaN,
  byInstruction: Object.fromEntries(Object.entries(metrics ?? {}).filter(([k]) => k.startsWith('em_')).map(([k, v]) => [k.slice(3), v])),
});

export async function sftGpt(opts: SftOptions, hooks: SftHooks = {}): Promise<SftResult> {
  const name = hooks.name ?? 'full fine-tuning';
  const stream = opts.stream ?? process.stdout;
  const say = (s: string) => { stream.write(`${s}\n`); };
  const device: DeviceName = opts.device === 'cpu' || opts.device === 'webgpu' || opts.device === 'auto' ? await selectDevice(opts.device, say) : opts.device;

  const pre = await loadOrPretrainGpt({
    dir: opts.pretrained, device, say, stream, tty: opts.tty, fsync: opts.fsync,
    pretrain: { ...opts.pretrain, steps: opts.pretrainSteps },
  });
  const blockSize = pre.config.blockSize;
  // Generated records are drawn until they fit the vocabulary and the context; a file's records
  // may bring new characters (the vocabulary grows) and too-long records (left out).
  const fits = (r: InstructionRecord) => pre.tokenizer.unknownChars(formatExample(r)).length === 0 && [...formatExample(r)].length <= blockSize + 1;
  const records = await loadRecords(opts, fits, say);
  const fitted = await fitVocabulary(pre.model, pre.tokenizer, [...records.train, ...records.eval].map(formatExample).join(''), say);
  const { tokenizer } = fitted;
  const model = fitted.model;
  let optimizer: AdamW | undefined;
  try {
    const encode = (rs: readonly InstructionRecord[]) => {
      const kept: { record: InstructionRecord; example: SftExample }[] = [];
      for (const record of rs) {
        const example = encodeExample(record, tokenizer, blockSize);
        if (example) kept.push({ record, example });
      }
      return kept;
    };
    const train = encode(records.train);
    const held = encode(records.eval);
    const tooLong = records.train.length + records.eval.length - train.length - held.length;
    if (tooLong > 0) say(`data: left out ${tooLong} records longer than the context (${blockSize + 1} characters with the end-of-response newline)`);
    if (train.length === 0 || held.length === 0) throw new Error(`sft: no ${train.length === 0 ? 'training' : 'held-out'} record fits the model's context of ${blockSize}`);
    const evalRecords = held.map((h) => h.record);
    const evalExamples = held.map((h) => h.example);
    const data: SftDataInfo = {
      source: records.source, train: train.length, eval: held.length, tooLong,
      evalHash: fnv(evalRecords.map((r) => JSON.stringify([r.instruction, r.input, r.output])).join('\n')),
    };
    say(`data: ${data.train} training / ${data.eval} held-out records from ${data.source}; a training text:\n${formatExample(records.train[0]!)}--- (the model answers after "Response:"; loss on the answer and its newline only)`);

    const ctx: SftContext = { tokenizer, device, evalRecords, evalExamples, addedChars: fitted.added, pretrainedCheckpoint: pre.checkpoint, out: opts.out, say };
    manualSeed(opts.seed);
    if (hooks.adapt) await hooks.adapt(model, ctx);
    const parameters = { total: model.numParameters(), trainable: model.numParameters({ trainableOnly: true }) };

    const end = tokenizer.encode('\n')[0]!;
    const meanLength = train.reduce((n, t) => n + t.example.inputIds.length, 0) / train.length;
    type Batch = { inputIds: Tensor; labels: Tensor; attentionMask: Tensor };
    const collate = padCollate({ padValue: end, keys: ['inputIds', 'labels'] });
    const asItems = (xs: readonly { example: SftExample }[]) => Dataset.from(xs.map(({ example: e }) => ({ inputIds: e.inputIds, labels: e.labels })));
    const trainData = new DataLoader(asItems(train), { batchSize: opts.batchSize, shuffle: true, seed: opts.seed, collate, device }) as unknown as DataLoader<unknown, Batch>;
    const evalData = { val: new DataLoader(asItems(held), { batchSize: opts.batchSize, collate, device }) as unknown as DataLoader<unknown, Batch> };
    optimizer = new AdamW(model.configureOptimizerGroups(opts.weightDecay), { lr: opts.lr, betas: [0.9, 0.99] });
    const scheduler = new LrScheduler(optimizer, cosineWithWarmup({ lr: opts.lr, warmupSteps: opts.warmup, decaySteps: Math.max(opts.steps, opts.warmup + 1), minLr: opts.minLr }));
    let lastEm: ExactMatch | null = null;
    say(`\n=== ${name}: ${parameters.trainable.toLocaleString('en-US')} of ${parameters.total.toLocaleString('en-US')} parameters trained, ${opts.steps} steps of ${opts.batchSize} records, lr ${opts.lr} → ${opts.minLr} ===`);
    const trainer = new Trainer<Batch>({
      model, optimizer, scheduler, steps: opts.steps, trainData,
      trainLoss: (b) => model.forward(b.inputIds, b.labels).loss!,
      evalData, evalLoss: (_split, b) => model.forward(b.inputIds, b.labels).loss!,
      evalMetrics: async () => {
        lastEm = await exactMatch(model, tokenizer, evalRecords, { device });
        return { exact_match: lastEm.score, ...Object.fromEntries(Object.entries(lastEm.byInstruction).map(([k, v]) => [`em_${k}`, v])) };
      },
      evalInterval: opts.evalInterval, gradClip: opts.gradClip, itemsPerStep: Math.round(opts.batchSize * meanLength),
      outDir: opts.out, checkpointExtra: { model: { ...pre.config, vocabSize: tokenizer.vocabSize }, chars: tokenizer.chars.join('') },
      config: {
        run: name, seed: opts.seed, device, pretrained: pre.checkpoint, data: { ...data }, steps: opts.steps, lr: opts.lr, minLr: opts.minLr, warmup: opts.warmup,
        batchSize: opts.batchSize, weightDecay: opts.weightDecay, gradClip: opts.gradClip, parameters,
      },
      stream, tty: opts.tty, fsync: opts.fsync, handleSigint: opts.handleSigint,
    });
    const result = await trainer.run();
    say(formatSummary(result));
    const firstEval = result.evals[0]!;
    const lastEval = result.evals[result.evals.length - 1]!;
    const before = scoresOf(firstEval.losses, firstEval.metrics);
    const after = scoresOf(lastEval.losses, lastEval.metrics);
    const em = lastEm as ExactMatch | null;
    const samples = em ? pickSamples(evalRecords, em.answers) : [];
    if (hooks.after) await hooks.after(model, ctx);

    const rows: string[][] = [
      ['held-out response loss', before.loss.toFixed(4), after.loss.toFixed(4)],
      ['exact match', percent(before.exactMatch), percent(after.exactMatch)],
      ...Object.keys(after.byInstruction).map((k) => [`  exact match: ${k}`, percent(before.byInstruction[k] ?? NaN), percent(after.byInstruction[k]!)]),
    ];
    const table = formatTable([`${name} (${data.eval} held-out records)`, 'before', 'after'], rows);
    say(`\n${table}\n\nheld-out answers after ${name}:\n${samples.map((s) => `  ${JSON.stringify(s.record.instruction)} ${JSON.stringify(s.record.input)} → ${JSON.stringify(s.answer)} ${s.answer === s.record.output ? '✓' : `✗ (expected ${JSON.stringify(s.record.output)})`}`).join('\n')}`);
    const resultPath = join(opts.out, 'results.json');
    writeFileSync(resultPath, `${JSON.stringify({
      name, device, pretrained: pre.checkpoint, data, parameters, steps: result.step, lr: opts.lr, before, after, samples,
      wallSeconds: result.wallSeconds, msPerStep: result.msPerStep, metrics: result.metricsPath, plot: result.plotPath, checkpoint: result.checkpoint,
    }, null, 2)}\n`);
    say(`results: ${resultPath}`);
    return { name, before, after, samples, parameters, data, train: result, device, pretrained: pre.checkpoint, table, resultPath };
  } finally {
    optimizer?.dispose();
    model.dispose();
  }
}

/** Up to two held-out records per instruction (the first ones), with their answers. */
function pickSamples(records: readonly InstructionRecord[], answers: readonly string[]): { record: InstructionRecord; answer: string }[] {
  const seen = new Map<string, number>();
  const out: { record: InstructionRecord; answer: string }[] = [];
  records.forEach((record, i) => {
    const n = seen.get(record.instruction) ?? 0;
    if (n < 2 && out.length < 8) { out.push({ record, answer: answers[i]! }); seen.set(record.instruction, n + 1); }
  });
  return out;
}
