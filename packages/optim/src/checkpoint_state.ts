// state.json, the JSON half of a checkpoint: step, metric, RNG state, optimizer hyperparameters and
// step counts, scheduler and other states, extra, and the byte length and SHA-256 of each tensor
// file. It carries its own checksum, `sha256`, over the canonical JSON of the rest (keys sorted, no
// whitespace). parseState checks the checksum, then the schema; the first bad value is reported as
// a CheckpointError naming the file and the field. The writer runs the same schema check, so it
// never writes a state.json the reader would refuse. Version 1 files (no checksum) still load.
import { CheckpointError } from './checkpoint_error.js';
import type { JsonValue } from './checkpoint_types.js';
import type { HyperValue } from './optimizer.js';

export const STATE = 'state.json';
export const MODEL = 'model.safetensors';
export const OPTIM = 'optimizer.safetensors';

export interface FileRecord { bytes: number; sha256: string }

export interface OptimizerMeta {
  kind: string;
  paramGroups: { params: number[]; hyper: Record<string, HyperValue> }[];
  /** Per parameter index: its step count and the names of its state tensors (in optimizer.safetensors as `<index>.<name>`). */
  state: Record<string, { step: number; buffers: string[] }>;
}

export interface StateJson {
  format: 'webgrad-checkpoint';
  version: 1 | 2;
  step: number;
  /** null: the metric was not finite. */
  metric?: number | null;
  rng: { seed: number; offset: number };
  optimizer?: OptimizerMeta;
  scheduler?: unknown;
  others?: Record<string, unknown>;
  extra?: JsonValue;
  files: Record<string, FileRecord>;
}

/** State tensors the built-in optimizers keep for every parameter that has taken a step. */
export const MOMENTS: Readonly<Record<string, readonly string[]>> = { Adam: ['expAvg', 'expAvgSq'], AdamW: ['expAvg', 'expAvgSq'], Lion: ['expAvg'] };
/** Hyperparameters that are non-negative numbers wherever they occur. */
const NON_NEGATIVE = new Set(['lr', 'weightDecay', 'eps', 'momentum', 'dampening']);

const nodeModule = (name: string): Promise<unknown> => import(name);

