// The WebGPU kernels that read and write float16/bfloat16 storage in place with f32 arithmetic,
// beyond the elementwise family, matmul and the softmax/layerNorm forwards (webgpu_half*.test.ts):
// reductions, crossEntropy, the softmax and layerNorm backwards, attention (fused and matmul
// paths), indexing, random, adamw, im2col/col2im/pooling and the quantized matmuls. Each against the
// float64 (or cpu) reference of the same rounded inputs within the tolerance rule of
// dtype_tolerance.ts, on awkward shapes (size 1, odd sizes, odd offsets, transposed views), and each
// launch checked through the runtime's counters: its dispatches, and no buffer requested for a
// widened copy.
import { describe, expect, it } from 'vitest';
import { cpuKernels, readAll, storedBits } from '../src/cpu/index.js';
import type { DType, QuantWeightView, ReduceOp, TypedArray, View } from '../src/types.js';
import { createWebGPUKernels } from '../src/webgpu/index.js';
import { attention as attn, attentionBackward as attnBwd } from '../src/webgpu/attention.js';
import { rowThreads } from '../src/webgpu/softmax.js';
import { gpuRuntime, makeView, readView, releaseAll, rng, toGPU, type Layout } from './gpu_helpers.js';
import { FACTOR, expectWithinEps } from './dtype_tolerance.js';
import { dequantizeWeight, quantizeWeight, type QuantizeOptions, type QuantizedWeight } from '../src/cpu/quant_format.js';

const rt = await gpuRuntime();
const gk = createWebGPUKernels(rt);

/** A view of `dtype` over `shape` with `layout`, holding `gen()` values (rounded to dtype) in logical order. */
function viewOf(dtype: DType, shape: number[], gen: () => number, layout: Layout = {}): View<TypedArray> {
  const v = makeView(dtype, shape, layout);
  const n = shape.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let off = v.offset;
    for (let d = 0; d < shape.length; d++) off += idx[d]! * v.strides[d]!;
    v.buffer[off] = storedBits(dtype, gen());
    for (let d = shape.length - 1; d >= 0; d--) { if (++idx[d]! < shape[d]!) break; idx[d] = 0; }
  }
  return v;
}

/** A contiguous float64 copy of a view's values (logical order). */
function f64(v: View<TypedArray>): View<TypedArray> {
  const w = makeView('float64', v.shape);
  w.buffer.set(readAll(v));
  return w;
}

/** The values of GPU view `g`, whose cpu twin is `v`. */
async function values(g: View<GPUBuffer>, v: View<TypedArray>): Promise<number[]> {
  return Array.from(readAll({ ...v, buffer: await readView(rt, g, v) }));
}

/** Runs `launch`, returning the dispatches it made and the buffers it requested from the pool. */
function counted(launch: () => void): { dispatches: number; buffers: number } {
  const before = rt.stats();
  launch();
  const after = rt.stats();
  return { dispatches: after.dispatches - before.dispatches, buffers: after.allocations + after.reuses - before.allocations - before.reuses };
}

const HALF = ['float16', 'bfloat16'] as const;

