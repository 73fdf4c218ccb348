// The runtime of the fast CPU kernels: one WebAssembly instance of the kernel module over one memory
// (shared with the worker threads when the platform allows), a heap in that memory for the `cpu`
// device's float32 tensors and for the kernels' scratch, and the thread count.
//
// Memory layout: [0, CTL_BYTES) is the thread control block (threads.ts); the heap follows. Blocks
// come in size classes (multiples of 64 bytes up to 4 KiB, then four classes per octave), each with
// at least 16 bytes of slack after the requested size — the vector loops may read and write up to
// three floats past the end of their range. A freed block goes to its class's free list and is
// reused by the next request of that class, so a training loop, which asks for the same sizes every
// step, stops growing the memory after its first step. The memory only grows (WebAssembly memory
// cannot shrink).
//
// Tensors in the heap: with shared memory (threads), the `cpu` device allocates float32 tensors here
// (`tensorArray`), and kernels hand their addresses straight to WebAssembly instead of copying them
// in and out. A shared memory's buffer never detaches when it grows (each growth makes a new, longer
// SharedArrayBuffer over the same bytes), so a tensor's Float32Array stays valid; `addressOf`
// recognises arrays over any of those buffers. Without shared memory, growth would detach every
// view, so tensors stay ordinary arrays and kernels copy them into scratch.
//
// Scratch: a kernel calls `reset()` (which frees the previous kernel's scratch blocks) and then
// `alloc()` for its operand copies and packing buffers; views are re-taken after allocating
// (`f32()` / `f64()`) since an allocation may grow the memory.

import { WASM_EXPORTS, WASM_IMPORTS, MAX_PAGES, buildKernelModule, type WasmExport } from './module.js';
import { defaultUseFma } from './relaxed_simd.js';
import { CTL_BYTES, MAX_THREADS, ThreadPool, canShareMemory, defaultThreadCount, nodeModulesReady } from './threads.js';

const PAGE = 65536;

/** The size class of a block of `bytes`: a multiple of 64 up to 4 KiB, then 2^k·{1, 1.25, 1.5, 1.75}. */
function blockSize(bytes: number): number {
  if (bytes <= 4096) return Math.ceil(bytes / 64) * 64;
  const k = Math.floor(Math.log2(bytes));
  const step = 2 ** (k - 2);
  return Math.ceil(bytes / step) * step;
}

type ExportFn = (...args: number[]) => void;

/** A tensor array's heap block; `live` until the array is freed or collected. */
interface TensorBlock { readonly addr: number; readonly bytes: number; live: boolean }

/** Each export's index in WASM_EXPORTS (the thread protocol's name for it). */
const EXPORT_INDEX = new Map<string, number>(WASM_EXPORTS.map((n, i) => [n, i]));

/** The fast cpu kernels' WebAssembly instance: its memory and heap (tensors and scratch), and the worker threads that share it. See the file header for the memory layout. */
export class WasmRuntime {
  /** Whether the memory is shared with worker threads (needs SharedArrayBuffer); without it kernels run on one thread and copy operands in. */
  readonly shared: boolean;
  /** Whether the matmul micro-kernel uses fused multiply-adds (relaxed SIMD). */
  readonly fma: boolean;
  /** The instance's memory: the thread control block, then the heap. It only grows. */
  readonly memory: WebAssembly.Memory;
  private readonly module: WebAssembly.Module;
  private readonly fns: ExportFn[];
  private pool: ThreadPool | null = null;
  private threads: number;
  /** First byte never handed out. */
  private top = CTL_BYTES;
  private readonly freeLists = new Map<number, number[]>();
  private scratch: number[] = [];
  /** Every buffer object the memory has had (one per growth), to recognise arrays over it. */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private heapBytes = 0;
  private f32View: Float32Array;
  private f64View: Float64Array;

  constructor(opts: { threads?: number; shared?: boolean; fma?: boolean } = {}) {
    this.shared = (opts.shared ?? true) && canShareMemory();
    this.fma = opts.fma ?? defaultUseFma();
    const initial = CTL_BYTES / PAGE + 16;
    this.memory = this.shared
      ? new WebAssembly.Memory({ initial, maximum: MAX_PAGES, shared: true })
      : new WebAssembly.Memory({ initial, maximum: MAX_PAGES });
    this.module = new WebAssembly.Module(buildKernelModule(this.shared, { fma: this.fma }) as BufferSource);
    const instance = new WebAssembly.Instance(this.module, { env: { memory: this.memory, ...WASM_IMPORTS } });
    this.fns = WASM_EXPORTS.map((n) => instance.exports[n] as ExportFn);
    this.threads = 1;
    this.f32View = new Float32Array(this.memory.buffer);
    this.f64View = new Float64Array(this.memory.buffer);
    this.buffers.add(this.memory.buffer);
    this.setThreads(opts.threads ?? defaultThreadCount());
  }

