// Run-time argument checks of every public pruning function: each argument and option replaced by
// wrong values must throw a WebgradError naming the function and the argument (see nn's
// test/helpers/arguments.ts), and the valid baseline still works. Plus the errors that depend on
// the module: an unknown parameter, a count above what is left, a dim out of range, N > M, a size
// that is not a multiple of M, a layer that has no heads.
import { describe, expect, it } from 'vitest';
import { randn, tensor } from '@webgrad/core';
import { CausalSelfAttention, Linear, MultiheadAttention, ReLU, Sequential } from '@webgrad/nn';
import {
  GradualPruner, PruningError, SGD, attachMasks, cubicSparsity, customFromMask, globalUnstructured, isPruned, l1Unstructured, lnStructured,
  loadPrunedStateDict, nmStructured, pruneChannels, pruneHeads, prunedHeads, prunedParameters, randomUnstructured, removePruning, satisfiesNM, sparsity,
} from '../src/index.js';
import { checkArguments, type Case } from '../../nn/test/helpers/arguments.js';

const lin = () => new Linear(8, 4);
const notModule = { bad: [3, {}, null, 'x'] };
const names = { bad: ['nope', '', 3, null] };
const amountOpts = { amount: 'prob' as const, count: 'size' as const };
/** A norm order: a number > 0, Infinity allowed. */
const normOrder = { bad: [null, 0, -1, NaN, '3', true, {}] };

function cases(): Case[] {
  const a = lin(), b = lin(), c = lin(), d = lin(), e = lin();
  const mha = new MultiheadAttention(8, 2);
  const gpt = new CausalSelfAttention({ nEmbd: 8, nHead: 4 });
  const withMask = lin();
  const pruned = lin();
  customFromMask(pruned, 'weight', tensor(new Float32Array(32).fill(1), { shape: [4, 8] }));
  const model = new Sequential(lin(), new ReLU());
  const opt = new SGD(lin().parameters(), { lr: 0.1 });
  const schedule = cubicSparsity({ finalSparsity: 0.5, pruningSteps: 2 });
  const pruner = new GradualPruner({ params: [[lin(), 'weight']], schedule });
  return [
    { name: 'l1Unstructured', call: l1Unstructured, args: [['module', a, notModule], ['name', 'weight', names], ['options', { amount: 0.1 }, { amount: 'prob', importanceScores: 'tensor' }]] },
    { name: 'l1Unstructured', call: l1Unstructured, args: [['module', a, null], ['name', 'bias', null], ['options', { count: 0 }, { count: 'size' }]] },
    { name: 'randomUnstructured', call: randomUnstructured, args: [['module', b, notModule], ['name', 'weight', names], ['options', { amount: 0.1, seed: 3 }, { amount: 'prob', seed: 'size' }]] },
    {
      name: 'globalUnstructured', call: globalUnstructured,
      args: [['params', [[c, 'weight'], [d, 'weight']], { bad: [3, [], [[c]], [[3, 'weight']], [[c, 'nope']], [[c, 'weight'], [c, 'weight']]] }], ['options', { amount: 0.1 }, amountOpts]],
    },
    { name: 'lnStructured', call: lnStructured, args: [['module', e, notModule], ['name', 'weight', names], ['options', { count: 0, n: 1, dim: 1 }, { count: 'size', n: normOrder, dim: { bad: [2, -3, 0.5, null, '0'] } }]] },
    { name: 'pruneChannels', call: pruneChannels, args: [['module', lin(), { bad: [3, null, new ReLU()] }], ['options', { amount: 0.25, n: 2 }, { amount: 'prob', n: normOrder }]] },
    {
      name: 'pruneHeads', call: pruneHeads, args: [['attn', mha, { bad: [3, null, lin()] }], ['options', { count: 0, n: 2 }, { count: 'size', n: normOrder, scores: { bad: [[1], 3, [NaN, 1]] } }]],
      extra: [['heads', [gpt, { heads: [4] }]], ['heads', [gpt, { heads: [1], count: 1 }]], ['scores', [gpt, { heads: [1], scores: [1, 2, 3, 4] }]]],
    },
    { name: 'prunedHeads', call: prunedHeads, args: [['attn', gpt, { bad: [3, null, lin()] }]] },
    { name: 'nmStructured', call: nmStructured, args: [['module', lin(), notModule], ['name', 'weight', names], ['options', { n: 2, m: 4, dim: 1 }, { n: 'size', m: 'posInt', dim: { bad: [2, -3, 0.5, null] } }]], extra: [['n', [lin(), 'weight', { n: 5, m: 4 }]], ['m', [lin(), 'weight', { m: 3 }]]] },
    { name: 'satisfiesNM', call: satisfiesNM, args: [['t', randn([2, 8]), 'tensor'], ['options', { n: 2, m: 4 }, { n: 'size', m: 'posInt', dim: { bad: [2, 0.5] } }]] },
    { name: 'customFromMask', call: customFromMask, args: [['module', withMask, notModule], ['name', 'weight', names], ['mask', tensor(new Float32Array(32).fill(1), { shape: [4, 8] }), { bad: [3, randn([8, 4])] }]] },
    { name: 'removePruning', call: removePruning, args: [['module', pruned, notModule], ['name', 'weight', names]], extra: [['pruned', [lin(), 'weight']]] },
    { name: 'isPruned', call: isPruned, args: [['module', lin(), notModule], ['name', 'weight', { bad: [3, null] }]] },
    { name: 'prunedParameters', call: prunedParameters, args: [['model', model, notModule]] },
    { name: 'sparsity', call: sparsity, args: [['model', model, notModule], ['options', { all: true }, { all: 'bool' }]] },
    { name: 'loadPrunedStateDict', call: loadPrunedStateDict, args: [['model', model, notModule], ['state dict', model.stateDict(), { bad: [3, null, []] }], ['options', { strict: true }, {}]] },
    { name: 'attachMasks', call: (o, m) => attachMasks(o, m).detach(), args: [['optimizer', opt, { bad: [3, {}, null] }], ['models', model, { bad: [3, [], [3], null] }]] },
    {
      name: 'cubicSparsity', call: cubicSparsity,
      args: [['options', { initialSparsity: 0.1, finalSparsity: 0.5, beginStep: 2, frequency: 3, pruningSteps: 4 }, { initialSparsity: 'prob', finalSparsity: 'prob', beginStep: 'size', frequency: 'posInt', pruningSteps: 'posInt' }]],
      extra: [['initialSparsity', [{ initialSparsity: 0.6, finalSparsity: 0.5, pruningSteps: 1 }]]],
    },
    { name: 'cubicSparsity.sparsityAt', call: (t) => schedule.sparsityAt(t), args: [['step', 3, 'size']] },
    { name: 'cubicSparsity.isPruningStep', call: (t) => schedule.isPruningStep(t), args: [['step', 3, 'size']] },
    {
      name: 'GradualPruner', call: (o) => new GradualPruner(o),
      args: [['options', { params: [[lin(), 'weight']], schedule, scope: 'layer', registerMasks: false, log: () => {} }, {
        params: { bad: [3, [], [[lin(), 'nope']]] }, schedule: { bad: [3, {}, null] }, scope: 'enum', registerMasks: 'bool', log: { bad: [3, 'f'] },
      }]],
    },
    { name: 'GradualPruner.step', call: (t) => pruner.step(t), args: [['step', 1, 'size']] },
    { name: 'GradualPruner.pruneTo', call: (s) => pruner.pruneTo(s), args: [['target', 0.1, 'prob']] },
  ];
}

