// Task 1, a character language model: a CharRNN (LSTM or GRU) trained on the built-in generated
// verse or a text file, split 90/10 in order. Training batches are random windows (every window
// once per epoch, in a seeded shuffle); evaluation tiles a slice of the training text and the whole
// validation text. The Trainer keeps the best checkpoint by validation loss; the model is then
// scored from it against unigram and bigram baselines, and a sample is printed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crossEntropy, manualSeed, noGrad, tidy, type DeviceName, type Tensor } from '@webgrad/core';
import { CharTokenizer, DataLoader, splitTokens } from '@webgrad/data';
import { Adam, LrScheduler, bestCheckpoint, cosineWithWarmup, loadCheckpoint } from '@webgrad/optim';
import { Trainer, formatSummary, type ProgressStream, type TrainResult } from '@webgrad/train';
import { generateCorpus } from '../shared/corpus.js';
import { bigramNll, entropy, unigramNll } from './baselines.js';
import { CharRNN, type Cell } from './models.js';
import { NextTokenWindows } from './windows.js';

export interface CharLmOptions {
  /** A UTF-8 text file (default: the built-in generated verse). */
  data?: string;
  /** The text itself (takes precedence over `data`). */
  text?: string;
  device: DeviceName;
  cell: Cell;
  embedDim: number;
  hidden: number;
  layers: number;
  blockSize: number;
  batchSize: number;
  /** Optimizer steps, or passes over the training windows when `epochs` is given. */
  steps: number;
  epochs?: number;
  lr: number;
  warmup: number;
  gradClip: number;
  evalInterval: number;
  seed: number;
  out: string;
  resume?: boolean;
  sampleChars: number;
  temperature: number;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
  handleSigint?: boolean;
}

export const CHARLM_DEFAULTS = {
  cell: 'lstm', embedDim: 32, hidden: 96, layers: 1, blockSize: 48, batchSize: 32, steps: 500,
  lr: 5e-3, warmup: 20, gradClip: 1, evalInterval: 100, sampleChars: 240, temperature: 0.7,
} as const;

export interface CharLmResult {
  train: TrainResult;
  /** e.g. 'LSTM 1×96'. */
  model: string;
  vocabSize: number;
  parameters: number;
  /** Mean NLL per character on the validation text (nats), from the best checkpoint. */
  valNll: number;
  valPerplexity: number;
  bitsPerChar: number;
  baselines: { unigramNll: number; bigramNll: number; entropy: number };
  /** The step of the checkpoint scored. */
  bestStep: number;
  sample: string;
  wallSeconds: number;
}

type Batch = { x: Tensor; y: Tensor };

/** Mean cross-entropy of a batch, summed over its B·T tokens when `sum`. */
function batchLoss(model: CharRNN, { x, y }: Batch, sum = false): Tensor {
  const { logits } = model.forward(x);                         // (B, T, V)
  const V = logits.shape[2]!;
  return crossEntropy(logits.reshape([-1, V]), y.reshape([-1]), { reduction: sum ? 'sum' : 'mean' }); // (B·T, V) vs (B·T)
}

/** Mean NLL per token over every batch of `loader`, in eval mode. */
async function meanNll(model: CharRNN, loader: DataLoader<unknown, Batch>): Promise<number> {
  model.eval();
  let total = 0;
  let count = 0;
  for (const batch of loader) {
    const s = noGrad(() => tidy(() => batchLoss(model, batch, true)));
    total += await s.item();
    s.dispose();
    count += batch.y.size;
  }
  return total / count;
}

