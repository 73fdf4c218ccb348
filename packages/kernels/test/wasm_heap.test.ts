// Operands that live in the fast kernels' WebAssembly memory (as the `cpu` device's float32 tensors
// do) are used in place. These cases check that sharing memory never changes a result: outputs
// aliasing an input exactly (in-place elementwise ops), outputs overlapping an input any other way
// (they go through scratch), output views that end before their array does (a vector loop's tail
// must not spill into the rest of the array), and the heap's reuse of freed blocks.
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { allocTensorArray, fastCpuKernels, releaseTensorArray, wasmRuntime } from '../src/cpu_fast/index.js';
import { eachThreadCount, forceThreading, seeded, view } from './wasm_helpers.js';

forceThreading();

/** A heap array holding `data`. */
function heapArray(data: Float32Array): Float32Array {
  const a = allocTensorArray(data.length);
  if (!a) throw new Error('no shared WebAssembly memory: the heap paths cannot run here');
  a.set(data);
  return a;
}

describe('fast kernels on operands in the WebAssembly heap', () => {
  it('heap arrays are recognised, and their blocks reused after release', () => {
    const rt = wasmRuntime();
    const a = heapArray(seeded(37, 1));
    expect(rt.addressOf(a)).toBeGreaterThanOrEqual(0);
    expect(rt.addressOf(new Float32Array(4))).toBe(-1);
    const addr = rt.addressOf(a);
    expect(releaseTensorArray(a)).toBe(true);
    expect(releaseTensorArray(new Float32Array(3))).toBe(false);
    const b = allocTensorArray(37)!;
    expect(rt.addressOf(b)).toBe(addr); // same size class: the freed block
    releaseTensorArray(b);
  });

  it('a released block of the same length comes back as the same array; a second release frees nothing', () => {
    const rt = wasmRuntime();
    const a = allocTensorArray(53)!;
    const addr = rt.addressOf(a);
    expect(releaseTensorArray(a)).toBe(true);
    const b = allocTensorArray(53)!;
    expect(b).toBe(a); // the block's array object, handed out again
    expect(rt.addressOf(b)).toBe(addr);
    releaseTensorArray(b);
    const c = allocTensorArray(50)!; // same size class, other length: the block, a new array of its length
    expect(rt.addressOf(c)).toBe(addr);
    expect(c).not.toBe(a);
    expect(c.length).toBe(50);
    rt.freeTensorArray(c);
    rt.freeTensorArray(c); // ignored: the block is on its free list once
    const d = allocTensorArray(50)!, e = allocTensorArray(50)!;
    expect(rt.addressOf(d)).toBe(addr);
    expect(rt.addressOf(e)).not.toBe(addr);
    releaseTensorArray(d); releaseTensorArray(e);
  });

  it('unary and binary in place (out is the input) equal the reference', () => {
    eachThreadCount((t) => {
      for (const n of [1, 5, 67, 1000]) {
        const x = seeded(n, n + 3, -3, 3), y = seeded(n, n + 4, -3, 3);
        const want = new Float32Array(n), wantB = new Float32Array(n);
        cpuKernels.unary('exp', view(x, [n]), view(want, [n]));
        cpuKernels.binary('mul', view(x, [n]), view(y, [n]), view(wantB, [n]));
        const hx = heapArray(x);
        fastCpuKernels.unary('exp', view(hx, [n]), view(hx, [n]));
        const hexp = Float32Array.from(hx);
        hx.set(x);
        const hy = heapArray(y);
        fastCpuKernels.binary('mul', view(hx, [n]), view(hy, [n]), view(hx, [n]));
        // exp is float64-evaluated: within 1 ulp; mul is exact
        for (let i = 0; i < n; i++) expect(Math.abs(hexp[i]! - want[i]!), `exp n=${n} t=${t}`).toBeLessThanOrEqual(Math.abs(want[i]!) * 1.2e-7);
        expect(Array.from(hx), `mul n=${n} t=${t}`).toEqual(Array.from(wantB));
        releaseTensorArray(hx); releaseTensorArray(hy);
      }
    });
  });

  it('an output overlapping its input another way (x += x[0] broadcast) goes through scratch', () => {
    const R = 5, C = 7;
    const x = seeded(R * C, 9);
    const want = new Float32Array(R * C);
    const row0 = view(x, [R, C], [0, 1]); // x[0] broadcast over the rows
    cpuKernels.binary('add', view(x, [R, C]), row0, view(want, [R, C]));
    const hx = heapArray(x);
    fastCpuKernels.binary('add', view(hx, [R, C]), view(hx, [R, C], [0, 1]), view(hx, [R, C]));
    expect(Array.from(hx)).toEqual(Array.from(want));
    releaseTensorArray(hx);
  });

  it('an output view that ends before its array does leaves the rest of the array alone', () => {
    const n = 13; // not a multiple of 4: the vector loop's last step spans 3 more floats
    const whole = heapArray(seeded(2 * n, 11));
    const rest = Array.from(whole.subarray(n));
    const x = seeded(n, 12);
    fastCpuKernels.unary('exp', view(x, [n]), view(whole, [n])); // the first half of `whole`
    const want = new Float32Array(n);
    cpuKernels.unary('exp', view(x, [n]), view(want, [n]));
    for (let i = 0; i < n; i++) expect(Math.abs(whole[i]! - want[i]!)).toBeLessThanOrEqual(Math.abs(want[i]!) * 1.2e-7);
    expect(Array.from(whole.subarray(n))).toEqual(rest);
    releaseTensorArray(whole);
  });

  it('matmul with heap operands (strided, transposed) and an output sharing the input array', () => {
    const [M, K, N] = [9, 13, 11];
    const buf = heapArray(seeded(M * K + K * N + M * N, 21));
    const a = view(buf, [M, K], [1, M]); // transposed storage
    const b = view(buf, [K, N], [N, 1], M * K);
    const out = view(buf, [M, N], [N, 1], M * K + K * N); // same array, after both inputs
    const ref = view(new Float32Array(M * N), [M, N]);
    cpuKernels.matmul(view(Float32Array.from(buf), [M, K], [1, M]), view(Float32Array.from(buf), [K, N], [N, 1], M * K), ref);
    const before = Array.from(buf.subarray(0, M * K + K * N));
    fastCpuKernels.matmul(a, b, out);
    expect(Array.from(buf.subarray(0, M * K + K * N))).toEqual(before);
    const got = buf.subarray(M * K + K * N);
    for (let i = 0; i < M * N; i++) expect(Math.abs(got[i]! - ref.buffer[i]!)).toBeLessThan(1e-5);
    releaseTensorArray(buf);
  });

  it('AdamW in place on heap arrays of odd length equals the step on copied-in arrays', () => {
    const n = 1001;
    const [p, g, m, v] = [1, 2, 3, 4].map((s) => seeded(n, s));
    for (let i = 0; i < n; i++) v[i] = Math.abs(v[i]!);
    const opts = { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, step: 3 };
    const ref = [p, m, v].map((x) => Float32Array.from(x));
    fastCpuKernels.adamw(view(ref[0]!, [n]), view(g, [n]), view(ref[1]!, [n]), view(ref[2]!, [n]), opts);
    const [hp, hg, hm, hv] = [p, g, m, v].map(heapArray) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const guard = heapArray(new Float32Array(8).fill(7)); // the next block: must stay untouched
    fastCpuKernels.adamw(view(hp, [n]), view(hg, [n]), view(hm, [n]), view(hv, [n]), opts);
    expect([Array.from(hp), Array.from(hm), Array.from(hv)]).toEqual(ref.map((x) => Array.from(x)));
    expect(Array.from(guard)).toEqual(new Array(8).fill(7));
    for (const x of [hp, hg, hm, hv, guard]) releaseTensorArray(x);
  });
});