describe('pruning arguments', () => {
  it('every wrong argument throws a typed error naming the function and the argument', async () => {
    const list = cases();
    const t = await checkArguments(list);
    console.log(`[prune arguments] ${list.length} APIs, ${t.tried} wrong calls, ${t.typed} typed errors naming the API, ${t.namedArg} also naming the argument`);
    expect(t.failures).toEqual([]);
    expect(t.typed).toBe(t.tried);
    expect(t.namedArg).toBe(t.tried);
    expect(t.tried).toBeGreaterThan(200);
  });

  it('module-dependent errors say what is wrong', async () => {
    const l = lin();
    await expect(l1Unstructured(l, 'running', { amount: 0.5 })).rejects.toThrow(/l1Unstructured: name 'running' is not a parameter of Linear \(its parameters: 'weight', 'bias'\)/);
    await expect(l1Unstructured(l, 'weight', { amount: 1.5 })).rejects.toThrow(/l1Unstructured: amount must be in \[0, 1\]/);
    await expect(l1Unstructured(l, 'weight', { amount: 0.5, count: 2 })).rejects.toThrow(/give amount \(a fraction\) or count/);
    await expect(l1Unstructured(l, 'weight', {})).rejects.toThrow(/l1Unstructured: options must give amount/);
    await expect(l1Unstructured(l, 'weight', { count: 33 })).rejects.toThrow(/count 33 is more than the 32 unpruned entries of 'weight'/);
    await expect(lnStructured(l, 'weight', { count: 1, dim: 2 })).rejects.toThrow(/lnStructured: dim/);
    await expect(lnStructured(l, 'weight', { count: 5, dim: 0 })).rejects.toThrow(/count 5 is more than the 4 unpruned slices of 'weight' along dim 0/);
    await expect(nmStructured(l, 'weight', { n: 3, m: 2 })).rejects.toThrow(/nmStructured: n \(3\) must be <= m \(2\)/);
    await expect(nmStructured(new Linear(6, 2), 'weight')).rejects.toThrow(/nmStructured: parameter 'weight' has shape \[2, 6\]; its size 6 along dim 1 is not a multiple of m = 4/);
    await expect(pruneHeads(l, { count: 1 })).rejects.toThrow(/pruneHeads: attn must be a MultiheadAttention or a GPT CausalSelfAttention, got Linear/);
    await expect(pruneHeads(new MultiheadAttention(8, 2), { count: 3 })).rejects.toThrow(/count 3 is more than the 2 unpruned heads/);
    expect(() => removePruning(l, 'weight')).toThrow(PruningError);
    expect(() => cubicSparsity({ initialSparsity: 0.6, finalSparsity: 0.5, pruningSteps: 1 })).toThrow(/initialSparsity \(0.6\) must be <= finalSparsity \(0.5\)/);
  });
});
