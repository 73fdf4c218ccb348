// WebAssembly SIMD programs for cross-entropy over float32 contiguous [rows, C] logits, forward and
// backward, each thread handed a range of rows (the caller, rows.ts, validates the targets and
// passes them as int32 with −1 for an ignored row).
//
// A row is walked four floats at a time; where C % 4 ≠ 0 one more step takes the last four
// elements, overlapping the previous step (sums mask the lanes already counted), and rows shorter
// than 4 go one element at a time. Sums keep four partial lanes combined as (l0 + l1) + (l2 + l3):
// a fixed order, so results never depend on the thread count. exp is `emitExp` and log is
// `emitLog` (below 1 ulp), both float32; the reference works in float64. Where the module is built
// with fused multiply-adds (relaxed SIMD, as the matmul), exp's polynomial uses them: the last bits
// follow the processor, never the thread count.
//
// Forward, per row: m = max x, s = Σ exp(x − m), ℓ = log s (m = −∞, an all −∞ row: ℓ = 0), so
// lse = m + ℓ, and lse − x_c is formed as (m − x_c) + ℓ: for the row's maximum that is ℓ itself,
// free of lse's float32 rounding (up to ulp(lse)/2, which lse − x_t would keep in a small loss).
// loss = ((1 − ε)·w_t)·(lse − x_t) + (ε/C)·Σ_c w_c·(lse − x_c), the sum only when ε ≠ 0 (as in
// the reference). Accuracy: s carries the float32 rounding of C
// exps and their sum (a few ulp relative; the log turns that into as much absolute), and lse one
// more rounding, so |lse − lse_ref| ≲ 1e-6·max(1, |lse|) and the loss agrees within 1e-6 of the
// magnitudes of lse and the logits involved (times the weights).
//
// Backward, per row with p_c = exp(x_c − lse):
//   dx_c = g·(((1 − ε)·w_t)·(p_c − [c = t]) + (ε/C)·(W·p_c − w_c)),
// evaluated for every c with [c = t] = 0, then the target's element again with 1 from x_t read
// before the row was written (dx may be x itself). Ignored rows are zeros. p_c is float32 exp of a
// float32 difference: relative error a few ulp, plus ulp(|x_c − lse|) absolute in the exponent.

import type { FuncBuilder, FuncRef, Local, ModuleBuilder, Val } from '../wasm/emitter.js';
import { emitExp, emitLog, hsum, tail } from './rows_program.js';

const splat4 = (c: number): [number, number, number, number] => [c, c, c, c];

/**
 * For C ≥ 4 with C % 4 ≠ 0: `body` once with j = C − 4, the row's last four elements, after (or
 * before) the vector loop's steps, whose last one it overlaps. Sums mask the overlapping lanes out
 * (`tailMask`); an elementwise step writes them again with the same values.
 */
function lastFour(f: FuncBuilder, j: Local<'i32'>, C: Local<'i32'>, body: () => void): void {
  f.if_(f.and(f.geS(f.get(C), f.i32(4)), f.ne(f.and(f.get(C), f.i32(3)), f.i32(0))), () => {
    f.set(j, f.sub(f.get(C), f.i32(4)));
    body();
  });
}

/** For C < 4 (no vector step runs): `body` for each j < C. */
function shortRow(f: FuncBuilder, j: Local<'i32'>, C: Local<'i32'>, body: () => void): void {
  f.if_(f.ltS(f.get(C), f.i32(4)), () => tail(f, j, C, body));
}

/** All ones in the lanes of `lastFour`'s step that the vector loop did not cover: lane i ≥ 4 − C % 4. */
function tailMask(f: FuncBuilder, C: Local<'i32'>, mask: Local<'v128'>): void {
  f.set(mask, f.i32x4LtS(f.i32x4Splat(f.sub(f.i32(3), f.and(f.get(C), f.i32(3)))), f.v128ConstI32([0, 1, 2, 3])));
}

/**
 * The row maximum m of the row at `xr`, NaN if the row holds one. The vector lanes keep a
 * pseudo-maximum (one instruction, where IEEE max takes several and its latency bound the loop)
 * and a mask of the NaN lanes seen, which turns those lanes NaN before the IEEE max of the lanes
 * and the tail.
 */
