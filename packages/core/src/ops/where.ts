// `where` (elementwise cond ? a : b, broadcasting all three) and the ops built on it: maskedFill, clamp.
import { promoteTypes, promoteWithScalar } from '../dtype.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { broadcastView, empty, isTensor, scalarTensor, zerosOn } from './alloc.js';
import { cast } from './cast.js';
import { apply, defineOp, type None } from './define.js';
import { maximum, minimum, mul } from './elementwise.js';
import { checkNumber, checkScalar, checkTensor } from '../validate.js';

export const WHERE = defineOp<[Tensor, Tensor, Tensor], None, { c: Tensor }>({
  name: 'where',
  forward: ([c, a, b], _attrs, save) => {
    const shape = broadcastShapes('where', c.shape, a.shape, b.shape);
    const out = empty(shape, a.dtype, a.backend);
    a.backend.kernels.where(broadcastView(c, shape), broadcastView(a, shape), broadcastView(b, shape), out.kernelView());
    save('c', c);
    return out;
  },
  backward: (g, { saved: { c }, needs }) => {
    const zero = zerosOn(g.shape, g.dtype, g.backend);
    return [null, needs[1] ? where(c, g, zero) : null, needs[2] ? where(c, zero, g) : null];
  },
  gradcheck: [{ inputs: [{ shape: [2, 3], int: { high: 2 } }, { shape: [2, 3] }, { shape: [3] }], call: (c, a, b) => where(c.gt(0), a, b) }],
});

/** Elementwise `cond ? a : b`, broadcasting all three. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  return whereAs('where', cond, a, b);
}

function whereAs(op: string, cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  checkTensor(op, 'condition', cond);
  if (!isTensor(a)) checkScalar(op, 'input', a);
  if (!isTensor(b)) checkScalar(op, 'other', b);
  const t = isTensor(a) && isTensor(b) ? promoteTypes(a.dtype, b.dtype)
    : isTensor(a) ? promoteWithScalar(a.dtype, b as number)
      : isTensor(b) ? promoteWithScalar(b.dtype, a as number) : 'float32';
  const backend = cond.backend;
  broadcastShapes(op, cond.shape, isTensor(a) ? a.shape : [], isTensor(b) ? b.shape : []); // before anything is allocated
  const c = cast(cond, 'bool');
  const ta = isTensor(a) ? cast(a, t) : scalarTensor(a, t, backend);
  const tb = isTensor(b) ? cast(b, t) : scalarTensor(b, t, backend);
  const out = apply(WHERE, [c, ta, tb], {});
  for (const [x, orig] of [[c, cond], [ta, a], [tb, b]] as const) if (x !== orig) x.dispose();
  return out;
}

/** `x` with `value` wherever `mask` is true. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  checkTensor('maskedFill', 'input', x);
  checkTensor('maskedFill', 'mask', mask);
  checkScalar('maskedFill', 'value', value);
  return whereAs('maskedFill', mask, value, x);
}

/** Clamp into [min, max]; either bound may be omitted. Gradient passes where the value is inside. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  checkTensor('clamp', 'input', x);
  if (min != null) checkNumber('clamp', 'min', min);
  if (max != null) checkNumber('clamp', 'max', max);
  let y = x;
  if (min !== undefined && min !== null) y = maximum(y, min);
  if (max !== undefined && max !== null) { const z = minimum(y, max); if (y !== x) y.dispose(); y = z; }
  return y === x ? mul(x, 1) : y;
}

/** This file's Tensor methods: `x.clamp(lo, hi)` is `clamp(x, lo, hi)`. */
export const WHERE_METHODS = { clamp, maskedFill };
