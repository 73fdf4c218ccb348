// The convolution and pooling family of the fast cpu tier: im2col, col2im, pool2d and
// pool2dBackward on float32 (conv2d itself is im2col + the packed sgemm of matmul.ts, composed by
// core).
//
// Two routes. Contiguous float32 operands (max pooling with its argmax) run the WebAssembly
// programs of conv_program.ts (average pooling: avg_pool.ts, strided inputs in the memory too), threads taking (n, c) planes from the shared queue once the work
// pays for waking them (FAST_CPU_CONFIG.elementwiseParallelMin elements). Everything else in scope
// runs the TypeScript loops below on the calling thread: float32 views (in the WebAssembly memory
// or not) that share no bytes with each other; outputs contiguous; inputs (x of im2col and pool2d,
// dy of pool2dBackward) any NCHW strides; cols of col2im and argmax (int32) contiguous. Anything
// else takes the reference (cpu/conv.ts), whose header defines the geometry, padding and tie rules
// followed here.
//
// Loop order (both routes): each (n, c) input plane is visited once. For a kernel tap (i, j) the
// output columns whose input column lies inside the image form one range [owLo, owHi) (computed once
// per tap), so the inner loops run over ow without a bounds test; rows whose input row is padding
// are skipped (im2col writes their zeros).
//
// Accuracy: im2col is exact, and so are pool2d (max: the first maximum in window order, NaN wins;
// avg: the sum in float64 in window order, divided by the reference's divisor, rounded once) and
// max pool2dBackward — all bit-identical to the reference. col2im and avg pool2dBackward sum each
// pixel's contributions in float64 and round once, like the reference; col2im adds them tap by tap
// rather than output position by output position, so a float64 rounding may differ in the last
// place (far below one float32 ulp) and, rarely, a result by one float32 ulp.

import { isContiguous, numel, sharesMemory } from '../geometry.js';
import type { Conv2dGeometry, TypedArray, View } from '../types.js';
import { isF32, readPtr, writePtr } from '../wasm/operands.js';
import { wasmRuntime, type WasmRuntime } from '../wasm/runtime.js';
import { runPlanes } from './planes.js';
import { CONV_PARAMS } from './conv_program.js';
import { avgPoolBackwardWasm, avgPoolWasm } from './avg_pool.js';

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

/** The parameter block of conv_program.ts: the geometry's scalars, then `table`, in scratch. */
function paramBlock(rt: WasmRuntime, t: Geom, table: ArrayLike<number>): number {
  const head = CONV_PARAMS.map((k) => t[k]);
  const addr = rt.alloc((head.length + table.length) * 4);
  const view = new Int32Array(rt.f32().buffer, addr, head.length + table.length);
  view.set(head);
  view.set(table, head.length);
  return addr;
}

/** Per kernel row, then per kernel column, the [lo, hi) range of outputs that read inside the image. */
function tapTable(t: Geom): Int32Array {
  const out = new Int32Array(2 * (t.kh + t.kw));
  for (let i = 0; i < t.kh; i++) out.set(validRange(i * t.dh, t.sh, t.ph, t.H, t.Ho), 2 * i);
  for (let j = 0; j < t.kw; j++) out.set(validRange(j * t.dw, t.sw, t.pw, t.W, t.Wo), 2 * (t.kh + j));
  return out;
}

function im2colWasm(x: V, t: Geom, cols: V): void {
  const rt = wasmRuntime();
  rt.reset();
  const nx = t.N * t.C * t.H * t.W, nc = numel(cols.shape);
  const xp = readPtr(rt, x, nx);
  const o = writePtr(rt, cols, nc, [[xp, nx * 4]]);
  const prm = paramBlock(rt, t, tapTable(t));
  runPlanes(rt, 'im2col_planes', t.N * t.C, nc, (lo, hi) => [xp, o.addr, prm, lo, hi]);
  o.done();
}

function col2imWasm(cols: V, t: Geom, dx: V): void {
  const rt = wasmRuntime();
  rt.reset();
  const nc = numel(cols.shape), nx = t.N * t.C * t.H * t.W;
  const cp = readPtr(rt, cols, nc);
  const o = writePtr(rt, dx, nx, [[cp, nc * 4]]);
  const prm = paramBlock(rt, t, tapTable(t));
  runPlanes(rt, 'col2im_planes', t.N * t.C, nc, (lo, hi) => [cp, o.addr, prm, lo, hi], t.H * t.W * 8);
  o.done();
}

