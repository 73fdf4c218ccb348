// Tests of the CPU convolution lowering and pooling kernels: im2col known values, col2im as the
// adjoint of im2col, pool2d max/avg values (padding semantics, argmax), and pool2dBackward by
// finite differences.
import { describe, expect, it } from 'vitest';
import { contiguousView, convOutputSize, cpuKernels } from '../src/cpu/index.js';
import type { Conv2dGeometry, TypedArray, View } from '../src/types.js';
import { noise, fdGrad, vals } from './cpu_helpers.js';

const K = cpuKernels;

const geo = (k: number | [number, number], s: number | [number, number] = 1, p: number | [number, number] = 0,
  d: number | [number, number] = 1): Conv2dGeometry => {
  const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);
  return { kernel: pair(k), stride: pair(s), padding: pair(p), dilation: pair(d) };
};

/** Column `col` (an output position) of cols [1, R, L], as a list over rows. */
const column = (cols: View<TypedArray>, col: number): number[] => {
  const [, R, L] = cols.shape as number[];
  return Array.from({ length: R! }, (_, r) => cols.buffer[r * L! + col]!);
};

// x = [[1,2,3],[4,5,6],[7,8,9]] as [1, 1, 3, 3]
const x33 = () => contiguousView('float64', [1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);

describe('cpu im2col / col2im', () => {
  it('output size formula', () => {
    expect(convOutputSize(3, 3, 2, 1, 1)).toBe(2);
    expect(convOutputSize(5, 3, 1, 0, 2)).toBe(1);
    expect(convOutputSize(28, 5, 1, 2, 1)).toBe(28);
  });

  it('2x2 kernel, stride 1: rows are kernel taps, columns output positions', () => {
    const cols = contiguousView('float64', [1, 4, 4]);
    K.im2col(x33(), geo(2), cols);
    expect(vals(cols)).toEqual([1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9]);
  });

  it('padding reads zeros; stride 2; dilation 2', () => {
    const cols = contiguousView('float64', [1, 9, 4]);
    K.im2col(x33(), geo(3, 2, 1), cols);
    expect(column(cols, 0)).toEqual([0, 0, 0, 0, 1, 2, 0, 4, 5]); // window rows -1..1, cols -1..1
    expect(column(cols, 3)).toEqual([5, 6, 0, 8, 9, 0, 0, 0, 0]); // window rows 1..3, cols 1..3
    const dil = contiguousView('float64', [1, 4, 1]);
    K.im2col(x33(), geo(2, 1, 0, 2), dil);
    expect(vals(dil)).toEqual([1, 3, 7, 9]);
  });

  it('channels and batch: row index is (c·kh + i)·kw + j', () => {
    // x [2, 2, 1, 1]: a 1x1 kernel just lays channels out as rows
    const x = contiguousView('float64', [2, 2, 1, 1], [1, 2, 3, 4]);
    const cols = contiguousView('float64', [2, 2, 1]);
    K.im2col(x, geo(1), cols);
    expect(vals(cols)).toEqual([1, 2, 3, 4]);
  });

  it('col2im of all-ones counts how many windows cover each pixel', () => {
    const dx = contiguousView('float64', [1, 1, 3, 3], new Array<number>(9).fill(99)); // zeroed first
    K.col2im(contiguousView('float64', [1, 4, 4], new Array<number>(16).fill(1)), geo(2), dx);
    expect(vals(dx)).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1]);
  });

  it('col2im is the adjoint of im2col: <im2col(x), c> = <x, col2im(c)>', () => {
    const geos = [geo([3, 2], [2, 1], [1, 1], [1, 2]), geo(3, 1, 1), geo(2, 2, 0), geo([1, 3], [1, 2], [0, 2], 1)];
    for (const g of geos) {
      const [N, C, H, W] = [2, 2, 5, 4];
      const Ho = convOutputSize(H, g.kernel[0], g.stride[0], g.padding[0], g.dilation[0]);
      const Wo = convOutputSize(W, g.kernel[1], g.stride[1], g.padding[1], g.dilation[1]);
      const colShape = [N, C * g.kernel[0] * g.kernel[1], Ho * Wo];
      const x = contiguousView('float64', [N, C, H, W], noise(N * C * H * W, 31));
      const c = contiguousView('float64', colShape, noise(colShape.reduce((a, b) => a * b), 32));
      const ix = contiguousView('float64', colShape);
      K.im2col(x, g, ix);
      const ct = contiguousView('float64', [N, C, H, W]);
      K.col2im(c, g, ct);
      const lhs = vals(ix).reduce((s, v, i) => s + v * c.buffer[i]!, 0);
      const rhs = vals(x).reduce((s, v, i) => s + v * ct.buffer[i]!, 0);
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-12);
      expect(Math.abs(lhs)).toBeGreaterThan(1e-3);
    }
  });
});

