// Optimizer trajectories against torch.optim (fixtures/optimizers.json, made by
// fixtures/make_optimizers.py with torch 1.13 in float64), Lion against its closed form (Chen et al.
// 2023, Algorithm 2) computed in plain JS, the fused AdamW kernel against its tensor-op
// decomposition, parameter groups, zeroGrad, and state-dict round trips.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { keep, memory, noGrad, randn, tensor, tidy, type Tensor } from '@webgrad/core';
import { Adam, AdamW, adamwStepDecomposed, Lion, Optimizer, OptimizerError, paramGroupsWithDecay, SGD } from '../src/index.js';

interface Traj { losses: number[]; W: number[][]; b: number[][] }
const fx = JSON.parse(readFileSync(new URL('./fixtures/optimizers.json', import.meta.url), 'utf8')) as {
  x: number[][]; y: number[][]; W0: number[]; b0: number[]; cases: Record<string, Traj>;
};

function problem(dtype: 'float32' | 'float64' = 'float64') {
  const x = keep(tensor(fx.x.flat(), { dtype, shape: [4, 3] }));
  const y = keep(tensor(fx.y.flat(), { dtype, shape: [4, 2] }));
  const W = keep(tensor(fx.W0, { dtype, shape: [3, 2], requiresGrad: true }));
  const b = keep(tensor(fx.b0, { dtype, requiresGrad: true }));
  const lossFn = () => x.matmul(W).add(b).sub(y).square().mean();
  return { x, y, W, b, lossFn };
}

async function runCase(make: (W: Tensor, b: Tensor) => Optimizer, lrAt: Record<number, number> = {}, dtype: 'float32' | 'float64' = 'float64'): Promise<Traj> {
  const { W, b, lossFn } = problem(dtype);
  const opt = make(W, b);
  const out: Traj = { losses: [], W: [], b: [] };
  for (let s = 0; s < 5; s++) {
    if (lrAt[s] !== undefined) for (const g of opt.paramGroups) g.lr = lrAt[s]!;
    opt.zeroGrad();
    const loss = tidy(() => { const l = lossFn(); l.backward(); return l; });
    opt.step();
    out.losses.push(await loss.item());
    loss.dispose();
    out.W.push([...(await W.data())]);
    out.b.push([...(await b.data())]);
  }
  return out;
}

function expectTraj(got: Traj, want: Traj, tol = 1e-10) {
  for (let s = 0; s < want.losses.length; s++) {
    expect(Math.abs(got.losses[s]! - want.losses[s]!)).toBeLessThan(tol);
    want.W[s]!.forEach((v, i) => expect(Math.abs(got.W[s]![i]! - v)).toBeLessThan(tol));
    want.b[s]!.forEach((v, i) => expect(Math.abs(got.b[s]![i]! - v)).toBeLessThan(tol));
  }
}

describe('optimizers vs torch.optim (float64)', () => {
  const cases: [string, (W: Tensor, b: Tensor) => Optimizer, Record<number, number>?][] = [
    ['sgd', (W, b) => new SGD([W, b], { lr: 0.1 })],
    ['sgd_momentum_dampening_wd', (W, b) => new SGD([W, b], { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 })],
    ['sgd_nesterov_wd', (W, b) => new SGD([W, b], { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.001 })],
    ['sgd_maximize_momentum', (W, b) => new SGD([W, b], { lr: 0.01, momentum: 0.5, maximize: true })],
    ['sgd_groups', (W, b) => new SGD([{ params: [W], lr: 0.1 }, { params: [b], lr: 0.01, momentum: 0.5 }], { lr: 0.2 })],
    ['adam', (W, b) => new Adam([W, b], { lr: 0.01 })],
    ['adam_wd_betas', (W, b) => new Adam([W, b], { lr: 0.02, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1 })],
    ['adam_amsgrad', (W, b) => new Adam([W, b], { lr: 0.05, amsgrad: true, weightDecay: 0.01 }), { 2: 0.2 }],
    ['adamw', (W, b) => new AdamW([W, b], { lr: 0.01, weightDecay: 0.1 })],
    ['adamw_betas_lr_change', (W, b) => new AdamW([W, b], { lr: 0.05, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.5 }), { 3: 0.01 }],
  ];
  for (const [name, make, lrAt] of cases) {
    it(name, async () => {
      expectTraj(await runCase(make, lrAt), fx.cases[name]!);
    });
  }
});

