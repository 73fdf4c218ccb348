// LoRA fine-tuning of a HuggingFace checkpoint, written back as a PEFT adapter.
//
// 1. The base: an HF model directory (config.json + model.safetensors + tokenizer.json) given with
//    --model, or a tiny randomly initialised GPT-2 (or Llama) made here with a byte-level BPE
//    tokenizer and saved in HF's layout under <out>/base — the same files transformers writes.
// 2. LoRA adapters (@webgrad/optim's applyLora) in the layers named by HF module names
//    (--targets c_attn,c_proj for GPT-2; q_proj,v_proj,… for Llama, as in PEFT's target_modules).
// 3. A small task: continue the alphabet, "k l m" → " n o p", with the loss on the answer
//    only; 6 of the 26 start letters are held out. Exact match of greedy answers and answer loss
//    on the held-out prompts, before and after.
// 4. <out>/adapter: adapter_config.json + adapter_model.safetensors in PEFT's names and shapes
//    (`PeftModel.from_pretrained(base, "<out>/adapter")`), and <out>/probe.safetensors: ids and
//    this model's logits, which scripts/hf/check_peft_adapter.py compares with PEFT's.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AdamW, applyLora, trainableParameters } from '@webgrad/optim';
import { manualSeed, noGrad, tensor, tidy, type DeviceName, type Tensor } from '@webgrad/core';
import { ByteLevelBPETokenizer, HFTokenizer, type Tokenizer } from '@webgrad/data';
import {
  GPT, Llama, init, loadHFModel, peftTargetModules, readSafetensorsFile, saveHFModel, savePeftAdapter, writeSafetensorsFile,
} from '@webgrad/nn';
import { selectDevice, type DeviceChoice } from '../shared/device.js';
import { formatTable, percent } from '../shared/table.js';

/** What `pnpm example hf-lora` takes (the flags, camelCased). */
export interface HfLoraOptions {
  /** An HF model directory; null makes a tiny base under <out>/base. */
  model: string | null;
  /** Family of the base made when `model` is null. */
  baseFamily: 'gpt2' | 'llama';
  out: string;
  steps: number;
  batchSize: number;
  lr: number;
  r: number;
  alpha: number;
  /** HF module names to adapt (null: c_attn, c_proj, c_fc for GPT-2; q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj for Llama). */
  targets: readonly string[] | null;
  device: DeviceChoice;
  seed: number;
  log: (line: string) => void;
}

export const DEFAULT_OPTIONS: HfLoraOptions = {
  model: null, baseFamily: 'gpt2', out: 'runs/hf-lora', steps: 300, batchSize: 16, lr: 1e-2, r: 8, alpha: 16, targets: null,
  device: 'cpu', seed: 0, log: console.log,
};

const DEFAULT_TARGETS = { gpt2: ['c_attn', 'c_proj', 'c_fc'], llama: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] };
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
/** Start letters whose prompts are held out. */
const HELD_OUT = new Set([2, 7, 11, 16, 20, 24]);

/** One task example: the prompt's and the answer's token ids, and the text they encode. */
export interface Example { prompt: number[]; answer: number[]; text: string }

/** "k l m" / " n o p" for every start letter (the alphabet wraps around). Every letter pair of a
 *  held-out answer is an answer pair of some training example, so the rule can be learned. */
export function alphabetTask(tok: Tokenizer): { train: Example[]; test: Example[] } {
  const train: Example[] = [], test: Example[] = [];
  for (let s = 0; s < 26; s++) {
    const at = (i: number) => LETTERS[(s + i) % 26]!;
    const prompt = `${at(0)} ${at(1)} ${at(2)}`;
    const answer = ` ${at(3)} ${at(4)} ${at(5)}`;
    const ex = { prompt: tok.encode(prompt, { addSpecialTokens: false }), answer: tok.encode(answer, { addSpecialTokens: false }), text: prompt + answer };
    (HELD_OUT.has(s) ? test : train).push(ex);
  }
  return { train, test };
}

