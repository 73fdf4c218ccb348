// Seeded host-side randomness for sampling and shuffling: a small generator (xoshiro128**), seed
// derivation per epoch, and `randperm`. Index orders are made on the host (they pick which items
// to read), so they do not touch core's tensor generator unless no seed is given.
import { ValueError, checkInt, checkOptions, fmtValue, randint } from '@webgrad/core';

const MAX_SEED = Number.MAX_SAFE_INTEGER;

/** SplitMix32 (a 32-bit variant of Steele, Lea & Flood's SplitMix): a state step and a mixed output. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A seeded pseudo-random generator on the host: xoshiro128** (Blackman & Vigna, "Scrambled linear
 * pseudorandom number generators", 2018), its 128-bit state filled by SplitMix32 from a seed of up
 * to 53 bits. The same seed gives the same sequence on every platform. Not for cryptography.
 */
export class SeededRandom {
  #s = new Uint32Array(4);

  /** @param seed an integer in [0, 2^53) */
  constructor(seed: number) {
    checkInt('SeededRandom', 'seed', seed, { min: 0, max: MAX_SEED });
    const st = { s: (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32), 0x27d4eb2d) };
    for (let i = 0; i < 4; i++) this.#s[i] = splitmix32(st);
    if ((this.#s[0]! | this.#s[1]! | this.#s[2]! | this.#s[3]!) === 0) this.#s[0] = 1;
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextUint32(): number {
    const s = this.#s;
    const r = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return r;
  }

  /** A float uniform on [0, 1), with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** An integer uniform on [0, n), without modulo bias (Lemire's rejection), for 1 <= n <= 2^32. */
  below(n: number): number {
    if (n <= 1) return 0;
    if (n > 2 ** 32) return Math.floor(this.random() * n);
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Shuffle `a` in place (Fisher–Yates) and return it. */
  shuffle<A extends {
    /** Number of elements. */
    length: number;
    [i: number]: unknown;
  }>(a: A): A {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * A seed derived from `seed` and a stream number (an epoch, a split, a worker): different streams
 * of one seed give unrelated sequences, and the same pair always gives the same seed. Both are
 * integers in [0, 2^53); the result is in [0, 2^53).
 */
export function deriveSeed(seed: number, stream: number): number {
  checkInt('deriveSeed', 'seed', seed, { min: 0, max: MAX_SEED });
  checkInt('deriveSeed', 'stream', stream, { min: 0, max: MAX_SEED });
  const st = { s: (seed >>> 0) ^ 0x5bd1e995 };
  let a = splitmix32(st);
  st.s ^= Math.floor(seed / 2 ** 32);
  a ^= splitmix32(st);
  st.s ^= (stream >>> 0) ^ a;
  const b = splitmix32(st);
  st.s ^= Math.floor(stream / 2 ** 32);
  const c = splitmix32(st);
  return (b & 0x1fffff) * 2 ** 32 + c;
}

/**
 * A fresh seed drawn from core's global tensor generator (`manualSeed` / `getRngState`), so code
 * given no seed still follows `manualSeed`, as PyTorch's samplers follow `torch.manual_seed`.
 * Advances the global generator by two draws.
 */
export function seedFromGlobal(): number {
  const t = randint(0, 2 ** 24, [2], { device: 'cpu' });
  try {
    const [a, b] = t.dataSync();
    return a! * 2 ** 24 + b!;
  } finally {
    t.dispose();
  }
}

/** Options of `randperm`. */
export interface RandpermOptions {
  /** Seed of the order (an integer in [0, 2^53)); without one (and without `generator`), a seed is
   *  drawn from core's global generator, so `manualSeed` makes the order reproducible. */
  seed?: number;
  /** Draw from this generator instead (it advances). */
  generator?: SeededRandom;
}

/**
 * A random permutation of 0 … n−1 as an Int32Array of host indices (torch.randperm, without the
 * tensor: the indices choose which items to read). Fisher–Yates on a `SeededRandom`.
 */
export function randperm(n: number, options?: RandpermOptions): Int32Array {
  checkInt('randperm', 'n', n, { min: 0, max: 2 ** 31 - 1 });
  const o = checkOptions('randperm', options, ['seed', 'generator']);
  const rng = resolveGenerator('randperm', o.seed, o.generator);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return rng.shuffle(p);
}

/** The generator a `{ seed, generator }` pair names: the generator, a new one from the seed, or one
 *  seeded from core's global generator. Both at once is an error. */
export function resolveGenerator(op: string, seed: unknown, generator: unknown): SeededRandom {
  if (seed !== undefined && generator !== undefined) {
    throw new ValueError(`${op}: pass either seed or generator, not both`);
  }
  if (generator !== undefined) {
    if (!(generator instanceof SeededRandom)) throw new ValueError(`${op}: generator must be a SeededRandom, got ${fmtValue(generator)}`);
    return generator;
  }
  return new SeededRandom(seed === undefined ? seedFromGlobal() : checkInt(op, 'seed', seed, { min: 0, max: MAX_SEED }));
}

/** Check an optional seed argument: undefined or an integer in [0, 2^53). */
export function checkSeed(op: string, seed: unknown, name = 'seed'): number | undefined {
  return seed === undefined ? undefined : checkInt(op, name, seed, { min: 0, max: MAX_SEED });
}
