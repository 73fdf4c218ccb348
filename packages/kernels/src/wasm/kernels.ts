// `fastCpuKernels`: the CPU `KernelSet` with WebAssembly SIMD, multi-threaded fast paths for the hot
// kernels, and the reference kernels (cpu/) for everything else.
//
// A kernel takes its fast path when the dtypes are float32 and the layouts are ones the WebAssembly
// programs address directly; otherwise it delegates to `cpuKernels`, unchanged:
// - matmul: a, b, out float32, out rows unit-stride. Each operand matrix may be row-major,
//   transposed (column-major) or any strided view (gathered); batch dims may broadcast (stride 0:
//   the shared matrix is copied once). float64 stays on the reference.
// - binary add/sub/mul/div: float32, out contiguous, each input either same-shape contiguous, a
//   scalar, or a row pattern ([R, C] rows with a row stride, the last dim contiguous or broadcast —
//   covers bias adds and per-row scales).
// - softmax / logSoftmax, layerNorm forward and backward (even row length): float32 contiguous rows.
// - adamw: float32 contiguous param/grad/m/v.
// - unary neg/abs/square/relu/sqrt/rsqrt/exp/tanh/sigmoid/silu/gelu/geluTanh/erf: float32
//   contiguous x and out (unary_program.ts); other ops and layouts take the TypeScript loops.
// - binary geluGrad/siluGrad (activation gradients): float32 contiguous same-shape operands
//   (unary_program.ts).
// - attention forward/backward: float32 q/k/v as batched WebAssembly matmuls over all (batch, head)
//   pairs at once (scores Q·Kᵀ, then P·V; backward Pᵀ·dO, dO·Vᵀ, dS·K, dSᵀ·Q) with the row softmax,
//   mask and causal cut done in between on the float32 score matrix (float64 per-row sums; without
//   an additive mask that row step is WebAssembly too, attention_program.ts).
// - reduce: float32 sums of a contiguous x over trailing or leading axes (reduce_program.ts).
// - the memory-bound rest (other unary ops, reductions and layouts, binary layouts the WebAssembly
//   program does not address, where, copy, fill, random, softmax/cross-entropy backward, layerNorm
//   backward with an odd row length, indexSelect/indexAdd): plain TypeScript loops over the
//   TypedArrays (js_kernels.ts).
// Operands that live in the runtime's WebAssembly memory — the `cpu` device's float32 tensors — are
// read and written in place; any other array is copied into scratch and results copied back (see
// `readPtr` / `writePtr`).
//
// Work is split across threads by output blocks (matmul) or rows / element ranges, decided here
// from the shapes and the thread count only; each output element is computed by exactly one thread.

import { cpuKernels } from '../cpu/index.js';
import { binaryScalarVia } from '../cpu/elementwise.js';
import { coalesce, contiguousStrides, forEachIndex, isContiguous, numel, rowsOf, sharesMemory, transposeLast } from '../geometry.js';
import type { AdamWOptions, AttentionOptions, BinaryOp, KernelSet, ReduceOp, TypedArray, UnaryOp, View } from '../types.js';
import * as js from './js_kernels.js';
import { ADAMW_PARAMS, BINARY_FAST_OPS, type BinaryFastOp } from './elementwise_program.js';
import { MR, NR, SGEMM_SCRATCH_BYTES } from './matmul_program.js';
import { wasmRuntime, type WasmRuntime } from './runtime.js';
import { GRAD_FAST_OPS, UNARY_FAST_OPS, type GradFastOp, type UnaryFastOp } from './unary_program.js';

type V = View<TypedArray>;

/**
 * When work is split across threads. Waking the workers costs ~10–50 µs, so small kernels stay on
 * the calling thread. Tests set both to 0 to push every shape through the threaded paths.
 */
export const FAST_CPU_CONFIG = {
  /** Multiply-adds below which a matmul runs on one thread (above: a thread per half of this; `threadsFor`). */
  matmulParallelMin: 1 << 20,
  /** Elements below which a memory-bound kernel runs on one thread (above: a thread per half of this). */
  elementwiseParallelMin: 1 << 17,
};

const { isF32 } = js;

/**
 * Threads for a kernel of `work` units whose threshold for going parallel is `min`: one below it;
 * above it, one per min/2 units of work, up to all of them. So a thread never gets less than half
 * the work that made threading pay, and on many cores a mid-sized kernel wakes a few workers
 * rather than every one for slivers of work (on two cores nothing changes: work ≥ min means two).
 */
function threadsFor(rt: WasmRuntime, work: number, min: number): number {
  if (work < min) return 1;
  if (min <= 0) return rt.numThreads;
  return Math.max(1, Math.min(rt.numThreads, Math.floor(work / (min / 2))));
}

/**
 * How many parts a parallel kernel cuts its work into: four per thread, so that threads take them
 * from a shared queue and one held up by the OS delays the kernel by a part, not by half of it.
 */
const partsFor = (threads: number): number => (threads > 1 ? 4 * threads : 1);

/** Splits [0, n) into `parts` ranges whose starts are multiples of `align` (some may be empty). */
function splitRange(n: number, parts: number, align: number): [number, number][] {
  const out: [number, number][] = [];
  let prev = 0;
  for (let i = 1; i <= parts; i++) {
    const end = i === parts ? n : Math.min(n, Math.round((i * n) / parts / align) * align);
    out.push([prev, Math.max(prev, end)]);
    prev = Math.max(prev, end);
  }
  return out;
}

// ---- operands in the WebAssembly memory --------------------------------------------------------
// A `cpu` tensor's float32 array normally lives in the runtime's memory (runtime.ts); then kernels
// use it in place. Arrays elsewhere (tensors made before the runtime could share memory, views
// handed in by tests) are copied into scratch and results copied back.

/** Address at which WebAssembly reads the n elements of v from v.offset: in place, or a scratch copy. */
function readPtr(rt: WasmRuntime, v: V, n: number): number {
  const base = rt.addressOf(v.buffer);
  if (base >= 0) return base + v.offset * 4;
  const p = rt.alloc(n * 4);
  rt.f32().set(v.buffer.subarray(v.offset, v.offset + n), p >> 2);
  return p;
}

/** A byte range an output must not overlap (an operand already in place in the memory). */
type Range = readonly [addr: number, bytes: number];

/**
 * Where WebAssembly writes the n contiguous elements of `out`, and `done()` to call afterwards: in
 * place when out's array lives in the memory, the view runs to the array's end (so a vector loop's
 * tail lands in the block's slack, not in the array's other elements) and out overlaps no range in
 * `avoid` — except one starting at the same address when `sameOk` (an elementwise in-place write);
 * otherwise scratch, copied into out by done().
 */
