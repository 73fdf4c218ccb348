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
  const threads = threadsFor(rt, 3 * n, FAST_CPU_CONFIG.elementwiseParallelMin); // 7 streams, 3 divisions and a sqrt per 4 elements: ~3 binary ops' work
  // Four elements per step: up to three padded elements land in the blocks' slack.
  const padded = (n + 3) & ~3;
  const parts = splitRange(padded, partsFor(threads), 4).map(([lo, hi]) =>
    (hi > lo ? [...ptrs.map((p) => p + lo * 4), hi - lo, params] : []));
  rt.parallel('adamw', 6, parts);
  pw.done();
  mw.done();
  vw.done();
  return true;
}
