// Capture and replay on the WebGPU runtime: a captured sequence replayed N times leaves every
// buffer as running it N times eagerly does (kernels that read their own earlier output, copies,
// writes, index-checked kernels whose errors still surface, batches longer than
// maxDispatchesPerSubmit), and the capture's lifecycle (empty captures, dispose, misuse).
import { afterAll, describe, expect, it } from 'vitest';
import {
  Capture, createWebGPUKernels, dispatch1D, shader, read, readWrite, uniform, WebGPUCaptureError, WebGPUIndexError, WebGPURuntime,
  WGSL_LINEAR_WORKGROUP,
} from '../src/webgpu/index.js';
import { makeView, readView, toGPU } from './gpu_helpers.js';

/** Small enough that the sequences below span several submits. */
const MAX_PER_SUBMIT = 5;
const rt = await WebGPURuntime.create({ maxDispatchesPerSubmit: MAX_PER_SUBMIT });
afterAll(async () => {
  try { await rt.sync(); } finally { rt.destroy(); }
});
const gk = createWebGPUKernels(rt);

// out[i] = x[i] * u.scale + u.bias + sin(x[i]) over u.n elements (nonlinear, so order matters).
const STEP = () => shader([read('x', 'f32'), readWrite('out', 'f32'), uniform('U')], /* wgsl */ `
struct U { n: u32, scale: f32, bias: f32, _pad: u32 }
${WGSL_LINEAR_WORKGROUP}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * 64u + lid;
  if (i >= u.n) { return; }
  out[i] = x[i] * u.scale + u.bias + sin(x[i]);
}`);

function step(x: GPUBuffer, out: GPUBuffer, n: number, scale: number, bias: number): void {
  const u = new ArrayBuffer(16);
  new Uint32Array(u, 0, 1)[0] = n;
  new Float32Array(u, 4, 2).set([scale, bias]);
  rt.dispatch(rt.pipeline('test.capture.step', STEP), [x, out], u, dispatch1D(n, 64), 'step');
}

const N = 37;
const start = Float32Array.from({ length: N }, (_, i) => (i % 7) / 7 - 0.4);
const written = Float32Array.from({ length: N }, (_, i) => 0.25 * i - 3);

/** Buffers a, b, c, w, e of N floats; a starts at `start`, the others at zero. */
function buffers(): GPUBuffer[] {
  const bs = Array.from({ length: 5 }, () => rt.allocate(N * 4));
  bs.forEach((b, i) => rt.write(b, i === 0 ? start : new Float32Array(N)));
  return bs;
}

/** One "training step": a ping-pong pair that reads its own previous output, a copy at offsets, a write read by a kernel. */
function program([a, b, c, w, e]: GPUBuffer[]): void {
  step(a!, b!, N, 0.5, 0.125);
  step(b!, a!, N, 0.75, -0.5); // a now depends on every earlier step
  rt.copyBuffer(a!, c!, 16 * 4, 4 * 4, 8 * 4); // c[8..24) = a[4..20)
  rt.write(w!, written);
  step(w!, e!, N, -1.5, 2);
  step(a!, e!, 9, 1, 0); // overwrites the first 9 elements only
}

async function contents(bs: GPUBuffer[]): Promise<number[][]> {
  const out: number[][] = [];
  for (const b of bs) out.push(Array.from(new Float32Array(await rt.read(b, 0, N * 4))));
  return out;
}

