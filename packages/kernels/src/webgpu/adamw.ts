// The fused AdamW step: one dispatch updates one parameter's param, m and v in place (adamw_multi.ts
// updates many parameters per dispatch, element for element as here).
//
// What (as cpu/adamw.ts and torch.optim.AdamW; Loshchilov & Hutter 2019), with t = opts.step:
//   p ← p − lr·wd·p;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//   p ← p − lr · (m / (1−β1^t)) / (√(v / (1−β2^t)) + eps)
// The bias corrections and 1−β1, 1−β2 are computed once on the CPU in float64 and passed in the
// uniforms (1 − f32(β2) in the shader would be off by up to 1.3e-5 relative for β2 = 0.999).
// Layout: param, grad, m, v are views of one shape, contiguous as core allocates them (any offset);
// non-contiguous views fall back to the strided offsets of strided_codegen.ts. Each is float32,
// float16 or bfloat16 storage (a parameter of the WGSL and the pipeline key: converted to f32 on
// load, the step in f32, rounded to nearest-even on store, half_wgsl.ts).
// Threads: one per element, 128 per workgroup.

import type { AdamWOptions, View } from '../types.js';
import { halfElement, wgslHalfHelpers, wgslLoadFn, wgslStoreFn } from './half_wgsl.js';
import { rowStorage, type RowStorage } from './softmax.js';
import { UniformStruct } from './kernel_args.js';
import { read, readWrite, shader, uniform, type ShaderSource } from './bindings.js';
import type { WebGPURuntime } from './runtime.js';
import { coalesce, numel } from '../geometry.js';
import { isContiguousRun, pushStrided, wgslOffsets } from './strided_codegen.js';
import { dispatch1D, WGSL_LINEAR_WORKGROUP } from './workgroups.js';

const WG = 128;

/** Storage of param, grad, m, v. */
type Storages = readonly [RowStorage, RowStorage, RowStorage, RowStorage];

function wgslAdamW(rank: number, contiguous: boolean, st: Storages, u: UniformStruct): ShaderSource {
  const names = ['p', 'g', 'm', 'v'];
  const offsets = contiguous ? names.map((n) => `  let o_${n} = u.off_${n} + i;`).join('\n') : wgslOffsets(rank, names, 'i');
  const arrays = ['param', 'grad', 'm', 'v'];
  // ld_<array>(i) for all four (param, m, v are also written: atomic when bfloat16), st_<array>(i, x) for the written three.
  const access = wgslHalfHelpers(st) + arrays.map((a, k) => wgslLoadFn(`ld_${a}`, a, st[k]!, k !== 1) + (k !== 1 ? wgslStoreFn(`st_${a}`, a, st[k]!) : '')).join('');
  return shader([readWrite('param', halfElement(st[0], true)), read('grad', halfElement(st[1], false)),
    readWrite('m', halfElement(st[2], true)), readWrite('v', halfElement(st[3], true)), uniform(u)], `${access}
${WGSL_LINEAR_WORKGROUP}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * ${WG}u + lid;
  if (i >= u.n) { return; }
${offsets}
  let g = ld_grad(o_g);
  var p = ld_param(o_p);
  p = p - u.lr * u.wd * p;
  let mi = u.b1 * ld_m(o_m) + u.c1 * g;
  let vi = u.b2 * ld_v(o_v) + u.c2 * g * g;
  p = p - (u.lr * (mi / u.bc1)) / (sqrt(vi / u.bc2) + u.eps);
  st_param(o_p, p);
  st_m(o_m, mi);
  st_v(o_v, vi);
}
`);
}

export function adamw(rt: WebGPURuntime, param: View<GPUBuffer>, grad: View<GPUBuffer>, m: View<GPUBuffer>, v: View<GPUBuffer>, opts: AdamWOptions): void {
  const st = [param, grad, m, v].map((x, k) => rowStorage('adamw', ['param', 'grad', 'm', 'v'][k]!, x.dtype)) as unknown as Storages;
  const n = numel(param.shape);
  if (n === 0) return;
  const views = [param, grad, m, v];
  const names = ['p', 'g', 'm', 'v'];
  const c = coalesce(param.shape, views.map((x) => x.strides));
  const contiguous = c.strides.every((s) => isContiguousRun(c.shape, s));
  const u = new UniformStruct();
  u.u32('n', n).f32('lr', opts.lr).f32('wd', opts.weightDecay).f32('b1', opts.beta1).f32('b2', opts.beta2).f32('c1', 1 - opts.beta1).f32('c2', 1 - opts.beta2).f32('eps', opts.eps)
    .f32('bc1', 1 - Math.pow(opts.beta1, opts.step)).f32('bc2', 1 - Math.pow(opts.beta2, opts.step));
  if (contiguous) views.forEach((x, k) => u.u32(`off_${names[k]}`, x.offset));
  else pushStrided(u, c.shape, views.map((x, k) => ({ name: names[k]!, strides: c.strides[k]!, offset: x.offset })));
  const rank = contiguous ? 1 : c.shape.length;
  const p = rt.pipeline(`adamw.${contiguous ? 'contig' : `strided.r${rank}`}.${st.join('.')}`, () => wgslAdamW(rank, contiguous, st, u));
  rt.dispatch(p, [param.buffer, grad.buffer, m.buffer, v.buffer], u.bytes(), dispatch1D(n, WG), 'adamw');
}