/** cols [N, C·kh·kw, Ho·Wo] from x [N, C, H, W] (any strides); padding taps read 0. */
export function im2col(x: V, g: Conv2dGeometry, cols: V): boolean {
  const t = geom(x.shape, g);
  if (!t || !isF32(x) || !isF32(cols) || !isContiguous(cols) || sharesMemory(x, cols)) return false;
  const { N, C, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw } = t;
  const L = Ho * Wo, R = C * kh * kw;
  if (numel(cols.shape) !== N * R * L) return false;
  if (isContiguous(x)) { im2colWasm(x, t, cols); return true; }
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
  if (numel(cols.shape) !== t.N * t.C * t.kh * t.kw * t.Ho * t.Wo) return false;
  col2imWasm(cols, t, dx);
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

function maxPoolWasm(x: V, t: Geom, out: V, argmax: V): void {
  const rt = wasmRuntime();
  rt.reset();
  const nx = t.N * t.C * t.H * t.W, no = t.N * t.C * t.Ho * t.Wo;
  const xp = readPtr(rt, x, nx);
  // argmax is int32: its block is written through scratch unless it lives in the memory.
  const base = rt.addressOf(argmax.buffer);
  const ap = base >= 0 ? base + argmax.offset * 4 : rt.alloc(no * 4);
  const o = writePtr(rt, out, no, [[xp, nx * 4], [ap, no * 4]]);
  const table = new Int32Array(2 * (t.Ho + t.Wo));
  table.set(tapRanges(t.Ho, t.sh, t.dh, t.ph, t.H, t.kh), 0);
  table.set(tapRanges(t.Wo, t.sw, t.dw, t.pw, t.W, t.kw), 2 * t.Ho);
  const prm = paramBlock(rt, t, table);
  const twoByTwo = t.kh === 2 && t.kw === 2 && t.sh === 2 && t.sw === 2 && t.ph === 0 && t.pw === 0 && t.dh === 1 && t.dw === 1;
  runPlanes(rt, twoByTwo ? 'maxpool2x2_planes' : 'maxpool_planes', t.N * t.C, nx, (lo, hi) => [xp, o.addr, ap, prm, lo, hi]);
  o.done();
  if (base < 0) (argmax.buffer as Int32Array).set(new Int32Array(rt.f32().buffer, ap, no), argmax.offset);
}

function maxPoolBackwardWasm(dy: V, argmax: V, t: Geom, dx: V): void {
  const rt = wasmRuntime();
  rt.reset();
  const nx = t.N * t.C * t.H * t.W, no = t.N * t.C * t.Ho * t.Wo;
  const gp = readPtr(rt, dy, no);
  const base = rt.addressOf(argmax.buffer);
  let ap = base + argmax.offset * 4;
  if (base < 0) {
    ap = rt.alloc(no * 4);
    new Int32Array(rt.f32().buffer, ap, no).set((argmax.buffer as Int32Array).subarray(argmax.offset, argmax.offset + no));
  }
  const o = writePtr(rt, dx, nx, [[gp, no * 4], [ap, no * 4]]);
  const prm = paramBlock(rt, t, []);
  runPlanes(rt, 'maxpool_backward_planes', t.N * t.C, nx, (lo, hi) => [gp, ap, o.addr, prm, lo, hi], t.H * t.W * 8);
  o.done();
}

/** Max (with argmax h·W + w in the input plane) or average pooling of x [N, C, H, W] (any strides). */
export function pool2d(op: 'max' | 'avg', x: V, g: Conv2dGeometry, out: V, argmax: V | null): boolean {
  const t = geom(x.shape, g);
  if (!t || !isF32(x) || !isF32(out) || !isContiguous(out) || sharesMemory(x, out)) return false;
  const withArg = op === 'max' && argmax !== null;
  if (withArg && !(argmax.dtype === 'int32' && argmax.buffer instanceof Int32Array && isContiguous(argmax))) return false;
  const { N, C, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw } = t;
  if (numel(out.shape) !== N * C * Ho * Wo || (withArg && numel(argmax.shape) !== N * C * Ho * Wo)) return false;
  if (withArg && isContiguous(x)) { maxPoolWasm(x, t, out, argmax); return true; }
  const rowsH = tapRanges(Ho, sh, dh, ph, H, kh), colsW = tapRanges(Wo, sw, dw, pw, W, kw);
  const divH = paddedCounts(Ho, kh, sh, ph, dh, H), divW = paddedCounts(Wo, kw, sw, pw, dw, W);
  if (op === 'avg' && avgPoolWasm(x, t, out, { rowsH, colsW, divH, divW })) return true;
  const xb = x.buffer, ob = out.buffer, ab = withArg ? (argmax.buffer as Int32Array) : null;
  const [xn, xc, xh, xw] = x.strides as [number, number, number, number];
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
    if (isContiguous(dy)) { maxPoolBackwardWasm(dy, argmax, t, dx); return true; }
  }
  const rowsH = tapRanges(Ho, sh, dh, ph, H, kh), colsW = tapRanges(Wo, sw, dw, pw, W, kw);
  const divH = paddedCounts(Ho, kh, sh, ph, dh, H), divW = paddedCounts(Wo, kw, sw, pw, dw, W);
  if (op === 'avg' && avgPoolBackwardWasm(dy, t, dx, { rowsH, colsW, divH, divW })) return true;
  const gb = dy.buffer, db = dx.buffer;
  const [yn, yc, yh, yw] = dy.strides as [number, number, number, number];
  const acc = new Float64Array(P);
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
