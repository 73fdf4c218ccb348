// cast (dtype conversion) and contiguous (materialize a strided view): both run the copy kernel.
import type { DType } from '@webgrad/kernels';
import { isFloat } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { empty } from './alloc.js';
import { apply, defineOp } from './define.js';
import { checkDType, checkTensor } from '../validate.js';

export const CAST = defineOp<[Tensor], { dtype: DType }>({
  name: 'cast',
  forward: ([x], { dtype }) => {
    const out = empty(x.shape, dtype, x.backend);
    x.backend.kernels.copy(x.kernelView(), out.kernelView());
    return out;
  },
  backward: (g, { inputs: [x] }) => [isFloat(x.dtype) ? cast(g, x.dtype) : null],
});

/** A tensor of `dtype` (the same tensor object when it already has it — no copy). */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensor('cast', 'input', x);
  if (x.dtype === dtype) return x;
  checkDType('cast', dtype);
  return apply(CAST, [x], { dtype });
}

export const CONTIGUOUS = defineOp<[Tensor]>({
  name: 'contiguous',
  forward: ([x]) => {
    const out = empty(x.shape, x.dtype, x.backend);
    x.backend.kernels.copy(x.kernelView(), out.kernelView());
    return out;
  },
  backward: (g) => [g],
  gradcheck: [{ inputs: [{ shape: [3, 4] }], call: (x) => contiguous(x.transpose(0, 1)) }],
});

/** A contiguous copy, or `x` itself when it already is contiguous (as in PyTorch). */
export function contiguous(x: Tensor): Tensor {
  if (checkTensor('contiguous', 'input', x).isContiguous()) return x;
  return apply(CONTIGUOUS, [x], {});
}

/** A contiguous copy that never shares storage with `x`. */
export function clone(x: Tensor): Tensor {
  checkTensor('clone', 'input', x);
  return apply(CONTIGUOUS, [x], {});
}

/** This file's Tensor methods: `x.clone()` is `clone(x)`; `x.float()` is `cast(x, 'float32')`. */
export const CAST_METHODS = {
  contiguous, clone,
  /** A float32 copy, or the tensor itself if already float32 (torch.Tensor.float). */
  float: (x: Tensor): Tensor => cast(x, 'float32'),
  /** A float64 copy, or the tensor itself if already float64 (torch.Tensor.double). */
  double: (x: Tensor): Tensor => cast(x, 'float64'),
  /** A float16 copy, rounded to nearest-even, or the tensor itself if already float16 (torch.Tensor.half). */
  half: (x: Tensor): Tensor => cast(x, 'float16'),
  /** A bfloat16 copy, rounded to nearest-even, or the tensor itself if already bfloat16 (torch.Tensor.bfloat16). */
  bfloat16: (x: Tensor): Tensor => cast(x, 'bfloat16'),
  /** An int32 copy, truncated toward zero, or the tensor itself if already int32 (torch.Tensor.int). */
  int: (x: Tensor): Tensor => cast(x, 'int32'),
  /** A bool copy (non-zero is true), or the tensor itself if already bool (torch.Tensor.bool). */
  bool: (x: Tensor): Tensor => cast(x, 'bool'),
};
