// packages/kernels/src/webgpu/errors.ts
var WebGPUUnavailableError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "WebGPUUnavailableError";
  }
};
var WebGPUOutOfMemoryError = class extends Error {
  requestedBytes;
  constructor(requestedBytes, detail) {
    super(`WebGPU out of memory: could not allocate ${requestedBytes} bytes (${detail}). Dispose tensors you no longer need (tidy(), using, dispose()) or use smaller batches.`);
    this.name = "WebGPUOutOfMemoryError";
    this.requestedBytes = requestedBytes;
  }
};
var WebGPUDeviceLostError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "WebGPUDeviceLostError";
  }
};
var WebGPUValidationError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "WebGPUValidationError";
  }
};

// packages/kernels/src/webgpu/device.ts
var INSTALL_HINT = "On Linux without a GPU, install a software Vulkan driver with `sudo bash scripts/install-webgpu-driver.sh` (Mesa lavapipe); in a browser, use one with WebGPU enabled.";
var RAISED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
  "maxUniformBufferBindingSize",
  "maxBindGroups",
  "maxDynamicUniformBuffersPerPipelineLayout"
];
var OPTIONAL_FEATURES = ["shader-f16", "timestamp-query", "subgroups"];
var SOFTWARE_PATTERN = /lavapipe|llvmpipe|swiftshader|software|warp|basic render|microsoft basic/i;
async function findGPU(given) {
  if (given) return given;
  const nav = globalThis.navigator;
  if (nav?.gpu) return nav.gpu;
  let mod;
  try {
    const name = "webgpu";
    mod = await import(
      /* @vite-ignore */
      name
    );
  } catch (e) {
    throw new WebGPUUnavailableError(`WebGPU is not available: navigator.gpu is missing and the 'webgpu' package could not be loaded (${e.message}). ${INSTALL_HINT}`);
  }
  const g = globalThis;
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in g)) g[k] = v;
  return mod.create([]);
}
function describeAdapter(adapter) {
  const info = adapter.info ?? {};
  const vendor = info.vendor ?? "";
  const architecture = info.architecture ?? "";
  const device = info.device ?? "";
  const description = info.description ?? "";
  const fallback = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
  const isSoftware = fallback || info.adapterType === "cpu" || architecture === "software" || SOFTWARE_PATTERN.test(`${vendor} ${architecture} ${device} ${description}`);
  return { vendor, architecture, device, description, isSoftware };
}
async function acquireDevice(opts = {}) {
  const gpu = await findGPU(opts.gpu);
  const adapterOpts = {};
  if (opts.powerPreference) adapterOpts.powerPreference = opts.powerPreference;
  let adapter = null;
  try {
    adapter = await gpu.requestAdapter(adapterOpts);
  } catch (e) {
    throw new WebGPUUnavailableError(`requestAdapter failed: ${e.message}. ${INSTALL_HINT}`);
  }
  if (!adapter) throw new WebGPUUnavailableError(`No WebGPU adapter found. ${INSTALL_HINT}`);
  const info = describeAdapter(adapter);
  if (info.isSoftware && opts.allowSoftware === false) {
    throw new WebGPUUnavailableError(`Only a software WebGPU adapter is available (${info.description || info.device}) and allowSoftware is false.`);
  }
  const requiredLimits = {};
  const limits = adapter.limits;
  for (const name of RAISED_LIMITS) {
    const v = limits[name];
    if (typeof v === "number") requiredLimits[name] = v;
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  let device;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: "webgrad" });
  } catch (e) {
    throw new WebGPUUnavailableError(`requestDevice failed on ${info.description || info.device}: ${e.message}`);
  }
  return { adapter, device, info, features: new Set(device.features) };
}

// packages/kernels/src/webgpu/buffer_pool.ts
var MIN_CLASS = 16;
function sizeClass(bytes) {
  if (bytes <= MIN_CLASS) return MIN_CLASS;
  if (bytes <= 4096) return 2 ** Math.ceil(Math.log2(bytes));
  const octave = 2 ** Math.floor(Math.log2(bytes));
  const quarter = octave / 4;
  return Math.ceil(bytes / quarter) * quarter;
}
var BufferPool = class {
  constructor(create2) {
    this.create = create2;
  }
  create;
  free = /* @__PURE__ */ new Map();
  pending = [];
  entries = /* @__PURE__ */ new Map();
  s = { liveBytes: 0, pooledBytes: 0, pendingBytes: 0, allocations: 0, reuses: 0, liveBuffers: 0 };
  /** A buffer of at least `bytes` with exactly `usage`, from the pool when one is free. */
  acquire(bytes, usage) {
    const size = sizeClass(bytes);
    const list = this.free.get(`${usage}:${size}`);
    let buffer = list?.pop();
    if (buffer) {
      this.s.pooledBytes -= size;
      this.s.reuses++;
      this.entries.get(buffer).state = "live";
    } else {
      buffer = this.create(size, usage);
      this.s.allocations++;
      this.entries.set(buffer, { size, usage, state: "live" });
    }
    this.s.liveBytes += size;
    this.s.liveBuffers++;
    return buffer;
  }
  /** Is this a live buffer of this pool? */
  owns(buffer) {
    return this.entries.get(buffer)?.state === "live";
  }
  /** Returns a live buffer; it becomes reusable once submission `serial` has completed. */
  release(buffer, serial, completedSerial) {
    const e = this.entries.get(buffer);
    if (!e) throw new Error("release: this GPUBuffer was not allocated by this runtime");
    if (e.state !== "live") throw new Error("release: buffer released twice");
    this.s.liveBytes -= e.size;
    this.s.liveBuffers--;
    if (serial <= completedSerial) {
      this.toFree(buffer, e);
    } else {
      e.state = "pending";
      this.s.pendingBytes += e.size;
      this.pending.push({ buffer, serial });
    }
  }
  /** Everything released before submission `serial` completed becomes reusable. */
  completed(serial) {
    let w = 0;
    for (let r = 0; r < this.pending.length; r++) {
      const p = this.pending[r];
      if (p.serial <= serial) {
        const e = this.entries.get(p.buffer);
        this.s.pendingBytes -= e.size;
        this.toFree(p.buffer, e);
      } else {
        this.pending[w++] = p;
      }
    }
    this.pending.length = w;
  }
  /** Destroys every free buffer (pending and live ones are kept). Returns the bytes given back. */
  trim() {
    let bytes = 0;
    for (const list of this.free.values()) {
      for (const b of list) {
        const e = this.entries.get(b);
        bytes += e.size;
        this.entries.delete(b);
        b.destroy();
      }
    }
    this.free.clear();
    this.s.pooledBytes -= bytes;
    return bytes;
  }
  /** Destroys every buffer, live or not. */
  destroyAll() {
    for (const b of this.entries.keys()) b.destroy();
    this.entries.clear();
    this.free.clear();
    this.pending.length = 0;
    this.s = { ...this.s, liveBytes: 0, pooledBytes: 0, pendingBytes: 0, liveBuffers: 0 };
  }
  stats() {
    return { ...this.s };
  }
  toFree(buffer, e) {
    e.state = "free";
    const key = `${e.usage}:${e.size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, list = []);
    list.push(buffer);
    this.s.pooledBytes += e.size;
  }
};

// packages/kernels/src/webgpu/uniform_ring.ts
var UniformRing = class _UniformRing {
  constructor(device, capacity, alignment) {
    this.device = device;
    this.alignment = alignment;
    this.capacity = capacity;
    this.buffer = device.createBuffer({ label: "webgrad uniform ring", size: capacity, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.staging = new Uint8Array(capacity);
  }
  device;
  alignment;
  buffer;
  capacity;
  staging;
  used = 0;
  /** Bytes a payload of `bytes` occupies in the ring (padded to 16: WGSL uniform structs are 16-aligned). */
  static bindingSize(bytes) {
    return Math.max(16, Math.ceil(bytes / 16) * 16);
  }
  /** Would `bytes` more fit in this batch? */
  fits(bytes) {
    return this.used + _UniformRing.bindingSize(bytes) <= this.capacity;
  }
  /** Copies `data` into the next slot and returns its byte offset. Call `fits` first. */
  push(data) {
    const offset = this.used;
    this.staging.set(data, offset);
    const size = _UniformRing.bindingSize(data.byteLength);
    if (size > data.byteLength) this.staging.fill(0, offset + data.byteLength, offset + size);
    this.used = offset + Math.ceil(size / this.alignment) * this.alignment;
    return offset;
  }
  /** Uploads this batch's uniforms (before its submit) and starts the next batch at offset 0. */
  upload() {
    if (this.used === 0) return;
    this.device.queue.writeBuffer(this.buffer, 0, this.staging, 0, Math.min(this.used, this.capacity));
    this.used = 0;
  }
  destroy() {
    this.buffer.destroy();
  }
};

// packages/kernels/src/webgpu/pipeline_cache.ts
var PipelineCache = class {
  constructor(device, onError) {
    this.device = device;
    this.onError = onError;
  }
  device;
  onError;
  pipelines = /* @__PURE__ */ new Map();
  layouts = /* @__PURE__ */ new Map();
  pending = /* @__PURE__ */ new Map();
  checks = /* @__PURE__ */ new Set();
  get size() {
    return this.pipelines.size;
  }
  has(key) {
    return this.pipelines.has(key);
  }
  /** The cached pipeline for `key`, compiling it synchronously on a miss. */
  get(key, wgsl, layout) {
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const { bgl, pl } = this.layoutFor(layout);
    const code = wgsl();
    this.device.pushErrorScope("validation");
    const module = this.device.createShaderModule({ label: key, code });
    const pipeline = this.device.createComputePipeline({ label: key, layout: pl, compute: { module, entryPoint: "main" } });
    const check = this.device.popErrorScope().then(async (err) => {
      if (err) this.onError(await compileError(key, module, err.message));
    }, () => {
    }).finally(() => this.checks.delete(check));
    this.checks.add(check);
    const p = { key, pipeline, bindGroupLayout: bgl, layout: [...layout] };
    this.pipelines.set(key, p);
    return p;
  }
  /** Compiles the given pipelines asynchronously (skipping cached ones) and waits for all of them. */
  async warmup(specs) {
    const jobs = [];
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
  async settled() {
    while (this.checks.size > 0) await Promise.all([...this.checks]);
  }
  /** Compiles still in flight. */
  get inFlight() {
    return this.pending.size;
  }
  async compileAsync(s) {
    const { bgl, pl } = this.layoutFor(s.layout);
    const module = this.device.createShaderModule({ label: s.key, code: s.wgsl() });
    let pipeline;
    try {
      pipeline = await this.device.createComputePipelineAsync({ label: s.key, layout: pl, compute: { module, entryPoint: "main" } });
    } catch (e) {
      throw await compileError(s.key, module, e.message);
    }
    if (!this.pipelines.has(s.key)) this.pipelines.set(s.key, { key: s.key, pipeline, bindGroupLayout: bgl, layout: [...s.layout] });
  }
  layoutFor(layout) {
    const sig = layout.join(",");
    let l = this.layouts.get(sig);
    if (!l) {
      const entries = layout.map((kind, i) => ({
        binding: i,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: kind === "read" ? "read-only-storage" : "storage" }
      }));
      entries.push({ binding: layout.length, visibility: GPUShaderStage.COMPUTE, buffer: { type: "uniform", hasDynamicOffset: true } });
      const bgl = this.device.createBindGroupLayout({ label: `webgrad [${sig}]`, entries });
      const pl = this.device.createPipelineLayout({ bindGroupLayouts: [bgl] });
      l = { bgl, pl };
      this.layouts.set(sig, l);
    }
    return l;
  }
};
async function compileError(key, module, message) {
  let details = "";
  try {
    const info = await module.getCompilationInfo();
    details = info.messages.filter((m) => m.type === "error").map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}`).join("\n");
  } catch {
  }
  return new WebGPUValidationError(`WebGPU pipeline '${key}' failed to compile: ${message}${details ? `
${details}` : ""}`);
}

