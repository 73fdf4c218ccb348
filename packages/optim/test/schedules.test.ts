// Tests for @webgrad/optim LR schedules and early stopping. Expected values are the closed
// forms documented for torch.optim.lr_scheduler (the value tables in its docstrings where it
// gives them), HF transformers' schedule definitions, and nanoGPT's get_lr, computed by hand.
import { describe, expect, it } from 'vitest';
import {
  constantLr,
  cosineAnnealing,
  cosineWithWarmup,
  exponentialLr,
  linearDecay,
  linearLr,
  linearWarmup,
  LrScheduler,
  lrCurve,
  multiStepLr,
  oneCycle,
  polynomialDecay,
  ReduceLrOnPlateau,
  sequentialLr,
  stepLr,
} from '../src/schedules/index.js';
import { EarlyStopping } from '../src/early_stopping.js';

const close = (a: number[], b: number[], digits = 12) => {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => expect(x).toBeCloseTo(b[i]!, digits));
};

describe('closed-form schedules', () => {
  it('constant', () => {
    expect(lrCurve(constantLr({ lr: 0.1 }), 3)).toEqual([0.1, 0.1, 0.1]);
  });
  it('linearWarmup: lr * t / W, then lr', () => {
    close(lrCurve(linearWarmup({ lr: 1, warmupSteps: 4 }), 6), [0, 0.25, 0.5, 0.75, 1, 1]);
    expect(linearWarmup({ lr: 1, warmupSteps: 4, startFactor: 0.5 }).lrAt(2)).toBeCloseTo(0.75, 15);
    expect(linearWarmup({ lr: 1, warmupSteps: 0 }).lrAt(0)).toBe(1);
  });
  it('linearLr matches the torch LinearLR docstring table', () => {
    // torch docs: lr=0.05, start_factor=0.5, total_iters=4 -> 0.025, 0.03125, 0.0375, 0.04375, 0.05, ...
    close(lrCurve(linearLr({ lr: 0.05, startFactor: 0.5, totalIters: 4 }), 6), [0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05]);
  });
  it('stepLr / multiStepLr match the torch docstrings', () => {
    // torch StepLR docs: lr=0.05, step_size=30, gamma=0.1: 0.05 (<30), 0.005 (<60), 0.0005 (<90)
    const s = stepLr({ lr: 0.05, stepSize: 30 });
    close([s.lrAt(0), s.lrAt(29), s.lrAt(30), s.lrAt(59), s.lrAt(60), s.lrAt(89)], [0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005], 15);
    // torch MultiStepLR docs: milestones=[30,80]: 0.05 (<30), 0.005 (<80), 0.0005
    const m = multiStepLr({ lr: 0.05, milestones: [30, 80] });
    close([m.lrAt(29), m.lrAt(30), m.lrAt(79), m.lrAt(80)], [0.05, 0.005, 0.005, 0.0005], 15);
    expect(lrCurve(stepLr({ lr: 1, stepSize: 2, gamma: 0.5 }), 5)).toEqual([1, 1, 0.5, 0.5, 0.25]);
  });
  it('exponentialLr: lr * gamma^t', () => {
    expect(exponentialLr({ lr: 1, gamma: 0.9 }).lrAt(3)).toBeCloseTo(0.729, 15);
  });
  it('polynomialDecay matches torch PolynomialLR and HF polynomial decay', () => {
    // torch PolynomialLR docs: lr=0.001, total_iters=4, power=1: 0.001, 0.00075, 0.0005, 0.00025, 0, 0
    close(lrCurve(polynomialDecay({ lr: 0.001, totalSteps: 4 }), 6), [0.001, 0.00075, 0.0005, 0.00025, 0, 0], 15);
    // HF: lr_end + (lr - lr_end) * (1 - (t - W)/(T - W))^power; lr=1, end=0.1, T=10, power=2, t=5 -> 0.1 + 0.9 * 0.25
    const p = polynomialDecay({ lr: 1, totalSteps: 10, power: 2, endLr: 0.1 });
    expect(p.lrAt(5)).toBeCloseTo(0.325, 15);
    expect(p.lrAt(20)).toBe(0.1);
    const w = polynomialDecay({ lr: 1, totalSteps: 10, power: 2, endLr: 0.1, warmupSteps: 2 });
    expect(w.lrAt(1)).toBe(0.5); // warmup t/W
    expect(w.lrAt(6)).toBeCloseTo(0.325, 15); // 0.1 + 0.9 * (1 - 4/8)^2
  });
  it('linearDecay matches HF get_linear_schedule_with_warmup', () => {
    // t < W: t/W; else max(0, (T - t)/(T - W)); W=10, T=110
    const s = linearDecay({ lr: 1, warmupSteps: 10, totalSteps: 110 });
    close([s.lrAt(0), s.lrAt(5), s.lrAt(10), s.lrAt(60), s.lrAt(110), s.lrAt(200)], [0, 0.5, 1, 0.5, 0, 0], 15);
    expect(linearDecay({ lr: 1, warmupSteps: 10, totalSteps: 110, endLr: 0.1 }).lrAt(60)).toBeCloseTo(0.55, 15);
  });
  it('cosineAnnealing: etaMin + (lr - etaMin)(1 + cos(pi t / tMax))/2', () => {
    const s = cosineAnnealing({ lr: 1, tMax: 10, etaMin: 0.1 });
    close([s.lrAt(0), s.lrAt(5), s.lrAt(10), s.lrAt(15)], [1, 0.55, 0.1, 0.55], 14);
  });
  it("cosineWithWarmup is nanoGPT's get_lr", () => {
    // nanoGPT defaults: learning_rate 6e-4, min_lr 6e-5, warmup_iters 2000, lr_decay_iters 600000
    const s = cosineWithWarmup({ lr: 6e-4, minLr: 6e-5, warmupSteps: 2000, decaySteps: 600000 });
    expect(s.lrAt(0)).toBeCloseTo((6e-4 * 1) / 2001, 18); // lr * (it + 1) / (warmup + 1)
    expect(s.lrAt(1999)).toBeCloseTo((6e-4 * 2000) / 2001, 18);
    expect(s.lrAt(2000)).toBeCloseTo(6e-4, 18); // decay_ratio 0 -> coeff 1
    expect(s.lrAt(301000)).toBeCloseTo(6e-5 + 0.5 * (6e-4 - 6e-5), 18); // decay_ratio 0.5 -> coeff 0.5
    expect(s.lrAt(600000)).toBeCloseTo(6e-5, 18);
    expect(s.lrAt(700000)).toBe(6e-5);
  });
  it('oneCycle follows torch OneCycleLR (cos, two phases)', () => {
    // maxLr 1, T=100, pct 0.3, div 25, final 1e4: initial 0.04, min 4e-6; phase 1 ends at 0.3*100 - 1 = 29
    const s = oneCycle({ maxLr: 1, totalSteps: 100 });
    expect(s.lrAt(0)).toBeCloseTo(0.04, 15);
    // t=10: 1 + (0.04 - 1)/2 * (cos(pi * 10/29) + 1)
    expect(s.lrAt(10)).toBeCloseTo(0.29516394846410077, 14);
    expect(s.lrAt(29)).toBeCloseTo(1, 14);
    // t=64: pct = (64 - 29)/(99 - 29) = 0.5 -> min + (1 - min)/2
    expect(s.lrAt(64)).toBeCloseTo((1 + 4e-6) / 2, 14);
    expect(s.lrAt(99)).toBeCloseTo(4e-6, 15);
    expect(() => s.lrAt(101)).toThrow(/beyond/);
    const lin = oneCycle({ maxLr: 1, totalSteps: 100, annealStrategy: 'linear', threePhase: true });
    // three phases end at 29, 58, 99; t=43.5 is not an integer step, use t=58 -> initial lr
    expect(lin.lrAt(58)).toBeCloseTo(0.04, 14);
    expect(lin.lrAt(99)).toBeCloseTo(4e-6, 14);
  });
  it('sequentialLr restarts the next schedule at the milestone (torch SequentialLR)', () => {
    const s = sequentialLr([linearWarmup({ lr: 1, warmupSteps: 5 }), cosineAnnealing({ lr: 1, tMax: 10 })], [5]);
    close([s.lrAt(0), s.lrAt(3), s.lrAt(5), s.lrAt(10), s.lrAt(15)], [0, 0.6, 1, 0.5, 0], 14);
    expect(() => sequentialLr([constantLr({ lr: 1 })], [3])).toThrow(RangeError);
  });
  it('rejects invalid steps', () => {
    expect(() => constantLr({ lr: 1 }).lrAt(-1)).toThrow(RangeError);
    expect(() => constantLr({ lr: 1 }).lrAt(1.5)).toThrow(RangeError);
  });
});

