// float16 and bfloat16: the encoding against a float64 reference conversion (nearest value of the
// format found by search over every bit pattern, ties to the even pattern), and the copy kernel's
// casts between every pair of dtypes on the reference and fast cpu kernels; the float32 forms used
// for bulk conversion (the float16 table, the encoders from a float32) against the float64 ones.
import { describe, expect, it } from 'vitest';
import { bfloat16Bits, bfloat16BitsOfF32, bfloat16Value, float16Bits, float16BitsOfF32, float16Table, float16Value } from '../src/half.js';
import { contiguousView, cpuKernels, readAll } from '../src/cpu/index.js';
import { fastCpuKernels } from '../src/cpu_fast/index.js';
import { DTYPES, type DType } from '../src/types.js';

interface Format { name: 'float16' | 'bfloat16'; mantBits: number; bias: number; bits: (v: number) => number; value: (h: number) => number }
const FORMATS: Format[] = [
  { name: 'float16', mantBits: 10, bias: 15, bits: float16Bits, value: float16Value },
  { name: 'bfloat16', mantBits: 7, bias: 127, bits: bfloat16Bits, value: bfloat16Value },
];

/** Value of a non-negative bit pattern from the format's definition (not from the code under test). */
function defined(f: Format, h: number): number {
  const exp = h >> f.mantBits, m = h & ((1 << f.mantBits) - 1);
  return exp === 0 ? m * 2 ** (1 - f.bias - f.mantBits) : (2 ** f.mantBits + m) * 2 ** (exp - f.bias - f.mantBits);
}

/** Every non-negative finite value in increasing order (index = bit pattern), then the first value past
 *  the largest finite one (where rounding to it means overflow to ∞). */
function ladder(f: Format): number[] {
  const infBits = ((2 * f.bias + 1) << f.mantBits);
  const out: number[] = [];
  for (let h = 0; h <= infBits; h++) out.push(defined(f, h)); // defined(f, infBits) = 2^(emax+1)
  return out;
}

/** The float64 reference: bit pattern of the nearest value to v, ties to the even pattern. */
function reference(f: Format, lad: number[], v: number): number {
  const inf = (2 * f.bias + 1) << f.mantBits;
  if (Number.isNaN(v)) return inf | (1 << (f.mantBits - 1));
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a >= lad[lad.length - 1]!) return sign | inf;
  let lo = 0, hi = lad.length - 1; // lad[lo] <= a < lad[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (lad[mid]! <= a) lo = mid; else hi = mid;
  }
  const dLo = a - lad[lo]!, dHi = lad[hi]! - a;
  const h = dLo < dHi ? lo : dHi < dLo ? hi : (lo % 2 === 0 ? lo : hi);
  return sign | h; // h = the index past the largest finite value is the ∞ pattern
}

describe.each(FORMATS)('$name encoding', (f) => {
  const lad = ladder(f);
  const max = lad[lad.length - 2]!, ulpMax = lad[lad.length - 1]! - max;
  const minSub = lad[1]!, minNormal = 2 ** (1 - f.bias), eps = 2 ** -f.mantBits;
  const edges: [string, number][] = [
    ['+0', 0], ['-0', -0], ['NaN', NaN], ['+inf', Infinity], ['-inf', -Infinity],
    ['max finite', max], ['-max finite', -max], ['max + ulp/2 (tie → inf)', max + ulpMax / 2],
    ['just under max + ulp/2', max + ulpMax / 2 - ulpMax / 2 ** 20], ['max + ulp', max + ulpMax],
    ['min subnormal', minSub], ['-min subnormal', -minSub], ['min subnormal / 2 (tie → 0)', minSub / 2],
    ['just over min subnormal / 2', minSub / 2 * (1 + 2 ** -30)], ['1.5 min subnormal (tie → 2)', 1.5 * minSub],
    ['2.5 min subnormal (tie → 2)', 2.5 * minSub], ['largest subnormal', minNormal - minSub], ['min normal', minNormal],
    ['min normal - min subnormal / 2 (tie → min normal)', minNormal - minSub / 2],
    ['1 + eps/2 (tie → 1)', 1 + eps / 2], ['1 + 3eps/2 (tie → 1 + 2eps)', 1 + 1.5 * eps], ['1 + eps', 1 + eps],
    // Rounding through float32 first would land on the tie 1 + eps/2 and then on 1: one rounding gives 1 + eps.
    ['1 + eps/2 + 2^-40 (no double rounding)', 1 + eps / 2 + 2 ** -40],
    ['-(1 + eps/2 + 2^-40)', -(1 + eps / 2 + 2 ** -40)], ['1/3', 1 / 3], ['π', Math.PI], ['1e-300', 1e-300], ['1e300', 1e300],
  ];

  it.each(edges)('%s', (_name, v) => {
    expect(f.bits(v)).toBe(reference(f, lad, v));
  });

  it('decodes every bit pattern exactly, and every non-NaN pattern encodes back to itself', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = f.value(h);
      const abs = h & 0x7fff, inf = (2 * f.bias + 1) << f.mantBits;
      if (abs > inf) { expect(v).toBeNaN(); continue; }
      const want = abs === inf ? Infinity : defined(f, abs);
      expect(v).toBe(h & 0x8000 ? -want : want);
      expect(f.bits(v)).toBe(h);
    }
  });

  it('matches the reference on values between every pair of neighbours (the midpoint and either side of it)', () => {
    for (let h = 0; h < lad.length - 1; h++) {
      const lo = lad[h]!, hi = lad[h + 1]!, mid = (lo + hi) / 2;
      for (const v of [mid, mid * (1 - 2 ** -40), mid * (1 + 2 ** -40), lo + (hi - lo) / 4]) {
        expect(f.bits(v)).toBe(reference(f, lad, v));
        expect(f.bits(-v)).toBe(reference(f, lad, -v));
      }
    }
  });
});

