// The matmul family of the fast cpu tier: float32 C = A·B with the WebAssembly sgemm
// (matmul_program.ts), multi-threaded by blocks of C.
//
// Scope: a, b, out float32 and out's rows unit-stride. Each operand matrix may be row-major,
// transposed (column-major) or any strided view (packing reads any layout); batch dims may
// broadcast (stride 0: the shared matrix is copied once); a batch of x·W with one shared W folds
// into one taller product. float16/bfloat16 operands (any mix with float32) are decoded once into
// float32 heap arrays, multiplied by the same sgemm (float32 accumulation, the 16-bit matmul
// contract) and the result encoded to out's dtype, rounding to nearest even (`matmulHalf`).
// float64 and other layouts take the reference.
//
// `sgemmBatched` / `runSgemm` are also the products inside attention (attention.ts).

import { contiguousStrides, isContiguous, forEachIndex, forEachRow, numel, sharesMemory } from '../geometry.js';
import type { TypedArray, View } from '../types.js';
import { isF32 } from '../wasm/operands.js';
import { decodeRun, encodeRun } from './half_arrays.js';
import { wasmRuntime, type WasmRuntime } from '../wasm/runtime.js';
import { FAST_CPU_CONFIG, splitRange, threadsFor } from '../wasm/schedule.js';
import { fill } from './copy.js';
import { MR, NR, SGEMM_SCRATCH_BYTES } from './matmul_program.js';

type V = View<TypedArray>;

/**
 * Copies the rows×cols matrix at src[off + i·rs + j·cs] into scratch at byte address `dst`,
 * keeping a row-major or column-major layout when it has one (then it is one memcpy), and returns
 * the byte strides [row, col] of the copy.
 */
function copyMatrix(heap: Float32Array, dst: number, src: Float32Array, off: number, rows: number, cols: number,
  rs: number, cs: number): [number, number] {
  const d = dst >> 2;
  const n = rows * cols;
  if ((cols === 1 || cs === 1) && (rows === 1 || rs === cols)) {
    heap.set(src.subarray(off, off + n), d);
    return [cols * 4, 4];
  }
  if ((rows === 1 || rs === 1) && (cols === 1 || cs === rows)) {
    heap.set(src.subarray(off, off + n), d);
    return [4, rows * 4];
  }
  if (cs === 1) {
    for (let i = 0; i < rows; i++) heap.set(src.subarray(off + i * rs, off + i * rs + cols), d + i * cols);
    return [cols * 4, 4];
  }
  if (rs === 1) {
    for (let j = 0; j < cols; j++) heap.set(src.subarray(off + j * cs, off + j * cs + rows), d + j * rows);
    return [4, rows * 4];
  }
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) heap[d + i * cols + j] = src[off + i * rs + j * cs]!;
  return [cols * 4, 4];
}

/** Buffer offsets of each batch matrix of a view (row-major over the batch dims). */
function batchOffsets(v: V, batchShape: readonly number[]): number[] {
  const offs: number[] = [];
  forEachIndex(batchShape, (bi) => {
    let o = v.offset;
    for (let d = 0; d < bi.length; d++) o += bi[d]! * v.strides[d]!;
    offs.push(o);
  });
  if (batchShape.length === 0) offs.push(v.offset);
  return offs;
}

/**
 * True when every batch shares one B matrix and the batch matrices of A and of C follow each other
 * as row blocks: batch i starts M·(row stride) elements after batch i - 1 in both.
 */
function foldsIntoRows(offA: number[], offB: number[], offO: number[], M: number, saM: number, soM: number): boolean {
  for (let i = 1; i < offA.length; i++) {
    if (offB[i] !== offB[0] || offA[i] !== offA[0]! + i * M * saM || offO[i] !== offO[0]! + i * M * soM) return false;
  }
  return true;
}

/**
 * nb products C_i = A_i·B_i on operands in the WebAssembly memory: A_i (M×K) at aAt(i) with byte strides
 * rsa/csa, B_i (K×N) at bAt(i) with rsb/csb, C_i written row-major at cAt(i) with row stride ldc
 * bytes. Allocates each thread's packing scratch and forks the threads.
 *
 * Partition: C is cut into blocks — each matrix into p parts along its larger dimension, at
 * multiples of the micro-tile, about one block per thread — and the threads take blocks from a
 * shared queue (threads.ts), so a thread that is held up takes fewer. One block per thread rather
 * than several: every block packs the whole of the operand it shares with the others (A for
 * column blocks, B for row blocks), and on the products of a small MLP step ([128, 784]·[784, 256]
 * and the like) four blocks per thread spent 7% more time than one, repacking. Every
 * element of C is computed by one sgemm call with the same summation order whatever the blocks
 * and whoever runs them, so results are identical for every thread count.
 */
