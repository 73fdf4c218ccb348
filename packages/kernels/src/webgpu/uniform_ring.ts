// Uniforms (shapes, strides, offsets, scalars) for every dispatch of a batch, packed into one
// reused GPU buffer.
//
// Each dispatch's uniforms take a slot aligned to `minUniformBufferOffsetAlignment` (256 bytes) in a
// CPU-side staging copy; the bind group binds the ring with a dynamic offset. Just before the batch
// is submitted the used prefix is uploaded with one `queue.writeBuffer`. Because writeBuffer and
// submit are ordered on the queue timeline, the next batch can start again at offset 0 even while
// the GPU still runs the previous one: the previous submission has already consumed its own write.
// When a batch fills the ring, the runtime submits early (see WebGPURuntime.dispatch).

export class UniformRing {
  readonly buffer: GPUBuffer;
  readonly capacity: number;
  private readonly staging: Uint8Array<ArrayBuffer>;
  private readonly staging32: Uint32Array<ArrayBuffer>;
  private used = 0;

  constructor(private readonly device: GPUDevice, capacity: number, readonly alignment: number) {
    this.capacity = capacity;
    this.buffer = device.createBuffer({ label: 'webgrad uniform ring', size: capacity, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.staging = new Uint8Array(capacity);
    this.staging32 = new Uint32Array(this.staging.buffer, 0, capacity >>> 2);
  }

  /** Bytes a payload of `bytes` occupies in the ring (padded to 16: WGSL uniform structs are 16-aligned). */
  static bindingSize(bytes: number): number {
    return Math.max(16, Math.ceil(bytes / 16) * 16);
  }

  /** Would `bytes` more fit in this batch? */
  fits(bytes: number): boolean {
    return this.used + UniformRing.bindingSize(bytes) <= this.capacity;
  }

  /**
   * Copies `data` into the next slot and returns its byte offset. Call `fits` first. A Uint32Array
   * or Uint8Array is copied as is; any other view or an ArrayBuffer is copied byte for byte.
   */
  push(data: ArrayBuffer | ArrayBufferView): number {
    const offset = this.used;
    const length = data.byteLength;
    if (data instanceof Uint32Array && offset % 4 === 0) {
      this.staging32.set(data, offset >>> 2);
    } else if (data instanceof Uint8Array) {
      this.staging.set(data, offset);
    } else if (data instanceof ArrayBuffer) {
      this.staging.set(new Uint8Array(data), offset);
    } else {
      this.staging.set(new Uint8Array(data.buffer, data.byteOffset, length), offset);
    }
    const size = UniformRing.bindingSize(length);
    if (size > length) this.staging.fill(0, offset + length, offset + size);
    this.used = offset + Math.ceil(size / this.alignment) * this.alignment;
    return offset;
  }

  /** Uploads this batch's uniforms (before its submit) and starts the next batch at offset 0. */
  upload(): void {
    if (this.used === 0) return;
    this.device.queue.writeBuffer(this.buffer, 0, this.staging, 0, Math.min(this.used, this.capacity));
    this.used = 0;
  }

  destroy(): void {
    this.buffer.destroy();
  }
}
