// The sft example's fine-tuning with LoRA (Hu et al. 2021): the pre-trained weights stay frozen and
// a low-rank update is trained in each attention and MLP Linear (@webgrad/optim's applyLora). After
// training it checks what LoRA promises — the base weights did not move, the adapter alone (saved
// as safetensors, a small file) restores the fine-tuned model on a fresh base, and merging the
// update into the weights gives the same logits — and compares exact match with full fine-tuning
// (the sft example's result when it is comparable, else a full fine-tuning run made here).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { noGrad, type Tensor } from '@webgrad/core';
import { padCollate } from '@webgrad/data';
import { quantize, saveModule, type GPT } from '@webgrad/nn';
import { applyLora, loadLoraAdapter, mergeAndUnloadLora, saveLoraAdapter, trainableParameters } from '@webgrad/optim';
import { loadPretrainedGpt } from '../shared/pretrained_gpt.js';
import { formatTable, percent } from '../shared/table.js';
import { exactMatch } from '../sft/exact_match.js';
import { DEFAULT_OPTIONS as SFT_DEFAULTS, sftGpt, type SftOptions, type SftResult } from '../sft/sft.js';

/** The Linear layers of each GPT block that get adapters (names as in GPT's parameter names). */
export const DEFAULT_TARGETS = ['attn.cAttn', 'attn.cProj', 'mlp.cFc', 'mlp.cProj'];

export interface LoraSftOptions extends SftOptions {
  /** Rank of each update. */
  r: number;
  /** The update is scaled by alpha / r. */
  alpha: number;
  loraDropout: number;
  /** Module names to adapt (a module matches when its name ends with one). */
  targets: readonly string[];
  /** Full fine-tuning to compare with: 'auto' reads `sftResult` when it is comparable and runs one otherwise, 'run' always runs one, 'skip' none. */
  fullFt: 'auto' | 'run' | 'skip';
  /** The sft example's results.json. */
  sftResult: string;
  /** Learning rate of a full fine-tuning run made here (sft's default). */
  fullLr: number;
  /** QLoRA: the targeted base Linears are quantized to NF4 before the adapters are added. */
  qlora: boolean;
}

export const DEFAULT_OPTIONS: LoraSftOptions = {
  ...SFT_DEFAULTS, lr: 3e-3, minLr: 3e-4, weightDecay: 0, out: 'runs/lora',
  r: 16, alpha: 32, loraDropout: 0, targets: DEFAULT_TARGETS, fullFt: 'auto', sftResult: 'runs/sft/results.json', fullLr: SFT_DEFAULTS.lr, qlora: false,
};

