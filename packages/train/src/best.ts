// What "better" means for a run, defined once: the monitored metric, its direction and the least
// change that counts. Both the best checkpoint and early stopping ask this tracker, so they never
// disagree about which evaluation was the best.
import { ValueError, checkEnum, checkFinite, checkInt, checkOptions } from '@webgrad/core';

/** What the Trainer's `best` option monitors: the metric, its direction, the least change that counts, and the patience of early stopping. */
export interface BestOptions {
  /** The evaluation metric to monitor: a split's loss by the split's name ('val'), or a name
   *  returned by `evalMetrics` ('accuracy'). Default: the last split's loss. */
  metric?: string;
  /** 'min' (default for losses) or 'max' (accuracy, F1, reward). */
  mode?: 'min' | 'max';
  /** An improvement must beat the best by more than this (default 0). */
  minDelta?: number;
  /** Stop after this many evaluations in a row without improvement (default: never). */
  patience?: number;
}

/** BestTracker's state dict (`best` is null until a finite value was seen). */
export interface BestState {
  /** The best value of the metric so far; null before the first finite one. */
  best: number | null;
  /** The step of that evaluation (−1 before it). */
  bestStep: number;
  /** Evaluations since the last improvement. */
  wait: number;
}

/** The one definition of "best" in a run: the best checkpoint and early stopping both ask it, so they never disagree about which evaluation was the best. */
export class BestTracker {
  /** The monitored metric's name. */
  readonly metric: string;
  /** 'min': lower is better; 'max': higher is better. */
  readonly mode: 'min' | 'max';
  /** The least change that counts as an improvement (≥ 0). */
  readonly minDelta: number;
  /** Evaluations without improvement before a stop is asked for (Infinity: never). */
  readonly patience: number;
  /** The best value so far (±Infinity before the first). */
  best: number;
  /** The step of the best value (−1 before the first). */
  bestStep = -1;
  /** Evaluations since the last improvement. */
  wait = 0;

  constructor(opts: BestOptions, defaultMetric: string) {
    checkOptions('Trainer best', opts, ['metric', 'mode', 'minDelta', 'patience']);
    if (opts.metric !== undefined && (typeof opts.metric !== 'string' || opts.metric === '')) throw new ValueError(`Trainer: best.metric must be a metric name, got ${String(opts.metric)}`);
    this.metric = opts.metric ?? defaultMetric;
    this.mode = opts.mode === undefined ? 'min' : checkEnum('Trainer', 'best.mode', opts.mode, ['min', 'max'] as const);
    this.minDelta = opts.minDelta === undefined ? 0 : Math.abs(checkFinite('Trainer', 'best.minDelta', opts.minDelta));
    this.patience = opts.patience === undefined ? Infinity : checkInt('Trainer', 'best.patience', opts.patience, { min: 1 });
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  /** Whether `value` beats the best by more than minDelta (a NaN never does). */
  isBetter(value: number): boolean {
    return this.mode === 'min' ? value < this.best - this.minDelta : value > this.best + this.minDelta;
  }

  /** Record an evaluation; says whether it is the new best and whether patience ran out. */
  update(step: number, metrics: Record<string, number>): {
    /** The monitored metric's value in `metrics`. */
    value: number;
    /** Whether it is the new best. */
    improved: boolean;
    /** Whether patience ran out. */
    stop: boolean;
  } {
    const value = metrics[this.metric];
    if (value === undefined) {
      throw new ValueError(`Trainer: the monitored metric '${this.metric}' is not among the evaluation's (${Object.keys(metrics).join(', ')})`);
    }
    const improved = this.isBetter(value);
    if (improved) { this.best = value; this.bestStep = step; this.wait = 0; } else this.wait++;
    return { value, improved, stop: this.wait >= this.patience };
  }

  /** A snapshot of the best value, its step and the evaluations since, for checkpoints. */
  stateDict(): BestState {
    return { best: Number.isFinite(this.best) ? this.best : null, bestStep: this.bestStep, wait: this.wait };
  }

  /** Restores a snapshot made by `stateDict()`. */
  loadStateDict(s: Partial<BestState>): void {
    this.best = typeof s.best === 'number' ? s.best : this.mode === 'min' ? Infinity : -Infinity;
    this.bestStep = s.bestStep ?? -1;
    this.wait = s.wait ?? 0;
  }
}
