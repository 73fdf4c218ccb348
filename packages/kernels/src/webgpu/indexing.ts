// Indexing kernels: gather, indexSelect, scatterAdd, indexAdd — without float atomics.
//
// What (same semantics as cpu/indexing.ts; `dim` is non-negative, indices are int32):
//   gather:      out[p] = x[p with p[dim] := index[p]]                    (index has out's shape)
//   indexSelect: out[.., j, ..] = x[.., index[j], ..]                      (index 1-D)
//   scatterAdd:  out[p with p[dim] := index[p]] += src[p]  for every position p of index
//   indexAdd:    out[.., index[i], ..] += src[.., i, ..]                   (index 1-D; embedding backward)
//   indexAdd, zeroed: the same into zeros — out is not read, each element's sum starts at 0 (the
//                embedding backward without a fill dispatch before it; equal to it bit for bit)
//   indexAdd, zeroed, addend (float32): out = addend + that sum — the add of a gradient accumulated
//                onto the embedding's (tied weights), bit for bit indexAdd then the add kernel
//   indexSelect, addend (float32): out = the gathered value + addend, element k of out in row-major
//                order taking element k of the addend in its own shape's row-major order (token
//                embeddings [B·T, C] plus positions broadcast as [B, T, C]), bit for bit the add kernel
//
// Threads: always one thread per element of `out`, 128 per workgroup, all views strided (the
// thread's multi-index is decoded from the iteration shape in the uniforms).
// The accumulating kernels are "owner computes": WGSL has no float atomics, so instead of each
// source element adding into its destination, each destination element loops over the index
// entries along `dim`, adds the sources whose index points at it, and writes once. This is
// deterministic (sources are added in ascending order, like the CPU) and needs no atomics, at the
// cost of O(out elements × index length along dim) work — fine for the embedding/scatter sizes of
// small models; a sort-based segmented reduction would be the upgrade for very large vocabularies.
//
// Storage: out and x/src are float32, float16, bfloat16 (read and written in place: converted to
// f32 on load, rounded to nearest-even on store, half_wgsl.ts; sums in f32), int32 or bool (sums
// in i32). A 16-bit gather moves values exactly (the round trip through f32 is exact), but a NaN
// comes out as the format's quiet NaN.
//
// Out-of-range indices: a kernel cannot throw, so it records the first bad index in the runtime's
// error buffer ([count, op code, index, dim size], claimed with atomicAdd) and clamps the read, so
// memory outside the view is never touched. The runtime raises a WebGPUIndexError (a RangeError)
// naming the op and the index when the result, or data computed from it, is read.

import { numel } from '../geometry.js';
import type { View } from '../types.js';
import { gpuStorageDType } from './dtype.js';
import { halfElement, wgslHalfHelpers, wgslLoadFn, wgslStoreFn } from './half_wgsl.js';
import { UniformStruct } from './kernel_args.js';
import { read, readWrite, shader, uniform, type ShaderSource } from './bindings.js';
import type { WebGPURuntime } from './runtime.js';
import { MAX_RANK } from './strided_codegen.js';
import { dispatch1D, WGSL_LINEAR_WORKGROUP } from './workgroups.js';

const WG = 128;
type Mode = 'gather' | 'indexSelect' | 'scatterAdd' | 'indexAdd';
/** Storage of out and of x/src: f32, i32, u32 (bool), f16 (float16), bf16 (bfloat16, two per u32 word). */
type Storage = 'f32' | 'i32' | 'u32' | 'f16' | 'bf16';
const STORAGE: Readonly<Record<string, Storage>> = { float32: 'f32', int32: 'i32', bool: 'u32', float16: 'f16', bfloat16: 'bf16' };
const isHalf = (s: Storage): s is 'f16' | 'bf16' => s === 'f16' || s === 'bf16';

/**
 * WGSL accessors in the arithmetic type `acc` (f32 for float storage, i32 otherwise): ld_<data>(i)
 * of x or src, ld_out(i) when accumulating (out is read and written), st_out(i, a).
 */
function wgslAccess(data: string, sd: Storage, so: Storage, acc: 'f32' | 'i32', accumulate: boolean): string {
  const load = (fn: string, arr: string, s: Storage, written: boolean): string => isHalf(s)
    ? wgslLoadFn(fn, arr, s, written) : `fn ${fn}(i: u32) -> ${acc} { return ${s === acc ? `${arr}[i]` : `${acc}(${arr}[i])`}; }\n`;
  const store = isHalf(so) ? wgslStoreFn('st_out', 'out', so)
    : `fn st_out(i: u32, a: ${acc}) { out[i] = ${so === 'u32' ? 'select(0u, 1u, a != 0)' : so === acc ? 'a' : `${so}(a)`}; }\n`;
  return wgslHalfHelpers([sd, so]) + load(`ld_${data}`, data, sd, false) + (accumulate ? load('ld_out', 'out', so, true) : '') + store;
}

