// The fused recurrent ops (lstmCell, gruCell, lstmSequence, gruSequence) against their
// decompositions into primitive ops: the CPU reference kernels with the recurrent kernels removed
// stand for a backend without them (as WebGPU is). Forward and the gradient of every input on
// awkward shapes (batch 1, hidden 1, one step, odd sizes, non-contiguous inputs, both directions),
// in float64 and — through the fast cpu tier's float32 kernels — in float32; finite differences in
// float64 for the sequence ops (the cells are in OP_TABLE's gradcheck); second order through
// createGraph; the same ops on WebGPU; and typed errors.
import { afterEach, describe, expect, it } from 'vitest';
import {
  autocast, cpuBackend, gradients, gruCell, gruCellDecomposed, gruSequence, gruSequenceDecomposed, lstmCell, lstmCellDecomposed, lstmSequence,
  lstmSequenceDecomposed, matmul, memory, noGrad, rnnSequence, rnnSequenceDecomposed, tensor, tidy, type Tensor,
} from '@webgrad/core';
import { RECURRENT_KERNELS, cpuKernels, fastCpuKernels, type BackendKernels, type TypedArray } from '@webgrad/kernels';
import { drawSample, testDevices } from './helpers.js';

type Kernels = BackendKernels<TypedArray>;
const recurrentNames: readonly string[] = RECURRENT_KERNELS;
const primitivesOnly = Object.fromEntries(Object.entries(cpuKernels).filter(([k]) => !recurrentNames.includes(k))) as Kernels;

/** A kernel set whose recurrent kernels count their calls. */
const calls = new Map<string, number>();
const counting = (base: Kernels): Kernels => Object.fromEntries(Object.entries(base).map(([k, f]) => [k, recurrentNames.includes(k)
  ? (...args: unknown[]) => { calls.set(k, (calls.get(k) ?? 0) + 1); return (f as (...a: unknown[]) => unknown)(...args); }
  : f])) as Kernels;

const original = cpuBackend.kernels;
afterEach(() => { (cpuBackend as { kernels: Kernels }).kernels = original; });
function withKernels<T>(kernels: Kernels, fn: () => T): T {
  (cpuBackend as { kernels: Kernels }).kernels = kernels;
  try { return fn(); } finally { (cpuBackend as { kernels: Kernels }).kernels = original; }
}

interface Case {
  name: string;
  shapes: number[][];
  /** Inputs drawn in float64 (`positive` where marked); the call builds non-contiguous views itself. */
  call: (...xs: Tensor[]) => Tensor;
  uses: string[];
}

/** Every output of a sequence op in one tensor: output, and the final states mixed in. */
function seqLstm(x: Tensor, h0: Tensor, c0: Tensor, w: Tensor, reverse = false): Tensor {
  const { output, h, c } = lstmSequence(x, h0, c0, w, { reverse });
  return output.flatten().add(h.sum().mul(0.3)).add(c.sum().mul(0.5));
}
function seqGru(x: Tensor, h0: Tensor, w: Tensor, b: Tensor | null, reverse = false): Tensor {
  const { output, h } = gruSequence(x, h0, w, b, { reverse });
  return output.flatten().add(h.sum().mul(0.3));
}
function seqRnn(x: Tensor, h0: Tensor, w: Tensor, nonlinearity: 'tanh' | 'relu', reverse = false): Tensor {
  const { output, h } = rnnSequence(x, h0, w, { nonlinearity, reverse });
  return output.flatten().add(h.sum().mul(0.3));
}
const cellPair = ([h, c]: [Tensor, Tensor]) => h.add(c.mul(0.7));

