// The quantized-weight matmuls of the fast cpu tier (layout in ../cpu/quant_format.ts) for float32
// operands; float64 takes the reference.
//
// W is decoded one tile at a time into float32 scratch, or not at all (never the whole matrix).
// - With at least SGEMM_MIN_ROWS rows of x (training, prompt processing, a window re-read during
//   generation) each tile feeds the WebAssembly sgemm (matmul.ts): forward, tiles of TILE rows of W
//   (all K columns) give out[:, n0:n0+TILE] = x · tileᵀ; transposed, tiles of all N rows and a band
//   of columns give out[:, k0:k0+band] = dy · tile. Each output element is written once, by one product.
// - With fewer rows (token-by-token generation), the forward product runs in WebAssembly straight
//   from the codes (quant_gemv_* of quant_matmul_program.ts: each block unpacked in registers).
// Forward, for the schemes in QUANT_MATMUL_WASM whose groups are whole 32-code blocks, both paths
// are WebAssembly: the gemv kernel reads x laid out in its block order (layoutX), the sgemm's tiles
// are decoded by quant_decode_* in column order (x read in place), and the codes, scales and zero
// points are copied into the module's memory per call (they are int32 tensors, which live outside it). Otherwise — other group sizes,
// and the transposed product's tiles — TypeScript decodes: per group, the 16 (4-bit) or 256 (8-bit)
// values scale·(decode(q) − zero) are tabulated once, so decoding costs one table lookup per element,
// and with few rows TypeScript loops use each decoded block of ROW_BLOCK rows directly (dot products
// forward, axpys transposed).

import type { QuantScheme, QuantWeightView, TypedArray, View } from '../types.js';
import { matmul } from './matmul.js';
import { quantArrays } from '../cpu/quant_matmul.js';
import { NF4_CODEBOOK, NF4_DOUBLE_QUANT_BLOCK, codeBits, groupScale, groupsPerRow, signedByteAt, wordsPerRow, zeroAt, type QuantizedWeight } from '../cpu/quant_format.js';
import { readPtr, writePtr } from '../wasm/operands.js';
import { wasmRuntime } from '../wasm/runtime.js';
import { FAST_CPU_CONFIG, partsFor, splitRange, threadsFor } from '../wasm/schedule.js';
import { GEMV_ACC_BYTES_PER_ROW, GEMV_BLOCK_CODES } from './quant_matmul_program.js';

/**
 * Schemes whose forward product decodes in WebAssembly (few rows: the gemv kernel; more: tiles for
 * the sgemm) rather than in TypeScript. All three measured faster there (see the README's
 * quantization section); the switch stays for benchmarks and tests.
 */
export const QUANT_MATMUL_WASM: Record<QuantScheme, boolean> = { int8: true, int4: true, nf4: true };

/**
 * Calls per path of the forward product, what tests check: sgemm on tiles decoded in WebAssembly
 * (`sgemmWasm`) or TypeScript (`sgemm`), the few-row WebAssembly kernel (`wasm`), TypeScript loops.
 */
export const quantMatmulPaths = { sgemm: 0, sgemmWasm: 0, wasm: 0, loops: 0 };

const ROW_BLOCK = 16;
const SGEMM_MIN_ROWS = 8;
const TILE = 128;
/** Largest tile, in elements, of the transposed product's column bands (1 MiB of float32). */
const MAX_TILE_ELEMENTS = 1 << 18;

/** Decodes W[n0:n0+rows, k0:k0+cols] into `dst` (row-major [rows, cols]). */
function decodeTile(q: QuantizedWeight, n0: number, rows: number, k0: number, cols: number, dst: Float32Array, lut: Float32Array): void {
  const bits = codeBits(q.scheme);
  const per = 32 / bits;
  const mask = (1 << bits) - 1;
  const wpr = wordsPerRow(q.scheme, q.cols);
  const gpr = groupsPerRow(q.cols, q.groupSize);
  const G = q.groupSize;
  const words = q.qdata;
  const k1 = k0 + cols;
  for (let r = 0; r < rows; r++) {
    const n = n0 + r;
    const base = n * wpr;
    const d0 = r * cols - k0;
    for (let g = Math.floor(k0 / G); g < gpr && g * G < k1; g++) {
      fillLut(q, n, g, gpr, lut);
      const end = Math.min(k1, (g + 1) * G);
      for (let k = Math.max(k0, g * G); k < end; k++) dst[d0 + k] = lut[(words[base + ((k / per) | 0)]! >>> (bits * (k % per))) & mask]!;
    }
  }
}

