// The LR schedule contract: a pure function of the step number.
import { checkFunction, checkOptions, checkRange } from '@webgrad/core';

/**
 * A learning-rate schedule: `lrAt(step)` is the LR to use for optimizer step `step` (0-based).
 * `baseLr` is the LR the schedule was built around (its `lr`, or oneCycle's `maxLr`): a scheduler
 * attached to an optimizer scales each parameter group's own LR by `lrAt(step) / baseLr`, as
 * torch's schedulers scale each group's `initial_lr`. `lambdaLr` gives a pure factor (baseLr 1).
 */
export interface LrSchedule {
  /** The LR (or, with `isFactor`, the multiplier) for optimizer step `step` (0-based). */
  lrAt(step: number): number;
  /** The LR the schedule was built around; attached schedulers scale each group's LR by lrAt(step) / baseLr. */
  readonly baseLr?: number;
  /** `lrAt` is a multiplier of each group's LR, not an LR (lambdaLr). */
  readonly isFactor?: boolean;
}

/** torch LambdaLR: each group's LR is its initial LR times `factor(step)`. */
export function lambdaLr(factor: (step: number) => number): LrSchedule {
  checkFunction('lambdaLr', 'factor', factor);
  return { baseLr: 1, isFactor: true, lrAt: (t) => (checkStep(t), factor(t)) };
}

/** Checks that `step` is an integer ≥ 0; a RangeError otherwise. */
export function checkStep(step: number): void {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`LR schedule: step must be a non-negative integer, got ${step}`);
}

/** A schedule factory's options: known keys and an `lr` (a finite number >= 0) under `lrKey`. */
export function checkScheduleOptions<O extends object>(op: string, opts: O, keys: readonly string[], lrKey = 'lr'): O {
  checkOptions(op, opts, [lrKey, ...keys]);
  checkRange(op, lrKey, (opts as Record<string, unknown>)[lrKey], 0, Infinity);
  return opts;
}
