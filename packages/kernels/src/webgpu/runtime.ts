// WebGPURuntime: the device, and everything between a kernel launcher and the GPU queue.
//
// Storage conventions (every WGSL kernel and launcher follows them):
// - float32 → f32, int32 → i32, bool → u32 holding 0/1 (4 bytes per element on the GPU, unlike the
//   CPU's one byte). float64 is unsupported: launchers throw a WebGPUDTypeError (a TypeError) naming
//   the op (see dtype.ts).
// - A view's offset and strides count elements and travel in the uniforms; kernels bind the whole
//   buffer (binding offsets would need 256-byte alignment) and index `buf[offset + Σ i_d·stride_d]`.
// - Pooled buffers are larger than requested (size classes), so kernels take element counts from
//   the uniforms, never from arrayLength().
//
// What the runtime does:
// - Batching: `dispatch` encodes into one open command encoder and compute pass; the batch is
//   submitted by `flush()`, by a read, when the uniform ring is full, or after
//   `maxDispatchesPerSubmit` dispatches — never one submit per op. A dispatch of the pipeline the
//   pass already has does not set it again (chains of one op, an optimizer over many parameters):
//   one native call fewer, about 1.5 µs of Dawn's encode time each in Node.
// - Uniforms come from a reused ring buffer (uniform_ring.ts), one 256-byte-aligned slot per dispatch,
//   bound with a dynamic offset. Because the offset is dynamic, a bind group depends only on the
//   layout, the buffers and the uniform size, and is reused across dispatches (BindGroupCache in
//   pipeline_cache.ts); the pool reports the buffers it destroys so their bind groups are dropped.
// - Buffers come from a pool by size class and usage (buffer_pool.ts). A released buffer becomes
//   reusable only after the submission that last used it has completed (queue.onSubmittedWorkDone).
//   Allocation failure trims the pool and retries, then throws WebGPUOutOfMemoryError.
// - `write` keeps stream order: with commands pending it stages the data and copies it inside the
//   batch (queue.writeBuffer would jump ahead of the unsubmitted dispatches); otherwise it uses
//   queue.writeBuffer directly.
// - Errors the GPU reports asynchronously (validation, out-of-memory, device loss) are stored and
//   thrown at the next flush or read. A lost device makes every later call throw; reads never hang
//   on a lost device.
// - Out-of-range indices that kernels flag into the error buffer are thrown (WebGPUIndexError) by
//   reads of the buffers computed from the faulty result, and by no other read (index_checks.ts).
// - A memory limit counts released buffers still awaiting the GPU; when an allocation would exceed
//   it, those are destroyed (after submitting the batch that uses them) before it fails.
// - Profiling (opt-in, needs 'timestamp-query'): each dispatch gets its own compute pass with
//   timestamp writes, and `profile()` returns GPU milliseconds per dispatch label.
// - Capture (capture.ts): `beginCapture()` … `endCapture()` (or `capture(fn)`) records the dispatches,
//   copies and writes issued in between, which run as usual; `replay(capture)` re-issues them into
//   the open batch through bind groups prepared once (uniforms at static offsets, pipelines compiled
//   for them), with no launcher code and no uniform copies.

import { WebGPUDeviceLostError, WebGPUIndexError, WebGPUOutOfMemoryError, WebGPUValidationError } from './errors.js';
import { acquireDevice, keepAlive, type AdapterDescription, type DeviceOptions } from './device.js';
import { BufferPool, type PoolStats } from './buffer_pool.js';
import { UniformRing } from './uniform_ring.js';
import { IndexChecks, type IndexCheck, type IndexCheckName } from './index_checks.js';
import type { ShaderSource } from './bindings.js';
import { BindGroupCache, PipelineCache, type Pipeline, type PipelineSpec } from './pipeline_cache.js';
import { MAX_WORKGROUPS_PER_DIM } from './workgroups.js';
import { Capture, CaptureRecorder, WebGPUCaptureError, type CaptureHost } from './capture.js';

export type { BindingKind, Pipeline, PipelineSpec } from './pipeline_cache.js';
export type { ShaderSource } from './bindings.js';
export type { AdapterDescription } from './device.js';

/** Options of `WebGPURuntime.create` (and core's `initWebGPU`): adapter choice, batching and memory. */
export interface RuntimeOptions extends DeviceOptions {
  /** Submit after this many dispatches in one batch (default 128). */
  maxDispatchesPerSubmit?: number;
  /** Size of the uniform ring in bytes (default 256 KiB). */
  uniformRingBytes?: number;
  /** Optional cap on live + pooled + pending buffer bytes; exceeding it destroys pooled and released buffers, then throws. */
  memoryLimitBytes?: number;
}

