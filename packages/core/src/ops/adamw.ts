// One AdamW step in place (Loshchilov & Hutter 2019, as torch.optim.AdamW): the parameter and both
// moment buffers updated from a gradient. A backend's fused `adamw` kernel does it in one call;
// without one, `adamwStepDecomposed_` does the same step with in-place tensor ops, and is the
// reference the fused kernel is tested against.
import type { AdamWOptions } from '@webgrad/kernels';
import { isGradEnabled } from '../autograd/grad_mode.js';
import { AutogradError, DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { tidy } from '../memory.js';
import { checkInt, checkOptions, checkRange, checkTensor } from '../validate.js';
import { cast, contiguous } from './cast.js';
import { checkInputs } from './define.js';
import { add_, copy_, mul_ } from './inplace.js';
import { add, div, mul, sub, sqrt } from './elementwise.js';

/** Hyperparameters of one fused AdamW step (`adamwStep_`): the kernel's `AdamWOptions`. */
export type AdamWStepOptions = AdamWOptions;

const KEYS = ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'step'];

/** The step's hyper-parameters and tensors, checked under `op` (also adamw_multi.ts's check of each item). */
export function checkStep(op: string, param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, opts: AdamWStepOptions): AdamWStepOptions {
  const o = checkOptions(op, opts, KEYS, 'opts');
  for (const k of ['lr', 'eps', 'weightDecay'] as const) checkRange(op, k, o[k], 0, Infinity);
  for (const k of ['beta1', 'beta2'] as const) checkRange(op, k, o[k], 0, 1, { hi: true });
  checkInt(op, 'step', o.step, { min: 1 });
  const named = [['param', param], ['grad', grad], ['expAvg', expAvg], ['expAvgSq', expAvgSq]] as const;
  for (const [name, t] of named) checkTensor(op, name, t);
  checkInputs(op, [param, grad, expAvg, expAvgSq]);
  if (param.dtype !== 'float32' && param.dtype !== 'float64') throw new DTypeError(`${op}: expected a floating-point param, got ${param.dtype} (shape ${fmtShape(param.shape)})`);
  for (const [name, t] of named) {
    if (!shapesEqual(t.shape, param.shape)) throw new ShapeError(`${op}: ${name} of shape ${fmtShape(t.shape)} does not match param ${fmtShape(param.shape)}`);
    if (name !== 'grad' && t.dtype !== param.dtype) throw new DTypeError(`${op}: ${name} is ${t.dtype}, the param ${param.dtype} (shape ${fmtShape(param.shape)})`);
    if (name !== 'grad' && !t.isContiguous()) throw new ValueError(`${op}: ${name} of shape ${fmtShape(t.shape)} is not contiguous; the step updates contiguous tensors in place`);
  }
  if (isGradEnabled() && [param, expAvg, expAvgSq].some((t) => t.requiresGrad)) {
    throw new AutogradError(`${op}: in-place change to a tensor that requires grad (param of shape ${fmtShape(param.shape)}${param.name ? `, ${param.name}` : ''}); wrap it in noGrad(() => ...)`);
  }
  if (new Set([param.storage, expAvg.storage, expAvgSq.storage]).size !== 3) throw new ValueError(`${op}: param, expAvg and expAvgSq must not share memory`);
  return o;
}

/**
 * One AdamW step, in place: `param`, `expAvg` (m) and `expAvgSq` (v) are updated from `grad`
 * (cast to the param's dtype if needed); `step` is the 1-based step count, for bias correction.
 * All four tensors have the param's shape; param, m and v are contiguous, of one float dtype, and
 * distinct. Returns `param`. Bumps the version of each tensor it writes.
 */
export function adamwStep_(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, opts: AdamWStepOptions): Tensor {
  return stepChecked(param, grad, expAvg, expAvgSq, checkStep('adamwStep_', param, grad, expAvg, expAvgSq, opts));
}

/** `adamwStep_` on checked arguments: the fused kernel, or the decomposition without it. */
export function stepChecked(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, o: AdamWStepOptions): Tensor {
  const kernels = param.backend.kernels;
  if (!kernels.adamw) return stepDecomposed(param, grad, expAvg, expAvgSq, o);
  const g = kernelGrad(param, grad);
  kernels.adamw(param.kernelView(), g.kernelView(), expAvg.kernelView(), expAvgSq.kernelView(), o);
  if (g !== grad) g.dispose();
  for (const t of [param, expAvg, expAvgSq]) t.storage.version++;
  return param;
}

/** The gradient as the kernels take it: contiguous, of the param's dtype (a new tensor the caller disposes, unless it is `grad`). */
export function kernelGrad(param: Tensor, grad: Tensor): Tensor {
  return grad.isContiguous() && grad.dtype === param.dtype ? grad : tidy(() => contiguous(cast(grad, param.dtype)));
}

/** The same step with in-place tensor ops: the fused kernel's reference, and its stand-in on a backend without it. */
export function adamwStepDecomposed_(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, opts: AdamWStepOptions): Tensor {
  return stepDecomposed(param, grad, expAvg, expAvgSq, checkStep('adamwStepDecomposed_', param, grad, expAvg, expAvgSq, opts));
}

function stepDecomposed(p: Tensor, grad: Tensor, m: Tensor, v: Tensor, o: AdamWStepOptions): Tensor {
  tidy(() => {
    const g = cast(grad, p.dtype);
    mul_(p, 1 - o.lr * o.weightDecay);
    add_(mul_(m, o.beta1), mul(g, 1 - o.beta1));
    add_(mul_(v, o.beta2), mul(mul(g, g), 1 - o.beta2));
    const mHat = div(m, 1 - o.beta1 ** o.step);
    const vHat = div(v, 1 - o.beta2 ** o.step);
    copy_(p, sub(p, mul(div(mHat, add(sqrt(vHat), o.eps)), o.lr)));
  });
  return p;
}
