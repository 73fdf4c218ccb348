// The copy/fill family of the fast cpu tier: strided copies (transposes, head splits,
// `contiguous()`, dtype casts that are plain assignments) and fills.
//
// - copy: float32 → float32 between two views in the WebAssembly memory that share no bytes runs
//   `copy_f32` (../wasm/elementwise_program.ts) on up to four merged dims, threads splitting the
//   outermost dim with enough rows; every other pair of views among bool, int32, float32 and
//   float64 takes the TypeScript loops (`copyLoops`), overlapping views through a temporary. A
//   cast is an assignment (rows of 16+ unit-stride elements move with one TypedArray `set`, which
//   converts as an element store does), except into bool, which stores 1 for every non-zero value
//   (NaN included). float16/bfloat16 copy to their own dtype (bit patterns) and to/from float32
//   (`copyHalfF32`: half_arrays.ts's loops, rounding to nearest even); other pairs with them take
//   the reference.
// - fill: the TypeScript loops, any dtype and layout.
// Copies are exact: a store into int32 truncates and wraps (ECMAScript ToInt32, NaN → 0) and one
// into float32 rounds to nearest, as the reference's conversion does (cpu/strided.ts).

import { storedBits } from '../cpu/strided.js';
import { coalesce, contiguousStrides, forEachRow, numel, sharesMemory } from '../geometry.js';
import type { TypedArray, View } from '../types.js';
import { isF32 } from '../wasm/operands.js';
import { wasmRuntime } from '../wasm/runtime.js';
import { decodeRun, encodeRun } from './half_arrays.js';
import { FAST_CPU_CONFIG, splitRange, threadsFor } from '../wasm/schedule.js';

type V = View<TypedArray>;
type F32 = View<Float32Array>;

/**
 * float32 strided copy (transposes, head splits, `contiguous()`) between two views in the
 * WebAssembly memory that share no bytes: the dims merged as far as both layouts allow, up to four,
 * copied by `copy_f32` with the threads splitting the outermost dim with enough rows. Anything else
 * takes the TypeScript loops.
 */
export function copy(x: V, out: V): boolean {
  return (isF32(x) && isF32(out) && copyInMemory(x, out)) || copyHalfF32(x, out) || copyLoops(x, out);
}

const isHalf = (v: V): v is View<Uint16Array> & { dtype: 'float16' | 'bfloat16' } =>
  (v.dtype === 'float16' || v.dtype === 'bfloat16') && v.buffer instanceof Uint16Array;

/** float32 → float16/bfloat16 (round to nearest even) and back (exact), any layout of views that share no bytes. */
function copyHalfF32(x: V, out: V): boolean {
  if (sharesMemory(x, out)) return false;
  if (isF32(x) && isHalf(out)) {
    forEachRow(out.shape, [x, out], (offs, n, inner) =>
      encodeRun(out.dtype, n, { arr: x.buffer, off: offs[0]!, stride: inner[0]! }, { arr: out.buffer, off: offs[1]!, stride: inner[1]! }));
    return true;
  }
  if (isHalf(x) && isF32(out)) {
    forEachRow(out.shape, [x, out], (offs, n, inner) =>
      decodeRun(x.dtype, n, { arr: x.buffer, off: offs[0]!, stride: inner[0]! }, { arr: out.buffer, off: offs[1]!, stride: inner[1]! }));
    return true;
  }
  return false;
}

