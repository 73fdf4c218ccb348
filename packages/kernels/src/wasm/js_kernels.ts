// Plain-TypeScript fast paths of the CPU kernels: tight loops straight over the TypedArrays for the
// memory-bound kernels whose work is too small, or too irregular in layout, to be worth a copy into
// the WebAssembly memory. Each function returns false when it does not handle the case (a dtype or
// layout outside its scope); the caller then runs the reference kernel, unchanged.
//
// Strided views are walked by `coalesce` + `forEachRow`: the dims of all operands are merged where
// every operand steps through them uniformly (size-1 dims dropped), so a contiguous tensor is one
// row and a transposed one a few nested rows; an odometer steps the outer dims and each kernel runs
// its own tight loop along the innermost one. No per-element offset arrays are built.
//
// Results: elementwise ops use the same scalar functions as the reference and round the same
// float64 value to float32, so they are bit-identical, except gelu/erf, whose erf comes from a table
// with a short Taylor expansion (absolute error below 1e-12, far under float32 resolution). Sums
// accumulate in float64 like the reference but in blocked order, so they may differ from it in the
// last float32 bit. The row kernels (softmax backward, layerNorm backward, cross-entropy) use the
// reference's float64 arithmetic in the reference's order.

import { BINARY_FNS, UNARY_FNS, erf as erfRef } from '../cpu/elementwise.js';
import { THREEFRY_PARITY, THREEFRY_ROTATIONS, keyForSeed } from '../cpu/random.js';
import { convertTo } from '../cpu/strided.js';
import { aliasesDifferently, coalesce, contiguousStrides, isContiguous, numel, rowsOf, sharesMemory } from '../geometry.js';
import { BOOL_RESULT_OPS } from '../types.js';
import type { BinaryOp, CrossEntropyOptions, RandomOptions, ReduceOp, TypedArray, UnaryOp, View } from '../types.js';

type V = View<TypedArray>;
type F32 = View<Float32Array>;

export const isF32 = (v: V): v is F32 => v.dtype === 'float32' && v.buffer instanceof Float32Array;
const isFloat = (v: V): boolean => v.dtype === 'float32' || v.dtype === 'float64';

// ---- strided walking ---------------------------------------------------------------------------

/**
 * Calls `fn(offs, n)` once per innermost row of the coalesced walk over `views` (all of `shape`),
 * with `offs[k]` the buffer offset of the row's first element in operand k; the row has `n`
 * elements and operand k steps by `inner[k]` along it (returned for the caller's loop).
 */
function forEachRow(shape: readonly number[], views: readonly V[], fn: (offs: number[], n: number, inner: number[]) => void): void {
  if (numel(shape) === 0) return;
  const c = coalesce(shape, views.map((v) => v.strides));
  if (c.shape.length === 0) return fn(views.map((v) => v.offset), 1, views.map(() => 0)); // one element
  const r = c.shape.length;
  const n = c.shape[r - 1]!;
  const inner = c.strides.map((s) => s[r - 1]!);
  const base = views.map((v) => v.offset);
  if (r === 1) return fn(base, n, inner);
  // Odometer over the outer dims, keeping each operand's row offset in step.
  const idx = new Array<number>(r - 1).fill(0);
  const offs = base.slice();
  const rows = numel(c.shape.slice(0, r - 1));
  for (let row = 0; row < rows; row++) {
    fn(offs, n, inner);
    for (let d = r - 2; d >= 0; d--) {
      const sd = c.shape[d]!;
      if (++idx[d]! < sd) {
        for (let k = 0; k < offs.length; k++) offs[k]! += c.strides[k]![d]!;
        break;
      }
      idx[d] = 0;
      for (let k = 0; k < offs.length; k++) offs[k]! -= c.strides[k]![d]! * (sd - 1);
    }
  }
}

/** A contiguous copy of a float32 view (used to break aliasing before an in-place write). */
function detached(x: F32): F32 {
  const n = numel(x.shape);
  const buf = new Float32Array(n);
  const dst: F32 = { buffer: buf, dtype: 'float32', shape: x.shape, strides: contiguousStrides(x.shape), offset: 0 };
  copyLoop(x, dst);
  return dst;
}

