// LoRA, low-rank adaptation (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models").
// A frozen Linear W gets a trainable low-rank update:  y = x·Wᵀ + b + (α/r) · B·A·dropout(x),
// with A [r, in] initialized kaiming-uniform(a=√5) as PEFT does and B [out, r] zeros, so the
// model's output is unchanged at step 0.
//
// applyLora turns every matching Linear into a LoraLinear *in place* (the same object, so any
// container or field that holds it keeps working) and freezes everything else. Parameter names
// follow PEFT's convention: the base weight keeps its name (`h.0.attn.cAttn.weight`) and the adapter
// adds `h.0.attn.cAttn.lora_A.weight` and `...lora_B.weight`, so a base checkpoint still loads into
// the adapted model (non-strict) and the adapter saves and loads on its own.
import {
  cat, checkBool, checkFunction, checkOptions, checkRange, checkSize, contiguous, dropout, fmtValue, noGrad, quantLinear, tensor, tidy, transpose, ValueError, type Tensor,
} from '@webgrad/core';
import { Linear, Module, QuantLinear, readSafetensorsFile, writeSafetensorsFile, type FactoryOptions, type SafeTensorInput } from '@webgrad/nn';
import type { QuantizeOptions } from '@webgrad/kernels';
import { safeToSnapshot, snapshotTensor, snapshotToSafe, snapshotToTensor } from './tensor_io.js';

/** A LoRA setup that does not fit the model, or an adapter file that does not fit it. */
export class LoraError extends ValueError {}

/** LoRA hyperparameters (Hu et al. 2021; PEFT's LoraConfig `r`, `lora_alpha`, `lora_dropout`). */
export interface LoraOptions {
  /** Rank of the update. */
  r: number;
  /** Scaling numerator: the update is multiplied by alpha / r (default r, i.e. scaling 1). */
  alpha?: number;
  /** Dropout probability on the LoRA input path (default 0). */
  dropout?: number;
}

/** Options of `applyLora`: the LoRA hyperparameters and which Linear layers get adapters (PEFT's `target_modules`). */
export interface ApplyLoraOptions extends LoraOptions {
  /** Names (a module matches when its name equals one or ends with `.name`, as in PEFT) or a
   *  regular expression that must match the whole dotted module name. */
  targetModules: readonly string[] | RegExp;
}

/** A Linear with a LoRA adapter (see the file comment). */
export class LoraLinear extends Linear {
  /** A: in → r, kaiming-uniform initialized (PEFT's `lora_A`). */
  declare lora_A: Linear;
  /** B: r → out, zero-initialized, so the adapter starts as the identity (PEFT's `lora_B`). */
  declare lora_B: Linear;
  /** The rank. */
  declare r: number;
  /** α: the update is scaled by α / r. */
  declare loraAlpha: number;
  /** α / r. */
  declare scaling: number;
  /** Dropout probability on the adapter's input path. */
  declare loraDropout: number;
  /** True while B·A is folded into `weight`. */
  declare merged: boolean;
  /** When false the adapter is bypassed (the base layer alone). */
  declare loraEnabled: boolean;

  constructor(inFeatures: number, outFeatures: number, opts: LoraOptions & FactoryOptions & { bias?: boolean }) {
    checkLoraOptions('LoraLinear', opts, ['bias', 'dtype', 'device']);
    super(inFeatures, outFeatures, { bias: opts.bias, dtype: opts.dtype, device: opts.device });
    LoraLinear.#setup(this, opts);
  }

  /** Convert `linear` into a LoraLinear in place and return it. */
  static fromLinear(linear: Linear, opts: LoraOptions): LoraLinear {
    if (!(linear instanceof Linear)) throw new LoraError(`LoraLinear.fromLinear: linear must be a Linear layer, got ${fmtValue(linear)}`);
    if (linear instanceof LoraLinear) throw new LoraError('LoraLinear.fromLinear: the layer already has a LoRA adapter');
    checkLoraOptions('LoraLinear.fromLinear', opts);
    // A quantized base (QuantLinear) gets the QLoRA variant: same adapters, the base read from its codes.
    Object.setPrototypeOf(linear, (linear instanceof QuantLinear ? QLoraLinear : LoraLinear).prototype);
    LoraLinear.#setup(linear as LoraLinear, opts);
    return linear as LoraLinear;
  }

