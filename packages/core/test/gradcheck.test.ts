// Finite-difference gradient checks in float64 for every differentiable op in the op table: the
// samples come from each op's own definition (OP_TABLE), so a new op is checked by declaring it.
import { describe, expect, it } from 'vitest';
import { OP_TABLE, gradients, noGrad, type Tensor } from '@webgrad/core';
import { drawSample } from './helpers.js';

const EPS = 1e-6;

const samples = [...OP_TABLE.values()].flatMap((def) => (def.gradcheck ?? []).map((s, i) => ({ op: def.name, s, i })));

describe('gradcheck (float64 central differences)', () => {
  it('covers the differentiable ops', () => {
    const covered = new Set(samples.map((x) => x.op));
    for (const name of ['add', 'mul', 'div', 'pow', 'exp', 'log', 'tanh', 'gelu', 'matmul', 'reduce', 'softmax', 'crossEntropy', 'layerNorm',
      'scaledDotProductAttention', 'packedSelfAttention', 'gather', 'indexSelect', 'cat', 'pad', 'slice', 'permute', 'expand', 'im2col', 'pool2d', 'where']) {
      expect(covered.has(name), `${name} has gradcheck samples`).toBe(true);
    }
  });

  for (const { op, s, i } of samples) {
    it(`${op}${s.label ? ` (${s.label})` : ` #${i}`}`, async () => {
      const xs = s.inputs.map((spec, k) => drawSample(spec, 1000 * (i + 1) + 17 * k + op.length));
      const diff = xs.map((x, k) => (s.inputs[k]!.int || s.inputs[k]!.constant ? null : x));
      for (const x of diff) x?.requiresGrad_(true);
      const y = s.call(...xs);
      expect(y.dtype).toBe('float64');
      // Project the output onto fixed random weights so every output element matters.
      const w = drawSample({ shape: [...y.shape] }, 7);
      const loss = y.mul(w).sum();
      const targets = diff.filter((x): x is Tensor => x !== null);
      const analytic = gradients(loss, targets, { allowUnused: true });
      const f = (): number => noGrad(() => {
        const out = s.call(...xs);
        const v = out.mul(w).sum().dataSync()[0]!;
        out.dispose();
        return v;
      });
      for (let t = 0; t < targets.length; t++) {
        const x = targets[t]!;
        const buf = x.storage.buffer as Float64Array;
        const a = analytic[t] ? Array.from(analytic[t]!.dataSync()) : new Array(x.size).fill(0);
        for (let j = 0; j < x.size; j++) {
          const orig = buf[j]!;
          buf[j] = orig + EPS; const fp = f();
          buf[j] = orig - EPS; const fm = f();
          buf[j] = orig;
          const num = (fp - fm) / (2 * EPS);
          expect(Math.abs(a[j]! - num), `${op} input ${t} element ${j}: analytic ${a[j]} vs numeric ${num}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(num)));
        }
      }
    });
  }
});
