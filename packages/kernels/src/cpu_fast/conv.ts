// The convolution and pooling family of the fast cpu tier: im2col, col2im, pool2d and
// pool2dBackward on float32, as TypeScript loops on the calling thread (conv2d itself is im2col +
// the packed sgemm of matmul.ts, composed by core).
//
// Scope: float32 views (in the WebAssembly memory or not) that share no bytes with each other;
// outputs contiguous; inputs (x of im2col and pool2d, dy of pool2dBackward) any NCHW strides; cols
// of col2im and argmax (int32) contiguous. Anything else takes the reference (cpu/conv.ts), whose
// header defines the geometry, padding and tie rules followed here.
//
// Loop order: each (n, c) input plane is visited once. For a kernel tap (i, j) the output columns
// whose input column lies inside the image form one range [owLo, owHi) (computed once per tap), so
// the inner loops run over ow without a bounds test; rows whose input row is padding are skipped
// (im2col writes their zeros).
//
// Accuracy: im2col is exact, and so are pool2d (max: the first maximum in window order, NaN wins;
// avg: the sum in float64 in window order, divided by the reference's divisor, rounded once) and
// max pool2dBackward — all bit-identical to the reference. col2im and avg pool2dBackward sum each
// pixel's contributions in float64 and round once, like the reference; col2im adds them tap by tap
// rather than output position by output position, so a float64 rounding may differ in the last
// place (far below one float32 ulp) and, rarely, a result by one float32 ulp.

import { isContiguous, numel, sharesMemory } from '../geometry.js';
import type { Conv2dGeometry, TypedArray, View } from '../types.js';
import { isF32 } from '../wasm/operands.js';

type V = View<TypedArray>;

interface Geom {
  N: number; C: number; H: number; W: number; Ho: number; Wo: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
}

function geom(imageShape: readonly number[], g: Conv2dGeometry): Geom | null {
  if (imageShape.length !== 4) return null;
  const [N, C, H, W] = imageShape as [number, number, number, number];
  const [kh, kw] = g.kernel, [sh, sw] = g.stride, [ph, pw] = g.padding, [dh, dw] = g.dilation;
  const Ho = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const Wo = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  if (!(Ho > 0 && Wo > 0)) return null;
  return { N, C, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw };
}

/** The output positions o in [0, count) whose input coordinate o·s - p + t lies in [0, size). */
function validRange(t: number, s: number, p: number, size: number, count: number): [number, number] {
  const lo = Math.min(count, Math.max(0, Math.ceil((p - t) / s)));
  const hi = Math.max(lo, Math.min(count, Math.ceil((size + p - t) / s)));
  return [lo, hi];
}

/** cols [N, C·kh·kw, Ho·Wo] from x [N, C, H, W] (any strides); padding taps read 0. */
export function im2col(x: V, g: Conv2dGeometry, cols: V): boolean {
  const t = geom(x.shape, g);
  if (!t || !isF32(x) || !isF32(cols) || !isContiguous(cols) || sharesMemory(x, cols)) return false;
  const { N, C, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw } = t;
  const L = Ho * Wo, R = C * kh * kw;
  if (numel(cols.shape) !== N * R * L) return false;
  const xb = x.buffer, cb = cols.buffer;
  const [xn, xc, xh, xw] = x.strides as [number, number, number, number];
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = x.offset + n * xn + c * xc;
      for (let i = 0; i < kh; i++) {
        const [ohLo, ohHi] = validRange(i * dh, sh, ph, H, Ho);
        for (let j = 0; j < kw; j++) {
          const [owLo, owHi] = validRange(j * dw, sw, pw, W, Wo);
          const row = cols.offset + (n * R + (c * kh + i) * kw + j) * L;
          cb.fill(0, row, row + ohLo * Wo);
          cb.fill(0, row + ohHi * Wo, row + L);
          for (let oh = ohLo; oh < ohHi; oh++) {
            const q = row + oh * Wo;
            const p = plane + (oh * sh - ph + i * dh) * xh + (owLo * sw - pw + j * dw) * xw, step = sw * xw;
            for (let ow = 0; ow < owLo; ow++) cb[q + ow] = 0;
            for (let ow = owLo, pi = p; ow < owHi; ow++, pi += step) cb[q + ow] = xb[pi]!;
            for (let ow = owHi; ow < Wo; ow++) cb[q + ow] = 0;
          }
        }
      }
    }
  }
  return true;
}

