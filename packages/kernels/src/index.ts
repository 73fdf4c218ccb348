// @webgrad/kernels: all compute, behind the `KernelSet` contract (types.ts): the CPU reference
// kernels (cpu/, plain TypeScript, the ground truth), the fast CPU kernels (cpu_fast/, by kernel
// family, on the WebAssembly machinery in wasm/), and the WebGPU runtime with its WGSL programs
// (webgpu/). geometry.ts holds the shape/stride helpers they all use.
import './globals.js';
export * from './types.js';
export * from './geometry.js';
export * from './half.js';
export * from './cpu/index.js';
export * from './webgpu/index.js';
export * from './cpu_fast/index.js';
