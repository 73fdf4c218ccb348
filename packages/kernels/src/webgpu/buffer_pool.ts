// A pool of GPUBuffers keyed by usage and size class.
//
// Sizes are rounded up to a class: powers of two up to 4 KiB, then four classes per octave
// (2^k · {1, 1.25, 1.5, 1.75}), so at most 25% is wasted and most requests hit a pooled buffer.
// Kernels therefore never use `arrayLength()` of a binding as an element count: the count comes
// from the uniforms.
//
// Release is deferred: `release(buffer, serial)` parks the buffer until the queue submission
// numbered `serial` (the one that last used it) has completed, then it becomes reusable. The
// runtime calls `completed(serial)` from `queue.onSubmittedWorkDone()`.

export interface PoolStats {
  /** Bytes handed out and not yet released (size-class bytes). */
  liveBytes: number;
  /** Bytes sitting in the pool, free for reuse. */
  pooledBytes: number;
  /** Bytes released but waiting for the GPU to finish with them. */
  pendingBytes: number;
  /** createBuffer calls so far. */
  allocations: number;
  /** Requests served from the pool. */
  reuses: number;
  liveBuffers: number;
}

interface Entry {
  size: number;
  usage: number;
  state: 'live' | 'pending' | 'free';
}

const MIN_CLASS = 16;

/** The size a request of `bytes` is rounded up to. */
export function sizeClass(bytes: number): number {
  if (bytes <= MIN_CLASS) return MIN_CLASS;
  if (bytes <= 4096) return 2 ** Math.ceil(Math.log2(bytes));
  const octave = 2 ** Math.floor(Math.log2(bytes));
  const quarter = octave / 4;
  return Math.ceil(bytes / quarter) * quarter;
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly pending: { buffer: GPUBuffer; serial: number }[] = [];
  private readonly entries = new Map<GPUBuffer, Entry>();
  private s: PoolStats = { liveBytes: 0, pooledBytes: 0, pendingBytes: 0, allocations: 0, reuses: 0, liveBuffers: 0 };

  constructor(private readonly create: (size: number, usage: number) => GPUBuffer) {}

  /** A buffer of at least `bytes` with exactly `usage`, from the pool when one is free. */
  acquire(bytes: number, usage: number): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(`${usage}:${size}`);
    let buffer = list?.pop();
    if (buffer) {
      this.s.pooledBytes -= size;
      this.s.reuses++;
      this.entries.get(buffer)!.state = 'live';
    } else {
      buffer = this.create(size, usage);
      this.s.allocations++;
      this.entries.set(buffer, { size, usage, state: 'live' });
    }
    this.s.liveBytes += size;
    this.s.liveBuffers++;
    return buffer;
  }

  /** Is this a live buffer of this pool? */
  owns(buffer: GPUBuffer): boolean {
    return this.entries.get(buffer)?.state === 'live';
  }

  /** Returns a live buffer; it becomes reusable once submission `serial` has completed. */
  release(buffer: GPUBuffer, serial: number, completedSerial: number): void {
    const e = this.entries.get(buffer);
    if (!e) throw new Error('release: this GPUBuffer was not allocated by this runtime');
    if (e.state !== 'live') throw new Error('release: buffer released twice');
    this.s.liveBytes -= e.size;
    this.s.liveBuffers--;
    if (serial <= completedSerial) {
      this.toFree(buffer, e);
    } else {
      e.state = 'pending';
      this.s.pendingBytes += e.size;
      this.pending.push({ buffer, serial });
    }
  }

  /** Everything released before submission `serial` completed becomes reusable. */
  completed(serial: number): void {
    let w = 0;
    for (let r = 0; r < this.pending.length; r++) {
      const p = this.pending[r]!;
      if (p.serial <= serial) {
        const e = this.entries.get(p.buffer)!;
        this.s.pendingBytes -= e.size;
        this.toFree(p.buffer, e);
      } else {
        this.pending[w++] = p;
      }
    }
    this.pending.length = w;
  }

  /** Destroys every free buffer (pending and live ones are kept). Returns the bytes given back. */
  trim(): number {
    let bytes = 0;
    for (const list of this.free.values()) {
      for (const b of list) {
        const e = this.entries.get(b)!;
        bytes += e.size;
        this.entries.delete(b);
        b.destroy();
      }
    }
    this.free.clear();
    this.s.pooledBytes -= bytes;
    return bytes;
  }

  /** Destroys every buffer, live or not. */
  destroyAll(): void {
    for (const b of this.entries.keys()) b.destroy();
    this.entries.clear();
    this.free.clear();
    this.pending.length = 0;
    this.s = { ...this.s, liveBytes: 0, pooledBytes: 0, pendingBytes: 0, liveBuffers: 0 };
  }

  stats(): PoolStats {
    return { ...this.s };
  }

  private toFree(buffer: GPUBuffer, e: Entry): void {
    e.state = 'free';
    const key = `${e.usage}:${e.size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buffer);
    this.s.pooledBytes += e.size;
  }
}