// ---- erf / gelu --------------------------------------------------------------------------------

// erf on a table: nodes x_i = i/32 on [0, 6] hold erf(x_i) (from the reference) and
// c_i = 2/√π·e^{-x_i²}. Near a node, erf(x_i + h) = erf(x_i) + c_i·(h - x_i h² + (2x_i²-1)/3 h³
// + (3x_i - 2x_i³)/6 h⁴ + (4x_i⁴ - 12x_i² + 3)/30 h⁵) + O(h⁶) (the derivatives of erf are Hermite
// polynomials times e^{-x²}); with |h| ≤ 1/64 the remainder is below 1e-12. For |x| ≥ 6, erf = ±1.
const ERF_SCALE = 32;
const ERF_NODES = 6 * ERF_SCALE + 1;
const ERF_TAB = new Float64Array(ERF_NODES * 6);
for (let i = 0; i < ERF_NODES; i++) {
  const x = i / ERF_SCALE, x2 = x * x;
  ERF_TAB.set([erfRef(x), 1.1283791670955126 * Math.exp(-x2), -x, (2 * x2 - 1) / 3, (3 * x - 2 * x2 * x) / 6,
    (4 * x2 * x2 - 12 * x2 + 3) / 30], i * 6);
}

export function fastErf(x: number): number {
  if (x === 0 || x !== x) return x; // keeps -0 and NaN, like the reference
  const ax = x < 0 ? -x : x;
  if (ax >= 6) return x < 0 ? -1 : 1;
  const i = (ax * ERF_SCALE + 0.5) | 0;
  const h = ax - i / ERF_SCALE;
  const t = i * 6;
  const r = ERF_TAB[t]! + ERF_TAB[t + 1]! * h * (1 + h * (ERF_TAB[t + 2]! + h * (ERF_TAB[t + 3]! + h * (ERF_TAB[t + 4]! + h * ERF_TAB[t + 5]!))));
  return x < 0 ? -r : r;
}

const SQRT_HALF = 0.7071067811865476;

// ---- unary -------------------------------------------------------------------------------------

/** o[po + i·so] = op(x[px + i·sx]) for i < n, the hot ops as dedicated loops. */
function unaryRow(op: UnaryOp, x: Float32Array, px: number, sx: number, o: Float32Array, po: number, so: number, n: number): void {
  switch (op) {
    case 'gelu':
      for (let i = 0; i < n; i++) { const v = x[px + i * sx]!; o[po + i * so] = 0.5 * v * (1 + fastErf(v * SQRT_HALF)); }
      return;
    case 'erf':
      for (let i = 0; i < n; i++) o[po + i * so] = fastErf(x[px + i * sx]!);
      return;
    case 'exp':
      for (let i = 0; i < n; i++) o[po + i * so] = Math.exp(x[px + i * sx]!);
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) o[po + i * so] = Math.tanh(x[px + i * sx]!);
      return;
    case 'neg':
      for (let i = 0; i < n; i++) o[po + i * so] = -x[px + i * sx]!;
      return;
    case 'square':
      for (let i = 0; i < n; i++) { const v = x[px + i * sx]!; o[po + i * so] = v * v; }
      return;
    case 'relu':
      for (let i = 0; i < n; i++) o[po + i * so] = Math.max(x[px + i * sx]!, 0);
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) o[po + i * so] = Math.sqrt(x[px + i * sx]!);
      return;
    case 'rsqrt':
      for (let i = 0; i < n; i++) o[po + i * so] = 1 / Math.sqrt(x[px + i * sx]!);
      return;
    case 'log':
      for (let i = 0; i < n; i++) o[po + i * so] = Math.log(x[px + i * sx]!);
      return;
    default: {
      const f = UNARY_FNS[op];
      for (let i = 0; i < n; i++) o[po + i * so] = f(x[px + i * sx]!);
    }
  }
}

