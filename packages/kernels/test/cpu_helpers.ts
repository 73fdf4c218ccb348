// Shared helpers for the CPU reference kernel tests: reading a view, seeded noise, and central
// finite differences.
import { readAll } from '../src/cpu/index.js';
import type { TypedArray, View } from '../src/types.js';

export const vals = (v: View<TypedArray>): number[] => Array.from(readAll(v));

/** Deterministic values in [-1, 1) from a linear congruential generator. */
export function noise(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** Central differences of the scalar `f` with respect to each element of `xs` (modified in place and restored). */
export function fdGrad(f: () => number, xs: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const x0 = xs[i]!;
    xs[i] = x0 + h;
    const fp = f();
    xs[i] = x0 - h;
    const fm = f();
    xs[i] = x0;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}
