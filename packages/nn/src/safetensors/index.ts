// Safetensors support: the file format on bytes (serialize/parse with full validation), dtype
// codecs (F16/BF16/FP8 conversions, typed-array decoding) and Node file helpers (node_io.ts,
// which imports node:fs lazily).
export * from './errors.js';
export * from './dtypes.js';
export * from './half.js';
export * from './codec.js';
export * from './format.js';
export * from './node_io.js';
