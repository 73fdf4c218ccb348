// In-place writes, for optimizers and initializers: copy_, fill_, zero_, add_, sub_, mul_, div_.
// They bump the storage's version counter (so autograd can detect a changed saved tensor) and are
// never recorded: on a tensor that requires grad they are only allowed under noGrad().
import type { BinaryOp, DType } from '@webgrad/kernels';
import { isGradEnabled } from '../autograd/grad_mode.js';
import { isFloat } from '../dtype.js';
import { AutogradError, DTypeError, ValueError, fmtShape } from '../errors.js';
import { disposeOnThrow } from '../memory.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { broadcastShapes, shapesEqual } from '../shape.js';
import { broadcastView, isTensor, scalarTensor } from './alloc.js';
import { checkInputs } from './define.js';
import { ShapeError } from '../errors.js';
import { checkScalar, checkTensor } from '../validate.js';
import { binary, operandType } from './elementwise.js';

function guard(op: string, t: Tensor, others: Tensor[] = []): void {
  checkTensor(op, 'input', t);
  others.forEach((o) => checkTensor(op, 'other', o));
  checkInputs(op, [t, ...others]);
  if (isGradEnabled() && t.requiresGrad) {
    throw new AutogradError(`${op}: in-place change to a tensor that requires grad (shape ${fmtShape(t.shape)}${t.name ? `, ${t.name}` : ''}); wrap it in noGrad(() => ...)`);
  }
}

/** Whether the dims of size > 1, ordered by stride, tile one gap-free block (a permuted contiguous layout). */
function isDense(t: Tensor): boolean {
  const dims = t.shape.map((n, i) => [n, t.strides[i]] as const).filter(([n]) => n > 1).sort((a, b) => a[1] - b[1]);
  let expected = 1;
  for (const [n, s] of dims) {
    if (s !== expected) return false;
    expected *= n;
  }
  return true;
}

/**
 * PyTorch's rules for a write into `t` that reads `src`: `t` may not be an expanded view (several
 * of its elements at one address), and `src` may share `t`'s memory only exactly (same elements,
 * same layout), not in part — else the result would depend on the order elements are written.
 */
function checkOverlap(op: string, t: Tensor, src: Tensor | null): void {
  if (t.shape.some((n, i) => n > 1 && t.strides[i] === 0)) {
    throw new ValueError(`${op}: the destination of shape ${fmtShape(t.shape)} is an expanded view (strides ${fmtShape(t.strides)}): several of its elements share one memory location; clone() it first`);
  }
  if (!src || src.storage !== t.storage || t.size === 0 || src.size === 0 || !isDense(t) || !isDense(src)) return;
  if (src.offset === t.offset && src.size === t.size && shapesEqual(src.strides, t.strides)) return;
  if (src.offset < t.offset + t.size && t.offset < src.offset + src.size) {
    throw new ValueError(`${op}: the operand of shape ${fmtShape(src.shape)} and the destination of shape ${fmtShape(t.shape)} partly overlap in memory; clone() the operand first`);
  }
}

/** Whether a value of dtype `from` may be written into `to` in place (torch.can_cast): not float → integer/bool, not integer → bool. */
function canCast(from: DType, to: DType): boolean {
  if (isFloat(from)) return isFloat(to);
  return from !== 'int32' || to !== 'bool';
}

/** Copy `src` (broadcast to this shape, any dtype) into `t`. Returns t. */
export function copy_(t: Tensor, src: Tensor): Tensor {
  guard('copy_', t, [src]);
  checkOverlap('copy_', t, src);
  const shape = broadcastShapes('copy_', t.shape, src.shape);
  if (!shapesEqual(shape, t.shape)) throw new ShapeError(`copy_: source ${fmtShape(src.shape)} cannot be broadcast to destination ${fmtShape(t.shape)}`);
  t.backend.kernels.copy(broadcastView(src, t.shape), t.kernelView());
  t.storage.version++;
  return t;
}

/** Fill `t` with `value` in place and return it (torch.Tensor.fill_); on a tensor that requires grad, outside `noGrad`, an AutogradError. */
export function fill_(t: Tensor, value: number): Tensor {
  guard('fill_', t);
  checkScalar('fill_', 'value', value);
  if (t.isContiguous()) t.backend.kernels.fill(t.kernelView(), value);
  else {
    const s = scalarTensor(value, t.dtype, t.backend);
    t.backend.kernels.copy(broadcastView(s, t.shape), t.kernelView());
    s.dispose();
  }
  t.storage.version++;
  return t;
}

/** Fill `t` with 0 in place and return it (torch.Tensor.zero_). */
export const zero_ = (t: Tensor): Tensor => fill_(t, 0);

function binary_(op: BinaryOp, t: Tensor, other: TensorLike): Tensor {
  const name = `${op}_`;
  if (!isTensor(other)) checkScalar(name, 'other', other);
  guard(name, t, isTensor(other) ? [other] : []);
  const result = operandType(op, t, other);
  if (!canCast(result, t.dtype)) {
    const operand = isTensor(other) ? `a ${other.dtype} tensor of shape ${fmtShape(other.shape)}` : `the number ${other}`;
    throw new DTypeError(`${name}: the result type ${result} of ${t.dtype} ${op} ${operand} can't be cast to the destination's dtype ${t.dtype} (shape ${fmtShape(t.shape)}); use the out-of-place ${op}()`);
  }
  const oShape = isTensor(other) ? other.shape : [];
  const shape = broadcastShapes(name, t.shape, oShape);
  if (!shapesEqual(shape, t.shape)) throw new ShapeError(`${name}: operand ${fmtShape(oShape)} cannot be broadcast to the destination ${fmtShape(t.shape)}`);
  checkOverlap(name, t, isTensor(other) ? other : null);
  return disposeOnThrow(() => binaryInPlace(op, t, other));
}

function binaryInPlace(op: BinaryOp, t: Tensor, other: TensorLike): Tensor {
  const o = isTensor(other) ? other : scalarTensor(other, t.dtype, t.backend);
  if (t.isContiguous() && o.dtype === t.dtype) {
    // Elementwise kernels read and write each element in the same thread, so out may alias `t`.
    t.backend.kernels.binary(op, t.kernelView(), broadcastView(o, t.shape), t.kernelView());
  } else {
    const r = binary(op, t, o);
    t.backend.kernels.copy(r.kernelView(), t.kernelView());
    r.dispose();
  }
  if (o !== other) o.dispose();
  t.storage.version++;
  return t;
}

/** `t += o` in place (torch.Tensor.add_); `o` broadcasts to `t`'s shape, and the result is cast to `t`'s dtype. */
export const add_ = (t: Tensor, o: TensorLike) => binary_('add', t, o);
/** `t −= o` in place (torch.Tensor.sub_); `o` broadcasts to `t`'s shape. */
export const sub_ = (t: Tensor, o: TensorLike) => binary_('sub', t, o);
/** `t *= o` in place (torch.Tensor.mul_); `o` broadcasts to `t`'s shape. */
export const mul_ = (t: Tensor, o: TensorLike) => binary_('mul', t, o);
/** `t /= o` in place (torch.Tensor.div_); `o` broadcasts to `t`'s shape. */
export const div_ = (t: Tensor, o: TensorLike) => binary_('div', t, o);

/** This file's Tensor methods: `x.add_(y)` is `add_(x, y)`. */
export const INPLACE_METHODS = { copy_, fill_, zero_, add_, sub_, mul_, div_ };
