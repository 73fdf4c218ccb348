// `matmulEpilogue` in WGSL: a matmul whose product, instead of being stored, is value 0 of a
// FusedProgram (elementwise/fused.ts) evaluated where each invocation stores its outputs.
//
// What: for every output element (…, m, n) of a [...batch, M, N] product, the matmul's f32 sum is
// `in0`; input k ≥ 1 of the program is `inputs[k - 1]` read at the same (…, m, n) through its own
// strides (stride 0 where broadcast: a Linear's bias [N] is [..., M, N] with strides 0 but the
// last); the program's steps run as `fusedElementwise` runs them (`wgslStatements`, one f32 `let`
// per step), and output j is stored to `outs[j]` at (…, m, n). The raw product is written where the
// program lists value 0 as an output. The accumulation is the matmul's own (matmul.ts: the
// epilogue only replaces its store), so the results are the bits of `matmul` into a float32 buffer
// followed by `fusedElementwise` over it, within the same per-step contracts.
//
// The matmul variant is chosen as for `matmul` (matmul_select.ts); 'gemv', 'register' and 'tiled'
// take the epilogue in their store, 'splitk' (whose sums are complete only in its second pass)
// runs as matmul into a temporary, then `fusedElementwise`.
//
// Row sums (`rowSums`, a [...batch, M] view): Σ_k a[..., m, k] as a side output, for the bias
// gradient dY.sum(0) beside dW = dYᵀ·X, whose A is dYᵀ. In 'register' and 'tiled' the invocations
// of output column 0 add up the A values they load anyway, sequentially in k from 0 (so both give
// the same bits, which are not the reduce kernel's: it sums in a tree); elsewhere the reduce kernel
// writes them.
//
// Bindings: A, B, the inputs `X1..` (read), the outputs `Y0..` and the row sums `RS` (read_write)
// in place of the matmul's O, then the matmul's uniforms followed by each view's geometry (matmul.ts `Epilogue`)
// and the program's scalars as float32 bit patterns (`q<k>`), so programs differing only in their
// scalars share a pipeline.
// Aliasing, as `fusedElementwise` does it: an input with exactly an output's view is read through
// that output's binding (each invocation reads an element's inputs before it writes the element);
// A, B, or an input elsewhere in an output's buffer is read from a snapshot; an output in the
// buffer of an earlier output is written through a temporary.

import { contiguousStrides, isContiguous, numel } from '../geometry.js';
import type { View } from '../types.js';
import { FUSED_MAX_BUFFERS, FusedProgramError, type FusedProgram } from '../elementwise/fused.js';
import { WGSL_MATH } from './elementwise_ops.js';
import { read, readWrite } from './bindings.js';
import { fusedElementwise, preparedFusedProgram, sameView, snapshotReader, type PreparedFusedProgram } from './fused_elementwise.js';
import { matmul, matmulWithEpilogue, type Epilogue, type MatmulOptions } from './matmul.js';
import { reduce } from './reduce.js';
import type { WebGPURuntime } from './runtime.js';

type V = View<GPUBuffer>;

