// The training loop the examples share: steps inside tidy() (forward, backward, clip, optimizer
// step, LR schedule), evaluation every N steps on each split (mean loss over K batches, no
// gradients), best-on-validation checkpoints (atomic, via optim's saveCheckpoint) and --resume
// from the latest one, a JSONL metrics log, an SVG loss plot, a progress bar, a closing summary,
// and Ctrl-C → checkpoint and a clean stop (a second Ctrl-C quits at once).
//
// Resuming is exact: the checkpoint holds the weights, optimizer moments, scheduler step and the
// global RNG state (which draws the batches and dropout masks), and records whether that step's
// evaluation already ran, so a resumed run takes the same steps an uninterrupted one would.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, tidy, type Tensor } from '@webgrad/core';
import type { Module } from '@webgrad/nn';
import {
  clipGradNorm, latestCheckpoint, loadCheckpoint, saveCheckpoint, type JsonValue, type LrScheduler, type Optimizer,
} from '@webgrad/optim';
import { MetricsLog, type MetricsRecord } from './metrics_log.js';
import { ProgressBar, formatDuration, type ProgressStream } from './progress.js';
import { lineChart } from './svg_plot.js';

export interface TrainerOptions {
  model: Module;
  optimizer: Optimizer;
  scheduler: LrScheduler;
  /** Total optimizer steps of the run (a resumed run continues up to it). */
  steps: number;
  /** Loss of one fresh training batch (a 0-d tensor); called inside tidy() in train mode. */
  trainLoss: () => Tensor;
  /** Loss of one fresh batch of `split`; called inside tidy() and noGrad() in eval mode. */
  evalLoss: (split: string) => Tensor;
  /** Splits to evaluate; the last one ranks checkpoints (default ['train', 'val']). */
  splits?: readonly string[];
  /** Evaluate every this many steps, and at the end (default 250). */
  evalInterval?: number;
  /** Batches per split per evaluation (default 200). */
  evalIters?: number;
  /** Clip the global gradient norm to this (0 or undefined: no clipping). */
  gradClip?: number;
  /** Tokens (or samples) per step, for the throughput figure. */
  itemsPerStep?: number;
  /** Output directory: checkpoints/, metrics.jsonl, loss.svg. */
  outDir: string;
  /** Continue from the latest checkpoint in outDir/checkpoints when there is one. */
  resume?: boolean;
  /** Read the training loss back every this many steps (default 1). */
  logInterval?: number;
  /** Stored with every checkpoint (e.g. the model config and tokenizer). */
  checkpointExtra?: JsonValue;
  /** The run's settings (seed, device, hyperparameters), logged as a `config` record each time a
   *  run starts or resumes, so a metrics log says what produced it. */
  config?: JsonValue;
  /** Stop on SIGINT after saving a checkpoint (default true). */
  handleSigint?: boolean;
  /** fsync checkpoint files (default true). */
  fsync?: boolean;
  /** Where progress and messages go (default process.stdout). */
  stream?: ProgressStream;
  /** Force the progress bar's TTY mode on or off. */
  tty?: boolean;
  /** Called after every step; call trainer.stop() from here to stop as Ctrl-C does. */
  onStep?: (info: StepInfo, trainer: Trainer) => void;
}

export interface StepInfo {
  /** Steps completed. */
  step: number;
  /** The training loss of this step, when it was read back. */
  loss?: number;
  lr: number;
}

export interface EvalRecord { step: number; losses: Record<string, number> }

export interface TrainResult {
  /** The step this run started from (> 0 when resumed). */
  startStep: number;
  /** Steps completed. */
  step: number;
  interrupted: boolean;
  /** Wall time of this run, evaluations and checkpoints included. */
  wallSeconds: number;
  /** Training steps only (evaluations and checkpoints excluded): time per step and throughput. */
  msPerStep: number;
  itemsPerSecond: number;
  /** Training losses read back in this run and earlier runs of the same output directory. */
  trainLosses: [number, number][];
  evals: EvalRecord[];
  bestMetric: number;
  bestStep: number;
  /** Path of the checkpoint written last. */
  checkpoint: string | null;
  metricsPath: string;
  plotPath: string;
}

interface Extra { evaluatedAt: number; bestMetric: number | null; bestStep: number; user?: JsonValue }

const tick = () => new Promise<void>((r) => setImmediate(r));

export class Trainer {
  readonly opts: TrainerOptions;
  #stopRequested = false;

  constructor(opts: TrainerOptions) {
    if (!Number.isInteger(opts.steps) || opts.steps < 0) throw new RangeError(`Trainer: steps must be a non-negative integer, got ${opts.steps}`);
    this.opts = opts;
  }

