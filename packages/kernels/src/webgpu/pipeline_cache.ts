// Compute pipelines, compiled once per key.
//
// A key must cover everything that changes the generated WGSL (op, dtypes, ranks, tile sizes,
// variants); the WGSL itself is produced lazily by a callback, so a cache hit costs one Map lookup.
//
// Compilation choice: launchers are synchronous (KernelSet methods return void), so a cache miss
// compiles with the synchronous `createComputePipeline` — Dawn compiles in the background and the
// first dispatch waits for it on the GPU timeline, not on the JS thread. `warmup(specs)` compiles
// with `createComputePipelineAsync` ahead of time (e.g. before step 1) and fills the same cache, so
// later dispatches never trigger a compile. Shader errors are caught in a validation error scope and
// reported with the pipeline key and the compiler's messages at the next flush or read.
//
// Binding layout (explicit, never 'auto'): group 0, generated from the shader's binding list
// (bindings.ts), the same list that declared the bindings in its WGSL. The uniform struct is bound
// with a dynamic offset into the runtime's uniform ring. One bind-group layout per distinct list
// of binding kinds, built when the first pipeline with that list is compiled.
//
// Static variants: `staticVariant(p)` compiles p's shader again against a layout whose uniform
// binding has no dynamic offset, for bind groups that hold their uniform slot's offset themselves
// (captured commands, capture.ts). On lavapipe a dispatch through a layout with a dynamic uniform
// offset costs the driver about twice the CPU time of one without, even at offset 0
// (benchmarks/dispatch_cost.ts); eager dispatches keep the dynamic offset, which lets one cached
// bind group serve every uniform slot.

import type { BindingKind, Bindings, ShaderSource } from './bindings.js';
import { WebGPUValidationError } from './errors.js';

export type { BindingKind } from './bindings.js';

/** A compiled compute pipeline with its bind-group layout, cached under its key. */
export interface Pipeline {
  /** Cache key: the kernel and every parameter its WGSL depends on. */
  readonly key: string;
  /** The compiled pipeline. */
  readonly pipeline: GPUComputePipeline;
  /** Its bind-group layout, shared by pipelines with equal `layoutKey`. */
  readonly bindGroupLayout: GPUBindGroupLayout;
  /** The shader's bindings. */
  readonly bindings: Bindings;
  /** Access of each storage binding, in the order a dispatch passes its buffers. */
  readonly layout: readonly BindingKind[];
}

/** A pipeline to build on first use: its cache key and a function producing the shader. */
export interface PipelineSpec {
  /** Cache key: equal keys must produce equal shaders. */
  key: string;
  /** Builds the shader; called once per key. */
  source: () => ShaderSource;
}

export class PipelineCache {
  private readonly pipelines = new Map<string, Pipeline>();
  private readonly layouts = new Map<string, { bgl: GPUBindGroupLayout; pl: GPUPipelineLayout }>();
  /** How each cached pipeline's shader is made, for its static variant. */
  private readonly sources = new Map<string, () => ShaderSource>();
  private readonly statics = new Map<string, Pipeline>();
  private readonly pending = new Map<string, Promise<void>>();
  private readonly checks = new Set<Promise<void>>();

  constructor(private readonly device: GPUDevice, private readonly onError: (e: Error) => void) {}

  /** Pipelines compiled: one per key, plus the static variants made. */
  get size(): number {
    return this.pipelines.size + this.statics.size;
  }

  has(key: string): boolean {
    return this.pipelines.has(key);
  }

  /** The cached pipeline for `key`, compiling it synchronously on a miss (the only time `source` runs). */
  get(key: string, source: () => ShaderSource): Pipeline {
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const p = this.compile(key, source, true);
    this.pipelines.set(key, p);
    this.sources.set(key, source);
    return p;
  }

  /**
   * `p`'s shader compiled against the same bindings with a static uniform offset (compiled once per
   * key): its bind groups give the uniform's offset in their entry, and dispatches set them
   * without dynamic offsets.
   */
  staticVariant(p: Pipeline): Pipeline {
    const hit = this.statics.get(p.key);
    if (hit) return hit;
    const source = this.sources.get(p.key);
    if (!source) throw new Error(`staticVariant: pipeline '${p.key}' is not in this cache`);
    const s = this.compile(p.key, source, false);
    this.statics.set(p.key, s);
    return s;
  }

