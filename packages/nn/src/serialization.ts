// Saving and loading a Module's stateDict as safetensors: bytes for the browser
// (toSafetensorsBytes / fromSafetensorsBytes) and files for Node (saveModule / loadModule, also
// available as `model.save(path)` and `model.load(path)`). Tensors are stored under their dotted
// stateDict names with their own dtype (float32 → F32, float64 → F64, float16 → F16, bfloat16 → BF16,
// int32 → I32, bool → BOOL; F16/BF16 bit patterns are read into float16/bfloat16 tensors as they are);
// tied weights are stored under each name. Loading converts any float dtype in the file to the
// model's dtype, checks names and shapes first, and names the file and key in every error.
import { ValueError, checkBool, checkOptions, fmtValue, tensor, type DType, type Tensor } from '@webgrad/core';
import {
  decodeToFloat32, decodeToFloat64, decodeToInt32, decodeTensor, parseSafetensors, serializeSafetensors,
  readSafetensorsFile, writeSafetensorsFile, SafetensorsError,
  type ParsedSafetensors, type SafeDType, type SafeTensorInput, type SafeTensorView,
} from './safetensors/index.js';
import { StateDictError, type LoadStateDictResult, type Module } from './module.js';

const SAFE_OF: Record<DType, SafeDType> = { float32: 'F32', float64: 'F64', float16: 'F16', bfloat16: 'BF16', int32: 'I32', bool: 'BOOL' };

/** Options of `saveModule` / `Module.save` and `toSafetensorsBytes`. */
export interface SaveOptions {
  /** String metadata stored in the header (`__metadata__`). */
  metadata?: Record<string, string>;
}

/** Options of `loadModule` / `Module.load` and `fromSafetensorsBytes`. */
export interface LoadOptions {
  /** Require the file's names to match the model's stateDict exactly (default true). */
  strict?: boolean;
}

/** The model, path and options of a save or load call. */
function checkCall(op: string, model: Module, opts: SaveOptions & LoadOptions & { source?: string }, keys: readonly string[], path?: string): void {
  if (typeof model !== 'object' || model === null || typeof (model as Module).stateDict !== 'function') throw new ValueError(`${op}: model must be a Module, got ${fmtValue(model)}`);
  if (path !== undefined && (typeof path !== 'string' || path === '')) throw new ValueError(`${op}: path must be a non-empty string, got ${fmtValue(path)}`);
  checkOptions(op, opts, keys);
  if (opts.strict !== undefined) checkBool(op, 'strict', opts.strict);
  if (opts.source !== undefined && typeof opts.source !== 'string') throw new ValueError(`${op}: source must be a string, got ${fmtValue(opts.source)}`);
  if (opts.metadata !== undefined) {
    const m = opts.metadata;
    if (typeof m !== 'object' || m === null || Array.isArray(m) || Object.values(m).some((v) => typeof v !== 'string')) {
      throw new ValueError(`${op}: metadata must be an object of string values, got ${fmtValue(m)}`);
    }
  }
}

async function toInputs(model: Module): Promise<Record<string, SafeTensorInput>> {
  const out: Record<string, SafeTensorInput> = {};
  const cache = new Map<Tensor, SafeTensorInput>();
  for (const [name, t] of Object.entries(model.stateDict())) {
    let entry = cache.get(t);
    if (!entry) {
      entry = { dtype: SAFE_OF[t.dtype], shape: [...t.shape], data: await t.data() };
      cache.set(t, entry);
    }
    out[name] = entry;
  }
  return out;
}

/** The model's stateDict as a safetensors file image. */
export async function toSafetensorsBytes(model: Module, opts: SaveOptions = {}): Promise<Uint8Array> {
  checkCall('toSafetensorsBytes', model, opts, ['metadata']);
  return serializeSafetensors(await toInputs(model), { format: 'webgrad', ...opts.metadata });
}

