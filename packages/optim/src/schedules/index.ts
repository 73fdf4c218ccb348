// Learning-rate schedules: pure `{ lrAt(step) }` schedules, their composition, the stateful
// LrScheduler wrapper, reduce-on-plateau, and lrCurve.
export * from './types.js';
export * from './basic.js';
export * from './one_cycle.js';
export * from './sequential.js';
export * from './scheduler.js';
export * from './plateau.js';
