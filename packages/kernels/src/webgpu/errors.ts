// Typed errors raised by the WebGPU runtime and its kernels.
//
// Every error says what the user can do about it: install a driver, free tensors, pick another dtype.
// GPU-side failures (validation errors, device loss, out-of-range indices found by a kernel) are
// asynchronous by nature; the runtime stores them and raises them at the next flush or read (an
// out-of-range index: at a read of data computed from the faulty result), so the
// call that surfaces an error is not always the call that caused it — the message names the cause.

/** No WebGPU adapter (or device) could be obtained. */
export class WebGPUUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebGPUUnavailableError';
  }
}

/** A buffer allocation failed even after trimming the pool. */
export class WebGPUOutOfMemoryError extends Error {
  /** Size of the allocation that failed, in bytes. */
  readonly requestedBytes: number;
  constructor(requestedBytes: number, detail: string) {
    super(`WebGPU out of memory: could not allocate ${requestedBytes} bytes (${detail}). ` +
      'Dispose tensors you no longer need (tidy(), using, dispose()) or use smaller batches.');
    this.name = 'WebGPUOutOfMemoryError';
    this.requestedBytes = requestedBytes;
  }
}

/** The GPU device was lost (driver reset, destroy(), too-long dispatch). The runtime is unusable afterwards. */
export class WebGPUDeviceLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebGPUDeviceLostError';
  }
}

/** An error reported by the WebGPU implementation (validation, shader compilation, internal). */
export class WebGPUValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebGPUValidationError';
  }
}

/** A dtype the WebGPU backend cannot store or compute (float64). Subclass of TypeError, like a DTypeError. */
export class WebGPUDTypeError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'WebGPUDTypeError';
  }
}

/** A kernel's binding list that cannot describe a pipeline (a name twice, a gap, no uniform); see bindings.ts. */
export class WebGPUBindingError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'WebGPUBindingError';
  }
}

/**
 * An out-of-range index found by a kernel (gather, indexSelect, scatterAdd, indexAdd, a
 * crossEntropy target). Raised by a read of the op's result, or of data computed from it; a
 * RangeError, like an out-of-range index on the CPU. `what` names the indexed dimension.
 */
export class WebGPUIndexError extends RangeError {
  /** The op whose index was out of range. */
  readonly op: string;
  /** The first out-of-range index found. */
  readonly index: number;
  /** Size of the dimension it indexed. */
  readonly size: number;
  constructor(op: string, index: number, size: number, what = 'a dimension') {
    super(`${op}: index ${index} is out of range for ${what} of size ${size} (valid: 0..${size - 1}); ` +
      `the tensor read was computed from the result of this ${op} and is invalid`);
    this.name = 'WebGPUIndexError';
    this.op = op;
    this.index = index;
    this.size = size;
  }
}