  /** Adds the adapter to `m`; `opts` has been checked. */
  static #setup(m: LoraLinear, opts: LoraOptions): void {
    const { r } = opts;
    const alpha = opts.alpha ?? r;
    const p = opts.dropout ?? 0;
    m.r = r;
    m.loraAlpha = alpha;
    m.scaling = alpha / r;
    m.loraDropout = p;
    m.merged = false;
    m.loraEnabled = true;
    const base = m.weight ?? (m as unknown as QuantLinear).scales; // a quantized base has float32 scales, no weight
    const f = { dtype: base.dtype, device: base.device };
    // Linear's default init is kaiming_uniform(a=√5): the same as PEFT's init of A.
    m.registerModule('lora_A', new Linear(m.inFeatures, r, { ...f, bias: false }));
    const B = m.registerModule('lora_B', new Linear(r, m.outFeatures, { ...f, bias: false }));
    noGrad(() => B.weight.zero_());
  }

  /** (*, in) → (*, out) */
  override forward(x: Tensor): Tensor {
    if (this.merged || !this.loraEnabled) return super.forward(x);
    return tidy(() => {
      const y = super.forward(x);
      const h = dropout(x, this.loraDropout, this.training);
      return y.add(this.lora_B.forward(this.lora_A.forward(h)).mul(this.scaling));
    });
  }

  /** The dense update (α/r)·B·A, [out, in]. */
  deltaWeight(): Tensor {
    return noGrad(() => tidy(() => this.lora_B.weight.matmul(this.lora_A.weight).mul(this.scaling)));
  }

  /** Fold the update into `weight` (faster inference). No-op when merged. */
  merge(): void {
    if (this.merged) return;
    noGrad(() => tidy(() => { this.weight.add_(this.deltaWeight()); }));
    this.merged = true;
  }

  /** Take the update back out of `weight`. No-op when not merged. */
  unmerge(): void {
    if (!this.merged) return;
    noGrad(() => tidy(() => { this.weight.sub_(this.deltaWeight()); }));
    this.merged = false;
  }

  override extraRepr(): string {
    return `${super.extraRepr()}, r=${this.r}, alpha=${this.loraAlpha}, dropout=${this.loraDropout}${this.merged ? ', merged' : ''}`;
  }
}

/**
 * QLoRA (Dettmers et al. 2023): float adapters on a frozen quantized base. `applyLora` makes one of
 * every targeted QuantLinear (e.g. after `quantize(model, { scheme: 'nf4' })`); the base product
 * reads the codes and scales in the kernel, so gradients reach only lora_A and lora_B (and x).
 *
 * Merging: the update cannot be folded into codes exactly, so `merge()` (and `mergeLora`,
 * `mergeAndUnloadLora`) gives the layer a float32 weight W = dequant(codes) + (α/r)·B·A and drops
 * the codes — the layer becomes a merged LoraLinear on a float base (its `unmerge` leaves the
 * dequantized base). `mergeAndRequantizeLora` then quantizes the merged weight again with each
 * base's own scheme, as PEFT's merge_and_unload does on a 4-bit base (with the rounding that brings).
 */
export class QLoraLinear extends LoraLinear {
  /** The base weight as core's quantLinear reads it (see QuantLinear). */
  quantWeight(): ReturnType<QuantLinear['quantWeight']> {
    return QuantLinear.prototype.quantWeight.call(this as unknown as QuantLinear);
  }

  /** (*, in) → (*, out) */
  override forward(x: Tensor): Tensor {
    const base = (h: Tensor): Tensor => QuantLinear.prototype.forward.call(this as unknown as QuantLinear, h);
    if (!this.loraEnabled) return base(x);
    return tidy(() => base(x).add(this.lora_B.forward(this.lora_A.forward(dropout(x, this.loraDropout, this.training))).mul(this.scaling)));
  }

  /** The quantization of the base: its scheme, group size and double quantization. */
  baseQuantization(): QuantizeOptions {
    const q = this as unknown as QuantLinear;
    return { scheme: q.scheme, groupSize: q.groupSize, doubleQuant: q.scheme === 'nf4' ? q.absmax_q !== null : undefined };
  }

  /** dequant(codes) + (α/r)·B·A as a new float32 tensor [out, in] on the layer's device (see `dequantizedBase`). */
  mergedWeight(): Tensor {
    return noGrad(() => tidy(() => dequantizedBase(this).add(this.deltaWeight())));
  }

