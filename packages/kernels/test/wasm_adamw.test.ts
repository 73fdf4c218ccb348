// The fast cpu tier's float32 AdamW step (cpu_fast/adamw.ts). Its contract: bit for bit the WGSL
// kernel's formula evaluated with Math.fround after every operation and on every constant; and
// against the float64 reference, the per-element bounds stated in cpu_fast/adamw.ts's header. Both
// on sizes 1, odd, 4k+1..4k+3 and large, on 1–3 threads, and on extreme values (tiny v, eps 0,
// huge grads, weight decay 0 and > 0, step 1 and large steps, float32 overflow of v).
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { fastCpuKernels } from '../src/cpu_fast/index.js';
import { allocTensorArray, releaseTensorArray } from '../src/cpu_fast/index.js';
import type { AdamWItem, AdamWOptions, TypedArray } from '../src/types.js';
import { eachThreadCount, forceThreading, seeded, view } from './wasm_helpers.js';

forceThreading();

const U = 2 ** -24;
/** Slack for results in float32's subnormal range (each rounding there is absolute, ≤ 2⁻¹⁵⁰). */
const SUBNORMAL = 2 ** -146;
const SIZES = [1, 2, 3, 4, 5, 6, 7, 9, 17, 63, 1001, 4096, 4097, 4098, 4099, 70001];

type State = [p: Float32Array, m: Float32Array, v: Float32Array];

/** The step in float32, one Math.fround per operation, the constants rounded once from float64. */
function emulate(p0: Float32Array, g: Float32Array, m0: Float32Array, v0: Float32Array, o: AdamWOptions): State {
  const f = Math.fround;
  const c = f(o.lr * o.weightDecay), b1 = f(o.beta1), c1 = f(1 - o.beta1), b2 = f(o.beta2), c2 = f(1 - o.beta2);
  const bc1 = f(1 - Math.pow(o.beta1, o.step)), bc2 = f(1 - Math.pow(o.beta2, o.step)), lr = f(o.lr), eps = f(o.eps);
  const n = p0.length, p = new Float32Array(n), m = new Float32Array(n), v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const gi = g[i]!;
    let pi = f(p0[i]! - f(c * p0[i]!));
    const mi = f(f(b1 * m0[i]!) + f(c1 * gi));
    const vi = f(f(b2 * v0[i]!) + f(f(c2 * gi) * gi));
    pi = f(pi - f(f(lr * f(mi / bc1)) / f(f(Math.sqrt(f(vi / bc2))) + eps)));
    p[i] = pi; m[i] = mi; v[i] = vi;
  }
  return [p, m, v];
}

function fast(p0: Float32Array, g: Float32Array, m0: Float32Array, v0: Float32Array, o: AdamWOptions): State {
  const s: State = [Float32Array.from(p0), Float32Array.from(m0), Float32Array.from(v0)];
  const n = p0.length;
  fastCpuKernels.adamw(view(s[0], [n]), view(g, [n]), view(s[1], [n]), view(s[2], [n]), o);
  return s;
}

const bitsEqualArrays = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

/** Bits equal, NaN matching any NaN. */
function expectSameBits(got: Float32Array, want: Float32Array, what: string): void {
  const x = new Uint32Array(got.buffer, got.byteOffset, got.length), y = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < want.length; i++) {
    if (x[i] !== y[i] && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      throw new Error(`${what}: element ${i}: got ${got[i]}, want ${want[i]}`);
    }
  }
}

/** The header's bounds of the fast step against the float64 reference, element by element. */
function expectWithinBounds(got: State, p0: Float32Array, g: Float32Array, m0: Float32Array, v0: Float32Array, o: AdamWOptions, what: string): void {
  const n = p0.length;
  const ref: State = [Float32Array.from(p0), Float32Array.from(m0), Float32Array.from(v0)];
  cpuKernels.adamw(view(ref[0], [n]), view(g, [n]), view(ref[1], [n]), view(ref[2], [n]), o);
  const c = o.lr * o.weightDecay, bc1 = 1 - Math.pow(o.beta1, o.step), bc2 = 1 - Math.pow(o.beta2, o.step);
  for (let i = 0; i < n; i++) {
    const gi = g[i]!;
    const a = o.beta1 * Math.abs(m0[i]!) + (1 - o.beta1) * Math.abs(gi);
    const v1 = o.beta2 * v0[i]! + (1 - o.beta2) * gi * gi;
    const s = (o.lr * (a / bc1)) / (Math.sqrt(v1 / bc2) + o.eps);
    const tol = [16 * U * ((1 + c) * Math.abs(p0[i]!) + s), 4 * U * a, 5 * U * v1];
    for (let k = 0; k < 3; k++) {
      const err = Math.abs(got[k][i]! - ref[k][i]!);
      if (!(err <= tol[k]! + SUBNORMAL)) throw new Error(`${what}: ${['p', 'm', 'v'][k]}[${i}] = ${got[k][i]}, reference ${ref[k][i]} (tolerance ${tol[k]})`);
    }
  }
}

