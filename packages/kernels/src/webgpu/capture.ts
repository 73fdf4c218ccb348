// Capture and replay of a runtime's device commands.
//
// Between `WebGPURuntime.beginCapture()` and `endCapture()` every command the runtime issues still
// runs as usual, and a `CaptureRecorder` also keeps a copy of it: a dispatch (pipeline, bound
// buffers, its uniform bytes, workgroup counts, label, and the index-check name in force), a
// buffer-to-buffer copy, or a write (its bytes). `endCapture` turns the record into a `Capture`:
//
// - The uniforms of all its dispatches are packed into one uniform buffer owned by the capture, one
//   slot per dispatch aligned to minUniformBufferOffsetAlignment, written once. They are frozen: a
//   replay re-runs each kernel with the shapes, offsets and scalars it had when captured.
// - Each dispatch gets its own bind group, created once, whose uniform entry points at the
//   dispatch's slot, and runs the static variant of its pipeline (the same shader compiled against
//   a layout without a dynamic uniform offset, PipelineCache.staticVariant): on lavapipe that
//   cuts the driver's CPU time per dispatch from ~70 to ~30 µs (benchmarks/dispatch_cost.ts);
//   hardware drivers take dynamic offsets for free, so there it costs nothing. A replay then does no
//   uniform copy, no bind-group lookup and no validation of arguments: it sets the pipeline and
//   the bind group and dispatches, for each command in order.
//
// A replay goes into the runtime's open batch like any other work (WebGPURuntime.replay): it
// submits after `maxDispatchesPerSubmit` dispatches, counts its dispatches in `stats()`, keeps
// buffers released afterwards pending until its submit completes, and re-creates the index checks
// of its checked dispatches (an out-of-range index a replayed gather meets is thrown by a read, as
// in eager mode). Replayed writes upload the captured bytes again, ordered with the dispatches.
//
// Buffers a capture names stay reserved for it: one released (WebGPURuntime.release, a tensor's
// dispose) while a live capture, or the capture in progress, names it is held by that capture and
// goes back to the pool only when the last capture naming it is disposed. So the pool never hands
// a replay's buffers to other tensors, and a temporary freed inside the captured function keeps
// the storage the replays write and read. Buffers the runtime did not allocate must stay
// undestroyed until dispose.

import type { Pipeline } from './pipeline_cache.js';
import type { IndexCheckName } from './index_checks.js';

/** A capture was used wrongly: nested or unbalanced begin/end, a replay after dispose or on another runtime, an asynchronous function. */
export class WebGPUCaptureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebGPUCaptureError';
  }
}

/** One recorded dispatch. */
export interface CapturedDispatch {
  /** Always 'dispatch'. */
  readonly kind: 'dispatch';
  /** The pipeline dispatched. */
  readonly pipeline: Pipeline;
  /** Its storage buffers, in binding order. */
  readonly buffers: readonly GPUBuffer[];
  /** Its uniform bytes, padded to the uniform binding size (UniformRing.bindingSize). */
  readonly uniforms: Uint8Array<ArrayBuffer>;
  /** Workgroup counts [x, y, z]. */
  readonly workgroups: readonly [number, number, number];
  /** Its label in `profile()`. */
  readonly label: string;
  /** Whether it binds the runtime's error buffer (an index-checked kernel). */
  readonly checked: boolean;
  /** The op and indexed thing its index errors were reported as (`reportIndexErrorsAs`) while captured. */
  readonly checkName: {
    /** The public op named in the error. */
    readonly op: string;
    /** What its indices index. */
    readonly what: string;
  } | null;
  /** Buffers it reads and buffers it writes, without the error buffer (for index-check bookkeeping). */
  readonly read: readonly GPUBuffer[];
  /** Buffers bound read-write. */
  readonly written: readonly GPUBuffer[];
}

/** One recorded buffer-to-buffer copy (byte sizes and offsets). */
export interface CapturedCopy {
  /** Always 'copy'. */
  readonly kind: 'copy';
  /** Source buffer. */
  readonly src: GPUBuffer;
  /** Destination buffer. */
  readonly dst: GPUBuffer;
  /** Bytes copied. */
  readonly bytes: number;
  /** Byte offset in `src`. */
  readonly srcOffset: number;
  /** Byte offset in `dst`. */
  readonly dstOffset: number;
}

/** One recorded write of CPU data into a buffer. */
export interface CapturedWrite {
  /** Always 'write'. */
  readonly kind: 'write';
  /** The buffer written. */
  readonly buffer: GPUBuffer;
  /** A copy of the bytes written (a multiple of 4). */
  readonly data: Uint8Array<ArrayBuffer>;
  /** Byte offset in `buffer`. */
  readonly byteOffset: number;
}

/** A recorded command. */
export type CapturedCommand = CapturedDispatch | CapturedCopy | CapturedWrite;

/** Collects the commands of a capture in progress. */
export class CaptureRecorder {
  readonly commands: CapturedCommand[] = [];
  /** Every buffer the commands name so far. */
  readonly buffers = new Set<GPUBuffer>();
  /** Buffers among them released while recording, held until the capture is disposed. */
  readonly held = new Set<GPUBuffer>();

