// The WebGPU multi-tensor AdamW step (adamw_multi.ts) against one `adamw` dispatch per item: the
// same inputs uploaded twice, each way run once, and every GPU buffer read back whole and compared
// bit for bit (the elements outside the views included). Awkward sizes (1, odd, around the
// workgroup of 128, empty), per-item hyperparameters and step counts, float16/bfloat16 storage
// (bfloat16 moments of neighbouring items sharing a word), moments stored flat in one buffer,
// binding limits forced down to 4 and 8, a strided item (taken one by one), and the dispatch count
// each grouping should give. The cpu sets' `adamwMulti` loops their `adamw`: checked at the end.
import { describe, expect, it } from 'vitest';
import { contiguousStrides, cpuKernels, storedBits } from '../src/cpu/index.js';
import { fastCpuKernels } from '../src/cpu_fast/index.js';
import type { AdamWItem, AdamWOptions, DType, TypedArray, View } from '../src/types.js';
import { createWebGPUKernels } from '../src/webgpu/index.js';
import { adamwMulti, type AdamWMultiOptions } from '../src/webgpu/adamw_multi.js';
import { gpuRuntime, makeView, readBack, rng, type Layout } from './gpu_helpers.js';

const rt = await gpuRuntime();
const gk = createWebGPUKernels(rt);

type Role = 'param' | 'grad' | 'm' | 'v';
const ROLES: readonly Role[] = ['param', 'grad', 'm', 'v'];

interface Spec {
  shape: number[];
  /** Dtypes of param, grad, m, v (default all float32). */
  dt?: [DType, DType, DType, DType];
  /** Step count (the other hyperparameters vary with the item's index). */
  step?: number;
  /** Roles whose views go into flat buffers shared by every item that names the role (one per role and dtype; views end to end, no gaps). */
  flat?: readonly Role[];
  /** Layout of every view of the item (a strided item when permuted). */
  layout?: Layout;
}

const optsOf = (i: number, step: number): AdamWOptions => ({
  lr: 1e-3 * (1 + i), beta1: [0.9, 0.8, 0.95][i % 3]!, beta2: [0.999, 0.99, 0.9999][i % 3]!,
  eps: [1e-8, 1e-6][i % 2]!, weightDecay: [0, 0.1, 0.01][i % 3]!, step,
});

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** CPU items as specified, with random values (moments plausible: v ≥ 0). */
function cpuItems(specs: readonly Spec[], seed: number): AdamWItem<TypedArray>[] {
  const r = rng(seed);
  const gen: Record<Role, () => number> = { param: () => -1 + 2 * r(), grad: () => -1 + 2 * r(), m: () => -0.1 + 0.2 * r(), v: () => 0.01 * r() };
  // The flat buffers: one per role and dtype, sized to the views of every item that puts the role there.
  const flat = new Map<string, { view: View<TypedArray>; next: number }>();
  for (const role of ROLES) {
    for (const s of specs.filter((x) => x.flat?.includes(role))) {
      const d = (s.dt ?? [])[ROLES.indexOf(role)] ?? 'float32';
      const key = `${role}.${d}`;
      const f = flat.get(key) ?? { view: makeView(d, [0]), next: 0 };
      f.next += numel(s.shape);
      flat.set(key, f);
    }
  }
  for (const f of flat.values()) { f.view = makeView(f.view.dtype, [f.next + 1], {}, () => storedBits(f.view.dtype, 7)); f.next = 1; }
  return specs.map((s, i) => {
    const views = ROLES.map((role, k): View<TypedArray> => {
      const d = (s.dt ?? [])[k] ?? 'float32';
      const f = s.flat?.includes(role) ? flat.get(`${role}.${d}`) : undefined;
      let v: View<TypedArray>;
      if (f) {
        v = { buffer: f.view.buffer, dtype: d, shape: [...s.shape], strides: contiguousStrides(s.shape), offset: f.next };
        f.next += numel(s.shape);
      } else {
        v = makeView(d, s.shape, s.layout ?? { offset: (i + k) % 3 }, () => storedBits(d, 5));
      }
      writeValues(v, gen[role]);
      return v;
    });
    return { param: views[0]!, grad: views[1]!, m: views[2]!, v: views[3]!, opts: optsOf(i, s.step ?? 1 + (i % 4)) };
  });
}

