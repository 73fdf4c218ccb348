// compile(step): run a training step eagerly once, trace it twice, and from then on replay the
// recorded kernels without running the step's JavaScript (validation, tensor objects, autograd
// recording, kernel selection). Each input signature (the devices, dtypes, shapes, strides and
// offsets of the tensor arguments, the static arguments by value, grad mode and autocast) has its
// own tape and arena:
//
//   call 1   eager            optimizer state and lazily created buffers appear
//   call 2   trace            the tape is recorded while the step really computes
//   call 3   trace again      the two tapes must agree entry by entry, else eager from then on
//   call 4+  replay           input buffers patched in, entries run, outputs copied out
//
// Anything a replay could not repeat — a host read, a scalar that changes between calls, state
// carried by rebinding a tensor — makes that signature run eagerly, with one console warning that
// names the cause (a CompileError with `fullgraph: true`). A replay whose external buffers (the
// parameters, optimizer state) were freed since the trace traces again.
//
// Library state on the host: Optimizer.step and LrScheduler.step are host actions (trace.ts) that
// every replay repeats; random draws take their seed and offset from the global generator at every
// replay; index range checks on the cpu are re-run on every replay's indices (replayedCheck);
// GradientAccumulator over several micro-batches and ReduceLrOnPlateau.step refuse a trace
// (notTraceable); GradScaler reads its overflow flag on the host, which falls back like any host read.
import type { Backend, CapturedCommands } from '../backend/backend.js';
import { isGradEnabled } from '../autograd/grad_mode.js';
import { autocastDType } from '../autocast.js';
import { getDefaultDevice } from '../backend/registry.js';
import { empty, isTensor } from '../ops/alloc.js';
import { getRngState, setRngState } from '../ops/creation.js';
import { Tensor } from '../tensor.js';
import { Storage } from '../storage.js';
import { keep } from '../memory.js';
import { fmtShape } from '../errors.js';
import { checkFunction, checkOptions, fmtValue } from '../validate.js';
import { Arena, unwatchBuffer, watchBuffer, type FreeWatcher } from './arena.js';
import { CompileError } from './errors.js';
import { fuseTape } from './fuse.js';
import { fuseIndexEpilogues } from './fuse_index.js';
import { runEntry, tapeMismatch, type Entry, type LeafGrad, type OutputTemplate, type Ref, type Slot, type Tape } from './tape.js';
import { Tracer, isTracing } from './trace.js';

/** Options of `compile`. */
export interface CompileOptions {
  /** Throw a `CompileError` where the step cannot be replayed, instead of warning once and running it eagerly. Default false. */
  fullgraph?: boolean;
  /** The name in warnings and errors (default: the function's name). */
  name?: string;
  /** Fuse chains of elementwise kernels into one `fusedElementwise` launch where the device has it. Default true. */
  fuse?: boolean;
  /** Re-issue runs of kernels as captured device commands where the device can (`Backend.captureCommands`). Default true. */
  capture?: boolean;
}

/** Counters of a compiled function (`stats()`). */
export interface CompileStats {
  /** Calls of the compiled function. */
  calls: number;
  /** Calls that ran the step eagerly: the first call of each signature, and every call of one that fell back. */
  eagerCalls: number;
  /** Calls that were traced. */
  traces: number;
  /** Calls that replayed a tape. */
  replays: number;
  /** Signatures that fell back to eager mode (each warned once). */
  fallbacks: number;
  /** Replays refused because a buffer the tape uses had been freed (the call traced again). */
  retraces: number;
  /** Input signatures seen. */
  signatures: number;
  /** Device operations (kernels, uploads) per replay of the newest tape, before fusion. */
  kernelsBeforeFusion: number;
  /** The same after fusion. */
  kernelsAfterFusion: number;
  /** Host actions (optimizer and scheduler steps) per replay of the newest tape. */
  hostActions: number;
  /** Device commands held by captures (0 where the device has no capture). */
  capturedCommands: number;
  /** Bytes of the buffers the arenas own. */
  arenaBytes: number;
}

/** A compiled step: `fn`'s signature, plus its counters and a way to forget its traces. */
export type CompiledFunction<A extends unknown[], R> = ((...args: A) => R) & {
  /** The counters so far. */
  stats(): CompileStats;
  /** Forget every tape and free the arenas; the next call of each signature runs eagerly again. */
  reset(): void;
};

