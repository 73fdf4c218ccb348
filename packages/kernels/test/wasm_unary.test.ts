// The WebAssembly SIMD unary kernels against the reference (float64, rounded to float32).
//
// Tolerances: neg, abs, square, relu, sqrt, rsqrt must be bit-identical. exp, tanh, sigmoid, silu,
// geluTanh are evaluated in float64 with approximations far below float32 resolution and rounded
// once, so they must be within 1 ulp of the reference's float32 value. erf has a maximum absolute
// error of 1.6e-8 (its rational approximation, see unary_program.ts), so it is checked against
// 1 ulp + 2e-8. gelu and geluGrad run in float32 lanes (route 'f32poly') and are checked against
// the accuracy their definitions state (ops.ts). geluTanh also allows 1e-16·|x| where the reference
// itself cancels (see `tolerance`).
// Sizes 0 … 100000, special values (±0, ±∞, NaN, large |x|), on 1 and 2 threads.
// Further down: the other WebAssembly paths added with these kernels (matmul batch folding, float32
// sums, layerNorm backward).
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { buildKernelModule, fastCpuKernels, setNumThreads } from '../src/cpu_fast/index.js';
import { BINARY_DEFS, UNARY_DEFS, type Accuracy } from '../src/elementwise/ops.js';
import { wasmCtx } from '../src/elementwise/wasm.js';
import { erf32 } from '../src/elementwise/wasm_math32.js';
import { ModuleBuilder } from '../src/wasm/emitter.js';
import { GRAD_FAST_OPS, UNARY_FAST_OPS, type UnaryFastOp } from '../src/wasm/unary_program.js';
import { forceThreading, seeded, view } from './wasm_helpers.js';

forceThreading();

const SIZES = [0, 1, 3, 7, 17, 63, 65, 257, 1000, 100000];
const EXACT: readonly UnaryFastOp[] = ['neg', 'abs', 'square', 'relu', 'sqrt', 'rsqrt'];

/** Distance from w to the next float32 in magnitude (1 ulp), for finite non-zero w. */
function ulp(w: number): number {
  const a = Math.abs(w);
  if (a < 1.1754943508222875e-38) return 1.401298464324817e-45;
  return Math.pow(2, Math.floor(Math.log2(a)) - 23) * (Math.fround(a) >= Math.pow(2, Math.floor(Math.log2(a)) + 1) ? 2 : 1);
}

/** The error an op's definition allows its WebAssembly kernel at `want` (`per`: the absPer operand's value). */
function stated(acc: Accuracy | undefined, want: number, per: number): number {
  if (!acc) throw new Error('no stated WebAssembly accuracy');
  return (acc.ulp ?? 0) * ulp(want) + (acc.rel ?? 0) * Math.abs(want) + (acc.abs ?? 0) + (acc.absPer ? acc.absPer.k * Math.max(1, Math.abs(per)) : 0);
}

/** The geluGrad / siluGrad kernels' tolerance at `want` with gradient g. */
const gradTolerance = (op: string, want: number, g: number) => (op === 'geluGrad' ? stated(BINARY_DEFS.geluGrad.accuracy.wasm, want, g) : ulp(want));

function tolerance(op: UnaryFastOp, x: number, want: number): number {
  if (EXACT.includes(op)) return 0;
  const u = ulp(want);
  if (op === 'erf') return u + 2e-8;
  if (op === 'gelu') return stated(UNARY_DEFS.gelu.accuracy.wasm, want, x);
  // The reference's 1 + tanh(u) cancels in float64 (absolute error ~1e-16) where the kernel's
  // x/(1 + e^{-2u}) does not: for x below about -5 the two differ by up to ½|x|·1e-16.
  if (op === 'geluTanh') return u + 1e-16 * Math.abs(x);
  return u;
}

