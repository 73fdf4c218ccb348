// float16 and bfloat16 tensors through the public API, on every device present: promotion like
// PyTorch's, creation, casts, memory() counting their bytes, ops and gradients.
import { describe, expect, it } from 'vitest';
import * as wg from '@webgrad/core';
import { tensor } from '@webgrad/core';
import { testDevices } from './helpers.js';

describe('promotion of the 16-bit dtypes (torch.result_type)', () => {
  it.each([
    ['float16', 'float32', 'float32'], ['bfloat16', 'float32', 'float32'], ['float16', 'float64', 'float64'],
    ['bfloat16', 'float16', 'float32'], ['float16', 'bfloat16', 'float32'], ['int32', 'float16', 'float16'],
    ['bool', 'bfloat16', 'bfloat16'], ['float16', 'float16', 'float16'], ['bfloat16', 'bfloat16', 'bfloat16'],
  ] as const)('%s with %s → %s', (a, b, want) => {
    expect(wg.promoteTypes(a, b)).toBe(want);
  });
});

for (const device of testDevices()) {
  describe(`float16 and bfloat16 on ${device}`, () => {
    it('a float16 or bfloat16 tensor combined with a number keeps its dtype; int32 with one becomes it', async () => {
      for (const d of ['float16', 'bfloat16'] as const) {
        const x = tensor([1, 2, 3], { device, dtype: d });
        expect(x.add(1.5).dtype).toBe(d);
        expect(x.mul(2).dtype).toBe(d);
        expect(tensor([1, 2], { device }).add(tensor([0.5, 0.25], { device, dtype: d })).dtype).toBe(d);
        expect(x.add(tensor([1, 1, 1], { device, dtype: 'float32' })).dtype).toBe('float32');
        expect(Array.from(await x.add(1.5).data())).toEqual([2.5, 3.5, 4.5]);
      }
      const h = tensor([1, 2], { device, dtype: 'float16' }), b = tensor([0.5, 0.25], { device, dtype: 'bfloat16' });
      const s = h.add(b);
      expect(s.dtype).toBe('float32');
      expect(Array.from(await s.data())).toEqual([1.5, 2.25]);
    });

    it('casts round once to nearest-even; data() gives the values as a Float32Array; .half() and .bfloat16()', async () => {
      const x = tensor([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65519, 65520, 2 ** -25, 1.5 * 2 ** -24, -0, NaN], { device, dtype: 'float32' });
      const h = x.half();
      expect(h.dtype).toBe('float16');
      const got = await h.data();
      expect(got).toBeInstanceOf(Float32Array);
      expect(Array.from(got)).toEqual([1, 1 + 2 ** -9, 65504, Infinity, 0, 2 ** -23, -0, NaN]);
      const b = tensor([1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4e38], { device, dtype: 'float32' }).bfloat16();
      expect(b.dtype).toBe('bfloat16');
      expect(Array.from(await b.data())).toEqual([1, 1 + 2 ** -6, Infinity]);
      expect(await h.float().array()).toEqual([1, 1 + 2 ** -9, 65504, Infinity, 0, 2 ** -23, -0, NaN]);
      expect(await tensor([2.5, -3.7], { device, dtype: 'float16' }).int().array()).toEqual([2, -3]);
    });

    it('memory() counts their bytes', async () => {
      const before = wg.memory().devices[device]?.bytes ?? 0;
      const h = wg.zeros([1000], { device, dtype: 'float16' });
      const b = wg.zeros([1000], { device, dtype: 'bfloat16' });
      const after = wg.memory().devices[device]!.bytes;
      // 2 bytes per element on every device (webgpu: float16 is f16, bfloat16 two per u32 word).
      expect(after - before).toBe(4000);
      h.dispose();
      b.dispose();
    });

    it('bfloat16 of odd length and views at odd offsets: data() exact, in-place writes leave the neighbours', async () => {
      const vals = [1, -2.5, 3.140625, 0.0078125, -65280, 7, 9.5]; // exact in bfloat16
      const x = tensor(vals, { device, dtype: 'bfloat16' });
      expect(Array.from(await x.data())).toEqual(vals);
      expect(Array.from(await wg.slice(x, 0, 1, 6).data())).toEqual(vals.slice(1, 6));
      expect(Array.from(await wg.slice(x, 0, 1, 7, 2).data())).toEqual([-2.5, 0.0078125, 7]);
      wg.fill_(wg.slice(x, 0, 1, 4), 0.5);
      expect(Array.from(await x.data())).toEqual([1, 0.5, 0.5, 0.5, -65280, 7, 9.5]);
      wg.copy_(wg.slice(x, 0, 3, 7, 2), tensor([-1, -3], { device, dtype: 'float32' }));
      expect(Array.from(await x.data())).toEqual([1, 0.5, 0.5, -1, -65280, -3, 9.5]);
      wg.copy_(wg.slice(x, 0, 0, 3), wg.slice(x, 0, 4, 7));
      expect(Array.from(await x.data())).toEqual([-65280, -3, 9.5, -1, -65280, -3, 9.5]);
      const y = wg.add(wg.slice(x, 0, 1, 6), 1).bfloat16();
      expect(Array.from(await y.data())).toEqual([-2, 10.5, 0, -65280, -2]);
    });

    it('matmul, sum, softmax and their gradients in float16 and bfloat16 (f32 or float64 accumulation)', async () => {
      for (const d of ['float16', 'bfloat16'] as const) {
        const eps = d === 'float16' ? 2 ** -10 : 2 ** -7;
        const a = tensor([[1, 2, 3], [4, 5, 6]], { device, dtype: d, requiresGrad: true });
        const b = tensor([[0.5, -1], [0.25, 2], [-0.125, 1]], { device, dtype: d, requiresGrad: true });
        const y = wg.softmax(wg.matmul(a, b), -1);
        expect(y.dtype).toBe(d);
        const loss = y.mul(tensor([[1, 0], [0, 1]], { device, dtype: d })).sum();
        expect(loss.dtype).toBe(d);
        loss.backward();
        expect(a.grad!.dtype).toBe(d);
        expect(b.grad!.dtype).toBe(d);
        // Reference in float64 from the same (exactly representable) inputs.
        const a64 = tensor([[1, 2, 3], [4, 5, 6]], { device: 'cpu', dtype: 'float64', requiresGrad: true });
        const b64 = tensor([[0.5, -1], [0.25, 2], [-0.125, 1]], { device: 'cpu', dtype: 'float64', requiresGrad: true });
        const l64 = wg.softmax(wg.matmul(a64, b64), -1).mul(tensor([[1, 0], [0, 1]], { dtype: 'float64' })).sum();
        l64.backward();
        const close = async (t: wg.Tensor, r: wg.Tensor, factor: number) => {
          const got = Array.from(await t.data()), want = Array.from(r.dataSync());
          // Each stored intermediate (matmul, softmax, product, gradients) adds at most ½ ulp of d, relative to O(1) values.
          got.forEach((g, i) => expect(Math.abs(g - want[i]!), `${d} element ${i}`).toBeLessThanOrEqual(factor * eps * Math.max(1, Math.abs(want[i]!))));
        };
        await close(loss, l64, 8);
        await close(a.grad!, a64.grad!, 8);
        await close(b.grad!, b64.grad!, 8);
      }
    });

    it('float16 and bfloat16 tensors move between devices bit for bit', async () => {
      for (const d of ['float16', 'bfloat16'] as const) {
        const x = tensor([0.1, -65504, 2 ** -24, Infinity, NaN], { device, dtype: d });
        const moved = await x.toAsync('cpu');
        expect(moved.dtype).toBe(d);
        expect(Array.from(moved.dataSync())).toEqual(Array.from(await x.data()));
      }
    });
  });
}