const CASES: Case[] = [
  { name: 'lstmCell B 3, H 5', shapes: [[3, 20], [3, 5]], call: (g, c) => cellPair(lstmCell(g, c)), uses: ['lstmCell', 'lstmCellBackward'] },
  { name: 'lstmCell B 1, H 1', shapes: [[1, 4], [1, 1]], call: (g, c) => cellPair(lstmCell(g, c)), uses: ['lstmCell', 'lstmCellBackward'] },
  { name: 'lstmCell, transposed gates and c', shapes: [[12, 2], [3, 2]], call: (g, c) => cellPair(lstmCell(g.mT, c.mT)), uses: ['lstmCell', 'lstmCellBackward'] },
  { name: 'gruCell B 2, H 3', shapes: [[2, 9], [2, 9], [2, 3]], call: (x, y, h) => gruCell(x, y, h), uses: ['gruCell', 'gruCellBackward'] },
  { name: 'gruCell B 1, H 1', shapes: [[1, 3], [1, 3], [1, 1]], call: (x, y, h) => gruCell(x, y, h), uses: ['gruCell', 'gruCellBackward'] },
  { name: 'gruCell, transposed operands', shapes: [[6, 3], [6, 3], [2, 3]], call: (x, y, h) => gruCell(x.mT, y.mT, h.mT), uses: ['gruCell', 'gruCellBackward'] },
  { name: 'lstmSequence T 4, B 3, H 5', shapes: [[4, 3, 20], [3, 5], [3, 5], [20, 5]], call: (x, h, c, w) => seqLstm(x, h, c, w), uses: ['lstmCell', 'lstmCellBackward'] },
  { name: 'lstmSequence reverse, T 3, B 2, H 3', shapes: [[3, 2, 12], [2, 3], [2, 3], [12, 3]], call: (x, h, c, w) => seqLstm(x, h, c, w, true), uses: ['lstmCell', 'lstmCellBackward'] },
  { name: 'lstmSequence T 1, B 1, H 1', shapes: [[1, 1, 4], [1, 1], [1, 1], [4, 1]], call: (x, h, c, w) => seqLstm(x, h, c, w), uses: ['lstmCell', 'lstmCellBackward'] },
  { name: 'lstmSequence, batch-first xGates and transposed weight and states', shapes: [[3, 5, 8], [2, 3], [2, 3], [2, 8]],
    call: (x, h, c, w) => seqLstm(x.transpose(0, 1), h.mT, c.mT, w.mT), uses: ['lstmCell', 'lstmCellBackward'] },
  { name: 'lstmSequence T 3, B 2, H 8 (H a multiple of 4: the SIMD path in float32)', shapes: [[3, 2, 32], [2, 8], [2, 8], [32, 8]],
    call: (x, h, c, w) => seqLstm(x, h, c, w), uses: ['lstmCell', 'lstmCellBackward'] },
  { name: 'lstmSequence reverse, T 2, B 1, H 4 (SIMD path)', shapes: [[2, 1, 16], [1, 4], [1, 4], [16, 4]],
    call: (x, h, c, w) => seqLstm(x, h, c, w, true), uses: ['lstmCell', 'lstmCellBackward'] },
  { name: 'gruSequence T 3, B 3, H 4, bias (SIMD path)', shapes: [[3, 3, 12], [3, 4], [12, 4], [12]], call: (x, h, w, b) => seqGru(x, h, w, b), uses: ['gruCell', 'gruCellBackward'] },
  { name: 'gruSequence reverse, no bias, T 2, B 2, H 8 (SIMD path)', shapes: [[2, 2, 24], [2, 8], [24, 8]], call: (x, h, w) => seqGru(x, h, w, null, true), uses: ['gruCell', 'gruCellBackward'] },
  { name: 'rnnSequence tanh, T 4, B 3, H 5', shapes: [[4, 3, 5], [3, 5], [5, 5]], call: (x, h, w) => seqRnn(x, h, w, 'tanh'), uses: ['rnnCell', 'rnnCellBackward'] },
  { name: 'rnnSequence relu reverse, T 3, B 2, H 4', shapes: [[3, 2, 4], [2, 4], [4, 4]], call: (x, h, w) => seqRnn(x, h, w, 'relu', true), uses: ['rnnCell', 'rnnCellBackward'] },
  { name: 'rnnSequence T 1, B 1, H 1, batch-first xGates, transposed weight', shapes: [[1, 1, 1], [1, 1], [1, 1]],
    call: (x, h, w) => seqRnn(x.transpose(0, 1), h, w.mT, 'tanh'), uses: ['rnnCell', 'rnnCellBackward'] },
  { name: 'rnnSequence tanh, batch-first xGates, transposed weight', shapes: [[2, 5, 3], [2, 3], [3, 3]],
    call: (x, h, w) => seqRnn(x.transpose(0, 1), h, w.mT, 'tanh'), uses: ['rnnCell', 'rnnCellBackward'] },
  { name: 'gruSequence T 4, B 3, H 5, bias', shapes: [[4, 3, 15], [3, 5], [15, 5], [15]], call: (x, h, w, b) => seqGru(x, h, w, b), uses: ['gruCell', 'gruCellBackward'] },
  { name: 'gruSequence reverse, no bias', shapes: [[5, 2, 9], [2, 3], [9, 3]], call: (x, h, w) => seqGru(x, h, w, null, true), uses: ['gruCell', 'gruCellBackward'] },
  { name: 'gruSequence T 1, B 1, H 1', shapes: [[1, 1, 3], [1, 1], [3, 1], [3]], call: (x, h, w, b) => seqGru(x, h, w, b), uses: ['gruCell', 'gruCellBackward'] },
  { name: 'gruSequence, batch-first xGates, reverse, transposed weight', shapes: [[2, 3, 6], [2, 2], [2, 6], [6]],
    call: (x, h, w, b) => seqGru(x.transpose(0, 1), h, w.mT, b, true), uses: ['gruCell', 'gruCellBackward'] },
];