function writePtr(rt: WasmRuntime, out: V, n: number, avoid: readonly Range[] = [], sameOk = false): { addr: number; done: () => void } {
  const base = rt.addressOf(out.buffer);
  if (base >= 0 && out.offset + n === out.buffer.length) {
    const a = base + out.offset * 4, e = a + n * 4;
    if (avoid.every(([b, bytes]) => (sameOk && b === a) || b + bytes <= a || e <= b)) return { addr: a, done: () => {} };
  }
  const p = rt.alloc(n * 4);
  return { addr: p, done: () => { out.buffer.set(rt.f32().subarray(p >> 2, (p >> 2) + n), out.offset); } };
}

/** An operand updated in place (AdamW's parameter and moments): `writePtr`'s rule, plus copy-in. */
function inOutPtr(rt: WasmRuntime, v: V, n: number): { addr: number; done: () => void } {
  const w = writePtr(rt, v, n);
  if (rt.addressOf(v.buffer) < 0 || w.addr !== rt.addressOf(v.buffer) + v.offset * 4) rt.f32().set(v.buffer.subarray(v.offset, v.offset + n), w.addr >> 2);
  return w;
}

// ---- matmul ----------------------------------------------------------------------------------

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
 * multiples of the micro-tile, so that there are about four blocks per thread — and the threads
 * take blocks from a shared queue (threads.ts), so a thread that is held up takes fewer. Every
 * element of C is computed by one sgemm call with the same summation order whatever the blocks
 * and whoever runs them, so results are identical for every thread count.
 */
