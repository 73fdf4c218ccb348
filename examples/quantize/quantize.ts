// Weight-only quantization of the pre-trained character GPT (pretrain-gpt's checkpoint): the same
// model in float32, stored in float16 (every parameter; `toDType('float16')`), and with its block
// Linears quantized to int8, int4 and NF4 (quantize(model, config); the LM head is tied to the
// embedding and stays float). For each: the file size (saveModule / saveQuantized), the bits per
// weight of the block Linears, the validation loss and perplexity on pretrain-gpt's held-out 10% of
// the corpus, and generation speed on the device.
//
// Speed: every variant is loaded first; then, after one warm-up generation each, `rounds` rounds each
// generate `genTokens` tokens (greedy, KV cache, batch 1) from the same prompt with every variant, in
// an order that rotates by one per round, so slow spells of a shared machine fall on all of them.
// tokens/s is the median over the rounds; so is tokens per CPU-second (the process's user + system
// time, which a machine shared with other jobs inflates far less than the wall time). On the cpu
// device the kernels use `threads` threads.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getNumThreads, noGrad, setNumThreads, tensor, tidy, type DeviceName } from '@webgrad/core';
import { quantize, saveModule, saveQuantized, type GPT, type QuantizeConfig } from '@webgrad/nn';
import { trainValSplit } from '../shared/batches.js';
import { generateCorpus } from '../shared/corpus.js';
import { loadOrPretrainGpt } from '../shared/pretrained_gpt.js';
import type { PretrainOptions } from '../pretrain-gpt/pretrain.js';
import { formatTable } from '../shared/table.js';

export interface QuantizeExampleOptions {
  /** pretrain-gpt output directory or checkpoint (pre-trained there first when it has none). */
  pretrained: string;
  device: DeviceName;
  /** Validation windows of blockSize tokens scored (from the start of the held-out split). */
  evalWindows: number;
  /** Tokens generated (greedy, KV cache) per speed round, after one warm-up run. */
  genTokens: number;
  /** Speed rounds (each variant once per round, interleaved); tokens/s is the median. */
  rounds: number;
  /** cpu kernel threads during the speed rounds. */
  threads: number;
  out: string;
  /** Settings of the pre-training run made when `pretrained` holds no checkpoint. */
  pretrain?: Partial<PretrainOptions>;
  stream?: { write: (s: string) => unknown };
}

export const DEFAULT_OPTIONS: QuantizeExampleOptions = { pretrained: 'runs/pretrain-gpt', device: 'cpu', evalWindows: 64, genTokens: 200, rounds: 5, threads: 1, out: 'runs/quantize' };

export interface VariantResult {
  name: string;
  fileBytes: number;
  /** Bits per weight element of the block Linears (32 in float32). */
  linearBits: number;
  valLoss: number;
  perplexity: number;
  /** Median tokens/s over the rounds. */
  tokensPerSecond: number;
  /** tokens/s of each round. */
  roundTokensPerSecond: number[];
  /** Median tokens per CPU-second of the process over the rounds. */
  tokensPerCpuSecond: number;
}

/** The model variants: float32, float16 storage (every parameter), and the quantized block Linears. */
export const VARIANTS: { name: string; file: string; config: QuantizeConfig | null; dtype?: 'float16' }[] = [
  { name: 'f32', file: 'f32', config: null },
  { name: 'f16 (all weights)', file: 'f16', config: null, dtype: 'float16' },
  { name: 'int8 (per channel)', file: 'int8', config: { scheme: 'int8' } },
  { name: 'int4 (group 64)', file: 'int4', config: { scheme: 'int4', groupSize: 64 } },
  { name: 'nf4 (block 64, double quant)', file: 'nf4', config: { scheme: 'nf4' } },
];

async function valLoss(model: GPT, ids: number[], blockSize: number, windows: number, device: DeviceName): Promise<number> {
  let total = 0, n = 0;
  const batch = 16;
  for (let w0 = 0; w0 < windows; w0 += batch) {
    const rows: number[][] = [], tgts: number[][] = [];
    for (let w = w0; w < Math.min(windows, w0 + batch); w++) {
      const s = w * blockSize;
      if (s + blockSize + 1 > ids.length) break;
      rows.push(ids.slice(s, s + blockSize));
      tgts.push(ids.slice(s + 1, s + blockSize + 1));
    }
    if (rows.length === 0) break;
    const loss = noGrad(() => tidy(() => model.forward(tensor(rows, { dtype: 'int32', device }), tensor(tgts, { dtype: 'int32', device })).loss!));
    total += (await loss.item()) * rows.length;
    n += rows.length;
    loss.dispose();
  }
  return total / n;
}

