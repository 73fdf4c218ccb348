// One-cycle LR policy with torch.optim.lr_scheduler.OneCycleLR's exact phase arithmetic
// (LR only; momentum cycling is left to the optimizer).

import { checkBool, checkEnum, checkRange, checkSize } from '@webgrad/core';
import { checkScheduleOptions, checkStep, type LrSchedule } from './types.js';

/** Options of `oneCycle` (torch.optim.lr_scheduler.OneCycleLR's `max_lr`, `total_steps`, `pct_start`, `div_factor`, `final_div_factor`, `anneal_strategy`, `three_phase`). */
export interface OneCycleOptions {
  /** The peak LR, reached after pctStart·totalSteps steps. */
  maxLr: number;
  /** Number of optimizer steps in the cycle. */
  totalSteps: number;
  /** Fraction of steps spent increasing the LR (default 0.3). */
  pctStart?: number;
  /** initialLr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** 'cos' (default) or 'linear'. */
  annealStrategy?: 'cos' | 'linear';
  /** torch's three_phase (default false). */
  threePhase?: boolean;
}

/**
 * Phases (as torch): two-phase: [0, pctStart*T - 1] initialLr→maxLr, then up to T - 1
 * maxLr→minLr. Three-phase: initialLr→maxLr until pctStart*T - 1, maxLr→initialLr until
 * 2*pctStart*T - 2, then initialLr→minLr until T - 1. Within a phase pct = (t - start)/(end - start)
 * and cos annealing gives end + (start - end) / 2 * (1 + cos(pi * pct)). Steps beyond totalSteps
 * throw, as torch does.
 */
export function oneCycle(opts: OneCycleOptions): LrSchedule {
  const op = 'oneCycle';
  checkScheduleOptions(op, opts, ['totalSteps', 'pctStart', 'divFactor', 'finalDivFactor', 'annealStrategy', 'threePhase'], 'maxLr');
  const T = checkSize(op, 'totalSteps', opts.totalSteps, 1);
  const pct = checkRange(op, 'pctStart', opts.pctStart === undefined ? 0.3 : opts.pctStart, 0, 1);
  const initialLr = opts.maxLr / checkRange(op, 'divFactor', opts.divFactor === undefined ? 25 : opts.divFactor, 0, Infinity, { lo: true });
  const minLr = initialLr / checkRange(op, 'finalDivFactor', opts.finalDivFactor === undefined ? 1e4 : opts.finalDivFactor, 0, Infinity, { lo: true });
  if (opts.threePhase !== undefined) checkBool(op, 'threePhase', opts.threePhase);
  const anneal =
    checkEnum(op, 'annealStrategy', opts.annealStrategy === undefined ? 'cos' : opts.annealStrategy, ['cos', 'linear']) === 'cos'
      ? (a: number, b: number, p: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * p) + 1)
      : (a: number, b: number, p: number) => (b - a) * p + a;
  const phases = opts.threePhase
    ? [
        { end: pct * T - 1, from: initialLr, to: opts.maxLr },
        { end: 2 * pct * T - 2, from: opts.maxLr, to: initialLr },
        { end: T - 1, from: initialLr, to: minLr },
      ]
    : [
        { end: pct * T - 1, from: initialLr, to: opts.maxLr },
        { end: T - 1, from: opts.maxLr, to: minLr },
      ];
  return {
    baseLr: opts.maxLr,
    lrAt: (t) => {
      checkStep(t);
      if (t > T) throw new RangeError(`oneCycle: step ${t} is beyond totalSteps ${T}`);
      let start = 0;
      for (let i = 0; i < phases.length; i++) {
        const ph = phases[i]!;
        if (t <= ph.end || i === phases.length - 1) {
          return anneal(ph.from, ph.to, (t - start) / (ph.end - start));
        }
        start = ph.end;
      }
      return minLr; // unreachable
    },
  };
}
