// WebAssembly SIMD programs for the float32 "rows" kernels: softmax / logSoftmax and layerNorm over
// the last dimension of a contiguous [rows, cols] block. Each thread is handed a range of rows.
// (layerNorm backward, at the end, works in float64 lanes on one thread; see its comment.)
//
// Vectorization: a row is walked four floats at a time (f32x4) with a scalar tail for cols % 4, and
// row reductions (max, sum) keep four partial lanes that are combined at the end of the row as
// (l0 + l1) + (l2 + l3) followed by the tail in order — a fixed order, so results never depend on
// the thread count. Arithmetic is float32 (the reference works in float64), so results agree with
// the reference to float32 rounding (about 1e-6 relative), not bit for bit.
//
// exp: `emitExp` (elementwise/wasm_math32.ts) evaluates it in-line on four float32 lanes; inputs
//   below -87.33 give 0, which keeps exp(-∞) = 0 exact for masked logits.
//
// log: `emitLog` is fdlibm's logf on four lanes: x = 2ᵏ·m with m ∈ [√½, √2) taken from the float's
//   bits (subnormals first scaled by 2²⁵), f = m − 1 (exact), s = f/(2 + f), and
//   log(1 + f) = f − f²/2 + s·(f²/2 + R(s²)) with fdlibm's degree-4 fit R of 2·atanh(s)/s − 2 in s²,
//   plus k·ln2 (split high/low). Error below 1 ulp of the result: 0.835 ulp at most over every
//   positive finite float (checked exhaustively against float64 Math.log; the test samples a million).
//   log(+∞) = +∞, log(±0) = −∞, log(x < 0) = NaN, NaN stays NaN.

import { emitExp } from '../elementwise/wasm_math32.js';
import type { FuncBuilder, FuncRef, Local, ModuleBuilder } from '../wasm/emitter.js';

const splat4 = (c: number): [number, number, number, number] => [c, c, c, c];

export { emitExp };

const LOG_LN2_HI = 0.693138122559; // 0x3f317180: k·LOG_LN2_HI is exact for the k of a float32
const LOG_LN2_LO = 9.0580006145e-6; // 0x3717f7d1
const LOG_LG = [0xaaaaaa / 2 ** 24, 0xccce13 / 2 ** 25, 0x91e9ee / 2 ** 25, 0xf89e26 / 2 ** 26] as const;
const SQRT_HALF_BITS = 0x3f3504f3;
const splatI32 = (c: number): [number, number, number, number] => [c, c, c, c];

