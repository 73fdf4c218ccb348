// What the MNIST example prints: the summary table (model, parameters, accuracy, time)
// and the confusion matrix with per-digit accuracy.
import { formatTable, percent } from '../shared/table.js';
import type { ModelReport } from './mnist.js';

/** One row per model. */
export function formatSummaryTable(models: readonly ModelReport[]): string {
  return formatTable(
    ['model', 'params', 'epochs', 'best epoch', 'val acc', 'test acc', 'test NLL', 'wall time'],
    models.map((m) => [
      m.kind, m.parameters.toLocaleString('en-US'), String(m.epochs), String(m.bestEpoch), percent(m.bestValAccuracy),
      percent(m.testAccuracy), m.testNll.toFixed(4), `${m.wallSeconds.toFixed(1)} s`,
    ]),
  );
}

/** Rows: true digit; columns: predicted digit; last column: the digit's accuracy. */
export function formatConfusion(matrix: readonly (readonly number[])[], perClass: readonly number[]): string {
  const header = ['true\\pred', ...matrix.map((_, j) => String(j)), 'acc'];
  const rows = matrix.map((row, i) => [String(i), ...row.map(String), percent(perClass[i]!)]);
  return formatTable(header, rows);
}