/** Writes gen() into every element of the view (logical order). */
function writeValues(v: View<TypedArray>, gen: () => number): void {
  const idx = new Array<number>(v.shape.length).fill(0);
  for (let e = 0; e < numel(v.shape); e++) {
    let off = v.offset;
    idx.forEach((x, d) => { off += x * v.strides[d]!; });
    v.buffer[off] = storedBits(v.dtype, gen());
    for (let d = v.shape.length - 1; d >= 0; d--) { if (++idx[d]! < v.shape[d]!) break; idx[d] = 0; }
  }
}

/** The items on the GPU: each distinct CPU buffer uploaded once (shared buffers stay shared). */
function upload(items: readonly AdamWItem<TypedArray>[]): { items: AdamWItem<GPUBuffer>[]; buffers: Map<TypedArray, GPUBuffer> } {
  const buffers = new Map<TypedArray, GPUBuffer>();
  const gpu = (v: View<TypedArray>): View<GPUBuffer> => {
    let b = buffers.get(v.buffer);
    if (!b) {
      const bytes = v.buffer.slice().buffer as ArrayBuffer;
      b = rt.allocate(bytes.byteLength);
      rt.write(b, bytes);
      buffers.set(v.buffer, b);
    }
    return { buffer: b, dtype: v.dtype, shape: v.shape, strides: v.strides, offset: v.offset };
  };
  return { items: items.map((it) => ({ param: gpu(it.param), grad: gpu(it.grad), m: gpu(it.m), v: gpu(it.v), opts: it.opts })), buffers };
}

/** Every buffer's bits after the step, in the CPU buffers' order. */
async function readAllBuffers(buffers: Map<TypedArray, GPUBuffer>): Promise<number[][]> {
  const out: number[][] = [];
  for (const [cpu, b] of buffers) {
    const dtype: DType = cpu instanceof Uint16Array ? 'float16' : 'float32';
    const got = await readBack(rt, b, dtype, cpu.length);
    out.push(Array.from(dtype === 'float32' ? new Uint32Array(got.buffer, got.byteOffset, got.length) : got));
  }
  for (const b of buffers.values()) rt.release(b);
  return out;
}

/** Runs the specs one `adamw` per item and through `adamwMulti` with `opts`; expects equal bits and `dispatches` multi launches. */
async function expectBitIdentical(specs: readonly Spec[], opts: AdamWMultiOptions, dispatches: number, seed = 1): Promise<void> {
  const items = cpuItems(specs, seed);
  const one = upload(items), multi = upload(items);
  for (const it of one.items) gk.adamw(it.param, it.grad, it.m, it.v, it.opts);
  const before = rt.stats().dispatches;
  adamwMulti(rt, multi.items, opts);
  expect(rt.stats().dispatches - before, 'dispatches').toBe(dispatches);
  const want = await readAllBuffers(one.buffers), got = await readAllBuffers(multi.buffers);
  expect(got.length).toBe(want.length);
  want.forEach((w, b) => {
    const bad = w.findIndex((x, e) => got[b]![e] !== x);
    expect(bad, `buffer ${b}: first differing element ${bad} (${got[b]![bad]} vs ${w[bad]})`).toBe(-1);
  });
}

const MV: readonly Role[] = ['m', 'v'];
const SIZES = [[1], [3], [127], [128], [129], [7, 45], [2, 3, 5], [300], [1, 1], [64, 65]];