describe.each(HALF)('webgpu reductions on %s storage (f32 accumulation, one rounding on store)', (d) => {
  const r = rng(3);
  // [label, shape, axes, layout of x]: the serial path (short reductions), the rows path (≥ 64), the
  // two-stage path (≥ 2^15 elements into few outputs), size-1 dims, a transposed x at an odd offset.
  const CASES: [string, number[], number[], Layout][] = [
    ['serial: [5, 3] over 1, odd offset', [5, 3], [1], { offset: 1 }],
    ['serial: [1, 1] over 0', [1, 1], [0], {}],
    ['rows: [3, 301] over 1', [3, 301], [1], { offset: 3 }],
    ['rows: [7, 70] transposed over 0', [7, 70], [0], { perm: [1, 0], offset: 1 }],
    ['rows: [2, 5, 33] over 0 and 2', [2, 5, 33], [0, 2], {}],
    ['two-stage: [3, 33001] over 1', [3, 33001], [1], { offset: 1 }],
  ];

  for (const op of ['sum', 'max', 'min', 'prod'] as ReduceOp[]) {
    it(`${op} into ${d} and float32 outs`, async () => {
      for (const [label, shape, axes, layout] of CASES) {
        if (op === 'prod' && label.startsWith('two-stage')) continue; // a product of 33001 terms over/underflows either way
        const gen = op === 'prod' ? () => 0.9 + 0.2 * r() : () => -3 + 6 * r();
        const x = viewOf(d, shape, gen, layout);
        const outShape = shape.map((n, k) => (axes.includes(k) ? 1 : n));
        const nred = axes.reduce((a, k) => a * shape[k]!, 1);
        const ref = makeView('float64', outShape), scale = makeView('float64', outShape);
        cpuKernels.reduce(op, f64(x), axes, ref);
        // sum: error relative to Σ|x|; prod: to |prod| (relative errors add); max/min: exact.
        const absx = f64(x);
        absx.buffer = (absx.buffer as Float64Array).map(Math.abs);
        cpuKernels.reduce('sum', absx, axes, scale);
        for (const od of [d, 'float32'] as const) {
          const before = od === 'float32' ? 1234 : storedBits(od, 1234); // the stored element before out
          const out = makeView(od, outShape, { offset: 1 }, () => before);
          const gx = toGPU(rt, x), go = toGPU(rt, out);
          const c = counted(() => gk.reduce(op, gx, axes, go));
          const what = `${op} ${label} → ${od}`;
          const twoStage = label.startsWith('two-stage');
          expect(c, what).toEqual({ dispatches: twoStage ? 2 : 1, buffers: twoStage ? 1 : 0 });
          expectWithinEps(await values(go, out), Array.from(readAll(ref)), od, FACTOR.reduction(od, 'float32', nred), what,
            op === 'sum' ? Array.from(readAll(scale)) : undefined);
          // the element before the view keeps its value
          expect((await readView(rt, go, out))[0], `${what}: element before out`).toBe(before);
          releaseAll(rt, gx, go);
        }
      }
    });
  }

  it('max and min propagate NaN; a row of one element', async () => {
    const x = viewOf(d, [2, 3], () => 0, {});
    x.buffer.set([1, NaN, 2, -1, -2, -3].map((v) => storedBits(d, v)));
    const out = makeView(d, [2, 1]);
    const gx = toGPU(rt, x), go = toGPU(rt, out);
    gk.reduce('max', gx, [1], go);
    expect(await values(go, out)).toEqual([NaN, -1]);
    gk.reduce('min', gx, [1], go);
    expect(await values(go, out)).toEqual([NaN, -3]);
    releaseAll(rt, gx, go);
  });

  it('argmax and argmin over a transposed view at an odd offset (first of ties, first NaN)', async () => {
    const x = viewOf(d, [6, 9], () => Math.round(-4 + 8 * r()), { perm: [1, 0], offset: 1 });
    const out = makeView('int32', [6, 1]), want = makeView('int32', [6, 1]);
    for (const op of ['argmax', 'argmin'] as const) {
      cpuKernels.argReduce(op, x, 1, want);
      const gx = toGPU(rt, x), go = toGPU(rt, out);
      const c = counted(() => gk.argReduce(op, gx, 1, go));
      expect(c, op).toEqual({ dispatches: 1, buffers: 0 });
      expect(Array.from(await readView(rt, go, out)), op).toEqual(Array.from(want.buffer));
      releaseAll(rt, gx, go);
    }
  });
});

describe.each(HALF)('webgpu crossEntropy and its backward on %s storage (f32 arithmetic, one rounding on store)', (d) => {
  const r = rng(9);
  // [N, C, class weights, label smoothing, storage of the other float operands]
  const CASES: [number, number, boolean, number, 'float32' | typeof d][] = [
    [5, 7, false, 0, d], [1, 1, false, 0, d], [3, 300, true, 0.1, d], [4, 33, true, 0, 'float32'], [6, 5, false, 0.2, 'float32'],
  ];
  it('loss and lse, then dlogits, rows at an odd offset, an ignored row, one dispatch each and no buffer', async () => {
    for (const [N, C, weighted, eps, od] of CASES) {
      const what = `N=${N} C=${C}${weighted ? ' weighted' : ''} ε=${eps} others ${od}`;
      const logits = viewOf(d, [N, C], () => -6 + 12 * r(), { offset: 1 });
      const targets = viewOf('int32', [N], () => Math.floor(r() * C));
      if (N > 2) targets.buffer[1] = -100; // ignored
      const weight = weighted ? viewOf(od, [C], () => 0.5 + r()) : null;
      const opts = { ignoreIndex: -100, labelSmoothing: eps };
      const loss = makeView(od, [N], { offset: 3 }), lse = makeView(d, [N], { offset: 1 });
      const loss64 = makeView('float64', [N]), lse64 = makeView('float64', [N]);
      cpuKernels.crossEntropy(f64(logits), targets, weight && f64(weight), opts, loss64, lse64);
      const g = [logits, targets, weight ?? logits, loss, lse].map((v) => toGPU(rt, v));
      const fwd = counted(() => gk.crossEntropy(g[0]!, g[1]!, weight ? g[2]! : null, opts, g[3]!, g[4]!));
      expect(fwd, `${what} forward`).toEqual({ dispatches: 1, buffers: 0 });
      const unitFloor = (v: number[]) => v.map((x) => Math.max(Math.abs(x), 1));
      const lossRef = Array.from(readAll(loss64)), lseRef = Array.from(readAll(lse64));
      expectWithinEps(await values(g[3]!, loss), lossRef, od, FACTOR.reduction(od, 'float32', C), `${what} loss`, unitFloor(lossRef));
      expectWithinEps(await values(g[4]!, lse), lseRef, d, FACTOR.reduction(d, 'float32', C), `${what} lse`, unitFloor(lseRef));

      // The backward from the lse just computed (rounded to d: the reference reads the same values).
      const lseGot = viewOf(d, [N], () => 0, { offset: 1 });
      lseGot.buffer.set(await readView(rt, g[4]!, lse));
      const dloss = viewOf(od, [N], () => -2 + 4 * r());
      const dx = makeView(d, [N, C], { offset: 1 }), dx64 = makeView('float64', [N, C]);
      cpuKernels.crossEntropyBackward(f64(logits), targets, weight && f64(weight), f64(lseGot), f64(dloss), opts, dx64);
      const h = [dloss, dx].map((v) => toGPU(rt, v));
      const bwd = counted(() => gk.crossEntropyBackward(g[0]!, g[1]!, weight ? g[2]! : null, g[4]!, h[0]!, opts, h[1]!));
      expect(bwd, `${what} backward`).toEqual({ dispatches: 1, buffers: 0 });
      // dx_c = g·[(1−ε)·w_t·(p_c − [c = t]) + …]: the f32 error is relative to |g|·max w, not to |dx_c|.
      const gv = Array.from(readAll(dloss)), wmax = weight ? Math.max(...Array.from(readAll(weight))) : 1;
      const scale = Array.from({ length: N * C }, (_, i) => Math.abs(gv[Math.floor(i / C)]!) * wmax);
      expectWithinEps(await values(h[1]!, dx), Array.from(readAll(dx64)), d, FACTOR.reduction(d, 'float32', C), `${what} dlogits`, scale);
      releaseAll(rt, ...g, ...h);
    }
  });
});

