// Conv1d, Conv2d, MaxPool2d, AvgPool2d and BatchNorm1d/2d against PyTorch fixtures
// (fixtures/make_conv.py), plus float64 gradient checks and the train/eval statistics behaviour.
import { describe, expect, it } from 'vitest';
import { manualSeed, memory, randn, tidy, type Tensor } from '@webgrad/core';
import { AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, MaxPool2d, type Module } from '@webgrad/nn';
import { DEVICES, onCpu, disposeAll, expectClose, fixedRandom, gradcheck, loadFixture, stateFrom, toTensor, type JT } from './helpers/layer_check.js';

interface Case { state: Record<string, JT>; x: JT; y: JT }
interface BNCase { state: Record<string, JT>; xs: JT[]; ys: JT[]; after: Record<string, JT>; x_eval: JT; y_eval: JT }
const F = loadFixture<Record<string, Case & BNCase>>('conv');

function load(m: Module, state: Record<string, JT>, device: 'cpu' | 'webgpu', strict = true): void {
  const sd = stateFrom(state, { device });
  m.loadStateDict(sd, { strict });
  disposeAll(sd);
}

describe.each(DEVICES)('conv layers on %s', (device) => {
  const convCases: [string, () => Module][] = [
    ['conv2d_groups', () => new Conv2d(4, 6, 3, { stride: 2, padding: 1, groups: 2, device })],
    ['conv2d_dilated', () => new Conv2d(3, 4, [2, 3], { stride: [1, 2], padding: [1, 0], dilation: 2, bias: false, device })],
    ['conv1d', () => new Conv1d(3, 5, 3, { stride: 2, padding: 1, device })],
    ['conv1d_groups_dilated', () => new Conv1d(4, 4, 2, { dilation: 3, groups: 4, bias: false, device })],
    ['maxpool', () => new MaxPool2d(3, { stride: 2, padding: 1 })],
    ['avgpool', () => new AvgPool2d(2)],
    ['avgpool_pad', () => new AvgPool2d(3, { stride: 2, padding: 1 })],
  ];
  it.each(convCases)('%s matches PyTorch', async (name, make) => {
    const c = F[name]!;
    const m = make();
    load(m, c.state, device);
    const x = toTensor(c.x, { device });
    const y = m.forward(x) as Tensor;
    await expectClose(y, c.y);
    x.dispose(); y.dispose(); m.dispose();
  });

  it('PyTorch default init bounds and parameter shapes', async () => {
    manualSeed(0);
    const conv = new Conv2d(4, 6, [3, 2], { groups: 2, device });
    expect(conv.weight.shape).toEqual([6, 2, 3, 2]);
    const bound = 1 / Math.sqrt(2 * 3 * 2);
    for (const t of [conv.weight, conv.bias!]) {
      const v = await t.data();
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(bound * 0.5);
    }
    const c1 = new Conv1d(3, 5, 4, { device });
    expect(c1.weight.shape).toEqual([5, 3, 4]);
    expect(Object.keys(c1.stateDict())).toEqual(['weight', 'bias']);
    conv.dispose(); c1.dispose();
  });

  it("'same' padding keeps the size, even kernels included; unbatched inputs work", () => {
    manualSeed(1);
    tidy(() => {
      const c = new Conv2d(2, 3, [4, 3], { padding: 'same', dilation: [1, 2], device });
      const x = randn([2, 2, 5, 6], { device });
      expect(c.forward(x).shape).toEqual([2, 3, 5, 6]);
      const un = c.forward(x.select(0, 1));
      expect(un.shape).toEqual([3, 5, 6]);
      const c1 = new Conv1d(2, 3, 4, { padding: 'same', device });
      expect(c1.forward(randn([2, 2, 7], { device })).shape).toEqual([2, 3, 7]);
      expect(c1.forward(randn([2, 7], { device })).shape).toEqual([3, 7]);
      expect(new MaxPool2d(2).forward(randn([3, 4, 4], { device })).shape).toEqual([3, 2, 2]);
      c.dispose(); c1.dispose();
    });
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(/divisible by groups/);
  });

  it('input shape errors name the layer and the expected shape', () => {
    const c = new Conv2d(3, 4, 3, { device });
    const x = randn([1, 2, 5, 5], { device });
    expect(() => c.forward(x)).toThrow(/Conv2d: expected input \(N, 3, H, W\)/);
    x.dispose(); c.dispose();
  });

  // float64 is a CPU-only dtype, so the central-difference gradchecks run on 'cpu' only; the
  // fixture comparisons above cover the same layers on every device.
  onCpu(device).each([
    ['groups + stride + padding', () => new Conv2d(4, 2, 3, { stride: 2, padding: 1, groups: 2, dtype: 'float64', device }), [2, 4, 5, 4]],
    ['dilation + rectangular kernel', () => new Conv2d(2, 3, [2, 3], { stride: [2, 1], padding: [0, 1], dilation: [2, 1], dtype: 'float64', device }), [1, 2, 6, 5]],
    ['conv1d same', () => new Conv1d(2, 2, 4, { padding: 'same', dtype: 'float64', device }), [2, 2, 6]],
  ] as const)('gradcheck %s', (_n, make, shape) => {
    manualSeed(3);
    const m = make();
    const x = randn([...shape], { dtype: 'float64', device, requiresGrad: true });
    const yShape = (tidy(() => m.forward(x)) as Tensor);
    const r = fixedRandom(yShape.shape, 7, device);
    yShape.dispose();
    gradcheck(() => m.forward(x).mul(r).sum(), [x, ...m.parameters()]);
    x.dispose(); r.dispose(); m.dispose();
  });
});

