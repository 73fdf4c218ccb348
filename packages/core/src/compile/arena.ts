// The memory of a compiled function. Buffers allocated while a step is traced come from its arena,
// and buffers freed during the trace go back to the arena's free lists, never to the device pool:
// the reuse within one trace is the step's static memory plan, and a replay writes the same
// buffers in the same order. The arena keeps its buffers until it is disposed, so a tensor the
// trace produced (a parameter's grad) can be released by the user without its buffer being handed
// to anyone else while replays still write it.
//
// Buffers from outside the trace (parameters, optimizer state) are "external": the tape refers to
// them by identity, and is told (FreeWatcher) when one of them is freed, since a replay would then
// touch a dead buffer.
import type { DType } from '@webgrad/kernels';
import type { Backend } from '../backend/backend.js';
import { setBufferHooks } from '../storage.js';

/** Told when an external buffer it refers to is freed. */
export interface FreeWatcher {
  /** `buffer` was released by its last Storage. */
  externalFreed(buffer: unknown): void;
}

/** Told of allocations while a trace records. */
export interface AllocationListener {
  /** True while allocations bypass the arena (host actions, or after the trace found its cause). */
  readonly paused: boolean;
  /** `buffer` was just handed to a new Storage; `fromArena` is false while paused. */
  allocated(buffer: unknown, fromArena: boolean): void;
}

interface Claim { arena: Arena | null; watchers: Set<FreeWatcher> | null }

const claims = new Map<unknown, Claim>();
let current: { arena: Arena; listener: AllocationListener } | null = null;
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  setBufferHooks({
    allocate: (backend, dtype, length) => {
      if (current === null) return undefined;
      const fromArena = !current.listener.paused;
      const b = fromArena ? current.arena.take(backend, dtype, length) : backend.allocate(dtype, length);
      current.listener.allocated(b, fromArena);
      return b;
    },
    release: (_backend, buffer) => {
      const c = claims.get(buffer);
      if (c === undefined) return false;
      if (c.watchers !== null) {
        const ws = [...c.watchers];
        c.watchers = null;
        for (const w of ws) w.externalFreed(buffer);
      }
      if (c.arena !== null) {
        c.arena.reclaim(buffer);
        return true;
      }
      claims.delete(buffer);
      return false;
    },
  });
}

/** While `arena` is set, every new Storage takes its buffer from it and `listener` hears of it. */
export function allocateFrom(arena: Arena | null, listener: AllocationListener | null): void {
  install();
  current = arena === null || listener === null ? null : { arena, listener };
}

/** Whether new storages come from an arena now. */
export function allocatingFromArena(): boolean {
  return current !== null;
}

/** Ask to be told when external `buffer` is freed. */
export function watchBuffer(buffer: unknown, w: FreeWatcher): void {
  install();
  let c = claims.get(buffer);
  if (c === undefined) claims.set(buffer, (c = { arena: null, watchers: null }));
  (c.watchers ??= new Set()).add(w);
}

/** Stop telling `w` about `buffer`. */
export function unwatchBuffer(buffer: unknown, w: FreeWatcher): void {
  const c = claims.get(buffer);
  if (c === undefined || c.watchers === null) return;
  c.watchers.delete(w);
  if (c.watchers.size === 0) {
    c.watchers = null;
    if (c.arena === null) claims.delete(buffer);
  }
}

/** The arena that owns `buffer`, if any. */
export function arenaOf(buffer: unknown): Arena | null {
  return claims.get(buffer)?.arena ?? null;
}

interface Owned { backend: Backend; dtype: DType; length: number; bytes: number }

/** Buffers owned by one compiled signature: those in use, and free lists by device, dtype and length. */
export class Arena {
  readonly #free = new Map<string, unknown[]>();
  readonly #owned = new Map<unknown, Owned>();
  readonly #inUse = new Set<unknown>();
  #bytes = 0;

  /** Bytes of every buffer the arena owns. */
  get bytes(): number { return this.#bytes; }
  /** How many buffers the arena owns. */
  get buffers(): number { return this.#owned.size; }

  /** A buffer for a new Storage: a free one of the same device, dtype and length, or a new one. */
  take(backend: Backend, dtype: DType, length: number): unknown {
    let b = this.#free.get(`${backend.name}:${dtype}:${length}`)?.pop();
    if (b === undefined) {
      b = backend.allocate(dtype, length);
      const bytes = backend.byteSize(dtype, length);
      this.#owned.set(b, { backend, dtype, length, bytes });
      this.#bytes += bytes;
      const c = claims.get(b);
      if (c !== undefined) c.arena = this;
      else claims.set(b, { arena: this, watchers: null });
    }
    this.#inUse.add(b);
    return b;
  }

  /** `buffer`'s last Storage was released: it goes back on its free list. */
  reclaim(buffer: unknown): void {
    const o = this.#owned.get(buffer);
    if (o === undefined || !this.#inUse.delete(buffer)) return;
    const key = `${o.backend.name}:${o.dtype}:${o.length}`;
    let list = this.#free.get(key);
    if (list === undefined) this.#free.set(key, (list = []));
    list.push(buffer);
  }

  /** `buffer` (the arena's) is held by a new Storage again: off its free list. */
  adopt(buffer: unknown): void {
    const o = this.#owned.get(buffer);
    if (o === undefined || this.#inUse.has(buffer)) return;
    const list = this.#free.get(`${o.backend.name}:${o.dtype}:${o.length}`);
    if (list !== undefined) {
      const i = list.indexOf(buffer);
      if (i >= 0) list.splice(i, 1);
    }
    this.#inUse.add(buffer);
  }

  /** Whether `buffer` is held by a Storage now. */
  inUse(buffer: unknown): boolean { return this.#inUse.has(buffer); }
  /** Whether the arena owns `buffer`. */
  owns(buffer: unknown): boolean { return this.#owned.has(buffer); }

  /** Free every buffer on the free lists that is not in `keep` (buffers a fused tape no longer touches). */
  releaseUnused(keep: ReadonlySet<unknown>): void {
    for (const list of this.#free.values()) {
      for (let i = list.length - 1; i >= 0; i--) {
        const b = list[i];
        if (keep.has(b)) continue;
        list.splice(i, 1);
        this.#drop(b, true);
      }
    }
  }

  /** Give every free buffer back to its device; buffers still held by tensors become ordinary
   *  buffers, freed to the device when their last Storage is released. */
  dispose(): void {
    for (const list of this.#free.values()) for (const b of list) this.#drop(b, true);
    this.#free.clear();
    for (const b of [...this.#inUse]) this.#drop(b, false);
    this.#inUse.clear();
  }

  #drop(b: unknown, free: boolean): void {
    const o = this.#owned.get(b);
    if (o === undefined) throw new Error('Arena: dropping a buffer the arena does not own');
    this.#owned.delete(b);
    this.#bytes -= o.bytes;
    const c = claims.get(b);
    if (c !== undefined) {
      c.arena = null;
      if (c.watchers === null) claims.delete(b);
    }
    if (free) o.backend.free(b, o.dtype, o.length);
  }
}
