// The WebAssembly cross-entropy kernels (cross_entropy_program.ts) against the float64 reference:
// the in-line float32 log over the whole float range, then forward and backward on awkward class
// counts with and without class weights and label smoothing, ignored rows, −∞ logits (and a whole
// −∞ row), NaN logits, ±80 logits, a divisor, dlogits = logits, views at non-zero offsets, within the float32
// contract; identical bits for 1, 2 and 3 threads; out-of-range targets throw before anything runs.
import { describe, expect, it, vi } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { ModuleBuilder, fastCpuKernels, wasmRuntime } from '../src/cpu_fast/index.js';
import { emitLog } from '../src/cpu_fast/rows_program.js';
import type { TypedArray, View } from '../src/types.js';
import { bitsEqual, eachThreadCount, forceThreading, seeded, view } from './wasm_helpers.js';

forceThreading();

type V = View<TypedArray>;
const IGNORE = -100;
const CLASSES = [1, 2, 3, 4, 5, 7, 10, 33, 257];
const ROWS = [1, 3, 64];

/** The spacing of float32 numbers at |v| (the ulp of a float32 result v). */
function ulp32(v: number): number {
  const a = Math.abs(v);
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

describe('emitLog: float32 log on four lanes', () => {
  const m = new ModuleBuilder({ initialPages: 64, maximumPages: 64, shared: false });
  m.func('log4', ['i32', 'i32'] as const, null, (f, p, n) => {
    const i = f.local('i32'), x = f.local('v128'), y = f.local('v128');
    const t = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')] as const;
    f.forRange(i, () => f.i32(0), () => f.get(n), 4, () => {
      const at = () => f.add(f.get(p), f.shl(f.get(i), f.i32(2)));
      f.set(x, f.v128Load(at()));
      emitLog(f, x, y, t);
      f.v128Store(at(), f.get(y));
    });
  });
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 64 });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(m.toBytes() as BufferSource), { env: { memory } });
  const log4 = inst.exports.log4 as (p: number, n: number) => void;
  const logOf = (xs: Float32Array): Float32Array => {
    new Float32Array(memory.buffer).set(xs);
    log4(0, xs.length);
    return new Float32Array(memory.buffer).slice(0, xs.length);
  };

  it('is within 1 ulp of log over the positive floats (subnormals included) and dense near 1', () => {
    const n = 1 << 20;
    const bits = new Uint32Array(n);
    let s = 12345;
    for (let i = 0; i < n / 2; i++) { // random bit patterns of positive finite floats, every exponent
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      bits[i] = 1 + (s % 0x7f7fffff);
    }
    const one = 0x3f800000;
    for (let i = 0; i < n / 2; i++) bits[n / 2 + i] = one - n / 4 + i; // every float around 1
    const xs = new Float32Array(bits.buffer);
    const ys = logOf(xs);
    let worst = 0, at = 0;
    for (let i = 0; i < n; i++) {
      const want = Math.log(xs[i]!);
      const err = want === 0 ? Math.abs(ys[i]!) / 2 ** -149 : Math.abs(ys[i]! - want) / ulp32(want);
      if (err > worst) { worst = err; at = xs[i]!; }
    }
    expect(worst, `worst at x = ${at}`).toBeLessThan(1);
  });

  it('special values: log(+∞) = +∞, log(±0) = −∞, log(1) = 0, negatives and NaN give NaN', () => {
    const xs = Float32Array.from([Infinity, 0, -0, 1, -1, -Infinity, NaN, 2 ** -149, 3.4028234663852886e38, 2]);
    const ys = logOf(xs);
    expect(ys[0]).toBe(Infinity);
    expect(ys[1]).toBe(-Infinity);
    expect(ys[2]).toBe(-Infinity);
    expect(ys[3]).toBe(0);
    for (const i of [4, 5, 6]) expect(Number.isNaN(ys[i]!), `x = ${xs[i]}`).toBe(true);
    expect(ys[7]).toBe(Math.fround(-149 * Math.LN2));
    expect(Math.abs(ys[8]! - Math.log(xs[8]!))).toBeLessThanOrEqual(ulp32(88.7));
    expect(ys[9]).toBe(Math.fround(Math.LN2));
  });
});

