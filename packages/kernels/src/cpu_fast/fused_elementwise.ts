// `fusedElementwise` on the fast cpu tier: WebAssembly where the program and the layout allow, else
// a generated TypeScript row loop.
//
// WebAssembly (fused_elementwise_program.ts): when every op of the program has a WebAssembly form,
// every view lives in the kernels' memory, inputs are contiguous or broadcast along the innermost
// coalesced dim and no input shares memory with an output in another layout. Each step is then
// computed as the per-op WebAssembly kernel computes its op (bit-identical to the reference for
// add, mul, …; within the `wasm` contract for exp, gelu, …), four lanes at a time, on the calling
// thread; one module per program structure and input layout, the scalars passed in memory.
//
// The TypeScript loop otherwise: the program is composed into expressions (elementwise/fused.ts,
// `composeFused`) and written as straight-line source by `jsStatements` (elementwise/javascript.ts):
// per element, every input is loaded into a local, each step is one `const t = Math.fround(<op>)`
// statement, and each output is stored. Each step computes as the tier's TypeScript loops compute
// its op — float64 with the primitives of the unary loops (fastErf) in unary steps and the
// reference primitives in binary ones — and rounds to float32 where the per-op loop would store, so
// the result is bit-identical to running the steps through those loops (elementwise_loops.ts), and
// within each op's `fast`/`wasm` contract of the per-op fast kernels. Scalars are parameters of the
// loop, so programs that differ only in their scalars share one compiled function (cached by
// `fusedStructureKey`). Programs longer than LOOP_STEPS run as pieces (see there).
//
// Layout: `forEachRow` walks the views (inputs any strides, stride 0 where broadcast; outputs
// contiguous) as rows along the innermost coalesced dim, each row a call of the loop with one
// offset and one stride per view. An input that shares memory with an output in another layout is
// copied first; in the same layout it is read before the output is written (elementwise).
// Everything runs on the calling thread (the worker threads hold only the kernel module). Where the
// host forbids compiling code, the reference runs.

import type { TypedArray, View } from '../types.js';
import { composeFused, checkFusedViews, fusedScalars, fusedStructureKey, validateFusedProgram, type FusedProgram, type FusedStep } from '../elementwise/fused.js';
import { compile, jsStatements } from '../elementwise/javascript.js';
import { aliasesDifferently, coalesce, contiguousStrides, forEachIndex, forEachRow, numel, type Coalesced } from '../geometry.js';
import { isF32 } from '../wasm/operands.js';
import { wasmRuntime, type WasmRuntime } from '../wasm/runtime.js';
import { detached } from './copy.js';
import { buildFusedModule, hasWasmForm } from './fused_elementwise_program.js';

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

/**
 * Steps per generated loop. V8 optimizes a loop of a few dozen statements promptly and a loop of
 * hundreds late or not at all (9 ns per element and step against ~1), so a longer program runs as
 * pieces of at most this many steps, the values that cross from one piece to a later one kept in
 * float32 arrays — exact, since each step's value is a float32 — and the outputs written at the end.
 */
const LOOP_STEPS = 40;

/** A run of consecutive steps as a program of its own: it reads `reads` and writes `writes` (value numbers of the whole program); its scalars are the whole program's [s0, s1). */
interface Piece {
  program: FusedProgram;
  reads: number[];
  writes: number[];
  s0: number;
  s1: number;
  row: FusedRow | null;
}

/** The program cut into pieces of at most LOOP_STEPS steps (pieces nothing reads are left out). */
function pieces(p: FusedProgram): Piece[] {
  const I = p.inputs;
  const lastUse = new Array<number>(I + p.steps.length).fill(-1);
  p.steps.forEach((s, i) => { for (const a of s.args) lastUse[a] = i; });
  const out: Piece[] = [];
  let scalars = 0;
  for (let a = 0; a < p.steps.length; a += LOOP_STEPS) {
    const b = Math.min(a + LOOP_STEPS, p.steps.length);
    const chunk = p.steps.slice(a, b);
    const reads: number[] = [];
    for (const s of chunk) for (const v of s.args) if (v < I + a && !reads.includes(v)) reads.push(v);
    const local = (v: number) => (v < I + a ? reads.indexOf(v) : reads.length + v - I - a);
    const steps: FusedStep[] = chunk.map((s) => (s.kind === 'binary'
      ? { ...s, args: [local(s.args[0]), local(s.args[1])] }
      : { ...s, args: [local(s.args[0])] }));
    const writes: number[] = [];
    for (let v = I + a; v < I + b; v++) if (lastUse[v]! >= b || p.outputs.includes(v)) writes.push(v);
    const s0 = scalars;
    scalars += chunk.filter((s) => s.kind === 'scalar').length;
    if (writes.length === 0) continue;
    const program: FusedProgram = { inputs: reads.length, steps, outputs: writes.map(local) };
    out.push({ program, reads, writes, s0, s1: scalars, row: fusedRowLoop(program) });
  }
  return out;
}

/** What a program structure runs as: its TypeScript loop or pieces (made on first use), whether it has a WebAssembly form, its modules' functions by input layout. */
interface Compiled {
  row: FusedRow | null | undefined;
  pieces: Piece[] | undefined;
  wasm: boolean;
  kernels: Map<string, ((...args: number[]) => void) | null>;
}

const byStructure = new Map<string, Compiled>();
/** Programs seen before, with their structure's code and their scalars: a repeated call skips validation and the key. */
const byProgram = new WeakMap<FusedProgram, { code: Compiled; scalars: number[] }>();