/** Inputs of a given size: a spread of magnitudes with special values mixed in. */
function inputs(n: number, op: UnaryFastOp): Float32Array {
  const x = seeded(n, n + 11, -8, 8);
  const specials = [0, -0, Infinity, -Infinity, NaN, 1e-30, -1e-30, 1e-6, -1e-6, 3.9, -3.9, 5.7, -5.7, 30, -30,
    88.5, 89, -87.5, -103, -110, 500, -500, 3e38, -3e38, 1e-40];
  for (let i = 0; i < n; i++) {
    if (i % 7 === 3) x[i] = specials[(i / 7) % specials.length | 0]!;
    else if (i % 5 === 1) x[i] = x[i]! * 1e-3;
    else if (i % 11 === 2) x[i] = x[i]! * 12;
  }
  if (op === 'sqrt' || op === 'rsqrt') for (let i = 0; i < n; i += 3) x[i] = Math.abs(x[i]!);
  return x;
}

function check(op: UnaryFastOp, n: number, threads: number): void {
  const x = inputs(n, op);
  const want = new Float32Array(n);
  cpuKernels.unary(op, view(x, [n]), view(want, [n]));
  setNumThreads(threads);
  const got = new Float32Array(n).fill(12345);
  fastCpuKernels.unary(op, view(x, [n]), view(got, [n]));
  for (let i = 0; i < n; i++) {
    const g = got[i]!, w = want[i]!;
    if (Object.is(g, w)) continue;
    if (Number.isNaN(w) || !Number.isFinite(w) || Number.isNaN(g)) {
      throw new Error(`${op} n=${n} threads=${threads} x[${i}]=${x[i]}: got ${g}, want ${w}`);
    }
    const tol = tolerance(op, x[i]!, w);
    // Bit-identical ops must also agree on the sign of zero.
    if (!(Math.abs(g - w) <= tol) || (tol === 0 && g !== w)) {
      throw new Error(`${op} n=${n} threads=${threads} x[${i}]=${x[i]}: got ${g}, want ${w}, |diff| ${Math.abs(g - w)} > tol ${tol}`);
    }
  }
}

describe('wasm unary vs reference', () => {
  for (const op of UNARY_FAST_OPS) {
    it(`${op}: sizes 0 … 100000 with special values, 1 and 2 threads`, () => {
      for (const threads of [1, 2]) for (const n of SIZES) check(op, n, threads);
    });
  }

  for (const op of GRAD_FAST_OPS) {
    // siluGrad: g·f'(x) in float64, rounded once: within 1 ulp; geluGrad: as its definition states.
    it(`${op}: sizes 0 … 100000 with special values, 1 and 2 threads, and the layouts it declines`, () => {
      for (const threads of [1, 2]) {
        setNumThreads(threads);
        for (const n of SIZES) {
          const x = inputs(n, 'gelu');
          const g = seeded(n, n + 5, -3, 3);
          const want = new Float32Array(n);
          cpuKernels.binary(op, view(x, [n]), view(g, [n]), view(want, [n]));
          const got = new Float32Array(n).fill(12345);
          fastCpuKernels.binary(op, view(x, [n]), view(g, [n]), view(got, [n]));
          for (let i = 0; i < n; i++) {
            const w = want[i]!, v = got[i]!;
            if (Object.is(v, w)) continue;
            const tol = gradTolerance(op, w, g[i]!);
            if (!(Math.abs(v - w) <= tol)) throw new Error(`${op} n=${n} threads=${threads} x=${x[i]} g=${g[i]}: got ${v}, want ${w}`);
          }
        }
      }
      // A broadcast gradient takes the reference path: identical results.
      const x = inputs(12, 'gelu');
      const want = new Float32Array(12), got = new Float32Array(12);
      const gb = { ...view(Float32Array.of(1.5), [12]), strides: [0] };
      cpuKernels.binary(op, view(x, [12]), gb, view(want, [12]));
      fastCpuKernels.binary(op, view(x, [12]), gb, view(got, [12]));
      expect(Array.from(got)).toEqual(Array.from(want));
    });
  }

  it('erf: maximum absolute error over a dense grid is below 2e-8', () => {
    const n = 200001;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = -6 + (12 * i) / (n - 1);
    const got = new Float32Array(n);
    fastCpuKernels.unary('erf', view(x, [n]), view(got, [n]));
    const ref = new Float64Array(n);
    cpuKernels.unary('erf', view(x, [n]), view(ref, [n]));
    let worst = 0;
    // The float64 reference, minus half a float32 ulp of rounding, bounds the approximation error.
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i]! - ref[i]!) - ulp(ref[i]!) / 2);
    expect(worst).toBeLessThan(2e-8);
  });

  it('in place and strided views', () => {
    const x = inputs(100, 'gelu');
    const want = new Float32Array(100);
    cpuKernels.unary('gelu', view(x, [100]), view(want, [100]));
    const buf = Float32Array.from(x);
    fastCpuKernels.unary('gelu', view(buf, [100]), view(buf, [100]));
    for (let i = 0; i < 100; i++) expect(Math.abs(buf[i]! - want[i]!) <= tolerance('gelu', x[i]!, want[i]!) || Object.is(buf[i], want[i])).toBe(true);
    // A transposed input takes the TypeScript loop; still matches the reference.
    const t = view(seeded(12, 3), [3, 4], [1, 3]);
    const a = view(new Float32Array(12), [3, 4]), b = view(new Float32Array(12), [3, 4]);
    cpuKernels.unary('exp', t, a);
    fastCpuKernels.unary('exp', t, b);
    expect(Array.from(b.buffer)).toEqual(Array.from(a.buffer));
  });
});

