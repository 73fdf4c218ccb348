// The expression language of the elementwise ops: each op (ops.ts) is one small typed expression
// over its operands (`x`, or `a` and `b`), constants and the primitives of primitives.ts. The
// float64 reference, the fast float32 TypeScript loops, the WGSL and the WebAssembly are generated
// from these trees (reference.ts, wgsl.ts, wasm.ts); dtype is a parameter of generation.
//
// A tree is a DAG: a node used twice (`const s = sigmoid(x)` in siluGrad) is one object, which the
// JavaScript and WebAssembly generators evaluate once. Every node has a kind: `num` (a number of the
// compute type) or `bool` (a comparison or logical result); builders check the kinds of their
// arguments, so an ill-typed expression fails when the op table is built, naming the primitive.
// The fused kernels (fused.ts) compose the op expressions into one DAG per output over indexed
// leaves: `input` (the fused kernel's input view `index`) and `param` (its run-time scalar `index`,
// a float32 value), with an `fround` node at each step boundary.

import { PRIMS, type PrimName } from './primitives.js';

export type Kind = 'num' | 'bool';
export type ArgName = 'x' | 'a' | 'b';

export type Expr =
  | { readonly k: 'arg'; readonly name: ArgName; readonly kind: 'num' }
  | { readonly k: 'const'; readonly value: number; readonly kind: 'num' }
  | { readonly k: 'prim'; readonly prim: PrimName; readonly args: readonly Expr[]; readonly kind: Kind }
  | { readonly k: 'input'; readonly index: number; readonly kind: 'num' }
  | { readonly k: 'param'; readonly index: number; readonly kind: 'num' };

/** An operand: an expression or a JS number (a constant). */
export type Operand = Expr | number;

const arg = (name: ArgName): Expr => ({ k: 'arg', name, kind: 'num' });
export const x = arg('x');
export const a = arg('a');
export const b = arg('b');

export const c = (value: number): Expr => ({ k: 'const', value, kind: 'num' });
/** Input view `index` of a fused kernel. */
export const input = (index: number): Expr => ({ k: 'input', index, kind: 'num' });
/** Run-time scalar `index` of a fused kernel (a float32 value). */
export const param = (index: number): Expr => ({ k: 'param', index, kind: 'num' });
const lift = (e: Operand): Expr => (typeof e === 'number' ? c(e) : e);

/** A primitive applied to its operands, with the kinds checked against the primitive's signature. */
export function prim(name: PrimName, ...operands: Operand[]): Expr {
  const p = PRIMS[name];
  const args = operands.map(lift);
  if (args.length !== p.args.length) throw new TypeError(`elementwise primitive ${name}: takes ${p.args.length} operands, got ${args.length}`);
  args.forEach((e, i) => {
    if (e.kind !== p.args[i]) throw new TypeError(`elementwise primitive ${name}: operand ${i} must be ${p.args[i]}, got ${e.kind}`);
  });
  return { k: 'prim', prim: name, args, kind: p.result };
}

// Builders, one per primitive. `add`/`mul` take two or more operands and fold to the left, as
// JavaScript evaluates `p * q * r`: the generated code keeps that order, so the reference's
// rounding is reproduced exactly.
const fold = (name: 'add' | 'mul') => (first: Operand, ...rest: Operand[]): Expr =>
  rest.reduce<Expr>((acc, e) => prim(name, acc, e), lift(first));
export const add = fold('add');
export const mul = fold('mul');
export const sub = (p: Operand, q: Operand) => prim('sub', p, q);
export const div = (p: Operand, q: Operand) => prim('div', p, q);
export const neg = (p: Operand) => prim('neg', p);
export const abs = (p: Operand) => prim('abs', p);
export const sign = (p: Operand) => prim('sign', p);
export const max = (p: Operand, q: Operand) => prim('max', p, q);
export const min = (p: Operand, q: Operand) => prim('min', p, q);
export const pow = (p: Operand, q: Operand) => prim('pow', p, q);
export const mod = (p: Operand, q: Operand) => prim('mod', p, q);
export const exp = (p: Operand) => prim('exp', p);
export const expm1 = (p: Operand) => prim('expm1', p);
export const log = (p: Operand) => prim('log', p);
export const log1p = (p: Operand) => prim('log1p', p);
export const sqrt = (p: Operand) => prim('sqrt', p);
export const sin = (p: Operand) => prim('sin', p);
export const cos = (p: Operand) => prim('cos', p);
export const tanh = (p: Operand) => prim('tanh', p);
export const erf = (p: Operand) => prim('erf', p);
export const sigmoid = (p: Operand) => prim('sigmoid', p);
export const floor = (p: Operand) => prim('floor', p);
export const ceil = (p: Operand) => prim('ceil', p);
export const roundHalfEven = (p: Operand) => prim('round', p);
/** The value rounded to float32 (the step boundary of a fused program). */
export const fround = (p: Operand) => prim('fround', p);
export const eq = (p: Operand, q: Operand) => prim('eq', p, q);
export const ne = (p: Operand, q: Operand) => prim('ne', p, q);
export const lt = (p: Operand, q: Operand) => prim('lt', p, q);
export const le = (p: Operand, q: Operand) => prim('le', p, q);
export const gt = (p: Operand, q: Operand) => prim('gt', p, q);
export const ge = (p: Operand, q: Operand) => prim('ge', p, q);
export const and = (p: Expr, q: Expr) => prim('and', p, q);
export const or = (p: Expr, q: Expr) => prim('or', p, q);
/** `cond ? p : q`. */
export const select = (cond: Expr, p: Operand, q: Operand) => prim('select', cond, p, q);
/** JavaScript truth of a number: anything but ±0 (NaN included) is true. */
export const truth = (p: Operand) => ne(p, 0);

/** Every node of the tree once (children before parents). */
export function nodes(e: Expr): Expr[] {
  const seen = new Set<Expr>();
  const out: Expr[] = [];
  const visit = (n: Expr) => {
    if (seen.has(n)) return;
    seen.add(n);
    if (n.k === 'prim') n.args.forEach(visit);
    out.push(n);
  };
  visit(e);
  return out;
}

/** How many parents refer to each node (a node used more than once is evaluated once where that matters). */
export function useCounts(e: Expr): Map<Expr, number> {
  const uses = new Map<Expr, number>();
  for (const n of nodes(e)) if (n.k === 'prim') for (const p of n.args) uses.set(p, (uses.get(p) ?? 0) + 1);
  return uses;
}

/**
 * Every node reachable from `roots` once, children before parents, and how many parents (a root
 * counting one more) refer to each. Iterative: a 1,000-step fused chain is 1,000 nodes deep.
 */
export function postOrder(roots: readonly Expr[]): { order: Expr[]; uses: Map<Expr, number> } {
  const uses = new Map<Expr, number>();
  const seen = new Set<Expr>();
  const order: Expr[] = [];
  const count = (n: Expr) => uses.set(n, (uses.get(n) ?? 0) + 1);
  for (const root of roots) {
    count(root);
    const stack: [Expr, number][] = [[root, 0]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [n, i] = top;
      if (i === 0 && seen.has(n)) { stack.pop(); continue; }
      if (i === 0) seen.add(n);
      const kids = n.k === 'prim' ? n.args : [];
      if (i < kids.length) {
        top[1] = i + 1;
        count(kids[i]!);
        stack.push([kids[i]!, 0]);
      } else {
        stack.pop();
        order.push(n);
      }
    }
  }
  return { order, uses };
}
