// @webgrad/nn: modules, layers, models, losses, serialization and metrics.
export * from './metrics/index.js';
export * from './safetensors/index.js';
export * from './module.js';
export * from './containers.js';
export * as init from './init.js';
export * from './layers/linear.js';
export * from './layers/embedding.js';
export * from './layers/norm.js';
export * from './layers/activation.js';
export * from './layers/positional.js';
export * from './layers/transformer_block.js';
export * from './losses.js';
export * from './models/gpt.js';
export * from './models/sampling.js';
export * from './serialization.js';