  /** Stop after the current step, saving a checkpoint (what Ctrl-C does). */
  stop(): void { this.#stopRequested = true; }

  get checkpointDir(): string { return join(this.opts.outDir, 'checkpoints'); }

  /** Mean loss over `iters` (default evalIters) batches of each split, read back once per split. */
  async evaluate(iters = this.opts.evalIters ?? 200): Promise<Record<string, number>> {
    if (!Number.isInteger(iters) || iters < 1) throw new RangeError(`Trainer.evaluate: iters must be a positive integer, got ${iters}`);
    const { model, evalLoss } = this.opts;
    const wasTraining = model.training;
    model.eval();
    const out: Record<string, number> = {};
    try {
      for (const split of this.opts.splits ?? ['train', 'val']) {
        let total: Tensor | undefined;
        for (let k = 0; k < iters; k++) {
          const prev = total;
          total = noGrad(() => tidy(() => {
            const l = evalLoss(split);
            return prev === undefined ? l : prev.add(l);
          }));
          prev?.dispose();
        }
        out[split] = total ? (await total.item()) / iters : NaN;
        total?.dispose();
      }
    } finally {
      model.train(wasTraining);
    }
    return out;
  }

  async run(): Promise<TrainResult> {
    const o = this.opts;
    const { model, optimizer, scheduler } = o;
    const evalInterval = o.evalInterval ?? 250;
    const logInterval = o.logInterval ?? 1;
    const splits = o.splits ?? ['train', 'val'];
    const rank = splits[splits.length - 1]!;
    mkdirSync(o.outDir, { recursive: true });
    const metricsPath = join(o.outDir, 'metrics.jsonl');
    const plotPath = join(o.outDir, 'loss.svg');
    const metrics = new MetricsLog(metricsPath);
    const bar = new ProgressBar({ total: o.steps, stream: o.stream, tty: o.tty });

    let start = 0;
    let evaluatedAt = -1;
    let bestMetric = Infinity;
    let bestStep = -1;
    if (o.resume) {
      const latest = await latestCheckpoint(this.checkpointDir);
      if (latest) {
        const loaded = await loadCheckpoint(latest.path, { model, optimizer, scheduler });
        const extra = (loaded.extra ?? {}) as unknown as Partial<Extra>;
        start = loaded.step;
        evaluatedAt = extra.evaluatedAt ?? -1;
        bestMetric = extra.bestMetric ?? Infinity;
        bestStep = extra.bestStep ?? -1;
        bar.log(`resumed from ${latest.path} at step ${start}`);
      } else {
        bar.log(`--resume: no checkpoint in ${this.checkpointDir}; starting from step 0`);
      }
    }
    const kept = metrics.reset(start > 0
      ? (r) => (r.type === 'train' ? r.step <= start : r.type === 'eval' && (r.step < start || (r.step === start && evaluatedAt === start)))
      : undefined);
    if (o.config !== undefined) metrics.append({ type: 'config', step: start, config: o.config });
    const trainLosses: [number, number][] = kept.filter((r) => r.type === 'train').map((r) => [r.step, r.loss as number]);
    const evals: EvalRecord[] = kept.filter((r) => r.type === 'eval').map((r) => ({ step: r.step, losses: r.losses as Record<string, number> }));

    let lastCheckpoint: string | null = null;
    const save = async (step: number, evaluated: boolean, metric?: number) => {
      const extra: Extra = { evaluatedAt: evaluated ? step : -1, bestMetric: Number.isFinite(bestMetric) ? bestMetric : null, bestStep, user: o.checkpointExtra };
      lastCheckpoint = await saveCheckpoint(this.checkpointDir, {
        model, optimizer, scheduler, step, metric, extra: extra as unknown as JsonValue,
        keep: { last: 1, best: 1 }, fsync: o.fsync,
      });
    };
    const runEval = async (step: number) => {
      const losses = await this.evaluate();
      evals.push({ step, losses });
      metrics.append({ type: 'eval', step, losses });
      const m = losses[rank]!;
      const improved = m < bestMetric;
      if (improved) { bestMetric = m; bestStep = step; }
      bar.log(`step ${step}: ${splits.map((s) => `${s} loss ${losses[s]!.toFixed(4)}`).join(', ')}${improved ? ' (best)' : ''}`);
      return { metric: m, improved };
    };

    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts > 1) { bar.log('second interrupt: exiting without saving'); process.exit(130); }
      bar.log('interrupt: finishing this step and saving a checkpoint (Ctrl-C again to quit now)');
      this.stop();
    };
    if (o.handleSigint ?? true) process.on('SIGINT', onSigint);

