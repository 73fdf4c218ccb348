// Helpers shared by op forwards: output allocation, kernel views, scalar operands.
import { broadcastStrides, type DType, type View } from '@webgrad/kernels';
import type { Backend } from '../backend/backend.js';
import { DTypeError, OutOfMemoryError, fmtShape } from '../errors.js';
import type { Shape } from '../shape.js';
import { checkNumel } from '../validate.js';
import { Storage } from '../storage.js';
import { Tensor } from '../tensor.js';

/** A fresh contiguous tensor on `backend`; its contents are undefined until written. `op` names the
 *  op in errors (public ops check their sizes first, so these are a last line of defence). */
export function empty(shape: Shape, dtype: DType, backend: Backend, op = 'empty'): Tensor {
  if (!backend.supports(dtype)) throw new DTypeError(`${op}: device '${backend.name}' does not support dtype ${dtype} (tensor of shape ${fmtShape(shape)})`);
  const n = checkNumel(op, shape);
  let storage: Storage;
  try {
    storage = Storage.allocate(backend, dtype, Math.max(n, 0));
  } catch (e) {
    // A typed array the engine cannot allocate ("Array buffer allocation failed").
    if (e instanceof RangeError) throw new OutOfMemoryError(`${op}: could not allocate a ${dtype} tensor of shape ${fmtShape(shape)} on '${backend.name}' (${e.message})`);
    throw e;
  }
  return new Tensor(storage, shape, dtype);
}

/** A fresh contiguous tensor filled with zeros. */
export function zerosOn(shape: Shape, dtype: DType, backend: Backend): Tensor {
  const t = empty(shape, dtype, backend);
  backend.kernels.fill(t.kernelView(), 0);
  return t;
}

/** A kernel view of `t` broadcast (stride 0) to `shape`; `shape` must be a valid broadcast target. */
export function broadcastView(t: Tensor, shape: Shape): View<unknown> {
  const same = shape.length === t.shape.length && shape.every((d, i) => d === t.shape[i]);
  return { buffer: t.storage.buffer, dtype: t.dtype, shape, strides: same ? t.strides : broadcastStrides(t.shape, t.strides, shape), offset: t.offset };
}

/** A 0-d tensor holding a JS number, on the same device as `like`. */
export function scalarTensor(value: number | boolean, dtype: DType, backend: Backend): Tensor {
  const t = empty([], dtype, backend);
  backend.kernels.fill(t.kernelView(), Number(value));
  return t;
}

export function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && (x as { __isTensor?: boolean }).__isTensor === true;
}
