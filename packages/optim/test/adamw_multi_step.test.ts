// AdamW and Adam step all their parameters in one multi-tensor call (adamwStepMulti_): the same bits
// as the per-parameter step (`updateParam` on each, core's adamwStep_), on every device present —
// several groups with their own hyperparameters and a scheduler-like lr change, parameters that
// skip a step (no grad) and so carry their own step counts, a group added later, a state dict
// round trip — and on WebGPU the moments stored flat, so a step takes ⌈n / ⌊(limit − 2) / 2⌋⌉
// dispatches of the AdamW kernel.
import { describe, expect, it } from 'vitest';
import { hasDevice, keep, memory, noGrad, tensor, webgpuRuntime, type DeviceName, type Tensor } from '@webgrad/core';
import { Adam, AdamW, type AdamHyper, type AdamWHyper, type Optimizer, type ParamUpdate } from '../src/index.js';

/** AdamW stepping one parameter at a time: the reference. */
class AdamWEach extends AdamW {
  protected override updateParams(updates: readonly ParamUpdate<AdamWHyper>[]): void {
    for (const u of updates) this.updateParam(u.param, u.grad, u.state, u.group);
  }
}
/** Adam stepping one parameter at a time: the reference. */
class AdamEach extends Adam {
  protected override updateParams(updates: readonly ParamUpdate<AdamHyper>[]): void {
    for (const u of updates) this.updateParam(u.param, u.grad, u.state, u.group);
  }
}

const devices: DeviceName[] = hasDevice('webgpu') ? ['cpu', 'webgpu'] : ['cpu'];
const SHAPES = [[3, 5], [5], [1], [17, 4], [129], [2, 2, 2], [7], [64, 3], [1, 9], [11]];

function rand(seed: number, n: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) % 2 ** 31; return s / 2 ** 31 - 0.5; });
}

function params(device: DeviceName, shapes: readonly number[][], seed: number): Tensor[] {
  return shapes.map((shape, i) => keep(tensor(rand(seed + i, shape.reduce((a, b) => a * b, 1)), { shape, device, requiresGrad: true })));
}

/** Sets each parameter's grad for step `s` (none for some parameters on some steps). */
function setGrads(ps: readonly Tensor[], s: number): void {
  ps.forEach((p, i) => {
    p.grad?.dispose();
    p.grad = (i + s) % 4 === 3 ? null : keep(tensor(rand(1000 * s + i, p.size), { shape: [...p.shape], device: p.device }));
  });
}

async function bits(t: Tensor): Promise<number[]> {
  const d = await t.data();
  return Array.from(d instanceof Float32Array ? new Uint32Array(d.buffer, d.byteOffset, d.length) : d);
}

async function expectSame(a: Optimizer, pa: readonly Tensor[], b: Optimizer, pb: readonly Tensor[], what: string): Promise<void> {
  for (let i = 0; i < pa.length; i++) {
    expect(await bits(pb[i]!), `${what}: param ${i}`).toEqual(await bits(pa[i]!));
    const [sa, sb] = [a.state.get(pa[i]!), b.state.get(pb[i]!)];
    expect(sb?.step, `${what}: step of param ${i}`).toBe(sa?.step);
    for (const k of Object.keys(sa?.buffers ?? {})) expect(await bits(sb!.buffers[k]!), `${what}: ${k} of param ${i}`).toEqual(await bits(sa!.buffers[k]!));
  }
}

type Make = (groups: { params: Tensor[]; lr?: number; weightDecay?: number }[], each: boolean) => Optimizer;
const optimizers: [string, Make][] = [
  ['AdamW', (g, each) => new (each ? AdamWEach : AdamW)(g, { lr: 1e-2, weightDecay: 0.1, betas: [0.85, 0.99] })],
  ['Adam (L2 decay, maximize)', (g, each) => new (each ? AdamEach : Adam)(g, { lr: 1e-2, weightDecay: 0.05, maximize: true })],
  ['Adam with AMSGrad in one group', (g, each) => new (each ? AdamEach : Adam)(g.map((x, i) => ({ ...x, amsgrad: i === 1 })), { lr: 1e-2 })],
];

