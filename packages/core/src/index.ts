// @webgrad/core: tensors, reverse-mode autograd, memory management and device backends.
import './tensor_methods.js';

export { Tensor, type TensorLike, type Scalar, type NestedArray } from './tensor.js';
export * from './errors.js';
export { promoteTypes, isFloat, type DType, type TypedArray } from './dtype.js';
export { broadcastShapes, numel, contiguousStrides, shapesEqual, type Shape } from './shape.js';
export type { Backend, CapturedCommands, DeviceName } from './backend/backend.js';
export { registerBackend, getBackend, hasDevice, setDefaultDevice, getDefaultDevice } from './backend/registry.js';
export { cpuBackend, cpuArrayPool, poisonCpuAllocations, setCpuKernels, getCpuKernels, type CpuKernelsChoice } from './backend/cpu.js';
export { CpuArrayPool, type CpuPoolStats } from './backend/cpu_pool.js';
export { initWebGPU, webgpuRuntime, type InitWebGPUOptions } from './backend/webgpu.js';
// The fast cpu kernels' thread pool (torch.set_num_threads); startCpuThreads() awaits the workers (browsers).
export { getNumThreads, startCpuThreads } from '@webgrad/kernels';
export { setNumThreads } from './backend/cpu.js';
export { tidy, keep, scope, memory, resetPeakMemory, type MemoryInfo } from './memory.js';
export { noGrad, enableGrad, isGradEnabled } from './autograd/grad_mode.js';
export { autocast, autocastDType, isAutocastEnabled, autocastInput, autocastInputs, AUTOCAST_POLICY, type AutocastDType, type AutocastOptions, type AutocastCast } from './autocast.js';
export { backward, gradients, grad, customOp, type CustomOp } from './autograd/api.js';
export { checkpoint } from './autograd/checkpoint.js';
export type { BackwardOptions } from './autograd/engine.js';
export { OP_TABLE, defineOp, apply, type OpDef, type GradSample, type GradInput } from './ops/define.js';

export * from './ops/creation.js';
export { cast, contiguous, clone } from './ops/cast.js';
export {
  UNARY_SPECS, unary, neg, abs, sign, exp, expm1, log, log1p, sqrt, rsqrt, square, reciprocal, sin, cos, tanh, sigmoid, relu, gelu, silu, softplus,
  erf, floor, ceil, round, logicalNot,
  binary, add, sub, mul, div, pow, maximum, minimum, remainder, eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, geluGrad, siluGrad,
} from './ops/elementwise.js';
export { where, maskedFill, clamp } from './ops/where.js';
export { sum, prod, max, min, mean, logsumexp, variance, variance as var_, std, argmax, argmin, type ReduceOptions, type VarOptions } from './ops/reduce.js';
export { reshape, view, permute, transpose, expand, squeeze, unsqueeze, flatten, slice, narrow, select } from './ops/views.js';
export { cat, stack, split, chunk, pad, tril, triu } from './ops/shape_ops.js';
export { matmul } from './ops/matmul.js';
export { quantLinear, checkQuantWeight, type QuantWeight } from './ops/quant_linear.js';
export { gather, scatterAdd, indexSelect, embedding, oneHot } from './ops/indexing.js';
export { softmax, logSoftmax, softmaxDecomposed, logSoftmaxDecomposed } from './ops/softmax.js';
export { crossEntropy, crossEntropyDecomposed, type CrossEntropyOptions } from './ops/cross_entropy.js';
export { layerNorm, layerNormDecomposed } from './ops/layer_norm.js';
export {
  lstmCell, gruCell, rnnSequence, lstmSequence, gruSequence, lstmCellDecomposed, gruCellDecomposed, rnnSequenceDecomposed, lstmSequenceDecomposed, gruSequenceDecomposed,
  type SequenceOptions, type RnnSequenceOptions, type SequenceResult, type LstmSequenceResult,
} from './ops/rnn_cells.js';
export { scaledDotProductAttention, attentionDecomposed, packedSelfAttention, type AttentionOptions } from './ops/attention.js';
export { dropout } from './ops/dropout.js';
export { conv2d, maxPool2d, avgPool2d, convOutSize, type Conv2dOptions, type Pool2dOptions } from './ops/conv.js';
export { seededRandom } from './seeded_random.js';
export { detach, to, toAsync, data, dataSync, array, item } from './ops/device.js';
export { copy_, fill_, zero_, add_, sub_, mul_, div_ } from './ops/inplace.js';
export { adamwStep_, adamwStepDecomposed_, type AdamWStepOptions } from './ops/adamw.js';
export { adamwStepMulti_, type AdamWStepItem } from './ops/adamw_multi.js';
export { sumToShape } from './autograd/engine.js';
export { opTableMarkdown } from './ops/op_docs.js';
export {
  checkFinite, checkNumber, checkInt, checkSize, checkRange, checkBool, checkEnum, checkDType, checkDim, checkShapeArg, checkOptions, fmtValue,
  checkNumel, checkTensor, checkRank, checkScalar, checkPair, checkFunction, MAX_ELEMENTS,
} from './validate.js';
export { compile, type CompileOptions, type CompileStats, type CompiledFunction } from './compile/compile.js';
export { hostAction, isTracing, notTraceable, replayedCheck } from './compile/trace.js';
export { CompileError } from './compile/errors.js';
