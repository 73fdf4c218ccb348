// autocast in @webgrad/nn: the losses on core's AUTOCAST_POLICY compute in float32 on 16-bit
// inputs inside a scope, and a tiny GPT trains under autocast float16/bfloat16 with float32
// gradients and a loss close to its float32 loss, on the cpu (16-bit math there is float64
// arithmetic rounded to the dtype) and, where present, the webgpu device.
import { describe, expect, it } from 'vitest';
import { AUTOCAST_POLICY, autocast, cast, hasDevice, manualSeed, tensor, type DeviceName, type Tensor } from '@webgrad/core';
import { GPT, Linear, bceWithLogits, binaryCrossEntropy, klDiv, l1Loss, mseLoss, nllLoss } from '@webgrad/nn';

const pseudo = (n: number, seed: number, lo: number, hi: number) => {
  let s = seed;
  return Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) % 2147483648; return lo + ((hi - lo) * s) / 2147483648; });
};

const LOSSES: Record<string, { inputs: [number, number][]; call: (a: Tensor, b: Tensor) => Tensor }> = {
  nllLoss: { inputs: [[-3, -0.1]], call: (a) => nllLoss(a.reshape([4, 3]), tensor(Int32Array.from([0, 2, 1, 1]), { dtype: 'int32' })) },
  mseLoss: { inputs: [[-1, 1], [-1, 1]], call: (a, b) => mseLoss(a, b) },
  l1Loss: { inputs: [[-1, 1], [-1, 1]], call: (a, b) => l1Loss(a, b) },
  binaryCrossEntropy: { inputs: [[0.05, 0.95], [0, 1]], call: (a, b) => binaryCrossEntropy(a, b) },
  bceWithLogits: { inputs: [[-3, 3], [0, 1]], call: (a, b) => bceWithLogits(a, b) },
  klDiv: { inputs: [[-3, -0.1], [0.05, 1]], call: (a, b) => klDiv(a, b) },
};

describe('autocast: the losses of @webgrad/nn on the policy', () => {
  it('the policy lists exactly these nn losses as float32', () => {
    for (const op of Object.keys(LOSSES)) expect(AUTOCAST_POLICY[op], op).toBe('float32');
  });

  for (const [op, c] of Object.entries(LOSSES)) {
    for (const low of ['float16', 'bfloat16'] as const) {
      it(`${op} computes in float32 inside autocast on ${low} inputs (cpu)`, async () => {
        const xs = c.inputs.map(([lo, hi], i) => cast(tensor(pseudo(12, 7 + i, lo, hi), { dtype: 'float64' }), low));
        const [a, b = a] = xs as [Tensor, Tensor?];
        const outside = c.call(a, b);
        const inside = autocast({ dtype: low }, () => c.call(a, b));
        expect(outside.dtype).toBe(low);
        expect(inside.dtype).toBe('float32');
        const ref = await c.call(cast(a, 'float64'), cast(b, 'float64')).item();
        expect(Math.abs((await inside.item()) - ref)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(ref)));
      });
    }
  }
});

describe('autocast: a tiny GPT', () => {
  const config = { vocabSize: 17, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0 };
  const devices: DeviceName[] = hasDevice('webgpu') ? ['cpu', 'webgpu'] : ['cpu'];
  const batch = (device: DeviceName) => {
    const ids = pseudo(2 * 9, 3, 0, 17).map(Math.floor);
    const x = tensor(Int32Array.from(ids.filter((_, i) => i % 9 !== 8)), { shape: [2, 8], dtype: 'int32', device });
    const y = tensor(Int32Array.from(ids.filter((_, i) => i % 9 !== 0)), { shape: [2, 8], dtype: 'int32', device });
    return { x, y };
  };

  // The forward rounds the operands of every matmul and attention to the low dtype (unit
  // roundoff u = 2^-11 for float16, 2^-8 for bfloat16) and runs the rest in float32. The loss is
  // a mean over 16 positions of log-softmax values, so the roundings average out: measured here
  // 0.011u (float16) and 0.022u (bfloat16) from float32's. The bound is u (4.9e-4, 3.9e-3), far
  // above that yet below what a loss computed in 16 bits can be off by from its last rounding
  // alone (up to 2.8u for a loss of ≈ 2.8).
  for (const device of devices) for (const [low, u] of [['float16', 2 ** -11], ['bfloat16', 2 ** -8]] as const) {
    it(`loss under autocast ${low} is within u of float32's; every parameter gradient is float32 and close (${device})`, async () => {
      manualSeed(11);
      const model = new GPT({ ...config, device });
      const { x, y } = batch(device);
      const ref = model.forward(x, y).loss!;
      ref.backward();
      const refGrads = new Map<string, Float32Array>();
      for (const [name, p] of model.namedParameters()) refGrads.set(name, (await p.grad!.data()) as Float32Array);
      model.zeroGrad();

      const loss = autocast({ dtype: low }, () => model.forward(x, y).loss!);
      expect(loss.dtype).toBe('float32');
      const diff = Math.abs((await loss.item()) - (await ref.item()));
      expect(diff).toBeLessThanOrEqual(u);
      loss.backward();
      let worst = 0;
      for (const [name, p] of model.namedParameters()) {
        expect(p.dtype, name).toBe('float32');
        expect(p.grad!.dtype, name).toBe('float32');
        const g = await p.grad!.data(), r = refGrads.get(name)!;
        let num = 0, den = 0;
        for (let i = 0; i < r.length; i++) { num += (g[i]! - r[i]!) ** 2; den += r[i]! ** 2; }
        worst = Math.max(worst, Math.sqrt(num / Math.max(den, 1e-30)));
      }
      // Gradients pass through the same roundings backwards (16-bit products, one rounding per
      // product): each parameter's norm-wise relative error measured 2.7u (float16) and 3.3u
      // (bfloat16) at most; the bound is 8u.
      expect(worst).toBeLessThanOrEqual(8 * u);
      model.dispose();
    });
  }
});

describe('autocast: Linear keeps the 16-bit dtype with its bias', () => {
  for (const low of ['float16', 'bfloat16'] as const) {
    it(`a biased Linear returns ${low} inside the scope and float32 outside; the bias gradient is float32`, async () => {
      manualSeed(3);
      const lin = new Linear(5, 3);
      const x = tensor(pseudo(10, 7, -1, 1), { shape: [2, 5] });
      const y = autocast({ dtype: low }, () => lin.forward(x));
      expect(y.dtype).toBe(low);
      expect(lin.forward(x).dtype).toBe('float32');
      y.sum().backward();
      expect(lin.bias!.grad!.dtype).toBe('float32');
      expect(Array.from(await lin.bias!.grad!.data())).toEqual([2, 2, 2]);
    });
  }
});
