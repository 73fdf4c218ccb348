// Shared helpers for the fast CPU kernel tests: seeded float32 data, strided views over it, and a
// runner that repeats a check single- and multi-threaded with the threading thresholds at zero (so
// even tiny shapes are split across threads, empty blocks included).
import { afterAll, beforeAll } from 'vitest';
import { FAST_CPU_CONFIG, getNumThreads, setNumThreads } from '../src/cpu_fast/index.js';
import type { TypedArray, View } from '../src/types.js';

export const AWKWARD = [1, 3, 7, 17, 63, 65, 127, 255, 257, 1000] as const;
export const THREAD_COUNTS = [1, 2, 3] as const;

/** A deterministic xorshift stream in [lo, hi). */
export function seeded(n: number, seed = 1, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = lo + (hi - lo) * (s / 0x100000000);
  }
  return out;
}

export function view(buffer: TypedArray, shape: number[], strides?: number[], offset = 0): View<TypedArray> {
  const st = strides ?? (() => {
    const r: number[] = new Array(shape.length);
    let s = 1;
    for (let d = shape.length - 1; d >= 0; d--) { r[d] = s; s *= shape[d]!; }
    return r;
  })();
  const dtype = buffer instanceof Float64Array ? 'float64' : buffer instanceof Int32Array ? 'int32' : buffer instanceof Uint8Array ? 'bool' : 'float32';
  return { buffer, dtype, shape, strides: st, offset };
}

/** Forces the threaded paths for every size while a test file runs; restores the defaults after. */
export function forceThreading(): void {
  const saved = { ...FAST_CPU_CONFIG };
  let threads = 1;
  beforeAll(() => {
    threads = getNumThreads();
    FAST_CPU_CONFIG.matmulParallelMin = 0;
    FAST_CPU_CONFIG.elementwiseParallelMin = 0;
  });
  afterAll(() => {
    Object.assign(FAST_CPU_CONFIG, saved);
    setNumThreads(threads);
  });
}

/** Runs `fn` under each thread count, returning what each run returned. */
export function eachThreadCount<T>(fn: (threads: number) => T): T[] {
  return THREAD_COUNTS.map((t) => {
    setNumThreads(t);
    return fn(t);
  });
}

/** Largest |got - want| / (tolScale_i) over elements; fails fast with the first offending index. */
export function expectWithin(got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number, what: string): void {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length} vs ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (g === w) continue;
    if (!(Math.abs(g - w) <= tol(i))) throw new Error(`${what}: element ${i}: got ${g}, want ${w} (tol ${tol(i)})`);
  }
}

export function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
