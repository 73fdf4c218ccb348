// Weight-only quantization formats for a Linear weight W [rows, cols] ([out, in]): how a float32
// weight becomes codes and scales, and back. The matmul kernels (quant_matmul.ts, the fast tier's
// and the WGSL ones) read exactly this layout.
//
// Schemes (per row n, groups of `groupSize` consecutive columns; the last group of a row may be short):
//   int8  per-output-channel absmax: one group per row, scale = absmax/127, q = round(w/scale) in
//         [-127, 127] stored as its two's-complement byte; w ≈ scale·q.
//   int4  asymmetric, group 32 or 64 (GPTQ/AWQ layout): the group's range [min(w, 0), max(w, 0)]
//         is cut into 15 steps, scale = (max − min)/15, zero = round(−min/scale) in [0, 15],
//         q = clamp(round(w/scale) + zero, 0, 15); w ≈ scale·(q − zero). The zero points are
//         4-bit codes too, packed eight per int32 over the flat list of groups (row-major).
//   nf4   QLoRA's normal-float codebook (NF4_CODEBOOK), group 64: q is the codebook entry nearest
//         to w/absmax; w ≈ absmax·NF4[q]. With double quantization the group absmaxes are stored
//         as 8-bit codes: their mean (absmaxOffset) is subtracted and each block of 256 is
//         quantized symmetrically (scale2 = max|absmax − mean|/127, one float32 per block). The code
//         is rounded up (ceil), so a dequantized absmax is never below the true one and no weight is
//         clipped; weights are then encoded against the dequantized absmax, the value the kernels see.
//         (bitsandbytes uses a non-linear 8-bit map for this second level; the cost in bits is the same.)
//
// Packing: the codes of a row are packed into ceil(cols / codesPerWord) int32 words, rows starting
// on a word boundary; code j of a word occupies bits [bits·j, bits·j + bits) (lowest bits first),
// so 4-bit codes are eight per word and 8-bit codes four per word. The int4 zero points (eight per
// word) and the double-quantized absmax codes (four per word) are packed in the same way over the
// flat list of groups (row-major), without row alignment.

import type { QuantScheme } from '../types.js';

/**
 * The 16 NF4 levels as bitsandbytes stores them (float32): the quantiles of N(0, 1) at 8 evenly
 * spaced probabilities in [0.5, δ] for the positive half and 7 in [0.5, δ] for the negative half,
 * δ = (1 − 1/30 + 1 − 1/32)/2 = 0.9677083, an exact 0, scaled to [−1, 1] (Dettmers et al. 2023,
 * appendix E). The test re-derives them from the normal quantile function.
 */
export const NF4_CODEBOOK: Float32Array = Float32Array.of(
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
  -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
  0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
);

/** Block size of the second-level (double) quantization of NF4 absmaxes, as in QLoRA. */
export const NF4_DOUBLE_QUANT_BLOCK = 256;

/** A quantized weight as plain arrays (what QuantWeightView points at on a device). */
export interface QuantizedWeight {
  /** int8, int4 or nf4. */
  scheme: QuantScheme;
  /** Output features (rows of W). */
  rows: number;
  /** Input features (columns of W). */
  cols: number;
  /** Columns per scale group (int8: cols). */
  groupSize: number;
  /** int32 [rows, wordsPerRow] packed codes. */
  qdata: Int32Array;
  /** float32 [rows, groupsPerRow] scales, or for double-quantized nf4 the second-level scales [ceil(rows·groupsPerRow/256)]. */
  scales: Float32Array;
  /** int4: the zero points in [0, 15], eight 4-bit codes per int32 over rows·groupsPerRow groups (ceil(groups/8) words); otherwise null. */
  zeros: Int32Array | null;
  /** Double-quantized nf4: the absmax codes, four signed bytes per int32 over rows·groupsPerRow groups; otherwise null. */
  absmaxQ: Int32Array | null;
  /** Double-quantized nf4: the mean absmax added back after the second level; 0 otherwise. */
  absmaxOffset: number;
}

/** How `quantizeWeight` quantizes a [rows, cols] weight: the scheme and its group size. */
export interface QuantizeOptions {
  /** int8, int4 or nf4. */
  scheme: QuantScheme;
  /** Columns per group: int8 ignores it (one group per row); int4 32 or 64 (default 64); nf4 default 64. */
  groupSize?: number;
  /** nf4 only: quantize the absmaxes to 8 bits (default true). */
  doubleQuant?: boolean;
}

/** Bits per code: 8 for int8, 4 for int4 and nf4. */
export const codeBits = (scheme: QuantScheme): number => (scheme === 'int8' ? 8 : 4);
/** Codes packed into one int32 word (4 or 8). */
export const codesPerWord = (scheme: QuantScheme): number => 32 / codeBits(scheme);
/** int32 words holding one row of `cols` codes (rows start on a word boundary). */
export const wordsPerRow = (scheme: QuantScheme, cols: number): number => Math.ceil(cols / codesPerWord(scheme));
/** Scale groups in a row of `cols` columns (the last one may be short). */
export const groupsPerRow = (cols: number, groupSize: number): number => Math.ceil(cols / groupSize);

