// The fast cpu tier on float16/bfloat16: the float32 ↔ 16-bit conversion loops (half_arrays.ts,
// through the copy kernel) bit for bit against half.ts, and matmul with 16-bit operands (decoded to
// float32, float32 sgemm, encoded result) against the float64 reference with the tolerance rule of
// dtype_tolerance.ts: K·eps(float32) relative to Σ|a·b| plus ½ ulp of the output dtype.
import { describe, expect, it } from 'vitest';
import { contiguousView, cpuKernels, readAll } from '../src/cpu/index.js';
import { copy } from '../src/cpu_fast/copy.js';
import { allocTensorArray, fastCpuKernels, releaseTensorArray } from '../src/cpu_fast/index.js';
import { matmul } from '../src/cpu_fast/matmul.js';
import { bfloat16Bits, bfloat16Value, float16Bits, float16Value } from '../src/half.js';
import type { DType, TypedArray, View } from '../src/types.js';
import { FACTOR, expectWithinEps } from './dtype_tolerance.js';
import { noise } from './cpu_helpers.js';

type V = View<TypedArray>;
type Half = 'float16' | 'bfloat16';
const HALVES: Half[] = ['float16', 'bfloat16'];
const BITS = { float16: float16Bits, bfloat16: bfloat16Bits };
const VALUE = { float16: float16Value, bfloat16: bfloat16Value };

/** float32 values where rounding to 16 bits is delicate: every value of the format, the midpoints
 *  between neighbours (ties) and one float32 ulp either side, the overflow edge, NaN/±inf/±0, and
 *  random float32 bit patterns over the whole range. */
function hardValues(h: Half): Float32Array {
  const out: number[] = [0, -0, NaN, Infinity, -Infinity, 65504, 65519.99, 65520, 65536, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -14, 3.4e38];
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  const bump = (v: number, d: number): number => { f[0] = v; u[0] = u[0]! + d; return f[0]!; };
  for (let p = 0; p < 0x7c00 && (h === 'float16' || p < 0x7f80); p += h === 'float16' ? 1 : 7) {
    const lo = VALUE[h](p), hi = VALUE[h](p + 1), mid = (lo + hi) / 2;
    for (const v of [lo, mid, bump(mid, 1), mid > 0 ? bump(mid, -1) : mid]) out.push(v, -v);
  }
  for (const r of noise(20000, 5)) { u[0] = Math.floor((r + 1) * 2 ** 31); out.push(f[0]!); }
  return Float32Array.from(out);
}

const view = (buffer: TypedArray, dtype: DType, shape: number[], strides: number[], offset = 0): V => ({ buffer, dtype, shape, strides, offset });

describe.each(HALVES)('fast cpu casts float32 ↔ %s', (h) => {
  it('float32 → 16 bits rounds as half.ts does (ties to even, overflow, subnormals, NaN), and back exactly', () => {
    const x = hardValues(h), n = x.length;
    for (const heap of [false, true]) {
      const src = heap ? allocTensorArray(n) ?? new Float32Array(n) : new Float32Array(n);
      src.set(x);
      const bits = new Uint16Array(n);
      expect(copy(view(src, 'float32', [n], [1]), view(bits, h, [n], [1]))).toBe(true);
      for (let i = 0; i < n; i++) if (bits[i] !== BITS[h](x[i]!)) throw new Error(`${h}(${x[i]}): ${bits[i]!.toString(16)}, want ${BITS[h](x[i]!).toString(16)}`);
      const back = heap ? allocTensorArray(n) ?? new Float32Array(n) : new Float32Array(n);
      expect(copy(view(bits, h, [n], [1]), view(back, 'float32', [n], [1]))).toBe(true);
      for (let i = 0; i < n; i++) if (!Object.is(back[i], Math.fround(VALUE[h](bits[i]!)))) throw new Error(`${h} ${bits[i]} decodes to ${back[i]}`);
      if (heap) { releaseTensorArray(src); releaseTensorArray(back); }
    }
  });

  it('strided and transposed layouts match the reference copy', () => {
    const x = Float32Array.from(noise(7 * 5 * 2, 9).map((v) => v * 1000));
    const src = view(x, 'float32', [5, 7], [1, 10], 1); // transposed, every other column of 10
    const got = new Uint16Array(80), want = new Uint16Array(80);
    const dst = (b: Uint16Array) => view(b, h, [5, 7], [2, 10], 3); // strided destination
    fastCpuKernels.copy(src, dst(got));
    cpuKernels.copy(src, dst(want));
    expect(Array.from(got)).toEqual(Array.from(want));
    const back = new Float32Array(35), backRef = new Float32Array(35);
    fastCpuKernels.copy(view(got, h, [7, 5], [10, 2], 3), view(back, 'float32', [7, 5], [5, 1]));
    cpuKernels.copy(view(got, h, [7, 5], [10, 2], 3), view(backRef, 'float32', [7, 5], [5, 1]));
    expect(Array.from(back)).toEqual(Array.from(backRef));
  });
});

/** An operand of dtype d with these values rounded to d, as a view of `shape` over a buffer laid out
 *  in `layout` order: 'row' (contiguous), 'col' (the last two dims transposed), or 'bcast' (the
 *  first dim broadcast from one copy). Returns the view and a float64 view of the same values. */
