// The WebAssembly SIMD matmul against the reference: awkward sizes in each dimension, transposed and
// strided operands, batches with broadcast (stride-0) operands, 1, 2 and 3 threads, and identical
// bits for every thread count (the summation order does not depend on how C is split).
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { buildKernelModule, fastCpuKernels, relaxedSimdAvailable, wasmRuntime } from '../src/cpu_fast/index.js';
import type { TypedArray, View } from '../src/types.js';
import { AWKWARD, bitsEqual, eachThreadCount, expectWithin, forceThreading, seeded, view } from './wasm_helpers.js';

forceThreading();

const U = 2 ** -24; // float32 unit roundoff

interface Case { name: string; a: View<TypedArray>; b: View<TypedArray>; outShape: number[] }

/** a: [..., M, K] and b: [..., K, N] stored in the requested layouts. */
function makeCase(M: number, K: number, N: number, opts: { ta?: boolean; tb?: boolean; strided?: boolean; seed?: number } = {}): Case {
  const seed = opts.seed ?? M * 7919 + K * 104729 + N;
  const step = opts.strided ? 2 : 1;
  const aBuf = seeded(M * K * step + 5, seed);
  const bBuf = seeded(K * N * step + 5, seed + 1);
  // Row-major: element (i, k) at i·K + k; transposed storage: at k·M + i. `strided` doubles every stride.
  const a = view(aBuf, [M, K], opts.ta ? [step, M * step] : [K * step, step], 3);
  const b = view(bBuf, [K, N], opts.tb ? [step, K * step] : [N * step, step], 1);
  return { name: `${M}x${K}x${N}${opts.ta ? ' aT' : ''}${opts.tb ? ' bT' : ''}${opts.strided ? ' strided' : ''}`, a, b, outShape: [M, N] };
}

/** Σ_k |a_ik|·|b_kj|, the scale of the rounding-error bound of element (i, j). */
function absProduct(c: Case): Float64Array {
  const r = c.outShape.length;
  const absView = (v: View<TypedArray>) => ({ ...v, buffer: Float64Array.from(v.buffer, Math.abs), dtype: 'float64' as const });
  const out = view(new Float64Array(c.outShape.reduce((x, y) => x * y, 1)), c.outShape);
  cpuKernels.matmul(absView(c.a), absView(c.b), out);
  void r;
  return out.buffer as Float64Array;
}

function check(c: Case): void {
  const n = c.outShape.reduce((x, y) => x * y, 1);
  const ref = view(new Float32Array(n), c.outShape);
  cpuKernels.matmul(c.a, c.b, ref);
  const scale = absProduct(c);
  const K = c.a.shape[c.a.shape.length - 1]!;
  const results = eachThreadCount((t) => {
    const out = view(new Float32Array(n), c.outShape);
    fastCpuKernels.matmul(c.a, c.b, out);
    // Rigorous bound for a float32 dot product of length K, plus the reference's own final rounding.
    expectWithin(out.buffer, ref.buffer, (i) => (K + 2) * U * 1.01 * scale[i]! + 1e-30, `${c.name} threads=${t}`);
    return out.buffer as Float32Array;
  });
  for (const r of results) expect(bitsEqual(r, results[0]!), `${c.name}: same bits for every thread count`).toBe(true);
}