  /**
   * Folds the update into a float32 weight: weight = dequant(codes) + (α/r)·B·A, frozen. The codes
   * and scales are disposed and the layer becomes a merged LoraLinear on that float base.
   */
  override merge(): void {
    const w = this.mergedWeight();
    const q = this as unknown as QuantLinear;
    for (const b of ['qdata', 'scales', 'zeros', 'absmax_q'] as const) {
      const t = q[b];
      q.registerBuffer(b, null);
      t?.dispose();
      delete (q as unknown as Record<string, unknown>)[b];
    }
    for (const k of ['scheme', 'groupSize', 'absmaxOffset']) delete (this as unknown as Record<string, unknown>)[k];
    Object.setPrototypeOf(this, LoraLinear.prototype);
    this.registerParameter('weight', w, { requiresGrad: false });
    this.merged = true;
  }

  /** Nothing to undo: a QLoraLinear is never merged. */
  override unmerge(): void {}
}

/** Columns of the identity multiplied per step of `dequantizedBase` (bounds its temporary to 256·in floats). */
const DEQUANT_CHUNK = 256;

/**
 * The base weight W [out, in] of a QLoraLinear as float32 on its device, read through the quantized
 * matmul itself: quantLinear(I[k0:k1, :]) = W[:, k0:k1]ᵀ, a chunk of identity rows at a time. Every
 * product has one non-zero term, so this is exactly `dequantizeWeight` of the codes, with no read
 * back to the host (synchronous on WebGPU too).
 */
function dequantizedBase(l: QLoraLinear): Tensor {
  const K = l.inFeatures, N = l.outFeatures, w = l.quantWeight();
  const device = w.scales.device;
  const parts: Tensor[] = [];
  for (let k0 = 0; k0 < K; k0 += DEQUANT_CHUNK) {
    const c = Math.min(DEQUANT_CHUNK, K - k0);
    const eye = new Float32Array(c * K);
    for (let i = 0; i < c; i++) eye[i * K + k0 + i] = 1;
    parts.push(quantLinear(tensor(eye, { shape: [c, K], device }), w));
  }
  const wt = parts.length === 0 ? tensor(new Float32Array(0), { shape: [0, N], device }) : parts.length === 1 ? parts[0]! : cat(parts, 0);
  return contiguous(transpose(wt, 0, 1));
}

/** LoraOptions (plus `extraKeys`, checked by the caller): rank r >= 1, alpha > 0, dropout in [0, 1). */
function checkLoraOptions(op: string, opts: LoraOptions, extraKeys: readonly string[] = []): void {
  checkOptions(op, opts, ['r', 'alpha', 'dropout', ...extraKeys]);
  checkSize(op, 'r', opts.r, 1);
  if (opts.alpha !== undefined) checkRange(op, 'alpha', opts.alpha, 0, Infinity, { lo: true });
  if (opts.dropout !== undefined) checkRange(op, 'dropout', opts.dropout, 0, 1, { hi: true });
}

function checkPath(op: string, path: unknown): void {
  if (typeof path !== 'string' || path === '') throw new LoraError(`${op}: path must be a non-empty string, got ${fmtValue(path)}`);
}

function checkModel(op: string, model: unknown): void {
  if (!(model instanceof Module)) throw new LoraError(`${op}: model must be a Module, got ${fmtValue(model)}`);
}

function matcher(target: readonly string[] | RegExp): (name: string) => boolean {
  if (target instanceof RegExp) {
    const full = new RegExp(`^(?:${target.source})$`, target.flags.replace(/[gy]/g, ''));
    return (name) => full.test(name);
  }
  return (name) => target.some((t) => name === t || name.endsWith(`.${t}`));
}

/** LoraLinear layers of `model` with their names. */
export function loraLayers(model: Module): [string, LoraLinear][] {
  checkModel('loraLayers', model);
  return [...model.namedModules()].filter((e): e is [string, LoraLinear] => e[1] instanceof LoraLinear);
}

/**
 * Add LoRA adapters to every Linear whose name matches `targetModules`, freeze every other
 * parameter (base weights and biases included), and return the adapted layers by name.
 */
