// The LR schedule contract: a pure function of the step number.

/** A learning-rate schedule: `lrAt(step)` is the LR to use for optimizer step `step` (0-based). */
export interface LrSchedule {
  lrAt(step: number): number;
}

export function checkStep(step: number): void {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`LR schedule: step must be a non-negative integer, got ${step}`);
}

export function checkPositive(name: string, v: number): void {
  if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`LR schedule: ${name} must be a positive number, got ${v}`);
}
