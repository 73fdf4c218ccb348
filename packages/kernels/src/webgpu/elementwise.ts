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
// Storage: f32 / i32 / u32 (bool as 0/1) / f16 (float16) / bfloat16 packed two per u32 word (see
// dtype.ts; how a bfloat16 out is written without clobbering a neighbour: wgslElementwise); the storage type of each operand is a parameter of generation. float16 and bfloat16
// operands are converted to f32 on load and rounded to nearest-even on store (half_wgsl.ts), so
// arithmetic is f32 whatever the storage; a copy between two views of one 16-bit dtype moves the
// bits. float64 throws a TypeError naming the op.
// Aliasing: WebGPU forbids binding one buffer as read-only and read-write in one dispatch, so an
// input that shares out's buffer is first snapshotted into a temporary copy. That also gives copy()
// the CPU's read-everything-before-writing semantics for overlapping views.

import type { BinaryOp, DType, UnaryOp, View } from '../types.js';
import { gpuStorageDType, type GPUStorageDType } from './dtype.js';
import { bfloat16Bits, float16Bits } from '../half.js';
import { WGSL_F16_BITS, WGSL_HALF_BITS } from './half_wgsl.js';
import { UNARY_EXPR, BINARY_EXPR, WGSL_MATH, type OpExpr } from './elementwise_ops.js';
import { UniformStruct } from './kernel_args.js';
import { read, readWrite, shader, uniform, type ElementType, type ShaderSource } from './bindings.js';
import type { WebGPURuntime } from './runtime.js';
import { coalesce, isContiguous, numel } from '../geometry.js';
import { pushStrided, wgslOffsets } from './strided_codegen.js';
import { dispatch1D, MAX_WORKGROUPS_PER_DIM, WGSL_LINEAR_WORKGROUP } from './workgroups.js';

const WG = 128;

/** How an operand is stored: bf16 is a bfloat16 bit pattern, two per u32 word. */
type Storage = 'f32' | 'i32' | 'u32' | 'f16' | 'bf16';
const isFloatStorage = (s: Storage): boolean => s === 'f32' || s === 'f16' || s === 'bf16';
/** The WGSL element type of a storage kind. */
const wgslElement = (s: Storage): 'f32' | 'i32' | 'u32' | 'f16' => (s === 'bf16' ? 'u32' : s);
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
  /** Where each operand comes from: input k (default: operand k is input k) or the `scalar` uniform. */
  sources?: (number | 'scalar')[];
  /** Result expression over the operand names, and its kind. */
  expr: string;
  resultType: 'f32' | 'i32' | 'bool' | 'raw';
  out: Storage;
}

function load(s: Storage, c: Compute): (raw: string) => string {
  if (s === c) return (r) => r;
  if (s === 'f16') return c === 'f32' ? (r) => `half_to_f32(half_of(${r}))` : (r) => `i32(half_to_f32(half_of(${r})))`;
  if (s === 'bf16') return c === 'f32' ? (r) => `bf16_to_f32(${r})` : (r) => `i32(bf16_to_f32(${r}))`;
  return c === 'f32' ? (r) => `f32(${r})` : (r) => `i32(${r})`;
}

function store(result: 'f32' | 'i32' | 'bool' | 'raw', out: Storage, v: string): string {
  if (result === 'raw') return v;
  if (out === 'f16' || out === 'bf16') {
    const f = result === 'bool' ? `select(0.0, 1.0, ${v})` : result === 'i32' ? `f32(${v})` : v;
    return out === 'f16' ? `f16_of(f32_to_half(${f}))` : `f32_to_bf16(${f})`;
  }
  if (result === 'bool') return out === 'f32' ? `select(0.0, 1.0, ${v})` : out === 'i32' ? `select(0, 1, ${v})` : `select(0u, 1u, ${v})`;
  if (result === 'f32') return out === 'f32' ? v : out === 'i32' ? `f2i(${v})` : `select(1u, 0u, ${v} == 0.0)`;
  return out === 'f32' ? `f32(${v})` : out === 'i32' ? v : `select(0u, 1u, ${v} != 0)`;
}

/**
 * The shader of one elementwise program on one path and rank: inputs in0.., then out, then the uniforms.
 * A bfloat16 out (two elements per u32 word, half_wgsl.ts) is written a whole word per thread on the
 * contiguous paths (vec4: 4 elements = 2 words; contig: the 1 or 2 elements of the view in word
 * `u.off_out / 2 + i`, the other half kept from the word's old value) and with atomics on the
 * strided path, where the two halves of a word may belong to any two threads.
 */