describe('optimizers vs torch.optim (float32)', () => {
  it('adam_float32', async () => {
    expectTraj(await runCase((W, b) => new Adam([W, b], { lr: 0.01, weightDecay: 0.1 }), {}, 'float32'), fx.cases.adam_float32!, 2e-6);
  });
  it('adamw_float32 (fused kernel)', async () => {
    expectTraj(await runCase((W, b) => new AdamW([W, b], { lr: 0.01, weightDecay: 0.1 }), {}, 'float32'), fx.cases.adamw_float32!, 2e-6);
  });
});

describe('Lion', () => {
  it('matches Algorithm 2 of Chen et al. 2023 computed in JS', async () => {
    const lr = 0.01; const wd = 0.3; const [b1, b2] = [0.9, 0.99];
    const p = keep(tensor([0.5, -1.5, 2, 0.25], { dtype: 'float64', requiresGrad: true }));
    const opt = new Lion([p], { lr, weightDecay: wd, betas: [b1, b2] });
    const ref = [0.5, -1.5, 2, 0.25]; const m = [0, 0, 0, 0];
    const grads = [[1, -2, 0.5, 0], [-0.5, -1, 3, 0.1], [0.2, 0.2, -0.2, -4]];
    for (const gv of grads) {
      p.grad = keep(tensor(gv, { dtype: 'float64' }));
      opt.step();
      for (let i = 0; i < 4; i++) {
        const c = b1 * m[i]! + (1 - b1) * gv[i]!;
        ref[i] = ref[i]! * (1 - lr * wd) - lr * Math.sign(c);
        m[i] = b2 * m[i]! + (1 - b2) * gv[i]!;
      }
      const got = await p.data();
      ref.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 14));
      opt.zeroGrad();
    }
    expect(Object.keys(opt.state.get(p)!.buffers)).toEqual(['expAvg']); // one buffer: half of Adam's state
  });
});

describe('AdamW fused kernel', () => {
  it('the multi-tensor kernel step equals the tensor-op decomposition (float32)', async () => {
    const p = keep(randn([5, 7], { requiresGrad: true }));
    const q = keep(noGrad(() => p.clone()));
    const m = keep(randn([5, 7]).mul(0)); const v = keep(randn([5, 7]).mul(0));
    const opt = new AdamW([p], { lr: 0.03, weightDecay: 0.2, betas: [0.85, 0.98], eps: 1e-7 });
    for (let step = 1; step <= 4; step++) {
      const g = keep(randn([5, 7]));
      p.grad = g;
      const before = p.storage.version;
      opt.step();
      expect(p.storage.version).toBe(before + 1);
      adamwStepDecomposed(q, g, m, v, { lr: 0.03, weightDecay: 0.2, beta1: 0.85, beta2: 0.98, eps: 1e-7, step });
      opt.zeroGrad();
    }
    const [a, b] = [await p.data(), await q.data()];
    a.forEach((x, i) => expect(x).toBeCloseTo(b[i]!, 5));
    const st = opt.state.get(p)!;
    const [ma, mb] = [await st.buffers.expAvg!.data(), await m.data()];
    ma.forEach((x, i) => expect(x).toBeCloseTo(mb[i]!, 6));
  });
});

