// One GPU object for the whole process, shared by webgrad and TensorFlow.js, plus raw-Dawn
// reference kernels (a copy for the bandwidth ceiling, a trivial op for dispatch overhead).
//
// Order matters: `navigator.gpu` and the WebGPU globals (GPUBufferUsage, ...) must exist before
// the tfjs WebGPU backend is imported, or it registers itself as unavailable. Both libraries then
// request their devices from the same Dawn instance, so they run on the same adapter.
import { initWebGPU, webgpuRuntime, type InitWebGPUOptions } from '@webgrad/core';
import { contiguousStrides, type WebGPURuntime, type AdapterDescription, type View } from '@webgrad/kernels';

export interface GPUSetup {
  gpu: GPU;
  rt: WebGPURuntime;
  info: AdapterDescription;
}

/** Strong references for the process lifetime: if Dawn's GPU object were collected, Dawn would crash. */
const held: { gpu: GPU | null } = { gpu: null };
(globalThis as Record<string, unknown>).__webgradBenchHeld = held;

/**
 * Creates the process's GPU object from the `webgpu` package, installs it as navigator.gpu with the
 * WebGPU globals, and opens webgrad's `webgpu` device on it. Returns null (with the reason) when
 * there is no adapter.
 */
export async function setupGPU(): Promise<{ setup: GPUSetup | null; error?: string }> {
  try {
    const name = 'webgpu';
    const mod = (await import(name)) as { create(flags: string[]): GPU; globals: Record<string, unknown> };
    const g = globalThis as Record<string, unknown>;
    for (const [k, v] of Object.entries(mod.globals)) if (!(k in g)) g[k] = v;
    const gpu = mod.create([]);
    held.gpu = gpu;
    const nav = (g.navigator ?? {}) as Record<string, unknown>;
    if (g.navigator === undefined) g.navigator = nav;
    Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, enumerable: true, writable: true });
    if ((g.navigator as { gpu?: GPU }).gpu !== gpu) {
      Object.defineProperty(g, 'navigator', { value: { gpu }, configurable: true, writable: true });
    }
    const opts: InitWebGPUOptions = { gpu, setDefault: false };
    const info = await initWebGPU(opts);
    const rt = webgpuRuntime();
    if (!rt) throw new Error('initWebGPU succeeded but webgpuRuntime() is null');
    return { setup: { gpu, rt, info } };
  } catch (e) {
    return { setup: null, error: (e as Error).message };
  }
}

/**
 * Dawn's Node binding resolves GPU promises from its own thread without keeping the event loop
 * alive; an interval does, for as long as the promise is pending.
 */
export function keepAlive<T>(p: Promise<T>): Promise<T> {
  const timer = setInterval(() => {}, 1 << 30);
  return p.finally(() => clearInterval(timer));
}

const COPY_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> n: vec4<u32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  if (i < n.x) { dst[i] = src[i]; }
}`;

const ADD_ONE_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> n: vec4<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < n.x) { dst[gid.x] = src[gid.x] + 1.0; }
}`;

/** Hand-written kernels dispatched straight on a device, bypassing webgrad's runtime. */
export class RawDawn {
  readonly device: GPUDevice;
  private readonly copyPipe: GPUComputePipeline;
  private readonly addPipe: GPUComputePipeline;