function copyInMemory(x: V, out: V): boolean {
  const rt = wasmRuntime();
  const xb = rt.addressOf(x.buffer), ob = rt.addressOf(out.buffer);
  if (xb < 0 || ob < 0 || sharesMemory(x, out)) return false;
  const total = numel(out.shape);
  if (total === 0) return true;
  const c = coalesce(out.shape, [x.strides, out.strides]);
  if (c.shape.length > 4) return false;
  const pad = <T>(v: T[], fill: T): T[] => [...new Array<T>(4 - v.length).fill(fill), ...v];
  const n = pad(c.shape, 1), s = pad(c.strides[0]!, 0).map((v) => v * 4), d = pad(c.strides[1]!, 0).map((v) => v * 4);
  rt.reset();
  const threads = threadsFor(rt, total, FAST_CPU_CONFIG.elementwiseParallelMin);
  const dim = Math.max(0, n.findIndex((v) => v >= threads));
  const src = xb + x.offset * 4, dst = ob + out.offset * 4;
  const parts = splitRange(n[dim]!, threads, 1).map(([lo, hi]) => {
    if (hi <= lo) return [];
    const m = n.slice();
    m[dim] = hi - lo;
    return [src + lo * s[dim]!, ...s, dst + lo * d[dim]!, ...d, ...m];
  });
  rt.parallel('copy_f32', 14, parts); // src, s0..s3, dst, d0..d3, n0..n3
  return true;
}

/** The dtypes whose values convert between each other by TypedArray stores (16-bit floats hold bit patterns). */
const NUMERIC: ReadonlySet<string> = new Set(['bool', 'int32', 'float32', 'float64']);

/**
 * Copies are exact by plain TypedArray assignment for these (source → destination) dtype pairs:
 * the same dtype (float16/bfloat16: the bit patterns), and any of bool/int32/float32/float64 into
 * int32, float32 or float64 (bool reads 0/1; a store into int32 is ToInt32, into float32 rounds).
 */
function copyIsAssignment(from: V, to: V): boolean {
  return from.dtype === to.dtype || (NUMERIC.has(from.dtype) && NUMERIC.has(to.dtype) && to.dtype !== 'bool');
}

/** int32/float32/float64 → bool: 1 where the value is non-zero (NaN too), 0 elsewhere. */
function copyToBool(x: V, out: V): void {
  const xb = x.buffer, ob = out.buffer;
  forEachRow(out.shape, [x, out], (offs, n, inner) => {
    const px = offs[0]!, po = offs[1]!, sx = inner[0]!, so = inner[1]!;
    for (let i = 0; i < n; i++) ob[po + i * so] = xb[px + i * sx] !== 0 ? 1 : 0;
  });
}

/**
 * float32 → float32 strided copy, kept in its own function so its element accesses only ever see
 * Float32Arrays (one shared loop over every TypedArray type makes V8's accesses megamorphic, ~10×
 * slower). Rows of 64+ unit-stride elements move with one `set`.
 */
function copyF32(xb: Float32Array, x: V, ob: Float32Array, out: V): void {
  if (numel(out.shape) === 0) return;
  const c = coalesce(out.shape, [x.strides, out.strides]);
  if (c.shape.length > 4) {
    forEachRow(out.shape, [x, out], (offs, n, inner) => {
      const px = offs[0]!, po = offs[1]!, sx = inner[0]!, so = inner[1]!;
      for (let i = 0; i < n; i++) ob[po + i * so] = xb[px + i * sx]!;
    });
    return;
  }
  // Up to four merged dims as plain nested loops (leading dims of size 1 pad the shape).
  const pad = 4 - c.shape.length;
  const n = [...new Array<number>(pad).fill(1), ...c.shape];
  const xs = [...new Array<number>(pad).fill(0), ...c.strides[0]!];
  const os = [...new Array<number>(pad).fill(0), ...c.strides[1]!];
  const [n0, n1, n2, n3] = n as [number, number, number, number];
  const [x0, x1, x2, x3] = xs as [number, number, number, number];
  const [o0, o1, o2, o3] = os as [number, number, number, number];
  if (x3 === 1 && o3 === 1 && n3 >= 64) {
    for (let a = 0, pa = x.offset, qa = out.offset; a < n0; a++, pa += x0, qa += o0) {
      for (let b = 0, pb = pa, qb = qa; b < n1; b++, pb += x1, qb += o1) {
        for (let d = 0, pd = pb, qd = qb; d < n2; d++, pd += x2, qd += o2) ob.set(xb.subarray(pd, pd + n3), qd);
      }
    }
  } else {
    copy4(xb, x.offset, x0, x1, x2, x3, ob, out.offset, o0, o1, o2, o3, n0, n1, n2, n3);
  }
}