/** lut[c] = the value code c decodes to in group g of row n. */
function fillLut(q: QuantizedWeight, n: number, g: number, gpr: number, lut: Float32Array): void {
  const s = groupScale(q, n, g);
  if (q.scheme === 'int8') for (let c = 0; c < 256; c++) lut[c] = s * ((c << 24) >> 24);
  else if (q.scheme === 'int4') { const z = zeroAt(q.zeros!, n * gpr + g); for (let c = 0; c < 16; c++) lut[c] = s * (c - z); }
  else for (let c = 0; c < 16; c++) lut[c] = s * NF4_CODEBOOK[c]!;
}

const view = (buffer: Float32Array, shape: number[], strides: number[], offset: number): View<TypedArray> => ({ buffer, dtype: 'float32', shape, strides, offset });

const f32 = (v: View<TypedArray>): boolean => v.dtype === 'float32';

/** Decodes rows [n0, n0 + rows) of W into `dst` (row-major, K columns). */
function decodeBlock(q: QuantizedWeight, n0: number, rows: number, dst: Float32Array, lut: Float32Array): void {
  decodeTile(q, n0, rows, 0, q.cols, dst, lut);
}

export function quantMatmul(x: View<TypedArray>, w: QuantWeightView<TypedArray>, bias: View<TypedArray> | null, out: View<TypedArray>): boolean {
  if (!f32(x) || !f32(out) || (bias !== null && !f32(bias))) return false;
  const q = quantArrays(w);
  const M = x.shape[0]!, K = w.cols, N = w.rows;
  const xb = x.buffer as Float32Array, ob = out.buffer as Float32Array;
  if (M >= SGEMM_MIN_ROWS && K > 0) {
    if (QUANT_MATMUL_WASM[q.scheme] && sgemmWasmTiles(q, x, out, M)) quantMatmulPaths.sgemmWasm++;
    else {
      const tile = new Float32Array(TILE * K);
      const lut = new Float32Array(256);
      for (let n0 = 0; n0 < N; n0 += TILE) {
        const rows = Math.min(TILE, N - n0);
        decodeTile(q, n0, rows, 0, K, tile, lut);
        // out[:, n0:n0+rows] = x · tileᵀ (tileᵀ read through strides as [K, rows]).
        const done = matmul(view(xb, [M, K], [K, 1], x.offset), view(tile, [K, rows], [1, K], 0), view(ob, [M, rows], [N, 1], out.offset + n0));
        if (!done) throw new Error('quantMatmul: the float32 sgemm declined a float32 product');
      }
      quantMatmulPaths.sgemm++;
    }
    if (bias !== null) {
      const bb = bias.buffer as Float32Array;
      for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) ob[out.offset + m * N + n] += bb[bias.offset + n]!;
    }
    return true;
  }
  if (QUANT_MATMUL_WASM[q.scheme] && gemvWasm(q, x, bias, out, M)) {
    quantMatmulPaths.wasm++;
    return true;
  }
  quantMatmulPaths.loops++;
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

/**
 * out = x·Wᵀ (+ bias) for the few rows of x in WebAssembly (quant_matmul_program.ts); false, with
 * nothing written, where the groups are not whole blocks or there is nothing to sum (K = 0).
 */
/** How the WebAssembly kernels walk W: 16-byte blocks per row, blocks per group, x's padded width. */
interface BlockLayout { blocks: number; kp: number; gpr: number; bpg: number; rowBytes: number }

