// The `cpu` device: TypedArray buffers computed on by the reference kernels.
import { cpuKernels, type DType, type TypedArray } from '@webgrad/kernels';
import { arrayFor } from '../dtype.js';
import type { Backend } from './backend.js';

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

export const cpuBackend: Backend<TypedArray> = {
  name: 'cpu',
  kernels: cpuKernels,
  supports: () => true,
  allocate: (dtype, length) => arrayFor(dtype, length),
  free: () => {},
  byteSize: (dtype, length) => BYTES[dtype] * length,
  upload: (buffer, data) => { buffer.set(data as never); },
  download: async (buffer, _dtype, length) => buffer.slice(0, length),
  readSync: (buffer, _dtype, length) => buffer.slice(0, length),
  flush: () => {},
};
