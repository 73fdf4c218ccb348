// WebAssembly generated from the op expressions, for the float32 kernels of the fast cpu tier
// (wasm/unary_program.ts, wasm/elementwise_program.ts, cpu_fast/fused_elementwise_program.ts).
// An op takes one of three routes:
// - 'f32': the op is one correctly rounded float32 instruction on its operands (add, mul, sqrt, max,
//   …; constants exact in float32): f32x4 lanes directly, bit-identical to the reference;
// - 'f64': every primitive has a float64 form (wasm_math.ts): each half of the vector is promoted to
//   f64x2, the expression evaluated there node by node (each node's value in its own local; a node
//   used twice is evaluated once) and the result rounded to float32 once;
// - 'f32poly': for an op that opts in (`route: 'f32poly'` in ops.ts) and whose every primitive has
//   a float32 form (an `f32` instruction or an `f32poly` approximation, wasm_math32.ts): the
//   expression evaluated node by node on four float32 lanes, constants rounded to float32, every
//   node rounded as it is computed. For gelu and geluGrad about 2.6 times the throughput of 'f64'
//   (one thread, measured), at a few ulp more error, which the op states in its `accuracy.wasm`.
// Every kernel that lowers an op (its per-op kernel, the fused programs) follows the op's route, so
// they agree bit for bit.
// Ops with a primitive that has neither (log, sin, pow, comparisons, …) have no WebAssembly form and
// run in the TypeScript loops.

import type { FuncBuilder, Local, Val } from '../wasm/emitter.js';
import type { ArgName, Expr } from './expr.js';
import { useCounts } from './expr.js';
import { BINARY_DEFS, UNARY_DEFS, type OpDef } from './ops.js';
import { PRIMS } from './primitives.js';
import { c2, exp64, type WasmCtx } from './wasm_math.js';

export type WasmRoute = 'f32' | 'f64' | 'f32poly';

/** The expressions of the ops that opt into the 'f32poly' route (looked up by the expression object). */
const F32POLY_EXPRS: ReadonlySet<Expr> = new Set(
  [...Object.values<OpDef>(UNARY_DEFS), ...Object.values<OpDef>(BINARY_DEFS)].filter((d) => d.route === 'f32poly').map((d) => d.expr),
);

const hasF32Form = (n: Expr): boolean =>
  n.k !== 'prim' || (n.kind === 'num' && (PRIMS[n.prim].f32 !== undefined || PRIMS[n.prim].f32poly !== undefined) && n.args.every(hasF32Form));

const isLeaf = (e: Expr) => e.k === 'arg' || (e.k === 'const' && Math.fround(e.value) === e.value);

/** How the op runs in WebAssembly, or null when it does not. */
export function wasmRoute(e: Expr): WasmRoute | null {
  if (e.kind !== 'num') return null;
  if (e.k === 'prim' && PRIMS[e.prim].f32 && e.args.every(isLeaf)) return 'f32';
  if (e.k === 'prim' && F32POLY_EXPRS.has(e) && hasF32Form(e)) return 'f32poly';
  const ok = (n: Expr): boolean => n.k !== 'prim' || (n.kind === 'num' && PRIMS[n.prim].wasm64 !== undefined && n.args.every(ok));
  return e.k === 'prim' && ok(e) ? 'f64' : null;
}

/** Whether the 'f32' route also has a scalar form (for a kernel's tail). */
export const hasScalarF32 = (e: Expr): boolean => e.k === 'prim' && PRIMS[e.prim].f32?.scalar !== undefined && e.args.every(isLeaf);

function f32Route(e: Expr): Expr & { k: 'prim' } {
  if (e.k !== 'prim' || wasmRoute(e) !== 'f32') throw new TypeError('elementwise: expression has no float32 WebAssembly form');
  return e;
}

/** The op on four float32 lanes (route 'f32'); `operand(name)` pushes that operand's vector. */
export function emitF32x4(f: FuncBuilder, e: Expr, operand: (name: ArgName) => Val<'v128'>): Val<'v128'> {
  const r = f32Route(e);
  const splat = (v: number) => f.v128Const([v, v, v, v]);
  const args = r.args.map((n) => () => (n.k === 'arg' ? operand(n.name) : splat((n as { value: number }).value)));
  return PRIMS[r.prim].f32!.vec(f, ...args);
}