interface Case { N: number; C: number; weighted: boolean; eps: number }

/** Logits in [-6, 6) with a few ignored rows, −∞ entries, ±80 rows and (N ≥ 3) a whole −∞ row whose target is ignored. */
function operands({ N, C, weighted }: Case, offset = 0) {
  const raw = seeded(N * C + offset, N * 97 + C, -6, 6);
  const x = raw.subarray(offset);
  const tg = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    tg[n] = n % 5 === 2 ? IGNORE : (n * 7 + 3) % C;
    if (n % 4 === 1 && C > 1) x[n * C + ((tg[n]! + 1) % C)] = -Infinity; // a masked class, not the target
    if (n % 6 === 3) for (let c = 0; c < C; c++) x[n * C + c] = c % 2 === 0 ? 80 : -80 + c / 3;
  }
  if (N >= 3) { tg[2] = IGNORE; for (let c = 0; c < C; c++) x[2 * C + c] = -Infinity; }
  const w = weighted ? Float32Array.from({ length: C }, (_, c) => 0.25 + ((c * 5) % 7) * 0.5) : null;
  return {
    logits: view(raw, [N, C], [C, 1], offset),
    targets: view(tg, [N]),
    weight: w ? view(w, [C]) : null,
  };
}

function forward(K: typeof cpuKernels, o: ReturnType<typeof operands>, eps: number, N: number) {
  const loss = view(new Float32Array(N), [N]), lse = view(new Float32Array(N), [N]), rw = view(new Float32Array(N), [N]);
  K.crossEntropy(o.logits, o.targets, o.weight, { ignoreIndex: IGNORE, labelSmoothing: eps }, loss, lse, rw);
  return { loss: loss.buffer as Float32Array, lse: lse.buffer as Float32Array, rw: rw.buffer as Float32Array };
}

const logitAt = (o: ReturnType<typeof operands>, n: number, c: number, C: number) => o.logits.buffer[o.logits.offset + n * C + c]!;

