// Collate functions: how a list of dataset items becomes one batch. `defaultCollate` stacks
// (torch.utils.data.default_collate); `padCollate` pads variable-length token sequences and adds
// attention masks and loss labels (as Hugging Face's data collators do).
import {
  ValueError, checkBool, checkEnum, checkInt, checkOptions, checkSize, fmtShape, fmtValue, stack, tensor, to, type DType, type DeviceName, type Tensor,
} from '@webgrad/core';
import { DataError } from './errors.js';
import { isTensor } from './util.js';

/** What a collate function is told besides the items. */
export interface CollateContext {
  /** The device the batch's tensors should be on (default: core's default device). */
  device?: DeviceName;
}

/** Turns the items of one batch into the batch. The tensors it returns belong to the loader. */
export type CollateFn<T = unknown, B = unknown> = (items: T[], context: CollateContext) => B;

type TypedArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array | Uint8ClampedArray;

function isTypedArray(v: unknown): v is TypedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && !(typeof BigInt64Array !== 'undefined' && (v instanceof BigInt64Array || v instanceof BigUint64Array));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/** The shape of a rectangular array of numbers / booleans (nested arrays or a typed array), or null. */
function numericShape(v: unknown): number[] | null {
  if (typeof v === 'number' || typeof v === 'boolean') return [];
  if (isTypedArray(v)) return [v.length];
  if (!Array.isArray(v)) return null;
  if (v.length === 0) return [0];
  const inner = numericShape(v[0]);
  if (inner === null) return null;
  for (let i = 1; i < v.length; i++) {
    const s = numericShape(v[i]);
    if (s === null || s.length !== inner.length || s.some((d, k) => d !== inner[k])) return null;
  }
  return [v.length, ...inner];
}

function describe(v: unknown): string {
  if (isTensor(v)) return `a Tensor of shape ${fmtShape(v.shape)}`;
  if (isTypedArray(v)) return `a ${v.constructor.name} of length ${v.length}`;
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (v === null) return 'null';
  if (isPlainObject(v)) return 'an object';
  if (typeof v === 'object') return v instanceof Promise ? 'a Promise (dataset items must be ready values; use an async IterableDataset for asynchronous data)' : `an instance of ${(v as object).constructor?.name ?? 'a class'}`;
  return `a ${typeof v}`;
}

/** Put the numbers of a numeric value into `out` from `at`, row-major; returns the next position. */
function flattenInto(v: unknown, out: number[], kinds: { float: boolean; bool: boolean; typed: DType | null }): void {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v > 2147483647 || v < -2147483648) kinds.float = true;
    out.push(v);
  } else if (typeof v === 'boolean') {
    kinds.bool = true;
    out.push(v ? 1 : 0);
  } else if (isTypedArray(v)) {
    const d: DType = v instanceof Float64Array ? 'float64' : v instanceof Float32Array ? 'float32' : 'int32';
    if (kinds.typed === null || (d === 'float64') || (d === 'float32' && kinds.typed === 'int32')) kinds.typed = d;
    for (let i = 0; i < v.length; i++) out.push(v[i]!);
  } else {
    for (const x of v as unknown[]) flattenInto(x, out, kinds);
  }
}

/** One tensor of shape [B, ...shape] from B numeric values of one shape. */
function numericBatch(op: string, items: unknown[], shape: number[], path: string, device: DeviceName | undefined): Tensor {
  const values: number[] = [];
  const kinds = { float: false, bool: false, typed: null as DType | null };
  for (const it of items) flattenInto(it, values, kinds);
  let dtype: DType;
  if (kinds.typed !== null) dtype = kinds.typed === 'int32' && kinds.float ? 'float32' : kinds.typed;
  else if (kinds.bool) dtype = 'bool';
  else dtype = kinds.float ? 'float32' : 'int32';
  if (dtype === 'int32' && values.some((x) => x > 2147483647 || x < -2147483648)) {
    throw new DataError(`${op}: ${path} holds integers outside the int32 range`);
  }
  const data = dtype === 'float64' ? Float64Array.from(values) : dtype === 'float32' ? Float32Array.from(values) : Int32Array.from(values);
  const full = [items.length, ...shape];
  return dtype === 'bool' ? tensor(data as Int32Array, { shape: full, dtype: 'bool', device }) : tensor(data, { shape: full, dtype, device });
}