export function applyLora(model: Module, opts: ApplyLoraOptions): Map<string, LoraLinear> {
  checkModel('applyLora', model);
  checkLoraOptions('applyLora', opts, ['targetModules']);
  const t = opts.targetModules;
  if (!(t instanceof RegExp) && !(Array.isArray(t) && t.length > 0 && t.every((x) => typeof x === 'string' && x !== ''))) {
    throw new LoraError(`applyLora: targetModules must be a non-empty array of module names or a RegExp, got ${fmtValue(t)}`);
  }
  const match = matcher(opts.targetModules);
  const targets = [...model.namedModules()].filter(([n, m]) => n !== '' && m instanceof Linear && match(n)) as [string, Linear][];
  if (targets.length === 0) {
    const linears = [...model.namedModules()].filter(([, m]) => m instanceof Linear).map(([n]) => n);
    throw new LoraError(`applyLora: no Linear layer matches ${opts.targetModules instanceof RegExp ? opts.targetModules : JSON.stringify(opts.targetModules)} (Linear layers: ${linears.slice(0, 20).join(', ') || 'none'})`);
  }
  for (const [n, m] of targets) if (m instanceof LoraLinear) throw new LoraError(`applyLora: '${n}' already has a LoRA adapter`);
  model.requiresGrad_(false);
  const out = new Map<string, LoraLinear>();
  const { r, alpha, dropout: p } = opts;
  for (const [n, m] of targets) {
    const l = LoraLinear.fromLinear(m, { r, alpha, dropout: p });
    l.lora_A.requiresGrad_(true);
    l.lora_B.requiresGrad_(true);
    out.set(n, l);
  }
  return out;
}

/** Fold every adapter into its base weight. */
export function mergeLora(model: Module): void {
  checkModel('mergeLora', model);
  for (const [, l] of loraLayers(model)) l.merge();
}

/** Undo mergeLora. */
export function unmergeLora(model: Module): void {
  checkModel('unmergeLora', model);
  for (const [, l] of loraLayers(model)) l.unmerge();
}

/** Merge every adapter into its base weight and turn the layers back into plain Linear layers
 *  (adapter tensors are disposed). The model keeps its frozen/trainable flags. A quantized (QLoRA)
 *  base becomes a float32 Linear, W = dequant(codes) + (α/r)·B·A; `mergeAndRequantizeLora`
 *  quantizes it again. */
export function mergeAndUnloadLora(model: Module): void {
  checkModel('mergeAndUnloadLora', model);
  for (const [, l] of loraLayers(model)) {
    l.merge();
    const [A, B] = [l.lora_A, l.lora_B];
    l.registerModule('lora_A', null);
    l.registerModule('lora_B', null);
    A.dispose();
    B.dispose();
    for (const k of ['r', 'loraAlpha', 'scaling', 'loraDropout', 'merged', 'loraEnabled']) delete (l as unknown as Record<string, unknown>)[k];
    Object.setPrototypeOf(l, Linear.prototype);
  }
}

/**
 * `mergeAndUnloadLora`, then every layer whose base was quantized (QLoRA) is quantized again from its
 * merged float32 weight with the base's scheme, group size and double quantization — PEFT's
 * merge_and_unload on a 4-bit base. Returns those layers (now QuantLinear) by name. The merged model
 * differs from the adapted one by the new rounding; `mergeAndUnloadLora` alone keeps it in float32.
 */
export async function mergeAndRequantizeLora(model: Module): Promise<Map<string, QuantLinear>> {
  checkModel('mergeAndRequantizeLora', model);
  const quantized = loraLayers(model).filter((e): e is [string, QLoraLinear] => e[1] instanceof QLoraLinear).map(([n, l]) => [n, l, l.baseQuantization()] as const);
  mergeAndUnloadLora(model);
  const out = new Map<string, QuantLinear>();
  for (const [n, l, opts] of quantized) out.set(n, await QuantLinear.fromLinear(l as unknown as Linear, opts));
  return out;
}

/** Turn every adapter on or off (off = the base model's output). */
export function setLoraEnabled(model: Module, enabled: boolean): void {
  checkModel('setLoraEnabled', model);
  checkBool('setLoraEnabled', 'enabled', enabled);
  for (const [, l] of loraLayers(model)) l.loraEnabled = enabled;
}

/** The adapter tensors only (`...lora_A.weight`, `...lora_B.weight`), the model's own tensors. */
export function loraStateDict(model: Module): Record<string, Tensor> {
  checkModel('loraStateDict', model);
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(model.stateDict())) if (/(^|\.)lora_[AB]\./.test(k)) out[k] = t;
  return out;
}