/** The group size a scheme uses for `cols` columns (int8: the whole row). */
export function resolveGroupSize(scheme: QuantScheme, cols: number, groupSize?: number): number {
  if (scheme === 'int8') return Math.max(cols, 1);
  return groupSize ?? 64;
}

/** Packs `codes` ([rows, cols] row-major, each < 2^bits) into int32 words, rows word-aligned. */
export function packCodes(codes: ArrayLike<number>, rows: number, cols: number, bits: 4 | 8): Int32Array {
  const per = 32 / bits;
  const wpr = Math.ceil(cols / per);
  const out = new Int32Array(rows * wpr);
  const mask = (1 << bits) - 1;
  for (let n = 0; n < rows; n++) {
    for (let k = 0; k < cols; k++) {
      out[n * wpr + Math.floor(k / per)]! |= (codes[n * cols + k]! & mask) << (bits * (k % per));
    }
  }
  return out;
}

/** The inverse of packCodes: codes in [0, 2^bits). */
export function unpackCodes(words: Int32Array, rows: number, cols: number, bits: 4 | 8): Uint8Array {
  const per = 32 / bits;
  const wpr = Math.ceil(cols / per);
  const out = new Uint8Array(rows * cols);
  const mask = (1 << bits) - 1;
  for (let n = 0; n < rows; n++) {
    for (let k = 0; k < cols; k++) out[n * cols + k] = (words[n * wpr + Math.floor(k / per)]! >>> (bits * (k % per))) & mask;
  }
  return out;
}

/** Byte `i` of a four-per-word packing as a signed value in [-128, 127]. */
export function signedByteAt(words: Int32Array, i: number): number {
  return (words[i >> 2]! << (24 - 8 * (i & 3))) >> 24;
}

/** The value a code decodes to before its scale (and zero) apply. */
export function decodeCode(scheme: QuantScheme, code: number): number {
  if (scheme === 'int8') return (code << 24) >> 24;
  if (scheme === 'int4') return code;
  return NF4_CODEBOOK[code]!;
}

/** int32 words holding the packed int4 zero points of `groups` groups (eight per word). */
export const zeroWords = (groups: number): number => Math.ceil(groups / 8);

/** The zero point of flat group `gi` (= n·groupsPerRow + g) from the packed words. */
export function zeroAt(zeros: Int32Array, gi: number): number {
  return (zeros[gi >> 3]! >>> (4 * (gi & 7))) & 15;
}

/** The float32 scale of group `g` of row `n` (undoing the double quantization for nf4). */
export function groupScale(q: QuantizedWeight, n: number, g: number): number {
  const gi = n * groupsPerRow(q.cols, q.groupSize) + g;
  if (q.absmaxQ === null) return q.scales[gi]!;
  return Math.fround(Math.fround(q.scales[Math.floor(gi / NF4_DOUBLE_QUANT_BLOCK)]! * signedByteAt(q.absmaxQ, gi)) + q.absmaxOffset);
}

