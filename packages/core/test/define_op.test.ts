// defineOp's contract: typed input tuples with null for an absent optional input, saved tensors
// read by name from the backward's context, and the errors for reading what was not saved.
import { describe, expect, it } from 'vitest';
import { AutogradError, apply, defineOp, gradients, memory, tensor, tidy, type Tensor } from '@webgrad/core';

/** y = x·w (+ b when given), elementwise; saves only what the wanted gradients read. */
const SCALE = defineOp<[x: Tensor, w: Tensor, b: Tensor | null], { k: number }, { x: Tensor; w: Tensor }>({
  name: 'testScale',
  forward: ([x, w, b], { k }, save, needs) => {
    if (needs[1]) save('x', x);
    if (needs[0]) save('w', w);
    const y = x.mul(w).mul(k);
    return b ? y.add(b) : y;
  },
  backward: (g, { saved, attrs: { k }, needs, inputs: [, , b] }) => [
    needs[0] ? g.mul(saved.w).mul(k) : null,
    needs[1] ? g.mul(saved.x).mul(k) : null,
    b && needs[2] ? g : null,
  ],
});

describe('defineOp', () => {
  it('an absent optional input is null: no edge, no gradient, a null meta', () => {
    const before = memory().tensors;
    tidy(() => {
      const x = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
      const w = tensor([4, 5, 6], { dtype: 'float64', requiresGrad: true });
      const b = tensor([1, 1, 1], { dtype: 'float64', requiresGrad: true });
      const [gx, gw, gb] = gradients(apply(SCALE, [x, w, b], { k: 2 }).sum(), [x, w, b]);
      expect(Array.from(gx!.dataSync())).toEqual([8, 10, 12]);
      expect(Array.from(gw!.dataSync())).toEqual([2, 4, 6]);
      expect(Array.from(gb!.dataSync())).toEqual([1, 1, 1]);
      const y = apply(SCALE, [x, w, null], { k: 2 });
      expect(y.gradFn!.edges.map((e) => e.needsGrad)).toEqual([true, true, false]);
      const [hx] = gradients(y.sum(), [x]);
      expect(Array.from(hx!.dataSync())).toEqual([8, 10, 12]);
      for (const t of [gx, gw, gb, hx]) t!.dispose();
    });
    expect(memory().tensors).toBe(before);
  });

  it('saves only for the inputs that want a gradient', () => {
    tidy(() => {
      const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
      const w = tensor([3, 4], { dtype: 'float64' });
      expect(apply(SCALE, [x, w, null], { k: 1 }).gradFn!.savedCount).toBe(1);
    });
  });

  it('a backward that reads a tensor its forward did not save fails, naming the op and what was saved', () => {
    const BAD = defineOp<[Tensor], Record<string, never>, { x: Tensor; y: Tensor }>({
      name: 'testReadsUnsaved',
      forward: ([x], _a, save) => { save('x', x); return x.mul(2); },
      backward: (g, { saved }) => [g.mul(saved.y)],
    });
    tidy(() => {
      const x = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
      const y = apply(BAD, [x], {}).sum();
      expect(() => y.backward()).toThrow(AutogradError);
      expect(() => apply(BAD, [x], {}).sum().backward()).toThrow(/'testReadsUnsaved': its backward read the saved tensor 'y', which the forward did not save \(saved: x\)/);
    });
  });

  it('saving one name twice is an error', () => {
    const TWICE = defineOp<[Tensor], Record<string, never>, { x: Tensor }>({
      name: 'testSavesTwice',
      forward: ([x], _a, save) => { save('x', x); save('x', x); return x.mul(2); },
      backward: (g) => [g],
    });
    const before = memory().tensors;
    const x = tensor([1], { dtype: 'float32', requiresGrad: true });
    expect(() => apply(TWICE, [x], {})).toThrow(/'testSavesTwice': the forward saved 'x' twice/);
    x.dispose();
    expect(memory().tensors).toBe(before);
  });
});
