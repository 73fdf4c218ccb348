// Storage of webgrad dtypes on the GPU, and the WGSL spelling of each.
//
//   float32 → f32   int32 → i32   bool → u32 holding 0 or 1 (4 bytes per element, unlike the CPU's 1)
//   float16 → f16 (2 bytes per element), through the adapter feature `shader-f16` (the device asks
//             for it when the adapter has it; the webgpu backend refuses float16 tensors otherwise)
//   bfloat16 → packed, two elements per u32 word (2 bytes per element; WGSL has no 16-bit integer):
//             element i is half i & 1 of word i >> 1. The generated code converts on load and store,
//             and a store never clobbers the other half of its word (half_wgsl.ts explains how).
//   float64 → unsupported: WGSL has no f64.
// Launchers call `gpuStorageDType(op, dtype)`, which throws a WebGPUDTypeError (a TypeError) naming
// the op for float64, or `gpuDType(op, dtype)`, which also refuses float16/bfloat16 (for code
// without a 16-bit form: `wgslType`).

import type { DType } from '../types.js';
import { WebGPUDTypeError } from './errors.js';

/** The dtypes WGSL arithmetic works in: float16/bfloat16 storage is converted to float32 at load and rounded back at store. */
export type GPUDType = 'float32' | 'int32' | 'bool';
/** Every dtype a GPU buffer can hold. */
export type GPUStorageDType = GPUDType | 'float16' | 'bfloat16';

/** Bytes per element in a GPU buffer. */
export const GPU_DTYPE_BYTES: Readonly<Record<GPUStorageDType, number>> = { float32: 4, int32: 4, bool: 4, float16: 2, bfloat16: 2 };

/** WGSL scalar type that stores each dtype (float16: f16; bfloat16: two per u32, see the header). */
export const WGSL_STORAGE_TYPE: Readonly<Record<GPUDType, 'f32' | 'i32' | 'u32'>> = { float32: 'f32', int32: 'i32', bool: 'u32' };

/** Returns `dtype` narrowed to a GPU storage dtype, or throws a TypeError naming `op` (float64). */
export function gpuStorageDType(op: string, dtype: DType): GPUStorageDType {
  if (dtype === 'float64') {
    throw new WebGPUDTypeError(`${op}: float64 is not supported on the WebGPU backend (WGSL has no f64); ` +
      'cast to float32 first, or run this op on the cpu backend');
  }
  return dtype;
}

/** Returns `dtype` narrowed to a dtype every GPU kernel takes, or throws a TypeError naming `op`. */
export function gpuDType(op: string, dtype: DType): GPUDType {
  const d = gpuStorageDType(op, dtype);
  if (d === 'float16' || d === 'bfloat16') {
    throw new WebGPUDTypeError(`${op}: the WebGPU backend runs this op on float32, int32 and bool only, got ${d}; ` +
      'cast to float32 first, or run this op on the cpu backend');
  }
  return d;
}

/** Bytes `numel` elements of `dtype` take on the GPU (throws for float64); allocations round up to 4-byte words. */
export function gpuByteSize(dtype: DType, numel: number): number {
  return GPU_DTYPE_BYTES[gpuStorageDType('allocate', dtype)] * numel;
}

/** The WGSL scalar type of `dtype`'s arithmetic (float32 → f32, int32 → i32, bool → u32); a WebGPUDTypeError naming `op` for another dtype. */
export function wgslType(op: string, dtype: DType): 'f32' | 'i32' | 'u32' {
  return WGSL_STORAGE_TYPE[gpuDType(op, dtype)];
}