describe.each(DEVICES)('batch norm on %s', (device) => {
  const bnCases: [string, () => BatchNorm1d | BatchNorm2d][] = [
    ['bn1d_nc', () => new BatchNorm1d(4, { device })],
    ['bn1d_ncl', () => new BatchNorm1d(3, { momentum: 0.2, device })],
    ['bn2d', () => new BatchNorm2d(3, { eps: 1e-3, device })],
  ];
  it.each(bnCases)('%s: training outputs, running statistics and eval output match PyTorch', async (name, make) => {
    const c = F[name]!;
    const m = make();
    load(m, c.state, device, false);
    m.train();
    for (let i = 0; i < c.xs.length; i++) {
      const x = toTensor(c.xs[i]!, { device });
      const y = m.forward(x);
      await expectClose(y, c.ys[i]!);
      x.dispose(); y.dispose();
    }
    await expectClose(m.runningMean!, c.after.running_mean!);
    await expectClose(m.runningVar!, c.after.running_var!);
    expect(await m.numBatchesTracked!.item()).toBe(2);
    m.eval();
    const x = toTensor(c.x_eval, { device });
    const y = m.forward(x);
    await expectClose(y, c.y_eval);
    x.dispose(); y.dispose();
    expect(Object.keys(m.stateDict()).sort()).toEqual(['bias', 'numBatchesTracked', 'runningMean', 'runningVar', 'weight']);
    m.dispose();
  });

  it('momentum null is a cumulative average; eval does not touch the statistics', async () => {
    manualSeed(4);
    const m = new BatchNorm1d(2, { momentum: null, device });
    const xs = [randn([6, 2], { device }), randn([6, 2], { device }).add(2)];
    for (const x of xs) m.forward(x).dispose();
    const expected = xs.map((x) => x.mean(0)).reduce((a, b) => a.add(b)).mul(0.5);
    await expectClose(m.runningMean!, { shape: [2], data: Array.from(await expected.data()) });
    m.eval();
    const before = Array.from(await m.runningMean!.data());
    m.forward(xs[0]!).dispose();
    expect(Array.from(await m.runningMean!.data())).toEqual(before);
    m.resetRunningStats();
    expect(Array.from(await m.runningVar!.data())).toEqual([1, 1]);
    for (const t of [...xs, expected]) t.dispose();
    m.dispose();
  });

  it('without running statistics it always uses the batch', async () => {
    const m = new BatchNorm2d(2, { trackRunningStats: false, affine: false, device });
    expect(m.stateDict()).toEqual({});
    m.eval();
    const x = randn([2, 2, 3, 3], { device });
    const y = m.forward(x);
    const muT = y.mean([0, 2, 3]);
    const mu = await muT.data();
    expect(Math.abs(mu[0]!)).toBeLessThan(1e-5);
    x.dispose(); y.dispose(); muT.dispose();
  });

  // float64 is a CPU-only dtype, so the central-difference gradchecks run on 'cpu' only; the
  // fixture comparisons above cover the same layers on every device.
  onCpu(device).each([
    ['1d (N, C)', () => new BatchNorm1d(3, { dtype: 'float64', device }), [5, 3]],
    ['1d (N, C, L)', () => new BatchNorm1d(2, { dtype: 'float64', device }), [3, 2, 4]],
    ['2d', () => new BatchNorm2d(2, { dtype: 'float64', device }), [2, 2, 3, 2]],
  ] as const)('gradcheck %s in training mode', (_n, make, shape) => {
    manualSeed(5);
    const m = make();
    const x = randn([...shape], { dtype: 'float64', device, requiresGrad: true });
    const r = fixedRandom(shape, 11, device);
    // Running statistics change on every call, but outputs in training mode do not depend on them.
    gradcheck(() => m.forward(x).mul(r).sum(), [x, ...m.parameters()]);
    m.eval();
    gradcheck(() => m.forward(x).mul(r).sum(), [x, ...m.parameters()]);
    x.dispose(); r.dispose(); m.dispose();
  });

  it('a forward/backward loop leaves memory flat', () => {
    const m = new BatchNorm2d(2, { device });
    const conv = new Conv2d(2, 2, 3, { padding: 1, device });
    const step = () => tidy(() => {
      const x = randn([2, 2, 4, 4], { device });
      m.forward(conv.forward(x)).square().mean().backward();
    });
    step();
    const before = memory().tensors;
    for (let i = 0; i < 3; i++) step();
    expect(memory().tensors).toBe(before);
    m.dispose(); conv.dispose();
  });
});