/** W's block layout, or null where its groups are not whole blocks (or K = 0): the TypeScript paths take those. */
function blockLayout(q: QuantizedWeight): BlockLayout | null {
  const K = q.cols, B = GEMV_BLOCK_CODES[q.scheme];
  if (K === 0 || (q.scheme !== 'int8' && q.groupSize % B !== 0)) return null;
  const blocks = Math.ceil(K / B);
  return { blocks, kp: blocks * B, gpr: groupsPerRow(K, q.groupSize), bpg: q.scheme === 'int8' ? blocks : q.groupSize / B, rowBytes: wordsPerRow(q.scheme, K) * 4 };
}

/** Copies the codes, the per-group float32 scales (double quantization undone as groupScale does) and the zero points into the memory. */
function storeWeight(q: QuantizedWeight, gpr: number, mem: Float32Array, codesAddr: number, scalesAddr: number, zerosAddr: number): void {
  new Int32Array(mem.buffer, codesAddr, q.qdata.length).set(q.qdata);
  if (q.zeros !== null) new Int32Array(mem.buffer, zerosAddr, q.zeros.length).set(q.zeros);
  const groups = q.rows * gpr;
  if (q.absmaxQ === null) mem.set(q.scales.subarray(0, groups), scalesAddr >> 2);
  else {
    const s0 = scalesAddr >> 2;
    for (let gi = 0; gi < groups; gi++) {
      mem[s0 + gi] = Math.fround(q.scales[Math.floor(gi / NF4_DOUBLE_QUANT_BLOCK)]! * signedByteAt(q.absmaxQ, gi)) + q.absmaxOffset;
    }
  }
}

function gemvWasm(q: QuantizedWeight, x: View<TypedArray>, bias: View<TypedArray> | null, out: View<TypedArray>, M: number): boolean {
  const L = blockLayout(q);
  if (L === null) return false;
  const K = q.cols, N = q.rows;
  if (N === 0 || M === 0) return true;
  const rt = wasmRuntime();
  rt.reset();
  const threads = threadsFor(rt, M * N * K, FAST_CPU_CONFIG.matmulParallelMin);
  const parts = splitRange(N, Math.min(N, partsFor(threads)), 1);
  const biasAddr = bias === null ? 0 : readPtr(rt, bias, N);
  const xAddr = rt.alloc(M * L.kp * 4), codesAddr = rt.alloc(q.qdata.length * 4), scalesAddr = rt.alloc(N * L.gpr * 4);
  const zerosAddr = q.zeros === null ? 0 : rt.alloc(q.zeros.length * 4);
  const accAddr = rt.alloc(parts.length * M * GEMV_ACC_BYTES_PER_ROW);
  const o = writePtr(rt, out, M * N);
  const mem = rt.f32();
  layoutX(x, M, K, L.kp, q.scheme === 'int8', mem, xAddr >> 2);
  storeWeight(q, L.gpr, mem, codesAddr, scalesAddr, zerosAddr);
  rt.parallel(`quant_gemv_${q.scheme}`, 16, parts.map(([lo, hi], i) => (hi > lo
    ? [xAddr, M, L.kp * 4, L.blocks, codesAddr, L.rowBytes, scalesAddr, zerosAddr, L.bpg, L.gpr, o.addr, N * 4, lo, hi, biasAddr, accAddr + i * M * GEMV_ACC_BYTES_PER_ROW]
    : [])));
  o.done();
  return true;
}

/**
 * out = x·Wᵀ (no bias) with tiles of TILE rows of W decoded by quant_decode_* and multiplied with x
 * by the sgemm; false where the groups are not whole blocks. The buffers are heap blocks freed here,
 * not kernel scratch: `matmul` resets the scratch.
 */
