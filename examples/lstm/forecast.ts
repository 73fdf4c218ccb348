// Task 2, sequence forecasting: a Forecaster (LSTM or GRU) reads a window of W values of the
// generated seasonal series and predicts the next K. The series is split in time order 70/15/15
// (train / val / test) and standardized with the training mean and deviation; validation and
// test windows take their inputs from just before their split so that every target lies in it.
// The Trainer keeps the best checkpoint by validation MSE; that model is scored on the test split,
// in the series' own units, against the last-value and seasonal-naive forecasts.
import { join } from 'node:path';
import { manualSeed, noGrad, type DeviceName, type Tensor } from '@webgrad/core';
import { DataLoader } from '@webgrad/data';
import { mseLoss } from '@webgrad/nn';
import { Adam, LrScheduler, bestCheckpoint, cosineWithWarmup, loadCheckpoint } from '@webgrad/optim';
import { Trainer, formatSummary, type ProgressStream, type TrainResult } from '@webgrad/train';
import { forecastErrors, naiveForecasts, type ForecastErrors } from './baselines.js';
import { Forecaster, type Cell } from './models.js';
import { generateSeries } from './series.js';
import { ForecastWindows } from './windows.js';

export interface ForecastOptions {
  device: DeviceName;
  cell: Cell;
  hidden: number;
  layers: number;
  /** Past values the model reads, W (at least the period). */
  window: number;
  /** Values predicted, K (at most the period). */
  horizon: number;
  /** Length of the generated series. */
  length: number;
  batchSize: number;
  /** Optimizer steps, or passes over the training windows when `epochs` is given. */
  steps: number;
  epochs?: number;
  lr: number;
  warmup: number;
  gradClip: number;
  evalInterval: number;
  seed: number;
  out: string;
  resume?: boolean;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
  handleSigint?: boolean;
}

export const FORECAST_DEFAULTS = {
  cell: 'lstm', hidden: 32, layers: 1, window: 48, horizon: 1, length: 3000, batchSize: 64, steps: 400,
  lr: 1e-2, warmup: 20, gradClip: 1, evalInterval: 50,
} as const;

export interface ForecastResult {
  train: TrainResult;
  /** e.g. 'LSTM 1×32'. */
  model: string;
  parameters: number;
  /** Test errors in the series' units: the model (best checkpoint) and the naive forecasts. */
  test: { model: ForecastErrors; lastValue: ForecastErrors; seasonalNaive: ForecastErrors; windows: number };
  /** The noise variance σ², the least MSE any forecast can expect. */
  noiseVariance: number;
  period: number;
  bestStep: number;
  wallSeconds: number;
}

type Batch = { x: Tensor; y: Tensor };

