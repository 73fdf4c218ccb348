// JSON Lines: one JSON value per line. `parseJsonl` reads text (any runtime); `readJsonl` reads a
// file (Node). A line that is not valid JSON, or that the schema rejects, raises a JsonlError
// naming the file and line — or, with `skipInvalid`, is skipped and reported.
import { checkBool, checkOptions, ValueError, fmtValue } from '@webgrad/core';
import { JsonlError } from './errors.js';
import { loadFs } from './util.js';

/**
 * Checks one parsed line and returns the record; throws an Error whose message says what is wrong
 * (that message becomes the reason of the JsonlError or of the skipped line).
 */
export type JsonlSchema<T> = (value: unknown) => T;

/** Options of `parseJsonl` / `readJsonl`. */
export interface JsonlOptions<T> {
  /** Validates (and may convert) each record; default: any JSON value is accepted. */
  schema?: JsonlSchema<T>;
  /** Skip malformed lines instead of throwing, and report them (default false). */
  skipInvalid?: boolean;
  /** Name used in errors (`parseJsonl`; default "<jsonl>"). `readJsonl` uses the path. */
  source?: string;
}

/** A line that was skipped, and why. */
export interface JsonlLineError {
  /** 1-based line number. */
  line: number;
  /** What is wrong with the line. */
  reason: string;
}

/** What a JSONL read gives: the records in order, and what was skipped (only with `skipInvalid`). */
export interface JsonlResult<T> {
  /** The valid records, in file order. */
  records: T[];
  /** Lines skipped as malformed (blank lines are not counted: they are not records). */
  skipped: number;
  /** The skipped lines and why (empty without `skipInvalid`). */
  errors: JsonlLineError[];
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Parse JSON Lines text. Blank lines (and a trailing newline) are ignored; `\r\n` line ends and a
 * leading byte-order mark are accepted. A malformed line throws a `JsonlError` (`source:line:
 * reason`), or with `skipInvalid: true` is counted in `skipped` and listed in `errors`.
 */
export function parseJsonl<T = unknown>(text: string, options?: JsonlOptions<T>): JsonlResult<T> {
  return parseWith('parseJsonl', text, options, ['schema', 'skipInvalid', 'source']);
}

function parseWith<T>(op: string, text: string, options: JsonlOptions<T> | undefined, keys: string[], source?: string): JsonlResult<T> {
  if (typeof text !== 'string') throw new ValueError(`${op}: text must be a string, got ${fmtValue(text)}`);
  const o = checkOptions(op, options, keys);
  const skip = o.skipInvalid === undefined ? false : checkBool(op, 'skipInvalid', o.skipInvalid);
  if (o.schema !== undefined && typeof o.schema !== 'function') throw new ValueError(`${op}: schema must be a function (value) => record, got ${fmtValue(o.schema)}`);
  if (o.source !== undefined && typeof o.source !== 'string') throw new ValueError(`${op}: source must be a string, got ${fmtValue(o.source)}`);
  const name = source ?? o.source ?? '<jsonl>';
  const schema = o.schema;
  const result: JsonlResult<T> = { records: [], skipped: 0, errors: [] };
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    let reason: string;
    try {
      const value: unknown = JSON.parse(line);
      result.records.push(schema ? schema(value) : (value as T));
      continue;
    } catch (e) {
      reason = e instanceof SyntaxError ? `invalid JSON (${e.message})` : reasonOf(e);
    }
    if (!skip) throw new JsonlError(name, i + 1, reason);
    result.skipped++;
    result.errors.push({ line: i + 1, reason });
  }
  return result;
}

/** Read a JSON Lines file (Node.js) as `parseJsonl` does; errors name the path and line. */
export async function readJsonl<T = unknown>(path: string, options?: Omit<JsonlOptions<T>, 'source'>): Promise<JsonlResult<T>> {
  const op = 'readJsonl';
  if (typeof path !== 'string' || path === '') throw new ValueError(`${op}: path must be a file path, got ${fmtValue(path)}`);
  checkOptions(op, options, ['schema', 'skipInvalid']);
  const fs = await loadFs();
  const text = await fs.readFile(path, 'utf8');
  return parseWith(op, text, options, ['schema', 'skipInvalid'], path);
}
