// The `cpu` device: TypedArray buffers. By default it computes with `fastCpuKernels` (WebAssembly
// SIMD on worker threads for float32 matmul, elementwise, softmax, layerNorm and AdamW; the reference
// kernels for everything else), and its float32 tensors live in those kernels' WebAssembly memory. `setCpuKernels('reference')`, or WEBGRAD_CPU=reference in the
// environment, switches it to the plain-TypeScript reference kernels, the ground truth.
import { setNumThreads as setKernelThreads } from '@webgrad/kernels';
import { DTYPE_BYTES, allocTensorArray, cpuKernels, fastCpuKernels, releaseTensorArray, setPoisonNewArrays, type KernelSet, type TypedArray } from '@webgrad/kernels';
import { arrayFor } from '../dtype.js';
import type { Backend } from './backend.js';
import { CpuArrayPool } from './cpu_pool.js';
import { checkBool, checkEnum, checkInt } from '../validate.js';

/** The cpu device's kernel sets: 'fast' (WebAssembly, the default) or 'reference' (plain TypeScript, float64 math). */
export type CpuKernelsChoice = 'reference' | 'fast';

const KERNELS: Record<CpuKernelsChoice, KernelSet<TypedArray>> = { reference: cpuKernels, fast: fastCpuKernels };

function initialChoice(): CpuKernelsChoice {
  const env = typeof process !== 'undefined' ? process.env?.WEBGRAD_CPU : undefined;
  return env === 'reference' ? 'reference' : 'fast';
}

let choice: CpuKernelsChoice = initialChoice();

/** Disposed tensors' arrays, reused for new tensors of the same dtype and length. */
export const cpuArrayPool = new CpuArrayPool((dtype, length) => arrayFor(dtype as never, length));

/** The cpu device: with the fast kernels and shared memory, float32 tensors live in the WebAssembly heap; other tensors are pooled typed arrays. */
export const cpuBackend: Backend<TypedArray> & {
  /** The kernel set chosen by `setCpuKernels` (a full `KernelSet`). */
  kernels: KernelSet<TypedArray>;
} = {
  name: 'cpu',
  kernels: KERNELS[choice],
  supports: () => true,
  // With the fast kernels, float32 tensors live in their WebAssembly memory (kernels then use them
  // in place); everything else is an ordinary array from the pool.
  allocate: (dtype, length) => (dtype === 'float32' && choice === 'fast' && length > 0 ? allocTensorArray(length) : null) ?? cpuArrayPool.acquire(dtype, length),
  free: (buffer, dtype, length) => { if (!releaseTensorArray(buffer)) cpuArrayPool.release(dtype, length, buffer); },
  byteSize: (dtype, length) => DTYPE_BYTES[dtype] * length,
  upload: (buffer, data) => { buffer.set(data as never); },
  download: async (buffer, _dtype, length) => buffer.slice(0, length),
  readSync: (buffer, _dtype, length) => buffer.slice(0, length),
  flush: () => {},
};

/** Chooses the kernels of the `cpu` device: 'fast' (default) or 'reference'. Returns the previous choice. */
export function setCpuKernels(which: CpuKernelsChoice): CpuKernelsChoice {
  checkEnum('setCpuKernels', 'kernels', which, ['reference', 'fast'] as const);
  const prev = choice;
  choice = which;
  (cpuBackend as { kernels: KernelSet<TypedArray> }).kernels = KERNELS[which];
  return prev;
}

/** Sets how many threads the fast CPU kernels use (like torch.set_num_threads): an integer >= 1. */
export function setNumThreads(n: number): void {
  setKernelThreads(checkInt('setNumThreads', 'n', n, { min: 1 }));
}

/** The kernels the `cpu` device uses now. */
export function getCpuKernels(): CpuKernelsChoice {
  return choice;
}

/**
 * Testing aid: new `cpu` tensors start filled with NaN (integer ones with 0) instead of whatever
 * their reused memory held, so an op that leaves part of its output unwritten cannot pass by luck.
 * Returns the previous setting. The test suite runs with it on (packages/core/test/setup_devices.ts).
 */
export function poisonCpuAllocations(on: boolean): boolean {
  checkBool('poisonCpuAllocations', 'on', on);
  const prev = cpuArrayPool.poison;
  cpuArrayPool.poison = on;
  setPoisonNewArrays(on);
  return prev;
}
