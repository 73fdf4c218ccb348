// Shared by the fusedElementwise tests: seeded random fused programs, their input layouts, and the
// program run step by step through a kernel set's per-op kernels (unary, binary, binaryScalar) with
// float32 storage between steps — the meaning a fused kernel must reproduce.

import { contiguousStrides } from '../src/geometry.js';
import type { FusedProgram, FusedStep } from '../src/elementwise/fused.js';
import { BINARY_DEFS, UNARY_DEFS } from '../src/elementwise/ops.js';
import { BINARY_OPS, UNARY_OPS, type BinaryOp, type KernelSet, type UnaryOp, type View } from '../src/types.js';
import { rng } from './gpu_helpers.js';

/** The ops a fused program may hold (float results). */
export const FUSABLE_UNARY: readonly UnaryOp[] = UNARY_OPS.filter((op) => UNARY_DEFS[op].expr.kind === 'num');
export const FUSABLE_BINARY: readonly BinaryOp[] = BINARY_OPS.filter((op) => BINARY_DEFS[op].expr.kind === 'num');

/** Scalars of scalar steps: ordinary values, and the special ones. */
const SCALARS = [0.5, -1.5, 2, 3.25, 1e-3, -7, 0.1, 0, -0, 1, NaN, Infinity, -Infinity];

export interface ProgramOptions {
  /** Most steps (default 30). */
  maxSteps?: number;
  /** Input count range [lo, hi] (default [1, 6]). */
  inputs?: [number, number];
  /** Most outputs (default 3; inputs + outputs never exceed 8). */
  maxOutputs?: number;
  unary?: readonly UnaryOp[];
  binary?: readonly BinaryOp[];
}

/**
 * A random program: a chain that mostly reads the latest values (so it is deep), sometimes an older
 * value or an input (so it is a DAG), with unary, binary and scalar steps; the last value is always
 * an output.
 */
export function randomProgram(seed: number, o: ProgramOptions = {}): FusedProgram {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const [lo, hi] = o.inputs ?? [1, 6];
  const inputs = lo + Math.floor(r() * (hi - lo + 1));
  const nSteps = 1 + Math.floor(r() * (o.maxSteps ?? 30));
  const unary = o.unary ?? FUSABLE_UNARY, binary = o.binary ?? FUSABLE_BINARY;
  const steps: FusedStep[] = [];
  const arg = () => {
    const count = inputs + steps.length;
    return r() < 0.6 ? count - 1 - Math.floor(r() * Math.min(3, count)) : Math.floor(r() * count);
  };
  for (let i = 0; i < nSteps; i++) {
    const u = r();
    if (u < 0.4 && unary.length > 0) steps.push({ kind: 'unary', op: pick(unary), args: [arg()] });
    else if (u < 0.75 && binary.length > 0) steps.push({ kind: 'binary', op: pick(binary), args: [arg(), arg()] });
    else if (binary.length > 0) steps.push({ kind: 'scalar', op: pick(binary), args: [arg()], value: pick(SCALARS), scalarFirst: r() < 0.5 });
    else steps.push({ kind: 'unary', op: pick(unary), args: [arg()] });
  }
  const total = inputs + steps.length;
  const maxOut = Math.min(o.maxOutputs ?? 3, 8 - inputs);
  const outputs = [total - 1];
  const extra = Math.floor(r() * maxOut);
  for (let k = 0; k < extra; k++) outputs.push(Math.floor(r() * total));
  return { inputs, steps, outputs };
}

/** x + y repeated `n` times: value k+1 = value k + input 1 (a 1,000-add chain). */
export function addChain(n: number): FusedProgram {
  const steps: FusedStep[] = [];
  for (let i = 0; i < n; i++) steps.push({ kind: 'binary', op: 'add', args: [i === 0 ? 0 : 1 + i, 1] });
  return { inputs: 2, steps, outputs: [1 + n] };
}

/** Input data: mostly values in [-3, 3], with NaN, ±∞ and ±0 sprinkled in when `specials`. */
export function inputValue(seed: number, specials: boolean): (i: number) => number {
  const r = rng(seed);
  const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e-40, 88.5, -100];
  return () => (specials && r() < 0.04 ? SPECIAL[Math.floor(r() * SPECIAL.length)]! : Math.fround(-3 + 6 * r()));
}

/** A layout of an input of the iteration shape [rows, cols] (or [n] for rank 1). */
export type InputLayout = 'contiguous' | 'offset' | 'transposed' | 'row-broadcast' | 'col-broadcast' | 'scalar' | 'padded';