  dispatch(p: Pipeline, buffers: readonly GPUBuffer[], uniforms: ArrayBuffer | ArrayBufferView, paddedBytes: number,
    workgroups: readonly [number, number, number], label: string, errorBuffer: GPUBuffer, checkName: IndexCheckName | null): void {
    const bytes = new Uint8Array(paddedBytes);
    bytes.set(uniforms instanceof ArrayBuffer ? new Uint8Array(uniforms) : new Uint8Array(uniforms.buffer, uniforms.byteOffset, uniforms.byteLength));
    const read: GPUBuffer[] = [], written: GPUBuffer[] = [];
    let checked = false;
    for (let i = 0; i < buffers.length; i++) {
      const b = buffers[i]!;
      this.buffers.add(b);
      if (b === errorBuffer) { checked = true; continue; }
      read.push(b);
      if (p.layout[i] === 'readwrite') written.push(b);
    }
    this.commands.push({ kind: 'dispatch', pipeline: p, buffers: buffers.slice(), uniforms: bytes, workgroups, label, checked, checkName, read, written });
  }

  copy(src: GPUBuffer, dst: GPUBuffer, bytes: number, srcOffset: number, dstOffset: number): void {
    this.buffers.add(src).add(dst);
    this.commands.push({ kind: 'copy', src, dst, bytes, srcOffset, dstOffset });
  }

  write(buffer: GPUBuffer, data: Uint8Array, byteOffset: number): void {
    this.buffers.add(buffer);
    this.commands.push({ kind: 'write', buffer, data: data.slice(), byteOffset });
  }

  /** Appends the commands of a capture replayed while this one records. */
  append(c: Capture): void {
    for (const cmd of c.recorded) this.commands.push(cmd);
    for (const b of c.buffers) this.buffers.add(b);
  }
}

/** What a Capture calls back into its runtime for. */
export interface CaptureHost {
  /** Re-issues the capture's commands into the open batch. */
  replay(c: Capture): void;
  /** Forgets the capture, releases the buffers it held and destroys its uniform buffer once no unsubmitted batch can use it. */
  dispose(c: Capture, uniforms: GPUBuffer | null): void;
  /** `p` compiled against a layout whose uniform has a static offset. */
  staticPipeline(p: Pipeline): Pipeline;
}

/**
 * Device commands recorded by `WebGPURuntime.capture` (or `beginCapture` … `endCapture`), ready to
 * be re-issued with `replay()`: the same pipelines, buffers, frozen uniforms and workgroup counts,
 * through bind groups prepared once. `dispose()` frees its uniform buffer and bind groups.
 */
export class Capture {
  /** The recorded commands, in issue order. */
  readonly recorded: readonly CapturedCommand[];
  /** Bind group of each command (undefined for copies and writes), uniform entry at the dispatch's slot. */
  readonly groups: readonly (GPUBindGroup | undefined)[];
  /** Pipeline each command runs (the static variant of the captured one; undefined for copies and writes). */
  readonly pipelines: readonly (GPUComputePipeline | undefined)[];
  /** Every buffer the commands name. */
  readonly buffers: ReadonlySet<GPUBuffer>;
  /** Buffers among them released since they were named, held until `dispose()`. */
  readonly held: Set<GPUBuffer>;
  /** Dispatches among the commands. */
  readonly dispatches: number;
  private uniformBuffer: GPUBuffer | null;
  private disposed = false;

  /**
   * Built by the runtime (`endCapture`): packs the uniforms into one buffer and creates the bind groups.
   * @internal
   */
  constructor(device: GPUDevice, recorder: CaptureRecorder, alignment: number, private readonly host: CaptureHost) {
    const commands = recorder.commands;
    this.recorded = commands;
    this.buffers = recorder.buffers;
    this.held = recorder.held;
    const offsets: number[] = [];
    let size = 0, dispatches = 0;
    for (const c of commands) {
      if (c.kind !== 'dispatch') continue;
      offsets.push(size);
      size += Math.ceil(c.uniforms.byteLength / alignment) * alignment;
      dispatches++;
    }
    this.dispatches = dispatches;
    if (dispatches === 0) {
      this.uniformBuffer = null;
      this.groups = commands.map(() => undefined);
      this.pipelines = this.groups as undefined[];
      return;
    }
    const ub = device.createBuffer({ label: 'webgrad captured uniforms', size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, mappedAtCreation: true });
    const bytes = new Uint8Array(ub.getMappedRange());
    let k = 0;
    const pipelines: (GPUComputePipeline | undefined)[] = [];
    this.groups = commands.map((c) => {
      if (c.kind !== 'dispatch') { pipelines.push(undefined); return undefined; }
      const offset = offsets[k++]!;
      bytes.set(c.uniforms, offset);
      const p = host.staticPipeline(c.pipeline);
      pipelines.push(p.pipeline);
      const entries = p.bindings.groupEntries(c.buffers, ub, c.uniforms.byteLength);
      const u = p.bindings.uniformBinding;
      entries[u] = { binding: u, resource: { buffer: ub, offset, size: c.uniforms.byteLength } };
      return device.createBindGroup({ label: `captured ${c.label}`, layout: p.bindGroupLayout, entries });
    });
    this.pipelines = pipelines;
    ub.unmap();
    this.uniformBuffer = ub;
  }

  /** How many commands it holds: dispatches, copies and writes. */
  get commands(): number {
    return this.recorded.length;
  }

  /** Whether `dispose()` was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Re-issues the recorded commands into the runtime's open batch (WebGPURuntime.replay). */
  replay(): void {
    this.host.replay(this);
  }

  /** Frees the uniform buffer (once no unsubmitted batch uses it) and the bind groups, and releases the buffers it held. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.host.dispose(this, this.uniformBuffer);
    this.uniformBuffer = null;
    (this.groups as (GPUBindGroup | undefined)[]).length = 0;
    (this.pipelines as (GPUComputePipeline | undefined)[]).length = 0;
  }
}
