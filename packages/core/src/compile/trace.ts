// Recording a tape while the step really runs. For the length of the call every registered
// backend's kernel set is replaced by one that appends an entry and then launches the kernel, its
// uploads are recorded, and its host reads (download, readSync) mark the trace as not replayable;
// new storages come from the signature's arena (arena.ts).
//
// Library calls that advance host state (an optimizer's step counts and learning rates, a
// scheduler's step) run inside `hostAction`: their kernels are not recorded, and the tape gets an
// entry that calls them again at every replay.
import type { View } from '@webgrad/kernels';
import type { Backend } from '../backend/backend.js';
import { getBackend, hasDevice } from '../backend/registry.js';
import { getRngState } from '../ops/creation.js';
import { Storage } from '../storage.js';
import { Tensor } from '../tensor.js';
import { allocateFrom, arenaOf, unwatchBuffer, watchBuffer, type AllocationListener, type Arena, type FreeWatcher } from './arena.js';
import { describeEntry, isView, type Entry, type EntryKey, type LeafGrad, type OutputTemplate, type Ref, type Slot, type Tape } from './tape.js';
import { ValueError, fmtShape } from '../errors.js';
import { checkFunction, fmtValue } from '../validate.js';

let active: Tracer | null = null;

/** Whether a compiled function is tracing a call now (library code that keeps host state asks). */
export function isTracing(): boolean {
  return active !== null;
}

/**
 * Run `fn`, a library call that changes host state a replay must change again (an optimizer
 * step's counters and learning rates, a scheduler's step). Outside a trace it just runs `fn`.
 * While a compiled function traces, `fn` runs normally but its device work is not recorded;
 * instead the tape calls `fn` again, eagerly, at every replay. `dispose` (optional) is called when
 * the tape is discarded — to release tensors `fn` holds for its replays. Returns `fn`'s result.
 */
export function hostAction<T>(name: string, fn: () => T, dispose?: () => void): T {
  checkText('hostAction', 'name', name);
  checkFunction('hostAction', 'fn', fn);
  if (dispose !== undefined) checkFunction('hostAction', 'dispose', dispose);
  const t = active;
  if (t === null || t.hostDepth > 0) return fn();
  t.hostDepth++;
  let r: T;
  try {
    r = fn();
  } finally {
    t.hostDepth--;
  }
  t.addHost(name, fn, dispose);
  return r;
}

/** Mark the call being traced (if any) as one a replay cannot repeat, for `cause` (a sentence
 *  naming the call: "GradientAccumulator.backward steps the optimizer on every n-th call"). The
 *  compiled function then warns once and runs that input signature eagerly. */
export function notTraceable(cause: string): void {
  checkText('notTraceable', 'cause', cause);
  active?.fail(cause);
}

/** The autograd engine is about to set `leaf.grad` (a new gradient, or one added to the old): a
 *  replay must hand the leaf its gradient buffer again (see `LeafGrad` in tape.ts). */
export function gradAssigned(leaf: Tensor): void {
  const t = active;
  if (t !== null && t.hostDepth === 0 && !t.leaves.has(leaf)) t.leaves.set(leaf, leaf.grad === null || leaf.grad.isDisposed);
}

/**
 * Run `check` on `views` now — a validation that reads them on the host (indices in range) and
 * throws a typed error — and, while a compiled step traces, again at every replay on that call's
 * buffers (the views of the step's inputs are patched like every other view). The read does not
 * count as a host read of the step.
 */
export function replayedCheck(views: readonly View<unknown>[], check: (views: readonly View<unknown>[]) => void): void {
  if (!Array.isArray(views) || !views.every(isView)) throw new ValueError(`replayedCheck: views must be an array of kernel views ({ buffer, dtype, shape, strides, offset }), got ${fmtValue(views)}`);
  checkFunction('replayedCheck', 'check', check);
  const t = active;
  if (t === null) { check(views); return; }
  t.validationDepth++;
  try {
    check(views);
  } finally {
    t.validationDepth--;
  }
  if (t.hostDepth === 0) t.recordCheck(views, check);
}

