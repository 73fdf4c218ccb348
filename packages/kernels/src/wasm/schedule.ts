// How the fast cpu kernels cut their work across threads: when a kernel goes parallel
// (`FAST_CPU_CONFIG`, `threadsFor`), into how many parts (`partsFor`), and the ranges themselves
// (`splitRange`, `rowSplit`). The decision depends on the shapes and the thread count only, and
// which thread computes a part never changes how it is computed (threads.ts), so results do not
// depend on the schedule.

import type { WasmRuntime } from './runtime.js';

/**
 * When work is split across threads. Waking the workers costs ~10–50 µs, so small kernels stay on
 * the calling thread. Tests set both to 0 to push every shape through the threaded paths.
 */
export const FAST_CPU_CONFIG = {
  /** Multiply-adds below which a matmul runs on one thread (above: a thread per half of this; `threadsFor`). */
  matmulParallelMin: 1 << 20,
  /** Elements below which a memory-bound kernel runs on one thread (above: a thread per half of this). */
  elementwiseParallelMin: 1 << 17,
};

/**
 * Threads for a kernel of `work` units whose threshold for going parallel is `min`: one below it;
 * above it, one per min/2 units of work, up to all of them. So a thread never gets less than half
 * the work that made threading pay, and on many cores a mid-sized kernel wakes a few workers
 * rather than every one for slivers of work (on two cores nothing changes: work ≥ min means two).
 */
export function threadsFor(rt: WasmRuntime, work: number, min: number): number {
  if (work < min) return 1;
  if (min <= 0) return rt.numThreads;
  return Math.max(1, Math.min(rt.numThreads, Math.floor(work / (min / 2))));
}

/**
 * How many parts a parallel kernel cuts its work into: four per thread, so that threads take them
 * from a shared queue and one held up by the OS delays the kernel by a part, not by half of it.
 */
export const partsFor = (threads: number): number => (threads > 1 ? 4 * threads : 1);

/** Splits [0, n) into `parts` ranges whose starts are multiples of `align` (some may be empty). */
export function splitRange(n: number, parts: number, align: number): [number, number][] {
  const out: [number, number][] = [];
  let prev = 0;
  for (let i = 1; i <= parts; i++) {
    const end = i === parts ? n : Math.min(n, Math.round((i * n) / parts / align) * align);
    out.push([prev, Math.max(prev, end)]);
    prev = Math.max(prev, end);
  }
  return out;
}

/** Row ranges (`partsFor` the threads a rows×cols kernel uses) for a row kernel. */
export function rowSplit(rt: WasmRuntime, rows: number, cols: number): [number, number][] {
  const threads = threadsFor(rt, rows * cols, FAST_CPU_CONFIG.elementwiseParallelMin);
  return splitRange(rows, Math.min(rows, partsFor(threads)), 1);
}
