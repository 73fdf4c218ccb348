// Stateful wrapper over a pure LrSchedule with torch's stepping convention
// (step()/getLastLr()/stateDict()/loadStateDict()), attached to an optimizer whose parameter
// groups it drives, plus lrCurve for plots and tests.

import { ValueError, checkOptions, checkSize, fmtValue, hostAction } from '@webgrad/core';
import type { Optimizer } from '../optimizer.js';
import type { LrSchedule } from './types.js';

/** Checkpointable state of an LrScheduler. */
export interface LrSchedulerState {
  /** Steps taken (number of `step()` calls). */
  lastStep: number;
  /** The LR of that step. */
  lastLr: number;
  /** Each parameter group's LR when the scheduler was attached (torch's `initial_lr`). */
  initialLrs?: number[];
}

/** Options of LrScheduler. */
export interface LrSchedulerOptions {
  /** The optimizer whose groups' LRs this scheduler sets (at construction and after every step). */
  optimizer?: Optimizer;
  /** Called with the new LR after construction and after every step. */
  onLr?: (lr: number) => void;
}

const isOptimizer = (x: unknown): x is Optimizer =>
  typeof x === 'object' && x !== null && Array.isArray((x as Optimizer).paramGroups) && typeof (x as Optimizer).step === 'function';

/**
 * Like a torch LR scheduler: after construction the current step is 0 and getLastLr() is
 * lrAt(0); each step() advances by one, so after k calls getLastLr() === lrAt(k). Call step()
 * after each optimizer step.
 *
 * Attached to an optimizer (`new LrScheduler(optimizer, schedule)` or `{ optimizer }`), it sets
 * every parameter group's LR to that group's initial LR × lrAt(step) / schedule.baseLr — a group
 * built with half the LR stays at half, as torch's schedulers keep per-group ratios. A schedule
 * whose baseLr matches none of the groups' LRs is refused rather than silently rescaled.
 */
export class LrScheduler {
  /** The schedule applied. */
  readonly schedule: LrSchedule;
  private lastStep = 0;
  private lastLr: number;
  private readonly optimizer: Optimizer | undefined;
  private readonly onLr: ((lr: number) => void) | undefined;
  private initialLrs: number[];

  constructor(optimizer: Optimizer, schedule: LrSchedule, options?: Omit<LrSchedulerOptions, 'optimizer'>);
  constructor(schedule: LrSchedule, options?: LrSchedulerOptions);
  constructor(a: Optimizer | LrSchedule, b?: LrSchedule | LrSchedulerOptions, c?: LrSchedulerOptions) {
    const [schedule, options] = isOptimizer(a) ? [b as LrSchedule, { ...checkOptions('LrScheduler', c, ['onLr']), optimizer: a }] : [a, checkOptions('LrScheduler', b as LrSchedulerOptions | undefined, ['optimizer', 'onLr'])];
    if (typeof schedule !== 'object' || schedule === null || typeof schedule.lrAt !== 'function') {
      throw new ValueError('LrScheduler: expected a schedule ({ lrAt(step) }, e.g. cosineWithWarmup({...}))');
    }
    if (options.optimizer !== undefined && !isOptimizer(options.optimizer)) throw new ValueError('LrScheduler: optimizer must be an Optimizer');
    if (options.onLr !== undefined && typeof options.onLr !== 'function') throw new ValueError('LrScheduler: onLr must be a function');
    this.schedule = schedule;
    this.optimizer = options.optimizer;
    this.onLr = options.onLr;
    this.initialLrs = this.optimizer ? this.optimizer.paramGroups.map((g) => g.lr) : [];
    if (this.optimizer) checkAttachable(schedule, this.initialLrs);
    this.lastLr = schedule.lrAt(0);
    this.apply();
  }