describe.each(FORMATS)('$name from float32 (the bulk forms of half.ts)', (f) => {
  const lad = ladder(f);
  const fromF32 = f.name === 'float16' ? float16BitsOfF32 : bfloat16BitsOfF32;

  it('a float32 encodes as the float64 encoding of the same value: ties, either side of them, and edges', () => {
    // Every value between neighbours: the midpoint (a float32 for both formats: a tie) and the float32s
    // one ulp either side of it, where the rounding direction turns.
    const wrong: number[] = [];
    for (let h = 0; h < lad.length - 1; h++) {
      const mid = Math.fround((lad[h]! + lad[h + 1]!) / 2);
      for (const v of [mid, Math.fround(mid * (1 - 2 ** -23)), Math.fround(mid * (1 + 2 ** -23)), Math.fround(lad[h]! * 1.25)]) {
        if (!Number.isFinite(v)) continue;
        if (fromF32(v) !== reference(f, lad, v) || fromF32(-v) !== reference(f, lad, -v)) wrong.push(v);
      }
    }
    for (const v of [0, -0, NaN, Infinity, -Infinity, 3.4028234663852886e38, 1e-45, -1e-45, 1e-40]) if (fromF32(v) !== f.bits(v)) wrong.push(v);
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('float32 patterns across the whole range encode as the float64 encoding (pseudo-random sweep)', () => {
    const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
    const wrong: number[] = [];
    let s = 12345;
    for (let i = 0; i < 100000; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      u32[0] = s;
      const v = f32[0]!;
      if (fromF32(v) !== f.bits(v)) wrong.push(v);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  if (f.name === 'float16') {
    it('the decoding table holds the value of every pattern', () => {
      const t = float16Table(), wrong: number[] = [];
      for (let h = 0; h < 0x10000; h++) if (!Object.is(t[h], float16Value(h)) && !(Number.isNaN(t[h]) && Number.isNaN(float16Value(h)))) wrong.push(h);
      expect(wrong.slice(0, 5)).toEqual([]);
    });
  }
});

/** What a value `v` of any dtype becomes as `to` (the storage rules of cpu/strided.ts). */
function expectedCast(to: DType, v: number): number {
  switch (to) {
    case 'float64': return v;
    case 'float32': return Math.fround(v);
    case 'float16': return float16Value(reference(FORMATS[0]!, F16_LADDER, v));
    case 'bfloat16': return bfloat16Value(reference(FORMATS[1]!, BF16_LADDER, v));
    case 'int32': return Number.isNaN(v) ? 0 : Math.trunc(v) | 0;
    case 'bool': return v !== 0 ? 1 : 0;
  }
}
const F16_LADDER = ladder(FORMATS[0]!);
const BF16_LADDER = ladder(FORMATS[1]!);

const SOURCE = [0, -0, 1, -1, 0.1, -2.5, 3.5, 65504, 65520, 70000, -1e6, 3e38, 1e-5, 6e-8, 1e-40, NaN, Infinity, -Infinity, 1 + 2 ** -11 + 2 ** -40];

describe.each([['reference', cpuKernels], ['fast', fastCpuKernels]] as const)('copy (cast) on the %s cpu kernels', (_name, k) => {
  it.each(DTYPES.flatMap((from) => DTYPES.map((to) => [from, to] as const)))('%s → %s', (from, to) => {
    const x = contiguousView(from, [SOURCE.length], SOURCE);
    const stored = Array.from(readAll(x)); // the source values as `from` holds them
    expect(stored).toEqual(SOURCE.map((v) => expectedCast(from, v)));
    const out = contiguousView(to, [SOURCE.length]);
    k.copy(x, out);
    expect(Array.from(readAll(out))).toEqual(stored.map((v) => expectedCast(to, v)));
  });
});
