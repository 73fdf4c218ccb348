// The runtime of the fast CPU kernels: one WebAssembly instance of the kernel module over one memory
// (shared with the worker threads when the platform allows), a grow-only arena in that memory for
// operands and scratch, and the thread count.
//
// Memory layout: [0, CTL_BYTES) is the thread control block (threads.ts); the arena follows. A kernel
// call resets the arena, allocates what it needs (operand copies, packing buffers), copies its
// TypedArray operands in, runs, and copies the results out. The memory only ever grows, to the
// largest working set seen, so steady-state training allocates nothing per op.
//
// A shared memory's buffer is a SharedArrayBuffer that never detaches on growth, but each growth
// makes a new, longer one, so views are re-taken after allocating (`f32()` / `f64()`).

import { WASM_EXPORTS, WASM_IMPORTS, MAX_PAGES, buildKernelModule, type WasmExport } from './module.js';
import { CTL_BYTES, MAX_THREADS, ThreadPool, canShareMemory, defaultThreadCount, nodeModulesReady } from './threads.js';

const PAGE = 65536;

type ExportFn = (...args: number[]) => void;

export class WasmRuntime {
  readonly shared: boolean;
  readonly memory: WebAssembly.Memory;
  private readonly module: WebAssembly.Module;
  private readonly fns: ExportFn[];
  private pool: ThreadPool | null = null;
  private threads: number;
  private top = CTL_BYTES;
  private f32View: Float32Array;
  private f64View: Float64Array;

  constructor(opts: { threads?: number; shared?: boolean } = {}) {
    this.shared = (opts.shared ?? true) && canShareMemory();
    const initial = CTL_BYTES / PAGE + 16;
    this.memory = this.shared
      ? new WebAssembly.Memory({ initial, maximum: MAX_PAGES, shared: true })
      : new WebAssembly.Memory({ initial, maximum: MAX_PAGES });
    this.module = new WebAssembly.Module(buildKernelModule(this.shared) as BufferSource);
    const instance = new WebAssembly.Instance(this.module, { env: { memory: this.memory, ...WASM_IMPORTS } });
    this.fns = WASM_EXPORTS.map((n) => instance.exports[n] as ExportFn);
    this.threads = 1;
    this.f32View = new Float32Array(this.memory.buffer);
    this.f64View = new Float64Array(this.memory.buffer);
    this.setThreads(opts.threads ?? defaultThreadCount());
  }

  /** Threads kernels may use (1 where memory cannot be shared). */
  get numThreads(): number {
    return this.threads;
  }

  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads: expected a positive integer, got ${n}`);
    this.threads = this.shared ? Math.min(n, MAX_THREADS) : 1;
  }

  /** Resolves once the worker threads for the current thread count are running (optional in Node). */
  async ready(): Promise<void> {
    if (this.threads > 1) {
      this.poolFor(this.threads);
      await this.pool!.ready();
    }
  }

  // ---- arena -------------------------------------------------------------------------------------
  /** Forgets every allocation (call at the start of each kernel). */
  reset(): void {
    this.top = CTL_BYTES;
  }

  /** `bytes` of 16-byte-aligned arena memory (plus 16 bytes of slack for padded vector tails). */
  alloc(bytes: number): number {
    const addr = this.top;
    this.top = addr + ((bytes + 31) & ~15);
    const have = this.memory.buffer.byteLength;
    if (this.top > have) {
      if (this.top > MAX_PAGES * PAGE) throw new RangeError(`fast cpu kernels: working set of ${this.top} bytes exceeds 4 GiB`);
      // Grow geometrically so a slowly increasing working set grows the memory a few times only.
      const want = Math.min(MAX_PAGES, Math.max(Math.ceil(this.top / PAGE), Math.ceil((have * 1.5) / PAGE)));
      this.memory.grow(want - have / PAGE);
    }
    return addr;
  }

  f32(): Float32Array {
    if (this.f32View.byteLength !== this.memory.buffer.byteLength) this.f32View = new Float32Array(this.memory.buffer);
    return this.f32View;
  }

  f64(): Float64Array {
    if (this.f64View.byteLength !== this.memory.buffer.byteLength) this.f64View = new Float64Array(this.memory.buffer);
    return this.f64View;
  }

  // ---- running ------------------------------------------------------------------------------------
  /** Runs one export on this thread. */
  call(name: WasmExport, ...args: number[]): void {
    this.fns[WASM_EXPORTS.indexOf(name)]!(...args);
  }

  /**
   * Runs `name` once per argument tuple, tuples grouped by thread: perThread[t] is the flat list of
   * tuples (each `argc` numbers) for thread t; thread 0 is this one.
   */
  parallel(name: WasmExport, argc: number, perThread: number[][]): void {
    const idx = WASM_EXPORTS.indexOf(name);
    const fn = this.fns[idx]!;
    const callMain = (args: number[]) => fn(...args);
    const used = perThread.length;
    if (used <= 1 || !this.shared) {
      for (const list of perThread) for (let p = 0; p < list.length; p += argc) callMain(list.slice(p, p + argc));
      return;
    }
    this.poolFor(used).run(idx, argc, perThread, callMain);
  }

  /**
   * Runs `name` once per argument tuple of `calls` (argc numbers each) on up to `threads` threads
   * taking tuples from a shared queue; a tuple run on thread t gets tails[t] appended (per-thread
   * scratch). The schedule varies from run to run, so each call must write its own outputs only.
   */
  parallelShared(name: WasmExport, argc: number, calls: number[], threads: number, tails: readonly number[]): void {
    const idx = WASM_EXPORTS.indexOf(name);
    const fn = this.fns[idx]!;
    const callMain = (args: number[]) => fn(...args);
    if (threads <= 1 || !this.shared) {
      for (let p = 0; p < calls.length; p += argc) callMain([...calls.slice(p, p + argc), tails[0]!]);
      return;
    }
    this.poolFor(threads).runShared(idx, argc, calls, threads, tails, callMain);
  }

  private poolFor(threads: number): ThreadPool {
    if (!this.pool) this.pool = new ThreadPool(this.module, this.memory, WASM_EXPORTS);
    this.pool.ensureWorkers(threads - 1);
    return this.pool;
  }
}

let runtime: WasmRuntime | null = null;
let wantedThreads: number | null = null;

/** The process-wide runtime, created on first use. */
export function wasmRuntime(): WasmRuntime {
  if (!runtime) runtime = new WasmRuntime(wantedThreads === null ? {} : { threads: wantedThreads });
  return runtime;
}

// A runtime made before Node's worker modules finished loading is single-threaded; once they are
// loaded, the next kernel call gets a runtime that can share memory with workers.
void nodeModulesReady.then(() => {
  if (runtime && !runtime.shared && canShareMemory()) runtime = null;
});

/**
 * Sets how many threads the fast CPU kernels use (default: the cores available to the process, or
 * the WEBGRAD_CPU_THREADS environment variable). Results are deterministic for a given count.
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads: expected a positive integer, got ${n}`);
  wantedThreads = n;
  runtime?.setThreads(n);
}

/** Threads the fast CPU kernels use (1 where shared memory or blocking waits are unavailable). */
export function getNumThreads(): number {
  return wasmRuntime().numThreads;
}

/** Resolves once the CPU worker threads are running. Needed in browsers (workers start asynchronously); optional in Node. */
export async function startCpuThreads(): Promise<void> {
  await nodeModulesReady;
  await wasmRuntime().ready();
}
