// bfloat16 on WebGPU is packed two elements per u32 word, so a view may start or end in the middle
// of a word and two threads may own the two halves of one word. These tests write into bfloat16
// views at odd offsets, of odd lengths and with strides that interleave the view with elements it
// does not cover, over buffers pre-filled with distinct sentinel bit patterns, and check the whole
// buffer: every element of the view as the cpu reference computes it, every other element with its
// sentinel bits. Paths: the elementwise vec4, contiguous (one thread per word) and strided (atomic
// stores) paths, copies between odd offsets and within one buffer, fill, matmul (every variant),
// and the softmax and layerNorm forwards.
import { describe, expect, it } from 'vitest';
import { cpuKernels, elementOffsets, readAll, storedBits } from '../src/cpu/index.js';
import type { BinaryOp, DType, TypedArray, View } from '../src/types.js';
import { createWebGPUKernels } from '../src/webgpu/index.js';
import { matmul, MATMUL_VARIANTS } from '../src/webgpu/matmul.js';
import { gpuRuntime, readView, releaseAll, rng, toGPU } from './gpu_helpers.js';
import { FACTOR, expectWithinEps } from './dtype_tolerance.js';

const rt = await gpuRuntime();
const gk = createWebGPUKernels(rt);
const r = rng(5);

/** Sentinel bits of element i of a bfloat16 buffer: distinct, finite, never a value the kernels write here. */
const sentinel = (i: number): number => 0x4400 + i;

/** A view of `shape` with `strides` and `offset` over a buffer of `length` elements of `dtype`: bfloat16 holds sentinels, other dtypes random values. */
function viewOver(dtype: DType, length: number, shape: number[], strides: number[], offset: number): View<TypedArray> {
  const v: View<TypedArray> = { buffer: dtype === 'bfloat16' ? new Uint16Array(length) : new Float32Array(length), dtype, shape, strides, offset };
  for (let i = 0; i < length; i++) v.buffer[i] = dtype === 'bfloat16' ? sentinel(i) : -4 + 8 * r();
  return v;
}

/** A contiguous bfloat16 input of `n` random values after `offset` sentinels. */
function bf16Input(n: number, offset: number, length = offset + n): View<TypedArray> {
  const v = viewOver('bfloat16', length, [n], [1], offset);
  for (let i = 0; i < n; i++) v.buffer[offset + i] = storedBits('bfloat16', -4 + 8 * r());
  return v;
}

/** Expects the GPU buffer of bfloat16 `out` to hold exactly the bits of the cpu result `want`. */
async function expectBits(gout: View<GPUBuffer>, want: View<TypedArray>, what: string): Promise<void> {
  const got = await readView(rt, gout, want);
  expect(Array.from(got).map((b) => b.toString(16)), what).toEqual(Array.from(want.buffer).map((b) => b.toString(16)));
}

/** Expects the view's elements within `factor` eps of `ref` (float64, logical order) and every other element with its sentinel. */
async function expectViewAndNeighbours(gout: View<GPUBuffer>, out: View<TypedArray>, ref: ArrayLike<number>, factor: number, what: string, scale?: ArrayLike<number>): Promise<void> {
  const got = { ...out, buffer: await readView(rt, gout, out) };
  expectWithinEps(readAll(got), ref, 'bfloat16', factor, what, scale);
  const covered = new Set(elementOffsets(out));
  const kept = Array.from(got.buffer, (b, i) => (covered.has(i) ? -1 : b));
  expect(kept, `${what}: elements outside the view`).toEqual(kept.map((b, i) => (covered.has(i) ? -1 : sentinel(i))));
}

/** Contiguous bfloat16 runs [offset, length, buffer length]: odd and even starts and ends, a single element, a run inside one word. */
const RUNS: [number, number, number][] = [[1, 5, 8], [3, 1, 6], [0, 7, 9], [2, 7, 11], [1, 1, 2], [5, 6, 12], [4, 8, 14], [1, 130, 133]];

