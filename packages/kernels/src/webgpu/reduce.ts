// Reductions: reduce (sum, prod, max, min over any set of axes) and argReduce (argmax/argmin).
//
// What: out[o] = op over the reduced sub-block of x that maps to output o (keepdim layout: out has
// x's shape with 1 on reduced axes). Semantics match cpu/reduce.ts: empty reductions give the
// identity, max/min propagate NaN, argmax/argmin take the first of ties and the first NaN.
// Accumulation is f32 for float32, float16 and bfloat16 inputs and i32 (wrapping) for int32/bool
// inputs. float16/bfloat16 x and out are read and written in their storage (converted to f32 on load,
// rounded to nearest-even on store, half_wgsl.ts); two-stage partials are f32.
//
// Layout: x and out may be strided. The launcher splits x's dims into kept and reduced ones and
// coalesces each group separately, so the shader sees a kept shape (indexed by the output number o)
// and a reduced shape (indexed by the reduction number r), each with x's strides — contiguous
// trailing axes collapse to one reduced dim of stride 1.
//
// Paths:
// - rows:      one workgroup (128 threads) per output; thread t accumulates r = t, t+128, ... (the
//              loads are coalesced when the reduced axes are the contiguous trailing ones), then a
//              tree reduction in workgroup memory. Used when the reduction has ≥ 64 elements.
// - serial:    one thread per output looping over its reduction: many short reductions (e.g. a
//              column sum over a size-3 axis), any strides.
// - two-stage: when few outputs each reduce a very long row (≥ 2^15 elements; a full sum of 10^6
//              elements), stage 1 launches one rows-workgroup per (output, chunk of 4096) writing
//              partials [outputs, chunks], stage 2 reduces the partials with the rows path.
// argReduce uses the serial path along its single axis.

import type { ReduceOp, View } from '../types.js';
import type { DType } from '../types.js';
import { gpuStorageDType } from './dtype.js';
import { halfElement, wgslHalfHelpers, wgslLoadFn, wgslStoreFn } from './half_wgsl.js';
import { WGSL_MATH } from './elementwise_ops.js';
import { UniformStruct } from './kernel_args.js';
import { read, readWrite, shader, uniform, type ShaderSource } from './bindings.js';
import type { WebGPURuntime } from './runtime.js';
import { coalesce, contiguousStrides, numel } from '../geometry.js';
import { MAX_RANK } from './strided_codegen.js';
import { dispatch1D, splitWorkgroups, WGSL_LINEAR_WORKGROUP } from './workgroups.js';

const WG = 128;
const CHUNK = 4096;
const TWO_STAGE_MIN = 1 << 15;

/** Storage of x and out: f32, i32, u32 (bool), f16 (float16), bf16 (bfloat16, two per u32 word). */
type Storage = 'f32' | 'i32' | 'u32' | 'f16' | 'bf16';
const STORAGE: Readonly<Record<string, Storage>> = { float32: 'f32', int32: 'i32', bool: 'u32', float16: 'f16', bfloat16: 'bf16' };
const isHalf = (s: Storage): s is 'f16' | 'bf16' => s === 'f16' || s === 'bf16';

/** The storage of `dtype`, or a WebGPUDTypeError naming `op` (float64). */
function storageOf(op: string, dtype: DType): Storage {
  return STORAGE[gpuStorageDType(op, dtype)]!;
}

/** WGSL: `fn ldx(i: u32) -> <acc type>`, element i of x converted to the accumulation type. */
function wgslLoadX(xs: Storage, t: 'f32' | 'i32'): string {
  if (isHalf(xs)) return wgslLoadFn('ldx', 'x', xs);
  return `fn ldx(i: u32) -> ${t} { return ${xs === t ? 'x[i]' : `${t}(x[i])`}; }\n`;
}

interface Geometry {
  nout: number;
  nred: number;
  keptShape: number[];
  keptX: number[];
  keptOut: number[];
  redShape: number[];
  redX: number[];
}