/** The output and the gradient of Σ w·output for every input, as plain arrays. */
function run(c: Case, kernels: Kernels, seed: number, dtype: 'float64' | 'float32' = 'float64'): number[][] {
  return withKernels(kernels, () => tidy(() => {
    const xs = c.shapes.map((shape, i) => {
      const t = drawSample({ shape, domain: 'unit' }, seed + 31 * i);
      return dtype === 'float32' ? t.float() : t;
    });
    for (const x of xs) x.requiresGrad_(true);
    const y = c.call(...xs);
    const w = drawSample({ shape: [...y.shape] }, seed + 7).to(y.dtype);
    const gs = gradients(y.mul(w).sum(), xs).map((g) => g!);
    const out = [y, ...gs].map((t) => Array.from(t.dataSync(), Number));
    for (const g of gs) g.dispose();
    return out;
  }));
}

function expectAllClose(got: number[][], want: number[][], tol: number): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, j) => {
    const what = j === 0 ? 'output' : `gradient ${j}`;
    expect(got[j]!.length, `${what} size`).toBe(w.length);
    w.forEach((e, n) => expect(Math.abs(got[j]![n]! - e), `${what}[${n}]: ${got[j]![n]} vs ${e}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e))));
  });
}

describe('fused recurrent ops against their decompositions', () => {
  it('the primitive set lacks the recurrent kernels; both cpu sets have them', () => {
    for (const k of RECURRENT_KERNELS) {
      expect((primitivesOnly as unknown as Record<string, unknown>)[k], k).toBeUndefined();
      expect(cpuKernels[k], k).toBeTypeOf('function');
      expect(fastCpuKernels[k], k).toBeTypeOf('function');
    }
  });

  CASES.forEach((c, i) => {
    it(`${c.name}: float64 reference kernels`, () => {
      const before = memory().tensors;
      calls.clear();
      const fused = run(c, counting(cpuKernels), 100 * i + 3);
      for (const k of c.uses) expect(calls.get(k) ?? 0, `ran ${k}`).toBeGreaterThan(0);
      expectAllClose(run(c, primitivesOnly, 100 * i + 3), fused, 1e-12);
      expect(memory().tensors).toBe(before);
    });
    it(`${c.name}: float32 fast kernels`, () => {
      const before = memory().tensors;
      calls.clear();
      const fused = run(c, counting(fastCpuKernels), 100 * i + 5, 'float32');
      for (const k of c.uses) expect(calls.get(k) ?? 0, `ran ${k}`).toBeGreaterThan(0);
      expectAllClose(fused, run(c, primitivesOnly, 100 * i + 5), 5e-6);
      expect(memory().tensors).toBe(before);
    });
  });
});

describe('sequence ops: finite differences in float64', () => {
  const EPS = 1e-6;
  CASES.filter((c) => c.name.includes('Sequence')).forEach((c, i) => {
    it(c.name, () => {
      const xs = c.shapes.map((shape, k) => drawSample({ shape, domain: 'unit' }, 40 * i + k));
      for (const x of xs) x.requiresGrad_(true);
      const w = tidy(() => drawSample({ shape: [...noGrad(() => c.call(...xs)).shape] }, 9));
      const f = () => noGrad(() => tidy(() => c.call(...xs).mul(w).sum().dataSync()[0]!));
      const gs = gradients(tidy(() => c.call(...xs).mul(w).sum()), xs).map((g) => g!);
      xs.forEach((x, k) => {
        const buf = x.storage.buffer as Float64Array;
        const got = gs[k]!.dataSync();
        for (let n = 0; n < x.size; n++) {
          const at = x.offset + n, v = buf[at]!;
          buf[at] = v + EPS; const up = f();
          buf[at] = v - EPS; const down = f();
          buf[at] = v;
          const num = (up - down) / (2 * EPS);
          expect(Math.abs(got[n]! - num), `input ${k}[${n}]: ${got[n]} vs ${num}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(num)));
        }
      });
      for (const t of [...xs, ...gs, w]) t.dispose();
    });
  });
});

