// WebAssembly SIMD programs for the float32 elementwise ops on contiguous data, generated from the
// ops' expressions (elementwise/ops.ts) by elementwise/wasm.ts.
//
// unary_<op>(x, out, n) writes out[i] = op(x[i]) for i < n, four elements per loop step. The caller
// hands each thread a range starting at a multiple of 4; a range whose length is not a multiple of 4
// is finished by one more full step, which reads up to three floats past x's range and writes up to
// three past out's — both inside the 16 bytes of slack every heap block has (runtime.ts), so
// there is no scalar tail.
//
// Every unary op with a WebAssembly form has a kernel here (UNARY_FAST_OPS), on one of three routes
// (elementwise/wasm.ts):
// - 'f32' (neg, abs, square, relu, sqrt, reciprocal): one correctly rounded f32x4 instruction, as
//   is the reference's float64 result rounded to float32, so the results are bit-identical to it;
// - 'f64' (rsqrt, exp, tanh, sigmoid, silu, geluTanh, erf): each half of the vector is promoted to
//   f64x2, the expression evaluated in float64 with the primitives of elementwise/wasm_math.ts
//   (their errors are documented there) and rounded to float32 once: the reference's float32 value
//   or, in rare near-tie cases, its neighbour (1 ulp). erf's fit has a maximum absolute error of
//   1.6e-8;
// - 'f32poly' (gelu): the expression in float32 on four lanes, erf and exp by the float32
//   approximations of elementwise/wasm_math32.ts; the error each op keeps is its `accuracy.wasm`.
//
// grad_<op>(x, g, out, n) writes out[i] = op(x[i], g[i]) for the binary ops that take the 'f64' or
// 'f32poly' route (the activation gradients siluGrad and geluGrad), evaluated as the unary kernels are.

import type { Expr } from '../elementwise/expr.js';
import { BINARY_DEFS, UNARY_DEFS } from '../elementwise/ops.js';
import { emitF32Poly, emitF32x4, emitF64x2, wasmCtx, wasmRoute, type WasmRoute } from '../elementwise/wasm.js';
import type { BinaryOp, UnaryOp } from '../types.js';
import type { Local, ModuleBuilder } from './emitter.js';

/** The unary ops with a WebAssembly kernel (in UNARY_OPS order). */
export const UNARY_FAST_OPS = (Object.keys(UNARY_DEFS) as UnaryOp[]).filter((op) => wasmRoute(UNARY_DEFS[op].expr) !== null);
export type UnaryFastOp = (typeof UNARY_FAST_OPS)[number];

/** The binary ops evaluated by a `grad_<op>` kernel, in float64 or float32-polynomial lanes (in BINARY_OPS order). */
export const GRAD_FAST_OPS = (Object.keys(BINARY_DEFS) as BinaryOp[]).filter((op) => {
  const route = wasmRoute(BINARY_DEFS[op].expr);
  return route === 'f64' || route === 'f32poly';
});
export type GradFastOp = (typeof GRAD_FAST_OPS)[number];

/**
 * How much sooner an op on each route pays for a second thread than a float32 add, whose threshold
 * FAST_CPU_CONFIG.elementwiseParallelMin counts: a kernel weighs its element count by this before
 * deciding on threads. Measured on two cores: exp ('f64', 1.9 ns an element on one thread) gained
 * nothing from a second thread up to 32,768 elements (64 → 68 µs) and halved from 65,536 on
 * (125 → 70 µs), about a third of the add's break-even count; gelu ('f32poly') costs half of exp.
 */
export const ROUTE_COST: Readonly<Record<WasmRoute, number>> = { f32: 1, f32poly: 1.5, f64: 3 };

const COST = new Map<string, number>([
  ...UNARY_FAST_OPS.map((op) => [`unary_${op}`, ROUTE_COST[wasmRoute(UNARY_DEFS[op].expr)!]] as const),
  ...GRAD_FAST_OPS.map((op) => [`grad_${op}`, ROUTE_COST[wasmRoute(BINARY_DEFS[op].expr)!]] as const),
]);

/** ROUTE_COST of the kernel `unary_<op>` or `grad_<op>`. */
export const kernelCost = (kernel: `unary_${UnaryFastOp}` | `grad_${GradFastOp}`): number => COST.get(kernel) ?? 1;

