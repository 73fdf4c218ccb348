// CPU reference for the `random` kernel: counter-based random numbers from Threefry-2x32-20.
//
// Threefry (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011)
// is a keyed bijection on 64-bit counters built only from 32-bit add, rotate and xor, so this
// TypeScript and the WGSL kernel produce bit-identical words. The exact scheme, which the WGSL
// program must reproduce:
//
// Threefry-2x32 with 20 rounds, key (k0, k1), counter (c0, c1), all u32 (arithmetic mod 2^32):
//   ks = [k0, k1, 0x1BD11BDA ^ k0 ^ k1]
//   x0 = c0 + ks[0];  x1 = c1 + ks[1]
//   for r = 0 .. 19:
//     x0 = x0 + x1;  x1 = rotl32(x1, R[r % 8]);  x1 = x1 ^ x0      with R = [13,15,26,6,17,29,16,24]
//     if r % 4 == 3:                                                 (key injection s = (r+1)/4 = 1..5)
//       x0 = x0 + ks[s % 3];  x1 = x1 + ks[(s+1) % 3] + s
//   output (x0, x1)
//
// The `random` kernel: element i (row-major over `out`) uses
//   counter = (c0, c1) with c0 = (offset + i) mod 2^32 and c1 = floor((offset + i) / 2^32)
//             (so c1 = 0 whenever offset + i < 2^32, the usual case);
//   key     = (seed mod 2^32, floor(seed / 2^32) ^ 0x1BD11BDA)   (seed a non-negative integer < 2^53).
// From the output words (w0, w1):
//   uniform: u = (w0 >>> 8) · 2^-24, in [0, 1) with 24 random bits (exact in float32);
//   normal:  Box–Muller, u1 = ((w0 >>> 8) + 1) · 2^-24 in (0, 1], u2 = (w1 >>> 8) · 2^-24 in [0, 1),
//            z = sqrt(-2 ln u1) · cos(2π u2).
// The value is computed in float64 and stored in out's dtype (float32 rounds).

import type { RandomOptions, TypedArray, View } from '../types.js';
import { elementOffsets } from '../geometry.js';
import { writeAt } from './strided.js';

/** Threefry's key-schedule parity constant (from Skein). */
export const THREEFRY_PARITY = 0x1bd11bda;
/** Rotation constants of Threefry-2x32, applied in round r as R[r % 8]. */
export const THREEFRY_ROTATIONS: readonly number[] = [13, 15, 26, 6, 17, 29, 16, 24];

const rotl32 = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;

/** Threefry-2x32 with 20 rounds: maps counter (c0, c1) under key (k0, k1) to two u32 words. */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number): [number, number] {
  const ks = [k0 >>> 0, k1 >>> 0, (THREEFRY_PARITY ^ k0 ^ k1) >>> 0];
  let x0 = (c0 + ks[0]!) >>> 0;
  let x1 = (c1 + ks[1]!) >>> 0;
  for (let r = 0; r < 20; r++) {
    x0 = (x0 + x1) >>> 0;
    x1 = rotl32(x1, THREEFRY_ROTATIONS[r % 8]!);
    x1 = (x1 ^ x0) >>> 0;
    if (r % 4 === 3) {
      const s = (r + 1) / 4;
      x0 = (x0 + ks[s % 3]!) >>> 0;
      x1 = (x1 + ks[(s + 1) % 3]! + s) >>> 0;
    }
  }
  return [x0, x1];
}

const TWO_POW_32 = 4294967296;
const TWO_POW_M24 = 1 / 16777216;

/** The Threefry key used for `seed` (see the header). */
export function keyForSeed(seed: number): [number, number] {
  return [seed >>> 0, (Math.floor(seed / TWO_POW_32) ^ THREEFRY_PARITY) >>> 0];
}

/** The two output words for element `index` (= offset + i) under `seed`. */
export function randomWords(seed: number, index: number): [number, number] {
  const [k0, k1] = keyForSeed(seed);
  return threefry2x32(k0, k1, index >>> 0, Math.floor(index / TWO_POW_32) >>> 0);
}

/** Fills `out` with uniform [0,1) or standard normal samples, element i using counter offset + i. */
export function random(out: View<TypedArray>, opts: RandomOptions): void {
  const { seed, offset, distribution } = opts;
  const [k0, k1] = keyForSeed(seed);
  const offs = elementOffsets(out);
  for (let i = 0; i < offs.length; i++) {
    const n = offset + i;
    const [w0, w1] = threefry2x32(k0, k1, n >>> 0, Math.floor(n / TWO_POW_32) >>> 0);
    let value: number;
    if (distribution === 'uniform') {
      value = (w0 >>> 8) * TWO_POW_M24;
    } else {
      const u1 = ((w0 >>> 8) + 1) * TWO_POW_M24;
      const u2 = (w1 >>> 8) * TWO_POW_M24;
      value = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
    writeAt(out, offs[i]!, value);
  }
}
