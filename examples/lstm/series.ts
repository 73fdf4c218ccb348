// A generated seasonal time series for the forecasting task, deterministic from a seed: hourly-like
// data with a daily cycle of period P (a fundamental and its second harmonic, so one cycle is not a
// plain sine), a slow cycle of period 7·P (a "week") that shifts the daily level, and Gaussian
// noise. Seasonal naive (the value one period ago) misses the weekly drift and carries the noise of
// two samples; the last value misses the daily slope; a model that reads the whole window can do
// better than both, down to the noise variance σ² that no forecast can beat.
import { SeededRandom } from '@webgrad/data';

export interface SeriesOptions {
  /** Number of values (default 3000). */
  length?: number;
  /** The daily period P in steps (default 24). */
  period?: number;
  /** Standard deviation σ of the noise (default 0.15). */
  noise?: number;
  seed?: number;
}

export interface Series {
  values: Float32Array;
  period: number;
  noise: number;
}

export function generateSeries(opts: SeriesOptions = {}): Series {
  const n = opts.length ?? 3000;
  const P = opts.period ?? 24;
  const sigma = opts.noise ?? 0.15;
  const rng = new SeededRandom(opts.seed ?? 0);
  const phase = 2 * Math.PI * rng.random();
  const values = new Float32Array(n);
  for (let t = 0; t < n; t++) {
    const day = (2 * Math.PI * t) / P;
    const week = (2 * Math.PI * t) / (7 * P) + phase;
    // Box–Muller: one standard normal from two uniforms (1 − u keeps the log finite).
    const z = Math.sqrt(-2 * Math.log(1 - rng.random())) * Math.cos(2 * Math.PI * rng.random());
    values[t] = Math.sin(day) + 0.5 * Math.sin(2 * day + 1) + 0.4 * Math.sin(week) + sigma * z;
  }
  return { values, period: P, noise: sigma };
}