    const t0 = performance.now();
    bar.start(start);
    let step = start;
    let lastRead = performance.now();
    let stepsSinceRead = 0;
    let itemsPerSecond = 0;
    let trainMs = 0;
    try {
      model.train();
      while (step < o.steps) {
        if (step % evalInterval === 0 && evaluatedAt !== step) {
          const evalStart = performance.now();
          const { metric, improved } = await runEval(step);
          if (improved && step > 0) await save(step, true, metric);
          lastRead = performance.now();
          bar.exclude(lastRead - evalStart);
        }
        const lr = scheduler.getLastLr();
        const stepStart = performance.now();
        const lossT = tidy(() => {
          const loss = o.trainLoss();
          loss.backward();
          if (o.gradClip) clipGradNorm(optimizer.params(), o.gradClip).dispose();
          optimizer.step();
          optimizer.zeroGrad();
          return loss.detach();
        });
        scheduler.step();
        step++;
        stepsSinceRead++;
        let loss: number | undefined;
        if (step % logInterval === 0 || step === o.steps || this.#stopRequested) {
          loss = await lossT.item();
          const now = performance.now();
          trainMs += now - stepStart;
          itemsPerSecond = ((o.itemsPerStep ?? 0) * stepsSinceRead) / Math.max(1e-9, (now - lastRead) / 1000);
          lastRead = now;
          stepsSinceRead = 0;
          trainLosses.push([step, loss]);
          metrics.append({ type: 'train', step, loss, lr, items_per_s: Math.round(itemsPerSecond) });
          bar.update({ step, loss, lr, tokensPerSec: o.itemsPerStep ? itemsPerSecond : undefined });
        } else {
          trainMs += performance.now() - stepStart; // (time of queued device work is counted at the next read)
        }
        lossT.dispose();
        // A read that resolves at once (CPU) never yields to the event loop, so yield here:
        // that is where a pending Ctrl-C is delivered.
        await tick();
        o.onStep?.({ step, loss, lr }, this);
        if (this.#stopRequested) break;
      }
      const interrupted = step < o.steps;
      if (interrupted) {
        await save(step, false);
        bar.log(`stopped at step ${step}; checkpoint saved to ${lastCheckpoint}`);
      } else {
        const last = evals[evals.length - 1];
        const metric = last && last.step === step ? last.losses[rank]! : (await runEval(step)).metric;
        await save(step, true, metric);
      }
      bar.done();
      const wallSeconds = (performance.now() - t0) / 1000;
      writeFileSync(plotPath, lossPlot(trainLosses, evals, splits));
      const ran = step - start;
      const result: TrainResult = {
        startStep: start, step, interrupted, wallSeconds, msPerStep: ran > 0 ? trainMs / ran : NaN,
        itemsPerSecond: trainMs > 0 ? ((o.itemsPerStep ?? 0) * ran) / (trainMs / 1000) : 0, trainLosses, evals, bestMetric, bestStep, checkpoint: lastCheckpoint, metricsPath, plotPath,
      };
      metrics.append({ type: 'summary', step, interrupted, wall_s: wallSeconds, ms_per_step: result.msPerStep, best: bestMetric, best_step: bestStep, final: evals[evals.length - 1]?.losses ?? null });
      return result;
    } finally {
      if (o.handleSigint ?? true) process.off('SIGINT', onSigint);
    }
  }
}

/** The loss plot: per-step training loss (light), and each evaluated split with markers. */
export function lossPlot(trainLosses: readonly [number, number][], evals: readonly EvalRecord[], splits: readonly string[]): string {
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e'];
  return lineChart([
    { name: 'train (per step)', points: trainLosses, color: '#b9cfe3' },
    ...splits.map((s, i) => ({ name: `${s} (eval)`, points: evals.map((e) => [e.step, e.losses[s]!] as [number, number]), color: colors[i % colors.length], markers: true })),
  ], { title: 'Loss', xLabel: 'step', yLabel: 'cross-entropy (nats)' });
}

/** A short human summary of a finished (or stopped) run. */
export function formatSummary(r: TrainResult, splits: readonly string[] = ['train', 'val']): string {
  const last = r.evals[r.evals.length - 1];
  const lines: string[] = [
    `${r.interrupted ? 'stopped' : 'finished'} at step ${r.step} (this run: ${r.step - r.startStep} steps from ${r.startStep}) in ${formatDuration(r.wallSeconds)}`,
  ];
  if (Number.isFinite(r.msPerStep)) {
    lines.push(`training: ${r.msPerStep.toFixed(1)} ms/step${r.itemsPerSecond ? `, ${Math.round(r.itemsPerSecond).toLocaleString('en-US')} tokens/s` : ''} (evaluation excluded)`);
  }
  if (last) lines.push(`final eval @ step ${last.step}: ${splits.map((s) => `${s} ${last.losses[s]?.toFixed(4)}`).join(', ')}`);
  if (Number.isFinite(r.bestMetric)) lines.push(`best ${splits[splits.length - 1]} loss ${r.bestMetric.toFixed(4)} @ step ${r.bestStep}`);
  lines.push(`checkpoint: ${r.checkpoint ?? '(none)'}`, `metrics:    ${r.metricsPath}`, `plot:       ${r.plotPath}`);
  return lines.join('\n');
}

export type { MetricsRecord };
