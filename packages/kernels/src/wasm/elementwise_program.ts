// WebAssembly SIMD programs for the memory-bound float32 kernels: binary add/sub/mul/div, the
// strided copy, `where` with a float32 condition and the AdamW step.
//
// binary_<op>(a, ia, ra, b, ib, rb, out, n, rows) computes `rows` rows of n outputs each:
//   out[r·n + j] = A(r, j) op B(r, j)
// where an operand with inner flag 1 is read contiguously (A(r, j) = a[r·ra + j]) and with flag 0 is
// one value per row broadcast along it (A(r, j) = a[r·ra]); ra/rb are byte strides between rows
// (0 repeats the same row). One routine thus covers same-shape operands (rows = 1), a scalar
// operand, a bias row broadcast over a batch ([R, C] + [C]) and a per-row column ([R, C] · [R, 1]).
// The inner loop does four outputs per step with the broadcast operand splatted once per row. The
// op's instruction comes from its expression (elementwise/ops.ts): float32 add/sub/mul/div are
// correctly rounded, and so is the reference's float64 operation followed by rounding to float32
// (float64 has more than twice float32's precision), so the results are bit-identical to the reference.
//
// copy_f32(src, s0, s1, s2, s3, dst, d0, d1, d2, d3, n0, n1, n2, n3) copies an n0×n1×n2×n3 box of
// floats between two strided layouts (byte strides s·/d·): the strided copy behind transposes and
// head splits. Rows whose inner strides are both 4 move four floats per vector load/store, with a
// scalar tail; other rows go element by element. Copies are exact.
//
// where_f32(cond, a, b, ib, out, n) writes out[i] = cond[i] ≠ 0 ? a[i] : B(i) (NaN counts as
// non-zero), B(i) = b[i] when ib is 1 and b[0] when ib is 0 (a broadcast scalar): a float32
// condition, as relu's backward passes its output. Four lanes per step with no scalar tail: the last
// step may read and write up to three floats past n, inside the 16 bytes of slack every heap block
// has (runtime.ts). Copies values, so exact.
//
// adamw(p, g, m, v, n, params) runs one AdamW step in float32 lanes (f32x4), four elements per
// step, with the WGSL kernel's formula and operation order (webgpu/adamw.ts):
//   p ← p − c_lrwd·p;  m ← β1·m + c1·g;  v ← β2·v + (c2·g)·g;  p ← p − (lr·(m/bc1)) / (√(v/bc2) + eps)
// params holds the float32 constants listed at `ADAMW_PARAMS` (computed in float64 on the host,
// then rounded once). Every operation is one correctly rounded float32 instruction and WebAssembly
// never contracts a·b + c into a fused multiply-add, so the result equals the formula evaluated with
// Math.fround after each operation, bit for bit (cpu_fast/adamw.ts states the error against the
// float64 reference). n must be a multiple of 4 (callers pad: the last step runs in the blocks' slack).

import { BINARY_DEFS } from '../elementwise/ops.js';
import { emitF32, emitF32x4, hasScalarF32 } from '../elementwise/wasm.js';
import type { Local, ModuleBuilder } from './emitter.js';

/** The binary ops with a broadcast-row kernel; each must be one float32 instruction (elementwise/wasm.ts). */
export const BINARY_FAST_OPS = ['add', 'sub', 'mul', 'div'] as const;
export type BinaryFastOp = (typeof BINARY_FAST_OPS)[number];

for (const op of BINARY_FAST_OPS) {
  if (!hasScalarF32(BINARY_DEFS[op].expr)) throw new TypeError(`binary_${op}: the op is not one float32 WebAssembly instruction`);
}

