// Creating tensors: from data, constants, ranges, and the seeded counter-based RNG.
import type { DType, TypedArray } from '@webgrad/kernels';
import type { Backend, DeviceName } from '../backend/backend.js';
import { getBackend, getDefaultDevice } from '../backend/registry.js';
import { arrayFor, dtypeOfArray, isFloat } from '../dtype.js';
import { encodeArray, isHalfDType } from '@webgrad/kernels';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { checkShape, numel, type Shape } from '../shape.js';
import { Tensor, type NestedArray } from '../tensor.js';
import { checkBool, checkDType, checkFinite, checkInt, checkNumel, checkOptions, checkScalar, checkSize, checkTensor } from '../validate.js';
import { empty } from './alloc.js';
import { cast } from './cast.js';
import { tidy } from '../memory.js';
import { addScalar, minimum, mulScalar, floor } from './elementwise.js';

/** Options of the tensor factories. */
export interface CreateOptions {
  /** Element type (default float32, or inferred from the data for `tensor`). */
  dtype?: DType;
  /** Device to create on (default: `getDefaultDevice()`). */
  device?: DeviceName;
  /** Make the tensor a leaf that accumulates `.grad` (default false). */
  requiresGrad?: boolean;
}

const CREATE_KEYS = ['dtype', 'device', 'requiresGrad'];

/** Creation options after validation; `dtype` stays undefined when the op infers it. */
interface Creation { dtype: DType | undefined; backend: Backend; requiresGrad: boolean }

function creation(op: string, opts: CreateOptions | undefined, extraKeys: readonly string[] = []): Creation {
  const o = checkOptions(op, opts, extraKeys.length ? [...CREATE_KEYS, ...extraKeys] : CREATE_KEYS);
  return {
    dtype: o.dtype === undefined ? undefined : checkDType(op, o.dtype),
    backend: getBackend(o.device === undefined ? getDefaultDevice() : o.device, op),
    requiresGrad: o.requiresGrad === undefined ? false : checkBool(op, 'requiresGrad', o.requiresGrad),
  };
}

/** The checks every creation op makes before allocating: the shape, and a dtype that can require
 *  gradients (when asked to) on a device that holds it. */
function checkCreate(op: string, c: Creation, shape: Shape, dtype: DType): void {
  checkShape(op, shape);
  if (c.requiresGrad && !isFloat(dtype)) {
    throw new ValueError(`${op}: only floating-point tensors can require gradients, got dtype ${dtype}; pass { dtype: 'float32' }`);
  }
  if (!c.backend.supports(dtype)) throw new DTypeError(`${op}: device '${c.backend.name}' does not support dtype ${dtype}`);
}

function allocate(op: string, c: Creation, shape: Shape, dtype: DType): Tensor {
  checkCreate(op, c, shape, dtype);
  return empty(shape, dtype, c.backend, op);
}

function finish(t: Tensor, c: Creation): Tensor {
  if (c.requiresGrad) t.requiresGrad = true;
  return t;
}

/** The `size` values `write` puts into a new host array of `dtype`; float16/bfloat16 values are written as numbers, then stored as bit patterns. */
function hostValues(dtype: DType, size: number, write: (arr: TypedArray) => void): TypedArray {
  const half = isHalfDType(dtype);
  const arr = arrayFor(half ? 'float64' : dtype, size);
  write(arr);
  return half ? encodeArray(dtype, arr) : arr;
}

/** A new tensor whose values `write` puts into a host array of its dtype (or given as 16-bit patterns, `bits`), then uploaded. */
function fromHost(op: string, c: Creation, shape: Shape, dtype: DType, write: (arr: TypedArray) => void, bits?: Uint16Array): Tensor {
  const t = allocate(op, c, shape, dtype);
  try {
    c.backend.upload(t.storage.buffer, bits ?? hostValues(dtype, t.size, write), dtype);
  } catch (e) {
    t.dispose();
    throw e;
  }
  return finish(t, c);
}

function flatten(data: NestedArray, op: string): { values: (number | boolean)[]; shape: number[] } {
  const shape: number[] = [];
  let probe: NestedArray = data;
  while (Array.isArray(probe)) { shape.push(probe.length); probe = probe[0] as NestedArray; if (probe === undefined) break; }
  const values: (number | boolean)[] = [];
  const walk = (x: NestedArray, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(x)) throw new ShapeError(`${op}: ragged nested array: expected a scalar at depth ${depth} for shape ${fmtShape(shape)}`);
      if (typeof x !== 'number' && typeof x !== 'boolean') throw new ValueError(`${op}: expected numbers or booleans, got ${typeof x}`);
      values.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) {
      throw new ShapeError(`${op}: ragged nested array: expected length ${shape[depth]} at depth ${depth} for shape ${fmtShape(shape)}, got ${Array.isArray(x) ? x.length : 'a scalar'}`);
    }
    for (const v of x) walk(v, depth + 1);
  };
  walk(data, 0);
  return { values, shape };
}

