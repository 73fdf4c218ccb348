// adamwStepMulti_: bit-identical to adamwStep_ on each item in turn, on every device present —
// awkward shapes (size 1, odd sizes, empty), per-item hyperparameters and step counts, gradients
// that need a cast or a contiguous copy, float64 on the cpu, moments stored as views of one flat
// tensor — the same through the per-item fallback of a backend without `adamwMulti`, the WebGPU
// dispatch count, and bad input raising typed errors that name the item before anything is written.
import { afterEach, describe, expect, it } from 'vitest';
import {
  AutogradError, DTypeError, DeviceError, DisposedError, ShapeError, ValueError, adamwStepMulti_, adamwStep_, cpuBackend, memory, narrow, noGrad,
  tensor, view, webgpuRuntime, zeros, type AdamWStepItem, type AdamWStepOptions, type DType, type DeviceName, type Tensor,
} from '@webgrad/core';
import type { BackendKernels, TypedArray } from '@webgrad/kernels';
import { rng, testDevices } from './helpers.js';

const SHAPES = [[1], [3], [127], [129], [7, 45], [2, 3, 5], [0], [300], [1, 1], [64, 65]];

const optsOf = (i: number): AdamWStepOptions => ({
  lr: 1e-3 * (1 + i), beta1: [0.9, 0.8, 0.95][i % 3]!, beta2: [0.999, 0.99, 0.9999][i % 3]!,
  eps: [1e-8, 1e-6][i % 2]!, weightDecay: [0, 0.1, 0.01][i % 3]!, step: 1 + (i % 5),
});

interface Build {
  device: DeviceName;
  dtype?: DType;
  /** Moments as views of one flat tensor each (m, v). */
  flat?: boolean;
  /** Item indices whose grad is float16 (cast by the op) or a transposed view (made contiguous). */
  halfGrad?: number[];
  stridedGrad?: number[];
}

/** Items over SHAPES with seeded values; the same seed gives equal items. */
function build(b: Build, seed: number): { items: AdamWStepItem[]; owned: Tensor[] } {
  const r = rng(seed);
  const dtype = b.dtype ?? 'float32';
  const owned: Tensor[] = [];
  const make = (shape: number[], lo: number, hi: number, dt: DType = dtype): Tensor => {
    const n = shape.reduce((a, c) => a * c, 1);
    const t = tensor(Array.from({ length: n }, () => lo + (hi - lo) * r()), { shape, dtype: dt, device: b.device });
    owned.push(t);
    return t;
  };
  const total = SHAPES.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
  const flatM = b.flat ? make([total], -0.1, 0.1) : null, flatV = b.flat ? make([total], 0, 0.01) : null;
  let at = 0;
  const items = SHAPES.map((shape, i): AdamWStepItem => {
    const n = shape.reduce((a, c) => a * c, 1);
    const param = make(shape, -1, 1);
    let grad = make(shape, -1, 1, b.halfGrad?.includes(i) ? 'float16' : dtype);
    if (b.stridedGrad?.includes(i)) {
      const t = make([...shape].reverse(), -1, 1);
      grad = t.transpose(0, -1);
      owned.push(grad);
    }
    const sub = (f: Tensor): Tensor => { const v = view(narrow(f, 0, at, n), shape); owned.push(v); return v; };
    const expAvg = flatM ? sub(flatM) : make(shape, -0.1, 0.1);
    const expAvgSq = flatV ? sub(flatV) : make(shape, 0, 0.01);
    at += n;
    return { param, grad, expAvg, expAvgSq, opts: optsOf(i) };
  });
  return { items, owned };
}

async function bits(t: Tensor): Promise<number[]> {
  const d = await t.data();
  return Array.from(d instanceof Float32Array ? new Uint32Array(d.buffer, d.byteOffset, d.length) : d);
}

async function expectSameState(a: readonly AdamWStepItem[], b: readonly AdamWStepItem[]): Promise<void> {
  for (let i = 0; i < a.length; i++) {
    for (const k of ['param', 'expAvg', 'expAvgSq'] as const) expect(await bits(b[i]![k]), `items[${i}].${k}`).toEqual(await bits(a[i]![k]));
  }
}