describe('webgpu bfloat16 packed two per word: writes keep the neighbours\' bits', () => {
  it('copy float32 → bfloat16 into contiguous runs at odd offsets and of odd lengths (vec4 and one-thread-per-word paths)', async () => {
    for (const [off, n, len] of RUNS) {
      const x = viewOver('float32', n + 2, [n], [1], 2);
      const out = viewOver('bfloat16', len, [n], [1], off);
      const want = viewOver('bfloat16', len, [n], [1], off);
      cpuKernels.copy(x, want);
      const gx = toGPU(rt, x), gout = toGPU(rt, out);
      gk.copy(gx, gout);
      await expectBits(gout, want, `offset ${off}, length ${n}`);
      releaseAll(rt, gx, gout);
    }
  });

  it('copy bfloat16 → bfloat16 between odd offsets (halves change words), and within one buffer', async () => {
    for (const [inOff, outOff, n] of [[1, 2, 7], [3, 0, 5], [0, 1, 6], [4, 8, 8], [1, 1, 9], [2, 5, 1]] as const) {
      const x = bf16Input(n, inOff);
      const out = viewOver('bfloat16', outOff + n + 3, [n], [1], outOff);
      const want = viewOver('bfloat16', outOff + n + 3, [n], [1], outOff);
      cpuKernels.copy(x, want);
      const gx = toGPU(rt, x), gout = toGPU(rt, out);
      gk.copy(gx, gout);
      await expectBits(gout, want, `${n} from offset ${inOff} to ${outOff}`);
      releaseAll(rt, gx, gout);
    }
    // Overlapping views of one buffer: every element read before any is written, as on the cpu.
    const buf = bf16Input(10, 1, 12);
    const src: View<TypedArray> = { ...buf, shape: [9], offset: 1 };
    const dst: View<TypedArray> = { ...buf, shape: [9], offset: 2 };
    const want = { ...dst, buffer: buf.buffer.slice() };
    cpuKernels.copy({ ...src, buffer: want.buffer }, want);
    const g = toGPU(rt, buf);
    gk.copy({ ...g, shape: [9], offset: 1 }, { ...g, shape: [9], offset: 2 });
    await expectBits({ ...g, shape: [9], offset: 2 }, want, 'shifted by one within a buffer');
    releaseAll(rt, g);
  });

  it('strided writes (atomic stores): every other element, a transpose and padded rows, at odd offsets', async () => {
    const cases: [string, number[], number[], number, number][] = [
      ['every other element from offset 1', [37], [2], 1, 76],
      ['every other element from offset 0', [37], [2], 0, 75],
      ['a [17, 33] transpose from offset 1', [17, 33], [1, 17], 1, 563],
      ['[9, 5] rows padded to 6, offset 3', [9, 5], [6, 1], 3, 58],
      ['[3, 4, 5] with the middle dim reversed into place, offset 1', [3, 4, 5], [20, 1, 4], 1, 62],
    ];
    for (const [what, shape, strides, off, len] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = viewOver('float32', n, shape, shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1)), 0);
      const out = viewOver('bfloat16', len, shape, strides, off);
      const want = viewOver('bfloat16', len, shape, strides, off);
      cpuKernels.copy(x, want);
      const gx = toGPU(rt, x), gout = toGPU(rt, out);
      gk.copy(gx, gout);
      await expectBits(gout, want, `copy: ${what}`);
      // fill through the same view
      const wantFill = viewOver('bfloat16', len, shape, strides, off);
      cpuKernels.fill(wantFill, -1.5);
      const gfill = toGPU(rt, viewOver('bfloat16', len, shape, strides, off));
      gk.fill(gfill, -1.5);
      await expectBits(gfill, wantFill, `fill: ${what}`);
      releaseAll(rt, gx, gout, gfill);
    }
  });

  it('fill into contiguous runs at odd offsets', async () => {
    for (const [off, n, len] of RUNS) {
      const want = viewOver('bfloat16', len, [n], [1], off);
      cpuKernels.fill(want, 3.25);
      const g = toGPU(rt, viewOver('bfloat16', len, [n], [1], off));
      gk.fill(g, 3.25);
      await expectBits(g, want, `offset ${off}, length ${n}`);
      releaseAll(rt, g);
    }
  });

  it.each(['add', 'mul'] as BinaryOp[])('%s of bfloat16 runs at different parities into a run at an odd offset (exact in f32, one rounding)', async (op) => {
    for (const [offA, offB, offO, n] of [[0, 1, 1, 9], [1, 2, 3, 4], [3, 0, 1, 1], [4, 4, 4, 12], [1, 3, 5, 7]] as const) {
      const a = bf16Input(n, offA), b = bf16Input(n, offB);
      const out = viewOver('bfloat16', offO + n + 2, [n], [1], offO);
      const want = viewOver('bfloat16', offO + n + 2, [n], [1], offO);
      cpuKernels.binary(op, a, b, want);
      const ga = toGPU(rt, a), gb = toGPU(rt, b), gout = toGPU(rt, out);
      gk.binary(op, ga, gb, gout);
      await expectBits(gout, want, `${op} offsets ${offA}, ${offB} → ${offO}, length ${n}`);
      // the same op strided: out every other element
      const outS = viewOver('bfloat16', 2 * n + 1, [n], [2], 1);
      const wantS = viewOver('bfloat16', 2 * n + 1, [n], [2], 1);
      cpuKernels.binary(op, a, b, wantS);
      const goutS = toGPU(rt, outS);
      gk.binary(op, ga, gb, goutS);
      await expectBits(goutS, wantS, `${op} offsets ${offA}, ${offB} → every other element, length ${n}`);
      releaseAll(rt, ga, gb, gout, goutS);
    }
  });

  it.each([...MATMUL_VARIANTS])('matmul (%s) into every other column of a bfloat16 matrix at an odd offset', async (variant) => {
    const [M, K, N] = [7, 9, 5];
    const a = bf16Input(M * K, 1);
    const av: View<TypedArray> = { ...a, shape: [M, K], strides: [K, 1] };
    const b = bf16Input(K * N, 0);
    const bv: View<TypedArray> = { ...b, shape: [K, N], strides: [N, 1] };
    const out = viewOver('bfloat16', 1 + M * 2 * N, [M, N], [2 * N, 2], 1);
    const ref: View<TypedArray> = { buffer: new Float64Array(M * N), dtype: 'float64', shape: [M, N], strides: [N, 1], offset: 0 };
    const f64 = (v: View<TypedArray>): View<TypedArray> => ({ buffer: Float64Array.from(readAll(v)), dtype: 'float64', shape: v.shape, strides: [v.shape[1]!, 1], offset: 0 });
    cpuKernels.matmul(f64(av), f64(bv), ref);
    const abs = (v: View<TypedArray>): View<TypedArray> => { const w = f64(v); w.buffer = (w.buffer as Float64Array).map(Math.abs); return w; };
    const scale = { ...ref, buffer: new Float64Array(M * N) };
    cpuKernels.matmul(abs(av), abs(bv), scale); // Σ|a·b|, the scale of FACTOR.matmul
    const ga = toGPU(rt, av), gb = toGPU(rt, bv), gout = toGPU(rt, out);
    matmul(rt, ga, gb, gout, { variant });
    const got = { ...out, buffer: await readView(rt, gout, out) };
    expectWithinEps(readAll(got), readAll(ref), 'bfloat16', FACTOR.matmul('bfloat16', 'float32', K), variant, readAll(scale));
    const covered = new Set(elementOffsets(out));
    expect(Array.from(got.buffer).filter((_, i) => !covered.has(i))).toEqual(Array.from(got.buffer.keys()).filter((i) => !covered.has(i)).map(sentinel));
    releaseAll(rt, ga, gb, gout);
  });

  it('softmax and layerNorm write rows of odd length at odd offsets, neighbours kept', async () => {
    for (const [rows, D, off] of [[3, 7, 1], [5, 1, 3], [2, 33, 1]] as const) {
      const x = bf16Input(rows * D, 2);
      const xv: View<TypedArray> = { ...x, shape: [rows, D], strides: [D, 1] };
      const out = viewOver('bfloat16', off + rows * D + 1, [rows, D], [D, 1], off);
      const ref = { buffer: new Float64Array(rows * D), dtype: 'float64' as const, shape: [rows, D], strides: [D, 1], offset: 0 };
      const x64 = { ...ref, buffer: Float64Array.from(readAll(xv)) };
      cpuKernels.softmax(x64, ref, false);
      const gx = toGPU(rt, xv), gout = toGPU(rt, out);
      gk.softmax(gx, gout, false);
      await expectViewAndNeighbours(gout, out, readAll(ref), FACTOR.reduction('bfloat16', 'float32', D), `softmax ${rows}×${D} at ${off}`);
      // layerNorm: out, mean and rstd all bfloat16 at odd offsets
      const lo = toGPU(rt, viewOver('bfloat16', off + rows * D + 1, [rows, D], [D, 1], off));
      const mean = viewOver('bfloat16', rows + 2, [rows], [1], 1), rstd = viewOver('bfloat16', rows + 4, [rows], [1], 3);
      const gm = toGPU(rt, mean), gr = toGPU(rt, rstd);
      gk.layerNorm(gx, null, null, 1e-5, lo, gm, gr);
      const lref = { ...ref, buffer: new Float64Array(rows * D) };
      const mref = { ...ref, buffer: new Float64Array(rows), shape: [rows], strides: [1] };
      const rref = { ...mref, buffer: new Float64Array(rows) };
      cpuKernels.layerNorm(x64, null, null, 1e-5, lref, mref, rref);
      // Errors relative to the row's scale: |out| ≲ √D, |mean| ≤ 4 (inputs in [-4, 4]); rstd relative to itself.
      const f = FACTOR.reduction('bfloat16', 'float32', D);
      const unit = (n: number, v: number) => new Array<number>(n).fill(v);
      await expectViewAndNeighbours(lo, out, readAll(lref), f, `layerNorm out ${rows}×${D} at ${off}`, unit(rows * D, Math.sqrt(D)));
      await expectViewAndNeighbours(gm, mean, readAll(mref), f, `layerNorm mean ${rows}×${D}`, unit(rows, 4));
      await expectViewAndNeighbours(gr, rstd, readAll(rref), f, `layerNorm rstd ${rows}×${D}`);
      releaseAll(rt, gx, gout, lo, gm, gr);
    }
  });
});