describe('LrScheduler', () => {
  it('steps like torch: getLastLr() == lrAt(number of step() calls)', () => {
    const seen: number[] = [];
    const sched = new LrScheduler(stepLr({ lr: 1, stepSize: 2, gamma: 0.5 }), { onLr: (lr) => seen.push(lr) });
    expect(sched.getLastLr()).toBe(1);
    sched.step();
    expect(sched.step()).toBe(0.5);
    expect(sched.currentStep).toBe(2);
    expect(seen).toEqual([1, 1, 0.5]);
    const state = sched.stateDict();
    expect(JSON.parse(JSON.stringify(state))).toEqual({ lastStep: 2, lastLr: 0.5 });
    const restored = new LrScheduler(stepLr({ lr: 1, stepSize: 2, gamma: 0.5 }));
    restored.loadStateDict(state);
    expect(restored.step()).toBe(0.5);
    expect(restored.step()).toBe(0.25);
  });
});

describe('ReduceLrOnPlateau (torch rules)', () => {
  it('reduces after more than `patience` bad steps', () => {
    const p = new ReduceLrOnPlateau({ lr: 1, patience: 2, factor: 0.5, threshold: 0 });
    // 1: better than inf; then bad 1, 2, 3 > 2 -> cut
    expect([1, 1, 1, 1].map((m) => p.step(m))).toEqual([1, 1, 1, 0.5]);
    expect([1, 1, 1].map((m) => p.step(m))).toEqual([0.5, 0.5, 0.25]);
    expect(p.step(0.5)).toBe(0.25); // improvement resets
    expect(p.bestMetric).toBe(0.5);
  });
  it('cooldown ignores bad steps', () => {
    const p = new ReduceLrOnPlateau({ lr: 1, patience: 0, factor: 0.5, cooldown: 2 });
    // 5 better; 5 bad -> cut (cooldown 2); two cooldown steps; then cut again
    expect([5, 5, 5, 5, 5].map((m) => p.step(m))).toEqual([1, 0.5, 0.5, 0.5, 0.25]);
  });
  it('relative threshold, max mode, minLr and eps', () => {
    const p = new ReduceLrOnPlateau({ lr: 1, patience: 0 });
    p.step(1);
    expect(p.step(0.99995)).toBe(0.1); // needs < 1 * (1 - 1e-4) to count as better
    const q = new ReduceLrOnPlateau({ lr: 1, patience: 0, mode: 'max', thresholdMode: 'abs', threshold: 0.1 });
    q.step(1);
    expect(q.step(1.2)).toBe(1); // > 1 + 0.1
    expect(q.step(1.25)).toBeCloseTo(0.1, 15); // not > 1.3
    const r = new ReduceLrOnPlateau({ lr: 1, patience: 0, factor: 0.5, minLr: 0.3 });
    expect([2, 2, 2, 2].map((m) => r.step(m))).toEqual([1, 0.5, 0.3, 0.3]);
  });
  it('state round trip', () => {
    const p = new ReduceLrOnPlateau({ lr: 1, patience: 1, factor: 0.5 });
    p.step(3);
    p.step(4);
    const q = new ReduceLrOnPlateau({ lr: 1, patience: 1, factor: 0.5 });
    q.loadStateDict(p.stateDict());
    expect(q.step(4)).toBe(0.5);
  });
});

