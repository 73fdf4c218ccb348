// Moving tensors between devices and out of the graph: to, toAsync, detach, and reading data.
import type { DType } from '@webgrad/kernels';
import type { DeviceName } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { DTypeError, DeviceError, ValueError, fmtShape } from '../errors.js';
import { checkTensor, fmtValue } from '../validate.js';
import { Tensor, type NestedArray } from '../tensor.js';
import type { TypedArray } from '../dtype.js';
import { empty } from './alloc.js';
import { cast, contiguous } from './cast.js';
import { DTYPES, decodeArray, isHalfDType } from '@webgrad/kernels';

/** Same storage, no graph: gradients never flow through the result. */
export function detach(x: Tensor): Tensor {
  checkTensor('detach', 'input', x);
  return new Tensor(x.storage.retain(), x.shape, x.dtype, { strides: x.strides, offset: x.offset });
}

function copyTo(x: Tensor, device: DeviceName, data: TypedArray): Tensor {
  const backend = getBackend(device);
  const out = empty(x.shape, x.dtype, backend);
  backend.upload(out.storage.buffer, data, x.dtype);
  if (x.requiresGrad && x.isLeaf) out.requiresGrad = true;
  return out;
}

const isDType = (s: string): s is DType => (DTYPES as readonly string[]).includes(s);
const DEVICES: readonly string[] = ['cpu', 'webgpu'];

/** A dtype or a device name, as `to` takes. */
function checkTarget(op: string, target: unknown): void {
  if (typeof target !== 'string' || (!isDType(target) && !DEVICES.includes(target))) {
    throw new ValueError(`${op}: expected a device (${DEVICES.join(', ')}) or a dtype (${DTYPES.join(', ')}), got ${fmtValue(target)}`);
  }
}

/**
 * A tensor on `device` (or of `dtype`). Returns `x` itself when nothing changes. Moving between
 * devices is not recorded by autograd: a leaf that requires grad gives a new leaf that requires grad.
 * Moving off a device that cannot be read synchronously (WebGPU → CPU) needs `await toAsync(...)`.
 */
export function to(x: Tensor, target: DeviceName | DType): Tensor {
  checkTensor('to', 'input', x);
  checkTarget('to', target);
  if (isDType(target)) return cast(x, target);
  if (target === x.device) return x;
  getBackend(target, 'to');
  const read = x.backend.readSync;
  if (!read) throw new DeviceError(`to('${target}'): reading a ${x.device} tensor of shape ${fmtShape(x.shape)} is asynchronous; use \`await t.toAsync('${target}')\``);
  const c = contiguous(x);
  const data = read(c.storage.buffer, c.dtype, c.storage.length).subarray(c.offset, c.offset + c.size);
  if (c !== x) c.dispose();
  return copyTo(x, target, data);
}

/** `to(x, target)` that awaits the read where the data leaves a device that cannot be read synchronously (WebGPU → CPU). */
export async function toAsync(x: Tensor, target: DeviceName | DType): Promise<Tensor> {
  checkTensor('toAsync', 'input', x);
  checkTarget('toAsync', target);
  if (isDType(target) || target === x.device) return to(x, target);
  getBackend(target, 'toAsync');
  return copyTo(x, target, await stored(x));
}

/** The elements as stored, row-major (float16/bfloat16 as bit patterns in a Uint16Array). */
async function stored(x: Tensor): Promise<TypedArray> {
  const c = contiguous(x);
  try {
    const all = await c.backend.download(c.storage.buffer, c.dtype, c.offset + c.size);
    return all.slice(c.offset, c.offset + c.size);
  } finally {
    if (c !== x) c.dispose();
  }
}

/** The values of a storage array: float16/bfloat16 bit patterns become a Float32Array (exactly). */
const values = (dtype: DType, a: TypedArray): TypedArray => (isHalfDType(dtype) ? Float32Array.from(decodeArray(dtype, a)) : a);

/** The elements in row-major order as a fresh TypedArray (bool → Uint8Array; float16 and bfloat16 →
 *  Float32Array, which holds their values exactly). */
export async function data(x: Tensor): Promise<TypedArray> {
  checkTensor('data', 'input', x);
  return values(x.dtype, await stored(x));
}

/** Synchronous read, on devices that allow it (the CPU). */
export function dataSync(x: Tensor): TypedArray {
  checkTensor('dataSync', 'input', x);
  const read = x.backend.readSync;
  if (!read) throw new DeviceError(`dataSync: tensors on '${x.device}' are read asynchronously; use \`await t.data()\``);
  const c = contiguous(x);
  const out = read(c.storage.buffer, c.dtype, c.offset + c.size).slice(c.offset, c.offset + c.size);
  if (c !== x) c.dispose();
  return values(x.dtype, out);
}

function nest(flat: ArrayLike<number>, shape: readonly number[], dtype: DType): NestedArray {
  const conv = (v: number): number | boolean => (dtype === 'bool' ? v !== 0 : v);
  if (shape.length === 0) return conv(flat[0]);
  const build = (dim: number, off: number): NestedArray[] => {
    const n = shape[dim];
    const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    const out: NestedArray[] = [];
    for (let i = 0; i < n; i++) out.push(dim === shape.length - 1 ? conv(flat[off + i]) : build(dim + 1, off + i * stride));
    return out;
  };
  return build(0, 0);
}

/** The tensor's values as nested JavaScript arrays (torch.Tensor.tolist); bool tensors give booleans. */
export async function array(x: Tensor): Promise<NestedArray> {
  checkTensor('array', 'input', x);
  return nest(await data(x), x.shape, x.dtype);
}

/** The value of a one-element tensor (torch.Tensor.item); any other size raises a DTypeError. */
export async function item(x: Tensor): Promise<number> {
  checkTensor('item', 'input', x);
  if (x.size !== 1) throw new DTypeError(`item: only a tensor with one element can be read as a number, got shape ${fmtShape(x.shape)}`);
  return (await data(x))[0];
}

/** This file's Tensor methods: `x.to('cpu')` is `to(x, 'cpu')`. */
export const DEVICE_METHODS = { to, toAsync, detach, data, dataSync, array, item };