function operand(d: DType, shape: number[], seed: number, layout: 'row' | 'col' | 'bcast'): [V, V] {
  const r = shape.length;
  const stored = layout === 'bcast' ? [1, ...shape.slice(1)] : layout === 'col' ? [...shape.slice(0, r - 2), shape[r - 1]!, shape[r - 2]!] : shape;
  const base = contiguousView(d, stored, noise(stored.reduce((a, b) => a * b, 1), seed).map((v) => 3 * v));
  let strides = base.strides.slice();
  if (layout === 'col') strides = [...strides.slice(0, r - 2), strides[r - 1]!, strides[r - 2]!];
  if (layout === 'bcast') strides[0] = 0;
  const v = view(base.buffer, d, shape, strides);
  const v64 = view(Float64Array.from(readAll(base)), 'float64', shape, strides);
  return [v, v64];
}

/** Σ_k |a·b| for each output element (the scale of the matmul tolerance), from contiguous float64 copies. */
function absScale(a: V, b: V, shape: number[]): number[] {
  const absOf = (v: V): V => {
    const c = contiguousView('float64', v.shape);
    cpuKernels.copy(v, c);
    const arr = c.buffer as Float64Array;
    for (let i = 0; i < arr.length; i++) arr[i] = Math.abs(arr[i]!);
    return c;
  };
  const s = contiguousView('float64', shape);
  cpuKernels.matmul(absOf(a), absOf(b), s);
  return Array.from(readAll(s));
}

const CASES: { name: string; a: [number[], 'row' | 'col' | 'bcast']; b: [number[], 'row' | 'col' | 'bcast'] }[] = [
  { name: '1×1·1×1', a: [[1, 1], 'row'], b: [[1, 1], 'row'] },
  { name: '[5,37]·[37,6]', a: [[5, 37], 'row'], b: [[37, 6], 'row'] },
  { name: '[17,3]ᵀ-stored·[3,33]', a: [[17, 3], 'col'], b: [[3, 33], 'row'] },
  { name: '[9,65]·[65,13]ᵀ-stored', a: [[9, 65], 'row'], b: [[65, 13], 'col'] },
  { name: '[2,3,13,7]·[7,9] (shared B folds into rows)', a: [[2, 3, 13, 7], 'row'], b: [[7, 9], 'row'] },
  { name: 'batch 3: [3,11,20] broadcast · [3,20,5]ᵀ-stored', a: [[3, 11, 20], 'bcast'], b: [[3, 20, 5], 'col'] },
  { name: '[33,129]·[129,31] (more than a micro-tile)', a: [[33, 129], 'row'], b: [[129, 31], 'row'] },
];
const COMBOS: [DType, DType, DType][] = [
  ['float16', 'float16', 'float16'], ['bfloat16', 'bfloat16', 'bfloat16'],
  ['float16', 'float32', 'float32'], ['float32', 'bfloat16', 'bfloat16'], ['bfloat16', 'float16', 'float32'], ['float32', 'float32', 'float16'],
];

describe('fast cpu matmul on float16/bfloat16 operands', () => {
  describe.each(COMBOS)('%s · %s → %s', (da, db, dout) => {
    it.each(CASES)('$name', ({ a: [sa, la], b: [sb, lb] }) => {
      const [a, a64] = operand(da, sa, 1, la), [b, b64] = operand(db, sb, 2, lb);
      const r = sa.length;
      const shape = [...(sa.length >= sb.length ? sa : sb).slice(0, -2), sa[r - 2]!, sb[sb.length - 1]!];
      const K = sa[r - 1]!;
      // The 2-D B of a batched A reaches the kernels expanded, with stride-0 batch dims.
      const expand = (v: V): V => (sb.length < shape.length ? view(v.buffer, v.dtype, [...shape.slice(0, -2), ...sb], [...shape.slice(0, -2).map(() => 0), ...v.strides], v.offset) : v);
      const bx = expand(b), bx64 = expand(b64);
      const ref = contiguousView('float64', shape);
      cpuKernels.matmul(a64, bx64, ref);
      const out = contiguousView(dout, shape);
      expect(matmul(a, bx, out)).toBe(true); // the fast path takes it, no reference fallback
      expectWithinEps(Array.from(readAll(out)), Array.from(readAll(ref)), dout, FACTOR.matmul(dout as 'float16', 'float32', K), 'matmul', absScale(a64, bx64, shape));
    });
  });

  it('writes a strided 16-bit output (every other column) and leaves the gaps alone', () => {
    const [a, a64] = operand('float16', [6, 10], 3, 'row'), [b, b64] = operand('float16', [10, 4], 4, 'row');
    const buf = new Uint16Array(6 * 8).fill(0x1234);
    const out = view(buf, 'float16', [6, 4], [8, 2], 1);
    expect(matmul(a, b, out)).toBe(true);
    const ref = contiguousView('float64', [6, 4]);
    cpuKernels.matmul(a64, b64, ref);
    expectWithinEps(Array.from(readAll(out)), Array.from(readAll(ref)), 'float16', FACTOR.matmul('float16', 'float32', 10), 'strided out', absScale(a64, b64, [6, 4]));
    for (let i = 0; i < buf.length; i++) if (i % 2 === 0) expect(buf[i]).toBe(0x1234);
  });

  it('K = 0 gives zeros; float64 operands still decline', () => {
    const out = contiguousView('bfloat16', [3, 2]);
    (out.buffer as Uint16Array).fill(0x7fc0);
    expect(matmul(contiguousView('bfloat16', [3, 0]), contiguousView('float16', [0, 2]), out)).toBe(true);
    expect(Array.from(readAll(out))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(matmul(contiguousView('float64', [2, 2]), contiguousView('float16', [2, 2]), contiguousView('float16', [2, 2]))).toBe(false);
  });
});
