// autocast: every entry of AUTOCAST_POLICY computes in the dtype the policy names inside a scope
// (checked on the output dtype and against float64 math on the same input values) and is
// unchanged outside one; scopes nest, `enabled: false` turns autocast off, async scopes hold
// until their promise settles, backward runs without autocast, and float32 leaves get float32
// gradients. The loss functions of @webgrad/nn on the policy are tested in packages/nn.
// The policy entries run on the cpu and, where present, the webgpu device.
import { describe, expect, it } from 'vitest';
import {
  AUTOCAST_POLICY, ValueError, autocast, autocastDType, cast, conv2d, crossEntropy, exp, expm1, isAutocastEnabled, layerNorm, log, log1p,
  logSoftmax, logsumexp, matmul, mean, packedSelfAttention, pow, prod, reciprocal, rsqrt, scaledDotProductAttention, softmax, softplus,
  std, sum, tensor, variance, type DType, type Tensor,
} from '@webgrad/core';
import { expectClose, randomArray } from './helpers.js';

type Low = 'float16' | 'bfloat16';
const LOWS: readonly Low[] = ['float16', 'bfloat16'];
/** Unit roundoff of each dtype: a correctly rounded result is within this relative error. */
const ROUNDOFF: Record<string, number> = { float16: 2 ** -11, bfloat16: 2 ** -8, float32: 2 ** -24 };

/** Policy entries whose functions live in @webgrad/nn (packages/nn/test/autocast_losses.test.ts). */
const NN_ENTRIES = ['nllLoss', 'mseLoss', 'l1Loss', 'binaryCrossEntropy', 'bceWithLogits', 'klDiv'];

const targets = () => tensor(Int32Array.from([0, 2, 1, 4, 3, 0]), { dtype: 'int32' });

interface Case {
  /** Input shapes (and a value range) of the float inputs. */
  inputs: { shape: number[]; lo?: number; hi?: number }[];
  call: (...xs: Tensor[]) => Tensor;
  /** Relative tolerance of the in-scope result against float64 math on the same (rounded) inputs, in units of the computing dtype's roundoff. */
  ulps?: number;
}

const CASES: Record<string, Case> = {
  matmul: { inputs: [{ shape: [3, 8] }, { shape: [8, 5] }], call: (a, b) => matmul(a, b) },
  scaledDotProductAttention: {
    inputs: [{ shape: [1, 2, 4, 8] }, { shape: [1, 2, 4, 8] }, { shape: [1, 2, 4, 8] }],
    call: (q, k, v) => scaledDotProductAttention(q, k, v, { isCausal: true }), ulps: 4,
  },
  packedSelfAttention: { inputs: [{ shape: [2, 4, 24] }], call: (qkv) => packedSelfAttention(qkv, 2, { isCausal: true }), ulps: 4 },
  conv2d: { inputs: [{ shape: [1, 2, 5, 5] }, { shape: [3, 2, 3, 3] }, { shape: [3] }], call: (x, w, b) => conv2d(x, w, b, { padding: 1 }), ulps: 2 }, // the product and the bias add each round

  sum: { inputs: [{ shape: [4, 7] }], call: (x) => sum(x, 1) },
  prod: { inputs: [{ shape: [4, 5], lo: 0.5, hi: 1.5 }], call: (x) => prod(x, 1) },
  mean: { inputs: [{ shape: [4, 7] }], call: (x) => mean(x, 0) },
  var: { inputs: [{ shape: [4, 7] }], call: (x) => variance(x, 1) },
  std: { inputs: [{ shape: [4, 7] }], call: (x) => std(x, 1) },
  logsumexp: { inputs: [{ shape: [4, 7], lo: -4, hi: 4 }], call: (x) => logsumexp(x, 1) },
  softmax: { inputs: [{ shape: [4, 7], lo: -4, hi: 4 }], call: (x) => softmax(x, -1) },
  logSoftmax: { inputs: [{ shape: [4, 7], lo: -4, hi: 4 }], call: (x) => logSoftmax(x, -1) },
  layerNorm: { inputs: [{ shape: [3, 6] }, { shape: [6] }, { shape: [6] }], call: (x, w, b) => layerNorm(x, [6], w, b), ulps: 16 },
  exp: { inputs: [{ shape: [9], lo: -3, hi: 3 }], call: (x) => exp(x) },
  expm1: { inputs: [{ shape: [9], lo: -3, hi: 3 }], call: (x) => expm1(x) },
  log: { inputs: [{ shape: [9], lo: 0.1, hi: 4 }], call: (x) => log(x) },
  log1p: { inputs: [{ shape: [9], lo: -0.5, hi: 4 }], call: (x) => log1p(x) },
  pow: { inputs: [{ shape: [9], lo: 0.5, hi: 3 }, { shape: [9], lo: -2, hi: 2 }], call: (a, b) => pow(a, b) },
  rsqrt: { inputs: [{ shape: [9], lo: 0.1, hi: 4 }], call: (x) => rsqrt(x) },
  reciprocal: { inputs: [{ shape: [9], lo: 0.5, hi: 4 }], call: (x) => reciprocal(x) },
  softplus: { inputs: [{ shape: [9], lo: -4, hi: 4 }], call: (x) => softplus(x) },
  crossEntropy: { inputs: [{ shape: [6, 5], lo: -3, hi: 3 }], call: (x) => crossEntropy(x, targets().to(x.device)), ulps: 16 },
};