export function sgemmBatched(rt: WasmRuntime, nb: number, aAt: (i: number) => number, rsa: number, csa: number,
  bAt: (i: number) => number, rsb: number, csb: number, cAt: (i: number) => number, ldc: number, M: number, N: number, K: number): void {
  const threads = threadsFor(rt, M * N * K * nb, FAST_CPU_CONFIG.matmulParallelMin);
  const alongN = N >= M;
  const [len, tile] = alongN ? [N, NR] : [M, MR];
  const p = threads === 1 ? 1 : Math.max(1, Math.min(Math.ceil(threads / nb), Math.floor(len / (4 * tile))));
  const parts = splitRange(len, p, tile);
  const calls: number[] = [];
  for (let bi = 0; bi < nb; bi++) {
    const ap = aAt(bi), bp = bAt(bi), cp = cAt(bi);
    for (const [lo, hi] of parts) {
      if (hi <= lo) continue;
      const [m0, m1, n0, n1] = alongN ? [0, M, lo, hi] : [lo, hi, 0, N];
      calls.push(ap + m0 * rsa, rsa, csa, bp + n0 * csb, rsb, csb, cp + m0 * ldc + n0 * 4, ldc, m1 - m0, n1 - n0, K);
    }
  }
  runSgemm(rt, calls, threads);
}

/** Runs sgemm calls (11 arguments each) from the shared queue, each thread with its packing scratch. */
export function runSgemm(rt: WasmRuntime, calls: number[], threads: number): void {
  const scratch = rt.alloc(threads * SGEMM_SCRATCH_BYTES);
  const tails = Array.from({ length: threads }, (_, t) => scratch + t * SGEMM_SCRATCH_BYTES);
  rt.parallelShared('sgemm', 11, calls, threads, tails);
}

type Half = View<Uint16Array> & { dtype: 'float16' | 'bfloat16' };
const isHalf = (v: V): v is Half => (v.dtype === 'float16' || v.dtype === 'bfloat16') && v.buffer instanceof Uint16Array;

/** A float32 array of n elements in the heap (where memory is shared), else an ordinary one, and its release. */
function f32Array(rt: WasmRuntime, n: number): { arr: Float32Array; free: () => void } {
  const arr = rt.tensorArray(n);
  return arr ? { arr, free: () => rt.freeTensorArray(arr) } : { arr: new Float32Array(n), free: () => {} };
}

/**
 * A float32 copy of a 16-bit view: each element decoded once. Broadcast dims (stride 0) stay
 * broadcast (size 1 in the copy, stride 0 in the returned view), so a shared matrix is decoded once.
 */
function decodedView(rt: WasmRuntime, v: Half): { view: V; free: () => void } {
  const kept = v.shape.map((n, d) => (v.strides[d] === 0 ? 1 : n));
  const dense = contiguousStrides(kept);
  const { arr, free } = f32Array(rt, Math.max(1, numel(kept)));
  forEachRow(kept, [v, { shape: kept, strides: dense, offset: 0 }], (offs, n, inner) =>
    decodeRun(v.dtype, n, { arr: v.buffer, off: offs[0]!, stride: inner[0]! }, { arr, off: offs[1]!, stride: inner[1]! }));
  const strides = dense.map((s, d) => (v.strides[d] === 0 ? 0 : s));
  return { view: { buffer: arr, dtype: 'float32', shape: v.shape, strides, offset: 0 }, free };
}

/** matmul with float16/bfloat16 among a, b, out (the others float32): see the file header. */
function matmulHalf(a: V, b: V, out: V): boolean {
  const rt = wasmRuntime();
  const frees: (() => void)[] = [];
  const f32Of = (v: V): V => {
    if (!isHalf(v)) return v;
    const d = decodedView(rt, v);
    frees.push(d.free);
    return d.view;
  };
  try {
    const a32 = f32Of(a), b32 = f32Of(b);
    if (!isHalf(out)) return matmul(a32, b32, out);
    const { arr, free } = f32Array(rt, Math.max(1, numel(out.shape)));
    frees.push(free);
    const dense = contiguousStrides(out.shape);
    matmul(a32, b32, { buffer: arr, dtype: 'float32', shape: out.shape, strides: dense, offset: 0 });
    forEachRow(out.shape, [{ shape: out.shape, strides: dense, offset: 0 }, out], (offs, n, inner) =>
      encodeRun(out.dtype, n, { arr, off: offs[0]!, stride: inner[0]! }, { arr: out.buffer, off: offs[1]!, stride: inner[1]! }));
    return true;
  } finally {
    for (const f of frees) f();
  }
}

