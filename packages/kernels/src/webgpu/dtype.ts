// Storage of webgrad dtypes on the GPU, and the WGSL spelling of each.
//
//   float32 → f32   int32 → i32   bool → u32 holding 0 or 1 (4 bytes per element, unlike the CPU's 1)
//   float64 → unsupported: WGSL has no f64. Launchers call `gpuDType(op, dtype)`, which throws a
//             WebGPUDTypeError (a TypeError) naming the op.

import type { DType } from '../types.js';
import { WebGPUDTypeError } from './errors.js';

export type GPUDType = 'float32' | 'int32' | 'bool';

/** Bytes per element in a GPU buffer. */
export const GPU_DTYPE_BYTES: Readonly<Record<GPUDType, number>> = { float32: 4, int32: 4, bool: 4 };

/** WGSL scalar type that stores each dtype. */
export const WGSL_STORAGE_TYPE: Readonly<Record<GPUDType, 'f32' | 'i32' | 'u32'>> = { float32: 'f32', int32: 'i32', bool: 'u32' };

/** Returns `dtype` narrowed to a GPU dtype, or throws a TypeError naming `op`. */
export function gpuDType(op: string, dtype: DType): GPUDType {
  if (dtype === 'float64') {
    throw new WebGPUDTypeError(`${op}: float64 is not supported on the WebGPU backend (WGSL has no f64); ` +
      'cast to float32 first, or run this op on the cpu backend');
  }
  if (dtype === 'float16' || dtype === 'bfloat16') {
    throw new WebGPUDTypeError(`${op}: ${dtype} is not supported by this WebGPU kernel; cast to float32 first, or run this op on the cpu backend`);
  }
  return dtype;
}

/** Bytes needed on the GPU for `numel` elements of `dtype` (throws for float64). */
export function gpuByteSize(dtype: DType, numel: number): number {
  return GPU_DTYPE_BYTES[gpuDType('allocate', dtype)] * numel;
}

export function wgslType(op: string, dtype: DType): 'f32' | 'i32' | 'u32' {
  return WGSL_STORAGE_TYPE[gpuDType(op, dtype)];
}