function sum(terms: string[]): string {
  return terms.length ? terms.join(' + ') : '0';
}

/** `addendRank`: -1 without an addend; for indexSelect the rank of the addend's own shape. */
function wgslIndexing(mode: Mode, so: Storage, sd: Storage, rank: number, dim: number, zeroed: boolean, addendRank: number, u: UniformStruct): ShaderSource {
  const addend = addendRank >= 0;
  const dims = [...Array(rank).keys()];
  const decode = [`  var rem = o;`];
  for (let d = rank - 1; d >= 0; d--) {
    decode.push(d > 0 ? `  let c${d} = i32(rem % u.sh${d}); rem = rem / u.sh${d};` : `  let c${d} = i32(rem);`);
  }
  const at = (s: string, skipDim: boolean) => sum(dims.filter((d) => !(skipDim && d === dim)).map((d) => `c${d} * u.${s}${d}`));
  const accumulate = mode === 'scatterAdd' || mode === 'indexAdd';
  const data = isHalf(sd) ? halfElement(sd, false) : sd;
  const plus = addend ? [read('add', 'f32')] : [];
  const inputs = accumulate ? [read('idx', 'i32'), read('src', data), ...plus] : [read('x', data), read('idx', 'i32'), ...plus];
  const acc = so === 'f32' || isHalf(so) ? 'f32' : 'i32';
  let body: string;
  if (mode === 'gather' || mode === 'indexSelect') {
    const idxAt = mode === 'gather' ? `i32(u.off_idx) + ${at('si', false)}` : `i32(u.off_idx) + c${dim} * u.si0`;
    // The addend's element o: o decoded in the addend's own shape (ash, strides sa).
    const addendAt = [`  var ra = o;`, `  var ao = i32(u.off_add);`];
    for (let d = addendRank - 1; d >= 0; d--) {
      addendAt.push(d > 0 ? `  ao += i32(ra % u.ash${d}) * u.sa${d}; ra = ra / u.ash${d};` : `  ao += i32(ra) * u.sa0;`);
    }
    body = `
  let i = idx[u32(${idxAt})];
  let ic = checked(i);
  let v = ld_x(u32(i32(u.off_x) + ${at('sx', true)} + ic * u.sx${dim}));
${addend ? `${addendAt.join('\n')}
  st_out(u32(i32(u.off_out) + ${at('so', false)}), v + add[u32(ao)]);` : `  st_out(u32(i32(u.off_out) + ${at('so', false)}), v);`}`;
  } else {
    const guard = mode === 'scatterAdd'
      ? dims.filter((d) => d !== dim).map((d) => `  if (u32(c${d}) >= u.ish${d}) { return; }`).join('\n')
      : '';
    const idxAt = mode === 'scatterAdd' ? `i32(u.off_idx) + ${at('si', true)} + j * u.si${dim}` : `i32(u.off_idx) + j * u.si0`;
    body = `
${guard}
  let oo = u32(i32(u.off_out) + ${at('so', false)});
  var a: ${acc} = ${zeroed ? `${acc}(0)` : 'ld_out(oo)'};
  let sb = i32(u.off_src) + ${at('ss', true)};
  for (var j = 0; j < i32(u.len); j++) {
    let i = idx[u32(${idxAt})];
    if (checked(i) == c${dim} && i == c${dim}) { a = a + ld_src(u32(sb + j * u.ss${dim})); }
  }
  st_out(oo, ${addend ? `add[u32(i32(u.off_add) + ${at('sa', false)})] + a` : 'a'});`;
  }
  const out = isHalf(so) ? halfElement(so, true) : so;
  return shader([...inputs, readWrite('out', out), readWrite('err', 'atomic<u32>', 4), uniform(u)], `
${wgslAccess(accumulate ? 'src' : 'x', sd, so, acc, accumulate)}${WGSL_LINEAR_WORKGROUP}
// Records the first out-of-range index and returns a safe one.
fn checked(i: i32) -> i32 {
  if (i >= 0 && u32(i) < u.size) { return i; }
  if (atomicAdd(&err[0], 1u) == 0u) {
    atomicStore(&err[1], u.code);
    atomicStore(&err[2], bitcast<u32>(i));
    atomicStore(&err[3], u.size);
  }
  return 0;
}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = linear_workgroup(wid, nwg) * ${WG}u + lid;
  if (o >= u.n) { return; }
${decode.join('\n')}
${body}
}
`);
}

