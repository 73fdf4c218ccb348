// `where` with a float32 condition in WebAssembly (where_f32 in ../wasm/elementwise_program.ts):
// out = cond ≠ 0 ? a : b for contiguous float32 cond, a and out of one size and b either the same or
// a broadcast scalar — relu's backward, whose condition is relu's own output. Threads take element
// ranges once the size pays for them. Any other call returns false (the TypeScript loop runs).

import { isContiguous, numel } from '../geometry.js';
import type { TypedArray, View } from '../types.js';
import { isF32, readPtr, writePtr } from '../wasm/operands.js';
import { wasmRuntime } from '../wasm/runtime.js';
import { FAST_CPU_CONFIG, partsFor, splitRange, threadsFor } from '../wasm/schedule.js';

type V = View<TypedArray>;

export function whereF32(cond: V, a: V, b: V, out: V): boolean {
  if (!isF32(cond) || !isF32(a) || !isF32(b) || !isF32(out)) return false;
  if (!isContiguous(cond) || !isContiguous(a) || !isContiguous(out)) return false;
  const scalarB = b.strides.every((s) => s === 0);
  if (!scalarB && !isContiguous(b)) return false;
  const n = numel(out.shape);
  if (n === 0) return true;
  const rt = wasmRuntime();
  rt.reset();
  const cp = readPtr(rt, cond, n), ap = readPtr(rt, a, n);
  // A scalar b is read from a slot of its own, so writing out can never change it mid-kernel.
  let bp: number;
  if (scalarB) { bp = rt.alloc(4); rt.f32()[bp >> 2] = b.buffer[b.offset]!; } else bp = readPtr(rt, b, n);
  // Elementwise, so out may be cond, a or b itself; a partial overlap goes through scratch.
  const o = writePtr(rt, out, n, scalarB ? [[cp, n * 4], [ap, n * 4]] : [[cp, n * 4], [ap, n * 4], [bp, n * 4]], true);
  const threads = threadsFor(rt, n, FAST_CPU_CONFIG.elementwiseParallelMin);
  const parts = splitRange(n, partsFor(threads), 4).map(([lo, hi]) => (hi > lo
    ? [cp + lo * 4, ap + lo * 4, scalarB ? bp : bp + lo * 4, scalarB ? 0 : 1, o.addr + lo * 4, hi - lo] : []));
  rt.parallel('where_f32', 6, parts);
  o.done();
  return true;
}