  /** Each group's LR at the current step (what the attached optimizer uses). */
  groupLrs(): number[] {
    const lr = this.lastLr;
    const base = this.schedule.baseLr;
    if (base === undefined) return this.initialLrs.map(() => lr);
    return this.initialLrs.map((g) => (g === base ? lr : base === 0 ? 0 : (g * lr) / base));
  }

  private apply(): void {
    if (this.optimizer) {
      const lrs = this.groupLrs();
      this.optimizer.paramGroups.forEach((g, i) => { g.lr = lrs[i]!; });
    }
    this.onLr?.(this.lastLr);
  }

  /** Advance one step; returns the new LR (the schedule's; `groupLrs()` gives each group's). Inside a compiled step it is a host action, so every replay advances it. */
  step(): number {
    return hostAction('LrScheduler.step', () => {
      this.lastStep += 1;
      this.lastLr = this.schedule.lrAt(this.lastStep);
      this.apply();
      return this.lastLr;
    });
  }

  /** The LR of the current step: `schedule.lrAt(currentStep)`. */
  getLastLr(): number {
    return this.lastLr;
  }

  /** Current step (number of step() calls since step 0). */
  get currentStep(): number {
    return this.lastStep;
  }

  /** A snapshot of the step, LR and (when attached) each group's initial LR, for checkpoints. */
  stateDict(): LrSchedulerState {
    return { lastStep: this.lastStep, lastLr: this.lastLr, ...(this.optimizer ? { initialLrs: [...this.initialLrs] } : {}) };
  }

  /** Restore a checkpoint; the LR is recomputed from the schedule at the restored step. */
  loadStateDict(state: LrSchedulerState): void {
    if (!Number.isInteger(state.lastStep) || state.lastStep < 0) throw new RangeError(`LrScheduler: invalid lastStep ${state.lastStep}`);
    if (state.initialLrs !== undefined) {
      if (!this.optimizer || !Array.isArray(state.initialLrs) || state.initialLrs.length !== this.initialLrs.length || !state.initialLrs.every((x) => Number.isFinite(x) && x >= 0)) {
        throw new RangeError(`LrScheduler: the saved initial LRs ${JSON.stringify(state.initialLrs)} do not fit this scheduler's ${this.initialLrs.length} parameter group(s)`);
      }
      this.initialLrs = [...state.initialLrs];
    }
    this.lastStep = state.lastStep;
    this.lastLr = this.schedule.lrAt(this.lastStep);
    this.apply();
  }
}

/** Refuse an attachment whose result would not be what the user wrote. */
function checkAttachable(schedule: LrSchedule, lrs: number[]): void {
  const base = schedule.baseLr;
  if (base === undefined) {
    if (new Set(lrs).size > 1) {
      throw new ValueError(`LrScheduler: the schedule has no baseLr, so it cannot keep the ${lrs.length} parameter groups' own learning rates (${lrs.join(', ')}); give it a baseLr or use lambdaLr(step => factor)`);
    }
    return;
  }
  if (!schedule.isFactor && !lrs.some((lr) => Math.abs(lr - base) <= 1e-12 * Math.max(1, Math.abs(base)))) {
    throw new ValueError(`LrScheduler: the schedule was built for lr ${base} but the optimizer's groups have lr ${lrs.join(', ')}; each group's LR is scaled by lrAt(step) / ${base}, so build the optimizer with lr ${base} (or the schedule with the optimizer's lr)`);
  }
}

/** [lrAt(0), …, lrAt(steps - 1)]. */
export function lrCurve(schedule: LrSchedule, steps: number): number[] {
  if (typeof schedule !== 'object' || schedule === null || typeof schedule.lrAt !== 'function') throw new ValueError(`lrCurve: schedule must be a schedule ({ lrAt(step) }), got ${fmtValue(schedule)}`);
  checkSize('lrCurve', 'steps', steps);
  const out: number[] = [];
  for (let t = 0; t < steps; t++) out.push(schedule.lrAt(t));
  return out;
}
