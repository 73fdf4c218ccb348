// WebAssembly programs of the convolution and pooling family (conv.ts): im2col, col2im, max
// pooling and its backward on float32, each over a range [lo, hi) of (n, c) planes, so threads take
// planes from the shared queue. Inputs are contiguous NCHW; every output element is written.
//
// Geometry travels in an i32 parameter block `prm` (conv.ts fills it): the scalars of CONV_PARAMS,
// then a table of [lo, hi) pairs —
// - im2col / col2im: per kernel row i the output rows whose input row is in the image
//   (at TABLE + 2i), then per kernel column j the output columns (at TABLE + 2·kh + 2j);
// - max pooling: per output row oh the kernel rows that read inside the image (TABLE + 2·oh), then
//   per output column ow the kernel columns (TABLE + 2·Ho + 2·ow).
// With those ranges the inner loops run without bounds tests (the layout of the TypeScript loops in
// conv.ts, whose header states the accuracy: im2col and max pooling copy values; col2im and the
// pooling backward sum into a float64 plane — per-thread scratch — and round once).
//
// maxpool2x2_planes is max pooling's common case — 2×2 windows, stride 2, no padding or dilation
// — four outputs per step: two vector loads per input row give eight columns, split by shuffles into
// the even and odd taps, and the window's four taps are compared in window order with vector
// compares and selects (the same first-maximum and NaN rules); the last Wo mod 4 outputs of a row
// take the scalar loop.
//
// Plane p = n·C + c starts at p·H·W in x and dx, at p·Ho·Wo in pooled tensors, and at
// p·kh·kw·Ho·Wo in cols (cols is [N, C·kh·kw, Ho·Wo], so (n, c)'s kh·kw rows follow each other).

import type { FuncBuilder, Local, ModuleBuilder, Val } from '../wasm/emitter.js';
import { addAvgPool } from './avg_pool_program.js';

