// Masked-LM pre-training of a small BERT-style encoder (Devlin et al. 2019) on mail text: a
// byte-level BPE trained on the corpus, documents packed into [CLS]-led sequences, BERT's
// corruption (15% of tokens chosen; of those 80% → [MASK], 10% → a random token, 10% unchanged;
// the loss, and the output layer, only on chosen positions), AdamW with a cosine schedule, the
// Trainer (JSONL log, SVG plot, checkpoints, --resume), and evaluation on fixed masked batches of
// held-out text: MLM loss and the accuracy on masked positions. The encoder is saved with its
// config and tokenizer for fine-tuning (encoder_files.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, type DeviceName } from '@webgrad/core';
import { ArrayDataset, ByteLevelBPETokenizer, DataLoader, seedFromGlobal } from '@webgrad/data';
import { BertForMaskedLM } from '@webgrad/nn';
import { AdamW, LrScheduler, cosineWithWarmup, paramGroupsWithDecay, type JsonValue } from '@webgrad/optim';
import { Trainer, formatSummary, type ProgressStream, type StepInfo, type TrainResult } from '@webgrad/train';
import { selectDevice, type DeviceChoice } from '../shared/device.js';
import { readMailText, sampleMails, splitCorpus } from '../shared/spam_assassin.js';
import { saveEncoder, type EncoderBertConfig, type EncoderConfigFile } from './encoder_files.js';
import { MaskedTokenAccuracy } from './masked_accuracy.js';
import { disposeBatch, maskedBatch, maskedEvalBatches, packSequences, unmaskable, type MlmBatch } from './mlm_data.js';
import { sparseMlmForward } from './mlm_loss.js';
import { specialIds, trainTokenizer } from './tokenizer.js';

/** A training batch (sequences on the host, masked in the loss function) or an evaluation batch (masked once). */
type Batch = Int32Array[] | MlmBatch;

export interface PretrainMlmOptions {
  /** A UTF-8 text file to pre-train on, its paragraphs (blank-line separated) as documents;
   *  default: mails of the SpamAssassin corpus. */
  data?: string;
  /** Mails of the corpus' train split to pre-train on. */
  mails: number;
  /** Mails of the corpus' val split to evaluate on. */
  valMails: number;
  /** Characters kept per mail (Subject + body). */
  maxChars: number;
  /** Seed of the corpus' train/val/test split (the fine-tuning example must use the same). */
  splitSeed: number;
  /** Tokenizer vocabulary: 4 special tokens + 256 bytes + merges. */
  vocabSize: number;
  device: DeviceChoice | DeviceName;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  /** Feed-forward width (0: 4 × hiddenSize). */
  intermediateSize: number;
  seqLen: number;
  batchSize: number;
  steps: number;
  lr: number;
  minLr: number;
  warmup: number;
  weightDecay: number;
  gradClip: number;
  dropout: number;
  /** Probability that a token is chosen for prediction. */
  maskProb: number;
  evalInterval: number;
  /** Sequences of held-out text per evaluation (at most what valMails give). */
  evalSequences: number;
  seed: number;
  out: string;
  resume: boolean;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
  handleSigint?: boolean;
  onStep?: (info: StepInfo, trainer: Trainer<Batch>) => void;
}

/**
 * The default run: a 2-layer, 64-wide encoder on every mail of the corpus' train split (about
 * 2.4M tokens), 2,400 steps of 32 × 64 tokens — a few minutes on a 2-core CPU. A model this small
 * trained this briefly underfits, so there is no dropout.
 */
export const DEFAULT_OPTIONS: PretrainMlmOptions = {
  mails: 5000, valMails: 100, maxChars: 2000, splitSeed: 0, vocabSize: 1024, device: 'auto',
  hiddenSize: 64, numLayers: 2, numHeads: 2, intermediateSize: 0, seqLen: 64, batchSize: 32, steps: 2400,
  lr: 3e-3, minLr: 1e-4, warmup: 50, weightDecay: 0.01, gradClip: 1.0, dropout: 0, maskProb: 0.15,
  evalInterval: 300, evalSequences: 96, seed: 1337, out: 'runs/pretrain-mlm', resume: false,
};

export interface PretrainMlmResult {
  train: TrainResult;
  /** Masked-LM loss and masked-token accuracy of the first and the last evaluation. */
  first: { loss: number; accuracy: number };
  final: { loss: number; accuracy: number };
  /** Accuracy of always guessing the most frequent training token, on the evaluation's masked positions. */
  unigramAccuracy: number;
  vocabSize: number;
  parameters: number;
  device: DeviceName;
  /** Where the encoder, its config and tokenizer were written (the output directory). */
  encoderDir: string;
}