// gelu and geluGrad evaluate in float32 lanes with the approximations of wasm_math32.ts. erf32 is
// checked on its own (the erf op itself stays in float64 lanes), then the two ops on a dense grid
// of [−10, 10] and the points where their error peaks or their value is special.
describe('float32 lanes: erf32, gelu, geluGrad', () => {
  const F32_MIN_SUBNORMAL = 1.401298464324817e-45;
  const STRESS = [0, -0, Infinity, -Infinity, NaN, F32_MIN_SUBNORMAL, -F32_MIN_SUBNORMAL, 1e-40, -1e-40, 1.1754944e-38, 1e-30,
    -1e-30, 1e-6, -1e-6, 1e-3, -1e-3, 1.2e-3, -0.999e-3, 0.75, -0.7518, 1.24999, 1.25, -1.25, 1.25001, 1.1897, 1.7356, -1.7356,
    -1.75, 1.8398, -3.2, -3.29, 3.3272, -4.2, 3.9, -3.9, 3.9199998, -3.9199998, 3.92, 4, -4, 4.0001, 5.5, -5.5, 5.55, -5.6, 5.7, -5.7, 8, -8, 10, -10, 13.2, -13.2, 30, -30, 1e10,
    -1e10, 3e38, -3e38].map(Math.fround);
  /** STRESS, then [lo, hi] in steps of `step`. */
  const grid = (lo: number, hi: number, step: number) => {
    const m = Math.floor((hi - lo) / step) + 1;
    const x = new Float32Array(STRESS.length + m);
    x.set(STRESS);
    for (let i = 0; i < m; i++) x[STRESS.length + i] = lo + i * step;
    return x;
  };

  it('erf32: within 6 ulp of erf everywhere; ±0, ±1 past 3.92, ±∞ and NaN exact; with and without fused multiply-adds', () => {
    for (const fma of [false, true]) checkErf32(fma);
  });

  function checkErf32(fma: boolean): void {
    const m = new ModuleBuilder({ initialPages: 1, maximumPages: 65536, shared: false });
    m.func('erf32', ['i32', 'i32', 'i32'] as const, null, (f, px, po, n) => {
      const i = f.local('i32'), z = f.local('v128');
      const cx = wasmCtx(f, fma);
      const at = (p: typeof px) => f.add(f.get(p), f.shl(f.get(i), f.i32(2)));
      f.forRange(i, () => f.i32(0), () => f.get(n), 4, () => {
        f.set(z, f.v128Load(at(px)));
        f.v128Store(at(po), f.get(erf32(cx, z)));
      });
    });
    const x = grid(-6, 6, 1e-4), n = x.length;
    const memory = new WebAssembly.Memory({ initial: Math.ceil((8 * n + 64) / 65536), maximum: 65536 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(m.toBytes() as BufferSource), { env: { memory } });
    new Float32Array(memory.buffer).set(x);
    (inst.exports.erf32 as (...a: number[]) => void)(0, 4 * (n + 4), n);
    const got = new Float32Array(memory.buffer, 4 * (n + 4), n);
    const ref = new Float64Array(n);
    cpuKernels.unary('erf', view(x, [n]), view(ref, [n]));
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const g = got[i]!, w = ref[i]!;
      if (Number.isNaN(w)) continue; // checked below
      worst = Math.max(worst, Math.abs(g - w) / ulp(Math.fround(w)));
      if (Math.abs(x[i]!) >= 3.92) expect(g, `erf32(${x[i]})`).toBe(Math.sign(x[i]!));
    }
    expect(worst, `fma ${fma}`).toBeLessThan(6);
    const at = (v: number) => got[STRESS.findIndex((s) => Object.is(s, v))]!;
    expect(Object.is(at(0), 0) && Object.is(at(-0), -0)).toBe(true);
    expect([at(Infinity), at(-Infinity)]).toEqual([1, -1]);
    expect(at(NaN)).toBeNaN();
    expect(at(F32_MIN_SUBNORMAL)).toBe(F32_MIN_SUBNORMAL); // 1.128·2⁻¹⁴⁹ rounds to 2⁻¹⁴⁹
  }

  it('gelu and geluGrad: a dense grid of [−10, 10] and the stress points to their stated accuracy, 1 and 2 threads', () => {
    const x = grid(-10, 10, 2e-4), n = x.length;
    const g = seeded(n, 17, -4, 4);
    for (let i = 0; i < n; i += 3) g[i] = g[i]! * 1e-3;
    const want = new Float32Array(n), wantGrad = new Float32Array(n);
    cpuKernels.unary('gelu', view(x, [n]), view(want, [n]));
    cpuKernels.binary('geluGrad', view(x, [n]), view(g, [n]), view(wantGrad, [n]));
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      const got = new Float32Array(n), gotGrad = new Float32Array(n);
      fastCpuKernels.unary('gelu', view(x, [n]), view(got, [n]));
      fastCpuKernels.binary('geluGrad', view(x, [n]), view(g, [n]), view(gotGrad, [n]));
      for (let i = 0; i < n; i++) {
        for (const [name, v, w, tol] of [['gelu', got[i]!, want[i]!, () => tolerance('gelu', x[i]!, want[i]!)],
          ['geluGrad', gotGrad[i]!, wantGrad[i]!, () => gradTolerance('geluGrad', wantGrad[i]!, g[i]!)]] as const) {
          if (Object.is(v, w)) continue;
          if (!Number.isFinite(w) || !(Math.abs(v - w) <= tol())) throw new Error(`${name}(${x[i]}, g=${g[i]}) threads=${threads}: got ${v}, want ${w}`);
        }
      }
      const at = (v: number) => got[STRESS.findIndex((s) => Object.is(s, v))]!;
      expect(Object.is(at(-0), -0)).toBe(true);
      for (const v of [5.7, 8, 10, 1e10, 3e38]) expect(at(Math.fround(v))).toBe(Math.fround(v)); // erf(x/√2) = 1: gelu(x) = x
      expect([at(Infinity), at(-Infinity), at(NaN)]).toEqual([Infinity, NaN, NaN]);
    }
  });
});