/** Replay state of a finished tape: which views take each call's input buffers, and the captures. */
interface Plan {
  /** Per tensor argument, the views whose buffer is that argument's, with their offset relative to the argument's. */
  readonly inputRefs: { readonly ref: Ref; readonly offset: number }[][];
  /** Entries grouped into runs: a capturable run of kernel entries, or a single entry. */
  readonly runs: Run[];
}
interface Run { readonly entries: Entry[]; readonly backend: Backend | null; capture: CapturedCommands | null }

class Signature implements FreeWatcher {
  seen = 0;
  tape: Tape | null = null;
  prev: Tape | null = null;
  plan: Plan | null = null;
  eager: string | null = null;
  stale = false;
  readonly arena = new Arena();
  constructor(readonly key: string) {}
  externalFreed(): void { this.stale = true; }
}

const ASYNC = Object.getPrototypeOf(async () => {}).constructor;

/** Input signatures one compiled function traces; calls with further ones run eagerly (each signature holds an arena). */
const MAX_SIGNATURES = 8;

/**
 * Compile a step (torch.compile / jax.jit for a training step): returns a function with `fn`'s
 * signature that, per input signature, runs `fn` eagerly once, traces it on the next two calls and
 * then replays the recorded device work without running `fn`'s JavaScript. `fn` must be
 * synchronous; its arguments are tensors and JSON values (models and optimizers are captured by the
 * closure); it returns a tensor, an array or record of tensors, or nothing — returned tensors are
 * fresh copies every call. Library calls that change host state (optimizer and scheduler steps)
 * repeat at every replay; random ops draw from the global generator as eager ones do. What a
 * replay cannot repeat (a host read such as `item()`, a scalar that changes between calls, state
 * carried by rebinding a tensor) makes that signature run eagerly after one warning, or throws a
 * `CompileError` with `fullgraph: true`. Host state the step reads without a tensor (a module's
 * `training` flag) is part of the trace: pass what changes as an argument.
 */