export function wgslElementwise(p: EwProgram, path: Path, rank: number, u: UniformStruct): ShaderSource {
  const names = p.inputs.map((_, k) => `in${k}`);
  const vec = path === 'vec4';
  const element = (s: Storage, written: boolean): ElementType =>
    s === 'bf16' ? (vec ? 'vec2<u32>' : written && path === 'strided' ? 'atomic<u32>' : 'u32')
      : vec ? `vec4<${wgslElement(s)}>` : wgslElement(s);
  const entries = [...p.inputs.map((s, k) => read(names[k]!, element(s, false))), readWrite('out', element(p.out, true)), uniform(u)];
  const operands = (idx: (k: number) => string) => p.operandNames.map((n, k) => {
    const src = p.sources?.[k] ?? k;
    const s0 = p.inputs[0]!;
    const raw = src !== 'scalar' ? idx(src) : s0 === 'f16' ? 'f16_of(u.scalar)' : s0 === 'bf16' ? 'u.scalar' : `bitcast<${s0}>(u.scalar)`;
    return `    let ${n} = ${p.operandConv[k]!(raw)};`;
  }).join('\n');
  // Element o of input k as its raw stored value (a bf16 element as its 16 bits in a u32).
  const scalarLoad = (k: number) => (p.inputs[k] === 'bf16' ? `bf16_bits(in${k}[o_in${k} >> 1u], o_in${k})` : `in${k}[o_in${k}]`);
  const result = store(p.resultType, p.out, `(${p.expr})`);
  const pairs = p.out === 'bf16' && path === 'contig';
  let body: string;
  if (vec) {
    const loads = names.map((n, k) => `  let v${k} = ${p.inputs[k] === 'bf16' ? `bf16x4(${n}[u.off_${n} / 4u + i])` : `${n}[u.off_${n} / 4u + i]`};`).join('\n');
    const res = p.out === 'bf16' ? 'vec4<u32>' : `vec4<${wgslElement(p.out)}>`;
    body = `${loads}
  var res: ${res};
  for (var j = 0u; j < 4u; j++) {
${operands((k) => `v${k}[j]`)}
    res[j] = ${result};
  }
  out[u.off_out / 4u + i] = ${p.out === 'bf16' ? 'vec2<u32>(res.x | (res.y << 16u), res.z | (res.w << 16u))' : 'res'};`;
  } else if (pairs) {
    // Thread i owns word u.off_out / 2 + i of out: its halves are elements pw_e - off_out of the view
    // when inside [0, ne); a half outside keeps the word's old bits.
    const index = names.map((n) => `      let o_${n} = u.off_${n} + pw_j;`).join('\n');
    body = `  let pw_w = (u.off_out >> 1u) + i;
  var pw_word = 0u;
  var pw_keep = 0u;
  for (var pw_h = 0u; pw_h < 2u; pw_h++) {
    let pw_e = 2u * pw_w + pw_h;
    if (pw_e < u.off_out || pw_e - u.off_out >= u.ne) { pw_keep |= 0xffffu << (16u * pw_h); continue; }
    let pw_j = pw_e - u.off_out;
${index}
    {
${operands(scalarLoad)}
      pw_word |= (${result}) << (16u * pw_h);
    }
  }
  if (pw_keep != 0u) { pw_word |= out[pw_w] & pw_keep; }
  out[pw_w] = pw_word;`;
  } else {
    const index = path === 'contig'
      ? [...names, 'out'].map((n) => `  let o_${n} = u.off_${n} + i;`).join('\n')
      : wgslOffsets(rank, [...names, 'out'], 'i');
    const st = p.out === 'bf16'
      ? `{ let sh = (o_out & 1u) << 4u; atomicAnd(&out[o_out >> 1u], ~(0xffffu << sh)); atomicOr(&out[o_out >> 1u], (${result}) << sh); }`
      : `out[o_out] = ${result};`;
    body = `${index}
  {
${operands(scalarLoad)}
    ${st}
  }`;
  }
  const all = [...p.inputs, p.out];
  const half = all.includes('f16') || all.includes('bf16') ? WGSL_HALF_BITS : '';
  const f16 = all.includes('f16') ? WGSL_F16_BITS : '';
  const unpack = vec && all.includes('bf16') ? BF16X4 : '';
  return shader(entries, `
${WGSL_MATH}${half}${f16}${unpack}
${WGSL_LINEAR_WORKGROUP}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * ${WG}u + lid;
  if (i >= u.n) { return; }
${body}
}
`);
}

