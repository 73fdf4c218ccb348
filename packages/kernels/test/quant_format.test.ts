// The weight-only quantization formats: the NF4 codebook re-derived from normal quantiles,
// packing round trips and bit order, and each scheme's quantize → dequantize error bound.
import { describe, expect, it } from 'vitest';
import {
  NF4_CODEBOOK, decodeRow, dequantizeWeight, groupScale, groupsPerRow, packCodes, quantizeWeight, quantizedBytes, unpackCodes, zeroAt,
} from '@webgrad/kernels';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}
function normals(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()) * 0.05;
  return out;
}

// Φ(x) by Simpson's rule on the density (error far below float32's), and its inverse by bisection.
function normalCdf(x: number): number {
  const steps = 4000, h = x / steps;
  let s = 0;
  for (let i = 0; i <= steps; i++) {
    const t = i * h, f = Math.exp(-t * t / 2);
    s += (i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2) * f;
  }
  return 0.5 + (s * h / 3) / Math.sqrt(2 * Math.PI);
}
function normalPpf(p: number): number {
  let lo = -10, hi = 10;
  for (let i = 0; i < 80; i++) { const mid = (lo + hi) / 2; if (normalCdf(mid) < p) lo = mid; else hi = mid; }
  return (lo + hi) / 2;
}
const linspace = (a: number, b: number, n: number): number[] => Array.from({ length: n }, (_, i) => a + (b - a) * i / (n - 1));

describe('NF4 codebook', () => {
  it('equals the normal quantiles QLoRA defines (8 positive, 7 negative levels and 0, scaled to [-1, 1])', () => {
    const offset = (1 - 1 / (2 * 15) + 1 - 1 / (2 * 16)) / 2; // 0.9677083
    const pos = linspace(offset, 0.5, 9).slice(0, -1).map(normalPpf);
    const neg = linspace(offset, 0.5, 8).slice(0, -1).map((p) => -normalPpf(p));
    const v = [...pos, 0, ...neg].sort((a, b) => a - b);
    const max = Math.max(...v);
    const derived = v.map((x) => x / max);
    expect(derived).toHaveLength(16);
    for (let i = 0; i < 16; i++) expect(Math.abs(derived[i]! - NF4_CODEBOOK[i]!)).toBeLessThan(2e-6);
  });
});

describe('packing', () => {
  it('round-trips 4-bit and 8-bit codes on rows that do not fill their last word', () => {
    const r = rng(3);
    for (const [bits, rows, cols] of [[4, 3, 13], [4, 2, 16], [8, 5, 7], [8, 1, 1]] as const) {
      const codes = Array.from({ length: rows * cols }, () => Math.floor(r() * (1 << bits)));
      const words = packCodes(codes, rows, cols, bits);
      expect(words.length).toBe(rows * Math.ceil(cols / (32 / bits)));
      expect(Array.from(unpackCodes(words, rows, cols, bits))).toEqual(codes);
    }
  });
  it('puts code j of a word in bits [b·j, b·j + b), lowest first, each row starting a new word', () => {
    expect(Array.from(packCodes([1, 2, 3, 4, 5, 6, 7, 8, 15], 1, 9, 4))).toEqual([0x87654321 | 0, 0xf]);
    expect(Array.from(packCodes([1, 2, 0xff, 0x80, 9], 1, 5, 8))).toEqual([0x80ff0201 | 0, 9]);
    expect(Array.from(packCodes([1, 2, 3], 3, 1, 4))).toEqual([1, 2, 3]);
  });
});

