// The embedding's gradient with repeated ids: each row of d(weight) is the sum of the output
// gradients of the tokens that used it (checked against a float64 sum on every device), also when the
// gradient reaching the embedding is a strided view; and on the cpu the fast tier gives the
// reference kernels' float32 bits (the same adds in the same order).
import { describe, expect, it } from 'vitest';
import { embedding, gradients, setCpuKernels, tensor, tidy, type DeviceName } from '@webgrad/core';
import { randomArray, testDevices } from './helpers.js';

const V = 6, D = 5, B = 3, T = 40;
// Mostly ids 1 and 4, some others, none of 0: rows never used get a zero gradient.
const ids = Int32Array.from({ length: B * T }, (_, i) => [1, 4, 4, 1, 3, 1, 5, 4][i % 8]!);
const w0 = randomArray(V * D, 1);
const g0 = randomArray(B * T * D, 2);

/** d(Σ g·out)/d(weight) with out = embedding(weight, ids) [B, T, D], or its transpose [T, B, D] against g read as [T, B, D]. */
async function grad(device: DeviceName, transposed: boolean): Promise<Float32Array> {
  const dw = tidy(() => {
    const w = tensor(Float32Array.from(w0), { shape: [V, D], device }).requiresGrad_(true);
    const idx = tensor(ids, { shape: [B, T], device });
    const out = embedding(w, idx);
    const y = transposed ? out.transpose(0, 1) : out;
    const g = tensor(Float32Array.from(g0), { shape: transposed ? [T, B, D] : [B, T, D], device });
    return gradients(y.mul(g).sum(), [w])[0]!;
  });
  const out = await dw.data() as Float32Array;
  dw.dispose();
  return out;
}

function expected(transposed: boolean): Float64Array {
  const want = new Float64Array(V * D);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const row = ids[b * T + t]!;
      const gAt = transposed ? (t * B + b) * D : (b * T + t) * D;
      for (let k = 0; k < D; k++) want[row * D + k] += g0[gAt + k]!;
    }
  }
  return want;
}

describe.each(testDevices())('embedding gradient with repeated ids on %s', (device) => {
  for (const transposed of [false, true]) {
    it(transposed ? 'through a transposed output (strided gradient)' : 'contiguous gradient', async () => {
      const got = await grad(device, transposed), want = expected(transposed);
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!), `element ${i}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[i]!)));
      for (let k = 0; k < D; k++) expect(got[k], 'row 0 is never used').toBe(0);
    });
  }
});

describe('embedding gradient on the cpu: fast tier and reference agree bit for bit', () => {
  for (const transposed of [false, true]) {
    it(transposed ? 'strided gradient' : 'contiguous gradient', async () => {
      const fast = await grad('cpu', transposed);
      const prev = setCpuKernels('reference');
      let ref: Float32Array;
      try { ref = await grad('cpu', transposed); } finally { setCpuKernels(prev); }
      expect(Array.from(fast)).toEqual(Array.from(ref));
    });
  }
});
