// `fusedElementwise` in WGSL: one generated shader per program structure (elementwise/fused.ts).
//
// What: for every element i (row-major over the iteration shape outs[0].shape) the thread loads
// each input, evaluates the program's steps — one `let t<j>: f32` statement per step, written by
// `wgslStatements` from the composed op expressions — and stores each output. Every step computes
// in f32 as its per-op kernel does (elementwise.ts runs the same op expressions), and f32 storage
// between per-op kernels is the f32 value itself, so the fused result is the per-op kernels' within
// each op's `wgsl` contract per step (the driver may contract a multiply and a following add of two
// steps into one fused multiply-add, as it may inside one op).
//
// Bindings: the inputs `x0..` (read), the outputs `y0..` (read_write), the uniforms: n, the
// scalars `s<k>` as float32 bit patterns (run-time values, so programs differing only in their
// scalars share a pipeline), then the view geometry of the path. Paths as in elementwise.ts,
// picked per launch after `coalesce`:
// - vec4:    every view one contiguous run, n % 4 == 0, every offset % 4 == 0: 4 elements a thread;
// - contig:  every view one contiguous run: element i at offset + i;
// - strided: rank ≤ 8 after merging dims (broadcast inputs: stride 0): the linear index decomposed
//            by the shape and dotted with each view's strides (strided_codegen.ts).
// 128 threads a workgroup, the grid folded into x·y past 65535 workgroups (workgroups.ts).
// Aliasing: WebGPU cannot bind one buffer both read-only and writable in a dispatch. An input with
// exactly an output's view (an in-place step) is read through that output's binding — each thread
// reads its element's inputs before writing it; an input elsewhere in an output's buffer is read
// from a snapshot; an output in the buffer of an earlier output is written through a temporary.

import { coalesce, isContiguous, numel } from '../geometry.js';
import type { View } from '../types.js';
import { checkFusedViews, composeFused, float32Bits, fusedScalars, fusedStructureKey, validateFusedProgram, type FusedProgram } from '../elementwise/fused.js';
import { wgslStatements } from '../elementwise/wgsl.js';
import { WGSL_MATH } from './elementwise_ops.js';
import { read, readWrite, shader, uniform, type ShaderSource } from './bindings.js';
import { UniformStruct } from './kernel_args.js';
import type { WebGPURuntime } from './runtime.js';
import { pushStrided, wgslOffsets } from './strided_codegen.js';
import { dispatch1D } from './workgroups.js';
import { WGSL_LINEAR_WORKGROUP } from './workgroups.js';

const WG = 128;
type Path = 'vec4' | 'contig' | 'strided';
type V = View<GPUBuffer>;

/** What a program's shaders are generated from, computed once per program object (matmul_epilogue.ts uses it too). */
export interface PreparedFusedProgram {
  key: string;
  inputs: number;
  outputs: number;
  /** The step statements and the expression of each output, over in<k>, s<k>. */
  lines: string[];
  values: string[];
  /** Scalar bit patterns, in parameter order. */
  scalarBits: number[];
}

const byProgram = new WeakMap<FusedProgram, PreparedFusedProgram>();

/** The program validated and composed into WGSL statements, once per program object. */
export function preparedFusedProgram(p: FusedProgram): PreparedFusedProgram {
  let e = byProgram.get(p);
  if (e === undefined) {
    validateFusedProgram(p);
    const { outputs } = composeFused(p);
    const { lines, values } = wgslStatements(outputs);
    e = {
      key: fusedStructureKey(p), inputs: p.inputs, outputs: outputs.length, lines, values,
      scalarBits: fusedScalars(p).map(float32Bits),
    };
    byProgram.set(p, e);
  }
  return e;
}

/** Whether input view x reads exactly the elements output view o writes, each at its own position. */
export const sameView = (x: V, o: V): boolean =>
  x.buffer === o.buffer && x.offset === o.offset && x.strides.every((s, d) => s === o.strides[d] || x.shape[d] === 1);

/**
 * For a launch that writes `outBuffers`: a view of an input as the launch must read it — itself,
 * or, when its buffer is also written, a copy of that buffer taken once before the launch (pushed
 * to `temps` for the caller to release), so every read sees the values from before the launch.
 */
export function snapshotReader(rt: WebGPURuntime, outBuffers: ReadonlySet<GPUBuffer>, temps: GPUBuffer[]): (x: V) => V {
  const snapshots = new Map<GPUBuffer, GPUBuffer>();
  return (x) => {
    if (!outBuffers.has(x.buffer)) return x;
    let s = snapshots.get(x.buffer);
    if (s === undefined) {
      s = rt.allocate(x.buffer.size);
      rt.copyBuffer(x.buffer, s, x.buffer.size);
      temps.push(s);
      snapshots.set(x.buffer, s);
    }
    return { ...x, buffer: s };
  };
}

const names = (prefix: string, count: number) => Array.from({ length: count }, (_, k) => `${prefix}${k}`);

/** Uniforms: n, the scalars, then the path's geometry (offsets; for strided, shape and strides). */
function uniforms(e: PreparedFusedProgram, path: Path, n: number, views: readonly V[], shape: readonly number[], strides: readonly (readonly number[])[]): UniformStruct {
  const u = new UniformStruct();
  u.u32('n', path === 'vec4' ? n / 4 : n);
  e.scalarBits.forEach((b, k) => u.u32(`s${k}`, b));
  const viewNames = [...names('x', e.inputs), ...names('y', e.outputs)];
  if (path === 'strided') pushStrided(u, shape, views.map((v, k) => ({ name: viewNames[k]!, strides: strides[k]!, offset: v.offset })));
  else views.forEach((v, k) => u.u32(`off_${viewNames[k]}`, v.offset));
  return u;
}

