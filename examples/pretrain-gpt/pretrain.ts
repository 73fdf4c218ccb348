// Character-level GPT pretraining, as nanoGPT's shakespeare_char: a character tokenizer over a
// text, a 90/10 train/val split, random-window batches from the seeded generator, AdamW (weight
// decay on matrices only, betas 0.9/0.99), nanoGPT's cosine schedule with warmup, gradient
// clipping, the shared Trainer, and a text sample from the trained model. `precision` 'f16' or
// 'bf16' runs every forward under autocast (float32 master weights in the optimizer) and, for
// float16, scales the loss with a GradScaler.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { autocast, manualSeed, memory, tensor, type DeviceName } from '@webgrad/core';
import { GPT, saveModule } from '@webgrad/nn';
import { AdamW, GradScaler, LrScheduler, cosineWithWarmup } from '@webgrad/optim';
import { BatchTrace } from '../shared/batch_trace.js';
import { getBatch, trainValSplit } from '../shared/batches.js';
import { CharTokenizer } from '../shared/char_tokenizer.js';
import { generateCorpus } from '../shared/corpus.js';
import { selectDevice, type DeviceChoice } from '../shared/device.js';
import { MetricsLog, Trainer, formatSummary, type ProgressStream, type StepInfo, type TrainResult } from '@webgrad/train';

export interface PretrainOptions {
  /** A UTF-8 text file to train on (default: the built-in generated verse corpus). */
  data?: string;
  /** The training text itself (takes precedence over `data`). */
  text?: string;
  device: DeviceChoice | DeviceName;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
  batchSize: number;
  steps: number;
  lr: number;
  minLr: number;
  warmup: number;
  weightDecay: number;
  gradClip: number;
  dropout: number;
  /** Biases in Linear and LayerNorm (nanoGPT's shakespeare_char config has none). */
  bias?: boolean;
  evalInterval: number;
  evalIters: number;
  /** Batches per split of one more evaluation after the last step, a finer estimate than the
   * periodic ones (0: none). It is reported beside them and does not rank checkpoints. */
  finalEvalIters?: number;
  seed: number;
  /** Compute precision of the forward passes: 'f32' (default), or 'f16' / 'bf16' under autocast
   *  (float32 master weights; 'f16' also scales the loss with a GradScaler). */
  precision?: Precision;
  out: string;
  resume: boolean;
  sampleTokens: number;
  temperature: number;
  topK: number;
  /** Where messages and progress go (default process.stdout). */
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
  handleSigint?: boolean;
  onStep?: (info: StepInfo, trainer: Trainer) => void;
  /** Record the run for an exact replay elsewhere: out/trace/ gets the initial weights
   * (initial.safetensors), every batch's offsets (batches.json) and, for the built-in corpus,
   * the text (corpus.txt). See benchmarks/peers/nanogpt_reference.py --replay. */
  trace?: boolean;
}

/** The compute precisions of `--precision`. */
export type Precision = 'f32' | 'f16' | 'bf16';
export const PRECISIONS: readonly Precision[] = ['f32', 'f16', 'bf16'];

/** The default run: small enough to finish in about a minute on a laptop CPU. */
export const SMALL_CONFIG = {
  nLayer: 3, nHead: 4, nEmbd: 96, blockSize: 64, batchSize: 16, steps: 600,
  lr: 2e-3, minLr: 2e-4, warmup: 30, weightDecay: 0.1, gradClip: 1.0, dropout: 0,
  evalInterval: 100, evalIters: 20,
} as const;

/**
 * nanoGPT's config/train_shakespeare_char.py as adjusted for a CPU in its README, evaluation
 * included: every 250 steps over 20 batches per split (`--eval_iters=20`), the protocol behind its
 * published validation loss. 20 batches are a noisy estimate (seed-to-seed and batch-to-batch
 * spread of about ±0.01), so a final evaluation over 200 batches per split follows.
 */
export const NANOGPT_CPU_CONFIG = {
  nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, batchSize: 12, steps: 2000,
  lr: 1e-3, minLr: 1e-4, warmup: 100, weightDecay: 0.1, gradClip: 1.0, dropout: 0, bias: false,
  evalInterval: 250, evalIters: 20, finalEvalIters: 200,
} as const;

