// Refcounted device buffers. Views share a Storage; the last release returns the buffer to its
// backend (or to the compiled function that owns it, see `setBufferHooks`). Live bytes per device
// are tracked here for `memory()`.
import type { DType } from '@webgrad/kernels';
import type { Backend, DeviceName } from './backend/backend.js';

interface Live { bytes: number; buffers: number; peak: number }
const live = new Map<DeviceName, Live>();

/** The live counters of `device` (one Map lookup per allocation or release). */
function liveOf(device: DeviceName): Live {
  let l = live.get(device);
  if (l === undefined) live.set(device, (l = { bytes: 0, buffers: 0, peak: 0 }));
  return l;
}

/** How compiled functions (compile/arena.ts) take part in allocation and release: while one traces,
 *  new buffers come from its arena; a buffer it owns or watches is reported when released. */
export interface BufferHooks {
  /** A buffer for a new Storage, or undefined to let the backend allocate as usual. */
  allocate(backend: Backend, dtype: DType, length: number): unknown;
  /** The last Storage of `buffer` was released; true when the hook took the buffer (the backend must not free it). */
  release(backend: Backend, buffer: unknown, dtype: DType, length: number): boolean;
}
let hooks: BufferHooks | null = null;

/** Install (or remove, with null) the buffer hooks; returns the previous ones. */
export function setBufferHooks(h: BufferHooks | null): BufferHooks | null {
  const prev = hooks;
  hooks = h;
  return prev;
}

export class Storage {
  refs = 1;
  readonly bytes: number;
  /** Bumped by every in-place write; autograd compares it against the value seen at save time. */
  version = 0;

  constructor(
    readonly backend: Backend,
    readonly buffer: unknown,
    readonly dtype: DType,
    readonly length: number,
  ) {
    this.bytes = backend.byteSize(dtype, length);
    const l = liveOf(backend.name);
    l.bytes += this.bytes;
    l.buffers++;
    if (l.bytes > l.peak) l.peak = l.bytes;
  }

  static allocate(backend: Backend, dtype: DType, length: number): Storage {
    const b = hooks === null ? undefined : hooks.allocate(backend, dtype, length);
    return new Storage(backend, b === undefined ? backend.allocate(dtype, length) : b, dtype, length);
  }

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs > 0) return;
    const l = liveOf(this.backend.name);
    l.bytes -= this.bytes;
    l.buffers--;
    if (hooks !== null && hooks.release(this.backend, this.buffer, this.dtype, this.length)) return;
    this.backend.free(this.buffer, this.dtype, this.length);
  }
}

export function storageStats(): Map<DeviceName, { bytes: number; buffers: number; peak: number }> {
  const out = new Map<DeviceName, { bytes: number; buffers: number; peak: number }>();
  for (const [d, l] of live) out.set(d, { bytes: l.bytes, buffers: l.buffers, peak: l.peak });
  return out;
}

/** Start every device's peak over again from its live bytes now. */
export function resetPeakStats(): void {
  for (const l of live.values()) l.peak = l.bytes;
}
