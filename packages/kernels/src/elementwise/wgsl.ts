// WGSL expressions generated from the op expressions, over f32 operands or, where every primitive
// has an exact integer form and every constant is an integer, over i32 operands. The operands are
// named as in the expression (`x`, or `a` and `b`); function primitives call the helpers of
// WGSL_MATH (wgsl_math.ts), which a shader that uses these expressions must include. A node used
// twice is written twice (the expressions are pure; the shader compiler may share them).

import type { Expr } from './expr.js';
import { nodes, postOrder } from './expr.js';
import { PRIMS } from './primitives.js';

export type WgslType = 'f32' | 'i32';

/** A WGSL literal of the compute type; NaN and ±∞, not valid WGSL constants, come from WGSL_MATH. */
function literal(v: number, t: WgslType): string {
  if (t === 'i32') return v < 0 ? `(${v})` : String(v);
  if (Number.isNaN(v)) return 'nan_()';
  if (v === Infinity) return 'inf_()';
  if (v === -Infinity) return '(-inf_())';
  let s = Object.is(v, -0) ? '-0' : String(v);
  if (!/[.e]/.test(s)) s += '.0';
  return v < 0 || Object.is(v, -0) ? `(${s})` : s;
}

/** Whether the expression has exact i32 semantics: every primitive has an integer form and every constant is an i32. */
export function hasIntForm(e: Expr): boolean {
  return nodes(e).every((n) => (n.k === 'prim' ? PRIMS[n.prim].wgslInt !== undefined
    : n.k === 'const' ? Number.isInteger(n.value) && Math.abs(n.value) < 2 ** 31 : true));
}

/** The WGSL expression over operands of type `t`; null for i32 when the op has no exact integer form. */
export function toWgsl(e: Expr, t: WgslType): string | null {
  if (t === 'i32' && !hasIntForm(e)) return null;
  const src = (n: Expr): string => {
    if (n.k === 'arg') return n.name;
    if (n.k === 'const') return literal(n.value, t);
    if (n.k !== 'prim') return fusedLeaf(n);
    const p = PRIMS[n.prim];
    return (t === 'i32' ? p.wgslInt! : p.wgsl)(...n.args.map(src));
  };
  return src(e);
}

/** The WGSL of a fused leaf: input k is the local `in<k>`, scalar k the local `s<k>` (both f32). */
const fusedLeaf = (n: Expr & { k: 'input' | 'param' }): string => (n.k === 'input' ? `in${n.index}` : `s${n.index}`);

/**
 * f32 statements for several roots over fused leaves (`in<k>`, `s<k>`), as `jsStatements` does for
 * JavaScript: every node used more than once and every step boundary (`fround`, the value itself in
 * f32) is bound to a `let t<j>`, one statement per step, so neither a shared node nor a long chain
 * is written out more than once. Returns the statements and the expression of each root.
 */
export function wgslStatements(roots: readonly Expr[]): { lines: string[]; values: string[] } {
  const { order, uses } = postOrder(roots);
  const text = new Map<Expr, string>();
  const lines: string[] = [];
  for (const n of order) {
    let s: string;
    if (n.k === 'const') s = literal(n.value, 'f32');
    else if (n.k === 'input' || n.k === 'param') s = fusedLeaf(n);
    else if (n.k === 'arg') throw new TypeError(`elementwise: operand ${n.name} in a fused expression`);
    else {
      s = PRIMS[n.prim].wgsl(...n.args.map((a) => text.get(a)!));
      if (n.kind === 'num' && (n.prim === 'fround' || (uses.get(n) ?? 0) > 1)) {
        const t = `t${lines.length}`;
        lines.push(`let ${t}: f32 = ${s};`);
        s = t;
      }
    }
    text.set(n, s);
  }
  return { lines, values: roots.map((r) => text.get(r)!) };
}