/** What `tallyDispatches(fn)` returns. */
export interface DispatchTally<T> {
  /** What `fn` returned. */
  result: T;
  /** Dispatches `fn` encoded, by label. */
  counts: Map<string, number>;
}

/** Counters of a runtime: the buffer pool's, plus submits, dispatches, pipelines and bind groups. */
export interface RuntimeStats extends PoolStats {
  /** Command buffers submitted. */
  submits: number;
  /** Compute dispatches recorded. */
  dispatches: number;
  /** Pipelines compiled (one per cache key, plus the static variants captures run). */
  pipelines: number;
  /** Bind groups cached, and dispatches that reused one / had to create one. */
  bindGroups: number;
  /** Dispatches that reused a cached bind group. */
  bindGroupHits: number;
  /** Dispatches that had to create a bind group. */
  bindGroupMisses: number;
}

/** GPU time of one kernel label while profiling. */
export interface ProfileEntry {
  /** Dispatches timed. */
  calls: number;
  /** Their total GPU time in milliseconds (timestamp queries). */
  gpuMs: number;
}

/** Size of the runtime's error buffer in u32 words: [flag, op code, bad index, dim size]. */
const ERROR_WORDS = 4;
/** Checked dispatches per submit: each copies the error buffer into its own slot of the batch's log. */
const CHECK_SLOTS = 64;

/** One WebGPU device and everything the kernels share on it: the buffer pool, the uniform ring, the pipeline and bind-group caches, batched command encoding, index-error checks and profiling. Create with `WebGPURuntime.create`. */
export class WebGPURuntime {
  /** The device the kernels run on. */
  readonly device: GPUDevice;
  /** The adapter it was requested from. */
  readonly adapter: GPUAdapter;
  /** What the adapter says about itself. */
  readonly info: AdapterDescription;
  /** Features enabled on the device (e.g. 'shader-f16', 'timestamp-query'). */
  readonly features: ReadonlySet<string>;
  /** The device's limits. */
  readonly limits: GPUSupportedLimits;
  /** Storage buffer kernels flag out-of-range indices into; bind it as a 'readwrite' binding. */
  readonly errorBuffer: GPUBuffer;
  /** Dispatches per command buffer before the runtime submits (RuntimeOptions.maxDispatchesPerSubmit). */
  readonly maxDispatchesPerSubmit: number;

  private readonly storageUsage: number;
  private readonly stagingUsage: number;
  private readonly pool: BufferPool;
  private readonly ring: UniformRing;
  private readonly pipelines: PipelineCache;
  private readonly bindGroups: BindGroupCache;
  private readonly memoryLimit: number;
  private readonly maxWorkgroupsPerDim: number;
  private readonly maxStorageBytes: number;
  private readonly dynamicOffset = [0];
  private recorder: CaptureRecorder | null = null;
  private readonly captures = new Set<Capture>();
  private readonly captureHost: CaptureHost = {
    replay: (c) => this.replay(c),
    dispose: (c, uniforms) => {
      this.captures.delete(c);
      // another live capture (or the one in progress) naming a buffer takes it over
      for (const b of c.held) this.release(b);
      c.held.clear();
      if (!uniforms) return;
      if (this.batchCommands > 0) this.afterSubmit.push(() => uniforms.destroy());
      else uniforms.destroy();
    },
    staticPipeline: (p) => this.pipelines.staticVariant(p),
  };

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** The pipeline set in the open compute pass: a dispatch of the same one does not set it again. */
  private passPipeline: GPUComputePipeline | null = null;
  private batchCommands = 0;
  private batchDispatches = 0;
  private submitted = 0;
  private completedSerial = 0;
  private nSubmits = 0;
  private nDispatches = 0;
  /** Dispatches by label while `tallyDispatches` runs. */
  private tally: Map<string, number> | null = null;
  private readonly errorOps: string[] = [];
  private readonly checks = new IndexChecks();
  /**
   * The open batch's log of error-buffer copies, one slot per checked dispatch. A new buffer per
   * batch, so it starts zeroed: a batch that never ran (invalid, reported as such) reads as passed.
   */
  private checkLog: { buffer: GPUBuffer; checks: IndexCheck[] } | null = null;
  private checkName: IndexCheckName | null = null;
  private deferred: Error | null = null;
  private thrownSinceRead = false;
  private lastThrown: Error | null = null;
  private lost: Error | null = null;
  private destroyed = false;
  /** Rejects every promise `untilLost` is waiting on; called once, when the device is lost. */
  private readonly waiting = new Set<(e: Error) => void>();