function sgemmWasmTiles(q: QuantizedWeight, x: View<TypedArray>, out: View<TypedArray>, M: number): boolean {
  const L = blockLayout(q);
  if (L === null) return false;
  const K = q.cols, N = q.rows;
  const rt = wasmRuntime();
  const sizes = [q.qdata.length * 4, N * L.gpr * 4, (q.zeros?.length ?? 0) * 4, Math.min(TILE, N) * L.kp * 4];
  const addrs = sizes.map((b) => rt.malloc(b));
  const [codesAddr, scalesAddr, zerosAddr, tileAddr] = addrs as [number, number, number, number];
  try {
    const mem = rt.f32();
    storeWeight(q, L.gpr, mem, codesAddr, scalesAddr, zerosAddr);
    const xb = x.buffer as Float32Array, ob = out.buffer as Float32Array;
    for (let n0 = 0; n0 < N; n0 += TILE) {
      const rows = Math.min(TILE, N - n0);
      // Each thread decodes a range of the tile's rows.
      const parts = splitRange(rows, Math.min(rows, partsFor(threadsFor(rt, rows * K, FAST_CPU_CONFIG.elementwiseParallelMin))), 1);
      rt.parallel(`quant_decode_${q.scheme}`, 10, parts.map(([lo, hi]) => (hi > lo
        ? [codesAddr, L.rowBytes, scalesAddr, zerosAddr, L.bpg, L.gpr, L.blocks, n0 + lo, n0 + hi, tileAddr + lo * L.kp * 4]
        : [])));
      // out[:, n0:n0+rows] = x · tileᵀ (the tile's first K columns, read through strides as [K, rows]).
      const done = matmul(view(xb, [M, K], [K, 1], x.offset), view(mem, [K, rows], [1, L.kp], tileAddr >> 2), view(ob, [M, rows], [N, 1], out.offset + n0));
      if (!done) throw new Error('quantMatmul: the float32 sgemm declined a float32 product');
    }
  } finally {
    sizes.forEach((b, i) => rt.free(addrs[i]!, b));
  }
  return true;
}

/**
 * x [M, K] into dst at d0 as [M, kp], zero-padded: in order for int8; for 4-bit codes in the
 * block order of quant_matmul_program.ts (per 32 columns, the 16 even ones then the 16 odd ones).
 */
function layoutX(x: View<TypedArray>, M: number, K: number, kp: number, inOrder: boolean, dst: Float32Array, d0: number): void {
  const xb = x.buffer;
  for (let m = 0; m < M; m++) {
    const src = x.offset + m * K, d = d0 + m * kp;
    if (inOrder) {
      for (let k = 0; k < K; k++) dst[d + k] = xb[src + k]!;
      dst.fill(0, d + K, d + kp);
      continue;
    }
    for (let b = 0; b < kp; b += 32) {
      for (let j = 0; j < 16; j++) {
        const k = b + 2 * j;
        dst[d + b + j] = k < K ? xb[src + k]! : 0;
        dst[d + b + 16 + j] = k + 1 < K ? xb[src + k + 1]! : 0;
      }
    }
  }
}

export function quantMatmulTransposed(dy: View<TypedArray>, w: QuantWeightView<TypedArray>, out: View<TypedArray>): boolean {
  if (!f32(dy) || !f32(out)) return false;
  const q = quantArrays(w);
  const M = dy.shape[0]!, K = w.cols, N = w.rows;
  const gb = dy.buffer as Float32Array, ob = out.buffer as Float32Array;
  if (M >= SGEMM_MIN_ROWS && N > 0) {
    const band = Math.max(8, Math.min(K, Math.floor(MAX_TILE_ELEMENTS / N / 8) * 8));
    const tile = new Float32Array(N * band);
    const lut = new Float32Array(256);
    for (let k0 = 0; k0 < K; k0 += band) {
      const cols = Math.min(band, K - k0);
      decodeTile(q, 0, N, k0, cols, tile, lut);
      // out[:, k0:k0+cols] = dy · W[:, k0:k0+cols].
      const done = matmul(view(gb, [M, N], [N, 1], dy.offset), view(tile, [N, cols], [cols, 1], 0), view(ob, [M, cols], [K, 1], out.offset + k0));
      if (!done) throw new Error('quantMatmulTransposed: the float32 sgemm declined a float32 product');
    }
    return true;
  }
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