/** adamwStep_ on each item of one build, adamwStepMulti_ on the other: equal bits, no tensor left behind. */
async function expectParity(b: Build, seed: number): Promise<{ dispatches: number }> {
  const one = build(b, seed), multi = build(b, seed);
  const before = memory().tensors;
  noGrad(() => { for (const it of one.items) adamwStep_(it.param, it.grad, it.expAvg, it.expAvgSq, it.opts); });
  const rt = b.device === 'webgpu' ? webgpuRuntime() : null;
  const d0 = rt?.stats().dispatches ?? 0;
  noGrad(() => adamwStepMulti_(multi.items));
  const dispatches = (rt?.stats().dispatches ?? 0) - d0;
  expect(memory().tensors).toBe(before);
  await expectSameState(one.items, multi.items);
  for (const t of [...one.owned, ...multi.owned]) t.dispose();
  return { dispatches };
}

/**
 * The step writes every item's param, expAvg and expAvgSq in place, so a graph that saved one of
 * them before the step refuses its backward, naming the change.
 */
function expectSavedInvalidated(device: DeviceName): void {
  const { items, owned } = build({ device, flat: true }, 8);
  const written = items.filter((it) => it.param.size > 0).slice(0, 3).flatMap((it) => [it.param, it.expAvg, it.expAvgSq]);
  // x·t saves t for x's gradient.
  const graphs = written.map((t) => zeros(t.shape, { dtype: t.dtype, device, requiresGrad: true }).mul(t));
  noGrad(() => adamwStepMulti_(items));
  for (const [i, y] of graphs.entries()) expect(() => y.sum().backward(), `written tensor ${i}`).toThrow(/modified in place after it was saved/);
  for (const t of [...graphs, ...owned]) t.dispose();
}

describe.each(testDevices())('adamwStepMulti_ on %s', (device) => {
  it('a graph that saved an item\'s parameter or moment before the step refuses its backward', () => {
    expectSavedInvalidated(device);
  });

  it('equals adamwStep_ per item bit for bit: awkward shapes, per-item hyperparameters and steps', async () => {
    await expectParity({ device }, 1);
  });

  it('gradients cast from float16 and made contiguous from a transposed view, as adamwStep_ does', async () => {
    await expectParity({ device, halfGrad: [1, 4], stridedGrad: [3, 9] }, 2);
  });

  it('moments stored as views of one flat tensor each', async () => {
    await expectParity({ device, flat: true }, 3);
  });

  if (device === 'cpu') {
    it('float64 parameters', async () => {
      await expectParity({ device, dtype: 'float64', stridedGrad: [2] }, 4);
    });
  }

  if (device === 'webgpu') {
    it('one dispatch per group that fits the storage-binding limit: 4 bindings per item, or 2 with flat moments', async () => {
      const limit = webgpuRuntime()!.limits.maxStorageBuffersPerShaderStage;
      const nonEmpty = SHAPES.filter((s) => !s.includes(0)).length;
      expect((await expectParity({ device }, 5)).dispatches).toBe(Math.ceil(nonEmpty / Math.floor(limit / 4)));
      expect((await expectParity({ device, flat: true }, 6)).dispatches).toBe(Math.ceil(nonEmpty / Math.floor((limit - 2) / 2)));
    });
  }
});

describe('adamwStepMulti_ on a backend without adamwMulti', () => {
  const original = cpuBackend.kernels;
  afterEach(() => { (cpuBackend as { kernels: BackendKernels<TypedArray> }).kernels = original; });

  it('runs adamwStep_ on each item: the same bits, one adamw call per item', async () => {
    let calls = 0;
    const adamw = original.adamw!;
    const kernels: BackendKernels<TypedArray> = { ...original, adamw: (p, g, m, v, o) => { calls++; adamw(p, g, m, v, o); } };
    delete kernels.adamwMulti;
    (cpuBackend as { kernels: BackendKernels<TypedArray> }).kernels = kernels;
    await expectParity({ device: 'cpu', flat: true, halfGrad: [2] }, 7);
    expect(calls).toBe(2 * SHAPES.length); // adamwStep_'s calls, then the fallback's
    expectSavedInvalidated('cpu');
  });
});

