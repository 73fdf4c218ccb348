// The fast CPU kernels: WebAssembly SIMD programs assembled at runtime by a typed emitter, run on a
// pool of worker threads over shared memory, behind the same `KernelSet` as the reference kernels.
export { fastCpuKernels, FAST_CPU_CONFIG } from './kernels.js';
export { setNumThreads, getNumThreads, startCpuThreads, wasmRuntime, WasmRuntime, allocTensorArray, releaseTensorArray, setPoisonNewArrays } from './runtime.js';
export { buildKernelModule, WASM_EXPORTS } from './module.js';
export { relaxedSimdAvailable } from './relaxed_simd.js';
export { ModuleBuilder, FuncBuilder, ByteWriter, type ValType, type Val, type Local, type Label, type FuncRef } from './emitter.js';