describe.each(HALF)('webgpu softmax and layerNorm backwards on %s storage (f32 arithmetic, one rounding on store)', (d) => {
  const r = rng(13);
  const abs = (v: View<TypedArray>): number[] => Array.from(readAll(v), Math.abs);

  it('softmaxBackward and logSoftmaxBackward: rows of 1, 7 and 300 at odd offsets, a 16-bit or float32 dx, one dispatch and no buffer', async () => {
    for (const [rows, D] of [[3, 7], [2, 1], [2, 300]] as const) {
      for (const log of [false, true]) {
        for (const od of [d, 'float32'] as const) {
          const what = `${log ? 'logSoftmax' : 'softmax'}Backward ${rows}×${D} → ${od}`;
          // y: a softmax output of random logits, rounded to d.
          const x64 = viewOf('float64', [rows, D], () => -4 + 8 * r());
          const y64 = makeView('float64', [rows, D]);
          cpuKernels.softmax(x64, y64, log);
          const yv = Array.from(readAll(y64));
          let k = 0;
          const y = viewOf(d, [rows, D], () => yv[k++]!, { offset: 1 });
          const dy = viewOf(d, [rows, D], () => -2 + 4 * r(), { offset: 2 });
          const dx = makeView(od, [rows, D], { offset: 1 }), ref = makeView('float64', [rows, D]);
          cpuKernels.softmaxBackward(f64(y), f64(dy), ref, log);
          const g = [y, dy, dx].map((v) => toGPU(rt, v));
          expect(counted(() => gk.softmaxBackward(g[0]!, g[1]!, g[2]!, log)), what).toEqual({ dispatches: 1, buffers: 0 });
          // Error scale per element: softmax y_j·(|dy_j| + Σ|dy·y|); logSoftmax |dy_j| + e^{y_j}·Σ|dy|.
          const Y = Array.from(readAll(y)), G = abs(dy);
          const scale = Y.map((yj, i) => {
            const row = Math.floor(i / D);
            let sgy = 0, sg = 0;
            for (let j = 0; j < D; j++) { sgy += G[row * D + j]! * Math.abs(Y[row * D + j]!); sg += G[row * D + j]!; }
            return log ? G[i]! + Math.exp(yj) * sg : Math.abs(yj) * (G[i]! + sgy);
          });
          expectWithinEps(await values(g[2]!, dx), Array.from(readAll(ref)), od, FACTOR.reduction(od, 'float32', D), what, scale);
          releaseAll(rt, ...g);
        }
      }
    }
  });

  it('layerNormBackward: dx, dweight, dbias over rows of 1, 7, 300 and 1100 (and 260 × 33, 5 × 1100: partial column sums), with and without weight', async () => {
    for (const [rows, D, affine, od] of [[3, 7, true, d], [1, 1, false, d], [2, 300, true, 'float32'], [260, 33, true, d], [1, 1100, true, d], [5, 1100, true, d]] as const) {
      const what = `layerNormBackward ${rows}×${D}${affine ? ' affine' : ''} → ${od}`;
      const x = viewOf(d, [rows, D], () => 1 + 2 * r(), { offset: 1 });
      const w = viewOf(d, [D], () => -1 + 2 * r());
      // mean and rstd from the forward, rounded to d
      const m64 = makeView('float64', [rows]), r64 = makeView('float64', [rows]);
      cpuKernels.layerNorm(f64(x), null, null, 1e-5, makeView('float64', [rows, D]), m64, r64);
      const mv = Array.from(readAll(m64)), rv = Array.from(readAll(r64));
      let i = 0, j = 0;
      const mean = viewOf(d, [rows], () => mv[i++]!, { offset: 1 }), rstd = viewOf(d, [rows], () => rv[j++]!);
      const dy = viewOf(d, [rows, D], () => -2 + 4 * r(), { offset: 3 });
      const dx = makeView(od, [rows, D], { offset: 1 }), dw = makeView(od, [D], { offset: 1 }), db = makeView(d, [D]);
      const dx64 = makeView('float64', [rows, D]), dw64 = makeView('float64', [D]), db64 = makeView('float64', [D]);
      cpuKernels.layerNormBackward(f64(x), affine ? f64(w) : null, f64(mean), f64(rstd), f64(dy), dx64, affine ? dw64 : null, affine ? db64 : null);
      const g = [x, w, mean, rstd, dy, dx, dw, db].map((v) => toGPU(rt, v));
      const c = counted(() => gk.layerNormBackward(g[0]!, affine ? g[1]! : null, g[2]!, g[3]!, g[4]!, g[5]!, affine ? g[6]! : null, affine ? g[7]! : null));
      // One dispatch while one workgroup's pass holds every row (4·256/TPR rows, four per segment); else dx with the partial column sums (their scratch), and their sum.
      expect(c, what).toEqual(affine && rows > 4 * (256 / rowThreads(D)) ? { dispatches: 2, buffers: 1 } : { dispatches: 1, buffers: 0 });
      // Error scales: dx_j = rstd·(g_j − mean(g) − x̂_j·mean(g·x̂)) term by term in absolute value; dweight Σ|dy·x̂|, dbias Σ|dy|.
      const X = Array.from(readAll(x)), W = Array.from(readAll(w)), M = Array.from(readAll(mean)), R = Array.from(readAll(rstd)), G = abs(dy);
      const xh = X.map((v, k) => (v - M[Math.floor(k / D)]!) * R[Math.floor(k / D)]!);
      const gw = G.map((v, k) => v * (affine ? Math.abs(W[k % D]!) : 1));
      const rowMean = (a: number[], row: number) => a.slice(row * D, row * D + D).reduce((s, v) => s + v, 0) / D;
      const dxScale = gw.map((v, k) => {
        const row = Math.floor(k / D);
        return R[row]! * (v + rowMean(gw, row) + Math.abs(xh[k]!) * rowMean(gw.map((q, t) => q * Math.abs(xh[t]!)), row));
      });
      const f = (o: DType, n: number) => FACTOR.reduction(o as 'float32', 'float32', n) + FACTOR.elementwise(o as 'float32', 'float32');
      expectWithinEps(await values(g[5]!, dx), Array.from(readAll(dx64)), od, f(od, D), `${what} dx`, dxScale);
      if (affine) {
        const col = (a: number[], c0: number) => a.filter((_, k) => k % D === c0).reduce((s, v) => s + v, 0);
        const gx = G.map((v, k) => v * Math.abs(xh[k]!));
        expectWithinEps(await values(g[6]!, dw), Array.from(readAll(dw64)), od, f(od, rows), `${what} dweight`, Array.from({ length: D }, (_, c0) => col(gx, c0)));
        expectWithinEps(await values(g[7]!, db), Array.from(readAll(db64)), d, f(d, rows), `${what} dbias`, Array.from({ length: D }, (_, c0) => col(G, c0)));
      }
      releaseAll(rt, ...g);
    }
  });
});

