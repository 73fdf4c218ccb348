// Gradient clipping (expected norms computed by hand in JS), finiteness checks, accumulation
// equivalence with one large batch, and GradScaler's torch.cuda.amp.GradScaler behaviour
// (skip on overflow, backoff ×0.5, growth ×2 after growthInterval clean steps).
import { describe, expect, it } from 'vitest';
import { keep, memory, randn, tensor, tidy, type Tensor } from '@webgrad/core';
import {
  clipGradNorm, clipGradValue, GradientAccumulator, GradScaler, gradsAreFinite, gradsAreFiniteAsync, SGD, Adam,
} from '../src/index.js';

const param = (v: number[], g: number[] | null, dtype: 'float32' | 'float64' = 'float64'): Tensor => {
  const p = keep(tensor(v, { dtype, requiresGrad: true }));
  if (g) p.grad = keep(tensor(g, { dtype }));
  return p;
};
const arr = async (t: Tensor) => [...(await t.data())];

describe('clipGradNorm / clipGradValue', () => {
  it('scales by maxNorm / (norm + 1e-6) when the global 2-norm exceeds maxNorm', async () => {
    const a = param([0, 0], [3, 4]);
    const b = param([0], [12]);
    const c = param([0], null); // no grad: ignored
    const total = clipGradNorm([a, b, c], 6.5);
    expect(total.shape).toEqual([]);
    expect(await total.item()).toBeCloseTo(13, 12); // √(9 + 16 + 144)
    const coef = 6.5 / (13 + 1e-6);
    (await arr(a.grad!)).forEach((x, i) => expect(x).toBeCloseTo([3, 4][i]! * coef, 12));
    expect((await arr(b.grad!))[0]).toBeCloseTo(12 * coef, 12);
    total.dispose();
  });

  it('leaves gradients alone below maxNorm; 1-norm and ∞-norm', async () => {
    const a = param([0, 0], [3, -4]);
    const n2 = clipGradNorm([a], 100);
    expect(await n2.item()).toBeCloseTo(5, 12);
    expect(await arr(a.grad!)).toEqual([3, -4]);
    const n1 = clipGradNorm([a], 100, { normType: 1 });
    expect(await n1.item()).toBeCloseTo(7, 12);
    const ni = clipGradNorm([a], 2, { normType: Infinity });
    expect(await ni.item()).toBe(4);
    (await arr(a.grad!)).forEach((x, i) => expect(x).toBeCloseTo([3, -4][i]! * 2 / (4 + 1e-6), 12));
    const n3 = clipGradNorm([param([0, 0], [1, 2])], 100, { normType: 3 });
    expect(await n3.item()).toBeCloseTo(Math.cbrt(9), 12);
    for (const t of [n1, n2, ni, n3]) t.dispose();
  });

  it('clipGradValue clamps elementwise', async () => {
    const a = param([0, 0, 0], [-3, 0.5, 9]);
    clipGradValue([a], 1);
    expect(await arr(a.grad!)).toEqual([-1, 0.5, 1]);
  });

  it('gradsAreFinite detects NaN and ±Inf without touching the grads', async () => {
    const a = param([0, 0], [1, 2], 'float32');
    const b = param([0], [Infinity], 'float32');
    const f1 = gradsAreFinite([a]);
    expect(f1.dtype).toBe('bool');
    expect(f1.shape).toEqual([]);
    expect(await f1.item()).toBe(1);
    expect(await gradsAreFiniteAsync([a, b])).toBe(false);
    expect(await gradsAreFiniteAsync([param([0], [NaN], 'float32')])).toBe(false);
    expect(await gradsAreFiniteAsync([param([0], [-Infinity], 'float32')])).toBe(false);
    f1.dispose();
  });

  it('clipping does not leak tensors', () => {
    const a = param([0, 0], [3, 4], 'float32');
    const before = memory().tensors;
    for (let i = 0; i < 50; i++) { clipGradNorm([a], 1).dispose(); clipGradValue([a], 0.5); gradsAreFinite([a]).dispose(); }
    expect(memory().tensors).toBe(before);
  });
});

