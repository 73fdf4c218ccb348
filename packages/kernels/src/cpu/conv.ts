// CPU reference for convolution lowering and 2-D pooling: im2col, col2im, pool2d, pool2dBackward.
//
// Layout: images are [N, C, H, W]; geometry g gives kernel (kh, kw), stride (sh, sw), padding
// (ph, pw) and dilation (dh, dw). The output size is, per spatial axis,
//   Ho = floor((H + 2·ph - dh·(kh - 1) - 1) / sh) + 1   (same for Wo)
// and output position (oh, ow) with kernel tap (i, j) reads input row/col
//   h = oh·sh - ph + i·dh,   w = ow·sw - pw + j·dw.
// - im2col: cols [N, C·kh·kw, Ho·Wo] with row (c·kh + i)·kw + j and column oh·Wo + ow; taps that
//   fall in the padding read 0. A conv is then weight [Cout, C·kh·kw] @ cols.
// - col2im: the adjoint of im2col, so <im2col(x), c> = <x, col2im(c)>: dx is zeroed, then each
//   column entry is added to the input pixel it was read from (entries from padding are dropped).
// - pool2d max: padding counts as -∞; out is the window max and argmax the flat index h·W + w of
//   it in the (n, c) input plane. The first maximum in window order (i, then j) wins and a NaN
//   wins over numbers, like PyTorch. A window entirely in padding (impossible with PyTorch's
//   padding ≤ kernel/2 rule) gives -∞ with argmax -1.
// - pool2d avg: the sum of the taps divided by the number of taps inside the padded image
//   [-ph, H+ph) × [-pw, W+pw), i.e. padded zeros count (PyTorch's count_include_pad=True); without
//   ceil-mode every window lies in the padded image, so the divisor is kh·kw.
// - pool2dBackward: dx (zeroed first) receives dy at argmax for max, and dy/divisor at each
//   in-image tap for avg. dx's shape gives H and W.
// All arithmetic is float64; results are stored in the outputs' dtypes.

import type { Conv2dGeometry, TypedArray, View } from '../types.js';
import { readAll, writeAll } from './strided.js';

interface Geom {
  N: number; C: number; H: number; W: number; Ho: number; Wo: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
}

/** Output size of one spatial axis. */
export function convOutputSize(size: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}

function geom(imageShape: readonly number[], g: Conv2dGeometry): Geom {
  const [N, C, H, W] = imageShape as [number, number, number, number];
  const [kh, kw] = g.kernel;
  const [sh, sw] = g.stride;
  const [ph, pw] = g.padding;
  const [dh, dw] = g.dilation;
  return {
    N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw,
    Ho: convOutputSize(H, kh, sh, ph, dh), Wo: convOutputSize(W, kw, sw, pw, dw),
  };
}

/** Calls fn(n, c, oh, ow, i, j, h, w) for every output position and kernel tap, in row-major order. */
function forEachTap(t: Geom, fn: (n: number, c: number, oh: number, ow: number, i: number, j: number, h: number, w: number) => void): void {
  for (let n = 0; n < t.N; n++)
    for (let c = 0; c < t.C; c++)
      for (let oh = 0; oh < t.Ho; oh++)
        for (let ow = 0; ow < t.Wo; ow++)
          for (let i = 0; i < t.kh; i++)
            for (let j = 0; j < t.kw; j++)
              fn(n, c, oh, ow, i, j, oh * t.sh - t.ph + i * t.dh, ow * t.sw - t.pw + j * t.dw);
}

const inImage = (t: Geom, h: number, w: number): boolean => h >= 0 && h < t.H && w >= 0 && w < t.W;

/** Row-major index into [N, C·kh·kw, Ho·Wo]. */
const colIndex = (t: Geom, n: number, c: number, oh: number, ow: number, i: number, j: number): number =>
  ((n * t.C * t.kh * t.kw + (c * t.kh + i) * t.kw + j) * t.Ho + oh) * t.Wo + ow;

/** Row-major index into [N, C, H, W]. */
const pixIndex = (t: Geom, n: number, c: number, h: number, w: number): number => ((n * t.C + c) * t.H + h) * t.W + w;

