// The WebGPU runtime: reads, batching, buffer reuse, pool stability, uniforms, errors, helpers.
import { describe, expect, it } from 'vitest';
import { gpuRuntime } from './gpu_helpers.js';
import { splitWorkgroups, dispatch1D, sizeClass, WGSL_LINEAR_WORKGROUP, WebGPUOutOfMemoryError, gpuDType } from '../src/webgpu/index.js';
import { bindings, read, readWrite, shader, uniform } from '../src/webgpu/index.js';
import { WebGPURuntime } from '../src/webgpu/index.js';

const rt = await gpuRuntime();

// out[i] = x[i] * u.scale + u.bias over u.n elements, with the 2-D workgroup folding; the uniform
// struct is written by hand here (kernels declare theirs from a UniformStruct).
const AXPB = () => shader([read('x', 'f32'), readWrite('out', 'f32'), uniform('U')], /* wgsl */ `
struct U { n: u32, scale: f32, bias: f32, _pad: u32 }
${WGSL_LINEAR_WORKGROUP}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * 64u + lid;
  if (i >= u.n) { return; }
  out[i] = x[i] * u.scale + u.bias;
}`);

function axpb(r: WebGPURuntime, x: GPUBuffer, out: GPUBuffer, n: number, scale: number, bias: number, maxPerDim?: number): void {
  const p = r.pipeline('test.axpb', AXPB);
  const u = new ArrayBuffer(16);
  new Uint32Array(u, 0, 1)[0] = n;
  new Float32Array(u, 4, 2).set([scale, bias]);
  r.dispatch(p, [x, out], u, dispatch1D(n, 64, maxPerDim), 'axpb');
}