/**
 * A tensor from nested arrays (shape inferred) or a TypedArray with an explicit shape. Dtype inference
 * follows PyTorch: booleans → bool, all-integer numbers → int32, otherwise float32; a Float64Array →
 * float64, Int32Array → int32, Float32Array → float32. A Uint16Array with `{ dtype: 'float16' }` or
 * `'bfloat16'` holds bit patterns (what safetensors F16/BF16 store); without a dtype it is refused.
 */
export function tensor(data: NestedArray | TypedArray | number[], opts: CreateOptions & { shape?: Shape } = {}): Tensor {
  const c = creation('tensor', opts, ['shape']);
  let values: ArrayLike<number | boolean>;
  let shape: Shape;
  let dtype = c.dtype;
  if (ArrayBuffer.isView(data)) {
    values = data as TypedArray;
    shape = opts.shape === undefined ? [(data as TypedArray).length] : opts.shape;
    dtype ??= dtypeOfArray(data as TypedArray); // a Uint16Array needs an explicit dtype
  } else {
    const f = flatten(data, 'tensor');
    values = f.values;
    shape = opts.shape === undefined ? f.shape : opts.shape;
    if (!dtype) {
      if (f.values.length > 0 && f.values.every((v) => typeof v === 'boolean')) dtype = 'bool';
      else if (f.values.length > 0 && f.values.every((v) => Number.isInteger(v))) dtype = 'int32';
      else dtype = 'float32';
    }
  }
  checkShape('tensor', shape);
  if (numel(shape) !== values.length) {
    throw new ShapeError(`tensor: ${values.length} values cannot have shape ${fmtShape(shape)} (${numel(shape)} elements)`);
  }
  // A Uint16Array given with dtype float16 or bfloat16 holds their bit patterns, copied as they are.
  const bits = values instanceof Uint16Array && isHalfDType(dtype) ? values.slice() : undefined;
  const typed = ArrayBuffer.isView(values) && !(values instanceof Uint16Array) && dtypeOfArray(values as TypedArray) === dtype;
  return fromHost('tensor', c, shape, dtype, (arr) => {
    if (dtype === 'bool') for (let i = 0; i < values.length; i++) arr[i] = values[i] ? 1 : 0;
    else if (typed) arr.set(values as never);
    else for (let i = 0; i < values.length; i++) arr[i] = Number(values[i]);
  }, bits);
}

function filled(op: string, shape: Shape, value: number | boolean, opts: CreateOptions | undefined): Tensor {
  checkScalar(op, 'value', value);
  const c = creation(op, opts);
  const t = allocate(op, c, shape, c.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32'));
  c.backend.kernels.fill(t.kernelView(), Number(value));
  return finish(t, c);
}

/** A tensor of `shape` filled with `value` (a boolean value gives a bool tensor). */
export const full = (shape: Shape, value: number, opts: CreateOptions = {}) => filled('full', shape, value, opts);
/** A tensor of `shape` filled with 0 (torch.zeros). */
export const zeros = (shape: Shape, opts: CreateOptions = {}) => filled('zeros', shape, 0, opts);
/** A tensor of `shape` filled with 1 (torch.ones). */
export const ones = (shape: Shape, opts: CreateOptions = {}) => filled('ones', shape, 1, opts);

/** A tensor like `t` (its shape, and its dtype and device unless `opts` names others) filled with `value`. */
function filledLike(op: string, t: Tensor, value: number | boolean, opts: CreateOptions | undefined): Tensor {
  checkTensor(op, 'input', t);
  const o = checkOptions(op, opts, CREATE_KEYS);
  const like = { dtype: o.dtype === undefined ? t.dtype : o.dtype, device: o.device === undefined ? t.device : o.device, requiresGrad: o.requiresGrad };
  return filled(op, t.shape, value, like);
}
/** Zeros of `t`'s shape, dtype and device unless `opts` says otherwise (torch.zeros_like). */
export const zerosLike = (t: Tensor, opts: CreateOptions = {}) => filledLike('zerosLike', t, 0, opts);
/** Ones of `t`'s shape, dtype and device unless `opts` says otherwise (torch.ones_like). */
export const onesLike = (t: Tensor, opts: CreateOptions = {}) => filledLike('onesLike', t, 1, opts);
/** `value` in `t`'s shape, dtype and device unless `opts` says otherwise (torch.full_like). */
export const fullLike = (t: Tensor, value: number, opts: CreateOptions = {}) => filledLike('fullLike', t, value, opts);

/** Values start, start+step, ... < end (like torch.arange). Integer arguments give int32. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  checkFinite('arange', 'start', start);
  if (end === undefined) { end = start; start = 0; } else checkFinite('arange', 'end', end);
  checkFinite('arange', 'step', step);
  if (step === 0) throw new ValueError('arange: step must be non-zero');
  if ((end - start) * step < 0) throw new ValueError(`arange: the range [${start}, ${end}) and the step ${step} have inconsistent signs (the end is never reached)`);
  const c = creation('arange', opts);
  const n = Math.max(0, Math.ceil((end - start) / step));
  checkNumel('arange', [n]);
  const dtype = c.dtype ?? ([start, end, step].every(Number.isInteger) ? 'int32' : 'float32');
  const from = start;
  return fromHost('arange', c, [n], dtype, (arr) => { for (let i = 0; i < n; i++) arr[i] = from + i * step; });
}

/** `steps` evenly spaced values from `start` to `end`, both included (torch.linspace). */
export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  checkFinite('linspace', 'start', start);
  checkFinite('linspace', 'end', end);
  checkSize('linspace', 'steps', steps);
  const c = creation('linspace', opts);
  return fromHost('linspace', c, [steps], c.dtype ?? 'float32', (arr) => {
    for (let i = 0; i < steps; i++) arr[i] = steps === 1 ? start : start + ((end - start) * i) / (steps - 1);
  });
}

