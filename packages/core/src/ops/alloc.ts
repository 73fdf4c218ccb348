// Helpers shared by op forwards: output allocation, kernel views, scalar operands.
import type { DType, View } from '@webgrad/kernels';
import type { Backend } from '../backend/backend.js';
import { DTypeError, fmtShape } from '../errors.js';
import { numel, type Shape } from '../shape.js';
import { Storage } from '../storage.js';
import { Tensor, type TensorLike } from '../tensor.js';

/** A fresh contiguous tensor on `backend`; its contents are undefined until written. */
export function empty(shape: Shape, dtype: DType, backend: Backend): Tensor {
  if (!backend.supports(dtype)) throw new DTypeError(`device '${backend.name}' does not support dtype ${dtype} (tensor of shape ${fmtShape(shape)})`);
  return new Tensor(Storage.allocate(backend, dtype, Math.max(numel(shape), 0)), shape, dtype);
}

/** A fresh contiguous tensor filled with zeros. */
export function zerosOn(shape: Shape, dtype: DType, backend: Backend): Tensor {
  const t = empty(shape, dtype, backend);
  backend.kernels.fill(t.view_(), 0);
  return t;
}

/** A kernel view of `t` broadcast (stride 0) to `shape`; `shape` must be a valid broadcast target. */
export function broadcastView(t: Tensor, shape: Shape): View<unknown> {
  const lead = shape.length - t.shape.length;
  if (lead === 0) {
    let same = true;
    for (let i = 0; i < shape.length && same; i++) same = shape[i] === t.shape[i];
    if (same) return { buffer: t.storage.buffer, dtype: t.dtype, shape, strides: t.strides, offset: t.offset };
  }
  const strides = shape.map((d, i) => {
    const j = i - lead;
    if (j < 0) return 0;
    return t.shape[j] === 1 && d !== 1 ? 0 : t.strides[j]!;
  });
  return { buffer: t.storage.buffer, dtype: t.dtype, shape, strides, offset: t.offset };
}

/** A 0-d tensor holding a JS number, on the same device as `like`. */
export function scalarTensor(value: number | boolean, dtype: DType, backend: Backend): Tensor {
  const t = empty([], dtype, backend);
  backend.kernels.fill(t.view_() as never, Number(value));
  return t;
}

export function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && (x as { __isTensor?: boolean }).__isTensor === true;
}

export type { TensorLike };
