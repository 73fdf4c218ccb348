// What one tiny dispatch costs: a chain of dependent adds of [64] float32 tensors, each encoded a
// different way, on the WebGPU device (`node benchmarks/dispatch_cost.mjs [--chain N] [--rounds N] [--gpt B]`).
//
// Every variant encodes `chain` dispatches (ping-pong between two buffers, so each reads the one
// before), submits every 128 dispatches like the runtime's default batching, and ends with a 4-byte
// readback. The variants run interleaved, one chain each per round; per dispatch the script prints
// the median and fastest wall time, the median and lowest CPU time of the whole process (every
// thread: JS, Dawn and, on a software adapter, the driver that runs the kernels) and the fastest
// encode time (the JS call alone):
//
//   tensor ops            `x = x.add(b)` through core: autograd checks, allocation, the launcher, the runtime
//   launcher              the elementwise kernel `binary('add')` on fixed buffers: launcher + runtime
//   runtime wg=W          `rt.dispatch` of a hand-written add with W lanes per workgroup: the
//                         runtime alone (uniform ring slot, dynamic offset, cached bind group)
//   raw dynamic, offset per dispatch   prebuilt bind groups, a different dynamic offset per
//                         dispatch, setPipeline before each (the runtime's encoding, minus its bookkeeping)
//   raw dynamic, per dispatch, pipeline set once      the same, setPipeline once per pass
//   raw dynamic, offset 0 prebuilt bind groups, dynamic offset always 0
//   raw static, bind group per dispatch   a layout without dynamic offsets: every dispatch creates
//                         its bind group at its own uniform slot (static offsets in eager mode)
//   raw static, prebuilt  the same layout, bind groups made once
//   raw static, prebuilt per slot      the same, one bind group per uniform slot (a replay's pattern:
//                         its bind groups hold their slot's offset, its pipelines have static layouts)
//   replay                `rt.replay` of a capture of the launcher chain
//
// With `--gpt B` it then times a whole program: the forward pass of nanoGPT's CPU GPT (4 layers,
// 4 heads, 128 wide, context 64, vocabulary 65) at batch B, eager and replayed from a capture on new
// token ids, printing the host time to issue it (the JS call, before waiting for the GPU: what a
// fast GPU cannot hide) and the time with the readback, and checking the logits agree.
//
// Timings on a software adapter measure the CPU that emulates the GPU; see the overhead suite.
import { initWebGPU, noGrad, tensor, webgpuRuntime, type Tensor } from '@webgrad/core';
import { createWebGPUKernels, read, readWrite, shader, uniform, type View, type WebGPURuntime } from '@webgrad/kernels';
import { GPT } from '@webgrad/nn';
import { intFlag } from './lib/args.js';

const N = 64;
const CHAIN = intFlag('chain', 1000);
const ROUNDS = intFlag('rounds', 9);
const PER_SUBMIT = 128;

const addShader = (wg: number) => shader([read('a', 'f32'), read('b', 'f32'), readWrite('out', 'f32'), uniform('U')], /* wgsl */ `
struct U { n: u32, _p0: u32, _p1: u32, _p2: u32 }
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= u.n) { return; }
  out[i] = a[i] + b[i];
}`);

/** A variant: `run` encodes the chain, `sync` waits for it, `done` frees what it holds. */
interface Variant {
  name: string;
  run: () => void;
  sync: () => Promise<unknown>;
}

/** Per-dispatch figures of one variant over the rounds, µs. */
interface Cost {
  /** Wall time (encode + wait), median and fastest round. */
  wall: number;
  wallMin: number;
  /** Process CPU time (every thread: JS, Dawn, the driver), median and lowest round. */
  cpu: number;
  cpuMin: number;
  /** The JS call that encodes the chain alone, fastest round. */
  encode: number;
}

/**
 * Runs every variant once per round, interleaved, so that a busy spell of the machine hits them
 * all alike; two warm-up rounds first.
 */
async function measureAll(variants: readonly Variant[]): Promise<Cost[]> {
  const wall = variants.map((): number[] => []), cpu = variants.map((): number[] => []), encode = variants.map((): number[] => []);
  for (let r = -2; r < ROUNDS; r++) {
    for (let k = 0; k < variants.length; k++) {
      const v = variants[k]!;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      v.run();
      const t1 = performance.now();
      await v.sync();
      const t2 = performance.now();
      const c = process.cpuUsage(c0);
      if (r < 0) continue;
      wall[k]!.push(t2 - t0);
      encode[k]!.push(t1 - t0);
      cpu[k]!.push((c.user + c.system) / 1000);
    }
  }
  const per = (ms: number) => (ms * 1000) / CHAIN;
  const med = (v: number[]) => per(v.sort((x, y) => x - y)[v.length >> 1]!);
  const min = (v: number[]) => per(Math.min(...v));
  return variants.map((_, k) => ({ wall: med(wall[k]!), wallMin: min(wall[k]!), cpu: med(cpu[k]!), cpuMin: min(cpu[k]!), encode: min(encode[k]!) }));
}