describe.each(HALF)('webgpu attention and its backward on %s storage, fused and matmul paths (f32 arithmetic, one rounding on store)', (d) => {
  const r = rng(17);
  const maxAbs = (a: ArrayLike<number>): number => Math.max(...Array.from(a, Math.abs));
  // [B, H, Tq, Tk, D, Dv, causal, mask]: Tq ≠ Tk (the causal cut aligns the last query with the last key), size 1, a broadcast mask with −∞.
  const CASES: [number, number, number, number, number, number, boolean, boolean][] = [
    [1, 2, 5, 7, 3, 5, true, false], [2, 1, 1, 1, 1, 1, false, false], [1, 2, 6, 4, 8, 8, false, true],
  ];
  it('forward and backward against float64; the launch has the dispatches and buffers of the float32 one (no widened copies)', async () => {
    for (const path of ['fused', 'matmul'] as const) {
      for (const [B, H, Tq, Tk, D, Dv, causal, masked] of CASES) {
        const what = `${path} [${B},${H},${Tq},${Tk}] D=${D} Dv=${Dv}${causal ? ' causal' : ''}${masked ? ' masked' : ''}`;
        const opts = { scale: 1 / Math.sqrt(D), causal };
        const make = (dt: DType) => {
          const rr = rng(Tq * 31 + Tk);
          const q = viewOf(dt, [B, H, Tq, D], () => -1.5 + 3 * rr(), { offset: 1 });
          const k = viewOf(dt, [B, H, Tk, D], () => -1.5 + 3 * rr());
          const v = viewOf(dt, [B, H, Tk, Dv], () => -2 + 4 * rr(), { offset: 3 });
          const mask = masked ? viewOf(dt, [B, H, Tq, Tk], () => (rr() < 0.2 ? -Infinity : -rr()), { broadcast: [0, 1] }) : null;
          const dout = viewOf(dt, [B, H, Tq, Dv], () => -1 + 2 * rr(), { offset: 1 });
          return { q, k, v, mask, dout };
        };
        const x = make(d);
        // float64 reference of the forward, on the rounded inputs
        const out64 = makeView('float64', [B, H, Tq, Dv]), lse64 = makeView('float64', [B, H, Tq]);
        cpuKernels.attention(f64(x.q), f64(x.k), f64(x.v), x.mask && f64(x.mask), opts, out64, lse64);
        const fwd = (y: ReturnType<typeof make>, dt: DType) => {
          const g = { q: toGPU(rt, y.q), k: toGPU(rt, y.k), v: toGPU(rt, y.v), mask: y.mask && toGPU(rt, y.mask) };
          const out = makeView(dt, [B, H, Tq, Dv], { offset: 1 }), lse = makeView(dt, [B, H, Tq], { offset: 1 });
          const go = toGPU(rt, out), gl = toGPU(rt, lse);
          const c = counted(() => attn(rt, g.q, g.k, g.v, g.mask, opts, go, gl, { path }));
          return { g, out, lse, go, gl, c };
        };
        const h = fwd(x, d);
        const f32 = fwd(make('float32'), 'float32');
        expect(h.c, `${what} forward launch`).toEqual(f32.c);
        const vmax = maxAbs(readAll(x.v));
        expectWithinEps(await values(h.go, h.out), Array.from(readAll(out64)), d, FACTOR.reduction(d, 'float32', Tk), `${what} out`,
          new Array<number>(B * H * Tq * Dv).fill(vmax));
        const lseRef = Array.from(readAll(lse64));
        expectWithinEps(await values(h.gl, h.lse), lseRef, d, FACTOR.reduction(d, 'float32', Tk), `${what} lse`, lseRef.map((l) => Math.max(Math.abs(l), 1)));

        // Backward from the forward's (rounded) out and lse; the reference reads the same values.
        const outIn = { ...h.out, buffer: await readView(rt, h.go, h.out) }, lseIn = { ...h.lse, buffer: await readView(rt, h.gl, h.lse) };
        const dq64 = makeView('float64', [B, H, Tq, D]), dk64 = makeView('float64', [B, H, Tk, D]), dv64 = makeView('float64', [B, H, Tk, Dv]);
        cpuKernels.attentionBackward(f64(x.q), f64(x.k), f64(x.v), x.mask && f64(x.mask), opts, f64(outIn), f64(lseIn), f64(x.dout), dq64, dk64, dv64);
        const bwd = (y: ReturnType<typeof make>, dt: DType, fw: ReturnType<typeof fwd>) => {
          const dq = makeView(dt, [B, H, Tq, D], { offset: 1 }), dk = makeView(dt, [B, H, Tk, D]), dv = makeView(dt, [B, H, Tk, Dv], { offset: 1 });
          const gg = { dout: toGPU(rt, y.dout), dq: toGPU(rt, dq), dk: toGPU(rt, dk), dv: toGPU(rt, dv) };
          const c = counted(() => attnBwd(rt, fw.g.q, fw.g.k, fw.g.v, fw.g.mask, opts, fw.go, fw.gl, gg.dout, gg.dq, gg.dk, gg.dv, { path }));
          return { dq, dk, dv, gg, c };
        };
        const hb = bwd(x, d, h);
        const fb = bwd(make('float32'), 'float32', f32);
        expect(hb.c, `${what} backward launch`).toEqual(fb.c);
        // Gradients: the stored rounding dominates; errors relative to each gradient's largest element.
        for (const [name, got, gv, ref] of [['dq', hb.dq, hb.gg.dq, dq64], ['dk', hb.dk, hb.gg.dk, dk64], ['dv', hb.dv, hb.gg.dv, dv64]] as const) {
          const refv = Array.from(readAll(ref));
          expectWithinEps(await values(gv, got), refv, d, FACTOR.reduction(d, 'float32', Math.max(Tq, Tk)), `${what} ${name}`,
            new Array<number>(refv.length).fill(Math.max(maxAbs(refv), 1e-3)));
        }
        for (const s of [h, f32]) releaseAll(rt, s.g.q, s.g.k, s.g.v, ...(s.g.mask ? [s.g.mask] : []), s.go, s.gl);
        for (const s of [hb, fb]) releaseAll(rt, s.gg.dout, s.gg.dq, s.gg.dk, s.gg.dv);
      }
    }
  });
});