function sgemmBatched(rt: WasmRuntime, nb: number, aAt: (i: number) => number, rsa: number, csa: number,
  bAt: (i: number) => number, rsb: number, csb: number, cAt: (i: number) => number, ldc: number, M: number, N: number, K: number): void {
  const threads = threadsFor(rt, M * N * K * nb, FAST_CPU_CONFIG.matmulParallelMin);
  const alongN = N >= M;
  const [len, tile] = alongN ? [N, NR] : [M, MR];
  const p = threads === 1 ? 1 : Math.max(1, Math.min(Math.ceil((4 * threads) / nb), Math.floor(len / (4 * tile))));
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
function runSgemm(rt: WasmRuntime, calls: number[], threads: number): void {
  const scratch = rt.alloc(threads * SGEMM_SCRATCH_BYTES);
  const tails = Array.from({ length: threads }, (_, t) => scratch + t * SGEMM_SCRATCH_BYTES);
  rt.parallelShared('sgemm', 11, calls, threads, tails);
}

function matmul(a: V, b: V, out: V): void {
  if (!isF32(a) || !isF32(b) || !isF32(out)) return cpuKernels.matmul(a, b, out);
  const r = out.shape.length;
  const M = out.shape[r - 2]!, N = out.shape[r - 1]!, K = a.shape[r - 1]!;
  if (N > 1 && out.strides[r - 1] !== 1) return cpuKernels.matmul(a, b, out);
  if (M === 0 || N === 0) return;
  if (K === 0) return cpuKernels.fill(out, 0);
  const batchShape = out.shape.slice(0, r - 2);
  const nb = numel(batchShape);
  if (nb === 0) return;
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
  if (direct) return;

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
}

// ---- elementwise binary ----------------------------------------------------------------------

/** How a binary operand is read: `rows` rows of `n`, row stride `ro` elements, `inner` 1 or 0. */
interface RowPattern { inner: 0 | 1; ro: number }

/**
 * The operand's pattern when out's shape is split at dim `s` into [R = product of dims < s,
 * n = product of dims ≥ s]: the inner block must be contiguous (inner 1) or broadcast (inner 0),
 * and the outer dims must step by one row stride. Null when the strides are not of that form.
 */
function rowPattern(v: V, shape: readonly number[], s: number): RowPattern | null {
  const r = shape.length;
  const innerShape = shape.slice(s);
  const ics = contiguousStrides(innerShape);
  let contiguous = true, broadcast = true;
  for (let d = s; d < r; d++) {
    if (shape[d]! <= 1) continue;
    if (v.strides[d] !== ics[d - s]) contiguous = false;
    if (v.strides[d] !== 0) broadcast = false;
  }
  if (!contiguous && !broadcast) return null;
  const outer = shape.slice(0, s);
  const cs = contiguousStrides(outer);
  let ro: number | null = null;
  for (let d = 0; d < s; d++) {
    if (outer[d]! <= 1) continue;
    const st = v.strides[d]!;
    if (st % cs[d]! !== 0) return null;
    const k = st / cs[d]!;
    if (ro === null) ro = k;
    else if (ro !== k) return null;
  }
  return { inner: contiguous ? 1 : 0, ro: ro ?? 0 };
}

/** The non-WebAssembly binary path: the TypeScript loops, else the reference. */
function binarySlow(op: BinaryOp, a: V, b: V, out: V): void {
  if (!js.binary(op, a, b, out)) cpuKernels.binary(op, a, b, out);
}

function binary(op: BinaryOp, a: V, b: V, out: V): void {
  if ((GRAD_FAST_OPS as readonly string[]).includes(op)) return activationGrad(op as GradFastOp, a, b, out);
  if (!(BINARY_FAST_OPS as readonly string[]).includes(op) || !isF32(a) || !isF32(b) || !isF32(out) || !isContiguous(out)) {
    return binarySlow(op, a, b, out);
  }
  const total = numel(out.shape);
  if (total === 0) return;
  // The outermost split at which both inputs are [rows, n] patterns (s = 0: one flat row).
  const r = out.shape.length;
  let rows = 1, n = total, pa: RowPattern | null = null, pb: RowPattern | null = null;
  for (let s = 0; s < Math.max(r, 1); s++) {
    pa = rowPattern(a, out.shape, s);
    pb = rowPattern(b, out.shape, s);
    if (pa && pb) {
      n = numel(out.shape.slice(s));
      rows = total / n;
      break;
    }
  }
  if (!pa || !pb) return binarySlow(op, a, b, out);
  // Elements each input occupies in its buffer; give up on views that would copy a much larger span.
  const span = (p: RowPattern) => (rows - 1) * p.ro + (p.inner ? n : 1);
  const sa = span(pa), sb = span(pb);
  if (sa > 2 * total + 16 || sb > 2 * total + 16) return binarySlow(op, a, b, out);

  const rt = wasmRuntime();
  rt.reset();
  const ap = readPtr(rt, a, sa), bp = readPtr(rt, b, sb);
  // In place over an operand only when that operand is read with out's own layout.
  const exact = (p: RowPattern) => p.inner === 1 && (rows === 1 || p.ro === n);
  const o = writePtr(rt, out, total, [[ap, sa * 4], [bp, sb * 4]], exact(pa) && exact(pb));
  const op_ = o.addr;
  const threads = threadsFor(rt, total, FAST_CPU_CONFIG.elementwiseParallelMin);
  const parts: number[][] = [];
  if (rows === 1) {
    for (const [lo, hi] of splitRange(n, partsFor(threads), 4)) {
      parts.push(hi > lo ? [ap + lo * 4 * pa.inner, pa.inner, 0, bp + lo * 4 * pb.inner, pb.inner, 0, op_ + lo * 4, hi - lo, 1] : []);
    }
  } else {
    for (const [lo, hi] of splitRange(rows, partsFor(threads), 1)) {
      parts.push(hi > lo ? [ap + lo * pa.ro * 4, pa.inner, pa.ro * 4, bp + lo * pb.ro * 4, pb.inner, pb.ro * 4, op_ + lo * n * 4, n, hi - lo] : []);
    }
  }
  rt.parallel(`binary_${op as BinaryFastOp}`, 9, parts);
  o.done();
}

/** geluGrad / siluGrad of float32 contiguous same-shape x and g in WebAssembly; else the slow path. */
function activationGrad(op: GradFastOp, x: V, g: V, out: V): void {
  if (![x, g, out].every((v) => isF32(v) && isContiguous(v))) return binarySlow(op, x, g, out);
  const n = numel(out.shape);
  if (n === 0) return;
  const rt = wasmRuntime();
  rt.reset();
  const xp = readPtr(rt, x, n), gp = readPtr(rt, g, n);
  const o = writePtr(rt, out, n, [[xp, n * 4], [gp, n * 4]], true);
  const threads = threadsFor(rt, n, FAST_CPU_CONFIG.elementwiseParallelMin);
  rt.parallel(`grad_${op}`, 4, splitRange(n, partsFor(threads), 4).map(([lo, hi]) => (hi > lo ? [xp + lo * 4, gp + lo * 4, o.addr + lo * 4, hi - lo] : [])));
  o.done();
}

// ---- elementwise unary -----------------------------------------------------------------------

function unary(op: UnaryOp, x: V, out: V): void {
  if (!(UNARY_FAST_OPS as readonly string[]).includes(op) || !isF32(x) || !isF32(out) || !isContiguous(x) || !isContiguous(out)) {
    if (!js.unary(op, x, out)) cpuKernels.unary(op, x, out);
    return;
  }
  const n = numel(out.shape);
  if (n === 0) return;
  const rt = wasmRuntime();
  rt.reset();
  // Elementwise, so out may be x itself; any other overlap goes through scratch.
  const xp = readPtr(rt, x, n);
  const o = writePtr(rt, out, n, [[xp, n * 4]], true);
  const threads = threadsFor(rt, n, FAST_CPU_CONFIG.elementwiseParallelMin);
  const parts = splitRange(n, partsFor(threads), 4).map(([lo, hi]) => (hi > lo ? [xp + lo * 4, o.addr + lo * 4, hi - lo] : []));
  rt.parallel(`unary_${op as UnaryFastOp}`, 3, parts);
  o.done();
}

// ---- reduce --------------------------------------------------------------------------------------

/**
 * float32 sums over trailing axes (row sums) or leading axes (column sums) of a contiguous x, in
 * WebAssembly with float64 accumulators; every other reduction takes the TypeScript loops.
 */
function reduce(op: ReduceOp, x: V, axes: readonly number[], out: V): void {
  const fast = op === 'sum' && isF32(x) && isContiguous(x) && (out.dtype === 'float32' || out.dtype === 'float64') && reduceSplit(x.shape, axes);
  if (!fast) {
    if (!js.reduce(op, x, axes, out)) cpuKernels.reduce(op, x, axes, out);
    return;
  }
  const { s, trailing } = fast;
  const rows = numel(x.shape.slice(0, s)), cols = numel(x.shape.slice(s));
  const nOut = trailing ? rows : cols;
  const rt = wasmRuntime();
  rt.reset();
  const xp = readPtr(rt, x, rows * cols), op_ = rt.alloc((nOut + 2) * 8);
  const threads = threadsFor(rt, rows * cols, FAST_CPU_CONFIG.elementwiseParallelMin);
  if (trailing) {
    rt.parallel('reduce_sum_rows', 4, splitRange(rows, threads, 1).map(([lo, hi]) =>
      (hi > lo ? [xp + lo * cols * 4, op_ + lo * 8, hi - lo, cols] : [])));
  } else {
    rt.parallel('reduce_sum_cols', 6, splitRange(cols, threads, 2).map(([lo, hi]) =>
      (hi > lo ? [xp, op_, rows, cols, lo, hi] : [])));
  }
  const acc = rt.f64().subarray(op_ >> 3, (op_ >> 3) + nOut);
  const outShape = x.shape.map((d, i) => (trailing === i >= s ? 1 : d));
  js.copy({ buffer: acc, dtype: 'float64', shape: outShape, strides: contiguousStrides(outShape), offset: 0 }, out);
}

/**
 * Where the reduced axes split x's shape: {s, trailing: true} when they are exactly the dims ≥ s
 * (ignoring size-1 dims), {s, trailing: false} when they are exactly the dims < s; null otherwise
 * (including nothing or everything reduced with no split, and empty tensors).
 */
function reduceSplit(shape: readonly number[], axes: readonly number[]): { s: number; trailing: boolean } | null {
  const r = shape.length;
  if (r === 0 || numel(shape) === 0) return null;
  const red = new Array<boolean>(r).fill(false);
  for (const a of axes) red[a < 0 ? a + r : a] = true;
  const dims = [...shape.keys()].filter((d) => shape[d]! > 1);
  if (dims.length === 0) return null;
  const flags = dims.map((d) => red[d]!);
  const k = flags.indexOf(!flags[0]);
  if (k >= 0 && flags.slice(k).some((v) => v === flags[0])) return null; // more than one switch
  const s = k < 0 ? (flags[0] ? 0 : r) : dims[k]!;
  if (flags[0] && k >= 0) return { s, trailing: false };
  if (!flags[0] && k >= 0) return { s, trailing: true };
  return flags[0] ? { s: 0, trailing: true } : null; // all reduced: one row; none: leave to the loops
}

// ---- rows: softmax, layerNorm ----------------------------------------------------------------

/** Row ranges (`partsFor` the threads a rows×cols kernel uses) for a row kernel. */
function rowSplit(rt: WasmRuntime, rows: number, cols: number): [number, number][] {
  const threads = threadsFor(rt, rows * cols, FAST_CPU_CONFIG.elementwiseParallelMin);
  return splitRange(rows, Math.min(rows, partsFor(threads)), 1);
}

function softmax(x: V, out: V, log: boolean): void {
  if (!isF32(x) || !isF32(out) || !isContiguous(x) || !isContiguous(out)) return cpuKernels.softmax(x, out, log);
  const { rows, cols } = rowsOf(x.shape);
  const total = rows * cols;
  if (total === 0) return;
  const rt = wasmRuntime();
  rt.reset();
  // Each row is read in full before it is written, so out may be x itself.
  const xp = readPtr(rt, x, total);
  const o = writePtr(rt, out, total, [[xp, total * 4]], true);
  const parts = rowSplit(rt, rows, cols).map(([lo, hi]) =>
    (hi > lo ? [xp + lo * cols * 4, o.addr + lo * cols * 4, hi - lo, cols, log ? 1 : 0] : []));
  rt.parallel('softmax_rows', 5, parts);
  o.done();
}

function layerNorm(x: V, weight: V | null, bias: V | null, eps: number, out: V, mean: V, rstd: V): void {
  const ok = (v: V | null) => v === null || (isF32(v) && isContiguous(v));
  if (!isF32(x) || !isContiguous(x) || !isF32(out) || !isContiguous(out) || !ok(weight) || !ok(bias)
    || !isF32(mean) || !isContiguous(mean) || !isF32(rstd) || !isContiguous(rstd)) {
    return cpuKernels.layerNorm(x, weight, bias, eps, out, mean, rstd);
  }
  const { rows, cols: D } = rowsOf(x.shape);
  const total = rows * D;
  if (total === 0) return;
  const rt = wasmRuntime();
  rt.reset();
  const constant = (value: number) => { const p = rt.alloc(D * 4); rt.f32().fill(value, p >> 2, (p >> 2) + D); return p; };
  const xp = readPtr(rt, x, total);
  const wp = weight ? readPtr(rt, weight, D) : constant(1), bp = bias ? readPtr(rt, bias, D) : constant(0);
  // A row is reduced before it is written, so out may be x itself.
  const reads: Range[] = [[xp, total * 4], [wp, D * 4], [bp, D * 4]];
  const o = writePtr(rt, out, total, reads, true);
  const m = writePtr(rt, mean, rows, [...reads, [o.addr, total * 4]]);
  const rs = writePtr(rt, rstd, rows, [...reads, [o.addr, total * 4], [m.addr, rows * 4]]);
  const params = rt.alloc(8);
  rt.f64()[params >> 3] = eps;
  const parts = rowSplit(rt, rows, D).map(([lo, hi]) =>
    (hi > lo ? [xp + lo * D * 4, wp, bp, o.addr + lo * D * 4, m.addr + lo * 4, rs.addr + lo * 4, hi - lo, D, params] : []));
  rt.parallel('layernorm_rows', 9, parts);
  o.done();
  m.done();
  rs.done();
}

/** layerNorm backward in WebAssembly for float32 contiguous operands with an even row length. */
function layerNormBackward(x: V, weight: V | null, mean: V, rstd: V, dy: V, dx: V, dweight: V | null, dbias: V | null): void {
  const ok = (v: V | null) => v === null || (isF32(v) && isContiguous(v));
  const { rows, cols: D } = rowsOf(x.shape);
  if (![x, weight, mean, rstd, dy, dx, dweight, dbias].every(ok) || D % 2 !== 0 || rows * D === 0) {
    if (!js.layerNormBackward(x, weight, mean, rstd, dy, dx, dweight, dbias)) {
      cpuKernels.layerNormBackward(x, weight, mean, rstd, dy, dx, dweight, dbias);
    }
    return;
  }
  const rt = wasmRuntime();
  rt.reset();
  const total = rows * D;
  const xp = readPtr(rt, x, total), gp = readPtr(rt, dy, total), mp = readPtr(rt, mean, rows), rp = readPtr(rt, rstd, rows);
  const o = writePtr(rt, dx, total, [[xp, total * 4], [gp, total * 4], [mp, rows * 4], [rp, rows * 4]]);
  const op_ = o.addr;
  const wp = rt.alloc(D * 8), dwp = rt.alloc(D * 8), dbp = rt.alloc(D * 8), xhp = rt.alloc(D * 8), g2p = rt.alloc(D * 8);
  const f64 = rt.f64();
  if (weight) for (let j = 0; j < D; j++) f64[(wp >> 3) + j] = weight.buffer[weight.offset + j]!;
  else f64.fill(1, wp >> 3, (wp >> 3) + D);
  f64.fill(0, dwp >> 3, (dwp >> 3) + D);
  f64.fill(0, dbp >> 3, (dbp >> 3) + D);
  rt.call('layernorm_backward_rows', xp, gp, mp, rp, wp, op_, dwp, dbp, xhp, g2p, rows, D);
  o.done();
  const res = rt.f64();
  if (dweight) for (let j = 0; j < D; j++) dweight.buffer[dweight.offset + j] = res[(dwp >> 3) + j]!;
  if (dbias) for (let j = 0; j < D; j++) dbias.buffer[dbias.offset + j] = res[(dbp >> 3) + j]!;
}

// ---- AdamW -----------------------------------------------------------------------------------

function adamw(param: V, grad: V, m: V, v: V, opts: AdamWOptions): void {
  const views = [param, grad, m, v];
  if (!views.every((x) => isF32(x) && isContiguous(x))) return cpuKernels.adamw(param, grad, m, v, opts);
  const n = numel(param.shape);
  if (n === 0) return;
  const rt = wasmRuntime();
  rt.reset();
  // In place on param and moments; the padded element of an odd n lands in the blocks' slack.
  const [pw, mw, vw] = [param, m, v].map((x) => inOutPtr(rt, x, n)) as [{ addr: number; done: () => void }, { addr: number; done: () => void }, { addr: number; done: () => void }];
  const ptrs = [pw.addr, readPtr(rt, grad, n), mw.addr, vw.addr];
  const params = rt.alloc(ADAMW_PARAMS.length * 8);
  const { lr, beta1, beta2, eps, weightDecay, step } = opts;
  const consts: Record<(typeof ADAMW_PARAMS)[number], number> = {
    lrTimesWd: lr * weightDecay, beta1, oneMinusBeta1: 1 - beta1, beta2, oneMinusBeta2: 1 - beta2,
    bc1: 1 - Math.pow(beta1, step), bc2: 1 - Math.pow(beta2, step), lr, eps,
  };
  rt.f64().set(ADAMW_PARAMS.map((k) => consts[k]), params >> 3);
  const threads = threadsFor(rt, n, FAST_CPU_CONFIG.elementwiseParallelMin);
  const padded = n + (n & 1);
  const parts = splitRange(padded, partsFor(threads), 2).map(([lo, hi]) =>
    (hi > lo ? [...ptrs.map((p) => p + lo * 4), hi - lo, params] : []));
  rt.parallel('adamw', 6, parts);
  pw.done();
  mw.done();
  vw.done();
}

// ---- attention -------------------------------------------------------------------------------

const f32View = (buffer: Float32Array, shape: number[], strides?: number[]): View<Float32Array> =>
  ({ buffer, dtype: 'float32', shape, strides: strides ?? contiguousStrides(shape), offset: 0 });

/**
 * Turns the raw scores Q·Kᵀ in `s` ([B, H, Tq, Tk], contiguous) into probabilities in place:
 * z = scale·s + mask, -∞ past the causal diagonal, P = exp(z - lse). With `lseIn` the row's lse is
 * taken from it (backward); otherwise it is computed (max-subtracted, float64) into `lseOut`.
 * Fully masked rows (lse = -∞) get P = 0.
 */
function probabilities(s: Float32Array, B: number, H: number, Tq: number, Tk: number, mask: V | null, opts: AttentionOptions,
  lseIn: V | null, lseOut: Float64Array): void {
  const z = new Float64Array(Tk);
  const { scale, causal } = opts;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) {
    const row = ((b * H + h) * Tq + i) * Tk;
    // Keys j < lim are visible (all of them without the causal cut).
    const lim = causal ? Math.max(0, Math.min(Tk, i + (Tk - Tq) + 1)) : Tk;
    if (mask) {
      const mb = mask.buffer, ms = mask.strides, mo = mask.offset + b * ms[0]! + h * ms[1]! + i * ms[2]!, mj = ms[3]!;
      for (let j = 0; j < lim; j++) z[j] = s[row + j]! * scale + mb[mo + j * mj]!;
    } else {
      for (let j = 0; j < lim; j++) z[j] = s[row + j]! * scale;
    }
    let l: number;
    if (lseIn) {
      l = lseIn.buffer[lseIn.offset + b * lseIn.strides[0]! + h * lseIn.strides[1]! + i * lseIn.strides[2]!]!;
    } else {
      let m = -Infinity;
      for (let j = 0; j < lim; j++) if (z[j]! > m) m = z[j]!;
      if (m === -Infinity) {
        l = -Infinity;
      } else {
        let sum = 0;
        for (let j = 0; j < lim; j++) sum += Math.exp(z[j]! - m);
        l = m + Math.log(sum);
      }
      lseOut[(b * H + h) * Tq + i] = l;
    }
    if (l === -Infinity) {
      s.fill(0, row, row + Tk);
      continue;
    }
    for (let j = 0; j < lim; j++) s[row + j] = Math.exp(z[j]! - l);
    s.fill(0, row + lim, row + Tk);
  }
}