describe('strided copy between heap arrays', () => {
  it('transposes, head splits, broadcasts and odd shapes equal the reference, on every thread count', () => {
    const cases: { shape: number[]; strides: number[]; offset: number; size: number }[] = [
      { shape: [12, 4, 64, 32], strides: [8192, 32, 128, 1], offset: 0, size: 12 * 64 * 128 }, // heads of [B, T, C]
      { shape: [3, 5, 7], strides: [1, 3, 15], offset: 0, size: 105 }, // full transpose: inner stride ≠ 1
      { shape: [2, 3, 13], strides: [117, 39, 1], offset: 13, size: 300 }, // a [.., 13:26] slice: rows of 13
      { shape: [4, 6], strides: [0, 1], offset: 2, size: 8 }, // broadcast rows
      { shape: [2, 2, 2, 2, 3], strides: [48, 24, 12, 6, 2], offset: 1, size: 100 }, // 5 dims with a step: the loops
      { shape: [1], strides: [1], offset: 4, size: 5 },
    ];
    eachThreadCount((t) => {
      for (const [i, c] of cases.entries()) {
        const src = heapArray(seeded(c.size, i + 40));
        const n = c.shape.reduce((a, b) => a * b, 1);
        const got = allocTensorArray(n)!;
        const want = new Float32Array(n);
        cpuKernels.copy(view(src, c.shape, c.strides, c.offset), view(want, c.shape));
        fastCpuKernels.copy(view(src, c.shape, c.strides, c.offset), view(got, c.shape));
        expect(Array.from(got), `case ${i} threads ${t}`).toEqual(Array.from(want));
        // and back into a strided destination
        const back = heapArray(new Float32Array(c.size));
        const ref = new Float32Array(c.size);
        if (!c.strides.includes(0)) {
          cpuKernels.copy(view(want, c.shape), view(ref, c.shape, c.strides, c.offset));
          fastCpuKernels.copy(view(got, c.shape), view(back, c.shape, c.strides, c.offset));
          expect(Array.from(back), `case ${i} back, threads ${t}`).toEqual(Array.from(ref));
        }
        for (const a of [src, got, back]) releaseTensorArray(a);
      }
    });
  });
});
