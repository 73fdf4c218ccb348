// Run-time argument checks of the optimizers, parameter groups, LR schedules and schedulers, early
// stopping, gradient clipping and accumulation, GradScaler, gradual unfreezing and LoRA: each
// argument and option replaced by wrong values must throw a WebgradError naming the public class or
// function and the argument (see nn's test/helpers/arguments.ts), and the valid baseline still works.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keep, randn, zeros, type Tensor } from '@webgrad/core';
import { Linear, Sequential } from '@webgrad/nn';
import {
  Adam, AdamW, EarlyStopping, GradScaler, GradientAccumulator, GradualUnfreezing, Lion, LoraLinear, LrScheduler, ReduceLrOnPlateau, SGD,
  applyLora, clipGradNorm, clipGradValue, constantLr, cosineAnnealing, cosineWithWarmup, exponentialLr, gradsAreFinite, gradsAreFiniteAsync,
  lambdaLr, linearDecay, linearLr, linearWarmup, loadLoraAdapter, loraStateDict, lrCurve, mergeLora, multiStepLr, oneCycle, paramGroupsWithDecay,
  polynomialDecay, printTrainableParameters, saveLoraAdapter, sequentialLr, setLoraEnabled, stepLr, trainableParameters,
} from '@webgrad/optim';
import { checkArguments, type Case, type Kind, type Options } from '../../nn/test/helpers/arguments.js';

const param = (): Tensor => keep(randn([3, 2], { requiresGrad: true }));
const withGrad = (): Tensor => {
  const p = param();
  p.grad = keep(randn([3, 2]));
  return p;
};
const notOptimizer = { bad: [3, {}] };
const betas = { bad: [[1, 0.9], [0.9], [0.9, -0.1], [NaN, 0.9], 'x', 0.9] };
const params: Kind = { bad: [3, 'x', [], [3], [zeros([2], { dtype: 'int32' })]] };
const iterableOfTensors = { bad: [3, 'x', [3]] };

function optimizers(): Case[] {
  const base: Options = { lr: 'nonNeg', weightDecay: 'nonNeg' };
  const w = param();
  const opt = new SGD([w], { lr: 0.1 });
  const group = (extra: object) => [[{ params: [param()], ...extra }]];
  return [
    {
      name: 'SGD', call: (p, o) => new SGD(p, o),
      args: [['params', [w], params], ['options', { lr: 0.1, weightDecay: 0.01, momentum: 0.9, dampening: 0, nesterov: true, maximize: false }, {
        ...base, momentum: 'nonNeg', dampening: 'finite', nesterov: 'bool', maximize: 'bool',
      }]],
      extra: [['nesterov', [[w], { nesterov: true, momentum: 0 }]], ['lr', group({ lr: -1 })], ['notAnOption', group({ notAnOption: 1 })], ['params', [[{ params: 3 }]]]],
    },
    {
      name: 'Adam', call: (p, o) => new Adam(p, o),
      args: [['params', [w], params], ['options', { lr: 0.1, weightDecay: 0, betas: [0.8, 0.9], eps: 1e-6, amsgrad: true, maximize: false }, {
        ...base, betas, eps: 'nonNeg', amsgrad: 'bool', maximize: 'bool',
      }]],
      extra: [['betas', group({ betas: [2, 0] })]],
    },
    { name: 'AdamW', call: (p, o) => new AdamW(p, o), args: [['params', [w], params], ['options', { lr: 0.1, weightDecay: 0.1, betas: [0.8, 0.9], eps: 1e-6 }, { ...base, betas, eps: 'nonNeg' }]] },
    { name: 'Lion', call: (p, o) => new Lion(p, o), args: [['params', [w], params], ['options', { lr: 0.1, weightDecay: 0.1, betas: [0.8, 0.9] }, { ...base, betas }]] },
    {
      name: 'SGD', call: (g) => new SGD([param()]).addParamGroup(g),
      args: [['param group', { params: [param()], lr: 0.5, momentum: 0.9 }, { lr: 'nonNeg', momentum: 'nonNeg', nesterov: 'bool', params: { bad: [3, [3]] } }]],
    },
    { name: 'SGD.setLr', call: (lr) => opt.setLr(lr), args: [['lr', 0.2, 'nonNeg']] },
    { name: 'SGD.zeroGrad', call: (o) => opt.zeroGrad(o), args: [['options', { setToNone: false }, { setToNone: 'bool' }]] },
    {
      name: 'paramGroupsWithDecay', call: paramGroupsWithDecay,
      args: [['named', { w }, { bad: [3, 'x'] }], ['weightDecay', 0.1, 'nonNeg'], ['options', { noDecay: () => false, includeFrozen: true }, { noDecay: 'fn', includeFrozen: 'bool' }]],
    },
  ];
}