/** dx [N, C, H, W] (contiguous) = the sum into each pixel of the cols entries read from it. */
export function col2im(cols: V, g: Conv2dGeometry, dx: V): boolean {
  const t = geom(dx.shape, g);
  if (!t || !isF32(cols) || !isF32(dx) || !isContiguous(cols) || !isContiguous(dx) || sharesMemory(cols, dx)) return false;
  const { N, C, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw } = t;
  const L = Ho * Wo, R = C * kh * kw, P = H * W;
  if (numel(cols.shape) !== N * R * L) return false;
  const cb = cols.buffer, db = dx.buffer;
  const acc = new Float64Array(P); // one plane's sums, in float64 like the reference
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      acc.fill(0);
      for (let i = 0; i < kh; i++) {
        const [ohLo, ohHi] = validRange(i * dh, sh, ph, H, Ho);
        for (let j = 0; j < kw; j++) {
          const [owLo, owHi] = validRange(j * dw, sw, pw, W, Wo);
          const row = cols.offset + (n * R + (c * kh + i) * kw + j) * L;
          for (let oh = ohLo; oh < ohHi; oh++) {
            const q = row + oh * Wo;
            for (let ow = owLo, pi = (oh * sh - ph + i * dh) * W + owLo * sw - pw + j * dw; ow < owHi; ow++, pi += sw) acc[pi] += cb[q + ow]!;
          }
        }
      }
      const base = dx.offset + (n * C + c) * P;
      for (let k = 0; k < P; k++) db[base + k] = acc[k]!;
    }
  }
  return true;
}

/** For each output position o along one axis, the kernel taps [lo, hi) that read inside the image, as lo, hi pairs. */
function tapRanges(count: number, s: number, d: number, p: number, size: number, k: number): Int32Array {
  const out = new Int32Array(2 * count);
  for (let o = 0; o < count; o++) {
    const [lo, hi] = validRange(o * s, d, p, size, k);
    out[2 * o] = lo;
    out[2 * o + 1] = hi;
  }
  return out;
}

/** Taps of each output position along one axis inside the padded image [-p, size + p) (avg's divisor). */
function paddedCounts(count: number, k: number, s: number, p: number, d: number, size: number): Int32Array {
  const out = new Int32Array(count);
  for (let o = 0; o < count; o++) {
    let m = 0;
    for (let i = 0; i < k; i++) {
      const h = o * s - p + i * d;
      if (h >= -p && h < size + p) m++;
    }
    out[o] = m;
  }
  return out;
}

/** Max (with argmax h·W + w in the input plane) or average pooling of x [N, C, H, W] (any strides). */
export function pool2d(op: 'max' | 'avg', x: V, g: Conv2dGeometry, out: V, argmax: V | null): boolean {
  const t = geom(x.shape, g);
  if (!t || !isF32(x) || !isF32(out) || !isContiguous(out) || sharesMemory(x, out)) return false;
  const withArg = op === 'max' && argmax !== null;
  if (withArg && !(argmax.dtype === 'int32' && argmax.buffer instanceof Int32Array && isContiguous(argmax))) return false;
  const { N, C, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw } = t;
  if (numel(out.shape) !== N * C * Ho * Wo || (withArg && numel(argmax.shape) !== N * C * Ho * Wo)) return false;
  const xb = x.buffer, ob = out.buffer, ab = withArg ? (argmax.buffer as Int32Array) : null;
  const [xn, xc, xh, xw] = x.strides as [number, number, number, number];
  const rowsH = tapRanges(Ho, sh, dh, ph, H, kh), colsW = tapRanges(Wo, sw, dw, pw, W, kw);
  const divH = paddedCounts(Ho, kh, sh, ph, dh, H), divW = paddedCounts(Wo, kw, sw, pw, dw, W);
  let o = 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = x.offset + n * xn + c * xc;
      for (let oh = 0; oh < Ho; oh++) {
        const iLo = rowsH[2 * oh]!, iHi = rowsH[2 * oh + 1]!;
        for (let ow = 0; ow < Wo; ow++, o++) {
          const jLo = colsW[2 * ow]!, jHi = colsW[2 * ow + 1]!;
          const h0 = oh * sh - ph, w0 = ow * sw - pw;
          if (op === 'avg') {
            let s = 0;
            for (let i = iLo; i < iHi; i++) {
              const pr = plane + (h0 + i * dh) * xh;
              for (let j = jLo; j < jHi; j++) s += xb[pr + (w0 + j * dw) * xw]!;
            }
            ob[out.offset + o] = s / (divH[oh]! * divW[ow]!);
          } else {
            let best = -Infinity, am = -1;
            for (let i = iLo; i < iHi; i++) {
              const h = h0 + i * dh, pr = plane + h * xh;
              for (let j = jLo; j < jHi; j++) {
                const w = w0 + j * dw, v = xb[pr + w * xw]!;
                // The first in-image tap, a strictly larger value, or the first NaN (never replaced).
                if (am === -1 || (best === best && (v > best || v !== v))) { best = v; am = h * W + w; }
              }
            }
            ob[out.offset + o] = best;
            if (ab) ab[argmax!.offset + o] = am;
          }
        }
      }
    }
  }
  return true;
}