/** attn_probs over `rows` score rows at address sp (float64 lse at lp, scale at params). */
function probsAt(rt: WasmRuntime, sp: number, rows: number, Tq: number, Tk: number, causal: boolean, lp: number,
  backward: boolean, params: number): void {
  const parts = rowSplit(rt, rows, Tk).map(([lo, hi]) => (hi > lo
    ? [sp + lo * Tk * 4, hi - lo, Tk, lo % Tq, Tq, Tk - Tq + 1, causal ? 1 : 0, lp + lo * 8, backward ? 1 : 0, params] : []));
  rt.parallel('attn_probs', 10, parts);
}

/**
 * `probabilities` for attention without an additive mask, in WebAssembly (attention_program.ts):
 * the scores are copied into scratch, turned into probabilities there and copied back.
 */
function probabilitiesNoMask(s: Float32Array, B: number, H: number, Tq: number, Tk: number, opts: AttentionOptions,
  lseIn: V | null, lseOut: Float64Array): void {
  const rows = B * H * Tq;
  const rt = wasmRuntime();
  rt.reset();
  const sp = rt.alloc(rows * Tk * 4), lp = rt.alloc(rows * 8), params = rt.alloc(8);
  rt.f32().set(s, sp >> 2);
  const f64 = rt.f64();
  f64[params >> 3] = opts.scale;
  if (lseIn) {
    const lb = lseIn.buffer, ls = lseIn.strides, base = lp >> 3;
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) {
      f64[base + (b * H + h) * Tq + i] = lb[lseIn.offset + b * ls[0]! + h * ls[1]! + i * ls[2]!]!;
    }
  }
  probsAt(rt, sp, rows, Tq, Tk, opts.causal, lp, lseIn !== null, params);
  s.set(rt.f32().subarray(sp >> 2, (sp >> 2) + rows * Tk));
  if (!lseIn) lseOut.set(rt.f64().subarray(lp >> 3, (lp >> 3) + rows));
}

