// CPU reference for the matmuls that read a quantized weight (layout in quant_format.ts):
//   quantMatmul            out [M, N] = x [M, K] · Wᵀ (+ bias)
//   quantMatmulTransposed  out [M, K] = dy [M, N] · W
// W is decoded one row at a time into a K-long scratch row (never the whole matrix); sums run in
// float64 in increasing k (forward) or increasing n (transposed), stored in out's dtype.

import { numel } from '../geometry.js';
import type { QuantWeightView, TypedArray, View } from '../types.js';
import { decodeRow, type QuantizedWeight } from './quant_format.js';

/** The plain arrays behind a quantized weight view (views are contiguous: offsets only). */
export function quantArrays(w: QuantWeightView<TypedArray>): QuantizedWeight {
  const sub = <T extends TypedArray>(v: View<TypedArray>, n: number): T => v.buffer.subarray(v.offset, v.offset + n) as T;
  return {
    scheme: w.scheme, rows: w.rows, cols: w.cols, groupSize: w.groupSize,
    qdata: sub<Int32Array>(w.qdata, numel(w.qdata.shape)),
    scales: sub<Float32Array>(w.scales, numel(w.scales.shape)),
    zeros: w.zeros === null ? null : sub<Int32Array>(w.zeros, numel(w.zeros.shape)),
    absmaxQ: w.absmaxQ === null ? null : sub<Int32Array>(w.absmaxQ, numel(w.absmaxQ.shape)),
    absmaxOffset: w.absmaxOffset,
  };
}

export function quantMatmul(x: View<TypedArray>, w: QuantWeightView<TypedArray>, bias: View<TypedArray> | null, out: View<TypedArray>): void {
  const q = quantArrays(w);
  const M = x.shape[0]!, K = w.cols, N = w.rows;
  const row = new Float64Array(K);
  for (let n = 0; n < N; n++) {
    decodeRow(q, n, row);
    const b = bias === null ? 0 : bias.buffer[bias.offset + n]!;
    for (let m = 0; m < M; m++) {
      let acc = 0;
      const xo = x.offset + m * K;
      for (let k = 0; k < K; k++) acc += x.buffer[xo + k]! * row[k]!;
      out.buffer[out.offset + m * N + n] = acc + b;
    }
  }
}

export function quantMatmulTransposed(dy: View<TypedArray>, w: QuantWeightView<TypedArray>, out: View<TypedArray>): void {
  const q = quantArrays(w);
  const M = dy.shape[0]!, K = w.cols, N = w.rows;
  const acc = new Float64Array(M * K);
  const row = new Float64Array(K);
  for (let n = 0; n < N; n++) {
    decodeRow(q, n, row);
    for (let m = 0; m < M; m++) {
      const g = dy.buffer[dy.offset + m * N + n]!;
      for (let k = 0; k < K; k++) acc[m * K + k] += g * row[k]!;
    }
  }
  for (let i = 0; i < M * K; i++) out.buffer[out.offset + i] = acc[i]!;
}
