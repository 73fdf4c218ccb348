// The AdamW family of the fast cpu tier: one optimizer step over float32 contiguous param, grad and
// moments in WebAssembly (`adamw` in ../wasm/elementwise_program.ts: float64 lanes, the reference's
// operations in its order, so bit-identical to it), in place, threads taking element ranges.
// Other dtypes and layouts take the reference.

import { numel } from '../geometry.js';
import type { AdamWOptions, TypedArray, View } from '../types.js';
import { ADAMW_PARAMS } from '../wasm/elementwise_program.js';
import { allF32Contiguous, inOutPtr, readPtr } from '../wasm/operands.js';
import { wasmRuntime } from '../wasm/runtime.js';
import { FAST_CPU_CONFIG, partsFor, splitRange, threadsFor } from '../wasm/schedule.js';

type V = View<TypedArray>;

export function adamw(param: V, grad: V, m: V, v: V, opts: AdamWOptions): boolean {
  if (!allF32Contiguous(param, grad, m, v)) return false;
  const n = numel(param.shape);
  if (n === 0) return true;
  const rt = wasmRuntime();
  rt.reset();
  // In place on param and moments; the padded element of an odd n lands in the blocks' slack.
  const [pw, mw, vw] = [param, m, v].map((x) => inOutPtr(rt, x, n)) as [{ addr: number; done: () => void }, { addr: number; done: () => void }, { addr: number; done: () => void }];
  const ptrs = [pw.addr, readPtr(rt, grad, n), mw.addr, vw.addr];
  const params = rt.alloc(ADAMW_PARAMS.length * 8);
  const { lr, beta1, beta2, eps, weightDecay, step } = opts;
  const consts: Record<(typeof ADAMW_PARAMS)[number], number> = {
    lrTimesWd: lr * weightDecay, beta1, oneMinusBeta1: 1 - beta1, beta2, oneMinusBeta2: 1 - beta2,
    bc1: 1 - Math.pow(beta1, step), bc2: 1 - Math.pow(beta2, step), lr, eps,
  };
  rt.f64().set(ADAMW_PARAMS.map((k) => consts[k]), params >> 3);
  const threads = threadsFor(rt, 8 * n, FAST_CPU_CONFIG.elementwiseParallelMin); // ~8 copies' work per element (f64 divisions, sqrt)
  const padded = n + (n & 1);
  const parts = splitRange(padded, partsFor(threads), 2).map(([lo, hi]) =>
    (hi > lo ? [...ptrs.map((p) => p + lo * 4), hi - lo, params] : []));
  rt.parallel('adamw', 6, parts);
  pw.done();
  mw.done();
  vw.done();
  return true;
}