describe('second order (createGraph through the fused ops)', () => {
  CASES.filter((c) => !c.name.includes('transposed')).forEach((c, i) => {
    it(c.name, () => {
      // Σ v·∂(Σ w·y)/∂x differentiated again: a Hessian-vector product per input.
      const hvp = (kernels: Kernels) => withKernels(kernels, () => tidy(() => {
        const xs = c.shapes.map((shape, j) => drawSample({ shape, domain: 'unit' }, 60 * i + j));
        for (const x of xs) x.requiresGrad_(true);
        const y = c.call(...xs);
        const w = drawSample({ shape: [...y.shape] }, 3);
        const g1 = gradients(y.mul(w).sum(), xs, { createGraph: true }).map((g) => g!);
        const s = g1.map((g, j) => g.mul(drawSample({ shape: [...g.shape] }, 70 + j)).sum()).reduce((a, b) => a.add(b));
        return gradients(s, xs, { allowUnused: true }).map((g) => (g ? Array.from(g.dataSync(), Number) : []));
      }));
      expectAllClose(hvp(primitivesOnly), hvp(cpuKernels), 1e-10);
    });
  });
});

describe('errors name the op, argument and shapes', () => {
  const t = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), { shape });
  it('lstmCell', () => {
    expect(() => lstmCell(t([2, 7]), t([2, 2]))).toThrow(/lstmCell: expected gates \[2, 8\].*got \[2, 7\]/);
    expect(() => lstmCell(t([2, 8]), t([2]))).toThrow(/lstmCell: expected c \[B, H\]/);
    expect(() => lstmCell(t([2, 8]), tensor(new Int32Array(4), { shape: [2, 2] }))).toThrow(/lstmCell: expected a floating-point c/);
  });
  it('gruCell', () => {
    expect(() => gruCell(t([3, 6]), t([3, 5]), t([3, 2]))).toThrow(/gruCell: expected hGates \[3, 6\].*got \[3, 5\]/);
    expect(() => gruCell(t([3, 6]), t([3, 6]), tensor(new Int32Array(6), { shape: [3, 2] }))).toThrow(/gruCell: expected a floating-point h/);
  });
  it('lstmSequence and gruSequence', () => {
    expect(() => lstmSequence(t([4, 2, 8]), t([3, 2]), t([3, 2]), t([8, 2]))).toThrow(/lstmSequence: expected xGates \[T, 3, 8\]/);
    expect(() => lstmSequence(t([4, 2, 8]), t([2, 2]), t([2, 3]), t([8, 2]))).toThrow(/lstmSequence: expected c0 \[2, 2\]/);
    expect(() => lstmSequence(t([4, 2, 8]), t([2, 2]), t([2, 2]), t([2, 8]))).toThrow(/lstmSequence: expected weightHh \[8, 2\]/);
    expect(() => lstmSequence(t([0, 2, 8]), t([2, 2]), t([2, 2]), t([8, 2]))).toThrow(/lstmSequence: the sequence is empty/);
    expect(() => gruSequence(t([4, 2, 6]), t([2, 2]), t([6, 2]), t([5]))).toThrow(/gruSequence: expected biasHh \[6\]/);
    expect(() => gruSequence(t([4, 2, 6]), t([2, 2]), t([6, 2]), null, { reverse: 1 as unknown as boolean })).toThrow(/gruSequence: reverse/);
    expect(() => rnnSequence(t([4, 2, 3]), t([2, 3]), t([3, 2]))).toThrow(/rnnSequence: expected weightHh \[3, 3\]/);
    expect(() => rnnSequence(t([4, 2, 3]), t([2, 3]), t([3, 3]), { nonlinearity: 'gelu' as 'tanh' })).toThrow(/rnnSequence: nonlinearity/);
  });
});