/** dx [N, C, H, W] (contiguous): dy sent to each window's argmax (max) or spread over its in-image taps (avg). */
export function pool2dBackward(op: 'max' | 'avg', dy: V, argmax: V | null, g: Conv2dGeometry, dx: V): boolean {
  const t = geom(dx.shape, g);
  if (!t || !isF32(dy) || !isF32(dx) || !isContiguous(dx) || sharesMemory(dy, dx) || dy.shape.length !== 4) return false;
  const { N, C, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw } = t;
  const P = H * W;
  if (dy.shape[0] !== N || dy.shape[1] !== C || dy.shape[2] !== Ho || dy.shape[3] !== Wo) return false;
  if (op === 'max') {
    if (!argmax || !(argmax.dtype === 'int32' && argmax.buffer instanceof Int32Array && isContiguous(argmax))) return false;
    if (numel(argmax.shape) !== N * C * Ho * Wo) return false;
    const ab = argmax.buffer;
    // Out-of-range indices: the reference reports them (before anything is written here).
    for (let k = argmax.offset, end = k + N * C * Ho * Wo; k < end; k++) if (ab[k]! >= P) return false;
  }
  const gb = dy.buffer, db = dx.buffer;
  const [yn, yc, yh, yw] = dy.strides as [number, number, number, number];
  const acc = new Float64Array(P);
  const rowsH = tapRanges(Ho, sh, dh, ph, H, kh), colsW = tapRanges(Wo, sw, dw, pw, W, kw);
  const divH = paddedCounts(Ho, kh, sh, ph, dh, H), divW = paddedCounts(Wo, kw, sw, pw, dw, W);
  let o = argmax ? argmax.offset : 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      acc.fill(0);
      const plane = dy.offset + n * yn + c * yc;
      for (let oh = 0; oh < Ho; oh++) {
        const iLo = rowsH[2 * oh]!, iHi = rowsH[2 * oh + 1]!;
        for (let ow = 0; ow < Wo; ow++, o++) {
          const gv = gb[plane + oh * yh + ow * yw]!;
          if (op === 'max') {
            const a = (argmax!.buffer as Int32Array)[o]!;
            if (a >= 0) acc[a] += gv; // −1: a window wholly in the padding sent nothing
          } else {
            const jLo = colsW[2 * ow]!, jHi = colsW[2 * ow + 1]!;
            const v = gv / (divH[oh]! * divW[ow]!);
            for (let i = iLo; i < iHi; i++) {
              const pr = (oh * sh - ph + i * dh) * W + ow * sw - pw;
              for (let j = jLo; j < jHi; j++) acc[pr + j * dw] += v;
            }
          }
        }
      }
      const base = dx.offset + (n * C + c) * P;
      for (let k = 0; k < P; k++) db[base + k] = acc[k]!;
    }
  }
  return true;
}
