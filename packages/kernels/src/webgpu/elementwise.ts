// Elementwise kernels: unary, binary, where, copy (strided → strided with dtype cast) and fill.
//
// What: out[i] = f(in0[i], in1[i], ...) for every logical element i, row-major over out.shape.
// Inputs arrive already expanded to out's shape (stride 0 on broadcast dims); any view, out
// included, may be strided with an offset. One template (`wgslElementwise`) generates every
// shader from a row of the expression table in elementwise_ops.ts; the pipeline key covers the
// op, the storage types, the path and the rank.
//
// Paths (picked per launch, after `coalesce` merges dims that are contiguous in every view):
// - vec4:    every view is one contiguous run, numel % 4 == 0 and every offset % 4 == 0: each
//            thread loads/stores one vec4 (bindings typed array<vec4<T>>), computing per lane;
// - contig:  every view is one contiguous run: element i is at offset + i;
// - strided: generic, rank ≤ 8: the linear index is decomposed with the shape in the uniforms and
//            dotted with each view's strides (strided_codegen.ts).
// Threads: one thread per element (per 4 elements in vec4), 128 per workgroup, the workgroup
// grid folded into x·y when it exceeds 65535 (workgroups.ts).
//
// Storage: f32 / i32 / u32 (bool as 0/1). float64 throws a TypeError naming the op.
// Aliasing: WebGPU forbids binding one buffer as read-only and read-write in one dispatch, so an
// input that shares out's buffer is first snapshotted into a temporary copy. That also gives copy()
// the CPU's read-everything-before-writing semantics for overlapping views.

import type { BinaryOp, DType, UnaryOp, View } from '../types.js';
import { gpuDType, WGSL_STORAGE_TYPE } from './dtype.js';
import { UNARY_EXPR, BINARY_EXPR, WGSL_MATH, type OpExpr } from './elementwise_ops.js';
import { UniformStruct } from './kernel_args.js';
import type { WebGPURuntime } from './runtime.js';
import { coalesce, isContiguousRun, pushStrided, wgslOffsets } from './strided_codegen.js';
import { dispatch1D, WGSL_LINEAR_WORKGROUP } from './workgroups.js';

const WG = 128;

type Storage = 'f32' | 'i32' | 'u32';
type Compute = 'f32' | 'i32';
type Path = 'vec4' | 'contig' | 'strided';

/** How one shader is built: operand storage types, how each is converted, and the result expression. */
interface EwProgram {
  /** Key fragment naming the op. */
  name: string;
  inputs: Storage[];
  /** WGSL expression for each operand, given the raw loaded value `r` (e.g. 'f32(r)'). */
  operandNames: string[];
  operandConv: ((raw: string) => string)[];
  /** Result expression over the operand names, and its kind. */
  expr: string;
  resultType: 'f32' | 'i32' | 'bool' | 'raw';
  out: Storage;
}

function load(s: Storage, c: Compute): (raw: string) => string {
  if (s === c) return (r) => r;
  return c === 'f32' ? (r) => `f32(${r})` : (r) => `i32(${r})`;
}

function store(result: 'f32' | 'i32' | 'bool' | 'raw', out: Storage, v: string): string {
  if (result === 'raw') return v;
  if (result === 'bool') return out === 'f32' ? `select(0.0, 1.0, ${v})` : out === 'i32' ? `select(0, 1, ${v})` : `select(0u, 1u, ${v})`;
  if (result === 'f32') return out === 'f32' ? v : out === 'i32' ? `f2i(${v})` : `select(1u, 0u, ${v} == 0.0)`;
  return out === 'f32' ? `f32(${v})` : out === 'i32' ? v : `select(0u, 1u, ${v} != 0)`;
}

