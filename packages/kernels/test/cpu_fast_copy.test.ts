// The fast cpu copy family (cpu_fast/copy.ts) on every dtype pair among bool, int32, float32 and
// float64, against the reference copy: contiguous, transposed, strided and broadcast sources,
// transposed destinations, rows short and long (the TypedArray `set` path), and the values where
// conversions differ (NaN, ±∞, -0, halves, values past the int32 range, 256 for bool). The fast
// function must take each of these calls; float16/bfloat16 casts go to the reference except to and
// from float32 (cpu_fast_half_matmul.test.ts tests those).
import { describe, expect, it } from 'vitest';
import { cpuKernels, typedArrayFor } from '../src/cpu/index.js';
import { copy } from '../src/cpu_fast/copy.js';
import { allocTensorArray, fastCpuKernels, releaseTensorArray } from '../src/cpu_fast/index.js';
import type { DType, TypedArray, View } from '../src/types.js';

type V = View<TypedArray>;
type Numeric = 'bool' | 'int32' | 'float32' | 'float64';
const DT: Numeric[] = ['bool', 'int32', 'float32', 'float64'];
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const strides = (s: readonly number[]) => { const r = s.map(() => 1); for (let d = s.length - 2; d >= 0; d--) r[d] = r[d + 1]! * s[d + 1]!; return r; };

const SPECIAL = [0, -0, 1, -1, 0.5, -2.7, 2.5, 256, 257, NaN, Infinity, -Infinity, 2147483648, -2147483649, 4294967297.9, 1e40, 1e-50, 16777217];

/** A buffer of `dtype` holding the special values and a ramp, as the reference stores them. */
function filled(dtype: DType, n: number, heap = false): TypedArray {
  const a = dtype === 'float32' && heap ? allocTensorArray(n) ?? new Float32Array(n) : typedArrayFor(dtype, n);
  const v = { buffer: a, dtype, shape: [n], strides: [1], offset: 0 };
  const src = { buffer: Float64Array.from({ length: n }, (_, i) => (i < SPECIAL.length ? SPECIAL[i]! : ((i * 37) % 11) - 5 + (i % 3) * 0.25)), dtype: 'float64' as const, shape: [n], strides: [1], offset: 0 };
  cpuKernels.copy(src, v);
  return a;
}

/** Source views of `shape` over a `dtype` buffer: contiguous, transposed, every other element, broadcast. */
function sources(dtype: Numeric, shape: [number, number], heap: boolean): [string, V][] {
  const [a, b] = shape, n = a * b;
  const mk = (buffer: TypedArray, sh: number[], st: number[], offset = 0): V => ({ buffer, dtype, shape: sh, strides: st, offset });
  return [
    ['contiguous', mk(filled(dtype, n, heap), shape, strides(shape))],
    ['transposed', mk(filled(dtype, n, heap), shape, [1, a])],
    ['strided', mk(filled(dtype, 2 * n + 1, heap), shape, [2 * b, 2], 1)],
    ['broadcast', mk(filled(dtype, b, heap), shape, [0, 1])],
  ];
}

/** Element-wise equality that tells -0 from 0 and takes any NaN as equal to NaN. */
function same(a: TypedArray, b: TypedArray): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe('fast copy between dtypes', () => {
  it('every pair of bool/int32/float32/float64, every source layout, contiguous and transposed destinations', () => {
    for (const heap of [false, true]) {
      for (const shape of [[3, 7], [2, 40], [1, 1], [33, 5]] as [number, number][]) {
        for (const from of DT) {
          for (const [what, x] of sources(from, shape, heap)) {
            for (const to of DT) {
              const n = numel(shape);
              const ref = typedArrayFor(to, n), got = to === 'float32' && heap ? allocTensorArray(n) ?? new Float32Array(n) : typedArrayFor(to, n);
              got.fill(to === 'bool' ? 7 : 99);
              for (const [dst, dstStrides] of [['contiguous', strides(shape)], ['transposed', [1, shape[0]]]] as const) {
                const r: V = { buffer: ref, dtype: to, shape, strides: [...dstStrides], offset: 0 };
                const g: V = { buffer: got, dtype: to, shape, strides: [...dstStrides], offset: 0 };
                cpuKernels.copy(x, r);
                expect(copy(x, g), `${from} ${what} → ${to} ${dst}`).toBe(true);
                expect(same(got, ref), `${from} ${what} [${shape}] → ${to} ${dst} heap=${heap}: first differing element`).toBe(-1);
              }
              if (heap && got instanceof Float32Array) releaseTensorArray(got);
            }
          }
        }
      }
    }
  });

  it('a bool mask into float32 in the WebAssembly memory (the ReLU gradient), long rows', () => {
    const n = 128 * 256;
    const mask = new Uint8Array(n).map((_, i) => (i * 7919) % 3 === 0 ? 1 : 0);
    const out = allocTensorArray(n) ?? new Float32Array(n);
    out.fill(NaN);
    fastCpuKernels.copy({ buffer: mask, dtype: 'bool', shape: [128, 256], strides: [256, 1], offset: 0 },
      { buffer: out, dtype: 'float32', shape: [128, 256], strides: [256, 1], offset: 0 });
    for (let i = 0; i < n; i++) if (out[i] !== mask[i]) throw new Error(`element ${i}: ${out[i]} vs ${mask[i]}`);
    releaseTensorArray(out);
  });

  it('float16 and bfloat16 to or from a dtype other than float32 go to the reference', () => {
    for (const half of ['float16', 'bfloat16'] as const) {
      for (const other of DT) {
        const h = filled(half, 10), o = filled(other, 10);
        const hv: V = { buffer: h, dtype: half, shape: [10], strides: [1], offset: 0 };
        const ov: V = { buffer: o, dtype: other, shape: [10], strides: [1], offset: 0 };
        expect(copy(hv, { ...ov, buffer: typedArrayFor(other, 10) }), `${half} → ${other}`).toBe(other === 'float32');
        expect(copy(ov, { ...hv, buffer: typedArrayFor(half, 10) }), `${other} → ${half}`).toBe(other === 'float32');
        const ref = typedArrayFor(other, 10), got = typedArrayFor(other, 10);
        cpuKernels.copy(hv, { ...ov, buffer: ref });
        fastCpuKernels.copy(hv, { ...ov, buffer: got });
        expect(same(got, ref)).toBe(-1);
      }
    }
  });
});
