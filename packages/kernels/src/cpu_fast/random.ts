// The random family of the fast cpu tier: uniform and normal samples into float32/float64 views of
// any layout, the reference's counter-based Threefry-2x32-20 stream written out without
// allocations, so the samples are the reference's. Other dtypes take the reference.

import { THREEFRY_PARITY, THREEFRY_ROTATIONS, keyForSeed } from '../cpu/random.js';
import { forEachRow } from '../geometry.js';
import type { RandomOptions, TypedArray, View } from '../types.js';
import { isFloat } from '../wasm/operands.js';

type V = View<TypedArray>;

const TWO_POW_32 = 4294967296;
const TWO_POW_M24 = 1 / 16777216;
const TWO_PI = 2 * Math.PI;

/** Threefry-2x32-20 as in the reference, written out without allocations; returns w0, sets W1. */
let W1 = 0;
function threefry(k0: number, k1: number, k2: number, c0: number, c1: number): number {
  const R = THREEFRY_ROTATIONS;
  const ks0 = k0, ks1 = k1, ks2 = k2;
  let x0 = (c0 + ks0) >>> 0;
  let x1 = (c1 + ks1) >>> 0;
  for (let r = 0; r < 20; r++) {
    x0 = (x0 + x1) >>> 0;
    const rot = R[r & 7]!;
    x1 = ((x1 << rot) | (x1 >>> (32 - rot))) >>> 0;
    x1 = (x1 ^ x0) >>> 0;
    if ((r & 3) === 3) {
      const s = (r + 1) >> 2;
      const m = s % 3;
      x0 = (x0 + (m === 0 ? ks0 : m === 1 ? ks1 : ks2)) >>> 0;
      const m1 = (s + 1) % 3;
      x1 = (x1 + (m1 === 0 ? ks0 : m1 === 1 ? ks1 : ks2) + s) >>> 0;
    }
  }
  W1 = x1;
  return x0;
}

export function random(out: V, opts: RandomOptions): boolean {
  if (!isFloat(out)) return false;
  const { seed, offset, distribution } = opts;
  const [k0, k1] = keyForSeed(seed);
  const k2 = (THREEFRY_PARITY ^ k0 ^ k1) >>> 0;
  const ob = out.buffer;
  const normal = distribution === 'normal';
  let i = 0; // logical element index, row-major
  forEachRow(out.shape, [out], (offs, n, inner) => {
    const po = offs[0]!, so = inner[0]!;
    for (let j = 0; j < n; j++, i++) {
      const c = offset + i;
      const w0 = threefry(k0, k1, k2, c >>> 0, Math.floor(c / TWO_POW_32) >>> 0);
      ob[po + j * so] = normal
        ? Math.sqrt(-2 * Math.log(((w0 >>> 8) + 1) * TWO_POW_M24)) * Math.cos(TWO_PI * ((W1 >>> 8) * TWO_POW_M24))
        : (w0 >>> 8) * TWO_POW_M24;
    }
  });
  return true;
}
