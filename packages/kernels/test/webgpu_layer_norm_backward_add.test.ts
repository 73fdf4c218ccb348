// The WebGPU layerNorm backward with an addend (`layerNormBackwardAdd`) against `layerNormBackward`
// followed by the `add` kernel, bit for bit: out, dx (when written), dweight and dbias. Shapes that
// reach each tiling of the backward (one dispatch, partial sums in registers and per segment, 1 row,
// odd sizes), with and without weight and dx; addends contiguous with an offset, permuted, padded,
// broadcast over the rows, r aliasing dy, out written over r; float32, float16 and bfloat16 storage,
// mixed; and the dispatches one call issues.
import { describe, expect, it } from 'vitest';
import type { DType, View } from '../src/types.js';
import { createWebGPUKernels, layerNormBackwardAdd } from '../src/webgpu/index.js';
import { gpuRuntime, makeView, readBack, releaseAll, rng, toGPU, type Layout } from './gpu_helpers.js';

const rt = await gpuRuntime();
const gk = createWebGPUKernels(rt);
// Buffer copies issued (a snapshot of an input that an output overlaps is one).
let copies = 0;
const copyBuffer = rt.copyBuffer.bind(rt);
rt.copyBuffer = (...a) => { copies++; copyBuffer(...a); };
/** The buffer copies the last fused call issued. */
let fusedCopies = 0;

/** Bytes of `n` elements of `dtype` on the GPU (bfloat16 packed two per word). */
const bytesOf = (dtype: DType, n: number): number => Math.max(4, Math.ceil((dtype === 'float32' ? 4 : 2) * n / 4) * 4);

/** A GPU view of `shape` and `layout` in `dtype`, values uniform in [lo, hi) (rounded to the dtype on the GPU). */
function gpuView(dtype: DType, shape: number[], layout: Layout, r: () => number, lo: number, hi: number): View<GPUBuffer> {
  const f = toGPU(rt, makeView('float32', shape, layout, () => lo + (hi - lo) * r()));
  if (dtype === 'float32') return f;
  const n = f.buffer.size / 4;
  const buffer = rt.allocate(bytesOf(dtype, n));
  gk.copy({ ...f, shape: [n], strides: [1], offset: 0 }, { buffer, dtype, shape: [n], strides: [1], offset: 0 });
  releaseAll(rt, f);
  return { ...f, buffer, dtype };
}

/** A contiguous GPU view [...shape] at `offset`, every element of its buffer `fill` (so untouched ones show). */
function gpuOut(dtype: DType, shape: number[], offset: number): View<GPUBuffer> {
  return gpuView(dtype, shape, { offset }, () => 0.5, 7, 7);
}

/** The bits of a buffer up to the last element of view `v` (a pooled buffer may be longer than asked for). */
async function bits(v: View<GPUBuffer>): Promise<number[]> {
  const n = v.offset + 1 + v.shape.reduce((s, d, k) => s + (d - 1) * v.strides[k]!, 0);
  const a = await readBack(rt, v.buffer, v.dtype, n);
  return Array.from(a instanceof Float32Array ? new Uint32Array(a.buffer, a.byteOffset, a.length) : a);
}

interface Case {
  rows: number;
  D: number;
  weight?: boolean;
  grads?: boolean;
  /** dx written beside out (default true) */
  dx?: boolean;
  /** storage of x/dy/weight, dx, r, out */
  dtypes?: [DType, DType, DType, DType];
  /** layout of r */
  rLayout?: Layout;
  /** r is dy's view */
  rIsDy?: boolean;
  /** out written over r, x or dy (the same view) */
  outOver?: 'r' | 'x' | 'dy';
  /** out that many elements before the input it is written over (overlapping it elsewhere) */
  shift?: number;
}

