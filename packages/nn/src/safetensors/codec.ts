// Tensor data codecs: turning typed arrays / number arrays into the little-endian bytes of a
// safetensors dtype, and decoding a tensor's bytes back to Float32Array, Int32Array etc.

import { dtypeItemSize, type SafeDType } from './dtypes.js';
import { SafetensorsError } from './errors.js';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, f8e4m3ToF32, f8e5m2ToF32 } from './half.js';

/** Any JS typed array. */
export type TypedArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array
  | Uint8ClampedArray
  | BigInt64Array
  | BigUint64Array;

/** A tensor as stored in a safetensors file: dtype, shape and raw little-endian bytes. */
export interface SafeTensorView {
  /** The safetensors dtype name ('F32', 'BF16', …). */
  dtype: SafeDType;
  /** The shape ([] for a scalar). */
  shape: number[];
  /** Raw little-endian element bytes (exactly numel(shape) * itemsize bytes). */
  data: Uint8Array;
}

interface Where {
  source?: string | undefined;
  tensor?: string | undefined;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapInPlace(bytes: Uint8Array, itemSize: number): void {
  if (itemSize === 1) return;
  for (let i = 0; i + itemSize <= bytes.length; i += itemSize) {
    for (let a = i, b = i + itemSize - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

/** Little-endian bytes of a typed array's elements (always a fresh copy). */
function leBytesOf(arr: Exclude<TypedArray, Uint8ClampedArray>, itemSize: number): Uint8Array {
  const out = new Uint8Array(arr.buffer.slice(arr.byteOffset, arr.byteOffset + arr.byteLength));
  if (!LITTLE_ENDIAN_HOST) swapInPlace(out, itemSize);
  return out;
}

/** Product of a shape's dimensions (1 for a scalar). */
export function numel(shape: readonly number[]): number {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}

function nativeMatches(dtype: SafeDType, data: TypedArray): boolean {
  switch (dtype) {
    case 'F64': return data instanceof Float64Array;
    case 'F32': return data instanceof Float32Array;
    case 'I32': return data instanceof Int32Array;
    case 'I16': return data instanceof Int16Array;
    case 'I8': return data instanceof Int8Array;
    case 'U32': return data instanceof Uint32Array;
    case 'U16':
    case 'F16':
    case 'BF16': return data instanceof Uint16Array; // F16/BF16: raw bit patterns
    case 'I64': return data instanceof BigInt64Array;
    case 'U64': return data instanceof BigUint64Array;
    case 'U8':
    case 'BOOL': return data instanceof Uint8Array || data instanceof Uint8ClampedArray;
    default: return false;
  }
}

const INT_RANGE: Partial<Record<SafeDType, [number, number]>> = {
  I32: [-2147483648, 2147483647],
  I16: [-32768, 32767],
  I8: [-128, 127],
  U32: [0, 4294967295],
  U16: [0, 65535],
  U8: [0, 255],
};

/**
 * Encode element values into the little-endian bytes of `dtype`. Floats are converted (F16/BF16
 * round to nearest even); integer dtypes require integral in-range values; I64/U64 accept bigints or
 * integer numbers with |v| <= 2^53; BOOL accepts booleans or 0/1. FP8 dtypes can only be written as raw bytes.
 */
export function encodeTensorData(
  dtype: SafeDType,
  values: ArrayLike<number> | ArrayLike<bigint> | ArrayLike<boolean>,
  where: Where = {},
): Uint8Array {
  const n = values.length;
  const bad = (i: number, why: string): never => {
    throw new SafetensorsError('value_out_of_range', `element ${i} (${String(values[i])}) ${why} for dtype ${dtype}`, where);
  };
  const num = (i: number): number => {
    const v = values[i];
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'boolean') return v ? 1 : 0;
    return bad(i, 'is not a number');
  };
  switch (dtype) {
    case 'F64': {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = num(i);
      return leBytesOf(a, 8);
    }
    case 'F32': {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = num(i);
      return leBytesOf(a, 4);
    }
    case 'F16':
    case 'BF16': {
      const a = new Uint16Array(n);
      const enc = dtype === 'F16' ? f32ToF16 : f32ToBf16;
      for (let i = 0; i < n; i++) a[i] = enc(num(i));
      return leBytesOf(a, 2);
    }
    case 'I64':
    case 'U64': {
      const a = dtype === 'I64' ? new BigInt64Array(n) : new BigUint64Array(n);
      const lo = dtype === 'I64' ? -(1n << 63n) : 0n;
      const hi = dtype === 'I64' ? (1n << 63n) - 1n : (1n << 64n) - 1n;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        let b: bigint;
        if (typeof v === 'bigint') b = v;
        else {
          const x = num(i);
          if (!Number.isInteger(x) || Math.abs(x) > 2 ** 53) bad(i, 'is not an integer with |v| <= 2^53');
          b = BigInt(x);
        }
        if (b < lo || b > hi) bad(i, 'is out of range');
        a[i] = b;
      }
      return leBytesOf(a, 8);
    }
    case 'BOOL': {
      const a = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const x = num(i);
        if (x !== 0 && x !== 1) bad(i, 'is not a boolean (0/1)');
        a[i] = x;
      }
      return a;
    }
    case 'F8_E4M3':
    case 'F8_E5M2':
      throw new SafetensorsError('unsupported_conversion', `dtype ${dtype} can only be written from raw bytes (a Uint8Array)`, where);
    default: {
      const [lo, hi] = INT_RANGE[dtype]!;
      const size = dtypeItemSize(dtype);
      const a =
        dtype === 'I32' ? new Int32Array(n)
        : dtype === 'I16' ? new Int16Array(n)
        : dtype === 'I8' ? new Int8Array(n)
        : dtype === 'U32' ? new Uint32Array(n)
        : dtype === 'U16' ? new Uint16Array(n)
        : new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const x = num(i);
        if (!Number.isInteger(x)) bad(i, 'is not an integer');
        if (x < lo || x > hi) bad(i, 'is out of range');
        a[i] = x;
      }
      return leBytesOf(a, size);
    }
  }
}

