// The `webgpu` device: GPUBuffers managed by the kernels package's WebGPURuntime (pooling,
// batching, uniform ring), computed on by its WGSL kernels.
import {
  WebGPUIndexError, WebGPURuntime, createWebGPUKernels, matmulEpilogue, layerNormBackwardAdd, gpuByteSize, type DType, type RuntimeOptions, type TypedArray, type AdapterDescription,
} from '@webgrad/kernels';
import { arrayFor } from '../dtype.js';
import { DTypeError, IndexError } from '../errors.js';
import type { Backend } from './backend.js';
import { getDefaultDevice, hasDevice, registerBackend, setDefaultDevice } from './registry.js';
import { checkBool, checkEnum, checkOptions, checkSize } from '../validate.js';

let runtime: WebGPURuntime | null = null;

function toUpload(dtype: DType, data: TypedArray): ArrayBufferView {
  // bool is one byte per element on the CPU and a u32 on the GPU; float16 and bfloat16 bit patterns
  // are stored as they are (bfloat16 two per u32 word, the little-endian order of a Uint16Array).
  return dtype === 'bool' ? Uint32Array.from(data) : data;
}

/** float16 tensors need the adapter feature shader-f16 (f16 in WGSL). */
function checkF16(rt: WebGPURuntime, dtype: DType): void {
  if (dtype === 'float16' && !rt.features.has('shader-f16')) {
    throw new DTypeError(`webgpu: float16 tensors need the adapter feature 'shader-f16', which ${rt.info.description || 'this adapter'} does not have; ` +
      'use bfloat16 or float32 on this device');
  }
}

const GPU_DTYPES: readonly string[] = ['float32', 'float16', 'bfloat16', 'int32', 'bool'];

function makeBackend(rt: WebGPURuntime): Backend<GPUBuffer> {
  return {
    name: 'webgpu',
    kernels: {
      ...createWebGPUKernels(rt),
      matmulEpilogue: (a, b, program, inputs, outs, rowSums) => matmulEpilogue(rt, a, b, program, inputs, outs, rowSums ?? null),
      layerNormBackwardAdd: (x, w, mean, rstd, dy, r, out, dx, dw, db) => layerNormBackwardAdd(rt, x, w, mean, rstd, dy, r, out, dx, dw, db),
    },
    // An allow-list: a name that is no dtype is refused too (float64 has no WGSL storage type).
    supports: (dtype) => GPU_DTYPES.includes(dtype),
    allocate: (dtype, length) => { checkF16(rt, dtype); return rt.allocate(gpuByteSize(dtype, Math.max(length, 1))); },
    free: (buffer) => rt.release(buffer),
    byteSize: (dtype, length) => gpuByteSize(dtype, length),
    upload: (buffer, data, dtype) => { if (data.length > 0) rt.write(buffer, toUpload(dtype, data)); },
    download: async (buffer, dtype: DType, length) => {
      if (length === 0) return arrayFor(dtype, 0);
      let bytes: ArrayBuffer;
      try {
        bytes = await rt.read(buffer, 0, gpuByteSize(dtype, length));
      } catch (e) {
        if (e instanceof WebGPUIndexError) throw Object.assign(new IndexError(e.message), { cause: e });
        throw e;
      }
      switch (dtype) {
        case 'float32': return new Float32Array(bytes);
        case 'int32': return new Int32Array(bytes);
        case 'bool': return Uint8Array.from(new Uint32Array(bytes));
        case 'float16': case 'bfloat16': return new Uint16Array(bytes, 0, length);
        default: throw new Error(`webgpu: cannot read dtype ${dtype}`);
      }
    },
    flush: () => rt.flush(),
    reportIndexErrorsAs: (op, what, fn) => rt.reportIndexErrorsAs(op, what, fn),
    // A runtime Capture is a CapturedCommands: replay(), dispose(), commands.
    captureCommands: (fn) => rt.capture(fn),
  };
}

/** Options of `initWebGPU`: the adapter request's, and whether webgpu becomes the default device. */
export interface InitWebGPUOptions extends RuntimeOptions {
  /** Make `webgpu` the default device: 'auto' (default) does so only for a hardware adapter. */
  setDefault?: boolean | 'auto';
}

function checkInitOptions(opts: InitWebGPUOptions): void {
  const op = 'initWebGPU';
  const o = checkOptions(op, opts, ['gpu', 'powerPreference', 'allowSoftware', 'maxDispatchesPerSubmit', 'uniformRingBytes', 'memoryLimitBytes', 'setDefault']);
  if (o.setDefault !== undefined && o.setDefault !== 'auto') checkBool(op, 'setDefault', o.setDefault);
  if (o.allowSoftware !== undefined) checkBool(op, 'allowSoftware', o.allowSoftware);
  if (o.powerPreference !== undefined) checkEnum(op, 'powerPreference', o.powerPreference, ['low-power', 'high-performance']);
  for (const k of ['maxDispatchesPerSubmit', 'uniformRingBytes', 'memoryLimitBytes'] as const) if (o[k] !== undefined) checkSize(op, k, o[k], 1);
}

/**
 * Open the GPU and register the `webgpu` device. Node uses the `webgpu` package (Dawn); browsers use
 * navigator.gpu. Calling it again returns the same adapter description.
 */
export async function initWebGPU(opts: InitWebGPUOptions = {}): Promise<AdapterDescription> {
  checkInitOptions(opts);
  if (!runtime) {
    runtime = await WebGPURuntime.create(opts);
    registerBackend(makeBackend(runtime) as Backend);
  }
  const want = opts.setDefault ?? 'auto';
  if (want === true || (want === 'auto' && !runtime.info.isSoftware && getDefaultDevice() === 'cpu')) setDefaultDevice('webgpu');
  return runtime.info;
}

/** The runtime behind the `webgpu` device (for profiling, stats and warm-up), or null. */
export function webgpuRuntime(): WebGPURuntime | null {
  return hasDevice('webgpu') ? runtime : null;
}
