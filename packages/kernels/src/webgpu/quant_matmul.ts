// WGSL matmuls that read a quantized weight as codes and scales (layout in ../cpu/quant_format.ts):
//   quantMatmul            out [M, N] = x [M, K] · Wᵀ (+ bias)
//   quantMatmulTransposed  out [M, K] = dy [M, N] · W
//
// Forward: one thread per output column n, 64 consecutive n per workgroup (x = ⌈N/64⌉), workgroup
// row y = m (rows beyond the y limit are looped over). A thread walks its W row one packed word at
// a time (8 four-bit or 4 eight-bit codes), decodes the codes and multiplies them with x[m, k]; the
// 64 threads of a workgroup read the same x[m, k] together, so x is fetched once per workgroup
// through the cache. Group sizes are multiples of 8, so a word never straddles two groups: the
// group's partial sum Σ x·decode(q) is multiplied by its scale once, at the group's end.
// Transposed: one thread per output element (m, k), 64 consecutive k per workgroup; the thread
// walks the N rows, reading the one word of each that holds code k.
// Accumulation in f32. x, bias, dy and out are float32, float16 or bfloat16 storage (a parameter of
// the WGSL and the pipeline key: converted to f32 on load, rounded to nearest-even on store,
// half_wgsl.ts); scales are float32. Tiling x through workgroup memory is the next step for large M.

import type { QuantWeightView, View } from '../types.js';
import { NF4_CODEBOOK, codesPerWord, groupsPerRow, wordsPerRow } from '../cpu/quant_format.js';
import { UniformStruct, requireFloat32 } from './kernel_args.js';
import { halfElement, wgslHalfHelpers, wgslLoadFn, wgslStoreFn, type HalfStorage } from './half_wgsl.js';
import { rowStorage } from './softmax.js';
import { read, readWrite, shader, uniform, type ShaderSource } from './bindings.js';
import type { WebGPURuntime } from './runtime.js';
import { MAX_WORKGROUPS_PER_DIM } from './workgroups.js';

const WG = 64;

/** WGSL helpers for one weight layout: the group scale and the decoded code (minus its zero). */
function wgslDecode(w: QuantWeightView<GPUBuffer>): string {
  const cpw = codesPerWord(w.scheme);
  const scale = w.absmaxQ !== null
    ? `  let gi = n * u.gpr + g;
  let b = bitcast<i32>(aux[u.aux_off + (gi >> 2u)] << (24u - 8u * (gi & 3u))) >> 24u;
  return scales[u.s_off + gi / 256u] * f32(b) + u.absmax_offset;`
    : '  return scales[u.s_off + n * u.gpr + g];';
  let decode: string;
  if (w.scheme === 'int8') decode = '  return f32(bitcast<i32>(word << (24u - 8u * j)) >> 24u);';
  else if (w.scheme === 'int4') decode = '  let gi = n * u.gpr + g;\n  return f32(i32((word >> (4u * j)) & 15u) - i32((aux[u.aux_off + (gi >> 3u)] >> (4u * (gi & 7u))) & 15u));';
  else decode = '  return NF4[(word >> (4u * j)) & 15u];';
  return `
const CPW: u32 = ${cpw}u;
var<private> NF4: array<f32, 16> = array<f32, 16>(${Array.from(NF4_CODEBOOK, (v) => (Number.isInteger(v) ? v.toFixed(1) : String(v))).join(', ')});
fn group_scale(n: u32, g: u32) -> f32 {
${scale}
}
fn decode(word: u32, j: u32, n: u32, g: u32) -> f32 {
${decode}
}
`;
}

function weightUniforms(u: UniformStruct, w: QuantWeightView<GPUBuffer>): UniformStruct {
  return u.u32('N', w.rows).u32('K', w.cols).u32('G', w.groupSize).u32('wpr', wordsPerRow(w.scheme, w.cols))
    .u32('gpr', groupsPerRow(w.cols, w.groupSize)).u32('q_off', w.qdata.offset).u32('s_off', w.scales.offset)
    .u32('aux_off', (w.zeros ?? w.absmaxQ)?.offset ?? 0).f32('absmax_offset', w.absmaxOffset);
}

const weightKey = (w: QuantWeightView<GPUBuffer>): string => `${w.scheme}${w.absmaxQ !== null ? '.dq' : ''}`;

/** Storage of the float operands: the input (x or dy), bias (f32 when absent: bound to the scales), out. */
interface Storages { readonly input: HalfStorage; readonly bias: HalfStorage; readonly out: HalfStorage }

/** WGSL: ld_<input>(i), ld_bias(i) and st_out(i, v) for the storages `st`. */
function access(input: string, st: Storages): string {
  return wgslHalfHelpers([st.input, st.bias, st.out]) + wgslLoadFn(`ld_${input}`, input, st.input) +
    (input === 'x' ? wgslLoadFn('ld_bias', 'bias', st.bias) : '') + wgslStoreFn('st_out', 'out', st.out);
}

