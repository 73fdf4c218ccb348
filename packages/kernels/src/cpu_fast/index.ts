// `fastCpuKernels`: the `cpu` device's default `KernelSet` — WebAssembly SIMD on worker threads and
// tight TypeScript loops for the kernels that matter to training, the reference kernels (cpu/) for
// everything else. Laid out by kernel family, one file each, with its WebAssembly program:
//
//   matmul.ts            matmul (matmul_program.ts: the blocked sgemm)
//   elementwise.ts       unary, binary (and binaryScalar), activation gradients — WebAssembly
//                        (../wasm/unary_program.ts, ../wasm/elementwise_program.ts)
//   elementwise_loops.ts the same ops in TypeScript for other dtypes and layouts, and where
//   copy.ts              copy (casts between bool/int32/float32/float64 too), fill (copy_f32 in
//                        ../wasm/elementwise_program.ts)
//   conv.ts              im2col, col2im, pool2d, pool2dBackward (TypeScript loops)
//   reduce.ts            reduce (reduce_program.ts; per-channel sums in reduce_channels.ts)
//   rows.ts              softmax, layerNorm, crossEntropy and their backwards (rows_program.ts, cross_entropy_program.ts)
//   attention.ts         attention forward and backward (attention_program.ts)
//   indexing.ts          indexSelect, indexAdd
//   rnn.ts               rnnCell, lstmCell, gruCell and their backwards (rnn_program.ts, TypeScript loops)
//   random.ts            random
//   adamw.ts             adamw, and adamwMulti with one fork of the threads for all items (adamw in
//                        ../wasm/elementwise_program.ts)
//   quant_matmul.ts      quantMatmul (< 8 rows: quant_matmul_program.ts; more: decoded tiles into the
//                        sgemm), quantMatmulTransposed (tiles into the sgemm, or TypeScript loops)
// argReduce, gather and scatterAdd have no fast path.
//
// Each family function returns whether it handled the call; `withReference` (fallback.ts) runs the
// reference kernel when it did not. The machinery every family shares is in ../wasm/: the emitter
// and module assembly, the runtime (memory, heap, threads), operand addressing (operands.ts) and the
// split of work across threads (schedule.ts). Each family's header says which dtypes and layouts
// take its fast paths.

import { cpuKernels } from '../cpu/index.js';
import { binaryScalarVia } from '../cpu/elementwise.js';
import type { KernelSet, RecurrentKernels, TypedArray } from '../types.js';
import { adamw, adamwMulti } from './adamw.js';
import { attention, attentionBackward } from './attention.js';
import { col2im, im2col, pool2d, pool2dBackward } from './conv.js';
import { copy, fill } from './copy.js';
import { binary, unary, where } from './elementwise.js';
import { withReference } from './fallback.js';
import { fusedElementwise } from './fused_elementwise.js';
import { indexAdd, indexSelect } from './indexing.js';
import { matmul } from './matmul.js';
import { quantMatmul, quantMatmulTransposed } from './quant_matmul.js';
import { random } from './random.js';
import { reduce } from './reduce.js';
import { recurrentKernels } from './rnn.js';
import { crossEntropy, crossEntropyBackward, layerNorm, layerNormBackward, softmax, softmaxBackward } from './rows.js';

const fast = withReference({
  matmul,
  unary, binary, where,
  copy, fill,
  im2col, col2im, pool2d, pool2dBackward,
  reduce,
  softmax, softmaxBackward, layerNorm, layerNormBackward, crossEntropy, crossEntropyBackward,
  attention, attentionBackward,
  indexSelect, indexAdd,
  random,
  adamw,
  quantMatmul, quantMatmulTransposed,
  fusedElementwise,
});

/** The CPU kernels with WebAssembly SIMD and TypeScript fast paths; everything else is `cpuKernels`. */
export const fastCpuKernels: KernelSet<TypedArray> & RecurrentKernels<TypedArray> = { ...cpuKernels, ...fast, binaryScalar: binaryScalarVia(fast.binary), adamwMulti: (items) => adamwMulti(items, fast.adamw), ...recurrentKernels };

export { FAST_CPU_CONFIG } from '../wasm/schedule.js';
export { setNumThreads, getNumThreads, startCpuThreads, wasmRuntime, WasmRuntime, allocTensorArray, releaseTensorArray, setPoisonNewArrays } from '../wasm/runtime.js';
export { buildKernelModule, WASM_EXPORTS } from '../wasm/module.js';
export { relaxedSimdAvailable } from '../wasm/relaxed_simd.js';
export { ModuleBuilder, FuncBuilder, ByteWriter, type ValType, type Val, type Local, type Label, type FuncRef } from '../wasm/emitter.js';