/** Write the adapter weights as safetensors (atomically), with r/alpha/dropout in the metadata. */
export async function saveLoraAdapter(path: string, model: Module, metadata: Record<string, string> = {}): Promise<void> {
  checkPath('saveLoraAdapter', path);
  checkModel('saveLoraAdapter', model);
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata) || Object.values(metadata).some((v) => typeof v !== 'string')) {
    throw new LoraError(`saveLoraAdapter: metadata must be an object of string values, got ${fmtValue(metadata)}`);
  }
  const sd = loraStateDict(model);
  if (Object.keys(sd).length === 0) throw new LoraError('saveLoraAdapter: the model has no LoRA adapters');
  const tensors: Record<string, SafeTensorInput> = {};
  for (const [k, t] of Object.entries(sd)) tensors[k] = snapshotToSafe(await snapshotTensor(t));
  const first = loraLayers(model)[0]![1];
  await writeSafetensorsFile(path, tensors, { format: 'webgrad-lora', r: String(first.r), alpha: String(first.loraAlpha), dropout: String(first.loraDropout), ...metadata });
}

/** Load adapter weights saved by saveLoraAdapter into a model with the same adapters (call applyLora first). */
export async function loadLoraAdapter(path: string, model: Module): Promise<void> {
  checkPath('loadLoraAdapter', path);
  checkModel('loadLoraAdapter', model);
  const file = await readSafetensorsFile(path);
  const own = loraStateDict(model);
  const names = Object.keys(file.tensors);
  const missing = Object.keys(own).filter((k) => !(k in file.tensors));
  const unexpected = names.filter((k) => !(k in own));
  if (missing.length || unexpected.length) {
    throw new LoraError(`loadLoraAdapter: "${path}" does not fit the model's adapters${missing.length ? `; missing ${missing.join(', ')}` : ''}${unexpected.length ? `; unexpected ${unexpected.join(', ')}` : ''}`);
  }
  const merged = loraLayers(model).filter(([, l]) => l.merged);
  if (merged.length) throw new LoraError(`loadLoraAdapter: unmerge the adapters first (merged: ${merged.map(([n]) => n).join(', ')})`);
  const snaps = names.map((k) => {
    const s = safeToSnapshot(file.tensors[k]!);
    const t = own[k]!;
    if (!s) throw new LoraError(`loadLoraAdapter: "${path}", tensor ${k}: unsupported dtype ${file.tensors[k]!.dtype}`);
    if (s.shape.join() !== t.shape.join()) throw new LoraError(`loadLoraAdapter: "${path}", tensor ${k}: shape [${s.shape.join(', ')}], the model has [${t.shape.join(', ')}]`);
    return [t, s] as const;
  });
  noGrad(() => tidy(() => {
    for (const [t, s] of snaps) t.copy_(snapshotToTensor(s, t.device));
  }));
}

/** Result of `trainableParameters`: parameter element counts and the line PEFT's print_trainable_parameters prints (`text`). */
export interface TrainableReport {
  /** Parameter elements that require grad (tied weights once). */
  trainable: number;
  /** All parameter elements (tied weights once; a quantized base weight by its elements). */
  total: number;
  /** 100 · trainable / total. */
  percent: number;
  /** PEFT's line: `trainable params: … || all params: … || trainable%: …`. */
  text: string;
}

/** Trainable vs all parameter elements (tied weights counted once), like PEFT's print_trainable_parameters. */
export function trainableParameters(model: Module): TrainableReport {
  checkModel('trainableParameters', model);
  // A quantized base weight (QuantLinear, QLoraLinear) is a buffer of codes: counted by its elements, as PEFT counts 4-bit weights.
  let quantized = 0;
  for (const m of model.modules()) if (m instanceof QuantLinear || m instanceof QLoraLinear) quantized += (m as Linear).inFeatures * (m as Linear).outFeatures;
  const total = model.numParameters() + quantized;
  const trainable = model.numParameters({ trainableOnly: true });
  const percent = total === 0 ? 0 : (100 * trainable) / total;
  const fmt = (n: number) => n.toLocaleString('en-US');
  return { trainable, total, percent, text: `trainable params: ${fmt(trainable)} || all params: ${fmt(total)} || trainable%: ${percent.toFixed(4)}` };
}

/** Print (or hand to `log`) the trainable-parameter line; returns the report. */
export function printTrainableParameters(model: Module, log: (line: string) => void = console.log): TrainableReport {
  checkModel('printTrainableParameters', model);
  checkFunction('printTrainableParameters', 'log', log);
  const r = trainableParameters(model);
  log(r.text);
  return r;
}