/** Inputs of `c` in `dtype`, drawn once in float64 and rounded to `round` first (so every dtype holds the same values). */
function inputsOf(c: Case, round: DType, dtype: DType, seed = 3): Tensor[] {
  return c.inputs.map((s, i) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const x = tensor(randomArray(n, seed + i, s.lo ?? -1, s.hi ?? 1), { shape: s.shape, dtype: 'float64' });
    return cast(cast(x, round), dtype);
  });
}

/** The float64 result of `c` on the same values as `inputs`. */
function reference(c: Case, inputs: Tensor[]): Tensor {
  return c.call(...inputs.map((x) => cast(x, 'float64')));
}

describe('autocast policy: one test per entry', () => {
  it('every policy entry is tested here or in packages/nn', () => {
    expect(Object.keys(AUTOCAST_POLICY).sort()).toEqual([...Object.keys(CASES), ...NN_ENTRIES].sort());
  });

  for (const [op, c] of Object.entries(CASES)) {
    const rule = AUTOCAST_POLICY[op];
    if (rule === 'lower') {
      for (const low of LOWS) {
        it(`${op} computes in ${low} inside autocast, float32 outside (cpu)`, async () => {
          const xs = inputsOf(c, 'float32', 'float32');
          expect(c.call(...xs).dtype).toBe('float32');
          const out = autocast({ dtype: low }, () => c.call(...xs));
          expect(out.dtype).toBe(low);
          // The kernels read the rounded inputs and accumulate in float64 on the cpu: the result is
          // float64 math on the low-precision inputs, rounded once (a few times for attention).
          const ref = reference(c, xs.map((x) => cast(x, low)));
          await expectClose(cast(out, 'float64'), await ref.data(), (c.ulps ?? 1) * ROUNDOFF[low]!);
          // ...and not the float32 result: the inputs really were rounded (at least one element differs).
          const f32 = await c.call(...xs).data();
          const got = await out.data();
          expect(Array.from(got).some((v, i) => v !== f32[i])).toBe(true);
        });
      }
    } else {
      for (const low of LOWS) {
        it(`${op} computes in float32 inside autocast on ${low} inputs (cpu)`, async () => {
          const xs = inputsOf(c, low, low);
          const outside = c.call(...xs);
          const out = autocast({ dtype: low }, () => c.call(...xs));
          expect(out.dtype).toBe('float32');
          // Outside a scope the op keeps its own rule: a 16-bit result (crossEntropy always computes in float32).
          expect(outside.dtype).toBe(op === 'crossEntropy' ? 'float32' : low);
          await expectClose(out, await reference(c, xs).data(), (c.ulps ?? 8) * ROUNDOFF.float32!);
          // float32 inputs are untouched by the scope.
          const f32 = inputsOf(c, low, 'float32');
          expect(autocast({ dtype: low }, () => c.call(...f32)).dtype).toBe('float32');
        });
      }
    }
  }
});

