// Activation checkpointing: gradients through `checkpoint` equal those of the plain computation
// (the same kernels run, so bit for bit), reach closure parameters and captured activations, replay
// dropout's mask, support second order and nesting, hold less memory after forward, and leak nothing.
import { describe, expect, it } from 'vitest';
import {
  AutogradError, ValueError, autocast, checkpoint, dropout, getRngState, gradients, manualSeed, memory, noGrad,
  randn, resetPeakMemory, tensor, tidy, type DeviceName, type Tensor,
} from '@webgrad/core';
import { randomArray, testDevices } from './helpers.js';

const values = async (ts: (Tensor | null)[]): Promise<number[][]> => Promise.all(ts.map(async (t) => Array.from(await t!.data())));
const param = (shape: number[], seed: number, device: DeviceName): Tensor =>
  tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), { shape, device, requiresGrad: true });
const bytes = (device: DeviceName): number => memory().devices[device]?.bytes ?? 0;

/** A small two-layer block: the weights come from the closure, `scale` is a non-tensor argument. */
function makeBlock(device: DeviceName) {
  const w1 = param([6, 8], 11, device), b1 = param([8], 12, device), w2 = param([8, 6], 13, device);
  const block = (x: Tensor, mask: Tensor, scale: number, opts: { p: number }): Tensor =>
    tidy(() => dropout(x.matmul(w1).add(b1).gelu().mul(mask), opts.p).matmul(w2).mul(scale).add(x));
  return { params: [w1, b1, w2], block };
}

describe.each(testDevices())('checkpoint on %s', (device) => {
  it('gives the same gradients as the plain function: explicit inputs, a constant input, non-tensor arguments, closure parameters, dropout', async () => {
    const { params, block } = makeBlock(device);
    const x = param([4, 6], 1, device);
    const mask = tensor(randomArray(32, 2, 0, 1), { shape: [4, 8], device }); // requires no grad
    const run = (ckpt: boolean) => tidy(() => {
      manualSeed(7);
      const y = ckpt ? checkpoint(block, x, mask, 0.5, { p: 0.3 }) : block(x, mask, 0.5, { p: 0.3 });
      const loss = y.square().sum();
      return { out: y.detach(), grads: gradients(loss, [x, ...params]), rng: getRngState() };
    });
    const plain = run(false);
    const ckpt = run(true);
    expect(await values([ckpt.out])).toEqual(await values([plain.out]));
    const gp = await values(plain.grads), gc = await values(ckpt.grads);
    gp.forEach((g, i) => expect(gc[i], `gradient ${i}`).toEqual(g));
    expect(gp[1]!.some((v) => v !== 0)).toBe(true);
    // The recomputation drew its dropout mask from the forward's RNG state and put the generator back.
    expect(ckpt.rng).toEqual(plain.rng);
    for (const t of [...plain.grads, ...ckpt.grads, plain.out, ckpt.out, x, mask, ...params]) t!.dispose();
  });

  it('accumulates into the .grad of closure parameters with backward(), and leaks nothing', async () => {
    const { params, block } = makeBlock(device);
    const x = param([4, 6], 3, device);
    const ones = tensor(new Array(32).fill(1), { shape: [4, 8], device });
    const step = (ckpt: boolean) => {
      tidy(() => (ckpt ? checkpoint(block, x, ones, 2, { p: 0 }) : block(x, ones, 2, { p: 0 })).sum().backward());
      const gs = [x, ...params].map((p) => { const g = p.grad!; p.grad = null; return g; });
      return gs;
    };
    const plain = step(false);
    const before = memory();
    const ckpt = step(true);
    const after = memory();
    // The only new tensors are the four gradients.
    expect(after.tensors - before.tensors).toBe(4);
    expect(after.devices[device]!.bytes - before.devices[device]!.bytes).toBe(ckpt.reduce((a, g) => a + g.size * 4, 0));
    expect(await values(ckpt)).toEqual(await values(plain));
    for (const t of [...plain, ...ckpt, x, ones, ...params]) t.dispose();
  });

  it('passes gradients to a captured activation that has a graph of its own', async () => {
    const a = param([3, 4], 5, device);
    const w = param([4, 4], 6, device);
    const run = (ckpt: boolean) => tidy(() => {
      const h = a.tanh(); // computed outside, read from the closure inside
      const f = (x: Tensor) => x.matmul(w).mul(h).sin();
      const x = a.mul(2);
      return gradients((ckpt ? checkpoint(f, x) : f(x)).sum(), [a, w]);
    });
    const plain = run(false), ckpt = run(true);
    expect(await values(ckpt)).toEqual(await values(plain));
    for (const t of [...plain, ...ckpt, a, w]) t!.dispose();
  });

  it('nests, and returns its input unchanged as a tensor of its own', async () => {
    const { params, block } = makeBlock(device);
    const x = param([4, 6], 8, device);
    const ones = tensor(new Array(32).fill(1), { shape: [4, 8], device });
    const two = (ckpt: boolean) => (z: Tensor) => {
      const inner = (u: Tensor) => block(u, ones, 1, { p: 0 });
      return ckpt ? checkpoint(inner, checkpoint(inner, z)) : inner(inner(z));
    };
    const run = (ckpt: boolean) => tidy(() => {
      const y = ckpt ? checkpoint(two(true), x) : two(false)(x);
      return gradients(y.square().sum(), [x, ...params]);
    });
    const plain = run(false), ckpt = run(true);
    expect(await values(ckpt)).toEqual(await values(plain));
    const same = tidy(() => {
      const y = checkpoint((u: Tensor) => u, x);
      expect(y).not.toBe(x);
      return gradients(y.mul(3).sum(), [x])[0]!;
    });
    expect(Array.from(await same.data())).toEqual(new Array(24).fill(3));
    for (const t of [...plain, ...ckpt, same, x, ones, ...params]) t!.dispose();
  });

  it('supports second order (createGraph): Hessian-vector products through the recomputation', async () => {
    const w = param([5, 5], 9, device);
    const x = param([3, 5], 10, device);
    const f = (u: Tensor) => u.matmul(w).tanh().square();
    const run = (ckpt: boolean) => tidy(() => {
      const y = (ckpt ? checkpoint(f, x) : f(x)).sum();
      const [gx, gw] = gradients(y, [x, w], { createGraph: true });
      return gradients(gx!.sum().add(gw!.square().sum()), [x, w]);
    });
    const plain = run(false), ckpt = run(true);
    expect(await values(ckpt)).toEqual(await values(plain));
    for (const t of [...plain, ...ckpt, w, x]) t!.dispose();
  });

  it('holds only its inputs between forward and backward', () => {
    const w = param([64, 64], 14, device);
    const x = param([32, 64], 15, device);
    // Eight layers of 32×64 activations (8 KiB each), several saved per layer without checkpointing.
    const f = (u: Tensor) => { let h = u; for (let i = 0; i < 8; i++) h = h.matmul(w).tanh(); return h; };
    const held = (ckpt: boolean) => {
      const before = bytes(device);
      const y = tidy(() => (ckpt ? checkpoint(f, x) : f(x)).sum());
      const graph = bytes(device) - before;
      y.backward();
      y.dispose();
      w.grad?.dispose(); w.grad = null; x.grad?.dispose(); x.grad = null;
      expect(bytes(device)).toBe(before);
      return graph;
    };
    const plain = held(false), ckpt = held(true);
    expect(plain).toBeGreaterThanOrEqual(8 * 32 * 64 * 4);
    expect(ckpt).toBe(4); // the scalar output: x and w are the caller's
    w.dispose(); x.dispose();
  });

  it('reports the most bytes live at once since resetPeakMemory()', () => {
    resetPeakMemory();
    const base = memory().devices[device]?.peakBytes ?? 0;
    tidy(() => { randn([256], { device }); randn([256], { device }); });
    const peak = memory().devices[device]!.peakBytes;
    expect(peak - base).toBeGreaterThanOrEqual(2 * 256 * 4);
    resetPeakMemory();
    expect(memory().devices[device]!.peakBytes).toBe(bytes(device));
  });
});