/** WGSL: the four bfloat16 bit patterns of two packed words (the vec4 path). */
const BF16X4 = `fn bf16x4(w: vec2<u32>) -> vec4<u32> { return vec4<u32>(w.x & 0xffffu, w.x >> 16u, w.y & 0xffffu, w.y >> 16u); }
`;

/** Key fragments of one program, computed once (see `program`). */
interface EwCompiled extends EwProgram {
  /** Dispatch label: `ew.<name>`. */
  label: string;
  /** Pipeline keys by path/rank slot (vec4: 0, contig: 1, strided rank r: 2 + r). */
  keys: string[];
}

function compiled(p: EwProgram): EwCompiled {
  return { ...p, label: `ew.${p.name}`, keys: [] };
}

function pipelineKey(p: EwCompiled, path: Path, rank: number): string {
  const slot = path === 'vec4' ? 0 : path === 'contig' ? 1 : 2 + rank;
  return (p.keys[slot] ??= `ew.${p.name}.${p.inputs.join('')}>${p.out}.${path}.r${rank}`);
}

/** The uniform names of the contiguous paths, per operand count. */
const OFF_NAMES = [['off_out'], ['off_in0', 'off_out'], ['off_in0', 'off_in1', 'off_out'], ['off_in0', 'off_in1', 'off_in2', 'off_out']];

/** Anything uniforms are pushed to: a UniformStruct (names and WGSL) or the dispatch scratch (values only). */
interface UniformSink {
  u32(name: string, value: number): unknown;
}

/** The uniforms of the contiguous paths: n, the program's extra scalars, one offset per view. */
function pushContig(u: UniformSink, n: number, ne: number | null, extra: ((u: UniformSink) => void) | undefined, views: readonly View<GPUBuffer>[]): void {
  u.u32('n', n);
  if (ne !== null) u.u32('ne', ne);
  if (extra) extra(u);
  const names = OFF_NAMES[views.length - 1]!;
  for (let k = 0; k < views.length; k++) u.u32(names[k]!, views[k]!.offset);
}

/**
 * Uniform values written straight into one reused Uint32Array (the runtime copies them into its
 * ring during `dispatch`), in the order and with the checks of UniformStruct.
 */
class UniformScratch implements UniformSink {
  private readonly words = new Uint32Array(64);
  private readonly views: Uint32Array[] = [];
  n = 0;

  reset(): this {
    this.n = 0;
    return this;
  }

  u32(name: string, value: number): this {
    if (!(value >= 0 && value <= 0xffffffff) || !Number.isInteger(value)) {
      throw new RangeError(`uniform '${name}' = ${value} does not fit a u32`);
    }
    this.words[this.n++] = value;
    return this;
  }

  /** The struct's words, padded with zeros to a multiple of 4 (16 bytes), like UniformStruct.bytes(). */
  bytes(): Uint32Array {
    const len = Math.max(4, Math.ceil(this.n / 4) * 4);
    this.words.fill(0, this.n, len);
    return (this.views[len] ??= new Uint32Array(this.words.buffer, 0, len));
  }
}

const scratch = new UniformScratch();
const workgroups: [number, number] = [0, 1];

