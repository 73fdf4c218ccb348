// The operands of the fast cpu kernels: which views a kernel may take (`isF32`, `isFloat`,
// `allF32Contiguous`), and where the WebAssembly programs find them (`readPtr`, `writePtr`,
// `inOutPtr`).
//
// A `cpu` tensor's float32 array normally lives in the runtime's memory (runtime.ts); then kernels
// use it in place. Arrays elsewhere (tensors made before the runtime could share memory, views
// handed in by tests) are copied into scratch and results copied back.

import { isContiguous } from '../geometry.js';
import type { TypedArray, View } from '../types.js';
import type { WasmRuntime } from './runtime.js';

type V = View<TypedArray>;
type F32 = View<Float32Array>;

/** A float32 view over a Float32Array (the dtype every WebAssembly program works in). */
export const isF32 = (v: V): v is F32 => v.dtype === 'float32' && v.buffer instanceof Float32Array;
/** A float32 or float64 view. */
export const isFloat = (v: V): boolean => v.dtype === 'float32' || v.dtype === 'float64';
/** Every view given is float32 and contiguous (null, an absent optional operand, counts as such). */
export const allF32Contiguous = (...vs: (V | null)[]): boolean => vs.every((v) => v === null || (isF32(v) && isContiguous(v)));

/** Address at which WebAssembly reads the n elements of v from v.offset: in place, or a scratch copy. */
export function readPtr(rt: WasmRuntime, v: V, n: number): number {
  const base = rt.addressOf(v.buffer);
  if (base >= 0) return base + v.offset * 4;
  const p = rt.alloc(n * 4);
  rt.f32().set(v.buffer.subarray(v.offset, v.offset + n), p >> 2);
  return p;
}

/** A byte range an output must not overlap (an operand already in place in the memory). */
export type Range = readonly [addr: number, bytes: number];

/**
 * Where WebAssembly writes the n contiguous elements of `out`, and `done()` to call afterwards: in
 * place when out's array lives in the memory, the view runs to the array's end (so a vector loop's
 * tail lands in the block's slack, not in the array's other elements) and out overlaps no range in
 * `avoid` — except one starting at the same address when `sameOk` (an elementwise in-place write);
 * otherwise scratch, copied into out by done().
 */
export function writePtr(rt: WasmRuntime, out: V, n: number, avoid: readonly Range[] = [], sameOk = false): { addr: number; done: () => void } {
  const base = rt.addressOf(out.buffer);
  if (base >= 0 && out.offset + n === out.buffer.length) {
    const a = base + out.offset * 4, e = a + n * 4;
    if (avoid.every(([b, bytes]) => (sameOk && b === a) || b + bytes <= a || e <= b)) return { addr: a, done: () => {} };
  }
  const p = rt.alloc(n * 4);
  return { addr: p, done: () => { out.buffer.set(rt.f32().subarray(p >> 2, (p >> 2) + n), out.offset); } };
}

/** An operand updated in place (AdamW's parameter and moments): `writePtr`'s rule, plus copy-in. */
export function inOutPtr(rt: WasmRuntime, v: V, n: number): { addr: number; done: () => void } {
  const w = writePtr(rt, v, n);
  if (rt.addressOf(v.buffer) < 0 || w.addr !== rt.addressOf(v.buffer) + v.offset * 4) rt.f32().set(v.buffer.subarray(v.offset, v.offset + n), w.addr >> 2);
  return w;
}