/**
 * Bytes to store for a tensor given as a Uint8Array (raw bytes), the dtype's own typed array
 * (copied as is; Uint16Array holds raw bit patterns for F16/BF16), or any other typed array /
 * number array (converted element-wise with encodeTensorData).
 */
export function tensorBytes(
  dtype: SafeDType,
  shape: readonly number[],
  data: TypedArray | readonly number[],
  where: Where = {},
): Uint8Array {
  const count = numel(shape);
  const nbytes = count * dtypeItemSize(dtype);
  if (data instanceof Uint8Array && dtype !== 'U8' && dtype !== 'BOOL') {
    if (data.length !== nbytes) {
      throw new SafetensorsError(
        'size_mismatch',
        `raw data has ${data.length} bytes but shape [${shape.join(', ')}] of ${dtype} needs ${nbytes}`,
        where,
      );
    }
    return data;
  }
  if (data.length !== count) {
    throw new SafetensorsError(
      'size_mismatch',
      `data has ${data.length} elements but shape [${shape.join(', ')}] has ${count}`,
      where,
    );
  }
  if (!Array.isArray(data) && nativeMatches(dtype, data as TypedArray)) {
    if (dtype === 'BOOL') {
      const d = data as Uint8Array;
      for (let i = 0; i < d.length; i++) {
        if (d[i]! > 1) throw new SafetensorsError('value_out_of_range', `element ${i} (${d[i]}) is not a boolean (0/1) for dtype BOOL`, where);
      }
    }
    if (data instanceof Uint8Array) return data;
    return leBytesOf(data as Exclude<TypedArray, Uint8ClampedArray>, dtypeItemSize(dtype));
  }
  return encodeTensorData(dtype, data as ArrayLike<number>, where);
}

/** Fresh, aligned, host-endian copy of a tensor's bytes. */
function alignedCopy(t: SafeTensorView): ArrayBuffer {
  const size = dtypeItemSize(t.dtype);
  const expected = numel(t.shape) * size;
  if (t.data.length !== expected) {
    throw new SafetensorsError('size_mismatch', `tensor has ${t.data.length} bytes but shape [${t.shape.join(', ')}] of ${t.dtype} needs ${expected}`);
  }
  const copy = t.data.slice();
  if (!LITTLE_ENDIAN_HOST) swapInPlace(copy, size);
  return copy.buffer;
}

