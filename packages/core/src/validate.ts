// Run-time argument checks for every public op, layer constructor and option bag. JavaScript callers
// get no compile-time check, so a NaN size, a fractional dim, `true` where `{ keepdim: true }` goes or
// an unknown option value must fail here, with a typed error naming the public op, the argument and
// the value it got — never later, inside a kernel, as a corrupt shape or silent garbage.
import type { DType } from '@webgrad/kernels';
import { DTypeError, IndexError, OutOfMemoryError, ShapeError, ValueError, fmtShape } from './errors.js';
import type { Tensor } from './tensor.js';

const DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int32', 'bool'];

/** How a value prints in an error: strings quoted, objects as JSON where short. */
export function fmtValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return v.length <= 8 ? `[${v.map(fmtValue).join(', ')}]` : `an array of length ${v.length}`;
  if ((v as { __isTensor?: boolean }).__isTensor) return `a Tensor of shape ${fmtShape((v as { shape: number[] }).shape)}`;
  try {
    const s = JSON.stringify(v);
    return s.length <= 60 ? s : `an object with keys ${Object.keys(v as object).join(', ')}`;
  } catch {
    return 'an object';
  }
}

/** A finite JS number. */
export function checkFinite(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`${op}: ${name} must be a finite number, got ${fmtValue(v)}`);
  return v;
}

/** A JS number (NaN and ±Infinity allowed: fill values, clamp bounds). */
export function checkNumber(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw new ValueError(`${op}: ${name} must be a number, got ${fmtValue(v)}`);
  return v;
}

/** An integer in [min, max] (bounds inclusive, either optional). */
export function checkInt(op: string, name: string, v: unknown, bounds: { min?: number; max?: number } = {}): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValueError(`${op}: ${name} must be an integer, got ${fmtValue(v)}`);
  if ((bounds.min !== undefined && v < bounds.min) || (bounds.max !== undefined && v > bounds.max)) {
    const range = bounds.max === undefined ? `>= ${bounds.min}` : bounds.min === undefined ? `<= ${bounds.max}` : `in [${bounds.min}, ${bounds.max}]`;
    throw new ValueError(`${op}: ${name} must be ${range}, got ${v}`);
  }
  return v;
}

/** A size: an integer >= 0 (or >= `min`). */
export function checkSize(op: string, name: string, v: unknown, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ValueError(`${op}: ${name} must be an integer >= ${min}, got ${fmtValue(v)}`);
  }
  return v;
}

/** A number in a range (for probabilities, momenta, epsilons). `open` excludes the ends. */
export function checkRange(op: string, name: string, v: unknown, lo: number, hi: number, open: { lo?: boolean; hi?: boolean } = {}): number {
  const x = checkFinite(op, name, v);
  if (x < lo || x > hi || (open.lo && x === lo) || (open.hi && x === hi)) {
    throw new ValueError(`${op}: ${name} must be in ${open.lo ? '(' : '['}${lo}, ${hi}${open.hi ? ')' : ']'}, got ${x}`);
  }
  return x;
}

/** A boolean (not a truthy object: `sum(x, 1, { keepdim: true })` and `sum(x, 1, true)` are told apart). */
export function checkBool(op: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ValueError(`${op}: ${name} must be true or false, got ${fmtValue(v)}`);
  return v;
}

/** One of a fixed set of values. */
export function checkEnum<T extends string | number>(op: string, name: string, v: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) throw new ValueError(`${op}: ${name} must be one of ${allowed.map(fmtValue).join(', ')}, got ${fmtValue(v)}`);
  return v as T;
}

/** A dtype name this library has. */
export function checkDType(op: string, v: unknown, name = 'dtype'): DType {
  if (!DTYPES.includes(v as DType)) throw new DTypeError(`${op}: unknown ${name} ${fmtValue(v)} (expected one of ${DTYPES.join(', ')})`);
  return v as DType;
}

/** A dim in [-rank, rank) for a tensor of `rank` (a 0-d tensor accepts -1 and 0), normalized to [0, rank). */
export function checkDim(op: string, name: string, v: unknown, rank: number): number {
  const r = Math.max(rank, 1);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -r || v >= r) {
    throw new IndexError(`${op}: ${name} ${fmtValue(v)} is out of range for a tensor of rank ${rank} (expected an integer in [${-r}, ${r - 1}])`);
  }
  return v < 0 ? v + r : v;
}