/** out = log(x) on four lanes (see the header); the five `t` are scratch v128 locals, x is left unchanged. */
export function emitLog(f: FuncBuilder, x: Local<'v128'>, out: Local<'v128'>,
  t: readonly [Local<'v128'>, Local<'v128'>, Local<'v128'>, Local<'v128'>, Local<'v128'>]): void {
  const [a, s, z, w, dk] = t;
  const c = (v: number) => f.v128Const(splat4(v));
  // Subnormals (and 0 and negatives, replaced at the end) scaled by 2²⁵ into the normal range.
  f.set(z, f.f32x4Lt(f.get(x), c(2 ** -126)));
  f.set(a, f.v128Bitselect(f.f32x4Mul(f.get(x), c(2 ** 25)), f.get(x), f.get(z)));
  f.set(dk, f.v128And(c(-25), f.get(z)));
  // Biased so that the exponent field counts from √½: k = field − 127, m's bits = mantissa + bits(√½).
  f.set(a, f.i32x4Add(f.get(a), f.v128ConstI32(splatI32(0x3f800000 - SQRT_HALF_BITS))));
  // k as a float: the field (< 2⁸) placed in the mantissa of 2²³, then 2²³ + 127 taken off.
  f.set(dk, f.f32x4Add(f.get(dk), f.f32x4Sub(f.v128Or(f.i32x4ShrU(f.get(a), f.i32(23)), f.v128ConstI32(splatI32(0x4b000000))),
    c(2 ** 23 + 127))));
  f.set(a, f.f32x4Sub(f.i32x4Add(f.v128And(f.get(a), f.v128ConstI32(splatI32(0x007fffff))), f.v128ConstI32(splatI32(SQRT_HALF_BITS))), c(1)));
  f.set(s, f.f32x4Div(f.get(a), f.f32x4Add(c(2), f.get(a))));
  f.set(z, f.f32x4Mul(f.get(s), f.get(s)));
  f.set(w, f.f32x4Mul(f.get(z), f.get(z)));
  // R = z·(Lg1 + w·Lg3) + w·(Lg2 + w·Lg4)
  f.set(out, f.f32x4Add(f.f32x4Mul(f.get(z), f.f32x4Add(c(LOG_LG[0]), f.f32x4Mul(f.get(w), c(LOG_LG[2])))),
    f.f32x4Mul(f.get(w), f.f32x4Add(c(LOG_LG[1]), f.f32x4Mul(f.get(w), c(LOG_LG[3]))))));
  f.set(z, f.f32x4Mul(f.f32x4Mul(c(0.5), f.get(a)), f.get(a))); // f²/2
  // s·(f²/2 + R) + k·ln2_lo − f²/2 + f + k·ln2_hi, in this order (the small terms first).
  f.set(out, f.f32x4Add(f.f32x4Add(f.f32x4Sub(f.f32x4Add(f.f32x4Mul(f.get(s), f.f32x4Add(f.get(z), f.get(out))),
    f.f32x4Mul(f.get(dk), c(LOG_LN2_LO))), f.get(z)), f.get(a)), f.f32x4Mul(f.get(dk), c(LOG_LN2_HI))));
  // +∞ and NaN give x itself, ±0 gives −∞, negatives NaN.
  f.set(out, f.v128Bitselect(f.get(x), f.get(out), f.v128Or(f.f32x4Eq(f.get(x), c(Infinity)), f.f32x4Ne(f.get(x), f.get(x)))));
  f.set(out, f.v128Bitselect(c(-Infinity), f.get(out), f.f32x4Eq(f.get(x), c(0))));
  f.set(out, f.v128Bitselect(c(NaN), f.get(out), f.f32x4Lt(f.get(x), c(0))));
}

/** Horizontal sum of four lanes in the fixed order (l0 + l1) + (l2 + l3). */
export function hsum(f: FuncBuilder, v: Local<'v128'>) {
  return f.f32Add(f.f32Add(f.f32x4ExtractLane(f.get(v), 0), f.f32x4ExtractLane(f.get(v), 1)),
    f.f32Add(f.f32x4ExtractLane(f.get(v), 2), f.f32x4ExtractLane(f.get(v), 3)));
}

/**
 * softmax_rows(x, out, rows, cols, log): out[r, :] = softmax(x[r, :]) or logSoftmax, rows contiguous.
 * Max-subtracted like the reference: m = max x, s = Σ exp(x - m), y = exp(x - m)/s or x - m - log s.
 */
