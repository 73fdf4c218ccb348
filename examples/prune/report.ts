// The sweep's table (Markdown, so it pastes into the README) and its SVG curves: one series per
// method before and after the fine-tune, x = the fraction of prunable weights that are 0.
import { lineChart } from '@webgrad/train';
import type { SweepPoint } from './sweep.js';

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
type Series = Parameters<typeof lineChart>[0][number];

/** Rows: method, target, measured sparsity, score after pruning, after fine-tuning. */
export function sweepTable(points: readonly SweepPoint[], score: string, fmt: (v: number) => string): string {
  const header = ['method', 'target', 'weights = 0', `${score} pruned`, `${score} fine-tuned`];
  const rows = points.map((p) => [
    p.method, p.pattern ? `${p.pattern[0]}:${p.pattern[1]}` : pct(p.target), pct(p.sparsity), fmt(p.pruned), fmt(p.finetuned),
  ]);
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i < 2 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/** Score against sparsity: for each method, right after pruning (dashed markers) and fine-tuned. */
export function sweepChart(points: readonly SweepPoint[], title: string, yLabel: string): string {
  const methods = [...new Set(points.map((p) => p.method))];
  const series: Series[] = methods.flatMap((m) => {
    const ps = points.filter((p) => p.method === m).sort((a, b) => a.sparsity - b.sparsity);
    return [
      { name: `${m}, pruned`, points: ps.map((p) => [p.sparsity, p.pruned] as const), markers: true },
      { name: `${m}, fine-tuned`, points: ps.map((p) => [p.sparsity, p.finetuned] as const), markers: true },
    ];
  });
  return lineChart(series, { title, xLabel: 'fraction of prunable weights that are 0', yLabel });
}
