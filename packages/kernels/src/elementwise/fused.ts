// A chain (or DAG) of elementwise ops run as one kernel: the `fusedElementwise` kernel's program,
// its validation, its cache key, and its composition into one expression DAG per output.
//
// A FusedProgram names values by number: 0..inputs-1 are the kernel's input views, and step i
// produces value inputs + i from earlier values. Its meaning is the per-op kernels run one at a time
// with float32 storage between them: each step's value is rounded to float32 before a later step
// reads it. `composeFused` writes exactly that as expressions: each step's op expression (ops.ts)
// with its operands (`x`, or `a` and `b`) replaced by the expressions of the values it reads, inside
// an `fround` node — the step boundary. Targets that compute in float64 (the JavaScript loops) round
// there; WGSL computes in f32, where `fround` is the value itself. Within a step a target computes
// as its per-op kernel does (gelu in float64 in the loops, in f32 on the GPU), so a fused kernel has
// each op's accuracy contract (ops.ts) per step. What each kernel guarantees:
// - cpu reference (cpu/fused_elementwise.ts): bit-identical to the reference per-op kernels;
// - fast cpu, TypeScript loops: bit-identical to the tier's per-op TypeScript loops (so to the
//   reference except erf/gelu, whose unary loops take erf from a table: `fast` contract);
// - fast cpu, WebAssembly (cpu_fast/fused_elementwise_program.ts): bit-identical to the per-op
//   WebAssembly kernels (so to the reference for the single-instruction ops; `wasm` contract for
//   exp, tanh, sigmoid, erf and the ops built on them);
// - WGSL: bit-identical to the per-op WGSL kernels on the adapters tested (lavapipe) where every step
//   value is finite. WGSL lets a compiler assume f32 arithmetic meets no NaN or ±∞, and in one
//   shader it sees a whole chain: v − v may fold to 0 where v is NaN, which per-op kernels (each
//   step from memory) never show; a compiler may also contract a multiply and an add of two steps
//   into one fused multiply-add. Each step stays within its op's `wgsl` contract.
// Errors can grow along a chain as along the per-op kernels: a step's contract bounds its own
// rounding, not the condition of the steps after it.
//
// A scalar step is `binaryScalar`: its value is converted to float32 as `fill` stores it, then
// op(a, value) — or op(value, a) when `scalarFirst`. Scalars are run-time parameters (`param`
// leaves), not constants of the generated code, so programs that differ only in their scalars share
// one compiled kernel (`fusedStructureKey`).
//
// Comparisons and logical ops (bool results) are not allowed: the values of a fused program are
// float32.

import type { BinaryOp, UnaryOp, View } from '../types.js';
import { isContiguous } from '../geometry.js';
import { fround, input, param, type Expr } from './expr.js';
import { BINARY_DEFS, UNARY_DEFS } from './ops.js';

/** One op of a fused program; `args` are value numbers (inputs first, then earlier steps). */
export type FusedStep =
  | {
    /** `unary`: op(x). */
    readonly kind: 'unary';
    /** The unary op (a float-valued one). */
    readonly op: UnaryOp;
    /** The value x. */
    readonly args: readonly [number];
  }
  | {
    /** `binary`: op(a, b). */
    readonly kind: 'binary';
    /** The binary op (a float-valued one). */
    readonly op: BinaryOp;
    /** The values a and b. */
    readonly args: readonly [number, number];
  }
  | {
    /** `scalar`: op(a, value), or op(value, a) when `scalarFirst` — the `binaryScalar` kernel. */
    readonly kind: 'scalar';
    /** The binary op (a float-valued one). */
    readonly op: BinaryOp;
    /** The value a. */
    readonly args: readonly [number];
    /** The scalar, used as its float32 value. */
    readonly value: number;
    /** Whether the scalar is the first operand. */
    readonly scalarFirst: boolean;
  };

/**
 * Values 0..inputs-1 are the inputs; step i produces value inputs + i. `outputs` lists the values
 * written, in order. Kernels keep what they derive from a program object (validation, generated
 * code), so a program must not be changed once it has been run: build a new one instead.
 */
export interface FusedProgram {
  /** Number of input views. */
  readonly inputs: number;
  /** The ops, in order. */
  readonly steps: readonly FusedStep[];
  /** The value written to each output view, in order. */
  readonly outputs: readonly number[];
}

/** Most buffers (inputs + outputs) one fused kernel binds: WebGPU's default limit of storage buffers per shader stage. */
export const FUSED_MAX_BUFFERS = 8;