describe('autocast scopes', () => {
  const a = () => tensor(randomArray(12, 1), { shape: [3, 4] });
  const b = () => tensor(randomArray(8, 2), { shape: [4, 2] });

  it('nested scopes: the innermost wins, enabled: false turns it off, each exit restores the outer state', () => {
    const x = a(), y = b();
    expect(autocastDType()).toBe(null);
    autocast({ dtype: 'float16' }, () => {
      expect(matmul(x, y).dtype).toBe('float16');
      autocast({ dtype: 'bfloat16' }, () => {
        expect(autocastDType()).toBe('bfloat16');
        expect(matmul(x, y).dtype).toBe('bfloat16');
        autocast({ enabled: false }, () => {
          expect(isAutocastEnabled()).toBe(false);
          expect(matmul(x, y).dtype).toBe('float32');
        });
        expect(matmul(x, y).dtype).toBe('bfloat16');
      });
      expect(matmul(x, y).dtype).toBe('float16');
    });
    expect(matmul(x, y).dtype).toBe('float32');
    expect(autocast({ dtype: 'float16', enabled: false }, () => matmul(x, y).dtype)).toBe('float32');
  });

  it('the default dtype is float16, and the scope returns what fn returns', () => {
    const r = autocast({}, () => ({ d: autocastDType(), m: matmul(a(), b()).dtype }));
    expect(r).toEqual({ d: 'float16', m: 'float16' });
  });

  it('an async fn keeps the scope until its promise settles; a throw restores the state', async () => {
    const x = a(), y = b();
    const p = autocast({ dtype: 'bfloat16' }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return matmul(x, y).dtype;
    });
    expect(await p).toBe('bfloat16');
    expect(autocastDType()).toBe(null);
    expect(() => autocast({ dtype: 'float16' }, () => { throw new RangeError('boom'); })).toThrow(RangeError);
    expect(autocastDType()).toBe(null);
    await expect(autocast({ dtype: 'float16' }, async () => { throw new RangeError('later'); })).rejects.toThrow('later');
    expect(autocastDType()).toBe(null);
  });

  it('float64 inputs are never cast; non-float inputs pass through', () => {
    const x = cast(a(), 'float64'), y = cast(b(), 'float64');
    autocast({ dtype: 'float16' }, () => {
      expect(matmul(x, y).dtype).toBe('float64');
      expect(softmax(cast(x, 'float16')).dtype).toBe('float32');
      expect(sum(tensor(Int32Array.from([1, 2, 3]), { dtype: 'int32' })).dtype).toBe('int32');
    });
  });

  it('ops off the policy keep their promotion rules inside a scope', () => {
    autocast({ dtype: 'float16' }, () => {
      const h = matmul(a(), b());
      expect(h.relu().dtype).toBe('float16');
      expect(h.add(1).dtype).toBe('float16');
      expect(h.add(tensor([1.5, 2], { dtype: 'float32' })).dtype).toBe('float32'); // float16 + float32 promotes
    });
  });

  it('bad options are typed errors naming autocast and the argument', () => {
    expect(() => autocast({ dtype: 'float32' as never }, () => 1)).toThrow(/autocast.*dtype/);
    expect(() => autocast({ enabled: 1 as never }, () => 1)).toThrow(/autocast.*enabled/);
    expect(() => autocast({ device: 'cpu' } as never, () => 1)).toThrow(/autocast/);
    expect(() => autocast({}, 3 as never)).toThrow(/autocast.*fn/);
    expect(() => autocast({ dtype: 'int32' as never }, () => 1)).toThrow(ValueError);
  });
});