describe('EarlyStopping', () => {
  it('stops after `patience` evaluations without improvement and tracks the best step', () => {
    const improvedAt: number[] = [];
    const es = new EarlyStopping({ patience: 2, onImprove: ({ step }) => improvedAt.push(step) });
    expect(es.step(3)).toEqual({ stop: false, improved: true });
    expect(es.step(2)).toEqual({ stop: false, improved: true });
    expect(es.step(2.5)).toEqual({ stop: false, improved: false });
    expect(es.step(2.1)).toEqual({ stop: true, improved: false, reason: 'patience' });
    expect(es.bestStep).toBe(1);
    expect(es.bestMetric).toBe(2);
    expect(improvedAt).toEqual([0, 1]);
    expect(es.shouldStop).toBe(true);
  });
  it('minDelta and max mode', () => {
    const es = new EarlyStopping({ patience: 1, minDelta: 0.5, mode: 'max' });
    expect(es.step(1).improved).toBe(true);
    expect(es.step(1.4)).toEqual({ stop: true, improved: false, reason: 'patience' }); // needs > 1.5
    const es2 = new EarlyStopping({ patience: 3, minDelta: 0.5 });
    es2.step(3);
    expect(es2.step(2.4).improved).toBe(true);
    expect(es2.step(2.0).improved).toBe(false); // needs < 1.9
  });
  it('non-finite metrics stop at once (configurable)', () => {
    expect(new EarlyStopping().step(NaN)).toEqual({ stop: true, improved: false, reason: 'non_finite' });
    const es = new EarlyStopping({ patience: 2, stopOnNonFinite: false });
    es.step(1);
    expect(es.step(NaN).stop).toBe(false);
    expect(es.step(Infinity).stop).toBe(true);
  });
  it('state round trip', () => {
    const es = new EarlyStopping({ patience: 2 });
    es.step(1);
    es.step(2);
    const es2 = new EarlyStopping({ patience: 2 });
    es2.loadStateDict(es.stateDict());
    expect(es2.step(3)).toEqual({ stop: true, improved: false, reason: 'patience' });
    expect(es2.bestStep).toBe(0);
  });
});
