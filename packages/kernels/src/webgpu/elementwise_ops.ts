// The per-op expression table of the elementwise kernels, and the WGSL helper functions the
// expressions call. elementwise.ts turns one row of this table into a whole shader.
//
// Each row is generated from the op's one expression (elementwise/ops.ts): a WGSL expression over
// f32 operands (`x`, or `a`/`b`) and, where the op has exact integer semantics (every primitive
// has an i32 form and every constant is an integer), one over i32 operands. Ops without an i32 form
// (exp, div, pow, ...) compute in f32 even for int32 inputs, like the CPU reference computes
// everything in float64 and converts on store. The primitives' WGSL (elementwise/primitives.ts,
// elementwise/wgsl_math.ts) keeps the reference's special values: maximum/minimum/relu/sign
// propagate NaN, comparisons with NaN are false except ne, and logical ops treat any non-zero (NaN
// included) as true — WGSL lets drivers compile float comparisons as ordered ones (false on NaN), so
// truth tests are written `!(x == 0.0)` and NaN checks use the bit pattern (`is_nan`).
// Float → int32 stores truncate toward zero and map NaN to 0 like the CPU; values beyond the i32
// range saturate here (the CPU wraps modulo 2^32) — core never relies on either.

import type { BinaryOp, UnaryOp } from '../types.js';
import type { Expr } from '../elementwise/expr.js';
import { BINARY_DEFS, UNARY_DEFS } from '../elementwise/ops.js';
import { toWgsl } from '../elementwise/wgsl.js';

export { WGSL_MATH } from '../elementwise/wgsl_math.js';

/** Result kind of an expression: the compute type, or a WGSL bool (comparisons, logical ops). */
export type ResultKind = 'same' | 'bool';

export interface OpExpr {
  /** Expression over f32 operands. */
  f: string;
  /** Expression over i32 operands (exact integer semantics), when the op has one. */
  i?: string;
  result: ResultKind;
}

/** The row of one op: its f32 expression, its i32 expression when it has one, its result kind. */
function row(expr: Expr): OpExpr {
  const i = toWgsl(expr, 'i32');
  return { f: toWgsl(expr, 'f32')!, ...(i === null ? {} : { i }), result: expr.kind === 'bool' ? 'bool' : 'same' };
}

const rows = <K extends string>(defs: Record<K, { expr: Expr }>): Record<K, OpExpr> =>
  Object.fromEntries(Object.entries<{ expr: Expr }>(defs).map(([op, d]) => [op, row(d.expr)])) as Record<K, OpExpr>;

export const UNARY_EXPR: Readonly<Record<UnaryOp, OpExpr>> = rows(UNARY_DEFS);
export const BINARY_EXPR: Readonly<Record<BinaryOp, OpExpr>> = rows(BINARY_DEFS);