// Not a unary kernel: the matmul fast path that folds a batch sharing one B into a single taller
// product (kernels.ts, `foldsIntoRows`). It must give the same bits as multiplying batch by batch.
describe('wasm matmul: batch folded into rows', () => {
  it('a [5, 17, 33] batch times a shared [33, 20] matches per-batch products bit for bit', () => {
    const [Bn, M, K, N] = [5, 17, 33, 20];
    const a = view(seeded(Bn * M * K, 21), [Bn, M, K]);
    const b = view(seeded(K * N, 22), [Bn, K, N], [0, N, 1]);
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      // Contiguous out, and out rows with a gap (row stride 2N) — both fold.
      for (const rowStride of [N, 2 * N]) {
        const outBuf = new Float32Array(Bn * M * rowStride);
        fastCpuKernels.matmul(a, b, view(outBuf, [Bn, M, N], [M * rowStride, rowStride, 1]));
        for (let bi = 0; bi < Bn; bi++) {
          const one = new Float32Array(M * N);
          fastCpuKernels.matmul(view(a.buffer, [M, K], [K, 1], bi * M * K), view(b.buffer, [K, N]), view(one, [M, N]));
          const ref = new Float32Array(M * N);
          cpuKernels.matmul(view(a.buffer, [M, K], [K, 1], bi * M * K), view(b.buffer, [K, N]), view(ref, [M, N]));
          for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
            const g = outBuf[bi * M * rowStride + i * rowStride + j]!;
            expect(g).toBe(one[i * N + j]);
            expect(Math.abs(g - ref[i * N + j]!)).toBeLessThan(1e-5);
          }
          if (rowStride > N) for (let i = 0; i < M; i++) expect(outBuf[bi * M * rowStride + i * rowStride + N]).toBe(0);
        }
      }
    }
  });
});