/** The WGSL of one elementwise program on one path and rank. */
export function wgslElementwise(p: EwProgram, path: Path, rank: number, u: UniformStruct): string {
  const names = p.inputs.map((_, k) => `in${k}`);
  const vec = path === 'vec4';
  const decl = p.inputs.map((s, k) =>
    `@group(0) @binding(${k}) var<storage, read> in${k}: array<${vec ? `vec4<${s}>` : s}>;`).join('\n');
  const outBinding = p.inputs.length;
  const operands = (idx: (k: number) => string) => p.operandNames.map((n, k) =>
    `    let ${n} = ${p.operandConv[k]!(idx(k))};`).join('\n');
  const result = store(p.resultType, p.out, `(${p.expr})`);
  let body: string;
  if (vec) {
    const loads = names.map((n, k) => `  let v${k} = ${n}[u.off_${n} / 4u + i];`).join('\n');
    body = `${loads}
  var res: vec4<${p.out}>;
  for (var j = 0u; j < 4u; j++) {
${operands((k) => `v${k}[j]`)}
    res[j] = ${result};
  }
  out[u.off_out / 4u + i] = res;`;
  } else {
    const index = path === 'contig'
      ? [...names, 'out'].map((n) => `  let o_${n} = u.off_${n} + i;`).join('\n')
      : wgslOffsets(rank, [...names, 'out'], 'i');
    body = `${index}
  {
${operands((k) => `in${k}[o_in${k}]`)}
    out[o_out] = ${result};
  }`;
  }
  return `${u.wgsl('U')}
${decl}
@group(0) @binding(${outBinding}) var<storage, read_write> out: array<${vec ? `vec4<${p.out}>` : p.out}>;
@group(0) @binding(${outBinding + 1}) var<uniform> u: U;
${WGSL_MATH}
${WGSL_LINEAR_WORKGROUP}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * ${WG}u + lid;
  if (i >= u.n) { return; }
${body}
}
`;
}

/** Picks the path and launches `p` over `inputs` → `out`. */
function launch(rt: WebGPURuntime, p: EwProgram, inputs: View<GPUBuffer>[], out: View<GPUBuffer>, extra?: (u: UniformStruct) => void): void {
  let n = 1;
  for (const s of out.shape) n *= s;
  if (n === 0) return;
  const views = [...inputs, out];
  const c = coalesce(out.shape, views.map((v) => v.strides));
  const names = [...inputs.map((_, k) => `in${k}`), 'out'];
  let path: Path = 'strided';
  if (c.strides.every((s) => isContiguousRun(c.shape, s))) {
    path = n % 4 === 0 && views.every((v) => v.offset % 4 === 0) ? 'vec4' : 'contig';
  }
  const u = new UniformStruct();
  u.u32('n', path === 'vec4' ? n / 4 : n);
  if (extra) extra(u);
  if (path === 'strided') {
    pushStrided(u, c.shape, views.map((v, k) => ({ name: names[k]!, strides: c.strides[k]!, offset: v.offset })));
  } else {
    views.forEach((v, k) => u.u32(`off_${names[k]}`, v.offset));
  }
  const rank = path === 'strided' ? c.shape.length : 1;
  const key = `ew.${p.name}.${p.inputs.join('')}>${p.out}.${path}.r${rank}`;
  const layout = [...inputs.map(() => 'read' as const), 'readwrite' as const];
  const pipe = rt.pipeline(key, () => wgslElementwise(p, path, rank, u), layout);
  // An input sharing out's buffer is read from a snapshot (see the header).
  const temps: GPUBuffer[] = [];
  const buffers = inputs.map((v) => {
    if (v.buffer !== out.buffer) return v.buffer;
    const t = rt.allocate(v.buffer.size);
    rt.copyBuffer(v.buffer, t, v.buffer.size);
    temps.push(t);
    return t;
  });
  rt.dispatch(pipe, [...buffers, out.buffer], u.bytes(), dispatch1D(path === 'vec4' ? n / 4 : n, WG), `ew.${p.name}`);
  for (const t of temps) rt.release(t);
}