/** Splits x's dims into kept and reduced groups (each coalesced). */
function geometry(x: View<GPUBuffer>, out: View<GPUBuffer>, reduced: boolean[]): Geometry {
  const kd = x.shape.map((_, d) => d).filter((d) => !reduced[d]);
  const rd = x.shape.map((_, d) => d).filter((d) => reduced[d]);
  const k = coalesce(kd.map((d) => x.shape[d]!), [kd.map((d) => x.strides[d]!), kd.map((d) => out.strides[d]!)]);
  const r = coalesce(rd.map((d) => x.shape[d]!), [rd.map((d) => x.strides[d]!)]);
  if (k.shape.length > MAX_RANK || r.shape.length > MAX_RANK) throw new RangeError(`reduce: rank above ${MAX_RANK} after merging dims`);
  return {
    nout: numel(k.shape), nred: numel(r.shape),
    keptShape: k.shape, keptX: k.strides[0]!, keptOut: k.strides[1]!,
    redShape: r.shape, redX: r.strides[0]!,
  };
}

/** WGSL computing i32 `<target> += Σ c_d·u.<stride><d>` for `index` over the shape `u.<shape><d>`. */
function decompose(rank: number, shape: string, strides: string[], targets: string[], index: string): string {
  if (rank === 0) return '';
  const lines = [`  { var rem = ${index};`];
  for (let d = rank - 1; d >= 0; d--) {
    const c = d === 0 ? 'rem' : `rem % u.${shape}${d}`;
    lines.push(`    { let c = i32(${c});${d > 0 ? ` rem = rem / u.${shape}${d};` : ''}`);
    strides.forEach((s, k) => lines.push(`      ${targets[k]} += c * u.${s}${d};`));
    lines.push('    }');
  }
  lines.push('  }');
  return lines.join('\n');
}

function pushGeometry(u: UniformStruct, g: Geometry, xOff: number, outOff: number): void {
  u.u32('nout', g.nout).u32('nred', g.nred).u32('off_x', xOff).u32('off_out', outOff);
  g.keptShape.forEach((s, d) => u.u32(`ks${d}`, s));
  g.keptX.forEach((s, d) => u.i32(`kx${d}`, s));
  g.keptOut.forEach((s, d) => u.i32(`ko${d}`, s));
  g.redShape.forEach((s, d) => u.u32(`rs${d}`, s));
  g.redX.forEach((s, d) => u.i32(`rx${d}`, s));
}

function accType(s: Storage): 'f32' | 'i32' {
  return s === 'f32' || isHalf(s) ? 'f32' : 'i32';
}

function identity(op: ReduceOp, t: 'f32' | 'i32'): string {
  if (op === 'sum') return t === 'f32' ? '0.0' : '0';
  if (op === 'prod') return t === 'f32' ? '1.0' : '1';
  if (t === 'f32') return op === 'max' ? '-inf_()' : 'inf_()';
  return op === 'max' ? '(-2147483647 - 1)' : '2147483647';
}

function combineFn(op: ReduceOp, t: 'f32' | 'i32'): string {
  let body: string;
  if (op === 'sum') body = 'a + b';
  else if (op === 'prod') body = 'a * b';
  else if (t === 'i32') body = `${op}(a, b)`;
  else body = `select(select(a, b, b ${op === 'max' ? '>' : '<'} a), b, is_nan(b))`;
  return `fn combine(a: ${t}, b: ${t}) -> ${t} { return ${body}; }`;
}

function storeExpr(t: 'f32' | 'i32', out: 'f32' | 'i32' | 'u32', v: string): string {
  if (out === 'u32') return t === 'f32' ? `select(1u, 0u, ${v} == 0.0)` : `select(0u, 1u, ${v} != 0)`;
  if (out === t) return v;
  return out === 'f32' ? `f32(${v})` : `f2i(${v})`;
}

type Mode = 'rows' | 'serial' | 'stage1';

