// The primitives of the elementwise expression language, each with one implementation per target:
// - `fn`: float64 JavaScript, the reference semantics (NaN, ±∞, signed zero as PyTorch);
// - `js`: the same as JavaScript source (an operator inline, or a call of `fn` by name), which the
//   reference and the fast float32 loops are generated from (`fast`: a quicker form those loops
//   use, whose error the ops using it state);
// - `wgsl` / `wgslInt`: WGSL over f32 / over i32 with exact integer semantics (absent: the op then
//   computes in f32 for int32 inputs, as the reference computes in float64 and converts on store).
//   Function primitives call the helpers of wgsl_math.ts, whose accuracy that file documents;
// - `wasm64`: float64 on two lanes (wasm_math.ts), rounded to float32 once by the kernel;
// - `f32poly`: a float32 approximation on four lanes (wasm_math32.ts), for the ops that opt into
//   the 'f32poly' route (wasm.ts); the arithmetic primitives use their `f32` instruction there;
// - `f32`: one correctly rounded float32 WebAssembly instruction, used when an op is that single
//   instruction on its operands (then bit-identical to the reference rounded to float32: float64
//   has more than twice float32's precision, so rounding twice equals rounding once).
// `inexact` names the targets where the primitive's result is not the reference's (rounded to the
// output dtype) bit for bit; what an op using it promises there is in ops.ts (stated, or its defaults).

import type { FuncBuilder, Local, Val } from '../wasm/emitter.js';
import { erf, fastErf, powC, remainder, roundHalfEven, sigmoid } from './math.js';
import { erf64, exp64, sigmoid64, tanh64, type WasmCtx } from './wasm_math.js';
import { erf32, exp32 } from './wasm_math32.js';

type Kind = 'num' | 'bool';
type V = Val<'v128'>;
type S = Val<'f32'>;
type L = Local<'v128'>;
type Src = (...args: string[]) => string;

/** A target that computes something other than the reference's value bit for bit. */
export type InexactTarget = 'fast' | 'wasm' | 'wgsl';

export interface Prim {
  readonly args: readonly Kind[];
  readonly result: Kind;
  readonly fn: (...args: number[]) => number | boolean;
  readonly js: Src;
  /** The float32 loops' quicker form, if any: its source and function. */
  readonly fast?: { readonly js: Src; readonly fn: (...args: number[]) => number };
  readonly wgsl: Src;
  readonly wgslInt?: Src;
  readonly wasm64?: (cx: WasmCtx, args: readonly L[]) => L;
  /** A float32 approximation on four lanes (wasm_math32.ts), for the 'f32poly' route. */
  readonly f32poly?: (cx: WasmCtx, args: readonly L[]) => L;
  readonly f32?: { vec: (f: FuncBuilder, ...args: (() => V)[]) => V; scalar?: (f: FuncBuilder, ...args: (() => S)[]) => S };
  readonly inexact: readonly InexactTarget[];
}

/** Helpers the generated JavaScript calls by name (javascript.ts passes them in). */
export const JS_HELPERS = { erf, fastErf, sigmoid, roundHalfEven, powC, remainder } as const;

const N: readonly Kind[] = ['num'];
const NN: readonly Kind[] = ['num', 'num'];

/** A float64 lowering that is one f64x2 instruction on its operands' locals. */
function lane(op: (f: FuncBuilder, ...v: V[]) => V): (cx: WasmCtx, args: readonly L[]) => L {
  return (cx, args) => {
    const out = cx.tmp();
    cx.f.set(out, op(cx.f, ...args.map((l) => cx.f.get(l))));
    return out;
  };
}

