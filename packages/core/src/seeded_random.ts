// A small seeded generator for host-side choices (minibatch order, random pruning, synthetic data)
// that must be reproducible without touching the tensor generator of `manualSeed`.
// mulberry32 (Tommy Ettinger, public domain): one 32-bit state, period 2³².
import { checkInt } from './validate.js';

/**
 * A function returning uniform floats in [0, 1) (multiples of 2⁻³²) from an integer seed, which is
 * taken modulo 2³² (so -1 and 2³² − 1 give the same sequence). The sequence for a seed never changes.
 */
export function seededRandom(seed: number): () => number {
  checkInt('seededRandom', 'seed', seed);
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