function attentionFast(q: V, k: V, v: V, mask: V | null, out: V): boolean {
  return q.shape.length === 4 && isF32(q) && isF32(k) && isF32(v) && isF32(out) && (mask === null || isF32(mask))
    && numel(q.shape) > 0 && numel(k.shape) > 0 && q.shape[3]! > 0 && v.shape[3]! > 0;
}

/** The lse view's element offset of row (b, h, i). */
const lseAt = (lse: V, b: number, h: number, i: number): number => lse.offset + b * lse.strides[0]! + h * lse.strides[1]! + i * lse.strides[2]!;

/**
 * The part of one row block's product that attention needs (see `attnGemm`): its first `n` columns
 * of C, from the slice [k0, k1) of the sum.
 */
interface BlockRange { n: number; k0: number; k1: number }

/**
 * nb products C_i = A_i·B_i (addresses and byte strides as in `sgemmBatched`), computed in blocks of
 * rows of C; `range(r0, r1)` says which columns of the block and which slice of the sum it needs.
 * Causal attention uses this to skip the half of every product that the causal mask makes zero:
 * a block of query rows needs only the keys its last row sees, and a block of key rows only the
 * queries that see its first key; the terms left out are exact zeros (P and dS vanish there). A
 * block whose slice is empty gets zeros. Each element's sum runs over its slice in increasing k,
 * whoever computes it, so results do not depend on the thread count.
 */