// packages/kernels/src/webgpu/workgroups.ts
var MAX_WORKGROUPS_PER_DIM = 65535;

// packages/kernels/src/webgpu/runtime.ts
var ERROR_WORDS = 4;
var WebGPURuntime = class _WebGPURuntime {
  device;
  adapter;
  info;
  features;
  limits;
  /** Storage buffer kernels flag out-of-range indices into; bind it as a 'readwrite' binding. */
  errorBuffer;
  maxDispatchesPerSubmit;
  storageUsage;
  stagingUsage;
  pool;
  ring;
  pipelines;
  memoryLimit;
  encoder = null;
  pass = null;
  batchCommands = 0;
  batchDispatches = 0;
  submitted = 0;
  completedSerial = 0;
  nSubmits = 0;
  nDispatches = 0;
  errorBufferDirty = false;
  errorOps = [];
  deferred = null;
  thrownSinceRead = false;
  lastThrown = null;
  lost = null;
  destroyed = false;
  lostPromise;
  // profiling
  profiling = false;
  querySet = null;
  queryLabels = [];
  profileTotals = /* @__PURE__ */ new Map();
  profileReads = [];
  constructor(adapter, device, info, features, opts) {
    this.adapter = adapter;
    this.device = device;
    this.info = info;
    this.features = features;
    this.limits = device.limits;
    this.maxDispatchesPerSubmit = opts.maxDispatchesPerSubmit ?? 128;
    this.memoryLimit = opts.memoryLimitBytes ?? Infinity;
    this.storageUsage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.stagingUsage = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
    this.pool = new BufferPool((size, usage) => this.createBuffer(size, usage));
    const align = device.limits.minUniformBufferOffsetAlignment;
    this.ring = new UniformRing(device, opts.uniformRingBytes ?? 256 * 1024, align);
    this.pipelines = new PipelineCache(device, (e) => this.defer(e));
    this.errorBuffer = device.createBuffer({ label: "webgrad error flags", size: ERROR_WORDS * 4, usage: this.storageUsage });
    device.addEventListener("uncapturederror", (ev) => {
      const err = ev.error;
      if (typeof GPUOutOfMemoryError !== "undefined" && err instanceof GPUOutOfMemoryError) {
        this.defer(new WebGPUOutOfMemoryError(0, err.message));
      } else {
        this.defer(new WebGPUValidationError(`WebGPU error: ${err.message}`));
      }
    });
    this.lostPromise = device.lost.then((info2) => {
      const e = new WebGPUDeviceLostError(this.destroyed ? "the WebGPU runtime was destroyed" : `WebGPU device lost (${info2.reason}): ${info2.message}. Create a new runtime to continue.`);
      this.lost = e;
      throw e;
    });
    this.lostPromise.catch(() => {
    });
  }
  /** Opens the GPU: navigator.gpu in browsers, the `webgpu` package (Dawn) in Node. */
  static async create(opts = {}) {
    const { adapter, device, info, features } = await acquireDevice(opts);
    return new _WebGPURuntime(adapter, device, info, features, opts);
  }
  // ---- pipelines --------------------------------------------------------------------------------
  /** The pipeline for `key` (compiled on first use). See pipeline_cache.ts for the binding layout. */
  pipeline(key, wgsl, layout) {
    return this.pipelines.get(key, wgsl, layout);
  }
  /** Compiles pipelines asynchronously ahead of their first dispatch. */
  warmup(specs) {
    return this.pipelines.warmup(specs);
  }
  /** Number of pipelines still compiling through `warmup`. */
  get pending() {
    return this.pipelines.inFlight;
  }
  // ---- dispatch ---------------------------------------------------------------------------------
  /**
   * Encodes one dispatch into the open batch. `bindings` match the pipeline's layout in order;
   * `uniforms` is the kernel's uniform struct, byte for byte; `label` names it in `profile()`.
   * A dispatch with zero workgroups is skipped.
   */
  dispatch(p, bindings, uniforms, workgroups, label) {
    this.throwIfLost();
    const x = workgroups[0], y = workgroups[1] ?? 1, z = workgroups[2] ?? 1;
    if (x === 0 || y === 0 || z === 0) return;
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension ?? MAX_WORKGROUPS_PER_DIM;
    if (x > maxDim || y > maxDim || z > maxDim) {
      throw new RangeError(`dispatch '${p.key}': workgroups [${x}, ${y}, ${z}] exceed ${maxDim} per dimension; use splitWorkgroups()`);
    }
    if (bindings.length !== p.layout.length) {
      throw new Error(`dispatch '${p.key}': ${bindings.length} buffers bound, the pipeline expects ${p.layout.length}`);
    }
    const bytes = uniforms instanceof ArrayBuffer ? new Uint8Array(uniforms) : new Uint8Array(uniforms.buffer, uniforms.byteOffset, uniforms.byteLength);
    if (!this.ring.fits(bytes.byteLength) || this.batchDispatches >= this.maxDispatchesPerSubmit) this.submit();
    const offset = this.ring.push(bytes);
    const entries = bindings.map((buffer, binding) => ({ binding, resource: { buffer } }));
    entries.push({ binding: bindings.length, resource: { buffer: this.ring.buffer, offset: 0, size: UniformRing.bindingSize(bytes.byteLength) } });
    const bindGroup = this.device.createBindGroup({ layout: p.bindGroupLayout, entries });
    if (bindings.includes(this.errorBuffer)) this.errorBufferDirty = true;
    const pass = this.computePass(label ?? p.key);
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, bindGroup, [offset]);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiling) this.endPass();
    this.batchCommands++;
    this.batchDispatches++;
    this.nDispatches++;
  }
  /** Submits the open batch (if any) and throws any error the GPU reported since the last check. */
  flush() {
    this.submit();
    this.throwDeferred();
  }
  /** Flushes and waits until the GPU has finished all submitted work. */
  async sync() {
    this.flush();
    await Promise.race([this.device.queue.onSubmittedWorkDone(), this.lostPromise]);
    await this.pipelines.settled();
    this.throwDeferred();
  }
  // ---- buffers ----------------------------------------------------------------------------------
  /** A storage buffer of at least `bytes` bytes (STORAGE | COPY_SRC | COPY_DST), from the pool when possible. */
  allocate(bytes) {
    this.throwIfLost();
    const want = Math.max(4, Math.ceil(bytes / 4) * 4);
    const max = Math.min(this.limits.maxBufferSize, this.limits.maxStorageBufferBindingSize);
    if (want > max) throw new WebGPUOutOfMemoryError(bytes, `larger than this device's maximum storage buffer of ${max} bytes`);
    const s = this.pool.stats();
    if (s.liveBytes + s.pooledBytes + s.pendingBytes + want > this.memoryLimit) {
      this.pool.trim();
      const t = this.pool.stats();
      if (t.liveBytes + t.pendingBytes + want > this.memoryLimit) {
        throw new WebGPUOutOfMemoryError(bytes, `memory limit ${this.memoryLimit} bytes; ${t.liveBytes} live, ${t.pendingBytes} awaiting the GPU`);
      }
    }
    try {
      return this.pool.acquire(want, this.storageUsage);
    } catch {
      this.pool.trim();
      try {
        return this.pool.acquire(want, this.storageUsage);
      } catch (e) {
        throw new WebGPUOutOfMemoryError(bytes, e.message);
      }
    }
  }
  /** Returns a buffer from `allocate`; it is reused only after the GPU has finished with it. */
  release(buffer) {
    if (this.destroyed) return;
    const serial = this.batchCommands > 0 ? this.submitted + 1 : this.submitted;
    this.pool.release(buffer, serial, this.completedSerial);
  }
  /** Writes `data` at `byteOffset`, ordered after every dispatch already encoded. */
  write(buffer, data, byteOffset = 0) {
    this.throwIfLost();
    let bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength === 0) return;
    if (byteOffset % 4 !== 0) throw new RangeError(`write: byteOffset ${byteOffset} is not a multiple of 4`);
    if (bytes.byteLength % 4 !== 0) {
      const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
      padded.set(bytes);
      bytes = padded;
    }
    if (this.batchCommands === 0) {
      this.device.queue.writeBuffer(buffer, byteOffset, bytes);
      return;
    }
    const staging = this.device.createBuffer({ label: "webgrad upload", size: bytes.byteLength, usage: GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(bytes);
    staging.unmap();
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(staging, 0, buffer, byteOffset, bytes.byteLength);
    this.batchCommands++;
    this.afterSubmit.push(() => staging.destroy());
  }
  /** Copies `byteLength` bytes at `byteOffset` back to the CPU. Submits the open batch. */
  async read(buffer, byteOffset = 0, byteLength) {
    this.throwIfLost();
    this.throwDeferred();
    const len = byteLength ?? buffer.size - byteOffset;
    if (len === 0) return new ArrayBuffer(0);
    const start = Math.floor(byteOffset / 4) * 4;
    const end = Math.ceil((byteOffset + len) / 4) * 4;
    const staging = this.pool.acquire(end - start, this.stagingUsage);
    this.endPass();
    const enc = this.commandEncoder();
    enc.copyBufferToBuffer(buffer, start, staging, 0, end - start);
    let errStaging = null;
    if (this.errorBufferDirty) {
      errStaging = this.pool.acquire(ERROR_WORDS * 4, this.stagingUsage);
      enc.copyBufferToBuffer(this.errorBuffer, 0, errStaging, 0, ERROR_WORDS * 4);
      this.errorBufferDirty = false;
    }
    this.batchCommands++;
    this.submit();
    const serial = this.submitted;
    try {
      await Promise.race([
        staging.mapAsync(GPUMapMode.READ, 0, end - start),
        this.lostPromise
      ]);
      const out = staging.getMappedRange(0, end - start).slice(byteOffset - start, byteOffset - start + len);
      staging.unmap();
      if (errStaging) {
        await Promise.race([errStaging.mapAsync(GPUMapMode.READ, 0, ERROR_WORDS * 4), this.lostPromise]);
        const words = new Uint32Array(errStaging.getMappedRange(0, ERROR_WORDS * 4).slice(0));
        errStaging.unmap();
        if (words[0] !== 0) {
          this.device.queue.writeBuffer(this.errorBuffer, 0, new Uint32Array(ERROR_WORDS));
          const op = this.errorOps[(words[1] ?? 1) - 1] ?? `op #${words[1]}`;
          const bad = (words[2] ?? 0) | 0;
          throw new RangeError(`${op}: index ${bad} is out of range for a dimension of size ${words[3]} (the result of this op, and of ops that used it, is invalid)`);
        }
      }
      await this.pipelines.settled();
      this.throwDeferred();
      this.thrownSinceRead = false;
      return out;
    } finally {
      this.pool.release(staging, serial, this.completedSerial);
      if (errStaging) this.pool.release(errStaging, serial, this.completedSerial);
    }
  }
  /**
   * The code a kernel writes into the error buffer for out-of-range indices of `op` (1-based;
   * stable for the runtime's lifetime). Kernels store [1, code, badIndex, dimSize].
   */
  errorCode(op) {
    let i = this.errorOps.indexOf(op);
    if (i < 0) i = this.errorOps.push(op) - 1;
    return i + 1;
  }
  stats() {
    return { ...this.pool.stats(), submits: this.nSubmits, dispatches: this.nDispatches, pipelines: this.pipelines.size };
  }
  /** Destroys every pooled buffer not in use. */
  trim() {
    return this.pool.trim();
  }
  // ---- profiling --------------------------------------------------------------------------------
  get canProfile() {
    return this.features.has("timestamp-query");
  }
  /** Turns per-dispatch GPU timing on or off (needs 'timestamp-query'; costs one compute pass per dispatch). */
  setProfiling(on) {
    if (on && !this.canProfile) throw new Error("profiling needs the timestamp-query feature, which this adapter lacks");
    this.submit();
    this.profiling = on;
    if (on && !this.querySet) {
      this.querySet = this.device.createQuerySet({ type: "timestamp", count: 2 * this.maxDispatchesPerSubmit });
    }
  }
  /** GPU time per dispatch label since profiling was turned on (or last reset). Flushes. */
  async profile(reset = false) {
    this.flush();
    await Promise.all(this.profileReads.splice(0));
    const out = {};
    for (const [k, v] of this.profileTotals) out[k] = { ...v };
    if (reset) this.profileTotals.clear();
    return out;
  }
  // ---- lifetime ---------------------------------------------------------------------------------
  /** Destroys the device and every buffer. The runtime cannot be used afterwards. */
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pool.destroyAll();
    this.ring.destroy();
    this.errorBuffer.destroy();
    this.querySet?.destroy();
    this.device.destroy();
  }
  // ---- internals --------------------------------------------------------------------------------
  afterSubmit = [];
  commandEncoder() {
    return this.encoder ??= this.device.createCommandEncoder({ label: "webgrad batch" });
  }
  computePass(label) {
    if (this.pass) return this.pass;
    const desc = {};
    if (this.profiling && this.querySet) {
      const i = this.queryLabels.length;
      this.queryLabels.push(label);
      desc.timestampWrites = { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
    }
    this.pass = this.commandEncoder().beginComputePass(desc);
    return this.pass;
  }
  endPass() {
    this.pass?.end();
    this.pass = null;
  }
  submit() {
    if (!this.encoder) return;
    this.endPass();
    const enc = this.encoder;
    let labels = [];
    let resolve = null;
    let readback = null;
    if (this.queryLabels.length > 0 && this.querySet) {
      labels = this.queryLabels;
      this.queryLabels = [];
      const n2 = labels.length * 2;
      resolve = this.device.createBuffer({ size: n2 * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      readback = this.device.createBuffer({ size: n2 * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      enc.resolveQuerySet(this.querySet, 0, n2, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, readback, 0, n2 * 8);
    }
    this.ring.upload();
    this.device.queue.submit([enc.finish()]);
    this.encoder = null;
    this.batchCommands = 0;
    this.batchDispatches = 0;
    this.nSubmits++;
    const serial = ++this.submitted;
    for (const f of this.afterSubmit.splice(0)) f();
    this.device.queue.onSubmittedWorkDone().then(() => {
      if (serial > this.completedSerial) this.completedSerial = serial;
      this.pool.completed(this.completedSerial);
    }, () => {
    });
    if (readback && resolve) {
      const rb = readback, rs = resolve;
      this.profileReads.push(rb.mapAsync(GPUMapMode.READ).then(() => {
        const t = new BigUint64Array(rb.getMappedRange().slice(0));
        for (let i = 0; i < labels.length; i++) {
          const ns = Number(t[2 * i + 1] - t[2 * i]);
          const e = this.profileTotals.get(labels[i]) ?? { calls: 0, gpuMs: 0 };
          e.calls++;
          e.gpuMs += Math.max(0, ns) / 1e6;
          this.profileTotals.set(labels[i], e);
        }
        rb.unmap();
        rb.destroy();
        rs.destroy();
      }, () => {
        rb.destroy();
        rs.destroy();
      }));
    }
  }
  createBuffer(size, usage) {
    this.device.pushErrorScope("out-of-memory");
    const b = this.device.createBuffer({ size, usage });
    void this.device.popErrorScope().then((err) => {
      if (err) this.defer(new WebGPUOutOfMemoryError(size, err.message));
    }, () => {
    });
    return b;
  }
  /**
   * Stores an asynchronous GPU error to throw at the next flush or read. Follow-up errors that
   * merely say an object "is invalid due to a previous error" are dropped in favour of the cause
   * (which may arrive later, e.g. a shader's compilation messages).
   */
  defer(e) {
    const followUp = /due to a previous error/i.test(e.message);
    if (followUp) {
      if (!this.deferred && !this.thrownSinceRead) this.deferred = e;
      return;
    }
    if (this.thrownSinceRead && this.deferredFollowUpOnly(e)) return;
    if (!this.deferred || /due to a previous error/i.test(this.deferred.message)) this.deferred = e;
  }
  /** A primary error that repeats the one already thrown (same message) is not thrown twice. */
  deferredFollowUpOnly(e) {
    return this.lastThrown?.message === e.message;
  }
  throwIfLost() {
    if (this.destroyed) throw new WebGPUDeviceLostError("the WebGPU runtime was destroyed");
    if (this.lost) throw this.lost;
  }
  throwDeferred() {
    this.throwIfLost();
    const e = this.deferred;
    if (e) {
      this.deferred = null;
      this.thrownSinceRead = true;
      this.lastThrown = e;
      throw e;
    }
  }
};

// packages/kernels/src/webgpu/kernel_args.ts
var UniformStruct = class {
  fields = [];
  u32(name, value) {
    if (!(value >= 0 && value <= 4294967295) || !Number.isInteger(value)) {
      throw new RangeError(`uniform '${name}' = ${value} does not fit a u32`);
    }
    this.fields.push({ name, kind: "u32", value });
    return this;
  }
  i32(name, value) {
    this.fields.push({ name, kind: "i32", value: value | 0 });
    return this;
  }
  f32(name, value) {
    this.fields.push({ name, kind: "f32", value });
    return this;
  }
  /** The WGSL declaration `struct <name> { ... }` for these fields. */
  wgsl(name = "U") {
    return `struct ${name} {
${this.fields.map((f) => `  ${f.name}: ${f.kind},`).join("\n")}
}
`;
  }
  /** The struct's bytes (padded to 16). */
  bytes() {
    const n2 = Math.max(4, Math.ceil(this.fields.length / 4) * 4);
    const buf = new ArrayBuffer(n2 * 4);
    const dv = new DataView(buf);
    this.fields.forEach((f, i) => {
      if (f.kind === "f32") dv.setFloat32(i * 4, f.value, true);
      else if (f.kind === "i32") dv.setInt32(i * 4, f.value, true);
      else dv.setUint32(i * 4, f.value, true);
    });
    return buf;
  }
};
function maxWorkgroups(limits) {
  return limits.maxComputeWorkgroupsPerDimension ?? 65535;
}

// packages/kernels/src/webgpu/matmul_select.ts
var MATMUL_VARIANTS = ["gemv", "tiled", "register", "splitk"];
function selectMatmulVariant(shape, adapter) {
  const { batch, M, N, K } = shape;
  if (M === 1 || N === 1 || M * N * K <= 16 * 16 * 16) return "gemv";
  if (adapter.isSoftware) return "register";
  const tiles = batch * Math.ceil(M / 64) * Math.ceil(N / 64);
  if (tiles < 32 && K >= 8 * Math.max(M, N) && K >= 256) return "splitk";
  return "tiled";
}
var forced = "auto";
function getMatmulVariant() {
  return forced;
}

// packages/kernels/src/webgpu/matmul.ts
function analyze(a, b, out) {
  const r = out.shape.length;
  const M = out.shape[r - 2], N = out.shape[r - 1], K = a.shape[r - 1];
  const shape = [], sa = [], sb = [], so = [];
  for (let d = 0; d < r - 2; d++) {
    const n2 = out.shape[d];
    if (n2 === 1) continue;
    const last = shape.length - 1;
    if (last >= 0 && sa[last] === a.strides[d] * n2 && sb[last] === b.strides[d] * n2 && so[last] === out.strides[d] * n2) {
      shape[last] = shape[last] * n2;
      sa[last] = a.strides[d];
      sb[last] = b.strides[d];
      so[last] = out.strides[d];
      continue;
    }
    shape.push(n2);
    sa.push(a.strides[d]);
    sb.push(b.strides[d]);
    so.push(out.strides[d]);
  }
  let batch = 1;
  for (const n2 of shape) batch *= n2;
  return {
    M,
    N,
    K,
    batchShape: shape,
    bsa: sa,
    bsb: sb,
    bso: so,
    batch,
    saM: M === 1 ? 0 : a.strides[r - 2],
    saK: K === 1 ? 0 : a.strides[r - 1],
    sbK: K === 1 ? 0 : b.strides[r - 2],
    sbN: N === 1 ? 0 : b.strides[r - 1],
    soM: out.strides[r - 2],
    soN: out.strides[r - 1]
  };
}
function classify(view, so, sk, batchStrides) {
  let layout = "g";
  if (sk === 1) layout = "k";
  else if (so === 1) layout = "o";
  else if (sk === 0) layout = "k";
  else if (so === 0) layout = "o";
  const lead = layout === "k" ? so : sk;
  const vec4 = layout !== "g" && view.offset % 4 === 0 && lead % 4 === 0 && batchStrides.every((s) => s % 4 === 0) && view.buffer.size % 16 === 0;
  return { layout, vec4 };
}
function uniformsFor(p, extra) {
  const u = new UniformStruct().u32("M", p.M).u32("N", p.N).u32("K", p.K).u32("kChunk", extra.kChunk).u32("offA", extra.offA).u32("offB", extra.offB).u32("offO", extra.offO).u32("splits", extra.splits).u32("saM", p.saM).u32("saK", p.saK).u32("sbK", p.sbK).u32("sbN", p.sbN).u32("soM", p.soM).u32("soN", p.soN).u32("splitStride", extra.splitStride).u32("zBase", extra.zBase);
  p.batchShape.forEach((n2, d) => {
    u.u32(`bs${d}`, n2).u32(`bsa${d}`, p.bsa[d]).u32(`bsb${d}`, p.bsb[d]).u32(`bso${d}`, p.bso[d]);
  });
  return u;
}
function wgslBatchBases(rank) {
  let body = "  var z = zz;\n  var oa = u.offA; var ob = u.offB; var oo = u.offO;\n";
  for (let d = rank - 1; d >= 0; d--) {
    body += `  { let i = z % u.bs${d}; z = z / u.bs${d}; oa += i * u.bsa${d}; ob += i * u.bsb${d}; oo += i * u.bso${d}; }
`;
  }
  return `fn batch_bases(zz: u32) -> vec3<u32> {
${body}  return vec3<u32>(oa, ob, oo);
}
`;
}
function wgslBindings(A, B, t = "f32") {
  const decl = (name, binding, op) => op.vec4 ? `@group(0) @binding(${binding}) var<storage, read> ${name}4: array<vec4<${t}>>;
fn ld${name}(i: u32) -> ${t} { return ${name}4[i >> 2u][i & 3u]; }
fn ld${name}4(i: u32) -> vec4<${t}> { return ${name}4[i >> 2u]; }
` : `@group(0) @binding(${binding}) var<storage, read> ${name}s: array<${t}>;
fn ld${name}(i: u32) -> ${t} { return ${name}s[i]; }
fn ld${name}4(i: u32) -> vec4<${t}> { return vec4<${t}>(${name}s[i], ${name}s[i + 1u], ${name}s[i + 2u], ${name}s[i + 3u]); }
`;
  return decl("A", 0, A) + decl("B", 1, B) + `@group(0) @binding(2) var<storage, read_write> O: array<${t}>;
@group(0) @binding(3) var<uniform> u: U;
`;
}
var TILE_LARGE = { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 };
var TILE_SMALL = { BM: 32, BN: 32, BK: 16, TM: 4, TN: 4 };
function wgslTileLoad(name, op, BO, BK, T) {
  const S = `${name}sh`;
  const so = name === "A" ? "u.saM" : "u.sbN";
  const sk = name === "A" ? "u.saK" : "u.sbK";
  const base = name === "A" ? "bases.x" : "bases.y";
  const o0 = name === "A" ? "m0" : "n0";
  const ext = name === "A" ? "u.M" : "u.N";
  const BO4 = BO / 4;
  const mapping = (w2, along2) => {
    const units = BO * BK / w2;
    if (units % T !== 0) throw new Error(`matmul tile ${BO}x${BK}/${w2} does not divide over ${T} invocations`);
    const lines = [];
    for (let r = 0; r < units / T; r++) {
      const uidx = `(lid + ${r * T}u)`;
      const [oo, kk] = along2 === "k" ? [`(${uidx} / ${BK / w2}u)`, `((${uidx} % ${BK / w2}u) * ${w2}u)`] : [`((${uidx} % ${BO / w2}u) * ${w2}u)`, `(${uidx} / ${BO / w2}u)`];
      lines.push(`{ let oo = ${oo}; let kk = ${kk};`);
    }
    return lines;
  };
  const along = op.layout === "k" ? "k" : "o";
  let full = "";
  const w = op.vec4 ? 4 : 1;
  for (const head of mapping(w, along)) {
    const oIdx = `(${o0} + oo)`, kIdx = `(k0 + kk)`;
    const addr = op.layout === "k" ? `${base} + ${oIdx} * ${so} + ${kIdx}` : op.layout === "o" ? `${base} + ${oIdx} + ${kIdx} * ${sk}` : `${base} + ${oIdx} * ${so} + ${kIdx} * ${sk}`;
    if (w === 4 && along === "k") {
      full += `    ${head} let v = ld${name}4(${addr});
` + [0, 1, 2, 3].map((c) => `      ${S}[(kk + ${c}u) * ${BO4}u + (oo >> 2u)][oo & 3u] = v[${c}];`).join("\n") + " }\n";
    } else if (w === 4) {
      full += `    ${head} ${S}[kk * ${BO4}u + (oo >> 2u)] = ld${name}4(${addr}); }
`;
    } else {
      full += `    ${head} ${S}[kk * ${BO4}u + (oo >> 2u)][oo & 3u] = ld${name}(${addr}); }
`;
    }
  }
  let edge = "";
  for (const head of mapping(1, along)) {
    edge += `    ${head} let o = ${o0} + oo; let k = k0 + kk; var v = 0.0;
      if (o < ${ext} && k < kEnd) { v = ld${name}(${base} + o * ${so} + k * ${sk}); }
      ${S}[kk * ${BO4}u + (oo >> 2u)][oo & 3u] = v; }
`;
  }
  return `  if (${o0} + ${BO}u <= ${ext} && k0 + ${BK}u <= kEnd) {
${full}  } else {
${edge}  }
`;
}
function wgslTiled(cfg, A, B, rank, uniforms) {
  const { BM, BN, BK, TM, TN } = cfg;
  const TX = BN / TN, TY = BM / TM, T = TX * TY;
  let compute = "";
  for (let k = 0; k < BK; k++) {
    compute += "    {\n";
    for (let i4 = 0; i4 < TM / 4; i4++) compute += `      let a${i4} = Ash[${k * (BM / 4)}u + ty * ${TM / 4}u + ${i4}u];
`;
    for (let j4 = 0; j4 < TN / 4; j4++) compute += `      let b${j4} = Bsh[${k * (BN / 4)}u + tx * ${TN / 4}u + ${j4}u];
`;
    for (let i = 0; i < TM; i++) {
      for (let j4 = 0; j4 < TN / 4; j4++) compute += `      acc${i}_${j4} = fma(vec4<f32>(a${i >> 2}[${i & 3}]), b${j4}, acc${i}_${j4});
`;
    }
    compute += "    }\n";
  }
  let accDecl = "", store = "";
  for (let i = 0; i < TM; i++) {
    for (let j4 = 0; j4 < TN / 4; j4++) {
      accDecl += `  var acc${i}_${j4} = vec4<f32>(0.0);
`;
      store += `  { let m = m0 + ty * ${TM}u + ${i}u; let n = n0 + tx * ${TN}u + ${j4 * 4}u;
    if (m < u.M) { let o = obase + m * u.soM + n * u.soN;
` + [0, 1, 2, 3].map((c) => `      if (n + ${c}u < u.N) { O[o + ${c}u * u.soN] = acc${i}_${j4}[${c}]; }`).join("\n") + "\n    } }\n";
    }
  }
  return `${uniforms.wgsl()}
${wgslBindings(A, B)}
var<workgroup> Ash: array<vec4<f32>, ${BK * BM / 4}>;
var<workgroup> Bsh: array<vec4<f32>, ${BK * BN / 4}>;
${wgslBatchBases(rank)}
@compute @workgroup_size(${T})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tx = lid % ${TX}u; let ty = lid / ${TX}u;
  let n0 = wid.x * ${BN}u; let m0 = wid.y * ${BM}u;
  let zz = wid.z + u.zBase;
  let split = zz % u.splits;
  let bases = batch_bases(zz / u.splits);
  let kBegin = split * u.kChunk;
  let kEnd = min(u.K, kBegin + u.kChunk);
  let obase = bases.z + split * u.splitStride;
${accDecl}
  for (var k0 = kBegin; k0 < kEnd; k0 += ${BK}u) {
${wgslTileLoad("A", A, BM, BK, T)}${wgslTileLoad("B", B, BN, BK, T)}
    workgroupBarrier();
${compute}    workgroupBarrier();
  }
${store}}
`;
}
var REG_WG = [8, 8];
function wgslRegister(A, B, rank, uniforms) {
  const aFast = (() => {
    if (A.layout === "k") return [0, 1, 2, 3].map((i) => `let a${i} = ldA4(bases.x + (m + ${i}u) * u.saM + k);`).join("\n      ");
    if (A.layout === "o") {
      return [0, 1, 2, 3].map((kk) => `let c${kk} = ldA4(bases.x + m + (k + ${kk}u) * u.saK);`).join("\n      ") + "\n      " + [0, 1, 2, 3].map((i) => `let a${i} = vec4<f32>(c0[${i}], c1[${i}], c2[${i}], c3[${i}]);`).join("\n      ");
    }
    return [0, 1, 2, 3].map((i) => `let a${i} = vec4<f32>(${[0, 1, 2, 3].map((kk) => `ldA(bases.x + (m + ${i}u) * u.saM + (k + ${kk}u) * u.saK)`).join(", ")});`).join("\n      ");
  })();
  const bFast = (() => {
    if (B.layout === "o") return [0, 1, 2, 3].map((kk) => `let b${kk} = ldB4(bases.y + (k + ${kk}u) * u.sbK + n);`).join("\n      ");
    if (B.layout === "k") {
      return [0, 1, 2, 3].map((j) => `let d${j} = ldB4(bases.y + (n + ${j}u) * u.sbN + k);`).join("\n      ") + "\n      " + [0, 1, 2, 3].map((kk) => `let b${kk} = vec4<f32>(d0[${kk}], d1[${kk}], d2[${kk}], d3[${kk}]);`).join("\n      ");
    }
    return [0, 1, 2, 3].map((kk) => `let b${kk} = vec4<f32>(${[0, 1, 2, 3].map((j) => `ldB(bases.y + (k + ${kk}u) * u.sbK + (n + ${j}u) * u.sbN)`).join(", ")});`).join("\n      ");
  })();
  const fma4 = [0, 1, 2, 3].map((i) => `acc${i} = fma(vec4<f32>(a${i}.x), b0, fma(vec4<f32>(a${i}.y), b1, fma(vec4<f32>(a${i}.z), b2, fma(vec4<f32>(a${i}.w), b3, acc${i}))));`).join("\n      ");
  const store = [0, 1, 2, 3].map((i) => `  if (m + ${i}u < u.M) { let o = obase + (m + ${i}u) * u.soM + n * u.soN;
` + [0, 1, 2, 3].map((c) => `    if (n + ${c}u < u.N) { O[o + ${c}u * u.soN] = acc${i}[${c}]; }`).join("\n") + "\n  }").join("\n");
  return `${uniforms.wgsl()}
${wgslBindings(A, B)}
${wgslBatchBases(rank)}
@compute @workgroup_size(${REG_WG[0]}, ${REG_WG[1]})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let n = gid.x * 4u; let m = gid.y * 4u;
  let zz = wid.z + u.zBase;
  let split = zz % u.splits;
  let bases = batch_bases(zz / u.splits);
  let kBegin = split * u.kChunk;
  let kEnd = min(u.K, kBegin + u.kChunk);
  let obase = bases.z + split * u.splitStride;
  if (m >= u.M || n >= u.N) { return; }
  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0); var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  var k = kBegin;
  if (m + 4u <= u.M && n + 4u <= u.N) {
    for (; k + 4u <= kEnd; k += 4u) {
      ${aFast}
      ${bFast}
      ${fma4}
    }
  }
  // Edge blocks and the K tail: one k at a time, every load checked.
  for (; k < kEnd; k += 1u) {
    var bv = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j += 1u) {
      if (n + j < u.N) { bv[j] = ldB(bases.y + k * u.sbK + (n + j) * u.sbN); }
    }
    if (m < u.M) { acc0 = fma(vec4<f32>(ldA(bases.x + m * u.saM + k * u.saK)), bv, acc0); }
    if (m + 1u < u.M) { acc1 = fma(vec4<f32>(ldA(bases.x + (m + 1u) * u.saM + k * u.saK)), bv, acc1); }
    if (m + 2u < u.M) { acc2 = fma(vec4<f32>(ldA(bases.x + (m + 2u) * u.saM + k * u.saK)), bv, acc2); }
    if (m + 3u < u.M) { acc3 = fma(vec4<f32>(ldA(bases.x + (m + 3u) * u.saM + k * u.saK)), bv, acc3); }
  }
${store}
}
`;
}
var GEMV_WG = 256;
function wgslGemv(mode, t, rank, uniforms) {
  const RK = mode === "dot" ? 32 : 4, RO = GEMV_WG / RK;
  const map = mode === "dot" ? `let kl = lid % ${RK}u; let ol = lid / ${RK}u;` : `let ol = lid % ${RO}u; let kl = lid / ${RO}u;`;
  const zero = t === "f32" ? "0.0" : "0";
  return `${uniforms.wgsl()}
${wgslBindings({ layout: "g", vec4: false }, { layout: "g", vec4: false }, t)}
var<workgroup> red: array<${t}, ${GEMV_WG}>;
${wgslBatchBases(rank)}
@compute @workgroup_size(${GEMV_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  ${map}
  let o = (wid.x + wid.y * nwg.x) * ${RO}u + ol;
  let bases = batch_bases(wid.z + u.zBase);
  let live = o < u.M * u.N;
  let m = select(0u, o / u.N, live); let n = select(0u, o % u.N, live);
  var acc: ${t} = ${zero};
  if (live) {
    let pa = bases.x + m * u.saM; let pb = bases.y + n * u.sbN;
    for (var k = kl; k < u.K; k += ${RK}u) { acc += ldA(pa + k * u.saK) * ldB(pb + k * u.sbK); }
  }
  red[ol * ${RK}u + kl] = acc;
  workgroupBarrier();
  for (var s = ${RK / 2}u; s > 0u; s = s >> 1u) {
    if (kl < s) { red[ol * ${RK}u + kl] += red[ol * ${RK}u + kl + s]; }
    workgroupBarrier();
  }
  if (live && kl == 0u) { O[bases.z + m * u.soM + n * u.soN] = red[ol * ${RK}u]; }
}
`;
}
function wgslSplitReduce(rank, uniforms) {
  let decode = "  var z = zz; var oo = u.offO;\n";
  for (let d = rank - 1; d >= 0; d--) decode += `  { let i = z % u.bs${d}; z = z / u.bs${d}; oo += i * u.bso${d}; }
`;
  return `${uniforms.wgsl()}
@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read_write> O: array<f32>;
@group(0) @binding(2) var<uniform> u: U;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  let mn = u.M * u.N;
  if (i >= mn) { return; }
  let zz = wid.z + u.zBase;
${decode}  let src = zz * mn + i;
  var s = 0.0;
  for (var p = 0u; p < u.splits; p += 1u) { s += P[src + p * u.splitStride]; }
  O[oo + (i / u.N) * u.soM + (i % u.N) * u.soN] = s;
}
`;
}
function fold(count, max) {
  if (count <= max) return [count, 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y];
}
function forZChunks(rt2, zCount, fn) {
  const max = maxWorkgroups(rt2.limits);
  for (let z0 = 0; z0 < zCount; z0 += max) fn(z0, Math.min(max, zCount - z0));
}
function matmul(rt2, a, b, out, opts = {}) {
  if (a.dtype !== b.dtype || a.dtype !== out.dtype || a.dtype !== "float32" && a.dtype !== "int32") {
    throw new TypeError(`matmul: the WebGPU backend supports float32 and int32 operands of one dtype, got ${a.dtype} @ ${b.dtype} \u2192 ${out.dtype}` + (a.dtype === "float64" || b.dtype === "float64" ? " (WGSL has no f64; cast to float32 or use the cpu backend)" : ""));
  }
  const p = analyze(a, b, out);
  if (p.M === 0 || p.N === 0 || p.batch === 0) return;
  const rank = p.batchShape.length;
  let variant = opts.variant ?? (getMatmulVariant() !== "auto" ? getMatmulVariant() : selectMatmulVariant(p, rt2.info));
  if (a.dtype !== "float32" || p.K === 0) variant = "gemv";
  const base = { offA: a.offset, offB: b.offset, offO: out.offset, kChunk: Math.max(p.K, 1), splits: 1, splitStride: 0, zBase: 0 };
  const max = maxWorkgroups(rt2.limits);
  if (variant === "gemv") {
    const t = a.dtype === "float32" ? "f32" : "i32";
    const big = p.N === 1 && p.M > 1 ? p.saK : p.M === 1 && p.N > 1 ? p.sbK : p.M >= p.N ? p.saK : p.sbK;
    const mode = big === 1 && p.K >= 32 ? "dot" : "col";
    const RO = mode === "dot" ? GEMV_WG / 32 : GEMV_WG / 4;
    const [x, y] = fold(Math.ceil(p.M * p.N / RO), max);
    forZChunks(rt2, p.batch, (zBase, zn) => {
      const u = uniformsFor(p, { ...base, zBase });
      const pipe = rt2.pipeline(`matmul.gemv.${mode}.${t}.r${rank}`, () => wgslGemv(mode, t, rank, u), ["read", "read", "readwrite"]);
      rt2.dispatch(pipe, [a.buffer, b.buffer, out.buffer], u.bytes(), [x, y, zn], "matmul.gemv");
    });
    return;
  }
  const A = classify(a, p.saM, p.saK, p.bsa);
  const B = classify(b, p.sbN, p.sbK, p.bsb);
  const layoutKey = `${A.layout}${A.vec4 ? 4 : 1}${B.layout}${B.vec4 ? 4 : 1}.r${rank}`;
  if (variant === "register") {
    const pipeKey = `matmul.register.${layoutKey}`;
    const gx2 = Math.ceil(p.N / (4 * REG_WG[0])), gy2 = Math.ceil(p.M / (4 * REG_WG[1]));
    forZChunks(rt2, p.batch, (zBase, zn) => {
      const u = uniformsFor(p, { ...base, zBase });
      const pipe = rt2.pipeline(pipeKey, () => wgslRegister(A, B, rank, u), ["read", "read", "readwrite"]);
      rt2.dispatch(pipe, [a.buffer, b.buffer, out.buffer], u.bytes(), [gx2, gy2, zn], "matmul.register");
    });
    return;
  }
  const cfg = p.M >= 64 && p.N >= 64 ? TILE_LARGE : TILE_SMALL;
  const cfgKey = `${cfg.BM}x${cfg.BN}x${cfg.BK}`;
  const gx = Math.ceil(p.N / cfg.BN), gy = Math.ceil(p.M / cfg.BM);
  const tiledKey = `matmul.tiled.${cfgKey}.${layoutKey}`;
  if (variant === "tiled" || p.K <= cfg.BK) {
    forZChunks(rt2, p.batch, (zBase, zn) => {
      const u = uniformsFor(p, { ...base, zBase });
      const pipe = rt2.pipeline(tiledKey, () => wgslTiled(cfg, A, B, rank, u), ["read", "read", "readwrite"]);
      rt2.dispatch(pipe, [a.buffer, b.buffer, out.buffer], u.bytes(), [gx, gy, zn], "matmul.tiled");
    });
    return;
  }
  const tiles = gx * gy * p.batch;
  let S = Math.min(32, Math.max(2, Math.ceil(64 / tiles)), Math.ceil(p.K / cfg.BK));
  const kChunk = Math.ceil(Math.ceil(p.K / S) / cfg.BK) * cfg.BK;
  S = Math.ceil(p.K / kChunk);
  const mn = p.M * p.N;
  const partial = rt2.allocate(S * p.batch * mn * 4);
  const contiguous = { ...p, soM: p.N, soN: 1, bso: [] };
  let stride = mn;
  const bso = new Array(rank);
  for (let d = rank - 1; d >= 0; d--) {
    bso[d] = stride;
    stride *= p.batchShape[d];
  }
  contiguous.bso = bso;
  const splitStride = p.batch * mn;
  forZChunks(rt2, p.batch * S, (zBase, zn) => {
    const u = uniformsFor(contiguous, { ...base, offO: 0, kChunk, splits: S, splitStride, zBase });
    const pipe = rt2.pipeline(tiledKey, () => wgslTiled(cfg, A, B, rank, u), ["read", "read", "readwrite"]);
    rt2.dispatch(pipe, [a.buffer, b.buffer, partial], u.bytes(), [gx, gy, zn], "matmul.splitk");
  });
  const [rx, ry] = fold(Math.ceil(mn / 256), max);
  forZChunks(rt2, p.batch, (zBase, zn) => {
    const u = uniformsFor(p, { ...base, kChunk, splits: S, splitStride, zBase });
    const pipe = rt2.pipeline(`matmul.splitk_reduce.r${rank}`, () => wgslSplitReduce(rank, u), ["read", "readwrite"]);
    rt2.dispatch(pipe, [partial, out.buffer], u.bytes(), [rx, ry, zn], "matmul.splitk_reduce");
  });
  rt2.release(partial);
}

// packages/kernels/src/cpu/strided.ts
function numel(shape) {
  let n2 = 1;
  for (const s of shape) n2 *= s;
  return n2;
}
function contiguousStrides(shape) {
  const strides = new Array(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}
function typedArrayFor(dtype, length) {
  switch (dtype) {
    case "float32":
      return new Float32Array(length);
    case "float64":
      return new Float64Array(length);
    case "int32":
      return new Int32Array(length);
    case "bool":
      return new Uint8Array(length);
  }
}
function forEachIndex(shape, fn) {
  const total = numel(shape);
  if (total === 0) return;
  const rank = shape.length;
  const index = new Array(rank).fill(0);
  for (let linear = 0; linear < total; linear++) {
    fn(index, linear);
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}
function offsetOf(view, index) {
  let off = view.offset;
  for (let d = 0; d < index.length; d++) off += index[d] * view.strides[d];
  return off;
}
function elementOffsets(view) {
  const { shape, strides } = view;
  const out = new Float64Array(numel(shape));
  const rank = shape.length;
  const index = new Array(rank).fill(0);
  let off = view.offset;
  for (let linear = 0; linear < out.length; linear++) {
    out[linear] = off;
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      off += strides[d];
      if (index[d] < shape[d]) break;
      off -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}
function convertTo(dtype, v) {
  switch (dtype) {
    case "float64":
      return v;
    case "float32":
      return Math.fround(v);
    case "int32":
      return Number.isNaN(v) ? 0 : Math.trunc(v) | 0;
    case "bool":
      return v !== 0 ? 1 : 0;
  }
}
function readAt(view, off) {
  return view.buffer[off];
}
function writeAt(view, off, v) {
  view.buffer[off] = convertTo(view.dtype, v);
}
function readAll(view) {
  const offs = elementOffsets(view);
  const out = new Float64Array(offs.length);
  const buf = view.buffer;
  for (let i = 0; i < offs.length; i++) out[i] = buf[offs[i]];
  return out;
}
function writeAll(view, values) {
  const offs = elementOffsets(view);
  if (values.length !== offs.length) {
    throw new RangeError(`writeAll: ${values.length} values for a view of ${offs.length} elements (shape [${view.shape.join(", ")}])`);
  }
  for (let i = 0; i < offs.length; i++) writeAt(view, offs[i], values[i]);
}
function rowsOf(shape) {
  if (shape.length === 0) return { rows: 1, cols: 1 };
  const cols = shape[shape.length - 1];
  return { rows: numel(shape.slice(0, -1)), cols };
}

// packages/kernels/src/cpu/adamw.ts
function adamw(param, grad, m, v, opts) {
  const { lr, beta1, beta2, eps, weightDecay, step } = opts;
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2 = 1 - Math.pow(beta2, step);
  const ps = readAll(param);
  const gs = readAll(grad);
  const ms = readAll(m);
  const vs = readAll(v);
  const pOff = elementOffsets(param);
  const mOff = elementOffsets(m);
  const vOff = elementOffsets(v);
  for (let i = 0; i < ps.length; i++) {
    const g = gs[i];
    let p = ps[i] - lr * weightDecay * ps[i];
    const mi = beta1 * ms[i] + (1 - beta1) * g;
    const vi = beta2 * vs[i] + (1 - beta2) * g * g;
    p -= lr * (mi / bc1) / (Math.sqrt(vi / bc2) + eps);
    writeAt(param, pOff[i], p);
    writeAt(m, mOff[i], mi);
    writeAt(v, vOff[i], vi);
  }
}

// packages/kernels/src/cpu/attention.ts
function dimsOf(q, k, v) {
  const [B, H, Tq, D] = q.shape;
  return { B, H, Tq, D, Tk: k.shape[2], Dv: v.shape[3] };
}
function scores(d, bh, qs, ks, ms, opts) {
  const { Tq, Tk, D } = d;
  const s = new Float64Array(Tq * Tk);
  for (let i = 0; i < Tq; i++) {
    for (let j = 0; j < Tk; j++) {
      if (opts.causal && j > i + (Tk - Tq)) {
        s[i * Tk + j] = -Infinity;
        continue;
      }
      let dot = 0;
      for (let c = 0; c < D; c++) dot += qs[(bh * Tq + i) * D + c] * ks[(bh * Tk + j) * D + c];
      s[i * Tk + j] = dot * opts.scale + (ms ? ms[(bh * Tq + i) * Tk + j] : 0);
    }
  }
  return s;
}
function attention(q, k, v, mask, opts, out, lse) {
  const d = dimsOf(q, k, v);
  const { B, H, Tq, Tk, Dv } = d;
  const qs = readAll(q);
  const ks = readAll(k);
  const vs = readAll(v);
  const ms = mask ? readAll(mask) : null;
  const os = new Float64Array(B * H * Tq * Dv);
  const lses = new Float64Array(B * H * Tq);
  for (let bh = 0; bh < B * H; bh++) {
    const s = scores(d, bh, qs, ks, ms, opts);
    for (let i = 0; i < Tq; i++) {
      let m = -Infinity;
      for (let j = 0; j < Tk; j++) m = Math.max(m, s[i * Tk + j]);
      if (m === -Infinity) {
        lses[bh * Tq + i] = -Infinity;
        continue;
      }
      let sum = 0;
      for (let j = 0; j < Tk; j++) sum += Math.exp(s[i * Tk + j] - m);
      const l = m + Math.log(sum);
      lses[bh * Tq + i] = l;
      for (let j = 0; j < Tk; j++) {
        const p = Math.exp(s[i * Tk + j] - l);
        if (p === 0) continue;
        for (let c = 0; c < Dv; c++) os[(bh * Tq + i) * Dv + c] += p * vs[(bh * Tk + j) * Dv + c];
      }
    }
  }
  writeAll(out, os);
  writeAll(lse, lses);
}
function attentionBackward(q, k, v, mask, opts, out, lse, dout, dq, dk, dv) {
  const d = dimsOf(q, k, v);
  const { B, H, Tq, Tk, D, Dv } = d;
  const qs = readAll(q);
  const ks = readAll(k);
  const vs = readAll(v);
  const ms = mask ? readAll(mask) : null;
  const os = readAll(out);
  const lses = readAll(lse);
  const dos = readAll(dout);
  const dqs = new Float64Array(qs.length);
  const dks = new Float64Array(ks.length);
  const dvs = new Float64Array(vs.length);
  for (let bh = 0; bh < B * H; bh++) {
    const s = scores(d, bh, qs, ks, ms, opts);
    for (let i = 0; i < Tq; i++) {
      const l = lses[bh * Tq + i];
      if (l === -Infinity) continue;
      const qi = (bh * Tq + i) * D;
      const oi = (bh * Tq + i) * Dv;
      let delta = 0;
      for (let c = 0; c < Dv; c++) delta += dos[oi + c] * os[oi + c];
      for (let j = 0; j < Tk; j++) {
        const p = Math.exp(s[i * Tk + j] - l);
        if (p === 0) continue;
        const kj = (bh * Tk + j) * D;
        const vj = (bh * Tk + j) * Dv;
        let dp = 0;
        for (let c = 0; c < Dv; c++) {
          dvs[vj + c] += p * dos[oi + c];
          dp += dos[oi + c] * vs[vj + c];
        }
        const ds = p * (dp - delta) * opts.scale;
        for (let c = 0; c < D; c++) {
          dqs[qi + c] += ds * ks[kj + c];
          dks[kj + c] += ds * qs[qi + c];
        }
      }
    }
  }
  writeAll(dq, dqs);
  writeAll(dk, dks);
  writeAll(dv, dvs);
}

// packages/kernels/src/cpu/conv.ts
function convOutputSize(size, k, s, p, d) {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}
function geom(imageShape, g) {
  const [N, C, H, W] = imageShape;
  const [kh, kw] = g.kernel;
  const [sh, sw] = g.stride;
  const [ph, pw] = g.padding;
  const [dh, dw] = g.dilation;
  return {
    N,
    C,
    H,
    W,
    kh,
    kw,
    sh,
    sw,
    ph,
    pw,
    dh,
    dw,
    Ho: convOutputSize(H, kh, sh, ph, dh),
    Wo: convOutputSize(W, kw, sw, pw, dw)
  };
}
function forEachTap(t, fn) {
  for (let n2 = 0; n2 < t.N; n2++)
    for (let c = 0; c < t.C; c++)
      for (let oh = 0; oh < t.Ho; oh++)
        for (let ow = 0; ow < t.Wo; ow++)
          for (let i = 0; i < t.kh; i++)
            for (let j = 0; j < t.kw; j++)
              fn(n2, c, oh, ow, i, j, oh * t.sh - t.ph + i * t.dh, ow * t.sw - t.pw + j * t.dw);
}
var inImage = (t, h, w) => h >= 0 && h < t.H && w >= 0 && w < t.W;
var colIndex = (t, n2, c, oh, ow, i, j) => ((n2 * t.C * t.kh * t.kw + (c * t.kh + i) * t.kw + j) * t.Ho + oh) * t.Wo + ow;
var pixIndex = (t, n2, c, h, w) => ((n2 * t.C + c) * t.H + h) * t.W + w;
function im2col(x, g, cols) {
  const t = geom(x.shape, g);
  const xs = readAll(x);
  const cs = new Float64Array(t.N * t.C * t.kh * t.kw * t.Ho * t.Wo);
  forEachTap(t, (n2, c, oh, ow, i, j, h, w) => {
    if (inImage(t, h, w)) cs[colIndex(t, n2, c, oh, ow, i, j)] = xs[pixIndex(t, n2, c, h, w)];
  });
  writeAll(cols, cs);
}
function col2im(cols, g, dx) {
  const t = geom(dx.shape, g);
  const cs = readAll(cols);
  const xs = new Float64Array(t.N * t.C * t.H * t.W);
  forEachTap(t, (n2, c, oh, ow, i, j, h, w) => {
    if (inImage(t, h, w)) xs[pixIndex(t, n2, c, h, w)] += cs[colIndex(t, n2, c, oh, ow, i, j)];
  });
  writeAll(dx, xs);
}
function avgDivisor(t, oh, ow) {
  let count = 0;
  for (let i = 0; i < t.kh; i++) {
    const h = oh * t.sh - t.ph + i * t.dh;
    for (let j = 0; j < t.kw; j++) {
      const w = ow * t.sw - t.pw + j * t.dw;
      if (h >= -t.ph && h < t.H + t.ph && w >= -t.pw && w < t.W + t.pw) count++;
    }
  }
  return count;
}
function pool2d(op, x, g, out, argmax) {
  const t = geom(x.shape, g);
  const xs = readAll(x);
  const size = t.N * t.C * t.Ho * t.Wo;
  const ys = new Float64Array(size).fill(op === "max" ? -Infinity : 0);
  const am = new Float64Array(size).fill(-1);
  forEachTap(t, (n2, c, oh, ow, _i, _j, h, w) => {
    if (!inImage(t, h, w)) return;
    const o = ((n2 * t.C + c) * t.Ho + oh) * t.Wo + ow;
    const v = xs[pixIndex(t, n2, c, h, w)];
    if (op === "avg") {
      ys[o] += v;
    } else if (am[o] === -1 || ys[o] === ys[o] && (v > ys[o] || v !== v)) {
      ys[o] = v;
      am[o] = h * t.W + w;
    }
  });
  if (op === "avg") {
    for (let n2 = 0; n2 < t.N * t.C; n2++)
      for (let oh = 0; oh < t.Ho; oh++)
        for (let ow = 0; ow < t.Wo; ow++) ys[(n2 * t.Ho + oh) * t.Wo + ow] /= avgDivisor(t, oh, ow);
  }
  writeAll(out, ys);
  if (op === "max" && argmax) writeAll(argmax, am);
}
function pool2dBackward(op, dy, argmax, g, dx) {
  const t = geom(dx.shape, g);
  const gs = readAll(dy);
  const xs = new Float64Array(t.N * t.C * t.H * t.W);
  if (op === "max") {
    if (!argmax) throw new Error("pool2dBackward: max pooling needs the argmax from the forward pass");
    const am = readAll(argmax);
    const plane = t.H * t.W;
    for (let o = 0; o < gs.length; o++) {
      const nc = Math.floor(o / (t.Ho * t.Wo));
      const a = am[o];
      if (a < 0) continue;
      if (a >= plane) throw new RangeError(`pool2dBackward: argmax ${a} is out of range for an input plane of ${t.H}x${t.W} (valid: 0..${plane - 1})`);
      xs[nc * plane + a] += gs[o];
    }
  } else {
    forEachTap(t, (n2, c, oh, ow, _i, _j, h, w) => {
      if (!inImage(t, h, w)) return;
      xs[pixIndex(t, n2, c, h, w)] += gs[((n2 * t.C + c) * t.Ho + oh) * t.Wo + ow] / avgDivisor(t, oh, ow);
    });
  }
  writeAll(dx, xs);
}

// packages/kernels/src/cpu/cross_entropy.ts
function logSumExp(xs, base, C) {
  let m = -Infinity;
  for (let c = 0; c < C; c++) m = Math.max(m, xs[base + c]);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let c = 0; c < C; c++) s += Math.exp(xs[base + c] - m);
  return m + Math.log(s);
}
function checkTarget(kernel, t, C, ignoreIndex) {
  if (t === ignoreIndex) return false;
  if (!(t >= 0 && t < C)) {
    throw new RangeError(`${kernel}: target ${t} is out of range for ${C} classes (valid: 0..${C - 1}, or ignoreIndex ${ignoreIndex})`);
  }
  return true;
}
function crossEntropy(logits, targets, weight, opts, loss, lse) {
  const [N, C] = [logits.shape[0], logits.shape[1]];
  const xs = readAll(logits);
  const ts = readAll(targets);
  const w = weight ? readAll(weight) : new Float64Array(C).fill(1);
  const eps = opts.labelSmoothing;
  const losses = new Float64Array(N);
  const lses = new Float64Array(N);
  for (let n2 = 0; n2 < N; n2++) {
    const base = n2 * C;
    const l = logSumExp(xs, base, C);
    lses[n2] = l;
    const t = ts[n2];
    if (!checkTarget("crossEntropy", t, C, opts.ignoreIndex)) continue;
    let smooth = 0;
    if (eps !== 0) for (let c = 0; c < C; c++) smooth += w[c] * (l - xs[base + c]);
    losses[n2] = (1 - eps) * w[t] * (l - xs[base + t]) + eps / C * smooth;
  }
  writeAll(loss, losses);
  writeAll(lse, lses);
}
function crossEntropyBackward(logits, targets, weight, lse, dloss, opts, dlogits) {
  const [N, C] = [logits.shape[0], logits.shape[1]];
  const xs = readAll(logits);
  const ts = readAll(targets);
  const lses = readAll(lse);
  const gs = readAll(dloss);
  const w = weight ? readAll(weight) : new Float64Array(C).fill(1);
  let W = 0;
  for (let c = 0; c < C; c++) W += w[c];
  const eps = opts.labelSmoothing;
  const dx = new Float64Array(N * C);
  for (let n2 = 0; n2 < N; n2++) {
    const t = ts[n2];
    if (!checkTarget("crossEntropyBackward", t, C, opts.ignoreIndex)) continue;
    const base = n2 * C;
    for (let c = 0; c < C; c++) {
      const p = Math.exp(xs[base + c] - lses[n2]);
      const hard = (1 - eps) * w[t] * (p - (c === t ? 1 : 0));
      const smooth = eps / C * (W * p - w[c]);
      dx[base + c] = gs[n2] * (hard + smooth);
    }
  }
  writeAll(dlogits, dx);
}

// packages/kernels/src/cpu/elementwise.ts
var TWO_OVER_SQRT_PI = 1.1283791670955126;
var ONE_OVER_SQRT_PI = 0.5641895835477563;
var SQRT_2_OVER_PI = 0.7978845608028654;
var SQRT_HALF = 0.7071067811865476;
function erf(x) {
  if (Number.isNaN(x) || x === 0) return x;
  const ax = Math.abs(x);
  let r;
  if (ax < 3) {
    const x2 = ax * ax;
    let term = ax;
    let sum = ax;
    for (let n2 = 1; n2 < 200; n2++) {
      term *= 2 * x2 / (2 * n2 + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  } else if (ax < 6) {
    r = 1 - erfcContinuedFraction(ax);
  } else {
    r = 1;
  }
  return x < 0 ? -r : r;
}
function erfcContinuedFraction(x) {
  let f = x;
  for (let n2 = 80; n2 >= 1; n2--) f = x + n2 / 2 / f;
  return ONE_OVER_SQRT_PI * Math.exp(-x * x) / f;
}
function sigmoid(x) {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r;
}
var UNARY_FNS = {
  neg: (x) => -x,
  abs: (x) => Math.abs(x),
  sign: (x) => Math.sign(x),
  exp: (x) => Math.exp(x),
  expm1: (x) => Math.expm1(x),
  log: (x) => Math.log(x),
  log1p: (x) => Math.log1p(x),
  sqrt: (x) => Math.sqrt(x),
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  sin: (x) => Math.sin(x),
  cos: (x) => Math.cos(x),
  tanh: (x) => Math.tanh(x),
  sigmoid,
  relu: (x) => Math.max(x, 0),
  // NaN stays NaN, like torch.relu
  gelu: (x) => 0.5 * x * (1 + erf(x * SQRT_HALF)),
  geluTanh: (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))),
  silu: (x) => x * sigmoid(x),
  softplus: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  erf,
  floor: (x) => Math.floor(x),
  ceil: (x) => Math.ceil(x),
  round: roundHalfEven,
  logicalNot: (x) => x === 0 ? 1 : 0
};
function powC(a, b) {
  if (a === 1) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return Math.pow(a, b);
}
function remainder(a, b) {
  let r = a % b;
  if (r !== 0 && r < 0 !== b < 0) r += b;
  return r;
}
var truth = (x) => x !== 0;
var BINARY_FNS = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: powC,
  maximum: (a, b) => Math.max(a, b),
  // propagates NaN, like torch.maximum
  minimum: (a, b) => Math.min(a, b),
  mod: remainder,
  eq: (a, b) => a === b ? 1 : 0,
  ne: (a, b) => a !== b ? 1 : 0,
  lt: (a, b) => a < b ? 1 : 0,
  le: (a, b) => a <= b ? 1 : 0,
  gt: (a, b) => a > b ? 1 : 0,
  ge: (a, b) => a >= b ? 1 : 0,
  logicalAnd: (a, b) => truth(a) && truth(b) ? 1 : 0,
  logicalOr: (a, b) => truth(a) || truth(b) ? 1 : 0
};
function unary(op, x, out) {
  const f = UNARY_FNS[op];
  const xs = readAll(x);
  for (let i = 0; i < xs.length; i++) xs[i] = f(xs[i]);
  writeAll(out, xs);
}
function binary(op, a, b, out) {
  const f = BINARY_FNS[op];
  const as = readAll(a);
  const bs = readAll(b);
  const r = new Float64Array(as.length);
  for (let i = 0; i < r.length; i++) r[i] = f(as[i], bs[i]);
  writeAll(out, r);
}
function where(cond, a, b, out) {
  const cs = readAll(cond);
  const as = readAll(a);
  const bs = readAll(b);
  const r = new Float64Array(cs.length);
  for (let i = 0; i < r.length; i++) r[i] = cs[i] !== 0 ? as[i] : bs[i];
  writeAll(out, r);
}
function copy(x, out) {
  writeAll(out, readAll(x));
}
function fill(out, value) {
  for (const off of elementOffsets(out)) writeAt(out, off, value);
}

// packages/kernels/src/cpu/indexing.ts
function checkIndex(kernel, i, size, dim) {
  if (!(i >= 0 && i < size)) {
    throw new RangeError(`${kernel}: index ${i} is out of range for dimension ${dim} of size ${size} (valid: 0..${size - 1})`);
  }
}
function gather(x, dim, index, out) {
  const size = x.shape[dim];
  const src = new Array(x.shape.length);
  forEachIndex(out.shape, (p) => {
    const i = readAt(index, offsetOf(index, p));
    checkIndex("gather", i, size, dim);
    for (let d = 0; d < p.length; d++) src[d] = d === dim ? i : p[d];
    writeAt(out, offsetOf(out, p), readAt(x, offsetOf(x, src)));
  });
}
function scatterAdd(out, dim, index, src) {
  const size = out.shape[dim];
  const dst = new Array(out.shape.length);
  forEachIndex(index.shape, (p) => {
    const i = readAt(index, offsetOf(index, p));
    checkIndex("scatterAdd", i, size, dim);
    for (let d = 0; d < p.length; d++) dst[d] = d === dim ? i : p[d];
    const o = offsetOf(out, dst);
    writeAt(out, o, readAt(out, o) + readAt(src, offsetOf(src, p)));
  });
}
function readIndex1d(kernel, index, size, dim) {
  const n2 = index.shape.length === 0 ? 1 : index.shape[0];
  const stride = index.shape.length === 0 ? 0 : index.strides[0];
  const values = [];
  for (let j = 0; j < n2; j++) {
    const i = index.buffer[index.offset + j * stride];
    checkIndex(kernel, i, size, dim);
    values.push(i);
  }
  return values;
}
function indexSelect(x, dim, index, out) {
  const idx = readIndex1d("indexSelect", index, x.shape[dim], dim);
  const src = new Array(x.shape.length);
  forEachIndex(out.shape, (p) => {
    for (let d = 0; d < p.length; d++) src[d] = d === dim ? idx[p[d]] : p[d];
    writeAt(out, offsetOf(out, p), readAt(x, offsetOf(x, src)));
  });
}
function indexAdd(out, dim, index, src) {
  const idx = readIndex1d("indexAdd", index, out.shape[dim], dim);
  const dst = new Array(out.shape.length);
  forEachIndex(src.shape, (p) => {
    for (let d = 0; d < p.length; d++) dst[d] = d === dim ? idx[p[d]] : p[d];
    const o = offsetOf(out, dst);
    writeAt(out, o, readAt(out, o) + readAt(src, offsetOf(src, p)));
  });
}

// packages/kernels/src/cpu/layer_norm.ts
function layerNorm(x, weight, bias, eps, out, mean, rstd) {
  const { rows, cols: D } = rowsOf(x.shape);
  const xs = readAll(x);
  const w = weight ? readAll(weight) : null;
  const b = bias ? readAll(bias) : null;
  const ys = new Float64Array(xs.length);
  const means = new Float64Array(rows);
  const rstds = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    let mu = 0;
    for (let j = 0; j < D; j++) mu += xs[base + j];
    mu /= D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (xs[base + j] - mu) ** 2;
    v /= D;
    const rs = 1 / Math.sqrt(v + eps);
    means[r] = mu;
    rstds[r] = rs;
    for (let j = 0; j < D; j++) {
      const xh = (xs[base + j] - mu) * rs;
      ys[base + j] = xh * (w ? w[j] : 1) + (b ? b[j] : 0);
    }
  }
  writeAll(out, ys);
  writeAll(mean, means);
  writeAll(rstd, rstds);
}
function layerNormBackward(x, weight, mean, rstd, dy, dx, dweight, dbias) {
  const { rows, cols: D } = rowsOf(x.shape);
  const xs = readAll(x);
  const gs = readAll(dy);
  const w = weight ? readAll(weight) : null;
  const means = readAll(mean);
  const rstds = readAll(rstd);
  const dxs = new Float64Array(xs.length);
  const dw = new Float64Array(D);
  const db = new Float64Array(D);
  const xh = new Float64Array(D);
  const g = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    const mu = means[r];
    const rs = rstds[r];
    let meanG = 0;
    let meanGX = 0;
    for (let j = 0; j < D; j++) {
      xh[j] = (xs[base + j] - mu) * rs;
      g[j] = gs[base + j] * (w ? w[j] : 1);
      meanG += g[j];
      meanGX += g[j] * xh[j];
      dw[j] += gs[base + j] * xh[j];
      db[j] += gs[base + j];
    }
    meanG /= D;
    meanGX /= D;
    for (let j = 0; j < D; j++) dxs[base + j] = rs * (g[j] - meanG - xh[j] * meanGX);
  }
  writeAll(dx, dxs);
  if (dweight) writeAll(dweight, dw);
  if (dbias) writeAll(dbias, db);
}

// packages/kernels/src/cpu/matmul.ts
function matmul2(a, b, out) {
  const r = out.shape.length;
  const M = out.shape[r - 2];
  const N = out.shape[r - 1];
  const K = a.shape[r - 1];
  const [saM, saK] = [a.strides[r - 2], a.strides[r - 1]];
  const [sbK, sbN] = [b.strides[r - 2], b.strides[r - 1]];
  const [soM, soN] = [out.strides[r - 2], out.strides[r - 1]];
  const batchShape = out.shape.slice(0, r - 2);
  forEachIndex(batchShape, (bi) => {
    let baseA = a.offset;
    let baseB = b.offset;
    let baseO = out.offset;
    for (let d = 0; d < bi.length; d++) {
      baseA += bi[d] * a.strides[d];
      baseB += bi[d] * b.strides[d];
      baseO += bi[d] * out.strides[d];
    }
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += a.buffer[baseA + i * saM + k * saK] * b.buffer[baseB + k * sbK + j * sbN];
        writeAt(out, baseO + i * soM + j * soN, acc);
      }
    }
  });
}

// packages/kernels/src/cpu/random.ts
var THREEFRY_PARITY = 466688986;
var THREEFRY_ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24];
var rotl32 = (x, r) => (x << r | x >>> 32 - r) >>> 0;
function threefry2x32(k0, k1, c0, c1) {
  const ks = [k0 >>> 0, k1 >>> 0, (THREEFRY_PARITY ^ k0 ^ k1) >>> 0];
  let x0 = c0 + ks[0] >>> 0;
  let x1 = c1 + ks[1] >>> 0;
  for (let r = 0; r < 20; r++) {
    x0 = x0 + x1 >>> 0;
    x1 = rotl32(x1, THREEFRY_ROTATIONS[r % 8]);
    x1 = (x1 ^ x0) >>> 0;
    if (r % 4 === 3) {
      const s = (r + 1) / 4;
      x0 = x0 + ks[s % 3] >>> 0;
      x1 = x1 + ks[(s + 1) % 3] + s >>> 0;
    }
  }
  return [x0, x1];
}
var TWO_POW_32 = 4294967296;
var TWO_POW_M24 = 1 / 16777216;
function keyForSeed(seed) {
  return [seed >>> 0, (Math.floor(seed / TWO_POW_32) ^ THREEFRY_PARITY) >>> 0];
}
function random(out, opts) {
  const { seed, offset, distribution } = opts;
  const [k0, k1] = keyForSeed(seed);
  const offs = elementOffsets(out);
  for (let i = 0; i < offs.length; i++) {
    const n2 = offset + i;
    const [w0, w1] = threefry2x32(k0, k1, n2 >>> 0, Math.floor(n2 / TWO_POW_32) >>> 0);
    let value;
    if (distribution === "uniform") {
      value = (w0 >>> 8) * TWO_POW_M24;
    } else {
      const u1 = ((w0 >>> 8) + 1) * TWO_POW_M24;
      const u2 = (w1 >>> 8) * TWO_POW_M24;
      value = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
    writeAt(out, offs[i], value);
  }
}

// packages/kernels/src/cpu/reduce.ts
var IDENTITY = { sum: 0, prod: 1, max: -Infinity, min: Infinity };
function combine(op, acc, v) {
  switch (op) {
    case "sum":
      return acc + v;
    case "prod":
      return acc * v;
    // `v !== v` is true only for NaN: once the accumulator is NaN no comparison replaces it.
    case "max":
      return v > acc || v !== v ? v : acc;
    case "min":
      return v < acc || v !== v ? v : acc;
  }
}
function reduce(op, x, axes, out) {
  const rank = x.shape.length;
  const reduced = new Array(rank).fill(false);
  for (const a of axes) reduced[a < 0 ? a + rank : a] = true;
  const outShape = x.shape.map((s2, d) => reduced[d] ? 1 : s2);
  const toOut = new Array(rank).fill(0);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    toOut[d] = reduced[d] ? 0 : s;
    s *= outShape[d];
  }
  const acc = new Float64Array(numel(outShape)).fill(IDENTITY[op]);
  const xs = readAll(x);
  forEachIndex(x.shape, (idx, linear) => {
    let o = 0;
    for (let d = 0; d < rank; d++) o += idx[d] * toOut[d];
    acc[o] = combine(op, acc[o], xs[linear]);
  });
  writeAll(out, acc);
}
function argReduce(op, x, axis, out) {
  const rank = x.shape.length;
  const ax = rank === 0 ? -1 : axis < 0 ? axis + rank : axis;
  const n2 = ax < 0 ? 1 : x.shape[ax];
  const step = ax < 0 ? 0 : x.strides[ax];
  const outShape = x.shape.map((s, d) => d === ax ? 1 : s);
  const result = new Float64Array(numel(outShape));
  const better = op === "argmax" ? (v, best) => v > best : (v, best) => v < best;
  forEachIndex(outShape, (idx, linear) => {
    if (n2 === 0) return;
    const base = offsetOf(x, idx);
    let bestIdx = 0;
    let best = x.buffer[base];
    for (let k = 1; k < n2 && best === best; k++) {
      const v = x.buffer[base + k * step];
      if (v !== v || better(v, best)) {
        best = v;
        bestIdx = k;
      }
    }
    result[linear] = bestIdx;
  });
  writeAll(out, result);
}

