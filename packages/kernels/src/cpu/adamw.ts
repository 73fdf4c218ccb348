// CPU reference for one in-place AdamW step (Loshchilov & Hutter, "Decoupled Weight Decay
// Regularization", 2019), exactly as torch.optim.AdamW computes it. With t = opts.step (1-based):
//   p ← p - lr·wd·p                        (decoupled weight decay, applied first)
//   m ← β1·m + (1-β1)·g
//   v ← β2·v + (1-β2)·g²
//   m̂ = m / (1 - β1^t),  v̂ = v / (1 - β2^t)
//   p ← p - lr · m̂ / (√v̂ + eps)
// Layout: param, grad, m, v have the same shape (contiguous from core; any strided view works).
// Each element is computed in float64 and param, m, v are stored back in their dtypes.

import type { AdamWItem, AdamWOptions, TypedArray, View } from '../types.js';
import { elementOffsets } from '../geometry.js';
import { readAll, writeAt } from './strided.js';

export function adamw(param: View<TypedArray>, grad: View<TypedArray>, m: View<TypedArray>, v: View<TypedArray>,
  opts: AdamWOptions): void {
  const { lr, beta1, beta2, eps, weightDecay, step } = opts;
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2 = 1 - Math.pow(beta2, step);
  const ps = readAll(param);
  const gs = readAll(grad);
  const ms = readAll(m);
  const vs = readAll(v);
  const pOff = elementOffsets(param);
  const mOff = elementOffsets(m);
  const vOff = elementOffsets(v);
  for (let i = 0; i < ps.length; i++) {
    const g = gs[i]!;
    let p = ps[i]! - lr * weightDecay * ps[i]!;
    const mi = beta1 * ms[i]! + (1 - beta1) * g;
    const vi = beta2 * vs[i]! + (1 - beta2) * g * g;
    p -= (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
    writeAt(param, pOff[i]!, p);
    writeAt(m, mOff[i]!, mi);
    writeAt(v, vOff[i]!, vi);
  }
}

/** `adamwMulti` of a kernel set whose multi-tensor step is its `adamw` on each item in turn (the cpu sets: one call per item costs nothing extra there). */
export function adamwEach<B>(adamw: (param: View<B>, grad: View<B>, m: View<B>, v: View<B>, opts: AdamWOptions) => void): (items: readonly AdamWItem<B>[]) => void {
  return (items) => { for (const it of items) adamw(it.param, it.grad, it.m, it.v, it.opts); };
}