export function addSoftmax(m: ModuleBuilder, logImport: number): FuncRef<null> {
  return m.func('softmax_rows', ['i32', 'i32', 'i32', 'i32', 'i32'] as const, null, (f, x, out, rows, cols, log) => {
    const r = f.local('i32'), j = f.local('i32'), xr = f.local('i32'), yr = f.local('i32'), vecEnd = f.local('i32');
    const mx = f.local('f32'), s = f.local('f32'), ls = f.local('f32');
    const v = f.local('v128'), acc = f.local('v128'), e = f.local('v128'), t = f.local('v128'), n = f.local('v128');
    const vm = f.local('v128'), r2 = f.local('v128');
    f.set(vecEnd, f.sub(f.get(cols), f.i32(3))); // vector steps while j < cols - 3
    f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
      f.set(xr, f.add(f.get(x), f.shl(f.mul(f.get(r), f.get(cols)), f.i32(2))));
      f.set(yr, f.add(f.get(out), f.shl(f.mul(f.get(r), f.get(cols)), f.i32(2))));
      // 1) the row max
      f.set(acc, f.v128Const(splat4(-Infinity)));
      f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
        f.set(acc, f.f32x4Max(f.get(acc), f.v128Load(f.add(f.get(xr), f.shl(f.get(j), f.i32(2))))));
      });
      f.set(mx, f.f32Max(f.f32Max(f.f32x4ExtractLane(f.get(acc), 0), f.f32x4ExtractLane(f.get(acc), 1)),
        f.f32Max(f.f32x4ExtractLane(f.get(acc), 2), f.f32x4ExtractLane(f.get(acc), 3))));
      tail(f, j, cols, () => f.set(mx, f.f32Max(f.get(mx), f.f32Load(f.add(f.get(xr), f.shl(f.get(j), f.i32(2)))))));
      f.set(vm, f.f32x4Splat(f.get(mx)));
      // 2) e = exp(x - m), kept in out (softmax), and its sum
      f.set(acc, f.v128Const(splat4(0)));
      f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
        f.set(v, f.f32x4Sub(f.v128Load(f.add(f.get(xr), f.shl(f.get(j), f.i32(2)))), f.get(vm)));
        emitExp(f, v, e, t, n, r2);
        f.if_(f.eqz(f.get(log)), () => f.v128Store(f.add(f.get(yr), f.shl(f.get(j), f.i32(2))), f.get(e)));
        f.set(acc, f.f32x4Add(f.get(acc), f.get(e)));
      });
      f.set(s, hsum(f, acc));
      tail(f, j, cols, () => {
        f.set(v, f.f32x4Splat(f.f32Sub(f.f32Load(f.add(f.get(xr), f.shl(f.get(j), f.i32(2)))), f.get(mx))));
        emitExp(f, v, e, t, n, r2);
        f.if_(f.eqz(f.get(log)), () => f.f32Store(f.add(f.get(yr), f.shl(f.get(j), f.i32(2))), f.f32x4ExtractLane(f.get(e), 0)));
        f.set(s, f.f32Add(f.get(s), f.f32x4ExtractLane(f.get(e), 0)));
      });
      f.if_(f.get(log), () => {
        // 3a) y = (x - m) - log s
        f.set(ls, f.f32DemoteF64(f.callImport(logImport, 'f64', f.f64PromoteF32(f.get(s))) as never));
        f.set(e, f.f32x4Splat(f.get(ls)));
        f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
          f.v128Store(f.add(f.get(yr), f.shl(f.get(j), f.i32(2))),
            f.f32x4Sub(f.f32x4Sub(f.v128Load(f.add(f.get(xr), f.shl(f.get(j), f.i32(2)))), f.get(vm)), f.get(e)));
        });
        tail(f, j, cols, () => f.f32Store(f.add(f.get(yr), f.shl(f.get(j), f.i32(2))),
          f.f32Sub(f.f32Sub(f.f32Load(f.add(f.get(xr), f.shl(f.get(j), f.i32(2)))), f.get(mx)), f.get(ls))));
      }, () => {
        // 3b) y = e / s
        f.set(v, f.f32x4Splat(f.get(s)));
        f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
          f.v128Store(f.add(f.get(yr), f.shl(f.get(j), f.i32(2))),
            f.f32x4Div(f.v128Load(f.add(f.get(yr), f.shl(f.get(j), f.i32(2)))), f.get(v)));
        });
        tail(f, j, cols, () => f.f32Store(f.add(f.get(yr), f.shl(f.get(j), f.i32(2))),
          f.f32Div(f.f32Load(f.add(f.get(yr), f.shl(f.get(j), f.i32(2)))), f.get(s))));
      });
    });
  });
}

/**
 * The scalar tail after a vector loop that stopped at j = 4·⌊cols/4⌋ (or 0 when cols < 4):
 * `body` runs for j up to cols - 1.
 */
export function tail(f: FuncBuilder, j: Local<'i32'>, cols: Local<'i32'>, body: () => void): void {
  f.set(j, f.and(f.get(cols), f.i32(~3)));
  f.block((exit) => {
    f.brIf(exit, f.geS(f.get(j), f.get(cols)));
    f.loop((top) => {
      body();
      f.set(j, f.add(f.get(j), f.i32(1)));
      f.brIf(top, f.ltS(f.get(j), f.get(cols)));
    });
  });
}

/**
 * layernorm_rows(x, w, b, out, mean, rstd, rows, D, params): per row, μ = Σx/D, σ² = Σ(x-μ)²/D,
 * rstd = 1/√(σ² + eps) (this one scalar in float64), y = (x - μ)·rstd·w + b. w and b are always
 * given (callers pass ones and zeros for "none"); params holds eps as a float64.
 */