describe('wasm matmul vs reference', () => {
  it('awkward sizes in M, K and N', () => {
    for (const s of AWKWARD) {
      check(makeCase(s, 65, 17));
      check(makeCase(17, s, 63));
      check(makeCase(63, 17, s));
    }
  });

  it('square awkward sizes up to 257, and 1000-wide non-square shapes', () => {
    for (const s of AWKWARD.filter((x) => x <= 257)) check(makeCase(s, s, s));
    check(makeCase(1000, 1000, 7));
    check(makeCase(7, 1000, 1000));
    check(makeCase(1000, 7, 257));
  });

  it('transposed and strided operands', () => {
    for (const [M, K, N] of [[1, 1, 1], [3, 7, 17], [65, 63, 127], [257, 129, 65], [17, 300, 1]] as const) {
      for (const ta of [false, true]) for (const tb of [false, true]) {
        check(makeCase(M, K, N, { ta, tb }));
        check(makeCase(M, K, N, { ta, tb, strided: true }));
      }
    }
  });

  it('batches, with stride-0 broadcast batch dims and a non-contiguous out', () => {
    const [B1, B2, M, K, N] = [2, 3, 17, 65, 33];
    const aBuf = seeded(B2 * M * K, 11), bBuf = seeded(B1 * K * N, 12);
    // a broadcast over dim 0, b broadcast over dim 1, b transposed within each matrix.
    const a = view(aBuf, [B1, B2, M, K], [0, M * K, K, 1]);
    const b = view(bBuf, [B1, B2, K, N], [K * N, 0, 1, K]);
    check({ name: 'batched broadcast', a, b, outShape: [B1, B2, M, N] });
    // Batch of 5 on 2 and 3 threads (not a multiple: blocks are split within matrices).
    const a5 = view(seeded(5 * 63 * 40, 13), [5, 63, 40]);
    const b5 = view(seeded(5 * 40 * 70, 14), [5, 40, 70]);
    check({ name: 'batch 5', a: a5, b: b5, outShape: [5, 63, 70] });

    const out = view(new Float32Array(2 * M * N * 2), [2, M, N], [M * N * 2, N * 2, 1], 0);
    const aa = view(seeded(2 * M * K, 15), [2, M, K]), bb = view(seeded(2 * K * N, 16), [2, K, N]);
    fastCpuKernels.matmul(aa, bb, out);
    const ref = view(new Float32Array(2 * M * N), [2, M, N]);
    cpuKernels.matmul(aa, bb, ref);
    const got: number[] = [];
    for (let bi = 0; bi < 2; bi++) for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) got.push(out.buffer[bi * M * N * 2 + i * N * 2 + j]!);
    expectWithin(got, ref.buffer, () => 1e-5, 'strided out rows');
    for (let bi = 0; bi < 2; bi++) for (let i = 0; i < M; i++) for (let j = N; j < 2 * N; j++) expect(out.buffer[bi * M * N * 2 + i * N * 2 + j]).toBe(0);
  });

  it('K = 0 gives zeros; float64 stays on the reference', () => {
    const out = view(new Float32Array(6).fill(7), [2, 3]);
    fastCpuKernels.matmul(view(new Float32Array(0), [2, 0]), view(new Float32Array(0), [0, 3]), out);
    expect(Array.from(out.buffer)).toEqual([0, 0, 0, 0, 0, 0]);
    const a = view(Float64Array.from([1, 2, 3, 4]), [2, 2]), b = view(Float64Array.from([1e-20, 1, 1, 0]), [2, 2]);
    const o64 = view(new Float64Array(4), [2, 2]);
    fastCpuKernels.matmul(a, b, o64);
    expect(Array.from(o64.buffer)).toEqual([2 + 1e-20, 1, 4 + 3e-20, 3]);
  });

  it('more blocks than the shared queue holds at once (several rounds), same bits for every thread count', () => {
    // 1600 products of 3×5·5×4 are 1600 sgemm calls, over the 1489 the threads' queue takes per round.
    const nb = 1600;
    check({ name: `${nb} batched 3x5x4`, a: view(seeded(nb * 15, 31), [nb, 3, 5]), b: view(seeded(nb * 20, 32), [nb, 5, 4]), outShape: [nb, 3, 4] });
  });

  it('is deterministic for a fixed thread count', () => {
    const c = makeCase(255, 300, 257);
    for (const t of [2, 3]) {
      const runs = [0, 1, 2].map(() => {
        eachThreadCount(() => 0); // reshuffle thread counts in between
        const out = view(new Float32Array(255 * 257), [255, 257]);
        eachThreadCount((tt) => { if (tt === t) fastCpuKernels.matmul(c.a, c.b, out); });
        return out.buffer as Float32Array;
      });
      expect(bitsEqual(runs[0]!, runs[1]!) && bitsEqual(runs[1]!, runs[2]!)).toBe(true);
    }
  });
});

describe('fused multiply-add micro-kernel (relaxed SIMD)', () => {
  it('the engine has relaxed SIMD and the fast kernels use it unless WEBGRAD_CPU_FMA=0', () => {
    expect(relaxedSimdAvailable()).toBe(true);
    expect(wasmRuntime().fma).toBe(process.env.WEBGRAD_CPU_FMA !== '0');
  });

  // Both builds of the module, called directly: same bound against the float64 reference, and the
  // instruction present in exactly one of them.
  it('with and without fused multiply-add, sgemm stays within the float32 bound', () => {
    const madd = [0xfd, 0x85, 0x02];
    const has = (bytes: Uint8Array) => bytes.some((_, i) => madd.every((b, j) => bytes[i + j] === b));
    for (const fma of [true, false]) {
      const bytes = buildKernelModule(false, { fma });
      expect(has(bytes), `fma=${fma}: relaxed_madd in the module`).toBe(fma);
      const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536 });
      const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), { env: { memory, log: Math.log } });
      const sgemm = inst.exports.sgemm as (...args: number[]) => void;
      for (const [M, K, N, tb] of [[37, 300, 29, true], [5, 1, 9, false], [64, 257, 40, false]] as const) {
        const c = makeCase(M, K, N, { tb });
        const a = Float32Array.from({ length: M * K }, (_, i) => c.a.buffer[c.a.offset + Math.floor(i / K) * c.a.strides[0]! + (i % K) * c.a.strides[1]!] as number);
        const b = Float32Array.from({ length: K * N }, (_, i) => c.b.buffer[c.b.offset + Math.floor(i / N) * c.b.strides[0]! + (i % N) * c.b.strides[1]!] as number);
        const pa = 0, pb = pa + a.byteLength, pc = pb + b.byteLength, scratch = (pc + M * N * 4 + 15) & ~15;
        new Float32Array(memory.buffer, pa, a.length).set(a);
        new Float32Array(memory.buffer, pb, b.length).set(b);
        new Float32Array(memory.buffer, pc, M * N).fill(NaN);
        sgemm(pa, K * 4, 4, pb, N * 4, 4, pc, N * 4, M, N, K, scratch);
        const out = new Float32Array(memory.buffer, pc, M * N).slice();
        const ref = view(new Float32Array(M * N), [M, N]);
        cpuKernels.matmul(c.a, c.b, ref);
        const scale = absProduct(c);
        expectWithin(out, ref.buffer, (i) => (K + 2) * U * 1.01 * scale[i]! + 1e-30, `${c.name} fma=${fma}`);
      }
    }
  });
});