function attnGemm(rt: WasmRuntime, nb: number, aAt: (i: number) => number, rsa: number, csa: number,
  bAt: (i: number) => number, rsb: number, csb: number, cAt: (i: number) => number, ldc: number,
  M: number, N: number, K: number, rowsPerBlock: number, range: (r0: number, r1: number) => BlockRange): void {
  const threads = threadsFor(rt, M * N * K * nb, FAST_CPU_CONFIG.matmulParallelMin);
  const calls: number[] = [];
  const empty: [number, number, number][] = [];
  for (let bi = 0; bi < nb; bi++) {
    const ap = aAt(bi), bp = bAt(bi), cp = cAt(bi);
    for (let r0 = 0; r0 < M; r0 += rowsPerBlock) {
      const r1 = Math.min(M, r0 + rowsPerBlock);
      const { n, k0, k1 } = range(r0, r1);
      if (n <= 0) continue;
      if (k1 <= k0) { empty.push([cp + r0 * ldc, r1 - r0, n]); continue; }
      calls.push(ap + r0 * rsa + k0 * csa, rsa, csa, bp + k0 * rsb, rsb, csb, cp + r0 * ldc, ldc, r1 - r0, n, k1 - k0);
    }
  }
  const heap = rt.f32();
  for (const [c, rows, n] of empty) for (let r = 0; r < rows; r++) heap.fill(0, (c + r * ldc) >> 2, ((c + r * ldc) >> 2) + n);
  if (calls.length > 0) runSgemm(rt, calls, threads);
}

/**
 * The causal structure of attention with Tq queries and Tk keys: query i sees keys j < lim(i) =
 * clamp(i + Tk − Tq + 1, 0, Tk) (all Tk without the causal cut), and the block sizes and ranges for
 * `attnGemm`. Blocks are a multiple of the micro-tile height, about an eighth of the rows (at least 16).
 */
function causalPlan(Tq: number, Tk: number, causal: boolean) {
  const diag = Tk - Tq + 1;
  const lim = (i: number) => (causal ? Math.max(0, Math.min(Tk, i + diag)) : Tk);
  /** The first query that sees key j. */
  const firstQuery = (j: number) => (causal ? Math.max(0, j - diag + 1) : 0);
  const block = (rows: number) => (causal ? Math.max(16, Math.ceil(rows / 8 / MR) * MR) : rows);
  return {
    qBlock: block(Tq),
    kBlock: block(Tk),
    /** Query rows × keys (S = Q·Kᵀ, dP = dO·Vᵀ): the keys the block's last row sees. */
    keyCols: (kDim: number) => (r0: number, r1: number): BlockRange => ({ n: lim(r1 - 1), k0: 0, k1: kDim }),
    /** Query rows, summing over keys (O = P·V, dQ = dS·K). */
    overKeys: (n: number) => (r0: number, r1: number): BlockRange => ({ n, k0: 0, k1: lim(r1 - 1) }),
    /** Key rows, summing over queries (dV = Pᵀ·dO, dK = dSᵀ·Q). */
    overQueries: (n: number) => (r0: number, _r1: number): BlockRange => ({ n, k0: firstQuery(r0), k1: Tq }),
  };
}

/** attn_ds over `rows` rows: ds = P ∘ (dP − δ)·scale, in place on the dP rows at dsp. */
function dsAt(rt: WasmRuntime, pp: number, dsp: number, gp: number, op: number, rows: number, Tq: number, Tk: number,
  Dv: number, causal: boolean, params: number): void {
  const parts = rowSplit(rt, rows, Tk).map(([lo, hi]) => (hi > lo
    ? [pp + lo * Tk * 4, dsp + lo * Tk * 4, gp + lo * Dv * 4, op + lo * Dv * 4, hi - lo, Tk, Dv, lo % Tq, Tq, Tk - Tq + 1,
      causal ? 1 : 0, params] : []));
  rt.parallel('attn_ds', 12, parts);
}

/**
 * A [B, H, T, D] operand as the batched products address it: batch i = b·H + h starts at byte
 * `at(i)`, its rows `rs` bytes apart, its elements adjacent. Head views of a packed projection
 * (q, k, v inside one [B, T, 3·C] tensor; strides T·3C, D, 3C, 1) are used where they lie.
 */
interface Heads { at: (i: number) => number; rs: number }

const headsAt = (base: number, v: V, H: number): Heads => {
  const [s0, s1, s2] = v.strides as [number, number, number];
  return { at: (i) => base + (Math.floor(i / H) * s0 + (i % H) * s1) * 4, rs: s2 * 4 };
};

/** Whether `v` can be addressed as `Heads`: adjacent elements, and in the memory unless contiguous (then copied in). */
const headsOk = (rt: WasmRuntime, v: V): boolean =>
  isContiguous(v) || (rt.addressOf(v.buffer) >= 0 && (v.strides[3] === 1 || v.shape[3] === 1));

/** An input operand in place (or copied in when it lives outside the memory; contiguous then). */
function headsIn(rt: WasmRuntime, v: V, H: number): Heads {
  if (rt.addressOf(v.buffer) >= 0) return headsAt(rt.addressOf(v.buffer) + v.offset * 4, v, H);
  return headsAt(readPtr(rt, v, numel(v.shape)), { ...v, strides: contiguousStrides([...v.shape]), offset: 0 }, H);
}

/**
 * An output operand: written in place when it lives in the memory and shares no bytes with an
 * input (the products write exactly its elements), else into contiguous scratch that done() copies
 * into it (any layout; the reference copy, which leaves the scratch alone).
 */
function headsOut(rt: WasmRuntime, v: V, H: number, inputs: readonly V[]): Heads & { done: () => void } {
  if (rt.addressOf(v.buffer) >= 0 && inputs.every((x) => !sharesMemory(x, v))) {
    return { ...headsAt(rt.addressOf(v.buffer) + v.offset * 4, v, H), done: () => {} };
  }
  const n = numel(v.shape), p = rt.alloc(n * 4);
  const done = () => cpuKernels.copy(f32View(rt.f32().subarray(p >> 2, (p >> 2) + n), [...v.shape]), v);
  return { ...headsAt(p, { ...v, strides: contiguousStrides([...v.shape]) }, H), done };
}

/** `v` as contiguous rows in the memory: its own address when it is contiguous there, else a copy in scratch. */
function contiguousIn(rt: WasmRuntime, v: V): number {
  const n = numel(v.shape);
  if (isContiguous(v)) return readPtr(rt, v, n);
  const h = headsIn(rt, v, v.shape[1]!);
  const [B, H, T, D] = v.shape as [number, number, number, number];
  const dst = rt.alloc(n * 4);
  const src = h.at(0); // (b, h) = (0, 0)
  const [s0, s1] = v.strides as [number, number];
  rt.parallel('copy_f32', 14, [[src, s0 * 4, s1 * 4, h.rs, v.strides[3]! * 4, dst, H * T * D * 4, T * D * 4, D * 4, 4, B, H, T, D]]);
  return dst;
}

