// dtypes and PyTorch-style type promotion.
import { isFloatDType, type DType, type TypedArray } from '@webgrad/kernels';
import { DTypeError, fmtShape } from './errors.js';
import { checkDType } from './validate.js';

export type { DType, TypedArray };

/** Promotion order: bool < int32 < float16, bfloat16 < float32 < float64. float16 and bfloat16 share a
 *  rank: neither holds the other's values, so together they promote to float32 (as in PyTorch). */
const RANK: Record<DType, number> = { bool: 0, int32: 1, float16: 2, bfloat16: 2, float32: 3, float64: 4 };

/** Whether `d` is a floating-point dtype (float16, bfloat16, float32, float64). */
export const isFloat: (d: DType) => boolean = isFloatDType;

/** Result dtype of combining two tensors, like torch.result_type. */
export function promoteTypes(a: DType, b: DType): DType {
  checkDType('promoteTypes', a);
  checkDType('promoteTypes', b);
  if (RANK[a] === RANK[b] && a !== b) return 'float32'; // float16 with bfloat16
  return RANK[a] >= RANK[b] ? a : b;
}

/** Result dtype of a tensor combined with a JS number: a number only lifts the category, never the
 *  width (int32 tensor + 1.5 → float32; float64 tensor + 1 → float64), as in PyTorch. */
export function promoteWithScalar(t: DType, value: number | boolean): DType {
  if (typeof value === 'boolean') return t;
  if (!Number.isInteger(value) || !Number.isFinite(value)) return isFloat(t) ? t : 'float32';
  return t === 'bool' ? 'int32' : t;
}

/** A zero-filled typed array of `dtype`'s CPU storage type (the kernels package's allocator). */
export { typedArrayFor as arrayFor } from '@webgrad/kernels';

export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'bool';
  if (a instanceof Uint16Array) {
    throw new DTypeError('tensor: a Uint16Array is ambiguous (float16 or bfloat16 bit patterns?); pass the values as numbers or a Float32Array with { dtype }');
  }
  throw new DTypeError(`tensor: unsupported TypedArray ${(a as object).constructor.name}`);
}

/** For ops PyTorch defines on floating-point tensors only (layerNorm, attention, avgPool2d, dropout). */
export function requireFloat(op: string, t: { dtype: DType; shape: readonly number[] }, what = 'input'): void {
  if (!isFloat(t.dtype)) throw new DTypeError(`${op}: expected a floating-point ${what}, got ${t.dtype} (shape ${fmtShape(t.shape)}); cast it with .float()`);
}
