// Creating tensors: from data, constants, ranges, and the seeded counter-based RNG.
import type { DType, TypedArray } from '@webgrad/kernels';
import type { DeviceName } from '../backend/backend.js';
import { getBackend, getDefaultDevice } from '../backend/registry.js';
import { arrayFor, dtypeOfArray } from '../dtype.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { checkShape, numel, type Shape } from '../shape.js';
import { Tensor, type NestedArray } from '../tensor.js';
import { empty } from './alloc.js';
import { addScalar, minimum, mulScalar } from './binary.js';
import { cast } from './cast.js';
import { floor } from './unary.js';
import { tidy } from '../memory.js';

export interface CreateOptions {
  dtype?: DType;
  device?: DeviceName;
  requiresGrad?: boolean;
}

function finish(t: Tensor, opts: CreateOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
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
 * float64, Int32Array → int32, Float32Array → float32.
 */
export function tensor(data: NestedArray | TypedArray | number[], opts: CreateOptions & { shape?: Shape } = {}): Tensor {
  const device = opts.device ?? getDefaultDevice();
  const backend = getBackend(device);
  let values: ArrayLike<number | boolean>;
  let shape: Shape;
  let dtype = opts.dtype;
  if (ArrayBuffer.isView(data)) {
    values = data as TypedArray;
    shape = opts.shape ?? [(data as TypedArray).length];
    dtype ??= dtypeOfArray(data as TypedArray);
  } else {
    const f = flatten(data, 'tensor');
    values = f.values;
    shape = opts.shape ?? f.shape;
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
  const arr = arrayFor(dtype, values.length);
  if (dtype === 'bool') for (let i = 0; i < values.length; i++) arr[i] = values[i] ? 1 : 0;
  else if (ArrayBuffer.isView(values) && dtypeOfArray(values as TypedArray) === dtype) arr.set(values as never);
  else for (let i = 0; i < values.length; i++) arr[i] = Number(values[i]);
  const t = empty(shape, dtype, backend);
  backend.upload(t.storage.buffer, arr);
  return finish(t, opts);
}

export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  checkShape('full', shape);
  const backend = getBackend(opts.device ?? getDefaultDevice());
  const dtype = opts.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  const t = empty(shape, dtype, backend);
  backend.kernels.fill(t.view_(), Number(value));
  return finish(t, opts);
}

export const zeros = (shape: Shape, opts: CreateOptions = {}) => full(shape, 0, opts);
export const ones = (shape: Shape, opts: CreateOptions = {}) => full(shape, 1, opts);

const likeOpts = (t: Tensor, opts: CreateOptions): CreateOptions => ({ dtype: t.dtype, device: t.device, ...opts });
export const zerosLike = (t: Tensor, opts: CreateOptions = {}) => full(t.shape, 0, likeOpts(t, opts));
export const onesLike = (t: Tensor, opts: CreateOptions = {}) => full(t.shape, 1, likeOpts(t, opts));
export const fullLike = (t: Tensor, value: number, opts: CreateOptions = {}) => full(t.shape, value, likeOpts(t, opts));

/** Values start, start+step, ... < end (like torch.arange). Integer arguments give int32. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (end === undefined) { end = start; start = 0; }
  if (step === 0) throw new ValueError('arange: step must be non-zero');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = opts.dtype ?? ([start, end, step].every(Number.isInteger) ? 'int32' : 'float32');
  const arr = arrayFor(dtype, n);
  for (let i = 0; i < n; i++) arr[i] = start + i * step;
  return tensor(arr, { ...opts, dtype, shape: [n] });
}

export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new ValueError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const dtype = opts.dtype ?? 'float32';
  const arr = arrayFor(dtype, steps);
  for (let i = 0; i < steps; i++) arr[i] = steps === 1 ? start : start + ((end - start) * i) / (steps - 1);
  return tensor(arr, { ...opts, dtype, shape: [steps] });
}

export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  const dtype = opts.dtype ?? 'float32';
  const arr = arrayFor(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) arr[i * m + i] = 1;
  return tensor(arr, { ...opts, dtype, shape: [n, m] });
}

// ---- random ------------------------------------------------------------------------------------

/** The global generator: a seed and a running counter (Threefry-2x32, counter-based, so the same
 *  seed gives the same numbers on every device). */
const generator = { seed: 0x5eed, offset: 0 };

export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0) throw new ValueError(`manualSeed: seed must be a non-negative integer, got ${seed}`);
  generator.seed = seed;
  generator.offset = 0;
}

export function getRngState(): { seed: number; offset: number } {
  return { ...generator };
}

export function setRngState(state: { seed: number; offset: number }): void {
  generator.seed = state.seed;
  generator.offset = state.offset;
}

function random(shape: Shape, distribution: 'uniform' | 'normal', opts: CreateOptions): Tensor {
  checkShape(distribution === 'uniform' ? 'rand' : 'randn', shape);
  const backend = getBackend(opts.device ?? getDefaultDevice());
  const dtype = opts.dtype ?? 'float32';
  const t = empty(shape, dtype, backend);
  backend.kernels.random(t.view_(), { seed: generator.seed, offset: generator.offset, distribution });
  generator.offset += numel(shape);
  return finish(t, opts);
}

/** Uniform on [0, 1). */
export const rand = (shape: Shape, opts: CreateOptions = {}) => random(shape, 'uniform', opts);
/** Standard normal. */
export const randn = (shape: Shape, opts: CreateOptions = {}) => random(shape, 'normal', opts);

/** Integers uniform on [low, high). */
export function randint(low: number, high: number, shape: Shape, opts: CreateOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || !(high > low)) {
    throw new ValueError(`randint: expected integers low < high, got [${low}, ${high})`);
  }
  return tidy(() => {
    const u = rand(shape, { device: opts.device });
    const v = minimum(floor(addScalar(mulScalar(u, high - low), low)), high - 1);
    return cast(v, opts.dtype ?? 'int32');
  });
}