/** Picks the path and launches `p` over `inputs` → `out`. */
function launch(rt: WebGPURuntime, p: EwCompiled, inputs: View<GPUBuffer>[], out: View<GPUBuffer>, extra?: (u: UniformSink) => void): void {
  const n = numel(out.shape);
  if (n === 0) return;
  const views = [...inputs, out];
  // Every view one contiguous run (inputs have out's shape): the same test as coalescing and
  // checking each run, without the copies.
  let contiguous = true;
  for (let k = 0; k < views.length && contiguous; k++) contiguous = isContiguous(views[k]!);
  let path: Path;
  let rank = 1;
  let threads = n;
  let uniforms: ArrayBuffer | Uint32Array;
  let wgslUniforms: () => UniformStruct;
  if (contiguous) {
    let aligned = n % 4 === 0;
    for (let k = 0; k < views.length && aligned; k++) aligned = views[k]!.offset % 4 === 0;
    path = aligned ? 'vec4' : 'contig';
    // A bfloat16 out on the contig path takes one thread per word it touches (see wgslElementwise).
    const ne = !aligned && out.dtype === 'bfloat16' ? n : null;
    threads = aligned ? n / 4 : ne !== null ? ((out.offset + n + 1) >> 1) - (out.offset >> 1) : n;
    pushContig(scratch.reset(), threads, ne, extra, views);
    uniforms = scratch.bytes();
    wgslUniforms = () => { const u = new UniformStruct(); pushContig(u, threads, ne, extra, views); return u; };
  } else {
    path = 'strided';
    const c = coalesce(out.shape, views.map((v) => v.strides));
    const names = [...inputs.map((_, k) => `in${k}`), 'out'];
    const u = new UniformStruct();
    u.u32('n', n);
    if (extra) extra(u);
    pushStrided(u, c.shape, views.map((v, k) => ({ name: names[k]!, strides: c.strides[k]!, offset: v.offset })));
    rank = c.shape.length;
    uniforms = u.bytes();
    wgslUniforms = () => u;
  }
  const pathNow = path, rankNow = rank;
  const pipe = rt.pipeline(pipelineKey(p, path, rank), () => wgslElementwise(p, pathNow, rankNow, wgslUniforms()));
  const groups = Math.ceil(threads / WG);
  let wg: readonly [number, number?];
  if (groups <= MAX_WORKGROUPS_PER_DIM) {
    workgroups[0] = groups;
    wg = workgroups;
  } else {
    wg = dispatch1D(threads, WG);
  }
  // An input sharing out's buffer is read from a snapshot (see the header).
  let aliased = false;
  for (const v of inputs) if (v.buffer === out.buffer) aliased = true;
  if (!aliased) {
    const buffers: GPUBuffer[] = [];
    for (const v of inputs) buffers.push(v.buffer);
    buffers.push(out.buffer);
    rt.dispatch(pipe, buffers, uniforms, wg, p.label);
    return;
  }
  const temps: GPUBuffer[] = [];
  const buffers = inputs.map((v) => {
    if (v.buffer !== out.buffer) return v.buffer;
    const t = rt.allocate(v.buffer.size);
    rt.copyBuffer(v.buffer, t, v.buffer.size);
    temps.push(t);
    return t;
  });
  rt.dispatch(pipe, [...buffers, out.buffer], uniforms, wg, p.label);
  for (const t of temps) rt.release(t);
}

const STORAGE: Readonly<Record<GPUStorageDType, Storage>> = { float32: 'f32', int32: 'i32', bool: 'u32', float16: 'f16', bfloat16: 'bf16' };

function storageOf(op: string, d: DType): Storage {
  return STORAGE[gpuStorageDType(op, d)];
}