  /** Threads kernels may use (1 where memory cannot be shared). */
  get numThreads(): number {
    return this.threads;
  }

  /** Threads kernels may use (capped, and 1 without shared memory); a RangeError unless `n` is a positive integer. */
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

  // ---- heap ---------------------------------------------------------------------------------------
  /** A block of at least `bytes` + 16 bytes, 64-byte aligned; its address. */
  malloc(bytes: number): number {
    const size = blockSize(bytes + 16);
    const list = this.freeLists.get(size);
    if (list && list.length > 0) {
      this.heapBytes += size;
      return list.pop()!;
    }
    const addr = this.top;
    const end = addr + size;
    if (end > MAX_PAGES * PAGE) throw new RangeError(`fast cpu kernels: ${end} bytes of WebAssembly memory would exceed 4 GiB`);
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      // Grow geometrically so a slowly increasing working set grows the memory a few times only.
      const want = Math.min(MAX_PAGES, Math.max(Math.ceil(end / PAGE), Math.ceil((have * 1.5) / PAGE)));
      this.memory.grow(want - have / PAGE);
      this.buffers.add(this.memory.buffer);
    }
    this.top = end;
    this.heapBytes += size;
    return addr;
  }

  /** Returns a block from `malloc(bytes)` to its free list. */
  free(addr: number, bytes: number): void {
    const size = blockSize(bytes + 16);
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    list.push(addr);
    this.heapBytes -= size;
  }

  /** Frees the previous kernel's scratch blocks (call at the start of each kernel). */
  reset(): void {
    for (let i = 0; i < this.scratch.length; i += 2) this.free(this.scratch[i]!, this.scratch[i + 1]!);
    this.scratch.length = 0;
  }

  /** `bytes` of scratch for the current kernel (plus 16 bytes of slack), freed by the next reset. */
  alloc(bytes: number): number {
    const addr = this.malloc(bytes);
    this.scratch.push(addr, bytes);
    return addr;
  }

  /** Bytes of the memory in use by blocks (tensors and scratch), and the memory's size. */
  heapStats(): {
    /** Bytes in blocks handed out. */
    usedBytes: number;
    /** Size of the memory. */
    memoryBytes: number;
  } {
    return { usedBytes: this.heapBytes, memoryBytes: this.memory.buffer.byteLength };
  }

  /**
   * A Float32Array of `length` elements in the heap (a tensor's storage), or null where memory is
   * not shared (growth would detach it) or the heap is full. Its contents are whatever the block
   * last held: kernels write every element of their outputs, and zeros()/full() fill explicitly
   * (clearing every new tensor cost a training step more than its elementwise ops). Release it with
   * `freeTensorArray`; one the garbage collector reclaims first frees its block then.
   *
   * A training step frees and allocates the same lengths every step, and a freed block goes back
   * to its class's free list, so the next request of that length usually gets the same block: then
   * the block's previous array object is handed out again (`spare`), which saves making a view of
   * the shared buffer and registering it with the finalizer (both cost more than the allocation).
   */
  tensorArray(length: number): Float32Array | null {
    if (!this.shared) return null;
    let addr: number;
    try {
      addr = this.malloc(length * 4);
    } catch {
      return null;
    }
    let arr = this.spare.get(addr);
    if (arr !== undefined) {
      this.spare.delete(addr);
      const block = arr.length === length ? this.blocks.get(arr) : undefined;
      if (block !== undefined) block.live = true;
      else arr = undefined;
    }
    if (arr === undefined) {
      arr = new Float32Array(this.memory.buffer, addr, length);
      const block: TensorBlock = { addr, bytes: length * 4, live: true };
      this.blocks.set(arr, block);
      this.finalizer.register(arr, block);
    }
    if (poisonNewArrays) arr.fill(NaN);
    return arr;
  }

  /** Return a `tensorArray` block to its size class's free list (once; a second call does nothing). */
  freeTensorArray(arr: Float32Array): void {
    const block = this.blocks.get(arr);
    if (block === undefined || !block.live) return;
    block.live = false;
    this.free(block.addr, block.bytes);
    this.spare.set(block.addr, arr);
  }

  /** Each tensor array's block; the finalizer frees a block whose array was never freed (still live). */
  private readonly blocks = new WeakMap<Float32Array, TensorBlock>();
  /** The array object each freed tensor block had last, by address (see `tensorArray`). */
  private readonly spare = new Map<number, Float32Array>();
  private readonly finalizer = new FinalizationRegistry<TensorBlock>((block) => {
    if (!block.live) return;
    block.live = false;
    this.free(block.addr, block.bytes);
  });

  /** The byte address of `arr`'s first element when it lives in this memory, else −1. */
  addressOf(arr: { buffer: ArrayBufferLike; byteOffset: number }): number {
    return this.buffers.has(arr.buffer) ? arr.byteOffset : -1;
  }

  /** A float32 view of the whole memory, re-taken when the memory has grown; take it again after any allocation. */
  f32(): Float32Array {
    if (this.f32View.byteLength !== this.memory.buffer.byteLength) this.f32View = new Float32Array(this.memory.buffer);
    return this.f32View;
  }

  /** A float64 view of the whole memory, re-taken when the memory has grown; take it again after any allocation. */
  f64(): Float64Array {
    if (this.f64View.byteLength !== this.memory.buffer.byteLength) this.f64View = new Float64Array(this.memory.buffer);
    return this.f64View;
  }

  // ---- running ------------------------------------------------------------------------------------
  /** Runs one export on this thread. */
  call(name: WasmExport, ...args: number[]): void {
    this.fns[EXPORT_INDEX.get(name)!]!(...args);
  }

  /**
   * Runs `name` once per argument tuple in `parts` (each `argc` numbers; empty parts are skipped)
   * on up to the runtime's thread count, the caller included. Each tuple must write its own outputs
   * only; kernels cut their work into a few parts per thread (`partsFor` in schedule.ts).
   */
  parallel(name: WasmExport, argc: number, parts: number[][]): void {
    let n = 0;
    for (const p of parts) if (p.length > 0) n++;
    if (n <= 1 || !this.shared || this.threads <= 1) {
      const fn = this.fns[EXPORT_INDEX.get(name)!]!;
      for (const p of parts) if (p.length > 0) fn.apply(null, p);
      return;
    }
    // The parts share one queue, so a thread that is held up (by the OS, by another process) takes
    // fewer of them. The appended per-thread argument is not a parameter of these exports (ignored).
    this.parallelShared(name, argc, parts.filter((p) => p.length > 0).flat(), Math.min(this.threads, n), NO_TAILS);
  }

  /**
   * Runs `name` once per argument tuple of `calls` (argc numbers each) on up to `threads` threads
   * taking tuples from a shared queue; a tuple run on thread t gets tails[t] appended (per-thread
   * scratch). The schedule varies from run to run, so each call must write its own outputs only.
   */
  parallelShared(name: WasmExport, argc: number, calls: number[], threads: number, tails: readonly number[]): void {
    const idx = EXPORT_INDEX.get(name)!;
    const fn = this.fns[idx]!;
    if (threads <= 1 || !this.shared) {
      const args = new Array<number>(argc + 1);
      args[argc] = tails[0]!;
      for (let p = 0; p < calls.length; p += argc) {
        for (let a = 0; a < argc; a++) args[a] = calls[p + a]!;
        fn.apply(null, args);
      }
      return;
    }
    this.poolFor(threads).runShared(idx, argc, calls, threads, tails, (args) => fn.apply(null, args));
  }

  private poolFor(threads: number): ThreadPool {
    if (!this.pool) this.pool = new ThreadPool(this.module, this.memory, WASM_EXPORTS);
    this.pool.ensureWorkers(threads - 1);
    return this.pool;
  }
}