type KernelTable = Record<string, (...a: unknown[]) => unknown>;
let nextExternal = 1;
const externalNames = new WeakMap<object, number>();
function externalName(b: unknown): string {
  if (typeof b !== 'object' || b === null) return 'x?';
  let n = externalNames.get(b);
  if (n === undefined) externalNames.set(b, (n = nextExternal++));
  return `x${n}`;
}

function hashData(data: ArrayBufferView): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return `${bytes.length}:${(h >>> 0).toString(16)}`;
}

/** One trace of one call of a compiled step. */
export class Tracer implements AllocationListener, FreeWatcher {
  /** Why the call cannot be replayed (first cause found), or null. */
  cause: string | null = null;
  hostDepth = 0;
  validationDepth = 0;
  readonly entries: Entry[] = [];
  readonly keys: EntryKey[] = [];
  readonly slots: Slot[] = [];
  readonly disposers: (() => void)[] = [];
  /** Leaves whose grad the backward set, and whether they had none when it first did. */
  readonly leaves = new Map<Tensor, boolean>();
  readonly #slotOf = new Map<unknown, number>();
  readonly #inputs = new Map<unknown, number>();
  readonly #logical = new Map<unknown, number>();
  readonly #hostMade = new Set<unknown>();
  readonly #hostRead = new Set<number>();
  readonly #externals = new Set<unknown>();
  readonly #restore: (() => void)[] = [];
  #nextLogical = 0;
  /** Each tensor argument's offset: views of an input are keyed by their offset relative to it. */
  readonly inputOffsets: readonly number[];
  /** Tensor ids above this were made during the trace. */
  readonly firstId: number;
  /** The global generator's state when the call began. */
  readonly #rng0 = getRngState();