export function addUnaryGrad(m: ModuleBuilder, opts: { fma?: boolean } = {}): void {
  for (const op of GRAD_FAST_OPS) {
    const expr = BINARY_DEFS[op].expr;
    m.func(`grad_${op}`, ['i32', 'i32', 'i32', 'i32'] as const, null, (f, x, g, out, n) => {
      const i = f.local('i32'), off = f.local('i32');
      const xl = f.local('v128'), xh = f.local('v128'), gl = f.local('v128'), gh = f.local('v128');
      const cx = wasmCtx(f, opts.fma ?? false);
      if (wasmRoute(expr) === 'f32poly') {
        f.forRange(i, () => f.i32(0), () => f.get(n), 4, () => {
          f.set(off, f.shl(f.get(i), f.i32(2)));
          f.set(xl, f.v128Load(f.add(f.get(x), f.get(off))));
          f.set(gl, f.v128Load(f.add(f.get(g), f.get(off))));
          f.v128Store(f.add(f.get(out), f.get(off)), f.get(emitF32Poly(cx, expr, { a: xl, b: gl })));
        });
        return;
      }
      const load2 = (base: Local<'i32'>, at: number) => f.f64x2PromoteLowF32x4(f.v128Load64Zero(f.add(f.get(base), f.get(off)), at));
      f.forRange(i, () => f.i32(0), () => f.get(n), 4, () => {
        f.set(off, f.shl(f.get(i), f.i32(2)));
        f.set(xl, load2(x, 0));
        f.set(xh, load2(x, 8));
        f.set(gl, load2(g, 0));
        f.set(gh, load2(g, 8));
        const yl = emitF64x2(cx, expr, { a: xl, b: gl });
        const yh = emitF64x2(cx, expr, { a: xh, b: gh });
        f.v128Store64Lane0(f.add(f.get(out), f.get(off)), f.f32x4DemoteF64x2Zero(f.get(yl)));
        f.v128Store64Lane0(f.add(f.get(out), f.get(off)), f.f32x4DemoteF64x2Zero(f.get(yh)), 8);
      });
    });
  }
}

export function addUnary(m: ModuleBuilder, opts: { fma?: boolean } = {}): void {
  for (const op of UNARY_FAST_OPS) addUnaryKernel(m, `unary_${op}`, UNARY_DEFS[op].expr, opts);
}

/** One `name(x, out, n)` kernel of a unary expression with a WebAssembly form (see the header). */
export function addUnaryKernel(m: ModuleBuilder, name: string, expr: Expr, opts: { fma?: boolean } = {}): void {
  const route = wasmRoute(expr);
  if (!route) throw new TypeError(`${name}: the expression has no WebAssembly form`);
  m.func(name, ['i32', 'i32', 'i32'] as const, null, (f, x, out, n) => {
    const i = f.local('i32'), px = f.local('i32'), po = f.local('i32');
    const at = (base: Local<'i32'>) => f.add(f.get(base), f.shl(f.get(i), f.i32(2)));
    if (route === 'f32') {
      const v = f.local('v128');
      f.forRange(i, () => f.i32(0), () => f.get(n), 4, () => {
        f.set(v, f.v128Load(at(x)));
        f.v128Store(at(out), emitF32x4(f, expr, () => f.get(v)));
      });
      return;
    }
    const lo = f.local('v128'), hi = f.local('v128');
    const cx = wasmCtx(f, opts.fma ?? false);
    if (route === 'f32poly') {
      f.forRange(i, () => f.i32(0), () => f.get(n), 4, () => {
        f.set(lo, f.v128Load(at(x)));
        f.v128Store(at(out), f.get(emitF32Poly(cx, expr, { x: lo })));
      });
      return;
    }
    f.forRange(i, () => f.i32(0), () => f.get(n), 4, () => {
      f.set(px, at(x));
      f.set(po, at(out));
      f.set(lo, f.f64x2PromoteLowF32x4(f.v128Load64Zero(f.get(px))));
      f.set(hi, f.f64x2PromoteLowF32x4(f.v128Load64Zero(f.get(px), 8)));
      const ylo = emitF64x2(cx, expr, { x: lo });
      const yhi = emitF64x2(cx, expr, { x: hi });
      f.v128Store64Lane0(f.get(po), f.f32x4DemoteF64x2Zero(f.get(ylo)));
      f.v128Store64Lane0(f.get(po), f.f32x4DemoteF64x2Zero(f.get(yhi)), 8);
    });
  });
}