export function addBinary(m: ModuleBuilder): void {
  for (const op of BINARY_FAST_OPS) {
    const expr = BINARY_DEFS[op].expr;
    m.func(`binary_${op}`, ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null,
      (f, a, ia, ra, b, ib, rb, out, n, rows) => {
        const r = f.local('i32'), j = f.local('i32'), ap = f.local('i32'), bp = f.local('i32'), op_ = f.local('i32');
        const vecEnd = f.local('i32');
        const av = f.local('v128'), bv = f.local('v128');
        f.set(vecEnd, f.sub(f.get(n), f.i32(3)));
        // One specialised row loop per operand pattern, chosen once per call.
        const rowLoop = (aInner: boolean, bInner: boolean) => {
          f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
            f.set(ap, f.add(f.get(a), f.mul(f.get(r), f.get(ra))));
            f.set(bp, f.add(f.get(b), f.mul(f.get(r), f.get(rb))));
            f.set(op_, f.add(f.get(out), f.shl(f.mul(f.get(r), f.get(n)), f.i32(2))));
            if (!aInner) f.set(av, f.v128Load32Splat(f.get(ap)));
            if (!bInner) f.set(bv, f.v128Load32Splat(f.get(bp)));
            const at = (base: Local<'i32'>) => f.add(f.get(base), f.shl(f.get(j), f.i32(2)));
            f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
              f.v128Store(at(op_), emitF32x4(f, expr, (name) => (name === 'a' ? (aInner ? f.v128Load(at(ap)) : f.get(av)) : (bInner ? f.v128Load(at(bp)) : f.get(bv)))));
            });
            f.set(j, f.and(f.get(n), f.i32(~3)));
            f.block((exit) => {
              f.brIf(exit, f.geS(f.get(j), f.get(n)));
              f.loop((top) => {
                f.f32Store(at(op_), emitF32(f, expr, (name) => (name === 'a' ? f.f32Load(aInner ? at(ap) : f.get(ap)) : f.f32Load(bInner ? at(bp) : f.get(bp)))));
                f.set(j, f.add(f.get(j), f.i32(1)));
                f.brIf(top, f.ltS(f.get(j), f.get(n)));
              });
            });
          });
        };
        f.if_(f.get(ia), () => {
          f.if_(f.get(ib), () => rowLoop(true, true), () => rowLoop(true, false));
        }, () => {
          f.if_(f.get(ib), () => rowLoop(false, true), () => rowLoop(false, false));
        });
      });
  }
}

export function addCopy(m: ModuleBuilder): void {
  const I = 'i32' as const;
  m.func('copy_f32', [I, I, I, I, I, I, I, I, I, I, I, I, I, I] as const, null,
    (f, src, s0, s1, s2, s3, dst, d0, d1, d2, d3, n0, n1, n2, n3) => {
      const a = f.local('i32'), b = f.local('i32'), c = f.local('i32'), j = f.local('i32');
      const pa = f.local('i32'), qa = f.local('i32'), pb = f.local('i32'), qb = f.local('i32'), p = f.local('i32'), q = f.local('i32');
      const unit = f.local('i32'), vecEnd = f.local('i32');
      f.set(unit, f.and(f.eq(f.get(s3), f.i32(4)), f.eq(f.get(d3), f.i32(4))));
      f.set(vecEnd, f.sub(f.get(n3), f.i32(3)));
      f.set(pa, f.get(src));
      f.set(qa, f.get(dst));
      f.forRange(a, () => f.i32(0), () => f.get(n0), 1, () => {
        f.set(pb, f.get(pa));
        f.set(qb, f.get(qa));
        f.forRange(b, () => f.i32(0), () => f.get(n1), 1, () => {
          f.set(p, f.get(pb));
          f.set(q, f.get(qb));
          f.forRange(c, () => f.i32(0), () => f.get(n2), 1, () => {
            f.if_(f.get(unit), () => {
              f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
                f.v128Store(f.add(f.get(q), f.shl(f.get(j), f.i32(2))), f.v128Load(f.add(f.get(p), f.shl(f.get(j), f.i32(2)))));
              });
              f.set(j, f.and(f.get(n3), f.i32(~3)));
              f.block((exit) => {
                f.brIf(exit, f.geS(f.get(j), f.get(n3)));
                f.loop((top) => {
                  f.f32Store(f.add(f.get(q), f.shl(f.get(j), f.i32(2))), f.f32Load(f.add(f.get(p), f.shl(f.get(j), f.i32(2)))));
                  f.set(j, f.add(f.get(j), f.i32(1)));
                  f.brIf(top, f.ltS(f.get(j), f.get(n3)));
                });
              });
            }, () => {
              f.forRange(j, () => f.i32(0), () => f.get(n3), 1, () => {
                f.f32Store(f.add(f.get(q), f.mul(f.get(j), f.get(d3))), f.f32Load(f.add(f.get(p), f.mul(f.get(j), f.get(s3)))));
              });
            });
            f.set(p, f.add(f.get(p), f.get(s2)));
            f.set(q, f.add(f.get(q), f.get(d2)));
          });
          f.set(pb, f.add(f.get(pb), f.get(s1)));
          f.set(qb, f.add(f.get(qb), f.get(d1)));
        });
        f.set(pa, f.add(f.get(pa), f.get(s0)));
        f.set(qa, f.add(f.get(qa), f.get(d0)));
      });
    });
}