  constructor(readonly arena: Arena, inputs: readonly Tensor[]) {
    inputs.forEach((t, i) => { if (!this.#inputs.has(t.storage.buffer)) this.#inputs.set(t.storage.buffer, i); });
    this.inputOffsets = inputs.map((t) => t.offset);
    this.firstId = probeId();
  }

  get paused(): boolean { return this.hostDepth > 0 || this.cause !== null; }

  /** Note the first reason the call cannot be replayed. */
  fail(cause: string): void {
    if (this.cause === null) this.cause = cause;
  }

  /** Wrap every backend and send allocations to the arena. */
  start(): void {
    for (const b of backends()) this.#wrap(b);
    allocateFrom(this.arena, this);
    active = this;
  }

  /** Put the backends back; allocations go to the devices again. */
  stop(): void {
    active = null;
    allocateFrom(null, null);
    for (const r of this.#restore.splice(0).reverse()) r();
  }

  allocated(buffer: unknown, fromArena: boolean): void {
    if (fromArena) this.#logical.set(buffer, this.#nextLogical++);
    else this.#hostMade.add(buffer);
  }

  externalFreed(_buffer: unknown): void {
    this.fail('a tensor the step reads was freed during the call — state carried by rebinding (`this.buf = this.buf.mul(0.9)`); update it in place (`this.buf.mul_(0.9)`) so the step keeps using the same buffer');
  }

  addHost(name: string, run: () => void, dispose?: () => void): void {
    if (dispose) this.disposers.push(dispose);
    if (this.cause !== null) return;
    this.entries.push({ kind: 'host', name, run });
    this.keys.push({ what: name, structure: `host ${name}`, numbers: [] });
  }

  /** The slot of `buffer` as the step uses it now, or null (and the cause noted) when a replay could not use it. */
  slotFor(buffer: unknown, what: string): { slot: number; logical: number; info: Slot } | null {
    const input = this.#inputs.get(buffer);
    const arenaLogical = this.#logical.get(buffer);
    let role: Slot['role'];
    let name: string;
    let logical = -1;
    if (input !== undefined) {
      role = 'input';
      name = `i${input}`;
    } else if (arenaLogical !== undefined && this.arena.inUse(buffer)) {
      role = 'arena';
      logical = arenaLogical;
      name = `a${logical}`;
    } else if (arenaOf(buffer) !== null) {
      this.fail(`${what} reads a tensor made by an earlier call of the compiled function (state carried from step to step in a tensor the step allocates); create that state outside the step and update it in place`);
      return null;
    } else if (this.#hostMade.has(buffer)) {
      this.fail(`${what} reads a tensor that a host action (${this.#lastHost()}) creates during the call; a replay would read last call's tensor`);
      return null;
    } else {
      role = 'external';
      name = externalName(buffer);
      if (!this.#externals.has(buffer)) {
        this.#externals.add(buffer);
        watchBuffer(buffer, this);
      }
    }
    const known = this.#slotOf.get(buffer);
    const existing = known === undefined ? undefined : this.slots[known];
    if (known !== undefined && existing?.role === role) return { slot: known, logical, info: existing };
    const info: Slot = { role, buffer, input: input ?? -1, name };
    const slot = this.slots.length;
    this.slots.push(info);
    this.#slotOf.set(buffer, slot);
    return { slot, logical, info };
  }

  /** The traced call's offset of tensor argument `input`. */
  #inputOffset(input: number): number {
    const offset = this.inputOffsets[input];
    if (offset === undefined) throw new Error(`compile: no tensor argument ${input} in the traced call`);
    return offset;
  }

  #lastHost(): string {
    for (let i = this.entries.length - 1; i >= 0; i--) { const e = this.entries[i]; if (e !== undefined && e.kind === 'host') return e.name; }
    return 'a library call';
  }

  /** Append a host check of `views` (replayedCheck). */
  recordCheck(views: readonly View<unknown>[], run: (views: readonly View<unknown>[]) => void): void {
    if (this.cause !== null) return;
    const refs: Ref[] = [];
    const parts: string[] = [];
    const cloned = views.map((v) => this.#encode(v, 'a validation', refs, [], parts) as View<unknown>);
    if (this.cause !== null) return;
    this.entries.push({ kind: 'check', views: cloned, refs, run });
    this.keys.push({ what: 'a validation', structure: `check(${parts.join(',')})`, numbers: [] });
  }

  /** Append a kernel launch with a copy of its arguments. */
  recordKernel(backend: Backend, name: string, args: readonly unknown[]): void {
    const refs: Ref[] = [];
    const numbers: number[] = [];
    const parts: string[] = [];
    const what = typeof args[0] === 'string' ? `${name}(${args[0]})` : name;
    let rng: number | null = null;
    let list = args;
    if (name === 'random' && isView(args[0])) {
      const o = args[1] as { seed: number; offset: number; distribution: string };
      // A draw from the global generator: a replay draws at the same distance from the generator's
      // state when the call begins (a checkpointed block's recompute repeats its forward's draws).
      if (o.seed === this.#rng0.seed && o.offset >= this.#rng0.offset) {
        rng = o.offset - this.#rng0.offset;
        list = [args[0], { distribution: o.distribution, rng: `+${rng}` }];
      }
    }
    const cloned: unknown[] = [];
    for (const a of list) {
      cloned.push(this.#encode(a, what, refs, numbers, parts));
      if (this.cause !== null) return;
    }
    if (rng !== null) cloned[1] = { ...(args[1] as object) };
    this.entries.push({ kind: 'kernel', backend, name, args: cloned, refs, rng });
    this.keys.push({ what, structure: `${backend.name}.${name}(${parts.join(',')})`, numbers });
  }

  #encode(a: unknown, what: string, refs: Ref[], numbers: number[], parts: string[]): unknown {
    if (typeof a === 'number') { numbers.push(a); parts.push('#'); return a; }
    if (a === null || typeof a !== 'object') { parts.push(JSON.stringify(a) ?? 'undefined'); return a; }
    if (isView(a)) {
      const s = this.slotFor(a.buffer, what);
      if (s === null) return a;
      const view: View<unknown> = { buffer: a.buffer, dtype: a.dtype, shape: [...a.shape], strides: [...a.strides], offset: a.offset };
      refs.push({ view, slot: s.slot, logical: s.logical });
      const slot = s.info;
      const offset = slot.role === 'input' ? `@${a.offset - this.#inputOffset(slot.input)}` : a.offset;
      parts.push(`${slot.name}:${a.dtype}[${a.shape.join('x')}|${a.strides.join(',')}|${offset}]`);
      return view;
    }
    if (ArrayBuffer.isView(a)) { parts.push(`bytes(${hashData(a)})`); return a; }
    if (Array.isArray(a)) {
      parts.push('[');
      const out = a.map((x) => this.#encode(x, what, refs, numbers, parts));
      parts.push(']');
      return out;
    }
    const out: Record<string, unknown> = {};
    parts.push('{');
    for (const [k, v] of Object.entries(a)) {
      parts.push(k);
      out[k] = this.#encode(v, what, refs, numbers, parts);
    }
    parts.push('}');
    return out;
  }

  /** The trace's outputs: each tensor by a ref to its view. */
  outputOf(x: unknown): OutputTemplate | null {
    if (x === undefined || x === null) return { k: 'none', value: x };
    if (x instanceof Tensor || (typeof x === 'object' && (x as { __isTensor?: boolean }).__isTensor === true)) {
      const t = x as Tensor;
      const s = this.slotFor(t.storage.buffer, 'the returned value');
      if (s === null) return null;
      return { k: 'tensor', backend: t.backend, ref: { view: t.kernelView(), slot: s.slot, logical: s.logical } };
    }
    if (Array.isArray(x)) {
      const items: OutputTemplate[] = [];
      for (const v of x) { const o = this.outputOf(v); if (o === null) return null; items.push(o); }
      return { k: 'list', items };
    }
    if (typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
      const fields: [string, OutputTemplate][] = [];
      for (const [k, v] of Object.entries(x)) { const o = this.outputOf(v); if (o === null) return null; fields.push([k, o]); }
      return { k: 'record', fields };
    }
    this.fail(`the step returned ${typeof x === 'object' ? 'an object that is not a tensor, array or plain record' : `a ${typeof x}`}; a compiled step returns tensors (a tensor, an array or a record of tensors) or nothing`);
    return null;
  }

  /** The finished tape (null with `cause` set when the call cannot be replayed). */
  finish(output: OutputTemplate): Tape | null {
    if (this.cause !== null) return null;
    const liveAtEnd = new Set<number>();
    for (const [b, l] of this.#logical) if (this.arena.inUse(b)) liveAtEnd.add(l);
    const leaves: LeafGrad[] = [];
    for (const [leaf, fresh] of this.leaves) {
      const g = leaf.grad;
      let end: LeafGrad['end'] = null;
      if (g !== null && !g.isDisposed) {
        const s = this.slotFor(g.storage.buffer, 'a gradient');
        if (s === null) return null;
        if (s.info.role !== 'arena') {
          this.fail(`the gradient of a ${fmtShape(leaf.shape)} tensor${leaf.name ? ` (${leaf.name})` : ''} is a tensor from outside the step; a replay could not hand it back`);
          return null;
        }
        end = { view: g.kernelView(), backend: g.backend, length: g.storage.length, tensor: g };
      }
      leaves.push({ leaf, fresh, clears: false, end });
    }
    const g = getRngState();
    return {
      leaves,
      entries: this.entries, keys: this.keys, slots: this.slots, output, liveAtEnd, hostRead: this.#hostRead,
      externals: this.#externals, disposers: this.disposers, inputOffsets: this.inputOffsets,
      rngAdvance: g.seed === this.#rng0.seed && g.offset >= this.#rng0.offset ? g.offset - this.#rng0.offset : g,
    };
  }

  /** Drop the trace's watches (the tape, if kept, watches its externals itself). */
  unwatch(): void {
    for (const b of this.#externals) unwatchBuffer(b, this);
  }

  #wrap(backend: Backend): void {
    const orig = backend.kernels as unknown as KernelTable;
    const wrapped: KernelTable = {};
    // Own and inherited methods alike: which kernels exist decides which path an op takes.
    const names = new Set<string>();
    for (let o: object | null = orig; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
      for (const n of Object.getOwnPropertyNames(o)) if (n !== 'constructor') names.add(n);
    }
    for (const name of names) {
      const k = orig[name];
      if (typeof k !== 'function') { wrapped[name] = k as never; continue; }
      wrapped[name] = (...args: unknown[]) => {
        if (this.hostDepth > 0) this.#noteHostRead(args);
        else if (this.cause === null) this.recordKernel(backend, name, args);
        return k.apply(orig, args);
      };
    }
    const b = backend as { -readonly [K in keyof Backend]: Backend[K] };
    const { upload, download, readSync } = b;
    b.kernels = wrapped as unknown as Backend['kernels'];
    b.upload = (buffer, data, dtype) => {
      if (this.hostDepth === 0 && this.cause === null) {
        const s = this.slotFor(buffer, 'an upload of host data');
        if (s !== null) {
          const view: View<unknown> = { buffer, dtype, shape: [data.length], strides: [1], offset: 0 };
          this.entries.push({ kind: 'upload', backend, dtype, data: data.slice(), refs: [{ view, slot: s.slot, logical: s.logical }] });
          this.keys.push({ what: 'an upload of host data', structure: `upload(${s.info.name},${dtype},${hashData(data)})`, numbers: [] });
        }
      }
      upload.call(backend, buffer, data, dtype);
    };
    b.download = (buffer, dtype, length) => { this.#hostReadOf(dtype, length); return download.call(backend, buffer, dtype, length); };
    if (readSync) b.readSync = (buffer, dtype, length) => { this.#hostReadOf(dtype, length); return readSync.call(backend, buffer, dtype, length); };
    this.#restore.push(() => {
      b.kernels = orig as unknown as Backend['kernels'];
      b.upload = upload;
      b.download = download;
      if (readSync) b.readSync = readSync;
    });
  }

  #hostReadOf(dtype: string, length: number): void {
    if (this.hostDepth > 0 || this.validationDepth > 0) return;
    const lastEntry = this.entries.at(-1);
    const last = lastEntry !== undefined ? ` (after ${describeEntry(lastEntry)})` : '';
    this.fail(`the step reads ${/^[aeiou]/.test(dtype) ? 'an' : 'a'} ${dtype} tensor of ${length} element${length === 1 ? '' : 's'} on the host${last} — item(), data(), dataSync(), array() or tolist(); a replay cannot repeat a host read, so keep it outside the compiled function`);
  }

  /** A host action reads arena buffers (the grads an optimizer step uses): they must stay written. */
  #noteHostRead(args: readonly unknown[]): void {
    const visit = (a: unknown): void => {
      if (a === null || typeof a !== 'object') return;
      if (isView(a)) { const l = this.#logical.get(a.buffer); if (l !== undefined && this.arena.inUse(a.buffer)) this.#hostRead.add(l); return; }
      if (Array.isArray(a)) { a.forEach(visit); return; }
      if (!ArrayBuffer.isView(a)) for (const v of Object.values(a)) visit(v);
    };
    args.forEach(visit);
  }
}

/** The id of a zero-length probe tensor: tensors with a larger id were made after it. */
function probeId(): number {
  const probe = new Tensor(Storage.allocate(getBackend('cpu'), 'float32', 0), [0], 'float32', { internal: true });
  probe.dispose();
  return probe.id;
}

function backends(): Backend[] {
  const out = [getBackend('cpu')];
  if (hasDevice('webgpu')) out.push(getBackend('webgpu'));
  return out;
}

/** A non-empty string argument (the name or cause a warning will show). */
function checkText(op: string, name: string, v: unknown): void {
  if (typeof v !== 'string' || v.length === 0) throw new ValueError(`${op}: ${name} must be a non-empty string, got ${fmtValue(v)}`);
}
