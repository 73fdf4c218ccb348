// @webgrad/optim: optimizers, LR schedules, gradient utilities, LoRA and checkpoints.
export * from './schedules/index.js';
export * from './early_stopping.js';