/** The WGSL of max/min that propagates NaN (the built-ins need not); a constant operand is never NaN. */
function nanPropagating(name: 'max' | 'min'): Src {
  const isConst = (s: string) => /^\(?-?[0-9]/.test(s);
  return (p, q) => {
    const checks = [p, q].filter((s) => !isConst(s!)).map((s) => `is_nan(${s})`);
    if (checks.length === 0) return `${name}(${p}, ${q})`;
    return `select(${name}(${p}, ${q}), ${checks.length === 2 ? `${p} + ${q}` : isConst(p!) ? q : p}, ${checks.join(' || ')})`;
  };
}

const call = (name: string): Src => (...a) => `${name}(${a.join(', ')})`;
const infix = (op: string): Src => (p, q) => `(${p} ${op} ${q})`;

const arith = (op: '+' | '-' | '*' | '/', fn: (p: number, q: number) => number,
  vec: 'f32x4Add' | 'f32x4Sub' | 'f32x4Mul' | 'f32x4Div', scalar: 'f32Add' | 'f32Sub' | 'f32Mul' | 'f32Div',
  wide: 'f64x2Add' | 'f64x2Sub' | 'f64x2Mul' | 'f64x2Div', int: boolean): Prim => ({
  args: NN, result: 'num', fn, js: infix(op), wgsl: infix(op), wgslInt: int ? infix(op) : undefined,
  wasm64: lane((f, p, q) => f[wide](p!, q!)),
  f32: { vec: (f, p, q) => f[vec](p!(), q!()), scalar: (f, p, q) => f[scalar](p!(), q!()) },
  inexact: [],
});

const compare = (js: string, wgsl: Src, wgslInt: Src, fn: (p: number, q: number) => boolean): Prim => ({
  args: NN, result: 'bool', fn, js: infix(js), wgsl, wgslInt, inexact: [],
});

/** A float64 transcendental: Math.* (or a helper) in JavaScript, a WGSL_MATH helper on the GPU. */
const transcendental = (fn: (p: number) => number, js: string, wgsl: string, wasm64?: (cx: WasmCtx, x: L) => L): Prim => ({
  args: N, result: 'num', fn, js: call(js), wgsl: call(wgsl), wasm64: wasm64 && ((cx, [x]) => wasm64(cx, x!)),
  inexact: wasm64 ? ['wasm', 'wgsl'] : ['wgsl'],
});

const PRIM_TABLE = {
  add: arith('+', (p, q) => p + q, 'f32x4Add', 'f32Add', 'f64x2Add', true),
  sub: arith('-', (p, q) => p - q, 'f32x4Sub', 'f32Sub', 'f64x2Sub', true),
  mul: arith('*', (p, q) => p * q, 'f32x4Mul', 'f32Mul', 'f64x2Mul', true),
  div: arith('/', (p, q) => p / q, 'f32x4Div', 'f32Div', 'f64x2Div', false),
  neg: {
    args: N, result: 'num', fn: (p) => -p, js: (p) => `(-${p})`, wgsl: (p) => `(-${p})`, wgslInt: (p) => `(-${p})`,
    wasm64: lane((f, p) => f.f64x2Neg(p!)), f32: { vec: (f, p) => f.f32x4Neg(p!()) }, inexact: [],
  },
  abs: {
    args: N, result: 'num', fn: Math.abs, js: call('Math.abs'), wgsl: call('abs'), wgslInt: call('abs'),
    wasm64: lane((f, p) => f.f64x2Abs(p!)), f32: { vec: (f, p) => f.f32x4Abs(p!()) }, inexact: [],
  },
  /** sign(±0) = ±0, sign(NaN) = NaN. */
  sign: { args: N, result: 'num', fn: Math.sign, js: call('Math.sign'), wgsl: (p) => `select(sign(${p}), ${p}, is_nan(${p}))`, wgslInt: call('sign'), inexact: [] },
  /** IEEE maximum: NaN if either operand is NaN, max(−0, +0) = +0 (torch.maximum). */
  max: {
    args: NN, result: 'num', fn: Math.max, js: call('Math.max'), wgsl: nanPropagating('max'), wgslInt: call('max'),
    wasm64: lane((f, p, q) => f.f64x2Max(p!, q!)),
    f32: { vec: (f, p, q) => f.f32x4Max(p!(), q!()), scalar: (f, p, q) => f.f32Max(p!(), q!()) }, inexact: [],
  },
  min: {
    args: NN, result: 'num', fn: Math.min, js: call('Math.min'), wgsl: nanPropagating('min'), wgslInt: call('min'),
    wasm64: lane((f, p, q) => f.f64x2Min(p!, q!)),
    f32: { vec: (f, p, q) => f.f32x4Min(p!(), q!()), scalar: (f, p, q) => f.f32Min(p!(), q!()) }, inexact: [],
  },
  /** C's pow: pow(1, y) = pow(x, 0) = 1 even for NaN, pow(−1, ±∞) = 1. */
  pow: { args: NN, result: 'num', fn: powC, js: call('powC'), wgsl: call('pow_c'), inexact: ['wgsl'] },
  /** Floored remainder (torch.remainder): the result has the divisor's sign; the integer form gives 0 for b = 0. */
  mod: { args: NN, result: 'num', fn: remainder, js: call('remainder'), wgsl: call('fmod_floor'), wgslInt: call('imod_floor'), inexact: ['wgsl'] },
  exp: { ...transcendental(Math.exp, 'Math.exp', 'exp_', exp64), f32poly: (cx, [p]) => exp32(cx, p!) },
  expm1: transcendental(Math.expm1, 'Math.expm1', 'expm1_'),
  log: transcendental(Math.log, 'Math.log', 'log_'),
  log1p: transcendental(Math.log1p, 'Math.log1p', 'log1p_'),
  /** Correctly rounded everywhere (the WGSL built-in within a few ulp; NaN below 0 on every adapter). */
  sqrt: {
    args: N, result: 'num', fn: Math.sqrt, js: call('Math.sqrt'), wgsl: call('sqrt_'),
    wasm64: lane((f, p) => f.f64x2Sqrt(p!)), f32: { vec: (f, p) => f.f32x4Sqrt(p!()) }, inexact: ['wgsl'],
  },
  sin: transcendental(Math.sin, 'Math.sin', 'sin_'),
  cos: transcendental(Math.cos, 'Math.cos', 'cos_'),
  tanh: transcendental(Math.tanh, 'Math.tanh', 'tanh_', tanh64),
  /**
   * erf to 1e-16 (reference), 1e-12 (the float32 loops' table), 1.6e-8 (WebAssembly in float64),
   * 3.3e-7 (WebAssembly in float32, 5.5 ulp), ~1e-7 (WGSL) absolute.
   */
  erf: {
    ...transcendental(erf, 'erf', 'erf_', erf64), fast: { js: call('fastErf'), fn: fastErf }, f32poly: (cx, [p]) => erf32(cx, p!),
    inexact: ['fast', 'wasm', 'wgsl'],
  },
  /** The logistic function 1/(1 + e^{−x}), evaluated without overflow. */
  sigmoid: transcendental(sigmoid, 'sigmoid', 'sigmoid_', sigmoid64),
  floor: { args: N, result: 'num', fn: Math.floor, js: call('Math.floor'), wgsl: call('floor'), wgslInt: (p) => p!, inexact: [] },
  ceil: { args: N, result: 'num', fn: Math.ceil, js: call('Math.ceil'), wgsl: call('ceil'), wgslInt: (p) => p!, inexact: [] },
  /** Round half to even (torch.round; WGSL's round does the same). */
  round: { args: N, result: 'num', fn: roundHalfEven, js: call('roundHalfEven'), wgsl: call('round'), wgslInt: (p) => p!, inexact: [] },
  /**
   * Rounding to float32: the boundary between the steps of a fused program (fused.ts), where the
   * per-op kernels store their result. WGSL computes in f32 already, so there it is the value itself.
   */
  fround: { args: N, result: 'num', fn: Math.fround, js: call('Math.fround'), wgsl: (p) => p!, wgslInt: (p) => p!, inexact: [] },
  // Comparisons are false on NaN except ne. WGSL lets drivers compile float comparisons as ordered
  // ones (false on NaN), so ne is written as the negated ==.
  eq: compare('===', infix('=='), infix('=='), (p, q) => p === q),
  ne: compare('!==', (p, q) => `!(${p} == ${q})`, infix('!='), (p, q) => p !== q),
  lt: compare('<', infix('<'), infix('<'), (p, q) => p < q),
  le: compare('<=', infix('<='), infix('<='), (p, q) => p <= q),
  gt: compare('>', infix('>'), infix('>'), (p, q) => p > q),
  ge: compare('>=', infix('>='), infix('>='), (p, q) => p >= q),
  and: { args: ['bool', 'bool'], result: 'bool', fn: (p, q) => Boolean(p && q), js: infix('&&'), wgsl: infix('&&'), wgslInt: infix('&&'), inexact: [] },
  or: { args: ['bool', 'bool'], result: 'bool', fn: (p, q) => Boolean(p || q), js: infix('||'), wgsl: infix('||'), wgslInt: infix('||'), inexact: [] },
  select: {
    args: ['bool', 'num', 'num'], result: 'num', fn: (cond, p, q) => (cond ? p : q),
    js: (cond, p, q) => `(${cond} ? ${p} : ${q})`, wgsl: (cond, p, q) => `select(${q}, ${p}, ${cond})`,
    wgslInt: (cond, p, q) => `select(${q}, ${p}, ${cond})`, inexact: [],
  },
} satisfies Record<string, Prim>;

export type PrimName = keyof typeof PRIM_TABLE;
export const PRIMS: Readonly<Record<PrimName, Prim>> = PRIM_TABLE;
