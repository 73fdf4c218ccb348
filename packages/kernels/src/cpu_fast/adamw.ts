// The AdamW family of the fast cpu tier: one optimizer step over float32 contiguous param, grad and
// moments in WebAssembly (`adamw` in ../wasm/elementwise_program.ts), in place, threads taking
// element ranges of multiples of 4. Other dtypes (float16, bfloat16) and strided views take the
// reference (../cpu/adamw.ts).
//
// Arithmetic: float32 lanes (f32x4) with the WebGPU kernel's formula and order (webgpu/adamw.ts), as
// PyTorch's float32 Adam computes it; the constants c = lr·wd, β1, 1−β1, β2, 1−β2, bc1 = 1−β1^t,
// bc2 = 1−β2^t, lr, eps are computed here in float64 and rounded once to float32. The contract,
// tested bit for bit (wasm_adamw.test.ts): the result equals that formula with Math.fround after
// every operation and on every constant.
//
// Error against the float64 reference (../cpu/adamw.ts, rounded to float32 on store), per element,
// with u = 2⁻²⁴, A = β1·|m| + (1−β1)·|g| and S = lr·(A/bc1) / (√(v'/bc2) + eps) (the step with m'
// replaced by A; v' the new second moment). Each float32 operation and each rounded constant adds a
// relative error ≤ u; v's terms are never negative, the denominator's terms neither, and √ halves a
// relative error, which gives, to first order:
//   |v − v_ref| ≤ 5u·v'                      (≤ 5 float32 ulps)
//   |m − m_ref| ≤ 4u·A                       (≤ 4 ulps when m and g have the same sign or one is 0)
//   |p − p_ref| ≤ 16u·((1 + c)·|p| + S)     (a few ulps unless the step cancels most of p)
// provided no intermediate leaves float32's range: (1−β2)·g·g and v'/bc2 below 3.4e38 (beyond, v is
// +inf in both and this step leaves p unchanged where the reference still moves it), and v'/bc2 not
// subnormal unless eps dominates √(v'/bc2); subnormal results differ by at most a few 2⁻¹⁴⁹.

import { numel } from '../geometry.js';
import type { AdamWItem, AdamWOptions, TypedArray, View } from '../types.js';
import { ADAMW_PARAMS } from '../wasm/elementwise_program.js';
import { allF32Contiguous, inOutPtr, readPtr } from '../wasm/operands.js';
import { wasmRuntime, type WasmRuntime } from '../wasm/runtime.js';
import { FAST_CPU_CONFIG, partsFor, splitRange, threadsFor } from '../wasm/schedule.js';

type V = View<TypedArray>;

/** An item's operands placed in the memory: the `adamw` export's pointer arguments and hyperparameters, and the copy-backs. */
interface Placed { ptrs: number[]; n: number; params: number; done: () => void }

/** Places one fast-path item (all float32 contiguous, n > 0) in the memory; scratch from rt.alloc. */
function place(rt: WasmRuntime, param: V, grad: V, m: V, v: V, n: number, opts: AdamWOptions): Placed {
  // In place on param and moments.
  const [pw, mw, vw] = [param, m, v].map((x) => inOutPtr(rt, x, n)) as [{ addr: number; done: () => void }, { addr: number; done: () => void }, { addr: number; done: () => void }];
  const ptrs = [pw.addr, readPtr(rt, grad, n), mw.addr, vw.addr];
  const params = rt.alloc(ADAMW_PARAMS.length * 4);
  const { lr, beta1, beta2, eps, weightDecay, step } = opts;
  const consts: Record<(typeof ADAMW_PARAMS)[number], number> = {
    lrTimesWd: lr * weightDecay, beta1, oneMinusBeta1: 1 - beta1, beta2, oneMinusBeta2: 1 - beta2,
    bc1: 1 - Math.pow(beta1, step), bc2: 1 - Math.pow(beta2, step), lr, eps,
  };
  rt.f32().set(ADAMW_PARAMS.map((k) => consts[k]), params >> 2);
  return { ptrs, n, params, done: () => { pw.done(); mw.done(); vw.done(); } };
}

/**
 * Cuts each placed item into ranges of multiples of 4 elements (four per step: up to three padded
 * elements land in the blocks' slack), about `partsFor(threads)` ranges over all items together,
 * as `adamw` export calls.
 */
function calls(items: readonly Placed[], threads: number): number[][] {
  let total = 0;
  for (const it of items) total += it.n;
  const chunk = Math.max(4, Math.ceil(total / partsFor(threads) / 4) * 4);
  const out: number[][] = [];
  for (const it of items) {
    const padded = (it.n + 3) & ~3;
    for (const [lo, hi] of splitRange(padded, Math.ceil(padded / chunk), 4)) {
      if (hi > lo) out.push([...it.ptrs.map((p) => p + lo * 4), hi - lo, it.params]);
    }
  }
  return out;
}

const fastItem = (it: AdamWItem<TypedArray>): boolean => allF32Contiguous(it.param, it.grad, it.m, it.v);

// 7 streams, 3 divisions and a sqrt per 4 elements: ~3 binary ops' work per element.
const threadsForElements = (rt: WasmRuntime, n: number): number => threadsFor(rt, 3 * n, FAST_CPU_CONFIG.elementwiseParallelMin);

export function adamw(param: V, grad: V, m: V, v: V, opts: AdamWOptions): boolean {
  if (!allF32Contiguous(param, grad, m, v)) return false;
  const n = numel(param.shape);
  if (n === 0) return true;
  const rt = wasmRuntime();
  rt.reset();
  const it = place(rt, param, grad, m, v, n, opts);
  rt.parallel('adamw', 6, calls([it], threadsForElements(rt, n)));
  it.done();
  return true;
}

/**
 * `adamw` on every item with one fork of the threads for all of them: the items' element ranges
 * share one queue, so small tensors (biases, norms) no longer each pay a fork and join, and a
 * mid-sized one is split as finely as the whole step's work allows. Each element's arithmetic is
 * `adamw`'s, so results equal it bit for bit. Items off the fast path (16-bit, strided) take
 * `single` (the reference fallback) one by one afterwards.
 */
export function adamwMulti(items: readonly AdamWItem<TypedArray>[], single: (param: V, grad: V, m: V, v: V, opts: AdamWOptions) => void): void {
  const rt = wasmRuntime();
  rt.reset();
  const placed: Placed[] = [];
  const rest: AdamWItem<TypedArray>[] = [];
  let total = 0;
  for (const it of items) {
    if (!fastItem(it)) { rest.push(it); continue; }
    const n = numel(it.param.shape);
    if (n === 0) continue;
    placed.push(place(rt, it.param, it.grad, it.m, it.v, n, it.opts));
    total += n;
  }
  if (placed.length > 0) rt.parallel('adamw', 6, calls(placed, threadsForElements(rt, total)));
  for (const p of placed) p.done();
  for (const it of rest) single(it.param, it.grad, it.m, it.v, it.opts);
}
