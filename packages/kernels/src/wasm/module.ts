// Assembles the one WebAssembly module behind the fast CPU kernels from the kernel families'
// programs (../cpu_fast/*_program.ts, and the elementwise, copy and AdamW programs in this folder).
// Every thread instantiates the same module over the same (shared) memory, so a kernel is a call of
// an export by name with i32 arguments (byte addresses, counts, flags) on whatever thread runs it.

import { ModuleBuilder } from './emitter.js';
import { addAdamW, addBinary, addCopy, addWhere } from './elementwise_program.js';
import { addMatmul } from '../cpu_fast/matmul_program.js';
import { addLayerNorm, addLayerNormBackward, addSoftmax } from '../cpu_fast/rows_program.js';
import { addCrossEntropy, addCrossEntropyBackward } from '../cpu_fast/cross_entropy_program.js';
import { addAttentionProbs } from '../cpu_fast/attention_program.js';
import { addReduce } from '../cpu_fast/reduce_program.js';
import { addQuantGemv } from '../cpu_fast/quant_matmul_program.js';
import { addConv } from '../cpu_fast/conv_program.js';
import { addRnn } from '../cpu_fast/rnn_program.js';
import { GRAD_FAST_OPS, UNARY_FAST_OPS, addUnary, addUnaryGrad } from './unary_program.js';

/** The exports threads can be asked to run, by index (the thread protocol sends the index). */
export const WASM_EXPORTS = [
  'sgemm', 'binary_add', 'binary_sub', 'binary_mul', 'binary_div', 'softmax_rows', 'layernorm_rows', 'adamw',
  ...UNARY_FAST_OPS.map((op) => `unary_${op}` as const), 'reduce_sum_rows', 'reduce_sum_cols', 'attn_probs',
  'layernorm_backward_rows', ...GRAD_FAST_OPS.map((op) => `grad_${op}` as const), 'copy_f32', 'attn_ds',
  'quant_gemv_int8', 'quant_gemv_int4', 'quant_gemv_nf4', 'quant_decode_int8', 'quant_decode_int4', 'quant_decode_nf4',
  'im2col_planes', 'col2im_planes', 'maxpool_planes', 'maxpool_backward_planes', 'where_f32', 'maxpool2x2_planes',
  'lstm_cell', 'lstm_cell_backward', 'gru_cell', 'gru_cell_backward', 'avgpool_planes', 'avgpool_backward_planes',
  'cross_entropy_rows', 'cross_entropy_backward_rows',
] as const;
export type WasmExport = (typeof WASM_EXPORTS)[number];

/** 64 KiB pages; the memory may grow to 4 GiB (the whole 32-bit address space). */
export const MAX_PAGES = 65536;

/** JS functions the module imports (`env.<name>`); each thread passes the same ones. */
export const WASM_IMPORTS = { log: Math.log } as const;

/** The module's bytes, for a memory that is `shared` (threads) or not (single-threaded fallback). */
export function buildKernelModule(shared: boolean, opts: { fma?: boolean } = {}): Uint8Array {
  const m = new ModuleBuilder({ initialPages: 1, maximumPages: MAX_PAGES, shared });
  const log = m.importFunc('log', ['f64'], 'f64');
  addMatmul(m, opts);
  addBinary(m);
  addSoftmax(m, log);
  addLayerNorm(m);
  addAdamW(m);
  addUnary(m, opts);
  addReduce(m);
  addAttentionProbs(m, log);
  addLayerNormBackward(m);
  addUnaryGrad(m, opts);
  addCopy(m);
  addQuantGemv(m, opts);
  addConv(m);
  addWhere(m);
  addRnn(m);
  addCrossEntropy(m, opts); addCrossEntropyBackward(m, opts);
  return m.toBytes();
}
