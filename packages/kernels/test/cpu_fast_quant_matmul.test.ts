// The fast cpu tier's quantized matmul in WebAssembly (quant_matmul_program.ts) against
// dequantize-then-matmul in float64, on awkward shapes: `in` not a multiple of the group or of a
// 32-code block, odd `out`, x at an offset in a larger array, with and without bias, single- and
// multi-threaded — with 1–7 rows of x (the gemv kernel) and with 8 or more (tiles decoded in
// WebAssembly for the sgemm); that these paths took the calls, that a group size which is not whole
// blocks takes the TypeScript paths, and that both give the same products.
import { afterEach, describe, expect, it } from 'vitest';
import { dequantizeWeight, groupScale, quantizeWeight, type QuantizeOptions, type QuantizedWeight } from '../src/cpu/quant_format.js';
import { wasmRuntime } from '../src/wasm/runtime.js';
import { QUANT_MATMUL_WASM, quantMatmul, quantMatmulPaths } from '../src/cpu_fast/quant_matmul.js';
import { allocTensorArray, releaseTensorArray } from '../src/cpu_fast/index.js';
import type { QuantWeightView, TypedArray, View } from '../src/types.js';
import { eachThreadCount, expectWithin, forceThreading, seeded, view } from './wasm_helpers.js';

forceThreading();
const saved = { ...QUANT_MATMUL_WASM };
afterEach(() => { Object.assign(QUANT_MATMUL_WASM, saved); });

function weightView(q: QuantizedWeight): QuantWeightView<TypedArray> {
  return {
    scheme: q.scheme, rows: q.rows, cols: q.cols, groupSize: q.groupSize, absmaxOffset: q.absmaxOffset,
    qdata: view(q.qdata, [q.qdata.length]), scales: view(q.scales, [q.scales.length]),
    zeros: q.zeros === null ? null : view(q.zeros, [q.zeros.length]), absmaxQ: q.absmaxQ === null ? null : view(q.absmaxQ, [q.absmaxQ.length]),
  };
}

/** out = x·dequant(W)ᵀ + bias in float64. */
function reference(x: Float32Array, xOff: number, M: number, q: QuantizedWeight, bias: Float32Array | null): Float64Array {
  const w = dequantizeWeight(q), K = q.cols, N = q.rows;
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s = bias === null ? 0 : bias[n]!;
    for (let k = 0; k < K; k++) s += x[xOff + m * K + k]! * w[n * K + k]!;
    out[m * N + n] = s;
  }
  return out;
}

/** Runs the fast kernel; returns the output and which path took the call. */
type Path = keyof typeof quantMatmulPaths;
function run(q: QuantizedWeight, x: Float32Array, xOff: number, M: number, bias: Float32Array | null, out: Float32Array): Path {
  const before = { ...quantMatmulPaths };
  const done = quantMatmul(view(x, [M, q.cols], undefined, xOff), weightView(q), bias === null ? null : view(bias, [q.rows]), view(out, [M, q.rows]));
  expect(done).toBe(true);
  const took = (Object.keys(before) as Path[]).filter((p) => quantMatmulPaths[p] !== before[p]);
  expect(took).toHaveLength(1);
  return took[0]!;
}

const CONFIGS: QuantizeOptions[] = [
  { scheme: 'int8' }, { scheme: 'int4', groupSize: 32 }, { scheme: 'int4', groupSize: 64 },
  { scheme: 'nf4', doubleQuant: false }, { scheme: 'nf4' }, { scheme: 'nf4', groupSize: 32 },
];
const label = (c: QuantizeOptions) => `${c.scheme}${c.groupSize ? ` g${c.groupSize}` : ''}${c.doubleQuant === false ? ' no double quant' : ''}`;
// [rows of x, in, out]: in below, at and past a block, not a multiple of the group; out odd or 1.
const SHAPES: [number, number, number][] = [[1, 1, 1], [1, 5, 3], [2, 31, 9], [3, 32, 17], [4, 33, 1], [5, 70, 13], [6, 100, 7], [7, 129, 33], [1, 300, 65]];