// packages/kernels/src/cpu/softmax.ts
function softmax(x, out, log) {
  const { rows, cols } = rowsOf(x.shape);
  const xs = readAll(x);
  const ys = new Float64Array(xs.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, xs[base + j]);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(xs[base + j] - m);
    const logS = Math.log(s);
    for (let j = 0; j < cols; j++) {
      const z = xs[base + j] - m;
      ys[base + j] = log ? z - logS : Math.exp(z) / s;
    }
  }
  writeAll(out, ys);
}
function softmaxBackward(y, dy, out, log) {
  const { rows, cols } = rowsOf(y.shape);
  const ys = readAll(y);
  const gs = readAll(dy);
  const dx = new Float64Array(ys.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let dot = 0;
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      dot += gs[base + j] * ys[base + j];
      sum += gs[base + j];
    }
    for (let j = 0; j < cols; j++) {
      const i = base + j;
      dx[i] = log ? gs[i] - Math.exp(ys[i]) * sum : ys[i] * (gs[i] - dot);
    }
  }
  writeAll(out, dx);
}

// packages/kernels/src/cpu/index.ts
var cpuKernels = {
  unary,
  binary,
  where,
  copy,
  fill,
  random,
  reduce,
  argReduce,
  matmul: matmul2,
  gather,
  scatterAdd,
  indexSelect,
  indexAdd,
  softmax,
  softmaxBackward,
  layerNorm,
  layerNormBackward,
  crossEntropy,
  crossEntropyBackward,
  attention,
  attentionBackward,
  im2col,
  col2im,
  pool2d,
  pool2dBackward,
  adamw
};

