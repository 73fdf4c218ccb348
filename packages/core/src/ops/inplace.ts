// In-place writes, for optimizers and initializers: copy_, fill_, zero_, add_, sub_, mul_, div_.
// They bump the storage's version counter (so autograd can detect a changed saved tensor) and are
// never recorded: on a tensor that requires grad they are only allowed under noGrad().
import type { BinaryOp } from '@webgrad/kernels';
import { isGradEnabled } from '../autograd/grad_mode.js';
import { AutogradError, fmtShape } from '../errors.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { broadcastShapes, shapesEqual } from '../shape.js';
import { broadcastView, isTensor, scalarTensor } from './alloc.js';
import { checkInputs } from './define.js';
import { binary } from './binary.js';
import { ShapeError } from '../errors.js';

function guard(op: string, t: Tensor, others: Tensor[] = []): void {
  checkInputs(op, [t, ...others]);
  if (isGradEnabled() && t.requiresGrad) {
    throw new AutogradError(`${op}: in-place change to a tensor that requires grad (shape ${fmtShape(t.shape)}${t.name ? `, ${t.name}` : ''}); wrap it in noGrad(() => ...)`);
  }
}

/** Copy `src` (broadcast to this shape, any dtype) into `t`. Returns t. */
export function copy_(t: Tensor, src: Tensor): Tensor {
  guard('copy_', t, [src]);
  const shape = broadcastShapes('copy_', t.shape, src.shape);
  if (!shapesEqual(shape, t.shape)) throw new ShapeError(`copy_: source ${fmtShape(src.shape)} cannot be broadcast to destination ${fmtShape(t.shape)}`);
  t.backend.kernels.copy(broadcastView(src, t.shape), t.view_());
  t.storage.version++;
  return t;
}

export function fill_(t: Tensor, value: number): Tensor {
  guard('fill_', t);
  if (t.isContiguous()) t.backend.kernels.fill(t.view_(), value);
  else {
    const s = scalarTensor(value, t.dtype, t.backend);
    t.backend.kernels.copy(broadcastView(s, t.shape), t.view_());
    s.dispose();
  }
  t.storage.version++;
  return t;
}

export const zero_ = (t: Tensor): Tensor => fill_(t, 0);

function binary_(op: BinaryOp, t: Tensor, other: TensorLike): Tensor {
  guard(`${op}_`, t, isTensor(other) ? [other] : []);
  const o = isTensor(other) ? other : scalarTensor(other, t.dtype, t.backend);
  const shape = broadcastShapes(`${op}_`, t.shape, o.shape);
  if (!shapesEqual(shape, t.shape)) throw new ShapeError(`${op}_: operand ${fmtShape(o.shape)} cannot be broadcast to the destination ${fmtShape(t.shape)}`);
  if (t.isContiguous() && o.dtype === t.dtype) {
    // Elementwise kernels read and write each element in the same thread, so out may alias `t`.
    t.backend.kernels.binary(op, t.view_(), broadcastView(o, t.shape), t.view_());
  } else {
    const r = binary(op, t, o);
    t.backend.kernels.copy(r.view_(), t.view_());
    r.dispose();
  }
  if (o !== other) o.dispose();
  t.storage.version++;
  return t;
}

export const add_ = (t: Tensor, o: TensorLike) => binary_('add', t, o);
export const sub_ = (t: Tensor, o: TensorLike) => binary_('sub', t, o);
export const mul_ = (t: Tensor, o: TensorLike) => binary_('mul', t, o);
export const div_ = (t: Tensor, o: TensorLike) => binary_('div', t, o);