/** A malformed fused program, or views that do not fit it: the message names the step, value or view. */
export class FusedProgramError extends TypeError {
  /** 'FusedProgramError'. */
  override name = 'FusedProgramError';
}

const fail = (msg: string): never => { throw new FusedProgramError(`fusedElementwise: ${msg}`); };

const isIndex = (v: unknown, below: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < below;

function describe(s: FusedStep, i: number): string {
  return `step ${i} (${String((s as { kind?: unknown }).kind)} '${String((s as { op?: unknown }).op)}')`;
}

/** Throws a FusedProgramError naming what is wrong with `p` (see the header for the rules). */
export function validateFusedProgram(p: FusedProgram): void {
  if (p === null || typeof p !== 'object') fail(`the program must be an object, got ${p === null ? 'null' : typeof p}`);
  if (!(Number.isInteger(p.inputs) && p.inputs >= 1)) fail(`inputs must be a positive integer, got ${String(p.inputs)}`);
  if (!Array.isArray(p.steps)) fail('steps must be an array');
  if (!Array.isArray(p.outputs) || p.outputs.length === 0) fail('outputs must be a non-empty array of value numbers');
  const buffers = p.inputs + p.outputs.length;
  if (buffers > FUSED_MAX_BUFFERS) {
    fail(`${p.inputs} inputs + ${p.outputs.length} outputs = ${buffers} buffers, more than FUSED_MAX_BUFFERS = ${FUSED_MAX_BUFFERS}`);
  }
  p.steps.forEach((s, i) => {
    const defined = p.inputs + i;
    if (s === null || typeof s !== 'object') fail(`step ${i} must be an object`);
    const args: readonly unknown[] = Array.isArray(s.args) ? s.args : fail(`${describe(s, i)}: args must be an array`);
    let arity: number;
    if (s.kind === 'unary') {
      if (!Object.hasOwn(UNARY_DEFS, s.op)) fail(`${describe(s, i)}: not a unary op`);
      if (UNARY_DEFS[s.op].expr.kind === 'bool') fail(`${describe(s, i)}: gives a bool, which fused programs do not carry`);
      arity = 1;
    } else if (s.kind === 'binary' || s.kind === 'scalar') {
      if (!Object.hasOwn(BINARY_DEFS, s.op)) fail(`${describe(s, i)}: not a binary op`);
      if (BINARY_DEFS[s.op].expr.kind === 'bool') fail(`${describe(s, i)}: gives a bool, which fused programs do not carry`);
      arity = s.kind === 'binary' ? 2 : 1;
      if (s.kind === 'scalar') {
        if (typeof s.value !== 'number') fail(`${describe(s, i)}: value must be a number, got ${typeof s.value}`);
        if (typeof s.scalarFirst !== 'boolean') fail(`${describe(s, i)}: scalarFirst must be a boolean`);
      }
    } else {
      fail(`${describe(s, i)}: kind must be 'unary', 'binary' or 'scalar'`);
    }
    if (args.length !== arity!) fail(`${describe(s, i)}: takes ${arity!} argument(s), got ${args.length}`);
    args.forEach((a, j) => {
      if (!isIndex(a, defined)) fail(`${describe(s, i)}: argument ${j} is ${String(a)}; only values 0..${defined - 1} are defined before it`);
    });
  });
  const values = p.inputs + p.steps.length;
  p.outputs.forEach((v, k) => {
    if (!isIndex(v, values)) fail(`output ${k} is value ${String(v)}; the program defines values 0..${values - 1}`);
  });
}

/** The float32 a scalar step computes with (the value converted as `fill` stores it in float32). */
export const fusedScalar = (s: FusedStep & { kind: 'scalar' }): number => Math.fround(s.value);

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
/** The bit pattern of the float32 nearest `v` (NaN payloads and −0 kept apart). */
export function float32Bits(v: number): number {
  F32[0] = v;
  return U32[0]!;
}

function stepKey(s: FusedStep, withValue: boolean): string {
  if (s.kind === 'unary') return `u.${s.op}(${s.args[0]})`;
  if (s.kind === 'binary') return `b.${s.op}(${s.args[0]},${s.args[1]})`;
  const v = withValue ? float32Bits(s.value).toString(16).padStart(8, '0') : '';
  return `s.${s.op}(${s.scalarFirst ? `#${v},${s.args[0]}` : `${s.args[0]},#${v}`})`;
}

/**
 * A canonical string for a (valid) program: equal keys mean equal results. Scalars appear as their
 * float32 bit patterns, since a scalar step computes with the float32 value.
 */
export function fusedProgramKey(p: FusedProgram): string {
  return `${p.inputs}:${p.steps.map((s) => stepKey(s, true)).join(';')}>${p.outputs.join(',')}`;
}

/** `fusedProgramKey` without the scalar values: the key of the generated code, which takes the scalars as parameters. */
export function fusedStructureKey(p: FusedProgram): string {
  return `${p.inputs}:${p.steps.map((s) => stepKey(s, false)).join(';')}>${p.outputs.join(',')}`;
}

/** The scalars of a program's scalar steps, in step order: parameter k of the composed expressions. */
export function fusedScalars(p: FusedProgram): number[] {
  const out: number[] = [];
  for (const s of p.steps) if (s.kind === 'scalar') out.push(fusedScalar(s));
  return out;
}

/** A program composed into expressions: one DAG per output, and where each op node came from. */
export interface FusedExprs {
  /** The expression of each output over `input(k)` and `param(k)` leaves. */
  readonly outputs: readonly Expr[];
  /** The nodes of unary steps: the float32 loops take a primitive's quicker form there, as their unary kernels do. */
  readonly unaryNodes: ReadonlySet<Expr>;
}

/**
 * The program as expressions (see the header): each step's op expression with its operands replaced
 * by the expressions of the values it reads, wrapped in `fround`. A node shared inside an op (σ(a) in
 * siluGrad) stays one node, and a value read by several steps is one node read by each.
 */
export function composeFused(p: FusedProgram): FusedExprs {
  const values: Expr[] = [];
  for (let k = 0; k < p.inputs; k++) values.push(input(k));
  const unaryNodes = new Set<Expr>();
  let scalars = 0;
  for (const s of p.steps) {
    let def: Expr;
    let operands: Record<string, Expr>;
    if (s.kind === 'unary') {
      def = UNARY_DEFS[s.op].expr;
      operands = { x: values[s.args[0]]! };
    } else if (s.kind === 'binary') {
      def = BINARY_DEFS[s.op].expr;
      operands = { a: values[s.args[0]]!, b: values[s.args[1]]! };
    } else {
      def = BINARY_DEFS[s.op].expr;
      const v = values[s.args[0]]!, c = param(scalars++);
      operands = s.scalarFirst ? { a: c, b: v } : { a: v, b: c };
    }
    const made = new Map<Expr, Expr>();
    const rebuild = (n: Expr): Expr => {
      const done = made.get(n);
      if (done) return done;
      let r: Expr;
      if (n.k === 'arg') r = operands[n.name] ?? fail(`op expression reads an unbound operand '${n.name}'`);
      else if (n.k === 'prim') {
        r = { k: 'prim', prim: n.prim, args: n.args.map(rebuild), kind: n.kind };
        if (s.kind === 'unary') unaryNodes.add(r);
      } else r = n;
      made.set(n, r);
      return r;
    };
    values.push(fround(rebuild(def)));
  }
  return { outputs: p.outputs.map((v) => values[v]!), unaryNodes };
}

/**
 * Checks a fusedElementwise call's views against its program: the counts, float32 everywhere, every
 * output contiguous with outs[0]'s shape, every input of that shape.
 */
export function checkFusedViews<B>(p: FusedProgram, inputs: readonly View<B>[], outs: readonly View<B>[]): void {
  if (inputs.length !== p.inputs) fail(`the program reads ${p.inputs} input(s), got ${inputs.length} view(s)`);
  if (outs.length !== p.outputs.length) fail(`the program writes ${p.outputs.length} output(s), got ${outs.length} view(s)`);
  const shape = outs[0]!.shape;
  const same = (s: readonly number[]) => s.length === shape.length && s.every((d, i) => d === shape[i]);
  const check = (v: View<B>, what: string) => {
    if (v.dtype !== 'float32') fail(`${what} is ${v.dtype}; fused programs compute in float32`);
    if (!same(v.shape)) fail(`${what} has shape [${v.shape.join(', ')}], the iteration shape is [${shape.join(', ')}]`);
  };
  inputs.forEach((v, k) => check(v, `input ${k}`));
  outs.forEach((v, k) => {
    check(v, `output ${k}`);
    if (!isContiguous(v)) fail(`output ${k} must be contiguous (strides [${v.strides.join(', ')}])`);
  });
}
