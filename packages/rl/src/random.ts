// A small seeded generator for host-side choices (minibatch shuffling), so trainer steps are
// reproducible without touching core's tensor generator. mulberry32 (Tommy Ettinger, public domain).
import { checkFunction, checkInt, checkSize } from '@webgrad/core';

/** A function returning uniform floats in [0, 1) from a 32-bit seed. */
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

/** A uniformly random permutation of 0 … n − 1 (Fisher–Yates). */
export function permutation(n: number, rand: () => number): number[] {
  checkSize('permutation', 'n', n);
  checkFunction('permutation', 'rand', rand);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}
