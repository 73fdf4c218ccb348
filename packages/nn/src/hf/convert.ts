// Moving tensors between an HF state dict (safetensors views under transformers' names) and a
// webgrad model, through an HFNameMap. Values are copied exactly: float16/bfloat16 files widen to
// the model's dtype, Conv1D weights are transposed on the host, and nothing is rounded on the way
// back (a float32 model writes F32, float64 F64).
import { noGrad, tensor, tidy, type Tensor } from '@webgrad/core';
import { decodeToFloat32, decodeToFloat64, type SafeTensorInput, type SafeTensorView } from '../safetensors/index.js';
import type { Module } from '../module.js';
import { HFCheckpointError, type HFNameMap } from './names.js';

/** Rows × cols row-major → cols × rows row-major. */
function transpose2d<A extends Float32Array | Float64Array>(src: A, rows: number, cols: number, make: (n: number) => A): A {
  const out = make(src.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c]!;
  return out;
}

function sameBytes(a: SafeTensorView, b: SafeTensorView): boolean {
  if (a.dtype !== b.dtype || a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

export interface LoadFromHFOptions {
  /** Where the tensors came from, for messages. */
  source: string;
  /** HF names to skip (attention-mask buffers, rotary inv_freq of older checkpoints). */
  ignore?: readonly RegExp[];
}

/**
 * Copy `tensors` (transformers' names) into `model`'s parameters. Every parameter must be covered
 * (tied ones through the tensor they share) and every HF tensor must map to one; shapes must match.
 */
export function loadStateFromHF(model: Module, map: HFNameMap, tensors: Readonly<Record<string, SafeTensorView>>, opts: LoadFromHFOptions): void {
  const own = model.stateDict();
  const unknown: string[] = [];
  const byName = new Map<string, { hf: string; view: SafeTensorView; transpose: boolean }>();
  for (const [hfName, view] of Object.entries(tensors)) {
    if (opts.ignore?.some((re) => re.test(hfName))) continue;
    const m = map.fromHF(hfName);
    if (!m || !(m.name in own)) { unknown.push(hfName); continue; }
    byName.set(m.name, { hf: hfName, view, transpose: m.transpose });
  }
  if (unknown.length) {
    throw new HFCheckpointError(`${opts.source}: tensors this model has no place for: ${unknown.slice(0, 12).join(', ')}${unknown.length > 12 ? ` (+${unknown.length - 12} more)` : ''}`);
  }
  // A tied parameter is loaded once; when the file also holds its other name, the two must agree.
  const loaded = new Map<Tensor, { name: string; view: SafeTensorView }>();
  const missing: string[] = [];
  const order: [Tensor, string, { hf: string; view: SafeTensorView; transpose: boolean }][] = [];
  for (const [name, t] of Object.entries(own)) {
    const entry = byName.get(name);
    const first = loaded.get(t);
    if (!entry) { if (!first) missing.push(name); continue; }
    if (first) {
      if (!sameBytes(first.view, entry.view)) throw new HFCheckpointError(`${opts.source}: ${entry.hf} differs from ${byName.get(first.name)!.hf}, but the model ties them (one tensor)`);
      continue;
    }
    loaded.set(t, { name, view: entry.view });
    order.push([t, name, entry]);
  }
  const unfilled = missing.filter((n) => !loaded.has(own[n]!));
  if (unfilled.length) {
    const hfNames = unfilled.map((n) => map.toHF(n)?.name ?? n);
    throw new HFCheckpointError(`${opts.source}: missing tensors ${hfNames.slice(0, 12).join(', ')}${hfNames.length > 12 ? ` (+${hfNames.length - 12} more)` : ''}`);
  }
  for (const [t, name, { hf, view, transpose }] of order) {
    const want = transpose ? [...t.shape].reverse() : [...t.shape];
    if (view.shape.join() !== want.join()) {
      throw new HFCheckpointError(`${opts.source}: ${hf} has shape [${view.shape.join(', ')}], the model's ${name} needs [${want.join(', ')}]`);
    }
  }
  for (const [t, , { hf, view, transpose }] of order) {
    const where = { source: opts.source, tensor: hf };
    let data: Float32Array | Float64Array = t.dtype === 'float64' ? decodeToFloat64(view, where) : decodeToFloat32(view, where);
    if (transpose) {
      const [rows, cols] = view.shape as [number, number];
      data = data instanceof Float64Array ? transpose2d(data, rows, cols, (n) => new Float64Array(n)) : transpose2d(data, rows, cols, (n) => new Float32Array(n));
    }
    noGrad(() => tidy(() => { t.copy_(tensor(data, { shape: [...t.shape], dtype: t.dtype, device: t.device })); }));
  }
}

/** The model's parameters and persistent buffers under transformers' names (tied tensors once,
 *  under their first name), ready for serializeSafetensors. */
export async function stateToHF(model: Module, map: HFNameMap, op: string): Promise<Record<string, SafeTensorInput>> {
  const out: Record<string, SafeTensorInput> = {};
  const seen = new Set<Tensor>();
  const entries = Object.entries(model.stateDict());
  const unmapped = entries.filter(([name]) => !map.toHF(name)).map(([name]) => name);
  if (unmapped.length) {
    const hint = unmapped.some((n) => /lora_[AB]/.test(n)) ? ' (LoRA adapters: write them with savePeftAdapter, or merge them into the weights first)' : '';
    throw new HFCheckpointError(`${op}: tensors without an HF name: ${unmapped.slice(0, 12).join(', ')}${hint}`);
  }
  for (const [name, t] of entries) {
    if (seen.has(t)) continue;
    seen.add(t);
    const m = map.toHF(name)!;
    if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new HFCheckpointError(`${op}: ${name} is ${t.dtype}; HF checkpoints hold float tensors`);
    let data = (await t.data()) as Float32Array | Float64Array;
    let shape = [...t.shape];
    if (m.transpose) {
      const [rows, cols] = shape as [number, number];
      data = data instanceof Float64Array ? transpose2d(data, rows, cols, (n) => new Float64Array(n)) : transpose2d(data, rows, cols, (n) => new Float32Array(n));
      shape = [cols, rows];
    }
    out[m.name] = { dtype: t.dtype === 'float64' ? 'F64' : 'F32', shape, data };
  }
  return out;
}
