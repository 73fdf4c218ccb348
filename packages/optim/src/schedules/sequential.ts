// Sequential composition of schedules (torch SequentialLR): schedule i runs from milestone
// i-1, with its step count restarted at 0 at the milestone.

import { ValueError, fmtValue } from '@webgrad/core';
import { checkStep, type LrSchedule } from './types.js';

/**
 * lr(t) = schedules[i].lrAt(t - milestones[i-1]) where i = number of milestones <= t
 * (milestones[-1] taken as 0). Needs milestones.length === schedules.length - 1, increasing.
 * Example: warmup for 100 steps then cosine:
 * sequentialLr([linearWarmup({lr, warmupSteps: 100}), cosineAnnealing({lr, tMax: 900})], [100]).
 */
export function sequentialLr(schedules: readonly LrSchedule[], milestones: readonly number[]): LrSchedule {
  if (!Array.isArray(schedules) || schedules.some((x) => typeof x?.lrAt !== 'function')) {
    throw new ValueError(`sequentialLr: schedules must be an array of schedules ({ lrAt(step) }), got ${fmtValue(schedules)}`);
  }
  if (!Array.isArray(milestones)) throw new ValueError(`sequentialLr: milestones must be an array of steps, got ${fmtValue(milestones)}`);
  if (schedules.length === 0) throw new RangeError('sequentialLr: no schedules');
  if (milestones.length !== schedules.length - 1) {
    throw new RangeError(`sequentialLr: expected ${schedules.length - 1} milestones, got ${milestones.length}`);
  }
  for (let i = 0; i < milestones.length; i++) {
    const m = milestones[i]!;
    if (!Number.isInteger(m) || m < 0 || (i > 0 && m <= milestones[i - 1]!)) {
      throw new ValueError(`sequentialLr: milestones must be increasing non-negative integers, got ${fmtValue(milestones)}`);
    }
  }
  const bases = schedules.map((x) => x.baseLr).filter((b): b is number => b !== undefined);
  return {
    baseLr: bases.length ? Math.max(...bases) : undefined,
    lrAt: (t) => {
      checkStep(t);
      let i = 0;
      while (i < milestones.length && milestones[i]! <= t) i++;
      return schedules[i]!.lrAt(i === 0 ? t : t - milestones[i - 1]!);
    },
  };
}