describe('Optimizer base', () => {
  it('paramGroupsWithDecay: matrices decayed, biases and norm gains not, frozen left out', () => {
    const w = keep(randn([3, 2], { requiresGrad: true }));
    const bias = keep(randn([2], { requiresGrad: true }));
    const gain = keep(randn([2], { requiresGrad: true }));
    const frozen = keep(randn([2, 2]));
    const groups = paramGroupsWithDecay({ 'fc.weight': w, 'fc.bias': bias, 'ln.weight': gain, 'emb.weight': frozen }, 0.1);
    expect(groups.map((g) => [[...g.params].length, g.weightDecay])).toEqual([[1, 0.1], [2, 0]]);
    const opt = new AdamW(groups, { lr: 1e-3 });
    expect(opt.paramGroups.map((g) => g.weightDecay)).toEqual([0.1, 0]);
    expect(opt.paramGroups[1]!.lr).toBe(1e-3);
  });

  it('validates arguments', () => {
    const w = keep(randn([2], { requiresGrad: true }));
    expect(() => new SGD([w], { nesterov: true })).toThrow(OptimizerError);
    expect(() => new Adam([w], { betas: [1, 0.9] })).toThrow(/betas/);
    expect(() => new SGD([], {})).toThrow(/empty/);
    expect(() => new SGD([{ params: [w] }, { params: [w] }])).toThrow(/more than one group/);
    const opt = new SGD([w], { lr: 0.1 });
    opt.addParamGroup({ params: [keep(randn([3], { requiresGrad: true }))], lr: 0.5 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5]);
    opt.setLr(0.01);
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.01, 0.01]);
  });

  it('zeroGrad sets to null (default) or zeroes in place; params without grad are skipped', async () => {
    const w = keep(tensor([1, 2], { dtype: 'float32', requiresGrad: true }));
    const u = keep(tensor([3, 4], { dtype: 'float32', requiresGrad: true }));
    const opt = new SGD([w, u], { lr: 1 });
    w.grad = keep(tensor([1, 1], { dtype: 'float32' }));
    opt.step();
    expect([...(await w.data())]).toEqual([0, 1]);
    expect([...(await u.data())]).toEqual([3, 4]);
    opt.zeroGrad({ setToNone: false });
    expect([...(await w.grad!.data())]).toEqual([0, 0]);
    opt.zeroGrad();
    expect(w.grad).toBeNull();
  });

  it('stateDict → loadStateDict continues the trajectory exactly (Adam amsgrad)', async () => {
    const full = await runCase((W, b) => new Adam([W, b], { lr: 0.05, amsgrad: true, weightDecay: 0.01 }));
    // Three steps, snapshot, fresh params/optimizer, restore, two more steps.
    const a = problem();
    const optA = new Adam([a.W, a.b], { lr: 0.05, amsgrad: true, weightDecay: 0.01 });
    for (let s = 0; s < 3; s++) {
      optA.zeroGrad();
      tidy(() => a.lossFn().backward());
      optA.step();
    }
    const sd = await optA.stateDict();
    expect(sd.kind).toBe('Adam');
    expect(sd.state['0']!.step).toBe(3);
    expect(Object.keys(sd.state['0']!.buffers).sort()).toEqual(['expAvg', 'expAvgSq', 'maxExpAvgSq']);
    const json = JSON.parse(JSON.stringify({ ...sd, state: {} }));
    expect(json.paramGroups[0].hyper.betas).toEqual([0.9, 0.999]);
    const b = problem();
    noGrad(() => { b.W.copy_(a.W); b.b.copy_(a.b); });
    const optB = new Adam([b.W, b.b], { lr: 0.9 });
    optB.loadStateDict(sd);
    expect(optB.paramGroups[0]!.lr).toBe(0.05);
    expect(optB.paramGroups[0]!.amsgrad).toBe(true);
    for (let s = 3; s < 5; s++) {
      optB.zeroGrad();
      tidy(() => b.lossFn().backward());
      optB.step();
      expect([...(await b.W.data())]).toEqual(full.W[s]);
      expect([...(await b.b.data())]).toEqual(full.b[s]);
    }
    expect(() => new SGD([b.W, b.b]).loadStateDict(sd)).toThrow(/from Adam/);
    expect(() => new Adam([b.W]).loadStateDict(sd)).toThrow(/1 parameters in the state dict|parameters/);
  });

  it('memory stays flat over 300 steps of each optimizer in a tidy loop', () => {
    for (const make of [
      (ps: Tensor[]) => new SGD(ps, { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-4 }),
      (ps: Tensor[]) => new Adam(ps, { lr: 1e-3, amsgrad: true }),
      (ps: Tensor[]) => new AdamW(ps, { lr: 1e-3 }),
      (ps: Tensor[]) => new Lion(ps, { lr: 1e-4, weightDecay: 0.1 }),
    ]) {
      const W1 = keep(randn([8, 16]).mul(0.1).requiresGrad_());
      const W2 = keep(randn([16, 1]).mul(0.1).requiresGrad_());
      const x = keep(randn([32, 8])); const y = keep(randn([32, 1]));
      const opt = make([W1, W2]);
      const stepOnce = () => {
        tidy(() => { x.matmul(W1).tanh().matmul(W2).sub(y).square().mean().backward(); });
        opt.step();
        opt.zeroGrad();
      };
      for (let i = 0; i < 3; i++) stepOnce();
      const before = memory();
      for (let i = 0; i < 300; i++) stepOnce();
      const after = memory();
      expect(after.tensors).toBe(before.tensors);
      expect(after.bytes).toBe(before.bytes);
      opt.dispose();
      for (const t of [W1, W2, x, y]) t.dispose();
    }
  });
});