describe('the exported decompositions', () => {
  const t = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), { shape });
  it('check their arguments as the fused ops do', () => {
    expect(() => lstmCellDecomposed(t([2, 7]), t([2, 2]))).toThrow(/lstmCellDecomposed: expected gates \[2, 8\].*got \[2, 7\]/);
    expect(() => gruCellDecomposed(t([3, 6]), t([3, 5]), t([3, 2]))).toThrow(/gruCellDecomposed: expected hGates \[3, 6\]/);
    expect(() => lstmSequenceDecomposed(t([4, 2, 8]), t([2, 2]), t([2, 3]), t([8, 2]))).toThrow(/lstmSequenceDecomposed: expected c0 \[2, 2\]/);
    expect(() => gruSequenceDecomposed(t([4, 2, 6]), t([2, 2]), t([6, 2]), null, { reverse: 1 as unknown as boolean })).toThrow(/gruSequenceDecomposed: reverse/);
    expect(() => rnnSequenceDecomposed(t([4, 2, 3]), t([2, 3]), t([3, 3]), { nonlinearity: 'gelu' as 'tanh' })).toThrow(/rnnSequenceDecomposed: nonlinearity/);
    expect(() => rnnSequenceDecomposed(t([4, 2, 3]), t([2, 3]), t([3, 3]), { revers: true } as never)).toThrow(/rnnSequenceDecomposed/);
  });
  it('give the same results as the fused ops', () => {
    tidy(() => {
      const d = (shape: number[], seed: number) => drawSample({ shape, domain: 'unit' }, seed);
      const x4 = d([3, 2, 8], 1), x3 = d([3, 2, 6], 2), x1 = d([3, 2, 2], 3), h0 = d([2, 2], 4), c0 = d([2, 2], 5);
      const w4 = d([8, 2], 6), w3 = d([6, 2], 7), w1 = d([2, 2], 8), b3 = d([6], 9);
      const pairs: [Tensor, Tensor][] = [
        [lstmSequenceDecomposed(x4, h0, c0, w4, { reverse: true }).c, lstmSequence(x4, h0, c0, w4, { reverse: true }).c],
        [gruSequenceDecomposed(x3, h0, w3, b3).output, gruSequence(x3, h0, w3, b3).output],
        [rnnSequenceDecomposed(x1, h0, w1, { nonlinearity: 'relu' }).h, rnnSequence(x1, h0, w1, { nonlinearity: 'relu' }).h],
        [lstmCellDecomposed(x4.select(0, 0), c0)[1], lstmCell(x4.select(0, 0), c0)[1]],
        [gruCellDecomposed(x3.select(0, 0), x3.select(0, 1), h0), gruCell(x3.select(0, 0), x3.select(0, 1), h0)],
      ];
      expectAllClose(pairs.map(([a]) => Array.from(a.dataSync())), pairs.map(([, b]) => Array.from(b.dataSync())), 1e-12);
    });
  });
});

