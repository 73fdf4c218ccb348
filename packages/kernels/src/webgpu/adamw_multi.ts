// The multi-tensor AdamW step (as PyTorch's foreach/fused AdamW): many parameters updated in one
// dispatch, each with its own hyperparameters, each element computed exactly as adamw.ts computes
// it (the same f32 operations in the same order), so results are bit-identical to one `adamw`
// dispatch per parameter.
//
// Bindings: WGSL cannot index bindings dynamically, so the shader is generated for a group of
// items with a fixed binding map. The GPUBuffers of a group's param, grad, m and v views are bound
// once each (b0, b1, …; several views in one buffer, e.g. moments stored flat, share a binding),
// and a group takes items in order while its distinct buffers fit the device's
// maxStorageBuffersPerShaderStage (and at most 32 items): WebGPU's default of 8 holds two items
// of four buffers each, lavapipe's 16 four; with the moments flat, three and seven. A binding
// any item writes is read_write (atomic<u32> for bfloat16, half_wgsl.ts); each binding has one
// storage (f32, f16 or bf16), so an item that would read a buffer as another dtype starts a new
// group. The pipeline is cached by the binding map and storages.
//
// Layout: a 1-D launch over the items' workgroups laid end to end: item j owns workgroups
// [w_j, w_j + ⌈n_j / 128⌉), found by a chain of comparisons with the uniforms w_1 … w_{k−1}; one
// thread per element, 128 per workgroup, as adamw.ts. The uniform struct holds, per item, its size,
// first workgroup, the four element offsets and the step's constants (computed on the CPU in
// float64 as adamw.ts does).
// Items whose views are not contiguous take adamw.ts one by one; empty items launch nothing.

import type { AdamWItem, View } from '../types.js';
import { halfElement, wgslHalfHelpers, wgslLoadFn, wgslStoreFn } from './half_wgsl.js';
import { rowStorage, type RowStorage } from './softmax.js';
import { UniformStruct } from './kernel_args.js';
import { read, readWrite, shader, uniform, type ShaderSource } from './bindings.js';
import type { WebGPURuntime } from './runtime.js';
import { coalesce, numel } from '../geometry.js';
import { isContiguousRun } from './strided_codegen.js';
import { splitWorkgroups, WGSL_LINEAR_WORKGROUP } from './workgroups.js';
import { adamw } from './adamw.js';

const WG = 128;
/** Items per dispatch at most, however many share bindings (bounds the shader and its uniforms). */
const MAX_ITEMS = 32;
const ROLES = ['param', 'grad', 'm', 'v'] as const;

interface Binding { buffer: GPUBuffer; storage: RowStorage; written: boolean }
/** A group: its bindings, and per item the binding index of param, grad, m, v. */
interface Group { bindings: Binding[]; items: AdamWItem<GPUBuffer>[]; maps: number[][] }

export interface AdamWMultiOptions {
  /** Storage buffers one dispatch may bind (default: the device's maxStorageBuffersPerShaderStage; at least 4). */
  maxStorageBindings?: number;
  /** Items one dispatch may hold (default and most 32). */
  maxItems?: number;
}

/** `adamw` on every item, as few dispatches as the binding limit allows (see the header). */
export function adamwMulti(rt: WebGPURuntime, items: readonly AdamWItem<GPUBuffer>[], opts: AdamWMultiOptions = {}): void {
  const limit = opts.maxStorageBindings ?? rt.limits.maxStorageBuffersPerShaderStage;
  if (!(Number.isInteger(limit) && limit >= 4)) throw new RangeError(`adamwMulti: maxStorageBindings must be an integer ≥ 4 (one item binds up to 4 buffers), got ${limit}`);
  const maxItems = opts.maxItems ?? MAX_ITEMS;
  if (!(Number.isInteger(maxItems) && maxItems >= 1 && maxItems <= MAX_ITEMS)) throw new RangeError(`adamwMulti: maxItems must be an integer in [1, ${MAX_ITEMS}], got ${maxItems}`);
  let group: Group | null = null;
  for (const it of items) {
    const views = [it.param, it.grad, it.m, it.v];
    const st = views.map((x, k) => rowStorage('adamw', ROLES[k]!, x.dtype));
    const n = numel(it.param.shape);
    if (n === 0) continue;
    const c = coalesce(it.param.shape, views.map((x) => x.strides));
    if (!c.strides.every((s) => isContiguousRun(c.shape, s))) {
      adamw(rt, it.param, it.grad, it.m, it.v, it.opts);
      continue;
    }
    if (group && (group.items.length >= maxItems || !place(group, views, st, limit))) {
      launch(rt, group);
      group = null;
    }
    group ??= { bindings: [], items: [], maps: [] };
    // An item alone fits unless its own views read one buffer as two dtypes: it takes adamw.
    if (group.items.length === 0 && !place(group, views, st, limit)) {
      adamw(rt, it.param, it.grad, it.m, it.v, it.opts);
      continue;
    }
    group.items.push(it);
  }
  if (group && group.items.length > 0) launch(rt, group);
}