describe.each(HALF)('webgpu indexing on %s storage (gathers exact, sums in f32 with one rounding)', (d) => {
  const r = rng(21);
  it('gather and indexSelect into strided outs at odd offsets (exact), one dispatch and no buffer', async () => {
    const x = viewOf(d, [5, 7], () => -4 + 8 * r(), { offset: 1 });
    const gi = viewOf('int32', [3, 7], () => Math.floor(5 * r()));
    const si = viewOf('int32', [4], () => Math.floor(5 * r()));
    for (const [label, run, ref, out] of [
      ['gather', (g: View<GPUBuffer>[]) => gk.gather(g[0]!, 0, g[1]!, g[2]!), (o: View<TypedArray>) => cpuKernels.gather(x, 0, gi, o), makeView(d, [3, 7], { perm: [1, 0], offset: 1 })],
      ['indexSelect', (g: View<GPUBuffer>[]) => gk.indexSelect(g[0]!, 0, g[1]!, g[2]!), (o: View<TypedArray>) => cpuKernels.indexSelect(x, 0, si, o), makeView(d, [4, 7], { offset: 3 })],
    ] as const) {
      const want = { ...out, buffer: out.buffer.slice() };
      ref(want);
      const g = [x, label === 'gather' ? gi : si, out].map((v) => toGPU(rt, v));
      expect(counted(() => run(g)), label).toEqual({ dispatches: 1, buffers: 0 });
      expect(Array.from(await readView(rt, g[2]!, out)), label).toEqual(Array.from(want.buffer));
      releaseAll(rt, ...g);
    }
  });

  it('scatterAdd and indexAdd accumulate into 16-bit outs (strided, odd offsets) with repeated indices', async () => {
    for (const mode of ['scatterAdd', 'indexAdd'] as const) {
      for (const srcDType of [d, 'float32'] as const) {
        const what = `${mode} ${srcDType} → ${d}`;
        const out = viewOf(d, [6, 5], () => -1 + 2 * r(), { perm: [1, 0], offset: 1 });
        const idx = mode === 'scatterAdd' ? viewOf('int32', [4, 5], () => Math.floor(6 * r())) : viewOf('int32', [9], () => Math.floor(6 * r()));
        const src = viewOf(srcDType, mode === 'scatterAdd' ? [4, 5] : [9, 5], () => -2 + 4 * r(), { offset: 1 });
        // float64 reference from the same values, and Σ|terms| per element as the error scale
        const ref = f64(out), scale = f64(out);
        scale.buffer = (scale.buffer as Float64Array).map(Math.abs);
        const src64 = f64(src), abs64 = f64(src);
        abs64.buffer = (abs64.buffer as Float64Array).map(Math.abs);
        if (mode === 'scatterAdd') { cpuKernels.scatterAdd(ref, 0, idx, src64); cpuKernels.scatterAdd(scale, 0, idx, abs64); }
        else { cpuKernels.indexAdd(ref, 0, idx, src64); cpuKernels.indexAdd(scale, 0, idx, abs64); }
        const g = [out, idx, src].map((v) => toGPU(rt, v));
        const c = counted(() => (mode === 'scatterAdd' ? gk.scatterAdd(g[0]!, 0, g[1]!, g[2]!) : gk.indexAdd(g[0]!, 0, g[1]!, g[2]!)));
        expect(c, what).toEqual({ dispatches: 1, buffers: 0 });
        const got = { ...out, buffer: await readView(rt, g[0]!, out) };
        expectWithinEps(readAll(got), readAll(ref), d, FACTOR.reduction(d, 'float32', 10), what, readAll(scale));
        // the element before the view is untouched
        expect(got.buffer[0], `${what}: element before out`).toBe(out.buffer[0]);
        releaseAll(rt, ...g);
      }
    }
  });
});