export function unary(op: UnaryOp, x: V, out: V): boolean {
  if (!isF32(x) || !isF32(out) || op === 'logicalNot') return false;
  const src = aliasesDifferently(x, out) ? detached(x) : x;
  const xb = src.buffer, ob = out.buffer;
  forEachRow(out.shape, [src, out], (offs, n, inner) => unaryRow(op, xb, offs[0]!, inner[0]!, ob, offs[1]!, inner[1]!, n));
  return true;
}

// ---- binary / where ------------------------------------------------------------------------------

export function binary(op: BinaryOp, a: V, b: V, out: V): boolean {
  if (!isF32(a) || !isF32(b) || !(isF32(out) || out.dtype === 'bool')) return false;
  const arith = out.dtype === 'float32';
  if (arith === BOOL_RESULT_OPS.has(op)) return false;
  const A = aliasesDifferently(a, out) ? detached(a) : a;
  const B = aliasesDifferently(b, out) ? detached(b) : b;
  const ab = A.buffer, bb = B.buffer, ob = out.buffer;
  const f = BINARY_FNS[op];
  forEachRow(out.shape, [A, B, out], (offs, n, inner) => {
    const pa = offs[0]!, pb = offs[1]!, po = offs[2]!, sa = inner[0]!, sb = inner[1]!, so = inner[2]!;
    switch (op) {
      case 'add': for (let i = 0; i < n; i++) ob[po + i * so] = ab[pa + i * sa]! + bb[pb + i * sb]!; return;
      case 'sub': for (let i = 0; i < n; i++) ob[po + i * so] = ab[pa + i * sa]! - bb[pb + i * sb]!; return;
      case 'mul': for (let i = 0; i < n; i++) ob[po + i * so] = ab[pa + i * sa]! * bb[pb + i * sb]!; return;
      case 'div': for (let i = 0; i < n; i++) ob[po + i * so] = ab[pa + i * sa]! / bb[pb + i * sb]!; return;
      default:
        // Comparisons return 1/0, which a bool (Uint8Array) output stores as is.
        for (let i = 0; i < n; i++) ob[po + i * so] = f(ab[pa + i * sa]!, bb[pb + i * sb]!);
    }
  });
  return true;
}

export function where(cond: V, a: V, b: V, out: V): boolean {
  if (!isF32(a) || !isF32(b) || !isF32(out)) return false;
  const C = sharesMemory(cond, out) ? null : cond;
  if (!C) return false;
  const A = aliasesDifferently(a, out) ? detached(a) : a;
  const B = aliasesDifferently(b, out) ? detached(b) : b;
  const cb = C.buffer, ab = A.buffer, bb = B.buffer, ob = out.buffer;
  forEachRow(out.shape, [C, A, B, out], (offs, n, inner) => {
    const pc = offs[0]!, pa = offs[1]!, pb = offs[2]!, po = offs[3]!;
    const sc = inner[0]!, sa = inner[1]!, sb = inner[2]!, so = inner[3]!;
    // `!== 0` is true for NaN too: any non-zero condition picks a, like the reference.
    for (let i = 0; i < n; i++) ob[po + i * so] = cb[pc + i * sc] !== 0 ? ab[pa + i * sa]! : bb[pb + i * sb]!;
  });
  return true;
}

// ---- copy / fill -----------------------------------------------------------------------------------