/** Adds the item's views to the group's bindings if they fit (same storage where a buffer is already bound, at most `limit` buffers); false, leaving the group unchanged, if not. */
function place(g: Group, views: readonly View<GPUBuffer>[], st: readonly RowStorage[], limit: number): boolean {
  const added: Binding[] = [];
  const map: number[] = [];
  for (let k = 0; k < 4; k++) {
    const all = [...g.bindings, ...added];
    let j = all.findIndex((b) => b.buffer === views[k]!.buffer);
    if (j >= 0 && all[j]!.storage !== st[k]) return false;
    if (j < 0) {
      j = all.length;
      added.push({ buffer: views[k]!.buffer, storage: st[k]!, written: false });
    }
    map.push(j);
  }
  if (g.bindings.length + added.length > limit) return false;
  g.bindings.push(...added);
  map.forEach((j, k) => { if (k !== 1) g.bindings[j]!.written = true; });
  g.maps.push(map);
  return true;
}

function launch(rt: WebGPURuntime, g: Group): void {
  const u = new UniformStruct();
  let w = 0;
  g.items.forEach((it, j) => {
    const o = it.opts;
    const n = numel(it.param.shape);
    u.u32(`n${j}`, n).u32(`w${j}`, w).u32(`op${j}`, it.param.offset).u32(`og${j}`, it.grad.offset).u32(`om${j}`, it.m.offset).u32(`ov${j}`, it.v.offset)
      .f32(`lr${j}`, o.lr).f32(`wd${j}`, o.weightDecay).f32(`b1_${j}`, o.beta1).f32(`b2_${j}`, o.beta2).f32(`c1_${j}`, 1 - o.beta1).f32(`c2_${j}`, 1 - o.beta2)
      .f32(`eps${j}`, o.eps).f32(`bc1_${j}`, 1 - Math.pow(o.beta1, o.step)).f32(`bc2_${j}`, 1 - Math.pow(o.beta2, o.step));
    w += Math.ceil(n / WG);
  });
  const key = `adamw.multi.${g.bindings.map((b) => b.storage + (b.written ? 'w' : 'r')).join(',')}.${g.maps.map((m) => m.join('-')).join('.')}`;
  const p = rt.pipeline(key, () => wgslAdamWMulti(g, u));
  rt.dispatch(p, g.bindings.map((b) => b.buffer), u.bytes(), splitWorkgroups(w), 'adamw.multi');
}

/** One function per item (adamw.ts's body on the item's bindings and uniforms), and the workgroup → item chain. */
function wgslAdamWMulti(g: Group, u: UniformStruct): ShaderSource {
  const access = wgslHalfHelpers(g.bindings.map((b) => b.storage)) + g.bindings.map((b, j) =>
    wgslLoadFn(`ld_b${j}`, `b${j}`, b.storage, b.written) + (b.written ? wgslStoreFn(`st_b${j}`, `b${j}`, b.storage) : '')).join('');
  const fns = g.maps.map(([bp, bg, bm, bv], j) => `
fn item${j}(i: u32) {
  if (i >= u.n${j}) { return; }
  let o_p = u.op${j} + i;
  let o_g = u.og${j} + i;
  let o_m = u.om${j} + i;
  let o_v = u.ov${j} + i;
  let g = ld_b${bg}(o_g);
  var p = ld_b${bp}(o_p);
  p = p - u.lr${j} * u.wd${j} * p;
  let mi = u.b1_${j} * ld_b${bm}(o_m) + u.c1_${j} * g;
  let vi = u.b2_${j} * ld_b${bv}(o_v) + u.c2_${j} * g * g;
  p = p - (u.lr${j} * (mi / u.bc1_${j})) / (sqrt(vi / u.bc2_${j}) + u.eps${j});
  st_b${bp}(o_p, p);
  st_b${bm}(o_m, mi);
  st_b${bv}(o_v, vi);
}`).join('\n');
  const k = g.items.length;
  const chain = Array.from({ length: k }, (_, j) => {
    const call = `item${j}((w - u.w${j}) * ${WG}u + lid);`;
    if (k === 1) return `  ${call}`;
    if (j === 0) return `  if (w < u.w1) { ${call} }`;
    return j < k - 1 ? `  else if (w < u.w${j + 1}) { ${call} }` : `  else { ${call} }`;
  }).join('\n');
  return shader([...g.bindings.map((b, j) => (b.written ? readWrite(`b${j}`, halfElement(b.storage, true)) : read(`b${j}`, halfElement(b.storage, false)))), uniform(u)], `${access}
${WGSL_LINEAR_WORKGROUP}
${fns}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let w = linear_workgroup(wid, nwg);
${chain}
}
`);
}