  // profiling
  private profiling = false;
  private querySet: GPUQuerySet | null = null;
  private queryLabels: string[] = [];
  private readonly profileTotals = new Map<string, ProfileEntry>();
  private readonly profileReads: Promise<void>[] = [];

  private constructor(adapter: GPUAdapter, device: GPUDevice, info: AdapterDescription, features: ReadonlySet<string>, opts: RuntimeOptions) {
    this.adapter = adapter;
    this.device = device;
    this.info = info;
    this.features = features;
    this.limits = device.limits;
    this.maxDispatchesPerSubmit = opts.maxDispatchesPerSubmit ?? 128;
    this.memoryLimit = opts.memoryLimitBytes ?? Infinity;
    this.storageUsage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.stagingUsage = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
    this.bindGroups = new BindGroupCache(device);
    this.pool = new BufferPool((size, usage) => this.createBuffer(size, usage), (buffers) => this.bindGroups.forget(buffers));
    this.maxWorkgroupsPerDim = device.limits.maxComputeWorkgroupsPerDimension ?? MAX_WORKGROUPS_PER_DIM;
    this.maxStorageBytes = Math.min(device.limits.maxBufferSize, device.limits.maxStorageBufferBindingSize);
    const align = device.limits.minUniformBufferOffsetAlignment;
    this.ring = new UniformRing(device, opts.uniformRingBytes ?? 256 * 1024, align);
    this.pipelines = new PipelineCache(device, (e) => this.defer(e));
    this.errorBuffer = device.createBuffer({ label: 'webgrad error flags', size: ERROR_WORDS * 4, usage: this.storageUsage });

    device.addEventListener('uncapturederror', (ev) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      if (typeof GPUOutOfMemoryError !== 'undefined' && err instanceof GPUOutOfMemoryError) {
        this.defer(new WebGPUOutOfMemoryError(0, err.message));
      } else {
        this.defer(new WebGPUValidationError(`WebGPU error: ${err.message}`));
      }
    });
    void device.lost.then((info) => {
      const e = new WebGPUDeviceLostError(this.destroyed
        ? 'the WebGPU runtime was destroyed'
        : `WebGPU device lost (${info.reason}): ${info.message}. Create a new runtime to continue.`);
      this.lost = e;
      for (const reject of this.waiting) reject(e);
      this.waiting.clear();
    });
  }

  /** Opens the GPU: navigator.gpu in browsers, the `webgpu` package (Dawn) in Node. */
  static async create(opts: RuntimeOptions = {}): Promise<WebGPURuntime> {
    const { adapter, device, info, features } = await acquireDevice(opts);
    return new WebGPURuntime(adapter, device, info, features, opts);
  }

  // ---- pipelines --------------------------------------------------------------------------------

  /**
   * The pipeline for `key`, compiled on first use from `source()` (its bindings and WGSL; see
   * bindings.ts). `source` runs only on a miss, so a cache hit builds nothing.
   */
  pipeline(key: string, source: () => ShaderSource): Pipeline {
    return this.pipelines.get(key, source);
  }

  /** Compiles pipelines asynchronously ahead of their first dispatch. */
  warmup(specs: readonly PipelineSpec[]): Promise<void> {
    return this.pipelines.warmup(specs);
  }

  /** Number of pipelines still compiling through `warmup`. */
  get pending(): number {
    return this.pipelines.inFlight;
  }

  // ---- dispatch ---------------------------------------------------------------------------------

  /**
   * Encodes one dispatch into the open batch. `bindings` are the buffers of the pipeline's storage
   * bindings, in binding order; `uniforms` is the kernel's uniform struct, byte for byte; `label`
   * names it in `profile()`.
   * A dispatch with zero workgroups is skipped. `uniforms` is copied before this returns, so callers
   * may reuse one scratch array for every dispatch.
   */
  dispatch(p: Pipeline, bindings: readonly GPUBuffer[], uniforms: ArrayBuffer | ArrayBufferView,
    workgroups: readonly [number, number?, number?], label?: string): void {
    this.throwIfLost();
    const x = workgroups[0], y = workgroups[1] ?? 1, z = workgroups[2] ?? 1;
    if (x === 0 || y === 0 || z === 0) return;
    const maxDim = this.maxWorkgroupsPerDim;
    if (x > maxDim || y > maxDim || z > maxDim) {
      throw new RangeError(`dispatch '${p.key}': workgroups [${x}, ${y}, ${z}] exceed ${maxDim} per dimension; use splitWorkgroups()`);
    }
    if (bindings.length !== p.layout.length) {
      throw new Error(`dispatch '${p.key}': ${bindings.length} buffers bound, the pipeline expects ${p.layout.length}`);
    }
    const byteLength = uniforms.byteLength;
    if (!this.ring.fits(byteLength) || this.batchDispatches >= this.maxDispatchesPerSubmit) this.submit();
    const offset = this.ring.push(uniforms);
    const bindingSize = UniformRing.bindingSize(byteLength);
    const bindGroup = this.bindGroups.get(p, bindings, this.ring.buffer, bindingSize);
    const checked = bindings.includes(this.errorBuffer);
    if (this.recorder) this.recorder.dispatch(p, bindings, uniforms, bindingSize, [x, y, z], label ?? p.key, this.errorBuffer, this.checkName);

    const pass = this.computePass(label ?? p.key);
    if (this.passPipeline !== p.pipeline) {
      pass.setPipeline(p.pipeline);
      this.passPipeline = p.pipeline;
    }
    this.dynamicOffset[0] = offset;
    pass.setBindGroup(0, bindGroup, this.dynamicOffset);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiling) this.endPass();
    this.batchCommands++;
    this.batchDispatches++;
    this.nDispatches++;
    if (this.tally) this.tally.set(label ?? p.key, (this.tally.get(label ?? p.key) ?? 0) + 1);
    if (checked || this.checks.active) this.track(p, bindings, checked);
  }

  // ---- capture ----------------------------------------------------------------------------------

  /**
   * Starts recording every dispatch, copy and write issued until `endCapture()`; they still run as
   * usual. Reads are not recorded. Throws a WebGPUCaptureError if a capture is already in progress.
   */
  beginCapture(): void {
    this.throwIfLost();
    if (this.recorder) throw new WebGPUCaptureError('beginCapture: a capture is already in progress (captures do not nest; call endCapture first)');
    this.recorder = new CaptureRecorder();
  }

  /**
   * Ends the capture begun by `beginCapture()` and returns it, its uniforms packed into a buffer of
   * its own and a bind group prepared per dispatch (see capture.ts).
   */
  endCapture(): Capture {
    const r = this.recorder;
    if (!r) throw new WebGPUCaptureError('endCapture: no capture in progress (call beginCapture first)');
    this.recorder = null;
    this.throwIfLost();
    const c = new Capture(this.device, r, this.ring.alignment, this.captureHost);
    this.captures.add(c);
    return c;
  }

  /** Whether a capture is in progress. */
  get capturing(): boolean {
    return this.recorder !== null;
  }

  /**
   * Runs `fn` between `beginCapture()` and `endCapture()` and returns the capture. If `fn` throws,
   * nothing is kept and the error propagates; `fn` must be synchronous (a returned promise is a
   * WebGPUCaptureError: commands after its first await would escape the capture).
   */
  capture(fn: () => void): Capture {
    this.beginCapture();
    let result: unknown;
    try {
      result = fn();
    } catch (e) {
      this.recorder = null;
      throw e;
    }
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      this.recorder = null;
      throw new WebGPUCaptureError('capture: the function returned a promise; only synchronous work can be captured');
    }
    return this.endCapture();
  }

  /**
   * Re-issues the commands of `c` into the open batch, in order: each dispatch with its prepared bind
   * group and frozen uniforms, copies, and writes of the captured bytes. Submits after
   * `maxDispatchesPerSubmit` dispatches, counts dispatches in `stats()`, and checks indices as the
   * eager dispatches did. A replay during another capture is recorded into it.
   */
  replay(c: Capture): void {
    this.throwIfLost();
    if (c.isDisposed) throw new WebGPUCaptureError('replay: the capture was disposed');
    if (!this.captures.has(c)) throw new WebGPUCaptureError('replay: the capture belongs to another runtime');
    if (this.recorder) this.recorder.append(c);
    const cmds = c.recorded, groups = c.groups, pipelines = c.pipelines, max = this.maxDispatchesPerSubmit;
    for (let i = 0; i < cmds.length; i++) {
      const cmd = cmds[i]!;
      if (cmd.kind === 'dispatch') {
        if (this.batchDispatches >= max) this.submit();
        const pass = this.computePass(cmd.label);
        const pipeline = pipelines[i]!;
        if (this.passPipeline !== pipeline) {
          pass.setPipeline(pipeline);
          this.passPipeline = pipeline;
        }
        pass.setBindGroup(0, groups[i]!);
        const wg = cmd.workgroups;
        pass.dispatchWorkgroups(wg[0], wg[1], wg[2]);
        if (this.profiling) this.endPass();
        this.batchCommands++;
        this.batchDispatches++;
        this.nDispatches++;
        if (cmd.checked || this.checks.active) this.trackBuffers(cmd.read, cmd.written, cmd.checked, cmd.checkName);
      } else if (cmd.kind === 'copy') {
        this.encodeCopy(cmd.src, cmd.dst, cmd.bytes, cmd.srcOffset, cmd.dstOffset);
      } else {
        this.encodeWrite(cmd.buffer, cmd.data, cmd.byteOffset);
      }
    }
  }

  /** Submits the open batch (if any) and throws any error the GPU reported since the last check. */
  flush(): void {
    this.submit();
    this.throwDeferred();
  }

  /** Flushes and waits until the GPU has finished all submitted work. */
  async sync(): Promise<void> {
    this.flush();
    await this.untilLost(this.device.queue.onSubmittedWorkDone());
    await this.pipelines.settled();
    this.throwDeferred();
  }

  // ---- buffers ----------------------------------------------------------------------------------

  /** A storage buffer of at least `bytes` bytes (STORAGE | COPY_SRC | COPY_DST), from the pool when possible. */
  allocate(bytes: number): GPUBuffer {
    this.throwIfLost();
    const want = Math.max(4, Math.ceil(bytes / 4) * 4);
    const max = this.maxStorageBytes;
    if (want > max) throw new WebGPUOutOfMemoryError(bytes, `larger than this device's maximum storage buffer of ${max} bytes`);
    if (this.memoryLimit !== Infinity && this.pool.totalBytes + want > this.memoryLimit) {
      // Released buffers wait for the GPU only so that they are not reused early; once the batch
      // using them is submitted they can be destroyed (WebGPU frees them when that work is done).
      if (this.pool.stats().pendingBytes > 0) this.submit();
      this.pool.trim(true);
      const live = this.pool.stats().liveBytes;
      if (live + want > this.memoryLimit) {
        throw new WebGPUOutOfMemoryError(bytes, `memory limit ${this.memoryLimit} bytes, ${live} in use`);
      }
    }
    try {
      return this.pool.acquire(want, this.storageUsage);
    } catch {
      this.pool.trim();
      try {
        return this.pool.acquire(want, this.storageUsage);
      } catch (e) {
        throw new WebGPUOutOfMemoryError(bytes, (e as Error).message);
      }
    }
  }

  /**
   * Returns a buffer from `allocate`; it is reused only after the GPU has finished with it, and,
   * while a live capture names it, only after the last such capture is disposed.
   */
  release(buffer: GPUBuffer): void {
    if (this.destroyed) return;
    if (this.recorder !== null || this.captures.size > 0) {
      const holder = this.recorder?.buffers.has(buffer) ? this.recorder : this.capturesNaming(buffer);
      if (holder) {
        if (holder.held.has(buffer)) throw new Error('release: buffer released twice');
        holder.held.add(buffer);
        return;
      }
    }
    const serial = this.batchCommands > 0 ? this.submitted + 1 : this.submitted;
    this.pool.release(buffer, serial, this.completedSerial);
    if (this.checks.active) this.checks.forget(buffer);
  }

  /** Writes `data` at `byteOffset`, ordered after every dispatch already encoded. */
  write(buffer: GPUBuffer, data: ArrayBuffer | ArrayBufferView, byteOffset = 0): void {
    this.throwIfLost();
    let bytes: Uint8Array<ArrayBuffer> = data instanceof ArrayBuffer ? new Uint8Array(data)
      : new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength === 0) return;
    if (byteOffset % 4 !== 0) throw new RangeError(`write: byteOffset ${byteOffset} is not a multiple of 4`);
    if (bytes.byteLength % 4 !== 0) {
      const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
      padded.set(bytes);
      bytes = padded;
    }
    if (this.recorder) this.recorder.write(buffer, bytes, byteOffset);
    this.encodeWrite(buffer, bytes, byteOffset);
  }

  private encodeWrite(buffer: GPUBuffer, bytes: Uint8Array<ArrayBuffer>, byteOffset: number): void {
    if (this.batchCommands === 0) {
      this.device.queue.writeBuffer(buffer, byteOffset, bytes);
      return;
    }
    const staging = this.device.createBuffer({ label: 'webgrad upload', size: bytes.byteLength, usage: GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(bytes);
    staging.unmap();
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(staging, 0, buffer, byteOffset, bytes.byteLength);
    this.batchCommands++;
    this.afterSubmit.push(() => staging.destroy());
  }

  /** Encodes a buffer-to-buffer copy into the batch (stream-ordered with the dispatches). Sizes in bytes, multiples of 4. */
  copyBuffer(src: GPUBuffer, dst: GPUBuffer, bytes: number, srcOffset = 0, dstOffset = 0): void {
    this.throwIfLost();
    if (bytes === 0) return;
    if (this.recorder) this.recorder.copy(src, dst, bytes, srcOffset, dstOffset);
    this.encodeCopy(src, dst, bytes, srcOffset, dstOffset);
  }

  private encodeCopy(src: GPUBuffer, dst: GPUBuffer, bytes: number, srcOffset: number, dstOffset: number): void {
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.batchCommands++;
    if (this.checks.active) this.checks.propagate([src], [dst]);
  }

  /**
   * Copies `byteLength` bytes at `byteOffset` back to the CPU. Submits the open batch. Throws a
   * WebGPUIndexError if a kernel found an out-of-range index while computing this buffer.
   */
  async read(buffer: GPUBuffer, byteOffset = 0, byteLength?: number): Promise<ArrayBuffer> {
    this.throwIfLost();
    this.throwDeferred();
    const len = byteLength ?? buffer.size - byteOffset;
    if (len === 0) return new ArrayBuffer(0);
    const start = Math.floor(byteOffset / 4) * 4;
    const end = Math.ceil((byteOffset + len) / 4) * 4;
    const staging = this.pool.acquire(end - start, this.stagingUsage);
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(buffer, start, staging, 0, end - start);
    this.batchCommands++;
    const carried = this.checks.active ? this.checks.of(buffer) : null;
    this.submit();
    const serial = this.submitted;
    try {
      await this.untilLost(staging.mapAsync(GPUMapMode.READ, 0, end - start));
      const out = staging.getMappedRange(0, end - start).slice(byteOffset - start, byteOffset - start + len);
      staging.unmap();
      if (carried) {
        await this.untilLost(Promise.all(carried.map((c) => c.done)));
        const failed = carried.find((c) => c.state === 'failed');
        if (failed) throw new WebGPUIndexError(failed.op, failed.index, failed.size, failed.what);
      }
      await this.pipelines.settled();
      this.throwDeferred();
      this.thrownSinceRead = false;
      return out;
    } finally {
      this.pool.release(staging, serial, this.completedSerial);
    }
  }

  /**
   * The code a kernel writes into the error buffer for out-of-range indices of `op` (1-based;
   * stable for the runtime's lifetime). Kernels store [1, code, badIndex, dimSize].
   */
  errorCode(op: string): number {
    let i = this.errorOps.indexOf(op);
    if (i < 0) i = this.errorOps.push(op) - 1;
    return i + 1;
  }

  /**
   * Runs `fn`, reporting the out-of-range indices its kernels find as errors of `op` about `what`
   * (for a public op built from indexing kernels: oneHot from scatterAdd, of ids by numClasses).
   */
  reportIndexErrorsAs<T>(op: string, what: string, fn: () => T): T {
    const prev = this.checkName;
    this.checkName = { op, what };
    try {
      return fn();
    } finally {
      this.checkName = prev;
    }
  }

  /**
   * Runs `fn` and counts the dispatches it encodes, by label (the kernel's name, as `profile()`
   * names them): which kernels a step issues, and how many of each. A replayed capture re-issues
   * its command list without encoding, so its dispatches are not counted here (`stats()` counts
   * them). Tallies nest: an inner one counts its own dispatches, and they count in the outer one too.
   */
  tallyDispatches<T>(fn: () => T): DispatchTally<T> {
    if (typeof fn !== 'function') throw new TypeError(`tallyDispatches: fn must be a function, got ${fn === null ? 'null' : typeof fn}`);
    const outer = this.tally;
    const counts = new Map<string, number>();
    this.tally = counts;
    let result: T;
    try {
      result = fn();
    } finally {
      this.tally = outer;
      if (outer) for (const [k, n] of counts) outer.set(k, (outer.get(k) ?? 0) + n);
    }
    return { result, counts };
  }

  /** The runtime's counters now. */
  stats(): RuntimeStats {
    return {
      ...this.pool.stats(), submits: this.nSubmits, dispatches: this.nDispatches, pipelines: this.pipelines.size,
      bindGroups: this.bindGroups.size, bindGroupHits: this.bindGroups.hits, bindGroupMisses: this.bindGroups.misses,
    };
  }

  /** Destroys every pooled buffer not in use. */
  trim(): number {
    return this.pool.trim();
  }

  // ---- profiling --------------------------------------------------------------------------------

  /** Whether the device has 'timestamp-query', which profiling needs. */
  get canProfile(): boolean {
    return this.features.has('timestamp-query');
  }

  /** Turns per-dispatch GPU timing on or off (needs 'timestamp-query'; costs one compute pass per dispatch). */
  setProfiling(on: boolean): void {
    if (on && !this.canProfile) throw new Error('profiling needs the timestamp-query feature, which this adapter lacks');
    this.submit();
    this.profiling = on;
    if (on && !this.querySet) {
      this.querySet = this.device.createQuerySet({ type: 'timestamp', count: 2 * this.maxDispatchesPerSubmit });
    }
  }

  /** GPU time per dispatch label since profiling was turned on (or last reset). Flushes. */
  async profile(reset = false): Promise<Record<string, ProfileEntry>> {
    this.flush();
    await Promise.all(this.profileReads.splice(0));
    const out: Record<string, ProfileEntry> = {};
    for (const [k, v] of this.profileTotals) out[k] = { ...v };
    if (reset) this.profileTotals.clear();
    return out;
  }

  // ---- lifetime ---------------------------------------------------------------------------------

  /** Destroys the device and every buffer. The runtime cannot be used afterwards. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pool.destroyAll();
    this.bindGroups.clear();
    this.ring.destroy();
    this.errorBuffer.destroy();
    this.querySet?.destroy();
    this.device.destroy();
  }

  // ---- internals --------------------------------------------------------------------------------

  private afterSubmit: (() => void)[] = [];

  private commandEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder({ label: 'webgrad batch' }));
  }

  private computePass(label: string): GPUComputePassEncoder {
    if (this.pass) return this.pass;
    const desc: GPUComputePassDescriptor = {};
    if (this.profiling && this.querySet) {
      const i = this.queryLabels.length;
      this.queryLabels.push(label);
      desc.timestampWrites = { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
    }
    this.pass = this.commandEncoder().beginComputePass(desc);
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
    this.passPipeline = null;
  }

  private submit(): void {
    if (!this.encoder) return;
    this.endPass();
    const enc = this.encoder;
    let labels: string[] = [];
    let resolve: GPUBuffer | null = null;
    let readback: GPUBuffer | null = null;
    if (this.queryLabels.length > 0 && this.querySet) {
      labels = this.queryLabels;
      this.queryLabels = [];
      const n = labels.length * 2;
      resolve = this.device.createBuffer({ size: n * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      readback = this.device.createBuffer({ size: n * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      enc.resolveQuerySet(this.querySet, 0, n, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, readback, 0, n * 8);
    }
    const log = this.checkLog;
    this.checkLog = null;
    this.ring.upload();
    this.device.queue.submit([enc.finish()]);
    this.encoder = null;
    this.batchCommands = 0;
    this.batchDispatches = 0;
    this.nSubmits++;
    const serial = ++this.submitted;
    if (this.afterSubmit.length > 0) for (const f of this.afterSubmit.splice(0)) f();
    if (log) this.readCheckLog(log);
    this.device.queue.onSubmittedWorkDone().then(() => {
      if (serial > this.completedSerial) this.completedSerial = serial;
      this.pool.completed(this.completedSerial);
    }, () => { /* device lost: surfaced through this.lost */ });
    if (readback && resolve) {
      const rb = readback, rs = resolve;
      this.profileReads.push(rb.mapAsync(GPUMapMode.READ).then(() => {
        const t = new BigUint64Array(rb.getMappedRange().slice(0));
        for (let i = 0; i < labels.length; i++) {
          const ns = Number(t[2 * i + 1]! - t[2 * i]!);
          const e = this.profileTotals.get(labels[i]!) ?? { calls: 0, gpuMs: 0 };
          e.calls++;
          e.gpuMs += Math.max(0, ns) / 1e6;
          this.profileTotals.set(labels[i]!, e);
        }
        rb.unmap();
        rb.destroy();
        rs.destroy();
      }, () => { rb.destroy(); rs.destroy(); }));
    }
  }

  /**
   * After a dispatch: its written ('readwrite') buffers take on the index checks of every buffer it
   * binds; a dispatch bound to the error buffer also gets a check of its own, and the error buffer
   * is copied into that check's slot of the batch's log and cleared.
   */
  private track(p: Pipeline, bindings: readonly GPUBuffer[], checked: boolean): void {
    const read: GPUBuffer[] = [];
    const written: GPUBuffer[] = [];
    for (let i = 0; i < bindings.length; i++) {
      const b = bindings[i]!;
      if (b === this.errorBuffer) continue;
      read.push(b);
      if (p.layout[i] === 'readwrite') written.push(b);
    }
    this.trackBuffers(read, written, checked, this.checkName);
  }

  /** `track` with the read and written buffers known, and the name the check reports under. */
  private trackBuffers(read: readonly GPUBuffer[], written: readonly GPUBuffer[], checked: boolean, name: IndexCheckName | null): void {
    if (!checked) {
      this.checks.propagate(read, written);
      return;
    }
    const check = this.checks.begin(name);
    this.checks.propagate(read, written, check);
    const log = (this.checkLog ??= {
      buffer: this.device.createBuffer({ label: 'webgrad index checks', size: CHECK_SLOTS * ERROR_WORDS * 4, usage: this.stagingUsage }),
      checks: [],
    });
    this.endPass();
    const enc = this.commandEncoder();
    enc.copyBufferToBuffer(this.errorBuffer, 0, log.buffer, log.checks.length * ERROR_WORDS * 4, ERROR_WORDS * 4);
    enc.clearBuffer(this.errorBuffer, 0, ERROR_WORDS * 4);
    log.checks.push(check);
    if (log.checks.length === CHECK_SLOTS) this.submit();
  }

  /** Maps a submitted batch's log and settles its checks. */
  private readCheckLog(log: { buffer: GPUBuffer; checks: IndexCheck[] }): void {
    const bytes = log.checks.length * ERROR_WORDS * 4;
    const done = log.buffer.mapAsync(GPUMapMode.READ, 0, bytes).then(() => {
      const w = new Uint32Array(log.buffer.getMappedRange(0, bytes).slice(0));
      log.buffer.unmap();
      log.checks.forEach((c, i) => {
        const o = i * ERROR_WORDS;
        if (w[o] === 0) this.checks.pass(c);
        else this.checks.fail(c, this.errorOps[w[o + 1]! - 1] ?? `op #${w[o + 1]}`, w[o + 2]! | 0, w[o + 3]!);
      });
    }, () => { /* device lost: reads throw that instead */ }).finally(() => log.buffer.destroy());
    for (const c of log.checks) c.done = done;
  }

  /** The first live capture whose commands name `buffer`, or null. */
  private capturesNaming(buffer: GPUBuffer): Capture | null {
    for (const c of this.captures) if (c.buffers.has(buffer)) return c;
    return null;
  }

  private createBuffer(size: number, usage: number): GPUBuffer {
    this.device.pushErrorScope('out-of-memory');
    const b = this.device.createBuffer({ size, usage });
    void this.device.popErrorScope().then((err) => {
      if (err) this.defer(new WebGPUOutOfMemoryError(size, err.message));
    }, () => { /* device lost */ });
    return b;
  }

  /**
   * Stores an asynchronous GPU error to throw at the next flush or read. Follow-up errors that
   * merely say an object "is invalid due to a previous error" are dropped in favour of the cause
   * (which may arrive later, e.g. a shader's compilation messages).
   */
  private defer(e: Error): void {
    const followUp = /due to a previous error/i.test(e.message);
    if (followUp) {
      if (!this.deferred && !this.thrownSinceRead) this.deferred = e;
      return;
    }
    if (this.thrownSinceRead && this.deferredFollowUpOnly(e)) return;
    if (!this.deferred || /due to a previous error/i.test(this.deferred.message)) this.deferred = e;
  }

  /** A primary error that repeats the one already thrown (same message) is not thrown twice. */
  private deferredFollowUpOnly(e: Error): boolean {
    return this.lastThrown?.message === e.message;
  }

  /**
   * `p`, rejected instead if the device is lost first, with the event loop held open meanwhile.
   * (Racing `p` against a promise of the loss would leave a reaction on that never-settling
   * promise per call: memory that grows with every read.)
   */
  private untilLost<T>(p: Promise<T>): Promise<T> {
    if (this.lost) return Promise.reject(this.lost);
    return keepAlive(new Promise<T>((resolve, reject) => {
      this.waiting.add(reject);
      p.then(resolve, reject).finally(() => this.waiting.delete(reject));
    }));
  }

  private throwIfLost(): void {
    if (this.destroyed) throw new WebGPUDeviceLostError('the WebGPU runtime was destroyed');
    if (this.lost) throw this.lost;
  }

  private throwDeferred(): void {
    this.throwIfLost();
    const e = this.deferred;
    if (e) {
      this.deferred = null;
      this.thrownSinceRead = true;
      this.lastThrown = e;
      throw e;
    }
  }
}
