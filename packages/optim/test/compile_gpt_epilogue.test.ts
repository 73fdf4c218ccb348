// A GPT training step compiled on WebGPU runs its Linear epilogues inside the matmuls and its
// residual gradients' adds inside the layerNorm backwards: counted by
// kernel label on a replay (captures off, so each entry is a dispatch of its own) against the
// eager step, and its losses and parameters agree with eager ones to float32 rounding.
import { describe, expect, it } from 'vitest';
import { compile, hasDevice, manualSeed, tensor, tidy, webgpuRuntime, type Tensor } from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { AdamW } from '../src/index.js';

const ids = (n: number, seed: number, vocab: number) => Int32Array.from({ length: n }, (_, i) => (i * 7 + seed * 13) % vocab);

describe.runIf(hasDevice('webgpu'))('compiled GPT step on webgpu: matmul epilogues', () => {
  it('fewer dispatches than eager, no GELU, GELU-gradient or bias-gradient kernels of their own, the eager values', async () => {
    const rt = webgpuRuntime();
    if (rt === null) throw new Error('no WebGPU runtime although the device is registered');
    const layers = 2;
    const make = () => {
      manualSeed(7);
      const model = new GPT({ vocabSize: 13, blockSize: 16, nLayer: layers, nHead: 2, nEmbd: 32, device: 'webgpu' });
      const opt = new AdamW(model.parameters(), { lr: 3e-3 });
      const step = (x: Tensor, y: Tensor): Tensor => tidy(() => {
        opt.zeroGrad();
        const l = model.forward(x, y).loss!;
        l.backward();
        opt.step();
        return l;
      });
      return { model, step };
    };
    const batch = (i: number): [Tensor, Tensor] => [
      tensor(ids(64, 1 + i, 13), { shape: [4, 16], dtype: 'int32', device: 'webgpu' }),
      tensor(ids(64, 30 + i, 13), { shape: [4, 16], dtype: 'int32', device: 'webgpu' }),
    ];
    const tally = async (run: (x: Tensor, y: Tensor) => Tensor, i: number): Promise<{ counts: Map<string, number>; loss: number }> => {
      const [x, y] = batch(i);
      const { result: l, counts } = rt.tallyDispatches(() => run(x, y));
      const loss = (await l.data())[0]!;
      l.dispose(); x.dispose(); y.dispose();
      return { counts, loss };
    };
    const eager = make(), comp = make();
    const f = compile(comp.step, { capture: false });
    const losses: [number, number][] = [];
    let eagerCounts = new Map<string, number>(), replayCounts = new Map<string, number>();
    for (let i = 0; i < 5; i++) {
      const e = await tally(eager.step, i), c = await tally(f, i);
      losses.push([c.loss, e.loss]);
      eagerCounts = e.counts;
      replayCounts = c.counts;
    }
    expect(f.stats()).toMatchObject({ replays: 2, fallbacks: 0 });
    for (const [got, want] of losses) expect(Math.abs(got - want)).toBeLessThanOrEqual(5e-5 * (1 + Math.abs(want)));
    const ep = eager.model.parameters(), cp = comp.model.parameters();
    for (const [k, p] of ep.entries()) {
      const want = await p.data(), got = await cp[k]!.data();
      const i = Array.from(want).findIndex((w, j) => !(Math.abs(got[j]! - w) <= 5e-5 * (1 + Math.abs(w))));
      expect(i, `parameter ${k} element ${i}: got ${got[i]}, want ${want[i]}`).toBe(-1);
    }
    const count = (m: Map<string, number>, re: RegExp) => [...m].filter(([k]) => re.test(k)).reduce((s, [, n]) => s + n, 0);
    const total = (m: Map<string, number>) => [...m.values()].reduce((s, n) => s + n, 0);
    // Per layer: 4 Linears whose bias add (and GELU or the residual add) joins the matmul, GELU's
    // gradient after the MLP's dX matmul, and 4 bias gradients written by the dW matmuls.
    expect(count(replayCounts, /^matmul\..*\.epilogue$/)).toBe(9 * layers);
    expect(count(replayCounts, /^ew\.(gelu|geluGrad)$/)).toBe(0);
    expect(count(eagerCounts, /^ew\.(gelu|geluGrad)$/)).toBe(2 * layers);
    expect(count(replayCounts, /^reduce\.sum/)).toBe(count(eagerCounts, /^reduce\.sum/) - 4 * layers);
    // Per layer: the residual gradient added to the dx of both layerNorm backwards in their launch
    // (the final layerNorm's dx has no residual path to join).
    expect(count(replayCounts, /^layerNormBackwardAdd$/)).toBe(2 * layers);
    expect(count(replayCounts, /^layerNormBackward$/)).toBe(1);
    expect(count(eagerCounts, /^layerNormBackward$/)).toBe(2 * layers + 1);
    expect(total(replayCounts)).toBeLessThanOrEqual(total(eagerCounts) - 11 * layers);
  });
});