describe('few-row quantized matmul in WebAssembly', () => {
  for (const c of CONFIGS) {
    it(`${label(c)}: matches dequantize-then-matmul on awkward shapes, threaded or not, and takes the WebAssembly path`, () => {
      for (const [si, [M, K, N]] of SHAPES.entries()) {
        const q = quantizeWeight(seeded(N * K, 3 + si, -0.3, 0.3), N, K, c);
        const xOff = 3;
        const x = seeded(xOff + M * K + 2, 50 + si, -2, 2);
        for (const bias of [null, seeded(N, 90 + si)]) {
          const want = reference(x, xOff, M, q, bias);
          eachThreadCount((t) => {
            const out = new Float32Array(M * N).fill(NaN);
            expect(run(q, x, xOff, M, bias, out)).toBe('wasm');
            // float32 sums of K products against float64: a few ulp of Σ|x·w|.
            let mag = 0;
            for (let k = 0; k < K; k++) mag = Math.max(mag, Math.abs(x[xOff + k]!));
            expectWithin(out, want, (i) => 1e-6 * (1 + Math.abs(want[i]!)) + 4e-7 * K * mag, `${label(c)} [${M}, ${K}]·[${N}, ${K}]ᵀ bias ${bias !== null} threads ${t}`);
          });
        }
      }
    });
  }

  it('writes into a heap tensor in place and leaves the rest of its array alone', () => {
    const q = quantizeWeight(seeded(9 * 40, 7), 9, 40, { scheme: 'int4', groupSize: 32 });
    const x = seeded(2 * 40, 8);
    const arr = allocTensorArray(2 * 9 + 5);
    const out = arr ?? new Float32Array(2 * 9 + 5);
    out.fill(7);
    const o: View<TypedArray> = view(out, [2, 9], undefined, 5);
    expect(quantMatmul(view(x, [2, 40]), weightView(q), null, o)).toBe(true);
    expect(Array.from(out.subarray(0, 5))).toEqual([7, 7, 7, 7, 7]);
    expectWithin(out.subarray(5), reference(x, 0, 2, q, null), () => 1e-5, 'heap out');
    if (arr) releaseTensorArray(arr);
  });

  it('groups that are not whole 32-code blocks (nf4 group 8, 40) take the TypeScript loops, with the same products', () => {
    for (const groupSize of [8, 40]) {
      const q = quantizeWeight(seeded(11 * 50, 4), 11, 50, { scheme: 'nf4', groupSize });
      const x = seeded(3 * 50, 5);
      const out = new Float32Array(3 * 11);
      expect(run(q, x, 0, 3, null, out)).toBe('loops');
      expectWithin(out, reference(x, 0, 3, q, null), () => 2e-5, `nf4 g${groupSize}`);
    }
  });

  it('agrees with the TypeScript loops it replaces (switched off per scheme) to float32 rounding', () => {
    for (const c of CONFIGS) {
      const q = quantizeWeight(seeded(21 * 200, 6), 21, 200, c);
      const x = seeded(4 * 200, 9);
      const a = new Float32Array(4 * 21), b = new Float32Array(4 * 21);
      expect(run(q, x, 0, 4, null, a)).toBe('wasm');
      QUANT_MATMUL_WASM[c.scheme] = false;
      expect(run(q, x, 0, 4, null, b)).toBe('loops');
      QUANT_MATMUL_WASM[c.scheme] = true;
      expectWithin(a, b, (i) => 1e-5 * (1 + Math.abs(b[i]!)), label(c));
    }
  });

  for (const c of CONFIGS) {
    it(`${label(c)}: 8 or more rows multiply tiles decoded in WebAssembly, equal to the TypeScript-decoded tiles`, () => {
      // [rows, in, out]: out past one tile of 128 rows of W, in not a multiple of the group or block.
      for (const [si, [M, K, N]] of ([[8, 33, 5], [9, 100, 130], [20, 70, 257]] as const).entries()) {
        const q = quantizeWeight(seeded(N * K, 30 + si, -0.3, 0.3), N, K, c);
        const x = seeded(2 + M * K, 60 + si, -2, 2);
        const bias = seeded(N, 70 + si);
        const want = reference(x, 2, M, q, bias);
        const a = new Float32Array(M * N).fill(NaN), b = new Float32Array(M * N).fill(NaN);
        eachThreadCount(() => {
          expect(run(q, x, 2, M, bias, a)).toBe('sgemmWasm');
          expectWithin(a, want, (i) => 1e-6 * (1 + Math.abs(want[i]!)) + 1e-6 * K, `${label(c)} [${M}, ${K}]·[${N}, ${K}]ᵀ`);
        });
        QUANT_MATMUL_WASM[c.scheme] = false;
        expect(run(q, x, 2, M, bias, b)).toBe('sgemm');
        QUANT_MATMUL_WASM[c.scheme] = true;
        // The same decoded values through the same sgemm: the same bits.
        expectWithin(a, b, () => 0, label(c));
      }
    });
  }

  it('quant_decode_* writes exactly dequantizeWeight, in column order', () => {
    const rt = wasmRuntime();
    for (const c of CONFIGS) {
      const N = 7, K = 100;
      const q = quantizeWeight(seeded(N * K, 12, -0.5, 0.5), N, K, c);
      const B = c.scheme === 'int8' ? 16 : 32, blocks = Math.ceil(K / B), kp = blocks * B;
      const gpr = Math.ceil(K / q.groupSize), bpg = c.scheme === 'int8' ? blocks : q.groupSize / B;
      const scales = Float32Array.from({ length: N * gpr }, (_, gi) => groupScale(q, Math.floor(gi / gpr), gi % gpr));
      const sizes = [q.qdata.length * 4, scales.length * 4, (q.zeros?.length ?? 0) * 4, N * kp * 4];
      const [codes, sc, zeros, dst] = sizes.map((n) => rt.malloc(n)) as [number, number, number, number];
      const mem = rt.f32();
      new Int32Array(mem.buffer, codes, q.qdata.length).set(q.qdata);
      mem.set(scales, sc >> 2);
      if (q.zeros) new Int32Array(mem.buffer, zeros, q.zeros.length).set(q.zeros);
      rt.call(`quant_decode_${c.scheme}`, codes, (q.qdata.length / N) * 4, sc, zeros, bpg, gpr, blocks, 0, N, dst);
      const got = rt.f32().slice(dst >> 2, (dst >> 2) + N * kp);
      sizes.forEach((n, i) => rt.free([codes, sc, zeros, dst][i]!, n));
      const want = dequantizeWeight(q);
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) expect(got[n * kp + k]).toBe(want[n * K + k]);
    }
  });

  it('8 or more rows with groups that are not whole blocks decode in TypeScript', () => {
    const q = quantizeWeight(seeded(5 * 64, 1), 5, 64, { scheme: 'nf4', groupSize: 16 });
    const x = seeded(8 * 64, 2);
    const out = new Float32Array(8 * 5);
    expect(run(q, x, 0, 8, null, out)).toBe('sgemm');
    expectWithin(out, reference(x, 0, 8, q, null), () => 1e-4, 'sgemm');
  });
});
