// Fused kernels are optional: a backend may provide only the primitives, and core then runs each
// fused op (softmax, layerNorm, crossEntropy, attention, the scalar form of binary ops, the AdamW
// step) through its decomposition. Here the CPU reference kernels with every fused kernel removed
// stand for such a backend, and every fused op — forward, and backward for each differentiable
// input — is checked against the complete reference kernels on awkward shapes (rows of one, odd
// sizes, non-last dims, broadcast masks, ignored targets). The complete run counts its fused
// kernel calls, so a case cannot pass by running decomposed on both sides.
import { afterEach, describe, expect, it } from 'vitest';
import {
  adamwStep_, adamwStepDecomposed_, cpuBackend, crossEntropy, gradients, layerNorm, logSoftmax, memory, noGrad, packedSelfAttention,
  pow, scaledDotProductAttention, softmax, sub, tensor, tidy, where, type Tensor,
} from '@webgrad/core';
import { FUSED_KERNELS, cpuKernels, type BackendKernels, type KernelSet, type TypedArray } from '@webgrad/kernels';
import { drawSample } from './helpers.js';

type Kernels = BackendKernels<TypedArray>;
const fusedNames: readonly string[] = FUSED_KERNELS;

/** The reference kernels without any fused kernel: what a new backend starts from. */
const primitivesOnly = Object.fromEntries(Object.entries(cpuKernels).filter(([k]) => !fusedNames.includes(k))) as Kernels;

/** The complete reference kernels, counting each fused kernel's calls. */
const calls = new Map<string, number>();
const counted = Object.fromEntries(Object.entries(cpuKernels).map(([k, f]) => [k, fusedNames.includes(k)
  ? (...args: unknown[]) => { calls.set(k, (calls.get(k) ?? 0) + 1); return (f as (...a: unknown[]) => unknown)(...args); }
  : f])) as unknown as KernelSet<TypedArray>;

const original = cpuBackend.kernels;
afterEach(() => { (cpuBackend as { kernels: Kernels }).kernels = original; });

function withKernels<T>(kernels: Kernels, fn: () => T): T {
  (cpuBackend as { kernels: Kernels }).kernels = kernels;
  try { return fn(); } finally { (cpuBackend as { kernels: Kernels }).kernels = original; }
}

interface Case {
  name: string;
  /** The op's call; inputs are float64 unless `int` says otherwise. */
  inputs: { shape: number[]; int?: number; domain?: 'positive'; constant?: boolean }[];
  call: (...xs: Tensor[]) => Tensor;
  /** Fused kernels the complete run must have used. */
  uses: string[];
  dtype?: 'float32';
}

/** Output and the gradient of Σ w·output for every differentiable input, as plain arrays. */
function run(c: Case, kernels: Kernels, seed: number): number[][] {
  return withKernels(kernels, () => tidy(() => {
    const xs = c.inputs.map((s, i) => {
      const t = drawSample(s.int ? { shape: s.shape, int: { high: s.int } } : { shape: s.shape, domain: s.domain }, seed + 31 * i);
      return c.dtype && !s.int ? t.float() : t;
    });
    const wanted = xs.filter((_, i) => !c.inputs[i]!.int && !c.inputs[i]!.constant);
    for (const x of wanted) x.requiresGrad_(true);
    const y = c.call(...xs);
    const w = drawSample({ shape: [...y.shape] }, seed + 7).to(y.dtype);
    const gs = gradients(y.mul(w).sum(), wanted, { allowUnused: true }); // owned by the caller
    const out = [y, ...gs].map((t) => (t ? Array.from(t.dataSync(), Number) : []));
    for (const g of gs) g?.dispose();
    return out;
  }));
}

const ce = (opts: Parameters<typeof crossEntropy>[2]) => (x: Tensor, t: Tensor) => crossEntropy(x, t, opts);

