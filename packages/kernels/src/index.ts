// @webgrad/kernels: all compute. The CPU reference kernels (plain TypeScript, the ground truth)
// and the WebGPU runtime with its WGSL programs, both behind the `KernelSet` contract.
export * from './types.js';
export * from './geometry.js';
export * from './cpu/index.js';
export * from './webgpu/index.js';
export * from './cpu_fast/index.js';
