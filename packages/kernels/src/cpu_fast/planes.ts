// Running a WebAssembly plane kernel (conv.ts, avg_pool.ts) over the N·C planes of an image batch.
import type { WasmExport } from '../wasm/module.js';
import type { WasmRuntime } from '../wasm/runtime.js';
import { FAST_CPU_CONFIG, partsFor, splitRange, threadsFor } from '../wasm/schedule.js';

/**
 * Runs the plane kernel `name` over `planes` planes: `args(lo, hi)` is a part's argument tuple;
 * threads once `work` elements pay for them. Each thread's calls get its own `accBytes` of scratch
 * appended (a float64 accumulator plane; an ignored extra argument where 0).
 */
export function runPlanes(rt: WasmRuntime, name: WasmExport, planes: number, work: number,
  args: (lo: number, hi: number) => number[], accBytes = 0): void {
  if (planes === 0) return;
  const threads = Math.min(planes, threadsFor(rt, work, FAST_CPU_CONFIG.elementwiseParallelMin));
  const parts = splitRange(planes, Math.min(planes, partsFor(threads)), 1).filter(([lo, hi]) => hi > lo);
  const calls = parts.flatMap(([lo, hi]) => args(lo, hi));
  const scratch = accBytes > 0 ? rt.alloc(threads * accBytes) : 0;
  rt.parallelShared(name, calls.length / parts.length, calls, threads, Array.from({ length: threads }, (_, i) => scratch + i * accBytes));
}