/** The little-endian 16-bit words of a tensor's bytes. */
function words16(view: SafeTensorView): Uint16Array {
  const b = view.data, out = new Uint16Array(b.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = b[2 * i]! | (b[2 * i + 1]! << 8);
  return out;
}

function decodeFor(view: SafeTensorView, dtype: DType, where: { source?: string; tensor: string }): ArrayLike<number> {
  switch (dtype) {
    // Same format: the bit patterns; another float format: its exact values, rounded once on store.
    case 'float16': return view.dtype === 'F16' ? words16(view) : decodeToFloat64(view, where);
    case 'bfloat16': return view.dtype === 'BF16' ? words16(view) : decodeToFloat64(view, where);
    case 'float32': return decodeToFloat32(view, where);
    case 'float64': return decodeToFloat64(view, where);
    case 'int32': return decodeToInt32(view, where);
    case 'bool': {
      const d = decodeTensor(view);
      if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Uint8Array.from(d, (v) => (v !== 0n ? 1 : 0));
      return Uint8Array.from(d as ArrayLike<number>, (v) => (v !== 0 ? 1 : 0));
    }
  }
}

function loadParsed(model: Module, parsed: ParsedSafetensors, source: string, opts: LoadOptions): LoadStateDictResult {
  const strict = opts.strict ?? true;
  const own = model.stateDict();
  const names = Object.keys(parsed.tensors);
  const missingKeys = Object.keys(own).filter((k) => !(k in parsed.tensors));
  const unexpectedKeys = names.filter((k) => !(k in own));
  const mismatched: { key: string; expected: readonly number[]; got: readonly number[] }[] = [];
  for (const [k, t] of Object.entries(own)) {
    const v = parsed.tensors[k];
    if (v && (v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i]))) mismatched.push({ key: k, expected: t.shape, got: v.shape });
  }
  const problems: string[] = [];
  if (mismatched.length) problems.push(`shape mismatch for ${mismatched.map((m) => `'${m.key}' (model [${m.expected.join(', ')}], file [${m.got.join(', ')}])`).join(', ')}`);
  if (strict && missingKeys.length) problems.push(`missing keys ${missingKeys.map((k) => `'${k}'`).join(', ')}`);
  if (strict && unexpectedKeys.length) problems.push(`unexpected keys ${unexpectedKeys.map((k) => `'${k}'`).join(', ')}`);
  if (problems.length) {
    const kinds = [mismatched.length && 'shape', strict && missingKeys.length && 'missing', strict && unexpectedKeys.length && 'unexpected'].filter(Boolean);
    throw new StateDictError(`loading ${model.constructor.name} from ${source}: ${problems.join('; ')}`,
      (kinds.length === 1 ? kinds[0] : 'mixed') as StateDictError['kind'], strict ? missingKeys : [], strict ? unexpectedKeys : [], mismatched);
  }
  const sd: Record<string, Tensor> = {};
  try {
    for (const [k, t] of Object.entries(own)) {
      const v = parsed.tensors[k];
      if (!v) continue;
      let values: ArrayLike<number>;
      try {
        values = decodeFor(v, t.dtype, { source, tensor: k });
      } catch (e) {
        if (e instanceof SafetensorsError) throw e;
        throw new SafetensorsError('unsupported_conversion', `cannot load ${v.dtype} into a ${t.dtype} tensor: ${(e as Error).message}`, { source, tensor: k, cause: e });
      }
      sd[k] = tensor(values as Float32Array, { shape: t.shape, dtype: t.dtype, device: 'cpu' });
    }
    return model.loadStateDict(sd, { strict: false });
  } finally {
    for (const t of Object.values(sd)) t.dispose();
  }
}

/** Load a safetensors file image into `model` in place. */
export function fromSafetensorsBytes(model: Module, bytes: Uint8Array, opts: LoadOptions & { source?: string } = {}): LoadStateDictResult {
  checkCall('fromSafetensorsBytes', model, opts, ['strict', 'source']);
  if (!(bytes instanceof Uint8Array)) throw new ValueError(`fromSafetensorsBytes: bytes must be a Uint8Array, got ${fmtValue(bytes)}`);
  const source = opts.source ?? '<bytes>';
  return loadParsed(model, parseSafetensors(bytes, { source }), source, opts);
}

/** Write the model's stateDict to `path` atomically (Node). */
export async function saveModule(model: Module, path: string, opts: SaveOptions = {}): Promise<void> {
  checkCall('saveModule', model, opts, ['metadata'], path);
  await writeSafetensorsFile(path, await toInputs(model), { format: 'webgrad', ...opts.metadata });
}

/** Read `path` (Node) into `model` in place. Returns the model. */
export async function loadModule<M extends Module>(model: M, path: string, opts: LoadOptions = {}): Promise<M> {
  checkCall('loadModule', model, opts, ['strict'], path);
  loadParsed(model, await readSafetensorsFile(path), path, opts);
  return model;
}