/** Constants of one AdamW step, computed in float64 and stored as float32, in this order in the params block. */
export const ADAMW_PARAMS = ['lrTimesWd', 'beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'bc1', 'bc2', 'lr', 'eps'] as const;

export function addAdamW(m: ModuleBuilder): void {
  m.func('adamw', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null, (f, p, g, mm, vv, n, params) => {
    const c = ADAMW_PARAMS.map((_, i) => {
      const l = f.local('v128');
      f.set(l, f.v128Load32Splat(f.add(f.get(params), f.i32(i * 4))));
      return l;
    });
    const [lrwd, b1, omb1, b2, omb2, bc1, bc2, lr, eps] = c as [Local<'v128'>, Local<'v128'>, Local<'v128'>, Local<'v128'>,
      Local<'v128'>, Local<'v128'>, Local<'v128'>, Local<'v128'>, Local<'v128'>];
    const i = f.local('i32'), off = f.local('i32');
    const P = f.local('v128'), G = f.local('v128'), Mv = f.local('v128'), Vv = f.local('v128');
    const at = (base: Local<'i32'>) => f.add(f.get(base), f.get(off));
    f.forRange(i, () => f.i32(0), () => f.get(n), 4, () => {
      f.set(off, f.shl(f.get(i), f.i32(2)));
      f.set(P, f.v128Load(at(p)));
      f.set(G, f.v128Load(at(g)));
      // p ← p − (lr·wd)·p
      f.set(P, f.f32x4Sub(f.get(P), f.f32x4Mul(f.get(lrwd), f.get(P))));
      // m ← β1·m + (1−β1)·g ;  v ← β2·v + ((1−β2)·g)·g
      f.set(Mv, f.f32x4Add(f.f32x4Mul(f.get(b1), f.v128Load(at(mm))), f.f32x4Mul(f.get(omb1), f.get(G))));
      f.set(Vv, f.f32x4Add(f.f32x4Mul(f.get(b2), f.v128Load(at(vv))), f.f32x4Mul(f.f32x4Mul(f.get(omb2), f.get(G)), f.get(G))));
      // p ← p − (lr·(m/bc1)) / (√(v/bc2) + eps)
      f.set(P, f.f32x4Sub(f.get(P), f.f32x4Div(f.f32x4Mul(f.get(lr), f.f32x4Div(f.get(Mv), f.get(bc1))),
        f.f32x4Add(f.f32x4Sqrt(f.f32x4Div(f.get(Vv), f.get(bc2))), f.get(eps)))));
      f.v128Store(at(p), f.get(P));
      f.v128Store(at(mm), f.get(Mv));
      f.v128Store(at(vv), f.get(Vv));
    });
  });
}

export function addWhere(m: ModuleBuilder): void {
  m.func('where_f32', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null, (f, cond, a, b, ib, out, n) => {
    const k = f.local('i32'), off = f.local('i32'), bv = f.local('v128'), zero = f.local('v128');
    f.set(zero, f.v128Const([0, 0, 0, 0]));
    const loop = (bInner: boolean) => f.forRange(k, () => f.i32(0), () => f.get(n), 4, () => {
      f.set(off, f.shl(f.get(k), f.i32(2)));
      f.v128Store(f.add(f.get(out), f.get(off)), f.v128Bitselect(
        f.v128Load(f.add(f.get(a), f.get(off))),
        bInner ? f.v128Load(f.add(f.get(b), f.get(off))) : f.get(bv),
        f.f32x4Ne(f.v128Load(f.add(f.get(cond), f.get(off))), f.get(zero))));
    });
    f.if_(f.get(ib), () => loop(true), () => {
      f.set(bv, f.v128Load32Splat(f.get(b)));
      loop(false);
    });
  });
}