function schedules(): Case[] {
  const lr: Options = { lr: 'nonNeg' };
  const sched = (name: string, fn: (o: never) => unknown, value: object, kinds: Options, extra?: [string, unknown[]][]): Case => ({
    name, call: fn, args: [['options', value, { ...lr, ...kinds }]], extra,
  });
  const schedule = { bad: [3, {}, 'x'] };
  const opt = new SGD([param()], { lr: 0.1 });
  return [
    sched('constantLr', constantLr, { lr: 0.1 }, {}),
    sched('linearWarmup', linearWarmup, { lr: 0.1, warmupSteps: 5, startFactor: 0.1 }, { warmupSteps: 'size', startFactor: 'prob' }),
    sched('linearLr', linearLr, { lr: 0.1, startFactor: 0.5, endFactor: 1, totalIters: 4 }, { startFactor: { bad: [0, 1.5, -1, NaN, '0.5'] }, endFactor: 'prob', totalIters: 'posInt' }),
    sched('linearDecay', linearDecay, { lr: 0.1, totalSteps: 10, warmupSteps: 2, endLr: 0.01 }, { totalSteps: 'posInt', warmupSteps: 'size', endLr: 'nonNeg' }),
    sched('stepLr', stepLr, { lr: 0.1, stepSize: 3, gamma: 0.5 }, { stepSize: 'posInt', gamma: 'nonNeg' }),
    sched('multiStepLr', multiStepLr, { lr: 0.1, milestones: [2, 5], gamma: 0.5 }, { milestones: { bad: [3, [1.5], [-1], 'x'] }, gamma: 'nonNeg' }),
    sched('exponentialLr', exponentialLr, { lr: 0.1, gamma: 0.9 }, { gamma: 'nonNeg' }),
    sched('polynomialDecay', polynomialDecay, { lr: 0.1, totalSteps: 10, power: 2, endLr: 0.01, warmupSteps: 2 },
      { totalSteps: 'posInt', power: 'nonNeg', endLr: 'nonNeg', warmupSteps: 'size' },
      [['warmupSteps', [{ lr: 0.1, totalSteps: 10, warmupSteps: 10 }]], ['endLr', [{ lr: 0.1, totalSteps: 10, endLr: 0.2 }]]]),
    sched('cosineAnnealing', cosineAnnealing, { lr: 0.1, tMax: 10, etaMin: 0.001 }, { tMax: 'positive', etaMin: 'nonNeg' }),
    sched('cosineWithWarmup', cosineWithWarmup, { lr: 0.1, warmupSteps: 2, decaySteps: 10, minLr: 0.01 }, { warmupSteps: 'size', decaySteps: 'size', minLr: 'nonNeg' },
      [['decaySteps', [{ lr: 0.1, warmupSteps: 2, decaySteps: 2 }]]]),
    {
      name: 'oneCycle', call: oneCycle,
      args: [['options', { maxLr: 0.1, totalSteps: 10, pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4, annealStrategy: 'linear', threePhase: true }, {
        maxLr: 'nonNeg', totalSteps: 'posInt', pctStart: 'prob', divFactor: 'positive', finalDivFactor: 'positive', annealStrategy: 'enum', threePhase: 'bool',
      }]],
    },
    { name: 'lambdaLr', call: lambdaLr, args: [['factor', (t: number) => 1 / (t + 1), 'fn']] },
    {
      name: 'sequentialLr', call: sequentialLr,
      args: [['schedules', [constantLr({ lr: 0.1 }), constantLr({ lr: 0.01 })], { bad: [3, [3, 4], [{}, {}]] }], ['milestones', [3], { bad: [3, [1.5], [-1], 'x'] }]],
    },
    {
      name: 'LrScheduler', call: (s, o) => new LrScheduler(s, o),
      args: [['schedule', constantLr({ lr: 0.1 }), schedule], ['options', { onLr: () => {} }, { onLr: 'fn', optimizer: notOptimizer }]],
    },
    { name: 'LrScheduler', call: (o, s) => new LrScheduler(o, s), args: [['optimizer', opt, null], ['schedule', constantLr({ lr: 0.1 }), schedule]] },
    { name: 'lrCurve', call: lrCurve, args: [['schedule', constantLr({ lr: 0.1 }), schedule], ['steps', 3, 'size']] },
    {
      name: 'ReduceLrOnPlateau', call: (o) => new ReduceLrOnPlateau(o),
      args: [['options', { lr: 0.1, mode: 'max', factor: 0.5, patience: 2, threshold: 0.01, thresholdMode: 'abs', cooldown: 1, minLr: 0.001, eps: 1e-8, onLr: () => {}, optimizer: opt }, {
        ...lr, mode: 'enum', factor: 'unitOpen', patience: 'size', threshold: 'nonNeg', thresholdMode: 'enum', cooldown: 'size', minLr: 'nonNeg', eps: 'nonNeg', onLr: 'fn', optimizer: notOptimizer,
      }]],
    },
    { name: 'ReduceLrOnPlateau.step', call: (m) => new ReduceLrOnPlateau({ lr: 0.1 }).step(m), args: [['metric', 0.5, { bad: ['3', {}, true] }]] },
    {
      name: 'EarlyStopping', call: (o) => new EarlyStopping(o),
      args: [['options', { patience: 3, minDelta: 0.01, mode: 'max', stopOnNonFinite: false, onImprove: () => {} }, {
        patience: 'size', minDelta: 'finite', mode: 'enum', stopOnNonFinite: 'bool', onImprove: 'fn',
      }]],
    },
    { name: 'EarlyStopping.step', call: (m) => new EarlyStopping().step(m), args: [['metric', 0.5, { bad: ['3', {}, true] }]] },
  ];
}

