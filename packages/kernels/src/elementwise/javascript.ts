// JavaScript generated from the op expressions: the float64 scalar functions of the reference
// (cpu/elementwise.ts) and the float32 row loops of the fast cpu tier.
//
// Each expression becomes straight-line source (`(0.5 * x) * (1 + erf((x * 0.7071067811865476)))`),
// compiled once per op with `new Function`, so V8 sees one small monomorphic function per op (a tree
// of closures calling closures is about twice as slow). Operators are inlined and evaluated in the
// expression's order, which is the order its builders fold (`mul(p, q, r)` is `(p * q) * r`), so the
// reference's rounding is exactly that of the formula in ops.ts. A node used twice is bound to a
// `const` and evaluated once. Where the host forbids compiling code (a Content-Security-Policy
// without 'unsafe-eval'), the same expressions are evaluated by a tree of closures over the
// primitives' `fn`: the same float64 operations in the same order, so the same results, slower.

import type { ArgName, Expr } from './expr.js';
import { nodes, postOrder, useCounts } from './expr.js';
import { JS_HELPERS, PRIMS } from './primitives.js';

/** JavaScript source of a constant (−0, NaN and ±∞ included). */
function literal(v: number): string {
  if (Object.is(v, -0)) return '(-0)';
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '(-Infinity)';
  return v < 0 ? `(${v})` : String(v);
}

/**
 * Statements binding the shared nodes and the expression of the root, over variables named after
 * the operands. `fast`: the primitives' float32-loop forms (fastErf) where they have one.
 */
export function jsBody(e: Expr, fast: boolean, loads: Partial<Record<ArgName, string>> = {}): { lines: string[]; value: string } {
  const uses = useCounts(e);
  const bound = new Map<Expr, string>();
  const lines: string[] = [];
  // An operand read from an array (`loads`) is read inline where the expression uses it once (a
  // loop of the form o[i] = av[i] + bv[i] runs a few percent faster than one through locals), and
  // bound to a const otherwise.
  for (const n of nodes(e)) {
    const load = n.k === 'arg' ? loads[n.name] : undefined;
    if (load !== undefined && (uses.get(n) ?? 1) > 1) lines.push(`const ${(n as { name: string }).name} = ${load};`);
  }
  const src = (n: Expr): string => {
    const name = bound.get(n);
    if (name) return name;
    if (n.k === 'arg') return (uses.get(n) ?? 1) > 1 ? n.name : (loads[n.name] ?? n.name);
    if (n.k === 'const') return literal(n.value);
    if (n.k === 'input' || n.k === 'param') return leafName(n);
    const p = PRIMS[n.prim];
    const s = ((fast && p.fast?.js) || p.js)(...n.args.map(src));
    if ((uses.get(n) ?? 0) > 1) {
      const t = `t${bound.size}`;
      lines.push(`const ${t} = ${s};`);
      bound.set(n, t);
      return t;
    }
    return s;
  };
  const value = src(e);
  return { lines, value: e.kind === 'bool' ? `(${value} ? 1 : 0)` : value };
}

/** The variable of a fused program's leaf: `in<k>` for input k, `s<k>` for scalar k. */
export const leafName = (n: Expr & { k: 'input' | 'param' }): string => (n.k === 'input' ? `in${n.index}` : `s${n.index}`);

/**
 * Statements for several roots over fused leaves (`in<k>`, `s<k>`), sharing nodes across roots:
 * every node used more than once and every `fround` node (a step boundary of a fused program) is
 * bound to a `const t<j>`, so a chain of steps becomes one statement per step rather than one nested
 * expression. `fast(n)`: whether node n takes its primitive's float32-loop form.
 */
export function jsStatements(roots: readonly Expr[], fast: (n: Expr) => boolean): { lines: string[]; values: string[] } {
  const { order, uses } = postOrder(roots);
  const text = new Map<Expr, string>();
  const lines: string[] = [];
  for (const n of order) {
    let s: string;
    if (n.k === 'const') s = literal(n.value);
    else if (n.k === 'input' || n.k === 'param') s = leafName(n);
    else if (n.k === 'arg') throw new TypeError(`elementwise: operand ${n.name} in a fused expression`);
    else {
      const p = PRIMS[n.prim];
      s = ((fast(n) && p.fast?.js) || p.js)(...n.args.map((a) => text.get(a)!));
      if (n.prim === 'fround' || (uses.get(n) ?? 0) > 1) {
        const t = `t${lines.length}`;
        lines.push(`const ${t} = ${s};`);
        s = t;
      }
    }
    text.set(n, s);
  }
  return { lines, values: roots.map((r) => text.get(r)!) };
}

const HELPER_NAMES = Object.keys(JS_HELPERS);