/** Runs both ways on fresh copies of the same inputs; expects the same bits; returns the fused call's dispatches. */
async function check(c: Case, seed: number): Promise<number> {
  const { rows: R, D } = c;
  const [dIn, dDx, dR, dOut] = c.dtypes ?? ['float32', 'float32', 'float32', 'float32'];
  const what = `layerNormBackwardAdd [${R}, ${D}] ${JSON.stringify(c)}`;
  const r = rng(seed);
  const x = gpuView(dIn, [R, D], { offset: 3 }, r, 47, 53);
  const w = c.weight ?? true ? gpuView(dIn, [D], { offset: 1 }, r, 0.5, 1.5) : null;
  const mean = gpuOut('float32', [R], 1), rstd = gpuOut('float32', [R], 2);
  gk.layerNorm(x, w, null, 1e-5, gpuOut(dIn, [R, D], 0), mean, rstd);
  const dy = gpuView(dIn, [R, D], { offset: 5 }, r, -1, 1);
  const rSrc = c.rIsDy ? dy : gpuView(dR, [R, D], c.rLayout ?? { offset: 2 }, r, -2, 2);
  const grads = c.grads ?? true;

  // Each run gets its own copy of the input out is written over, and its own outputs.
  const copyOf = (v: View<GPUBuffer>): View<GPUBuffer> => {
    const buffer = rt.allocate(v.buffer.size);
    rt.copyBuffer(v.buffer, buffer, v.buffer.size);
    return { ...v, buffer };
  };
  const run = async (fused: boolean): Promise<{ out: number[]; dx: number[] | null; dw: number[] | null; db: number[] | null }> => {
    const [xv, dyv] = [c.outOver === 'x' ? copyOf(x) : x, c.outOver === 'dy' ? copyOf(dy) : dy];
    const rv = c.outOver === 'r' ? copyOf(rSrc) : c.rIsDy ? dyv : rSrc;
    const over = c.outOver === undefined ? null : { r: rv, x: xv, dy: dyv }[c.outOver];
    const out = over === null ? gpuOut(dOut, [R, D], 4) : { ...over, offset: over.offset - (c.shift ?? 0) };
    const dx = fused && c.dx === false ? null : gpuOut(dDx, [R, D], 1);
    const dw = grads ? gpuOut(dIn, [D], 3) : null, db = grads ? gpuOut(dIn, [D], 2) : null;
    const c0 = copies;
    if (fused) layerNormBackwardAdd(rt, xv, w, mean, rstd, dyv, rv, out, dx, dw, db);
    else {
      gk.layerNormBackward(xv, w, mean, rstd, dyv, dx!, dw, db);
      gk.binary('add', dx!, rv, out);
    }
    if (fused) fusedCopies = copies - c0;
    const res = { out: await bits(out), dx: dx && c.dx !== false ? await bits(dx) : null, dw: dw && await bits(dw), db: db && await bits(db) };
    releaseAll(rt, out, dx, dw, db);
    return res;
  };
  const want = await run(false);
  const before = rt.stats().dispatches;
  const got = await run(true);
  const dispatches = rt.stats().dispatches - before;
  expect(got.out, `${what}: out`).toEqual(want.out);
  expect(got.dx, `${what}: dx`).toEqual(want.dx);
  expect(got.dw, `${what}: dweight`).toEqual(want.dw);
  expect(got.db, `${what}: dbias`).toEqual(want.db);
  releaseAll(rt, x, w, mean, rstd, dy, c.rIsDy ? null : rSrc);
  return dispatches;
}

