// Early stopping on a monitored validation metric: patience, minimum improvement, min/max
// mode, best-step tracking, and an onImprove callback so callers can snapshot the best weights.
import { checkBool, checkEnum, checkFinite, checkFunction, checkNumber, checkOptions, checkSize } from '@webgrad/core';

/** Options of EarlyStopping (after Keras' / Lightning's `patience`, `min_delta`, `mode`). */
export interface EarlyStoppingOptions {
  /** Non-improving steps tolerated; stop when this many happen in a row (default 10). */
  patience?: number;
  /** An improvement must beat the best by more than this (default 0). */
  minDelta?: number;
  /** 'min' (default): lower is better; 'max': higher is better. */
  mode?: 'min' | 'max';
  /** Stop at once on a NaN/infinite metric (default true). */
  stopOnNonFinite?: boolean;
  /** Called when the metric improves, e.g. to snapshot the model weights for restoring later. */
  onImprove?: (info: { step: number; metric: number }) => void;
}

/** Result of `EarlyStopping.step`: whether to stop, and whether this metric was a new best. */
export interface EarlyStoppingResult {
  /** Stop training now. */
  stop: boolean;
  /** This metric is the new best. */
  improved: boolean;
  /** Why stopping was requested (undefined while training should go on). */
  reason?: 'patience' | 'non_finite';
}

/** EarlyStopping's state dict: best metric, its step, evaluations since it, steps seen, stopped. */
export interface EarlyStoppingState {
  /** The best metric (±Infinity before the first finite one). */
  best: number;
  /** The index of the step that gave it (−1 before). */
  bestStep: number;
  /** Steps since the best. */
  wait: number;
  /** Index of the last step (−1 before the first). */
  step: number;
  /** Whether a stop was requested. */
  stopped: boolean;
}

/**
 * Call step(metric) after each evaluation. A metric improves when it is below best - minDelta
 * ('min') or above best + minDelta ('max'); after `patience` evaluations in a row without
 * improvement, step() returns stop: true (as Keras/Lightning EarlyStopping with wait >= patience).
 */
export class EarlyStopping {
  private best: number;
  private bestStepIndex = -1;
  private wait = 0;
  private stepIndex = -1;
  private stopped = false;
  private readonly patience: number;
  private readonly minDelta: number;
  private readonly mode: 'min' | 'max';
  private readonly stopOnNonFinite: boolean;

  constructor(private readonly options: EarlyStoppingOptions = {}) {
    const op = 'EarlyStopping';
    checkOptions(op, options, ['patience', 'minDelta', 'mode', 'stopOnNonFinite', 'onImprove']);
    this.patience = checkSize(op, 'patience', options.patience === undefined ? 10 : options.patience);
    this.minDelta = Math.abs(checkFinite(op, 'minDelta', options.minDelta === undefined ? 0 : options.minDelta));
    this.mode = checkEnum(op, 'mode', options.mode === undefined ? 'min' : options.mode, ['min', 'max']);
    this.stopOnNonFinite = checkBool(op, 'stopOnNonFinite', options.stopOnNonFinite === undefined ? true : options.stopOnNonFinite);
    if (options.onImprove !== undefined) checkFunction(op, 'onImprove', options.onImprove);
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  /** Records one evaluation's metric (a ValueError if not a number); says whether to stop. */
  step(metric: number): EarlyStoppingResult {
    checkNumber('EarlyStopping.step', 'metric', metric);
    this.stepIndex += 1;
    if (!Number.isFinite(metric)) {
      this.wait += 1;
      if (this.stopOnNonFinite) {
        this.stopped = true;
        return { stop: true, improved: false, reason: 'non_finite' };
      }
    } else {
      const improved = this.mode === 'min' ? metric < this.best - this.minDelta : metric > this.best + this.minDelta;
      if (improved) {
        this.best = metric;
        this.bestStepIndex = this.stepIndex;
        this.wait = 0;
        this.options.onImprove?.({ step: this.stepIndex, metric });
        return { stop: false, improved: true };
      }
      this.wait += 1;
    }
    if (this.wait >= this.patience) {
      this.stopped = true;
      return { stop: true, improved: false, reason: 'patience' };
    }
    return { stop: false, improved: false };
  }

  /** Best metric seen (±Infinity before any finite metric). */
  get bestMetric(): number {
    return this.best;
  }

  /** 0-based index of the step() call that produced the best metric (-1 if none). */
  get bestStep(): number {
    return this.bestStepIndex;
  }

  /** Evaluations since the last improvement. */
  get waitCount(): number {
    return this.wait;
  }

  /** Whether a stop was requested. */
  get shouldStop(): boolean {
    return this.stopped;
  }

  /** A snapshot of the state, for checkpoints. */
  stateDict(): EarlyStoppingState {
    return { best: this.best, bestStep: this.bestStepIndex, wait: this.wait, step: this.stepIndex, stopped: this.stopped };
  }

  /** Restores a snapshot made by `stateDict()`. */
  loadStateDict(s: EarlyStoppingState): void {
    this.best = s.best;
    this.bestStepIndex = s.bestStep;
    this.wait = s.wait;
    this.stepIndex = s.step;
    this.stopped = s.stopped;
  }
}