/** Compiles `return function(params) { body }` with the helpers in scope; null where the host forbids it. */
export function compile<F>(params: string, body: string): F | null {
  try {
    return new Function(...HELPER_NAMES, `"use strict"; return function (${params}) {\n${body}\n};`)(...Object.values(JS_HELPERS)) as F;
  } catch (err) {
    if (err instanceof EvalError) return null;
    throw err;
  }
}

/** Evaluates the expression by closures (no code compilation): the fallback of `compile`. */
function evaluator(e: Expr, fast: boolean, argNames: readonly ArgName[]): (args: readonly number[]) => number {
  const ev = (n: Expr): ((args: readonly number[]) => number | boolean) => {
    if (n.k === 'arg') {
      const i = argNames.indexOf(n.name);
      return (args) => args[i]!;
    }
    if (n.k === 'const') return () => n.value;
    if (n.k !== 'prim') throw new TypeError(`elementwise: a fused leaf (${n.k} ${n.index}) in an op expression`);
    const p = PRIMS[n.prim];
    const fn = (fast && p.fast?.fn) || p.fn;
    const kids = n.args.map(ev);
    if (kids.length === 1) {
      const [k0] = kids as [(a: readonly number[]) => number];
      return (args) => fn(k0(args));
    }
    if (kids.length === 2) {
      const [k0, k1] = kids as [(a: readonly number[]) => number, (a: readonly number[]) => number];
      return (args) => fn(k0(args), k1(args));
    }
    return (args) => fn(...kids.map((k) => k(args) as number));
  };
  const root = ev(e);
  return e.kind === 'bool' ? (args) => (root(args) ? 1 : 0) : (args) => root(args) as number;
}

function source(e: Expr, fast: boolean, ret: (value: string) => string, loads: Partial<Record<ArgName, string>> = {}): string {
  const { lines, value } = jsBody(e, fast, loads);
  return [...lines, ret(value)].join('\n');
}

/** The float64 function of a unary expression over `x` (comparisons give 1/0). */
export function unaryFunction(e: Expr, fast = false): (x: number) => number {
  const f = compile<(x: number) => number>('x', source(e, fast, (v) => `return ${v};`));
  if (f) return f;
  const ev = evaluator(e, fast, ['x']);
  return (x) => ev([x]);
}

/** The float64 function of a binary expression over `a`, `b` (comparisons give 1/0). */
export function binaryFunction(e: Expr, fast = false): (a: number, b: number) => number {
  const f = compile<(a: number, b: number) => number>('a, b', source(e, fast, (v) => `return ${v};`));
  if (f) return f;
  const ev = evaluator(e, fast, ['a', 'b']);
  return (a, b) => ev([a, b]);
}

type Buf = Float32Array | Float64Array | Int32Array | Uint8Array;
/** o[po + i·so] = op(x[px + i·sx]) for i < n. */
export type UnaryLoop = (x: Buf, px: number, sx: number, o: Buf, po: number, so: number, n: number) => void;
/** o[po + i·so] = op(a[pa + i·sa], b[pb + i·sb]) for i < n. */
export type BinaryLoop = (a: Buf, pa: number, sa: number, b: Buf, pb: number, sb: number, o: Buf, po: number, so: number, n: number) => void;

/** The row loop of a unary expression, one compiled function per op (monomorphic element accesses). */
export function unaryLoop(e: Expr, fast: boolean): UnaryLoop {
  const body = `for (let i = 0; i < n; i++) {\n${source(e, fast, (v) => `o[po + i * so] = ${v};`, { x: 'xs[px + i * sx]' })}\n}`;
  const f = compile<UnaryLoop>('xs, px, sx, o, po, so, n', body);
  if (f) return f;
  const g = unaryFunction(e, fast);
  return (xs, px, sx, o, po, so, n) => { for (let i = 0; i < n; i++) o[po + i * so] = g(xs[px + i * sx]!); };
}

/** The row loop of a binary expression. */
export function binaryLoop(e: Expr, fast: boolean): BinaryLoop {
  const body = `for (let i = 0; i < n; i++) {\n${source(e, fast, (v) => `o[po + i * so] = ${v};`, { a: 'av[pa + i * sa]', b: 'bv[pb + i * sb]' })}\n}`;
  const f = compile<BinaryLoop>('av, pa, sa, bv, pb, sb, o, po, so, n', body);
  if (f) return f;
  const g = binaryFunction(e, fast);
  return (av, pa, sa, bv, pb, sb, o, po, so, n) => { for (let i = 0; i < n; i++) o[po + i * so] = g(av[pa + i * sa]!, bv[pb + i * sb]!); };
}

/** For tests: the closure evaluation, whatever the host allows. */
export const evaluateUnary = (e: Expr, fast = false) => { const ev = evaluator(e, fast, ['x']); return (x: number) => ev([x]); };
export const evaluateBinary = (e: Expr, fast = false) => { const ev = evaluator(e, fast, ['a', 'b']); return (a: number, b: number) => ev([a, b]); };