function collateAt(op: string, items: unknown[], path: string, device: DeviceName | undefined): unknown {
  const first = items[0];
  const where = (i: number) => (path ? `${path} of item ${i}` : `item ${i}`);
  const fieldName = path || 'the items';
  if (isTensor(first)) {
    items.forEach((t, i) => {
      if (!isTensor(t)) throw new DataError(`${op}: ${where(i)} is ${describe(t)}, but item 0 had a Tensor`);
      if (t.shape.length !== first.shape.length || t.shape.some((d, k) => d !== first.shape[k])) {
        throw new DataError(`${op}: ${where(i)} has shape ${fmtShape(t.shape)}, item 0 had ${fmtShape(first.shape)}; tensors stack only at one shape (use padCollate for variable-length sequences)`);
      }
    });
    const s = stack(items as Tensor[], 0);
    if (device === undefined || s.device === device) return s;
    const moved = to(s, device);
    s.dispose();
    return moved;
  }
  if (typeof first === 'string') {
    items.forEach((x, i) => { if (typeof x !== 'string') throw new DataError(`${op}: ${where(i)} is ${describe(x)}, but item 0 had a string`); });
    return items as string[];
  }
  const shape = numericShape(first);
  if (shape !== null) {
    items.forEach((x, i) => {
      const s = numericShape(x);
      if (s === null) throw new DataError(`${op}: ${where(i)} is ${describe(x)}, but item 0 had ${describe(first)} of numbers`);
      if (s.length !== shape.length || s.some((d, k) => d !== shape[k])) {
        throw new DataError(`${op}: ${fieldName} has shape ${fmtShape(shape)} in item 0 but ${fmtShape(s)} in item ${i}; use padCollate for variable-length sequences`);
      }
    });
    return numericBatch(op, items, shape, fieldName, device);
  }
  if (Array.isArray(first)) {
    items.forEach((x, i) => {
      if (!Array.isArray(x) || x.length !== first.length) throw new DataError(`${op}: ${where(i)} is ${describe(x)}, but item 0 was a tuple of length ${first.length}`);
    });
    return first.map((_, j) => collateAt(op, items.map((x) => (x as unknown[])[j]), `${path}[${j}]`, device));
  }
  if (isPlainObject(first)) {
    const keys = Object.keys(first);
    items.forEach((x, i) => {
      if (!isPlainObject(x)) throw new DataError(`${op}: ${where(i)} is ${describe(x)}, but item 0 was an object`);
      for (const k of keys) if (!(k in x)) throw new DataError(`${op}: item ${i} has no field ${JSON.stringify(path ? `${path}.${k}` : k)}`);
    });
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = collateAt(op, items.map((x) => (x as Record<string, unknown>)[k]), path ? `${path}.${k}` : k, device);
    return out;
  }
  throw new DataError(`${op}: cannot collate ${fieldName}: item 0 is ${describe(first)} (expected numbers, booleans, arrays, typed arrays, tensors, strings, objects or tuples)`);
}

function checkItems(op: string, items: unknown): unknown[] {
  if (!Array.isArray(items)) throw new ValueError(`${op}: items must be an array, got ${fmtValue(items)}`);
  if (items.length === 0) throw new ValueError(`${op}: cannot collate an empty list of items`);
  return items;
}

function checkContext(op: string, context: CollateContext | undefined): DeviceName | undefined {
  const c = checkOptions(op, context, ['device'], 'context');
  if (c.device !== undefined && typeof c.device !== 'string') throw new ValueError(`${op}: context.device must be a device name, got ${fmtValue(c.device)}`);
  return c.device;
}

/**
 * Stack a list of items into a batch, as torch.utils.data.default_collate, recursively:
 * - tensors → `stack` (B, ...shape), moved to `context.device` if given;
 * - numbers / booleans / rectangular (nested) arrays of them / typed arrays → one tensor
 *   (B, ...shape): booleans → bool, Float64Array → float64, Float32Array → float32, integers → int32,
 *   other numbers → float32. The dtype of plain numbers is read from the batch, so float features
 *   that happen to be whole numbers in one batch come out int32: give them as Float32Array or
 *   tensors (or use your own collate) to pin the dtype;
 * - strings → the array of strings;
 * - objects → an object of collated fields; tuples (arrays holding tensors, strings or objects)
 *   → a tuple of collated positions.
 * Items of different shapes raise a `DataError` naming the field (pad them with `padCollate`).
 */