/** Largest absolute difference of two equally long arrays. */
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} and ${b.length} differ`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export interface LoraChecks {
  /** Trainable (adapter) elements and all elements (base + adapters). */
  trainable: number;
  total: number;
  /** max |Δ| of every base weight between before and after training (0: frozen). */
  baseMaxDelta: number;
  adapterPath: string;
  adapterBytes: number;
  /** The merged model's safetensors file (what full fine-tuning would ship). */
  mergedPath: string;
  mergedBytes: number;
  /** max |Δlogits| between the adapter model and the merged model on held-out prompts. */
  mergedMaxDelta: number;
  /** What mergedMaxDelta must not exceed: MERGE_TOLERANCE · max(1, max |logit|). */
  mergeTolerance: number;
  /** max |Δlogits| between the adapter model and a fresh base with the saved adapter loaded. */
  reloadedMaxDelta: number;
  /** Exact match of the merged model (the adapter model's is in the sft result). */
  mergedExactMatch: number;
  /** With --qlora: the quantized base layers' storage in bits per weight element (codes, scales and their scales). */
  qloraBaseBits?: number;
}

export interface LoraResult {
  lora: SftResult;
  checks: LoraChecks;
  /** The full fine-tuning compared with, and where it came from. */
  full: { result: Pick<SftResult, 'before' | 'after' | 'parameters' | 'data'>; source: string } | null;
  table: string;
}

/** Logits may differ by float32 rounding between x·(W + BA)ᵀ and x·Wᵀ + (x·Aᵀ)·Bᵀ, no more: at
 *  most this much relative to the largest logit (or absolute, for logits below 1). */
export const MERGE_TOLERANCE = 1e-5;

/** Logits (B, T, V) of a batch of held-out examples, as a flat array. */
async function heldOutLogits(model: GPT, batch: Record<string, unknown>): Promise<Float32Array> {
  const wasTraining = model.training;
  model.eval();
  const logits = noGrad(() => model.forward(batch.inputIds as Tensor).logits); // (B, T, V)
  model.train(wasTraining);
  const data = Float32Array.from(await logits.data());
  logits.dispose();
  return data;
}

export async function loraSft(opts: LoraSftOptions): Promise<LoraResult> {
  const lora = { r: opts.r, alpha: opts.alpha, dropout: opts.loraDropout, targetModules: [...opts.targets] };
  const base = new Map<string, Float64Array>();
  let qloraBaseBits = 32;
  let checks: LoraChecks | null = null;
  const result = await sftGpt(opts, {
    name: `LoRA r=${opts.r} α=${opts.alpha}`,
    adapt: async (model, ctx) => {
      if (ctx.addedChars.length > 0) {
        throw new Error(`lora: the data has characters the pretrained vocabulary lacks (${JSON.stringify(ctx.addedChars.join(''))}); LoRA keeps the embedding frozen, so their new rows could not be learned — fine-tune with the sft example, or keep the data within the vocabulary`);
      }
      if (opts.qlora) qloraBaseBits = await quantizeBase(model, lora.targetModules, ctx.say);
      const layers = applyLora(model, lora);
      const t = trainableParameters(model);
      ctx.say(`LoRA: adapters of rank ${opts.r} (α ${opts.alpha}) in ${layers.size} Linear layers (${[...layers.keys()].join(', ')}); everything else frozen\n${t.text}`);
      for (const [name, p] of Object.entries(model.stateDict())) if (!/(^|\.)lora_[AB]\./.test(name)) base.set(name, Float64Array.from(await p.data())); // exact for int32 codes too
    },
    after: async (model, ctx) => {
      const t = trainableParameters(model);
      let baseMaxDelta = 0;
      for (const [name, p] of Object.entries(model.stateDict())) {
        const before = base.get(name);
        if (before) baseMaxDelta = Math.max(baseMaxDelta, maxAbsDiff(before, await p.data()));
      }
      const adapterPath = join(ctx.out, 'adapter.safetensors');
      await saveLoraAdapter(adapterPath, model, { base: resolve(ctx.pretrainedCheckpoint) });
      // One padded batch of held-out prompts + answers to compare logits on.
      const items = ctx.evalExamples.slice(0, 32).map((e) => ({ inputIds: e.inputIds, labels: e.labels }));
      const batch = padCollate({ padValue: ctx.tokenizer.encode('\n')[0]!, keys: ['inputIds', 'labels'] })(items, { device: ctx.device });
      try {
        const adapted = await heldOutLogits(model, batch);
        // A fresh pre-trained model with the saved adapter loaded.
        const fresh = (await loadPretrainedGpt(ctx.pretrainedCheckpoint, ctx.device)).model;
        if (opts.qlora) await quantizeBase(fresh, lora.targetModules, () => {});
        applyLora(fresh, lora);
        await loadLoraAdapter(adapterPath, fresh);
        const reloadedMaxDelta = maxAbsDiff(adapted, await heldOutLogits(fresh, batch));
        fresh.dispose();
        if (opts.qlora) {
          // The adapter on its NF4 base is what ships: merging would give float32 weights
          // (mergeAndUnloadLora), or re-quantized ones with new rounding (mergeAndRequantizeLora).
          checks = {
            trainable: t.trainable, total: t.total, baseMaxDelta, adapterPath, adapterBytes: statSync(adapterPath).size, mergedPath: '', mergedBytes: 0,
            mergedMaxDelta: 0, mergeTolerance: 0, reloadedMaxDelta, mergedExactMatch: NaN, qloraBaseBits,
          };
          ctx.say([
            `base weights after training: max |Δ| = ${baseMaxDelta} (frozen NF4 codes and scales)`,
            `adapter: ${adapterPath}, ${checks.adapterBytes.toLocaleString('en-US')} bytes`,
            `adapter loaded into a freshly quantized pre-trained model: max |Δlogits| = ${reloadedMaxDelta.toExponential(2)}`,
            `quantized base: ${checks.qloraBaseBits!.toFixed(3)} bits per weight element (float32: 32)`,
          ].join('\n'));
          return;
        }
        // Fold BA into W: a plain GPT again.
        mergeAndUnloadLora(model);
        const mergedMaxDelta = maxAbsDiff(adapted, await heldOutLogits(model, batch));
        const mergeTolerance = MERGE_TOLERANCE * Math.max(1, maxAbsDiff(adapted, new Float32Array(adapted.length)));
        if (!(mergedMaxDelta <= mergeTolerance)) throw new Error(`lora: the merged model's logits differ from the adapter model's by ${mergedMaxDelta} (more than ${mergeTolerance})`);
        const mergedPath = join(ctx.out, 'merged.safetensors');
        await saveModule(model, mergedPath);
        const mergedExactMatch = (await exactMatch(model, ctx.tokenizer, ctx.evalRecords, { device: ctx.device })).score;
        checks = {
          trainable: t.trainable, total: t.total, baseMaxDelta, adapterPath, adapterBytes: statSync(adapterPath).size, mergedPath, mergedBytes: statSync(mergedPath).size,
          mergedMaxDelta, mergeTolerance, reloadedMaxDelta, mergedExactMatch,
        };
        ctx.say([
          `base weights after training: max |Δ| = ${baseMaxDelta} (frozen)`,
          `adapter: ${adapterPath}, ${checks.adapterBytes.toLocaleString('en-US')} bytes (merged model: ${checks.mergedBytes.toLocaleString('en-US')} bytes, ${(checks.mergedBytes / checks.adapterBytes).toFixed(1)}× larger)`,
          `adapter loaded into a fresh pre-trained model: max |Δlogits| = ${reloadedMaxDelta.toExponential(2)}`,
          `merged into the weights: max |Δlogits| = ${mergedMaxDelta.toExponential(2)} (asserted ≤ ${mergeTolerance.toExponential(2)}, ${MERGE_TOLERANCE.toExponential(0)} × the largest logit); merged exact match ${percent(mergedExactMatch)}`,
        ].join('\n'));
      } finally {
        for (const v of Object.values(batch)) (v as Tensor).dispose();
      }
    },
  });
  if (!checks) throw new Error('lora: the run ended before the adapter checks');
  const c = checks as LoraChecks;

  let full: LoraResult['full'] = null;
  const say = (s: string) => { (opts.stream ?? process.stdout).write(`${s}\n`); };
  if (opts.fullFt !== 'skip') {
    const saved = opts.fullFt === 'auto' ? readComparable(opts.sftResult, result) : null;
    if (saved) {
      full = { result: saved, source: resolve(opts.sftResult) };
      say(`\nfull fine-tuning: read from ${full.source} (same pre-trained model, data and steps)`);
    } else {
      say(`\nfull fine-tuning: ${opts.fullFt === 'run' ? 'running it' : `no comparable result at ${opts.sftResult}; running it`} (same data and steps, lr ${opts.fullLr})`);
      const r = await sftGpt({ ...opts, lr: opts.fullLr, minLr: opts.fullLr / 10, weightDecay: SFT_DEFAULTS.weightDecay, out: join(opts.out, 'full-ft') });
      full = { result: r, source: r.resultPath };
    }
  }

  const cols = full ? ['full fine-tuning', result.name] : [result.name];
  const runs = full ? [full.result, result] : [result];
  const pct = (n: number, total: number) => `${n.toLocaleString('en-US')} (${percent(n / total)})`;
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  const instructions = Object.keys(result.after.byInstruction);
  const rows: string[][] = [
    ['trainable parameters', ...runs.map((r) => pct(r.parameters.trainable, r.parameters.total))],
    ['held-out response loss', ...runs.map((r) => r.after.loss.toFixed(4))],
    ['exact match (before → after)', ...runs.map((r) => `${percent(r.before.exactMatch)} → ${percent(r.after.exactMatch)}`)],
    ...instructions.map((k) => [`  ${k}`, ...runs.map((r) => percent(r.after.byInstruction[k] ?? NaN))]),
    ['file to ship', ...(full ? [`${kb(c.mergedBytes)} (model)`] : []), `${kb(c.adapterBytes)} (adapter)`],
    ...(c.qloraBaseBits !== undefined ? [['adapted base Linears, bits/weight', ...(full ? ['32'] : []), c.qloraBaseBits.toFixed(3)]] : []),
  ];
  const table = formatTable(['', ...cols], rows);
  say(`\n${table}\n\n${opts.qlora ? 'QLoRA (no merge)' : `merged == adapter model: max |Δlogits| ${c.mergedMaxDelta.toExponential(2)}`}; base weights unchanged: max |Δ| ${c.baseMaxDelta}`);
  return { lora: result, checks: c, full, table };
}

/** QLoRA's base: the targeted Linears of `model` quantized to NF4 (block 64, double-quantized absmax). */
async function quantizeBase(model: GPT, targets: readonly string[], say: (s: string) => void): Promise<number> {
  const layers = await quantize(model, { scheme: 'nf4', targetModules: targets });
  // Bits per weight element of the quantized layers together (codes, absmax codes, their scales).
  let bits = 0, n = 0;
  for (const [, l] of layers) { bits += l.bitsPerParameter() * l.inFeatures * l.outFeatures; n += l.inFeatures * l.outFeatures; }
  const perWeight = n === 0 ? 32 : bits / n;
  say(`QLoRA: ${layers.size} base Linear layers quantized to NF4, ${perWeight.toFixed(3)} bits per weight element`);
  return perWeight;
}

/** The sft example's saved result when it fine-tuned the same pre-trained model on the same data for as many steps. */
function readComparable(path: string, lora: SftResult): Pick<SftResult, 'before' | 'after' | 'parameters' | 'data'> | null {
  if (!existsSync(path)) return null;
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as Pick<SftResult, 'before' | 'after' | 'parameters' | 'data' | 'pretrained'> & { steps: number };
    const same = resolve(r.pretrained) === resolve(lora.pretrained) && r.steps === lora.train.step
      && r.data.evalHash === lora.data.evalHash && r.data.train === lora.data.train && r.data.source === lora.data.source;
    return same ? r : null;
  } catch {
    return null;
  }
}
