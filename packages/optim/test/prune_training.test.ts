// Masks through training: after pruning, every optimizer (SGD with momentum, Nesterov and weight
// decay, Adam with L2 and AMSGrad, AdamW, Lion) with masks attached keeps each pruned weight at
// exactly 0 while changing every unpruned one — also when momentum and moments were built up
// before the pruning; without the hook they revive. A pruned model round-trips through state
// dicts, safetensors files and optim checkpoints; removePruning makes the zeros permanent.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, randn, tidy, type Tensor } from '@webgrad/core';
import { Linear, mseLoss, Sequential, Tanh, loadModule, saveModule } from '@webgrad/nn';
import {
  Adam, AdamW, Lion, SGD, attachMasks, getMask, globalUnstructured, l1Unstructured, loadCheckpoint, loadPrunedModule, loadPrunedStateDict, nmStructured,
  prunedParameters, removePruning, saveCheckpoint, sparsity, type Optimizer,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'webgrad-prune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function makeModel(seed = 1): Sequential {
  manualSeed(seed);
  return new Sequential(new Linear(6, 8), new Tanh(), new Linear(8, 3));
}

function train(model: Sequential, opt: Optimizer, steps: number, seed = 9): void {
  manualSeed(seed);
  for (let s = 0; s < steps; s++) {
    tidy(() => {
      const x = randn([16, 6]);
      mseLoss(model.forward(x), x.narrow(1, 0, 3).mul(2)).backward();
    });
    opt.step();
    opt.zeroGrad();
  }
}

const linears = (m: Sequential): Linear[] => [m.at(0) as Linear, m.at(2) as Linear];
/** The values, with -0 (a negative weight times a 0 mask) read as 0. */
const read = async (t: Tensor): Promise<number[]> => Array.from(await t.data(), (v) => v + 0);

const OPTIMIZERS: [string, (p: Tensor[]) => Optimizer][] = [
  ['SGD (momentum, weight decay)', (p) => new SGD(p, { lr: 0.05, momentum: 0.9, weightDecay: 0.01 })],
  ['SGD (Nesterov, dampening 0)', (p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true })],
  ['Adam (L2 weight decay)', (p) => new Adam(p, { lr: 0.01, weightDecay: 0.01 })],
  ['Adam (AMSGrad)', (p) => new Adam(p, { lr: 0.01, amsgrad: true })],
  ['AdamW', (p) => new AdamW(p, { lr: 0.01, weightDecay: 0.1 })],
  ['Lion', (p) => new Lion(p, { lr: 0.003, weightDecay: 0.1 })],
];

describe('attachMasks', () => {
  for (const [name, make] of OPTIMIZERS) {
    it(`${name}: pruned weights stay exactly 0 and every unpruned one changes`, async () => {
      const model = makeModel();
      const opt = make(model.parameters());
      train(model, opt, 3); // momentum / moments now hold values for every entry
      await globalUnstructured(linears(model).map((l) => [l, 'weight'] as const), { amount: 0.5 });
      const hook = attachMasks(opt, model);
      const before = await Promise.all(linears(model).map((l) => read(l.weight)));
      train(model, opt, 5, 10);
      for (const [j, l] of linears(model).entries()) {
        const mask = await read(getMask(l, 'weight')!);
        const after = await read(l.weight);
        expect(mask.filter((v) => v === 0).length).toBeGreaterThan(0);
        mask.forEach((k, i) => {
          if (k === 0) expect(after[i]).toBe(0);
          else expect(after[i]).not.toBe(before[j]![i]);
        });
      }
      expect((await sparsity(model)).global).toBe(0.5);
      hook.detach();
      train(model, opt, 1, 11);
      const zeros = (await Promise.all(linears(model).map((l) => read(l.weight)))).flat().filter((v) => v === 0);
      expect(zeros).toEqual([]); // detached: the pruned entries move again
      opt.dispose();
    });
  }

  it('without the hook, momentum built up before the pruning revives pruned weights', async () => {
    const model = makeModel();
    const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    train(model, opt, 3);
    await l1Unstructured(linears(model)[0]!, 'weight', { amount: 0.5 });
    train(model, opt, 1, 10);
    const w = await read(linears(model)[0]!.weight);
    expect(w.filter((v) => v === 0).length).toBe(0);
  });

  it('follows masks pruned after attaching, and only touches the optimizer\'s own parameters', async () => {
    const model = makeModel();
    const [a, b] = linears(model);
    const opt = new AdamW(a!.parameters(), { lr: 0.01 });
    attachMasks(opt, model);
    await nmStructured(a!, 'weight', { dim: 0 }); // 2:4 along the output dim (6 inputs are not a multiple of 4), after attaching
    await l1Unstructured(b!, 'weight', { amount: 0.5 }); // b is not in the optimizer
    train(model, opt, 3);
    const r = await sparsity(model);
    expect(r.layers.map((l) => [l.name, l.sparsity])).toEqual([['0.weight', 0.5], ['2.weight', 0.5]]);
    expect(() => attachMasks(opt, model)).toThrow(/attachMasks: masks are already attached/);
  });
});