describe('WebGPU capture and replay', () => {
  it('a captured sequence replayed N times equals running it N times (self-dependent kernels, copies, writes, several submits)', async () => {
    const eager = buffers(), captured = buffers();
    const times = 6;
    for (let k = 0; k < times; k++) program(eager);

    const cap = rt.capture(() => program(captured));
    expect(cap).toBeInstanceOf(Capture);
    expect(cap.commands).toBe(6);
    expect(cap.dispatches).toBe(4);
    // clobber the written buffer: the replay's write must restore it before the kernel reads it
    rt.write(captured[3]!, new Float32Array(N).fill(99));
    rt.flush();
    const before = rt.stats();
    for (let k = 1; k < times; k++) cap.replay();
    const after = rt.stats();
    expect(after.dispatches - before.dispatches).toBe(4 * (times - 1));
    // 20 dispatches at 5 per submit: the replay submitted on its own
    expect(after.submits - before.submits).toBeGreaterThanOrEqual(3);
    // replays prepare nothing per dispatch: no bind-group lookups, no new pipelines
    expect([after.bindGroupHits, after.bindGroupMisses, after.pipelines]).toEqual([before.bindGroupHits, before.bindGroupMisses, before.pipelines]);

    const want = await contents(eager), got = await contents(captured);
    expect(got).toEqual(want);
    expect(got[0]).not.toEqual(Array.from(start)); // the sequence did change a
    cap.dispose();
    for (const b of [...eager, ...captured]) rt.release(b);
  });

  it('freezes the uniforms at capture time, whatever the uniform ring holds later', async () => {
    const [x, y, z] = [rt.allocate(N * 4), rt.allocate(N * 4), rt.allocate(N * 4)];
    rt.write(x, start);
    const cap = rt.capture(() => step(x, y, N, 3, 1));
    const want = await contents([y]);
    for (let k = 0; k < 40; k++) step(x, z, N - (k % 5), k, -k); // fills the ring with other uniforms
    rt.write(y, new Float32Array(N));
    cap.replay();
    expect(await contents([y])).toEqual(want);
    cap.dispose();
    [x, y, z].forEach((b) => rt.release(b));
  });

  it('runs chains longer than maxDispatchesPerSubmit in order', async () => {
    const eager = buffers(), captured = buffers();
    const chain = (bs: GPUBuffer[]) => {
      for (let k = 0; k < 23; k++) step(bs[k % 2]!, bs[(k + 1) % 2]!, N, k % 3 === 0 ? 0.9 : 1.1, 0.01 * k);
    };
    chain(eager); chain(eager); chain(eager);
    const cap = rt.capture(() => chain(captured));
    cap.replay(); cap.replay();
    expect(await contents(captured.slice(0, 2))).toEqual(await contents(eager.slice(0, 2)));
    cap.dispose();
    for (const b of [...eager, ...captured]) rt.release(b);
  });

  it('reports an out-of-range index that a replayed index-checked kernel meets, under the captured op name', async () => {
    const table = toGPU(rt, makeView('float32', [4, 3], {}, (i) => i));
    const ids = toGPU(rt, makeView('int32', [2], {}, (i) => [2, 0][i]!));
    const outView = makeView('float32', [2, 3], {}, () => 0);
    const out = toGPU(rt, outView), out2 = toGPU(rt, outView);
    const cap = rt.capture(() => gk.indexSelect(table, 0, ids, out));
    const named = rt.capture(() => rt.reportIndexErrorsAs('embedding', 'the vocabulary', () => gk.indexSelect(table, 0, ids, out2)));
    expect(Array.from(await readView(rt, out, outView))).toEqual([6, 7, 8, 0, 1, 2]);

    rt.write(ids.buffer, new Int32Array([1, 3]));
    cap.replay();
    expect(Array.from(await readView(rt, out, outView))).toEqual([3, 4, 5, 9, 10, 11]);

    rt.write(ids.buffer, new Int32Array([1, 7])); // not captured: the replays read the new ids
    cap.replay();
    named.replay();
    const e = await readView(rt, out, outView).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(WebGPUIndexError);
    expect([(e as WebGPUIndexError).op, (e as WebGPUIndexError).index, (e as WebGPUIndexError).size]).toEqual(['indexSelect', 7, 4]);
    const e2 = await readView(rt, out2, outView).then(() => null, (err: unknown) => err);
    expect((e2 as WebGPUIndexError).op).toBe('embedding');
    expect((e2 as Error).message).toMatch(/the vocabulary/);
    // an unrelated read is not affected
    expect(Array.from(new Int32Array(await rt.read(ids.buffer, 0, 8)))).toEqual([1, 7]);
    cap.dispose(); named.dispose();
    for (const v of [table, ids, out, out2]) rt.release(v.buffer);
  });

  it('sets each pipeline again after another ran in the same pass, eager and replayed', async () => {
    // a pass that already has a pipeline skips setPipeline for it: alternate two pipelines
    const NEG = () => shader([read('x', 'f32'), readWrite('out', 'f32'), uniform('U')], /* wgsl */ `
struct U { n: u32, _p0: u32, _p1: u32, _p2: u32 }
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < u.n) { out[gid.x] = -2.0 * x[gid.x]; }
}`);
    const neg = (x: GPUBuffer, out: GPUBuffer) => rt.dispatch(rt.pipeline('test.capture.neg', NEG), [x, out], new Uint32Array([N, 0, 0, 0]), [1]);
    const [x, y] = [rt.allocate(N * 4), rt.allocate(N * 4)];
    rt.write(x, start);
    const seq = () => { step(x, y, N, 1, 1); step(y, x, N, 1, 1); neg(x, y); step(y, x, N, 0.5, 0); neg(x, y); neg(y, x); };
    const f = Math.fround;
    const cpu = (v: number[]) => {
      const st = (a: number, s: number, b: number) => a * s + b + Math.sin(a);
      return v.map((a) => { let t = st(a, 1, 1); let u = st(t, 1, 1); t = -2 * u; u = st(t, 0.5, 0); t = -2 * u; return -2 * t; });
    };
    const cap = rt.capture(seq);
    cap.replay();
    const want = cpu(cpu(Array.from(start, f)));
    const got = Array.from(new Float32Array(await rt.read(x, 0, N * 4)));
    got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(want[i]!))));
    cap.dispose();
    [x, y].forEach((b) => rt.release(b));
  });

  it('holds the buffers it names that are released (inside the captured function or after) until the last capture naming them is disposed', async () => {
    const x = rt.allocate(N * 4), out = rt.allocate(N * 4);
    rt.write(x, start);
    let temp: GPUBuffer | null = null;
    const cap = rt.capture(() => {
      temp = rt.allocate(N * 4);
      step(x, temp, N, 2, 0);
      step(temp, out, N, 1, 1);
      rt.release(temp); // a temporary freed inside the function
    });
    const want = await contents([out]);
    rt.release(x); // an input freed after the capture
    expect(() => rt.release(x)).toThrow(/twice/);
    const other = rt.capture(() => step(out, temp!, N, 1, 0)); // names temp too
    await rt.sync();
    const liveWhileHeld = rt.stats().liveBuffers;
    rt.trim(); // held buffers are not in the pool: neither destroyed nor handed out
    const grabbed = Array.from({ length: 8 }, () => rt.allocate(N * 4));
    expect(grabbed).not.toContain(x);
    expect(grabbed).not.toContain(temp);
    for (const g of grabbed) rt.write(g, new Float32Array(N).fill(7));
    rt.write(out, new Float32Array(N));
    cap.replay();
    expect(await contents([out])).toEqual(want);
    for (const g of grabbed) rt.release(g);

    cap.dispose(); // x goes back to the pool; temp stays with `other`
    await rt.sync();
    expect(rt.stats().liveBuffers).toBe(liveWhileHeld - 1);
    other.dispose();
    await rt.sync();
    expect(rt.stats().liveBuffers).toBe(liveWhileHeld - 2);
    rt.release(out);
  });

  it('releases held buffers at dispose under the pool\'s deferred-release rule: not reused before the replaying batch completes', async () => {
    const x = rt.allocate(N * 4), y = rt.allocate(N * 4);
    rt.write(x, start);
    const cap = rt.capture(() => step(x, y, N, 1, 0));
    rt.release(y);
    await rt.sync();
    cap.replay(); // still unsubmitted when y is given back
    cap.dispose();
    const zs = Array.from({ length: 200 }, () => rt.allocate(N * 4)); // more than the pool holds free
    expect(zs).not.toContain(y);
    for (const z of zs) rt.release(z);
    rt.release(x);
    await rt.sync();
  });

  it('captures nothing when nothing is issued, and replays nothing', async () => {
    const cap = rt.capture(() => {});
    expect([cap.commands, cap.dispatches]).toEqual([0, 0]);
    rt.flush();
    const before = rt.stats();
    cap.replay();
    rt.flush();
    expect([rt.stats().dispatches, rt.stats().submits]).toEqual([before.dispatches, before.submits]);
    cap.dispose();
  });

  it('records a capture replayed inside another capture', async () => {
    const eager = buffers(), captured = buffers();
    // the capture of inner runs program once, the capture of outer runs it and step, outer's replay again
    program(eager);
    program(eager); step(eager[0]!, eager[1]!, N, 2, 2);
    program(eager); step(eager[0]!, eager[1]!, N, 2, 2);
    const inner = rt.capture(() => program(captured));
    const outer = rt.capture(() => { inner.replay(); step(captured[0]!, captured[1]!, N, 2, 2); });
    expect(outer.commands).toBe(inner.commands + 1);
    outer.replay();
    expect(await contents(captured)).toEqual(await contents(eager));
    inner.dispose(); outer.dispose();
    for (const b of [...eager, ...captured]) rt.release(b);
  });

  it('dispose frees the capture even while a batch that replayed it is still open; a disposed capture refuses to replay', async () => {
    const [x, y] = [rt.allocate(N * 4), rt.allocate(N * 4)];
    rt.write(x, start);
    const cap = rt.capture(() => step(x, y, N, 2, 0));
    const want = await contents([y]);
    rt.write(y, new Float32Array(N));
    cap.replay();
    cap.dispose(); // the open batch still uses its uniforms and bind group
    cap.dispose(); // idempotent
    expect(cap.isDisposed).toBe(true);
    expect(await contents([y])).toEqual(want); // no validation error from the batch
    expect(() => cap.replay()).toThrow(WebGPUCaptureError);
    expect(() => rt.replay(cap)).toThrow(/disposed/);
    [x, y].forEach((b) => rt.release(b));
  });

  it('refuses misuse with a WebGPUCaptureError: nesting, an unbalanced end, an async function, another runtime', async () => {
    rt.beginCapture();
    expect(rt.capturing).toBe(true);
    expect(() => rt.beginCapture()).toThrow(WebGPUCaptureError);
    expect(rt.endCapture().commands).toBe(0);
    expect(() => rt.endCapture()).toThrow(/no capture in progress/);

    expect(() => rt.capture(() => { throw new RangeError('boom'); })).toThrow(RangeError);
    expect(rt.capturing).toBe(false);
    expect(() => rt.capture((async () => {}) as () => void)).toThrow(/promise/);
    expect(rt.capturing).toBe(false);

    const other = await WebGPURuntime.create();
    try {
      const foreign = other.capture(() => {});
      expect(() => rt.replay(foreign)).toThrow(/another runtime/);
    } finally {
      other.destroy();
    }
  });
});