export function addLayerNorm(m: ModuleBuilder): FuncRef<null> {
  return m.func('layernorm_rows', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null,
    (f, x, w, b, out, mean, rstd, rows, D, params) => {
      const r = f.local('i32'), j = f.local('i32'), xr = f.local('i32'), yr = f.local('i32'), vecEnd = f.local('i32');
      const mu = f.local('f32'), s = f.local('f32'), rs = f.local('f32'), d = f.local('f32'), eps = f.local('f64');
      const acc = f.local('v128'), v = f.local('v128'), vmu = f.local('v128'), vrs = f.local('v128');
      const addr = (base: Local<'i32'>) => f.add(f.get(base), f.shl(f.get(j), f.i32(2)));
      f.set(eps, f.f64Load(f.get(params)));
      f.set(d, f.f32ConvertI32(f.get(D)));
      f.set(vecEnd, f.sub(f.get(D), f.i32(3)));
      f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
        f.set(xr, f.add(f.get(x), f.shl(f.mul(f.get(r), f.get(D)), f.i32(2))));
        f.set(yr, f.add(f.get(out), f.shl(f.mul(f.get(r), f.get(D)), f.i32(2))));
        // mean
        f.set(acc, f.v128Const(splat4(0)));
        f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => f.set(acc, f.f32x4Add(f.get(acc), f.v128Load(addr(xr)))));
        f.set(s, hsum(f, acc));
        tail(f, j, D, () => f.set(s, f.f32Add(f.get(s), f.f32Load(addr(xr)))));
        f.set(mu, f.f32Div(f.get(s), f.get(d)));
        f.set(vmu, f.f32x4Splat(f.get(mu)));
        // biased variance, two-pass
        f.set(acc, f.v128Const(splat4(0)));
        f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
          f.set(v, f.f32x4Sub(f.v128Load(addr(xr)), f.get(vmu)));
          f.set(acc, f.f32x4Add(f.get(acc), f.f32x4Mul(f.get(v), f.get(v))));
        });
        f.set(s, hsum(f, acc));
        tail(f, j, D, () => {
          f.set(v, f.f32x4Splat(f.f32Sub(f.f32Load(addr(xr)), f.get(mu))));
          f.set(s, f.f32Add(f.get(s), f.f32x4ExtractLane(f.f32x4Mul(f.get(v), f.get(v)), 0)));
        });
        f.set(rs, f.f32DemoteF64(f.f64Div(f.f64(1), f.f64Sqrt(f.f64Add(f.f64PromoteF32(f.f32Div(f.get(s), f.get(d))), f.get(eps))))));
        f.f32Store(f.add(f.get(mean), f.shl(f.get(r), f.i32(2))), f.get(mu));
        f.f32Store(f.add(f.get(rstd), f.shl(f.get(r), f.i32(2))), f.get(rs));
        f.set(vrs, f.f32x4Splat(f.get(rs)));
        // y = (x - μ)·rstd·w + b
        f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
          f.v128Store(addr(yr), f.f32x4Add(
            f.f32x4Mul(f.f32x4Mul(f.f32x4Sub(f.v128Load(addr(xr)), f.get(vmu)), f.get(vrs)), f.v128Load(addr(w))),
            f.v128Load(addr(b))));
        });
        tail(f, j, D, () => {
          f.f32Store(addr(yr), f.f32Add(
            f.f32Mul(f.f32Mul(f.f32Sub(f.f32Load(addr(xr)), f.get(mu)), f.get(rs)), f.f32Load(addr(w))),
            f.f32Load(addr(b))));
        });
      });
    });
}

/**
 * layernorm_backward_rows(x, dy, mean, rstd, w, dx, dw, db, xh, g, rows, D): the layerNorm backward
 * in float64 two lanes at a time, D even. Per row, with h = (x − μ)·rstd and g = dy·w:
 * dx = rstd·(g − mean(g) − h·mean(g·h)), and dw += dy·h, db += dy accumulated row by row into the
 * float64 arrays dw and db (zeroed by the caller). w, dw, db, xh, g are float64 arrays of D (xh and g
 * scratch); x, dy, dx float32 rows; mean, rstd float32 per row. The reference's float64 operations
 * in its order — the row sums add lane 0 then lane 1 into a scalar, and dw/db take the rows in order
 * (so one thread runs all rows) — hence results bit-identical to it.
 */
