// The thread pool behind the fast CPU kernels: worker threads (Node `worker_threads`, or Web Workers
// in a browser) that each instantiate the kernel module over the same shared WebAssembly.Memory and
// sleep on a futex until the calling thread hands them work.
//
// Kernels are synchronous (the `KernelSet` contract), so a parallel kernel is fork–join inside one
// call (`runShared`): the calling thread writes the kernel's export calls into a queue in the
// control block and wakes the workers; every thread, the caller included, takes the next call (an
// atomic counter) until none is left — so a thread that is slowed down (by the OS, by another
// process) takes fewer — and the caller then blocks in `Atomics.wait` until the last worker that
// started has finished. A worker that has not started by the time the queue is empty (asleep, or
// not yet scheduled on a busy machine) is withdrawn from the fork instead of waited for: its slot's
// state goes from ASSIGNED to CANCELLED or to RUNNING, whichever thread swaps it first, and a
// cancelled worker, when it wakes, goes back to waiting without touching the queue. Each call gets
// the running thread's own `tail` argument appended (its scratch memory), since which thread runs
// it is not known in advance. How the work is cut into calls is decided by
// the caller from the shapes and the thread count, and which thread runs a call never changes what
// it computes, so results do not depend on the schedule.
//
// Control block: the first CTL_BYTES of the memory, as Int32 words.
//   word 0: PENDING — workers still running the current fork (the caller waits on it)
//   word 1: ERROR   — set non-zero by a worker whose call threw (the caller rethrows)
//   word 2: READY   — workers that have instantiated the module
//   word 3: NEXT    — the shared queue's next call;  word 4: TOTAL — calls in the queue
//   slot t (1 ≤ t < MAX_THREADS), at word t·SLOT_WORDS: [seq, export index, argc, tail argument, state]
//   (state: IDLE, ASSIGNED by the caller with the fork, RUNNING once the worker took it, or CANCELLED)
//   the shared queue, at word QUEUE: the calls' arguments, argc per call
// A worker waits for its `seq` to change, swaps its state from ASSIGNED to RUNNING (or, cancelled,
// waits again), takes calls from the queue, sets its state IDLE, then decrements PENDING and
// wakes the caller.
//
// Blocking the calling thread is allowed in Node and inside Web Workers, not on a browser's main
// thread; there, and wherever SharedArrayBuffer is unavailable (a page that is not cross-origin
// isolated), the kernels run on one thread.

export const MAX_THREADS = 64;
const SLOT_WORDS = 16; // one 64-byte cache line per worker
const HEADER = 3; // seq, export index, argc; then the tail argument
const STATE = HEADER + 1; // the slot's state word
const IDLE = 0;
const ASSIGNED = 1;
const RUNNING = 2;
const CANCELLED = 3;
const QUEUE = MAX_THREADS * SLOT_WORDS;
const QUEUE_WORDS = 16384;
export const CTL_BYTES = (QUEUE + QUEUE_WORDS) * 4;
const PENDING = 0;
const ERROR = 1;
const READY = 2;
const NEXT = 3;
const TOTAL = 4;
/** How long a thread polls for the next fork (worker) or the join (caller) before sleeping. */
const SPIN_MS = 0.2;

/**
 * The worker's code, plain JavaScript so that it runs as-is from a string (`eval: true` in Node, a
 * Blob URL in browsers): instantiate, then loop forever running calls when woken.
 */