describe.each(HALF)('webgpu random and adamw on %s storage', (d) => {
  const r = rng(25);
  it('random uniform (bit-exact against the cpu) and normal into strided 16-bit views at odd offsets, one dispatch and no buffer', async () => {
    for (const distribution of ['uniform', 'normal'] as const) {
      const opts = { seed: 12345, offset: 7, distribution };
      const out = makeView(d, [9, 5], { perm: [1, 0], offset: 1 }, () => storedBits(d, 3));
      const want = { ...out, buffer: out.buffer.slice() };
      cpuKernels.random(want, opts);
      const g = toGPU(rt, out);
      expect(counted(() => gk.random(g, opts)), distribution).toEqual({ dispatches: 1, buffers: 0 });
      const got = await readView(rt, g, out);
      if (distribution === 'uniform') expect(Array.from(got)).toEqual(Array.from(want.buffer));
      else {
        // Box–Muller in f32 against float64, both rounded once to d: a few f32 ulp relative to max(|z|, 1).
        const w = Array.from(readAll(want));
        expectWithinEps(readAll({ ...out, buffer: got }), w, d, FACTOR.elementwise(d, 'float32'), 'normal', w.map((z) => Math.max(Math.abs(z), 1)));
        expect(got[0]).toBe(storedBits(d, 3)); // before the view
      }
      releaseAll(rt, g);
    }
  });

  it('adamw updates 16-bit param, m, v in place (contiguous at odd offsets, and strided), and a float32 param with a 16-bit grad', async () => {
    const opts = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 3 };
    for (const [label, shape, layout, pd] of [
      ['contiguous', [37], { offset: 1 }, d], ['strided', [5, 4], { perm: [1, 0], offset: 3 }, d], ['float32 param', [13], { offset: 1 }, 'float32'],
    ] as [string, number[], Layout, DType][]) {
      const what = `adamw ${label}`;
      const param = viewOf(pd, shape, () => -1 + 2 * r(), layout), grad = viewOf(d, shape, () => -1 + 2 * r());
      const m = viewOf(pd, shape, () => -0.1 + 0.2 * r(), layout), v = viewOf(pd, shape, () => 0.01 * r(), layout);
      const p64 = f64(param), m64 = f64(m), v64 = f64(v);
      cpuKernels.adamw(p64, f64(grad), m64, v64, opts);
      const g = [param, grad, m, v].map((x) => toGPU(rt, x));
      expect(counted(() => gk.adamw(g[0]!, g[1]!, g[2]!, g[3]!, opts)), what).toEqual({ dispatches: 1, buffers: 0 });
      // Errors of the f32 step (β1, β2, lr rounded to f32 in the uniforms included) relative to the
      // terms' magnitudes: |p| + lr (the update is about lr at most), β1|m| + (1−β1)|g|, β2·v + (1−β2)·g²; then one rounding.
      const f = FACTOR.elementwise(pd as 'float32', 'float32');
      const pr = Array.from(readAll(p64)), G = Array.from(readAll(grad)), M0 = Array.from(readAll(m)), V0 = Array.from(readAll(v));
      expectWithinEps(await values(g[0]!, param), pr, pd, f, `${what} param`, pr.map((x) => Math.abs(x) + opts.lr));
      expectWithinEps(await values(g[2]!, m), Array.from(readAll(m64)), pd, f, `${what} m`, M0.map((x, k) => 0.9 * Math.abs(x) + 0.1 * Math.abs(G[k]!)));
      expectWithinEps(await values(g[3]!, v), Array.from(readAll(v64)), pd, f, `${what} v`, V0.map((x, k) => 0.999 * x + 0.001 * G[k]! ** 2));
      releaseAll(rt, ...g);
    }
  });
});