function storageOf(op: string, d: DType): Storage {
  return WGSL_STORAGE_TYPE[gpuDType(op, d)];
}

/** f32 when any operand is float (or the op has no integer form), else i32. */
function computeType(expr: OpExpr, storages: Storage[]): Compute {
  return !expr.i || storages.includes('f32') ? 'f32' : 'i32';
}

function opProgram(name: string, expr: OpExpr, operandNames: string[], inputs: Storage[], out: Storage): EwProgram {
  const c = computeType(expr, inputs);
  return {
    name, inputs, out, operandNames,
    operandConv: inputs.map((s) => load(s, c)),
    expr: c === 'f32' ? expr.f : expr.i!,
    resultType: expr.result === 'bool' ? 'bool' : c,
  };
}

export function unary(rt: WebGPURuntime, op: UnaryOp, x: View<GPUBuffer>, out: View<GPUBuffer>): void {
  const p = opProgram(op, UNARY_EXPR[op], ['x'], [storageOf(op, x.dtype)], storageOf(op, out.dtype));
  launch(rt, p, [x], out);
}

export function binary(rt: WebGPURuntime, op: BinaryOp, a: View<GPUBuffer>, b: View<GPUBuffer>, out: View<GPUBuffer>): void {
  const p = opProgram(op, BINARY_EXPR[op], ['a', 'b'], [storageOf(op, a.dtype), storageOf(op, b.dtype)], storageOf(op, out.dtype));
  launch(rt, p, [a, b], out);
}

export function where(rt: WebGPURuntime, cond: View<GPUBuffer>, a: View<GPUBuffer>, b: View<GPUBuffer>, out: View<GPUBuffer>): void {
  const sc = storageOf('where', cond.dtype), sa = storageOf('where', a.dtype), sb = storageOf('where', b.dtype);
  const c: Compute = sa === 'f32' || sb === 'f32' ? 'f32' : 'i32';
  const zero = sc === 'f32' ? '0.0' : sc === 'i32' ? '0' : '0u';
  const p: EwProgram = {
    name: 'where', inputs: [sc, sa, sb], out: storageOf('where', out.dtype),
    operandNames: ['c', 'a', 'b'],
    operandConv: [(r) => `!(${r} == ${zero})`, load(sa, c), load(sb, c)],
    expr: 'select(b, a, c)', resultType: c,
  };
  launch(rt, p, [cond, a, b], out);
}

export function copy(rt: WebGPURuntime, x: View<GPUBuffer>, out: View<GPUBuffer>): void {
  const sx = storageOf('copy', x.dtype);
  const so = storageOf('copy', out.dtype);
  const c: Compute = sx === 'f32' ? 'f32' : 'i32';
  const p: EwProgram = { name: 'copy', inputs: [sx], out: so, operandNames: ['x'], operandConv: [load(sx, c)], expr: 'x', resultType: c };
  launch(rt, p, [x], out);
}

/** The 32 bits `value` is stored as in `dtype` (same conversion as the CPU's convertTo). */
export function storedBits(dtype: DType, value: number): number {
  const d = gpuDType('fill', dtype);
  if (d === 'float32') return new Uint32Array(new Float32Array([value]).buffer)[0]!;
  if (d === 'int32') return (Number.isNaN(value) ? 0 : Math.trunc(value) | 0) >>> 0;
  return value !== 0 ? 1 : 0;
}

export function fill(rt: WebGPURuntime, out: View<GPUBuffer>, value: number): void {
  const bits = storedBits(out.dtype, value);
  // Every dtype is 4 bytes on the GPU: write the stored bit pattern through a u32 view of the buffer.
  const p: EwProgram = { name: 'fill', inputs: [], out: 'u32', operandNames: [], operandConv: [], expr: 'u.bits', resultType: 'raw' };
  launch(rt, p, [], out, (u) => u.u32('bits', bits));
}
