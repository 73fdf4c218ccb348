// What a run leaves for people: the loss plot (SVG) and a short text summary.
import { lineChart } from './svg_plot.js';
import { formatDuration } from './progress.js';
import type { EvalRecord, TrainResult } from './options.js';

/** The loss plot: per-step training loss (light), and each evaluated split with markers. */
export function lossPlot(trainLosses: readonly [number, number][], evals: readonly EvalRecord[], splits: readonly string[]): string {
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e'];
  return lineChart([
    { name: 'train (per step)', points: trainLosses, color: '#b9cfe3' },
    ...splits.map((s, i) => ({ name: `${s} (eval)`, points: evals.map((e) => [e.step, e.losses[s]!] as [number, number]), color: colors[i % colors.length], markers: true })),
  ], { title: 'Loss', xLabel: 'step', yLabel: 'loss' });
}

/** A short human summary of a finished (or stopped) run. */
export function formatSummary(r: TrainResult, splits?: readonly string[]): string {
  const last = r.evals[r.evals.length - 1];
  const names = splits ?? (last ? Object.keys(last.losses) : []);
  const lines: string[] = [
    `${r.interrupted ? 'stopped' : r.earlyStopped ? 'stopped early' : 'finished'} at step ${r.step} (this run: ${r.step - r.startStep} steps from ${r.startStep}) in ${formatDuration(r.wallSeconds)}`,
  ];
  if (Number.isFinite(r.msPerStep)) {
    lines.push(`training: ${r.msPerStep.toFixed(1)} ms/step${r.itemsPerSecond ? `, ${Math.round(r.itemsPerSecond).toLocaleString('en-US')} ${r.itemsName ?? 'tokens'}/s` : ''} (evaluation excluded)`);
  }
  if (last) {
    const shown = [...names.map((s) => `${s} ${last.losses[s]?.toFixed(4)}`), ...Object.entries(last.metrics ?? {}).map(([k, v]) => `${k} ${v.toFixed(4)}`)];
    lines.push(`final eval @ step ${last.step}: ${shown.join(', ')}`);
  }
  if (Number.isFinite(r.bestMetric)) lines.push(`best ${r.bestMetricName} ${r.bestMetric.toFixed(4)} @ step ${r.bestStep}`);
  lines.push(`checkpoint: ${r.checkpoint ?? '(none)'}`, `metrics:    ${r.metricsPath}`, `plot:       ${r.plotPath}`);
  return lines.join('\n');
}