export function compile<A extends unknown[], R>(fn: (...args: A) => R, options: CompileOptions = {}): CompiledFunction<A, R> {
  checkFunction('compile', 'fn', fn);
  const o = checkOptions('compile', options, ['fullgraph', 'name', 'fuse', 'capture']);
  const name = o.name ?? (fn.name || 'fn');
  if (fn instanceof ASYNC) throw new CompileError(`compile(${name}): ${name} is an async function; compile takes a synchronous step (await reads outside it)`);
  const fullgraph = o.fullgraph ?? false;
  const sigs = new Map<string, Signature>();
  const stats = blankStats();
  let warnedSignatures = false;

  const fallback = (sig: Signature, cause: string): void => {
    const msg = `compile(${name}): ${cause}. This input signature runs eagerly from now on.`;
    sig.eager = msg;
    stats.fallbacks++;
    sig.arena.dispose();
    if (fullgraph) throw new CompileError(msg);
    console.warn(msg);
  };

  const call = (...args: A): R => {
    // Called while another compiled step traces: its kernels belong to that trace.
    if (isTracing()) return fn(...args);
    stats.calls++;
    const { key, inputs } = signatureOf(name, args);
    let sig = sigs.get(key);
    if (sig === undefined) {
      if (sigs.size >= MAX_SIGNATURES) {
        const msg = `compile(${name}): more than ${MAX_SIGNATURES} input signatures (devices, dtypes, shapes, strides of the tensor arguments and the other arguments' values); new ones run eagerly`;
        if (fullgraph) throw new CompileError(msg);
        if (!warnedSignatures) { warnedSignatures = true; console.warn(msg); }
        stats.eagerCalls++;
        return fn(...args);
      }
      sigs.set(key, (sig = new Signature(key)));
      stats.signatures++;
    }
    if (sig.eager !== null) {
      if (fullgraph) throw new CompileError(sig.eager);
      stats.eagerCalls++;
      return fn(...args);
    }
    if (sig.tape !== null && !sig.stale) {
      const held = sig.tape.leaves.find((l) => !l.clears && l.leaf.grad !== null && !l.leaf.grad.isDisposed && l.fresh);
      if (held === undefined) { stats.replays++; return replay(sig, inputs) as R; }
      discard(sig, sig.tape);
      sig.tape = null;
      sig.plan = null;
      fallback(sig, `a ${fmtShape(held.leaf.shape)} tensor${held.leaf.name ? ` (${held.leaf.name})` : ''} has a gradient when the call begins, which its backward would add to, but the traced calls began without one; clear the gradients (zeroGrad) before each call or inside the step`);
      stats.eagerCalls++;
      return fn(...args);
    }
    if (sig.tape !== null) {
      discard(sig, sig.tape);
      sig.tape = null;
      sig.plan = null;
      sig.stale = false;
      sig.seen = 1;
      stats.retraces++;
    }
    if (sig.seen === 0) {
      sig.seen = 1;
      stats.eagerCalls++;
      return fn(...args);
    }
    stats.traces++;
    // Which leaves had a gradient as the second trace begins: those the step clears itself.
    const hadGrad = new Set<Tensor>();
    if (sig.prev !== null) for (const l of sig.prev.leaves) if (l.leaf.grad !== null && !l.leaf.grad.isDisposed) hadGrad.add(l.leaf);
    const tracer = new Tracer(sig.arena, inputs);
    tracer.start();
    let result: R;
    try {
      result = fn(...args);
    } catch (e) {
      tracer.stop();
      tracer.unwatch();
      for (const d of tracer.disposers) d();
      throw e;
    }
    tracer.stop();
    if (result instanceof Promise) {
      tracer.unwatch();
      for (const d of tracer.disposers) d();
      sig.eager = `compile(${name}): ${name} returned a Promise; compile takes a synchronous step`;
      sig.arena.dispose();
      throw new CompileError(sig.eager);
    }
    const template = tracer.outputOf(result);
    const tape = template === null ? null : tracer.finish(template);
    tracer.unwatch();
    if (tape === null) {
      for (const d of tracer.disposers) d();
      if (tracer.cause === null) throw new Error(`compile(${name}): the trace stopped without a cause`);
      fallback(sig, tracer.cause);
      return result;
    }
    const value = copyOutputs(tape.output);
    disposeMadeBy(result, tracer.firstId);
    if (sig.prev === null) {
      sig.prev = tape;
      return value as R;
    }
    const mismatch = tapeMismatch(sig.prev.keys, tape.keys);
    discard(sig, sig.prev);
    sig.prev = null;
    if (mismatch !== null) {
      for (const d of tape.disposers.splice(0)) d();
      fallback(sig, mismatch);
      return value as R;
    }
    for (const l of tape.leaves) l.clears = l.fresh && hadGrad.has(l.leaf);
    for (const b of tape.externals) watchBuffer(b, sig);
    stats.kernelsBeforeFusion = deviceOps(tape.entries);
    if (o.fuse ?? true) { fuseIndexEpilogues(tape); fuseTape(tape); }
    stats.kernelsAfterFusion = deviceOps(tape.entries);
    stats.hostActions = tape.entries.filter((e) => e.kind === 'host').length;
    sig.arena.releaseUnused(referencedBuffers(tape));
    sig.tape = tape;
    sig.plan = planOf(tape, o.capture ?? true);
    return value as R;
  };

  const replay = (sig: Signature, inputs: readonly Tensor[]): unknown => {
    const { plan, tape } = sig;
    if (plan === null || tape === null) throw new Error(`compile(${name}): replay of a signature that has no tape`);
    for (const [i, refs] of plan.inputRefs.entries()) {
      const t = inputs[i];
      if (t === undefined) throw new Error(`compile(${name}): the replay has no tensor argument ${i}`);
      const buf = t.storage.buffer;
      for (const r of refs) { r.ref.view.buffer = buf; r.ref.view.offset = r.offset + t.offset; }
    }
    const rng = getRngState();
    for (const run of plan.runs) {
      if (run.capture !== null) { run.capture.replay(); continue; }
      if (run.backend !== null && run.backend.captureCommands) {
        run.capture = run.backend.captureCommands(() => { for (const e of run.entries) runEntry(e, rng); });
        stats.capturedCommands += run.capture.commands;
        continue;
      }
      for (const e of run.entries) runEntry(e, rng);
    }
    for (const l of tape.leaves) handBack(sig.arena, l);
    const a = tape.rngAdvance;
    if (typeof a !== 'number') setRngState(a);
    else if (a !== 0) setRngState({ seed: rng.seed, offset: rng.offset + a });
    return copyOutputs(tape.output);
  };

  const compiled = Object.assign(call, {
    stats: (): CompileStats => {
      let bytes = 0;
      for (const s of sigs.values()) bytes += s.arena.bytes;
      return { ...stats, arenaBytes: bytes };
    },
    reset: (): void => {
      disposeAll(sigs);
      Object.assign(stats, blankStats());
    },
  });
  collected.register(compiled, sigs);
  return compiled;
}