export function matmul(a: V, b: V, out: V): boolean {
  if (!isF32(a) || !isF32(b) || !isF32(out)) {
    const ok = (v: V): boolean => isF32(v) || isHalf(v);
    return ok(a) && ok(b) && ok(out) && matmulHalf(a, b, out);
  }
  const r = out.shape.length;
  const M = out.shape[r - 2]!, N = out.shape[r - 1]!, K = a.shape[r - 1]!;
  if (N > 1 && out.strides[r - 1] !== 1) return false;
  if (M === 0 || N === 0) return true;
  if (K === 0) return fill(out, 0);
  const batchShape = out.shape.slice(0, r - 2);
  const nb = numel(batchShape);
  if (nb === 0) return true;
  const offA = batchOffsets(a, batchShape), offB = batchOffsets(b, batchShape), offO = batchOffsets(out, batchShape);
  if (nb > 1 && foldsIntoRows(offA, offB, offO, M, a.strides[r - 2]!, out.strides[r - 2]!)) {
    // x·W with W shared by the whole batch (a linear layer on [B, T, C]): the batch matrices of A and
    // C are consecutive row blocks, so this is one [nb·M, K]·[K, N] product — B is copied and packed
    // once instead of nb times, and threads split the taller C. Each element's summation order is
    // that of the per-batch product (it does not depend on how C is partitioned), so results match.
    const v2 = (v: V, off: number, rows: number, cols: number): V =>
      ({ ...v, shape: [rows, cols], strides: [v.strides[r - 2]!, v.strides[r - 1]!], offset: off });
    return matmul(v2(a, offA[0]!, nb * M, K), v2(b, offB[0]!, K, N), v2(out, offO[0]!, nb * M, N));
  }
  const rt = wasmRuntime();
  rt.reset();

  // Operands in the memory are read in place, through their own strides (packing handles any
  // layout); others are copied in, one copy per distinct matrix (broadcast batches share one).
  const [saM, saK] = [a.strides[r - 2]!, a.strides[r - 1]!];
  const [sbK, sbN] = [b.strides[r - 2]!, b.strides[r - 1]!];
  const place = (v: V, offs: number[], rows: number, cols: number, rs: number, cs: number): { at: Map<number, number>; rs: number; cs: number } => {
    const base = rt.addressOf(v.buffer);
    const at = new Map<number, number>();
    if (base >= 0) {
      for (const o of offs) at.set(o, base + o * 4);
      return { at, rs: rs * 4, cs: cs * 4 };
    }
    for (const o of offs) if (!at.has(o)) at.set(o, rt.alloc(rows * cols * 4));
    let l: [number, number] = [cols * 4, 4];
    const heap = rt.f32();
    for (const [o, p] of at) l = copyMatrix(heap, p, v.buffer as Float32Array, o, rows, cols, rs, cs);
    return { at, rs: l[0], cs: l[1] };
  };
  const A = place(a, offA, M, K, saM, saK);
  const B = place(b, offB, K, N, sbK, sbN);

  // C in place when out lives in the memory and shares no bytes with A or B; else scratch.
  const soM = out.strides[r - 2]!;
  const outBase = rt.addressOf(out.buffer);
  const direct = outBase >= 0 && !sharesMemory(out, a) && !sharesMemory(out, b);
  const c = direct ? 0 : rt.alloc(nb * M * N * 4);
  const cAt = direct ? (bi: number) => outBase + offO[bi]! * 4 : (bi: number) => c + bi * M * N * 4;
  sgemmBatched(rt, nb, (bi) => A.at.get(offA[bi]!)!, A.rs, A.cs, (bi) => B.at.get(offB[bi]!)!, B.rs, B.cs, cAt, direct ? soM * 4 : N * 4, M, N, K);
  if (direct) return true;

  // Copy C out.
  const res = rt.f32();
  if (isContiguous(out)) {
    out.buffer.set(res.subarray(c >> 2, (c >> 2) + nb * M * N), out.offset);
  } else {
    for (let bi = 0; bi < nb; bi++) {
      const src = (c >> 2) + bi * M * N;
      if (M === 1 || soM === N) out.buffer.set(res.subarray(src, src + M * N), offO[bi]!);
      else for (let i = 0; i < M; i++) out.buffer.set(res.subarray(src + i * N, src + (i + 1) * N), offO[bi]! + i * soM);
    }
  }
  return true;
}