describe('WebGPURuntime', () => {
  const r = rt!;

  it('reports adapter info', () => {
    expect(typeof r.info.description).toBe('string');
    expect(typeof r.info.isSoftware).toBe('boolean');
    expect(r.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
  });

  it('reads back the bytes written, at an offset', async () => {
    const b = r.allocate(64);
    const data = Float32Array.from({ length: 16 }, (_, i) => i * 1.5);
    r.write(b, data);
    expect(Array.from(new Float32Array(await r.read(b, 0, 64)))).toEqual(Array.from(data));
    expect(Array.from(new Float32Array(await r.read(b, 8, 12)))).toEqual([3, 4.5, 6]);
    // unaligned byte window
    const bytes = new Uint8Array(await r.read(b, 5, 3));
    expect(Array.from(bytes)).toEqual(Array.from(new Uint8Array(data.buffer, 5, 3)));
    r.release(b);
  });

  it('batches N dispatches into one submit, with distinct uniforms per dispatch', async () => {
    const n = 100;
    const x = r.allocate(n * 4);
    const outs = Array.from({ length: 10 }, () => r.allocate(n * 4));
    r.write(x, Float32Array.from({ length: n }, (_, i) => i));
    r.flush();
    const before = r.stats().submits;
    outs.forEach((o, k) => axpb(r, x, o, n, k, 1));
    expect(r.stats().submits).toBe(before);
    r.flush();
    expect(r.stats().submits).toBe(before + 1);
    for (let k = 0; k < outs.length; k++) {
      const got = new Float32Array(await r.read(outs[k]!, 0, n * 4));
      expect(got[7]).toBe(7 * k + 1);
      expect(got[n - 1]).toBe((n - 1) * k + 1);
    }
    for (const o of outs) r.release(o);
    r.release(x);
  });

  it('tallies the dispatches a function encodes by label, nested tallies counting in the outer one too', () => {
    const x = r.allocate(64 * 4), out = r.allocate(64 * 4);
    const p = r.pipeline('test.axpb', AXPB);
    const u = new Uint32Array([64, 0, 0, 0]);
    const outer = r.tallyDispatches(() => {
      axpb(r, x, out, 64, 1, 0);
      const inner = r.tallyDispatches(() => {
        r.dispatch(p, [x, out], u, [1], 'other');
        r.dispatch(p, [x, out], u, [1], 'other');
        return 7;
      });
      expect(inner.result).toBe(7);
      expect([...inner.counts]).toEqual([['other', 2]]);
      r.dispatch(p, [x, out], u, [0]); // zero workgroups: skipped, not counted
      return 'done';
    });
    expect(outer.result).toBe('done');
    expect(Object.fromEntries(outer.counts)).toEqual({ axpb: 1, other: 2 });
    // Outside a tally nothing is counted, and a throwing function still ends its tally.
    axpb(r, x, out, 64, 1, 0);
    expect(() => r.tallyDispatches(() => { axpb(r, x, out, 64, 1, 0); throw new Error('boom'); })).toThrow('boom');
    expect(r.tallyDispatches(() => axpb(r, x, out, 64, 1, 0)).counts.get('axpb')).toBe(1);
    expect(() => r.tallyDispatches(null as unknown as () => void)).toThrow(/tallyDispatches: fn must be a function, got null/);
    r.release(x); r.release(out);
  });

  it('keeps stream order between dispatches and writes in one batch', async () => {
    const n = 8;
    const a = r.allocate(n * 4), b = r.allocate(n * 4), c = r.allocate(n * 4);
    r.write(a, new Float32Array(n).fill(1));
    axpb(r, a, b, n, 2, 0); // b = 2
    r.write(a, new Float32Array(n).fill(10)); // must land after the dispatch above
    axpb(r, a, c, n, 1, 5); // c = 15
    expect(Array.from(new Float32Array(await r.read(b)).slice(0, n))).toEqual(new Array(n).fill(2));
    expect(Array.from(new Float32Array(await r.read(c)).slice(0, n))).toEqual(new Array(n).fill(15));
    r.release(a); r.release(b); r.release(c);
  });

  it('reuses a released buffer only after its submit completed', async () => {
    const a = r.allocate(1000);
    const z = r.allocate(1000);
    axpb(r, z, a, 250, 1, 1);
    r.release(z);
    r.release(a);
    const b = r.allocate(1000); // a is still in flight: must not be handed out
    expect(b).not.toBe(a);
    await r.sync();
    await new Promise((res) => setTimeout(res, 0));
    const c = r.allocate(1000);
    expect(c).toBe(a);
    r.release(b); r.release(c);
  });

  it('holds pool memory flat over 200 iterations of allocate/dispatch/release', async () => {
    const n = 1000;
    const x = r.allocate(n * 4);
    r.write(x, new Float32Array(n).fill(1));
    const live0 = r.stats().liveBytes;
    let created = 0;
    for (let it = 0; it < 200; it++) {
      const t1 = r.allocate(n * 4), t2 = r.allocate(n * 4);
      axpb(r, x, t1, n, 2, 0);
      axpb(r, t1, t2, n, 3, 0);
      if (it % 20 === 19) {
        const v = new Float32Array(await r.read(t2, 0, 4));
        expect(v[0]).toBe(6);
      }
      r.release(t1); r.release(t2);
      expect(r.stats().liveBytes).toBe(live0);
      if (it === 100) created = r.stats().allocations;
    }
    await r.sync();
    expect(r.stats().allocations).toBe(created); // steady state: no new buffers in the second half
    r.release(x);
  });

  it('splits huge dispatches into x·y workgroups', async () => {
    expect(splitWorkgroups(10)).toEqual([10, 1]);
    expect(splitWorkgroups(65535)).toEqual([65535, 1]);
    const [x, y] = splitWorkgroups(65536);
    expect(x).toBeLessThanOrEqual(65535);
    expect(x * y).toBeGreaterThanOrEqual(65536);
    // exercise the folding on the GPU with an artificially small per-dimension limit
    const n = 1000;
    const a = r.allocate(n * 4), b = r.allocate(n * 4);
    r.write(a, Float32Array.from({ length: n }, (_, i) => i));
    axpb(r, a, b, n, 1, 0, 5); // 16 workgroups folded as [4, 4]
    expect(Array.from(new Float32Array(await r.read(b, 0, n * 4)))).toEqual(Array.from({ length: n }, (_, i) => i));
    r.release(a); r.release(b);
  });

  it('size classes round up by at most 25% above 4 KiB', () => {
    for (const n of [1, 17, 4095, 4097, 10000, 1e6, 123456789]) {
      const c = sizeClass(n);
      expect(c).toBeGreaterThanOrEqual(n);
      if (n > 4096) expect(c).toBeLessThanOrEqual(n * 1.25);
    }
  });

  it('throws a typed out-of-memory error naming the bytes', () => {
    const huge = r.limits.maxBufferSize + 4;
    expect(() => r.allocate(huge)).toThrow(WebGPUOutOfMemoryError);
    expect(() => r.allocate(huge)).toThrow(String(huge));
  });

  it('under a memory limit, frees released buffers for new ones without waiting for the GPU', async () => {
    const small = await WebGPURuntime.create({ memoryLimitBytes: 64 * 1024 });
    try {
      const n = 4096; // 16 KiB of f32: four fit under the limit
      const bufs = Array.from({ length: 4 }, () => small.allocate(n * 4));
      small.write(bufs[0]!, Float32Array.from({ length: n }, (_, i) => i));
      axpb(small, bufs[0]!, bufs[1]!, n, 2, 0);
      axpb(small, bufs[1]!, bufs[2]!, n, 1, 1); // the batch stays open: nothing submitted yet
      expect(() => small.allocate(n * 4)).toThrow(WebGPUOutOfMemoryError);
      // release without flush() or sync(): the buffers are used by the open batch
      for (const b of [bufs[0]!, bufs[1]!, bufs[3]!]) small.release(b);
      const fresh = [small.allocate(n * 4), small.allocate(n * 4), small.allocate(n * 4)];
      expect(() => small.allocate(n * 4)).toThrow(WebGPUOutOfMemoryError);
      // the work that used the freed buffers ran to completion
      const got = new Float32Array(await small.read(bufs[2]!, 0, n * 4));
      expect(got[0]).toBe(1);
      expect(got[n - 1]).toBe(2 * (n - 1) + 1);
      // the same after the batch was submitted but before it completed
      axpb(small, bufs[2]!, fresh[0]!, n, 1, 0);
      small.flush();
      for (const b of fresh) small.release(b);
      const again = [small.allocate(n * 4), small.allocate(n * 4), small.allocate(n * 4)];
      for (const b of [...again, bufs[2]!]) small.release(b);
      expect(small.stats().liveBytes).toBe(0);
    } finally {
      await small.sync();
      small.destroy();
    }
  });

  it('rejects float64 with a TypeError naming the op', () => {
    expect(() => gpuDType('exp', 'float64')).toThrow(TypeError);
    expect(() => gpuDType('exp', 'float64')).toThrow(/exp/);
  });

  it('surfaces a shader compile error at the next read', async () => {
    const p = r.pipeline('test.broken', () => ({ bindings: bindings([uniform('U')]), code: 'this is not wgsl' }));
    r.dispatch(p, [], new ArrayBuffer(16), [1]);
    const b = r.allocate(16);
    await expect(r.read(b, 0, 16).then(() => r.sync())).rejects.toThrow(/test.broken/);
    r.release(b);
    await r.sync(); // nothing further is reported for the same failure
    // the runtime stays usable after a validation error
    const c = r.allocate(16);
    r.write(c, new Float32Array([1, 2, 3, 4]));
    expect(Array.from(new Float32Array(await r.read(c)))).toEqual([1, 2, 3, 4]);
    r.release(c);
  });

  it('profiles per-label GPU time when timestamp-query is available', async () => {
    if (!r.canProfile) return;
    r.setProfiling(true);
    const a = r.allocate(4096), b = r.allocate(4096);
    axpb(r, a, b, 1024, 1, 0);
    axpb(r, b, a, 1024, 1, 0);
    const prof = await r.profile(true);
    r.setProfiling(false);
    expect(prof['axpb']?.calls).toBe(2);
    expect(prof['axpb']!.gpuMs).toBeGreaterThanOrEqual(0);
    r.release(a); r.release(b);
  });

  it('reuses bind groups, and never one whose buffer was destroyed', async () => {
    const n = 64;
    const x = r.allocate(n * 4), y = r.allocate(n * 4);
    r.write(x, new Float32Array(n).fill(1));
    axpb(r, x, y, n, 2, 0);
    const s0 = r.stats();
    axpb(r, x, y, n, 3, 1); // same buffers and uniform size: the bind group is reused
    const s1 = r.stats();
    expect(s1.bindGroupHits).toBe(s0.bindGroupHits + 1);
    expect(s1.bindGroupMisses).toBe(s0.bindGroupMisses);
    expect(new Float32Array(await r.read(y, 0, 4))[0]).toBe(4);
    // Released, pooled, destroyed by trim, then replaced: the new buffer gets its own bind group.
    r.release(y);
    await r.sync();
    r.trim();
    const z = r.allocate(n * 4);
    const s2 = r.stats();
    axpb(r, x, z, n, 5, 0);
    expect(r.stats().bindGroupMisses).toBe(s2.bindGroupMisses + 1);
    expect(new Float32Array(await r.read(z, 0, 4))[0]).toBe(5);
    r.release(x); r.release(z);
  });

  it('keeps results right when a released buffer comes back for another tensor', async () => {
    const n = 64;
    const x = r.allocate(n * 4);
    r.write(x, Float32Array.from({ length: n }, (_, i) => i));
    for (let it = 0; it < 50; it++) {
      const a = r.allocate(n * 4);
      axpb(r, x, a, n, it, 0);
      const b = r.allocate(n * 4); // may be the buffer released last iteration: it binds as itself
      axpb(r, a, b, n, 1, it);
      r.release(a);
      const v = new Float32Array(await r.read(b, 0, n * 4));
      expect(v[3]).toBe(3 * it + it);
      r.release(b);
    }
    r.release(x);
  });
});
