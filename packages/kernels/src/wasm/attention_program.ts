// WebAssembly SIMD program for the row step of attention between its two matmuls: turning raw
// scores into probabilities, in place, for attention without an additive mask.
//
// attn_probs(s, rows, Tk, i0, Tq, diag, causal, lse, backward, params): s holds `rows` rows of Tk
// float32 scores Q·Kᵀ (row r is query i = (i0 + r) mod Tq of its (batch, head)) and lse their rows'
// float64 log-sum-exps. Per row, keys
// j < lim are visible, lim = clamp(i + diag, 0, Tk) when `causal` (diag = Tk − Tq + 1), else Tk.
// With z_j = scale·s_j in float64 (scale: the float64 at params):
// - forward (backward = 0): m = max z, l = m + log Σ exp(z_j − m), stored as float64 lse[r];
// - backward (backward = 1): l = lse[r] is read;
// then s_j = exp(z_j − l) rounded to float32 for j < lim and 0 past it; a row with l = −∞ (no
// visible key) is all zeros. This is the reference's arithmetic in float64 except that exp is the
// float64 evaluation of unary_program.ts (relative error below 1e-11), the sum is two interleaved
// partial sums, and log comes from the host (Math.log, imported).
//
// Two keys per f64x2 step. When lim is odd, the last step's second lane (key lim, or the next row's
// first score when lim = Tk) is replaced by −∞ for the max and the sum, and only the first lane is
// stored.

import type { ModuleBuilder } from './emitter.js';
import { exp64, type F64Scratch } from './unary_program.js';

export function addAttentionProbs(m: ModuleBuilder, logImport: number): void {
  m.func('attn_probs', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null,
    (f, s, rows, Tk, i0, Tq, diag, causal, lse, backward, params) => {
      const r = f.local('i32'), i = f.local('i32'), j = f.local('i32'), lim = f.local('i32'), p = f.local('i32');
      const pairEnd = f.local('i32');
      const mx = f.local('f64'), l = f.local('f64');
      const scale = f.local('v128'), z = f.local('v128'), acc = f.local('v128'), e = f.local('v128'), vl = f.local('v128');
      const sc: F64Scratch = { t: f.local('v128'), n: f.local('v128'), u: f.local('v128'), w: f.local('v128') };
      const NEG_INF = -Infinity;
      // All ones in lane 0, zeros in lane 1: [0, 1] < [½, ½].
      const lowLaneMask = () => f.f64x2Lt(f.v128ConstF64([0, 1]), f.v128ConstF64([0.5, 0.5]));
      const addr = () => f.add(f.get(p), f.shl(f.get(j), f.i32(2)));
      const loadZ = () => f.set(z, f.f64x2Mul(f.f64x2PromoteLowF32x4(f.v128Load64Zero(addr())), f.get(scale)));
      const maskHigh = () => f.set(z, f.v128Bitselect(f.get(z), f.f64x2Splat(f.f64(NEG_INF)), lowLaneMask()));
      /** Runs `body` per pair of visible keys, then once for an odd last key with its partner lane masked. */
      const pairs = (body: (odd: boolean) => void) => {
        f.forRange(j, () => f.i32(0), () => f.get(pairEnd), 2, () => body(false));
        f.set(j, f.and(f.get(lim), f.i32(~1)));
        f.if_(f.and(f.get(lim), f.i32(1)), () => body(true));
      };

      f.set(scale, f.f64x2Splat(f.f64Load(f.get(params))));
      f.set(i, f.get(i0));
      f.set(p, f.get(s));
      f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
        f.set(lim, f.get(Tk));
        f.if_(f.get(causal), () => {
          f.set(lim, f.add(f.get(i), f.get(diag)));
          f.if_(f.ltS(f.get(lim), f.i32(0)), () => f.set(lim, f.i32(0)));
          f.if_(f.gtS(f.get(lim), f.get(Tk)), () => f.set(lim, f.get(Tk)));
        });
        f.set(pairEnd, f.sub(f.get(lim), f.i32(1))); // pair steps while j < lim - 1
        const lseAddr = () => f.add(f.get(lse), f.shl(f.get(r), f.i32(3)));
        f.if_(f.get(backward), () => {
          f.set(l, f.f64Load(lseAddr()));
        }, () => {
          // max
          f.set(acc, f.f64x2Splat(f.f64(NEG_INF)));
          pairs((odd) => {
            loadZ();
            if (odd) maskHigh();
            f.set(acc, f.f64x2Max(f.get(acc), f.get(z)));
          });
          f.set(mx, f.f64Max(f.f64x2ExtractLane(f.get(acc), 0), f.f64x2ExtractLane(f.get(acc), 1)));
          f.if_(f.f64Eq(f.get(mx), f.f64(NEG_INF)), () => f.set(l, f.f64(NEG_INF)), () => {
            // Σ exp(z − m), then l = m + log Σ
            f.set(vl, f.f64x2Splat(f.get(mx)));
            f.set(acc, f.f64x2Splat(f.f64(0)));
            pairs((odd) => {
              loadZ();
              if (odd) maskHigh();
              f.set(z, f.f64x2Sub(f.get(z), f.get(vl)));
              exp64(f, z, e, sc);
              f.set(acc, f.f64x2Add(f.get(acc), f.get(e)));
            });
            f.set(l, f.f64Add(f.get(mx), f.callImport(logImport, 'f64',
              f.f64Add(f.f64x2ExtractLane(f.get(acc), 0), f.f64x2ExtractLane(f.get(acc), 1))) as never));
          });
          f.f64Store(lseAddr(), f.get(l));
        });
        f.if_(f.f64Eq(f.get(l), f.f64(NEG_INF)), () => f.set(lim, f.i32(0)), () => {
          f.set(vl, f.f64x2Splat(f.get(l)));
          pairs((odd) => {
            loadZ();
            f.set(z, f.f64x2Sub(f.get(z), f.get(vl)));
            exp64(f, z, e, sc);
            if (odd) f.f32Store(addr(), f.f32x4ExtractLane(f.f32x4DemoteF64x2Zero(f.get(e)), 0));
            else f.v128Store64Lane0(addr(), f.f32x4DemoteF64x2Zero(f.get(e)));
          });
        });
        // zeros past the visible keys
        f.forRange(j, () => f.get(lim), () => f.get(Tk), 1, () => f.f32Store(addr(), f.f32(0)));
        f.set(p, f.add(f.get(p), f.shl(f.get(Tk), f.i32(2))));
        f.set(i, f.add(f.get(i), f.i32(1)));
        f.if_(f.eq(f.get(i), f.get(Tq)), () => f.set(i, f.i32(0)));
      });
    });
}