/** f32 when any operand is float (or the op has no integer form), else i32. */
function computeType(expr: OpExpr, storages: Storage[]): Compute {
  return !expr.i || storages.some(isFloatStorage) ? 'f32' : 'i32';
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

// Programs are built once per op and storage types and kept with their pipeline keys, so a launch
// costs a lookup here and one in the runtime's pipeline cache.
const STORAGE_INDEX: Record<Storage, number> = { f32: 0, i32: 1, u32: 2, f16: 3, bf16: 4 };
/** Number of storage kinds: the base of the program indices below. */
const NS = 5;
const programs = new Map<string, EwCompiled[]>();

function program(family: string, index: number, make: () => EwProgram): EwCompiled {
  let table = programs.get(family);
  if (table === undefined) programs.set(family, (table = []));
  return (table[index] ??= compiled(make()));
}

export function unary(rt: WebGPURuntime, op: UnaryOp, x: View<GPUBuffer>, out: View<GPUBuffer>): void {
  const sx = storageOf(op, x.dtype), so = storageOf(op, out.dtype);
  const p = program(op, STORAGE_INDEX[sx] * NS + STORAGE_INDEX[so], () => opProgram(op, UNARY_EXPR[op], ['x'], [sx], so));
  launch(rt, p, [x], out);
}

export function binary(rt: WebGPURuntime, op: BinaryOp, a: View<GPUBuffer>, b: View<GPUBuffer>, out: View<GPUBuffer>): void {
  const sa = storageOf(op, a.dtype), sb = storageOf(op, b.dtype), so = storageOf(op, out.dtype);
  const p = program(op, (STORAGE_INDEX[sa] * NS + STORAGE_INDEX[sb]) * NS + STORAGE_INDEX[so],
    () => opProgram(op, BINARY_EXPR[op], ['a', 'b'], [sa, sb], so));
  launch(rt, p, [a, b], out);
}

/**
 * `op` with one operand a scalar of `a`'s dtype (stored as `fill` would store it) passed in the
 * uniforms: out = op(a, scalar), or op(scalar, a) when `scalarFirst`. Same results as `binary`
 * with the scalar in a 0-d buffer broadcast to out's shape, without that buffer.
 */
export function binaryScalar(rt: WebGPURuntime, op: BinaryOp, a: View<GPUBuffer>, scalar: number, scalarFirst: boolean, out: View<GPUBuffer>): void {
  const sa = storageOf(op, a.dtype), so = storageOf(op, out.dtype);
  const p = program(`${op}.scalar`, (STORAGE_INDEX[sa] * NS + STORAGE_INDEX[so]) * 2 + (scalarFirst ? 1 : 0), () => {
    const base = opProgram(op, BINARY_EXPR[op], ['a', 'b'], [sa, sa], so);
    return {
      ...base, name: `${op}.s${scalarFirst ? 0 : 1}`, inputs: [sa],
      sources: scalarFirst ? ['scalar', 0] : [0, 'scalar'],
    };
  });
  const bits = storedBits(a.dtype, scalar);
  launch(rt, p, [a], out, (u) => u.u32('scalar', bits));
}

export function where(rt: WebGPURuntime, cond: View<GPUBuffer>, a: View<GPUBuffer>, b: View<GPUBuffer>, out: View<GPUBuffer>): void {
  const sc = storageOf('where', cond.dtype), sa = storageOf('where', a.dtype), sb = storageOf('where', b.dtype);
  const so = storageOf('where', out.dtype);
  const p = program('where', ((STORAGE_INDEX[sc] * NS + STORAGE_INDEX[sa]) * NS + STORAGE_INDEX[sb]) * NS + STORAGE_INDEX[so], () => {
    const c: Compute = isFloatStorage(sa) || isFloatStorage(sb) ? 'f32' : 'i32';
    const cond = sc === 'f16' || sc === 'bf16' ? load(sc, 'f32') : (r: string) => r;
    const zero = isFloatStorage(sc) ? '0.0' : sc === 'i32' ? '0' : '0u';
    return {
      name: 'where', inputs: [sc, sa, sb], out: so,
      operandNames: ['c', 'a', 'b'],
      operandConv: [(r: string) => `!(${cond(r)} == ${zero})`, load(sa, c), load(sb, c)],
      expr: 'select(b, a, c)', resultType: c,
    };
  });
  launch(rt, p, [cond, a, b], out);
}

export function copy(rt: WebGPURuntime, x: View<GPUBuffer>, out: View<GPUBuffer>): void {
  const sx = storageOf('copy', x.dtype);
  const so = storageOf('copy', out.dtype);
  const p = program('copy', STORAGE_INDEX[sx] * NS + STORAGE_INDEX[so], () => {
    // Between two views of one 16-bit dtype the bit patterns move unchanged (NaN payloads, subnormals).
    if (sx === so && (sx === 'f16' || sx === 'bf16')) return { name: 'copy', inputs: [sx], out: so, operandNames: ['x'], operandConv: [(r) => r], expr: 'x', resultType: 'raw' };
    const c: Compute = isFloatStorage(sx) ? 'f32' : 'i32';
    return { name: 'copy', inputs: [sx], out: so, operandNames: ['x'], operandConv: [load(sx, c)], expr: 'x', resultType: c };
  });
  launch(rt, p, [x], out);
}

/** The 32 bits `value` is stored as in `dtype` (same conversion as the CPU's convertTo). */
const F32_BITS = new Float32Array(1);
const U32_OF_F32 = new Uint32Array(F32_BITS.buffer);

export function storedBits(dtype: DType, value: number): number {
  const d = gpuStorageDType('fill', dtype);
  if (d === 'float32') { F32_BITS[0] = value; return U32_OF_F32[0]!; }
  if (d === 'float16') return float16Bits(value);
  if (d === 'bfloat16') return bfloat16Bits(value);
  if (d === 'int32') return (Number.isNaN(value) ? 0 : Math.trunc(value) | 0) >>> 0;
  return value !== 0 ? 1 : 0;
}

export function fill(rt: WebGPURuntime, out: View<GPUBuffer>, value: number): void {
  const bits = storedBits(out.dtype, value);
  // float16 and bfloat16 store their 16 bits; every other dtype is a 4-byte word, written through a u32 view of the buffer.
  const p = out.dtype === 'float16'
    ? program('fill', 1, () => ({ name: 'fill', inputs: [], out: 'f16', operandNames: [], operandConv: [], expr: 'f16_of(u.bits)', resultType: 'raw' }))
    : out.dtype === 'bfloat16'
      ? program('fill', 2, () => ({ name: 'fill', inputs: [], out: 'bf16', operandNames: [], operandConv: [], expr: 'u.bits', resultType: 'raw' }))
      : program('fill', 0, () => ({ name: 'fill', inputs: [], out: 'u32', operandNames: [], operandConv: [], expr: 'u.bits', resultType: 'raw' }));
  launch(rt, p, [], out, (u) => u.u32('bits', bits));
}