function wgslReduce(op: ReduceOp, mode: Mode, xs: Storage, outS: Storage, g: Geometry, u: UniformStruct): ShaderSource {
  const t = accType(xs);
  const kr = g.keptShape.length, rr = g.redShape.length;
  // stage1 writes partials[o] (contiguous, acc type); otherwise out at its kept strides.
  const outDecl = mode === 'stage1' ? t : isHalf(outS) ? halfElement(outS, true) : outS;
  const outStore = (v: string): string => mode === 'stage1' ? `out[o] = ${v};`
    : isHalf(outS) ? `sto(u32(ob), ${t === 'f32' ? v : `f32(${v})`});` : `out[u32(ob)] = ${storeExpr(t, outS, v)};`;
  const row = mode === 'stage1' ? 'o / u.chunks' : 'o';
  const range = mode === 'stage1'
    ? '  let r0 = (o % u.chunks) * u.chunk;\n  let r1 = min(r0 + u.chunk, u.nred);'
    : '  let r0 = 0u;\n  let r1 = u.nred;';
  const entries = [read('x', isHalf(xs) ? halfElement(xs, false) : xs), readWrite('out', outDecl), uniform(u)];
  const head = `
${WGSL_MATH}${wgslHalfHelpers([xs, mode === 'stage1' ? t : outS])}${wgslLoadX(xs, t)}${mode !== 'stage1' && isHalf(outS) ? wgslStoreFn('sto', 'out', outS) : ''}
${WGSL_LINEAR_WORKGROUP}
${combineFn(op, t)}
fn x_at(base: i32, r: u32) -> ${t} {
  var a = base;
${decompose(rr, 'rs', ['rx'], ['a'], 'r')}
  return ldx(u32(a));
}
`;
  const bases = `  let row = ${row};
  var xb: i32 = i32(u.off_x);
  var ob: i32 = i32(u.off_out);
${decompose(kr, 'ks', ['kx', 'ko'], ['xb', 'ob'], 'row')}`;
  if (mode === 'serial') {
    return shader(entries, `${head}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = linear_workgroup(wid, nwg) * ${WG}u + lid;
  if (o >= u.nout) { return; }
${bases}
  var acc: ${t} = ${identity(op, t)};
  for (var r = 0u; r < u.nred; r++) { acc = combine(acc, x_at(xb, r)); }
  ${outStore('acc')}
}
`);
  }
  return shader(entries, `${head}
var<workgroup> sh: array<${t}, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = linear_workgroup(wid, nwg);
  if (o >= u.nwork) { return; }
${bases}
${range}
  var acc: ${t} = ${identity(op, t)};
  for (var r = r0 + lid; r < r1; r += ${WG}u) { acc = combine(acc, x_at(xb, r)); }
  sh[lid] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { sh[lid] = combine(sh[lid], sh[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u) { ${outStore('sh[0]')} }
}
`);
}

function normAxes(axes: readonly number[], rank: number): boolean[] {
  const reduced = new Array<boolean>(rank).fill(false);
  for (const a of axes) reduced[a < 0 ? a + rank : a] = true;
  return reduced;
}

function geomKey(g: Geometry): string {
  return `k${g.keptShape.length}r${g.redShape.length}`;
}

