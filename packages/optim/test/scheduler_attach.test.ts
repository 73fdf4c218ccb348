// LR schedulers drive the optimizer they are attached to, scaling each parameter group from its own
// initial LR (torch's semantics), and refuse an attachment that would not do what was written.
import { describe, expect, it } from 'vitest';
import { ValueError, zeros } from '@webgrad/core';
import { AdamW, LrScheduler, ReduceLrOnPlateau, SGD, cosineWithWarmup, lambdaLr, stepLr } from '@webgrad/optim';

const params = () => [zeros([2], { requiresGrad: true }), zeros([3], { requiresGrad: true })];

describe('LrScheduler attached to an optimizer', () => {
  it('keeps per-group ratios while following the schedule', () => {
    const [a, b] = params();
    const opt = new AdamW([{ params: [a!], lr: 1e-3 }, { params: [b!], lr: 1e-4 }]);
    const schedule = cosineWithWarmup({ lr: 1e-3, warmupSteps: 3, decaySteps: 10, minLr: 1e-5 });
    const sched = new LrScheduler(opt, schedule);
    for (let t = 0; t < 12; t++) {
      expect(opt.paramGroups[0]!.lr).toBeCloseTo(schedule.lrAt(t), 15);
      expect(opt.paramGroups[1]!.lr).toBeCloseTo(schedule.lrAt(t) / 10, 15);
      sched.step();
    }
  });

  it('the options form attaches too, and onLr still reports', () => {
    const opt = new SGD(params(), { lr: 1 });
    const seen: number[] = [];
    const sched = new LrScheduler(stepLr({ lr: 1, stepSize: 2, gamma: 0.5 }), { optimizer: opt, onLr: (lr) => seen.push(lr) });
    sched.step(); sched.step(); sched.step();
    expect(seen).toEqual([1, 1, 0.5, 0.5]);
    expect(opt.paramGroups[0]!.lr).toBe(0.5);
  });

  it('lambdaLr multiplies each group like torch LambdaLR', () => {
    const [a, b] = params();
    const opt = new SGD([{ params: [a!], lr: 0.1 }, { params: [b!], lr: 0.02 }]);
    const sched = new LrScheduler(opt, lambdaLr((t) => 0.5 ** t));
    sched.step(); sched.step();
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.025, 0.005]);
  });

  it('refuses a schedule built for another LR, and per-group LRs without a baseLr', () => {
    const opt = new SGD(params(), { lr: 0.1 });
    expect(() => new LrScheduler(opt, cosineWithWarmup({ lr: 1e-3, warmupSteps: 1, decaySteps: 5 }))).toThrow(ValueError);
    expect(() => new LrScheduler(opt, cosineWithWarmup({ lr: 1e-3, warmupSteps: 1, decaySteps: 5 }))).toThrow(/built for lr 0.001/);
    const [a, b] = params();
    const two = new SGD([{ params: [a!], lr: 0.1 }, { params: [b!], lr: 0.2 }]);
    expect(() => new LrScheduler(two, { lrAt: () => 0.1 })).toThrow(/no baseLr/);
    expect(() => new LrScheduler(two, stepLr({ lr: 0.1, stepSize: 1 }), { onLR: () => {} } as never)).toThrow(/unknown option/);
  });

  it('resumes from its state dict with the saved initial LRs', () => {
    const make = () => {
      const [a, b] = params();
      return new SGD([{ params: [a!], lr: 0.1 }, { params: [b!], lr: 0.05 }]);
    };
    const opt = make();
    const sched = new LrScheduler(opt, stepLr({ lr: 0.1, stepSize: 2, gamma: 0.1 }));
    for (let i = 0; i < 3; i++) sched.step();
    const opt2 = make();
    const sched2 = new LrScheduler(opt2, stepLr({ lr: 0.1, stepSize: 2, gamma: 0.1 }));
    sched2.loadStateDict(JSON.parse(JSON.stringify(sched.stateDict())));
    expect(opt2.paramGroups.map((g) => g.lr)).toEqual(opt.paramGroups.map((g) => g.lr));
    expect(opt2.paramGroups[1]!.lr).toBeCloseTo(0.005, 15);
  });
});

describe('ReduceLrOnPlateau attached to an optimizer', () => {
  it('cuts every group by the factor, down to minLr', () => {
    const [a, b] = params();
    const opt = new SGD([{ params: [a!], lr: 0.1 }, { params: [b!], lr: 0.01 }]);
    const plateau = new ReduceLrOnPlateau({ lr: 0.1, patience: 0, factor: 0.5, minLr: 0.008, optimizer: opt });
    plateau.step(1); plateau.step(1); // the second is a bad step: cut
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.05, 0.008]);
  });
});