export function defaultCollate(items: unknown[], context?: CollateContext): unknown {
  const op = 'defaultCollate';
  return collateAt(op, checkItems(op, items), '', checkContext(op, context));
}

/** Options of `padCollate`. */
export interface PadCollateOptions {
  /** Pad value of id sequences and other padded fields (default 0; use the tokenizer's `padId`). */
  padValue?: number;
  /** Pad value of label fields (default −100, crossEntropy's default `ignoreIndex`). */
  labelPadValue?: number;
  /**
   * The fields of object items to pad (default: those named `inputIds`, `labels`, or ending in
   * `InputIds` / `Labels`, e.g. `chosenInputIds`). Other fields go through `defaultCollate`.
   */
  keys?: readonly string[];
  /** Where padding goes: 'right' (default) or 'left' (for batched generation). */
  padSide?: 'right' | 'left';
  /** Cut sequences longer than this (their tail is dropped). */
  maxLength?: number;
  /** Round the padded length up to a multiple of this. */
  padToMultipleOf?: number;
  /** Add `labels` (a copy of `inputIds` with `labelPadValue` on padding) when the items have none (default true). */
  labelsFromInputIds?: boolean;
}

const isLabelKey = (k: string) => k === 'labels' || k.endsWith('Labels');
const isIdsKey = (k: string) => k === 'inputIds' || k.endsWith('InputIds');
const prefixOf = (k: string) => (k === 'inputIds' || k === 'labels' ? '' : k.replace(/(InputIds|Labels)$/, ''));
const withPrefix = (prefix: string, name: string) => (prefix ? prefix + name[0]!.toUpperCase() + name.slice(1) : name);

/** The mask field of a padded field: `inputIds` → `attentionMask`, `chosenInputIds` → `chosenAttentionMask`, `x` → `xMask`. */
function maskKey(k: string): string {
  return isIdsKey(k) ? withPrefix(prefixOf(k), 'attentionMask') : `${k}Mask`;
}

function asSequence(op: string, v: unknown, what: string): ArrayLike<number> {
  if (isTypedArray(v)) return v;
  if (Array.isArray(v)) {
    for (const x of v) if (typeof x !== 'number' || !Number.isFinite(x)) throw new DataError(`${op}: ${what} must be a sequence of numbers, found ${fmtValue(x)}`);
    return v as number[];
  }
  throw new DataError(`${op}: ${what} must be a number array or a typed array, got ${describe(v)}`);
}

/**
 * A collate function for variable-length token sequences. Items are sequences of ids
 * (`number[]` / `Int32Array`) or objects with sequence fields (`{ inputIds, labels? , ... }`).
 * Every padded field is padded to one length L (the longest in the batch after `maxLength`,
 * rounded up to `padToMultipleOf`) and becomes an int32 (B, L) tensor (float32 if it holds
 * non-integers). The batch holds:
 * - `inputIds` (B, L), padded with `padValue`;
 * - `attentionMask` (B, L) int32: 1 on real tokens, 0 on padding (Hugging Face's convention; for
 *   @webgrad/nn's `keyPaddingMask`, which is true on padding, use `attentionMask.eq(0)`);
 * - `labels` (B, L), padded with −100 so padding adds nothing to `crossEntropy`. If the items have
 *   no labels, a copy of `inputIds` (causal language modelling: the model shifts them by one);
 * - likewise `chosenInputIds` → `chosenAttentionMask`, `chosenLabels` for prefixed fields;
 * - any other field, through `defaultCollate`.
 */
