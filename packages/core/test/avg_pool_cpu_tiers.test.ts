// avgPool2d on the cpu device: the fast tier (WebAssembly plane kernels) and the reference kernels
// give the same bits through the op — forward, the gradient, and the gradient of the gradient
// (pooling's backward is an op whose own backward pools again) — on odd sizes, padding, stride ≠
// kernel, 1×1 windows, batch 1 and a non-contiguous (transposed) input.
import { describe, expect, it } from 'vitest';
import { avgPool2d, gradients, setCpuKernels, tensor, tidy, type Tensor } from '@webgrad/core';

interface Case { shape: [number, number, number, number]; kernel: number | [number, number]; stride?: number | [number, number]; padding?: number | [number, number]; transposed?: boolean }
const CASES: Case[] = [
  { shape: [2, 3, 9, 13], kernel: 3, stride: 1, padding: 1 },
  { shape: [1, 2, 8, 10], kernel: 2 },
  { shape: [1, 3, 7, 9], kernel: 3, stride: 2, padding: 1 },
  { shape: [2, 2, 10, 11], kernel: [3, 2], stride: [2, 3], padding: [1, 1] },
  { shape: [1, 4, 5, 5], kernel: 1 },
  { shape: [1, 1, 1, 1], kernel: 1 },
  { shape: [2, 3, 9, 13], kernel: 3, stride: 2, padding: 1, transposed: true },
];

/** Deterministic values in [-2, 2). */
function data(n: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return 4 * (s / 2 ** 32) - 2; });
}

/** The pooled values, dL/dx for L = Σ w·y, and d(Σ dL/dx · v)/dw (second order), as plain arrays. */
async function run(c: Case): Promise<number[][]> {
  const n = c.shape.reduce((a, b) => a * b, 1);
  const [N, C, H, W] = c.shape;
  const base = tensor(data(n, 3), { shape: c.transposed ? [N, C, W, H] : c.shape, requiresGrad: true });
  const outs = tidy(() => {
    const x: Tensor = c.transposed ? base.transpose(2, 3) : base;
    const y = avgPool2d(x, c.kernel, { stride: c.stride, padding: c.padding });
    const w = tensor(data(y.shape.reduce((a, b) => a * b, 1), 5), { shape: y.shape, requiresGrad: true });
    const [dx] = gradients(y.mul(w).sum(), [base], { createGraph: true });
    const [dw] = gradients(dx!.mul(tensor(data(n, 7), { shape: base.shape })).sum(), [w]);
    return [y, dx!, dw!];
  });
  const arrays = await Promise.all(outs.map(async (t) => Array.from(await t.data())));
  for (const t of [...outs, base]) t.dispose();
  return arrays;
}

describe('avgPool2d on the cpu: fast tier and reference agree bit for bit', () => {
  for (const c of CASES) {
    it(`[${c.shape}] kernel ${c.kernel} stride ${c.stride ?? 'kernel'} padding ${c.padding ?? 0}${c.transposed ? ', transposed input' : ''}`, async () => {
      const fast = await run(c);
      const prev = setCpuKernels('reference');
      let ref: number[][];
      try { ref = await run(c); } finally { setCpuKernels(prev); }
      ['forward', 'gradient', 'second-order gradient'].forEach((what, i) => expect(fast[i], what).toEqual(ref[i]));
      expect(fast[0]!.some((v) => v !== 0)).toBe(true);
    });
  }
});