async function main(): Promise<void> {
  const info = await initWebGPU({ setDefault: false });
  const rt = webgpuRuntime()!;
  const device = rt.device;
  const gk = createWebGPUKernels(rt);
  const variants: Variant[] = [];
  const data = Float32Array.from({ length: N }, (_, i) => i / N);
  const buf = () => { const b = rt.allocate(N * 4); rt.write(b, data); return b; };
  const x0 = buf(), x1 = buf(), bb = buf();
  const sync = () => rt.read(x0, 0, 4);
  const view = (b: GPUBuffer): View<GPUBuffer> => ({ buffer: b, dtype: 'float32', shape: [N], strides: [1], offset: 0 });
  const xs = [view(x0), view(x1)], vb = view(bb);

  // tensor ops
  const ta = tensor(data, { device: 'webgpu' }), tb = tensor(data, { device: 'webgpu' });
  let last: Tensor | null = null;
  variants.push({ name: 'tensor ops (x = x.add(b))', run: () => {
    let x = ta;
    for (let i = 0; i < CHAIN; i++) { const y = x.add(tb); if (x !== ta) x.dispose(); x = y; }
    last?.dispose();
    last = x;
  }, sync: () => last!.data() });

  // launcher
  const launcherChain = () => { for (let i = 0; i < CHAIN; i++) gk.binary('add', xs[i & 1]!, vb, xs[(i + 1) & 1]!); };
  variants.push({ name: 'launcher (binary add kernel)', run: launcherChain, sync });

  // runtime, per workgroup size
  const u = new Uint32Array([N, 0, 0, 0]);
  for (const wg of [64, 128, 256]) {
    const p = rt.pipeline(`bench.add.wg${wg}`, () => addShader(wg));
    variants.push({ name: `runtime dispatch, wg=${wg}`, run: () => {
      for (let i = 0; i < CHAIN; i++) rt.dispatch(p, [i & 1 ? x1 : x0, bb, i & 1 ? x0 : x1], u, [1]);
    }, sync });
  }

  // raw Dawn encodings of the same wg=64 kernel
  const src = addShader(64);
  const module = device.createShaderModule({ code: src.code });
  const entries = (dynamic: boolean): GPUBindGroupLayoutEntry[] => src.bindings.layoutEntries().map((e) =>
    (e.buffer?.type === 'uniform' ? { ...e, buffer: { type: 'uniform', hasDynamicOffset: dynamic } } : e));
  const slot = device.limits.minUniformBufferOffsetAlignment;
  const ubuf = device.createBuffer({ size: slot * PER_SUBMIT, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const words = new Uint32Array((slot * PER_SUBMIT) / 4);
  for (let k = 0; k < PER_SUBMIT; k++) words[(k * slot) / 4] = N;
  device.queue.writeBuffer(ubuf, 0, words);
  const layoutOf = (dynamic: boolean) => {
    const bgl = device.createBindGroupLayout({ entries: entries(dynamic) });
    const pipe = device.createComputePipeline({ layout: device.createPipelineLayout({ bindGroupLayouts: [bgl] }), compute: { module, entryPoint: 'main' } });
    return { bgl, pipe };
  };
  const group = (bgl: GPUBindGroupLayout, i: number, offset: number) => device.createBindGroup({ layout: bgl, entries: [
    { binding: 0, resource: { buffer: i & 1 ? x1 : x0 } }, { binding: 1, resource: { buffer: bb } },
    { binding: 2, resource: { buffer: i & 1 ? x0 : x1 } }, { binding: 3, resource: { buffer: ubuf, offset, size: 16 } },
  ] });
  const raw = (name: string, pipe: GPUComputePipeline, bind: (pass: GPUComputePassEncoder, i: number) => void, pipelineOnce = false) => variants.push({ name, sync, run: () => {
    rt.flush();
    let enc = device.createCommandEncoder(), pass = enc.beginComputePass();
    for (let i = 0; i < CHAIN; i++) {
      if (i > 0 && i % PER_SUBMIT === 0) {
        pass.end(); device.queue.submit([enc.finish()]);
        enc = device.createCommandEncoder(); pass = enc.beginComputePass();
      }
      if (!pipelineOnce || i % PER_SUBMIT === 0) pass.setPipeline(pipe);
      bind(pass, i);
      pass.dispatchWorkgroups(1);
    }
    pass.end(); device.queue.submit([enc.finish()]);
  } });
  {
    const { bgl, pipe } = layoutOf(true);
    const g = [group(bgl, 0, 0), group(bgl, 1, 0)];
    const off = [0], zero = [0];
    raw('raw dynamic, offset per dispatch', pipe, (pass, i) => { off[0] = (i % PER_SUBMIT) * slot; pass.setBindGroup(0, g[i & 1]!, off); });
    raw('raw dynamic, per dispatch, pipeline once', pipe, (pass, i) => { off[0] = (i % PER_SUBMIT) * slot; pass.setBindGroup(0, g[i & 1]!, off); }, true);
    raw('raw dynamic, offset 0', pipe, (pass, i) => pass.setBindGroup(0, g[i & 1]!, zero));
  }
  {
    const { bgl, pipe } = layoutOf(false);
    raw('raw static, bind group per dispatch', pipe, (pass, i) => pass.setBindGroup(0, group(bgl, i, (i % PER_SUBMIT) * slot)));
    const g = [group(bgl, 0, 0), group(bgl, 1, 0)];
    raw('raw static, prebuilt', pipe, (pass, i) => pass.setBindGroup(0, g[i & 1]!));
    const perSlot = Array.from({ length: 2 * PER_SUBMIT }, (_, k) => group(bgl, k & 1, (k >> 1) * slot));
    raw('raw static, prebuilt per slot', pipe, (pass, i) => pass.setBindGroup(0, perSlot[2 * (i % PER_SUBMIT) + (i & 1)]!));
  }

  // replay of the launcher chain
  const cap = rt.capture(launcherChain);
  variants.push({ name: 'replay of the launcher chain', run: () => cap.replay(), sync });

  const costs = await measureAll(variants);
  console.log(`adapter: ${info.description || info.vendor} (software: ${info.isSoftware}); chains of ${CHAIN} dependent [${N}] adds, ` +
    `${ROUNDS} rounds, submit every ${PER_SUBMIT}`);
  const f = (v: number | string) => (typeof v === 'number' ? v.toFixed(1) : v).padStart(9);
  console.log(`${'µs per dispatch'.padEnd(38)}${f('wall p50')}${f('wall min')}${f('cpu p50')}${f('cpu min')}${f('encode')}`);
  variants.forEach((v, k) => {
    const c = costs[k]!;
    console.log(`${v.name.padEnd(38)}${f(c.wall)}${f(c.wallMin)}${f(c.cpu)}${f(c.cpuMin)}${f(c.encode)}`);
  });
  cap.dispose();
  (last as Tensor | null)?.dispose(); ta.dispose(); tb.dispose();
  ubuf.destroy();
  const gptBatch = intFlag('gpt', 0, 0);
  if (gptBatch > 0) await gptForward(rt, gptBatch);
  await rt.sync();
  rt.destroy();
}

async function gptForward(rt: WebGPURuntime, B: number): Promise<void> {
  const T = 64, V = 65, R = Math.max(ROUNDS, 5);
  const model = new GPT({ vocabSize: V, blockSize: T, nLayer: 4, nHead: 4, nEmbd: 128, device: 'webgpu' });
  model.eval();
  const ids = () => Int32Array.from({ length: B * T }, () => Math.floor(Math.random() * V));
  const idx = tensor(ids(), { shape: [B, T], dtype: 'int32', device: 'webgpu' });
  const forward = () => noGrad(() => model.forward(idx).logits);
  const time = async (run: () => Tensor) => {
    const issue: number[] = [], total: number[] = [];
    for (let r = -2; r < R; r++) {
      rt.write(idx.storage.buffer as GPUBuffer, ids());
      const t0 = performance.now();
      const out = run();
      const t1 = performance.now();
      await out.data();
      if (r >= 0) { issue.push(t1 - t0); total.push(performance.now() - t0); }
    }
    const med = (v: number[]) => v.sort((x, y) => x - y)[v.length >> 1]!.toFixed(2);
    return `issue ${med(issue)} ms (fastest ${Math.min(...issue).toFixed(2)}), with readback ${med(total)} ms (fastest ${Math.min(...total).toFixed(2)})`;
  };
  let prev: Tensor | null = null;
  const eager = await time(() => { prev?.dispose(); prev = forward(); return prev; });
  (prev as Tensor | null)?.dispose();
  const d0 = rt.stats().dispatches;
  forward().dispose();
  const dispatches = rt.stats().dispatches - d0;
  let logits: Tensor | null = null;
  const cap = rt.capture(() => { logits = forward(); });
  const replayed = await time(() => { cap.replay(); return logits!; });
  const check = forward();
  const a = await check.data(), b = await logits!.data();
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  console.log(`\nGPT forward, batch ${B} x ${T} (4 layers, 4 heads, 128 wide): ${dispatches} dispatches, ${cap.commands} captured commands, median of ${R}`);
  console.log(`  eager     ${eager}`);
  console.log(`  replayed  ${replayed}`);
  console.log(`  max |eager - replayed| on the same ids: ${diff}`);
  cap.dispose();
  check.dispose(); (logits as Tensor | null)?.dispose(); idx.dispose();
}

await main();