export function im2col(x: View<TypedArray>, g: Conv2dGeometry, cols: View<TypedArray>): void {
  const t = geom(x.shape, g);
  const xs = readAll(x);
  const cs = new Float64Array(t.N * t.C * t.kh * t.kw * t.Ho * t.Wo);
  forEachTap(t, (n, c, oh, ow, i, j, h, w) => {
    if (inImage(t, h, w)) cs[colIndex(t, n, c, oh, ow, i, j)] = xs[pixIndex(t, n, c, h, w)]!;
  });
  writeAll(cols, cs);
}

export function col2im(cols: View<TypedArray>, g: Conv2dGeometry, dx: View<TypedArray>): void {
  const t = geom(dx.shape, g);
  const cs = readAll(cols);
  const xs = new Float64Array(t.N * t.C * t.H * t.W);
  forEachTap(t, (n, c, oh, ow, i, j, h, w) => {
    if (inImage(t, h, w)) xs[pixIndex(t, n, c, h, w)] += cs[colIndex(t, n, c, oh, ow, i, j)]!;
  });
  writeAll(dx, xs);
}

/** Number of taps of a window inside the padded image (the avg-pool divisor). */
function avgDivisor(t: Geom, oh: number, ow: number): number {
  let count = 0;
  for (let i = 0; i < t.kh; i++) {
    const h = oh * t.sh - t.ph + i * t.dh;
    for (let j = 0; j < t.kw; j++) {
      const w = ow * t.sw - t.pw + j * t.dw;
      if (h >= -t.ph && h < t.H + t.ph && w >= -t.pw && w < t.W + t.pw) count++;
    }
  }
  return count;
}

export function pool2d(op: 'max' | 'avg', x: View<TypedArray>, g: Conv2dGeometry, out: View<TypedArray>,
  argmax: View<TypedArray> | null): void {
  const t = geom(x.shape, g);
  const xs = readAll(x);
  const size = t.N * t.C * t.Ho * t.Wo;
  const ys = new Float64Array(size).fill(op === 'max' ? -Infinity : 0);
  const am = new Float64Array(size).fill(-1);
  forEachTap(t, (n, c, oh, ow, _i, _j, h, w) => {
    if (!inImage(t, h, w)) return; // padding: -∞ for max, 0 for avg — neither changes the result
    const o = ((n * t.C + c) * t.Ho + oh) * t.Wo + ow;
    const v = xs[pixIndex(t, n, c, h, w)]!;
    if (op === 'avg') {
      ys[o] += v;
    } else if (am[o] === -1 || (ys[o] === ys[o] && (v > ys[o]! || v !== v))) {
      // First in-image tap, or strictly larger, or the first NaN (after which nothing replaces it).
      ys[o] = v;
      am[o] = h * t.W + w;
    }
  });
  if (op === 'avg') {
    for (let n = 0; n < t.N * t.C; n++)
      for (let oh = 0; oh < t.Ho; oh++)
        for (let ow = 0; ow < t.Wo; ow++) ys[(n * t.Ho + oh) * t.Wo + ow] /= avgDivisor(t, oh, ow);
  }
  writeAll(out, ys);
  if (op === 'max' && argmax) writeAll(argmax, am);
}

export function pool2dBackward(op: 'max' | 'avg', dy: View<TypedArray>, argmax: View<TypedArray> | null,
  g: Conv2dGeometry, dx: View<TypedArray>): void {
  const t = geom(dx.shape, g);
  const gs = readAll(dy);
  const xs = new Float64Array(t.N * t.C * t.H * t.W);
  if (op === 'max') {
    if (!argmax) throw new Error('pool2dBackward: max pooling needs the argmax from the forward pass');
    const am = readAll(argmax);
    const plane = t.H * t.W;
    for (let o = 0; o < gs.length; o++) {
      const nc = Math.floor(o / (t.Ho * t.Wo));
      const a = am[o]!;
      if (a < 0) continue; // window entirely in padding
      if (a >= plane) throw new RangeError(`pool2dBackward: argmax ${a} is out of range for an input plane of ${t.H}x${t.W} (valid: 0..${plane - 1})`);
      xs[nc * plane + a] += gs[o]!;
    }
  } else {
    forEachTap(t, (n, c, oh, ow, _i, _j, h, w) => {
      if (!inImage(t, h, w)) return;
      xs[pixIndex(t, n, c, h, w)] += gs[((n * t.C + c) * t.Ho + oh) * t.Wo + ow]! / avgDivisor(t, oh, ow);
    });
  }
  writeAll(dx, xs);
}