/** The op on one float32 (route 'f32' with a scalar form); `operand(name)` pushes that operand. */
export function emitF32(f: FuncBuilder, e: Expr, operand: (name: ArgName) => Val<'f32'>): Val<'f32'> {
  const r = f32Route(e);
  const scalar = PRIMS[r.prim].f32!.scalar;
  if (!scalar) throw new TypeError(`elementwise: primitive ${r.prim} has no scalar float32 WebAssembly form`);
  return scalar(f, ...r.args.map((n) => () => (n.k === 'arg' ? operand(n.name) : f.f32((n as { value: number }).value))));
}

type Prim = Expr & { k: 'prim' };

/**
 * Evaluates `e` node by node, each node once into its own local (a node used twice is evaluated
 * once): arguments from `operands`, constants through `constant`, primitives through `prim` (which
 * lowers a node's arguments with the `emit` it is given). Both lane widths walk expressions this way.
 */
function lowerNodes(e: Expr, operands: Partial<Record<ArgName, Local<'v128'>>>, constant: (value: number) => Local<'v128'>,
  prim: (n: Prim, emit: (n: Expr) => Local<'v128'>) => Local<'v128'>): Local<'v128'> {
  const done = new Map<Expr, Local<'v128'>>();
  const emit = (n: Expr): Local<'v128'> => {
    const seen = done.get(n);
    if (seen) return seen;
    let l: Local<'v128'>;
    if (n.k === 'arg') {
      const op = operands[n.name];
      if (!op) throw new TypeError(`elementwise: operand ${n.name} is not bound`);
      l = op;
    } else if (n.k === 'const') {
      l = constant(n.value);
    } else if (n.k !== 'prim') {
      throw new TypeError(`elementwise: a fused leaf (${n.k} ${n.index}) is not bound`);
    } else {
      l = prim(n, emit);
    }
    done.set(n, l);
    return l;
  };
  return emit(e);
}

/**
 * The op on two float64 lanes (route 'f64'), the operands in locals; returns the local holding the
 * result. One rewrite: p·σ(q), with σ(q) used nowhere else, is evaluated as p/(1 + e^{−q}) — one
 * division instead of a division and a multiply, and one rounding fewer (silu, geluTanh).
 */
export function emitF64x2(cx: WasmCtx, e: Expr, operands: Partial<Record<ArgName, Local<'v128'>>>): Local<'v128'> {
  const { f } = cx;
  const uses = useCounts(e);
  const soleSigmoid = (n: Expr): n is Prim => n.k === 'prim' && n.prim === 'sigmoid' && uses.get(n) === 1;
  return lowerNodes(e, operands, (v) => {
    const l = cx.tmp();
    f.set(l, c2(f, v));
    return l;
  }, (n, emit) => {
    if (n.prim === 'mul' && soleSigmoid(n.args[1]!)) {
      const p = emit(n.args[0]!), q = emit(n.args[1].args[0]!);
      const m = cx.tmp();
      f.set(m, f.f64x2Neg(f.get(q)));
      const ex = exp64(cx, m);
      const l = cx.tmp();
      f.set(l, f.f64x2Div(f.get(p), f.f64x2Add(c2(f, 1), f.get(ex))));
      return l;
    }
    const lower = PRIMS[n.prim].wasm64;
    if (!lower || n.kind !== 'num') throw new TypeError(`elementwise: primitive ${n.prim} has no float64 WebAssembly form`);
    return lower(cx, n.args.map(emit));
  });
}

/**
 * The op on four float32 lanes (route 'f32poly'), the operands in locals; returns the local holding
 * the result, constants rounded to float32.
 */
export function emitF32Poly(cx: WasmCtx, e: Expr, operands: Partial<Record<ArgName, Local<'v128'>>>): Local<'v128'> {
  if (wasmRoute(e) !== 'f32poly') throw new TypeError('elementwise: expression does not take the float32 polynomial route');
  const { f } = cx;
  return lowerNodes(e, operands, (value) => {
    const l = cx.tmp();
    const v = Math.fround(value);
    f.set(l, f.v128Const([v, v, v, v]));
    return l;
  }, (n, emit) => {
    const p = PRIMS[n.prim];
    const args = n.args.map(emit);
    if (p.f32poly) return p.f32poly(cx, args);
    const l = cx.tmp();
    f.set(l, p.f32!.vec(f, ...args.map((a) => () => f.get(a))));
    return l;
  });
}

/** A lowering context over `f` (float64 lanes or float32 lanes): fresh locals on demand. */
export const wasmCtx = (f: FuncBuilder, fma: boolean): WasmCtx => ({ f, fma, tmp: () => f.local('v128') });