describe('webgpu adamwMulti: bit-identical to one adamw dispatch per item', () => {
  const limit = rt.limits.maxStorageBuffersPerShaderStage;

  it('float32 items of awkward sizes, per-item hyperparameters and steps, at the device limit and forced to 8 and 4 bindings', async () => {
    const specs = SIZES.map((shape) => ({ shape }));
    await expectBitIdentical(specs, {}, Math.ceil(specs.length / Math.floor(limit / 4)));
    await expectBitIdentical(specs, { maxStorageBindings: 8 }, Math.ceil(specs.length / 2), 2);
    await expectBitIdentical(specs, { maxStorageBindings: 4 }, specs.length, 3);
    await expectBitIdentical(specs, { maxStorageBindings: 7 }, specs.length, 4); // 7 bindings hold one unshared item
  });

  it('empty items are skipped; a single item is one dispatch', async () => {
    await expectBitIdentical([{ shape: [0] }, { shape: [5] }, { shape: [3, 0] }], {}, 1);
    await expectBitIdentical([{ shape: [0] }], {}, 0);
    await expectBitIdentical([], {}, 0);
  });

  it('moments stored flat share two bindings: 8 bindings hold 3 items, 16 hold 7', async () => {
    const specs = SIZES.map((shape) => ({ shape, flat: MV }));
    await expectBitIdentical(specs, { maxStorageBindings: 8 }, Math.ceil(specs.length / 3));
    await expectBitIdentical(specs, { maxStorageBindings: 16 }, Math.ceil(specs.length / 7), 2);
  });

  it('float16 and bfloat16 storage, mixed in one call (bfloat16 moments of neighbours share words)', async () => {
    const h: [DType, DType, DType, DType] = ['float16', 'float16', 'float16', 'float16'];
    const b: [DType, DType, DType, DType] = ['bfloat16', 'bfloat16', 'bfloat16', 'bfloat16'];
    const specs: Spec[] = [
      { shape: [37], dt: h }, { shape: [3], dt: b, flat: MV }, { shape: [5], dt: b, flat: MV }, { shape: [129], dt: b, flat: MV },
      { shape: [13], dt: ['float32', 'float16', 'float32', 'float32'] }, { shape: [9], dt: ['float32', 'bfloat16', 'float32', 'float32'] },
      { shape: [1], dt: ['float16', 'float32', 'bfloat16', 'float16'] }, { shape: [4, 7], dt: b },
    ];
    await expectBitIdentical(specs, { maxStorageBindings: 16 }, 2);
    await expectBitIdentical(specs, { maxStorageBindings: 8 }, 4, 2);
  });

  it('a buffer bound as two dtypes starts a new group; a strided item takes adamw on its own', async () => {
    const items = cpuItems([{ shape: [6] }, { shape: [6] }], 9);
    // item 1 reads item 0's grad buffer as float16 bits (its first 12 bytes hold 6 float32, 12 float16)
    const g0 = items[0]!.grad;
    items[1]!.grad = { buffer: new Uint16Array(g0.buffer.buffer, g0.buffer.byteOffset, g0.buffer.length * 2), dtype: 'float16', shape: [6], strides: [1], offset: 0 };
    const one = upload(items), multi = upload(items);
    // Distinct typed arrays upload to distinct buffers, so item 1 is pointed at item 0's buffer here.
    multi.items[1]!.grad = { ...multi.items[1]!.grad, buffer: multi.items[0]!.grad.buffer };
    one.items[1]!.grad = { ...one.items[1]!.grad, buffer: one.items[0]!.grad.buffer };
    for (const it of one.items) gk.adamw(it.param, it.grad, it.m, it.v, it.opts);
    const before = rt.stats().dispatches;
    adamwMulti(rt, multi.items);
    expect(rt.stats().dispatches - before).toBe(2);
    expect(await readAllBuffers(multi.buffers)).toEqual(await readAllBuffers(one.buffers));

    await expectBitIdentical([{ shape: [5] }, { shape: [4, 6], layout: { perm: [1, 0], offset: 1 } }, { shape: [7] }], {}, 2);
  });

  it('more items than one dispatch holds: grads and moments flat, 13 params per dispatch at 16 bindings; all flat, maxItems per dispatch', async () => {
    const sizes = Array.from({ length: 16 }, (_, i) => [1 + ((i * 7) % 19)]);
    await expectBitIdentical(sizes.map((shape) => ({ shape, flat: ['grad', 'm', 'v'] })), { maxStorageBindings: 16 }, 2);
    await expectBitIdentical(sizes.map((shape) => ({ shape, flat: ROLES })), { maxStorageBindings: 4, maxItems: 5 }, 4, 2);
  });

  it('a binding limit below 4, or an item cap outside [1, 32], is a RangeError', () => {
    expect(() => adamwMulti(rt, [], { maxStorageBindings: 3 })).toThrow(RangeError);
    expect(() => adamwMulti(rt, [], { maxItems: 0 })).toThrow(RangeError);
    expect(() => adamwMulti(rt, [], { maxItems: 33 })).toThrow(RangeError);
  });
});

describe('cpu adamwMulti: adamw on each item', () => {
  it.each([['reference', cpuKernels], ['fast', fastCpuKernels]] as const)('%s: bit-identical to adamw per item', (_, k) => {
    const specs: Spec[] = [{ shape: [1] }, { shape: [33] }, { shape: [4, 5], dt: ['float64', 'float64', 'float64', 'float64'] }, { shape: [0] }, { shape: [9], dt: ['float32', 'float16', 'float32', 'float32'] }];
    const a = cpuItems(specs, 11), b = cpuItems(specs, 11);
    for (const it of a) k.adamw(it.param, it.grad, it.m, it.v, it.opts);
    k.adamwMulti(b);
    a.forEach((it, i) => {
      for (const role of ROLES) expect(Array.from(b[i]![role].buffer), `item ${i} ${role}`).toEqual(Array.from(it[role].buffer));
    });
  });
});
