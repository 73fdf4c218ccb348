// `where` with a float32 condition on the fast cpu tier (cpu_fast/select.ts, WebAssembly): against
// the reference on awkward sizes, a scalar or a same-shape b, a condition with NaN, ±0 and ±inf,
// operands in the WebAssembly memory or plain arrays, out written over a or cond in place, and
// every size split over each thread count. Layouts it does not take go to the TypeScript loop.
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { allocTensorArray, fastCpuKernels, releaseTensorArray } from '../src/cpu_fast/index.js';
import { whereF32 } from '../src/cpu_fast/select.js';
import type { TypedArray, View } from '../src/types.js';
import { AWKWARD, bitsEqual, eachThreadCount, forceThreading, seeded, view } from './wasm_helpers.js';

type V = View<TypedArray>;
const held: Float32Array[] = [];
function f32(n: number, heap: boolean, from?: Float32Array): Float32Array {
  const a = heap ? allocTensorArray(n) ?? new Float32Array(n) : new Float32Array(n);
  if (heap) held.push(a);
  if (from) a.set(from); else a.fill(NaN);
  return a;
}
const releaseAll = () => { for (const a of held.splice(0)) releaseTensorArray(a); };

/** A condition with every special value among ordinary ones. */
function condition(n: number): Float32Array {
  const c = seeded(n, 7, -1, 1);
  const special = [0, -0, NaN, Infinity, -Infinity, 1e-45];
  for (let i = 0; i < n; i += 3) c[i] = special[(i / 3) % special.length]!;
  return c;
}
const scalarView = (buf: Float32Array, shape: number[]): V => ({ buffer: buf, dtype: 'float32', shape, strides: shape.map(() => 0), offset: 0 });

function check(n: number, heap: boolean, scalarB: boolean, what: string): void {
  const cond = view(f32(n, heap, condition(n)), [n]), a = view(f32(n, heap, seeded(n, 2)), [n]);
  const b = scalarB ? scalarView(f32(1, heap, Float32Array.of(-3.5)), [n]) : view(f32(n, heap, seeded(n, 3)), [n]);
  const ref = view(new Float32Array(n), [n]), got = view(f32(n, heap), [n]);
  cpuKernels.where(cond, a, b, ref);
  expect(whereF32(cond, a, b, got), what).toBe(true);
  expect(bitsEqual(got.buffer as Float32Array, ref.buffer as Float32Array), what).toBe(true);
}

describe('fast where, float32 condition', () => {
  it('matches the reference on awkward sizes, scalar or same-shape b, in the heap or not', () => {
    for (const heap of [true, false]) {
      for (const n of AWKWARD) for (const scalarB of [true, false]) check(n, heap, scalarB, `n=${n} heap=${heap} scalarB=${scalarB}`);
      releaseAll();
    }
  });

  it('out written over a or over cond in place', () => {
    const n = 37, c = condition(n), av = seeded(n, 2), bv = seeded(n, 3);
    const want = view(new Float32Array(n), [n]);
    cpuKernels.where(view(c, [n]), view(av, [n]), view(bv, [n]), want);
    const a = view(f32(n, true, av), [n]);
    expect(whereF32(view(f32(n, true, c), [n]), a, view(f32(n, true, bv), [n]), a)).toBe(true);
    expect(bitsEqual(a.buffer as Float32Array, want.buffer as Float32Array)).toBe(true);
    const cond = view(f32(n, true, c), [n]);
    expect(whereF32(cond, view(f32(n, true, av), [n]), view(f32(n, true, bv), [n]), cond)).toBe(true);
    expect(bitsEqual(cond.buffer as Float32Array, want.buffer as Float32Array)).toBe(true);
    releaseAll();
  });

  it('declines a bool condition or a transposed operand; fastCpuKernels.where still computes them', () => {
    const cond = view(condition(12), [3, 4]), a = view(seeded(12, 2), [3, 4]), b = view(seeded(12, 3), [3, 4]);
    const aT: V = { ...view(seeded(12, 2), [4, 3]), shape: [3, 4], strides: [1, 3] };
    const boolCond = view(Uint8Array.from(condition(12), (v) => (v !== 0 ? 1 : 0)), [3, 4]);
    expect(whereF32(boolCond, a, b, view(new Float32Array(12), [3, 4]))).toBe(false);
    expect(whereF32(cond, aT, b, view(new Float32Array(12), [3, 4]))).toBe(false);
    for (const [c, x] of [[boolCond, a], [cond, aT]] as const) {
      const ref = view(new Float32Array(12), [3, 4]), got = view(new Float32Array(12), [3, 4]);
      cpuKernels.where(c, x, b, ref);
      fastCpuKernels.where(c, x, b, got);
      expect(bitsEqual(got.buffer as Float32Array, ref.buffer as Float32Array)).toBe(true);
    }
  });
});

describe('fast where on threads', () => {
  forceThreading();
  it('every size split over each thread count gives the reference bits', () => {
    eachThreadCount((t) => {
      for (const n of AWKWARD) for (const scalarB of [true, false]) check(n, true, scalarB, `n=${n} threads=${t} scalarB=${scalarB}`);
      releaseAll();
    });
  });
});
