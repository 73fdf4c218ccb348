// The quantized-weight matmuls of the fast cpu tier (layout in ../cpu/quant_format.ts), in
// TypeScript loops over float32 operands; float64 takes the reference.
//
// W is decoded a block of ROW_BLOCK rows at a time into a float32 scratch [ROW_BLOCK, K] (never the
// whole matrix): per group, the 16 (4-bit) or 256 (8-bit) possible values scale·(decode(q) − zero)
// are tabulated once, so decoding costs one table lookup per element. The block is then used by
// every row of x (forward: ROW_BLOCK dot products per x row, so each x row is read once per block;
// transposed: ROW_BLOCK axpys into each output row).
// Next step: the same block decode feeding the WebAssembly sgemm (matmul_program.ts) for M > 1.

import type { QuantWeightView, TypedArray, View } from '../types.js';
import { quantArrays } from '../cpu/quant_matmul.js';
import { NF4_CODEBOOK, codeBits, groupScale, groupsPerRow, wordsPerRow, type QuantizedWeight } from '../cpu/quant_format.js';

const ROW_BLOCK = 16;

const f32 = (v: View<TypedArray>): boolean => v.dtype === 'float32';

/** Decodes rows [n0, n0 + rows) of W into `dst` (row-major, K columns). */
function decodeBlock(q: QuantizedWeight, n0: number, rows: number, dst: Float32Array, lut: Float32Array): void {
  const K = q.cols;
  const bits = codeBits(q.scheme);
  const per = 32 / bits;
  const mask = (1 << bits) - 1;
  const wpr = wordsPerRow(q.scheme, K);
  const gpr = groupsPerRow(K, q.groupSize);
  const G = q.groupSize;
  const words = q.qdata;
  for (let r = 0; r < rows; r++) {
    const n = n0 + r;
    const base = n * wpr;
    const d0 = r * K;
    for (let g = 0; g < gpr; g++) {
      const s = groupScale(q, n, g);
      if (q.scheme === 'int8') for (let c = 0; c < 256; c++) lut[c] = s * ((c << 24) >> 24);
      else if (q.scheme === 'int4') { const z = q.zeros![n * gpr + g]!; for (let c = 0; c < 16; c++) lut[c] = s * (c - z); }
      else for (let c = 0; c < 16; c++) lut[c] = s * NF4_CODEBOOK[c]!;
      const end = Math.min(K, (g + 1) * G);
      for (let k = g * G; k < end; k++) dst[d0 + k] = lut[(words[base + ((k / per) | 0)]! >>> (bits * (k % per))) & mask]!;
    }
  }
}

export function quantMatmul(x: View<TypedArray>, w: QuantWeightView<TypedArray>, bias: View<TypedArray> | null, out: View<TypedArray>): boolean {
  if (!f32(x) || !f32(out) || (bias !== null && !f32(bias))) return false;
  const q = quantArrays(w);
  const M = x.shape[0]!, K = w.cols, N = w.rows;
  const xb = x.buffer as Float32Array, ob = out.buffer as Float32Array;
  const block = new Float32Array(ROW_BLOCK * K);
  const lut = new Float32Array(256);
  for (let n0 = 0; n0 < N; n0 += ROW_BLOCK) {
    const rows = Math.min(ROW_BLOCK, N - n0);
    decodeBlock(q, n0, rows, block, lut);
    for (let m = 0; m < M; m++) {
      const xo = x.offset + m * K;
      for (let r = 0; r < rows; r++) {
        const wo = r * K;
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        let k = 0;
        for (; k + 4 <= K; k += 4) {
          a0 += xb[xo + k]! * block[wo + k]!;
          a1 += xb[xo + k + 1]! * block[wo + k + 1]!;
          a2 += xb[xo + k + 2]! * block[wo + k + 2]!;
          a3 += xb[xo + k + 3]! * block[wo + k + 3]!;
        }
        for (; k < K; k++) a0 += xb[xo + k]! * block[wo + k]!;
        const b = bias === null ? 0 : bias.buffer[bias.offset + n0 + r]!;
        ob[out.offset + m * N + n0 + r] = (a0 + a1) + (a2 + a3) + b;
      }
    }
  }
  return true;
}

export function quantMatmulTransposed(dy: View<TypedArray>, w: QuantWeightView<TypedArray>, out: View<TypedArray>): boolean {
  if (!f32(dy) || !f32(out)) return false;
  const q = quantArrays(w);
  const M = dy.shape[0]!, K = w.cols, N = w.rows;
  const gb = dy.buffer as Float32Array, ob = out.buffer as Float32Array;
  const acc = new Float64Array(K);
  const block = new Float32Array(ROW_BLOCK * K);
  const lut = new Float32Array(256);
  // Output rows are accumulated in float64 scratch one x-row at a time per block, so the block loop
  // is outermost and each output row is written as a running float32 sum across blocks.
  ob.fill(0, out.offset, out.offset + M * K);
  for (let n0 = 0; n0 < N; n0 += ROW_BLOCK) {
    const rows = Math.min(ROW_BLOCK, N - n0);
    decodeBlock(q, n0, rows, block, lut);
    for (let m = 0; m < M; m++) {
      const oo = out.offset + m * K;
      for (let k = 0; k < K; k++) acc[k] = ob[oo + k]!;
      for (let r = 0; r < rows; r++) {
        const g = gb[dy.offset + m * N + n0 + r]!;
        const wo = r * K;
        for (let k = 0; k < K; k++) acc[k] += g * block[wo + k]!;
      }
      for (let k = 0; k < K; k++) ob[oo + k] = acc[k]!;
    }
  }
  return true;
}
