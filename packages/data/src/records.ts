// Training records read from JSONL: instruction records ({ instruction, input, output }, the
// Alpaca format) and preference records ({ prompt, chosen, rejected }, for reward models and DPO).
import { checkOptions } from '@webgrad/core';
import { parseJsonl, readJsonl, type JsonlOptions, type JsonlResult } from './jsonl.js';

/** An instruction-tuning example (Alpaca): an instruction, an optional input, the wanted output. */
export interface InstructionRecord {
  /** What the model is asked to do. */
  instruction: string;
  /** Context for the instruction; '' when there is none. */
  input: string;
  /** The wanted response (the only part that is learned). */
  output: string;
}

/** A preference pair: a prompt and two responses, the preferred one first. */
export interface PreferenceRecord {
  /** The prompt both responses answer. */
  prompt: string;
  /** The preferred response. */
  chosen: string;
  /** The other response. */
  rejected: string;
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function field(rec: Record<string, unknown>, key: string, opts: { optional?: boolean; nonEmpty?: boolean }): string {
  const v = rec[key];
  if (v === undefined || v === null) {
    if (opts.optional) return '';
    throw new Error(`missing field "${key}"`);
  }
  if (typeof v !== 'string') throw new Error(`field "${key}" must be a string, got ${describeJson(v)}`);
  if (opts.nonEmpty && v.trim() === '') throw new Error(`field "${key}" must not be empty`);
  return v;
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`expected ${what} object, got ${describeJson(value)}`);
  return value as Record<string, unknown>;
}

/**
 * The schema of instruction records: `instruction` and `output` non-empty strings, `input` a string
 * or absent (→ ''). Other fields are dropped.
 */
export function instructionSchema(value: unknown): InstructionRecord {
  const rec = asObject(value, 'an { instruction, input, output }');
  return {
    instruction: field(rec, 'instruction', { nonEmpty: true }),
    input: field(rec, 'input', { optional: true }),
    output: field(rec, 'output', { nonEmpty: true }),
  };
}

/**
 * The schema of preference records: `prompt`, `chosen` and `rejected` non-empty strings, with
 * `chosen` different from `rejected`. Other fields are dropped.
 */
export function preferenceSchema(value: unknown): PreferenceRecord {
  const rec = asObject(value, 'a { prompt, chosen, rejected }');
  const out = {
    prompt: field(rec, 'prompt', { nonEmpty: true }),
    chosen: field(rec, 'chosen', { nonEmpty: true }),
    rejected: field(rec, 'rejected', { nonEmpty: true }),
  };
  if (out.chosen === out.rejected) throw new Error('"chosen" and "rejected" are the same text');
  return out;
}

/** Options of the record readers: skip malformed lines instead of throwing, and a name for errors. */
export type RecordReadOptions = Omit<JsonlOptions<never>, 'schema'>;

/** Instruction records from JSONL text (see `instructionSchema`); errors name `source` and the line. */
export function parseInstructionRecords(text: string, options?: RecordReadOptions): JsonlResult<InstructionRecord> {
  return parseJsonl(text, { ...checkOptions('parseInstructionRecords', options, ['skipInvalid', 'source']), schema: instructionSchema });
}

/** Instruction records from a JSONL file (Node.js); a malformed line raises a JsonlError naming the file and line. */
export function readInstructionRecords(path: string, options?: Omit<RecordReadOptions, 'source'>): Promise<JsonlResult<InstructionRecord>> {
  return readJsonl(path, { ...checkOptions('readInstructionRecords', options, ['skipInvalid']), schema: instructionSchema });
}

/** Preference records from JSONL text (see `preferenceSchema`). */
export function parsePreferenceRecords(text: string, options?: RecordReadOptions): JsonlResult<PreferenceRecord> {
  return parseJsonl(text, { ...checkOptions('parsePreferenceRecords', options, ['skipInvalid', 'source']), schema: preferenceSchema });
}

/** Preference records from a JSONL file (Node.js); a malformed line raises a JsonlError naming the file and line. */
export function readPreferenceRecords(path: string, options?: Omit<RecordReadOptions, 'source'>): Promise<JsonlResult<PreferenceRecord>> {
  return readJsonl(path, { ...checkOptions('readPreferenceRecords', options, ['skipInvalid']), schema: preferenceSchema });
}