function rowMax(f: FuncBuilder, xr: Local<'i32'>, j: Local<'i32'>, C: Local<'i32'>, vecEnd: Local<'i32'>,
  acc: Local<'v128'>, nan: Local<'v128'>, v: Local<'v128'>, mx: Local<'f32'>): void {
  f.set(acc, f.v128Const(splat4(-Infinity)));
  f.set(nan, f.v128Const(splat4(0)));
  const step = () => {
    f.set(v, f.v128Load(f.add(f.get(xr), f.shl(f.get(j), f.i32(2)))));
    f.set(acc, f.f32x4Pmax(f.get(acc), f.get(v)));
    f.set(nan, f.v128Or(f.get(nan), f.f32x4Ne(f.get(v), f.get(v))));
  };
  f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, step);
  lastFour(f, j, C, step);
  f.set(acc, f.v128Bitselect(f.v128Const(splat4(NaN)), f.get(acc), f.get(nan)));
  f.set(mx, f.f32Max(f.f32Max(f.f32x4ExtractLane(f.get(acc), 0), f.f32x4ExtractLane(f.get(acc), 1)),
    f.f32Max(f.f32x4ExtractLane(f.get(acc), 2), f.f32x4ExtractLane(f.get(acc), 3))));
  shortRow(f, j, C, () => f.set(mx, f.f32Max(f.get(mx), f.f32Load(f.add(f.get(xr), f.shl(f.get(j), f.i32(2)))))));
}

/**
 * cross_entropy_rows(x, tg, w, out, rows, C, params, plane): per row r, loss at out[r], lse at
 * out[r] one `plane` (bytes) further and w_t two planes further (loss and w_t 0 where tg[r] < 0).
 * tg: int32 per row; w: float32 class weights (ones for none); params: float32 1 − ε, float32 ε/C,
 * int32 whether ε ≠ 0. Three passes over the rows: m and s per row (into the lse and loss slots;
 * s = 1 for an all −∞ row, so that ℓ = 0), ℓ = log s four rows at a time (its dependency chain
 * is long: one row at a time it took a fifth of a [128, 10] forward), then the loss.
 */
