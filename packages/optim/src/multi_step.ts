// The multi-tensor AdamW step of AdamW and Adam: core's `adamwStepMulti_` once per device among the
// step's parameters (once in all, unless an optimizer holds parameters on several devices), and the
// moment buffers it reads, stored flat on WebGPU.
//
// Flat moments: on WebGPU the multi-tensor kernel binds each distinct buffer once, so with every
// parameter's expAvg a view into one buffer (and expAvgSq into another) a parameter costs two of
// the device's storage bindings (param, grad) instead of four: 7 parameters per dispatch instead of
// 4 where 16 bindings are offered. `packMoments` allocates the moments of the parameters that have
// none (their first step, or after `loadStateDict`, which restores them as separate tensors) as
// views into new flat tensors, one per moment, dtype and device, each at most the device's largest
// storage binding; a moment that existed is copied in and disposed. The flat tensor itself is not
// held: its storage lives while any view does. The cpu kernels take one parameter at a time, so
// there the moments stay separate tensors.
import {
  adamwStepMulti_, keep, narrow, tidy, view, webgpuRuntime, zeros, type AdamWStepItem, type Tensor,
} from '@webgrad/core';
import type { ParamState } from './optimizer.js';

/** `adamwStepMulti_` on the items, one call per device, in order of each device's first item. */
export function adamwStepPerDevice(items: readonly AdamWStepItem[]): void {
  const byDevice = new Map<string, AdamWStepItem[]>();
  for (const it of items) {
    const list = byDevice.get(it.param.device);
    if (list) list.push(it); else byDevice.set(it.param.device, [it]);
  }
  for (const list of byDevice.values()) adamwStepMulti_(list);
}

/**
 * The updates whose parameter shares its storage with another update's (views of one tensor
 * registered as separate parameters), and the others. The shared ones must be stepped one at a
 * time, in order, as a per-parameter loop does: each reads what the previous one wrote.
 */
export function splitShared<U extends { param: Tensor }>(updates: readonly U[]): { apart: U[]; shared: U[] } {
  const users = new Map<unknown, number>();
  for (const u of updates) users.set(u.param.storage, (users.get(u.param.storage) ?? 0) + 1);
  const apart: U[] = [], shared: U[] = [];
  for (const u of updates) ((users.get(u.param.storage) ?? 0) > 1 ? shared : apart).push(u);
  return { apart, shared };
}

/** State tensors `packMoments` placed (flat views, or a tensor too large to share a buffer). */
const packed = new WeakSet<Tensor>();

const BYTES: Record<string, number> = { float32: 4, float16: 2, bfloat16: 2 };

/** Gives every WebGPU parameter of `updates` its `names` state tensors as views into flat buffers (see the header); others are left alone. */
export function packMoments(updates: readonly { param: Tensor; state: ParamState }[], names: readonly string[]): void {
  const groups = new Map<string, { param: Tensor; state: ParamState }[]>();
  for (const u of updates) {
    if (u.param.device !== 'webgpu' || BYTES[u.param.dtype] === undefined) continue;
    if (names.every((n) => { const b = u.state.buffers[n]; return b !== undefined && packed.has(b) && !b.isDisposed; })) continue;
    const key = u.param.dtype;
    const list = groups.get(key);
    if (list) list.push(u); else groups.set(key, [u]);
  }
  if (groups.size === 0) return;
  const limits = webgpuRuntime()?.limits;
  const maxBytes = limits ? Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) : 2 ** 27;
  for (const list of groups.values()) {
    const maxElements = Math.floor(maxBytes / BYTES[list[0]!.param.dtype]!);
    // Chunks of consecutive parameters whose moments fit one buffer.
    let chunk: { param: Tensor; state: ParamState }[] = [];
    let size = 0;
    for (const u of list) {
      if (chunk.length > 0 && size + u.param.size > maxElements) { packChunk(chunk, names); chunk = []; size = 0; }
      chunk.push(u);
      size += u.param.size;
    }
    packChunk(chunk, names);
  }
}

function packChunk(chunk: readonly { param: Tensor; state: ParamState }[], names: readonly string[]): void {
  const total = chunk.reduce((a, u) => a + u.param.size, 0);
  const { dtype, device } = chunk[0]!.param;
  tidy(() => {
    for (const name of names) {
      const flat = zeros([total], { dtype, device });
      let at = 0;
      for (const { param, state } of chunk) {
        const t = keep(view(narrow(flat, 0, at, param.size), param.shape));
        at += param.size;
        const old = state.buffers[name];
        if (old && !old.isDisposed) { t.copy_(old); old.dispose(); }
        state.buffers[name] = t;
        packed.add(t);
      }
    }
  });
}