describe('webgpu layerNorm backward with an addend (out = dx + r)', () => {
  it('awkward shapes, each tiling: 1 row, 1 column, odd sizes, partial sums in registers and per segment', async () => {
    let seed = 1;
    for (const [rows, D] of [[1, 1], [1, 128], [7, 13], [33, 5], [21, 128], [768, 128], [3, 1100], [5, 4099], [300, 1]] as const) {
      await check({ rows, D }, seed++);
      await check({ rows, D, dx: false }, seed++);
    }
  });

  it('without weight, without dweight/dbias, without dx', async () => {
    let seed = 100;
    for (const [rows, D] of [[3, 7], [70, 33], [4, 1500]] as const) {
      await check({ rows, D, weight: false }, seed++);
      await check({ rows, D, grads: false }, seed++);
      await check({ rows, D, grads: false, dx: false, weight: false }, seed++);
    }
  });

  it('strided, padded and broadcast addends; r aliasing dy; out written over r, x or dy', async () => {
    let seed = 200;
    for (const [rows, D] of [[5, 9], [40, 64], [3, 1100]] as const) {
      await check({ rows, D, rLayout: { perm: [1, 0], offset: 1 } }, seed++);
      await check({ rows, D, rLayout: { pad: 3, offset: 2 } }, seed++);
      await check({ rows, D, rLayout: { broadcast: [0] } }, seed++);
      await check({ rows, D, rIsDy: true, dx: false }, seed++);
      if (D > 1024) continue;   // long rows: their own pipelines, compiled slowly by software adapters
      for (const outOver of ['r', 'x', 'dy'] as const) await check({ rows, D, outOver, dx: false }, seed++);
      await check({ rows, D, outOver: 'x' }, seed++);
      await check({ rows, D, outOver: 'dy', rIsDy: true, dx: false }, seed++);
    }
  });

  it('out written over x, dy or r reads them through its own binding: no snapshot', async () => {
    let seed = 250;
    for (const dtypes of [['float32', 'float32', 'float32', 'float32'], ['bfloat16', 'bfloat16', 'bfloat16', 'bfloat16']] as [DType, DType, DType, DType][]) {
      for (const outOver of ['r', 'x', 'dy'] as const) {
        await check({ rows: 33, D: 5, dtypes, outOver, dx: false }, seed++);
        expect(fusedCopies, `${dtypes[0]} out over ${outOver}`).toBe(0);
      }
    }
  });

  it('float16 and bfloat16 storage: dx rounded to its dtype (out\'s without dx) before the add, the sum rounded to out\'s', async () => {
    let seed = 300;
    const mixes: [DType, DType, DType, DType][] = [
      ['float16', 'float16', 'float16', 'float16'], ['bfloat16', 'bfloat16', 'bfloat16', 'bfloat16'],
      ['float32', 'bfloat16', 'float32', 'float32'], ['float32', 'float16', 'bfloat16', 'float32'], ['bfloat16', 'float32', 'float16', 'bfloat16'],
    ];
    for (const dtypes of mixes) {
      for (const [rows, D] of [[1, 7], [33, 5], [21, 128], [3, 1100]] as const) {
        await check({ rows, D, dtypes }, seed++);
        // Without dx its dtype is out's: the reference's dx is out's too.
        await check({ rows, D, dtypes: [dtypes[0], dtypes[3], dtypes[2], dtypes[3]], dx: false }, seed++);
      }
    }
  });

  it('an out that overlaps an input elsewhere reads a snapshot of it', async () => {
    await check({ rows: 5, D: 9, outOver: 'x', shift: 3, dx: false }, 260);   // x at offset 3, out at 0
    expect(fusedCopies).toBe(1);
  });

  it('as many dispatches as layerNormBackward alone', async () => {
    expect(await check({ rows: 768, D: 128 }, 400), 'GPT [768, 128]').toBe(2);
    expect(await check({ rows: 768, D: 128, dx: false }, 401), 'GPT [768, 128] without dx').toBe(2);
    expect(await check({ rows: 32, D: 128 }, 402), '[32, 128]: one workgroup pass').toBe(1);
    expect(await check({ rows: 768, D: 128, grads: false }, 403), 'dx alone').toBe(1);
  });

  it('an addend or out of another shape is a RangeError naming it', () => {
    const r = rng(500);
    const x = gpuView('float32', [4, 6], {}, r, 0, 1), mean = gpuOut('float32', [4], 0), rstd = gpuOut('float32', [4], 0);
    const bad = gpuOut('float32', [4, 5], 0), ok = gpuOut('float32', [4, 6], 0);
    expect(() => layerNormBackwardAdd(rt, x, null, mean, rstd, x, bad, ok, null, null, null)).toThrow(/layerNormBackwardAdd: r has shape \[4, 5\], x has \[4, 6\]/);
    expect(() => layerNormBackwardAdd(rt, x, null, mean, rstd, x, ok, bad, null, null, null)).toThrow(RangeError);
    releaseAll(rt, x, mean, rstd, bad, ok);
  });
});