/** Copies are exact by plain TypedArray assignment for these (source → destination) dtype pairs. */
function copyIsAssignment(from: V, to: V): boolean {
  if (from.dtype === to.dtype) return true;
  // int32 and float32 → float64 are exact; int32/float64 → float32 rounds to nearest, as Math.fround does.
  return (to.dtype === 'float64' && from.dtype !== 'bool') || (to.dtype === 'float32' && (from.dtype === 'int32' || from.dtype === 'float64'));
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

function copyLoop(x: V, out: V): void {
  const xb = x.buffer, ob = out.buffer;
  if (xb instanceof Float32Array && ob instanceof Float32Array) return copyF32(xb, x, ob, out);
  forEachRow(out.shape, [x, out], (offs, n, inner) => {
    const px = offs[0]!, po = offs[1]!, sx = inner[0]!, so = inner[1]!;
    if (sx === 1 && so === 1 && xb.constructor === ob.constructor) {
      ob.set(xb.subarray(px, px + n) as never, po);
    } else {
      for (let i = 0; i < n; i++) ob[po + i * so] = xb[px + i * sx]!;
    }
  });
}

export function copy(x: V, out: V): boolean {
  if (!copyIsAssignment(x, out)) return false;
  if (sharesMemory(x, out)) {
    // Overlapping views of one buffer: read everything first, as the reference does.
    const n = numel(x.shape);
    const tmp = new (x.buffer.constructor as new (n: number) => TypedArray)(n);
    const t: V = { buffer: tmp, dtype: x.dtype, shape: x.shape, strides: contiguousStrides(x.shape), offset: 0 };
    copyLoop(x, t);
    copyLoop(t, out);
    return true;
  }
  copyLoop(x, out);
  return true;
}

export function fill(out: V, value: number): boolean {
  const v = convertTo(out.dtype, value);
  const ob = out.buffer;
  forEachRow(out.shape, [out], (offs, n, inner) => {
    const po = offs[0]!, so = inner[0]!;
    if (so === 1) ob.fill(v, po, po + n);
    else for (let i = 0; i < n; i++) ob[po + i * so] = v;
  });
  return true;
}

// ---- random ----------------------------------------------------------------------------------------

const TWO_POW_32 = 4294967296;
const TWO_POW_M24 = 1 / 16777216;
const TWO_PI = 2 * Math.PI;

/** Threefry-2x32-20 as in the reference, written out without allocations; returns w0, sets W1. */
let W1 = 0;
function threefry(k0: number, k1: number, k2: number, c0: number, c1: number): number {
  const R = THREEFRY_ROTATIONS;
  const ks0 = k0, ks1 = k1, ks2 = k2;
  let x0 = (c0 + ks0) >>> 0;
  let x1 = (c1 + ks1) >>> 0;
  for (let r = 0; r < 20; r++) {
    x0 = (x0 + x1) >>> 0;
    const rot = R[r & 7]!;
    x1 = ((x1 << rot) | (x1 >>> (32 - rot))) >>> 0;
    x1 = (x1 ^ x0) >>> 0;
    if ((r & 3) === 3) {
      const s = (r + 1) >> 2;
      const m = s % 3;
      x0 = (x0 + (m === 0 ? ks0 : m === 1 ? ks1 : ks2)) >>> 0;
      const m1 = (s + 1) % 3;
      x1 = (x1 + (m1 === 0 ? ks0 : m1 === 1 ? ks1 : ks2) + s) >>> 0;
    }
  }
  W1 = x1;
  return x0;
}

export function random(out: V, opts: RandomOptions): boolean {
  if (!isFloat(out)) return false;
  const { seed, offset, distribution } = opts;
  const [k0, k1] = keyForSeed(seed);
  const k2 = (THREEFRY_PARITY ^ k0 ^ k1) >>> 0;
  const ob = out.buffer;
  const normal = distribution === 'normal';
  let i = 0; // logical element index, row-major
  forEachRow(out.shape, [out], (offs, n, inner) => {
    const po = offs[0]!, so = inner[0]!;
    for (let j = 0; j < n; j++, i++) {
      const c = offset + i;
      const w0 = threefry(k0, k1, k2, c >>> 0, Math.floor(c / TWO_POW_32) >>> 0);
      ob[po + j * so] = normal
        ? Math.sqrt(-2 * Math.log(((w0 >>> 8) + 1) * TWO_POW_M24)) * Math.cos(TWO_PI * ((W1 >>> 8) * TWO_POW_M24))
        : (w0 >>> 8) * TWO_POW_M24;
    }
  });
  return true;
}

// ---- reduce -------------------------------------------------------------------------------------------

/**
 * Reductions over any set of axes of a float view, accumulated in float64. The walk goes over x in
 * its coalesced row-major order with the output offset kept alongside (stride 0 on reduced dims):
 * when the innermost dim is reduced, each row folds into one accumulator (sum over the last axis);
 * when it is kept, the row is folded elementwise into a run of accumulators (column sums over
 * leading axes). Either way the inner loop is a tight unit- or fixed-stride loop.
 */
export function reduce(op: ReduceOp, x: V, axes: readonly number[], out: V): boolean {
  if (!isFloat(x) || !isFloat(out)) return false;
  const rank = x.shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  for (const a of axes) reduced[a < 0 ? a + rank : a] = true;
  const outShape = x.shape.map((s, d) => (reduced[d] ? 1 : s));
  const nOut = numel(outShape);
  const toOut = new Array<number>(rank).fill(0);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    toOut[d] = reduced[d] ? 0 : s;
    s *= outShape[d]!;
  }
  const init = op === 'sum' ? 0 : op === 'prod' ? 1 : op === 'max' ? -Infinity : Infinity;
  const acc = new Float64Array(nOut).fill(init);
  const xb = x.buffer;
  const accView: V = { buffer: acc, dtype: 'float64', shape: x.shape, strides: toOut, offset: 0 };
  forEachRow(x.shape, [x, accView], (offs, n, inner) => {
    const px = offs[0]!, pa = offs[1]!, sx = inner[0]!, sa = inner[1]!;
    if (sa === 0) {
      let r = acc[pa]!;
      switch (op) {
        case 'sum': for (let i = 0; i < n; i++) r += xb[px + i * sx]!; break;
        case 'prod': for (let i = 0; i < n; i++) r *= xb[px + i * sx]!; break;
        // Once r is NaN no comparison replaces it, so NaN propagates like the reference's.
        case 'max': for (let i = 0; i < n; i++) { const v = xb[px + i * sx]!; if (v > r || v !== v) r = v; } break;
        case 'min': for (let i = 0; i < n; i++) { const v = xb[px + i * sx]!; if (v < r || v !== v) r = v; } break;
      }
      acc[pa] = r;
    } else {
      switch (op) {
        case 'sum': for (let i = 0; i < n; i++) acc[pa + i * sa] += xb[px + i * sx]!; break;
        case 'prod': for (let i = 0; i < n; i++) acc[pa + i * sa] *= xb[px + i * sx]!; break;
        case 'max': for (let i = 0; i < n; i++) { const v = xb[px + i * sx]!, r = acc[pa + i * sa]!; if (v > r || (v !== v && r === r)) acc[pa + i * sa] = v; } break;
        case 'min': for (let i = 0; i < n; i++) { const v = xb[px + i * sx]!, r = acc[pa + i * sa]!; if (v < r || (v !== v && r === r)) acc[pa + i * sa] = v; } break;
      }
    }
  });
  copyLoop({ buffer: acc, dtype: 'float64', shape: outShape, strides: contiguousStrides(outShape), offset: 0 }, out);
  return true;
}