// packages/kernels/test/gpu_helpers.ts
import { afterAll } from "vitest";
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = a + 1831565813 >>> 0;
    let t = a;
    t = Math.imul(t ^ t >>> 15, t | 1);
    t ^= t + Math.imul(t ^ t >>> 7, t | 61);
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  };
}
function makeView(dtype, shape, layout = {}, fillWith) {
  const rank = shape.length;
  const perm = layout.perm ?? [...Array(rank).keys()];
  const bcast = new Set(layout.broadcast ?? []);
  const physShape = perm.map((d) => bcast.has(d) ? 1 : shape[d]);
  if (rank > 0 && layout.pad) physShape[rank - 1] = physShape[rank - 1] + layout.pad;
  const physStrides = contiguousStrides(physShape);
  const strides = new Array(rank).fill(0);
  perm.forEach((d, k) => {
    strides[d] = bcast.has(d) ? 0 : physStrides[k];
  });
  const offset = layout.offset ?? 0;
  const total = offset + numel(physShape);
  const buffer = typedArrayFor(dtype, Math.max(total, 1));
  for (let i = 0; i < buffer.length; i++) buffer[i] = fillWith ? fillWith(i) : 0;
  return { buffer, dtype, shape: [...shape], strides, offset };
}
function gpuBytes(v) {
  if (v.dtype === "bool") return Uint32Array.from(v.buffer).buffer;
  return v.buffer.slice().buffer;
}
function toGPU(rt2, v) {
  const bytes = gpuBytes(v);
  const buffer = rt2.allocate(bytes.byteLength);
  rt2.write(buffer, bytes);
  return { buffer, dtype: v.dtype, shape: v.shape, strides: v.strides, offset: v.offset };
}
async function readBack(rt2, buffer, dtype, length) {
  const bytes = await rt2.read(buffer, 0, length * 4);
  if (dtype === "float32") return new Float32Array(bytes);
  if (dtype === "int32") return new Int32Array(bytes);
  return Uint8Array.from(new Uint32Array(bytes));
}
async function readView(rt2, gpu, cpu) {
  return readBack(rt2, gpu.buffer, cpu.dtype, cpu.buffer.length);
}
function firstMismatch(a, b, rtol, atol) {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return i;
      continue;
    }
    if (x === y) continue;
    if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y))) return i;
  }
  return -1;
}
function releaseAll(rt2, ...views) {
  const seen = /* @__PURE__ */ new Set();
  for (const v of views) if (v && !seen.has(v.buffer)) {
    seen.add(v.buffer);
    rt2.release(v.buffer);
  }
}