describe('without gradients (no activations kept) the outputs are the same', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    it(`lstmSequence and gruSequence, H 8, ${dtype}`, () => {
      tidy(() => {
        const d = (shape: number[], seed: number) => { const t = drawSample({ shape, domain: 'unit' }, seed); return dtype === 'float32' ? t.float() : t; };
        const xl = d([3, 2, 32], 1), xg = d([3, 2, 24], 2), h0 = d([2, 8], 3), c0 = d([2, 8], 4), wl = d([32, 8], 5), wg = d([24, 8], 6), b = d([24], 7);
        const run = () => [lstmSequence(xl, h0, c0, wl).output, lstmSequence(xl, h0, c0, wl, { reverse: true }).c, gruSequence(xg, h0, wg, b).output]
          .map((t) => Array.from(t.dataSync()));
        const inference = noGrad(run);
        for (const t of [xl, xg, wl, wg]) t.requiresGrad_(true);
        expect(run()).toEqual(inference);
      });
    });
  }
});

describe('mixed dtypes promote, as the ops the cells fuse would', () => {
  it('float32 gates with a float64 state compute in float64', () => {
    tidy(() => {
      const g = drawSample({ shape: [2, 8] }, 1), c = drawSample({ shape: [2, 2] }, 2);
      const [h, c2] = lstmCell(g.float(), c);
      const [hWant] = lstmCell(g.float().double(), c);
      expect([h.dtype, c2.dtype]).toEqual(['float64', 'float64']);
      expect(Array.from(h.dataSync())).toEqual(Array.from(hWant.dataSync()));
    });
  });
  it('a float16 projection (autocast) with float32 states and weights runs in float32', () => {
    tidy(() => {
      const x = drawSample({ shape: [3, 2, 5] }, 3).float(), wIh = drawSample({ shape: [16, 5], domain: 'unit' }, 4).float();
      const h0 = drawSample({ shape: [2, 4], domain: 'unit' }, 5).float(), c0 = drawSample({ shape: [2, 4], domain: 'unit' }, 6).float();
      const w = drawSample({ shape: [16, 4], domain: 'unit' }, 7).float();
      const lowered = autocast({ dtype: 'float16' }, () => lstmSequence(matmul(x, wIh.mT), h0, c0, w));
      const plain = lstmSequence(matmul(x, wIh.mT), h0, c0, w);
      expect(lowered.output.dtype).toBe('float32');
      const a = lowered.output.dataSync(), b = plain.output.dataSync();
      for (let i = 0; i < b.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-2);
    });
  });
});

describe.each(testDevices())('sequence ops on %s (float32) against the float64 cpu reference', (device) => {
  CASES.filter((c) => c.name.includes('Sequence')).forEach((c, i) => {
    it(c.name, async () => {
      const want = run(c, cpuKernels, 10 * i + 1);
      const got = tidy(() => {
        const xs = c.shapes.map((shape, k) => drawSample({ shape, domain: 'unit' }, 10 * i + 1 + 31 * k).float().to(device).requiresGrad_(true));
        const y = c.call(...xs);
        const w = drawSample({ shape: [...y.shape] }, 10 * i + 1 + 7).float().to(device);
        const gs = gradients(y.mul(w).sum(), xs).map((g) => g!);
        return [y, ...gs];
      });
      const arrays = await Promise.all(got.map(async (t) => Array.from(await t.data(), Number)));
      for (const t of got) t.dispose();
      expectAllClose(arrays, want, 5e-6);
    });
  });
});
