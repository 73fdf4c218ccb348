// Weight-only quantization of the pre-trained character GPT (pretrain-gpt's checkpoint): the same
// model in float32 and with its block Linears quantized to int8, int4 and NF4 (quantize(model,
// config); the LM head is tied to the embedding and stays float). For each: the file size
// (saveModule / saveQuantized), the bits per weight of the quantized Linears, the validation loss
// and perplexity on pretrain-gpt's held-out 10% of the corpus, and generation speed on the device.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, tensor, tidy, type DeviceName } from '@webgrad/core';
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
  /** Tokens generated (greedy, KV cache) for the speed measurement, after one warm-up run. */
  genTokens: number;
  out: string;
  /** Settings of the pre-training run made when `pretrained` holds no checkpoint. */
  pretrain?: Partial<PretrainOptions>;
  stream?: { write: (s: string) => unknown };
}

export const DEFAULT_OPTIONS: QuantizeExampleOptions = { pretrained: 'runs/pretrain-gpt', device: 'cpu', evalWindows: 64, genTokens: 200, out: 'runs/quantize' };

export interface VariantResult {
  name: string;
  fileBytes: number;
  /** Bits per weight element of the block Linears (32 in float32). */
  linearBits: number;
  valLoss: number;
  perplexity: number;
  tokensPerSecond: number;
}

export const VARIANTS: { name: string; config: QuantizeConfig | null }[] = [
  { name: 'f32', config: null },
  { name: 'int8 (per channel)', config: { scheme: 'int8' } },
  { name: 'int4 (group 64)', config: { scheme: 'int4', groupSize: 64 } },
  { name: 'nf4 (block 64, double quant)', config: { scheme: 'nf4' } },
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

async function tokensPerSecond(model: GPT, prompt: number[], tokens: number, device: DeviceName): Promise<number> {
  const idx = tensor([prompt], { dtype: 'int32', device });
  const run = async (k: number): Promise<number> => {
    const t0 = performance.now();
    const out = await model.generate(idx, { maxNewTokens: k, temperature: 0 });
    out.dispose();
    return performance.now() - t0;
  };
  await run(Math.min(20, tokens)); // warm-up: kernels, pipelines, memory
  const ms = await run(tokens);
  idx.dispose();
  return (tokens * 1000) / ms;
}

export async function quantizeExample(opts: QuantizeExampleOptions): Promise<{ results: VariantResult[]; table: string }> {
  const say = (s: string) => { (opts.stream ?? process.stdout).write(`${s}\n`); };
  mkdirSync(opts.out, { recursive: true });
  const results: VariantResult[] = [];
  for (const v of VARIANTS) {
    const { model, tokenizer, config } = await loadOrPretrainGpt({ dir: opts.pretrained, device: opts.device, pretrain: opts.pretrain, say: v.config ? () => {} : say, stream: opts.stream as never, fsync: false });
    model.eval();
    const linears = [...model.namedModules()].filter(([n]) => /^h\.\d+\.(attn|mlp)\.c\w+$/.test(n));
    let linearBits = 32;
    if (v.config) {
      const layers = await quantize(model, v.config);
      let bits = 0, n = 0;
      for (const [, l] of layers) { bits += l.bitsPerParameter() * l.inFeatures * l.outFeatures; n += l.inFeatures * l.outFeatures; }
      linearBits = bits / n;
      if (layers.size !== linears.length) throw new Error(`quantize: expected ${linears.length} block Linears, quantized ${layers.size}`);
    }
    const file = join(opts.out, `${v.config ? v.config.scheme : 'f32'}.safetensors`);
    if (v.config) await saveQuantized(file, model); else await saveModule(model, file);
    const ids = tokenizer.encode(generateCorpus());
    const { val } = trainValSplit(ids, 0.9);
    const loss = await valLoss(model, Array.from(val), config.blockSize, opts.evalWindows, opts.device);
    const prompt = Array.from(val.slice(0, 16));
    const tps = await tokensPerSecond(model, prompt, opts.genTokens, opts.device);
    const r: VariantResult = { name: v.name, fileBytes: statSync(file).size, linearBits, valLoss: loss, perplexity: Math.exp(loss), tokensPerSecond: tps };
    results.push(r);
    say(`${v.name}: file ${(r.fileBytes / 1024).toFixed(1)} KiB, block Linears ${linearBits.toFixed(3)} bits/weight, val loss ${loss.toFixed(4)} (perplexity ${r.perplexity.toFixed(3)}), ${tps.toFixed(1)} tokens/s`);
    model.dispose();
  }
  const table = formatTable(['weights', 'file', 'block Linears, bits/weight', 'val loss', 'perplexity', `tokens/s (${opts.device})`], results.map((r) => [
    r.name, `${(r.fileBytes / 1024).toFixed(1)} KiB`, r.linearBits.toFixed(3), r.valLoss.toFixed(4), r.perplexity.toFixed(3), r.tokensPerSecond.toFixed(1),
  ]));
  say(`\n${table}`);
  return { results, table };
}