describe('saving and loading a pruned model', () => {
  async function prunedModel(): Promise<Sequential> {
    const model = makeModel(4);
    await l1Unstructured(linears(model)[0]!, 'weight', { amount: 0.6 });
    await l1Unstructured(linears(model)[1]!, 'bias', { count: 1 });
    return model;
  }

  it('state dicts hold <name>_mask; loadPrunedStateDict restores masks into a fresh model', async () => {
    const model = await prunedModel();
    const sd = model.stateDict();
    expect(Object.keys(sd)).toEqual(['0.weight', '0.bias', '0.weight_mask', '2.weight', '2.bias', '2.bias_mask']);
    const fresh = makeModel(5);
    expect(() => fresh.loadStateDict(sd)).toThrow(/unexpected keys '0.weight_mask', '2.bias_mask'/);
    loadPrunedStateDict(fresh, sd);
    expect(prunedParameters(fresh).map((p) => p.name)).toEqual(['0.weight', '2.bias']);
    for (const [k, t] of Object.entries(fresh.stateDict())) expect(await read(t)).toEqual(await read(sd[k]!));
  });

  it('a safetensors file round-trips, into a fresh model or one already pruned', async () => {
    const model = await prunedModel();
    const path = join(dir, 'pruned.safetensors');
    await saveModule(model, path);
    const fresh = makeModel(6);
    await loadPrunedModule(fresh, path);
    const again = await prunedModel();
    await l1Unstructured(linears(again)[0]!, 'weight', { amount: 0.5 }); // other masks, same structure
    await loadModule(again, path);
    for (const m of [fresh, again]) {
      for (const [k, t] of Object.entries(model.stateDict())) expect(await read(m.stateDict()[k]!)).toEqual(await read(t));
      const opt = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
      attachMasks(opt, m);
      train(m, opt, 2);
      expect((await sparsity(m)).layers.map((l) => l.zeros)).toEqual((await sparsity(model)).layers.map((l) => l.zeros));
    }
  });

  it('an optim checkpoint (model, optimizer) round-trips the masks', async () => {
    const model = await prunedModel();
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    attachMasks(opt, model);
    train(model, opt, 2);
    const path = await saveCheckpoint(join(dir, 'ckpt'), { step: 2, model, optimizer: opt });
    const restored = await prunedModel(); // same structure: the masks are overwritten from the file
    await l1Unstructured(linears(restored)[0]!, 'weight', { amount: 0.9 });
    const opt2 = new Adam(restored.parameters(), { lr: 0.01 });
    await loadCheckpoint(path, { model: restored, optimizer: opt2 });
    for (const [k, t] of Object.entries(model.stateDict())) expect(await read(restored.stateDict()[k]!)).toEqual(await read(t));
  });

  it('removePruning keeps the zeros, drops the mask, and lets training move those entries again', async () => {
    const model = await prunedModel();
    const l = linears(model)[0]!;
    const zeros = (await read(l.weight)).filter((v) => v === 0).length;
    removePruning(l, 'weight');
    expect(getMask(l, 'weight')).toBeNull();
    expect(Object.keys(model.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias', '2.bias_mask']);
    expect((await read(l.weight)).filter((v) => v === 0).length).toBe(zeros);
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    attachMasks(opt, model);
    train(model, opt, 1);
    expect((await read(l.weight)).filter((v) => v === 0).length).toBe(0);
    expect((await read(linears(model)[1]!.bias!))[0]! * 0).toBe(0);
    expect(() => removePruning(l, 'weight')).toThrow(/removePruning: parameter 'weight' of Linear is not pruned/);
  });
});
