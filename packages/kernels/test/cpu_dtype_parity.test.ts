// Every cpu kernel family per floating-point dtype against the float64 reference: the operands are
// made in dtype d, the same values are given to the kernel as float64 views, and the d results must
// be within the tolerance rule of dtype_tolerance.ts (factor × eps(d), factor stated per kernel).
// The reference kernels accumulate in float64 whatever d is, so each factor is ½ ulp of d for the
// store plus the float64 (or, for the fast tier's float32 paths, float32) accumulation error. The
// fast tier runs too: it computes float16/bfloat16 in float32 (operands decoded once, the float32
// fast kernel, the result rounded once: cpu_fast/half_arrays.ts and matmul.ts), so its evaluation
// type there is float32, and every 16-bit call here must be taken by the fast path — none may fall
// back to the reference (`referenceCalls`, cpu_fast/fallback.ts).
import { describe, expect, it } from 'vitest';
import { contiguousView, cpuKernels, readAll } from '../src/cpu/index.js';
import { referenceCalls } from '../src/cpu_fast/fallback.js';
import { fastCpuKernels } from '../src/cpu_fast/index.js';
import { UNARY_DEFS } from '../src/elementwise/ops.js';
import { DTYPE_EPS, type DType, type KernelSet, type TypedArray, type View } from '../src/types.js';
import { FACTOR, expectWithinEps } from './dtype_tolerance.js';
import { noise } from './cpu_helpers.js';

type V = View<TypedArray>;
type FloatD = 'float64' | 'float32' | 'float16' | 'bfloat16';
const DTYPES: FloatD[] = ['float64', 'float32', 'float16', 'bfloat16'];

/** A view of dtype d holding `values` rounded to d, and a float64 view of the same (rounded) values. */
function pair(d: DType, shape: number[], values: number[]): [V, V] {
  const v = contiguousView(d, shape, values);
  return [v, contiguousView('float64', shape, readAll(v))];
}
const vals = (v: V): number[] => Array.from(readAll(v));