/**
 * Attention without a mask, every intermediate in the WebAssembly memory: S = Q·Kᵀ, the row
 * softmax and O = P·V happen there; q, k, v and out are used where they lie — contiguous or head
 * views with adjacent elements (or copied once when they live elsewhere) — and only lse is copied
 * out. With the causal cut, the products skip the masked half (`attnGemm`).
 */
function attentionInMemory(q: V, k: V, v: V, opts: AttentionOptions, out: V, lse: V): void {
  const [B, H, Tq, D] = q.shape as [number, number, number, number];
  const Tk = k.shape[2]!, Dv = v.shape[3]!, nb = B * H, rows = nb * Tq;
  const rt = wasmRuntime();
  rt.reset();
  const qh = headsIn(rt, q, H), kh = headsIn(rt, k, H), vh = headsIn(rt, v, H);
  const o = headsOut(rt, out, H, [q, k, v]);
  const sp = rt.alloc(rows * Tk * 4), lp = rt.alloc(rows * 8), params = rt.alloc(8);
  rt.f64()[params >> 3] = opts.scale;
  const plan = causalPlan(Tq, Tk, opts.causal);
  const at = (base: number, size: number) => (i: number) => base + i * size * 4;
  // S = Q·Kᵀ (Kᵀ is K read column-major), then P in place, then O = P·V.
  attnGemm(rt, nb, qh.at, qh.rs, 4, kh.at, 4, kh.rs, at(sp, Tq * Tk), Tk * 4, Tq, Tk, D, plan.qBlock, plan.keyCols(D));
  probsAt(rt, sp, rows, Tq, Tk, opts.causal, lp, false, params);
  attnGemm(rt, nb, at(sp, Tq * Tk), Tk * 4, 4, vh.at, vh.rs, 4, o.at, o.rs, Tq, Dv, Tk, plan.qBlock, plan.overKeys(Dv));
  o.done();
  const l = rt.f64(), l0 = lp >> 3;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) lse.buffer[lseAt(lse, b, h, i)] = l[l0 + (b * H + h) * Tq + i]!;
}

/** The backward of `attentionInMemory`: P recomputed, dV = Pᵀ·dO, dP = dO·Vᵀ, dS, dQ = dS·K, dK = dSᵀ·Q, all in the WebAssembly memory. */
function attentionBackwardInMemory(q: V, k: V, v: V, opts: AttentionOptions, out: V, lse: V, dout: V, dq: V, dk: V, dv: V): void {
  const [B, H, Tq, D] = q.shape as [number, number, number, number];
  const Tk = k.shape[2]!, Dv = v.shape[3]!, nb = B * H, rows = nb * Tq;
  const rt = wasmRuntime();
  rt.reset();
  const qh = headsIn(rt, q, H), kh = headsIn(rt, k, H), vh = headsIn(rt, v, H);
  // The row steps read O and dO as contiguous rows.
  const op = contiguousIn(rt, out), gp = contiguousIn(rt, dout);
  const inputs = [q, k, v, out, dout];
  const dqw = headsOut(rt, dq, H, inputs), dkw = headsOut(rt, dk, H, inputs), dvw = headsOut(rt, dv, H, inputs);
  const pp = rt.alloc(rows * Tk * 4), dsp = rt.alloc(rows * Tk * 4), lp = rt.alloc(rows * 8), params = rt.alloc(8);
  const f64 = rt.f64(), l0 = lp >> 3;
  f64[params >> 3] = opts.scale;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) f64[l0 + (b * H + h) * Tq + i] = lse.buffer[lseAt(lse, b, h, i)]!;
  const plan = causalPlan(Tq, Tk, opts.causal);
  const at = (base: number, size: number) => (i: number) => base + i * size * 4;
  attnGemm(rt, nb, qh.at, qh.rs, 4, kh.at, 4, kh.rs, at(pp, Tq * Tk), Tk * 4, Tq, Tk, D, plan.qBlock, plan.keyCols(D));
  probsAt(rt, pp, rows, Tq, Tk, opts.causal, lp, true, params);
  // dV = Pᵀ·dO (Pᵀ: P read column-major), dP = dO·Vᵀ.
  attnGemm(rt, nb, at(pp, Tq * Tk), 4, Tk * 4, at(gp, Tq * Dv), Dv * 4, 4, dvw.at, dvw.rs, Tk, Dv, Tq, plan.kBlock, plan.overQueries(Dv));
  attnGemm(rt, nb, at(gp, Tq * Dv), Dv * 4, 4, vh.at, 4, vh.rs, at(dsp, Tq * Tk), Tk * 4, Tq, Tk, Dv, plan.qBlock, plan.keyCols(Dv));
  // dS = P ∘ (dP − δ)·scale with δ_i = Σ_c dO_ic·O_ic (float64).
  dsAt(rt, pp, dsp, gp, op, rows, Tq, Tk, Dv, opts.causal, params);
  // dQ = dS·K, dK = dSᵀ·Q.
  attnGemm(rt, nb, at(dsp, Tq * Tk), Tk * 4, 4, kh.at, kh.rs, 4, dqw.at, dqw.rs, Tq, D, Tk, plan.qBlock, plan.overKeys(D));
  attnGemm(rt, nb, at(dsp, Tq * Tk), 4, Tk * 4, qh.at, qh.rs, 4, dkw.at, dkw.rs, Tk, D, Tq, plan.kBlock, plan.overQueries(D));
  dqw.done();
  dkw.done();
  dvw.done();
}

/** Whether the in-memory paths apply: no mask, and every operand addressable as `Heads`. */
const inMemory = (mask: V | null, ...vs: V[]): boolean => {
  const rt = wasmRuntime();
  return mask === null && vs.every((v) => headsOk(rt, v));
};