export function addLayerNormBackward(m: ModuleBuilder): FuncRef<null> {
  return m.func('layernorm_backward_rows', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null,
    (f, x, dy, mean, rstd, w, dx, dw, db, xh, g, rows, D) => {
      const r = f.local('i32'), j = f.local('i32'), xr = f.local('i32'), gr = f.local('i32'), orow = f.local('i32');
      const o4 = f.local('i32'), o8 = f.local('i32');
      const vmu = f.local('v128'), vrs = f.local('v128'), gj = f.local('v128'), h = f.local('v128'), gw = f.local('v128');
      const sG = f.local('f64'), sGX = f.local('f64'), d = f.local('f64'), t = f.local('v128');
      const vG = f.local('v128'), vGX = f.local('v128');
      const load2 = (base: Local<'i32'>) => f.f64x2PromoteLowF32x4(f.v128Load64Zero(f.add(f.get(base), f.get(o4))));
      const at8 = (base: Local<'i32'>) => f.add(f.get(base), f.get(o8));
      // s += lane 0, then s += lane 1: the reference's left-to-right order.
      const addLanes = (s: Local<'f64'>, v: Local<'v128'>) =>
        f.set(s, f.f64Add(f.f64Add(f.get(s), f.f64x2ExtractLane(f.get(v), 0)), f.f64x2ExtractLane(f.get(v), 1)));
      f.set(d, f.f64ConvertI32(f.get(D)));
      f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
        f.set(xr, f.add(f.get(x), f.shl(f.mul(f.get(r), f.get(D)), f.i32(2))));
        f.set(gr, f.add(f.get(dy), f.shl(f.mul(f.get(r), f.get(D)), f.i32(2))));
        f.set(orow, f.add(f.get(dx), f.shl(f.mul(f.get(r), f.get(D)), f.i32(2))));
        f.set(vmu, f.f64x2Splat(f.f64PromoteF32(f.f32Load(f.add(f.get(mean), f.shl(f.get(r), f.i32(2)))))));
        f.set(vrs, f.f64x2Splat(f.f64PromoteF32(f.f32Load(f.add(f.get(rstd), f.shl(f.get(r), f.i32(2)))))));
        f.set(sG, f.f64(0));
        f.set(sGX, f.f64(0));
        f.forRange(j, () => f.i32(0), () => f.get(D), 2, () => {
          f.set(o4, f.shl(f.get(j), f.i32(2)));
          f.set(o8, f.shl(f.get(j), f.i32(3)));
          f.set(gj, load2(gr));
          f.set(h, f.f64x2Mul(f.f64x2Sub(load2(xr), f.get(vmu)), f.get(vrs)));
          f.set(gw, f.f64x2Mul(f.get(gj), f.v128Load(at8(w))));
          f.v128Store(at8(xh), f.get(h));
          f.v128Store(at8(g), f.get(gw));
          addLanes(sG, gw);
          f.set(t, f.f64x2Mul(f.get(gw), f.get(h)));
          addLanes(sGX, t);
          f.v128Store(at8(dw), f.f64x2Add(f.v128Load(at8(dw)), f.f64x2Mul(f.get(gj), f.get(h))));
          f.v128Store(at8(db), f.f64x2Add(f.v128Load(at8(db)), f.get(gj)));
        });
        f.set(vG, f.f64x2Splat(f.f64Div(f.get(sG), f.get(d))));
        f.set(vGX, f.f64x2Splat(f.f64Div(f.get(sGX), f.get(d))));
        f.forRange(j, () => f.i32(0), () => f.get(D), 2, () => {
          f.set(o8, f.shl(f.get(j), f.i32(3)));
          f.v128Store64Lane0(f.add(f.get(orow), f.shl(f.get(j), f.i32(2))), f.f32x4DemoteF64x2Zero(
            f.f64x2Mul(f.get(vrs), f.f64x2Sub(f.f64x2Sub(f.v128Load(at8(g)), f.get(vG)), f.f64x2Mul(f.v128Load(at8(xh)), f.get(vGX))))));
        });
      });
    });
}