/** Quantizes a float32 weight [rows, cols] (row-major). */
export function quantizeWeight(w: ArrayLike<number>, rows: number, cols: number, opts: QuantizeOptions): QuantizedWeight {
  const scheme = opts.scheme;
  const groupSize = resolveGroupSize(scheme, cols, opts.groupSize);
  const gpr = groupsPerRow(cols, groupSize);
  const nGroups = rows * gpr;
  const codes = new Uint8Array(rows * cols);
  let scales = new Float32Array(nGroups);
  let zeroCodes: Uint8Array | null = null;
  let absmaxQ: Int32Array | null = null;
  let absmaxOffset = 0;
  const groupRange = (n: number, g: number): [number, number] => [n * cols + g * groupSize, n * cols + Math.min(cols, (g + 1) * groupSize)];

  if (scheme === 'int4') zeroCodes = new Uint8Array(nGroups);
  // Group absmaxes (int8, nf4) or min/max (int4).
  for (let n = 0; n < rows; n++) {
    for (let g = 0; g < gpr; g++) {
      const [a, b] = groupRange(n, g);
      let lo = 0, hi = 0, amax = 0;
      for (let i = a; i < b; i++) {
        const v = Math.fround(w[i]!);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        amax = Math.max(amax, Math.abs(v));
      }
      const gi = n * gpr + g;
      if (scheme === 'int8') scales[gi] = amax / 127;
      else if (scheme === 'nf4') scales[gi] = amax;
      else {
        const s = Math.fround((hi - lo) / 15);
        scales[gi] = s;
        zeroCodes![gi] = s === 0 ? 0 : Math.min(15, Math.max(0, Math.round(-lo / s)));
      }
    }
  }
  if (scheme === 'nf4' && opts.doubleQuant !== false) {
    const absmax = scales;
    let mean = 0;
    for (let i = 0; i < nGroups; i++) mean += absmax[i]!;
    absmaxOffset = Math.fround(nGroups > 0 ? mean / nGroups : 0);
    const nBlocks = Math.ceil(nGroups / NF4_DOUBLE_QUANT_BLOCK);
    const scale2 = new Float32Array(nBlocks);
    const bytes = new Uint8Array(nGroups);
    for (let b = 0; b < nBlocks; b++) {
      const a = b * NF4_DOUBLE_QUANT_BLOCK, e = Math.min(nGroups, a + NF4_DOUBLE_QUANT_BLOCK);
      let m = 0;
      for (let i = a; i < e; i++) m = Math.max(m, Math.abs(absmax[i]! - absmaxOffset));
      const s2 = Math.fround(m / 127);
      scale2[b] = s2;
      for (let i = a; i < e; i++) {
        let q = s2 === 0 ? 0 : Math.min(127, Math.max(-127, Math.ceil((absmax[i]! - absmaxOffset) / s2)));
        // Rounded up so that the float32 dequantized value covers the true absmax.
        while (q < 127 && Math.fround(Math.fround(s2 * q) + absmaxOffset) < absmax[i]!) q++;
        bytes[i] = q & 0xff;
      }
    }
    absmaxQ = packCodes(bytes, 1, nGroups, 8);
    scales = scale2;
  }
  const zeros = zeroCodes === null ? null : packCodes(zeroCodes, 1, nGroups, 4);
  const q: QuantizedWeight = { scheme, rows, cols, groupSize, qdata: new Int32Array(0), scales, zeros, absmaxQ, absmaxOffset };

  for (let n = 0; n < rows; n++) {
    for (let g = 0; g < gpr; g++) {
      const [a, b] = groupRange(n, g);
      const s = groupScale(q, n, g);
      for (let i = a; i < b; i++) {
        const v = Math.fround(w[i]!);
        if (scheme === 'int8') codes[i] = (s === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(v / s)))) & 0xff;
        else if (scheme === 'int4') codes[i] = s === 0 ? zeroCodes![n * gpr + g]! : Math.max(0, Math.min(15, Math.round(v / s) + zeroCodes![n * gpr + g]!));
        else codes[i] = nearestNf4(s === 0 ? 0 : v / s);
      }
    }
  }
  q.qdata = packCodes(codes, rows, cols, codeBits(scheme) as 4 | 8);
  return q;
}

/** The index of the NF4 level nearest to `v` (ties to the lower level). */
export function nearestNf4(v: number): number {
  let best = 0, dist = Infinity;
  for (let c = 0; c < 16; c++) {
    const d = Math.abs(v - NF4_CODEBOOK[c]!);
    if (d < dist) { dist = d; best = c; }
  }
  return best;
}

/** The float32 weight [rows, cols] the codes and scales stand for. */
export function dequantizeWeight(q: QuantizedWeight): Float32Array {
  const out = new Float32Array(q.rows * q.cols);
  const row = new Float64Array(q.cols);
  for (let n = 0; n < q.rows; n++) {
    decodeRow(q, n, row);
    for (let k = 0; k < q.cols; k++) out[n * q.cols + k] = row[k]!;
  }
  return out;
}

/** Row `n` of the dequantized weight into `out` (length cols), each value rounded to float32. */
export function decodeRow(q: QuantizedWeight, n: number, out: Float64Array | Float32Array): void {
  const bits = codeBits(q.scheme);
  const per = 32 / bits;
  const mask = (1 << bits) - 1;
  const wpr = wordsPerRow(q.scheme, q.cols);
  const gpr = groupsPerRow(q.cols, q.groupSize);
  for (let g = 0; g < gpr; g++) {
    const s = groupScale(q, n, g);
    const z = q.zeros === null ? 0 : zeroAt(q.zeros, n * gpr + g);
    const end = Math.min(q.cols, (g + 1) * q.groupSize);
    for (let k = g * q.groupSize; k < end; k++) {
      const code = (q.qdata[n * wpr + Math.floor(k / per)]! >>> (bits * (k % per))) & mask;
      out[k] = Math.fround(s * (decodeCode(q.scheme, code) - z));
    }
  }
}

/** Bytes the quantized weight occupies (codes, scales, zeros, absmax codes, the offset). */
export function quantizedBytes(q: QuantizedWeight): number {
  return 4 * (q.qdata.length + q.scales.length + (q.zeros?.length ?? 0) + (q.absmaxQ?.length ?? 0) + (q.absmaxQ ? 1 : 0));
}
