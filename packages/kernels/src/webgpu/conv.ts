// Convolution lowering and 2-D pooling on the GPU: im2col, col2im, pool2d (max/avg), pool2dBackward.
//
// What (as cpu/conv.ts, the ground truth): images are [N, C, H, W]; geometry gives kernel (kh, kw),
// stride (sh, sw), padding (ph, pw), dilation (dh, dw); output position (oh, ow) with tap (i, j)
// reads input pixel h = oh·sh − ph + i·dh, w = ow·sw − pw + j·dw.
// - im2col: cols [N, C·kh·kw, Ho·Wo], row (c·kh + i)·kw + j, column oh·Wo + ow; padding reads 0.
// - col2im: its adjoint: dx[n, c, h, w] = Σ of the column entries that were read from (h, w).
// - pool2d max: padding is −∞; out is the window max, argmax (int32) the flat index h·W + w in the
//   (n, c) input plane of the first maximum in tap order (a NaN wins, like PyTorch); a window wholly
//   in the padding gives −∞ and argmax −1. avg: the in-image sum over the number of taps inside the
//   padded image (count_include_pad).
// - pool2dBackward: dx gets dy at argmax (max) or dy / divisor at every in-image tap (avg).
//
// Layout: every view is addressed through its offset and strides (core passes contiguous tensors,
// possibly at a non-zero offset). Images, columns, outputs and gradients are float32, float16 or
// bfloat16 storage, each a parameter of the WGSL and the pipeline key (converted to f32 on load,
// sums in f32, rounded to nearest-even on store, half_wgsl.ts); argmax is int32.
//
// Why one invocation per output element and no workgroup tiling: these kernels move data rather
// than compute — each output element reads at most kh·kw inputs and does no more arithmetic than
// that — so the cost is memory traffic, and consecutive invocations take consecutive elements of the
// innermost output dim (ow, or w for the backward kernels), which makes their reads and writes walk
// memory together. The two adjoint kernels are written as gathers, not scatters: col2im and
// pool2dBackward give each *input* pixel one invocation that visits the (at most kh·kw) outputs whose
// windows cover it — oh = (h + ph − i·dh) / sh must be a whole number in [0, Ho) — and sums their
// contributions. Every dx element has exactly one writer, so there are no atomics (WGSL has no float
// atomics), the result is deterministic, and dx need not be zeroed first: every element is written.

import { numel } from '../geometry.js';
import type { Conv2dGeometry, View } from '../types.js';
import { WebGPUDTypeError } from './errors.js';
import { halfElement, wgslHalfHelpers, wgslLoadFn, wgslStoreFn, type HalfStorage } from './half_wgsl.js';
import { rowStorage } from './softmax.js';
import { UniformStruct } from './kernel_args.js';
import { read, readWrite, shader, uniform, type ShaderSource, type StorageBinding } from './bindings.js';
import type { WebGPURuntime } from './runtime.js';
import { dispatch1D, WGSL_LINEAR_WORKGROUP } from './workgroups.js';

const WG = 64;

/** Storage of the float arrays by binding name (X, COLS, DX, Y, DY). */
type Storages = Readonly<Record<string, HalfStorage>>;
const key = (st: Storages): string => Object.entries(st).map(([n, s]) => `${n}:${s}`).join(',');

/** Bindings of the float arrays `reads` then `writes` (storage from `st`), and their accessors ld_<name>(i) / st_<name>(i, v). */
function floatArrays(st: Storages, reads: string[], writes: string[]): { entries: StorageBinding[]; access: string } {
  const entries = [...reads.map((n) => read(n, halfElement(st[n]!, false))), ...writes.map((n) => readWrite(n, halfElement(st[n]!, true)))];
  const access = wgslHalfHelpers(Object.values(st)) + reads.map((n) => wgslLoadFn(`ld_${n}`, n, st[n]!)).join('') +
    writes.map((n) => wgslStoreFn(`st_${n}`, n, st[n]!)).join('');
  return { entries, access };
}

function requireDType(op: string, v: View<GPUBuffer>, want: 'int32', what: string): void {
  if (v.dtype !== want) {
    throw new WebGPUDTypeError(`${op}: the WebGPU backend needs ${what} of dtype ${want}, got ${v.dtype}` +
      (v.dtype === 'float64' ? ' (WGSL has no f64; cast to float32 or use the cpu backend)' : ''));
  }
}

