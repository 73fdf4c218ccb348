// Tensor lifetimes: scopes (`tidy`, `scope`), `keep`, and the live-tensor census behind `memory()`.
//
// Every tensor is registered in the innermost open scope when it is created. Closing the scope
// disposes what it holds except tensors that were returned (tidy) or kept. Parameters, their
// gradients and optimizer state are kept, so a scope never sweeps them.
import type { DeviceName } from './backend/backend.js';
import { ValueError } from './errors.js';
import { resetPeakStats, storageStats } from './storage.js';
import { checkFunction, checkTensor } from './validate.js';
import type { Tensor } from './tensor.js';

const scopes: Set<Tensor>[] = [];
const liveTensors = new Map<DeviceName, { n: number }>();

function counterOf(device: DeviceName): { n: number } {
  let c = liveTensors.get(device);
  if (c === undefined) liveTensors.set(device, (c = { n: 0 }));
  return c;
}

/** Tensors created while a `disposeOnThrow` call runs, in creation order (empty when none runs). */
const created: Tensor[] = [];
let guardDepth = 0;

/** Called by the Tensor constructor. */
export function trackTensor(t: Tensor): void {
  counterOf(t.device).n++;
  if (scopes.length > 0) scopes[scopes.length - 1].add(t);
  if (guardDepth > 0) created.push(t);
}

/**
 * Run `fn`; if it throws, dispose every tensor it created before rethrowing, so a failed call
 * leaves nothing behind (inside a `tidy` or not). On success nothing changes. Synchronous only.
 */
export function disposeOnThrow<T>(fn: () => T): T {
  const mark = created.length;
  guardDepth++;
  let ok = false;
  try {
    const r = fn();
    ok = true;
    return r;
  } finally {
    guardDepth--;
    if (!ok) {
      for (let i = created.length - 1; i >= mark; i--) created[i].dispose();
      created.length = mark;
    } else if (guardDepth === 0) created.length = 0;
  }
}

/** Called by Tensor.dispose(). */
export function untrackTensor(t: Tensor): void {
  counterOf(t.device).n--;
  for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i].delete(t)) break;
}

/** Take a tensor out of every open scope: it lives until disposed explicitly, even if the call
 *  that made it fails (a gradient accumulated into a leaf's `.grad` survives a failed backward). Returns it. */
export function keep<T extends Tensor>(t: T): T {
  checkTensor('keep', 'tensor', t);
  for (const s of scopes) s.delete(t);
  if (guardDepth > 0) {
    const i = created.lastIndexOf(t);
    if (i >= 0) created.splice(i, 1);
  }
  return t;
}

type Tensors = Tensor | readonly Tensors[] | { readonly [k: string]: Tensors } | null | undefined | number | string | boolean;

function collect(value: unknown, out: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if ((value as { __isTensor?: boolean }).__isTensor) { out.add(value as Tensor); return; }
  if (Array.isArray(value)) { for (const v of value) collect(v, out, seen); return; }
  if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, out, seen);
}

function closeScope(s: Set<Tensor>, survivors: Set<Tensor>): void {
  const parent = scopes[scopes.length - 1];
  for (const t of s) {
    if (survivors.has(t)) parent?.add(t);
    else if (!t.isDisposed) t.dispose();
  }
}

/** Run `fn` and dispose every tensor it created except those it returns (in arrays/objects too). */
export function tidy<T>(fn: () => T): T {
  checkFunction('tidy', 'fn', fn);
  const s = new Set<Tensor>();
  scopes.push(s);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    closeScope(s, new Set());
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    closeScope(s, new Set());
    throw new ValueError('tidy: the function must be synchronous (it returned a Promise); use `using s = scope()` in async code');
  }
  const survivors = new Set<Tensor>();
  collect(result as Tensors, survivors);
  closeScope(s, survivors);
  return result;
}

/** A disposable scope for `using s = scope()`: tensors created while it is open are disposed when
 *  it closes, except those passed to `s.keep(t)` (or global `keep`). Scopes must close in order. */
export function scope(): {
  /** Exempt `t` from this scope's sweep; returns it. */
  keep<T extends Tensor>(t: T): T;
  /** Close the scope, disposing what it made. */
  [Symbol.dispose](): void;
} {
  const s = new Set<Tensor>();
  scopes.push(s);
  const kept = new Set<Tensor>();
  return {
    keep<T extends Tensor>(t: T): T { kept.add(t); return t; },
    [Symbol.dispose]() {
      const i = scopes.lastIndexOf(s);
      if (i >= 0) scopes.splice(i, 1);
      closeScope(s, kept);
    },
  };
}

/** What `memory()` returns: live tensors and bytes, in all and per device. */
export interface MemoryInfo {
  /** Live tensor objects (views included) and live device bytes, per device; `peakBytes` is the most
   *  bytes live at once since the start or the last `resetPeakMemory()` (torch.cuda.max_memory_allocated). */
  devices: Record<string, {
    /** Live tensor objects, views included. */ tensors: number;
    /** Live storage bytes. */ bytes: number;
    /** Live storages (views share one). */ buffers: number;
    /** Most bytes live at once. */ peakBytes: number;
  }>;
  /** Live tensor objects on all devices. */
  tensors: number;
  /** Live storage bytes on all devices. */
  bytes: number;
}

/** Live tensors and storage bytes, per device and in all (like torch.cuda.memory_allocated); counts what has not been disposed or collected. */
export function memory(): MemoryInfo {
  const devices: MemoryInfo['devices'] = {};
  const stats = storageStats();
  for (const d of new Set<DeviceName>([...liveTensors.keys(), ...stats.keys()])) {
    const s = stats.get(d);
    devices[d] = { tensors: liveTensors.get(d)?.n ?? 0, bytes: s?.bytes ?? 0, buffers: s?.buffers ?? 0, peakBytes: s?.peak ?? 0 };
  }
  const vals = Object.values(devices);
  return { devices, tensors: vals.reduce((a, v) => a + v.tensors, 0), bytes: vals.reduce((a, v) => a + v.bytes, 0) };
}

/** Restart the `peakBytes` of every device from its live bytes (torch.cuda.reset_peak_memory_stats). */
export function resetPeakMemory(): void {
  resetPeakStats();
}