export async function trainCharLm(opts: CharLmOptions): Promise<CharLmResult> {
  const t0 = performance.now();
  const stream = opts.stream ?? process.stdout;
  const say = (s: string) => { stream.write(`${s}\n`); };
  const text = opts.text ?? (opts.data ? readFileSync(opts.data, 'utf8') : generateCorpus());
  const source = opts.text ? 'given text' : opts.data ?? 'built-in verse corpus';
  const tok = CharTokenizer.fromText(text);
  const V = tok.vocabSize;
  const [train, val] = splitTokens(tok.encode(text), [0.9, 0.1]) as [Int32Array, Int32Array];
  const T = opts.blockSize;
  say(`data: ${source} — ${text.length.toLocaleString('en-US')} chars, vocab ${V}, train ${train.length.toLocaleString('en-US')} / val ${val.length.toLocaleString('en-US')}`);

  const baselines = { unigramNll: unigramNll(train, val, V), bigramNll: bigramNll(train, val, V), entropy: entropy(train, V) };
  say(`baselines on val: unigram ${baselines.unigramNll.toFixed(4)} nats/char (perplexity ${Math.exp(baselines.unigramNll).toFixed(2)}; train entropy ${baselines.entropy.toFixed(4)}), bigram ${baselines.bigramNll.toFixed(4)} (perplexity ${Math.exp(baselines.bigramNll).toFixed(2)})`);

  // Training: every window of T+1 characters, shuffled per epoch. Evaluation: tiled windows of the
  // validation text and of an equally long slice of the training text.
  const trainLoader = new DataLoader(new NextTokenWindows(train, T), { batchSize: opts.batchSize, shuffle: true, seed: opts.seed, dropLast: true, device: opts.device });
  const evalLoader = (tokens: Int32Array) => new DataLoader(new NextTokenWindows(tokens, T, T), { batchSize: 64, device: opts.device });
  const evalData = { train: evalLoader(train.subarray(0, Math.min(train.length, val.length))), val: evalLoader(val) };

  manualSeed(opts.seed);
  const config = { cell: opts.cell, vocabSize: V, embedDim: opts.embedDim, hiddenSize: opts.hidden, numLayers: opts.layers };
  const model = new CharRNN({ ...config, device: opts.device });
  const parameters = model.numParameters();
  const label = `${opts.cell.toUpperCase()} ${opts.layers}×${opts.hidden}`;
  const steps = opts.epochs !== undefined ? opts.epochs * trainLoader.length : opts.steps;
  say(`model: ${label}, embedding ${opts.embedDim} — ${parameters.toLocaleString('en-US')} parameters; ${steps} steps of ${opts.batchSize}×${T} chars, Adam lr ${opts.lr} (cosine to ${opts.lr / 10}), clip ${opts.gradClip}, seed ${opts.seed}, ${opts.device}`);

  const optimizer = new Adam(model.parameters(), { lr: opts.lr });
  const scheduler = new LrScheduler(optimizer, cosineWithWarmup({ lr: opts.lr, warmupSteps: opts.warmup, decaySteps: Math.max(steps, opts.warmup + 1), minLr: opts.lr / 10 }));
  try {
    const trainer = new Trainer<Batch>({
      model, optimizer, scheduler, trainData: trainLoader,
      ...(opts.epochs !== undefined ? { epochs: opts.epochs } : { steps }),
      trainLoss: (batch) => batchLoss(model, batch),
      evalData, evalLoss: (_split, batch) => batchLoss(model, batch),
      evalInterval: opts.evalInterval, best: { metric: 'val', mode: 'min' }, gradClip: opts.gradClip,
      itemsPerStep: opts.batchSize * T, itemsName: 'chars', outDir: opts.out, resume: opts.resume,
      checkpointExtra: { model: config, chars: tok.chars.join('') },
      config: { task: 'charlm', data: source, model: config, blockSize: T, batchSize: opts.batchSize, steps, lr: opts.lr, warmup: opts.warmup, gradClip: opts.gradClip, seed: opts.seed, device: opts.device },
      stream, tty: opts.tty, fsync: opts.fsync, handleSigint: opts.handleSigint,
    });
    const result = await trainer.run();
    say(formatSummary(result));

    // Score the best checkpoint on the whole validation text, per character.
    const best = await bestCheckpoint(join(opts.out, 'checkpoints'), 'min');
    if (best) await loadCheckpoint(best.path, { model, restoreRng: false });
    const valNll = await meanNll(model, evalData.val);
    let sample = '';
    if (opts.sampleChars > 0 && !result.interrupted) {
      const start = tok.chars.includes('\n') ? '\n' : String.fromCodePoint(text.codePointAt(0)!);
      sample = tok.decode(await model.sample(Int32Array.from(tok.encode(start)), opts.sampleChars, { temperature: opts.temperature, topK: null, seed: opts.seed }));
      say(`\n--- sample (${opts.sampleChars} chars, temperature ${opts.temperature}) ---\n${sample}\n---`);
    }
    say(`charlm: val ${valNll.toFixed(4)} nats/char (perplexity ${Math.exp(valNll).toFixed(2)}, ${(valNll / Math.LN2).toFixed(3)} bits/char) from the step-${best?.step ?? result.step} checkpoint; unigram ${baselines.unigramNll.toFixed(4)}, bigram ${baselines.bigramNll.toFixed(4)}`);
    return {
      train: result, model: label, vocabSize: V, parameters, valNll, valPerplexity: Math.exp(valNll), bitsPerChar: valNll / Math.LN2, baselines,
      bestStep: best?.step ?? result.step, sample, wallSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