export function addCrossEntropy(m: ModuleBuilder, opts: { fma?: boolean } = {}): FuncRef<null> {
  return m.func('cross_entropy_rows', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null,
    (f, x, tg, w, out, rows, C, params, plane) => {
      const r = f.local('i32'), j = f.local('i32'), xr = f.local('i32'), o = f.local('i32'), vecEnd = f.local('i32');
      const t = f.local('i32'), smooth = f.local('i32'), left = f.local('i32');
      const mx = f.local('f32'), s = f.local('f32'), ls = f.local('f32'), loss = f.local('f32'), wt = f.local('f32');
      const a = f.local('f32'), k = f.local('f32');
      const acc = f.local('v128'), v = f.local('v128'), e = f.local('v128'), vm = f.local('v128'), vls = f.local('v128');
      const s0 = f.local('v128'), s1 = f.local('v128'), s2 = f.local('v128'), s3 = f.local('v128'), s4 = f.local('v128');
      const tmask = f.local('v128');
      const at = (base: Local<'i32'>) => f.add(f.get(base), f.shl(f.get(j), f.i32(2)));
      const rowStart = () => {
        f.set(xr, f.add(f.get(x), f.shl(f.mul(f.get(r), f.get(C)), f.i32(2))));
        f.set(o, f.add(f.get(out), f.shl(f.get(r), f.i32(2))));
      };
      f.set(a, f.f32Load(f.get(params)));
      f.set(k, f.f32Load(f.get(params), 4));
      f.set(smooth, f.i32Load(f.get(params), 8));
      f.set(vecEnd, f.sub(f.get(C), f.i32(3)));
      tailMask(f, C, tmask);
      // 1) m into the lse slot, s = Σ exp(x − m) into the loss slot
      f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
        rowStart();
        rowMax(f, xr, j, C, vecEnd, acc, vm, v, mx);
        f.set(s, f.f32(1));
        f.if_(f.eqz(f.f64Eq(f.f64PromoteF32(f.get(mx)), f.f64(-Infinity))), () => {
          f.set(vm, f.f32x4Splat(f.get(mx)));
          f.set(acc, f.v128Const(splat4(0)));
          f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
            f.set(v, f.f32x4Sub(f.v128Load(at(xr)), f.get(vm)));
            emitExp(f, v, e, s0, s1, s2, { fma: opts.fma });
            f.set(acc, f.f32x4Add(f.get(acc), f.get(e)));
          });
          lastFour(f, j, C, () => {
            f.set(v, f.f32x4Sub(f.v128Load(at(xr)), f.get(vm)));
            emitExp(f, v, e, s0, s1, s2, { fma: opts.fma });
            f.set(acc, f.f32x4Add(f.get(acc), f.v128And(f.get(e), f.get(tmask))));
          });
          f.set(s, hsum(f, acc));
          shortRow(f, j, C, () => {
            f.set(v, f.f32x4Splat(f.f32Sub(f.f32Load(at(xr)), f.get(mx))));
            emitExp(f, v, e, s0, s1, s2, { fma: opts.fma });
            f.set(s, f.f32Add(f.get(s), f.f32x4ExtractLane(f.get(e), 0)));
          });
        });
        f.f32Store(f.add(f.get(o), f.get(plane)), f.get(mx));
        f.f32Store(f.get(o), f.get(s));
      });
      // 2) ℓ = log s over four rows per step; a last group of fewer rows stores only its own lanes
      // (the lanes past it read the next range's slots, which another thread may be writing).
      f.forRange(r, () => f.i32(0), () => f.get(rows), 4, () => {
        f.set(o, f.add(f.get(out), f.shl(f.get(r), f.i32(2))));
        f.set(v, f.v128Load(f.get(o)));
        emitLog(f, v, e, [s0, s1, s2, s3, s4]);
        f.set(left, f.sub(f.get(rows), f.get(r)));
        f.if_(f.geS(f.get(left), f.i32(4)), () => f.v128Store(f.get(o), f.get(e)), () => {
          f.f32Store(f.get(o), f.f32x4ExtractLane(f.get(e), 0));
          f.if_(f.gtS(f.get(left), f.i32(1)), () => f.f32Store(f.get(o), f.f32x4ExtractLane(f.get(e), 1), 4));
          f.if_(f.gtS(f.get(left), f.i32(2)), () => f.f32Store(f.get(o), f.f32x4ExtractLane(f.get(e), 2), 8));
        });
      });
      // 3) lse = m + ℓ and the loss
      f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
        rowStart();
        f.set(mx, f.f32Load(f.add(f.get(o), f.get(plane))));
        f.set(ls, f.f32Load(f.get(o)));
        f.f32Store(f.add(f.get(o), f.get(plane)), f.f32Add(f.get(mx), f.get(ls)));
        f.set(o, f.add(f.get(o), f.shl(f.get(plane), f.i32(1)))); // the w_t slot
        f.set(t, f.i32Load(f.add(f.get(tg), f.shl(f.get(r), f.i32(2)))));
        f.if_(f.ltS(f.get(t), f.i32(0)), () => {
          f.f32Store(f.get(o), f.f32(0));
          f.f32Store(f.sub(f.get(o), f.shl(f.get(plane), f.i32(1))), f.f32(0));
        }, () => {
          f.set(wt, f.f32Load(f.add(f.get(w), f.shl(f.get(t), f.i32(2)))));
          // ((1 − ε)·w_t)·((m − x_t) + ℓ)
          f.set(loss, f.f32Mul(f.f32Mul(f.get(a), f.get(wt)),
            f.f32Add(f.f32Sub(f.get(mx), f.f32Load(f.add(f.get(xr), f.shl(f.get(t), f.i32(2))))), f.get(ls))));
          f.set(s, f.f32(0));
          f.if_(f.get(smooth), () => {
            // Σ_c w_c·((m − x_c) + ℓ)
            f.set(vm, f.f32x4Splat(f.get(mx)));
            f.set(vls, f.f32x4Splat(f.get(ls)));
            f.set(acc, f.v128Const(splat4(0)));
            const term = () => f.f32x4Mul(f.v128Load(at(w)), f.f32x4Add(f.f32x4Sub(f.get(vm), f.v128Load(at(xr))), f.get(vls)));
            f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => f.set(acc, f.f32x4Add(f.get(acc), term())));
            lastFour(f, j, C, () => f.set(acc, f.f32x4Add(f.get(acc), f.v128And(term(), f.get(tmask)))));
            f.set(s, hsum(f, acc));
            shortRow(f, j, C, () => f.set(s, f.f32Add(f.get(s), f.f32Mul(f.f32Load(at(w)),
              f.f32Add(f.f32Sub(f.get(mx), f.f32Load(at(xr))), f.get(ls))))));
            f.set(s, f.f32Mul(f.get(k), f.get(s)));
          });
          f.f32Store(f.get(o), f.get(wt));
          f.f32Store(f.sub(f.get(o), f.shl(f.get(plane), f.i32(1))), f.f32Add(f.get(loss), f.get(s)));
        });
      });
    });
}

/**
 * cross_entropy_backward_rows(x, tg, w, rowp, out, rows, C, params): out[r, :] = the gradient of row
 * r's loss times its upstream value (zeros where tg[r] < 0). rowp: float32 [lse, g] per row; w:
 * float32 class weights; params: float32 1 − ε, ε/C, W = Σ w. out may be x itself.
 */