export async function trainForecaster(opts: ForecastOptions): Promise<ForecastResult> {
  const t0 = performance.now();
  const stream = opts.stream ?? process.stdout;
  const say = (s: string) => { stream.write(`${s}\n`); };
  const { values, period, noise } = generateSeries({ length: opts.length });
  const [W, K] = [opts.window, opts.horizon];
  if (!(K <= period && period <= W)) throw new RangeError(`forecast: needs horizon ≤ period ≤ window (the seasonal-naive baseline looks one period back), got horizon ${K}, period ${period}, window ${W}`);
  const n = values.length;
  const [trainEnd, valEnd] = [Math.floor(n * 0.7), Math.floor(n * 0.85)];
  let mean = 0;
  for (let i = 0; i < trainEnd; i++) mean += values[i]!;
  mean /= trainEnd;
  let variance = 0;
  for (let i = 0; i < trainEnd; i++) variance += (values[i]! - mean) ** 2;
  const std = Math.sqrt(variance / trainEnd);
  const scaled = values.map((v) => (v - mean) / std);
  // Each split's windows: inputs may reach W values back into the previous split, targets may not.
  const trainSeries = scaled.subarray(0, trainEnd);
  const valSeries = scaled.subarray(trainEnd - W, valEnd);
  const testSeries = scaled.subarray(valEnd - W);
  say(`data: generated seasonal series — ${n} values (period ${period}, a 7×${period} slow cycle, noise σ ${noise}); train ${trainEnd} / val ${valEnd - trainEnd} / test ${n - valEnd}; window ${W} → next ${K}`);

  const loader = (s: Float32Array, shuffle: boolean) => new DataLoader(new ForecastWindows(s, W, K), {
    batchSize: shuffle ? opts.batchSize : 256, shuffle, seed: opts.seed, dropLast: shuffle, device: opts.device,
  });
  const trainLoader = loader(trainSeries, true);
  const evalData = { train: loader(trainSeries.subarray(trainEnd - (valEnd - trainEnd) - W), false), val: loader(valSeries, false) };

  manualSeed(opts.seed);
  const config = { cell: opts.cell, hiddenSize: opts.hidden, numLayers: opts.layers, horizon: K };
  const model = new Forecaster({ ...config, device: opts.device });
  const parameters = model.numParameters();
  const label = `${opts.cell.toUpperCase()} ${opts.layers}×${opts.hidden}`;
  const steps = opts.epochs !== undefined ? opts.epochs * trainLoader.length : opts.steps;
  say(`model: ${label} → linear ${K} — ${parameters.toLocaleString('en-US')} parameters; ${steps} steps of ${opts.batchSize} windows, Adam lr ${opts.lr} (cosine to ${opts.lr / 10}), clip ${opts.gradClip}, seed ${opts.seed}, ${opts.device}`);

  const optimizer = new Adam(model.parameters(), { lr: opts.lr });
  const scheduler = new LrScheduler(optimizer, cosineWithWarmup({ lr: opts.lr, warmupSteps: opts.warmup, decaySteps: Math.max(steps, opts.warmup + 1), minLr: opts.lr / 10 }));
  const loss = ({ x, y }: Batch) => mseLoss(model.forward(x), y); // (B, K) vs (B, K), standardized units
  try {
    const trainer = new Trainer<Batch>({
      model, optimizer, scheduler, trainData: trainLoader,
      ...(opts.epochs !== undefined ? { epochs: opts.epochs } : { steps }),
      trainLoss: loss, evalData, evalLoss: (_split, batch) => loss(batch),
      evalInterval: opts.evalInterval, best: { metric: 'val', mode: 'min' }, gradClip: opts.gradClip,
      itemsPerStep: opts.batchSize, itemsName: 'windows', outDir: opts.out, resume: opts.resume,
      checkpointExtra: { model: config, mean, std },
      config: { task: 'forecast', series: { length: n, period, noise }, model: config, window: W, batchSize: opts.batchSize, steps, lr: opts.lr, warmup: opts.warmup, gradClip: opts.gradClip, seed: opts.seed, device: opts.device },
      stream, tty: opts.tty, fsync: opts.fsync, handleSigint: opts.handleSigint,
    });
    const result = await trainer.run();
    say(formatSummary(result));

    // The best checkpoint's forecasts of every test window, back in the series' units.
    const best = await bestCheckpoint(join(opts.out, 'checkpoints'), 'min');
    if (best) await loadCheckpoint(best.path, { model, restoreRng: false });
    model.eval();
    const pred: number[] = [];
    for (const { x } of loader(testSeries, false)) {
      const p = noGrad(() => model.forward(x)); // (B, K)
      for (const v of await p.data()) pred.push(v * std + mean);
      p.dispose();
    }
    const naive = naiveForecasts(values.subarray(valEnd - W), W, K, period);
    const test = {
      model: forecastErrors(pred, naive.target), lastValue: forecastErrors(naive.last, naive.target),
      seasonalNaive: forecastErrors(naive.seasonal, naive.target), windows: naive.target.length / K,
    };
    say(`forecast: test MSE ${test.model.mse.toFixed(4)} / MAE ${test.model.mae.toFixed(4)} from the step-${best?.step ?? result.step} checkpoint; last value ${test.lastValue.mse.toFixed(4)} / ${test.lastValue.mae.toFixed(4)}, seasonal naive ${test.seasonalNaive.mse.toFixed(4)} / ${test.seasonalNaive.mae.toFixed(4)}; noise variance ${(noise ** 2).toFixed(4)}`);
    return { train: result, model: label, parameters, test, noiseVariance: noise ** 2, period, bestStep: best?.step ?? result.step, wallSeconds: (performance.now() - t0) / 1000 };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