function gradients(): Case[] {
  const ps = [withGrad(), withGrad()];
  const opt = new SGD(ps, { lr: 0.01 });
  const loss = () => keep(ps[0]!.mul(ps[0]!).sum());
  return [
    { name: 'clipGradNorm', call: clipGradNorm, args: [['params', ps, iterableOfTensors], ['maxNorm', 1, { bad: [-1, NaN, '1', true, {}] }], ['options', { normType: Infinity }, { normType: { bad: [0, -1, NaN, '2', true] } }]] },
    { name: 'clipGradValue', call: clipGradValue, args: [['params', ps, iterableOfTensors], ['clipValue', 0.5, 'nonNeg']] },
    { name: 'gradsAreFinite', call: gradsAreFinite, args: [['params', ps, iterableOfTensors]] },
    { name: 'gradsAreFiniteAsync', call: gradsAreFiniteAsync, args: [['params', ps, iterableOfTensors]] },
    {
      name: 'GradientAccumulator', call: (o, s, x) => new GradientAccumulator(o, s, x),
      args: [['optimizer', opt, notOptimizer], ['steps', 2, 'posInt'], ['options', { beforeStep: () => {}, afterStep: () => {} }, { beforeStep: 'fn', afterStep: 'fn' }]],
    },
    { name: 'GradientAccumulator.backward', call: (l) => new GradientAccumulator(opt, 4).backward(l), args: [['loss', loss(), { bad: [3, {}] }]] },
    {
      name: 'GradScaler', call: (o) => new GradScaler(o),
      args: [['options', { initScale: 1024, growthFactor: 2, backoffFactor: 0.5, growthInterval: 10, enabled: true }, {
        initScale: 'positive', growthFactor: { bad: [1, 0.5, NaN, Infinity, '2', true] }, backoffFactor: { bad: [0, 1, 1.5, NaN, '0.5'] }, growthInterval: 'posInt', enabled: 'bool',
      }]],
    },
    { name: 'GradScaler.update', call: (s) => new GradScaler().update(s), args: [['newScale', 1024, 'positive']] },
    { name: 'GradScaler.scale', call: (l) => new GradScaler().scale(l), args: [['loss', loss(), { bad: [3, {}] }]] },
    { name: 'GradScaler.unscale_', call: (o) => new GradScaler({ initScale: 1 }).unscale_(o), args: [['optimizer', opt, notOptimizer]] },
    { name: 'GradScaler.step', call: (o) => new GradScaler({ enabled: false }).step(o), args: [['optimizer', new SGD([withGrad()], { lr: 0 }), notOptimizer]] },
  ];
}