describe('cpu pool2d', () => {
  it('max 2x2 stride 2 with argmax as the flat h·W + w index', () => {
    const x = contiguousView('float64', [1, 1, 4, 4], [1, 5, 2, 0, 3, 4, 8, 6, 0, 0, 1, 1, 9, 0, 1, 2]);
    const out = contiguousView('float64', [1, 1, 2, 2]);
    const am = contiguousView('int32', [1, 1, 2, 2]);
    K.pool2d('max', x, geo(2, 2), out, am);
    expect(vals(out)).toEqual([5, 8, 9, 2]);
    expect(vals(am)).toEqual([1, 6, 12, 15]);
  });

  it('max treats padding as -∞ and takes the first of ties', () => {
    const x = contiguousView('float64', [1, 1, 2, 2], [-1, -2, -3, -4]);
    const out = contiguousView('float64', [1, 1, 3, 3]);
    const am = contiguousView('int32', [1, 1, 3, 3]);
    K.pool2d('max', x, geo(2, 1, 1), out, am);
    expect(vals(out)).toEqual([-1, -1, -2, -1, -1, -2, -3, -3, -4]); // never 0 from the padding
    expect(vals(am)).toEqual([0, 0, 1, 0, 0, 1, 2, 2, 3]);
    const ties = contiguousView('int32', [1, 1, 1, 1]);
    K.pool2d('max', contiguousView('float64', [1, 1, 2, 2], [7, 7, 7, 7]), geo(2), contiguousView('float64', [1, 1, 1, 1]), ties);
    expect(vals(ties)).toEqual([0]);
  });

  it('avg counts padded zeros in the divisor (count_include_pad)', () => {
    const x = contiguousView('float64', [1, 1, 2, 2], [-1, -2, -3, -4]);
    const out = contiguousView('float64', [1, 1, 3, 3]);
    K.pool2d('avg', x, geo(2, 1, 1), out, null);
    expect(vals(out)).toEqual([-0.25, -0.75, -0.5, -1, -2.5, -1.5, -0.75, -1.75, -1]);
  });

  it('channels and batches pool independently (argmax is per plane)', () => {
    const x = contiguousView('float64', [2, 1, 1, 2], [1, 2, 4, 3]);
    const out = contiguousView('float64', [2, 1, 1, 1]);
    const am = contiguousView('int32', [2, 1, 1, 1]);
    K.pool2d('max', x, geo([1, 2]), out, am);
    expect(vals(out)).toEqual([2, 4]);
    expect(vals(am)).toEqual([1, 0]);
  });
});

describe('cpu pool2dBackward', () => {
  for (const op of ['max', 'avg'] as const) {
    it(`${op}: matches central finite differences (overlapping, padded windows)`, () => {
      const g = geo(3, 2, 1);
      const [N, C, H, W] = [1, 2, 5, 4];
      const Ho = convOutputSize(H, 3, 2, 1, 1);
      const Wo = convOutputSize(W, 3, 2, 1, 1);
      const x = contiguousView('float64', [N, C, H, W], noise(N * C * H * W, 41));
      const cot = noise(N * C * Ho * Wo, 42);
      const out = contiguousView('float64', [N, C, Ho, Wo]);
      const am = op === 'max' ? contiguousView('int32', [N, C, Ho, Wo]) : null;
      const f = (): number => {
        K.pool2d(op, x, g, out, am);
        return vals(out).reduce((s, v, i) => s + v * cot[i]!, 0);
      };
      const fd = fdGrad(f, x.buffer as Float64Array);
      K.pool2d(op, x, g, out, am);
      const dx = contiguousView('float64', [N, C, H, W], new Array<number>(N * C * H * W).fill(5)); // zeroed first
      K.pool2dBackward(op, contiguousView('float64', [N, C, Ho, Wo], cot), am, g, dx);
      for (let i = 0; i < fd.length; i++) expect(Math.abs(dx.buffer[i]! - fd[i]!)).toBeLessThan(1e-8);
      expect(dx.buffer.some((v) => v !== 0)).toBe(true);
    });
  }
});
