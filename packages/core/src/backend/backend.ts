// The backend interface: how core allocates, moves and computes on one device. Backends are thin
// adapters — all compute lives in @webgrad/kernels behind `BackendKernels` (the primitives, and any fused kernels).
import type { BackendKernels, DType, TypedArray } from '@webgrad/kernels';

/** The devices a tensor can live on. */
export type DeviceName = 'cpu' | 'webgpu';

/** One device to core: allocation, uploads and downloads of buffers of type `B`, and its kernels. */
export interface Backend<B = unknown> {
  /** The device this backend serves. */
  readonly name: DeviceName;
  /** Every primitive kernel, and whichever fused kernels this device has (the others run decomposed). */
  readonly kernels: BackendKernels<B>;
  /** dtypes this device can hold. */
  supports(dtype: DType): boolean;
  /** A buffer for `length` elements of `dtype`. Its contents are undefined (pooled memory is reused). */
  allocate(dtype: DType, length: number): B;
  /** Return a buffer; the backend decides when its memory is really reused. */
  free(buffer: B, dtype: DType, length: number): void;
  /** Bytes a buffer of `length` `dtype` elements occupies on this device. */
  byteSize(dtype: DType, length: number): number;
  /** `data` is `dtype`'s CPU storage array (float16/bfloat16: bit patterns). */
  upload(buffer: B, data: TypedArray, dtype: DType): void;
  /** Read `length` elements of `dtype` back into a CPU array, once the device has finished writing them. */
  download(buffer: B, dtype: DType, length: number): Promise<TypedArray>;
  /** Synchronous read, only where the device can do it without waiting (the CPU). */
  readSync?(buffer: B, dtype: DType, length: number): TypedArray;
  /** Submit pending work (no-op on the CPU). */
  flush(): void;
  /** Runs `fn`, reporting out-of-range indices its kernels find later (at a read) as `op`'s, about
   *  `what`; only devices that check indices asynchronously have it (WebGPU). */
  reportIndexErrorsAs?<T>(op: string, what: string, fn: () => T): T;
  /** Records the device commands `fn` issues (kernels run normally during capture) and returns a
   *  handle that re-issues exactly those commands with prepared bind groups, no kernel launch code.
   *  Buffers the capture references must stay alive until `dispose()`; uniform bytes are frozen at
   *  capture time. Only devices that batch commands have it (WebGPU). */
  captureCommands?(fn: () => void): CapturedCommands;
}

/** Device commands recorded by `Backend.captureCommands`, re-issued as they were. */
export interface CapturedCommands {
  /** Issue the recorded commands again. */
  replay(): void;
  /** Release what the capture holds (bind groups, frozen uniforms). */
  dispose(): void;
  /** How many commands (dispatches and copies) the capture holds. */
  readonly commands: number;
}