describe('GradientAccumulator', () => {
  it('k micro-batches with loss/k step to the same parameters as one large batch', async () => {
    const x = keep(randn([8, 3], { dtype: 'float64' }));
    const y = keep(randn([8, 2], { dtype: 'float64' }));
    const W0 = keep(randn([3, 2], { dtype: 'float64' }));
    const make = () => keep(W0.clone().requiresGrad_());
    // One large batch.
    const Wa = make();
    const optA = new Adam([Wa], { lr: 0.1 });
    for (let s = 0; s < 3; s++) {
      tidy(() => x.matmul(Wa).sub(y).square().mean().backward());
      optA.step(); optA.zeroGrad();
    }
    // Four micro-batches of two rows each.
    const Wb = make();
    const optB = new Adam([Wb], { lr: 0.1 });
    const acc = new GradientAccumulator(optB, 4);
    const stepped: boolean[] = [];
    for (let s = 0; s < 3; s++) {
      for (let k = 0; k < 4; k++) {
        const loss = tidy(() => x.narrow(0, 2 * k, 2).matmul(Wb).sub(y.narrow(0, 2 * k, 2)).square().mean());
        stepped.push(acc.backward(loss));
        loss.dispose();
      }
    }
    expect(stepped).toEqual([false, false, false, true, false, false, false, true, false, false, false, true]);
    expect(acc.pending).toBe(0);
    const [a, b] = [await arr(Wa), await arr(Wb)];
    a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(1e-12));
    expect(optB.state.get(Wb)!.step).toBe(3);
  });

  it('flush steps on a partial cycle; hooks run around the step', () => {
    const p = param([1], null);
    const opt = new SGD([p], { lr: 0.1 });
    const calls: string[] = [];
    const acc = new GradientAccumulator(opt, 3, { beforeStep: () => calls.push('before'), afterStep: () => calls.push('after') });
    expect(acc.flush()).toBe(false);
    const loss = tidy(() => p.mul(2).sum());
    acc.backward(loss);
    expect(acc.pending).toBe(1);
    expect(acc.flush()).toBe(true);
    expect(calls).toEqual(['before', 'after']);
    expect(p.grad).toBeNull();
    loss.dispose();
  });
});

describe('GradScaler', () => {
  it('defaults: 2^16, ×2 after 2000 clean steps, ×0.5 on overflow', () => {
    const s = new GradScaler();
    expect(s.getScale()).toBe(65536);
    expect(s.stateDict()).toEqual({ scale: 65536, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000, growthTracker: 0 });
  });

  it('scale → backward → unscale_ recovers the true gradients; a clean step is taken', async () => {
    const p = param([1, 2], null, 'float32');
    const scaler = new GradScaler({ initScale: 1024 });
    const opt = new SGD([p], { lr: 0.5 });
    tidy(() => {
      const loss = p.square().sum(); // dL/dp = 2p
      const scaled = scaler.scale(loss);
      expect(scaled.dataSync()[0]).toBe(5 * 1024);
      scaled.backward();
    });
    expect(await arr(p.grad!)).toEqual([2 * 1024, 4 * 1024]);
    scaler.unscale_(opt);
    expect(await arr(p.grad!)).toEqual([2, 4]);
    expect(() => scaler.unscale_(opt)).toThrow(/already called/);
    expect(await scaler.step(opt)).toBe(true);
    expect(scaler.foundInf(opt)).toBe(false);
    expect(await arr(p)).toEqual([0, 0]);
    scaler.update();
    expect(scaler.getScale()).toBe(1024);
    expect(scaler.growthTracker).toBe(1);
  });

  it('overflow: the step is skipped, the scale backs off and the tracker resets', async () => {
    const p = param([1, 2], null, 'float32');
    const opt = new Adam([p], { lr: 0.1 });
    const scaler = new GradScaler({ initScale: 8, growthInterval: 3 });
    const stepWith = async (g: number[]) => {
      p.grad = keep(tensor(g, { dtype: 'float32' }));
      const took = await scaler.step(opt);
      scaler.update();
      opt.zeroGrad();
      return took;
    };
    expect(await stepWith([8, 8])).toBe(true);
    expect(await stepWith([8, 8])).toBe(true);
    expect(scaler.growthTracker).toBe(2);
    const before = await arr(p);
    expect(await stepWith([NaN, 8])).toBe(false);
    expect(await arr(p)).toEqual(before); // parameters untouched
    expect(opt.state.get(p)!.step).toBe(2); // optimizer state untouched
    expect(scaler.getScale()).toBe(4);
    expect(scaler.growthTracker).toBe(0);
    expect(await stepWith([Infinity, 8])).toBe(false);
    expect(scaler.getScale()).toBe(2);
    // Three clean steps in a row: growth ×2.
    for (let i = 0; i < 3; i++) expect(await stepWith([2, 2])).toBe(true);
    expect(scaler.getScale()).toBe(4);
    expect(scaler.growthTracker).toBe(0);
  });

  it('update() without step() is an error; stateDict round trip; disabled is a pass-through', async () => {
    const s = new GradScaler({ initScale: 16, growthInterval: 5 });
    expect(() => s.update()).toThrow(/step\(\) first/);
    s.update(32);
    const t = new GradScaler();
    t.loadStateDict(s.stateDict());
    expect(t.stateDict()).toEqual(s.stateDict());
    const off = new GradScaler({ enabled: false });
    const p = param([1], [1], 'float32');
    const loss = keep(tensor([3], { dtype: 'float32' }));
    expect(off.scale(loss)).toBe(loss);
    expect(await off.step(new SGD([p], { lr: 1 }))).toBe(true);
    expect(await arr(p)).toEqual([0]);
  });

  it('does not leak over many steps', async () => {
    const p = param([1, 2], null, 'float32');
    const opt = new SGD([p], { lr: 1e-3 });
    const scaler = new GradScaler({ initScale: 4, growthInterval: 2 });
    const once = async () => {
      tidy(() => scaler.scale(p.square().sum()).backward());
      await scaler.step(opt); scaler.update(); opt.zeroGrad();
    };
    await once();
    const before = memory();
    for (let i = 0; i < 50; i++) await once();
    expect(memory().tensors).toBe(before.tensors);
  });
});