function attention(q: V, k: V, v: V, mask: V | null, opts: AttentionOptions, out: V, lse: V): void {
  if (!attentionFast(q, k, v, mask, out) || !(lse.dtype === 'float32' || lse.dtype === 'float64')) {
    return cpuKernels.attention(q, k, v, mask, opts, out, lse);
  }
  if (inMemory(mask, q, k, v, out)) return attentionInMemory(q, k, v, opts, out, lse);
  const [B, H, Tq] = q.shape as [number, number, number];
  const Tk = k.shape[2]!;
  const s = new Float32Array(B * H * Tq * Tk);
  matmul(q, transposeLast(k), f32View(s, [B, H, Tq, Tk]));
  const l = new Float64Array(B * H * Tq);
  if (mask) probabilities(s, B, H, Tq, Tk, mask, opts, null, l);
  else probabilitiesNoMask(s, B, H, Tq, Tk, opts, null, l);
  matmul(f32View(s, [B, H, Tq, Tk]), v, out);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) {
    lse.buffer[lse.offset + b * lse.strides[0]! + h * lse.strides[1]! + i * lse.strides[2]!] = l[(b * H + h) * Tq + i]!;
  }
}

function attentionBackward(q: V, k: V, v: V, mask: V | null, opts: AttentionOptions, out: V, lse: V, dout: V,
  dq: V, dk: V, dv: V): void {
  if (!attentionFast(q, k, v, mask, out) || !isF32(dout) || !isF32(dq) || !isF32(dk) || !isF32(dv)
    || !(lse.dtype === 'float32' || lse.dtype === 'float64')) {
    return cpuKernels.attentionBackward(q, k, v, mask, opts, out, lse, dout, dq, dk, dv);
  }
  if (inMemory(mask, q, k, v, out, dout, dq, dk, dv)) return attentionBackwardInMemory(q, k, v, opts, out, lse, dout, dq, dk, dv);
  const [B, H, Tq] = q.shape as [number, number, number];
  const Tk = k.shape[2]!, Dv = v.shape[3]!;
  const p = new Float32Array(B * H * Tq * Tk);
  matmul(q, transposeLast(k), f32View(p, [B, H, Tq, Tk]));
  if (mask) probabilities(p, B, H, Tq, Tk, mask, opts, lse, new Float64Array(0));
  else probabilitiesNoMask(p, B, H, Tq, Tk, opts, lse, new Float64Array(0));
  // dV = Pᵀ·dO, dP = dO·Vᵀ.
  matmul(f32View(p, [B, H, Tk, Tq], [H * Tq * Tk, Tq * Tk, 1, Tk]), dout, dv);
  const ds = new Float32Array(B * H * Tq * Tk);
  matmul(dout, transposeLast(v), f32View(ds, [B, H, Tq, Tk]));
  // dS = P ∘ (dP - δ)·scale with δ_i = Σ_c dO_ic·O_ic (float64).
  const ob = out.buffer, gb = dout.buffer, os = out.strides, gs = dout.strides;
  const os3 = os[3]!, gs3 = gs[3]!, scale = opts.scale;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) {
    const oo = out.offset + b * os[0]! + h * os[1]! + i * os[2]!, go = dout.offset + b * gs[0]! + h * gs[1]! + i * gs[2]!;
    let delta = 0;
    for (let c = 0; c < Dv; c++) delta += gb[go + c * gs3]! * ob[oo + c * os3]!;
    const row = ((b * H + h) * Tq + i) * Tk;
    for (let j = row; j < row + Tk; j++) ds[j] = p[j]! * (ds[j]! - delta) * scale;
  }
  // dQ = dS·K, dK = dSᵀ·Q.
  matmul(f32View(ds, [B, H, Tq, Tk]), k, dq);
  matmul(f32View(ds, [B, H, Tk, Tq], [H * Tq * Tk, Tq * Tk, 1, Tk]), q, dk);
}

// ---- copy ----------------------------------------------------------------------------------------

/**
 * float32 strided copy (transposes, head splits, `contiguous()`) between two views in the
 * WebAssembly memory that share no bytes: the dims merged as far as both layouts allow, up to four,
 * copied by `copy_f32` with the threads splitting the outermost dim with enough rows. Anything else
 * takes the TypeScript loops.
 */
function copy(x: V, out: V): void {
  if (!(isF32(x) && isF32(out) && copyInMemory(x, out)) && !js.copy(x, out)) cpuKernels.copy(x, out);
}

function copyInMemory(x: V, out: V): boolean {
  const rt = wasmRuntime();
  const xb = rt.addressOf(x.buffer), ob = rt.addressOf(out.buffer);
  if (xb < 0 || ob < 0 || sharesMemory(x, out)) return false;
  const total = numel(out.shape);
  if (total === 0) return true;
  const c = coalesce(out.shape, [x.strides, out.strides]);
  if (c.shape.length > 4) return false;
  const pad = <T>(v: T[], fill: T): T[] => [...new Array<T>(4 - v.length).fill(fill), ...v];
  const n = pad(c.shape, 1), s = pad(c.strides[0]!, 0).map((v) => v * 4), d = pad(c.strides[1]!, 0).map((v) => v * 4);
  rt.reset();
  const threads = threadsFor(rt, total, FAST_CPU_CONFIG.elementwiseParallelMin);
  const dim = Math.max(0, n.findIndex((v) => v >= threads));
  const src = xb + x.offset * 4, dst = ob + out.offset * 4;
  const parts = splitRange(n[dim]!, threads, 1).map(([lo, hi]) => {
    if (hi <= lo) return [];
    const m = n.slice();
    m[dim] = hi - lo;
    return [src + lo * s[dim]!, ...s, dst + lo * d[dim]!, ...d, ...m];
  });
  rt.parallel('copy_f32', 14, parts); // src, s0..s3, dst, d0..d3, n0..n3
  return true;
}

/** Runs the TypeScript fast path `fast`, or the reference kernel when it declines the case. */
function orReference<A extends unknown[]>(fast: (...args: A) => boolean, ref: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    if (!fast(...args)) ref(...args);
  };
}

/** The CPU kernels with WebAssembly SIMD and TypeScript fast paths; everything else is `cpuKernels`. */
export const fastCpuKernels: KernelSet<TypedArray> = {
  ...cpuKernels,
  matmul,
  binary,
  binaryScalar: binaryScalarVia(binary),
  softmax,
  layerNorm,
  adamw,
  attention,
  attentionBackward,
  unary,
  where: orReference(js.where, cpuKernels.where),
  copy,
  fill: orReference(js.fill, cpuKernels.fill),
  random: orReference(js.random, cpuKernels.random),
  reduce,
  softmaxBackward: orReference(js.softmaxBackward, cpuKernels.softmaxBackward),
  layerNormBackward,
  crossEntropy: orReference(js.crossEntropy, cpuKernels.crossEntropy),
  crossEntropyBackward: orReference(js.crossEntropyBackward, cpuKernels.crossEntropyBackward),
  indexSelect: orReference(js.indexSelect, cpuKernels.indexSelect),
  indexAdd: orReference(js.indexAdd, cpuKernels.indexAdd),
};