function prepared(p: FusedProgram): { code: Compiled; scalars: number[] } {
  let e = byProgram.get(p);
  if (e === undefined) {
    validateFusedProgram(p);
    const key = fusedStructureKey(p);
    let code = byStructure.get(key);
    if (code === undefined) byStructure.set(key, (code = { row: undefined, pieces: undefined, wasm: hasWasmForm(p), kernels: new Map() }));
    byProgram.set(p, (e = { code, scalars: fusedScalars(p) }));
  }
  return e;
}

type V = View<TypedArray>;

/** The WebAssembly route (see the header); false when the call is outside it. */
function viaWasm(p: FusedProgram, code: Compiled, scalars: readonly number[], inputs: readonly V[], outs: readonly V[]): boolean {
  if (!code.wasm) return false;
  const rt = wasmRuntime();
  const views = [...inputs, ...outs];
  const base = views.map((v) => rt.addressOf(v.buffer as Float32Array) + 4 * v.offset);
  if (views.some((v) => rt.addressOf(v.buffer as Float32Array) < 0)) return false;
  if (inputs.some((x) => outs.some((o) => aliasesDifferently(x, o)))) return false;
  const shape = outs[0]!.shape;
  const c = coalesce(shape, views.map((v) => v.strides));
  const r = c.shape.length;
  const inner = c.strides.map((s) => (r === 0 ? 0 : s[r - 1]!));
  if (inner.some((s, k) => (k < inputs.length ? s !== 0 && s !== 1 : r > 0 && s !== 1))) return false;
  const broadcast = inner.slice(0, inputs.length).map((s) => s === 0);
  const layout = broadcast.map((b) => (b ? 'b' : 'c')).join('');
  let fn = code.kernels.get(layout);
  if (fn === undefined) {
    // A host may refuse to compile synchronously (a browser's main thread, past its size limit): the TypeScript loop runs then.
    try {
      const module = new WebAssembly.Module(buildFusedModule(p, broadcast, rt.shared, rt.fma) as BufferSource);
      fn = new WebAssembly.Instance(module, { env: { memory: rt.memory } }).exports.fused as (...args: number[]) => void;
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      fn = null;
    }
    code.kernels.set(layout, fn);
  }
  if (fn === null) return false;
  run(rt, fn, scalars, c, base);
  return true;
}

/**
 * Calls `fn` over the coalesced geometry `c` (see fused_elementwise_program.ts for its arguments):
 * the last two dims in one call, once per index of the dims before them.
 */
function run(rt: WasmRuntime, fn: (...args: number[]) => void, scalars: readonly number[], c: Coalesced, base: readonly number[]): void {
  rt.reset();
  const sp = rt.alloc(4 * Math.max(1, scalars.length));
  rt.f32().set(scalars, sp >> 2);
  const v = base.length, r = c.shape.length;
  const args = new Array<number>(2 * v + 3).fill(0);
  args[v] = r === 0 ? 1 : c.shape[r - 1]!;
  args[v + 1] = sp;
  args[v + 2] = r >= 2 ? c.shape[r - 2]! : 1;
  for (let k = 0; k < v; k++) args[v + 3 + k] = r >= 2 ? 4 * c.strides[k]![r - 2]! : 0;
  const outer = c.shape.slice(0, Math.max(0, r - 2));
  forEachIndex(outer, (index) => {
    for (let k = 0; k < v; k++) {
      let off = 0;
      for (let d = 0; d < index.length; d++) off += index[d]! * c.strides[k]![d]!;
      args[k] = base[k]! + 4 * off;
    }
    fn(...args);
  });
}

export function fusedElementwise(p: FusedProgram, inputs: readonly V[], outs: readonly V[]): boolean {
  const { code, scalars } = prepared(p);
  checkFusedViews(p, inputs, outs);
  if (!inputs.every(isF32) || !outs.every(isF32)) return false;
  if (viaWasm(p, code, scalars, inputs, outs)) return true;
  if (p.steps.length > LOOP_STEPS) return viaPieces(p, (code.pieces ??= pieces(p)), scalars, inputs, outs);
  const row = code.row === undefined ? (code.row = fusedRowLoop(p)) : code.row;
  if (!row) return false;
  const ins = inputs.map((x) => (outs.some((o) => aliasesDifferently(x, o)) ? detached(x) : x));
  runRows(row, ins, outs, scalars);
  return true;
}

function runRows(row: FusedRow, ins: readonly V[], outs: readonly V[], scalars: readonly number[]): void {
  const views = [...ins, ...outs];
  const bufs = views.map((v) => v.buffer as Float32Array);
  forEachRow(outs[0]!.shape, views, (offs, n, inner) => row(bufs, offs, inner, n, scalars));
}

/** A long program piece by piece (see LOOP_STEPS); nothing is written to `outs` before the last piece has run. */
function viaPieces(p: FusedProgram, parts: readonly Piece[], scalars: readonly number[], inputs: readonly V[], outs: readonly V[]): boolean {
  if (parts.some((q) => q.row === null)) return false;
  const shape = outs[0]!.shape;
  const temp = (): V => ({ buffer: new Float32Array(numel(shape)), dtype: 'float32', shape, strides: contiguousStrides(shape), offset: 0 });
  const values = new Map<number, V>(inputs.map((v, k) => [k, v]));
  for (const q of parts) {
    const written = q.writes.map(temp);
    runRows(q.row!, q.reads.map((v) => values.get(v)!), written, scalars.slice(q.s0, q.s1));
    q.writes.forEach((v, j) => values.set(v, written[j]!));
  }
  // Every output's value in an array of its own before any output is written (an output may alias an input).
  const finals = p.outputs.map((v) => (v < p.inputs ? detached(inputs[v] as View<Float32Array>) : values.get(v)!));
  outs.forEach((o, k) => (o.buffer as Float32Array).set(finals[k]!.buffer as Float32Array, o.offset));
  return true;
}
