// Shared setup for the WebGPU kernel tests.
//
// `gpuRuntime()` creates one WebGPURuntime per test file (destroyed after the file). A missing
// adapter fails the file, never skips it: install the software Vulkan driver
// (scripts/install-webgpu-driver.sh), or leave every WebGPU-only file out explicitly with
// WEBGRAD_TEST_WEBGPU=0 (vitest.config.ts; refused under CI=true).
//
// Views: tests build CPU views (TypedArray buffers, arbitrary strides/offsets), run the CPU
// reference on them, copy the *whole* underlying buffer to the GPU (so offsets and strides mean the
// same thing there), run the WGSL kernel, read the whole buffer back and compare element by element —
// including the elements a strided `out` must leave untouched.

import { afterAll } from 'vitest';
import { WebGPURuntime } from '../src/webgpu/index.js';
import { contiguousStrides, numel, typedArrayFor } from '../src/cpu/index.js';
import type { DType, TypedArray, View } from '../src/types.js';

let created: Promise<WebGPURuntime> | null = null;

export async function gpuRuntime(): Promise<WebGPURuntime> {
  if (!created) {
    created = (async () => {
      let rt: WebGPURuntime;
      try {
        rt = await WebGPURuntime.create();
      } catch (e) {
        throw new Error(`${(e as Error).message} (To test the CPU alone: WEBGRAD_TEST_WEBGPU=0 pnpm test.)`);
      }
      afterAll(async () => {
        try { await rt.sync(); } finally { rt.destroy(); }
      });
      return rt;
    })();
  }
  return created;
}

// ---- deterministic random data ----------------------------------------------------------------

/** Mulberry32: a small seeded PRNG for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomValues(dtype: DType, n: number, r: () => number, lo = -3, hi = 3): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = lo + (hi - lo) * r();
    out.push(dtype === 'int32' ? Math.floor(u) : dtype === 'bool' ? (r() < 0.5 ? 1 : 0) : u);
  }
  return out;
}

// ---- views ------------------------------------------------------------------------------------

export interface Layout {
  /** Physical dim order: the view's dim `perm[k]` is the k-th slowest in memory (a permuted/transposed view). */
  perm?: number[];
  /** Elements before the first one. */
  offset?: number;
  /** Dims broadcast with stride 0 (their physical extent is 1). */
  broadcast?: number[];
  /** Extra elements of padding per row of the innermost physical dim (a sliced view). */
  pad?: number;
}

/** A CPU view of `shape` with the given layout over a buffer filled with `values` (cycled). */
export function makeView(dtype: DType, shape: readonly number[], layout: Layout = {}, fillWith?: (i: number) => number): View<TypedArray> {
  const rank = shape.length;
  const perm = layout.perm ?? [...Array(rank).keys()];
  const bcast = new Set(layout.broadcast ?? []);
  const physShape = perm.map((d) => (bcast.has(d) ? 1 : shape[d]!));
  if (rank > 0 && layout.pad) physShape[rank - 1] = physShape[rank - 1]! + layout.pad;
  const physStrides = contiguousStrides(physShape);
  const strides = new Array<number>(rank).fill(0);
  perm.forEach((d, k) => { strides[d] = bcast.has(d) ? 0 : physStrides[k]!; });
  const offset = layout.offset ?? 0;
  const total = offset + numel(physShape);
  const buffer = typedArrayFor(dtype, Math.max(total, 1));
  for (let i = 0; i < buffer.length; i++) buffer[i] = fillWith ? fillWith(i) : 0;
  return { buffer, dtype, shape: [...shape], strides, offset };
}

/** The view's buffer converted to GPU storage (bool → u32 words; float16 and bfloat16 as they are) as raw bytes. */
export function gpuBytes(v: View<TypedArray>): ArrayBuffer {
  if (v.dtype === 'bool') return Uint32Array.from(v.buffer as Uint8Array).buffer;
  if (v.dtype === 'float16' || v.dtype === 'bfloat16') return (v.buffer as Uint16Array).slice().buffer as ArrayBuffer;
  return (v.buffer as Float32Array | Int32Array).slice().buffer as ArrayBuffer;
}

/** Uploads the whole buffer of a CPU view; returns the same view over a GPU buffer. */
export function toGPU(rt: WebGPURuntime, v: View<TypedArray>): View<GPUBuffer> {
  const bytes = gpuBytes(v);
  const buffer = rt.allocate(bytes.byteLength);
  rt.write(buffer, bytes);
  return { buffer, dtype: v.dtype, shape: v.shape, strides: v.strides, offset: v.offset };
}

/** Reads back `length` elements of a GPU buffer as the CPU storage type of `dtype`. */
export async function readBack(rt: WebGPURuntime, buffer: GPUBuffer, dtype: DType, length: number): Promise<TypedArray> {
  const bytes = await rt.read(buffer, 0, length * (dtype === 'float16' || dtype === 'bfloat16' ? 2 : 4));
  if (dtype === 'float16' || dtype === 'bfloat16') return new Uint16Array(bytes, 0, length);
  if (dtype === 'float32') return new Float32Array(bytes);
  if (dtype === 'int32') return new Int32Array(bytes);
  return Uint8Array.from(new Uint32Array(bytes));
}

/** Reads the whole buffer behind a GPU view (as long as its CPU twin's buffer). */
export async function readView(rt: WebGPURuntime, gpu: View<GPUBuffer>, cpu: View<TypedArray>): Promise<TypedArray> {
  return readBack(rt, gpu.buffer, cpu.dtype, cpu.buffer.length);
}

/** Index of the first element where |a-b| > atol + rtol·|b| (NaNs must match), or -1. */
export function firstMismatch(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return i;
      continue;
    }
    if (x === y) continue;
    if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y))) return i;
  }
  return -1;
}

/** Throws with context when a and b differ beyond tolerance. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  const i = firstMismatch(got, want, rtol, atol);
  if (i >= 0) {
    throw new Error(`${what}: mismatch at element ${i}: got ${got[i]}, want ${want[i]} (lengths ${got.length}/${want.length}, rtol ${rtol}, atol ${atol})`);
  }
}

/** Releases the GPU buffers of views. */
export function releaseAll(rt: WebGPURuntime, ...views: (View<GPUBuffer> | null | undefined)[]): void {
  const seen = new Set<GPUBuffer>();
  for (const v of views) if (v && !seen.has(v.buffer)) { seen.add(v.buffer); rt.release(v.buffer); }
}