describe.each(HALF)('webgpu im2col, col2im and pooling on %s storage (moves exact, sums in f32 with one rounding)', (d) => {
  const r = rng(29);
  const g = { kernel: [3, 2] as [number, number], stride: [2, 1] as [number, number], padding: [1, 0] as [number, number], dilation: [1, 2] as [number, number] };
  const [N, C, H, W] = [2, 3, 7, 6];
  const Ho = Math.floor((H + 2 - 2 - 1) / 2) + 1, Wo = Math.floor((W - 2 - 1) / 1) + 1;
  const absView = (v: View<TypedArray>): View<TypedArray> => { const w = f64(v); w.buffer = (w.buffer as Float64Array).map(Math.abs); return w; };

  it('im2col (exact) and col2im (sums) at odd offsets, one dispatch and no buffer each', async () => {
    const x = viewOf(d, [N, C, H, W], () => -4 + 8 * r(), { offset: 1 });
    const cols = makeView(d, [N, C * 6, Ho * Wo], { offset: 3 }), want = makeView(d, [N, C * 6, Ho * Wo], { offset: 3 });
    cpuKernels.im2col(x, g, want);
    const gx = toGPU(rt, x), gc = toGPU(rt, cols);
    expect(counted(() => gk.im2col(gx, g, gc)), 'im2col').toEqual({ dispatches: 1, buffers: 0 });
    expect(Array.from(await readView(rt, gc, cols)), 'im2col').toEqual(Array.from(want.buffer));
    const c = viewOf(d, [N, C * 6, Ho * Wo], () => -2 + 4 * r(), { offset: 1 });
    const dx = makeView(d, [N, C, H, W], { offset: 1 }), ref = makeView('float64', [N, C, H, W]), scale = makeView('float64', [N, C, H, W]);
    cpuKernels.col2im(f64(c), g, ref);
    cpuKernels.col2im(absView(c), g, scale);
    const gcc = toGPU(rt, c), gdx = toGPU(rt, dx);
    expect(counted(() => gk.col2im(gcc, g, gdx)), 'col2im').toEqual({ dispatches: 1, buffers: 0 });
    expectWithinEps(await values(gdx, dx), Array.from(readAll(ref)), d, FACTOR.reduction(d, 'float32', 6), 'col2im', Array.from(readAll(scale)));
    releaseAll(rt, gx, gc, gcc, gdx);
  });

  it('pool2d max (exact, with argmax) and avg, and their backwards', async () => {
    const x = viewOf(d, [N, C, H, W], () => Math.round(-8 + 16 * r()) / 4, { offset: 1 }); // ties exercise the first-maximum rule
    for (const op of ['max', 'avg'] as const) {
      const out = makeView(d, [N, C, Ho, Wo], { offset: 1 }), arg = makeView('int32', [N, C, Ho, Wo]);
      const ref = makeView('float64', [N, C, Ho, Wo]), refArg = makeView('int32', [N, C, Ho, Wo]);
      cpuKernels.pool2d(op, f64(x), g, ref, op === 'max' ? refArg : null);
      const gx = toGPU(rt, x), go = toGPU(rt, out), ga = toGPU(rt, arg);
      expect(counted(() => gk.pool2d(op, gx, g, go, op === 'max' ? ga : null)), `pool2d ${op}`).toEqual({ dispatches: 1, buffers: 0 });
      const scale = makeView('float64', [N, C, Ho, Wo]);
      cpuKernels.pool2d('avg', absView(x), g, scale, null);
      expectWithinEps(await values(go, out), Array.from(readAll(ref)), d, FACTOR.reduction(d, 'float32', 6), `pool2d ${op}`,
        op === 'avg' ? Array.from(readAll(scale)) : undefined);
      if (op === 'max') expect(Array.from(await readView(rt, ga, arg)), 'argmax').toEqual(Array.from(refArg.buffer));
      // backward from a 16-bit dy into a 16-bit dx
      const dy = viewOf(d, [N, C, Ho, Wo], () => -2 + 4 * r(), { offset: 3 });
      const dx = makeView(d, [N, C, H, W], { offset: 1 }), dref = makeView('float64', [N, C, H, W]), dscale = makeView('float64', [N, C, H, W]);
      cpuKernels.pool2dBackward(op, f64(dy), op === 'max' ? refArg : null, g, dref);
      cpuKernels.pool2dBackward(op, absView(dy), op === 'max' ? refArg : null, g, dscale);
      const gdy = toGPU(rt, dy), gdx = toGPU(rt, dx);
      expect(counted(() => gk.pool2dBackward(op, gdy, op === 'max' ? ga : null, g, gdx)), `pool2dBackward ${op}`).toEqual({ dispatches: 1, buffers: 0 });
      expectWithinEps(await values(gdx, dx), Array.from(readAll(dref)), d, FACTOR.reduction(d, 'float32', 6), `pool2dBackward ${op}`, Array.from(readAll(dscale)));
      releaseAll(rt, gx, go, ga, gdy, gdx);
    }
  });
});

