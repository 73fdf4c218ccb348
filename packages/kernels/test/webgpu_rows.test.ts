// WebGPU fused row kernels (softmax, layerNorm, crossEntropy; forward and backward) vs the CPU
// reference on random data: row lengths 1, 7, 63, 257, 1000 and 3000 (longer than a workgroup),
// 1, 3 and 65 rows, non-zero offsets, with and without weight/bias, ignored targets, label
// smoothing and class weights, logits of ±80 for stability; the threads-per-row mapping forced to
// 1 and 256 as well as automatic; aliased and non-contiguous operands; dtype errors.
//
// Tolerances: f32 arithmetic vs the reference's float64 — a few ulps per element plus the
// accumulation error of row sums (relative ~1e-6·log2(D)), scaled by the magnitude of the terms.
import { afterEach, describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import type { DType, TypedArray, View } from '../src/types.js';
import { createWebGPUKernels, WebGPUDTypeError } from '../src/webgpu/index.js';
import { setRowThreads } from '../src/webgpu/softmax.js';
import { expectClose, gpuRuntime, makeView, readView, releaseAll, rng, toGPU } from './gpu_helpers.js';

const rt = await gpuRuntime();
const gk = rt ? createWebGPUKernels(rt) : null;

const LENGTHS = [1, 7, 63, 257, 1000, 3000];
const ROWS = [1, 3, 65];

/** (rows, D) pairs: every length at 3 rows, and the extremes of both at 1 and 65 rows. */
function shapes(): [number, number][] {
  const out: [number, number][] = [];
  for (const D of LENGTHS) for (const R of ROWS) {
    if (R === 3 || D === 1 || D === 7 || D === 257 || D === 3000) out.push([R, D]);
  }
  return out;
}

function randView(shape: number[], r: () => number, lo: number, hi: number, offset = 0, dtype: DType = 'float32'): View<TypedArray> {
  return makeView(dtype, shape, { offset }, () => lo + (hi - lo) * r());
}

function zeros(shape: number[], offset = 0, dtype: DType = 'float32'): View<TypedArray> {
  return makeView(dtype, shape, { offset }, () => 0);
}

afterEach(() => setRowThreads(null));

describe('webgpu softmax', () => {
  it('forward and backward, softmax and logSoftmax, every row length and count', async () => {
    let seed = 1;
    for (const tpr of [null, 1, 256]) {
      setRowThreads(tpr);
      for (const [R, D] of tpr === null ? shapes() : [[3, 7], [3, 1000], [65, 63]] as [number, number][]) {
        const r = rng(seed++);
        const off = seed % 3 === 0 ? 0 : 5;
        const big = seed % 2 === 0;
        const x = randView([R, D], r, big ? -80 : -4, big ? 80 : 4, off);
        for (const log of [false, true]) {
          const what = `softmax log=${log} [${R}, ${D}] tpr=${tpr ?? 'auto'}`;
          const y = zeros([R, D], 3);
          const gx = toGPU(rt!, x), gy = toGPU(rt!, y);
          cpuKernels.softmax(x, y, log);
          gk!.softmax(gx, gy, log);
          // logSoftmax values reach −160 for logits of ±80: compare them relative to that scale.
          expectClose(await readView(rt!, gy, y), y.buffer, 1e-5, log ? (big ? 4e-5 : 4e-6) : 1e-7, what);

          const dy = randView([R, D], r, -1, 1, 2);
          const dx = zeros([R, D], 1);
          const gdy = toGPU(rt!, dy), gdx = toGPU(rt!, dx);
          cpuKernels.softmaxBackward(y, dy, dx, log);
          gk!.softmaxBackward(gy, gdy, gdx, log);
          expectClose(await readView(rt!, gdx, dx), dx.buffer, 1e-4, 1e-6, `${what} backward`);
          releaseAll(rt!, gx, gy, gdy, gdx);
        }
      }
    }
  });

  it('masked (−∞) entries give zeros; all −∞ and NaN rows give NaN', async () => {
    const x = makeView('float32', [3, 4], {}, (i) => [0, -Infinity, 1, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, 1, NaN, 2][i]!);
    const y = zeros([3, 4]);
    const gx = toGPU(rt!, x), gy = toGPU(rt!, y);
    cpuKernels.softmax(x, y, false);
    gk!.softmax(gx, gy, false);
    const got = await readView(rt!, gy, y);
    expect(got[1]).toBe(0);
    expect(got[3]).toBe(0);
    expectClose(got, y.buffer, 1e-6, 1e-7, 'masked softmax');
    releaseAll(rt!, gx, gy);
  });

  it('an output sharing its input buffer, a non-contiguous input, a 0-d input', async () => {
    const r = rng(77);
    // x at offset 0, out at offset 200, one buffer.
    const buf = makeView('float32', [400], {}, () => r() * 6 - 3);
    const x: View<TypedArray> = { ...buf, shape: [4, 50], strides: [50, 1], offset: 0 };
    const out: View<TypedArray> = { ...buf, shape: [4, 50], strides: [50, 1], offset: 200 };
    const g = toGPU(rt!, buf);
    cpuKernels.softmax(x, out, true);
    gk!.softmax({ ...g, shape: x.shape, strides: x.strides, offset: 0 }, { ...g, shape: out.shape, strides: out.strides, offset: 200 }, true);
    expectClose(await readView(rt!, g, buf), buf.buffer, 1e-5, 1e-6, 'aliased softmax');

    const xt = makeView('float32', [9, 5], { perm: [1, 0], offset: 2 }, () => r() * 6 - 3);
    const yt = zeros([9, 5]);
    const gxt = toGPU(rt!, xt), gyt = toGPU(rt!, yt);
    cpuKernels.softmax(xt, yt, false);
    gk!.softmax(gxt, gyt, false);
    expectClose(await readView(rt!, gyt, yt), yt.buffer, 1e-5, 1e-7, 'transposed softmax');

    const x0 = makeView('float32', [], { offset: 1 }, () => 2.5);
    const y0 = zeros([]);
    const gx0 = toGPU(rt!, x0), gy0 = toGPU(rt!, y0);
    gk!.softmax(gx0, gy0, false);
    expect(Array.from(await readView(rt!, gy0, y0))).toEqual([1]);
    releaseAll(rt!, g, gxt, gyt, gx0, gy0);
  });

  it('more than 65535 workgroups (one row each) are folded into x·y', async () => {
    setRowThreads(256);
    const r = rng(5);
    const x = randView([66000, 2], r, -3, 3, 1);
    const y = zeros([66000, 2]);
    const gx = toGPU(rt!, x), gy = toGPU(rt!, y);
    cpuKernels.softmax(x, y, false);
    gk!.softmax(gx, gy, false);
    expectClose(await readView(rt!, gy, y), y.buffer, 1e-5, 1e-7, 'softmax 66000 rows');
    releaseAll(rt!, gx, gy);
  });

  it('float64 throws a WebGPUDTypeError naming the op', () => {
    const b = rt!.allocate(64);
    const v = (dtype: DType): View<GPUBuffer> => ({ buffer: b, dtype, shape: [2, 2], strides: [2, 1], offset: 0 });
    expect(() => gk!.softmax(v('float64'), v('float64'), false)).toThrow(WebGPUDTypeError);
    expect(() => gk!.layerNorm(v('float64'), null, null, 1e-5, v('float64'), v('float64'), v('float64'))).toThrow(/layerNorm/);
    expect(() => gk!.crossEntropy(v('float32'), v('float32'), null, { ignoreIndex: -100, labelSmoothing: 0 }, v('float32'), v('float32'))).toThrow(WebGPUDTypeError);
    rt!.release(b);
  });
});

describe('webgpu layerNorm', () => {
  it('forward and backward (dx, dweight, dbias), with and without weight/bias', async () => {
    let seed = 100;
    const cases: [number, number, boolean, boolean][] = [];
    for (const [R, D] of shapes()) cases.push([R, D, seed++ % 2 === 0, seed % 3 !== 0]);
    cases.push([200, 33, true, true]); // several row chunks in the column reduction
    for (const tpr of [null, 1, 256]) {
      setRowThreads(tpr);
      for (const [R, D, hasW, hasB] of tpr === null ? cases : cases.filter(([R, D]) => (R === 3 && D === 7) || (R === 3 && D === 1000) || (R === 65 && D === 63))) {
        const r = rng(seed++);
        const what = `layerNorm [${R}, ${D}] weight=${hasW} bias=${hasB} tpr=${tpr ?? 'auto'}`;
        // A large common offset (mean 50) checks the two-pass variance.
        const x = randView([R, D], r, 47, 53, 3);
        const w = hasW ? randView([D], r, 0.5, 1.5, 1) : null;
        const b = hasB ? randView([D], r, -1, 1, 2) : null;
        const out = zeros([R, D], 4), mean = zeros([R], 1), rstd = zeros([R], 2);
        const [gx, gout, gmean, grstd] = [x, out, mean, rstd].map((v) => toGPU(rt!, v));
        const gw = w ? toGPU(rt!, w) : null, gb = b ? toGPU(rt!, b) : null;
        cpuKernels.layerNorm(x, w, b, 1e-5, out, mean, rstd);
        gk!.layerNorm(gx!, gw, gb, 1e-5, gout!, gmean!, grstd!);
        expectClose(await readView(rt!, gout!, out), out.buffer, 1e-4, 1e-4, `${what} out`);
        expectClose(await readView(rt!, gmean!, mean), mean.buffer, 1e-6, 0, `${what} mean`);
        // rstd of a constant row (D = 1) is 1/√eps ≈ 316: loose relative check.
        expectClose(await readView(rt!, grstd!, rstd), rstd.buffer, D === 1 ? 1e-3 : 1e-4, 0, `${what} rstd`);

        // Backward from the reference's mean/rstd, so only the backward is under test.
        const dy = randView([R, D], r, -1, 1, 6);
        const dx = zeros([R, D], 2);
        const dw = randView([D], r, 0, 1, 1), db = randView([D], r, 0, 1, 3); // garbage that must be overwritten
        const [gmean2, grstd2, gdy, gdx] = [mean, rstd, dy, dx].map((v) => toGPU(rt!, v));
        const gdw = toGPU(rt!, dw), gdb = toGPU(rt!, db);
        const wantW = hasW, wantB = hasB || !hasW;
        cpuKernels.layerNormBackward(x, w, mean, rstd, dy, dx, wantW ? dw : null, wantB ? db : null);
        gk!.layerNormBackward(gx!, gw, gmean2!, grstd2!, gdy!, gdx!, wantW ? gdw : null, wantB ? gdb : null);
        const scale = D === 1 ? 1 : 1e-4;
        expectClose(await readView(rt!, gdx!, dx), dx.buffer, 1e-3, scale, `${what} dx`);
        expectClose(await readView(rt!, gdw, dw), dw.buffer, 1e-4, 1e-5 * R, `${what} dweight`);
        expectClose(await readView(rt!, gdb, db), db.buffer, 1e-4, 1e-5 * R, `${what} dbias`);
        releaseAll(rt!, gx, gout, gmean, grstd, gw, gb, gmean2, grstd2, gdy, gdx, gdw, gdb);
      }
    }
  });
});

describe('webgpu crossEntropy', () => {
  it('loss, lse and dlogits: ignored rows, label smoothing, class weights, logits of ±80', async () => {
    let seed = 200;
    const IGNORE = -100;
    for (const tpr of [null, 1, 256]) {
      setRowThreads(tpr);
      for (const [N, C] of tpr === null ? shapes() : [[3, 7], [3, 1000], [65, 63]] as [number, number][]) {
        for (const [eps, weighted] of [[0, false], [0.1, true], [0.25, false]] as [number, boolean][]) {
          const r = rng(seed++);
          const big = seed % 2 === 0;
          const what = `crossEntropy [${N}, ${C}] ε=${eps} weight=${weighted} big=${big} tpr=${tpr ?? 'auto'}`;
          const opts = { ignoreIndex: IGNORE, labelSmoothing: eps };
          const logits = randView([N, C], r, big ? -80 : -5, big ? 80 : 5, 3);
          const targets = makeView('int32', [N], { offset: 1 }, () => (r() < 0.2 ? IGNORE : Math.floor(r() * C)));
          const w = weighted ? randView([C], r, 0.2, 2, 2) : null;
          const loss = zeros([N], 1), lse = zeros([N], 2);
          const [gl, gt, gloss, glse] = [logits, targets, loss, lse].map((v) => toGPU(rt!, v));
          const gw = w ? toGPU(rt!, w) : null;
          cpuKernels.crossEntropy(logits, targets, w, opts, loss, lse);
          gk!.crossEntropy(gl!, gt!, gw, opts, gloss!, glse!);
          const mag = big ? 160 : 10;
          expectClose(await readView(rt!, glse!, lse), lse.buffer, 1e-6, 1e-6 * mag, `${what} lse`);
          expectClose(await readView(rt!, gloss!, loss), loss.buffer, 1e-5, 2e-6 * mag * (weighted ? 2 : 1), `${what} loss`);

          const dloss = randView([N], r, -2, 2, 4);
          const dx = zeros([N, C], 5);
          const [gdl, gdx] = [dloss, dx].map((v) => toGPU(rt!, v));
          cpuKernels.crossEntropyBackward(logits, targets, w, lse, dloss, opts, dx);
          gk!.crossEntropyBackward(gl!, gt!, gw, glse!, gdl!, opts, gdx!);
          const got = await readView(rt!, gdx!, dx);
          expectClose(got, dx.buffer, 1e-4, 1e-6, `${what} dlogits`);
          // Ignored rows are exact zeros.
          for (let n = 0; n < N; n++) {
            if (targets.buffer[1 + n] !== IGNORE) continue;
            for (let c = 0; c < C; c++) expect(got[5 + n * C + c]).toBe(0);
          }
          releaseAll(rt!, gl, gt, gloss, glse, gw, gdl, gdx);
        }
      }
    }
  });

  it('an out-of-range target raises a RangeError at the read of the loss', async () => {
    const logits = makeView('float32', [2, 4], {}, (i) => i);
    const targets = makeView('int32', [2], {}, (i) => [1, 9][i]!);
    const loss = zeros([2]), lse = zeros([2]);
    const [gl, gt, gloss, glse] = [logits, targets, loss, lse].map((v) => toGPU(rt!, v));
    gk!.crossEntropy(gl!, gt!, null, { ignoreIndex: -100, labelSmoothing: 0 }, gloss!, glse!);
    await expect(readView(rt!, gloss!, loss)).rejects.toThrow(/crossEntropy.*9.*size 4/);
    releaseAll(rt!, gl, gt, gloss, glse);
  });
});
