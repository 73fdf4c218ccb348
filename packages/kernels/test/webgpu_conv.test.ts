// WebGPU im2col / col2im / pool2d / pool2dBackward vs the CPU reference (cpu/conv.ts), over
// geometries with stride, padding, dilation, non-square kernels and images, C > 1 and N > 1, and
// views at a non-zero element offset. Outputs are read back whole, so elements outside the view
// (before its offset) must be left untouched. Tolerance: f32 sums of at most kh·kw terms.
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { convOutputSize } from '../src/cpu/conv.js';
import { col2im, im2col, pool2d, pool2dBackward } from '../src/webgpu/conv.js';
import { WebGPUDTypeError } from '../src/webgpu/errors.js';
import type { Conv2dGeometry, TypedArray, View } from '../src/types.js';
import { expectClose, gpuRuntime, makeView, readView, releaseAll, rng, toGPU } from './gpu_helpers.js';

const rt = await gpuRuntime();

interface Case { N: number; C: number; H: number; W: number; g: Conv2dGeometry }

const geo = (kernel: [number, number], stride: [number, number], padding: [number, number], dilation: [number, number] = [1, 1]): Conv2dGeometry =>
  ({ kernel, stride, padding, dilation });

const CONV_CASES: Case[] = [
  { N: 1, C: 1, H: 3, W: 3, g: geo([2, 2], [1, 1], [0, 0]) },
  { N: 2, C: 3, H: 7, W: 5, g: geo([3, 2], [2, 1], [1, 0]) },
  { N: 2, C: 2, H: 9, W: 8, g: geo([3, 3], [2, 3], [2, 1], [2, 1]) },
  { N: 1, C: 4, H: 6, W: 11, g: geo([1, 4], [1, 2], [0, 2], [1, 2]) },
  { N: 3, C: 2, H: 5, W: 5, g: geo([5, 5], [1, 1], [2, 2]) },
];

// Pool padding is at most half the kernel (the core rule), dilation 1 as core's pools use.
const POOL_CASES: Case[] = [
  { N: 1, C: 1, H: 3, W: 3, g: geo([2, 2], [1, 1], [0, 0]) },
  { N: 2, C: 3, H: 7, W: 6, g: geo([3, 2], [2, 2], [1, 1]) },
  { N: 2, C: 2, H: 9, W: 10, g: geo([3, 3], [3, 2], [1, 0]) },
  { N: 1, C: 3, H: 5, W: 8, g: geo([2, 4], [1, 3], [1, 2]) },
  { N: 2, C: 2, H: 8, W: 7, g: geo([3, 2], [1, 2], [0, 1], [2, 1]) },
];

function outHW(c: Case): [number, number] {
  const { g } = c;
  return [convOutputSize(c.H, g.kernel[0], g.stride[0], g.padding[0], g.dilation[0]),
    convOutputSize(c.W, g.kernel[1], g.stride[1], g.padding[1], g.dilation[1])];
}

function randView(shape: number[], seed: number, offset = 5, dtype: 'float32' | 'int32' = 'float32', fill?: (i: number) => number): View<TypedArray> {
  const r = rng(seed);
  return makeView(dtype, shape, { offset }, fill ?? (() => r() * 4 - 2));
}

async function compare(cpuOut: View<TypedArray>, gpuOut: View<GPUBuffer>, what: string, atol = 1e-5): Promise<void> {
  const got = await readView(rt!, gpuOut, cpuOut);
  expectClose(got, cpuOut.buffer, 1e-5, atol, what);
}

