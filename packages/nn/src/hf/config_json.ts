// Reading fields of a transformers config.json with checks: each getter names the file and key
// when a value is missing or has the wrong type.
import { fmtValue } from '@webgrad/core';
import { HFCheckpointError } from './names.js';

/** A parsed config.json and where it came from (for messages). */
export class ConfigReader {
  constructor(readonly json: Record<string, unknown>, readonly source: string) {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new HFCheckpointError(`${source}: config.json must hold an object, got ${fmtValue(json)}`);
  }

  has(key: string): boolean { return this.json[key] !== undefined && this.json[key] !== null; }

  #fail(key: string, want: string): never {
    throw new HFCheckpointError(`${this.source}: config.json "${key}" must be ${want}, got ${fmtValue(this.json[key])}`);
  }

  /** A positive integer (or `fallback` when the key is absent or null). */
  int(key: string, fallback?: number): number {
    if (!this.has(key)) { if (fallback !== undefined) return fallback; this.#fail(key, 'a positive integer'); }
    const v = this.json[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) this.#fail(key, 'a positive integer');
    return v;
  }

  /** A finite number > 0. */
  positive(key: string, fallback?: number): number {
    if (!this.has(key)) { if (fallback !== undefined) return fallback; this.#fail(key, 'a number > 0'); }
    const v = this.json[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.#fail(key, 'a number > 0');
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const v = this.json[key];
    if (typeof v !== 'boolean') this.#fail(key, 'true or false');
    return v;
  }

  string(key: string, fallback?: string): string {
    if (!this.has(key)) { if (fallback !== undefined) return fallback; this.#fail(key, 'a string'); }
    const v = this.json[key];
    if (typeof v !== 'string') this.#fail(key, 'a string');
    return v;
  }

  /** Refuse a setting webgrad does not implement: the key must be absent, null or `allowed`. */
  require(key: string, allowed: unknown, why: string): void {
    if (this.has(key) && this.json[key] !== allowed) {
      throw new HFCheckpointError(`${this.source}: config.json "${key}" is ${fmtValue(this.json[key])}; ${why}`);
    }
  }
}