/** The n × m identity (ones on the main diagonal). */
export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  checkSize('eye', 'n', n);
  checkSize('eye', 'm', m);
  const c = creation('eye', opts);
  return fromHost('eye', c, [n, m], c.dtype ?? 'float32', (arr) => {
    for (let i = 0; i < Math.min(n, m); i++) arr[i * m + i] = 1;
  });
}

// ---- random ------------------------------------------------------------------------------------

/** The global generator: a seed and a running counter (Threefry-2x32, counter-based, so the same
 *  seed gives the same numbers on every device). */
const generator = { seed: 0x5eed, offset: 0 };

/** Seed the global generator (an integer in [0, 2⁵³)) and reset its offset (torch.manual_seed). */
export function manualSeed(seed: number): void {
  checkInt('manualSeed', 'seed', seed, { min: 0, max: Number.MAX_SAFE_INTEGER });
  generator.seed = seed;
  generator.offset = 0;
}

/** The global generator's state: its seed and how many numbers it has drawn (offset); `setRngState` restores it. */
export function getRngState(): {
  /** The seed. */
  seed: number;
  /** Numbers drawn since seeding. */
  offset: number;
} {
  return { ...generator };
}

/** Restore a state from `getRngState`, so the following random ops repeat; a ValueError names a bad field. */
export function setRngState(state: { seed: number; offset: number }): void {
  const s = checkOptions('setRngState', state, ['seed', 'offset'], 'state');
  const bounds = { min: 0, max: Number.MAX_SAFE_INTEGER };
  generator.seed = checkInt('setRngState', 'state.seed', s.seed, bounds);
  generator.offset = checkInt('setRngState', 'state.offset', s.offset, bounds);
}

function random(op: 'rand' | 'randn', shape: Shape, opts: CreateOptions | undefined): Tensor {
  const c = creation(op, opts);
  const dtype = c.dtype ?? 'float32';
  if (!isFloat(dtype)) throw new DTypeError(`${op}: expected a floating-point dtype, got ${dtype}`);
  const t = allocate(op, c, shape, dtype);
  c.backend.kernels.random(t.kernelView(), { seed: generator.seed, offset: generator.offset, distribution: op === 'rand' ? 'uniform' : 'normal' });
  generator.offset += t.size;
  return finish(t, c);
}

/** Uniform on [0, 1). */
export const rand = (shape: Shape, opts: CreateOptions = {}) => random('rand', shape, opts);
/** Standard normal. */
export const randn = (shape: Shape, opts: CreateOptions = {}) => random('randn', shape, opts);

/** Integers uniform on [low, high). */
export function randint(low: number, high: number, shape: Shape, opts: CreateOptions = {}): Tensor {
  checkInt('randint', 'low', low);
  checkInt('randint', 'high', high);
  if (!(high > low)) throw new ValueError(`randint: expected low < high, got [${low}, ${high})`);
  const c = creation('randint', opts);
  const dtype = c.dtype ?? 'int32';
  checkCreate('randint', c, shape, dtype);
  const t = tidy(() => {
    const u = random('rand', shape, { device: c.backend.name });
    const v = minimum(floor(addScalar(mulScalar(u, high - low), low)), high - 1);
    return cast(v, dtype);
  });
  return finish(t, c);
}