describe.each(devices)('multi-tensor AdamW and Adam on %s', (device) => {
  it.each(optimizers)('%s: equal to the per-parameter step, bit for bit, over groups, skipped steps, a later group and a state dict round trip', async (_, make) => {
    const [pa, pb] = [params(device, SHAPES, 1), params(device, SHAPES, 1)];
    const [late, lateB] = [params(device, [[6], [2, 3]], 50), params(device, [[6], [2, 3]], 50)];
    const groups = (ps: Tensor[]) => [{ params: ps.slice(0, 4) }, { params: ps.slice(4, 7), lr: 3e-3 }, { params: ps.slice(7), weightDecay: 0 }];
    const ref = make(groups(pa), true), opt = make(groups(pb), false);
    for (let s = 0; s < 5; s++) {
      if (s === 2) { ref.addParamGroup({ params: late }); opt.addParamGroup({ params: lateB }); }
      for (const o of [ref, opt]) o.paramGroups[0]!.lr = 1e-2 * (1 - 0.1 * s);
      const all = [[...pa, ...(s >= 2 ? late : [])], [...pb, ...(s >= 2 ? lateB : [])]] as const;
      setGrads(all[0], s);
      setGrads(all[1], s);
      noGrad(() => { ref.step(); opt.step(); });
      await expectSame(ref, all[0], opt, all[1], `step ${s}`);
    }
    // A fresh optimizer restored from the state dict steps on as the original.
    const pc = params(device, [...SHAPES, [6], [2, 3]], 0);
    noGrad(() => [...pb, ...lateB].forEach((p, i) => pc[i]!.copy_(p)));
    const copy = make(groups(pc.slice(0, SHAPES.length)), false);
    copy.addParamGroup({ params: pc.slice(SHAPES.length) });
    copy.loadStateDict(await opt.stateDict());
    setGrads([...pb, ...lateB], 7);
    setGrads(pc, 7);
    noGrad(() => { opt.step(); copy.step(); });
    await expectSame(opt, [...pb, ...lateB], copy, pc, 'after loadStateDict');
    for (const o of [ref, opt, copy]) o.dispose();
    for (const p of [...pa, ...pb, ...late, ...lateB, ...pc]) { p.grad?.dispose(); p.dispose(); }
  });

  it.each(optimizers)('%s: parameters that are overlapping views of one storage are stepped one after another, as the per-parameter step does', async (_, make) => {
    const overlapping = (): [Tensor, Tensor[]] => {
      const base = keep(tensor(rand(9, 12), { shape: [4, 3], device }));
      const views = [base.narrow(0, 0, 3), base.narrow(0, 1, 3), base.narrow(0, 3, 1)].map((v) => keep(v.detach()).requiresGrad_());
      return [base, [...views, ...params(device, [[5]], 11)]];
    };
    const [[baseA, pa], [baseB, pb]] = [overlapping(), overlapping()];
    const ref = make([{ params: pa }], true), opt = make([{ params: pb }], false);
    for (let s = 0; s < 3; s++) {
      setGrads(pa, s);
      setGrads(pb, s);
      noGrad(() => { ref.step(); opt.step(); });
      expect(await bits(baseB), `step ${s}: the shared storage`).toEqual(await bits(baseA));
      await expectSame(ref, pa, opt, pb, `step ${s}`);
    }
    for (const o of [ref, opt]) o.dispose();
    for (const p of [...pa, ...pb, baseA, baseB]) { p.grad?.dispose(); p.dispose(); }
  });

  if (device === 'webgpu') {
    it('AdamW on WebGPU: moments are views of flat buffers (repacked after loadStateDict), ⌈n / ⌊(limit − 2) / 2⌋⌉ dispatches a step, no tensor left behind', async () => {
      const rt = webgpuRuntime()!;
      const perDispatch = Math.floor((rt.limits.maxStorageBuffersPerShaderStage - 2) / 2);
      const ps = params(device, SHAPES, 3);
      const opt = new AdamW(ps, { lr: 1e-2 });
      const storages = (k: string) => new Set(ps.map((p) => opt.state.get(p)!.buffers[k]!.storage));
      for (let s = 0; s < 3; s++) {
        ps.forEach((p, i) => { p.grad?.dispose(); p.grad = keep(tensor(rand(s * 100 + i, p.size), { shape: [...p.shape], device })); });
        const before = memory().tensors, d0 = rt.stats().dispatches;
        noGrad(() => opt.step());
        const dispatches = rt.stats().dispatches - d0;
        // The first step allocates the moments (two tensors per parameter, and a fill per flat buffer).
        expect(dispatches, `step ${s}`).toBe(Math.ceil(SHAPES.length / perDispatch) + (s === 0 ? 2 : 0));
        expect(memory().tensors - before, `step ${s}`).toBe(s === 0 ? 2 * ps.length : 0);
        expect(storages('expAvg').size).toBe(1);
        expect(storages('expAvgSq').size).toBe(1);
      }
      opt.loadStateDict(await opt.stateDict());
      expect(storages('expAvg').size).toBe(SHAPES.length);
      noGrad(() => opt.step());
      expect(storages('expAvg').size).toBe(1);
      const before = memory().tensors;
      opt.dispose();
      expect(memory().tensors).toBe(before - 2 * ps.length);
      for (const p of ps) { p.grad?.dispose(); p.dispose(); }
    });
  }
});