export async function sha256(bytes: Uint8Array | string): Promise<string> {
  const crypto = (await nodeModule('node:crypto')) as typeof import('node:crypto');
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** JSON with object keys sorted at every level and no whitespace: what the checksum covers. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The checksum state.json carries: SHA-256 of the canonical JSON of everything but the `sha256` field. */
export async function stateChecksum(rest: Record<string, unknown>): Promise<string> {
  return sha256(canonical(rest));
}

/** The text of state.json for `state`: schema-checked (errors name `file`), with its checksum. */
export async function sealState(state: Omit<StateJson, 'version'>, file: string): Promise<string> {
  const rest = JSON.parse(JSON.stringify({ ...state, version: 2 })) as Record<string, unknown>;
  delete rest.sha256;
  validateState(rest, file);
  const { format, version, ...body } = rest;
  return JSON.stringify({ format, version, sha256: await stateChecksum(rest), ...body }, null, 1);
}

/** Parse, checksum-verify and schema-check the bytes of a state.json. */
export async function parseState(bytes: Uint8Array, file: string): Promise<StateJson> {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new CheckpointError('corrupt', file, `is not valid JSON (truncated or corrupted): ${(cause as Error).message}`, { cause });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new CheckpointError('corrupt', file, 'is not a JSON object');
  const { sha256: sum, ...rest } = raw as Record<string, unknown>;
  if (rest.version !== 1) {
    if (typeof sum !== 'string') throw new CheckpointError('corrupt', file, 'has no checksum (field sha256)');
    if ((await stateChecksum(rest)) !== sum) throw new CheckpointError('corrupt', file, 'is corrupted or was edited: its contents do not match its sha256 field');
  }
  return validateState(rest, file);
}

const show = (v: unknown): string => {
  const s = v === undefined ? 'nothing' : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** Field checks whose failures name `file` and the field. */
function fieldChecks(file: string) {
  const fail = (field: string, detail: string): never => { throw new CheckpointError('invalid', file, detail, { field }); };
  return {
    fail,
    object: (v: unknown, field: string): Record<string, unknown> =>
      v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(field, `must be an object, got ${show(v)}`),
    count: (v: unknown, field: string): number =>
      Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : fail(field, `must be a non-negative integer, got ${show(v)}`),
    finite: (v: unknown, field: string): number =>
      typeof v === 'number' && Number.isFinite(v) ? v : fail(field, `must be a finite number, got ${show(v)}`),
  };
}
type FieldChecks = ReturnType<typeof fieldChecks>;

/** Check every field of a parsed state.json; throws CheckpointError('invalid') naming the first bad one. */
export function validateState(raw: Record<string, unknown>, file: string): StateJson {
  const c = fieldChecks(file);
  const { fail, object, count, finite } = c;
  if (raw.format !== 'webgrad-checkpoint') fail('format', `must be "webgrad-checkpoint" (not a webgrad checkpoint?), got ${show(raw.format)}`);
  if (raw.version !== 1 && raw.version !== 2) fail('version', `must be 1 or 2, got ${show(raw.version)}`);
  count(raw.step, 'step');
  if (raw.metric !== undefined && raw.metric !== null) finite(raw.metric, 'metric');
  const rng = object(raw.rng, 'rng');
  count(rng.seed, 'rng.seed');
  count(rng.offset, 'rng.offset');
  for (const [name, rec] of Object.entries(object(raw.files, 'files'))) {
    const r = object(rec, `files.${name}`);
    count(r.bytes, `files.${name}.bytes`);
    if (typeof r.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.sha256)) fail(`files.${name}.sha256`, `must be 64 hex digits, got ${show(r.sha256)}`);
  }
  if (raw.others !== undefined) object(raw.others, 'others');
  if (raw.optimizer !== undefined) validateOptimizer(object(raw.optimizer, 'optimizer'), c);
  return raw as unknown as StateJson;
}

function validateOptimizer(o: Record<string, unknown>, { fail, object, count, finite }: FieldChecks): void {
  if (typeof o.kind !== 'string' || o.kind === '') fail('optimizer.kind', `must be the optimizer's class name, got ${show(o.kind)}`);
  if (!Array.isArray(o.paramGroups) || o.paramGroups.length === 0) fail('optimizer.paramGroups', `must be a non-empty list, got ${show(o.paramGroups)}`);
  let params = 0;
  (o.paramGroups as unknown[]).forEach((g, gi) => {
    const at = `optimizer.paramGroups[${gi}]`;
    const group = object(g, at);
    if (!Array.isArray(group.params)) fail(`${at}.params`, `must be a list of parameter indices, got ${show(group.params)}`);
    (group.params as unknown[]).forEach((p, k) => {
      if (p !== params) fail(`${at}.params[${k}]`, `must be ${params} (indices run 0, 1, ... across groups), got ${show(p)}`);
      params++;
    });
    for (const [k, v] of Object.entries(object(group.hyper, `${at}.hyper`))) {
      const field = `${at}.hyper.${k}`;
      if (Array.isArray(v)) v.forEach((x, i) => finite(x, `${field}[${i}]`));
      else if (typeof v === 'number') finite(v, field);
      else if (v !== null && typeof v !== 'boolean' && typeof v !== 'string') fail(field, `must be a number, boolean, string or list of numbers, got ${show(v)}`);
      if (NON_NEGATIVE.has(k) && !(typeof v === 'number' && v >= 0)) fail(field, `must be a number >= 0, got ${show(v)}`);
      if (k === 'betas') {
        if (!Array.isArray(v) || v.length !== 2) fail(field, `must be two numbers in [0, 1), got ${show(v)}`);
        (v as number[]).forEach((b, i) => { if (!(b >= 0 && b < 1)) fail(`${field}[${i}]`, `must be in [0, 1), got ${show(b)}`); });
      }
    }
  });
  const moments = MOMENTS[o.kind as string];
  for (const [key, st] of Object.entries(object(o.state, 'optimizer.state'))) {
    const at = `optimizer.state.${key}`;
    if (!/^(0|[1-9]\d*)$/.test(key) || Number(key) >= params) fail(at, `is not a parameter index (there are ${params} parameters)`);
    const s = object(st, at);
    count(s.step, `${at}.step`);
    const buffers = s.buffers;
    if (!Array.isArray(buffers) || buffers.some((b) => typeof b !== 'string' || b === '') || new Set(buffers).size !== buffers.length) {
      fail(`${at}.buffers`, `must be a list of distinct state tensor names, got ${show(buffers)}`);
    }
    const names = buffers as string[];
    const missing = moments?.filter((m) => !names.includes(m)) ?? [];
    if (missing.length) fail(`${at}.buffers`, `${o.kind} keeps ${moments!.join(' and ')} for every parameter, but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not listed (got ${show(names)})`);
  }
}