const fail = (msg: string): never => { throw new FusedProgramError(`matmulEpilogue: ${msg}`); };
const shapeText = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Checks the views against each other and the program (see `matmulEpilogue`). */
function check(a: V, b: V, p: FusedProgram, inputs: readonly V[], outs: readonly V[], rowSums: V | null): void {
  if (inputs.length !== p.inputs - 1) fail(`the program reads ${p.inputs} value(s): the product and ${p.inputs - 1} input view(s), got ${inputs.length}`);
  if (outs.length !== p.outputs.length) fail(`the program writes ${p.outputs.length} output(s), got ${outs.length} view(s)`);
  const buffers = 2 + inputs.length + outs.length + (rowSums === null ? 0 : 1);
  if (buffers > FUSED_MAX_BUFFERS) {
    fail(`a, b, ${inputs.length} input(s), ${outs.length} output(s)${rowSums === null ? '' : ' and the row sums'} need ${buffers} buffers, more than FUSED_MAX_BUFFERS = ${FUSED_MAX_BUFFERS}`);
  }
  const shape = outs[0]!.shape;
  const r = shape.length;
  if (r < 2) fail(`the product must have rank ≥ 2, got ${shapeText(shape)}`);
  const same = (s: readonly number[]): boolean => s.length === r && s.every((d, i) => d === shape[i]);
  const batchOk = (v: V) => v.shape.length === r && v.shape.slice(0, r - 2).every((d, i) => d === shape[i]);
  if (!batchOk(a) || !batchOk(b) || a.shape[r - 2] !== shape[r - 2] || b.shape[r - 1] !== shape[r - 1] || a.shape[r - 1] !== b.shape[r - 2]) {
    fail(`a ${shapeText(a.shape)} @ b ${shapeText(b.shape)} does not give the product ${shapeText(shape)}`);
  }
  for (const [v, what] of [[a, 'a'], [b, 'b']] as const) if (v.dtype !== 'float32') fail(`${what} is ${v.dtype}; the epilogue computes in float32`);
  const view = (v: V, what: string) => {
    if (v.dtype !== 'float32') fail(`${what} is ${v.dtype}; the epilogue computes in float32`);
    if (!same(v.shape)) fail(`${what} has shape ${shapeText(v.shape)}, the product's is ${shapeText(shape)}`);
  };
  inputs.forEach((v, k) => view(v, `input ${k + 1}`));
  outs.forEach((v, k) => {
    view(v, `output ${k}`);
    if (!isContiguous(v)) fail(`output ${k} must be contiguous (strides [${v.strides.join(', ')}])`);
  });
  if (rowSums !== null) {
    if (rowSums.dtype !== 'float32') fail(`rowSums is ${rowSums.dtype}; the epilogue computes in float32`);
    const want = shape.slice(0, r - 1);
    if (rowSums.shape.length !== r - 1 || !rowSums.shape.every((d, i) => d === want[i])) fail(`rowSums has shape ${shapeText(rowSums.shape)}, a's rows are ${shapeText(want)}`);
    if (!isContiguous(rowSums)) fail(`rowSums must be contiguous (strides [${rowSums.strides.join(', ')}])`);
  }
}

/** The epilogue's WGSL `fn epi(m, n, v)`; `via[k]` is the output input k + 1 is read through, or -1. */
function epilogueCode(e: PreparedFusedProgram, inputs: number, outputs: number, via: readonly number[]): string {
  const at = (view: number) => `eb[${view}] + m * u.e${view}_m + n * u.e${view}_n`;
  const compute = [...e.lines, ...e.values.map((v, j) => `let r${j}: f32 = ${v};`)];
  const loads: string[] = ['let in0 = v;'];
  for (let k = 1; k <= inputs; k++) {
    if (!compute.some((l) => new RegExp(`\\bin${k}\\b`).test(l))) continue;
    const j = via[k - 1]!;
    loads.push(j < 0 ? `let in${k} = X${k}[${at(k - 1)}];` : `let in${k} = Y${j}[${at(inputs + j)}];`);
  }
  const scalars = e.scalarBits.map((_, k) => `let s${k} = bitcast<f32>(u.q${k});`);
  const stores = Array.from({ length: outputs }, (_, j) => `Y${j}[${at(inputs + j)}] = r${j};`);
  return `${WGSL_MATH}
fn epi(m: u32, n: u32, v: f32) {
${[...loads, ...scalars, ...compute, ...stores].map((l) => `  ${l}`).join('\n')}
}
`;
}

/**
 * out_j = program(a·b, inputs…) output j, for every element of the [...batch, M, N] product (see the
 * header). a [...batch, M, K] and b [...batch, K, N] as for `matmul` (batch dims expanded, any
 * strides); every view float32; inputs of the product's shape (any strides); outputs contiguous.
 * `rowSums`, a contiguous [...batch, M] view, receives Σ_k a[..., m, k] (see the header).
 */