describe.each([['reference', cpuKernels], ['fast', fastCpuKernels]] as const)('%s cpu kernels', (_name, k: KernelSet<TypedArray>) => {
  // The fast tier's float32 paths (which also compute its 16-bit calls) accumulate in float32 in
  // places; the reference always in float64.
  const acc = (d: FloatD): FloatD => (_name === 'fast' && d !== 'float64' ? 'float32' : 'float64');
  /** Runs one kernel call; on the fast tier with a 16-bit dtype, fails if the call fell back to the reference. */
  const call = (d: FloatD, run: () => void): void => {
    const before = referenceCalls();
    run();
    if (_name === 'fast' && (d === 'float16' || d === 'bfloat16')) expect(referenceCalls(), `${d} call fell back to the reference`).toEqual(before);
  };

  describe.each(DTYPES)('%s', (d) => {
    it('matmul [5,37]·[37,6] (factor: K·eps(acc) relative to Σ|a·b|, + ½ ulp)', () => {
      const [M, K, N] = [5, 37, 6];
      const [a, a64] = pair(d, [M, K], noise(M * K, 1).map((x) => 3 * x));
      const [b, b64] = pair(d, [K, N], noise(K * N, 2));
      const out = contiguousView(d, [M, N]), ref = contiguousView('float64', [M, N]);
      call(d, () => k.matmul(a, b, out));
      cpuKernels.matmul(a64, b64, ref);
      const A = vals(a64), B = vals(b64);
      const scale = Array.from({ length: M * N }, (_, i) => {
        let s = 0;
        for (let kk = 0; kk < K; kk++) s += Math.abs(A[Math.floor(i / N) * K + kk]! * B[kk * N + (i % N)]!);
        return s;
      });
      expectWithinEps(vals(out), vals(ref), d, FACTOR.matmul(d, acc(d), K), 'matmul', scale);
    });

    it('reduce sum/max over 300 (factor: √n·eps(acc), + ½ ulp)', () => {
      const [x, x64] = pair(d, [4, 300], noise(1200, 3).map((v) => v + 0.5)); // positive-biased: no cancellation
      for (const op of ['sum', 'max'] as const) {
        const out = contiguousView(d, [4, 1]), ref = contiguousView('float64', [4, 1]);
        call(d, () => k.reduce(op, x, [1], out));
        cpuKernels.reduce(op, x64, [1], ref);
        expectWithinEps(vals(out), vals(ref), d, FACTOR.reduction(d, acc(d), 300), `reduce ${op}`);
      }
    });

    it('softmax and log-softmax over rows of 50 (factor: √n·eps(acc), + ½ ulp)', () => {
      const [x, x64] = pair(d, [3, 50], noise(150, 4).map((v) => 4 * v));
      for (const log of [false, true]) {
        const out = contiguousView(d, [3, 50]), ref = contiguousView('float64', [3, 50]);
        call(d, () => k.softmax(x, out, log));
        cpuKernels.softmax(x64, ref, log);
        expectWithinEps(vals(out), vals(ref), d, FACTOR.reduction(d, acc(d), 50), log ? 'logSoftmax' : 'softmax');
      }
    });

    it('layerNorm over rows of 64 (factor: √n·eps(acc), + ½ ulp)', () => {
      const [x, x64] = pair(d, [3, 64], noise(192, 5).map((v) => 2 * v + 1));
      const [w, w64] = pair(d, [64], noise(64, 6));
      const [b, b64] = pair(d, [64], noise(64, 7));
      const out = contiguousView(d, [3, 64]), ref = contiguousView('float64', [3, 64]);
      const stat = (t: DType) => [contiguousView(t, [3]), contiguousView(t, [3])] as const;
      const [mean, rstd] = stat(d === 'float64' ? 'float64' : 'float32'), [m64, r64] = stat('float64');
      call(d, () => k.layerNorm(x, w, b, 1e-5, out, mean, rstd));
      cpuKernels.layerNorm(x64, w64, b64, 1e-5, ref, m64, r64);
      // The output is normalized to O(1): scale by max(|ref|, 1) so values near 0 keep an absolute bound.
      const scale = vals(ref).map((v) => Math.max(Math.abs(v), 1));
      expectWithinEps(vals(out), vals(ref), d, FACTOR.reduction(d, acc(d), 64), 'layerNorm', scale);
    });

    it('crossEntropy of [6, 20] logits (factor: √C·eps(acc), + ½ ulp)', () => {
      const [x, x64] = pair(d, [6, 20], noise(120, 8).map((v) => 3 * v));
      const targets = contiguousView('int32', [6], [0, 3, 19, 7, 7, 12]);
      const opts = { ignoreIndex: -100, labelSmoothing: 0.1 };
      const loss = contiguousView(d, [6]), lse = contiguousView(d, [6]);
      const loss64 = contiguousView('float64', [6]), lse64 = contiguousView('float64', [6]);
      call(d, () => k.crossEntropy(x, targets, null, opts, loss, lse));
      cpuKernels.crossEntropy(x64, targets, null, opts, loss64, lse64);
      expectWithinEps(vals(loss), vals(loss64), d, FACTOR.reduction(d, acc(d), 20), 'crossEntropy loss');
      expectWithinEps(vals(lse), vals(lse64), d, FACTOR.reduction(d, acc(d), 20), 'crossEntropy lse');
    });

    it('attention [1,2,5,8] causal (factor: √T·eps(acc) relative to max |v|, + ½ ulp)', () => {
      const shape = [1, 2, 5, 8], n = 80;
      const [q, q64] = pair(d, shape, noise(n, 9));
      const [kk, k64] = pair(d, shape, noise(n, 10));
      const [v, v64] = pair(d, shape, noise(n, 11));
      const opts = { scale: 1 / Math.sqrt(8), causal: true };
      const out = contiguousView(d, shape), lse = contiguousView(d, [1, 2, 5]);
      const ref = contiguousView('float64', shape), lse64 = contiguousView('float64', [1, 2, 5]);
      call(d, () => k.attention(q, kk, v, null, opts, out, lse));
      cpuKernels.attention(q64, k64, v64, null, opts, ref, lse64);
      // The output is a convex combination of v's rows: its error scales with max |v|, not |out|.
      const vmax = Math.max(...vals(v64).map(Math.abs));
      expectWithinEps(vals(out), vals(ref), d, FACTOR.reduction(d, acc(d), 5), 'attention', vals(ref).map(() => vmax));
    });

    it('unary exp/tanh/gelu and binary div (factor: elementwise, ½ ulp + 8 ulp of the evaluation)', () => {
      const [x, x64] = pair(d, [40], noise(40, 12).map((v) => 3 * v));
      for (const op of ['exp', 'tanh', 'gelu'] as const) {
        const out = contiguousView(d, [40]), ref = contiguousView('float64', [40]);
        call(d, () => k.unary(op, x, out));
        cpuKernels.unary(op, x64, ref);
        // The fast tier computes gelu in float32 lanes (route 'f32poly'), whose error where
        // 1 + erf(x/√2) cancels is absolute in |x| (ops.ts states it): that bound on top of d's factor.
        const { ulp = 0, absPer } = UNARY_DEFS.gelu.accuracy.wasm;
        const absK = absPer?.k ?? 0, F = FACTOR.elementwise(d, acc(d));
        // |diff| ≤ F·eps·|y| + ulp·eps(float32)·|y| + absK·max(1, |x|), written as F·eps(d)·scale.
        const scale = op === 'gelu' && _name === 'fast' && d !== 'float64'
          ? vals(ref).map((y, i) => Math.abs(y) * (1 + (ulp * DTYPE_EPS.float32) / (F * DTYPE_EPS[d])) + (absK * Math.max(1, Math.abs(vals(x64)[i]!))) / (F * DTYPE_EPS[d]))
          : undefined;
        expectWithinEps(vals(out), vals(ref), d, FACTOR.elementwise(d, acc(d)), op, scale);
      }
      const [y, y64] = pair(d, [40], noise(40, 13).map((v) => v + 2));
      const out = contiguousView(d, [40]), ref = contiguousView('float64', [40]);
      call(d, () => k.binary('div', x, y, out));
      cpuKernels.binary('div', x64, y64, ref);
      expectWithinEps(vals(out), vals(ref), d, FACTOR.elementwise(d, acc(d)), 'div');
    });
  });
});
