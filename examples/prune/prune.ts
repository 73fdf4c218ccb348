// Accuracy against sparsity for two models: LeNet-5 on the mnist package's digits (the mnist
// example's split) and a character GPT on the built-in verse corpus (pretrain-gpt's default data).
// Each is trained briefly, then swept over sparsities with three pruning methods (methods.ts);
// each point is scored right after pruning and after a short fine-tune with the masks attached.
// Writes <out>/lenet_accuracy.svg, <out>/gpt_val_loss.svg and <out>/summary.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crossEntropy, manualSeed, tidy, type DeviceName, type Tensor } from '@webgrad/core';
import { DataLoader } from '@webgrad/data';
import { GPT, LeNet5 } from '@webgrad/nn';
import { Adam, AdamW, type Optimizer } from '@webgrad/optim';
import { getBatch, trainValSplit, type Batch } from '../shared/batches.js';
import { CharTokenizer } from '../shared/char_tokenizer.js';
import { evaluateClassifier } from '../shared/classifier_eval.js';
import { generateCorpus } from '../shared/corpus.js';
import { selectDevice, type DeviceChoice } from '../shared/device.js';
import { DEFAULT_SPLIT, mnistSplits } from '../shared/mnist_digits.js';
import { GPT_BLOCKS, LENET } from './methods.js';
import { sweepChart, sweepTable } from './report.js';
import { disposeState, snapshot, sweep, type SweepPoint } from './sweep.js';

export interface PruneOptions {
  device: DeviceChoice | DeviceName;
  /** Which models to sweep. */
  model: 'lenet' | 'gpt' | 'both';
  /** Sparsities of the unstructured and structured sweeps (N:M has its own patterns). */
  sparsities: number[];
  /** LeNet: training digits (of the mnist example's 7,000), passes over them before pruning; digits per step; test digits scored. */
  trainDigits: number;
  lenetEpochs: number;
  batchSize: number;
  testDigits: number;
  /** GPT: training steps before pruning, and its size. */
  gptSteps: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
  /** GPT validation batches of `batchSize` windows (the same ones for every point). */
  evalBatches: number;
  /** Fine-tuning steps after each pruning, per model. */
  finetuneSteps: number;
  seed: number;
  out: string;
  stream?: { write(s: string): unknown };
}

export const DEFAULT_OPTIONS: PruneOptions = {
  device: 'cpu', model: 'both', sparsities: [0, 0.5, 0.8, 0.9, 0.95],
  trainDigits: 7000, lenetEpochs: 1, batchSize: 32, testDigits: 500, gptSteps: 200, nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 64, evalBatches: 4,
  finetuneSteps: 20, seed: 0, out: 'runs/prune',
};

export interface PruneResult {
  device: DeviceName;
  lenet?: { dense: number; points: SweepPoint[]; chart: string };
  gpt?: { dense: number; points: SweepPoint[]; chart: string };
  summaryPath: string;
}