export function addCrossEntropyBackward(m: ModuleBuilder, opts: { fma?: boolean } = {}): FuncRef<null> {
  return m.func('cross_entropy_backward_rows', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null,
    (f, x, tg, w, rowp, out, rows, C, params) => {
      const r = f.local('i32'), j = f.local('i32'), xr = f.local('i32'), yr = f.local('i32'), vecEnd = f.local('i32');
      const t = f.local('i32');
      const a = f.local('f32'), k = f.local('f32'), W = f.local('f32'), l = f.local('f32'), g = f.local('f32');
      const hw = f.local('f32'), xt = f.local('f32'), wt = f.local('f32');
      const vk = f.local('v128'), vW = f.local('v128'), vl = f.local('v128'), vg = f.local('v128'), vhw = f.local('v128');
      const v = f.local('v128'), p = f.local('v128'), y = f.local('v128'), yLast = f.local('v128');
      const s0 = f.local('v128'), s1 = f.local('v128'), s2 = f.local('v128');
      const at = (base: Local<'i32'>) => f.add(f.get(base), f.shl(f.get(j), f.i32(2)));
      // y = g·(hw·p + k·(W·p − w_c)) on four lanes, p = exp(x − lse)
      const grad = (xv: () => Val<'v128'>, wv: () => Val<'v128'>) => {
        f.set(v, f.f32x4Sub(xv(), f.get(vl)));
        emitExp(f, v, p, s0, s1, s2, { fma: opts.fma });
        f.set(y, f.f32x4Mul(f.get(vg), f.f32x4Add(f.f32x4Mul(f.get(vhw), f.get(p)),
          f.f32x4Mul(f.get(vk), f.f32x4Sub(f.f32x4Mul(f.get(vW), f.get(p)), wv())))));
      };
      f.set(a, f.f32Load(f.get(params)));
      f.set(k, f.f32Load(f.get(params), 4));
      f.set(W, f.f32Load(f.get(params), 8));
      f.set(vk, f.f32x4Splat(f.get(k)));
      f.set(vW, f.f32x4Splat(f.get(W)));
      f.set(vecEnd, f.sub(f.get(C), f.i32(3)));
      f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
        f.set(xr, f.add(f.get(x), f.shl(f.mul(f.get(r), f.get(C)), f.i32(2))));
        f.set(yr, f.add(f.get(out), f.shl(f.mul(f.get(r), f.get(C)), f.i32(2))));
        f.set(t, f.i32Load(f.add(f.get(tg), f.shl(f.get(r), f.i32(2)))));
        f.if_(f.ltS(f.get(t), f.i32(0)), () => {
          f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => f.v128Store(at(yr), f.v128Const(splat4(0))));
          lastFour(f, j, C, () => f.v128Store(at(yr), f.v128Const(splat4(0))));
          shortRow(f, j, C, () => f.f32Store(at(yr), f.f32(0)));
        }, () => {
          f.set(l, f.f32Load(f.add(f.get(rowp), f.shl(f.get(r), f.i32(3)))));
          f.set(g, f.f32Load(f.add(f.get(rowp), f.shl(f.get(r), f.i32(3))), 4));
          f.set(xt, f.f32Load(f.add(f.get(xr), f.shl(f.get(t), f.i32(2)))));
          f.set(wt, f.f32Load(f.add(f.get(w), f.shl(f.get(t), f.i32(2)))));
          f.set(hw, f.f32Mul(f.get(a), f.get(wt)));
          f.set(vl, f.f32x4Splat(f.get(l)));
          f.set(vg, f.f32x4Splat(f.get(g)));
          f.set(vhw, f.f32x4Splat(f.get(hw)));
          // The last four first, read before the loop writes (out may be x); stored after it.
          lastFour(f, j, C, () => {
            grad(() => f.v128Load(at(xr)), () => f.v128Load(at(w)));
            f.set(yLast, f.get(y));
          });
          f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
            grad(() => f.v128Load(at(xr)), () => f.v128Load(at(w)));
            f.v128Store(at(yr), f.get(y));
          });
          lastFour(f, j, C, () => f.v128Store(at(yr), f.get(yLast)));
          shortRow(f, j, C, () => {
            grad(() => f.f32x4Splat(f.f32Load(at(xr))), () => f.f32x4Splat(f.f32Load(at(w))));
            f.f32Store(at(yr), f.f32x4ExtractLane(f.get(y), 0));
          });
          // The target's element: hw·(p_t − 1) in place of hw·p_t.
          f.set(v, f.f32x4Splat(f.f32Sub(f.get(xt), f.get(l))));
          emitExp(f, v, p, s0, s1, s2, { fma: opts.fma });
          f.f32Store(f.add(f.get(yr), f.shl(f.get(t), f.i32(2))), f.f32x4ExtractLane(f.f32x4Mul(f.get(vg),
            f.f32x4Add(f.f32x4Mul(f.get(vhw), f.f32x4Sub(f.get(p), f.v128Const(splat4(1)))),
              f.f32x4Mul(f.get(vk), f.f32x4Sub(f.f32x4Mul(f.get(vW), f.get(p)), f.f32x4Splat(f.get(wt)))))), 0));
        });
      });
    });
}