const CASES: Case[] = [
  { name: 'softmax, last dim of 7', inputs: [{ shape: [3, 7] }], call: (x) => softmax(x, -1), uses: ['softmax', 'softmaxBackward'] },
  { name: 'softmax over dim 0 of a [5, 1, 3]', inputs: [{ shape: [5, 1, 3] }], call: (x) => softmax(x, 0), uses: ['softmax', 'softmaxBackward'] },
  { name: 'softmax, rows of one', inputs: [{ shape: [4, 1] }], call: (x) => softmax(x, -1), uses: ['softmax', 'softmaxBackward'] },
  { name: 'logSoftmax, dim 1 of [2, 5, 3]', inputs: [{ shape: [2, 5, 3] }], call: (x) => logSoftmax(x, 1), uses: ['softmax', 'softmaxBackward'] },
  { name: 'logSoftmax float32', inputs: [{ shape: [3, 9] }], call: (x) => logSoftmax(x), uses: ['softmax', 'softmaxBackward'], dtype: 'float32' },
  { name: 'layerNorm affine, [2, 3, 5] over [5]', inputs: [{ shape: [2, 3, 5] }, { shape: [5] }, { shape: [5] }], call: (x, w, b) => layerNorm(x, [5], w, b), uses: ['layerNorm', 'layerNormBackward'] },
  { name: 'layerNorm over two dims, no affine', inputs: [{ shape: [3, 2, 7] }], call: (x) => layerNorm(x, [2, 7]), uses: ['layerNorm', 'layerNormBackward'] },
  { name: 'layerNorm weight only, D = 1', inputs: [{ shape: [4, 1] }, { shape: [1] }], call: (x, w) => layerNorm(x, [1], w, null, 1e-3), uses: ['layerNorm', 'layerNormBackward'] },
  { name: 'layerNorm bias only, float32', inputs: [{ shape: [5, 6] }, { shape: [6] }], call: (x, b) => layerNorm(x, [6], null, b), uses: ['layerNorm', 'layerNormBackward'], dtype: 'float32' },
  { name: 'crossEntropy mean', inputs: [{ shape: [5, 7] }, { shape: [5], int: 7 }], call: ce({}), uses: ['crossEntropy', 'crossEntropyBackward'] },
  { name: 'crossEntropy weighted, smoothed, sum', inputs: [{ shape: [6, 3] }, { shape: [6], int: 3 }, { shape: [3], domain: 'positive', constant: true }],
    call: (x, t, w) => crossEntropy(x, t, { weight: w, labelSmoothing: 0.2, reduction: 'sum' }), uses: ['crossEntropy', 'crossEntropyBackward'] },
  { name: 'crossEntropy (N, C, d) with an ignored target, none', inputs: [{ shape: [2, 4, 3] }, { shape: [2, 3], int: 4 }],
    call: (x, t) => crossEntropy(x, where(t.ne(1), t, -100), { reduction: 'none' }), uses: ['crossEntropy', 'crossEntropyBackward'] },
  { name: 'crossEntropy one class', inputs: [{ shape: [3, 1] }, { shape: [3], int: 1 }], call: ce({}), uses: ['crossEntropy', 'crossEntropyBackward'] },
  { name: 'attention, Tq 3 ≠ Tk 5, Dv ≠ D', inputs: [{ shape: [2, 1, 3, 4] }, { shape: [2, 1, 5, 4] }, { shape: [2, 1, 5, 2] }],
    call: (q, k, v) => scaledDotProductAttention(q, k, v), uses: ['attention', 'attentionBackward'] },
  { name: 'attention causal, Tq 2 < Tk 4, scale', inputs: [{ shape: [1, 3, 2, 3] }, { shape: [1, 3, 4, 3] }, { shape: [1, 3, 4, 3] }],
    call: (q, k, v) => scaledDotProductAttention(q, k, v, { isCausal: true, scale: 0.7 }), uses: ['attention', 'attentionBackward'] },
  { name: 'attention, broadcast additive mask', inputs: [{ shape: [2, 2, 3, 4] }, { shape: [2, 2, 3, 4] }, { shape: [2, 2, 3, 4] }, { shape: [1, 1, 3, 3], constant: true }],
    call: (q, k, v, m) => scaledDotProductAttention(q, k, v, { mask: m }), uses: ['attention', 'attentionBackward'] },
  { name: 'attention, bool mask', inputs: [{ shape: [1, 2, 3, 2] }, { shape: [1, 2, 4, 2] }, { shape: [1, 2, 4, 2] }, { shape: [3, 4], int: 3 }],
    // Random keys masked out; key 0 always visible, so no row is all −∞.
    call: (q, k, v, m) => scaledDotProductAttention(q, k, v, { mask: m.ne(0).logicalOr(tensor([true, false, false, false])) }), uses: ['attention', 'attentionBackward'] },
  { name: 'packedSelfAttention causal, 3 heads', inputs: [{ shape: [2, 5, 18] }], call: (x) => packedSelfAttention(x, 3, { isCausal: true }), uses: ['attention', 'attentionBackward'] },
  { name: 'packedSelfAttention masked, float32', inputs: [{ shape: [1, 4, 12] }, { shape: [1, 1, 4, 4], constant: true }],
    call: (x, m) => packedSelfAttention(x, 2, { mask: m }), uses: ['attention', 'attentionBackward'], dtype: 'float32' },
  { name: 'scalar ∘ tensor (pow, sub)', inputs: [{ shape: [3, 5] }], call: (x) => sub(1.5, pow(1.7, x)), uses: ['binaryScalar'] },
  { name: 'tensor ∘ scalar (div, mul, add)', inputs: [{ shape: [7] }], call: (x) => x.div(3).mul(-2).add(0.5), uses: ['binaryScalar'] },
];

