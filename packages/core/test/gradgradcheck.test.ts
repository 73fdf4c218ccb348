// Second-order gradient checks in float64 for every differentiable op in the op table, in the
// manner of PyTorch's gradgradcheck: the backward pass, recorded with `createGraph`, is itself
// differentiated, and the result is compared with central differences of the first-order gradient.
//
// For a sample y = op(x) and a weight w (the gradient flowing into y), first order gives
// g(x, w) = Jᵀw. Along a random direction v, the second pass differentiates s = g·v and must give
//   ∂s/∂x = H v   ≈ (g(x + εv, w) − g(x − εv, w)) / 2ε   (the Hessian-vector product), and
//   ∂s/∂w = J v   ≈ (y(x + εv) − y(x − εv)) / 2ε        (the backward is linear in w, and stays
//                                                        connected to it: no op may cut the graph).
import { describe, expect, it } from 'vitest';
import {
  OP_TABLE, attentionDecomposed, avgPool2d, crossEntropy, crossEntropyDecomposed, gradients, layerNorm, layerNormDecomposed, maxPool2d, memory, noGrad,
  scaledDotProductAttention, softmax, softmaxDecomposed, tensor, tidy, type Tensor,
} from '@webgrad/core';
import { drawSample, testDevices } from './helpers.js';

const EPS = 1e-6;
const samples = [...OP_TABLE.values()].flatMap((def) => (def.gradcheck ?? []).map((s, i) => ({ op: def.name, s, i })));