// Not a unary kernel either: the WebAssembly float32 sums over trailing / leading axes
// (reduce_program.ts). float64 accumulation, so float32 results are within 1 ulp of the reference
// (the row sums add two interleaved partial sums) and column sums are in the reference's order.
describe('wasm reduce sum vs reference', () => {
  const cases: [number[], number[]][] = [
    [[7], [0]], [[1000], [0]], [[3, 5], [1]], [[3, 5], [0]], [[17, 63], [1]], [[17, 63], [0]], [[4, 65, 33], [2]],
    [[4, 65, 33], [0, 1]], [[4, 65, 33], [1, 2]], [[4, 65, 33], [0]], [[2, 1, 5, 3], [0, 1]], [[2, 1, 5, 3], [2, 3]],
    [[768, 512], [0]], [[768, 512], [1]], [[300, 257], [0]], [[5, 7], [0, 1]], [[4, 65, 33], [0, 2]], [[1, 1], [0]],
    [[9, 8], [0]], [[5, 17], [0]], [[1, 10], [0]], [[128, 256], [0]], [[3, 18], [0]],
  ];
  it('trailing, leading, all and mixed axes, float32 and float64 out, 1 and 2 threads', () => {
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      for (const [shape, axes] of cases) {
        const n = shape.reduce((a, b) => a * b, 1);
        const x = view(seeded(n, n + 3, -2, 3), shape);
        x.buffer[n >> 1] = n > 100 ? 1e6 : x.buffer[n >> 1]!; // some magnitude spread
        const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
        const m = outShape.reduce((a, b) => a * b, 1);
        for (const F of [Float32Array, Float64Array]) {
          const want = view(new F(m), outShape), got = view(new F(m).fill(7), outShape);
          cpuKernels.reduce('sum', x, axes, want);
          fastCpuKernels.reduce('sum', x, axes, got);
          for (let i = 0; i < m; i++) {
            const w = want.buffer[i]!, g = got.buffer[i]!;
            // Column sums (leading axes only) add in the reference's order: equal to it.
            const leading = axes.every((a, k) => a === k) && axes.length < shape.length;
            const tol = leading ? 0 : F === Float32Array ? ulp(w) : 1e-12 * Math.max(1, Math.abs(w));
            if (!(Math.abs(g - w) <= tol)) throw new Error(`sum ${shape} axes ${axes} ${F.name} threads=${threads} [${i}]: got ${g}, want ${w}`);
          }
        }
      }
    }
  });
});

