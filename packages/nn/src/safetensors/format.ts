// The safetensors container: serializeSafetensors (deterministic, byte-identical to the
// reference writer's layout) and parseSafetensors (fully validated, never reads out of bounds;
// it refuses every header whose contents the writer would refuse to write).
//
// Layout: u64 little-endian header length N | N bytes of UTF-8 JSON header (padded with spaces
// so the data starts 8-byte aligned) | data buffer. The header maps tensor names to
// {"dtype","shape","data_offsets":[begin,end]} (offsets relative to the data buffer) and may hold
// "__metadata__": {string: string}.

import { tensorBytes, numel, type SafeTensorView, type TypedArray } from './codec.js';
import { dtypeItemSize, dtypeRank, isSafeDType, type SafeDType } from './dtypes.js';
import { SafetensorsError } from './errors.js';
import { JsonSyntaxError, parseStrictJson, type JsonValue } from './json_header.js';

/** Largest header accepted, as in the reference reader (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;
/** Reserved header key holding string metadata. */
export const METADATA_KEY = '__metadata__';

/** Input tensor for serializeSafetensors. See tensorBytes for the accepted `data` forms. */
export interface SafeTensorInput {
  /** The safetensors dtype to store. */
  dtype: SafeDType;
  /** The shape ([] for a scalar). */
  shape: readonly number[];
  /** The elements in row-major order (see tensorBytes for the accepted forms). */
  data: TypedArray | readonly number[];
}

/** Options of `parseSafetensors`. */
export interface ParseSafetensorsOptions {
  /** File name or label used in error messages. */
  source?: string;
}

/** Result of parseSafetensors. */
export interface ParsedSafetensors {
  /** Tensors by name; `data` is a zero-copy view into the input bytes. */
  tensors: Record<string, SafeTensorView>;
  /** Names in file (offset) order. */
  names: string[];
  /** The "__metadata__" map ({} when the file has none). */
  metadata: Record<string, string>;
  /** Header length N as stored (including padding). */
  headerLength: number;
  /** Byte offset of the data buffer in the input (8 + N). */
  dataOffset: number;
}

/** Compare strings by code point (= UTF-8 byte order, as the reference writer sorts names). */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  while (true) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}

const LONE_SURROGATE = /\p{Cs}/u;

function checkShape(shape: unknown, where: { source?: string | undefined; tensor: string }): number[] {
  if (!Array.isArray(shape)) throw new SafetensorsError('invalid_shape', `shape must be an array of non-negative integers, got ${describe(shape)}`, where);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new SafetensorsError('invalid_shape', `shape must be an array of non-negative integers, got ${describe(shape)}`, where);
    }
  }
  const n = numel(shape as number[]);
  if (!Number.isSafeInteger(n)) throw new SafetensorsError('invalid_shape', `shape [${shape.join(', ')}] has too many elements`, where);
  return (shape as number[]).slice();
}

function describe(v: unknown): string {
  if (v instanceof Map) return 'an object';
  if (typeof v === 'number' && Number.isNaN(v)) return 'an integer beyond 2^53';
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}

/**
 * Serialize tensors (and optional string metadata) into a safetensors file image.
 * Deterministic: tensors are laid out contiguously by descending dtype alignment then by name
 * (the reference writer's order), metadata keys are sorted, and the header is padded with
 * spaces to a multiple of 8 bytes.
 */
