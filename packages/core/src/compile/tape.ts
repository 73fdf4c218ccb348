// The tape: what one traced call of a step did on the devices, in order — kernel launches with the
// views they were given, uploads of host data, and host actions (library calls whose host state a
// replay must advance, such as an optimizer's step count). Views keep their buffers, so replaying
// the entries writes the same buffers as the trace did; only the buffers of the step's input
// tensors change from call to call, and are patched in before each replay.
//
// Every entry also has a key — the kernel, its arguments with buffers named by role (input i,
// arena allocation k, external buffer #n) and its numbers — so two traces of the same step can be
// compared: a step is replayed only when two traces agree entry by entry.
import type { FusedProgram, TypedArray, View } from '@webgrad/kernels';
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';

/** Where a buffer the tape refers to comes from. */
export type Role = 'input' | 'arena' | 'external';

/** One buffer the tape refers to. */
export interface Slot {
  readonly role: Role;
  /** The buffer the trace saw (for inputs: the traced call's; a replay patches the current one in). */
  readonly buffer: unknown;
  /** For inputs: the index of the tensor among the step's tensor arguments; otherwise -1. */
  readonly input: number;
  /** For inputs and external buffers: a stable name for keys (`i0`, `x12`). */
  readonly name: string;
}

/** One view inside an entry's arguments, with the buffer it names. */
export interface Ref {
  /** The (cloned) view object handed to the kernel; `buffer` is patched for inputs. */
  readonly view: View<unknown>;
  /** Index into `Tape.slots`. */
  readonly slot: number;
  /** For arena buffers: which allocation of the trace this is (a buffer is reused by later allocations); -1 otherwise. */
  readonly logical: number;
}

/** A kernel launch: `backend.kernels[name](...args)`. */
export interface KernelEntry {
  readonly kind: 'kernel';
  readonly backend: Backend;
  readonly name: string;
  readonly args: unknown[];
  readonly refs: readonly Ref[];
  /** For a random kernel drawing from the global generator: its offset relative to the generator's
   *  state when the call began (a replay draws from the generator's state then); otherwise null. */
  readonly rng: number | null;
}

/** A fusedElementwise launch built by fuse.ts from a chain of elementwise kernel entries. */
export interface FusedEntry {
  readonly kind: 'fused';
  readonly backend: Backend;
  readonly program: FusedProgram;
  readonly inputs: readonly View<unknown>[];
  readonly outs: readonly View<unknown>[];
  readonly refs: readonly Ref[];
  /** How many kernel entries it replaces. */
  readonly replaces: number;
}

/** Host data written into a buffer (a tensor made from JS values inside the step). */
export interface UploadEntry {
  readonly kind: 'upload';
  readonly backend: Backend;
  readonly dtype: View<unknown>['dtype'];
  readonly data: TypedArray;
  readonly refs: readonly Ref[];
}

/** A validation re-run on the host at every replay (`replayedCheck`): an index range check. */
export interface CheckEntry {
  readonly kind: 'check';
  readonly views: readonly View<unknown>[];
  readonly refs: readonly Ref[];
  readonly run: (views: readonly View<unknown>[]) => void;
}

/** A library call re-run eagerly at every replay (`hostAction`). */
export interface HostEntry {
  readonly kind: 'host';
  readonly name: string;
  readonly run: () => void;
}

/** One step of a replay. */
export type Entry = KernelEntry | FusedEntry | UploadEntry | CheckEntry | HostEntry;

/** What the step returned: a tensor (by its view), nothing, or arrays/records of those. */
export type OutputTemplate =
  | { readonly k: 'tensor'; readonly ref: Ref; readonly backend: Backend }
  | { readonly k: 'none'; readonly value: undefined | null }
  | { readonly k: 'list'; readonly items: readonly OutputTemplate[] }
  | { readonly k: 'record'; readonly fields: readonly (readonly [string, OutputTemplate])[] };

/**
 * A leaf whose `.grad` the traced backward set. A replay writes the gradient into the same arena
 * buffer but runs no autograd, so it hands the leaf that buffer again (a fresh tensor over it when
 * the user freed the last one, as `zeroGrad()` outside the step does). A backward that found no
 * gradient (`fresh`) cannot stand in for one that would add to an existing one: unless the step
 * itself clears the gradients (`clears`: it had one when the call began), a replay that finds one
 * runs eagerly instead.
 */
export interface LeafGrad {
  readonly leaf: Tensor;
  readonly fresh: boolean;
  clears: boolean;
  /** The gradient when the step returned (null: the step cleared it). */
  end: { readonly view: View<unknown>; readonly backend: Backend; readonly length: number; readonly tensor: Tensor } | null;
}

