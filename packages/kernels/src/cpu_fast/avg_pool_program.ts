// WebAssembly programs of average pooling on float32 (avg_pool.ts launches them): the forward and
// its backward, each over a range [lo, hi) of (n, c) planes so threads take planes from the shared
// queue. Both give the reference's bits (cpu/conv.ts): sums in float64 in the reference's order,
// one division by the window's divisor in float64, one rounding to float32.
//
// Operands. The strided operand (x of the forward, dy of the backward) is any NCHW view in the
// memory: `planes` holds each plane's element offset from the base address, and XH, XW of the
// parameter block its row and column strides. The outputs (out, dx) are contiguous; `div` is the
// Ho·Wo float64 plane of divisors (the taps inside the padded image: count_include_pad).
//
// Parameter block `prm` (i32): the scalars of AVG_PARAMS, then per output row oh the kernel rows
// [lo, hi) that read inside the image (AVG_TABLE + 2·oh), then per output column ow the kernel
// columns (AVG_TABLE + 2·Ho + 2·ow).
//
// avgpool_planes: output columns [FULL_LO, VEC_END) read their whole kernel width inside the image
// (both of a pair), so they go two at a time, one f64x2 accumulator whose lanes are the two
// windows: per tap the pair of inputs (adjacent when sw·xw = 1: one 64-bit load; else two splat
// loads and a shuffle) is widened to float64 and added — each lane sums its window in the
// reference's tap order (i, then j). The border columns and an odd one left take the scalar loop
// with their own tap ranges.
//
// avgpool_backward_planes: the reference adds dy/divisor into every in-image pixel of the window,
// visiting windows in (oh, ow) order. Kept: per window, per kernel row, the run of kernel columns
// (adjacent pixels when dw = 1) gets the same value added, two doubles per f64x2 add, so every
// pixel still receives its terms in window order. The float64 plane is per-thread scratch (`acc`),
// rounded to float32 once at the end, two pixels at a time.

import type { FuncBuilder, Local, ModuleBuilder, Val } from '../wasm/emitter.js';