export function reduce(rt: WebGPURuntime, op: ReduceOp, x: View<GPUBuffer>, axes: readonly number[], out: View<GPUBuffer>): void {
  const xs = storageOf(`reduce(${op})`, x.dtype);
  const outS = storageOf(`reduce(${op})`, out.dtype);
  const g = geometry(x, out, normAxes(axes, x.shape.length));
  if (g.nout === 0) return;
  const t = accType(xs);

  if (g.nout < 64 && g.nred >= TWO_STAGE_MIN) {
    // Stage 1: partial results [nout, chunks] in acc type.
    const chunks = Math.ceil(g.nred / CHUNK);
    const partial = rt.allocate(g.nout * chunks * 4);
    const u1 = new UniformStruct();
    pushGeometry(u1, g, x.offset, 0);
    u1.u32('nwork', g.nout * chunks).u32('chunks', chunks).u32('chunk', CHUNK);
    const p1 = rt.pipeline(`reduce.${op}.stage1.${xs}.${geomKey(g)}`, () => wgslReduce(op, 'stage1', xs, outS, g, u1));
    rt.dispatch(p1, [x.buffer, partial], u1.bytes(), splitWorkgroups(g.nout * chunks), `reduce.${op}.stage1`);
    // Stage 2: reduce each output's `chunks` partials (a contiguous row) into out.
    const g2: Geometry = {
      nout: g.nout, nred: chunks, keptShape: g.keptShape, keptOut: g.keptOut,
      keptX: contiguousStrides(g.keptShape).map((s) => s * chunks), redShape: [chunks], redX: [1],
    };
    const u2 = new UniformStruct();
    pushGeometry(u2, g2, 0, out.offset);
    u2.u32('nwork', g.nout);
    const p2 = rt.pipeline(`reduce.${op}.rows.${t}>${outS}.${geomKey(g2)}`, () => wgslReduce(op, 'rows', t, outS, g2, u2));
    rt.dispatch(p2, [partial, out.buffer], u2.bytes(), splitWorkgroups(g.nout), `reduce.${op}.stage2`);
    rt.release(partial);
    return;
  }
  const mode: Mode = g.nred >= 64 ? 'rows' : 'serial';
  const u = new UniformStruct();
  pushGeometry(u, g, x.offset, out.offset);
  if (mode === 'rows') u.u32('nwork', g.nout);
  const p = rt.pipeline(`reduce.${op}.${mode}.${xs}>${outS}.${geomKey(g)}`, () => wgslReduce(op, mode, xs, outS, g, u));
  const aliased = x.buffer === out.buffer;
  const src = aliased ? rt.allocate(x.buffer.size) : x.buffer;
  if (aliased) rt.copyBuffer(x.buffer, src, x.buffer.size);
  rt.dispatch(p, [src, out.buffer], u.bytes(), mode === 'rows' ? splitWorkgroups(g.nout) : dispatch1D(g.nout, WG), `reduce.${op}`);
  if (aliased) rt.release(src);
}

function wgslArgReduce(op: 'argmax' | 'argmin', xs: Storage, g: Geometry, u: UniformStruct): ShaderSource {
  const t = accType(xs);
  const better = op === 'argmax' ? 'v > best' : 'v < best';
  const nanTest = t === 'f32' ? 'is_nan' : 'no_nan';
  return shader([read('x', isHalf(xs) ? halfElement(xs, false) : xs), readWrite('out', 'i32'), uniform(u)], `
${WGSL_MATH}${wgslHalfHelpers([xs])}${wgslLoadX(xs, t)}
${WGSL_LINEAR_WORKGROUP}
fn no_nan(v: i32) -> bool { return false; }
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = linear_workgroup(wid, nwg) * ${WG}u + lid;
  if (o >= u.nout) { return; }
  var xb: i32 = i32(u.off_x);
  var ob: i32 = i32(u.off_out);
${decompose(g.keptShape.length, 'ks', ['kx', 'ko'], ['xb', 'ob'], 'o')}
  var best = ldx(u32(xb));
  var bi = 0u;
  for (var r = 1u; r < u.nred; r++) {
    if (${nanTest}(best)) { break; }
    let v = ldx(u32(xb + i32(r) * u.rx0));
    if (${nanTest}(v) || ${better}) { best = v; bi = r; }
  }
  out[u32(ob)] = i32(bi);
}
`);
}

export function argReduce(rt: WebGPURuntime, op: 'argmax' | 'argmin', x: View<GPUBuffer>, axis: number, out: View<GPUBuffer>): void {
  const xs = storageOf(op, x.dtype);
  gpuStorageDType(op, out.dtype);
  const rank = x.shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  if (rank > 0) reduced[axis < 0 ? axis + rank : axis] = true;
  const g = geometry(x, out, reduced);
  if (g.nout === 0) return;
  if (g.redShape.length === 0) { g.redShape = [1]; g.redX = [0]; }
  const u = new UniformStruct();
  pushGeometry(u, g, x.offset, out.offset);
  const p = rt.pipeline(`argReduce.${op}.${xs}.k${g.keptShape.length}`, () => wgslArgReduce(op, xs, g, u));
  rt.dispatch(p, [x.buffer, out.buffer], u.bytes(), dispatch1D(g.nout, WG), op);
}
