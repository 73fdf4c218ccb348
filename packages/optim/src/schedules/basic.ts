// Closed-form LR schedules: constant, linear warmup, linear (torch LinearLR), linear decay with
// warmup, step, exponential, polynomial decay and cosine annealing. Each returns a pure
// LrSchedule; the formulas are given on each factory.

import { ValueError, checkRange, checkSize, fmtValue } from '@webgrad/core';
import { checkScheduleOptions, checkStep, type LrSchedule } from './types.js';

/** lr(t) = lr. */
export function constantLr(opts: { lr: number }): LrSchedule {
  checkScheduleOptions('constantLr', opts, []);
  return { baseLr: opts.lr, lrAt: (t) => (checkStep(t), opts.lr) };
}

/**
 * Linear warmup, then constant:
 * lr(t) = lr * (startFactor + (1 - startFactor) * min(t, warmupSteps) / warmupSteps).
 * With startFactor 0 (default) this is the warmup of HF's get_linear_schedule_with_warmup
 * (lr * t / warmupSteps, so step 0 has LR 0).
 */
export function linearWarmup(opts: { lr: number; warmupSteps: number; startFactor?: number }): LrSchedule {
  checkScheduleOptions('linearWarmup', opts, ['warmupSteps', 'startFactor']);
  const s = checkRange('linearWarmup', 'startFactor', opts.startFactor === undefined ? 0 : opts.startFactor, 0, 1);
  const w = checkSize('linearWarmup', 'warmupSteps', opts.warmupSteps);
  return {
    baseLr: opts.lr,
    lrAt: (t) => {
      checkStep(t);
      if (w === 0 || t >= w) return opts.lr;
      return opts.lr * (s + ((1 - s) * t) / w);
    },
  };
}

/**
 * torch.optim.lr_scheduler.LinearLR (closed form):
 * lr(t) = lr * (startFactor + (endFactor - startFactor) * min(t, totalIters) / totalIters),
 * defaults startFactor 1/3, endFactor 1, totalIters 5.
 */
export function linearLr(opts: { lr: number; startFactor?: number; endFactor?: number; totalIters?: number }): LrSchedule {
  checkScheduleOptions('linearLr', opts, ['startFactor', 'endFactor', 'totalIters']);
  const s = checkRange('linearLr', 'startFactor', opts.startFactor === undefined ? 1 / 3 : opts.startFactor, 0, 1, { lo: true });
  const e = checkRange('linearLr', 'endFactor', opts.endFactor === undefined ? 1 : opts.endFactor, 0, 1);
  const T = checkSize('linearLr', 'totalIters', opts.totalIters === undefined ? 5 : opts.totalIters, 1);
  return { baseLr: opts.lr, lrAt: (t) => (checkStep(t), opts.lr * (s + ((e - s) * Math.min(t, T)) / T)) };
}

/**
 * Linear warmup then linear decay, as HF's get_linear_schedule_with_warmup extended with a floor:
 * t < W: lr * t / W; otherwise endLr + (lr - endLr) * max(0, (T - t) / max(1, T - W)),
 * where W = warmupSteps (default 0), T = totalSteps, endLr default 0.
 */
export function linearDecay(opts: { lr: number; totalSteps: number; warmupSteps?: number; endLr?: number }): LrSchedule {
  checkScheduleOptions('linearDecay', opts, ['totalSteps', 'warmupSteps', 'endLr']);
  const W = checkSize('linearDecay', 'warmupSteps', opts.warmupSteps === undefined ? 0 : opts.warmupSteps);
  const T = checkSize('linearDecay', 'totalSteps', opts.totalSteps, 1);
  const end = checkRange('linearDecay', 'endLr', opts.endLr === undefined ? 0 : opts.endLr, 0, Infinity);
  return {
    baseLr: opts.lr,
    lrAt: (t) => {
      checkStep(t);
      if (t < W) return (opts.lr * t) / W;
      return end + (opts.lr - end) * Math.max(0, (T - t) / Math.max(1, T - W));
    },
  };
}

/** torch StepLR: lr(t) = lr * gamma^floor(t / stepSize) (gamma default 0.1). */
export function stepLr(opts: { lr: number; stepSize: number; gamma?: number }): LrSchedule {
  checkScheduleOptions('stepLr', opts, ['stepSize', 'gamma']);
  const g = checkRange('stepLr', 'gamma', opts.gamma === undefined ? 0.1 : opts.gamma, 0, Infinity);
  checkSize('stepLr', 'stepSize', opts.stepSize, 1);
  return { baseLr: opts.lr, lrAt: (t) => (checkStep(t), opts.lr * Math.pow(g, Math.floor(t / opts.stepSize))) };
}