describe('wasm crossEntropy forward vs reference', () => {
  it('awkward class counts, weights, label smoothing, ignored rows, −∞ and ±80 logits; bits independent of threads', () => {
    for (const C of CLASSES) for (const N of ROWS) for (const weighted of [false, true]) for (const eps of [0, 0.1]) {
      const what = `[${N}, ${C}] weighted=${weighted} eps=${eps}`;
      const o = operands({ N, C, weighted, eps });
      const ref = forward(cpuKernels, o, eps, N);
      const runs = eachThreadCount((t) => {
        const got = forward(fastCpuKernels, o, eps, N);
        for (let n = 0; n < N; n++) {
          const at = `${what} threads=${t} row ${n}`;
          const l = ref.lse[n]!;
          expect(got.rw[n], `${at} rowWeight`).toBe(ref.rw[n]);
          if (!Number.isFinite(l)) expect(got.lse[n], `${at} lse`).toBe(l);
          else expect(Math.abs(got.lse[n]! - l), `${at} lse ${got.lse[n]} vs ${l}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(l)));
          const tgt = o.targets.buffer[n]!;
          if (tgt === IGNORE) { expect(got.loss[n], `${at} loss`).toBe(0); continue; }
          // The loss's scale: its terms with lse − x_c replaced by |lse| + |x_c| (finite logits only).
          const wOf = (c: number) => (o.weight ? o.weight.buffer[c]! : 1);
          const mag = (c: number) => Math.abs(l) + (Number.isFinite(logitAt(o, n, c, C)) ? Math.abs(logitAt(o, n, c, C)) : 0);
          let scale = (1 - eps) * wOf(tgt) * mag(tgt);
          for (let c = 0; c < C && eps !== 0; c++) scale += (eps / C) * wOf(c) * mag(c);
          if (!Number.isFinite(ref.loss[n]!)) expect(got.loss[n], `${at} loss`).toBe(ref.loss[n]);
          else expect(Math.abs(got.loss[n]! - ref.loss[n]!), `${at} loss ${got.loss[n]} vs ${ref.loss[n]}`).toBeLessThanOrEqual(1e-6 * Math.max(1, scale));
        }
        return got;
      });
      for (const k of ['loss', 'lse', 'rw'] as const) {
        expect(bitsEqual(runs[0]![k], runs[1]![k]) && bitsEqual(runs[0]![k], runs[2]![k]), `${what} ${k} bits across threads`).toBe(true);
      }
    }
  });

  it('a confident row keeps the loss accurate: lse − x_t formed as (m − x_t) + log s', () => {
    // lse = 30.0026: rounding it to float32 moves it by 9.3e-7, which lse − x_t would keep.
    const x = view(Float32Array.from([30, 24, 21, 30, 24, 21]), [2, 3]);
    const o = { logits: x, targets: view(Int32Array.from([0, 1]), [2]), weight: null };
    const ref = forward(cpuKernels, o, 0, 2), got = forward(fastCpuKernels, o, 0, 2);
    expect(Math.abs(got.lse[0]! - 30 - ref.loss[0]!)).toBeGreaterThan(9e-7);
    expect(Math.abs(got.loss[0]! - ref.loss[0]!)).toBeLessThanOrEqual(1e-7);
    expect(Math.abs(got.loss[1]! - ref.loss[1]!)).toBeLessThanOrEqual(1e-6 * 6);
  });

  it('a whole −∞ row gives lse −∞ and a NaN loss for a live target, as the reference', () => {
    const x = view(Float32Array.from([-Infinity, -Infinity, -Infinity, 1, 2, 3]), [2, 3]);
    const o = { logits: x, targets: view(Int32Array.from([1, 2]), [2]), weight: null };
    for (const eps of [0, 0.1]) {
      const ref = forward(cpuKernels, o, eps, 2), got = forward(fastCpuKernels, o, eps, 2);
      expect(got.lse[0]).toBe(-Infinity);
      expect(Number.isNaN(ref.loss[0]!) && Number.isNaN(got.loss[0]!)).toBe(true);
      expect(Math.abs(got.loss[1]! - ref.loss[1]!)).toBeLessThanOrEqual(1e-6 * 4);
    }
  });

  it('NaN logits (in the vector part, in the tail, a whole row) give NaN lse and loss, as the reference', () => {
    for (const C of [7, 8]) for (const eps of [0, 0.1]) {
      const raw = seeded(4 * C, 9, -3, 3);
      raw[1] = NaN; // row 0, a vector lane
      raw[C + 5] = NaN; // row 1, the scalar tail (C = 7)
      raw.fill(NaN, 2 * C, 3 * C); // row 2: with C = 8 no tail sees a NaN
      const o = { logits: view(raw, [4, C]), targets: view(Int32Array.from([0, 1, 2, 3]), [4]), weight: null };
      const ref = forward(cpuKernels, o, eps, 4), got = forward(fastCpuKernels, o, eps, 4);
      for (let n = 0; n < 3; n++) {
        expect(Number.isNaN(ref.lse[n]!) && Number.isNaN(got.lse[n]!), `row ${n} lse`).toBe(true);
        expect(Number.isNaN(ref.loss[n]!) && Number.isNaN(got.loss[n]!), `row ${n} loss`).toBe(true);
      }
      expect(Math.abs(got.lse[3]! - ref.lse[3]!)).toBeLessThanOrEqual(1e-6 * 4);
    }
  });

  it('runs in WebAssembly, and strided outputs at offsets get the same values as contiguous ones', () => {
    const N = 5, C = 7;
    const o = operands({ N, C, weighted: true, eps: 0.1 }, 3);
    const opts = { ignoreIndex: IGNORE, labelSmoothing: 0.1 };
    const spy = vi.spyOn(wasmRuntime(), 'parallel');
    const plain = forward(fastCpuKernels, o, 0.1, N);
    expect(spy.mock.calls.map((c) => c[0])).toContain('cross_entropy_rows');
    spy.mockRestore();
    // loss and rowWeight interleaved in one buffer at offsets 1 and 2 (stride 2); lse at offset 4.
    const both = new Float32Array(2 * N + 2).fill(7), lseBuf = new Float32Array(N + 4).fill(7);
    const targets = view(Int32Array.from([9, 9, ...o.targets.buffer]), [N], [1], 2);
    fastCpuKernels.crossEntropy(o.logits, targets, o.weight, opts, view(both, [N], [2], 1), view(lseBuf, [N], [1], 4), view(both, [N], [2], 2));
    for (let n = 0; n < N; n++) {
      expect(both[1 + 2 * n]).toBe(plain.loss[n]);
      expect(both[2 + 2 * n]).toBe(plain.rw[n]);
      expect(lseBuf[4 + n]).toBe(plain.lse[n]);
    }
    expect(both[0]).toBe(7);
  });

  it('an ignoreIndex that is a class index ignores exactly those rows, forward and backward', () => {
    const N = 6, C = 5;
    const x = view(seeded(N * C, 21, -4, 4), [N, C]);
    const tg = view(Int32Array.from([1, 0, 1, 4, 2, 1]), [N]);
    const opts = { ignoreIndex: 1, labelSmoothing: 0.1 };
    const o = { logits: x, targets: tg, weight: null };
    const run = (K: typeof cpuKernels) => {
      const loss = view(new Float32Array(N), [N]), lse = view(new Float32Array(N), [N]), rw = view(new Float32Array(N), [N]);
      K.crossEntropy(o.logits, o.targets, null, opts, loss, lse, rw);
      const d = view(new Float32Array(N * C), [N, C]);
      K.crossEntropyBackward(o.logits, o.targets, null, lse, view(new Float32Array(N).fill(1), [N]), opts, d);
      return { loss: loss.buffer, rw: rw.buffer, d: d.buffer };
    };
    const ref = run(cpuKernels), got = run(fastCpuKernels);
    expect(Array.from(got.rw)).toEqual([0, 1, 0, 1, 1, 0]);
    for (const n of [0, 2, 5]) {
      expect(got.loss[n]).toBe(0);
      for (let c = 0; c < C; c++) expect(got.d[n * C + c]).toBe(0);
    }
    for (let i = 0; i < N; i++) expect(Math.abs(got.loss[i]! - ref.loss[i]!)).toBeLessThanOrEqual(1e-5);
    for (let i = 0; i < N * C; i++) expect(Math.abs(got.d[i]! - ref.d[i]!)).toBeLessThanOrEqual(1e-6);
  });

  it('out-of-range targets throw the typed error before anything is written', () => {
    const x = view(seeded(12, 5), [3, 4]);
    for (const bad of [4, -1, 1000]) {
      const loss = view(new Float32Array(3).fill(5), [3]), lse = view(new Float32Array(3).fill(5), [3]);
      const tg = view(Int32Array.from([0, bad, 1]), [3]);
      expect(() => fastCpuKernels.crossEntropy(x, tg, null, { ignoreIndex: IGNORE, labelSmoothing: 0 }, loss, lse))
        .toThrow(new RangeError(`crossEntropy: target ${bad} is out of range for 4 classes (valid: 0..3, or ignoreIndex ${IGNORE})`));
      expect(Array.from(loss.buffer)).toEqual([5, 5, 5]);
      expect(Array.from(lse.buffer)).toEqual([5, 5, 5]);
      const d = view(new Float32Array(12), [3, 4]);
      expect(() => fastCpuKernels.crossEntropyBackward(x, tg, null, lse, loss, { ignoreIndex: IGNORE, labelSmoothing: 0 }, d))
        .toThrow(new RangeError(`crossEntropyBackward: target ${bad} is out of range for 4 classes (valid: 0..3, or ignoreIndex ${IGNORE})`));
    }
  });
});

describe('wasm crossEntropyBackward vs reference', () => {
  /** Per element: the magnitudes of the terms of g·((1 − ε)·w_t·(p − δ) + (ε/C)·(W·p − w_c)). */
  function scaleOf(o: ReturnType<typeof operands>, lse: Float32Array, g: number[], eps: number, N: number, C: number, n: number, c: number): number {
    const wOf = (k: number) => (o.weight ? o.weight.buffer[k]! : 1);
    let W = 0;
    for (let k = 0; k < C; k++) W += wOf(k);
    const t = o.targets.buffer[n]!;
    const p = Math.exp(logitAt(o, n, c, C) - lse[n]!);
    return Math.abs(g[n]!) * ((1 - eps) * wOf(t) * (p + (c === t ? 1 : 0)) + (eps / C) * (W * p + wOf(c)));
  }

  it('awkward class counts, weights, smoothing, divisor, ignored and −∞ rows, in place; bits independent of threads', () => {
    for (const C of CLASSES) for (const N of ROWS) for (const weighted of [false, true]) for (const eps of [0, 0.1]) for (const divide of [false, true]) {
      const what = `[${N}, ${C}] weighted=${weighted} eps=${eps} divisor=${divide}`;
      const o = operands({ N, C, weighted, eps }, 1);
      const opts = { ignoreIndex: IGNORE, labelSmoothing: eps };
      const lse = forward(cpuKernels, o, eps, N).lse;
      const dl = seeded(N, N + C, -2, 2);
      const divisor = divide ? view(Float32Array.from([3]), [1]) : null;
      const g = Array.from(dl, (v) => (divide ? Math.fround(v / 3) : v));
      const args = (dx: V) => [o.logits, o.targets, o.weight, view(lse, [N]), view(dl, [N]), opts, dx, divisor] as const;
      const ref = view(new Float32Array(N * C), [N, C]);
      cpuKernels.crossEntropyBackward(...args(ref));
      const runs = eachThreadCount((t) => {
        const got = view(new Float32Array(N * C), [N, C]);
        fastCpuKernels.crossEntropyBackward(...args(got));
        for (let n = 0; n < N; n++) {
          for (let c = 0; c < C; c++) {
            const i = n * C + c, want = ref.buffer[i]!, have = got.buffer[i]!;
            if (o.targets.buffer[n] === IGNORE) { expect(have, `${what} ignored row ${n}`).toBe(0); continue; }
            const tol = 2e-6 * scaleOf(o, lse, g, eps, N, C, n, c) + 1e-37;
            if (!(Math.abs(have - want) <= tol)) expect.fail(`${what} threads=${t} [${n}, ${c}]: got ${have}, want ${want} (tol ${tol})`);
          }
        }
        return got.buffer as Float32Array;
      });
      expect(bitsEqual(runs[0]!, runs[1]!) && bitsEqual(runs[0]!, runs[2]!), `${what} bits across threads`).toBe(true);

      // dlogits = logits (same view) gives the same bits as a separate output.
      const inPlace = view(Float32Array.from(o.logits.buffer), [N, C], [C, 1], 1);
      fastCpuKernels.crossEntropyBackward(inPlace, o.targets, o.weight, view(lse, [N]), view(dl, [N]), opts, inPlace, divisor);
      expect(bitsEqual((inPlace.buffer as Float32Array).subarray(1), runs[0]!), `${what} in place`).toBe(true);
    }
  });

  it('in place on heap arrays, with a stride-0 dloss, runs in WebAssembly', () => {
    const N = 9, C = 33;
    const o = operands({ N, C, weighted: true, eps: 0.1 });
    const opts = { ignoreIndex: IGNORE, labelSmoothing: 0.1 };
    const lse = forward(cpuKernels, o, 0.1, N).lse;
    const gOne = view(Float32Array.from([0.25]), [N], [0]);
    const ref = view(new Float32Array(N * C), [N, C]);
    cpuKernels.crossEntropyBackward(o.logits, o.targets, o.weight, view(lse, [N]), gOne, opts, ref);
    // In the kernels' memory where it is shared (Node), so the kernel works in place there.
    const heap = wasmRuntime().tensorArray(N * C) ?? new Float32Array(N * C);
    heap.set(o.logits.buffer as Float32Array);
    const x = view(heap, [N, C]);
    const spy = vi.spyOn(wasmRuntime(), 'parallel');
    fastCpuKernels.crossEntropyBackward(x, o.targets, o.weight, view(lse, [N]), gOne, opts, x);
    expect(spy.mock.calls.map((c) => c[0])).toContain('cross_entropy_backward_rows');
    spy.mockRestore();
    const separate = view(new Float32Array(N * C), [N, C]);
    fastCpuKernels.crossEntropyBackward(view(Float32Array.from(o.logits.buffer), [N, C]), o.targets, o.weight, view(lse, [N]), gOne, opts, separate);
    expect(bitsEqual(heap, separate.buffer as Float32Array)).toBe(true);
    for (let i = 0; i < N * C; i++) expect(Math.abs(heap[i]! - ref.buffer[i]!)).toBeLessThanOrEqual(1e-6);
    wasmRuntime().freeTensorArray(heap);
  });
});