  constructor(device: GPUDevice) {
    this.device = device;
    this.copyPipe = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: COPY_WGSL }), entryPoint: 'main' } });
    this.addPipe = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: ADD_ONE_WGSL }), entryPoint: 'main' } });
  }

  buffer(bytes: number, usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST): GPUBuffer {
    return this.device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
  }

  uniform(n: number): GPUBuffer {
    const u = this.device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(u, 0, new Uint32Array([n, 0, 0, 0]));
    return u;
  }

  /** Encodes and submits `times` copies of `floats` floats (a multiple of 4) from src to dst. */
  copy(src: GPUBuffer, dst: GPUBuffer, floats: number, uniform: GPUBuffer, times = 1): void {
    const vec4s = floats / 4;
    const groups = Math.ceil(vec4s / 256);
    const x = Math.min(groups, 65535), y = Math.ceil(groups / x);
    const bg = this.device.createBindGroup({ layout: this.copyPipe.getBindGroupLayout(0), entries: [
      { binding: 0, resource: { buffer: src } }, { binding: 1, resource: { buffer: dst } }, { binding: 2, resource: { buffer: uniform } },
    ] });
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(this.copyPipe);
    pass.setBindGroup(0, bg);
    for (let i = 0; i < times; i++) pass.dispatchWorkgroups(x, y);
    pass.end();
    this.device.queue.submit([enc.finish()]);
  }

  /**
   * A chain of `count` trivial dispatches (dst = src + 1 over `n` floats) ping-ponging between a
   * and b, in one command encoder and one submit. With `bindGroupPerDispatch` each dispatch makes
   * its own bind group, as a library must when every op writes a fresh buffer.
   */
  chain(a: GPUBuffer, b: GPUBuffer, n: number, uniform: GPUBuffer, count: number, bindGroupPerDispatch: boolean, prebuilt?: GPUBindGroup[]): void {
    const layout = this.addPipe.getBindGroupLayout(0);
    const make = (s: GPUBuffer, d: GPUBuffer) => this.device.createBindGroup({ layout, entries: [
      { binding: 0, resource: { buffer: s } }, { binding: 1, resource: { buffer: d } }, { binding: 2, resource: { buffer: uniform } },
    ] });
    const groups = prebuilt && !bindGroupPerDispatch ? prebuilt : [];
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(this.addPipe);
    for (let i = 0; i < count; i++) {
      const bg = bindGroupPerDispatch ? (i % 2 === 0 ? make(a, b) : make(b, a)) : groups[i % 2]!;
      pass.setBindGroup(0, bg);
      pass.dispatchWorkgroups(Math.ceil(n / 64));
    }
    pass.end();
    this.device.queue.submit([enc.finish()]);
  }

  /** Bind groups a→b and b→a for `chain(..., false, groups)`. */
  pingPong(a: GPUBuffer, b: GPUBuffer, uniform: GPUBuffer): GPUBindGroup[] {
    const layout = this.addPipe.getBindGroupLayout(0);
    return [[a, b], [b, a]].map(([s, d]) => this.device.createBindGroup({ layout, entries: [
      { binding: 0, resource: { buffer: s! } }, { binding: 1, resource: { buffer: d! } }, { binding: 2, resource: { buffer: uniform } },
    ] }));
  }

  /** Reads 4 bytes of `buf` back: waits for everything submitted before it. */
  async readback(buf: GPUBuffer): Promise<number> {
    const staging = this.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buf, 0, staging, 0, 16);
    this.device.queue.submit([enc.finish()]);
    await keepAlive(staging.mapAsync(GPUMapMode.READ));
    const v = new Float32Array(staging.getMappedRange())[0]!;
    staging.unmap();
    staging.destroy();
    return v;
  }
}

/**
 * Times `fn`, a few kernel launches, on the runtime: one warm-up round, then `rounds` rounds of
 * `reps` calls each ending with a 4-byte readback (which waits for the GPU). Prints `what` with the
 * median and the fastest round, in µs per call.
 */
export async function benchKernelCalls(rt: WebGPURuntime, what: string, fn: () => void, o: { reps: number; rounds: number; width?: number }): Promise<void> {
  const sink = rt.allocate(4);
  const round = async () => {
    const t0 = performance.now();
    for (let r = 0; r < o.reps; r++) fn();
    await rt.read(sink, 0, 4);
    return ((performance.now() - t0) * 1000) / o.reps;
  };
  await round();
  const us: number[] = [];
  for (let r = 0; r < o.rounds; r++) us.push(await round());
  rt.release(sink);
  const median = [...us].sort((a, b) => a - b)[Math.floor(us.length / 2)] ?? NaN;
  console.log(`  ${what.padEnd(o.width ?? 48)} ${median.toFixed(1).padStart(9)} µs/call (fastest ${Math.min(...us).toFixed(1)})`);
}

/**
 * A float32 view on a new buffer of `rt` for a kernel benchmark: `size` elements (default: the
 * shape's product; fewer for broadcast strides) holding fill(i) (default sin(0.37·i)/2), read
 * through `strides` (default contiguous).
 */
export function filledView(rt: WebGPURuntime, shape: number[], o: { fill?: (i: number) => number; strides?: number[]; size?: number } = {}): View<GPUBuffer> {
  const size = o.size ?? shape.reduce((p, d) => p * d, 1);
  const fill = o.fill ?? ((i: number) => Math.sin(i * 0.37) * 0.5);
  const buffer = rt.allocate(size * 4);
  rt.write(buffer, Float32Array.from({ length: size }, (_, i) => fill(i)));
  return { buffer, dtype: 'float32', shape, strides: o.strides ?? contiguousStrides(shape), offset: 0 };
}