/** Per-thread trailing arguments for exports that take none. */
const NO_TAILS: readonly number[] = new Array<number>(MAX_THREADS).fill(0);

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

const owners = new WeakMap<Float32Array, WasmRuntime>();
let poisonNewArrays = false;

/** Testing aid: fill every new tensor array with NaN, so a kernel that leaves part of its output
 *  unwritten shows up as NaN instead of passing on a lucky zero. */
export function setPoisonNewArrays(on: boolean): void {
  poisonNewArrays = on;
}

/**
 * An uninitialised float32 array in the fast kernels' WebAssembly memory, for a `cpu` tensor's storage
 * (kernels then read and write it in place), or null where that is not possible (no shared memory,
 * or the 4 GiB heap is full): use an ordinary array then.
 */
export function allocTensorArray(length: number): Float32Array | null {
  const rt = wasmRuntime();
  const arr = rt.tensorArray(length);
  if (arr) owners.set(arr, rt);
  return arr;
}

/** Frees an array from `allocTensorArray`; false (and nothing done) for any other array. */
export function releaseTensorArray(arr: ArrayBufferView): boolean {
  const rt = owners.get(arr as Float32Array);
  if (!rt) return false;
  owners.delete(arr as Float32Array);
  rt.freeTensorArray(arr as Float32Array);
  return true;
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
