// The tolerance rule of the per-dtype kernel tests: a result of dtype d may differ from the float64
// reference by `factor` units of d's machine epsilon, relative to a scale (|reference| unless the
// kernel states another, such as Σ|a·b| for a dot product), with an absolute floor of the same
// number of units at d's smallest normal (below it the format's spacing is fixed, not relative).
//
// Each kernel states its factor beside its test, from its error analysis:
//   elementwise  a few ulp: rounding of the stored result (½ eps of d) plus the f32 evaluation of
//                the op when d is float32 or narrower (a few eps of float32; see DEVELOPERS.md on
//                WGSL built-ins) — FACTOR.elementwise
//   reductions   ~√n·eps of the accumulation type (float64 on the cpu, f32 on WebGPU) plus the
//                rounding of the stored result — FACTOR.reduction(n)
//   matmul       K·eps of the accumulation type relative to Σ|a·b|, plus the stored rounding —
//                FACTOR.matmul(K)
// The inputs are in d already, so the reference sees the same (rounded) inputs as the kernel.
import { DTYPE_EPS, type DType } from '../src/types.js';

type FloatDType = keyof typeof DTYPE_EPS;

const MIN_NORMAL: Readonly<Record<FloatDType, number>> = { float64: 2 ** -1022, float32: 2 ** -126, float16: 2 ** -14, bfloat16: 2 ** -126 };

/** The type a kernel accumulates in when its operands are `d`: float64 on the cpu reference; f32 on WebGPU. */
export const accumulation = (device: 'cpu' | 'webgpu', d: DType): FloatDType => (device === 'cpu' ? 'float64' : d === 'float64' ? 'float64' : 'float32');

/** Units of eps(d) a result may be off, by kernel family. `acc` is the accumulation dtype. */
export const FACTOR = {
  /** Elementwise op evaluated in `acc`, stored in `d`: ½ ulp of d for the store, 8 ulp of acc for the op. */
  elementwise: (d: FloatDType, acc: FloatDType): number => 0.5 + 8 * DTYPE_EPS[acc] / DTYPE_EPS[d],
  /** A reduction of n terms accumulated in `acc`, stored in `d`. */
  reduction: (d: FloatDType, acc: FloatDType, n: number): number => 0.5 + 2 * Math.sqrt(Math.max(n, 1)) * DTYPE_EPS[acc] / DTYPE_EPS[d],
  /** A dot product of length K accumulated in `acc`, stored in `d` (relative to Σ|a·b|). */
  matmul: (d: FloatDType, acc: FloatDType, K: number): number => 0.5 + Math.max(K, 1) * DTYPE_EPS[acc] / DTYPE_EPS[d],
};

/** { rtol, atol } for `factor` units of eps(d) (the absolute floor at d's smallest normal). */
export function dtypeTolerance(d: DType, factor: number): { rtol: number; atol: number } {
  const f = d as FloatDType;
  if (!(f in DTYPE_EPS)) return { rtol: 0, atol: 0 }; // integer and bool results are exact
  const rtol = factor * DTYPE_EPS[f];
  return { rtol, atol: rtol * MIN_NORMAL[f] };
}

/** Throws naming `what` and the element when |got − want| > factor·eps(d)·scale (scale defaults to |want|). */
export function expectWithinEps(got: ArrayLike<number>, want: ArrayLike<number>, d: DType, factor: number, what: string, scale?: ArrayLike<number>): void {
  const { rtol, atol } = dtypeTolerance(d, factor);
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} values, expected ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    const x = got[i]!, y = want[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) throw new Error(`${what} (${d}): element ${i} is ${x}, want ${y}`);
      continue;
    }
    if (x === y) continue;
    const s = scale ? scale[i]! : Math.abs(y);
    if (!(Math.abs(x - y) <= atol + rtol * s)) {
      throw new Error(`${what} (${d}): element ${i} is ${x}, want ${y} (|diff| ${Math.abs(x - y)} > ${factor.toFixed(3)}·eps·${s} + ${atol})`);
    }
  }
}