  private compile(key: string, source: () => ShaderSource, dynamic: boolean): Pipeline {
    const { bindings, code } = source();
    const { bgl, pl } = this.layoutFor(bindings, dynamic);
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ label: key, code });
    const pipeline = this.device.createComputePipeline({ label: key, layout: pl, compute: { module, entryPoint: 'main' } });
    const check = this.device.popErrorScope().then(async (err) => {
      if (err) this.onError(await compileError(key, module, err.message));
    }, () => { /* device lost */ }).finally(() => this.checks.delete(check));
    this.checks.add(check);
    return { key, pipeline, bindGroupLayout: bgl, bindings, layout: bindings.storage };
  }

  /** Compiles the given pipelines asynchronously (skipping cached ones) and waits for all of them. */
  async warmup(specs: readonly PipelineSpec[]): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const s of specs) {
      if (this.pipelines.has(s.key)) continue;
      let job = this.pending.get(s.key);
      if (!job) {
        job = this.compileAsync(s).finally(() => this.pending.delete(s.key));
        this.pending.set(s.key, job);
      }
      jobs.push(job);
    }
    await Promise.all(jobs);
  }

  /** Resolves once every synchronous compile so far has reported success or its error. */
  async settled(): Promise<void> {
    while (this.checks.size > 0) await Promise.all([...this.checks]);
  }

  /** Compiles still in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  private async compileAsync(s: PipelineSpec): Promise<void> {
    const { bindings, code } = s.source();
    const { bgl, pl } = this.layoutFor(bindings, true);
    const module = this.device.createShaderModule({ label: s.key, code });
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await this.device.createComputePipelineAsync({ label: s.key, layout: pl, compute: { module, entryPoint: 'main' } });
    } catch (e) {
      throw await compileError(s.key, module, (e as Error).message);
    }
    if (!this.pipelines.has(s.key)) {
      this.pipelines.set(s.key, { key: s.key, pipeline, bindGroupLayout: bgl, bindings, layout: bindings.storage });
      this.sources.set(s.key, s.source);
    }
  }

  private layoutFor(bindings: Bindings, dynamic: boolean): { bgl: GPUBindGroupLayout; pl: GPUPipelineLayout } {
    const sig = dynamic ? bindings.layoutKey : `${bindings.layoutKey} static`;
    let l = this.layouts.get(sig);
    if (!l) {
      let entries = bindings.layoutEntries();
      if (!dynamic) entries = entries.map((e) => (e.buffer?.type === 'uniform' ? { ...e, buffer: { ...e.buffer, hasDynamicOffset: false } } : e));
      const bgl = this.device.createBindGroupLayout({ label: `webgrad [${sig}]`, entries });
      const pl = this.device.createPipelineLayout({ bindGroupLayouts: [bgl] });
      l = { bgl, pl };
      this.layouts.set(sig, l);
    }
    return l;
  }
}

async function compileError(key: string, module: GPUShaderModule, message: string): Promise<Error> {
  let details = '';
  try {
    const info = await module.getCompilationInfo();
    details = info.messages.filter((m) => m.type === 'error')
      .map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}`).join('\n');
  } catch { /* compilation info is best effort */ }
  return new WebGPUValidationError(`WebGPU pipeline '${key}' failed to compile: ${message}${details ? `\n${details}` : ''}`);
}

/**
 * Bind groups, reused across dispatches that bind the same layout, the same storage buffers (in
 * the same order) and the same uniform slot size. A bind group names GPUBuffer objects, not their
 * contents, so a pooled buffer that is released and handed to another tensor keeps its bind
 * groups: they bind exactly that buffer. Only destroying a buffer ends them: `forget` drops every
 * bind group of the buffers given (the pool reports what it destroys). Buffer and layout objects
 * are numbered once (a destroyed buffer's number is never reused), and the cache holds at most
 * `capacity` bind groups, dropping the oldest first.
 */
export class BindGroupCache {
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  private readonly groups = new Map<string, { group: GPUBindGroup; buffers: readonly GPUBuffer[] }>();
  hits = 0;
  misses = 0;

  constructor(private readonly device: GPUDevice, readonly capacity = 4096) {}

  get size(): number {
    return this.groups.size;
  }

  /** The bind group of `p` with `buffers` at its storage bindings and `uniform` (offset 0, `uniformSize` bytes) at its uniform binding. */
  get(p: Pipeline, buffers: readonly GPUBuffer[], uniform: GPUBuffer, uniformSize: number): GPUBindGroup {
    const layout = p.bindGroupLayout;
    let key = `${this.id(layout)}:${uniformSize}`;
    for (let i = 0; i < buffers.length; i++) key += `,${this.id(buffers[i]!)}`;
    const hit = this.groups.get(key);
    if (hit !== undefined) {
      this.hits++;
      return hit.group;
    }
    this.misses++;
    const group = this.device.createBindGroup({ layout, entries: p.bindings.groupEntries(buffers, uniform, uniformSize) });
    if (this.groups.size >= this.capacity) this.groups.delete(this.groups.keys().next().value!);
    this.groups.set(key, { group, buffers: buffers.slice() });
    return group;
  }

  /** Drops every bind group that binds one of `buffers` (they are being destroyed). */
  forget(buffers: readonly GPUBuffer[]): void {
    const dead = new Set<GPUBuffer>();
    for (const b of buffers) if (this.ids.delete(b)) dead.add(b);
    if (dead.size === 0) return;
    for (const [key, g] of this.groups) {
      if (g.buffers.some((b) => dead.has(b))) this.groups.delete(key);
    }
  }

  clear(): void {
    this.groups.clear();
  }

  private id(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }
}