describe.each(HALF)('webgpu quantized matmuls with %s x, bias, dy and out (f32 accumulation, one rounding on store)', (d) => {
  const r = rng(33);
  /** A GPU view of a whole int32 or float32 array. */
  const gpuArray = (a: Int32Array | Float32Array): View<GPUBuffer> => {
    const buffer = rt.allocate(a.byteLength);
    rt.write(buffer, a);
    return { buffer, dtype: a instanceof Int32Array ? 'int32' : 'float32', shape: [a.length], strides: [1], offset: 0 };
  };
  const weightView = (q: QuantizedWeight): QuantWeightView<GPUBuffer> => ({
    scheme: q.scheme, rows: q.rows, cols: q.cols, groupSize: q.groupSize, absmaxOffset: q.absmaxOffset,
    qdata: gpuArray(q.qdata), scales: gpuArray(q.scales), zeros: q.zeros && gpuArray(q.zeros), absmaxQ: q.absmaxQ && gpuArray(q.absmaxQ),
  });
  const CONFIGS: QuantizeOptions[] = [{ scheme: 'int8' }, { scheme: 'int4', groupSize: 32 }, { scheme: 'nf4' }];

  it('quantMatmul (with a bias) and quantMatmulTransposed against dequantize-then-matmul in float64, one dispatch and no buffer', async () => {
    const [M, K, N] = [3, 70, 9];
    for (const c of CONFIGS) {
      const what = `${c.scheme}`;
      const q = quantizeWeight(Array.from({ length: N * K }, () => -0.5 + r()), N, K, c);
      const w = Array.from(dequantizeWeight(q));
      const gw = weightView(q);
      const x = viewOf(d, [M, K], () => -2 + 4 * r(), { offset: 1 }), bias = viewOf(d, [N], () => -1 + 2 * r(), { offset: 1 });
      const out = makeView(d, [M, N], { offset: 3 });
      const X = Array.from(readAll(x)), Bv = Array.from(readAll(bias));
      const ref: number[] = [], scale: number[] = [];
      for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
        let s = Bv[n]!, a = Math.abs(Bv[n]!);
        for (let k = 0; k < K; k++) { s += X[m * K + k]! * w[n * K + k]!; a += Math.abs(X[m * K + k]! * w[n * K + k]!); }
        ref.push(s); scale.push(a);
      }
      const g = [x, bias, out].map((v) => toGPU(rt, v));
      expect(counted(() => gk.quantMatmul!(g[0]!, gw, g[1]!, g[2]!)), `${what} forward`).toEqual({ dispatches: 1, buffers: 0 });
      expectWithinEps(await values(g[2]!, out), ref, d, FACTOR.matmul(d, 'float32', K + 1), `${what} quantMatmul`, scale);

      const dy = viewOf(d, [M, N], () => -1 + 2 * r(), { offset: 1 }), dx = makeView(d, [M, K], { offset: 1 });
      const DY = Array.from(readAll(dy));
      const tref: number[] = [], tscale: number[] = [];
      for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) {
        let s = 0, a = 0;
        for (let n = 0; n < N; n++) { s += DY[m * N + n]! * w[n * K + k]!; a += Math.abs(DY[m * N + n]! * w[n * K + k]!); }
        tref.push(s); tscale.push(a);
      }
      const h = [dy, dx].map((v) => toGPU(rt, v));
      expect(counted(() => gk.quantMatmulTransposed!(h[0]!, gw, h[1]!)), `${what} transposed`).toEqual({ dispatches: 1, buffers: 0 });
      expectWithinEps(await values(h[1]!, dx), tref, d, FACTOR.matmul(d, 'float32', N), `${what} quantMatmulTransposed`, tscale);
      releaseAll(rt, ...g, ...h, gw.qdata, gw.scales, ...(gw.zeros ? [gw.zeros] : []), ...(gw.absmaxQ ? [gw.absmaxQ] : []));
    }
  });
});