export const DEFAULT_OPTIONS: PretrainOptions = {
  ...SMALL_CONFIG, device: 'auto', seed: 1337, precision: 'f32', out: 'runs/pretrain-gpt', resume: false,
  sampleTokens: 300, temperature: 0.8, topK: 200,
};

export interface PretrainResult {
  train: TrainResult;
  /** The final evaluation over finalEvalIters batches per split, when one ran. */
  finalEstimate?: { iters: number; losses: Record<string, number> };
  sample: string;
  vocabSize: number;
  parameters: number;
  device: DeviceName;
  precision: Precision;
  /** The most device bytes `memory()` reported, read after each training forward pass (when the activations kept for backward are live). */
  peakBytes: number;
}

export async function pretrainGpt(opts: PretrainOptions): Promise<PretrainResult> {
  if (opts.finalEvalIters !== undefined && !(Number.isInteger(opts.finalEvalIters) && opts.finalEvalIters >= 0)) {
    throw new RangeError(`pretrain-gpt: finalEvalIters must be a non-negative integer, got ${opts.finalEvalIters}`);
  }
  const precision = opts.precision ?? 'f32';
  if (!PRECISIONS.includes(precision)) throw new RangeError(`pretrain-gpt: precision must be one of ${PRECISIONS.join(', ')}, got ${String(precision)}`);
  if (opts.trace && opts.resume) {
    throw new RangeError('pretrain-gpt: trace records a run from its initial weights, so it cannot be combined with resume');
  }
  const stream = opts.stream ?? process.stdout;
  const say = (s: string) => { stream.write(`${s}\n`); };
  const device: DeviceName = opts.device === 'cpu' || opts.device === 'webgpu' || opts.device === 'auto'
    ? await selectDevice(opts.device, say)
    : opts.device;

  const text = opts.text ?? (opts.data ? readFileSync(opts.data, 'utf8') : generateCorpus());
  const tok = CharTokenizer.fromText(text);
  const { train, val } = trainValSplit(tok.encode(text), 0.9);
  say(`data: ${opts.text ? 'given text' : opts.data ?? 'built-in verse corpus'} — ${text.length.toLocaleString('en-US')} chars, vocab ${tok.vocabSize}, train ${train.length.toLocaleString('en-US')} / val ${val.length.toLocaleString('en-US')} tokens`);

  manualSeed(opts.seed);
  const modelConfig = {
    vocabSize: tok.vocabSize, blockSize: opts.blockSize, nLayer: opts.nLayer, nHead: opts.nHead, nEmbd: opts.nEmbd, dropout: opts.dropout, bias: opts.bias ?? true,
  };
  const model = new GPT({ ...modelConfig, device });
  const parameters = model.numParameters();
  say(`model: GPT ${opts.nLayer} layers, ${opts.nHead} heads, ${opts.nEmbd} wide, context ${opts.blockSize} — ${(parameters / 1e6).toFixed(2)}M parameters`);

  const runConfig = {
    seed: opts.seed, device, data: opts.text ? 'given text' : opts.data ?? 'built-in verse corpus', model: modelConfig,
    batchSize: opts.batchSize, blockSize: opts.blockSize, steps: opts.steps, lr: opts.lr, minLr: opts.minLr, warmup: opts.warmup,
    weightDecay: opts.weightDecay, gradClip: opts.gradClip, evalInterval: opts.evalInterval, evalIters: opts.evalIters,
    finalEvalIters: opts.finalEvalIters ?? 0, precision,
  };
  say(`run: seed ${opts.seed} on ${device}, ${opts.steps} steps of ${opts.batchSize}×${opts.blockSize} tokens, lr ${opts.lr} → ${opts.minLr} after ${opts.warmup} warmup steps, weight decay ${opts.weightDecay}, clip ${opts.gradClip}`);

  const betas = [0.9, 0.99] as [number, number];
  const optimizer = new AdamW(model.configureOptimizerGroups(opts.weightDecay), { lr: opts.lr, betas });
  const schedule = cosineWithWarmup({ lr: opts.lr, warmupSteps: opts.warmup, decaySteps: Math.max(opts.steps, opts.warmup + 1), minLr: opts.minLr });
  const scheduler = new LrScheduler(optimizer, schedule);
  const splits = { train, val } as Record<string, Int32Array>;
  // Mixed precision as torch.autocast + GradScaler: the forward (loss included) under autocast,
  // the backward outside it; float16 needs loss scaling, bfloat16 (float32's range) does not.
  const lowDType = precision === 'f16' ? 'float16' : 'bfloat16';
  const forward = (x: Parameters<GPT['forward']>[0], y: Parameters<GPT['forward']>[1]) =>
    autocast({ dtype: lowDType, enabled: precision !== 'f32' }, () => model.forward(x, y).loss!);
  const gradScaler = precision === 'f16' ? new GradScaler() : undefined;
  let peakBytes = 0;
  const trace = opts.trace ? new BatchTrace() : null;
  const traceDir = join(opts.out, 'trace');
  if (trace) {
    mkdirSync(traceDir, { recursive: true });
    await saveModule(model, join(traceDir, 'initial.safetensors'));
    if (!opts.data || opts.text) writeFileSync(join(traceDir, 'corpus.txt'), text);
  }
  // The run's settings, plus what a replay needs besides them: the text's path, the vocabulary and
  // AdamW's betas and (default) eps.
  const saveTrace = () => trace?.save(join(traceDir, 'batches.json'), {
    ...runConfig, data: opts.data && !opts.text ? resolve(opts.data) : 'corpus.txt', chars: tok.chars.join(''), betas, eps: 1e-8,
  });

  try {
    const trainer = new Trainer({
      model, optimizer, scheduler, steps: opts.steps,
      trainLoss: () => {
        const { x, y, offsets } = getBatch(train, opts.batchSize, opts.blockSize, device);
        trace?.step(offsets);
        const loss = forward(x, y);
        peakBytes = Math.max(peakBytes, memory().bytes);
        return loss;
      },
      evalLoss: (split) => {
        const { x, y, offsets } = getBatch(splits[split]!, opts.batchSize, opts.blockSize, device);
        trace?.evaluation(split, offsets);
        return forward(x, y);
      },
      evalInterval: opts.evalInterval, evalIters: opts.evalIters, gradClip: opts.gradClip, gradScaler, state: gradScaler ? { gradScaler } : undefined,
      itemsPerStep: opts.batchSize * opts.blockSize, outDir: opts.out, resume: opts.resume,
      checkpointExtra: { model: modelConfig, chars: tok.chars.join('') }, config: runConfig,
      stream, tty: opts.tty, fsync: opts.fsync, handleSigint: opts.handleSigint, onStep: opts.onStep,
    });
    const result = await trainer.run();
    say(formatSummary(result));
    say(`precision ${precision}: ${result.msPerStep.toFixed(1)} ms/step, peak memory ${(peakBytes / 2 ** 20).toFixed(2)} MiB${gradScaler ? `, loss scale ${gradScaler.getScale()}` : ''}`);
    let finalEstimate: PretrainResult['finalEstimate'];
    if ((opts.finalEvalIters ?? 0) > 0 && !result.interrupted) {
      const iters = opts.finalEvalIters!;
      const { losses } = await trainer.evaluate(iters);
      finalEstimate = { iters, losses };
      new MetricsLog(result.metricsPath).append({ type: 'final_estimate', step: result.step, iters, losses });
      say(`final estimate over ${iters} batches per split @ step ${result.step}: train ${losses.train!.toFixed(4)}, val ${losses.val!.toFixed(4)}`);
    }
    if (trace) {
      saveTrace();
      say(`trace: ${traceDir} (replay in PyTorch: python3 benchmarks/peers/nanogpt_reference.py --replay ${opts.out})`);
    }

    let sample = '';
    if (opts.sampleTokens > 0 && !result.interrupted) {
      const start = tok.chars.indexOf('\n') >= 0 ? tok.chars.indexOf('\n') : 0;
      const prompt = tensor(Int32Array.of(start), { shape: [1, 1], dtype: 'int32', device });
      const out = await model.generate(prompt, {
        maxNewTokens: opts.sampleTokens, temperature: opts.temperature, topK: opts.topK > 0 ? opts.topK : null, seed: opts.seed,
      });
      prompt.dispose();
      sample = tok.decode((await out.data()).subarray(1));
      out.dispose();
      say(`\n--- sample (${opts.sampleTokens} tokens, temperature ${opts.temperature}, top-k ${opts.topK}) ---\n${sample}\n---`);
    }
    return { train: result, finalEstimate, sample, vocabSize: tok.vocabSize, parameters, device, precision, peakBytes };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