describe('adamwStepMulti_ rejects bad input with typed errors naming the item, before writing anything', () => {
  const device: DeviceName = 'cpu';
  const item = (shape = [3], dtype: DType = 'float32'): AdamWStepItem => ({
    param: zeros(shape, { dtype, device }).add(1), grad: zeros(shape, { dtype, device }).add(0.5),
    expAvg: zeros(shape, { dtype, device }), expAvgSq: zeros(shape, { dtype, device }), opts: optsOf(0),
  });
  const cases: [string, () => AdamWStepItem[], new (...a: never[]) => Error, RegExp][] = [
    ['a grad of another shape', () => [item(), { ...item(), grad: zeros([4], { device }) }], ShapeError, /items\[1\]: grad of shape \[4\] does not match param \[3\]/],
    ['a non-contiguous param', () => [item(), item(), { ...item([2, 3]), param: zeros([3, 2], { device }).transpose(0, 1) }], ValueError, /items\[2\]: param .*not contiguous/],
    ['an int32 param', () => [{ ...item(), param: zeros([3], { dtype: 'int32', device }) }], DTypeError, /items\[0\]: expected a floating-point param, got int32/],
    ['a float64 expAvg for a float32 param', () => [item(), { ...item(), expAvg: zeros([3], { dtype: 'float64', device }) }], DTypeError, /items\[1\]: expAvg is float64/],
    ['a negative lr', () => [item(), { ...item(), opts: { ...optsOf(0), lr: -1 } }], ValueError, /items\[1\]/],
    ['a step of 0', () => [{ ...item(), opts: { ...optsOf(0), step: 0 } }], ValueError, /items\[0\]/],
    ['an unknown key', () => [{ ...item(), extra: 1 } as AdamWStepItem], ValueError, /items\[0\]: unknown option "extra"/],
    ['an undefined item', () => [item(), undefined as unknown as AdamWStepItem], ValueError, /items\[1\] is undefined/],
    ['one param twice', () => { const a = item(); return [a, { ...item(), param: a.param }]; }, ValueError, /items\[0\]\.param .* and items\[1\]\.param .* share memory/],
    ['overlapping moment views', () => {
      const flat = zeros([5], { device });
      return [{ ...item(), expAvg: narrow(flat, 0, 0, 3) }, { ...item(), expAvg: narrow(flat, 0, 2, 3) }];
    }, ValueError, /items\[0\]\.expAvg .* and items\[1\]\.expAvg .* share memory/],
    ['a grad that is another item\'s param', () => { const a = item(); return [a, { ...item(), grad: a.param }]; }, ValueError, /items\[0\]\.param .* and items\[1\]\.grad .* share memory/],
  ];
  it.each(cases)('%s', (_, make, type, message) => {
    const items = make();
    const before = items.map((it) => (it ? Array.from(it.param.dataSync()) : []));
    expect(() => noGrad(() => adamwStepMulti_(items))).toThrow(type);
    expect(() => noGrad(() => adamwStepMulti_(items))).toThrow(message);
    items.forEach((it, i) => { if (it) expect(Array.from(it.param.dataSync()), `items[${i}] unchanged`).toEqual(before[i]); });
  });

  it('not an array; a disposed tensor; a param that requires grad outside noGrad', () => {
    expect(() => adamwStepMulti_({} as unknown as AdamWStepItem[])).toThrow(/adamwStepMulti_: items must be an array/);
    const a = item();
    a.grad.dispose();
    expect(() => noGrad(() => adamwStepMulti_([a]))).toThrow(DisposedError);
    const b = item();
    b.param.requiresGrad_(true);
    expect(() => adamwStepMulti_([item(), b])).toThrow(AutogradError);
    expect(() => adamwStepMulti_([item(), b])).toThrow(/items\[1\]/);
  });

  if (testDevices().includes('webgpu')) it('items on two devices', () => {
    const g = { param: zeros([3], { device: 'webgpu' }), grad: zeros([3], { device: 'webgpu' }), expAvg: zeros([3], { device: 'webgpu' }), expAvgSq: zeros([3], { device: 'webgpu' }), opts: optsOf(0) };
    expect(() => noGrad(() => adamwStepMulti_([item(), g]))).toThrow(DeviceError);
    expect(() => noGrad(() => adamwStepMulti_([item(), g]))).toThrow(/items\[1\] is on webgpu, items\[0\] on cpu/);
  });

  it('an empty list is a no-op', () => {
    expect(() => adamwStepMulti_([])).not.toThrow();
  });
});
