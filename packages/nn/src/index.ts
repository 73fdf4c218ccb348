// @webgrad/nn: modules, layers, models, losses, serialization and metrics.
export * from './metrics/index.js';
export * from './safetensors/index.js';
export * from './module.js';
export * from './containers.js';