/** The strides and offset of an input in `layout` over a float32 buffer, and the buffer's length. */
export function inputGeometry(shape: readonly number[], layout: InputLayout): { strides: number[]; offset: number; length: number } {
  const n = shape.reduce((a, b) => a * b, 1);
  if (shape.length === 1 || layout === 'contiguous') return { strides: contiguousStrides(shape), offset: layout === 'offset' ? 3 : 0, length: n + 3 };
  const [R, C] = shape as [number, number];
  switch (layout) {
    case 'offset': return { strides: [C, 1], offset: 5, length: n + 5 };
    case 'transposed': return { strides: [1, R], offset: 0, length: n };
    case 'row-broadcast': return { strides: [0, 1], offset: 1, length: C + 1 }; // a bias [C]
    case 'col-broadcast': return { strides: [1, 0], offset: 0, length: R }; // a column [R, 1]
    case 'scalar': return { strides: [0, 0], offset: 2, length: 3 };
    case 'padded': return { strides: [C + 2, 1], offset: 0, length: R * (C + 2) };
  }
}

type Ew<B> = Pick<KernelSet<B>, 'unary' | 'binary' | 'binaryScalar'>;

/**
 * The program run one per-op kernel at a time: each step into a fresh contiguous float32 view from
 * `alloc`, reading the inputs as given and earlier steps' views. Returns the views of the outputs.
 */
export function runStepwise<B>(k: Ew<B>, p: FusedProgram, inputs: readonly View<B>[], alloc: (shape: readonly number[]) => View<B>): View<B>[] {
  const shape = inputs[0]!.shape;
  const values: View<B>[] = [...inputs];
  for (const s of p.steps) {
    const out = alloc(shape);
    if (s.kind === 'unary') k.unary(s.op, values[s.args[0]]!, out);
    else if (s.kind === 'binary') k.binary(s.op, values[s.args[0]]!, values[s.args[1]]!, out);
    else k.binaryScalar(s.op, values[s.args[0]]!, s.value, s.scalarFirst, out);
    values.push(out);
  }
  return p.outputs.map((v) => values[v]!);
}

/** Index of the first element where got and want differ as float32 values (NaN equals NaN, −0 differs from +0), or -1. */
export function firstDifference(got: ArrayLike<number>, want: ArrayLike<number>): number {
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(g) && Number.isNaN(w)) continue;
    if (!Object.is(g, w)) return i;
  }
  return got.length === want.length ? -1 : want.length;
}

/** Index of the first element where |got − want| > rel·|want| + abs (NaN must meet NaN, ±∞ exact), or -1. */
export function firstOutside(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, abs: number): number {
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(g) || Number.isNaN(w)) { if (Number.isNaN(g) !== Number.isNaN(w)) return i; continue; }
    if (g === w) continue;
    if (!Number.isFinite(g) || !Number.isFinite(w) || !(Math.abs(g - w) <= rel * Math.abs(w) + abs)) return i;
  }
  return -1;
}

/** A readable program, for failure messages. */
export function describeProgram(p: FusedProgram): string {
  const step = (s: FusedStep, i: number) => `v${p.inputs + i} = ${s.op}(${s.kind === 'scalar'
    ? (s.scalarFirst ? `${s.value}, v${s.args[0]}` : `v${s.args[0]}, ${s.value}`) : s.args.map((a) => `v${a}`).join(', ')})`;
  return `inputs v0..v${p.inputs - 1}; ${p.steps.map(step).join('; ')}; outputs ${p.outputs.map((v) => `v${v}`).join(', ')}`;
}

/**
 * Programs that use every fusable op: a unary op alone; a binary op as a binary step, and as a
 * scalar step each way round (a scalar second, then first), one program per form. Random programs
 * may miss an op; these do not.
 */
export function onePerOp(): FusedProgram[] {
  const one = (step: FusedStep, inputs: number): FusedProgram => ({ inputs, steps: [step], outputs: [inputs] });
  return [
    ...FUSABLE_UNARY.map((op) => one({ kind: 'unary', op, args: [0] }, 1)),
    ...FUSABLE_BINARY.flatMap((op) => [
      one({ kind: 'binary', op, args: [0, 1] }, 2),
      one({ kind: 'scalar', op, args: [0], value: 0.75, scalarFirst: false }, 1),
      one({ kind: 'scalar', op, args: [0], value: 1.5, scalarFirst: true }, 1),
    ]),
  ];
}
