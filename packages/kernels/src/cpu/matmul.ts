// CPU reference for batched matmul: out[..., i, j] = Σ_k a[..., i, k] · b[..., k, j].
//
// Layout: a [...batch, M, K], b [...batch, K, N], out [...batch, M, N], all of the same rank ≥ 2.
// Batch dims of a and b are already expanded to out's (stride 0 where broadcast), and transposes
// arrive as strides, so every operand, out included, is addressed purely through its strides.
// The sum over k runs in float64 in increasing k; the result is stored in out's dtype.
// K = 0 gives zeros; M = 0 or N = 0 writes nothing.

import type { TypedArray, View } from '../types.js';
import { forEachIndex } from '../geometry.js';
import { readAt, writeAt } from './strided.js';

export function matmul(a: View<TypedArray>, b: View<TypedArray>, out: View<TypedArray>): void {
  const r = out.shape.length;
  const M = out.shape[r - 2]!;
  const N = out.shape[r - 1]!;
  const K = a.shape[r - 1]!;
  const [saM, saK] = [a.strides[r - 2]!, a.strides[r - 1]!];
  const [sbK, sbN] = [b.strides[r - 2]!, b.strides[r - 1]!];
  const [soM, soN] = [out.strides[r - 2]!, out.strides[r - 1]!];
  const batchShape = out.shape.slice(0, r - 2);
  forEachIndex(batchShape, (bi) => {
    let baseA = a.offset;
    let baseB = b.offset;
    let baseO = out.offset;
    for (let d = 0; d < bi.length; d++) {
      baseA += bi[d]! * a.strides[d]!;
      baseB += bi[d]! * b.strides[d]!;
      baseO += bi[d]! * out.strides[d]!;
    }
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += readAt(a, baseA + i * saM + k * saK) * readAt(b, baseB + k * sbK + j * sbN);
        writeAt(out, baseO + i * soM + j * soN, acc);
      }
    }
  });
}