/** The scalar fields of the parameter block, in order (i32 each). */
export const CONV_PARAMS = ['H', 'W', 'Ho', 'Wo', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw', 'dh', 'dw'] as const;
/** Index of the first table entry in the parameter block. */
export const CONV_TABLE = CONV_PARAMS.length;

type I32 = Local<'i32'>;
type Geo = Record<(typeof CONV_PARAMS)[number], I32>;

/** Locals holding the block's scalars. */
function loadGeometry(f: FuncBuilder, prm: I32): Geo {
  const g = {} as Geo;
  CONV_PARAMS.forEach((k, i) => {
    g[k] = f.local('i32');
    f.set(g[k], f.i32Load(f.get(prm), 4 * i));
  });
  return g;
}

/** Entry `at` (an i32 index into the block, already on the stack) of `prm`. */
const entry = (f: FuncBuilder, prm: I32, at: Val<'i32'>): Val<'i32'> => f.i32Load(f.add(f.shl(at, f.i32(2)), f.get(prm)));

const x4 = (f: FuncBuilder, v: Val<'i32'>) => f.shl(v, f.i32(2));

/** Stores 0 to the `count` floats from byte address `addr` (a local, not changed). */
function zeroF32(f: FuncBuilder, addr: I32, count: Val<'i32'>, k: I32, end: I32): void {
  f.set(end, count);
  f.forRange(k, () => f.i32(0), () => f.get(end), 1, () => f.f32Store(f.add(f.get(addr), x4(f, f.get(k))), f.f32(0)));
}

export function addConv(m: ModuleBuilder): void {
  const I = 'i32' as const;
  addAvgPool(m); // average pooling's programs (avg_pool_program.ts)

  // im2col_planes(x, cols, prm, lo, hi)
  m.func('im2col_planes', [I, I, I, I, I] as const, null, (f, x, cols, prm, lo, hi) => {
    const g = loadGeometry(f, prm);
    const p = f.local(I), i = f.local(I), j = f.local(I), oh = f.local(I), k = f.local(I), end = f.local(I);
    const L = f.local(I), plane = f.local(I), row = f.local(I), dst = f.local(I), src = f.local(I), step = f.local(I);
    const ohLo = f.local(I), ohHi = f.local(I), owLo = f.local(I), owHi = f.local(I), n = f.local(I), vecEnd = f.local(I);
    f.set(L, f.mul(f.get(g.Ho), f.get(g.Wo)));
    f.set(step, x4(f, f.get(g.sw)));
    f.forRange(p, () => f.get(lo), () => f.get(hi), 1, () => {
      f.set(plane, f.add(f.get(x), x4(f, f.mul(f.get(p), f.mul(f.get(g.H), f.get(g.W))))));
      f.set(row, f.add(f.get(cols), x4(f, f.mul(f.get(p), f.mul(f.mul(f.get(g.kh), f.get(g.kw)), f.get(L))))));
      f.forRange(i, () => f.i32(0), () => f.get(g.kh), 1, () => {
        f.set(ohLo, entry(f, prm, f.add(f.i32(CONV_TABLE), f.shl(f.get(i), f.i32(1)))));
        f.set(ohHi, entry(f, prm, f.add(f.i32(CONV_TABLE + 1), f.shl(f.get(i), f.i32(1)))));
        f.forRange(j, () => f.i32(0), () => f.get(g.kw), 1, () => {
          f.set(owLo, entry(f, prm, f.add(f.i32(CONV_TABLE), f.add(f.shl(f.get(g.kh), f.i32(1)), f.shl(f.get(j), f.i32(1))))));
          f.set(owHi, entry(f, prm, f.add(f.i32(CONV_TABLE + 1), f.add(f.shl(f.get(g.kh), f.i32(1)), f.shl(f.get(j), f.i32(1))))));
          // Output rows whose input row is padding: all zeros.
          zeroF32(f, row, f.mul(f.get(ohLo), f.get(g.Wo)), k, end);
          f.set(dst, f.add(f.get(row), x4(f, f.mul(f.get(ohHi), f.get(g.Wo)))));
          zeroF32(f, dst, f.sub(f.get(L), f.mul(f.get(ohHi), f.get(g.Wo))), k, end);
          f.set(n, f.sub(f.get(owHi), f.get(owLo)));
          f.set(vecEnd, f.sub(f.get(n), f.i32(3)));
          f.forRange(oh, () => f.get(ohLo), () => f.get(ohHi), 1, () => {
            f.set(dst, f.add(f.get(row), x4(f, f.mul(f.get(oh), f.get(g.Wo)))));
            zeroF32(f, dst, f.get(owLo), k, end);
            // input (oh·sh − ph + i·dh, owLo·sw − pw + j·dw)
            f.set(src, f.add(f.get(plane), x4(f, f.add(
              f.mul(f.add(f.sub(f.mul(f.get(oh), f.get(g.sh)), f.get(g.ph)), f.mul(f.get(i), f.get(g.dh))), f.get(g.W)),
              f.add(f.sub(f.mul(f.get(owLo), f.get(g.sw)), f.get(g.pw)), f.mul(f.get(j), f.get(g.dw)))))));
            f.set(dst, f.add(f.get(dst), x4(f, f.get(owLo))));
            f.if_(f.eq(f.get(g.sw), f.i32(1)), () => {
              // Contiguous run: four floats at a time, then the rest one by one.
              f.forRange(k, () => f.i32(0), () => f.get(vecEnd), 4, () => {
                f.v128Store(f.add(f.get(dst), x4(f, f.get(k))), f.v128Load(f.add(f.get(src), x4(f, f.get(k)))));
              });
              f.set(k, f.and(f.get(n), f.i32(~3)));
              f.block((exit) => {
                f.brIf(exit, f.geS(f.get(k), f.get(n)));
                f.loop((top) => {
                  f.f32Store(f.add(f.get(dst), x4(f, f.get(k))), f.f32Load(f.add(f.get(src), x4(f, f.get(k)))));
                  f.set(k, f.add(f.get(k), f.i32(1)));
                  f.brIf(top, f.ltS(f.get(k), f.get(n)));
                });
              });
            }, () => {
              f.forRange(k, () => f.i32(0), () => f.get(n), 1, () => {
                f.f32Store(f.add(f.get(dst), x4(f, f.get(k))), f.f32Load(f.get(src)));
                f.set(src, f.add(f.get(src), f.get(step)));
              });
            });
            f.set(dst, f.add(f.get(row), x4(f, f.add(f.mul(f.get(oh), f.get(g.Wo)), f.get(owHi)))));
            zeroF32(f, dst, f.sub(f.get(g.Wo), f.get(owHi)), k, end);
          });
          f.set(row, f.add(f.get(row), x4(f, f.get(L))));
        });
      });
    });
  });

  // col2im_planes(cols, dx, prm, lo, hi, acc): acc is this thread's float64 plane (H·W doubles).
  m.func('col2im_planes', [I, I, I, I, I, I] as const, null, (f, cols, dx, prm, lo, hi, acc) => {
    const g = loadGeometry(f, prm);
    const p = f.local(I), i = f.local(I), j = f.local(I), oh = f.local(I), k = f.local(I), P = f.local(I);
    const L = f.local(I), row = f.local(I), q = f.local(I), pi = f.local(I), step = f.local(I), out = f.local(I);
    const ohLo = f.local(I), ohHi = f.local(I), owLo = f.local(I), n = f.local(I);
    f.set(L, f.mul(f.get(g.Ho), f.get(g.Wo)));
    f.set(P, f.mul(f.get(g.H), f.get(g.W)));
    f.set(step, f.shl(f.get(g.sw), f.i32(3)));
    f.forRange(p, () => f.get(lo), () => f.get(hi), 1, () => {
      f.forRange(k, () => f.i32(0), () => f.get(P), 1, () => f.f64Store(f.add(f.get(acc), f.shl(f.get(k), f.i32(3))), f.f64(0)));
      f.set(row, f.add(f.get(cols), x4(f, f.mul(f.get(p), f.mul(f.mul(f.get(g.kh), f.get(g.kw)), f.get(L))))));
      f.forRange(i, () => f.i32(0), () => f.get(g.kh), 1, () => {
        f.set(ohLo, entry(f, prm, f.add(f.i32(CONV_TABLE), f.shl(f.get(i), f.i32(1)))));
        f.set(ohHi, entry(f, prm, f.add(f.i32(CONV_TABLE + 1), f.shl(f.get(i), f.i32(1)))));
        f.forRange(j, () => f.i32(0), () => f.get(g.kw), 1, () => {
          f.set(owLo, entry(f, prm, f.add(f.i32(CONV_TABLE), f.add(f.shl(f.get(g.kh), f.i32(1)), f.shl(f.get(j), f.i32(1))))));
          f.set(n, f.sub(entry(f, prm, f.add(f.i32(CONV_TABLE + 1), f.add(f.shl(f.get(g.kh), f.i32(1)), f.shl(f.get(j), f.i32(1))))), f.get(owLo)));
          f.forRange(oh, () => f.get(ohLo), () => f.get(ohHi), 1, () => {
            f.set(q, f.add(f.get(row), x4(f, f.add(f.mul(f.get(oh), f.get(g.Wo)), f.get(owLo)))));
            f.set(pi, f.add(f.get(acc), f.shl(f.add(
              f.mul(f.add(f.sub(f.mul(f.get(oh), f.get(g.sh)), f.get(g.ph)), f.mul(f.get(i), f.get(g.dh))), f.get(g.W)),
              f.add(f.sub(f.mul(f.get(owLo), f.get(g.sw)), f.get(g.pw)), f.mul(f.get(j), f.get(g.dw)))), f.i32(3))));
            f.forRange(k, () => f.i32(0), () => f.get(n), 1, () => {
              f.f64Store(f.get(pi), f.f64Add(f.f64Load(f.get(pi)), f.f64PromoteF32(f.f32Load(f.add(f.get(q), x4(f, f.get(k)))))));
              f.set(pi, f.add(f.get(pi), f.get(step)));
            });
          });
          f.set(row, f.add(f.get(row), x4(f, f.get(L))));
        });
      });
      f.set(out, f.add(f.get(dx), x4(f, f.mul(f.get(p), f.get(P)))));
      f.forRange(k, () => f.i32(0), () => f.get(P), 1, () => {
        f.f32Store(f.add(f.get(out), x4(f, f.get(k))), f.f32DemoteF64(f.f64Load(f.add(f.get(acc), f.shl(f.get(k), f.i32(3))))));
      });
    });
  });

  // maxpool_planes(x, out, argmax, prm, lo, hi): the first maximum in window order, NaN wins.
  m.func('maxpool_planes', [I, I, I, I, I, I] as const, null, (f, x, out, arg, prm, lo, hi) => {
    const g = loadGeometry(f, prm);
    const p = f.local(I), oh = f.local(I), ow = f.local(I), i = f.local(I), j = f.local(I);
    const plane = f.local(I), o = f.local(I), iLo = f.local(I), iHi = f.local(I), jLo = f.local(I), jHi = f.local(I);
    const h = f.local(I), w = f.local(I), rowp = f.local(I), am = f.local(I), take = f.local(I), v = f.local('f64'), best = f.local('f64');
    f.forRange(p, () => f.get(lo), () => f.get(hi), 1, () => {
      f.set(plane, f.add(f.get(x), x4(f, f.mul(f.get(p), f.mul(f.get(g.H), f.get(g.W))))));
      f.set(o, x4(f, f.mul(f.get(p), f.mul(f.get(g.Ho), f.get(g.Wo)))));
      f.forRange(oh, () => f.i32(0), () => f.get(g.Ho), 1, () => {
        f.set(iLo, entry(f, prm, f.add(f.i32(CONV_TABLE), f.shl(f.get(oh), f.i32(1)))));
        f.set(iHi, entry(f, prm, f.add(f.i32(CONV_TABLE + 1), f.shl(f.get(oh), f.i32(1)))));
        f.forRange(ow, () => f.i32(0), () => f.get(g.Wo), 1, () => {
          f.set(jLo, entry(f, prm, f.add(f.i32(CONV_TABLE), f.add(f.shl(f.get(g.Ho), f.i32(1)), f.shl(f.get(ow), f.i32(1))))));
          f.set(jHi, entry(f, prm, f.add(f.i32(CONV_TABLE + 1), f.add(f.shl(f.get(g.Ho), f.i32(1)), f.shl(f.get(ow), f.i32(1))))));
          f.set(best, f.f64(-Infinity));
          f.set(am, f.i32(-1));
          f.forRange(i, () => f.get(iLo), () => f.get(iHi), 1, () => {
            f.set(h, f.add(f.sub(f.mul(f.get(oh), f.get(g.sh)), f.get(g.ph)), f.mul(f.get(i), f.get(g.dh))));
            f.set(rowp, f.add(f.get(plane), x4(f, f.mul(f.get(h), f.get(g.W)))));
            f.forRange(j, () => f.get(jLo), () => f.get(jHi), 1, () => {
              f.set(w, f.add(f.sub(f.mul(f.get(ow), f.get(g.sw)), f.get(g.pw)), f.mul(f.get(j), f.get(g.dw))));
              f.set(v, f.f64PromoteF32(f.f32Load(f.add(f.get(rowp), x4(f, f.get(w))))));
              // The first in-image tap, a strictly larger value, or the first NaN (never replaced).
              // Branch-free (selects): which tap wins is data-dependent and mispredicts.
              f.set(take, f.or(f.eq(f.get(am), f.i32(-1)), f.and(f.f64Eq(f.get(best), f.get(best)), f.or(f.f64Lt(f.get(best), f.get(v)), f.f64Ne(f.get(v), f.get(v))))));
              f.set(best, f.select(f.get(v), f.get(best), f.get(take)));
              f.set(am, f.select(f.add(f.mul(f.get(h), f.get(g.W)), f.get(w)), f.get(am), f.get(take)));
            });
          });
          f.f32Store(f.add(f.get(out), f.get(o)), f.f32DemoteF64(f.get(best)));
          f.i32Store(f.add(f.get(arg), f.get(o)), f.get(am));
          f.set(o, f.add(f.get(o), f.i32(4)));
        });
      });
    });
  });

  // maxpool_backward_planes(dy, argmax, dx, prm, lo, hi, acc): dy[o] added into pixel argmax[o]
  // (−1: a window wholly in the padding sent nothing), in float64, then rounded once.
  m.func('maxpool_backward_planes', [I, I, I, I, I, I, I] as const, null, (f, dy, arg, dx, prm, lo, hi, acc) => {
    const g = loadGeometry(f, prm);
    const p = f.local(I), k = f.local(I), P = f.local(I), Q = f.local(I), a = f.local(I), base = f.local(I), at = f.local(I), out = f.local(I);
    f.set(P, f.mul(f.get(g.H), f.get(g.W)));
    f.set(Q, f.mul(f.get(g.Ho), f.get(g.Wo)));
    f.forRange(p, () => f.get(lo), () => f.get(hi), 1, () => {
      f.forRange(k, () => f.i32(0), () => f.get(P), 1, () => f.f64Store(f.add(f.get(acc), f.shl(f.get(k), f.i32(3))), f.f64(0)));
      f.set(base, x4(f, f.mul(f.get(p), f.get(Q))));
      f.forRange(k, () => f.i32(0), () => f.get(Q), 1, () => {
        f.set(a, f.i32Load(f.add(f.add(f.get(arg), f.get(base)), x4(f, f.get(k)))));
        f.if_(f.geS(f.get(a), f.i32(0)), () => {
          f.set(at, f.add(f.get(acc), f.shl(f.get(a), f.i32(3))));
          f.f64Store(f.get(at), f.f64Add(f.f64Load(f.get(at)), f.f64PromoteF32(f.f32Load(f.add(f.add(f.get(dy), f.get(base)), x4(f, f.get(k)))))));
        });
      });
      f.set(out, f.add(f.get(dx), x4(f, f.mul(f.get(p), f.get(P)))));
      f.forRange(k, () => f.i32(0), () => f.get(P), 1, () => {
        f.f32Store(f.add(f.get(out), x4(f, f.get(k))), f.f32DemoteF64(f.f64Load(f.add(f.get(acc), f.shl(f.get(k), f.i32(3))))));
      });
    });
  });

  // maxpool2x2_planes(x, out, argmax, prm, lo, hi): kernel 2×2, stride 2, padding 0, dilation 1.
  m.func('maxpool2x2_planes', [I, I, I, I, I, I] as const, null, (f, x, out, arg, prm, lo, hi) => {
    const g = loadGeometry(f, prm);
    const p = f.local(I), oh = f.local(I), ow = f.local(I), r0 = f.local(I), r1 = f.local(I), o = f.local(I), vecEnd = f.local(I), t = f.local(I);
    const a0 = f.local('v128'), a1 = f.local('v128'), best = f.local('v128'), idx = f.local('v128'), v = f.local('v128'), take = f.local('v128');
    const sb = f.local('f64'), sv = f.local('f64'), sam = f.local(I), at = f.local(I);
    f.set(vecEnd, f.sub(f.get(g.Wo), f.i32(3)));
    f.forRange(p, () => f.get(lo), () => f.get(hi), 1, () => {
      f.forRange(oh, () => f.i32(0), () => f.get(g.Ho), 1, () => {
        f.set(r0, f.add(f.get(x), x4(f, f.mul(f.add(f.mul(f.get(p), f.get(g.H)), f.shl(f.get(oh), f.i32(1))), f.get(g.W)))));
        f.set(r1, f.add(f.get(r0), x4(f, f.get(g.W))));
        f.set(o, x4(f, f.mul(f.add(f.mul(f.get(p), f.get(g.Ho)), f.get(oh)), f.get(g.Wo))));
        // Flat index of tap (0, 0) of output (oh, 0): 2·oh·W.
        f.set(t, f.mul(f.shl(f.get(oh), f.i32(1)), f.get(g.W)));
        f.forRange(ow, () => f.i32(0), () => f.get(vecEnd), 4, () => {
          const split = (row: I32, odd: boolean) => {
            f.set(a0, f.v128Load(f.add(f.get(row), f.shl(f.get(ow), f.i32(3)))));
            f.set(a1, f.v128Load(f.add(f.get(row), f.shl(f.get(ow), f.i32(3))), 16));
            return f.i32x4Shuffle(f.get(a0), f.get(a1), odd ? [1, 3, 5, 7] : [0, 2, 4, 6]);
          };
          f.set(best, split(r0, false));
          f.set(idx, f.v128ConstI32([0, 0, 0, 0]));
          // Taps (0, 1), (1, 0), (1, 1), at flat offsets 1, W, W + 1 from tap (0, 0).
          const step = (row: I32, odd: boolean, off: () => Val<'v128'>) => {
            f.set(v, split(row, odd));
            f.set(take, f.v128And(f.f32x4Eq(f.get(best), f.get(best)), f.v128Or(f.f32x4Lt(f.get(best), f.get(v)), f.f32x4Ne(f.get(v), f.get(v)))));
            f.set(best, f.v128Bitselect(f.get(v), f.get(best), f.get(take)));
            f.set(idx, f.v128Bitselect(off(), f.get(idx), f.get(take)));
          };
          step(r0, true, () => f.v128ConstI32([1, 1, 1, 1]));
          step(r1, false, () => f.i32x4Splat(f.get(g.W)));
          step(r1, true, () => f.i32x4Splat(f.add(f.get(g.W), f.i32(1))));
          f.v128Store(f.add(f.add(f.get(out), f.get(o)), f.shl(f.get(ow), f.i32(2))), f.get(best));
          f.v128Store(f.add(f.add(f.get(arg), f.get(o)), f.shl(f.get(ow), f.i32(2))),
            f.i32x4Add(f.i32x4Add(f.get(idx), f.i32x4Splat(f.add(f.get(t), f.shl(f.get(ow), f.i32(1))))), f.v128ConstI32([0, 2, 4, 6])));
        });
        // The rest of the row, one output at a time (float64 compares, as maxpool_planes).
        f.set(ow, f.and(f.get(g.Wo), f.i32(~3)));
        f.block((exit) => {
          f.brIf(exit, f.geS(f.get(ow), f.get(g.Wo)));
          f.loop((top) => {
            f.set(at, f.shl(f.get(ow), f.i32(3)));
            f.set(sb, f.f64PromoteF32(f.f32Load(f.add(f.get(r0), f.get(at)))));
            f.set(sam, f.i32(0));
            const tap = (row: I32, byteOff: number, flat: () => Val<'i32'>) => {
              f.set(sv, f.f64PromoteF32(f.f32Load(f.add(f.get(row), f.get(at)), byteOff)));
              f.if_(f.and(f.f64Eq(f.get(sb), f.get(sb)), f.or(f.f64Lt(f.get(sb), f.get(sv)), f.f64Ne(f.get(sv), f.get(sv)))), () => {
                f.set(sb, f.get(sv));
                f.set(sam, flat());
              });
            };
            tap(r0, 4, () => f.i32(1));
            tap(r1, 0, () => f.get(g.W));
            tap(r1, 4, () => f.add(f.get(g.W), f.i32(1)));
            f.f32Store(f.add(f.add(f.get(out), f.get(o)), f.shl(f.get(ow), f.i32(2))), f.f32DemoteF64(f.get(sb)));
            f.i32Store(f.add(f.add(f.get(arg), f.get(o)), f.shl(f.get(ow), f.i32(2))), f.add(f.add(f.get(sam), f.get(t)), f.shl(f.get(ow), f.i32(1))));
            f.set(ow, f.add(f.get(ow), f.i32(1)));
            f.brIf(top, f.ltS(f.get(ow), f.get(g.Wo)));
          });
        });
      });
    });
  });
}