export function serializeSafetensors(
  tensors: Record<string, SafeTensorInput>,
  metadata?: Record<string, string>,
  options: { source?: string } = {},
): Uint8Array {
  const source = options.source;
  const entries: { name: string; dtype: SafeDType; shape: number[]; bytes: Uint8Array }[] = [];
  for (const name of Object.keys(tensors)) {
    const where = { source, tensor: name };
    if (name === METADATA_KEY) throw new SafetensorsError('invalid_name', `the name "${METADATA_KEY}" is reserved for metadata`, where);
    if (LONE_SURROGATE.test(name)) throw new SafetensorsError('invalid_name', 'name contains an unpaired UTF-16 surrogate', where);
    const t = tensors[name]!;
    if (!isSafeDType(t.dtype)) throw new SafetensorsError('invalid_dtype', `unknown dtype ${describe(t.dtype)}`, where);
    const shape = checkShape(t.shape, where);
    const bytes = tensorBytes(t.dtype, shape, t.data, where);
    entries.push({ name, dtype: t.dtype, shape, bytes });
  }
  entries.sort((a, b) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || compareCodePoints(a.name, b.name));

  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort(compareCodePoints);
    const kv: string[] = [];
    for (const k of keys) {
      const v = metadata[k];
      if (typeof v !== 'string') throw new SafetensorsError('invalid_metadata', `metadata value for key ${JSON.stringify(k)} must be a string, got ${describe(v)}`, { source });
      if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) throw new SafetensorsError('invalid_metadata', `metadata entry ${JSON.stringify(k)} contains an unpaired UTF-16 surrogate`, { source });
      kv.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    parts.push(`"${METADATA_KEY}":{${kv.join(',')}}`);
  }
  let offset = 0;
  for (const e of entries) {
    const end = offset + e.bytes.length;
    parts.push(`${JSON.stringify(e.name)}:{"dtype":"${e.dtype}","shape":[${e.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const e of entries) {
    out.set(e.bytes, pos);
    pos += e.bytes.length;
  }
  return out;
}

/**
 * Parse and validate a safetensors file image. Tensor `data` are views into `bytes` (no copy).
 * Throws SafetensorsError (naming the source and tensor) for any malformed input.
 */
export function parseSafetensors(bytes: Uint8Array, options: ParseSafetensorsOptions = {}): ParsedSafetensors {
  const source = options.source;
  const err = (code: ConstructorParameters<typeof SafetensorsError>[0], detail: string, tensor?: string): SafetensorsError =>
    new SafetensorsError(code, detail, { source, tensor });

  if (!(bytes instanceof Uint8Array)) throw err('invalid_data', 'input must be a Uint8Array');
  if (bytes.length < 8) throw err('header_too_small', `file is ${bytes.length} bytes, shorter than the 8-byte header length prefix`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw err('header_too_large', `header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(n64);
  if (8 + n > bytes.length) throw err('invalid_header_length', `header length ${n} runs past the end of the ${bytes.length}-byte file`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch (cause) {
    throw new SafetensorsError('invalid_utf8', 'header is not valid UTF-8', { source, cause });
  }
  // As the reference reader: the header is a JSON object from its first byte.
  if (!text.startsWith('{')) throw err('invalid_header', `header must be a JSON object starting with '{' at its first byte, got ${describe(text.slice(0, 1))}`);
  let root: JsonValue;
  try {
    root = parseStrictJson(text);
  } catch (cause) {
    const msg = cause instanceof JsonSyntaxError ? cause.message : String(cause);
    throw new SafetensorsError('invalid_json', `header is not valid JSON: ${msg}`, { source, cause });
  }
  if (!(root instanceof Map)) throw err('invalid_header', `header must be a JSON object, got ${describe(root)}`);

  const dataOffset = 8 + n;
  const dataLen = bytes.length - dataOffset;
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  const infos: { name: string; dtype: SafeDType; shape: number[]; begin: number; end: number }[] = [];

  for (const [name, value] of root) {
    if (name === METADATA_KEY) {
      if (value === null) continue;
      if (!(value instanceof Map)) throw err('invalid_metadata', `"${METADATA_KEY}" must be an object of strings, got ${describe(value)}`);
      for (const [k, v] of value) {
        if (typeof v !== 'string') throw err('invalid_metadata', `"${METADATA_KEY}" value for key ${JSON.stringify(k)} must be a string, got ${describe(v)}`);
        if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) throw err('invalid_metadata', `metadata entry ${JSON.stringify(k)} contains an unpaired UTF-16 surrogate`);
        metadata[k] = v;
      }
      continue;
    }
    if (LONE_SURROGATE.test(name)) throw err('invalid_name', 'name contains an unpaired UTF-16 surrogate', name);
    if (!(value instanceof Map)) throw err('invalid_header', `entry must be an object with dtype, shape and data_offsets, got ${describe(value)}`, name);
    const dtype = value.get('dtype');
    if (dtype === undefined) throw err('invalid_dtype', 'missing "dtype"', name);
    if (!isSafeDType(dtype)) throw err('invalid_dtype', `unknown dtype ${describe(dtype)}`, name);
    if (!value.has('shape')) throw err('invalid_shape', 'missing "shape"', name);
    const shape = checkShape(value.get('shape'), { source, tensor: name });
    const offs = value.get('data_offsets');
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
    ) {
      throw err('invalid_offsets', `data_offsets must be [begin, end] non-negative integers, got ${describe(offs)}`, name);
    }
    const [begin, end] = offs as [number, number];
    if (end < begin) throw err('invalid_offsets', `data_offsets [${begin}, ${end}] end before begin`, name);
    if (end > dataLen) throw err('invalid_offsets', `data_offsets [${begin}, ${end}] run past the end of the ${dataLen}-byte data buffer`, name);
    const nbytes = numel(shape) * dtypeItemSize(dtype);
    if (end - begin !== nbytes) {
      throw err('size_mismatch', `data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape [${shape.join(', ')}] of ${dtype} needs ${nbytes}`, name);
    }
    infos.push({ name, dtype, shape, begin, end });
  }

  infos.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: string | undefined;
  for (const t of infos) {
    if (t.begin < pos) throw err('overlapping_offsets', `data_offsets [${t.begin}, ${t.end}] overlap tensor ${JSON.stringify(prev)} (which ends at ${pos})`, t.name);
    if (t.begin > pos) {
      throw err(
        'incomplete_buffer',
        prev === undefined
          ? `data_offsets [${t.begin}, ${t.end}] leave bytes [0, ${t.begin}) of the data buffer uncovered`
          : `data_offsets [${t.begin}, ${t.end}] leave a gap [${pos}, ${t.begin}) after tensor ${JSON.stringify(prev)}`,
        t.name,
      );
    }
    pos = t.end;
    prev = t.name;
  }
  if (pos !== dataLen) throw err('incomplete_buffer', `tensors cover ${pos} bytes but the data buffer has ${dataLen} bytes`);

  const tensors: Record<string, SafeTensorView> = Object.create(null) as Record<string, SafeTensorView>;
  for (const t of infos) {
    tensors[t.name] = { dtype: t.dtype, shape: t.shape, data: bytes.subarray(dataOffset + t.begin, dataOffset + t.end) };
  }
  return { tensors, names: infos.map((t) => t.name), metadata, headerLength: n, dataOffset };
}
