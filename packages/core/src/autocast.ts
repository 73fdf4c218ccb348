// Automatic mixed precision, like torch.autocast: inside `autocast({ dtype }, fn)` the ops of
// AUTOCAST_POLICY cast their floating-point inputs before computing. 'lower' ops (the matrix
// products, where 16-bit operands halve the memory traffic and the kernels accumulate in float32
// or wider) take the scope's 16-bit dtype; 'float32' ops (reductions, softmax, norms, exp/log/pow,
// losses: where float16's range or precision loses the result) take float32. Every other op runs
// in the dtype its inputs promote to, as outside a scope. float64 tensors are never cast.
//
// The casts are ordinary graph nodes, so gradients flow back through them: a float32 parameter
// used by a 'lower' op receives a float32 gradient (the cast's backward casts up), and an
// optimizer holding float32 master weights never sees a 16-bit tensor. Backward passes run with
// autocast off (the engine's backward computes each gradient in the dtype its forward ran in).
import type { DType } from '@webgrad/kernels';
import { cast } from './ops/cast.js';
import type { Tensor } from './tensor.js';
import { checkBool, checkEnum, checkFunction, checkOptions } from './validate.js';

/** The 16-bit dtypes an autocast scope computes its 'lower' ops in. */
export type AutocastDType = 'float16' | 'bfloat16';

/** Options of `autocast` (torch.autocast's `dtype` and `enabled`). */
export interface AutocastOptions {
  /** The dtype of the 'lower' ops (default 'float16'). */
  dtype?: AutocastDType;
  /** false runs `fn` with autocast off, also inside an enclosing scope (default true). */
  enabled?: boolean;
}

/** What an op does with its floating-point inputs inside an autocast scope. */
export type AutocastCast = 'lower' | 'float32';

/**
 * The autocast policy: PyTorch's CUDA lists, "lower_precision_fp" → 'lower' and "fp32" /
 * "fp32_set_opt_dtype" → 'float32', for the ops of this library. Linear layers are a `matmul`
 * followed by the bias add, which promotes the 16-bit product with a float32 bias to float32.
 * mean, var and std are on the float32 list here (PyTorch leaves them out and accumulates in
 * float32 inside the kernel; these are computed from sums and products).
 */
export const AUTOCAST_POLICY: Readonly<Record<string, AutocastCast>> = Object.freeze({
  matmul: 'lower',
  scaledDotProductAttention: 'lower',
  packedSelfAttention: 'lower',
  conv2d: 'lower',

  sum: 'float32',
  prod: 'float32',
  mean: 'float32',
  var: 'float32',
  std: 'float32',
  logsumexp: 'float32',
  softmax: 'float32',
  logSoftmax: 'float32',
  layerNorm: 'float32',
  exp: 'float32',
  expm1: 'float32',
  log: 'float32',
  log1p: 'float32',
  pow: 'float32',
  rsqrt: 'float32',
  reciprocal: 'float32',
  softplus: 'float32',
  crossEntropy: 'float32',
  nllLoss: 'float32',
  mseLoss: 'float32',
  l1Loss: 'float32',
  binaryCrossEntropy: 'float32',
  bceWithLogits: 'float32',
  klDiv: 'float32',
});

const AUTOCAST_DTYPES: readonly AutocastDType[] = ['float16', 'bfloat16'];

/** The dtype of the innermost enabled scope, or null (no scope, or `enabled: false`). */
let active: AutocastDType | null = null;

/** The 16-bit dtype of the autocast scope in effect, or null outside one. */
export function autocastDType(): AutocastDType | null {
  return active;
}

/** Whether an autocast scope is in effect. */
export function isAutocastEnabled(): boolean {
  return active !== null;
}

/**
 * Run `fn` with autocast set by `opts` (like `torch.autocast`); returns what `fn` returns. Scopes
 * nest (the innermost wins; `enabled: false` turns autocast off inside an enabled scope). The
 * state belongs to the call stack, as noGrad's does: with an async `fn` it holds until the
 * returned promise settles, so do not interleave other work that must run without it.
 */
export function autocast<T>(opts: AutocastOptions, fn: () => T): T {
  checkOptions('autocast', opts, ['dtype', 'enabled']);
  const dtype = opts.dtype === undefined ? 'float16' : checkEnum('autocast', 'dtype', opts.dtype, AUTOCAST_DTYPES);
  const enabled = opts.enabled === undefined ? true : checkBool('autocast', 'enabled', opts.enabled);
  checkFunction('autocast', 'fn', fn);
  return withAutocast(enabled ? dtype : null, fn);
}

/** Set the autocast state (null: off) and return the previous one, for code that restores it itself (the backward engine). */
export function swapAutocastDType(state: AutocastDType | null): AutocastDType | null {
  const prev = active;
  active = state;
  return prev;
}

/** Run `fn` with the autocast state `state` (null: off), restoring the previous state afterwards. */
export function withAutocast<T>(state: AutocastDType | null, fn: () => T): T {
  const prev = active;
  active = state;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    active = prev;
    throw e;
  }
  if (result instanceof Promise) return result.finally(() => { active = prev; }) as T;
  active = prev;
  return result;
}

/** The dtype a floating-point input of `op` is computed in: `dtype` itself unless a scope is active and the policy lists `op`. */
export function autocastTarget(op: string, dtype: DType): DType {
  if (active === null) return dtype;
  const rule = AUTOCAST_POLICY[op];
  if (rule === undefined) return dtype;
  if (rule === 'lower') return dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16' ? active : dtype;
  return dtype === 'float16' || dtype === 'bfloat16' ? 'float32' : dtype;
}

/** `x` cast as the policy says for `op` (the same tensor when nothing changes). The cast is a graph node. */
export function autocastInput(op: string, x: Tensor): Tensor {
  if (active === null) return x;
  const t = autocastTarget(op, x.dtype);
  return t === x.dtype ? x : cast(x, t);
}

/** `autocastInput` of each tensor; null and undefined pass through. */
export function autocastInputs<T extends readonly (Tensor | null | undefined)[]>(op: string, ...xs: T): T {
  if (active === null) return xs;
  return xs.map((x) => (x ? autocastInput(op, x) : x)) as unknown as T;
}