/** Inputs (B, T) and targets (B, T) with −100 on prompt and padding positions. */
function batchTensors(examples: readonly Example[], device: DeviceName): { x: Tensor; y: Tensor } {
  const seqs = examples.map((e) => [...e.prompt, ...e.answer]);
  const T = Math.max(...seqs.map((s) => s.length)) - 1;
  const x = new Int32Array(examples.length * T), y = new Int32Array(examples.length * T).fill(-100);
  examples.forEach((e, b) => {
    const s = seqs[b]!;
    for (let t = 0; t < s.length - 1; t++) {
      x[b * T + t] = s[t]!;
      if (t + 1 >= e.prompt.length) y[b * T + t] = s[t + 1]!;
    }
  });
  return { x: tensor(x, { shape: [examples.length, T], dtype: 'int32', device }), y: tensor(y, { shape: [examples.length, T], dtype: 'int32', device }) };
}

async function answerLoss(model: GPT | Llama, examples: readonly Example[], device: DeviceName): Promise<number> {
  const { x, y } = batchTensors(examples, device);
  const loss = noGrad(() => model.forward(x, y).loss!);
  const v = (await loss.data())[0]!;
  for (const t of [x, y, loss]) t.dispose();
  return v;
}

async function exactMatch(model: GPT | Llama, examples: readonly Example[], device: DeviceName): Promise<number> {
  let hits = 0;
  for (const e of examples) {
    const idx = tensor(Int32Array.from(e.prompt), { shape: [1, e.prompt.length], dtype: 'int32', device });
    const out = await model.generate(idx, { maxNewTokens: e.answer.length, greedy: true });
    const got = Array.from(await out.data()).slice(e.prompt.length);
    if (got.join() === e.answer.join()) hits++;
    idx.dispose();
    out.dispose();
  }
  return hits / examples.length;
}

/** A tiny base in HF's layout: a byte-level BPE tokenizer trained on the task text and a randomly
 *  initialised model of the given family sized to it. Its (tied) embedding is drawn at N(0, 0.15²):
 *  at the usual 0.02 a random model's frozen final norm and head cap every logit near 1.3, and no
 *  adapter could make a confident prediction. */
async function makeBase(dir: string, family: 'gpt2' | 'llama', seed: number): Promise<void> {
  const corpus = Array.from({ length: 26 }, (_, s) => Array.from({ length: 6 }, (_, i) => LETTERS[(s + i) % 26]).join(' ')).join('\n');
  const tok = ByteLevelBPETokenizer.train(corpus, { vocabSize: 300, specialTokens: ['<|endoftext|>'], eosToken: '<|endoftext|>' });
  manualSeed(seed);
  const model = family === 'gpt2'
    ? new GPT({ vocabSize: tok.vocabSize, blockSize: 64, nLayer: 2, nHead: 4, nEmbd: 64, gelu: 'tanh' })
    : new Llama({ vocabSize: tok.vocabSize, hiddenSize: 64, intermediateSize: 128, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, maxPositionEmbeddings: 64, tieWordEmbeddings: true });
  init.normal(model instanceof GPT ? model.wte.weight : model.embedTokens.weight, 0, 0.15);
  const eos = tok.eosId!;
  await saveHFModel(model, dir, { config: { bos_token_id: eos, eos_token_id: eos } });
  await tok.save(dir);
  model.dispose();
}

/** What a run measured and wrote (also saved as <out>/results.json). */
export interface HfLoraResult {
  baseDir: string;
  adapterDir: string;
  family: 'gpt2' | 'llama';
  trainable: number;
  total: number;
  adapterBytes: number;
  before: { loss: number; exactMatch: number };
  after: { loss: number; exactMatch: number };
  /** The PEFT tensor names written, in order. */
  adapterTensors: string[];
}