// ../../tmp/wg/fake.ts
import { create, globals } from "webgpu";

// ../../tmp/wg/patch.ts
function patch(rt2) {
  const dev = rt2.device;
  rt2.dispatch = (p, bindings, uniforms, wg) => {
    const bytes = uniforms instanceof ArrayBuffer ? new Uint8Array(uniforms) : new Uint8Array(uniforms.buffer, uniforms.byteOffset, uniforms.byteLength);
    const size = Math.max(16, Math.ceil(bytes.byteLength / 16) * 16);
    const ub = dev.createBuffer({ size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const padded = new Uint8Array(size);
    padded.set(bytes);
    dev.queue.writeBuffer(ub, 0, padded);
    const entries = bindings.map((buffer, binding) => ({ binding, resource: { buffer } }));
    entries.push({ binding: bindings.length, resource: { buffer: ub, offset: 0, size } });
    const enc = dev.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, dev.createBindGroup({ layout: p.bindGroupLayout, entries }), [0]);
    pass.dispatchWorkgroups(wg[0], wg[1] ?? 1, wg[2] ?? 1);
    pass.end();
    dev.queue.submit([enc.finish()]);
  };
  rt2.read = async (buf, off = 0, len) => {
    const n2 = len ?? buf.size - off;
    const rb = dev.createBuffer({ size: n2, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = dev.createCommandEncoder();
    enc.copyBufferToBuffer(buf, off, rb, 0, n2);
    dev.queue.submit([enc.finish()]);
    await rb.mapAsync(GPUMapMode.READ);
    const out = rb.getMappedRange().slice(0);
    rb.unmap();
    rb.destroy();
    return out;
  };
  rt2.write = (buf, data) => {
    dev.queue.writeBuffer(buf, 0, data);
  };
  rt2.allocate = (bytes) => dev.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  rt2.release = (b) => {
    void b;
  };
}

// ../../tmp/wg/fake.ts
async function fakeRuntime(features) {
  Object.assign(globalThis, globals);
  const gpu = create([]);
  const ad = await gpu.requestAdapter();
  const dev = await ad.requestDevice(features ? { requiredFeatures: ["subgroups", "shader-f16", "timestamp-query"] } : {});
  const cache = /* @__PURE__ */ new Map();
  const rt2 = {
    device: dev,
    limits: dev.limits,
    info: { isSoftware: true },
    pipeline(key, wgsl, layout) {
      let p = cache.get(key);
      if (p) return p;
      const entries = layout.map((k, i) => ({ binding: i, visibility: 4, buffer: { type: k === "read" ? "read-only-storage" : "storage" } }));
      entries.push({ binding: layout.length, visibility: 4, buffer: { type: "uniform", hasDynamicOffset: true } });
      const bgl = dev.createBindGroupLayout({ entries });
      const code = wgsl();
      const module = dev.createShaderModule({ code });
      module.getCompilationInfo().then((i) => {
        for (const m of i.messages) if (m.type === "error") console.log(key, m.lineNum, m.message);
      });
      p = { key, bindGroupLayout: bgl, pipeline: dev.createComputePipeline({ layout: dev.createPipelineLayout({ bindGroupLayouts: [bgl] }), compute: { module, entryPoint: "main" } }) };
      cache.set(key, p);
      return p;
    }
  };
  patch(rt2);
  return rt2;
}

// ../../tmp/wg/h.ts
var rt = process.env.FAKE ? await fakeRuntime(!!process.env.FEAT) : await WebGPURuntime.create();
var SIZES = [[1, 1, 1], [1, 7, 17], [3, 1, 63], [7, 17, 3], [17, 63, 65], [63, 65, 127], [65, 127, 17], [127, 257, 7], [257, 63, 129], [17, 3, 1e3], [64, 64, 64]];
var fails = 0;
var n = 0;
for (const variant of (process.argv[2] ?? MATMUL_VARIANTS.join(",")).split(",")) for (const [M, N, K] of SIZES) for (const tA of [false, true]) for (const tB of [false, true]) {
  const r = rng(n);
  const a = makeView("float32", [M, K], { perm: tA ? [1, 0] : [0, 1] }, () => r() * 2 - 1);
  const b = makeView("float32", [K, N], { perm: tB ? [1, 0] : [0, 1] }, () => r() * 2 - 1);
  const out = makeView("float32", [M, N], {}, () => -7);
  const ga = toGPU(rt, a), gb = toGPU(rt, b), go = toGPU(rt, out);
  cpuKernels.matmul(a, b, out);
  matmul(rt, ga, gb, go, { variant });
  const got = await readView(rt, go, out);
  const i = firstMismatch(got, out.buffer, 0, 1e-4 * K);
  n++;
  if (i >= 0) {
    fails++;
    console.log("FAIL", variant, M, N, K, tA, tB, "at", i, got[i], out.buffer[i]);
  }
  releaseAll(rt, ga, gb, go);
}
console.log("done", n, "fails", fails);
process.exit(0);
