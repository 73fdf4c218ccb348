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
// Plane p = n·C + c starts at p·H·W in x and dx, at p·Ho·Wo in pooled tensors, and at
// p·kh·kw·Ho·Wo in cols (cols is [N, C·kh·kw, Ho·Wo], so (n, c)'s kh·kw rows follow each other).

import type { FuncBuilder, Local, ModuleBuilder, Val } from '../wasm/emitter.js';

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
}
