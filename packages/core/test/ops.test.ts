// Forward values of every op family against hand-computed results, on every device present.
import { describe, expect, it } from 'vitest';
import * as wg from '@webgrad/core';
import { tensor, arange, zeros, ones, full } from '@webgrad/core';
import { expectClose, testDevices } from './helpers.js';

for (const device of testDevices()) {
  const T = (d: wg.NestedArray | Float32Array | Int32Array, o: wg.CreateOptions & { shape?: number[] } = {}) => tensor(d as never, { device, ...o });
  const F = (d: wg.NestedArray, shape?: number[]) => tensor(d as never, { device, dtype: 'float32', shape });

  describe(`ops on ${device}`, () => {
    it('creation: dtype inference, shapes, ranges', async () => {
      expect(T([1, 2, 3]).dtype).toBe('int32');
      expect(T([1.5, 2]).dtype).toBe('float32');
      expect(T([true, false]).dtype).toBe('bool');
      expect(T([[1, 2], [3, 4]]).shape).toEqual([2, 2]);
      expect(T(5).shape).toEqual([]);
      expect(T([]).shape).toEqual([0]);
      await expectClose(arange(5, undefined, 1, { device }), [0, 1, 2, 3, 4]);
      await expectClose(arange(1, 2, 0.25, { device }), [1, 1.25, 1.5, 1.75]);
      await expectClose(wg.linspace(0, 1, 5, { device }), [0, 0.25, 0.5, 0.75, 1]);
      await expectClose(wg.eye(2, 3, { device }), [1, 0, 0, 0, 1, 0]);
      await expectClose(full([2, 2], 7, { device }), [7, 7, 7, 7]);
      await expectClose(wg.zerosLike(ones([3], { device })), [0, 0, 0]);
      expect(await T([[1, 2], [3, 4]]).array()).toEqual([[1, 2], [3, 4]]);
      expect(await T([true, false]).array()).toEqual([true, false]);
    });

    it('random: seeded, reproducible, in range', async () => {
      wg.manualSeed(42);
      const a = Array.from(await wg.rand([1000], { device }).data());
      wg.manualSeed(42);
      const b = await wg.rand([1000], { device }).data();
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...a)).toBeLessThan(1);
      const n = Array.from(await wg.randn([4000], { device }).data());
      const mean = n.reduce((s, v) => s + v, 0) / n.length;
      const v = n.reduce((s, x) => s + (x - mean) ** 2, 0) / n.length;
      expect(Math.abs(mean)).toBeLessThan(0.1);
      expect(Math.abs(v - 1)).toBeLessThan(0.1);
      const r = Array.from(await wg.randint(3, 7, [500], { device }).data());
      expect(Math.min(...r)).toBe(3);
      expect(Math.max(...r)).toBe(6);
    });

    it('unary ops', async () => {
      const x = F([-2, -0.5, 0, 0.5, 2]);
      await expectClose(x.neg(), [2, 0.5, 0, -0.5, -2]);
      await expectClose(x.abs(), [2, 0.5, 0, 0.5, 2]);
      await expectClose(x.exp(), [-2, -0.5, 0, 0.5, 2].map(Math.exp));
      await expectClose(x.tanh(), [-2, -0.5, 0, 0.5, 2].map(Math.tanh));
      await expectClose(x.sigmoid(), [-2, -0.5, 0, 0.5, 2].map((v) => 1 / (1 + Math.exp(-v))));
      await expectClose(x.relu(), [0, 0, 0, 0.5, 2]);
      // GELU(x) = x·Φ(x); Φ(2) = 0.97724987, Φ(0.5) = 0.69146246 (standard normal table).
      await expectClose(x.gelu(), [-2 * (1 - 0.97724987), -0.5 * (1 - 0.69146246), 0, 0.5 * 0.69146246, 2 * 0.97724987]);
      await expectClose(x.silu(), [-2, -0.5, 0, 0.5, 2].map((v) => v / (1 + Math.exp(-v))));
      await expectClose(x.softplus(), [-2, -0.5, 0, 0.5, 2].map((v) => Math.log1p(Math.exp(v))));
      await expectClose(F([1, 4, 9]).sqrt(), [1, 2, 3]);
      await expectClose(F([1, 4]).rsqrt(), [1, 0.5]);
      await expectClose(F([1, Math.E]).log(), [0, 1]);
      await expectClose(F([-1]).log(), [NaN]);
      await expectClose(F([0.5, 1.5, 2.5, -0.5]).round(), [0, 2, 2, -0]);
      await expectClose(F([-1.5, 1.5]).floor(), [-2, 1]);
      await expectClose(T([1, 4]).exp(), [Math.E, Math.exp(4)]);
      expect(T([1, 4]).exp().dtype).toBe('float32');
      expect(Array.from(await T([true, false]).logicalNot().data())).toEqual([0, 1]);
    });

    it('binary ops broadcast, promote, and take scalars', async () => {
      const a = F([[1, 2, 3], [4, 5, 6]]);
      const b = F([10, 20, 30]);
      await expectClose(a.add(b), [11, 22, 33, 14, 25, 36]);
      await expectClose(a.sub(F([[1], [2]])), [0, 1, 2, 2, 3, 4]);
      await expectClose(a.mul(2), [2, 4, 6, 8, 10, 12]);
      await expectClose(a.div(b), [0.1, 0.1, 0.1, 0.4, 0.25, 0.2]);
      await expectClose(a.pow(2), [1, 4, 9, 16, 25, 36]);
      await expectClose(wg.maximum(a, 3.5), [3.5, 3.5, 3.5, 4, 5, 6]);
      await expectClose(wg.remainder(F([-3, 3]), 2), [1, 1]);
      const i = T([7, 8]);
      expect(i.add(1).dtype).toBe('int32');
      expect(i.add(0.5).dtype).toBe('float32');
      expect(i.div(2).dtype).toBe('float32');
      await expectClose(i.div(2), [3.5, 4]);
      expect(i.add(F([1, 1])).dtype).toBe('float32');
      const c = a.gt(b.div(10));
      expect(c.dtype).toBe('bool');
      expect(Array.from(await c.data())).toEqual([0, 0, 0, 1, 1, 1]);
      expect(a.add(b).shape).toEqual([2, 3]);
      // Size-1 broadcast in both directions → [3, 4].
      expect(F([[1], [2], [3]]).mul(F([[1, 2, 3, 4]])).shape).toEqual([3, 4]);
      // 0-d with 0-d.
      await expectClose(T(3.5).mul(T(2.0)), [7]);
      // Empty tensors.
      expect(F([]).add(1).shape).toEqual([0]);
    });

    it('where, clamp, maskedFill', async () => {
      const x = F([-1, 2, -3, 4]);
      await expectClose(wg.where(x.gt(0), x, 0), [0, 2, 0, 4]);
      await expectClose(x.clamp(-2, 3), [-1, 2, -2, 3]);
      await expectClose(x.maskedFill(x.lt(0), -9), [-9, 2, -9, 4]);
    });

    it('reductions over dims with keepdim', async () => {
      const x = F([[1, 5, 3], [4, 2, 6]]);
      await expectClose(x.sum(), [21]);
      await expectClose(x.sum(0), [5, 7, 9]);
      await expectClose(x.sum(1, { keepdim: true }), [9, 12]);
      expect(x.sum(1, { keepdim: true }).shape).toEqual([2, 1]);
      await expectClose(x.mean(1), [3, 4]);
      await expectClose(x.max(0), [4, 5, 6]);
      await expectClose(x.min(), [1]);
      await expectClose(x.argmax(1), [1, 2]);
      await expectClose(x.argmin(), [0]);
      await expectClose(x.prod(1), [15, 48]);
      await expectClose(x.var(1), [4, 4]);
      await expectClose(x.var(1, { correction: 0 }), [8 / 3, 8 / 3]);
      await expectClose(x.std(), [Math.sqrt(17.5 / 5)]);
      await expectClose(x.logsumexp(1), [Math.log(Math.exp(1) + Math.exp(5) + Math.exp(3)), Math.log(Math.exp(4) + Math.exp(2) + Math.exp(6))]);
      await expectClose(F([1000, 1000]).logsumexp(), [1000 + Math.log(2)], 1e-6);
      await expectClose(T([true, true, false]).sum(), [2]);
      await expectClose(x.sum([0, 1]), [21]);
      await expectClose(F([]).sum(), [0]);
    });

    it('views share storage and transposes are read in place', async () => {
      const x = arange(6, undefined, 1, { device, dtype: 'float32' }).reshape([2, 3]);
      const t = x.transpose(0, 1);
      expect(t.shape).toEqual([3, 2]);
      expect(t.storage).toBe(x.storage);
      expect(t.isContiguous()).toBe(false);
      await expectClose(t, [0, 3, 1, 4, 2, 5]);
      await expectClose(t.contiguous(), [0, 3, 1, 4, 2, 5]);
      await expectClose(t.reshape([6]), [0, 3, 1, 4, 2, 5]);
      expect(() => t.view([6])).toThrow(wg.ShapeError);
      await expectClose(x.permute([1, 0]).add(1), [1, 4, 2, 5, 3, 6]);
      const e = F([[1], [2]]).expand([2, 3]);
      expect(e.strides).toEqual([1, 0]);
      await expectClose(e, [1, 1, 1, 2, 2, 2]);
      expect(x.unsqueeze(0).shape).toEqual([1, 2, 3]);
      expect(x.unsqueeze(-1).squeeze().shape).toEqual([2, 3]);
      expect(x.flatten().shape).toEqual([6]);
      await expectClose(x.narrow(1, 1, 2), [1, 2, 4, 5]);
      await expectClose(x.slice(1, 0, undefined, 2), [0, 2, 3, 5]);
      await expectClose(x.select(0, 1), [3, 4, 5]);
      await expectClose(x.mT, [0, 3, 1, 4, 2, 5]);
      expect(x.reshape([-1, 2]).shape).toEqual([3, 2]);
    });

    it('reshape is a view whenever the strides allow it, and copies otherwise', async () => {
      const base = arange(2 * 3 * 8, undefined, 1, { device, dtype: 'float32' }).reshape([2, 3, 8]);
      // Every case: a strided view, a target shape, and whether a view is possible.
      const cases: [string, wg.Tensor, number[], boolean][] = [
        ['last-dim slice split into heads', base.narrow(2, 2, 4), [2, 3, 2, 2], true],
        ['last-dim slice merged with its row', base.narrow(2, 2, 4), [6, 4], true],
        ['last-dim slice flattened', base.narrow(2, 2, 4), [24], false],
        ['transpose flattened', base.transpose(1, 2), [2, 24], false],
        ['transpose split', base.transpose(1, 2), [2, 2, 4, 3], true],
        ['every other row', base.slice(1, 0, undefined, 2), [2, 2, 2, 4], true],
        ['every other row merged', base.slice(1, 0, undefined, 2), [2, 16], false],
        ['broadcast row', F([1, 2, 3]).expand([4, 3]), [2, 2, 3], true],
        ['broadcast row flattened', F([1, 2, 3]).expand([4, 3]), [12], false],
        ['size-1 dims added', base.narrow(0, 1, 1).transpose(1, 2), [1, 8, 1, 3], true],
      ];
      for (const [what, v, shape, isView] of cases) {
        const r = v.reshape(shape);
        expect(r.shape, what).toEqual(shape);
        expect(r.storage === v.storage, what).toBe(isView);
        expect(Array.from(await r.data()), what).toEqual(Array.from(await v.contiguous().data()));
        if (isView) expect(v.view(shape).strides, what).toEqual(r.strides);
        else expect(() => v.view(shape), what).toThrow(wg.ShapeError);
      }
    });

    it('cat, stack, split, chunk, pad, tril, triu', async () => {
      const a = F([[1, 2], [3, 4]]);
      const b = F([[5, 6]]);
      await expectClose(wg.cat([a, b], 0), [1, 2, 3, 4, 5, 6]);
      await expectClose(wg.cat([a, F([[9], [9]])], 1), [1, 2, 9, 3, 4, 9]);
      expect(wg.stack([a, a], 1).shape).toEqual([2, 2, 2]);
      await expectClose(wg.stack([a, a], 1), [1, 2, 1, 2, 3, 4, 3, 4]);
      const parts = wg.split(arange(5, undefined, 1, { device }), 2);
      expect(parts.map((p) => p.shape[0])).toEqual([2, 2, 1]);
      expect(wg.chunk(arange(6, undefined, 1, { device }), 3).map((p) => p.shape[0])).toEqual([2, 2, 2]);
      await expectClose(wg.pad(a, [1, 0], -1), [-1, 1, 2, -1, 3, 4]);
      const m = ones([3, 3], { device });
      await expectClose(m.tril(), [1, 0, 0, 1, 1, 0, 1, 1, 1]);
      await expectClose(m.triu(1), [0, 1, 1, 0, 0, 1, 0, 0, 0]);
    });

    it('matmul: 1-D, 2-D, batched, broadcast, transposed views', async () => {
      const a = F([[1, 2, 3], [4, 5, 6]]);
      const b = F([[7, 8], [9, 10], [11, 12]]);
      await expectClose(wg.matmul(a, b), [58, 64, 139, 154]);
      await expectClose(wg.matmul(F([1, 2, 3]), F([4, 5, 6])), [32]);
      expect(wg.matmul(F([1, 2, 3]), F([4, 5, 6])).shape).toEqual([]);
      await expectClose(wg.matmul(a, F([1, 1, 1])), [6, 15]);
      await expectClose(wg.matmul(F([1, 1]), a), [5, 7, 9]);
      await expectClose(wg.matmul(b.transpose(0, 1), a.transpose(0, 1)), [58, 139, 64, 154]);
      const batch = wg.stack([a, a.mul(2)]);
      const out = wg.matmul(batch, b);
      expect(out.shape).toEqual([2, 2, 2]);
      await expectClose(out, [58, 64, 139, 154, 116, 128, 278, 308]);
      expect(wg.matmul(zeros([5, 1, 2, 3], { device }), zeros([4, 3, 7], { device })).shape).toEqual([5, 4, 2, 7]);
    });

    it('indexing: gather, scatterAdd, indexSelect, embedding, oneHot', async () => {
      const x = F([[1, 2, 3], [4, 5, 6]]);
      await expectClose(x.gather(1, T([[2, 0], [1, 1]])), [3, 1, 5, 5]);
      await expectClose(wg.scatterAdd(zeros([2, 3], { device }), 1, T([[0, 0], [2, 1]]), F([[1, 2], [3, 4]])), [3, 0, 0, 0, 4, 3]);
      await expectClose(x.indexSelect(0, T([1, 1, 0])), [4, 5, 6, 4, 5, 6, 1, 2, 3]);
      const e = wg.embedding(x, T([[1], [0]]));
      expect(e.shape).toEqual([2, 1, 3]);
      await expectClose(e, [4, 5, 6, 1, 2, 3]);
      await expectClose(wg.oneHot(T([2, 0]), 3), [0, 0, 1, 1, 0, 0]);
    });

    it('softmax, logSoftmax, layerNorm, crossEntropy, dropout', async () => {
      const x = F([[1, 2, 3], [1, 1, 1]]);
      const e = [1, 2, 3].map(Math.exp);
      const z = e[0]! + e[1]! + e[2]!;
      await expectClose(wg.softmax(x, -1), [e[0]! / z, e[1]! / z, e[2]! / z, 1 / 3, 1 / 3, 1 / 3]);
      await expectClose(wg.logSoftmax(x, -1).exp(), [e[0]! / z, e[1]! / z, e[2]! / z, 1 / 3, 1 / 3, 1 / 3]);
      await expectClose(wg.softmax(x, 0).sum(0), [1, 1, 1]);
      // layerNorm of [1,2,3]: mean 2, biased var 2/3 → (x−2)/√(2/3 + 1e-5).
      const s = Math.sqrt(2 / 3 + 1e-5);
      await expectClose(wg.layerNorm(F([[1, 2, 3]]), [3]), [-1 / s, 0, 1 / s], 1e-5);
      await expectClose(wg.layerNorm(F([[1, 2, 3]]), [3], F([2, 2, 2]), F([1, 1, 1])), [1 - 2 / s, 1, 1 + 2 / s], 1e-5);
      // Uniform logits over 4 classes: loss ln 4.
      await expectClose(wg.crossEntropy(zeros([3, 4], { device }), T([0, 1, 3])), [Math.log(4)]);
      // ignoreIndex rows do not count in the mean.
      const logits = F([[2, 0], [0, 2]]);
      const l = Math.log(1 + Math.exp(-2));
      await expectClose(wg.crossEntropy(logits, T([0, -100])), [l]);
      await expectClose(wg.crossEntropy(logits, T([0, 0]), { reduction: 'none' }), [l, 2 + l]);
      await expectClose(wg.crossEntropy(logits, T([0, 0]), { reduction: 'sum' }), [2 + 2 * l]);
      // Label smoothing ε: (1−ε)·nll + ε/C·Σ_c (lse − x_c).
      const lse = Math.log(Math.exp(2) + 1);
      await expectClose(wg.crossEntropy(F([[2, 0]]), T([0]), { labelSmoothing: 0.2 }), [0.8 * (lse - 2) + 0.1 * ((lse - 2) + lse)]);
      wg.manualSeed(3);
      const d = Array.from(await wg.dropout(ones([1000], { device }), 0.25, true).data());
      const kept = d.filter((v) => v !== 0);
      expect(kept.every((v) => Math.abs(v - 4 / 3) < 1e-6)).toBe(true);
      expect(Math.abs(kept.length / 1000 - 0.75)).toBeLessThan(0.06);
      const ones3 = ones([3], { device });
      expect(wg.dropout(ones3, 0.5, false)).toBe(ones3);
    });

    it('attention and conv2d/pools', async () => {
      // One query, two keys: scores [1, 0] → weights softmax([1,0]).
      const q = F([1, 0], [1, 1, 1, 2]);
      const k = F([1, 0, 0, 1], [1, 1, 2, 2]);
      const v = F([10, 0, 0, 10], [1, 1, 2, 2]);
      const w1 = 1 / (1 + Math.exp(-1));
      await expectClose(wg.scaledDotProductAttention(q, k, v, { scale: 1 }), [10 * w1, 10 * (1 - w1)]);
      // Causal with Tq = Tk = 2: the first query sees only the first key.
      const q2 = F([1, 0, 1, 0], [1, 1, 2, 2]);
      await expectClose(wg.scaledDotProductAttention(q2, k, v, { scale: 1, isCausal: true }), [10, 0, 10 * w1, 10 * (1 - w1)]);
      // 3×3 input, 2×2 ones kernel: sums of each window.
      const img = arange(9, undefined, 1, { device, dtype: 'float32' }).reshape([1, 1, 3, 3]);
      const y = wg.conv2d(img, ones([1, 1, 2, 2], { device }), F([1]));
      expect(y.shape).toEqual([1, 1, 2, 2]);
      await expectClose(y, [0 + 1 + 3 + 4 + 1, 1 + 2 + 4 + 5 + 1, 3 + 4 + 6 + 7 + 1, 4 + 5 + 7 + 8 + 1]);
      await expectClose(wg.maxPool2d(img, 2, { stride: 1 }), [4, 5, 7, 8]);
      await expectClose(wg.avgPool2d(img, 2, { stride: 1 }), [2, 3, 5, 6]);
      const g = wg.conv2d(ones([1, 4, 3, 3], { device }), ones([2, 2, 1, 1], { device }), null, { groups: 2, padding: 1 });
      expect(g.shape).toEqual([1, 2, 5, 5]);
      await expectClose(g.sum(), [2 * 9 * 2]);
    });

    it('packedSelfAttention equals split + scaledDotProductAttention + merge, values and gradient', async () => {
      const { randomArray } = await import('./helpers.js');
      for (const [B, T, H, D, causal, masked] of [[2, 5, 3, 4, true, false], [1, 7, 2, 3, false, false], [3, 1, 1, 2, true, false], [2, 6, 2, 3, false, true]] as const) {
        const C = H * D;
        // Key padding: the last key of batch 1 masked out (bool, true = may attend).
        const mask = masked ? tensor(Array.from({ length: B * T }, (_, i) => i !== B * T - 1), { device, dtype: 'bool', shape: [B, 1, 1, T] }) : null;
        const data = randomArray(B * T * 3 * C, B * 100 + T * 10 + H, -2, 2);
        const w = F(randomArray(B * T * C, 7), [B, T, C]);
        const run = async (packed: boolean) => {
          const qkv = F(data, [B, T, 3 * C]).requiresGrad_(true);
          let y: wg.Tensor;
          if (packed) y = wg.packedSelfAttention(qkv, H, { isCausal: causal, mask });
          else {
            const [q, k, v] = qkv.split(C, 2).map((z) => z.reshape([B, T, H, D]).transpose(1, 2));
            y = wg.scaledDotProductAttention(q!, k!, v!, { isCausal: causal, mask }).transpose(1, 2).reshape([B, T, C]);
          }
          y.mul(w).sum().backward();
          const out = [Array.from(await y.data()), Array.from(await qkv.grad!.data())];
          for (const t of [qkv, y]) t.dispose();
          return out;
        };
        const [[y1, g1], [y2, g2]] = [await run(true), await run(false)];
        const close = (a: number[], b: number[], what: string) => {
          expect(a.length).toBe(b.length);
          for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!), `${what} ${B}x${T}x${H}x${D} [${i}]`).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(b[i]!)));
        };
        close(y1, y2, 'output');
        close(g1, g2, 'd(qkv)');
        // Every element of d(qkv) was written (q, k and v each get their gradient).
        expect(g1.every(Number.isFinite)).toBe(true);
        w.dispose();
        mask?.dispose();
      }
      expect(() => wg.packedSelfAttention(F([1, 2, 3], [1, 1, 3]), 2)).toThrow(wg.ShapeError);
      expect(() => wg.packedSelfAttention(F([1, 2, 3], [3]), 1)).toThrow(/expected qkv of shape \(B, T, 3·C\), got \[3\]/);
      expect(() => wg.packedSelfAttention(tensor([1, 2, 3], { device, dtype: 'int32', shape: [1, 1, 3] }), 1)).toThrow(wg.DTypeError);
    });

    it('device moves and dtype casts', async () => {
      const x = F([1.7, -1.7]);
      await expectClose(x.int(), [1, -1]);
      if (device === 'cpu') expect(x.to('cpu')).toBe(x);
      else expect(() => x.to('cpu')).toThrow(wg.DeviceError); // GPU reads are async: toAsync
      if (wg.hasDevice('webgpu')) {
        const g = tensor([1.5, 2.5], { dtype: 'float32' }).to('webgpu');
        expect(g.device).toBe('webgpu');
        await expectClose(g, [1.5, 2.5]);
      }
      const back = await x.toAsync('cpu');
      await expectClose(back, [1.7, -1.7]);
      expect(Array.from(await x.bool().data())).toEqual([1, 1]);
    });
  });
}
