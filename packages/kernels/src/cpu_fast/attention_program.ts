// WebAssembly SIMD programs for the row steps of attention without an additive mask, between its
// matmuls: scores to probabilities (forward, and recomputed in backward), and the softmax backward.
//
// Both take `rows` consecutive rows of Tk float32 values; row r is query i = (i0 + r) mod Tq of its
// (batch, head). Keys j < lim are visible: lim = clamp(i + diag, 0, Tk) when `causal`
// (diag = Tk − Tq + 1), else Tk. Entries past lim are never read — the in-memory attention paths
// do not compute them (attention.ts) — and are written as 0.
//
// attn_probs(s, rows, Tk, i0, Tq, diag, causal, lse, backward, params): raw scores Q·Kᵀ in s become
// probabilities in place. With z_j = scale·s_j in float64 (scale: the float64 at params):
// - forward (backward = 0): m = max z (from the float32 max — or min, for a negative scale — of the
//   raw scores, which is exact), l = m + log Σ exp(z_j − m), stored as float64 lse[r];
// - backward (backward = 1): l = lse[r] is read;
// then s_j = exp(z_j − l), and a row with l = −∞ (no visible key) is all zeros. The differences
// z_j − m and z_j − l are formed in float64 and rounded to float32, and exp runs on four float32
// lanes (`emitExp`, within a few float32 ulps); the sum is kept in float64. Forward and backward
// compute P with the same instructions, so the recomputed P is the forward's bit for bit.
//
// attn_ds(p, ds, g, o, rows, Tk, Dv, i0, Tq, diag, causal, params): ds holds dP = dO·Vᵀ and becomes
// dS = P ∘ (dP − δ)·scale with δ = Σ_c dO_c·O_c, in float64 like the reference (two lanes), rounded
// to float32 once.
//
// Keys go four at a time; the last, partial group masks its lanes at and past lim (−∞, so exp gives
// 0) and stores only the lanes inside the row. Loads of that group may read up to 12 bytes past the
// row (into the next row or the 16 bytes of slack every heap block has); those lanes are masked.

import type { FuncBuilder, Local, ModuleBuilder } from '../wasm/emitter.js';
import { emitExp } from './rows_program.js';

type I32 = Local<'i32'>;

/** lim = keys visible to query i: clamp(i + diag, 0, Tk) when causal, else Tk. */
function visibleKeys(f: FuncBuilder, lim: I32, i: I32, diag: I32, Tk: I32, causal: I32): void {
  f.set(lim, f.get(Tk));
  f.if_(f.get(causal), () => {
    f.set(lim, f.add(f.get(i), f.get(diag)));
    f.if_(f.ltS(f.get(lim), f.i32(0)), () => f.set(lim, f.i32(0)));
    f.if_(f.gtS(f.get(lim), f.get(Tk)), () => f.set(lim, f.get(Tk)));
  });
}

/** Advances the query index of the next row: i = (i + 1) mod Tq. */
function nextQuery(f: FuncBuilder, i: I32, Tq: I32): void {
  f.set(i, f.add(f.get(i), f.i32(1)));
  f.if_(f.eq(f.get(i), f.get(Tq)), () => f.set(i, f.i32(0)));
}