/** ob[q + a·o0 + b·o1 + d·o2 + i·o3] = xb[p + a·x0 + b·x1 + d·x2 + i·x3] over an n0×n1×n2×n3 box. */
function copy4(xb: Float32Array, p: number, x0: number, x1: number, x2: number, x3: number,
  ob: Float32Array, q: number, o0: number, o1: number, o2: number, o3: number, n0: number, n1: number, n2: number, n3: number): void {
  for (let a = 0, pa = p, qa = q; a < n0; a++, pa += x0, qa += o0) {
    for (let b = 0, pb = pa, qb = qa; b < n1; b++, pb += x1, qb += o1) {
      for (let d = 0, pd = pb, qd = qb; d < n2; d++, pd += x2, qd += o2) {
        for (let i = 0, pi = pd, qi = qd; i < n3; i++, pi += x3, qi += o3) ob[qi] = xb[pi]!;
      }
    }
  }
}

/** out = x element by element, by assignment (the caller makes sure they do not overlap). */
export function copyAssign(x: V, out: V): void {
  const xb = x.buffer, ob = out.buffer;
  if (xb instanceof Float32Array && ob instanceof Float32Array) return copyF32(xb, x, ob, out);
  forEachRow(out.shape, [x, out], (offs, n, inner) => {
    const px = offs[0]!, po = offs[1]!, sx = inner[0]!, so = inner[1]!;
    if (sx === 1 && so === 1 && (n >= 16 || xb.constructor === ob.constructor)) {
      ob.set(xb.subarray(px, px + n) as never, po);
    } else {
      for (let i = 0; i < n; i++) ob[po + i * so] = xb[px + i * sx]!;
    }
  });
}

/** The TypeScript copy: any layout whose dtypes copy by assignment, overlapping views through a temporary. */
export function copyLoops(x: V, out: V): boolean {
  if (out.dtype === 'bool' && x.dtype !== 'bool' && NUMERIC.has(x.dtype)) {
    if (sharesMemory(x, out)) return false; // never made by core (bool has arrays of its own): the reference
    copyToBool(x, out);
    return true;
  }
  if (!copyIsAssignment(x, out)) return false;
  if (sharesMemory(x, out)) {
    // Overlapping views of one buffer: read everything first, as the reference does.
    const n = numel(x.shape);
    const tmp = new (x.buffer.constructor as new (n: number) => TypedArray)(n);
    const t: V = { buffer: tmp, dtype: x.dtype, shape: x.shape, strides: contiguousStrides(x.shape), offset: 0 };
    copyAssign(x, t);
    copyAssign(t, out);
    return true;
  }
  copyAssign(x, out);
  return true;
}

/** Fills any view with `value` converted to its dtype (a float16/bfloat16 view with the bit pattern). */
export function fill(out: V, value: number): boolean {
  const v = storedBits(out.dtype, value);
  const ob = out.buffer;
  forEachRow(out.shape, [out], (offs, n, inner) => {
    const po = offs[0]!, so = inner[0]!;
    if (so === 1) ob.fill(v, po, po + n);
    else for (let i = 0; i < n; i++) ob[po + i * so] = v;
  });
  return true;
}

/** A contiguous copy of a float32 view (used to break aliasing before an in-place write). */
export function detached(x: F32): F32 {
  const n = numel(x.shape);
  const buf = new Float32Array(n);
  const dst: F32 = { buffer: buf, dtype: 'float32', shape: x.shape, strides: contiguousStrides(x.shape), offset: 0 };
  copyAssign(x, dst);
  return dst;
}
