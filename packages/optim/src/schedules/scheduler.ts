// Stateful wrapper over a pure LrSchedule with torch's stepping convention
// (step()/getLastLr()/stateDict()/loadStateDict()), plus lrCurve for plots and tests.

import type { LrSchedule } from './types.js';

/** Checkpointable state of an LrScheduler. */
export interface LrSchedulerState {
  lastStep: number;
  lastLr: number;
}

export interface LrSchedulerOptions {
  /** Called with the new LR after construction and after every step (e.g. to set optimizer.lr). */
  onLr?: (lr: number) => void;
}

/**
 * Like a torch LR scheduler: after construction the current step is 0 and getLastLr() is
 * lrAt(0); each step() advances by one, so after k calls getLastLr() === lrAt(k). Call step()
 * after each optimizer step.
 */
export class LrScheduler {
  private lastStep = 0;
  private lastLr: number;

  constructor(
    readonly schedule: LrSchedule,
    private readonly options: LrSchedulerOptions = {},
  ) {
    this.lastLr = schedule.lrAt(0);
    options.onLr?.(this.lastLr);
  }

  /** Advance one step; returns the new LR. */
  step(): number {
    this.lastStep += 1;
    this.lastLr = this.schedule.lrAt(this.lastStep);
    this.options.onLr?.(this.lastLr);
    return this.lastLr;
  }

  getLastLr(): number {
    return this.lastLr;
  }

  /** Current step (number of step() calls since step 0). */
  get currentStep(): number {
    return this.lastStep;
  }

  stateDict(): LrSchedulerState {
    return { lastStep: this.lastStep, lastLr: this.lastLr };
  }

  /** Restore a checkpoint; the LR is recomputed from the schedule at the restored step. */
  loadStateDict(state: LrSchedulerState): void {
    if (!Number.isInteger(state.lastStep) || state.lastStep < 0) throw new RangeError(`LrScheduler: invalid lastStep ${state.lastStep}`);
    this.lastStep = state.lastStep;
    this.lastLr = this.schedule.lrAt(this.lastStep);
    this.options.onLr?.(this.lastLr);
  }
}

/** [lrAt(0), …, lrAt(steps - 1)]. */
export function lrCurve(schedule: LrSchedule, steps: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < steps; t++) out.push(schedule.lrAt(t));
  return out;
}