describe('quantize → dequantize error', () => {
  const rows = 7, cols = 100; // 100 is not a multiple of any group size
  const w = normals(rows * cols, 11);
  w[5] = 0.4; w[130] = -0.3; // outliers
  const slack = 1 + 1e-5;

  it('int8: |err| ≤ scale/2 per element, scale = absmax/127 per row', () => {
    const q = quantizeWeight(w, rows, cols, { scheme: 'int8' });
    const d = dequantizeWeight(q);
    for (let n = 0; n < rows; n++) {
      let amax = 0;
      for (let k = 0; k < cols; k++) amax = Math.max(amax, Math.abs(w[n * cols + k]!));
      expect(groupScale(q, n, 0)).toBeCloseTo(amax / 127, 9);
      for (let k = 0; k < cols; k++) expect(Math.abs(d[n * cols + k]! - w[n * cols + k]!)).toBeLessThanOrEqual(groupScale(q, n, 0) / 2 * slack);
    }
  });

  for (const groupSize of [32, 64]) {
    it(`int4 group ${groupSize}: |err| ≤ scale/2, zero points in [0, 15]`, () => {
      const q = quantizeWeight(w, rows, cols, { scheme: 'int4', groupSize });
      const d = dequantizeWeight(q);
      const gpr = groupsPerRow(cols, groupSize);
      expect(q.zeros!.length).toBe(Math.ceil(rows * gpr / 8)); // 4-bit zero points, eight per word
      for (let n = 0; n < rows; n++) for (let k = 0; k < cols; k++) {
        const s = groupScale(q, n, Math.floor(k / groupSize));
        expect(Math.abs(d[n * cols + k]! - w[n * cols + k]!)).toBeLessThanOrEqual(s / 2 * slack + 1e-9);
      }
      expect(q.scales.length).toBe(rows * gpr);
    });
  }

  for (const doubleQuant of [false, true]) {
    it(`nf4 block 64${doubleQuant ? ' with double quantization' : ''}: |err| ≤ half the largest codebook gap × absmax`, () => {
      const q = quantizeWeight(w, rows, cols, { scheme: 'nf4', doubleQuant });
      let gap = 0;
      for (let i = 1; i < 16; i++) gap = Math.max(gap, NF4_CODEBOOK[i]! - NF4_CODEBOOK[i - 1]!);
      const row = new Float64Array(cols);
      for (let n = 0; n < rows; n++) {
        decodeRow(q, n, row);
        for (let g = 0; g < groupsPerRow(cols, 64); g++) {
          const s = groupScale(q, n, g);
          let amax = 0;
          for (let k = g * 64; k < Math.min(cols, g * 64 + 64); k++) amax = Math.max(amax, Math.abs(w[n * cols + k]!));
          expect(s).toBeGreaterThanOrEqual(amax); // a double-quantized absmax is rounded up
          if (doubleQuant) expect(s).toBeLessThan(amax * 1.05 + 1e-3);
          else expect(s).toBe(Math.fround(amax));
          for (let k = g * 64; k < Math.min(cols, g * 64 + 64); k++) {
            expect(Math.abs(row[k]! - w[n * cols + k]!)).toBeLessThanOrEqual(gap / 2 * s * slack);
          }
        }
      }
    });
  }

  it('int4 packs its zero points eight per word over the flat groups: 4 + 32/64 + 4/64 bits per parameter at group 64', () => {
    const R = 24, C = 128; // 48 groups: six words of zero points
    const v = normals(R * C, 5);
    const q = quantizeWeight(v, R, C, { scheme: 'int4', groupSize: 64 });
    expect(q.zeros!.length).toBe(6);
    expect(quantizedBytes(q) * 8 / (R * C)).toBeCloseTo(4 + 32 / 64 + 4 / 64, 12);
    // Group gi's zero sits in bits [4·(gi mod 8), +4) of word ⌊gi/8⌋, and is the one decodeRow subtracts:
    // the lowest code of a group with a negative minimum decodes to −scale·zero.
    const zs = unpackCodes(q.zeros!, 1, R * 2, 4);
    for (let gi = 0; gi < R * 2; gi++) {
      expect(zeroAt(q.zeros!, gi)).toBe(zs[gi]);
      expect((q.zeros![gi >> 3]! >>> (4 * (gi % 8))) & 15).toBe(zs[gi]);
    }
    const row = new Float64Array(C);
    for (let n = 0; n < R; n++) {
      decodeRow(q, n, row);
      for (let g = 0; g < 2; g++) {
        const s = groupScale(q, n, g), z = zeroAt(q.zeros!, n * 2 + g);
        const codes = unpackCodes(q.qdata, R, C, 4);
        for (let k = g * 64; k < g * 64 + 64; k++) expect(row[k]).toBe(Math.fround(s * (codes[n * C + k]! - z)));
      }
    }
  });

  it('nf4 with double quantization stores ~4.127 bits per parameter', () => {
    const R = 256, C = 1024; // 4096 groups of 64: 16 second-level blocks of 256
    const q = quantizeWeight(normals(R * C, 5), R, C, { scheme: 'nf4' });
    const bits = quantizedBytes(q) * 8 / (R * C);
    expect(bits).toBeCloseTo(4 + 8 / 64 + 32 / (64 * 256) + 32 / (R * C), 9); // 4.1270...
    expect(bits).toBeLessThan(4.128);
  });

  it('int8 of zeros gives zeros and a zero scale', () => {
    const q = quantizeWeight(new Float32Array(6), 2, 3, { scheme: 'int8' });
    expect(Array.from(dequantizeWeight(q))).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