export async function pruneExample(opts: PruneOptions): Promise<PruneResult> {
  const stream = opts.stream ?? process.stdout;
  const say = (s: string) => { stream.write(`${s}\n`); };
  const device: DeviceName = opts.device === 'cpu' || opts.device === 'webgpu' || opts.device === 'auto' ? await selectDevice(opts.device, say) : opts.device;
  mkdirSync(opts.out, { recursive: true });
  const result: PruneResult = { device, summaryPath: join(opts.out, 'summary.json') };
  const t0 = performance.now();
  const log = (p: SweepPoint) => say(`  ${p.method.padEnd(12)} ${p.pattern ? `${p.pattern[0]}:${p.pattern[1]}` : `${(100 * p.target).toFixed(0)}%`.padStart(4)}  zeros ${(100 * p.sparsity).toFixed(1)}%  pruned ${p.pruned.toFixed(4)}  fine-tuned ${p.finetuned.toFixed(4)}  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);

  if (opts.model !== 'gpt') result.lenet = await lenetSweep(opts, device, say, log);
  if (opts.model !== 'lenet') result.gpt = await gptSweep(opts, device, say, log);

  writeFileSync(result.summaryPath, `${JSON.stringify({ options: { ...opts, stream: undefined }, device, lenet: result.lenet, gpt: result.gpt }, null, 1)}\n`);
  say(`\nsummary: ${result.summaryPath}; total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return result;
}

type Say = (s: string) => void;

async function lenetSweep(opts: PruneOptions, device: DeviceName, say: Say, log: (p: SweepPoint) => void): Promise<PruneResult['lenet']> {
  const split = { ...DEFAULT_SPLIT, train: Math.min(opts.trainDigits, DEFAULT_SPLIT.train), test: Math.min(opts.testDigits, DEFAULT_SPLIT.test) };
  const data = mnistSplits(split, device);
  try {
    manualSeed(opts.seed);
    const model = new LeNet5({ device });
    const loader = new DataLoader(data.train, { batchSize: opts.batchSize, shuffle: true, seed: opts.seed });
    const step = (m: LeNet5, opt: Optimizer, [x, y]: Tensor[]) => {
      tidy(() => crossEntropy(m.forward(x!), y!).backward());
      opt.step();
      opt.zeroGrad();
    };
    say(`\n== LeNet-5 on ${split.train} MNIST digits: ${opts.lenetEpochs} epoch(s) of batches of ${opts.batchSize}, Adam lr 2e-3; scored by accuracy on ${split.test} held-out digits`);
    const train = new Adam(model.parameters(), { lr: 2e-3 });
    model.train();
    for (let e = 0; e < opts.lenetEpochs; e++) for (const batch of loader as Iterable<Tensor[]>) step(model, train, batch);
    train.dispose();
    const score = async (m: LeNet5) => (await evaluateClassifier(m, data.test)).accuracy;
    const dense = await score(model);
    say(`trained: test accuracy ${(100 * dense).toFixed(2)}%; sweep (fine-tune: ${opts.finetuneSteps} Adam steps, lr 1e-3, masks attached):`);
    const trained = snapshot(model);
    model.dispose();
    let batches: Iterator<Tensor[]> = (loader as Iterable<Tensor[]>)[Symbol.iterator]();
    const nextBatch = (): Tensor[] => {
      let r = batches.next();
      if (r.done) { batches = (loader as Iterable<Tensor[]>)[Symbol.iterator](); r = batches.next(); }
      return r.value as Tensor[];
    };
    try {
      const points = await sweep(trained, {
        build: () => new LeNet5({ device }), prunable: LENET, score, finetuneSteps: opts.finetuneSteps,
        optimizer: (m) => new Adam(m.parameters(), { lr: 1e-3 }),
        trainStep: (m, opt) => step(m, opt, nextBatch()),
      }, opts.sparsities, log);
      const chart = join(opts.out, 'lenet_accuracy.svg');
      writeFileSync(chart, sweepChart(points, `LeNet-5 on MNIST: test accuracy vs sparsity (${split.test} digits)`, 'accuracy'));
      say(`\n${sweepTable(points, 'accuracy', (v) => `${(100 * v).toFixed(2)}%`)}\n\ncurve: ${chart}`);
      return { dense, points, chart };
    } finally {
      disposeState(trained);
    }
  } finally {
    data.x.dispose();
    data.y.dispose();
  }
}

async function gptSweep(opts: PruneOptions, device: DeviceName, say: Say, log: (p: SweepPoint) => void): Promise<PruneResult['gpt']> {
  const text = generateCorpus();
  const tok = CharTokenizer.fromText(text);
  const { train, val } = trainValSplit(tok.encode(text), 0.9);
  const cfg = { vocabSize: tok.vocabSize, blockSize: opts.blockSize, nLayer: opts.nLayer, nHead: opts.nHead, nEmbd: opts.nEmbd, dropout: 0 };
  manualSeed(opts.seed + 1);
  const evalSet: Batch[] = Array.from({ length: opts.evalBatches }, () => getBatch(val, opts.batchSize, opts.blockSize, device));
  try {
    manualSeed(opts.seed);
    const model = new GPT({ ...cfg, device });
    const step = (m: GPT, opt: Optimizer) => {
      tidy(() => {
        const { x, y } = getBatch(train, opts.batchSize, opts.blockSize, device);
        m.forward(x, y).loss!.backward();
      });
      opt.step();
      opt.zeroGrad();
    };
    say(`\n== char GPT (${opts.nLayer} layers, ${opts.nHead} heads, ${opts.nEmbd} wide, context ${opts.blockSize}, ${(model.numParameters() / 1e3).toFixed(0)}k parameters) on the built-in verse corpus: ${opts.gptSteps} AdamW steps of ${opts.batchSize}×${opts.blockSize} tokens, lr 2e-3; scored by loss on ${opts.evalBatches} fixed validation batches`);
    const opt = new AdamW(model.configureOptimizerGroups(0.1), { lr: 2e-3, betas: [0.9, 0.99] });
    model.train();
    for (let s = 0; s < opts.gptSteps; s++) step(model, opt);
    opt.dispose();
    const score = async (m: GPT) => {
      m.eval();
      let sum = 0;
      for (const b of evalSet) {
        const l = tidy(() => m.forward(b.x, b.y).loss!);
        sum += await l.item();
        l.dispose();
      }
      return sum / evalSet.length;
    };
    const dense = await score(model);
    say(`trained: validation loss ${dense.toFixed(4)}; sweep (fine-tune: ${opts.finetuneSteps} AdamW steps, lr 1e-3, masks attached):`);
    const trained = snapshot(model);
    model.dispose();
    try {
      const points = await sweep(trained, {
        build: () => new GPT({ ...cfg, device }), prunable: GPT_BLOCKS, score, finetuneSteps: opts.finetuneSteps,
        optimizer: (m) => new AdamW(m.configureOptimizerGroups(0.1), { lr: 1e-3, betas: [0.9, 0.99] }),
        trainStep: step,
      }, opts.sparsities, log);
      const chart = join(opts.out, 'gpt_val_loss.svg');
      writeFileSync(chart, sweepChart(points, 'char GPT: validation loss vs sparsity of the block weights', 'validation loss (nats/char)'));
      say(`\n${sweepTable(points, 'val loss', (v) => v.toFixed(3))}\n\ncurve: ${chart}`);
      return { dense, points, chart };
    } finally {
      disposeState(trained);
    }
  } finally {
    for (const b of evalSet) { b.x.dispose(); b.y.dispose(); }
  }
}