function finetuning(dir: string): Case[] {
  const layers = [new Linear(2, 2), new Linear(2, 2), new Linear(2, 2)];
  const net = () => new Sequential(new Linear(3, 2), new Linear(2, 2));
  const adapted = net();
  applyLora(adapted, { r: 1, targetModules: ['0'] });
  const model = { bad: [3, {}] };
  const lora: Options = { r: 'posInt', alpha: 'positive', dropout: 'unitOpen' };
  const path = join(dir, 'adapter.safetensors');
  const fresh = <T>(v: unknown): T => (typeof v === 'function' ? v() : v) as T;
  return [
    {
      name: 'GradualUnfreezing', call: (l, o) => new GradualUnfreezing(l, o),
      args: [['layers', layers, { bad: [3, [3], 'x'] }], ['options', { schedule: { 0: 1, 2: 3 }, alwaysTrainable: [layers[0]] }, {
        schedule: { bad: [3, 'x', [[1.5, 1]], { 0: 9 }, [[0, 1.5]], [3]] }, alwaysTrainable: { bad: [3, [3]] },
      }]],
    },
    { name: 'GradualUnfreezing', call: (e) => new GradualUnfreezing(layers, { schedule: [[0, 1]] }).trainableAt(e), args: [['epoch', 2, 'size']] },
    {
      name: 'LoraLinear', call: (i, o, opts) => new LoraLinear(i, o, opts),
      args: [['inFeatures', 3, 'size'], ['outFeatures', 2, 'size'], ['options', { r: 2, alpha: 4, dropout: 0.1, bias: false, dtype: 'float64', device: 'cpu' }, {
        ...lora, bias: 'bool', dtype: 'floatDType', device: 'device',
      }]],
    },
    { name: 'LoraLinear.fromLinear', call: (l, o) => LoraLinear.fromLinear(fresh(l), o), args: [['linear', () => new Linear(3, 2), { bad: [3, {}] }], ['options', { r: 2, alpha: 1, dropout: 0 }, lora]] },
    {
      name: 'applyLora', call: (m, o) => applyLora(fresh(m), o),
      args: [['model', net, model], ['options', { r: 2, alpha: 4, dropout: 0, targetModules: ['0', '1'] }, { ...lora, targetModules: { bad: [3, [], [3], 'x', ['']] } }]],
    },
    { name: 'setLoraEnabled', call: setLoraEnabled, args: [['model', adapted, model], ['enabled', true, 'bool']] },
    { name: 'mergeLora', call: mergeLora, args: [['model', net(), model]] },
    { name: 'loraStateDict', call: loraStateDict, args: [['model', adapted, model]] },
    { name: 'trainableParameters', call: trainableParameters, args: [['model', adapted, model]] },
    { name: 'printTrainableParameters', call: printTrainableParameters, args: [['model', adapted, model], ['log', () => {}, 'fn']] },
    { name: 'saveLoraAdapter', call: saveLoraAdapter, args: [['path', path, { bad: [3, ''] }], ['model', adapted, model], ['metadata', { note: 'x' }, { bad: [3, { a: 1 }] }]] },
    { name: 'loadLoraAdapter', call: loadLoraAdapter, args: [['path', path, { bad: [3, ''] }], ['model', adapted, model]] },
  ];
}

describe('argument checks', () => {
  it('every wrong argument of a public optim API throws a typed error naming the API and the argument', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webgrad-optim-args-'));
    try {
      const cases = [...optimizers(), ...schedules(), ...gradients(), ...finetuning(dir)];
      const t = await checkArguments(cases);
      console.log(`[optim arguments] ${cases.length} APIs, ${t.tried} wrong calls, ${t.typed} typed errors naming the API, ${t.namedArg} also naming the argument`);
      expect(t.failures).toEqual([]);
      expect(t.typed).toBe(t.tried);
      expect(t.namedArg).toBe(t.tried);
      expect(t.tried).toBeGreaterThan(300);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('schedules built from checked options still compute their LRs', () => {
    expect(lrCurve(stepLr({ lr: 1, stepSize: 2, gamma: 0.5 }), 5)).toEqual([1, 1, 0.5, 0.5, 0.25]);
  });
});
