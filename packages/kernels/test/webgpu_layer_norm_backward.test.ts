// The WebGPU layerNorm backward (dx, dweight, dbias) against the CPU reference, on shapes that reach
// each of its tilings (layer_norm.ts): one dispatch (every row in one workgroup's pass), column
// terms in registers (rows of at most 4·TPR) and in a partial row per segment (longer rows, a forced
// TPR), blocks of several passes (a lowered partial limit), more than 65,535 stage-1 workgroups (a
// folded dispatch); 1 row, 1 column, odd sizes, row counts that are not a multiple of the rows per
// workgroup; with and without weight, dweight or dbias alone, neither; element offsets, strided
// inputs, dx written over dy; and the dispatches one call issues.
//
// Tolerances: f32 arithmetic against the reference's float64. dx as in webgpu_rows.test.ts; dweight
// and dbias within 1e-5 of the column's Σ|dy·x̂| or Σ|dy| (the sums are blocked: no term's rounding
// error is carried through more than a few hundred additions).
import { afterEach, describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import type { DType, TypedArray, View } from '../src/types.js';
import { createWebGPUKernels, WebGPUDTypeError } from '../src/webgpu/index.js';
import { setLayerNormPartialLimit } from '../src/webgpu/layer_norm.js';
import { ROW_WG, rowThreads, setRowThreads } from '../src/webgpu/softmax.js';
import { expectClose, gpuRuntime, makeView, readView, releaseAll, rng, toGPU, type Layout } from './gpu_helpers.js';

const rt = await gpuRuntime();
const gk = createWebGPUKernels(rt);

afterEach(() => {
  setRowThreads(null);
  setLayerNormPartialLimit(null);
});

interface Case {
  rows: number;
  D: number;
  /** weight present (default true) */
  weight?: boolean;
  /** dweight / dbias wanted (default true) */
  dw?: boolean;
  db?: boolean;
  /** layout of x and dy (a permuted one is strided) */
  layout?: Layout;
  /** dx written over dy's elements */
  inPlace?: boolean;
}

function rand(shape: number[], r: () => number, lo: number, hi: number, layout: Layout = {}): View<TypedArray> {
  return makeView('float32', shape, layout, () => lo + (hi - lo) * r());
}

/** Σ over rows of |a_rc| per column c of a row-major [rows, D] list. */
function columnAbsSums(a: number[], D: number): number[] {
  const out = new Array<number>(D).fill(0);
  a.forEach((v, i) => { out[i % D] += Math.abs(v); });
  return out;
}

/** Element values of a view in row-major order of its shape. */
function logical(v: View<TypedArray>): number[] {
  const [R, D] = v.shape.length === 2 ? v.shape as [number, number] : [1, v.shape[0]!];
  const [sr, sc] = v.shape.length === 2 ? v.strides as [number, number] : [0, v.strides[0]!];
  const out: number[] = [];
  for (let r = 0; r < R; r++) for (let c = 0; c < D; c++) out.push(v.buffer[v.offset + r * sr + c * sc]!);
  return out;
}

/** Runs one backward on both devices, checks dx, dweight, dbias; returns the dispatches the WebGPU call issued. */
async function check(c: Case, seed: number): Promise<number> {
  const { rows: R, D } = c;
  const hasW = c.weight ?? true, wantW = c.dw ?? true, wantB = c.db ?? true;
  const what = `layerNormBackward [${R}, ${D}] weight=${hasW} dw=${wantW} db=${wantB}${c.layout ? ` layout=${JSON.stringify(c.layout)}` : ''}` +
    `${c.inPlace ? ' in place' : ''} tpr=${rowThreads(D)}`;
  const r = rng(seed);
  // A large common offset (mean 50) makes x̂ depend on the saved mean to many digits.
  const x = rand([R, D], r, 47, 53, c.layout ?? { offset: 3 });
  const w = hasW ? rand([D], r, 0.5, 1.5, { offset: 1 }) : null;
  const mean = makeView('float32', [R], { offset: 1 }), rstd = makeView('float32', [R], { offset: 2 });
  cpuKernels.layerNorm(x, w, null, 1e-5, makeView('float32', [R, D]), mean, rstd);
  const dy = rand([R, D], r, -1, 1, c.layout ?? { offset: 5 });
  const dx = c.inPlace ? makeView('float32', [R, D], c.layout ?? { offset: 5 }) : makeView('float32', [R, D], { offset: 2 });
  // garbage that must be overwritten
  const dw = rand([D], r, 3, 4, { offset: 1 }), db = rand([D], r, 3, 4, { offset: 3 });
  cpuKernels.layerNormBackward(x, w, mean, rstd, dy, dx, wantW ? dw : null, wantB ? db : null);

  const [gx, gmean, grstd, gdy] = [x, mean, rstd, dy].map((v) => toGPU(rt, v));
  const gw = w ? toGPU(rt, w) : null;
  const gdx = c.inPlace ? { ...gdy!, dtype: dx.dtype } : toGPU(rt, dx);
  const gdw = toGPU(rt, dw), gdb = toGPU(rt, db);
  const before = rt.stats().dispatches;
  gk.layerNormBackward(gx!, gw, gmean!, grstd!, gdy!, gdx, wantW ? gdw : null, wantB ? gdb : null);
  const dispatches = rt.stats().dispatches - before;

  const got = await readView(rt, gdx, dx);
  expectClose(logical({ ...dx, buffer: got }), logical(dx), 1e-3, D === 1 ? 1 : 1e-4, `${what} dx`);
  const X = logical(x), G = logical(dy), M = Array.from(mean.buffer), S = Array.from(rstd.buffer);
  const xh = X.map((v, i) => (v - M[1 + Math.floor(i / D)]!) * S[2 + Math.floor(i / D)]!);
  for (const [want, gpu, cpu, terms, name] of [
    [wantW, gdw, dw, G.map((g, i) => g * xh[i]!), 'dweight'],
    [wantB, gdb, db, G, 'dbias'],
  ] as const) {
    const got = await readView(rt, gpu, cpu);
    if (!want) {
      expect(Array.from(got), `${what}: ${name} not wanted, left as it was`).toEqual(Array.from(cpu.buffer));
      continue;
    }
    const scale = columnAbsSums(terms, D);
    for (let k = 0; k < D; k++) {
      const i = cpu.offset + k, err = Math.abs(got[i]! - cpu.buffer[i]!);
      if (!(err <= 1e-5 * scale[k]! + 1e-6)) throw new Error(`${what} ${name}[${k}]: got ${got[i]}, want ${cpu.buffer[i]} (Σ|terms| ${scale[k]})`);
    }
    expect(got[cpu.offset - 1], `${what}: the element before ${name}`).toBe(cpu.buffer[cpu.offset - 1]);
  }
  releaseAll(rt, gx, gmean, grstd, gdy, gw, c.inPlace ? null : gdx, gdw, gdb);
  return dispatches;
}

describe('webgpu layerNorm backward', () => {
  it('awkward shapes: 1 row, 1 column, odd sizes, rows not a multiple of the rows per workgroup, rows longer than a workgroup', async () => {
    let seed = 1;
    const shapes: [number, number][] = [[1, 1], [1, 128], [300, 1], [7, 13], [33, 5], [21, 128], [9, 128], [5, 1000], [3, 1100], [1, 2049], [17, 4099],
      [8200, 64], [520, 1100]]; // the last two: four rows per segment with partial sums (registers, then a partial row per segment)
    for (const [rows, D] of shapes) await check({ rows, D }, seed++);
  });

  it('with and without weight; dweight alone, dbias alone, neither', async () => {
    let seed = 100;
    for (const [rows, D] of [[3, 7], [70, 33], [4, 1500]] as const) {
      for (const opts of [{ weight: false }, { dw: false }, { db: false }, { dw: false, db: false }, { weight: false, dw: false }]) {
        await check({ rows, D, ...opts }, seed++);
      }
    }
  });

  it('strided x and dy, and dx written over dy', async () => {
    let seed = 200;
    for (const [rows, D] of [[5, 9], [40, 64], [3, 1100]] as const) {
      await check({ rows, D, layout: { perm: [1, 0], offset: 2 } }, seed++);
      await check({ rows, D, layout: { pad: 3, offset: 1 } }, seed++);
      await check({ rows, D, inPlace: true }, seed++);
    }
  });

  it('a forced TPR: one thread per row (a partial row per segment) and a whole workgroup per short row (registers)', async () => {
    let seed = 300;
    for (const [tpr, rows, D] of [[1, 300, 30], [1, 3, 1000], [4, 600, 40], [256, 5, 7], [256, 70, 1024], [64, 9, 200], [256, 600, 7]] as const) {
      setRowThreads(tpr);
      await check({ rows, D }, seed++);
      await check({ rows, D, weight: false, db: false }, seed++);
    }
  });

  it('blocks of several passes (a lowered partial limit), both column mappings, a partly filled last block', async () => {
    let seed = 400;
    const cases: [number | null, number, number, number][] = [
      [null, 40, 128, 2560],   // registers: 2 passes of 16 rows, blocks of 32 and 8
      [null, 21, 128, 64],     // registers: every row in one block of many passes
      [null, 5, 1100, 20000],  // a partial row per segment (S = 1): 2 passes of 2 rows, blocks of 4 and 1
      [1, 1300, 30, 61440],    // a partial row per segment (S = 256), two rows each: 3 passes of 512 rows, 276 in the third
      [256, 600, 7, 4200],     // registers, four rows per segment (S = 1): 2 passes of 4 rows
      [null, 520, 1100, 600_000], // a partial row per segment, four rows each (S = 1): 2 passes of 4 rows
    ];
    for (const [tpr, rows, D, limit] of cases) {
      setRowThreads(tpr);
      setLayerNormPartialLimit(limit);
      await check({ rows, D }, seed++);
      await check({ rows, D, dw: false }, seed++);
    }
  });

  it('more than 65,535 stage-1 workgroups (a folded dispatch)', async () => {
    setRowThreads(256); // four rows per workgroup
    await check({ rows: 262_200, D: 3 }, 500);
  });

  it('dx is bit for bit the same with and without dweight/dbias', async () => {
    const r = rng(700);
    for (const [rows, D] of [[21, 128], [8, 128], [3, 1100], [33, 5]] as const) {
      const views = [rand([rows, D], r, -2, 2), rand([D], r, 0.5, 1.5), rand([rows], r, -0.1, 0.1), rand([rows], r, 0.5, 2), rand([rows, D], r, -1, 1)];
      const [gx, gw, gmean, grstd, gdy] = views.map((v) => toGPU(rt, v));
      const dxs: number[][] = [];
      for (const grads of [true, false]) {
        const dx = makeView('float32', [rows, D]), gdx = toGPU(rt, dx);
        const gdw = toGPU(rt, makeView('float32', [D])), gdb = toGPU(rt, makeView('float32', [D]));
        gk.layerNormBackward(gx!, gw!, gmean!, grstd!, gdy!, gdx, grads ? gdw : null, grads ? gdb : null);
        dxs.push(Array.from(await readView(rt, gdx, dx)));
        releaseAll(rt, gdx, gdw, gdb);
      }
      expect(dxs[0], `[${rows}, ${D}]`).toEqual(dxs[1]);
      releaseAll(rt, gx, gw, gmean, grstd, gdy);
    }
  });

  it('one backward issues at most two dispatches, one where one workgroup pass holds every row', async () => {
    let seed = 600;
    const rowsPerPass = (D: number) => ROW_WG / rowThreads(D);
    expect(await check({ rows: 768, D: 128 }, seed++), 'GPT [768, 128]').toBe(2);
    expect(await check({ rows: rowsPerPass(128), D: 128 }, seed++), '[8, 128]: one row per segment').toBe(1);
    expect(await check({ rows: 2 * rowsPerPass(128), D: 128 }, seed++), '[16, 128]: two rows per segment').toBe(1);
    expect(await check({ rows: 4 * rowsPerPass(128), D: 128 }, seed++), '[32, 128]: four rows per segment').toBe(1);
    expect(await check({ rows: 4 * rowsPerPass(128) + 1, D: 128 }, seed++), '[33, 128]').toBe(2);
    expect(await check({ rows: 4, D: 4099 }, seed++), 'four long rows').toBe(1);
    expect(await check({ rows: 768, D: 128, dw: false, db: false }, seed++), 'dx alone').toBe(1);
    expect(await check({ rows: 5, D: 4099 }, seed++), 'long rows').toBe(2);
    expect(await check({ rows: 4100, D: 64 }, seed++), '[4100, 64]').toBe(2);
  });

  it('dweight and dbias in one buffer (as in a flat gradient buffer), on both paths', async () => {
    const r = rng(800);
    for (const [rows, D] of [[4, 7], [300, 24], [5, 1100]] as const) {
      const x = rand([rows, D], r, -2, 2), w = rand([D], r, 0.5, 1.5), dy = rand([rows, D], r, -1, 1);
      const mean = makeView('float32', [rows]), rstd = makeView('float32', [rows]);
      cpuKernels.layerNorm(x, w, null, 1e-5, makeView('float32', [rows, D]), mean, rstd);
      const dx = makeView('float32', [rows, D]), dw = makeView('float32', [D]), db = makeView('float32', [D]);
      cpuKernels.layerNormBackward(x, w, mean, rstd, dy, dx, dw, db);
      // one buffer: [1 spare, dbias (D), dweight (D), 1 spare]
      const flat = makeView('float32', [2 * D + 2], {}, () => 9);
      const [gx, gw, gmean, grstd, gdy, gflat] = [x, w, mean, rstd, dy, flat].map((v) => toGPU(rt, v));
      const gdx = toGPU(rt, dx);
      const at = (offset: number): View<GPUBuffer> => ({ buffer: gflat!.buffer, dtype: 'float32', shape: [D], strides: [1], offset });
      gk.layerNormBackward(gx!, gw!, gmean!, grstd!, gdy!, gdx, at(1 + D), at(1));
      const got = Array.from(await readView(rt, gflat!, flat));
      const what = `[${rows}, ${D}] shared buffer`;
      expectClose(got.slice(1 + D, 1 + 2 * D), Array.from(dw.buffer), 1e-4, 1e-5 * rows, `${what} dweight`);
      expectClose(got.slice(1, 1 + D), Array.from(db.buffer), 1e-4, 1e-5 * rows, `${what} dbias`);
      expect([got[0], got[2 * D + 1]], `${what}: the spare elements`).toEqual([9, 9]);
      releaseAll(rt, gx, gw, gmean, grstd, gdy, gflat, gdx);
    }
  });

  it('float64 operands raise a WebGPUDTypeError naming the op and the operand; a bad partial limit a RangeError', () => {
    const b = rt.allocate(64);
    const v = (dtype: DType, shape: number[]): View<GPUBuffer> => ({ buffer: b, dtype, shape, strides: shape.length === 2 ? [2, 1] : [1], offset: 0 });
    const f32 = (shape: number[]) => v('float32', shape);
    expect(() => gk.layerNormBackward(v('float64', [2, 2]), null, f32([2]), f32([2]), f32([2, 2]), f32([2, 2]), null, null)).toThrow(WebGPUDTypeError);
    expect(() => gk.layerNormBackward(f32([2, 2]), null, f32([2]), f32([2]), f32([2, 2]), f32([2, 2]), v('float64', [2]), null)).toThrow(/layerNormBackward.*dweight/);
    rt.release(b);
    expect(() => setLayerNormPartialLimit(0)).toThrow(RangeError);
    expect(() => setLayerNormPartialLimit(1.5)).toThrow(/setLayerNormPartialLimit/);
  });
});