/** Release what a tape holds: host actions' tensors, the watches of its external buffers, its captures. */
function discard(sig: Signature, tape: Tape | null): void {
  if (tape === null) return;
  for (const d of tape.disposers.splice(0)) d();
  for (const b of tape.externals) unwatchBuffer(b, sig);
  if (sig.plan && tape === sig.tape) for (const r of sig.plan.runs) r.capture?.dispose();
}

function disposeAll(sigs: Map<string, Signature>): void {
  for (const s of sigs.values()) {
    discard(s, s.prev);
    discard(s, s.tape);
    s.arena.dispose();
  }
  sigs.clear();
}

/** A compiled function that is garbage-collected gives its arenas' buffers back to the devices. */
const collected = new FinalizationRegistry<Map<string, Signature>>(disposeAll);

function blankStats(): CompileStats {
  return {
    calls: 0, eagerCalls: 0, traces: 0, replays: 0, fallbacks: 0, retraces: 0, signatures: 0,
    kernelsBeforeFusion: 0, kernelsAfterFusion: 0, hostActions: 0, capturedCommands: 0, arenaBytes: 0,
  };
}

/** The signature key of a call, and its tensor arguments in order (depth first through arrays and records). */
function signatureOf(name: string, args: readonly unknown[]): { key: string; inputs: Tensor[] } {
  const inputs: Tensor[] = [];
  const parts: string[] = [];
  const visit = (x: unknown, where: string): void => {
    if (isTensor(x)) {
      inputs.push(x);
      parts.push(`T${inputs.length - 1}`);
    } else if (x === undefined) parts.push('u');
    else if (x === null || typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean') parts.push(typeof x === 'number' ? `n${Object.is(x, -0) ? '-0' : String(x)}` : JSON.stringify(x));
    else if (Array.isArray(x)) { parts.push('['); x.forEach((v, i) => visit(v, `${where}[${i}]`)); parts.push(']'); }
    else if (typeof x === 'object' && (Object.getPrototypeOf(x) === Object.prototype || Object.getPrototypeOf(x) === null)) {
      parts.push('{');
      for (const [k, v] of Object.entries(x)) { parts.push(JSON.stringify(k)); visit(v, `${where}.${k}`); }
      parts.push('}');
    } else {
      throw new CompileError(`compile(${name}): ${where} is ${fmtValue(x)}; a compiled step takes tensors and JSON values (numbers, strings, booleans, arrays, plain objects) — capture models and optimizers in the closure`);
    }
  };
  args.forEach((a, i) => visit(a, `argument ${i}`));
  // A tensor's offset in its storage is not part of the signature (a replay moves the views of a
  // slice that moves), unless two arguments share a storage: then where each lies is.
  inputs.forEach((x, i) => {
    const first = inputs.findIndex((t) => t.storage === x.storage);
    const shared = first !== i || inputs.some((t, j) => j > i && t.storage === x.storage);
    parts.push(`T${i}(${x.device},${x.dtype},${x.shape.join('x')},${x.strides.join(',')},${x.requiresGrad ? 'g' : ''}${shared ? `,${first},${x.offset}` : ''})`);
  });
  parts.push(`|grad=${isGradEnabled()}|autocast=${autocastDType()}|device=${getDefaultDevice()}`);
  return { key: parts.join(' '), inputs };
}

/** Give `l.leaf` its gradient buffer again, as a fresh tensor when the last one was freed (LeafGrad);
 *  nothing when the step left no gradient. */
function handBack(arena: Arena, l: LeafGrad): void {
  const end = l.end;
  if (end === null) return;
  const cur = l.leaf.grad;
  if (cur === end.tensor && !cur.isDisposed) return;
  if (cur !== null && !cur.isDisposed) {
    if (cur.storage.buffer === end.view.buffer) return;
    cur.dispose(); // the step clears it (l.clears), then its backward sets a new one
  }
  const v = end.view;
  arena.adopt(v.buffer);
  const t = new Tensor(new Storage(end.backend, v.buffer, v.dtype, end.length), v.shape, v.dtype, { strides: v.strides, offset: v.offset });
  l.leaf.grad = keep(t);
  l.end = { ...end, tensor: t };
}

/** Fresh tensors holding the outputs' current values. */
function copyOutputs(t: OutputTemplate): unknown {
  switch (t.k) {
    case 'none': return t.value;
    case 'tensor': {
      const v = t.ref.view;
      const out = empty(v.shape, v.dtype, t.backend, 'compile');
      t.backend.kernels.copy(v, out.kernelView());
      return out;
    }
    case 'list': return t.items.map(copyOutputs);
    case 'record': return Object.fromEntries(t.fields.map(([k, f]) => [k, copyOutputs(f)]));
  }
}

/** Dispose the returned tensors the traced call made (the caller gets copies). */
function disposeMadeBy(x: unknown, firstId: number): void {
  if (isTensor(x)) { if (x.id > firstId) x.dispose(); return; }
  if (Array.isArray(x)) { for (const v of x) disposeMadeBy(v, firstId); return; }
  if (typeof x === 'object' && x !== null) for (const v of Object.values(x)) disposeMadeBy(v, firstId);
}

function deviceOps(entries: readonly Entry[]): number {
  let n = 0;
  for (const e of entries) if (e.kind !== 'host' && e.kind !== 'check') n++;
  return n;
}

function outputRefs(t: OutputTemplate, out: Ref[]): Ref[] {
  if (t.k === 'tensor') out.push(t.ref);
  else if (t.k === 'list') for (const i of t.items) outputRefs(i, out);
  else if (t.k === 'record') for (const [, f] of t.fields) outputRefs(f, out);
  return out;
}

function referencedBuffers(tape: Tape): Set<unknown> {
  const s = new Set<unknown>();
  for (const e of tape.entries) if (e.kind !== 'host') for (const r of e.refs) s.add(r.view.buffer);
  for (const r of outputRefs(tape.output, [])) s.add(r.view.buffer);
  return s;
}

/** The slot `r` names in `tape`. */
function slotOf(tape: Tape, r: Ref): Slot {
  const s = tape.slots[r.slot];
  if (s === undefined) throw new Error(`compile: a view names slot ${r.slot}, which the tape does not have`);
  return s;
}

/** Which views take the input buffers, and the runs of entries a capture may re-issue. */
function planOf(tape: Tape, capture: boolean): Plan {
  const inputRefs: Plan['inputRefs'][number][] = [];
  const all = outputRefs(tape.output, []);
  for (const e of tape.entries) if (e.kind !== 'host') all.push(...e.refs);
  const seen = new Set<unknown>();
  for (const r of all) {
    const s = slotOf(tape, r);
    // A view object can be shared (a fused entry reuses its steps' views): patch each once.
    if (s.role !== 'input' || seen.has(r.view)) continue;
    seen.add(r.view);
    const inputOffset = tape.inputOffsets[s.input];
    if (inputOffset === undefined) throw new Error(`compile: the tape has no offset for tensor argument ${s.input}`);
    (inputRefs[s.input] ??= []).push({ ref: r, offset: r.view.offset - inputOffset });
  }
  for (let i = 0; i < inputRefs.length; i++) inputRefs[i] ??= [];
  // A capture freezes its buffers and uniforms: it may hold kernel launches (not random draws,
  // whose seed changes, nor views of the inputs, whose buffers change) on one device.
  const runs: Run[] = [];
  let cur: Run | null = null;
  for (const e of tape.entries) {
    const capturable = capture && (e.kind === 'kernel' || e.kind === 'fused') && !(e.kind === 'kernel' && e.rng !== null) &&
      e.backend.captureCommands !== undefined && e.refs.every((r) => slotOf(tape, r).role !== 'input');
    if (capturable && cur !== null && cur.backend === e.backend) { cur.entries.push(e); continue; }
    cur = capturable ? { entries: [e], backend: (e as { backend: Backend }).backend, capture: null } : null;
    runs.push(cur ?? { entries: [e], backend: null, capture: null });
  }
  return { inputRefs, runs };
}