function launch(rt: WebGPURuntime, mode: Mode, dim: number, out: View<GPUBuffer>, index: View<GPUBuffer>,
  data: View<GPUBuffer>, size: number, len: number, zeroed = false, addend: View<GPUBuffer> | null = null): void {
  const so = STORAGE[gpuStorageDType(mode, out.dtype)]!, sd = STORAGE[gpuStorageDType(mode, data.dtype)]!;
  if (index.dtype !== 'int32') throw new TypeError(`${mode}: index must be int32, got ${index.dtype}`);
  const rank = out.shape.length;
  if (rank > MAX_RANK) throw new RangeError(`${mode}: rank ${rank} exceeds ${MAX_RANK}`);
  const n = numel(out.shape);
  if (n === 0) return;
  const accumulate = mode === 'scatterAdd' || mode === 'indexAdd';
  const u = new UniformStruct();
  u.u32('n', n).u32('size', size).u32('len', len).u32('code', rt.errorCode(mode));
  u.u32('off_out', out.offset).u32('off_idx', index.offset).u32(accumulate ? 'off_src' : 'off_x', data.offset);
  out.shape.forEach((s, d) => u.u32(`sh${d}`, s));
  out.strides.forEach((s, d) => u.i32(`so${d}`, s));
  index.strides.forEach((s, d) => u.i32(`si${d}`, s));
  data.strides.forEach((s, d) => u.i32(accumulate ? `ss${d}` : `sx${d}`, s));
  if (mode === 'scatterAdd') index.shape.forEach((s, d) => u.u32(`ish${d}`, s));
  if (addend) {
    if (mode === 'indexAdd') {
      if (!zeroed || so !== 'f32' || sd !== 'f32' || addend.dtype !== 'float32') throw new TypeError(`${mode}: an addend takes zeroed and float32 out, src and addend`);
    } else if (so !== 'f32' || sd !== 'f32' || addend.dtype !== 'float32' || numel(addend.shape) !== n || addend.shape.length > MAX_RANK) {
      throw new TypeError(`${mode}: an addend takes float32 x, out and addend, the addend with out's number of elements`);
    }
    u.u32('off_add', addend.offset);
    addend.strides.forEach((s, d) => u.i32(`sa${d}`, s));
    if (mode === 'indexSelect') addend.shape.forEach((s, d) => u.u32(`ash${d}`, s));
  }
  const addendRank = addend === null ? -1 : mode === 'indexSelect' ? addend.shape.length : rank;
  const key = `index.${mode}${zeroed ? '.zeroed' : ''}${addend ? `.addend${addendRank}` : ''}.${sd}>${so}.r${rank}.d${dim}`;
  const p = rt.pipeline(key, () => wgslIndexing(mode, so, sd, rank, dim, zeroed, addendRank, u));
  const first = accumulate ? index.buffer : data.buffer;
  const second = accumulate ? data.buffer : index.buffer;
  // Bindings: indexAdd (idx, src[, add], out, err); gather, indexSelect (x, idx[, add], out, err).
  rt.dispatch(p, [first, second, ...(addend ? [addend.buffer] : []), out.buffer, rt.errorBuffer], u.bytes(), dispatch1D(n, WG), mode);
}

export function gather(rt: WebGPURuntime, x: View<GPUBuffer>, dim: number, index: View<GPUBuffer>, out: View<GPUBuffer>): void {
  launch(rt, 'gather', dim, out, index, x, x.shape[dim]!, 0);
}

/** With an addend (float32, as many elements as out, any shape and strides): out = the gathered values + addend, element by element in row-major order. */
export function indexSelect(rt: WebGPURuntime, x: View<GPUBuffer>, dim: number, index: View<GPUBuffer>, out: View<GPUBuffer>,
  addend: View<GPUBuffer> | null = null): void {
  launch(rt, 'indexSelect', dim, out, index, x, x.shape[dim]!, 0, false, addend);
}

export function scatterAdd(rt: WebGPURuntime, out: View<GPUBuffer>, dim: number, index: View<GPUBuffer>, src: View<GPUBuffer>): void {
  launch(rt, 'scatterAdd', dim, out, index, src, out.shape[dim]!, index.shape[dim] ?? 0);
}

/** With `zeroed`, out is written as zeros plus the added slices without being read (no fill before it);
 *  with an addend as well, as addend + that sum. */
export function indexAdd(rt: WebGPURuntime, out: View<GPUBuffer>, dim: number, index: View<GPUBuffer>, src: View<GPUBuffer>, zeroed = false,
  addend: View<GPUBuffer> | null = null): void {
  launch(rt, 'indexAdd', dim, out, index, src, out.shape[dim]!, index.shape[0] ?? 0, zeroed, addend);
}