/** Train and held-out documents: mails of the corpus split, or a text file's paragraphs (last 10% held out). */
function loadDocuments(opts: PretrainMlmOptions): { train: string[]; val: string[]; source: EncoderConfigFile['data']; describe: string } {
  if (opts.data) {
    const docs = readFileSync(opts.data, 'utf8').split(/\n\s*\n/).map((p) => p.trim()).filter((p) => p.length > 0);
    const cut = Math.max(1, Math.floor(docs.length * 0.9));
    if (docs.length < 2) throw new RangeError(`pretrain-mlm: ${opts.data} has ${docs.length} paragraph(s); separate documents with blank lines`);
    return { train: docs.slice(0, cut), val: docs.slice(cut), source: { source: 'file', path: opts.data }, describe: `${opts.data}: ${docs.length} paragraphs` };
  }
  const split = splitCorpus(opts.splitSeed);
  const read = (entries: typeof split.train) => entries.map((e) => readMailText(e, { maxChars: opts.maxChars }));
  const train = read(sampleMails(split.train, opts.mails, opts.seed));
  const val = read(sampleMails(split.val, opts.valMails, opts.seed));
  return {
    train, val, source: { source: 'spam-assassin', splitSeed: opts.splitSeed, mails: train.length },
    describe: `SpamAssassin: ${train.length} train-split mails, ${val.length} val-split mails (split seed ${opts.splitSeed}), ≤ ${opts.maxChars} chars each`,
  };
}