/** torch MultiStepLR: lr(t) = lr * gamma^(number of milestones <= t). */
export function multiStepLr(opts: { lr: number; milestones: readonly number[]; gamma?: number }): LrSchedule {
  checkScheduleOptions('multiStepLr', opts, ['milestones', 'gamma']);
  const g = checkRange('multiStepLr', 'gamma', opts.gamma === undefined ? 0.1 : opts.gamma, 0, Infinity);
  if (!Array.isArray(opts.milestones)) throw new ValueError(`multiStepLr: milestones must be an array of steps, got ${fmtValue(opts.milestones)}`);
  opts.milestones.forEach((m, i) => checkSize('multiStepLr', `milestones[${i}]`, m));
  const ms = [...opts.milestones].sort((a, b) => a - b);
  return { baseLr: opts.lr, lrAt: (t) => (checkStep(t), opts.lr * Math.pow(g, ms.filter((m) => m <= t).length)) };
}

/** torch ExponentialLR: lr(t) = lr * gamma^t. */
export function exponentialLr(opts: { lr: number; gamma: number }): LrSchedule {
  checkScheduleOptions('exponentialLr', opts, ['gamma']);
  checkRange('exponentialLr', 'gamma', opts.gamma, 0, Infinity);
  return { baseLr: opts.lr, lrAt: (t) => (checkStep(t), opts.lr * Math.pow(opts.gamma, t)) };
}

/**
 * Polynomial decay with optional warmup, as HF's get_polynomial_decay_schedule_with_warmup:
 * t < W: lr * t / W; t > T: endLr; else endLr + (lr - endLr) * (1 - (t - W) / (T - W))^power.
 * With W = 0 and endLr = 0 this equals torch PolynomialLR: lr * (1 - min(t, T) / T)^power.
 * Defaults: power 1, endLr 0, warmupSteps 0.
 */
export function polynomialDecay(opts: { lr: number; totalSteps: number; power?: number; endLr?: number; warmupSteps?: number }): LrSchedule {
  const op = 'polynomialDecay';
  checkScheduleOptions(op, opts, ['totalSteps', 'power', 'endLr', 'warmupSteps']);
  const W = checkSize(op, 'warmupSteps', opts.warmupSteps === undefined ? 0 : opts.warmupSteps);
  const T = checkSize(op, 'totalSteps', opts.totalSteps, 1);
  const p = checkRange(op, 'power', opts.power === undefined ? 1 : opts.power, 0, Infinity);
  const end = checkRange(op, 'endLr', opts.endLr === undefined ? 0 : opts.endLr, 0, Infinity);
  if (!(T > W)) throw new ValueError(`polynomialDecay: totalSteps (${T}) must exceed warmupSteps (${W})`);
  if (end > opts.lr) throw new ValueError(`polynomialDecay: endLr (${end}) must not exceed lr (${opts.lr})`);
  return {
    baseLr: opts.lr,
    lrAt: (t) => {
      checkStep(t);
      if (t < W) return (opts.lr * t) / W;
      if (t > T) return end;
      return end + (opts.lr - end) * Math.pow(1 - (t - W) / (T - W), p);
    },
  };
}

/**
 * torch CosineAnnealingLR in closed form: lr(t) = etaMin + (lr - etaMin) * (1 + cos(pi * t / tMax)) / 2.
 * Past tMax the cosine continues (rising again), as torch's closed form does.
 */
export function cosineAnnealing(opts: { lr: number; tMax: number; etaMin?: number }): LrSchedule {
  checkScheduleOptions('cosineAnnealing', opts, ['tMax', 'etaMin']);
  const m = checkRange('cosineAnnealing', 'etaMin', opts.etaMin === undefined ? 0 : opts.etaMin, 0, Infinity);
  checkRange('cosineAnnealing', 'tMax', opts.tMax, 0, Infinity, { lo: true });
  return { baseLr: opts.lr, lrAt: (t) => (checkStep(t), m + ((opts.lr - m) * (1 + Math.cos((Math.PI * t) / opts.tMax))) / 2) };
}

/**
 * nanoGPT's get_lr (karpathy/nanoGPT train.py): linear warmup, cosine decay, then a floor.
 *   t < warmupSteps:       lr * (t + 1) / (warmupSteps + 1)
 *   t > decaySteps:        minLr
 *   otherwise:             minLr + 0.5 * (1 + cos(pi * (t - warmupSteps) / (decaySteps - warmupSteps))) * (lr - minLr)
 * `decaySteps` is nanoGPT's lr_decay_iters (the absolute step where the decay ends, not its length).
 */
export function cosineWithWarmup(opts: { lr: number; warmupSteps: number; decaySteps: number; minLr?: number }): LrSchedule {
  const op = 'cosineWithWarmup';
  checkScheduleOptions(op, opts, ['warmupSteps', 'decaySteps', 'minLr']);
  const W = checkSize(op, 'warmupSteps', opts.warmupSteps);
  const D = checkSize(op, 'decaySteps', opts.decaySteps);
  const minLr = checkRange(op, 'minLr', opts.minLr === undefined ? 0 : opts.minLr, 0, Infinity);
  if (!(D > W)) throw new ValueError(`cosineWithWarmup: decaySteps (${D}) must exceed warmupSteps (${W})`);
  return {
    baseLr: opts.lr,
    lrAt: (t) => {
      checkStep(t);
      if (t < W) return (opts.lr * (t + 1)) / (W + 1);
      if (t > D) return minLr;
      const ratio = (t - W) / (D - W);
      return minLr + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (opts.lr - minLr);
    },
  };
}
