// `fusedElementwise` on the fast cpu tier: one generated TypeScript row loop per program structure.
//
// The program is composed into expressions (elementwise/fused.ts, `composeFused`) and written as
// straight-line source by `jsStatements` (elementwise/javascript.ts): per element, every input is
// loaded into a local, each step is one `const t = Math.fround(<op>)` statement, and each output is
// stored. Each step computes as the tier's TypeScript loops compute its op — float64 with the
// primitives of the unary loops (fastErf) in unary steps and the reference primitives in binary
// ones — and rounds to float32 where the per-op loop would store, so the result is bit-identical to
// running the steps through those loops (elementwise_loops.ts), and within each op's `fast`/`wasm`
// contract of the per-op fast kernels. Scalars are parameters of the loop, so programs that differ
// only in their scalars share one compiled function (cached by `fusedStructureKey`).
//
// Layout: `forEachRow` walks the views (inputs any strides, stride 0 where broadcast; outputs
// contiguous) as rows along the innermost coalesced dim, each row a call of the loop with one
// offset and one stride per view. An input that shares memory with an output in another layout is
// copied first; in the same layout it is read before the output is written (elementwise).
// The loop runs on the calling thread. Where the host forbids compiling code, the reference runs.

import type { TypedArray, View } from '../types.js';
import { composeFused, checkFusedViews, fusedScalars, fusedStructureKey, validateFusedProgram, type FusedProgram } from '../elementwise/fused.js';
import { compile, jsStatements } from '../elementwise/javascript.js';
import { aliasesDifferently, forEachRow } from '../geometry.js';
import { isF32 } from '../wasm/operands.js';
import { detached } from './copy.js';

/** The row loop of a program: buffers, row offsets and inner strides of the views (inputs, then outputs), the row length, the scalars. */
type FusedRow = (bufs: readonly Float32Array[], offs: readonly number[], strides: readonly number[], n: number, scalars: readonly number[]) => void;

/** The loop of a program (see the header), or null where code cannot be compiled. */
export function fusedRowLoop(p: FusedProgram): FusedRow | null {
  const { outputs, unaryNodes } = composeFused(p);
  const { lines, values } = jsStatements(outputs, (n) => unaryNodes.has(n));
  const body = [...lines, ...values.map((v, k) => `o${k}[q${k} + i * r${k}] = ${v};`)];
  const used = new Set(body.join('\n').match(/\bin\d+\b/g) ?? []);
  const head: string[] = [];
  for (let k = 0; k < p.inputs; k++) {
    if (used.has(`in${k}`)) head.push(`const b${k} = bufs[${k}], p${k} = offs[${k}], st${k} = strides[${k}];`);
  }
  outputs.forEach((_, k) => head.push(`const o${k} = bufs[${p.inputs + k}], q${k} = offs[${p.inputs + k}], r${k} = strides[${p.inputs + k}];`));
  fusedScalars(p).forEach((_, k) => head.push(`const s${k} = scalars[${k}];`));
  const loads = [...used].map((name) => { const k = name.slice(2); return `const ${name} = b${k}[p${k} + i * st${k}];`; });
  const src = `${head.join('\n')}\nfor (let i = 0; i < n; i++) {\n${[...loads, ...body].join('\n')}\n}`;
  return compile<FusedRow>('bufs, offs, strides, n, scalars', src);
}

const byStructure = new Map<string, FusedRow | null>();
/** Programs seen before, with their loop and scalars: a repeated call skips validation and the key. */
const byProgram = new WeakMap<FusedProgram, { row: FusedRow | null; scalars: number[] }>();

function prepared(p: FusedProgram): { row: FusedRow | null; scalars: number[] } {
  let e = byProgram.get(p);
  if (e === undefined) {
    validateFusedProgram(p);
    const key = fusedStructureKey(p);
    let row = byStructure.get(key);
    if (row === undefined) byStructure.set(key, (row = fusedRowLoop(p)));
    byProgram.set(p, (e = { row, scalars: fusedScalars(p) }));
  }
  return e;
}

type V = View<TypedArray>;

export function fusedElementwise(p: FusedProgram, inputs: readonly V[], outs: readonly V[]): boolean {
  const { row, scalars } = prepared(p);
  checkFusedViews(p, inputs, outs);
  if (row === null || !inputs.every(isF32) || !outs.every(isF32)) return false;
  const ins = inputs.map((x) => (outs.some((o) => aliasesDifferently(x, o)) ? detached(x) : x));
  const views = [...ins, ...outs];
  const bufs = views.map((v) => v.buffer as Float32Array);
  forEachRow(outs[0]!.shape, views, (offs, n, inner) => row(bufs, offs, inner, n, scalars));
  return true;
}
