// The WebGPU backend: the runtime, its errors and dtype helpers, and `createWebGPUKernels`, which
// assembles every WGSL kernel family into a `KernelSet<GPUBuffer>`.

import type { KernelSet } from '../types.js';
import type { WebGPURuntime } from './runtime.js';
import * as ew from './elementwise.js';

export { WebGPURuntime } from './runtime.js';
export type { RuntimeOptions, RuntimeStats, ProfileEntry, BindingKind, Pipeline, PipelineSpec, AdapterDescription } from './runtime.js';
export { WebGPUUnavailableError, WebGPUOutOfMemoryError, WebGPUDeviceLostError, WebGPUValidationError, WebGPUDTypeError } from './errors.js';
export { gpuDType, gpuByteSize, wgslType, GPU_DTYPE_BYTES, WGSL_STORAGE_TYPE, type GPUDType } from './dtype.js';
export { splitWorkgroups, dispatch1D, WGSL_LINEAR_WORKGROUP, MAX_WORKGROUPS_PER_DIM } from './workgroups.js';
export { sizeClass } from './buffer_pool.js';

function notImplemented(name: string): () => never {
  return () => {
    throw new Error(`WebGPU kernel '${name}' is not implemented yet`);
  };
}

/** Every kernel of the WebGPU backend, launching through `rt`. */
export function createWebGPUKernels(rt: WebGPURuntime): KernelSet<GPUBuffer> {
  return {
    unary: (op, x, out) => ew.unary(rt, op, x, out),
    binary: (op, a, b, out) => ew.binary(rt, op, a, b, out),
    where: (cond, a, b, out) => ew.where(rt, cond, a, b, out),
    copy: (x, out) => ew.copy(rt, x, out),
    fill: (out, value) => ew.fill(rt, out, value),
    // TODO: random, reduce, indexing, adamw (this backend's own families) being wired in.
    random: notImplemented('random'),
    reduce: notImplemented('reduce'),
    argReduce: notImplemented('argReduce'),
    gather: notImplemented('gather'),
    scatterAdd: notImplemented('scatterAdd'),
    indexSelect: notImplemented('indexSelect'),
    indexAdd: notImplemented('indexAdd'),
    adamw: notImplemented('adamw'),
    // TODO: matmul.ts, softmax.ts, layer_norm.ts, cross_entropy.ts, attention.ts, conv.ts land here.
    matmul: notImplemented('matmul'),
    softmax: notImplemented('softmax'),
    softmaxBackward: notImplemented('softmaxBackward'),
    layerNorm: notImplemented('layerNorm'),
    layerNormBackward: notImplemented('layerNormBackward'),
    crossEntropy: notImplemented('crossEntropy'),
    crossEntropyBackward: notImplemented('crossEntropyBackward'),
    attention: notImplemented('attention'),
    attentionBackward: notImplemented('attentionBackward'),
    im2col: notImplemented('im2col'),
    col2im: notImplemented('col2im'),
    pool2d: notImplemented('pool2d'),
    pool2dBackward: notImplemented('pool2dBackward'),
  };
}