export async function pretrainMlm(opts: PretrainMlmOptions): Promise<PretrainMlmResult> {
  const stream = opts.stream ?? process.stdout;
  const say = (s: string) => { stream.write(`${s}\n`); };
  const device: DeviceName = opts.device === 'cpu' || opts.device === 'webgpu' || opts.device === 'auto' ? await selectDevice(opts.device, say) : opts.device;

  const docs = loadDocuments(opts);
  say(`data: ${docs.describe}`);
  // The tokenizer is trained once per output directory: a resumed run reads it back.
  const resumeTokenizer = opts.resume && existsSync(join(opts.out, 'tokenizer.json'));
  const tok = resumeTokenizer ? await ByteLevelBPETokenizer.load(opts.out) : trainTokenizer(docs.train, opts.vocabSize);
  if (!resumeTokenizer) await tok.save(opts.out);
  const ids = specialIds(tok);
  const trainSeqs = packSequences(docs.train.map((t) => tok.encode(t)), opts.seqLen, ids);
  const valSeqs = packSequences(docs.val.map((t) => tok.encode(t)), opts.seqLen, ids).slice(0, opts.evalSequences);
  if (trainSeqs.length < opts.batchSize) throw new RangeError(`pretrain-mlm: ${trainSeqs.length} training sequences of ${opts.seqLen} tokens are fewer than a batch of ${opts.batchSize}; use more mails or shorter sequences`);
  if (valSeqs.length === 0) throw new RangeError(`pretrain-mlm: the held-out text is shorter than one sequence of ${opts.seqLen} tokens; use more val mails`);
  const trainTokens = trainSeqs.length * opts.seqLen;
  say(`tokens: byte-level BPE, vocab ${tok.vocabSize}; ${trainSeqs.length} train sequences of ${opts.seqLen} (${trainTokens.toLocaleString('en-US')} tokens, ${((opts.steps * opts.batchSize) / trainSeqs.length).toFixed(2)} epochs in ${opts.steps} steps), ${valSeqs.length} held-out sequences`);

  manualSeed(opts.seed);
  const bertConfig: EncoderBertConfig = {
    vocabSize: tok.vocabSize, hiddenSize: opts.hiddenSize, numLayers: opts.numLayers, numHeads: opts.numHeads,
    intermediateSize: opts.intermediateSize > 0 ? opts.intermediateSize : 4 * opts.hiddenSize, maxPositions: opts.seqLen, dropout: opts.dropout,
  };
  const model = new BertForMaskedLM({ ...bertConfig, device });
  const parameters = model.numParameters();
  say(`model: BERT encoder ${opts.numLayers} layers, ${opts.numHeads} heads, ${opts.hiddenSize} wide, FFN ${bertConfig.intermediateSize}, MLM head tied to the embedding — ${(parameters / 1e6).toFixed(2)}M parameters`);
  say(`run: seed ${opts.seed} on ${device}, ${opts.steps} steps of ${opts.batchSize}×${opts.seqLen} tokens, ${Math.round(opts.maskProb * 100)}% masked, lr ${opts.lr} → ${opts.minLr} after ${opts.warmup} warmup steps, weight decay ${opts.weightDecay}, clip ${opts.gradClip}`);

  const mask = { prob: opts.maskProb, vocabSize: tok.vocabSize, ids };
  const evalBatches = maskedEvalBatches(valSeqs, opts.batchSize, mask, opts.seed, device);
  const unigramAccuracy = await unigramBaseline(trainSeqs, evalBatches, unmaskable(ids));
  // Training batches stay on the host until masked: the collate function hands over the sequences.
  const loader = new DataLoader<Int32Array, Int32Array[]>(new ArrayDataset(trainSeqs), { batchSize: opts.batchSize, shuffle: true, seed: opts.seed, dropLast: true, collate: (items) => items });
  const optimizer = new AdamW(paramGroupsWithDecay(model.namedParameters(), opts.weightDecay), { lr: opts.lr, betas: [0.9, 0.98] });
  const scheduler = new LrScheduler(optimizer, cosineWithWarmup({ lr: opts.lr, warmupSteps: opts.warmup, decaySteps: Math.max(opts.steps, opts.warmup + 1), minLr: opts.minLr }));
  const accuracy = new MaskedTokenAccuracy();

  try {
    const trainer = new Trainer<Batch>({
      model, optimizer, scheduler, steps: opts.steps, trainData: loader,
      // The masking seed comes from the global generator, which checkpoints keep: a resumed run masks alike.
      trainLoss: (batch) => sparseMlmForward(model, maskedBatch(batch as Int32Array[], mask, seedFromGlobal(), device)).loss,
      evalData: { val: evalBatches },
      evalLoss: (_split, batch) => {
        const b = batch as MlmBatch;
        const { loss, logits } = sparseMlmForward(model, b);
        accuracy.add(logits, b.targets);
        return loss;
      },
      evalMetrics: async () => ({ maskedAcc: await accuracy.compute() }),
      evalInterval: opts.evalInterval, gradClip: opts.gradClip, itemsPerStep: opts.batchSize * opts.seqLen,
      outDir: opts.out, resume: opts.resume,
      checkpointExtra: { bert: bertConfig, seqLen: opts.seqLen } as unknown as JsonValue, config: runConfig(opts, device, bertConfig),
      stream, tty: opts.tty, fsync: opts.fsync, handleSigint: opts.handleSigint, onStep: opts.onStep,
    });
    const result = await trainer.run();
    say(formatSummary(result));
    const pick = (i: number) => ({ loss: result.evals.at(i)?.losses.val ?? NaN, accuracy: result.evals.at(i)?.metrics?.maskedAcc ?? NaN });
    const first = pick(0);
    const final = pick(-1);
    say(`masked LM on held-out text: loss ${first.loss.toFixed(4)} → ${final.loss.toFixed(4)}, masked-token accuracy ${pct(first.accuracy)} → ${pct(final.accuracy)} (always the most frequent token: ${pct(unigramAccuracy)})`);
    if (!result.interrupted) {
      await saveEncoder(opts.out, model.bert, tok, {
        format: 'webgrad-mlm-encoder/1', bert: bertConfig, seqLen: opts.seqLen, specialIds: ids, data: docs.source, steps: result.step,
        final: Number.isFinite(final.loss) ? final : null,
      });
      say(`encoder: ${join(opts.out, 'encoder.safetensors')} (+ encoder_config.json, tokenizer.json) — fine-tune it with \`pnpm example finetune-classifier --encoder ${opts.out}\``);
    }
    return { train: result, first, final, unigramAccuracy, vocabSize: tok.vocabSize, parameters, device, encoderDir: opts.out };
  } finally {
    for (const b of evalBatches) disposeBatch(b);
    accuracy.reset();
    optimizer.dispose();
    model.dispose();
  }
}

/** The run's settings for the metrics log (the options without streams and callbacks). */
function runConfig(opts: PretrainMlmOptions, device: DeviceName, bert: EncoderBertConfig): JsonValue {
  const { stream: _s, tty: _t, fsync: _f, handleSigint: _h, onStep: _o, ...settings } = opts;
  return JSON.parse(JSON.stringify({ ...settings, device, bert })) as JsonValue;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Accuracy of predicting the most frequent (maskable) training token at every masked position. */
async function unigramBaseline(train: readonly Int32Array[], evalBatches: readonly MlmBatch[], special: readonly number[]): Promise<number> {
  const counts = new Map<number, number>();
  for (const s of train) for (const id of s) if (!special.includes(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
  let top = -1;
  let best = -1;
  for (const [id, c] of counts) if (c > best) { best = c; top = id; }
  let hit = 0;
  let n = 0;
  for (const b of evalBatches) {
    for (const t of await b.targets.data()) { n++; if (t === top) hit++; }
  }
  return n > 0 ? hit / n : NaN;
}