export function addAttentionProbs(m: ModuleBuilder, logImport: number): void {
  m.func('attn_probs', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null,
    (f, s, rows, Tk, i0, Tq, diag, causal, lse, backward, params) => {
      const r = f.local('i32'), i = f.local('i32'), j = f.local('i32'), lim = f.local('i32'), lim4 = f.local('i32');
      const p = f.local('i32'), a = f.local('i32'), zeroFrom = f.local('i32');
      const l = f.local('f64'), mx = f.local('f32'), mn = f.local('f32'), x = f.local('f32'), scale = f.local('f64');
      const vscale = f.local('v128'), vl = f.local('v128'), vmax = f.local('v128'), vmin = f.local('v128');
      const d = f.local('v128'), e = f.local('v128'), t = f.local('v128'), n = f.local('v128');
      const sumLo = f.local('v128'), sumHi = f.local('v128'), lanes = f.local('v128');
      const r2 = f.local('v128');
      const NEG_INF = -Infinity;

      /** d = float32(scale·s[j..j+3] − l) for the group at address a (float64 arithmetic). */
      const diffs = () => {
        const half = (off: number) => f.f32x4DemoteF64x2Zero(f.f64x2Sub(
          f.f64x2Mul(f.f64x2PromoteLowF32x4(f.v128Load64Zero(f.get(a), off)), f.get(vscale)), f.get(vl)));
        f.set(d, f.i32x4Shuffle(half(0), half(8), [0, 1, 4, 5]));
      };
      /** In the partial group at j, lanes at or past lim become −∞. */
      const maskTail = () => {
        f.set(lanes, f.i32x4LtS(f.i32x4Add(f.i32x4Splat(f.get(j)), f.v128ConstI32([0, 1, 2, 3])),
          f.i32x4Splat(f.get(lim))));
        f.set(d, f.v128Bitselect(f.get(d), f.v128Const([NEG_INF, NEG_INF, NEG_INF, NEG_INF]), f.get(lanes)));
      };
      const addr = () => f.set(a, f.add(f.get(p), f.shl(f.get(j), f.i32(2))));

      f.set(scale, f.f64Load(f.get(params)));
      f.set(vscale, f.f64x2Splat(f.get(scale)));
      f.set(i, f.get(i0));
      f.set(p, f.get(s));
      f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
        visibleKeys(f, lim, i, diag, Tk, causal);
        f.set(lim4, f.and(f.get(lim), f.i32(~3)));
        const lseAddr = () => f.add(f.get(lse), f.shl(f.get(r), f.i32(3)));
        f.if_(f.get(backward), () => {
          f.set(l, f.f64Load(lseAddr()));
        }, () => {
          // m from the extreme raw score (scale·s is monotone in s).
          f.set(vmax, f.v128Const([NEG_INF, NEG_INF, NEG_INF, NEG_INF]));
          f.set(vmin, f.v128Const([Infinity, Infinity, Infinity, Infinity]));
          f.forRange(j, () => f.i32(0), () => f.get(lim4), 4, () => {
            addr();
            f.set(e, f.v128Load(f.get(a)));
            f.set(vmax, f.f32x4Max(f.get(vmax), f.get(e)));
            f.set(vmin, f.f32x4Min(f.get(vmin), f.get(e)));
          });
          f.set(mx, f.f32Max(f.f32Max(f.f32x4ExtractLane(f.get(vmax), 0), f.f32x4ExtractLane(f.get(vmax), 1)),
            f.f32Max(f.f32x4ExtractLane(f.get(vmax), 2), f.f32x4ExtractLane(f.get(vmax), 3))));
          f.set(mn, f.f32Min(f.f32Min(f.f32x4ExtractLane(f.get(vmin), 0), f.f32x4ExtractLane(f.get(vmin), 1)),
            f.f32Min(f.f32x4ExtractLane(f.get(vmin), 2), f.f32x4ExtractLane(f.get(vmin), 3))));
          f.forRange(j, () => f.get(lim4), () => f.get(lim), 1, () => {
            f.set(x, f.f32Load(f.add(f.get(p), f.shl(f.get(j), f.i32(2)))));
            f.set(mx, f.f32Max(f.get(mx), f.get(x)));
            f.set(mn, f.f32Min(f.get(mn), f.get(x)));
          });
          f.if_(f.eq(f.get(lim), f.i32(0)), () => f.set(l, f.f64(NEG_INF)), () => {
            f.if_(f.f64Lt(f.get(scale), f.f64(0)), () => f.set(mx, f.get(mn)));
            f.set(l, f.f64Mul(f.f64PromoteF32(f.get(mx)), f.get(scale)));
            f.if_(f.f64Ne(f.get(l), f.f64(NEG_INF)), () => {
              // Σ exp(z − m) in float64, then l = m + log Σ.
              f.set(vl, f.f64x2Splat(f.get(l)));
              f.set(sumLo, f.f64x2Splat(f.f64(0)));
              f.set(sumHi, f.f64x2Splat(f.f64(0)));
              const accumulate = () => {
                emitExp(f, d, e, t, n, r2);
                f.set(sumLo, f.f64x2Add(f.get(sumLo), f.f64x2PromoteLowF32x4(f.get(e))));
                f.set(sumHi, f.f64x2Add(f.get(sumHi), f.f64x2PromoteLowF32x4(f.i32x4Shuffle(f.get(e), f.get(e), [2, 3, 2, 3]))));
              };
              f.forRange(j, () => f.i32(0), () => f.get(lim4), 4, () => {
                addr();
                diffs();
                accumulate();
              });
              f.set(j, f.get(lim4));
              f.if_(f.ltS(f.get(j), f.get(lim)), () => {
                addr();
                diffs();
                maskTail();
                accumulate();
              });
              f.set(sumLo, f.f64x2Add(f.get(sumLo), f.get(sumHi)));
              f.set(l, f.f64Add(f.get(l), f.callImport(logImport, 'f64',
                f.f64Add(f.f64x2ExtractLane(f.get(sumLo), 0), f.f64x2ExtractLane(f.get(sumLo), 1))) as never));
            });
          });
          f.f64Store(lseAddr(), f.get(l));
        });
        f.set(zeroFrom, f.i32(0));
        f.if_(f.f64Ne(f.get(l), f.f64(NEG_INF)), () => {
          f.set(vl, f.f64x2Splat(f.get(l)));
          f.forRange(j, () => f.i32(0), () => f.get(lim4), 4, () => {
            addr();
            diffs();
            emitExp(f, d, e, t, n, r2);
            f.v128Store(f.get(a), f.get(e));
          });
          f.set(zeroFrom, f.get(lim));
          f.set(j, f.get(lim4));
          f.if_(f.ltS(f.get(j), f.get(lim)), () => {
            addr();
            diffs();
            maskTail();
            emitExp(f, d, e, t, n, r2);
            // Lanes past lim hold 0; store those inside the row.
            f.f32Store(f.get(a), f.f32x4ExtractLane(f.get(e), 0));
            for (let q = 1; q < 4; q++) {
              f.if_(f.ltS(f.add(f.get(j), f.i32(q)), f.get(Tk)), () => f.f32Store(f.get(a), f.f32x4ExtractLane(f.get(e), q), 4 * q));
            }
            f.set(zeroFrom, f.add(f.get(j), f.i32(4)));
          });
        });
        f.forRange(j, () => f.get(zeroFrom), () => f.get(Tk), 1, () => f.f32Store(f.add(f.get(p), f.shl(f.get(j), f.i32(2))), f.f32(0)));
        f.set(p, f.add(f.get(p), f.shl(f.get(Tk), f.i32(2))));
        nextQuery(f, i, Tq);
      });
    });

  m.func('attn_ds', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null,
    (f, pp, ds, g, o, rows, Tk, Dv, i0, Tq, diag, causal, params) => {
      const r = f.local('i32'), i = f.local('i32'), j = f.local('i32'), c = f.local('i32'), lim = f.local('i32');
      const pa = f.local('i32'), da = f.local('i32');
      const delta = f.local('f64'), vdelta = f.local('v128'), vscale = f.local('v128'), acc = f.local('v128');
      f.set(vscale, f.f64x2Splat(f.f64Load(f.get(params))));
      f.set(i, f.get(i0));
      f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
        visibleKeys(f, lim, i, diag, Tk, causal);
        // δ = Σ_c dO_c·O_c: products of promoted floats (exact), two float64 partial sums.
        f.set(acc, f.f64x2Splat(f.f64(0)));
        const load2 = (base: I32) => f.f64x2PromoteLowF32x4(f.v128Load64Zero(f.add(f.get(base), f.shl(f.get(c), f.i32(2)))));
        f.forRange(c, () => f.i32(0), () => f.sub(f.get(Dv), f.i32(1)), 2, () => {
          f.set(acc, f.f64x2Add(f.get(acc), f.f64x2Mul(load2(g), load2(o))));
        });
        f.set(delta, f.f64Add(f.f64x2ExtractLane(f.get(acc), 0), f.f64x2ExtractLane(f.get(acc), 1)));
        f.if_(f.and(f.get(Dv), f.i32(1)), () => {
          const at = (base: I32) => f.f64PromoteF32(f.f32Load(f.add(f.get(base), f.shl(f.sub(f.get(Dv), f.i32(1)), f.i32(2)))));
          f.set(delta, f.f64Add(f.get(delta), f.f64Mul(at(g), at(o))));
        });
        f.set(vdelta, f.f64x2Splat(f.get(delta)));
        // dS for visible keys, two at a time (a single last key through the low lane only), then zeros.
        f.forRange(j, () => f.i32(0), () => f.get(lim), 2, () => {
          f.set(pa, f.add(f.get(pp), f.shl(f.get(j), f.i32(2))));
          f.set(da, f.add(f.get(ds), f.shl(f.get(j), f.i32(2))));
          f.set(acc, f.f32x4DemoteF64x2Zero(f.f64x2Mul(f.f64x2Mul(f.f64x2PromoteLowF32x4(f.v128Load64Zero(f.get(pa))),
            f.f64x2Sub(f.f64x2PromoteLowF32x4(f.v128Load64Zero(f.get(da))), f.get(vdelta))), f.get(vscale))));
          f.f32Store(f.get(da), f.f32x4ExtractLane(f.get(acc), 0));
          f.if_(f.ltS(f.add(f.get(j), f.i32(1)), f.get(lim)), () => f.f32Store(f.get(da), f.f32x4ExtractLane(f.get(acc), 1), 4));
        });
        f.forRange(j, () => f.get(lim), () => f.get(Tk), 1, () => f.f32Store(f.add(f.get(ds), f.shl(f.get(j), f.i32(2))), f.f32(0)));
        f.set(pp, f.add(f.get(pp), f.shl(f.get(Tk), f.i32(2))));
        f.set(ds, f.add(f.get(ds), f.shl(f.get(Tk), f.i32(2))));
        f.set(g, f.add(f.get(g), f.shl(f.get(Dv), f.i32(2))));
        f.set(o, f.add(f.get(o), f.shl(f.get(Dv), f.i32(2))));
        nextQuery(f, i, Tq);
      });
    });
}