function outSize(size: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/** Geometry uniforms, shared by every kernel here. `image` is [N, C, H, W]. */
function geometryUniforms(image: readonly number[], g: Conv2dGeometry, count: number): UniformStruct {
  const [N, C, H, W] = image as [number, number, number, number];
  const [kh, kw] = g.kernel, [sh, sw] = g.stride, [ph, pw] = g.padding, [dh, dw] = g.dilation;
  const Ho = Math.max(0, outSize(H, kh, sh, ph, dh)), Wo = Math.max(0, outSize(W, kw, sw, pw, dw));
  return new UniformStruct()
    .u32('numel', count).u32('N', N).u32('C', C).i32('H', H).i32('W', W).i32('Ho', Ho).i32('Wo', Wo)
    .i32('kh', kh).i32('kw', kw).i32('sh', sh).i32('sw', sw).i32('ph', ph).i32('pw', pw).i32('dh', dh).i32('dw', dw);
}

/** Helpers and the start of `main` (e = this invocation's element, bounds-checked); follows the bindings. */
function header(helpers = ''): string {
  return `${WGSL_LINEAR_WORKGROUP}
fn neg_inf() -> f32 { var bits = 0xff800000u; return bitcast<f32>(bits); }
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
${helpers}@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let e = linear_workgroup(wid, nwg) * ${WG}u + lid;
  if (e >= u.numel) { return; }`;
}

/** WGSL: decode e as (n, c, y, x) of a row-major [N, C, Y, X] (Y, X are i32 uniforms). */
function decode4(Y: string, X: string): string {
  return `  let xx = i32(e % u32(${X})); let yy = i32((e / u32(${X})) % u32(${Y}));
  let nc = e / (u32(${X}) * u32(${Y})); let c = nc % u.C; let n = nc / u.C;`;
}

/** WGSL: the avg-pool divisor of output (oh, ow): taps inside the padded image. */
const WGSL_AVG_DIVISOR = `fn avg_divisor(oh: i32, ow: i32) -> f32 {
  var rows = 0; var cols = 0;
  for (var i = 0; i < u.kh; i++) { let h = oh * u.sh - u.ph + i * u.dh; if (h >= -u.ph && h < u.H + u.ph) { rows++; } }
  for (var j = 0; j < u.kw; j++) { let w = ow * u.sw - u.pw + j * u.dw; if (w >= -u.pw && w < u.W + u.pw) { cols++; } }
  return f32(rows * cols);
}
`;

// ---- im2col / col2im ----------------------------------------------------------------------------

function wgslIm2col(u: UniformStruct, st: Storages): ShaderSource {
  const { entries, access } = floatArrays(st, ['X'], ['COLS']);
  return shader([...entries, uniform(u)], `${header(access)}
  // e walks cols [N, C·kh·kw, Ho·Wo] row-major: consecutive invocations take consecutive ow.
  let L = u32(u.Ho * u.Wo); let KK = u32(u.kh * u.kw);
  let p = e % L; let row = (e / L) % (u.C * KK); let n = e / (L * u.C * KK);
  let c = row / KK; let i = i32((row / u32(u.kw)) % u32(u.kh)); let j = i32(row % u32(u.kw));
  let oh = i32(p) / u.Wo; let ow = i32(p) % u.Wo;
  let h = oh * u.sh - u.ph + i * u.dh; let w = ow * u.sw - u.pw + j * u.dw;
  var v = 0.0;
  if (h >= 0 && h < u.H && w >= 0 && w < u.W) {
    v = ld_X(u.x_off + n * u.x_s0 + c * u.x_s1 + u32(h) * u.x_s2 + u32(w) * u.x_s3);
  }
  st_COLS(u.c_off + n * u.c_s0 + row * u.c_s1 + p * u.c_s2, v);
}
`);
}

function wgslCol2im(u: UniformStruct, st: Storages): ShaderSource {
  const { entries, access } = floatArrays(st, ['COLS'], ['DX']);
  return shader([...entries, uniform(u)], `${header(access)}
${decode4('u.H', 'u.W')}
  // Gather: every (tap, output) pair that read pixel (yy, xx).
  let KK = u32(u.kh * u.kw);
  var s = 0.0;
  for (var i = 0; i < u.kh; i++) {
    let th = yy + u.ph - i * u.dh;
    if (th < 0 || th % u.sh != 0 || th / u.sh >= u.Ho) { continue; }
    let oh = th / u.sh;
    for (var j = 0; j < u.kw; j++) {
      let tw = xx + u.pw - j * u.dw;
      if (tw < 0 || tw % u.sw != 0 || tw / u.sw >= u.Wo) { continue; }
      let ow = tw / u.sw;
      let row = c * KK + u32(i * u.kw + j);
      s += ld_COLS(u.c_off + n * u.c_s0 + row * u.c_s1 + u32(oh * u.Wo + ow) * u.c_s2);
    }
  }
  st_DX(u.x_off + n * u.x_s0 + c * u.x_s1 + u32(yy) * u.x_s2 + u32(xx) * u.x_s3, s);
}
`);
}

// ---- pooling ------------------------------------------------------------------------------------

function wgslPool(op: 'max' | 'avg', u: UniformStruct, st: Storages): ShaderSource {
  const body = op === 'max'
    ? `  var best = neg_inf(); var arg = -1;
  for (var i = 0; i < u.kh; i++) {
    let h = oh * u.sh - u.ph + i * u.dh;
    if (h < 0 || h >= u.H) { continue; }
    for (var j = 0; j < u.kw; j++) {
      let w = ow * u.sw - u.pw + j * u.dw;
      if (w < 0 || w >= u.W) { continue; }
      let v = ld_X(xB + u32(h) * u.x_s2 + u32(w) * u.x_s3);
      // First in-image tap, a strictly larger value, or the first NaN (nothing replaces a NaN).
      if (arg < 0 || (!is_nan(best) && (v > best || is_nan(v)))) { best = v; arg = h * u.W + w; }
    }
  }
  st_Y(yI, best);
  if (u.hasArg != 0u) { A[u.a_off + n * u.a_s0 + c * u.a_s1 + u32(oh) * u.a_s2 + u32(ow) * u.a_s3] = arg; }`
    : `  var s = 0.0;
  for (var i = 0; i < u.kh; i++) {
    let h = oh * u.sh - u.ph + i * u.dh;
    if (h < 0 || h >= u.H) { continue; }
    for (var j = 0; j < u.kw; j++) {
      let w = ow * u.sw - u.pw + j * u.dw;
      if (w < 0 || w >= u.W) { continue; }
      s += ld_X(xB + u32(h) * u.x_s2 + u32(w) * u.x_s3);
    }
  }
  st_Y(yI, s / avg_divisor(oh, ow));`;
  const { entries: floats, access } = floatArrays(st, ['X'], ['Y']);
  const entries = op === 'max' ? [...floats, readWrite('A', 'i32'), uniform(u)] : [...floats, uniform(u)];
  return shader(entries, `${header(access + (op === 'avg' ? WGSL_AVG_DIVISOR : ''))}
${decode4('u.Ho', 'u.Wo')}
  let oh = yy; let ow = xx;
  let xB = u.x_off + n * u.x_s0 + c * u.x_s1;
  let yI = u.y_off + n * u.y_s0 + c * u.y_s1 + u32(oh) * u.y_s2 + u32(ow) * u.y_s3;
${body}
}
`);
}

function wgslPoolBackward(op: 'max' | 'avg', u: UniformStruct, st: Storages): ShaderSource {
  const { access } = floatArrays(st, ['DY'], ['DX']);
  const dy = read('DY', halfElement(st.DY!, false)), dx = readWrite('DX', halfElement(st.DX!, true));
  const entries = op === 'max' ? [dy, read('A', 'i32'), dx, uniform(u)] : [dy, dx, uniform(u)];
  const take = op === 'max'
    ? `if (A[u.a_off + n * u.a_s0 + c * u.a_s1 + u32(oh) * u.a_s2 + u32(ow) * u.a_s3] == me) {
        s += ld_DY(u.y_off + n * u.y_s0 + c * u.y_s1 + u32(oh) * u.y_s2 + u32(ow) * u.y_s3);
      }`
    : `s += ld_DY(u.y_off + n * u.y_s0 + c * u.y_s1 + u32(oh) * u.y_s2 + u32(ow) * u.y_s3) / avg_divisor(oh, ow);`;
  return shader(entries, `${header(access + (op === 'avg' ? WGSL_AVG_DIVISOR : ''))}
${decode4('u.H', 'u.W')}
  let me = yy * u.W + xx;
  // Gather from every output whose window covers (yy, xx); each covers it at most once.
  var s = 0.0;
  for (var i = 0; i < u.kh; i++) {
    let th = yy + u.ph - i * u.dh;
    if (th < 0 || th % u.sh != 0 || th / u.sh >= u.Ho) { continue; }
    let oh = th / u.sh;
    for (var j = 0; j < u.kw; j++) {
      let tw = xx + u.pw - j * u.dw;
      if (tw < 0 || tw % u.sw != 0 || tw / u.sw >= u.Wo) { continue; }
      let ow = tw / u.sw;
      ${take}
    }
  }
  st_DX(u.x_off + n * u.x_s0 + c * u.x_s1 + u32(yy) * u.x_s2 + u32(xx) * u.x_s3, s);
}
`);
}

// ---- launchers ----------------------------------------------------------------------------------

/** x [N, C, H, W] → cols [N, C·kh·kw, Ho·Wo]. */
export function im2col(rt: WebGPURuntime, x: View<GPUBuffer>, g: Conv2dGeometry, cols: View<GPUBuffer>): void {
  const st = { X: rowStorage('im2col', 'x', x.dtype), COLS: rowStorage('im2col', 'cols', cols.dtype) };
  const n = numel(cols.shape);
  if (n === 0) return;
  const u = geometryUniforms(x.shape, g, n);
  u.view('x', x); u.view('c', cols);
  const p = rt.pipeline(`conv.im2col.${key(st)}`, () => wgslIm2col(u, st));
  rt.dispatch(p, [x.buffer, cols.buffer], u.bytes(), dispatch1D(n, WG), 'conv.im2col');
}

/** cols [N, C·kh·kw, Ho·Wo] → dx [N, C, H, W] (the adjoint of im2col; every dx element is written). */
export function col2im(rt: WebGPURuntime, cols: View<GPUBuffer>, g: Conv2dGeometry, dx: View<GPUBuffer>): void {
  const st = { COLS: rowStorage('col2im', 'cols', cols.dtype), DX: rowStorage('col2im', 'dx', dx.dtype) };
  const n = numel(dx.shape);
  if (n === 0) return;
  const u = geometryUniforms(dx.shape, g, n);
  u.view('x', dx); u.view('c', cols);
  const p = rt.pipeline(`conv.col2im.${key(st)}`, () => wgslCol2im(u, st));
  rt.dispatch(p, [cols.buffer, dx.buffer], u.bytes(), dispatch1D(n, WG), 'conv.col2im');
}

/** out [N, C, Ho, Wo] and, for max, the int32 argmax (flat h·W + w) when `argmax` is given. */
export function pool2d(rt: WebGPURuntime, op: 'max' | 'avg', x: View<GPUBuffer>, g: Conv2dGeometry, out: View<GPUBuffer>,
  argmax: View<GPUBuffer> | null): void {
  const st = { X: rowStorage('pool2d', 'x', x.dtype), Y: rowStorage('pool2d', 'out', out.dtype) };
  if (op === 'max' && argmax) requireDType('pool2d', argmax, 'int32', 'argmax');
  const n = numel(out.shape);
  if (n === 0) return;
  const u = geometryUniforms(x.shape, g, n);
  u.view('x', x); u.view('y', out);
  if (op === 'max') {
    // Max pooling without an argmax output writes it into a 4-byte scratch buffer it never reads
    // (two writable bindings of one buffer are not allowed, so out cannot stand in).
    const scratch = argmax ? null : rt.allocate(4);
    u.u32('hasArg', argmax ? 1 : 0);
    u.view('a', argmax ?? { ...out, buffer: scratch!, strides: [0, 0, 0, 0], offset: 0 });
    const p = rt.pipeline(`conv.pool2d.max.${key(st)}`, () => wgslPool('max', u, st));
    rt.dispatch(p, [x.buffer, out.buffer, argmax ? argmax.buffer : scratch!], u.bytes(), dispatch1D(n, WG), 'conv.pool2d.max');
    if (scratch) rt.release(scratch);
  } else {
    const p = rt.pipeline(`conv.pool2d.avg.${key(st)}`, () => wgslPool('avg', u, st));
    rt.dispatch(p, [x.buffer, out.buffer], u.bytes(), dispatch1D(n, WG), 'conv.pool2d.avg');
  }
}

/** dx [N, C, H, W] from dy [N, C, Ho, Wo] (and the forward's argmax for max); every dx element is written. */
export function pool2dBackward(rt: WebGPURuntime, op: 'max' | 'avg', dy: View<GPUBuffer>, argmax: View<GPUBuffer> | null,
  g: Conv2dGeometry, dx: View<GPUBuffer>): void {
  const st = { DY: rowStorage('pool2dBackward', 'dy', dy.dtype), DX: rowStorage('pool2dBackward', 'dx', dx.dtype) };
  if (op === 'max') {
    if (!argmax) throw new Error('pool2dBackward: max pooling needs the argmax from the forward pass');
    requireDType('pool2dBackward', argmax, 'int32', 'argmax');
  }
  const n = numel(dx.shape);
  if (n === 0) return;
  const u = geometryUniforms(dx.shape, g, n);
  u.view('x', dx); u.view('y', dy);
  if (op === 'max') u.view('a', argmax!);
  const bufs = op === 'max' ? [dy.buffer, argmax!.buffer, dx.buffer] : [dy.buffer, dx.buffer];
  const p = rt.pipeline(`conv.pool2d_backward.${op}.${key(st)}`, () => wgslPoolBackward(op, u, st));
  rt.dispatch(p, bufs, u.bytes(), dispatch1D(n, WG), `conv.pool2d_backward.${op}`);
}
