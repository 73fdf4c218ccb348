// The closing summary of the example: one row per task and metric — the model's value beside the
// baselines' — as a plain-text table.
import type { CharLmResult } from './charlm.js';
import type { ForecastResult } from './forecast.js';

export interface SummaryRow { task: string; model: string; metric: string; value: string; baseline: string; wall: string }

const seconds = (s: number) => `${s.toFixed(1)} s`;

export function summaryRows(charlm?: CharLmResult, forecast?: ForecastResult): SummaryRow[] {
  const rows: SummaryRow[] = [];
  if (charlm) {
    const b = charlm.baselines;
    const wall = seconds(charlm.wallSeconds);
    rows.push(
      { task: 'charlm', model: charlm.model, metric: 'val loss (nats/char)', value: charlm.valNll.toFixed(4), baseline: `unigram ${b.unigramNll.toFixed(4)}, bigram ${b.bigramNll.toFixed(4)}`, wall },
      { task: 'charlm', model: charlm.model, metric: 'val perplexity', value: charlm.valPerplexity.toFixed(2), baseline: `unigram ${Math.exp(b.unigramNll).toFixed(2)}, bigram ${Math.exp(b.bigramNll).toFixed(2)}`, wall: '' },
    );
  }
  if (forecast) {
    const t = forecast.test;
    const wall = seconds(forecast.wallSeconds);
    rows.push(
      { task: 'forecast', model: forecast.model, metric: 'test MSE', value: t.model.mse.toFixed(4), baseline: `last value ${t.lastValue.mse.toFixed(4)}, seasonal naive ${t.seasonalNaive.mse.toFixed(4)} (noise ${forecast.noiseVariance.toFixed(4)})`, wall },
      { task: 'forecast', model: forecast.model, metric: 'test MAE', value: t.model.mae.toFixed(4), baseline: `last value ${t.lastValue.mae.toFixed(4)}, seasonal naive ${t.seasonalNaive.mae.toFixed(4)}`, wall: '' },
    );
  }
  return rows;
}

/** The rows as an aligned text table with a header. */
export function formatTable(rows: readonly SummaryRow[]): string {
  const head: SummaryRow = { task: 'task', model: 'model', metric: 'metric', value: 'value', baseline: 'baselines', wall: 'wall time' };
  const keys = Object.keys(head) as (keyof SummaryRow)[];
  const all = [head, ...rows];
  const width = keys.map((k) => Math.max(...all.map((r) => r[k].length)));
  const line = (r: SummaryRow) => keys.map((k, i) => r[k].padEnd(width[i]!)).join('  ').trimEnd();
  return [line(head), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
