// @webgrad/optim: optimizers, LR schedules, gradient utilities, LoRA, pruning and checkpoints.
export * from './schedules/index.js';
export * from './early_stopping.js';
export * from './optimizer.js';
export * from './sgd.js';
export * from './adam.js';
export * from './adamw.js';
export * from './lion.js';
export * from './param_groups.js';
export * from './grad_utils.js';
export * from './grad_scaler.js';
export * from './tensor_io.js';
export * from './lora.js';
export * from './prune/index.js';
export * from './unfreeze.js';
export * from './checkpoint.js';