/** Wall and CPU milliseconds to generate `tokens` tokens greedily from `prompt`. */
async function generationMs(model: GPT, prompt: number[], tokens: number, device: DeviceName): Promise<{ wall: number; cpu: number }> {
  const idx = tensor([prompt], { dtype: 'int32', device });
  const c0 = process.cpuUsage(), t0 = performance.now();
  const out = await model.generate(idx, { maxNewTokens: tokens, temperature: 0 });
  const wall = performance.now() - t0, c = process.cpuUsage(c0);
  out.dispose();
  idx.dispose();
  return { wall, cpu: (c.user + c.system) / 1000 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** tokens per wall and per CPU second, per model and round: a warm-up each, then `rounds` rounds over all models in rotating order. */
async function interleavedSpeed(models: GPT[], prompt: number[], opts: QuantizeExampleOptions): Promise<{ wall: number[][]; cpu: number[][] }> {
  for (const m of models) await generationMs(m, prompt, Math.min(20, opts.genTokens), opts.device); // kernels, pipelines, memory
  const wall: number[][] = models.map(() => []), cpu: number[][] = models.map(() => []);
  for (let r = 0; r < opts.rounds; r++) {
    for (let j = 0; j < models.length; j++) {
      const i = (j + r) % models.length;
      const ms = await generationMs(models[i]!, prompt, opts.genTokens, opts.device);
      wall[i]!.push((opts.genTokens * 1000) / ms.wall);
      cpu[i]!.push((opts.genTokens * 1000) / ms.cpu);
    }
  }
  return { wall, cpu };
}

export async function quantizeExample(opts: QuantizeExampleOptions): Promise<{ results: VariantResult[]; table: string }> {
  const say = (s: string) => { (opts.stream ?? process.stdout).write(`${s}\n`); };
  mkdirSync(opts.out, { recursive: true });
  const results: Omit<VariantResult, 'tokensPerSecond' | 'roundTokensPerSecond' | 'tokensPerCpuSecond'>[] = [];
  const models: GPT[] = [];
  let prompt: number[] = [];
  for (const [vi, v] of VARIANTS.entries()) {
    const { model, tokenizer, config } = await loadOrPretrainGpt({ dir: opts.pretrained, device: opts.device, pretrain: opts.pretrain, say: vi === 0 ? say : () => {}, stream: opts.stream as never, fsync: false });
    model.eval();
    if (v.dtype) model.toDType(v.dtype);
    const linears = [...model.namedModules()].filter(([n]) => /^h\.\d+\.(attn|mlp)\.c\w+$/.test(n));
    let linearBits = v.dtype === 'float16' ? 16 : 32;
    if (v.config) {
      const layers = await quantize(model, v.config);
      let bits = 0, n = 0;
      for (const [, l] of layers) { bits += l.bitsPerParameter() * l.inFeatures * l.outFeatures; n += l.inFeatures * l.outFeatures; }
      linearBits = bits / n;
      if (layers.size !== linears.length) throw new Error(`quantize: expected ${linears.length} block Linears, quantized ${layers.size}`);
    }
    const file = join(opts.out, `${v.file}.safetensors`);
    if (v.config) await saveQuantized(file, model); else await saveModule(model, file);
    const ids = tokenizer.encode(generateCorpus());
    const { val } = trainValSplit(ids, 0.9);
    const loss = await valLoss(model, Array.from(val), config.blockSize, opts.evalWindows, opts.device);
    prompt = Array.from(val.slice(0, 16));
    const r = { name: v.name, fileBytes: statSync(file).size, linearBits, valLoss: loss, perplexity: Math.exp(loss) };
    results.push(r);
    models.push(model);
    say(`${v.name}: file ${(r.fileBytes / 1024).toFixed(1)} KiB, block Linears ${linearBits.toFixed(3)} bits/weight, val loss ${loss.toFixed(4)} (perplexity ${r.perplexity.toFixed(3)})`);
  }
  const threads = getNumThreads();
  if (opts.device === 'cpu') setNumThreads(opts.threads);
  let tps: { wall: number[][]; cpu: number[][] };
  try {
    tps = await interleavedSpeed(models, prompt, opts);
  } finally {
    if (opts.device === 'cpu') setNumThreads(threads);
    for (const m of models) m.dispose();
  }
  const full: VariantResult[] = results.map((r, i) => ({
    ...r, tokensPerSecond: median(tps.wall[i]!), roundTokensPerSecond: tps.wall[i]!, tokensPerCpuSecond: median(tps.cpu[i]!),
  }));
  const speedHead = `tokens/s (${opts.device}${opts.device === 'cpu' ? `, ${opts.threads} thread${opts.threads === 1 ? '' : 's'}` : ''}; median of ${opts.rounds})`;
  const table = formatTable(['weights', 'file', 'block Linears, bits/weight', 'val loss', 'perplexity', speedHead, 'min–max', 'tokens per CPU-second'], full.map((r) => [
    r.name, `${(r.fileBytes / 1024).toFixed(1)} KiB`, r.linearBits.toFixed(3), r.valLoss.toFixed(4), r.perplexity.toFixed(3), r.tokensPerSecond.toFixed(1),
    `${Math.min(...r.roundTokensPerSecond).toFixed(1)}–${Math.max(...r.roundTokensPerSecond).toFixed(1)}`, r.tokensPerCpuSecond.toFixed(1),
  ]));
  say(`\n${table}`);
  return { results: full, table };
}