export async function hfLora(opts: HfLoraOptions): Promise<HfLoraResult> {
  const log = opts.log;
  const device = await selectDevice(opts.device, log);
  mkdirSync(opts.out, { recursive: true });
  let baseDir = opts.model;
  if (baseDir === null) {
    baseDir = join(opts.out, 'base');
    await makeBase(baseDir, opts.baseFamily, opts.seed);
    log(`base: a tiny random ${opts.baseFamily} saved in HF's layout at ${baseDir}`);
  }
  const tok = await HFTokenizer.load(baseDir);
  const model = await loadHFModel(baseDir, { device });
  const family = model instanceof GPT ? 'gpt2' : 'llama';
  const task = alphabetTask(tok);
  const targets = opts.targets ?? DEFAULT_TARGETS[family];
  manualSeed(opts.seed);
  applyLora(model, { r: opts.r, alpha: opts.alpha, targetModules: peftTargetModules(model, targets) });
  const share = trainableParameters(model);
  log(`${family} from ${baseDir}: ${share.text}`);
  const before = { loss: await answerLoss(model, task.test, device), exactMatch: await exactMatch(model, task.test, device) };

  const params = model.parameters().filter((p) => p.requiresGrad);
  const opt = new AdamW(params, { lr: opts.lr, weightDecay: 0 });
  let rng = opts.seed * 7919 + 1;
  const draw = () => { rng = (rng * 1103515245 + 12345) % 2147483648; return rng / 2147483648; };
  model.train();
  for (let step = 1; step <= opts.steps; step++) {
    const batch = Array.from({ length: opts.batchSize }, () => task.train[Math.floor(draw() * task.train.length)]!);
    const { x, y } = batchTensors(batch, device);
    opt.zeroGrad();
    const loss = tidy(() => model.forward(x, y).loss!);
    loss.backward();
    opt.step();
    if (step === 1 || step % 50 === 0 || step === opts.steps) log(`step ${step}: answer loss ${(await loss.data())[0]!.toFixed(4)}`);
    for (const t of [x, y, loss]) t.dispose();
  }
  model.eval();
  const after = { loss: await answerLoss(model, task.test, device), exactMatch: await exactMatch(model, task.test, device) };

  const adapterDir = join(opts.out, 'adapter');
  await savePeftAdapter(model, adapterDir, { baseModelNameOrPath: resolve(baseDir) });
  // Probe for the PEFT comparison: held-out sequences of one length and this model's logits.
  const rows = task.test.map((e) => [...e.prompt, ...e.answer]).filter((r, _, all) => r.length === all[0]!.length);
  const ids = tensor(Int32Array.from(rows.flat()), { shape: [rows.length, rows[0]!.length], dtype: 'int32', device });
  const logits = noGrad(() => model.forward(ids).logits);
  await writeSafetensorsFile(join(opts.out, 'probe.safetensors'), {
    ids: { dtype: 'I32', shape: [...ids.shape], data: Int32Array.from(rows.flat()) },
    logits: { dtype: 'F32', shape: [...logits.shape], data: (await logits.data()) as Float32Array },
  });
  ids.dispose();
  logits.dispose();

  const adapterBytes = statSync(join(adapterDir, 'adapter_model.safetensors')).size;
  const adapterTensors = (await readSafetensorsFile(join(adapterDir, 'adapter_model.safetensors'))).names;
  const result: HfLoraResult = {
    baseDir, adapterDir, family, trainable: share.trainable, total: share.total, adapterBytes, before, after, adapterTensors,
  };
  writeFileSync(join(opts.out, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  log(formatTable(['held-out (6 prompts)', 'before', 'after'], [
    ['answer loss', before.loss.toFixed(3), after.loss.toFixed(3)],
    ['exact match', percent(before.exactMatch), percent(after.exactMatch)],
  ]));
  log(`adapter: ${adapterDir} (${adapterTensors.length} tensors, ${(adapterBytes / 1024).toFixed(1)} KiB; PEFT: PeftModel.from_pretrained(base, "${adapterDir}"))`);
  model.dispose();
  return result;
}
