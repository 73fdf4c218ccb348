// Reduce-on-plateau: cuts the LR by `factor` when a monitored metric stops improving, with
// torch.optim.lr_scheduler.ReduceLROnPlateau's exact rules (threshold modes, patience,
// cooldown, minLr, eps).

import { ValueError, checkEnum, checkFunction, checkNumber, checkRange, checkSize, fmtValue, notTraceable } from '@webgrad/core';
import { Optimizer } from '../optimizer.js';
import { checkScheduleOptions } from './types.js';

/** Options of ReduceLrOnPlateau (torch's ReduceLROnPlateau arguments, camelCase). */
export interface ReduceLrOnPlateauOptions {
  /** The starting LR. */
  lr: number;
  /** 'min' (default): lower is better; 'max': higher is better. */
  mode?: 'min' | 'max';
  /** new lr = max(lr * factor, minLr) (default 0.1). */
  factor?: number;
  /** Bad steps tolerated before a cut (default 10). */
  patience?: number;
  /** Improvement threshold (default 1e-4). */
  threshold?: number;
  /** 'rel' (default): better than best*(1 -/+ threshold); 'abs': better than best -/+ threshold. */
  thresholdMode?: 'rel' | 'abs';
  /** Steps to wait after a cut before counting bad steps again (default 0). */
  cooldown?: number;
  /** Lower bound on the LR (default 0). */
  minLr?: number;
  /** Cuts smaller than eps are skipped (default 1e-8). */
  eps?: number;
  /** Called with the new LR whenever it changes. */
  onLr?: (lr: number) => void;
  /** An optimizer whose parameter groups are each cut by `factor` (to at least minLr), as torch does. */
  optimizer?: Optimizer;
}

/** ReduceLrOnPlateau's state dict. */
export interface ReduceLrOnPlateauState {
  /** The current LR. */
  lr: number;
  /** The best metric seen. */
  best: number;
  /** Steps since the last improvement (torch's `num_bad_epochs`). */
  numBadSteps: number;
  /** Steps of cooldown left. */
  cooldownCounter: number;
  /** Steps taken. */
  lastStep: number;
}

/** Cuts the LR by `factor` when a metric stops improving, with torch.optim.lr_scheduler.ReduceLROnPlateau's rules (threshold modes, patience, cooldown, minLr, eps). Call `step(metric)` after each evaluation. */
export class ReduceLrOnPlateau {
  private lr: number;
  private best: number;
  private numBadSteps = 0;
  private cooldownCounter = 0;
  private lastStep = 0;
  private readonly o: Required<Omit<ReduceLrOnPlateauOptions, 'onLr' | 'optimizer'>> & Pick<ReduceLrOnPlateauOptions, 'onLr' | 'optimizer'>;

  constructor(options: ReduceLrOnPlateauOptions) {
    const op = 'ReduceLrOnPlateau';
    checkScheduleOptions(op, options, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps', 'onLr', 'optimizer']);
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.o = {
      mode: 'min',
      factor: 0.1,
      patience: 10,
      threshold: 1e-4,
      thresholdMode: 'rel',
      cooldown: 0,
      minLr: 0,
      eps: 1e-8,
      ...given,
    } as typeof this.o;
    checkEnum(op, 'mode', this.o.mode, ['min', 'max']);
    checkRange(op, 'factor', this.o.factor, 0, 1, { hi: true });
    checkSize(op, 'patience', this.o.patience);
    checkRange(op, 'threshold', this.o.threshold, 0, Infinity);
    checkEnum(op, 'thresholdMode', this.o.thresholdMode, ['rel', 'abs']);
    checkSize(op, 'cooldown', this.o.cooldown);
    checkRange(op, 'minLr', this.o.minLr, 0, Infinity);
    checkRange(op, 'eps', this.o.eps, 0, Infinity);
    if (this.o.onLr !== undefined) checkFunction(op, 'onLr', this.o.onLr);
    if (this.o.optimizer !== undefined && !(this.o.optimizer instanceof Optimizer)) throw new ValueError(`${op}: optimizer must be an Optimizer, got ${fmtValue(this.o.optimizer)}`);
    this.lr = options.lr;
    this.best = this.o.mode === 'min' ? Infinity : -Infinity;
  }

  private isBetter(a: number): boolean {
    const { mode, thresholdMode: tm, threshold: th } = this.o;
    const best = this.best;
    if (mode === 'min') return tm === 'rel' ? a < best * (1 - th) : a < best - th;
    return tm === 'rel' ? a > best * (th + 1) : a > best + th;
  }

  /** Report the metric for this epoch/evaluation; returns the (possibly reduced) LR. */
  step(metric: number): number {
    checkNumber('ReduceLrOnPlateau.step', 'metric', metric);
    notTraceable('ReduceLrOnPlateau.step takes a metric from the host, which a replay would repeat; call it outside the compiled step');
    this.lastStep += 1;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadSteps = 0;
    } else {
      this.numBadSteps += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadSteps = 0; // bad steps during cooldown do not count
    }
    if (this.numBadSteps > this.o.patience) {
      for (const g of this.o.optimizer?.paramGroups ?? []) {
        const cut = Math.max(g.lr * this.o.factor, this.o.minLr);
        if (g.lr - cut > this.o.eps) g.lr = cut;
      }
      const newLr = Math.max(this.lr * this.o.factor, this.o.minLr);
      if (this.lr - newLr > this.o.eps) {
        this.lr = newLr;
        this.o.onLr?.(newLr);
      }
      this.cooldownCounter = this.o.cooldown;
      this.numBadSteps = 0;
    }
    return this.lr;
  }

  /** The current LR. */
  getLastLr(): number {
    return this.lr;
  }

  /** The best metric seen (±Infinity before the first step). */
  get bestMetric(): number {
    return this.best;
  }

  /** Whether a cut happened less than `cooldown` steps ago (bad steps are not counted then). */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** A snapshot of the state, for checkpoints. */
  stateDict(): ReduceLrOnPlateauState {
    return { lr: this.lr, best: this.best, numBadSteps: this.numBadSteps, cooldownCounter: this.cooldownCounter, lastStep: this.lastStep };
  }

  /** Restores a snapshot made by `stateDict()`. */
  loadStateDict(s: ReduceLrOnPlateauState): void {
    this.lr = s.lr;
    this.best = s.best;
    this.numBadSteps = s.numBadSteps;
    this.cooldownCounter = s.cooldownCounter;
    this.lastStep = s.lastStep;
  }
}
