// Tests of the CPU AdamW step (torch.optim.AdamW semantics).
import { describe, expect, it } from 'vitest';
import { contiguousView, cpuKernels } from '../src/cpu/index.js';

describe('cpu adamw', () => {
  it('first step by hand: decay, then m̂ = g, v̂ = g²', () => {
    // p=1, g=0.5, lr=0.1, wd=0.01: p ← 1 - 0.1·0.01·1 = 0.999; m = 0.05, v = 0.00025;
    // m̂ = 0.05/0.1 = 0.5, v̂ = 0.00025/0.001 = 0.25; p ← 0.999 - 0.1·0.5/(0.5 + 1e-8)
    const p = contiguousView('float64', [1], [1]);
    const g = contiguousView('float64', [1], [0.5]);
    const m = contiguousView('float64', [1]);
    const v = contiguousView('float64', [1]);
    cpuKernels.adamw(p, g, m, v, { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 });
    expect(m.buffer[0]).toBeCloseTo(0.05, 15);
    expect(v.buffer[0]).toBeCloseTo(0.00025, 15);
    expect(p.buffer[0]).toBeCloseTo(0.999 - (0.1 * 0.5) / (0.5 + 1e-8), 14);
  });

  it('constant gradient over several steps: bias correction makes m̂ = g and v̂ = g² exactly', () => {
    // With g constant, m_t = g(1-β1^t) and v_t = g²(1-β2^t), so each step moves p by lr·|g|/(|g|+eps)·sign(g)
    // after the decoupled decay p ← p(1 - lr·wd).
    const lr = 0.01, wd = 0.1, b1 = 0.8, b2 = 0.99, eps = 1e-3;
    const gs = [0.3, -2, 0];
    const p = contiguousView('float64', [3], [1, -1, 2]);
    const g = contiguousView('float64', [3], gs);
    const m = contiguousView('float64', [3]);
    const v = contiguousView('float64', [3]);
    const expected = [1, -1, 2];
    for (let t = 1; t <= 5; t++) {
      cpuKernels.adamw(p, g, m, v, { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, step: t });
      for (let i = 0; i < 3; i++) {
        expected[i] = expected[i]! * (1 - lr * wd) - (lr * gs[i]!) / (Math.abs(gs[i]!) + eps);
        expect(m.buffer[i]).toBeCloseTo(gs[i]! * (1 - b1 ** t), 14);
        expect(v.buffer[i]).toBeCloseTo(gs[i]! ** 2 * (1 - b2 ** t), 14);
        expect(p.buffer[i]).toBeCloseTo(expected[i]!, 12);
      }
    }
    // the zero-gradient element only decays: 2·(1 - 0.001)^5
    expect(p.buffer[2]).toBeCloseTo(2 * 0.999 ** 5, 14);
  });

  it('updates float32 state in place and leaves grad untouched', () => {
    const p = contiguousView('float32', [2], [1, 1]);
    const g = contiguousView('float32', [2], [1, -1]);
    const m = contiguousView('float32', [2]);
    const v = contiguousView('float32', [2]);
    cpuKernels.adamw(p, g, m, v, { lr: 0.5, beta1: 0.9, beta2: 0.999, eps: 0, weightDecay: 0, step: 1 });
    expect(Array.from(p.buffer)).toEqual([0.5, 1.5]);
    expect(Array.from(g.buffer)).toEqual([1, -1]);
    expect(Array.from(m.buffer)).toEqual([Math.fround(0.1), Math.fround(-0.1)]);
  });
});