function close(a: number[], num: number[], what: string): void {
  expect(a.length).toBe(num.length);
  for (let j = 0; j < num.length; j++) {
    expect(Math.abs(a[j]! - num[j]!), `${what} element ${j}: analytic ${a[j]} vs numeric ${num[j]}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(num[j]!)));
  }
}

describe('gradgradcheck (float64 central differences of the gradient)', () => {
  it('covers every op that has gradient samples', () => {
    expect(samples.length).toBeGreaterThan(80);
    expect(new Set(samples.map((x) => x.op)).size).toBe([...OP_TABLE.values()].filter((d) => d.gradcheck?.length).length);
  });

  for (const { op, s, i } of samples) {
    it(`${op}${s.label ? ` (${s.label})` : ` #${i}`}`, async () => {
      const before = memory().tensors;
      const xs = s.inputs.map((spec, k) => drawSample(spec, 1000 * (i + 1) + 17 * k + op.length));
      const isTarget = s.inputs.map((spec) => !spec.int && !spec.constant);
      const targets = xs.filter((_, k) => isTarget[k]);
      const dirs = targets.map((x, t) => drawSample({ shape: [...x.shape] }, 31 + 7 * t));
      for (const x of targets) x.requiresGrad_(true);

      const yShape = tidy(() => noGrad(() => [...s.call(...xs).shape]));
      const w = drawSample({ shape: yShape }, 7).requiresGrad_(true);

      // Analytic: differentiate the recorded backward.
      const analytic = tidy(() => {
        const y = s.call(...xs);
        const gs = gradients(y.mul(w).sum(), targets, { createGraph: true, allowUnused: true });
        const parts = gs.map((g, t) => (g ? g.mul(dirs[t]!).sum() : null)).filter((p): p is Tensor => p !== null);
        expect(parts.length, 'some input receives a gradient').toBeGreaterThan(0);
        const sv = parts.reduce((a, b) => a.add(b));
        // A gradient that depends on neither x nor w (sign, floor: zero almost everywhere) has no
        // graph; its second derivatives are zero, which the numeric side must then agree with.
        const second = sv.requiresGrad ? gradients(sv, [...targets, w], { allowUnused: true }) : [];
        for (const g of gs) g?.dispose();
        return second;
      });

      // Numeric: move every differentiated input by ±εv together.
      const shift = (sign: number) => targets.forEach((x, t) => {
        const buf = x.storage.buffer as Float64Array, d = dirs[t]!.storage.buffer as Float64Array;
        for (let j = 0; j < x.size; j++) buf[j]! += sign * EPS * d[j]!;
      });
      const firstOrder = (): { g: number[][]; y: number[] } => tidy(() => {
        const y = s.call(...xs);
        const gs = gradients(y.mul(w.detach()).sum(), targets, { allowUnused: true });
        const out = { g: gs.map((g, t) => (g ? Array.from(g.dataSync()) : new Array<number>(targets[t]!.size).fill(0))), y: Array.from(y.dataSync()) };
        for (const g of gs) g?.dispose();
        return out;
      });
      shift(+1); const plus = firstOrder();
      shift(-2); const minus = firstOrder();
      shift(+1);

      for (let t = 0; t < targets.length; t++) {
        const a = analytic[t] ? Array.from(analytic[t]!.dataSync()) : new Array<number>(targets[t]!.size).fill(0);
        close(a, plus.g[t]!.map((p, j) => (p - minus.g[t]![j]!) / (2 * EPS)), `${op}: H·v for input ${t}`);
      }
      const aw = analytic[targets.length] ? Array.from(analytic[targets.length]!.dataSync()) : new Array<number>(w.size).fill(0);
      close(aw, plus.y.map((p, j) => (p - minus.y[j]!) / (2 * EPS)), `${op}: J·v (through the incoming gradient)`);

      for (const t of [...xs, ...dirs, w, ...analytic]) t?.dispose();
      expect(memory().tensors, 'no tensor outlives the check').toBe(before);
    });
  }
});

describe('second order on every device', () => {
  // A gradient penalty through every fused kernel: ‖∂L/∂x‖² differentiated once more. Each device's
  // result must equal the same penalty built from the decompositions, in float64 on the cpu.
  const penalty = (x: Tensor, w: Tensor, t: Tensor, fused: boolean): Tensor => {
    const h = fused ? layerNorm(x, [8], w) : layerNormDecomposed(x, [8], w);                  // (2, 3, 8)
    const hv = h.reshape([2, 1, 3, 8]);
    const a = (fused ? scaledDotProductAttention : attentionDecomposed)(hv, hv, hv, { isCausal: true }); // (2, 1, 3, 8)
    const windows = a.reshape([2, 1, 3, 4, 2]);
    const p = fused ? maxPool2d(a, [1, 2]).add(avgPool2d(a, [1, 2])) : windows.max(-1).add(windows.mean(-1)); // (2, 1, 3, 4)
    const logits = (fused ? softmax : softmaxDecomposed)(p.reshape([6, 4]), -1).mul(3).add(h.reshape([6, 8]).narrow(1, 0, 4));
    const loss = (fused ? crossEntropy : crossEntropyDecomposed)(logits, t);
    const [gx] = gradients(loss, [x], { createGraph: true });
    return gx!.square().sum();
  };
  const run = async (device: 'cpu' | 'webgpu', dtype: 'float32' | 'float64', fused = true): Promise<number[][]> => {
    const grads = tidy(() => {
      const x = drawSample({ shape: [2, 3, 8] }, 5).to(dtype).to(device).requiresGrad_(true);
      const w = drawSample({ shape: [8] }, 6).to(dtype).to(device).requiresGrad_(true);
      const t = tensor([0, 3, 1, 2, 2, 1], { dtype: 'int32', device });
      return gradients(penalty(x, w, t, fused), [x, w]) as Tensor[];
    });
    const out = await Promise.all(grads.map(async (g) => Array.from(await g.data(), Number)));
    for (const g of grads) g.dispose();
    return out;
  };
  for (const device of testDevices()) {
    it(`${device}: a gradient penalty through layerNorm, attention, pooling, softmax and crossEntropy`, async () => {
      const want = await run('cpu', 'float64', false);
      const got = await run(device, 'float32');
      for (let k = 0; k < 2; k++) {
        for (let j = 0; j < want[k]!.length; j++) {
          expect(Math.abs(got[k]![j]! - want[k]![j]!), `${device} ${k ? 'dw' : 'dx'}[${j}]`).toBeLessThanOrEqual(2e-4 * Math.max(1, Math.abs(want[k]![j]!)));
        }
      }
      expect(want[0]!.some((v) => Math.abs(v) > 1e-3), 'the penalty has a non-trivial gradient').toBe(true);
    });
  }
});
