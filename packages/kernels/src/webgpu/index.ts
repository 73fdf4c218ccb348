// The WebGPU backend: the runtime, its errors and dtype helpers, and `createWebGPUKernels`, which
// assembles every WGSL kernel family into a `KernelSet<GPUBuffer>`.

import type { AttentionProbsKernels, KernelSet } from '../types.js';
import type { WebGPURuntime } from './runtime.js';
import * as ew from './elementwise.js';
import { fusedElementwise } from './fused_elementwise.js';
import { random } from './random.js';
import { argReduce, reduce } from './reduce.js';
import { gather, indexAdd, indexSelect, scatterAdd } from './indexing.js';
import { adamw } from './adamw.js';
import { adamwMulti } from './adamw_multi.js';
import { matmul } from './matmul.js';
import { quantMatmul, quantMatmulTransposed } from './quant_matmul.js';
import { softmax, softmaxBackward } from './softmax.js';
import { layerNorm, layerNormBackward } from './layer_norm.js';
import { crossEntropy, crossEntropyBackward } from './cross_entropy.js';
import { attention, attentionBackward } from './attention.js';
import { savesAttentionProbs } from './attention_matmul.js';
import { col2im, im2col, pool2d, pool2dBackward } from './conv.js';

export { WebGPURuntime } from './runtime.js';
export { Capture, WebGPUCaptureError, type CaptureHost, type CapturedCommand, type CapturedDispatch, type CapturedCopy, type CapturedWrite } from './capture.js';
export type { RuntimeOptions, RuntimeStats, DispatchTally, ProfileEntry, BindingKind, Pipeline, PipelineSpec, AdapterDescription } from './runtime.js';
export type { ShaderSource } from './runtime.js';
export { bindings, shader, read, readWrite, uniform, Bindings, type BindingEntry, type StorageBinding, type UniformBinding, type ElementType } from './bindings.js';
export { UniformStruct } from './kernel_args.js';
export { WebGPUUnavailableError, WebGPUOutOfMemoryError, WebGPUDeviceLostError, WebGPUValidationError, WebGPUDTypeError, WebGPUIndexError, WebGPUBindingError } from './errors.js';
export { gpuDType, gpuStorageDType, gpuByteSize, wgslType, GPU_DTYPE_BYTES, WGSL_STORAGE_TYPE, type GPUDType, type GPUStorageDType } from './dtype.js';
export { splitWorkgroups, dispatch1D, WGSL_LINEAR_WORKGROUP, MAX_WORKGROUPS_PER_DIM } from './workgroups.js';
export { sizeClass } from './buffer_pool.js';
export { matmulEpilogue } from './matmul_epilogue.js';
export { layerNormBackwardAdd } from './layer_norm.js';

function notImplemented(name: string): () => never {
  return () => {
    throw new Error(`WebGPU kernel '${name}' is not implemented yet`);
  };
}

/** Every kernel of the WebGPU backend, launching through `rt`. Every kernel reads and writes float16
 *  and bfloat16 storage itself (f32 arithmetic, half_wgsl.ts). */
export function createWebGPUKernels(rt: WebGPURuntime): KernelSet<GPUBuffer> & AttentionProbsKernels {
  return {
    unary: (op, x, out) => ew.unary(rt, op, x, out),
    binary: (op, a, b, out) => ew.binary(rt, op, a, b, out),
    binaryScalar: (op, a, scalar, scalarFirst, out) => ew.binaryScalar(rt, op, a, scalar, scalarFirst, out),
    where: (cond, a, b, out) => ew.where(rt, cond, a, b, out),
    copy: (x, out) => ew.copy(rt, x, out),
    fill: (out, value) => ew.fill(rt, out, value),
    random: (out, opts) => random(rt, out, opts),
    reduce: (op, x, axes, out) => reduce(rt, op, x, axes, out),
    argReduce: (op, x, axis, out) => argReduce(rt, op, x, axis, out),
    gather: (x, dim, index, out) => gather(rt, x, dim, index, out),
    scatterAdd: (out, dim, index, src) => scatterAdd(rt, out, dim, index, src),
    indexSelect: (x, dim, index, out, addend) => indexSelect(rt, x, dim, index, out, addend ?? null),
    indexAdd: (out, dim, index, src, zeroed, addend) => indexAdd(rt, out, dim, index, src, zeroed, addend ?? null),
    adamw: (param, grad, m, v, opts) => adamw(rt, param, grad, m, v, opts),
    adamwMulti: (items) => adamwMulti(rt, items),
    matmul: (a, b, out) => matmul(rt, a, b, out),
    // TODO: softmax.ts, layer_norm.ts, cross_entropy.ts, attention.ts, conv.ts land here.
    softmax: (x, out, log) => softmax(rt, x, out, log),
    softmaxBackward: (y, dy, out, log) => softmaxBackward(rt, y, dy, out, log),
    layerNorm: (x, w, b, eps, out, mean, rstd) => layerNorm(rt, x, w, b, eps, out, mean, rstd),
    layerNormBackward: (x, w, mean, rstd, dy, dx, dw, db) => layerNormBackward(rt, x, w, mean, rstd, dy, dx, dw, db),
    crossEntropy: (logits, targets, w, opts, loss, lse, rowWeight) => crossEntropy(rt, logits, targets, w, opts, loss, lse, rowWeight),
    crossEntropyBackward: (logits, targets, w, lse, dloss, opts, dx, divisor) => crossEntropyBackward(rt, logits, targets, w, lse, dloss, opts, dx, divisor ?? null),
    attention: (q, k, v, mask, opts, out, lse, probs) => attention(rt, q, k, v, mask, opts, out, lse, {}, probs ?? null),
    attentionBackward: (q, k, v, mask, opts, out, lse, dout, dq, dk, dv, probs) => attentionBackward(rt, q, k, v, mask, opts, out, lse, dout, dq, dk, dv, {}, probs ?? null),
    attentionSavesProbs: savesAttentionProbs,
    im2col: (x, g, cols) => im2col(rt, x, g, cols),
    col2im: (cols, g, dx) => col2im(rt, cols, g, dx),
    pool2d: (op, x, g, out, argmax) => pool2d(rt, op, x, g, out, argmax),
    pool2dBackward: (op, dy, argmax, g, dx) => pool2dBackward(rt, op, dy, argmax, g, dx),
    quantMatmul: (x, w, bias, out) => quantMatmul(rt, x, w, bias, out),
    quantMatmulTransposed: (dy, w, out) => quantMatmulTransposed(rt, dy, w, out),
    fusedElementwise: (program, inputs, outs) => fusedElementwise(rt, program, inputs, outs),
  };
}