describe('autocast gradients', () => {
  it('float32 leaves used by lower ops get float32 gradients, equal to the gradients of the same 16-bit graph', async () => {
    for (const low of LOWS) {
      const x = tensor(randomArray(12, 5), { shape: [3, 4], requiresGrad: true });
      const w = tensor(randomArray(20, 6), { shape: [5, 4], requiresGrad: true });
      const loss = autocast({ dtype: low }, () => crossEntropy(matmul(x, w.mT), tensor(Int32Array.from([0, 3, 4]), { dtype: 'int32' })));
      expect(loss.dtype).toBe('float32');
      loss.backward();
      expect(x.grad!.dtype).toBe('float32');
      expect(w.grad!.dtype).toBe('float32');
      // The same graph written with explicit casts, outside any scope.
      const x2 = tensor(await x.data(), { shape: [3, 4], requiresGrad: true });
      const w2 = tensor(await w.data(), { shape: [5, 4], requiresGrad: true });
      const l2 = crossEntropy(cast(matmul(cast(x2, low), cast(w2, low).mT), 'float32'), tensor(Int32Array.from([0, 3, 4]), { dtype: 'int32' }));
      l2.backward();
      await expectClose(w.grad!, await w2.grad!.data(), 0);
      await expectClose(x.grad!, await x2.grad!.data(), 0);
      // ...and close to the float32 gradients, to the low dtype's precision.
      const x3 = tensor(await x.data(), { shape: [3, 4], requiresGrad: true });
      const w3 = tensor(await w.data(), { shape: [5, 4], requiresGrad: true });
      crossEntropy(matmul(x3, w3.mT), tensor(Int32Array.from([0, 3, 4]), { dtype: 'int32' })).backward();
      await expectClose(w.grad!, await w3.grad!.data(), 8 * ROUNDOFF[low]!);
    }
  });

  it('backward inside a scope runs without autocast: gradients keep their forward dtypes', () => {
    const x = tensor(randomArray(12, 7), { shape: [3, 4], requiresGrad: true });
    const w = tensor(randomArray(8, 8), { shape: [4, 2], requiresGrad: true });
    autocast({ dtype: 'bfloat16' }, () => {
      const y = matmul(x, w).sum(); // float32 (sum is on the float32 list)
      y.backward();
      expect(autocastDType()).toBe('bfloat16');
    });
    expect(x.grad!.dtype).toBe('float32');
    expect(w.grad!.dtype).toBe('float32');
  });
});

describe('autocast on webgpu', async () => {
  const { hasDevice } = await import('@webgrad/core');
  // The cpu-only run (WEBGRAD_TEST_WEBGPU=0) has no webgpu device; the full run requires one.
  const devices = hasDevice('webgpu') ? ['webgpu' as const] : [];
  for (const device of devices) {
    for (const [op, c] of Object.entries(CASES)) {
      for (const low of LOWS) {
        it(`${op}: output dtypes inside and outside autocast ${low}, and the math (${device})`, async () => {
          const lower = AUTOCAST_POLICY[op] === 'lower';
          // lower ops get float32 inputs, float32 ops 16-bit ones; both hold the same rounded values.
          const xs = inputsOf(c, low, lower ? 'float32' : low).map((x) => x.to(device));
          const outside = c.call(...xs);
          expect(outside.dtype).toBe(lower || op === 'crossEntropy' ? 'float32' : low);
          const out = autocast({ dtype: low }, () => c.call(...xs));
          expect(out.dtype).toBe(lower ? low : 'float32');
          const ref = await reference(c, inputsOf(c, low, 'float64')).data();
          // WebGPU computes float16 in f16 arithmetic (bfloat16 in f32): allow a few roundings of
          // the computing dtype per result, far below the error of a wrong-dtype computation.
          const u = lower ? ROUNDOFF[low]! : ROUNDOFF.float32!;
          await expectClose(await out.toAsync('cpu'), ref, (lower ? 8 : 64) * u);
        });
      }
    }
  }
});