/** Inputs of one regime: p, g, m, v for n elements. */
type Regime = { name: string; make: (n: number) => [Float32Array, Float32Array, Float32Array, Float32Array]; opts: Partial<AdamWOptions> };

const scaled = (x: Float32Array, k: number) => x.map((y) => y * k);
const REGIMES: Regime[] = [
  { name: 'typical', make: (n) => [seeded(n, 1), seeded(n, 2), seeded(n, 3, -0.01, 0.01), seeded(n, 4, 0, 1e-4)], opts: {} },
  { name: 'no weight decay, step 1, zero moments', make: (n) => [seeded(n, 5), seeded(n, 6), new Float32Array(n), new Float32Array(n)], opts: { weightDecay: 0, step: 1 } },
  { name: 'large step', make: (n) => [seeded(n, 7), seeded(n, 8), seeded(n, 9, -0.1, 0.1), seeded(n, 10, 0, 1e-2)], opts: { step: 100000, weightDecay: 0.5 } },
  { name: 'tiny v and grads', make: (n) => [seeded(n, 11), scaled(seeded(n, 12), 1e-20), scaled(seeded(n, 13), 1e-21), seeded(n, 14, 1e-31, 1e-30)], opts: { step: 7 } },
  { name: 'eps 0', make: (n) => [seeded(n, 15), seeded(n, 16), seeded(n, 17, -0.01, 0.01), seeded(n, 18, 1e-6, 1e-4)], opts: { eps: 0, step: 3 } },
  { name: 'eps 1 (dominates)', make: (n) => [seeded(n, 19), seeded(n, 20), seeded(n, 21, -0.01, 0.01), seeded(n, 22, 0, 1e-4)], opts: { eps: 1, step: 2 } },
  { name: 'huge grads', make: (n) => [seeded(n, 23), scaled(seeded(n, 24), 1e18), scaled(seeded(n, 25), 1e16), seeded(n, 26, 0, 1e33)], opts: { step: 1 } },
  { name: 'huge params, beta2 0.99', make: (n) => [scaled(seeded(n, 27), 1e30), seeded(n, 28), seeded(n, 29, -0.01, 0.01), seeded(n, 30, 0, 1e-4)], opts: { beta2: 0.99, step: 5 } },
];
const BASE: AdamWOptions = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 1 };

