// The CPU reference backend: every kernel of `KernelSet<TypedArray>` in plain TypeScript over
// typed arrays. These are the ground truth the WGSL kernels are tested against and what the
// library's CPU device runs. Each family lives in its own file, whose header documents what it
// computes and its layout assumptions; `strided.ts` holds the shared storage/dtype helpers and
// `../geometry.ts` the shape/stride arithmetic.

import type { KernelSet, RecurrentKernels, TypedArray } from '../types.js';
import { adamw, adamwEach } from './adamw.js';
import { attention, attentionBackward } from './attention.js';
import { col2im, im2col, pool2d, pool2dBackward } from './conv.js';
import { crossEntropy, crossEntropyBackward } from './cross_entropy.js';
import { binary, binaryScalar, copy, fill, unary, where } from './elementwise.js';
import { fusedElementwise } from './fused_elementwise.js';
import { gather, indexAdd, indexSelect, scatterAdd } from './indexing.js';
import { layerNorm, layerNormBackward } from './layer_norm.js';
import { matmul } from './matmul.js';
import { quantMatmul, quantMatmulTransposed } from './quant_matmul.js';
import { random } from './random.js';
import { gruCell, gruCellBackward, lstmCell, lstmCellBackward, rnnCell, rnnCellBackward } from './rnn.js';
import { argReduce, reduce } from './reduce.js';
import { softmax, softmaxBackward } from './softmax.js';

/** The reference KernelSet over TypedArrays: plain TypeScript with float64 arithmetic, the ground truth every other kernel set is tested against. */
export const cpuKernels: KernelSet<TypedArray> & RecurrentKernels<TypedArray> = {
  unary, binary, binaryScalar, where, copy, fill, random,
  reduce, argReduce,
  matmul,
  gather, scatterAdd, indexSelect, indexAdd,
  softmax, softmaxBackward, layerNorm, layerNormBackward, crossEntropy, crossEntropyBackward,
  attention, attentionBackward,
  im2col, col2im, pool2d, pool2dBackward,
  adamw, adamwMulti: adamwEach(adamw),
  quantMatmul, quantMatmulTransposed,
  rnnCell, rnnCellBackward, lstmCell, lstmCellBackward, gruCell, gruCellBackward,
  fusedElementwise,
};

export { contiguousView, convertTo, decodeArray, encodeArray, readAll, readAt, storedBits, typedArrayFor, writeAll, writeAt } from './strided.js';
// The view geometry the reference kernels use, re-exported for importers of this folder.
export { contiguousStrides, elementOffsets, forEachIndex, numel, offsetOf, rowsOf } from '../geometry.js';
export { erf, sigmoid, roundHalfEven, UNARY_FNS, BINARY_FNS } from './elementwise.js';
export { threefry2x32, keyForSeed, randomWords, THREEFRY_PARITY, THREEFRY_ROTATIONS } from './random.js';
export { convOutputSize } from './conv.js';
export * from './quant_format.js';
export { quantArrays } from './quant_matmul.js';