// ---- rows: softmax backward, layerNorm backward, cross-entropy -------------------------------------------

const allF32Contiguous = (...vs: (V | null)[]): boolean => vs.every((v) => v === null || (isF32(v) && isContiguous(v)));

export function softmaxBackward(y: V, dy: V, out: V, log: boolean): boolean {
  if (!allF32Contiguous(y, dy, out)) return false;
  const { rows, cols } = rowsOf(y.shape);
  const ys = y.buffer, gs = dy.buffer, dx = out.buffer;
  const oy = y.offset, og = dy.offset, oo = out.offset;
  const tmp = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let dot = 0, sum = 0;
    for (let j = 0; j < cols; j++) {
      const g = gs[og + base + j]!;
      dot += g * ys[oy + base + j]!;
      sum += g;
    }
    // Computed into a scratch row first so that `out` may alias `dy` or `y`.
    if (log) for (let j = 0; j < cols; j++) tmp[j] = gs[og + base + j]! - Math.exp(ys[oy + base + j]!) * sum;
    else for (let j = 0; j < cols; j++) tmp[j] = ys[oy + base + j]! * (gs[og + base + j]! - dot);
    for (let j = 0; j < cols; j++) dx[oo + base + j] = tmp[j]!;
  }
  return true;
}

export function layerNormBackward(x: V, weight: V | null, mean: V, rstd: V, dy: V, dx: V, dweight: V | null, dbias: V | null): boolean {
  if (!allF32Contiguous(x, weight, mean, rstd, dy, dx, dweight, dbias)) return false;
  const { rows, cols: D } = rowsOf(x.shape);
  const xs = x.buffer, gs = dy.buffer, out = dx.buffer, ms = mean.buffer, rs_ = rstd.buffer;
  const ox = x.offset, og = dy.offset, oo = dx.offset;
  const w = new Float64Array(D).fill(1);
  if (weight) for (let j = 0; j < D; j++) w[j] = weight.buffer[weight.offset + j]!;
  const dw = new Float64Array(D), db = new Float64Array(D), xh = new Float64Array(D), g = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    const mu = ms[mean.offset + r]!, rs = rs_[rstd.offset + r]!;
    let meanG = 0, meanGX = 0;
    for (let j = 0; j < D; j++) {
      const gj = gs[og + base + j]!;
      const h = (xs[ox + base + j]! - mu) * rs;
      const gw = gj * w[j]!;
      xh[j] = h;
      g[j] = gw;
      meanG += gw;
      meanGX += gw * h;
      dw[j] += gj * h;
      db[j] += gj;
    }
    meanG /= D;
    meanGX /= D;
    for (let j = 0; j < D; j++) out[oo + base + j] = rs * (g[j]! - meanG - xh[j]! * meanGX);
  }
  if (dweight) for (let j = 0; j < D; j++) dweight.buffer[dweight.offset + j] = dw[j]!;
  if (dbias) for (let j = 0; j < D; j++) dbias.buffer[dbias.offset + j] = db[j]!;
  return true;
}

