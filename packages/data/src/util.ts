// Small helpers shared by the package: finding the tensors inside a batch, and loading Node's file
// system lazily so browser bundles of the package never pull it in.
import type { Tensor } from '@webgrad/core';

/** True for a webgrad Tensor. */
export function isTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && (v as { __isTensor?: boolean }).__isTensor === true;
}

/** Every tensor inside `value` (nested in arrays and plain objects), each once. */
export function tensorsIn(value: unknown, out: Set<Tensor> = new Set(), seen: Set<unknown> = new Set()): Set<Tensor> {
  if (value === null || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (isTensor(value)) out.add(value);
  else if (Array.isArray(value)) for (const v of value) tensorsIn(v, out, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) tensorsIn(v, out, seen);
  return out;
}

// A non-literal specifier keeps browser bundlers from trying to resolve Node built-ins.
const nodeModule = (name: string): Promise<unknown> => import(name);

/** node:fs/promises, loaded on first use. */
export const loadFs = async () => (await nodeModule('node:fs/promises')) as typeof import('node:fs/promises');
/** node:path, loaded on first use. */
export const loadPath = async () => (await nodeModule('node:path')) as typeof import('node:path');

/** Run `fn` as a macrotask (after pending I/O and timers get a turn), as soon as the host allows. */
export function macrotask(fn: () => void): void {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown; MessageChannel?: typeof MessageChannel };
  if (typeof g.setImmediate === 'function') { g.setImmediate(fn); return; }
  if (typeof g.MessageChannel === 'function') {
    const ch = new g.MessageChannel();
    ch.port1.onmessage = () => { ch.port1.close(); fn(); };
    ch.port2.postMessage(null);
    return;
  }
  setTimeout(fn, 0);
}