export function matmulEpilogue(rt: WebGPURuntime, a: V, b: V, p: FusedProgram, inputs: readonly V[], outs: readonly V[], rowSums: V | null = null, opts: MatmulOptions = {}): void {
  const e = preparedFusedProgram(p);
  check(a, b, p, inputs, outs, rowSums);
  const shape = outs[0]!.shape;
  const n = numel(shape);
  const temps: GPUBuffer[] = [];
  const sums = rowSums === null ? null : { view: rowSums, target: rowSums };
  if (n === 0) {
    if (sums !== null) rowSumsByReduce(rt, a, sums.view);
    return;
  }
  const later: [V, GPUBuffer, number][] = [];
  const targets = outs.map((o, k) => {
    if (!outs.slice(0, k).some((q) => q.buffer === o.buffer)) return o;
    const t = rt.allocate(n * 4);
    temps.push(t);
    later.push([o, t, n]);
    return { ...o, buffer: t, offset: 0 };
  });
  const outBuffers = new Set(targets.map((o) => o.buffer));
  if (sums !== null && [a, b, ...inputs, ...targets].some((v) => v.buffer === rowSums!.buffer)) {
    // Row sums in a buffer bound otherwise go through a temporary.
    const len = numel(rowSums!.shape);
    const t = rt.allocate(Math.max(len, 1) * 4);
    temps.push(t);
    later.push([rowSums!, t, len]);
    sums.target = { ...rowSums!, buffer: t, offset: 0 };
  }
  const via = inputs.map((x) => targets.findIndex((o) => sameView(x, o)));
  const source = snapshotReader(rt, outBuffers, temps);
  const sa = source(a), sb = source(b);
  const sources = inputs.map((x, k) => (via[k]! >= 0 ? x : source(x)));
  const code = epilogueCode(e, inputs.length, outs.length, via);
  const epilogue = (withSums: boolean): Epilogue => {
    const t = withSums && sums !== null ? sums.target : null;
    // The row sums as a [...batch, M, N] view with stride 0 along n.
    const sumView: V[] = t === null ? [] : [{ ...t, shape, strides: [...t.strides, 0] }];
    return {
      key: `${e.key}.i${inputs.length}.via${via.join(',')}${t === null ? '' : '.rowsums'}`,
      views: [...sources, ...targets, ...sumView],
      bindings: [
        ...sources.flatMap((_, k) => (via[k]! < 0 ? [read(`X${k + 1}`, 'f32')] : [])),
        ...targets.map((_, j) => readWrite(`Y${j}`, 'f32')),
        ...(t === null ? [] : [readWrite('RS', 'f32')]),
      ],
      buffers: [...sources.filter((_, k) => via[k]! < 0).map((x) => x.buffer), ...targets.map((o) => o.buffer), ...(t === null ? [] : [t.buffer])],
      uniforms: (u) => e.scalarBits.forEach((bits, k) => u.u32(`q${k}`, bits)),
      code,
      ...(t === null ? {} : { rowSums: sources.length + targets.length }),
    };
  };
  if (!matmulWithEpilogue(rt, sa, sb, targets[0]!, epilogue(true), opts)) {
    // Row sums outside 'register' and 'tiled' come from the reduce kernel.
    if (sums !== null) rowSumsByReduce(rt, sa, sums.target);
    if (!matmulWithEpilogue(rt, sa, sb, targets[0]!, epilogue(false), opts)) {
      // 'splitk': the product into a temporary, then the program over it (the same bits).
      const product = rt.allocate(n * 4);
      temps.push(product);
      const pv: V = { buffer: product, dtype: 'float32', shape, strides: contiguousStrides(shape), offset: 0 };
      matmul(rt, sa, sb, pv, opts);
      fusedElementwise(rt, p, [pv, ...sources], targets);
    }
  }
  for (const [o, t, len] of later) rt.copyBuffer(t, o.buffer, len * 4, 0, o.offset * 4);
  for (const t of temps) rt.release(t);
}

/** Σ_k a[..., m, k] into the [...batch, M] view `out` with the reduce kernel. */
function rowSumsByReduce(rt: WebGPURuntime, a: V, out: V): void {
  const r = a.shape.length;
  reduce(rt, 'sum', a, [r - 1], { ...out, shape: [...out.shape, 1], strides: [...out.strides, 1] });
}