describe('webgpu conv lowering', () => {
  it('im2col and col2im match the CPU reference', async () => {
    for (const [k, c] of CONV_CASES.entries()) {
      const [Ho, Wo] = outHW(c);
      const KK = c.C * c.g.kernel[0] * c.g.kernel[1];
      const x = randView([c.N, c.C, c.H, c.W], 10 + k, 3);
      const cols = makeView('float32', [c.N, KK, Ho * Wo], { offset: 7 }, () => -9);
      const gx = toGPU(rt!, x), gcols = toGPU(rt!, cols);
      cpuKernels.im2col(x, c.g, cols);
      im2col(rt!, gx, c.g, gcols);
      await compare(cols, gcols, `im2col ${JSON.stringify(c)}`);

      const dcols = randView([c.N, KK, Ho * Wo], 20 + k, 2);
      const dx = makeView('float32', [c.N, c.C, c.H, c.W], { offset: 4 }, () => -9);
      const gdcols = toGPU(rt!, dcols), gdx = toGPU(rt!, dx);
      cpuKernels.col2im(dcols, c.g, dx);
      col2im(rt!, gdcols, c.g, gdx);
      await compare(dx, gdx, `col2im ${JSON.stringify(c)}`, 1e-4);
      releaseAll(rt!, gx, gcols, gdcols, gdx);
    }
  });

  it('col2im is the adjoint of im2col', async () => {
    const c = CONV_CASES[2]!;
    const [Ho, Wo] = outHW(c);
    const KK = c.C * c.g.kernel[0] * c.g.kernel[1];
    const x = randView([c.N, c.C, c.H, c.W], 1, 0);
    const y = randView([c.N, KK, Ho * Wo], 2, 0);
    const cols = makeView('float32', [c.N, KK, Ho * Wo]);
    const dx = makeView('float32', [c.N, c.C, c.H, c.W]);
    const gx = toGPU(rt!, x), gy = toGPU(rt!, y), gc = toGPU(rt!, cols), gd = toGPU(rt!, dx);
    im2col(rt!, gx, c.g, gc);
    col2im(rt!, gy, c.g, gd);
    const a = await readView(rt!, gc, cols), b = await readView(rt!, gd, dx);
    let lhs = 0, rhs = 0;
    for (let i = 0; i < a.length; i++) lhs += a[i]! * y.buffer[i]!;
    for (let i = 0; i < b.length; i++) rhs += x.buffer[i]! * b[i]!;
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-3 * Math.max(1, Math.abs(lhs)));
    releaseAll(rt!, gx, gy, gc, gd);
  });
});

describe('webgpu pooling', () => {
  for (const op of ['max', 'avg'] as const) {
    it(`${op} pool2d forward and backward match the CPU reference`, async () => {
      for (const [k, c] of POOL_CASES.entries()) {
        const [Ho, Wo] = outHW(c);
        const r = rng(100 + k);
        // Quantized values make ties common (the first maximum must win) — and some NaNs for max.
        const x = randView([c.N, c.C, c.H, c.W], 0, 6, 'float32',
          (i) => (op === 'max' && i === 40 ? NaN : Math.round(r() * 6) / 2 - 1.5));
        const out = makeView('float32', [c.N, c.C, Ho, Wo], { offset: 3 }, () => -9);
        const arg = op === 'max' ? makeView('int32', [c.N, c.C, Ho, Wo], { offset: 1 }, () => -9) : null;
        const gx = toGPU(rt!, x), gout = toGPU(rt!, out), garg = arg ? toGPU(rt!, arg) : null;
        cpuKernels.pool2d(op, x, c.g, out, arg);
        pool2d(rt!, op, gx, c.g, gout, garg);
        await compare(out, gout, `pool2d ${op} ${JSON.stringify(c)}`);
        if (arg && garg) expect(Array.from(await readView(rt!, garg, arg))).toEqual(Array.from(arg.buffer));

        const dy = randView([c.N, c.C, Ho, Wo], 200 + k, 2);
        const dx = makeView('float32', [c.N, c.C, c.H, c.W], { offset: 5 }, () => -9);
        const gdy = toGPU(rt!, dy), gdx = toGPU(rt!, dx);
        cpuKernels.pool2dBackward(op, dy, arg, c.g, dx);
        pool2dBackward(rt!, op, gdy, garg, c.g, gdx);
        await compare(dx, gdx, `pool2dBackward ${op} ${JSON.stringify(c)}`, 1e-4);
        releaseAll(rt!, gx, gout, garg, gdy, gdx);
      }
    });
  }

  it('max pool2d without an argmax output, and float64 is refused', async () => {
    const c = POOL_CASES[1]!;
    const [Ho, Wo] = outHW(c);
    const x = randView([c.N, c.C, c.H, c.W], 9, 0);
    const out = makeView('float32', [c.N, c.C, Ho, Wo]);
    const gx = toGPU(rt!, x), gout = toGPU(rt!, out);
    cpuKernels.pool2d('max', x, c.g, out, null);
    pool2d(rt!, 'max', gx, c.g, gout, null);
    await compare(out, gout, 'pool2d max, no argmax');
    expect(() => pool2d(rt!, 'max', { ...gx, dtype: 'float64' }, c.g, gout, null)).toThrow(WebGPUDTypeError);
    expect(() => im2col(rt!, { ...gx, dtype: 'float64' }, c.g, gout)).toThrow(WebGPUDTypeError);
    releaseAll(rt!, gx, gout);
  });
});