const WORKER_SOURCE = `
'use strict';
function start(d) {
  const inst = new WebAssembly.Instance(d.module, { env: { memory: d.memory, log: Math.log } });
  const fns = d.names.map((n) => inst.exports[n]);
  const ctl = new Int32Array(d.memory.buffer, 0, d.ctlWords);
  const base = d.slot * d.slotWords;
  Atomics.add(ctl, ${READY}, 1);
  let seen = 0;
  for (;;) {
    // Poll for a while before sleeping: a fork usually follows the last one within microseconds,
    // and a futex wake-up costs tens of them.
    const until = performance.now() + d.spinMs;
    while (Atomics.load(ctl, base) === seen && performance.now() < until);
    Atomics.wait(ctl, base, seen);
    const seq = Atomics.load(ctl, base);
    if (seq === seen) continue;
    seen = seq;
    // The caller ran this fork's share already and withdrew this worker: nothing to do.
    if (Atomics.compareExchange(ctl, base + ${STATE}, ${ASSIGNED}, ${RUNNING}) !== ${ASSIGNED}) continue;
    try {
      const fn = fns[ctl[base + 1]], argc = ctl[base + 2];
      const args = new Array(argc + 1);
      args[argc] = ctl[base + ${HEADER}];
      for (let i = Atomics.add(ctl, ${NEXT}, 1); i < ctl[${TOTAL}]; i = Atomics.add(ctl, ${NEXT}, 1)) {
        for (let a = 0, p = ${QUEUE} + i * argc; a < argc; a++) args[a] = ctl[p + a];
        fn.apply(null, args);
      }
    } catch (e) {
      Atomics.store(ctl, ${ERROR}, 1);
    }
    Atomics.store(ctl, base + ${STATE}, ${IDLE});
    if (Atomics.sub(ctl, ${PENDING}, 1) === 1) Atomics.notify(ctl, ${PENDING});
  }
}
if (typeof process !== 'undefined' && process.versions && process.versions.node) {
  start(require('node:worker_threads').workerData);
} else {
  self.onmessage = (e) => start(e.data);
}
`;

type NodeWorkers = typeof import('node:worker_threads');
interface WorkerLike { terminate(): unknown }

/**
 * Node's worker_threads and os modules, or null outside Node. They are loaded without a static
 * import (so browsers can bundle this file): synchronously through `process.getBuiltinModule`
 * where Node has it (20.16+, 22.3+), else by a dynamic import without a top-level await (which
 * breaks bundles with import cycles) — until that lands, kernels simply run on the calling thread;
 * results are identical for every thread count.
 */