/** A shape: an array of integer sizes >= 0 (>= -1 where a size may be inferred, as in reshape). */
export function checkShapeArg(op: string, name: string, v: unknown, min = 0): number[] {
  if (!Array.isArray(v)) throw new ShapeError(`${op}: ${name} must be an array of sizes, got ${fmtValue(v)}`);
  for (const d of v) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < min) {
      throw new ShapeError(`${op}: invalid ${name} ${fmtValue(v)}: sizes must be integers >= ${min}`);
    }
  }
  return v as number[];
}

/**
 * An options bag: undefined (→ {}) or a plain object whose keys are all in `known`. A boolean, number,
 * array or tensor where an options object goes, or a misspelt key, is an error rather than ignored.
 */
export function checkOptions<T extends object>(op: string, v: T | undefined, known: readonly string[], name = 'options'): T {
  if (v === undefined) return {} as T;
  if (v === null || typeof v !== 'object' || Array.isArray(v) || (v as { __isTensor?: boolean }).__isTensor) {
    throw new ValueError(`${op}: ${name} must be an object like { ${known.map((k) => `${k}: …`).join(', ')} }, got ${fmtValue(v)}`);
  }
  for (const k of Object.keys(v)) {
    if (!known.includes(k)) throw new ValueError(`${op}: unknown option ${fmtValue(k)} in ${name} (known: ${known.join(', ') || 'none'})`);
  }
  return v;
}

/** The most elements one tensor holds: typed arrays and WebGPU's 32-bit indices stop there. */
export const MAX_ELEMENTS = 2 ** 32 - 1;

/** The element count of a shape that is to be allocated; beyond MAX_ELEMENTS an OutOfMemoryError,
 *  raised before anything is allocated. */
export function checkNumel(op: string, shape: readonly number[]): number {
  const n = shape.reduce((a, d) => a * d, 1);
  if (n > MAX_ELEMENTS) {
    throw new OutOfMemoryError(`${op}: a tensor of shape ${fmtShape(shape)} would hold ${n} elements; one tensor holds at most ${MAX_ELEMENTS}`);
  }
  return n;
}

/** A Tensor (not a number, array or options object). */
export function checkTensor(op: string, name: string, v: unknown): Tensor {
  if (typeof v !== 'object' || v === null || !(v as { __isTensor?: boolean }).__isTensor) {
    throw new ValueError(`${op}: ${name} must be a Tensor, got ${fmtValue(v)}`);
  }
  return v as Tensor;
}

/** A tensor with at least `min` dims (a 0-d tensor has no dim to slice, select or concatenate along). */
export function checkRank(op: string, name: string, t: Tensor, min: number): Tensor {
  if (t.shape.length < min) throw new ShapeError(`${op}: ${name} must have at least ${min} dim${min === 1 ? '' : 's'}, got shape ${fmtShape(t.shape)}`);
  return t;
}

/** A scalar operand or fill value: a number (NaN and ±Infinity allowed) or a boolean. */
export function checkScalar(op: string, name: string, v: unknown): number | boolean {
  if (typeof v !== 'number' && typeof v !== 'boolean') throw new ValueError(`${op}: ${name} must be a number or a boolean, got ${fmtValue(v)}`);
  return v;
}

/** An integer >= min, or a pair of them (conv and pooling sizes: kernel, stride, padding, dilation). */
export function checkPair(op: string, name: string, v: unknown, min: number): [number, number] {
  const ok = (d: unknown) => typeof d === 'number' && Number.isInteger(d) && d >= min;
  if (ok(v)) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1])) return [v[0], v[1]];
  throw new ValueError(`${op}: ${name} must be an integer >= ${min} or a pair of them, got ${fmtValue(v)}`);
}

/** A function (a callback such as tidy's or noGrad's body). */
export function checkFunction(op: string, name: string, v: unknown): void {
  if (typeof v !== 'function') throw new ValueError(`${op}: ${name} must be a function, got ${fmtValue(v)}`);
}