function checkTarget(kernel: string, t: number, C: number, ignoreIndex: number): boolean {
  if (t === ignoreIndex) return false;
  if (!(t >= 0 && t < C)) {
    throw new RangeError(`${kernel}: target ${t} is out of range for ${C} classes (valid: 0..${C - 1}, or ignoreIndex ${ignoreIndex})`);
  }
  return true;
}

/** Class weights as float64 (ones when null); null when the weight view is not a plain vector. */
function classWeights(weight: V | null, C: number): Float64Array {
  const w = new Float64Array(C).fill(1);
  if (weight) {
    const st = weight.shape.length === 0 ? 0 : weight.strides[0]!;
    for (let c = 0; c < C; c++) w[c] = weight.buffer[weight.offset + c * st]!;
  }
  return w;
}

const vec1d = (v: V): boolean => v.shape.length === 1;

export function crossEntropy(logits: V, targets: V, weight: V | null, opts: CrossEntropyOptions, loss: V, lse: V): boolean {
  if (!allF32Contiguous(logits) || logits.shape.length !== 2 || !vec1d(targets) || !vec1d(loss) || !vec1d(lse)
    || (weight && !vec1d(weight)) || !isFloat(loss) || !isFloat(lse)) return false;
  const [N, C] = [logits.shape[0]!, logits.shape[1]!];
  const xs = logits.buffer, ox = logits.offset;
  const w = classWeights(weight, C);
  const eps = opts.labelSmoothing;
  for (let n = 0; n < N; n++) {
    const base = ox + n * C;
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, xs[base + c]!);
    let l = -Infinity;
    if (m !== -Infinity) {
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(xs[base + c]! - m);
      l = m + Math.log(s);
    }
    lse.buffer[lse.offset + n * lse.strides[0]!] = l;
    const t = targets.buffer[targets.offset + n * targets.strides[0]!]!;
    let value = 0;
    if (checkTarget('crossEntropy', t, C, opts.ignoreIndex)) {
      let smooth = 0;
      if (eps !== 0) for (let c = 0; c < C; c++) smooth += w[c]! * (l - xs[base + c]!);
      value = (1 - eps) * w[t]! * (l - xs[base + t]!) + (eps / C) * smooth;
    }
    loss.buffer[loss.offset + n * loss.strides[0]!] = value;
  }
  return true;
}