let nodeWorkers: NodeWorkers | null = null;
let nodeOs: typeof import('node:os') | null = null;
const isNode = typeof process !== 'undefined' && !!process.versions?.node;
const getBuiltin = isNode ? (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule : undefined;
if (getBuiltin) {
  nodeWorkers = getBuiltin('node:worker_threads') as NodeWorkers;
  nodeOs = getBuiltin('node:os') as typeof import('node:os');
}
/** Resolves once the Node modules are loaded (immediately elsewhere). */
export const nodeModulesReady: Promise<void> = isNode && !getBuiltin
  ? Promise.all([
    import(/* @vite-ignore */ 'node:worker_threads').then((m) => { nodeWorkers = m as NodeWorkers; }, () => {}),
    import(/* @vite-ignore */ 'node:os').then((m) => { nodeOs = m as typeof import('node:os'); }, () => {}),
  ]).then(() => {})
  : Promise.resolve();

/** Whether this thread may block in Atomics.wait (Node, or a Web Worker). */
function canBlock(): boolean {
  if (nodeWorkers) return true;
  return typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
}

/** Whether workers can share memory with this thread at all. */
export function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  if (!nodeWorkers && !(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated) return false;
  if (!nodeWorkers && typeof Worker === 'undefined') return false;
  return canBlock();
}

/** The default thread count: the cores this process may use. */
export function defaultThreadCount(): number {
  const fromEnv = typeof process !== 'undefined' ? Number(process.env?.WEBGRAD_CPU_THREADS) : NaN;
  if (Number.isInteger(fromEnv) && fromEnv >= 1) return Math.min(fromEnv, MAX_THREADS);
  let n = 1;
  if (nodeOs) n = typeof nodeOs.availableParallelism === 'function' ? nodeOs.availableParallelism() : nodeOs.cpus().length;
  else if (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) n = navigator.hardwareConcurrency;
  return Math.max(1, Math.min(n, MAX_THREADS));
}

export class ThreadPool {
  private readonly workers: WorkerLike[] = [];
  private readonly ctl: Int32Array;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    private readonly names: readonly string[],
  ) {
    this.ctl = new Int32Array(memory.buffer, 0, CTL_BYTES / 4);
  }

  /** Workers started so far (the calling thread is not counted). */
  get workerCount(): number {
    return this.workers.length;
  }

  /** Starts workers until there are `n` (for `n + 1` threads in all). */
  ensureWorkers(n: number): void {
    while (this.workers.length < Math.min(n, MAX_THREADS - 1)) {
      const slot = this.workers.length + 1;
      Atomics.store(this.ctl, slot * SLOT_WORDS, 0); // a fresh worker starts from seq 0
      Atomics.store(this.ctl, slot * SLOT_WORDS + STATE, IDLE);
      const data = {
        module: this.module, memory: this.memory, names: this.names, slot,
        slotWords: SLOT_WORDS, ctlWords: CTL_BYTES / 4, spinMs: SPIN_MS,
      };
      if (nodeWorkers) {
        const w = new nodeWorkers.Worker(WORKER_SOURCE, { eval: true, workerData: data });
        w.unref(); // an idle pool never keeps the process alive
        this.workers.push(w);
      } else {
        const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
        const w = new Worker(url);
        w.postMessage(data);
        this.workers.push(w);
      }
    }
  }

  /** Resolves once every started worker has instantiated the module (browsers should await this once). */
  async ready(): Promise<void> {
    while (Atomics.load(this.ctl, READY) < this.workers.length) await new Promise((r) => setTimeout(r, 1));
  }

  /**
   * Runs export `fn` once per call of `calls` (argc numbers each) on `threads` threads (this one and
   * threads − 1 workers) that take calls from a shared queue; each call gets the running thread's
   * tail argument, tails[t], appended. Returns when all are done.
   */
  runShared(fn: number, argc: number, calls: readonly number[], threads: number, tails: readonly number[],
    callMain: (args: number[]) => void): void {
    const ctl = this.ctl;
    const cap = Math.floor(QUEUE_WORDS / argc) * argc;
    for (let lo = 0; lo < calls.length; lo += cap) {
      const part = calls.slice(lo, lo + cap);
      ctl.set(part, QUEUE);
      Atomics.store(ctl, TOTAL, part.length / argc);
      Atomics.store(ctl, NEXT, 0);
      const workers = Math.min(threads - 1, this.workers.length);
      Atomics.store(ctl, PENDING, workers);
      for (let t = 1; t <= workers; t++) {
        const base = t * SLOT_WORDS;
        ctl[base + 1] = fn;
        ctl[base + 2] = argc;
        ctl[base + HEADER] = tails[t]!;
        Atomics.store(ctl, base + STATE, ASSIGNED);
        Atomics.add(ctl, base, 1);
        Atomics.notify(ctl, base, 1);
      }
      try {
        const args = new Array<number>(argc + 1);
        args[argc] = tails[0]!;
        for (let i = Atomics.add(ctl, NEXT, 1); i < part.length / argc; i = Atomics.add(ctl, NEXT, 1)) {
          for (let a = 0; a < argc; a++) args[a] = ctl[QUEUE + i * argc + a]!;
          callMain(args);
        }
      } finally {
        this.join(workers);
      }
      this.checkError(fn);
    }
  }

  /** Withdraws the fork's workers that have not started (the queue is empty by now), then waits
   *  until the ones that did are done. Those usually finish within microseconds of this thread:
   *  poll first, then sleep. */
  private join(workers: number): void {
    const ctl = this.ctl;
    for (let t = 1; t <= workers; t++) {
      if (Atomics.compareExchange(ctl, t * SLOT_WORDS + STATE, ASSIGNED, CANCELLED) === ASSIGNED) Atomics.sub(ctl, PENDING, 1);
    }
    const until = performance.now() + SPIN_MS;
    while (Atomics.load(ctl, PENDING) !== 0 && performance.now() < until);
    for (let v = Atomics.load(ctl, PENDING); v !== 0; v = Atomics.load(ctl, PENDING)) Atomics.wait(ctl, PENDING, v);
  }

  private checkError(fn: number): void {
    if (Atomics.load(this.ctl, ERROR) !== 0) {
      Atomics.store(this.ctl, ERROR, 0);
      throw new Error(`fast cpu kernels: a worker thread failed running '${this.names[fn]}'`);
    }
  }

  terminate(): void {
    for (const w of this.workers.splice(0)) w.terminate();
  }
}
