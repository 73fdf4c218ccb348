// @webgrad/train: the training loop and what it reports — the Trainer (evaluation, best
// checkpoint and early stopping, gradient accumulation, exact resume, callbacks), the progress bar,
// the JSONL metrics log and SVG plots.
export { Trainer } from './trainer.js';
export type { TrainerOptions, TrainerCallbacks, StepInfo, EvalRecord, TrainResult, StepScheduler, BatchSource, LossOutput, Stateful } from './options.js';
export { BestTracker, type BestOptions, type BestState } from './best.js';
export { lossPlot, formatSummary } from './report.js';
export { ProgressBar, formatDuration, type ProgressOptions, type ProgressStream, type ProgressUpdate } from './progress.js';
export { MetricsLog, readMetrics, type MetricsRecord } from './metrics_log.js';
export { lineChart, niceTicks } from './svg_plot.js';
