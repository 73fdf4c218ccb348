// Refcounted device buffers. Views share a Storage; the last release returns the buffer to its
// backend. Live bytes per device are tracked here for `memory()`.
import type { DType } from '@webgrad/kernels';
import type { Backend, DeviceName } from './backend/backend.js';

const liveBytes = new Map<DeviceName, number>();
const liveBuffers = new Map<DeviceName, number>();

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
    const d = backend.name;
    liveBytes.set(d, (liveBytes.get(d) ?? 0) + this.bytes);
    liveBuffers.set(d, (liveBuffers.get(d) ?? 0) + 1);
  }

  static allocate(backend: Backend, dtype: DType, length: number): Storage {
    return new Storage(backend, backend.allocate(dtype, length), dtype, length);
  }

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs > 0) return;
    const d = this.backend.name;
    liveBytes.set(d, liveBytes.get(d)! - this.bytes);
    liveBuffers.set(d, liveBuffers.get(d)! - 1);
    this.backend.free(this.buffer, this.dtype, this.length);
  }
}

export function storageStats(): Map<DeviceName, { bytes: number; buffers: number }> {
  const out = new Map<DeviceName, { bytes: number; buffers: number }>();
  for (const [d, bytes] of liveBytes) out.set(d, { bytes, buffers: liveBuffers.get(d) ?? 0 });
  return out;
}