describe('fused ops on a backend with only the primitive kernels', () => {
  it('the primitive set lacks every fused kernel, and the complete set has them all', () => {
    for (const k of FUSED_KERNELS) {
      expect(primitivesOnly[k], k).toBeUndefined();
      expect(cpuKernels[k], k).toBeTypeOf('function');
    }
  });

  CASES.forEach((c, i) => {
    it(c.name, () => {
      const before = memory().tensors;
      calls.clear();
      const full = run(c, counted, 100 * i + 3);
      for (const k of c.uses) expect(calls.get(k) ?? 0, `the complete kernels ran ${k}`).toBeGreaterThan(0);
      const decomposed = run(c, primitivesOnly, 100 * i + 3);
      const tol = c.dtype === 'float32' ? 2e-5 : 1e-12;
      expect(decomposed.length).toBe(full.length);
      full.forEach((want, j) => {
        const got = decomposed[j]!;
        expect(got.length, `${j === 0 ? 'output' : `gradient ${j}`} size`).toBe(want.length);
        want.forEach((e, n) => {
          if (!Number.isFinite(e)) { expect(got[n], `${j === 0 ? 'output' : `gradient ${j}`}[${n}]`).toBe(e); return; }
          expect(Math.abs(got[n]! - e), `${j === 0 ? 'output' : `gradient ${j}`}[${n}]: ${got[n]} vs ${e}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e)));
        });
      });
      expect(memory().tensors).toBe(before);
    });
  });

  it('second order: gradients of gradients agree too (createGraph through each fused op)', () => {
    const second: [string, Case['inputs'], (...xs: Tensor[]) => Tensor][] = [
      ['softmax', [{ shape: [3, 4] }], (x) => softmax(x, -1)],
      ['layerNorm', [{ shape: [3, 5] }, { shape: [5] }, { shape: [5] }], (x, w, b) => layerNorm(x, [5], w, b)],
      ['crossEntropy', [{ shape: [4, 3] }, { shape: [4], int: 3 }], (x, t) => crossEntropy(x, t, { labelSmoothing: 0.1 })],
      ['attention', [{ shape: [1, 2, 3, 2] }, { shape: [1, 2, 4, 2] }, { shape: [1, 2, 4, 2] }], (q, k, v) => scaledDotProductAttention(q, k, v, { isCausal: true })],
      ['packedSelfAttention', [{ shape: [1, 3, 12] }], (x) => packedSelfAttention(x, 2, { isCausal: true })],
    ];
    second.forEach(([name, inputs, call], i) => {
      // Σ v·∂(Σ w·y)/∂x, differentiated again: a Hessian-vector product per input.
      const hvp = (kernels: Kernels) => withKernels(kernels, () => tidy(() => {
        const xs = inputs.map((s, j) => drawSample(s.int ? { shape: s.shape, int: { high: s.int } } : { shape: s.shape }, 50 * i + j));
        const wanted = xs.filter((_, j) => !inputs[j]!.int);
        for (const x of wanted) x.requiresGrad_(true);
        const y = call(...xs);
        const w = drawSample({ shape: [...y.shape] }, 9);
        const gs = gradients(y.mul(w).sum(), wanted, { createGraph: true });
        const dot = gs.map((g, j) => g!.mul(drawSample({ shape: [...g!.shape] }, 70 + j)).sum()).reduce((a, b) => a.add(b));
        const hs = gradients(dot, wanted, { allowUnused: true });
        const out = hs.map((h) => (h ? Array.from(h.dataSync(), Number) : []));
        for (const g of [...gs, ...hs]) g?.dispose();
        return out;
      }));
      calls.clear();
      const full = hvp(counted);
      expect(calls.size, `${name}: the complete kernels ran a fused forward`).toBeGreaterThan(0);
      const decomposed = hvp(primitivesOnly);
      full.forEach((want, j) => want.forEach((e, n) =>
        expect(Math.abs(decomposed[j]![n]! - e), `${name} H·v ${j}[${n}]`).toBeLessThanOrEqual(1e-11 * Math.max(1, Math.abs(e)))));
    });
  });

  it('adamwStep_ without the fused kernel equals the kernel (float32 and float64)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const make = () => {
        const t = (s: number, lo = -1) => drawSample({ shape: [3, 5], domain: lo > 0 ? 'positive' : undefined }, s).to(dtype);
        return { p: t(1), m: t(2), v: t(3, 1), g: t(4) };
      };
      const a = make(), b = make();
      const opts = { lr: 0.05, beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1, step: 3 };
      calls.clear();
      noGrad(() => withKernels(counted, () => adamwStep_(a.p, a.g, a.m, a.v, opts)));
      expect(calls.get('adamw')).toBe(1);
      noGrad(() => withKernels(primitivesOnly, () => adamwStep_(b.p, b.g, b.m, b.v, opts)));
      const tol = dtype === 'float32' ? 1e-6 : 1e-14;
      for (const k of ['p', 'm', 'v'] as const) {
        const [x, y] = [a[k].dataSync(), b[k].dataSync()];
        x.forEach((e, n) => expect(Math.abs(Number(y[n]) - Number(e)), `${dtype} ${k}[${n}]`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(Number(e)))));
      }
      // The decomposition is also public, as the reference.
      const c = make();
      noGrad(() => adamwStepDecomposed_(c.p, c.g, c.m, c.v, opts));
      expect(Array.from(c.p.dataSync())).toEqual(Array.from(b.p.dataSync()));
      for (const s of [a, b, c]) for (const t of Object.values(s)) t.dispose();
    }
  });
});