/** A finished trace. */
export interface Tape {
  /** Leaves whose grad the backward set. */
  readonly leaves: readonly LeafGrad[];
  entries: Entry[];
  /** Comparison keys, one per entry as traced (before fusion). */
  readonly keys: readonly EntryKey[];
  readonly slots: readonly Slot[];
  readonly output: OutputTemplate;
  /** Arena allocations still held by a tensor when the step returned (grads, outputs). */
  readonly liveAtEnd: ReadonlySet<number>;
  /** Arena allocations read by host actions (never fused away). */
  readonly hostRead: ReadonlySet<number>;
  /** External buffers the tape refers to (a replay needs them alive). */
  readonly externals: ReadonlySet<unknown>;
  /** Called when the tape is discarded (releases what host actions hold). */
  readonly disposers: (() => void)[];
  /** The traced call's offset of each tensor argument (a replay moves input views by the difference). */
  readonly inputOffsets: readonly number[];
  /** How far the call advanced the global generator's offset; or, when the call reseeded it, the state it left. */
  readonly rngAdvance: number | { readonly seed: number; readonly offset: number };
}

/** An entry's comparison key: its structure (numbers left out) and its numbers in order. */
export interface EntryKey {
  readonly what: string;
  readonly structure: string;
  readonly numbers: readonly number[];
}

/** Whether `x` has the shape of a kernel view. */
export function isView(x: unknown): x is View<unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const v = x as Partial<View<unknown>>;
  return 'buffer' in v && Array.isArray(v.shape) && Array.isArray(v.strides) && typeof v.offset === 'number' && typeof v.dtype === 'string';
}

/** The op an entry stands for in messages: `binaryScalar(mul)`, `matmul`, `host Adam.step`. */
export function describeEntry(e: Entry): string {
  switch (e.kind) {
    case 'kernel': return typeof e.args[0] === 'string' ? `${e.name}(${e.args[0]})` : e.name;
    case 'fused': return `fusedElementwise (${e.replaces} kernels)`;
    case 'upload': return 'an upload of host data';
    case 'check': return 'a validation';
    case 'host': return e.name;
  }
}

const sameNumber = (a: number, b: number): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b));

/** Why two traces' keys differ, or null when they agree. */
export function tapeMismatch(a: readonly EntryKey[], b: readonly EntryKey[]): string | null {
  for (const [i, x] of a.entries()) {
    const y = b[i];
    if (y === undefined) break;
    if (x.structure !== y.structure) {
      return x.what === y.what
        ? `the arguments of ${x.what} (entry ${i}) changed between calls (buffers, shapes or views differ)`
        : `the calls made different kernels between calls (entry ${i}: ${x.what}, then ${y.what})`;
    }
    for (const [j, p] of x.numbers.entries()) {
      const q = y.numbers[j];
      if (q === undefined || !sameNumber(p, q)) {
        return `the scalar argument of ${x.what} changed between calls (${p} → ${q}); pass it as a tensor`;
      }
    }
  }
  if (a.length !== b.length) return `the calls made a different number of device operations (${a.length}, then ${b.length})`;
  return null;
}

/** Run one entry as recorded; `rng` is the global generator's state when the replayed call began. */
export function runEntry(e: Entry, rng: { readonly seed: number; readonly offset: number }): void {
  switch (e.kind) {
    case 'kernel': {
      if (e.rng !== null) {
        const opts = e.args[1] as { seed: number; offset: number };
        opts.seed = rng.seed;
        opts.offset = rng.offset + e.rng;
      }
      const kernels = e.backend.kernels as unknown as Record<string, (...a: unknown[]) => void>;
      const kernel = kernels[e.name];
      if (kernel === undefined) throw new Error(`replay: the ${e.backend.name} backend has no kernel ${e.name}`);
      kernel.apply(kernels, e.args);
      return;
    }
    case 'fused': {
      const kernels = e.backend.kernels;
      if (kernels.fusedElementwise === undefined) throw new Error(`replay: the ${e.backend.name} backend has no fusedElementwise kernel`);
      kernels.fusedElementwise(e.program, e.inputs, e.outs);
      return;
    }
    case 'upload': {
      const [ref] = e.refs;
      if (ref === undefined) throw new Error('replay: an upload entry without its buffer');
      e.backend.upload(ref.view.buffer, e.data, e.dtype);
      return;
    }
    case 'check':
      e.run(e.views);
      return;
    case 'host':
      e.run();
      return;
  }
}