export function padCollate(options?: PadCollateOptions): CollateFn<unknown, Record<string, unknown>> {
  const op = 'padCollate';
  const o = checkOptions(op, options, ['padValue', 'labelPadValue', 'keys', 'padSide', 'maxLength', 'padToMultipleOf', 'labelsFromInputIds']);
  const padValue = o.padValue === undefined ? 0 : checkInt(op, 'padValue', o.padValue);
  const labelPadValue = o.labelPadValue === undefined ? -100 : checkInt(op, 'labelPadValue', o.labelPadValue);
  const padSide = o.padSide === undefined ? 'right' : checkEnum(op, 'padSide', o.padSide, ['right', 'left']);
  const maxLength = o.maxLength === undefined ? Infinity : checkSize(op, 'maxLength', o.maxLength, 1);
  const multiple = o.padToMultipleOf === undefined ? 1 : checkSize(op, 'padToMultipleOf', o.padToMultipleOf, 1);
  const makeLabels = o.labelsFromInputIds === undefined ? true : checkBool(op, 'labelsFromInputIds', o.labelsFromInputIds);
  let keys: readonly string[] | undefined;
  if (o.keys !== undefined) {
    if (!Array.isArray(o.keys) || o.keys.length === 0 || o.keys.some((k) => typeof k !== 'string')) throw new ValueError(`${op}: keys must be a non-empty array of field names, got ${fmtValue(o.keys)}`);
    keys = o.keys;
  }

  return (items: unknown[], context: CollateContext = {}): Record<string, unknown> => {
    checkItems(op, items);
    const device = checkContext(op, context);
    const objects = items.map((it, i) => {
      if (Array.isArray(it) || isTypedArray(it)) return { inputIds: it } as Record<string, unknown>;
      if (!isPlainObject(it)) throw new DataError(`${op}: item ${i} must be a sequence of ids or an object of fields, got ${describe(it)}`);
      return it;
    });
    const fields = Object.keys(objects[0]!);
    const padKeys = keys ?? fields.filter((k) => isIdsKey(k) || isLabelKey(k));
    if (padKeys.length === 0) throw new DataError(`${op}: the items have no field to pad (fields: ${fields.join(', ')}); name them with { keys }`);
    // Sequences per padded field, truncated to maxLength.
    const seqs = new Map<string, ArrayLike<number>[]>();
    for (const k of padKeys) {
      seqs.set(k, objects.map((obj, i) => {
        if (!(k in obj)) throw new DataError(`${op}: item ${i} has no field ${JSON.stringify(k)}`);
        const s = asSequence(op, obj[k], `field ${JSON.stringify(k)} of item ${i}`);
        return s.length > maxLength ? Array.prototype.slice.call(s, 0, maxLength) as number[] : s;
      }));
    }
    // Labels from ids where the items have none.
    if (makeLabels) {
      for (const k of padKeys) {
        if (!isIdsKey(k)) continue;
        const lk = withPrefix(prefixOf(k), 'labels');
        if (!seqs.has(lk) && !fields.includes(lk)) seqs.set(lk, seqs.get(k)!);
      }
    }
    for (const [k, ss] of seqs) {
      if (!isLabelKey(k)) continue;
      const ik = withPrefix(prefixOf(k), 'inputIds');
      const ids = seqs.get(ik);
      if (ids) ss.forEach((s, i) => {
        if (s.length !== ids[i]!.length) throw new DataError(`${op}: item ${i} has ${s.length} ${k} but ${ids[i]!.length} ${ik}; they must be of one length`);
      });
    }
    let L = 0;
    for (const ss of seqs.values()) for (const s of ss) L = Math.max(L, s.length);
    L = Math.ceil(L / multiple) * multiple;
    const B = items.length;
    const out: Record<string, unknown> = {};
    const made: Tensor[] = [];
    try {
      for (const [k, ss] of seqs) {
        const label = isLabelKey(k);
        const pad = label ? labelPadValue : padValue;
        const values = new Float64Array(B * L).fill(pad);
        const mask = label ? null : new Int32Array(B * L);
        let float = false;
        ss.forEach((s, b) => {
          const start = b * L + (padSide === 'left' ? L - s.length : 0);
          for (let t = 0; t < s.length; t++) {
            const v = s[t]!;
            if (!Number.isInteger(v)) float = true;
            values[start + t] = v;
            if (mask) mask[start + t] = 1;
          }
        });
        const t = float ? tensor(Float32Array.from(values), { shape: [B, L], device }) : tensor(Int32Array.from(values), { shape: [B, L], dtype: 'int32', device });
        made.push(t);
        out[k] = t;
        if (mask && !(maskKey(k) in out) && !seqs.has(maskKey(k))) {
          const m = tensor(mask, { shape: [B, L], dtype: 'int32', device });
          made.push(m);
          out[maskKey(k)] = m;
        }
      }
      const rest = fields.filter((k) => !seqs.has(k) && !(k in out));
      if (rest.length > 0) {
        const others = defaultCollate(objects.map((obj) => Object.fromEntries(rest.map((k) => [k, obj[k]]))), { device }) as Record<string, unknown>;
        Object.assign(out, others);
      }
      return out;
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }
  };
}