export function crossEntropyBackward(logits: V, targets: V, weight: V | null, lse: V, dloss: V, opts: CrossEntropyOptions,
  dlogits: V): boolean {
  if (!allF32Contiguous(logits, dlogits) || logits.shape.length !== 2 || !vec1d(targets) || !vec1d(lse) || !vec1d(dloss)
    || (weight && !vec1d(weight))) return false;
  const [N, C] = [logits.shape[0]!, logits.shape[1]!];
  const xs = logits.buffer, ox = logits.offset, dx = dlogits.buffer, od = dlogits.offset;
  const w = classWeights(weight, C);
  let W = 0;
  for (let c = 0; c < C; c++) W += w[c]!;
  const eps = opts.labelSmoothing;
  const row = new Float64Array(C); // scratch, so dlogits may alias logits
  for (let n = 0; n < N; n++) {
    const t = targets.buffer[targets.offset + n * targets.strides[0]!]!;
    if (!checkTarget('crossEntropyBackward', t, C, opts.ignoreIndex)) {
      dx.fill(0, od + n * C, od + (n + 1) * C);
      continue;
    }
    const l = lse.buffer[lse.offset + n * lse.strides[0]!]!;
    const gn = dloss.buffer[dloss.offset + n * dloss.strides[0]!]!;
    const base = ox + n * C;
    const hardW = (1 - eps) * w[t]!;
    for (let c = 0; c < C; c++) {
      const p = Math.exp(xs[base + c]! - l);
      const hard = hardW * (p - (c === t ? 1 : 0));
      const smooth = (eps / C) * (W * p - w[c]!);
      row[c] = gn * (hard + smooth);
    }
    for (let c = 0; c < C; c++) dx[od + n * C + c] = row[c]!;
  }
  return true;
}

// ---- indexing: indexSelect / indexAdd as row copies ----------------------------------------------------

function checkIndex(kernel: string, i: number, size: number, dim: number): void {
  if (!(i >= 0 && i < size)) {
    throw new RangeError(`${kernel}: index ${i} is out of range for dimension ${dim} of size ${size} (valid: 0..${size - 1})`);
  }
}

function readIndex1d(kernel: string, index: V, size: number, dim: number): Int32Array {
  const n = index.shape.length === 0 ? 1 : index.shape[0]!;
  const stride = index.shape.length === 0 ? 0 : index.strides[0]!;
  const values = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const i = index.buffer[index.offset + j * stride]!;
    checkIndex(kernel, i, size, dim);
    values[j] = i;
  }
  return values;
}

/** out[o, j, k] = x[o, index[j], k] with o the dims before `dim` and k those after (slices copied whole). */
export function indexSelect(x: V, dim: number, index: V, out: V): boolean {
  if (x.dtype !== out.dtype || !isContiguous(x) || !isContiguous(out) || sharesMemory(x, out) || index.dtype !== 'int32') return false;
  const idx = readIndex1d('indexSelect', index, x.shape[dim]!, dim);
  const outer = numel(x.shape.slice(0, dim)), inner = numel(x.shape.slice(dim + 1));
  const S = x.shape[dim]!, L = idx.length;
  const xb = x.buffer, ob = out.buffer;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < L; j++) {
      const src = x.offset + (o * S + idx[j]!) * inner, dst = out.offset + (o * L + j) * inner;
      if (inner >= 16) ob.set(xb.subarray(src, src + inner) as never, dst);
      else for (let k = 0; k < inner; k++) ob[dst + k] = xb[src + k]!;
    }
  }
  return true;
}

/**
 * out[o, index[i], k] += src[o, i, k], in src's row-major order: each add rounds to float32, exactly
 * like the reference's read-add-store, so repeated indices accumulate identically.
 */
export function indexAdd(out: V, dim: number, index: V, src: V): boolean {
  if (!isF32(out) || !isF32(src) || !isContiguous(out) || !isContiguous(src) || sharesMemory(src, out) || index.dtype !== 'int32') return false;
  const idx = readIndex1d('indexAdd', index, out.shape[dim]!, dim);
  const outer = numel(out.shape.slice(0, dim)), inner = numel(out.shape.slice(dim + 1));
  const S = out.shape[dim]!, L = idx.length;
  const ob = out.buffer, sb = src.buffer;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < L; i++) {
      const d = out.offset + (o * S + idx[i]!) * inner, s = src.offset + (o * L + i) * inner;
      for (let k = 0; k < inner; k++) ob[d + k] += sb[s + k]!;
    }
  }
  return true;
}