/** The scalar fields of the parameter block, in order (i32 each). */
export const AVG_PARAMS = ['H', 'W', 'Ho', 'Wo', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw', 'dh', 'dw', 'XH', 'XW', 'FULL_LO', 'VEC_END'] as const;
/** Index of the first table entry in the parameter block. */
export const AVG_TABLE = AVG_PARAMS.length;

type I32 = Local<'i32'>;
type Geo = Record<(typeof AVG_PARAMS)[number], I32>;

function loadGeometry(f: FuncBuilder, prm: I32): Geo {
  const g = {} as Geo;
  AVG_PARAMS.forEach((k, i) => {
    g[k] = f.local('i32');
    f.set(g[k], f.i32Load(f.get(prm), 4 * i));
  });
  return g;
}

/** Table entry `at` (an i32 index into the block) of `prm`. */
const entry = (f: FuncBuilder, prm: I32, at: Val<'i32'>): Val<'i32'> => f.i32Load(f.add(f.shl(at, f.i32(2)), f.get(prm)));
const x4 = (f: FuncBuilder, v: Val<'i32'>) => f.shl(v, f.i32(2));
const x8 = (f: FuncBuilder, v: Val<'i32'>) => f.shl(v, f.i32(3));

export function addAvgPool(m: ModuleBuilder): void {
  const I = 'i32' as const;

  // avgpool_planes(x, out, div, planes, prm, lo, hi)
  m.func('avgpool_planes', [I, I, I, I, I, I, I] as const, null, (f, x, out, div, planes, prm, lo, hi) => {
    const g = loadGeometry(f, prm);
    const p = f.local(I), oh = f.local(I), ow = f.local(I), i = f.local(I), j = f.local(I);
    const plane = f.local(I), orow = f.local(I), drow = f.local(I), h0 = f.local(I), src = f.local(I);
    const iLo = f.local(I), iHi = f.local(I), jLo = f.local(I), jHi = f.local(I), pairStep = f.local(I), tapStep = f.local(I);
    const acc = f.local('v128'), pair = f.local('v128'), s = f.local('f64');
    f.set(pairStep, x4(f, f.mul(f.get(g.sw), f.get(g.XW))));
    f.set(tapStep, x4(f, f.mul(f.get(g.dw), f.get(g.XW))));
    /** Address of input (h0 + i·dh, ow·sw − pw + j·dw) of this plane (`jv` emits j: operands go on the stack in order). */
    const tap = (jv: () => Val<'i32'>): Val<'i32'> => f.add(f.get(plane), x4(f, f.add(
      f.mul(f.add(f.get(h0), f.mul(f.get(i), f.get(g.dh))), f.get(g.XH)),
      f.mul(f.add(f.sub(f.mul(f.get(ow), f.get(g.sw)), f.get(g.pw)), f.mul(jv(), f.get(g.dw))), f.get(g.XW)))));
    const scalarColumns = (from: () => Val<'i32'>, to: () => Val<'i32'>) => {
      f.forRange(ow, from, to, 1, () => {
        f.set(jLo, entry(f, prm, f.add(f.i32(AVG_TABLE), f.add(f.shl(f.get(g.Ho), f.i32(1)), f.shl(f.get(ow), f.i32(1))))));
        f.set(jHi, entry(f, prm, f.add(f.i32(AVG_TABLE + 1), f.add(f.shl(f.get(g.Ho), f.i32(1)), f.shl(f.get(ow), f.i32(1))))));
        f.set(s, f.f64(0));
        f.forRange(i, () => f.get(iLo), () => f.get(iHi), 1, () => {
          f.set(src, tap(() => f.get(jLo)));
          f.forRange(j, () => f.get(jLo), () => f.get(jHi), 1, () => {
            f.set(s, f.f64Add(f.get(s), f.f64PromoteF32(f.f32Load(f.get(src)))));
            f.set(src, f.add(f.get(src), f.get(tapStep)));
          });
        });
        f.f32Store(f.add(f.get(orow), x4(f, f.get(ow))), f.f32DemoteF64(f.f64Div(f.get(s), f.f64Load(f.add(f.get(drow), x8(f, f.get(ow)))))));
      });
    };
    f.forRange(p, () => f.get(lo), () => f.get(hi), 1, () => {
      f.set(plane, f.add(f.get(x), x4(f, f.i32Load(f.add(f.get(planes), x4(f, f.get(p)))))));
      f.forRange(oh, () => f.i32(0), () => f.get(g.Ho), 1, () => {
        f.set(iLo, entry(f, prm, f.add(f.i32(AVG_TABLE), f.shl(f.get(oh), f.i32(1)))));
        f.set(iHi, entry(f, prm, f.add(f.i32(AVG_TABLE + 1), f.shl(f.get(oh), f.i32(1)))));
        f.set(h0, f.sub(f.mul(f.get(oh), f.get(g.sh)), f.get(g.ph)));
        f.set(orow, f.add(f.get(out), x4(f, f.mul(f.add(f.mul(f.get(p), f.get(g.Ho)), f.get(oh)), f.get(g.Wo)))));
        f.set(drow, f.add(f.get(div), x8(f, f.mul(f.get(oh), f.get(g.Wo)))));
        scalarColumns(() => f.i32(0), () => f.get(g.FULL_LO));
        f.forRange(ow, () => f.get(g.FULL_LO), () => f.get(g.VEC_END), 2, () => {
          f.set(acc, f.v128ConstI32([0, 0, 0, 0]));
          f.forRange(i, () => f.get(iLo), () => f.get(iHi), 1, () => {
            f.set(src, tap(() => f.i32(0)));
            f.forRange(j, () => f.i32(0), () => f.get(g.kw), 1, () => {
              f.if_(f.eq(f.get(pairStep), f.i32(4)),
                () => f.set(pair, f.v128Load64Zero(f.get(src))),
                () => f.set(pair, f.i32x4Shuffle(f.v128Load32Splat(f.get(src)), f.v128Load32Splat(f.add(f.get(src), f.get(pairStep))), [0, 4, 0, 4])));
              f.set(acc, f.f64x2Add(f.get(acc), f.f64x2PromoteLowF32x4(f.get(pair))));
              f.set(src, f.add(f.get(src), f.get(tapStep)));
            });
          });
          f.v128Store64Lane0(f.add(f.get(orow), x4(f, f.get(ow))),
            f.f32x4DemoteF64x2Zero(f.f64x2Div(f.get(acc), f.v128Load(f.add(f.get(drow), x8(f, f.get(ow)))))));
        });
        scalarColumns(() => f.get(g.VEC_END), () => f.get(g.Wo));
      });
    });
  });

  // avgpool_backward_planes(dy, dx, div, planes, prm, lo, hi, acc): acc is this thread's float64
  // plane (H·W doubles).
  m.func('avgpool_backward_planes', [I, I, I, I, I, I, I, I] as const, null, (f, dy, dx, div, planes, prm, lo, hi, acc) => {
    const g = loadGeometry(f, prm);
    const p = f.local(I), oh = f.local(I), ow = f.local(I), i = f.local(I), j = f.local(I), k = f.local(I), P = f.local(I);
    const yplane = f.local(I), h0 = f.local(I), dst = f.local(I), n = f.local(I), outp = f.local(I), stepBytes = f.local(I);
    const iLo = f.local(I), iHi = f.local(I), jLo = f.local(I), jHi = f.local(I);
    const v = f.local('f64'), vv = f.local('v128');
    f.set(P, f.mul(f.get(g.H), f.get(g.W)));
    f.set(stepBytes, x8(f, f.get(g.dw)));
    f.forRange(p, () => f.get(lo), () => f.get(hi), 1, () => {
      f.forRange(k, () => f.i32(0), () => f.sub(f.get(P), f.i32(1)), 2, () => f.v128Store(f.add(f.get(acc), x8(f, f.get(k))), f.v128ConstI32([0, 0, 0, 0])));
      f.f64Store(f.add(f.get(acc), x8(f, f.sub(f.get(P), f.i32(1)))), f.f64(0));
      f.set(yplane, f.add(f.get(dy), x4(f, f.i32Load(f.add(f.get(planes), x4(f, f.get(p)))))));
      f.forRange(oh, () => f.i32(0), () => f.get(g.Ho), 1, () => {
        f.set(iLo, entry(f, prm, f.add(f.i32(AVG_TABLE), f.shl(f.get(oh), f.i32(1)))));
        f.set(iHi, entry(f, prm, f.add(f.i32(AVG_TABLE + 1), f.shl(f.get(oh), f.i32(1)))));
        f.set(h0, f.sub(f.mul(f.get(oh), f.get(g.sh)), f.get(g.ph)));
        f.forRange(ow, () => f.i32(0), () => f.get(g.Wo), 1, () => {
          f.set(jLo, entry(f, prm, f.add(f.i32(AVG_TABLE), f.add(f.shl(f.get(g.Ho), f.i32(1)), f.shl(f.get(ow), f.i32(1))))));
          f.set(jHi, entry(f, prm, f.add(f.i32(AVG_TABLE + 1), f.add(f.shl(f.get(g.Ho), f.i32(1)), f.shl(f.get(ow), f.i32(1))))));
          f.set(n, f.sub(f.get(jHi), f.get(jLo)));
          // dy / divisor, in float64 as the reference divides.
          f.set(v, f.f64Div(
            f.f64PromoteF32(f.f32Load(f.add(f.get(yplane), x4(f, f.add(f.mul(f.get(oh), f.get(g.XH)), f.mul(f.get(ow), f.get(g.XW))))))),
            f.f64Load(f.add(f.get(div), x8(f, f.add(f.mul(f.get(oh), f.get(g.Wo)), f.get(ow)))))));
          f.set(vv, f.f64x2Splat(f.get(v)));
          f.forRange(i, () => f.get(iLo), () => f.get(iHi), 1, () => {
            // Pixel (h0 + i·dh, ow·sw − pw + jLo·dw) of the accumulator plane.
            f.set(dst, f.add(f.get(acc), x8(f, f.add(
              f.mul(f.add(f.get(h0), f.mul(f.get(i), f.get(g.dh))), f.get(g.W)),
              f.add(f.sub(f.mul(f.get(ow), f.get(g.sw)), f.get(g.pw)), f.mul(f.get(jLo), f.get(g.dw)))))));
            f.if_(f.eq(f.get(g.dw), f.i32(1)), () => {
              f.forRange(j, () => f.i32(0), () => f.sub(f.get(n), f.i32(1)), 2, () => {
                f.v128Store(f.add(f.get(dst), x8(f, f.get(j))), f.f64x2Add(f.v128Load(f.add(f.get(dst), x8(f, f.get(j)))), f.get(vv)));
              });
              f.if_(f.and(f.get(n), f.i32(1)), () => {
                f.set(dst, f.add(f.get(dst), x8(f, f.sub(f.get(n), f.i32(1)))));
                f.f64Store(f.get(dst), f.f64Add(f.f64Load(f.get(dst)), f.get(v)));
              });
            }, () => {
              f.forRange(j, () => f.i32(0), () => f.get(n), 1, () => {
                f.f64Store(f.get(dst), f.f64Add(f.f64Load(f.get(dst)), f.get(v)));
                f.set(dst, f.add(f.get(dst), f.get(stepBytes)));
              });
            });
          });
        });
      });
      f.set(outp, f.add(f.get(dx), x4(f, f.mul(f.get(p), f.get(P)))));
      f.forRange(k, () => f.i32(0), () => f.sub(f.get(P), f.i32(1)), 2, () => {
        f.v128Store64Lane0(f.add(f.get(outp), x4(f, f.get(k))), f.f32x4DemoteF64x2Zero(f.v128Load(f.add(f.get(acc), x8(f, f.get(k))))));
      });
      f.if_(f.and(f.get(P), f.i32(1)), () => {
        f.f32Store(f.add(f.get(outp), x4(f, f.sub(f.get(P), f.i32(1)))), f.f32DemoteF64(f.f64Load(f.add(f.get(acc), x8(f, f.sub(f.get(P), f.i32(1)))))));
      });
    });
  });
}
