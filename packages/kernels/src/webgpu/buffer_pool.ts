// A pool of GPUBuffers keyed by usage and size class.
//
// Sizes are rounded up to a class: powers of two up to 4 KiB, then four classes per octave
// (2^k · {1, 1.25, 1.5, 1.75}), so at most 25% is wasted and most requests hit a pooled buffer.
// Kernels therefore never use `arrayLength()` of a binding as an element count: the count comes
// from the uniforms.
//
// Release is deferred: `release(buffer, serial)` parks the buffer until the queue submission
// numbered `serial` (the one that last used it) has completed, then it becomes reusable. The
// runtime calls `completed(serial)` from `queue.onSubmittedWorkDone()`. Under its memory limit the
// runtime may instead destroy pending buffers at once (`trim(true)`, after submitting their work).
//
// Free lists hand out their lowest-numbered (oldest) buffer first, whatever order buffers came
// back in. A training step repeats the same allocations, so it gets the same buffers every step
// even though submissions complete at varying points of the next step's encoding; the runtime's
// bind groups, which name buffers, are then found in its cache instead of being created again
// (a GPT step on WebGPU created about half of its 259 bind groups anew each step before).
//
// Free lists are looked up by usage, then by size class (numbers, no string keys), and every
// buffer the pool destroys is reported through `onDestroy`, so caches holding bind groups of
// that buffer can drop them.

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
  /** Buffers handed out and not yet released. */
  liveBuffers: number;
}

interface Entry {
  /** Creation order: free lists hand out the lowest-numbered buffer first. */
  id: number;
  size: number;
  usage: number;
  state: 'live' | 'pending' | 'free';
}

const MIN_CLASS = 16;

/** The size a request of `bytes` is rounded up to. */
export function sizeClass(bytes: number): number {
  if (bytes <= MIN_CLASS) return MIN_CLASS;
  if (bytes <= 4096) return 1 << (32 - Math.clz32(Math.ceil(bytes) - 1));
  const octave = 2 ** Math.floor(Math.log2(bytes));
  const quarter = octave / 4;
  return Math.ceil(bytes / quarter) * quarter;
}

export class BufferPool {
  private readonly free = new Map<number, Map<number, GPUBuffer[]>>();
  private readonly pending: { buffer: GPUBuffer; serial: number }[] = [];
  private readonly entries = new Map<GPUBuffer, Entry>();
  private nextId = 0;
  private s: PoolStats = { liveBytes: 0, pooledBytes: 0, pendingBytes: 0, allocations: 0, reuses: 0, liveBuffers: 0 };

  constructor(
    private readonly create: (size: number, usage: number) => GPUBuffer,
    private readonly onDestroy: (buffers: readonly GPUBuffer[]) => void = () => {},
  ) {}

  /** A buffer of at least `bytes` with exactly `usage`, from the pool when one is free. */
  acquire(bytes: number, usage: number): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(usage)?.get(size);
    let buffer = list !== undefined && list.length > 0 ? list.pop() : undefined;
    if (buffer) {
      this.s.pooledBytes -= size;
      this.s.reuses++;
      this.entries.get(buffer)!.state = 'live';
    } else {
      buffer = this.create(size, usage);
      this.s.allocations++;
      this.entries.set(buffer, { id: this.nextId++, size, usage, state: 'live' });
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

  /**
   * Destroys every free buffer, and with `pending` every released one still awaiting the GPU (the
   * caller must have submitted the commands that use them). Live buffers are kept. Returns the
   * bytes given back.
   */
  trim(pending = false): number {
    const destroyed: GPUBuffer[] = [];
    let freed = 0;
    if (pending) {
      for (const { buffer } of this.pending) {
        freed += this.entries.get(buffer)!.size;
        destroyed.push(buffer);
      }
      this.pending.length = 0;
      this.s.pendingBytes -= freed;
    }
    let pooled = 0;
    for (const bySize of this.free.values()) {
      for (const list of bySize.values()) {
        for (const b of list) {
          pooled += this.entries.get(b)!.size;
          destroyed.push(b);
        }
      }
    }
    this.free.clear();
    this.s.pooledBytes -= pooled;
    for (const b of destroyed) {
      this.entries.delete(b);
      b.destroy();
    }
    if (destroyed.length > 0) this.onDestroy(destroyed);
    return freed + pooled;
  }

  /** Destroys every buffer, live or not. */
  destroyAll(): void {
    const all = [...this.entries.keys()];
    for (const b of all) b.destroy();
    this.entries.clear();
    this.free.clear();
    this.pending.length = 0;
    this.s = { ...this.s, liveBytes: 0, pooledBytes: 0, pendingBytes: 0, liveBuffers: 0 };
    if (all.length > 0) this.onDestroy(all);
  }

  /** Live + pooled + pending bytes, without copying the stats. */
  get totalBytes(): number {
    return this.s.liveBytes + this.s.pooledBytes + this.s.pendingBytes;
  }

  stats(): PoolStats {
    return { ...this.s };
  }

  private toFree(buffer: GPUBuffer, e: Entry): void {
    e.state = 'free';
    let bySize = this.free.get(e.usage);
    if (!bySize) this.free.set(e.usage, (bySize = new Map()));
    let list = bySize.get(e.size);
    if (!list) bySize.set(e.size, (list = []));
    // Kept in descending id order, so pop() takes the lowest id.
    let i = list.length;
    while (i > 0 && this.entries.get(list[i - 1]!)!.id < e.id) i--;
    list.splice(i, 0, buffer);
    this.s.pooledBytes += e.size;
  }
}
