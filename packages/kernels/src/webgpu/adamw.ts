// The fused AdamW step: one dispatch per parameter updates param, m and v in place.
//
// What (as cpu/adamw.ts and torch.optim.AdamW; Loshchilov & Hutter 2019), with t = opts.step:
//   p ← p − lr·wd·p;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//   p ← p − lr · (m / (1−β1^t)) / (√(v / (1−β2^t)) + eps)
// The bias corrections are computed once on the CPU in float64 and passed in the uniforms.
// Layout: param, grad, m, v are float32 views of one shape, contiguous as core allocates them (any
// offset); non-contiguous views fall back to the strided offsets of strided_codegen.ts.
// Threads: one per element, 128 per workgroup.

import type { AdamWOptions, View } from '../types.js';
import { requireFloat32 } from './kernel_args.js';
import { UniformStruct } from './kernel_args.js';
import { read, readWrite, shader, uniform, type ShaderSource } from './bindings.js';
import type { WebGPURuntime } from './runtime.js';
import { coalesce, numel } from '../geometry.js';
import { isContiguousRun, pushStrided, wgslOffsets } from './strided_codegen.js';
import { dispatch1D, WGSL_LINEAR_WORKGROUP } from './workgroups.js';

const WG = 128;

function wgslAdamW(rank: number, contiguous: boolean, u: UniformStruct): ShaderSource {
  const names = ['p', 'g', 'm', 'v'];
  const offsets = contiguous ? names.map((n) => `  let o_${n} = u.off_${n} + i;`).join('\n') : wgslOffsets(rank, names, 'i');
  return shader([readWrite('param', 'f32'), read('grad', 'f32'), readWrite('m', 'f32'), readWrite('v', 'f32'), uniform(u)], `
${WGSL_LINEAR_WORKGROUP}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * ${WG}u + lid;
  if (i >= u.n) { return; }
${offsets}
  let g = grad[o_g];
  var p = param[o_p];
  p = p - u.lr * u.wd * p;
  let mi = u.b1 * m[o_m] + (1.0 - u.b1) * g;
  let vi = u.b2 * v[o_v] + (1.0 - u.b2) * g * g;
  p = p - (u.lr * (mi / u.bc1)) / (sqrt(vi / u.bc2) + u.eps);
  param[o_p] = p;
  m[o_m] = mi;
  v[o_v] = vi;
}
`);
}

export function adamw(rt: WebGPURuntime, param: View<GPUBuffer>, grad: View<GPUBuffer>, m: View<GPUBuffer>, v: View<GPUBuffer>, opts: AdamWOptions): void {
  requireFloat32('adamw', param.dtype, grad.dtype, m.dtype, v.dtype);
  const n = numel(param.shape);
  if (n === 0) return;
  const views = [param, grad, m, v];
  const names = ['p', 'g', 'm', 'v'];
  const c = coalesce(param.shape, views.map((x) => x.strides));
  const contiguous = c.strides.every((s) => isContiguousRun(c.shape, s));
  const u = new UniformStruct();
  u.u32('n', n).f32('lr', opts.lr).f32('wd', opts.weightDecay).f32('b1', opts.beta1).f32('b2', opts.beta2).f32('eps', opts.eps)
    .f32('bc1', 1 - Math.pow(opts.beta1, opts.step)).f32('bc2', 1 - Math.pow(opts.beta2, opts.step));
  if (contiguous) views.forEach((x, k) => u.u32(`off_${names[k]}`, x.offset));
  else pushStrided(u, c.shape, views.map((x, k) => ({ name: names[k]!, strides: c.strides[k]!, offset: x.offset })));
  const rank = contiguous ? 1 : c.shape.length;
  const p = rt.pipeline(`adamw.${contiguous ? 'contig' : `strided.r${rank}`}`, () => wgslAdamW(rank, contiguous, u));
  rt.dispatch(p, [param.buffer, grad.buffer, m.buffer, v.buffer], u.bytes(), dispatch1D(n, WG), 'adamw');
}