/** The natural JS array for a tensor's dtype. */
export type DecodedArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array
  | BigInt64Array
  | BigUint64Array;

/**
 * Decode a tensor to the natural typed array of its dtype (a copy): F64→Float64Array,
 * F32/F16/BF16/F8_*→Float32Array (converted), I64→BigInt64Array, U64→BigUint64Array,
 * I32→Int32Array, …, U8/BOOL→Uint8Array.
 */
export function decodeTensor(t: SafeTensorView): DecodedArray {
  const buf = alignedCopy(t);
  switch (t.dtype) {
    case 'F64': return new Float64Array(buf);
    case 'F32': return new Float32Array(buf);
    case 'F16': {
      const bits = new Uint16Array(buf);
      const out = new Float32Array(bits.length);
      for (let i = 0; i < bits.length; i++) out[i] = f16ToF32(bits[i]!);
      return out;
    }
    case 'BF16': {
      const bits = new Uint16Array(buf);
      const out = new Uint32Array(bits.length);
      for (let i = 0; i < bits.length; i++) out[i] = bits[i]! << 16;
      return new Float32Array(out.buffer);
    }
    case 'F8_E4M3':
    case 'F8_E5M2': {
      const bits = new Uint8Array(buf);
      const dec = t.dtype === 'F8_E4M3' ? f8e4m3ToF32 : f8e5m2ToF32;
      const out = new Float32Array(bits.length);
      for (let i = 0; i < bits.length; i++) out[i] = dec(bits[i]!);
      return out;
    }
    case 'I64': return new BigInt64Array(buf);
    case 'U64': return new BigUint64Array(buf);
    case 'I32': return new Int32Array(buf);
    case 'U32': return new Uint32Array(buf);
    case 'I16': return new Int16Array(buf);
    case 'U16': return new Uint16Array(buf);
    case 'I8': return new Int8Array(buf);
    case 'U8':
    case 'BOOL': return new Uint8Array(buf);
  }
}

const MAX_EXACT = 2n ** 53n;

/**
 * Decode any tensor to float64 numbers. I64/U64 values must satisfy |v| <= 2^53 (exact in a
 * double); otherwise a SafetensorsError names the element. `where` labels error messages.
 */
export function decodeToFloat64(t: SafeTensorView, where: Where = {}): Float64Array {
  const d = decodeTensor(t);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    const out = new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (v > MAX_EXACT || v < -MAX_EXACT) {
        throw new SafetensorsError('value_out_of_range', `${t.dtype} element ${i} (${v}) exceeds 2^53 and cannot be represented exactly as a number`, where);
      }
      out[i] = Number(v);
    }
    return out;
  }
  return d instanceof Float64Array ? d : Float64Array.from(d);
}

/** Decode any tensor to float32 (F64 values are rounded; I64/U64 must be within ±2^53). */
export function decodeToFloat32(t: SafeTensorView, where: Where = {}): Float32Array {
  if (t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16' || t.dtype === 'F8_E4M3' || t.dtype === 'F8_E5M2') {
    return decodeTensor(t) as Float32Array;
  }
  return Float32Array.from(decodeToFloat64(t, where));
}

/** Decode an integer or BOOL tensor to Int32Array; values outside int32 are an error. */
export function decodeToInt32(t: SafeTensorView, where: Where = {}): Int32Array {
  switch (t.dtype) {
    case 'F64':
    case 'F32':
    case 'F16':
    case 'BF16':
    case 'F8_E4M3':
    case 'F8_E5M2':
      throw new SafetensorsError('unsupported_conversion', `cannot decode floating-point dtype ${t.dtype} to Int32Array`, where);
    case 'I32': return decodeTensor(t) as Int32Array;
    default: {
      const d = decodeToFloat64(t, where);
      const out = new Int32Array(d.length);
      for (let i = 0; i < d.length; i++) {
        const v = d[i]!;
        if (v < -2147483648 || v > 2147483647) {
          throw new SafetensorsError('value_out_of_range', `${t.dtype} element ${i} (${v}) does not fit in int32`, where);
        }
        out[i] = v;
      }
      return out;
    }
  }
}