describe('checkpoint under autocast', () => {
  it('recomputes in the forward\'s autocast dtype: the same float16 products and gradients', async () => {
    const w = param([8, 8], 16, 'cpu');
    const x = param([4, 8], 17, 'cpu');
    const f = (u: Tensor) => u.matmul(w).tanh().matmul(w);
    const run = (ckpt: boolean) => tidy(() => {
      const y = autocast({ dtype: 'float16' }, () => (ckpt ? checkpoint(f, x) : f(x)));
      expect(y.dtype).toBe('float16');
      return gradients(y.float().square().sum(), [x, w]);
    });
    const plain = run(false), ckpt = run(true);
    expect(await values(ckpt)).toEqual(await values(plain));
    for (const t of [...plain, ...ckpt, w, x]) t!.dispose();
  });
});

describe('checkpoint errors and plain mode', () => {
  it('refuses a non-function and a function that returns no tensor, leaving nothing behind', () => {
    const x = tensor([1.5, 2], { requiresGrad: true });
    const before = memory().tensors;
    expect(() => checkpoint(42 as never, x)).toThrow(ValueError);
    expect(() => checkpoint((u: Tensor) => [u.mul(2)] as never, x)).toThrow(/checkpoint: fn must return a tensor/);
    expect(memory().tensors).toBe(before);
    x.dispose();
  });

  it('under noGrad it is the function itself', () => {
    const x = tensor([1.5, 2], { requiresGrad: true });
    const y = noGrad(() => checkpoint((u: Tensor) => u.mul(2), x));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    for (const t of [x, y]) t.dispose();
  });

  it('an input changed in place before backward is an error naming checkpoint', () => {
    const x = tensor([1.5, 2], { requiresGrad: true });
    const h = x.mul(1);
    const y = checkpoint((u: Tensor) => u.exp(), h).sum();
    noGrad(() => h.mul_(2));
    let err: unknown;
    try { y.backward(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(AutogradError);
    expect((err as Error).message).toMatch(/'checkpoint': saved tensor 0 .* modified in place/);
    for (const t of [x, h, y]) t.dispose();
  });
});
