// WebGPU attention keeping its probabilities (attention_matmul.ts, "Saved probabilities"): the P the
// forward leaves in a `probs` view is the reference softmax (cpu/attention.ts's exp(S − lse)), the
// backward that reads it gives the recomputing backward's gradients bit for bit and leaves P as it
// was, the size limit sits at 2^22 scores, and a view the kernels cannot index is refused by name.
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { attention, attentionBackward } from '../src/webgpu/attention.js';
import { ATTENTION_SAVED_PROBS_MAX, savesAttentionProbs } from '../src/webgpu/attention_matmul.js';
import type { TypedArray, View } from '../src/types.js';
import { expectClose, gpuRuntime, makeView, readView, releaseAll, rng, toGPU } from './gpu_helpers.js';

const rt = await gpuRuntime();

const rand = (shape: readonly number[], seed: number, offset = 0): View<TypedArray> => {
  const r = rng(seed);
  return makeView('float32', shape, { offset }, () => r() * 2 - 1);
};

/** P = exp(scale·q·kᵀ + mask − lse) from the CPU reference's lse (0 past the causal limit and on -∞ masks). */
function referenceProbs(q: View<TypedArray>, k: View<TypedArray>, mask: View<TypedArray> | null, lse: View<TypedArray>, scale: number, causal: boolean): Float32Array {
  const [B, H, Tq, D] = q.shape as [number, number, number, number];
  const Tk = k.shape[2]!;
  const at = (v: View<TypedArray>, i: number[]) => v.buffer[v.offset + i.reduce((s, x, d) => s + x * v.strides[d]!, 0)]!;
  const p = new Float32Array(B * H * Tq * Tk);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) {
    const l = at(lse, [b, h, i]);
    for (let j = 0; j < Tk; j++) {
      if (causal && j > i + Tk - Tq) continue;
      let s = 0;
      for (let d = 0; d < D; d++) s += at(q, [b, h, i, d]) * at(k, [b, h, j, d]);
      const z = s * scale + (mask ? at(mask, [b, h, i, j]) : 0);
      if (z !== -Infinity && l !== -Infinity) p[((b * H + h) * Tq + i) * Tk + j] = Math.exp(z - l);
    }
  }
  return p;
}

describe('webgpu attention with saved probabilities', () => {
  const cases = [
    { B: 2, H: 3, Tq: 5, Tk: 7, D: 3, causal: false, masked: false },
    { B: 1, H: 2, Tq: 9, Tk: 4, D: 5, causal: true, masked: false }, // first rows fully masked
    { B: 2, H: 1, Tq: 3, Tk: 11, D: 2, causal: false, masked: true },
    { B: 1, H: 1, Tq: 1, Tk: 1, D: 1, causal: true, masked: false },
  ];
  for (const c of cases) {
    it(`P in the probs view, and the same gradients from it: ${JSON.stringify(c)}`, async () => {
      const opts = { scale: 1 / Math.sqrt(c.D), causal: c.causal };
      const q = rand([c.B, c.H, c.Tq, c.D], 1, 2), k = rand([c.B, c.H, c.Tk, c.D], 2, 1), v = rand([c.B, c.H, c.Tk, c.D], 3);
      const mask = c.masked ? makeView('float32', [c.B, c.H, c.Tq, c.Tk], { broadcast: [1], offset: 1 }, (i) => (i % 5 === 2 ? -Infinity : Math.sin(i))) : null;
      const out = makeView('float32', [c.B, c.H, c.Tq, c.D]), lse = makeView('float32', [c.B, c.H, c.Tq]);
      const probs = makeView('float32', [c.B, c.H, c.Tq, c.Tk], {}, () => NaN);
      const [gq, gk, gv] = [q, k, v].map((x) => toGPU(rt, x)) as [View<GPUBuffer>, View<GPUBuffer>, View<GPUBuffer>];
      const gm = mask ? toGPU(rt, mask) : null;
      const gout = toGPU(rt, out), glse = toGPU(rt, lse), gp = toGPU(rt, probs);
      attention(rt, gq, gk, gv, gm, opts, gout, glse, {}, gp);
      cpuKernels.attention(q, k, v, mask, opts, out, lse);
      const P = await readView(rt, gp, probs);
      expectClose(P, referenceProbs(q, k, mask, lse, opts.scale, c.causal), 1e-4, 1e-5, 'P');

      const dout = rand(out.shape, 4);
      const grads = () => [q, k, v].map((x) => toGPU(rt, makeView('float32', x.shape, {}, () => -9)));
      const [a, b] = [grads(), grads()];
      const gd = toGPU(rt, dout);
      attentionBackward(rt, gq, gk, gv, gm, opts, gout, glse, gd, a[0]!, a[1]!, a[2]!, {}, gp);
      attentionBackward(rt, gq, gk, gv, gm, opts, gout, glse, gd, b[0]!, b[1]!, b[2]!);
      for (let i = 0; i < 3; i++) {
        const cpu = makeView('float32', [q, k, v][i]!.shape);
        expect(Array.from(await readView(rt, a[i]!, cpu)), `gradient ${i}`).toEqual(Array.from(await readView(rt, b[i]!, cpu)));
      }
      expect(Array.from(await readView(rt, gp, probs)), 'P after the backward').toEqual(Array.from(P));
      releaseAll(rt, gq, gk, gv, gm, gout, glse, gp, gd, ...a, ...b);
    });
  }

  it('keeps P up to 2^22 scores on the matmul path, not beyond, and not for empty attention', () => {
    expect(ATTENTION_SAVED_PROBS_MAX).toBe(1 << 22);
    expect(savesAttentionProbs(1, 1, 2048, 2048)).toBe(true);
    expect(savesAttentionProbs(1, 1, 2048, 2049)).toBe(false);
    expect(savesAttentionProbs(4, 4, 512, 512)).toBe(true);
    expect(savesAttentionProbs(4, 4, 512, 513)).toBe(false);
    expect(savesAttentionProbs(12, 4, 64, 64)).toBe(true);
    expect(savesAttentionProbs(2, 3, 0, 5)).toBe(false);
    expect(savesAttentionProbs(2, 3, 5, 0)).toBe(false);
  });

  it('refuses a probs view it cannot index, naming the op', () => {
    const q = toGPU(rt, makeView('float32', [1, 2, 3, 4])), lse = toGPU(rt, makeView('float32', [1, 2, 3]));
    const p = toGPU(rt, makeView('float32', [1, 2, 3, 3]));
    const opts = { scale: 0.5, causal: false };
    expect(() => attention(rt, q, q, q, null, opts, q, lse, {}, { ...p, offset: 1 })).toThrow(/^attention: probs must be a contiguous float32 \[1, 2, 3, 3\]/);
    expect(() => attention(rt, q, q, q, null, opts, q, lse, {}, { ...p, shape: [1, 2, 3, 2] })).toThrow(TypeError);
    expect(() => attentionBackward(rt, q, q, q, null, opts, q, lse, q, q, q, q, {}, { ...p, dtype: 'float16' })).toThrow(/^attentionBackward: probs/);
    releaseAll(rt, q, lse, p);
  });
});
