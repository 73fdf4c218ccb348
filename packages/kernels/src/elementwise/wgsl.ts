// WGSL expressions generated from the op expressions, over f32 operands or, where every primitive
// has an exact integer form and every constant is an integer, over i32 operands. The operands are
// named as in the expression (`x`, or `a` and `b`); function primitives call the helpers of
// WGSL_MATH (wgsl_math.ts), which a shader that uses these expressions must include. A node used
// twice is written twice (the expressions are pure; the shader compiler may share them).

import type { Expr } from './expr.js';
import { nodes } from './expr.js';
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
    const p = PRIMS[n.prim];
    return (t === 'i32' ? p.wgslInt! : p.wgsl)(...n.args.map(src));
  };
  return src(e);
}