describe('fast cpu adamw (float32)', () => {
  it('equals the float32 emulation bit for bit, on every size, regime and thread count', () => {
    for (const r of REGIMES) {
      const o = { ...BASE, ...r.opts };
      for (const n of SIZES) {
        const [p, g, m, v] = r.make(n);
        const want = emulate(p, g, m, v, o);
        eachThreadCount((t) => {
          const got = fast(p, g, m, v, o);
          for (let k = 0; k < 3; k++) expectSameBits(got[k], want[k], `${r.name} n=${n} threads=${t} ${['p', 'm', 'v'][k]}`);
        });
      }
    }
  });

  it('stays within the stated bounds of the float64 reference', () => {
    for (const r of REGIMES) {
      const o = { ...BASE, ...r.opts };
      for (const n of [1, 7, 4097, 4099, 70001]) {
        const [p, g, m, v] = r.make(n);
        eachThreadCount((t) => expectWithinBounds(fast(p, g, m, v, o), p, g, m, v, o, `${r.name} n=${n} threads=${t}`));
      }
    }
  });

  it('is within 5 float32 ulps of the reference where nothing cancels, and differs from it somewhere', () => {
    const n = 4099;
    const g = seeded(n, 31, 0.01, 1);
    const [p, m, v] = [seeded(n, 32, 1, 2), seeded(n, 33, 0, 0.1), seeded(n, 34, 0, 1e-2)];
    const o = { ...BASE, lr: 1e-2, step: 4 };
    const got = fast(p, g, m, v, o);
    const ref: State = [Float32Array.from(p), Float32Array.from(m), Float32Array.from(v)];
    cpuKernels.adamw(view(ref[0], [n]), view(g, [n]), view(ref[1], [n]), view(ref[2], [n]), o);
    const ulps = (a: number, b: number) => Math.abs(new Int32Array(Float32Array.of(a).buffer)[0]! - new Int32Array(Float32Array.of(b).buffer)[0]!);
    let differ = 0;
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < n; i++) {
        const d = ulps(got[k][i]!, ref[k][i]!);
        expect(d, `${['p', 'm', 'v'][k]}[${i}]`).toBeLessThanOrEqual(5);
        if (d > 0) differ++;
      }
    }
    // float32 arithmetic, not the float64 reference's: some element must round differently.
    expect(differ).toBeGreaterThan(0);
  });

  it('several steps in a row stay the emulation, bit for bit', () => {
    const n = 1003;
    const [p0, m0, v0] = [seeded(n, 40), seeded(n, 41, -0.01, 0.01), seeded(n, 42, 0, 1e-4)];
    eachThreadCount((t) => {
      let want: State = [p0, m0, v0];
      let got: State = [p0, m0, v0];
      for (let step = 1; step <= 5; step++) {
        const g = seeded(n, 50 + step);
        const o = { ...BASE, step };
        want = emulate(want[0], g, want[1], want[2], o);
        got = fast(got[0], g, got[1], got[2], o);
      }
      for (let k = 0; k < 3; k++) expectSameBits(got[k], want[k], `threads=${t} ${['p', 'm', 'v'][k]}`);
    });
  });

  it('overflowing v to +inf follows the float32 formula (p unchanged by the step)', () => {
    const g = Float32Array.of(1e25, -1e25, 1, 3e38, 0);
    const p = Float32Array.of(1, 2, 3, 4, 5), m = new Float32Array(5), v = new Float32Array(5);
    const o = { ...BASE, weightDecay: 0 };
    const got = fast(p, g, m, v, o);
    const want = emulate(p, g, m, v, o);
    for (let k = 0; k < 3; k++) expectSameBits(got[k], want[k], ['p', 'm', 'v'][k]!);
    expect(got[2][0]).toBe(Infinity);
    expect(got[0][0]).toBe(1);
    expect(got[0][2]).toBeCloseTo(3 - 1e-3, 6);
  });

  it('adamwMulti: every item equals adamw on it bit for bit, in the heap or not, off the fast path or not', () => {
    // Sizes of one fork's queue: empty, ragged, one part and many; each item its own hyperparameters.
    const sizes = [5, 0, 1, 70001, 3, 4097, 63, 2];
    const heap = (x: Float32Array): Float32Array => { const a = allocTensorArray(x.length); if (!a) return Float32Array.from(x); a.set(x); return a; };
    eachThreadCount((t) => {
      const items: AdamWItem<TypedArray>[] = [];
      const wants: State[] = [];
      const held: Float32Array[] = [];
      sizes.forEach((n, i) => {
        const [p, g, m, v] = [seeded(n, 60 + i), seeded(n, 70 + i), seeded(n, 80 + i, -0.01, 0.01), seeded(n, 90 + i, 0, 1e-4)];
        const o = { ...BASE, lr: 1e-3 * (i + 1), weightDecay: i % 2 === 0 ? 0.1 : 0, step: i + 1 };
        wants.push(emulate(p, g, m, v, o));
        // Odd items live in the kernels' memory (updated in place), even ones in ordinary arrays.
        const own = i % 2 === 1 ? [heap(p), heap(m), heap(v)] : [Float32Array.from(p), Float32Array.from(m), Float32Array.from(v)];
        if (i % 2 === 1) held.push(...own);
        items.push({ param: view(own[0]!, [n]), grad: view(g, [n]), m: view(own[1]!, [n]), v: view(own[2]!, [n]), opts: o });
      });
      // A strided item (every other element of a longer array) takes the reference, as adamw does.
      const n = 9, o = { ...BASE, step: 3 };
      const wide = [seeded(2 * n, 100), seeded(2 * n, 101), seeded(2 * n, 102, -0.01, 0.01), seeded(2 * n, 103, 0, 1e-4)];
      const strided = (x: Float32Array) => view(x, [n], [2]);
      const ref = wide.map((x) => Float32Array.from(x));
      cpuKernels.adamw(strided(ref[0]!), strided(ref[1]!), strided(ref[2]!), strided(ref[3]!), o);
      const mine = wide.map((x) => Float32Array.from(x));
      items.push({ param: strided(mine[0]!), grad: strided(mine[1]!), m: strided(mine[2]!), v: strided(mine[3]!), opts: o });

      fastCpuKernels.adamwMulti(items);
      sizes.forEach((sz, i) => {
        const it = items[i]!;
        const got = [it.param, it.m, it.v].map((x) => (x.buffer as Float32Array).subarray(0, sz));
        for (let k = 0; k < 3; k++) expectSameBits(got[k]!, wants[i]![k], `threads=${t} item ${i} (n=${sz}) ${['p', 'm', 'v'][k]}`);
      });
      for (const k of [0, 2, 3]) expectSameBits(mine[k]!, ref[k]!, `threads=${t} strided item, array ${k}`);
      expect(bitsEqualArrays(mine[1]!, wide[1]!)).toBe(true); // the grad is read only
      for (const a of held) releaseTensorArray(a);
    });
  });
});