// Also not unary: the WebAssembly layerNorm backward (rows_program.ts), used for an even row length.
// It performs the reference's float64 operations in the reference's order, so it is bit-identical.
describe('wasm layerNorm backward vs reference', () => {
  it('even row lengths, with and without affine params, dx aliasing dy', () => {
    const f32 = (shape: number[]) => view(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
    for (const [rows, D] of [[1, 2], [3, 8], [17, 64], [65, 128], [7, 258]] as const) {
      for (const affine of [true, false]) {
        const x = view(seeded(rows * D, 5, -2, 2), [rows, D]);
        const w = affine ? view(seeded(D, 6, 0.5, 1.5), [D]) : null;
        const y = f32([rows, D]), mean = f32([rows]), rstd = f32([rows]);
        cpuKernels.layerNorm(x, w, affine ? view(seeded(D, 7), [D]) : null, 1e-5, y, mean, rstd);
        const dy = view(seeded(rows * D, 8), [rows, D]);
        const outs = () => [f32([rows, D]), affine ? f32([D]) : null, affine ? f32([D]) : null] as const;
        const [rdx, rdw, rdb] = outs(), [gdx, gdw, gdb] = outs();
        cpuKernels.layerNormBackward(x, w, mean, rstd, dy, rdx, rdw, rdb);
        fastCpuKernels.layerNormBackward(x, w, mean, rstd, dy, gdx, gdw, gdb);
        expect(Array.from(gdx.buffer), `dx ${rows}x${D}`).toEqual(Array.from(rdx.buffer));
        if (affine) {
          expect(Array.from(gdw!.buffer)).toEqual(Array.from(rdw!.buffer));
          expect(Array.from(gdb!.buffer)).toEqual(Array.from(rdb!.buffer));
        }
        const dyCopy = view(Float32Array.from(dy.buffer), [rows, D]);
        fastCpuKernels.layerNormBackward(x, w, mean, rstd, dyCopy, dyCopy, null, null);
        expect(Array.from(dyCopy.buffer), `in place ${rows}x${D}`).toEqual(Array.from(rdx.buffer));
      }
    }
  });
});

describe('unary kernels with and without fused multiply-adds', () => {
  // The default runtime uses relaxed_madd where the engine has it (the tests above); here both builds
  // of the module are called directly, so the separate multiply-add form stays checked too.
  it('every float64-evaluated op and gradient, same tolerances, in both builds', () => {
    const n = 4096;
    for (const fma of [true, false]) {
      const memory = new WebAssembly.Memory({ initial: 4, maximum: 65536 });
      const inst = new WebAssembly.Instance(new WebAssembly.Module(buildKernelModule(false, { fma }) as BufferSource), { env: { memory, log: Math.log } });
      const mem = () => new Float32Array(memory.buffer);
      const [px, pg, po] = [0, 4 * (n + 16), 8 * (n + 16)];
      for (const op of UNARY_FAST_OPS.filter((o) => !EXACT.includes(o))) {
        const x = inputs(n, op);
        const want = new Float32Array(n);
        cpuKernels.unary(op, view(x, [n]), view(want, [n]));
        mem().set(x, px / 4);
        (inst.exports[`unary_${op}`] as (...a: number[]) => void)(px, po, n);
        const got = mem().slice(po / 4, po / 4 + n);
        for (let i = 0; i < n; i++) {
          if (Object.is(got[i], want[i])) continue;
          if (!(Math.abs(got[i]! - want[i]!) <= tolerance(op, x[i]!, want[i]!))) throw new Error(`${op} fma=${fma} x=${x[i]}: got ${got[i]}, want ${want[i]}`);
        }
      }
      for (const op of GRAD_FAST_OPS) {
        const x = inputs(n, 'gelu'), g = seeded(n, 9, -3, 3);
        const want = new Float32Array(n);
        cpuKernels.binary(op, view(x, [n]), view(g, [n]), view(want, [n]));
        mem().set(x, px / 4);
        mem().set(g, pg / 4);
        (inst.exports[`grad_${op}`] as (...a: number[]) => void)(px, pg, po, n);
        const got = mem().slice(po / 4, po / 4 + n);
        for (let i = 0; i < n; i++) {
          if (Object.is(got[i], want[i])) continue;
          const tol = gradTolerance(op, want[i]!, g[i]!);
          if (!(Math.abs(got[i]! - want[i]!) <= tol)) throw new Error(`${op} fma=${fma} x=${x[i]}: got ${got[i]}, want ${want[i]}`);
        }
      }
    }
  });
});