/**
 * The shader of a program on one path and rank (see the header). `via[k]`: the output whose binding
 * input k is read through (it has exactly that output's view), or -1 for its own binding.
 */
function fusedShader(e: PreparedFusedProgram, path: Path, rank: number, u: UniformStruct, via: readonly number[]): ShaderSource {
  const xs = names('x', e.inputs), ys = names('y', e.outputs);
  const vec = path === 'vec4';
  const el = vec ? 'vec4<f32>' : 'f32';
  const entries = [...xs.filter((_, k) => via[k]! < 0).map((x) => read(x, el)), ...ys.map((y) => readWrite(y, el)), uniform(u)];
  /** The array input k is read from. */
  const arr = (k: number) => (via[k]! < 0 ? xs[k]! : ys[via[k]!]!);
  const compute = [...e.lines, ...e.values.map((v, k) => `r${k} = ${v};`)];
  const used = xs.filter((_, k) => compute.some((l) => new RegExp(`\\bin${k}\\b`).test(l)));
  const scalars = e.scalarBits.map((_, k) => `  let s${k} = bitcast<f32>(u.s${k});`).join('\n');
  let body: string;
  if (vec) {
    body = `${xs.map((x, k) => (used.includes(x) ? `  let v_${x} = ${arr(k)}[u.off_${x} / 4u + i];` : '')).filter(Boolean).join('\n')}
${ys.map((_, k) => `  var res${k}: vec4<f32>;`).join('\n')}
  for (var j = 0u; j < 4u; j++) {
${xs.map((x, k) => (used.includes(x) ? `    let in${k} = v_${x}[j];` : '')).filter(Boolean).join('\n')}
${ys.map((_, k) => `    var r${k}: f32;`).join('\n')}
${compute.map((l) => `    ${l}`).join('\n')}
${ys.map((_, k) => `    res${k}[j] = r${k};`).join('\n')}
  }
${ys.map((y, k) => `  ${y}[u.off_${y} / 4u + i] = res${k};`).join('\n')}`;
  } else {
    const index = path === 'contig'
      ? [...xs, ...ys].map((v) => `  let o_${v} = u.off_${v} + i;`).join('\n')
      : wgslOffsets(rank, [...xs, ...ys], 'i');
    body = `${index}
${xs.map((x, k) => (used.includes(x) ? `  let in${k} = ${arr(k)}[o_${x}];` : '')).filter(Boolean).join('\n')}
${ys.map((_, k) => `  var r${k}: f32;`).join('\n')}
${compute.map((l) => `  ${l}`).join('\n')}
${ys.map((y, k) => `  ${y}[o_${y}] = r${k};`).join('\n')}`;
  }
  return shader(entries, `
${WGSL_MATH}
${WGSL_LINEAR_WORKGROUP}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * ${WG}u + lid;
  if (i >= u.n) { return; }
${scalars}
${body}
}
`);
}

/** Runs `p` over `inputs`, writing `outs` (see the header). */
export function fusedElementwise(rt: WebGPURuntime, p: FusedProgram, inputs: readonly V[], outs: readonly V[]): void {
  const e = preparedFusedProgram(p);
  checkFusedViews(p, inputs, outs);
  const shape = outs[0]!.shape;
  const n = numel(shape);
  if (n === 0) return;
  const temps: GPUBuffer[] = [];
  // Outputs in an earlier output's buffer go through a temporary, copied into place after the dispatch.
  const later: [V, GPUBuffer][] = [];
  const targets = outs.map((o, k) => {
    if (!outs.slice(0, k).some((q) => q.buffer === o.buffer)) return o;
    const t = rt.allocate(n * 4);
    temps.push(t);
    later.push([o, t]);
    return { ...o, buffer: t, offset: 0 };
  });
  const outBuffers = new Set(targets.map((o) => o.buffer));
  const via = inputs.map((x) => targets.findIndex((o) => sameView(x, o)));
  const source = snapshotReader(rt, outBuffers, temps);
  const sources = inputs.map((x, k) => (via[k]! >= 0 ? x : source(x)));
  const views = [...sources, ...targets];
  let path: Path, rank = 1, geomShape: readonly number[] = [], geomStrides: readonly (readonly number[])[] = [];
  if (views.every(isContiguous)) {
    path = n % 4 === 0 && views.every((v) => v.offset % 4 === 0) ? 'vec4' : 'contig';
  } else {
    path = 'strided';
    const c = coalesce(shape, views.map((v) => v.strides));
    geomShape = c.shape;
    geomStrides = c.strides;
    rank = c.shape.length;
  }
  const u = uniforms(e, path, n, views, geomShape, geomStrides);
  const pathNow = path, rankNow = rank;
  const aliases = via.some((j) => j >= 0) ? `.via${via.join(',')}` : '';
  const pipe = rt.pipeline(`fused.${e.key}.${path}.r${rank}${aliases}`, () => fusedShader(e, pathNow, rankNow, u, via));
  const threads = path === 'vec4' ? n / 4 : n;
  const buffers = views.filter((_, k) => k >= inputs.length || via[k]! < 0).map((v) => v.buffer);
  rt.dispatch(pipe, buffers, u.bytes(), dispatch1D(threads, WG), 'ew.fused');
  for (const [o, t] of later) rt.copyBuffer(t, o.buffer, n * 4, 0, o.offset * 4);
  for (const t of temps) rt.release(t);
}
