// CPU reference of `fusedElementwise`: a fused program (elementwise/fused.ts) run step by step on
// whole arrays. Each input view (any strides, stride 0 where broadcast) is gathered into a
// Float64Array; each step applies its op's float64 scalar function (UNARY_FNS / BINARY_FNS, the
// functions of the per-op reference kernels) to every element and rounds the result to float32 —
// exactly what the per-op reference kernels compute with float32 storage between steps. Scalar
// steps use the scalar converted to float32, as `binaryScalar` stores it.

import type { TypedArray, View } from '../types.js';
import { checkFusedViews, fusedScalar, validateFusedProgram, type FusedProgram } from '../elementwise/fused.js';
import { BINARY_FNS, UNARY_FNS } from './elementwise.js';
import { readAll, writeAll } from './strided.js';

/** Runs `program` over `inputs`, writing its outputs to `outs` (see the header). */
export function fusedElementwise(program: FusedProgram, inputs: readonly View<TypedArray>[], outs: readonly View<TypedArray>[]): void {
  validateFusedProgram(program);
  checkFusedViews(program, inputs, outs);
  // Read every input before writing any output, so outputs may alias inputs.
  const values: (Float64Array | undefined)[] = inputs.map(readAll);
  const n = values[0]!.length;
  // The last step reading each value: its array is dropped after it (a long chain keeps two alive).
  const lastUse = new Array<number>(program.inputs + program.steps.length).fill(Infinity);
  program.steps.forEach((s, i) => { for (const a of s.args) lastUse[a] = i; });
  for (const v of program.outputs) lastUse[v] = Infinity;
  program.steps.forEach((s, step) => {
    const r = new Float64Array(n);
    if (s.kind === 'unary') {
      const f = UNARY_FNS[s.op], x = values[s.args[0]]!;
      for (let i = 0; i < n; i++) r[i] = Math.fround(f(x[i]!));
    } else if (s.kind === 'binary') {
      const f = BINARY_FNS[s.op], a = values[s.args[0]]!, b = values[s.args[1]]!;
      for (let i = 0; i < n; i++) r[i] = Math.fround(f(a[i]!, b[i]!));
    } else {
      const f = BINARY_FNS[s.op], a = values[s.args[0]]!, c = fusedScalar(s);
      if (s.scalarFirst) for (let i = 0; i < n; i++) r[i] = Math.fround(f(c, a[i]!));
      else for (let i = 0; i < n; i++) r[i] = Math.fround(f(a[i]!, c));
    }
    values.push(r);
    for (const a of s.args) if (lastUse[a] === step) values[a] = undefined;
  });
  program.outputs.forEach((v, k) => writeAll(outs[k]!, values[v]!));
}
