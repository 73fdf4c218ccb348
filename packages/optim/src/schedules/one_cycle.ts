// One-cycle LR policy with torch.optim.lr_scheduler.OneCycleLR's exact phase arithmetic
// (LR only; momentum cycling is left to the optimizer).

import { checkStep, type LrSchedule } from './types.js';

export interface OneCycleOptions {
  maxLr: number;
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
  const T = opts.totalSteps;
  if (!Number.isInteger(T) || T <= 0) throw new RangeError('oneCycle: totalSteps must be a positive integer');
  const pct = opts.pctStart ?? 0.3;
  if (!(pct >= 0 && pct <= 1)) throw new RangeError('oneCycle: pctStart must be in [0, 1]');
  const initialLr = opts.maxLr / (opts.divFactor ?? 25);
  const minLr = initialLr / (opts.finalDivFactor ?? 1e4);
  const anneal =
    (opts.annealStrategy ?? 'cos') === 'cos'
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