function forwardShader(w: QuantWeightView<GPUBuffer>, hasBias: boolean, st: Storages, u: UniformStruct): ShaderSource {
  return shader([read('x', halfElement(st.input, false)), read('qdata', 'u32'), read('scales', 'f32'), read('aux', 'u32'),
    read('bias', halfElement(st.bias, false)), readWrite('out', halfElement(st.out, true)), uniform(u)], `
${access('x', st)}${wgslDecode(w)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = wid.x * ${WG}u + lid;
  if (n >= u.N) { return; }
  let row = u.q_off + n * u.wpr;
  for (var m = wid.y; m < u.M; m += nwg.y) {
    let xo = u.x_off + m * u.K;
    var acc = 0.0;
    var part = 0.0;
    var g = 0u;
    for (var wi = 0u; wi < u.wpr; wi++) {
      let k0 = wi * CPW;
      let gw = k0 / u.G;
      if (gw != g) {
        acc += group_scale(n, g) * part;
        part = 0.0;
        g = gw;
      }
      let word = qdata[row + wi];
      let jn = min(CPW, u.K - k0);
      for (var j = 0u; j < jn; j++) {
        part += ld_x(xo + k0 + j) * decode(word, j, n, g);
      }
    }
    acc += group_scale(n, g) * part;
    ${hasBias ? 'acc += ld_bias(u.b_off + n);' : ''}
    st_out(u.o_off + m * u.N + n, acc);
  }
}
`);
}

function transposedShader(w: QuantWeightView<GPUBuffer>, st: Storages, u: UniformStruct): ShaderSource {
  return shader([read('dy', halfElement(st.input, false)), read('qdata', 'u32'), read('scales', 'f32'), read('aux', 'u32'),
    readWrite('out', halfElement(st.out, true)), uniform(u)], `
${access('dy', st)}${wgslDecode(w)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let k = wid.x * ${WG}u + lid;
  if (k >= u.K) { return; }
  let wi = k / CPW;
  let j = k % CPW;
  let g = k / u.G;
  for (var m = wid.y; m < u.M; m += nwg.y) {
    let go = u.dy_off + m * u.N;
    var acc = 0.0;
    for (var n = 0u; n < u.N; n++) {
      let word = qdata[u.q_off + n * u.wpr + wi];
      acc += ld_dy(go + n) * (group_scale(n, g) * decode(word, j, n, g));
    }
    st_out(u.o_off + m * u.K + k, acc);
  }
}
`);
}

/** Checks the weight (float32 scales, group size) and returns the storages of the float operands (a WebGPUDTypeError naming a bad one). */
function checkWeight(op: string, w: QuantWeightView<GPUBuffer>, input: [string, View<GPUBuffer>], bias: View<GPUBuffer> | null, out: View<GPUBuffer>): Storages {
  requireFloat32(op, w.scales.dtype);
  if (w.groupSize % 8 !== 0 && w.groupSize < w.cols) throw new RangeError(`${op}: group size ${w.groupSize} is not a multiple of 8`);
  return { input: rowStorage(op, input[0], input[1].dtype), bias: bias ? rowStorage(op, 'bias', bias.dtype) : 'f32', out: rowStorage(op, 'out', out.dtype) };
}

const storageKey = (st: Storages): string => `${st.input}.${st.bias}.${st.out}`;

export function quantMatmul(rt: WebGPURuntime, x: View<GPUBuffer>, w: QuantWeightView<GPUBuffer>, bias: View<GPUBuffer> | null, out: View<GPUBuffer>): void {
  const st = checkWeight('quantMatmul', w, ['x', x], bias, out);
  const M = x.shape[0]!;
  if (M === 0 || w.rows === 0) return;
  const u = weightUniforms(new UniformStruct().u32('M', M), w)
    .u32('x_off', x.offset).u32('b_off', bias?.offset ?? 0).u32('o_off', out.offset);
  const p = rt.pipeline(`quant_matmul.${weightKey(w)}${bias ? '.bias' : ''}.${storageKey(st)}`, () => forwardShader(w, bias !== null, st, u));
  const aux = (w.zeros ?? w.absmaxQ)?.buffer ?? w.qdata.buffer;
  rt.dispatch(p, [x.buffer, w.qdata.buffer, w.scales.buffer, aux, bias?.buffer ?? w.scales.buffer, out.buffer], u.bytes(),
    [Math.ceil(w.rows / WG), Math.min(M, MAX_WORKGROUPS_PER_DIM)], 'quantMatmul');
}

export function quantMatmulTransposed(rt: WebGPURuntime, dy: View<GPUBuffer>, w: QuantWeightView<GPUBuffer>, out: View<GPUBuffer>): void {
  const st = checkWeight('quantMatmulTransposed', w, ['dy', dy], null, out);
  const M = dy.shape[0]!;
  if (M === 0 || w.cols === 0) return;
  const u = weightUniforms(new UniformStruct().u32('M', M), w).u32('dy_off', dy.offset).u32('o_off', out.offset);
  const p = rt.pipeline(`quant_matmul_t.${weightKey(w)}.${storageKey(st)}`, () => transposedShader(w, st, u));
  const aux = (w.zeros ?? w.absmaxQ)?.buffer ?? w.qdata.buffer;
  rt.dispatch(p, [dy.buffer, w.qdata.buffer, w.scales.buffer, aux, out.buffer], u.bytes(),
    [Math.ceil(w.cols / WG), Math.min(M, MAX_WORKGROUPS_PER_DIM)], 'quantMatmulTransposed');
}
