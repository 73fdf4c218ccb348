// PyTorch's semantics at the edges, on every device present: where PyTorch raises, webgrad raises a
// typed error naming the op; 0-d and empty tensors give PyTorch's values; a call that fails leaves
// no tensor behind. Expected values were computed with PyTorch 1.13 and are written in as constants.
import { describe, expect, it } from 'vitest';
import * as wg from '@webgrad/core';
import type { DType, Tensor } from '@webgrad/core';
import { expectClose, testDevices } from './helpers.js';

type ErrorClass = new (...args: never[]) => Error;

/** `fn` raises `type` with a message matching `msg`, either at once or, on a device that checks
 *  asynchronously, at the next read of its result. */
async function expectRaises(fn: () => Tensor, type: ErrorClass, msg: RegExp): Promise<void> {
  let out: Tensor;
  try {
    out = fn();
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    expect((e as Error).message).toMatch(msg);
    return;
  }
  await expect(out.data()).rejects.toThrow(msg);
  out.dispose();
}

for (const device of testDevices()) {
  const T = (d: wg.NestedArray, dtype?: DType) => wg.tensor(d, { device, dtype });
  const Z = (shape: number[], dtype: DType = 'float32') => wg.zeros(shape, { device, dtype });
  const syncReads = device === 'cpu'; // index and divisor values are checked where the device reads them synchronously

  describe(`raises where PyTorch raises, on ${device}`, () => {
    it('integer remainder by zero; float remainder and true division follow IEEE', async () => {
      const cases: [string, () => Tensor][] = [
        ['int32 tensor % 0', () => wg.remainder(T([1, 2, 3]), 0)],
        ['int32 tensor % false', () => wg.remainder(T([1, 2]), false)],
        ...(syncReads ? [
          ['3 % int32 tensor holding 0', () => wg.remainder(3, T([2, 0]))],
          ['int32 tensor % int32 tensor holding 0', () => wg.remainder(T([1, 2, 3]), T([1, 0, 1]))],
          ['int32 tensor % broadcast zero', () => wg.remainder(T([[4, 5]]), T([[0], [2]]))],
        ] as [string, () => Tensor][] : []),
      ];
      for (const [label, call] of cases) {
        expect(call, label).toThrow(wg.ValueError);
        expect(call, label).toThrow(/remainder: integer division by zero \(int32 operands/);
      }
      await expectClose(wg.remainder(T([5, -5]), 3), [2, 1]);
      await expectClose(wg.remainder(T([5, -5]), T([-3, 3])), [-1, 1]);
      await expectClose(wg.remainder(T([1, 2], 'float32'), 0), [NaN, NaN]);
      await expectClose(wg.remainder(T([1, 2]), 0.5), [0, 0]);
      // torch.div is true division: an int32 tensor divided by 0 is ±inf / nan, not an error.
      await expectClose(wg.div(T([1, -1, 0]), 0), [Infinity, -Infinity, NaN]);
      await expectClose(wg.div(T([1, -1, 0]), T([0, 0, 0])), [Infinity, -Infinity, NaN]);
    });

    it('an integer tensor to a negative integer power', async () => {
      for (const base of [T([2, 3]), T([1, -1]), T([true, false])]) {
        expect(() => wg.pow(base, -1)).toThrow(wg.ValueError);
        expect(() => wg.pow(base, -2)).toThrow(/^pow: integers to negative integer powers are not allowed \(int32 tensor of shape \[2\] \*\* -2\)/);
      }
      await expectClose(wg.pow(T([2, 3]), 0.5), [Math.SQRT2, Math.sqrt(3)]);
      await expectClose(wg.pow(T([2, 3]), T([-1, 1])), [0, 3]); // a tensor exponent is not checked, as in PyTorch
      await expectClose(wg.pow(T([2, 3]), 2), [4, 9]);
      await expectClose(wg.pow(T([2, 4], 'float32'), -1), [0.5, 0.25]);
    });

    // [destination dtype, destination values, op, operand] whose result type cannot be cast back.
    const castFails: [DType, number[] | boolean[], 'add_' | 'sub_' | 'mul_' | 'div_', () => wg.TensorLike, string][] = [
      ['int32', [1, 2], 'add_', () => 0.5, 'float32'],
      ['int32', [1, 2], 'sub_', () => 0.5, 'float32'],
      ['int32', [1, 2], 'mul_', () => 1.5, 'float32'],
      ['int32', [1, 2], 'div_', () => 2, 'float32'],
      ['int32', [1, 2], 'div_', () => T([2, 2]), 'float32'],
      ['int32', [1, 2], 'add_', () => T([0.5, 1.5], 'float32'), 'float32'],
      ['int32', [1, 2], 'mul_', () => T(1.5, 'float32'), 'float32'],
      ['bool', [true, false], 'mul_', () => 2, 'int32'],
      ['bool', [true, false], 'add_', () => 1, 'int32'],
      ['bool', [true, false], 'add_', () => T([1, 2]), 'int32'],
      ['bool', [true, false], 'mul_', () => T([0.5, 1], 'float32'), 'float32'],
      ['bool', [true, false], 'div_', () => T([true, true]), 'float32'],
      ['bool', [true, false], 'div_', () => true, 'float32'],
    ];
    it.each(castFails.map((c, i) => [i, ...c] as const))('in-place #%i: %s %s %s cannot cast its result', async (_i, dtype, values, op, operand, result) => {
      const t = T(values as wg.NestedArray, dtype);
      const o = operand();
      expect(() => t[op](o)).toThrow(wg.DTypeError);
      expect(() => t[op](o)).toThrow(new RegExp(`^${op}: the result type ${result} of ${dtype} .* can't be cast to the destination's dtype ${dtype}`));
      expect(Array.from(await t.data(), Number)).toEqual(values.map(Number)); // untouched
    });

    it('in-place ops whose result casts back, with their values', async () => {
      const f = T([1.5, 2], 'float32');
      await expectClose(f.mul_(T([2, 3])), [3, 6]);
      await expectClose(f.add_(T([true, false])), [4, 6]);
      await expectClose(f.div_(4), [1, 1.5]);
      if (wg.getBackend(device).supports('float64')) await expectClose(T([1.5, 2], 'float32').mul_(T([2, 2], 'float64')), [3, 4]);
      await expectClose(T([1, 2]).add_(T([true, false])), [2, 2]);
      await expectClose(T([5, 7]).sub_(T([1, 2])).mul_(3), [12, 15]);
      expect(Array.from(await T([true, false]).add_(true).data())).toEqual([1, 1]);
      expect(Array.from(await T([true, true]).mul_(T([true, false])).data())).toEqual([1, 0]);
      expect(() => T([true]).sub_(true)).toThrow(wg.DTypeError);
    });

    it('in-place writes into an expanded view or a partly overlapping operand', async () => {
      const writes: [string, (dst: Tensor) => unknown][] = [
        ['add_', (d) => d.add_(1)], ['sub_', (d) => d.sub_(Z([2, 3]))], ['mul_', (d) => d.mul_(2)],
        ['div_', (d) => d.div_(2)], ['copy_', (d) => d.copy_(wg.ones([2, 3], { device }))],
      ];
      for (const [op, write] of writes) {
        const base = T([[1, 2, 3]], 'float32');
        expect(() => write(base.expand([2, 3])), op).toThrow(wg.ValueError);
        expect(() => write(base.expand([2, 3])), op).toThrow(new RegExp(`^${op}: the destination of shape \\[2, 3\\] is an expanded view \\(strides \\[0, 1\\]\\)`));
        await expectClose(base, [1, 2, 3]);
      }
      // fill_ and zero_ write one value everywhere, which PyTorch allows on an expanded view.
      const base = T([[1, 2, 3]], 'float32');
      base.expand([2, 3]).fill_(7);
      await expectClose(base, [7, 7, 7]);
      base.unsqueeze(0).expand([4, 1, 3]).zero_();
      await expectClose(base, [0, 0, 0]);
      // An expanded operand is fine: only the destination must not repeat addresses.
      await expectClose(Z([2, 3]).add_(T([[1, 2, 3]], 'float32').expand([2, 3])), [1, 2, 3, 1, 2, 3]);

      const x = T([0, 1, 2, 3, 4], 'float32');
      expect(() => x.slice(0, 1).add_(x.slice(0, 0, 4))).toThrow(/add_: the operand of shape \[4\] and the destination of shape \[4\] partly overlap in memory/);
      expect(() => x.slice(0, 1).copy_(x.slice(0, 0, 4))).toThrow(wg.ValueError);
      const m = T([[0, 1], [2, 3]], 'float32');
      expect(() => m.add_(m.transpose(0, 1))).toThrow(/partly overlap/);
      expect(() => m.add_(m.select(0, 1))).toThrow(/partly overlap/);
      await expectClose(x, [0, 1, 2, 3, 4]);
      await expectClose(x.add_(x), [0, 2, 4, 6, 8]); // the same elements: allowed
      await expectClose(x.slice(0, 0, 2).copy_(x.slice(0, 3)), [6, 8]); // disjoint: allowed
      await expectClose(x, [6, 8, 4, 6, 8]);
    });

    // Ops PyTorch defines for floating-point tensors only.
    const floatOnly: [string, (x: Tensor) => Tensor, number[]][] = [
      ['layerNorm', (x) => wg.layerNorm(x, [3]), [2, 3]],
      ['scaledDotProductAttention', (x) => wg.scaledDotProductAttention(x, x, x), [1, 1, 2, 3]],
      ['avgPool2d', (x) => wg.avgPool2d(x, 2), [1, 1, 2, 2]],
      ['dropout', (x) => wg.dropout(x, 0.5), [2, 3]],
      ['softmax', (x) => wg.softmax(x, -1), [2, 3]],
      ['logSoftmax', (x) => wg.logSoftmax(x, 0), [2, 3]],
      ['maxPool2d', (x) => wg.maxPool2d(x, 2), [1, 1, 2, 2]],
      ['crossEntropy', (x) => wg.crossEntropy(x, wg.tensor([0, 1], { dtype: 'int32', device: x.device })), [2, 3]],
    ];
    for (const dtype of ['int32', 'bool'] as const) {
      it.each(floatOnly)(`%s of ${dtype} raises DTypeError`, (op, call, shape) => {
        const x = Z(shape, dtype);
        expect(() => call(x)).toThrow(wg.DTypeError);
        expect(() => call(x)).toThrow(new RegExp(`^${op}: expected a floating-point (input|q|logits), got ${dtype} \\(shape \\[${shape.join(', ')}\\]\\)`));
      });
    }

    it('float-only ops: the float results, and dropout of int32 where PyTorch allows it', async () => {
      await expectClose(wg.layerNorm(T([[1, 2, 3]], 'float32'), [3]), [-1.2247357, 0, 1.2247357]);
      await expectClose(wg.avgPool2d(T([[[[1, 2], [3, 5]]]], 'float32'), 2), [2.75]);
      const i = T([[1, 2, 3]]);
      expect(wg.dropout(i, 0.5, false)).toBe(i);
      expect(wg.dropout(i, 0)).toBe(i);
      const dropped = wg.dropout(i, 1);
      expect(dropped.dtype).toBe('int32');
      await expectClose(dropped, [0, 0, 0]);
    });

    it('arange with a step that never reaches the end', async () => {
      for (const [start, end, step] of [[0, 10, -1], [10, 0, 1], [0.5, -1, 0.5], [-3, 2, -0.5]]) {
        expect(() => wg.arange(start!, end, step, { device }), `${start}, ${end}, ${step}`).toThrow(wg.ValueError);
        expect(() => wg.arange(start!, end, step, { device })).toThrow(/^arange: the range .* and the step .* have inconsistent signs/);
      }
      expect(() => wg.arange(-1, undefined, 1, { device })).toThrow(/inconsistent signs/);
      await expectClose(wg.arange(10, 0, -3, { device }), [10, 7, 4, 1]);
      expect(wg.arange(0, 0, -1, { device }).shape).toEqual([0]);
      expect(wg.arange(5, 5, 1, { device }).shape).toEqual([0]);
    });

    it('oneHot of an id outside [0, numClasses)', async () => {
      for (const ids of [[0, 3], [-1], [1, 2, 7]]) {
        await expectRaises(() => wg.oneHot(T(ids), 3), wg.IndexError, /oneHot.* (-1|3|7) is out of range/);
      }
      expect(Array.from(await wg.oneHot(T([2, 0]), 3).data())).toEqual([0, 0, 1, 1, 0, 0]);
      expect(wg.oneHot(T([2, 0]), 3).shape).toEqual([2, 3]);
    });
  });

  describe(`0-d and empty tensors, on ${device}`, () => {
    // Reductions of a 0-d tensor (2.5) over dim 0, dim -1 and all dims: the value itself.
    const scalarReductions: [string, (x: Tensor, d?: number) => Tensor, number][] = [
      ['sum', (x, d) => wg.sum(x, d), 2.5], ['mean', (x, d) => wg.mean(x, d), 2.5], ['prod', (x, d) => wg.prod(x, d), 2.5],
      ['max', (x, d) => wg.max(x, d), 2.5], ['min', (x, d) => wg.min(x, d), 2.5], ['logsumexp', (x, d) => wg.logsumexp(x, d), 2.5],
      ['var (correction 0)', (x, d) => wg.variance(x, d, { correction: 0 }), 0], ['var', (x, d) => wg.variance(x, d), NaN],
      ['std', (x, d) => wg.std(x, d), NaN], ['argmax', (x, d) => wg.argmax(x, d), 0],
    ];
    it.each(scalarReductions)('%s of a 0-d tensor over dim 0, -1 and all dims', async (_op, f, value) => {
      for (const dim of [0, -1, undefined]) {
        const y = f(T(2.5, 'float32'), dim);
        expect(y.shape).toEqual([]);
        await expectClose(y, [value]);
      }
      await expectClose(wg.mean(T(3), 0), [3]);
    });

    // Reductions of zeros([2, 0, 3]) over the empty dim 1 and over every dim.
    const emptyReductions: [string, (x: Tensor, d?: number) => Tensor, number][] = [
      ['sum', (x, d) => wg.sum(x, d), 0], ['mean', (x, d) => wg.mean(x, d), NaN], ['prod', (x, d) => wg.prod(x, d), 1],
      ['logsumexp', (x, d) => wg.logsumexp(x, d), -Infinity], ['var', (x, d) => wg.variance(x, d), NaN],
      ['std', (x, d) => wg.std(x, d), NaN],
    ];
    it.each(emptyReductions)('%s over an empty dim', async (_op, f, value) => {
      const x = Z([2, 0, 3]);
      const byDim = f(x, 1);
      expect(byDim.shape).toEqual([2, 3]);
      await expectClose(byDim, new Array(6).fill(value));
      const all = f(x);
      expect(all.shape).toEqual([]);
      await expectClose(all, [value]);
      const other = f(x, 2); // over a non-empty dim: an empty result
      expect(other.shape).toEqual([2, 0]);
    });

    it('sum/prod of empty integer tensors, keepdim, and max/argmax over an empty dim', async () => {
      const s = wg.sum(Z([0], 'int32'));
      expect(s.dtype).toBe('int32');
      await expectClose(s, [0]);
      await expectClose(wg.prod(Z([0], 'int32')), [1]);
      expect(wg.sum(Z([2, 0, 3]), 1, { keepdim: true }).shape).toEqual([2, 1, 3]);
      expect(wg.logsumexp(Z([2, 0, 3]), [0, 1], { keepdim: true }).shape).toEqual([1, 1, 3]);
      expect(() => wg.max(Z([2, 0, 3]), 1)).toThrow(/max: cannot reduce over an empty dimension/);
      expect(() => wg.argmax(Z([0]))).toThrow(/argmax: cannot reduce over an empty dimension/);
      expect(wg.max(Z([2, 0, 3]), 2).shape).toEqual([2, 0]);
      expect(wg.argmax(Z([0, 3]), 1).shape).toEqual([0]);
    });

    // [a shape, b shape, result shape]; every result element sums over an empty dim: 0.
    const emptyMatmuls: [number[], number[], number[]][] = [
      [[0, 4, 0], [0, 1], [0, 4, 1]], [[3, 0], [0, 2], [3, 2]], [[0], [0], []], [[2, 0], [0], [2]],
      [[0, 3], [3, 2], [0, 2]], [[2, 3, 0], [0, 4], [2, 3, 4]], [[0], [0, 5], [5]], [[2, 1, 3, 0], [4, 0, 2], [2, 4, 3, 2]],
    ];
    it.each(emptyMatmuls)('matmul %j × %j', async (a, b, out) => {
      const y = wg.matmul(wg.ones(a, { device }), wg.ones(b, { device }));
      expect(y.shape).toEqual(out);
      await expectClose(y, new Array(wg.numel(out)).fill(0));
    });

    it('split and chunk of a size-0 dim', () => {
      const shapes = (ts: Tensor[]) => ts.map((t) => t.shape);
      expect(shapes(wg.split(Z([0, 3]), 2))).toEqual([[0, 3]]);
      expect(shapes(wg.split(Z([0, 3]), 0))).toEqual([[0, 3]]);
      expect(shapes(wg.split(Z([0, 3]), [0, 0]))).toEqual([[0, 3], [0, 3]]);
      expect(shapes(wg.split(Z([3, 0]), 1, 1))).toEqual([[3, 0]]);
      expect(shapes(wg.chunk(Z([0, 3]), 3))).toEqual([[0, 3], [0, 3], [0, 3]]);
      expect(shapes(wg.chunk(Z([3, 0]), 2, 1))).toEqual([[3, 0], [3, 0]]);
      expect(shapes(wg.chunk(Z([5]), 4))).toEqual([[2], [2], [1]]);
      expect(() => wg.split(Z([3]), 0)).toThrow(wg.ValueError);
      expect(() => wg.split(Z([3]), 0)).toThrow(/split: size must be a positive integer \(or 0 for a dim of size 0\), got 0 for dim 0 of size 3/);
    });

    it('layerNorm over a size-0 dim and of zero rows, forward and backward', async () => {
      const y = wg.layerNorm(Z([2, 0]), [0]);
      expect(y.shape).toEqual([2, 0]);
      expect(wg.layerNorm(Z([2, 3, 0]), [3, 0]).shape).toEqual([2, 3, 0]);
      const x = Z([0, 3]).requiresGrad_();
      const w = wg.ones([3], { device, requiresGrad: true });
      const b = wg.zeros([3], { device, requiresGrad: true });
      const out = wg.layerNorm(x, [3], w, b);
      expect(out.shape).toEqual([0, 3]);
      out.sum().backward();
      expect(x.grad!.shape).toEqual([0, 3]);
      await expectClose(w.grad!, [0, 0, 0]);
      await expectClose(b.grad!, [0, 0, 0]);
    });

    it('softmax, logSoftmax and crossEntropy of empty tensors', async () => {
      for (const f of [wg.softmax, wg.logSoftmax]) {
        for (const dim of [0, 1, 2]) expect(f(Z([2, 0, 3]), dim).shape).toEqual([2, 0, 3]);
        expect(f(Z([0]), 0).shape).toEqual([0]);
      }
      await expectClose(wg.crossEntropy(Z([0, 3]), Z([0], 'int32')), [NaN]);
      await expectClose(wg.crossEntropy(Z([0, 3]), Z([0], 'int32'), { reduction: 'sum' }), [0]);
    });

    // [label, call, PyTorch's result shape, its values (when not empty)]
    const emptyOps: [string, () => Tensor, number[], number[]?][] = [
      ['exp', () => Z([0, 3]).exp(), [0, 3]],
      ['add, broadcast against an empty dim', () => wg.add(Z([0, 3]), Z([3])), [0, 3]],
      ['add, broadcast to a new empty dim', () => wg.add(Z([2, 1]), Z([0, 1, 3])), [0, 2, 3]],
      ['where', () => wg.where(Z([0, 3], 'bool'), 1, 2), [0, 3]],
      ['gather with an empty index', () => Z([2, 3]).gather(1, Z([2, 0], 'int32')), [2, 0]],
      ['indexSelect with an empty index', () => Z([2, 3]).indexSelect(0, Z([0], 'int32')), [0, 3]],
      ['embedding of empty ids', () => wg.embedding(Z([4, 3]), Z([2, 0], 'int32')), [2, 0, 3]],
      ['oneHot of empty ids', () => wg.oneHot(Z([0], 'int32'), 3), [0, 3]],
      ['conv2d of an empty batch', () => wg.conv2d(Z([0, 1, 3, 3]), Z([2, 1, 2, 2])), [0, 2, 2, 2]],
      ['maxPool2d of an empty batch', () => wg.maxPool2d(Z([0, 1, 2, 2]), 2), [0, 1, 1, 1]],
      ['pad', () => wg.pad(Z([0, 2]), [1, 1], 5), [0, 4]],
      ['tril', () => wg.tril(Z([0, 3])), [0, 3]],
      ['contiguous of a transposed empty tensor', () => Z([0, 3]).transpose(0, 1).contiguous(), [3, 0]],
      ['attention with no queries', () => wg.scaledDotProductAttention(Z([1, 1, 0, 4]), Z([1, 1, 3, 4]), Z([1, 1, 3, 4])), [1, 1, 0, 4]],
      ['attention with no keys', () => wg.scaledDotProductAttention(Z([1, 1, 2, 4]), Z([1, 1, 0, 4]), Z([1, 1, 0, 4])), [1, 1, 2, 4], new Array(8).fill(0)],
      ['crossEntropy with no classes, all ignored', () => wg.crossEntropy(Z([2, 0]), T([-100, -100])), [], [NaN]],
      ['crossEntropy of no rows and no classes', () => wg.crossEntropy(Z([0, 0]), Z([0], 'int32')), [], [NaN]],
      ['crossEntropy, no reduction', () => wg.crossEntropy(Z([0, 3]), Z([0], 'int32'), { reduction: 'none' }), [0]],
    ];
    it.each(emptyOps)('%s', async (_label, call, shape, values) => {
      const y = call();
      expect(y.shape).toEqual(shape);
      await expectClose(y, values ?? []);
    });

    // Gradients through empty and 0-d reductions: [label, input shape, loss, its input's gradient].
    const emptyGrads: [string, number[], (x: Tensor) => Tensor, number[]][] = [
      ['logsumexp over an empty dim', [2, 0], (x) => wg.logsumexp(x, 1).sum(), []],
      ['mean over an empty dim', [2, 0], (x) => wg.mean(x, 1).sum(), []],
      ['prod over an empty dim', [2, 0], (x) => wg.prod(x, 1).sum(), []],
      ['matmul with an empty result', [2, 3], (x) => wg.matmul(x, Z([3, 0])).sum(), [0, 0, 0, 0, 0, 0]],
      ['mean of a 0-d tensor over dim 0', [], (x) => wg.mean(x, 0), [1]],
      ['var of a 0-d tensor over dim -1', [], (x) => wg.variance(x, -1, { correction: 0 }), [0]],
    ];
    it.each(emptyGrads)('gradient of %s', async (_label, shape, loss, grad) => {
      const x = wg.full(shape, 2.5, { device, requiresGrad: true });
      loss(x).backward();
      expect(x.grad!.shape).toEqual(shape);
      await expectClose(x.grad!, grad);
    });

    it('cat and stack with empty tensors', async () => {
      const ones = wg.ones([2, 3], { device });
      await expectClose(wg.cat([Z([0, 3]), ones]), [1, 1, 1, 1, 1, 1]);
      const legacy = wg.cat([Z([0]), ones, Z([0])]); // 1-D empty tensors are left out, as in PyTorch
      expect(legacy.shape).toEqual([2, 3]);
      await expectClose(legacy, [1, 1, 1, 1, 1, 1]);
      expect(wg.cat([Z([0]), Z([0], 'int32')]).dtype).toBe('float32');
      expect(wg.cat([Z([0, 3]), Z([0, 3])], 1).shape).toEqual([0, 6]);
      expect(wg.cat([Z([0]), Z([0])]).shape).toEqual([0]);
      expect(() => wg.cat([Z([2, 0]), Z([3])])).toThrow(wg.ShapeError);
      expect(wg.stack([Z([0]), Z([0])]).shape).toEqual([2, 0]);
    });
  });

  describe(`a failed call leaves no tensor behind, on ${device}`, () => {
    // The calls' inputs are made once, on first use, and reused: only what a call itself creates is counted.
    const made = new Map<string, Tensor>();
    const once = (key: string, make: () => Tensor): Tensor => made.get(key) ?? made.set(key, make()).get(key)!;
    const Z = (shape: number[], dtype: DType = 'float32') => once(`zeros ${shape} ${dtype}`, () => wg.zeros(shape, { device, dtype }));
    const T = (d: wg.NestedArray) => once(JSON.stringify(d), () => wg.tensor(d, { device }));
    const f = wg.tensor([[1, 2, 3], [4, 5, 6]], { device, dtype: 'float32' });
    const i43 = Z([4, 3], 'int32');
    const i23 = wg.tensor([[1, 2, 3], [4, 5, 6]], { device });
    const leaf = wg.ones([2, 3], { device, requiresGrad: true });
    const failing = wg.customOp({
      name: 'failsAfterAllocating',
      forward: ([x], _a, save) => {
        const tmp = wg.mul(x!, 2);
        save(tmp);
        throw new wg.ValueError(`failsAfterAllocating: made ${tmp.shape}`);
      },
      backward: (g) => [g],
    });
    const calls: [string, () => unknown][] = [
      ['add int32 + float32, unbroadcastable', () => wg.add(i23, Z([4, 3]))],
      ['add float32 + int32, unbroadcastable', () => wg.add(f, i43)],
      ['pow int32 ** float32, unbroadcastable', () => wg.pow(i23, Z([4, 3]))],
      ['int32 sub bool, unbroadcastable', () => wg.sub(i23, Z([4, 3], 'bool'))],
      ['remainder by zero', () => wg.remainder(i23, 0)],
      ['where with casts, unbroadcastable', () => wg.where(Z([2, 1], 'bool'), i23, Z([4, 3]))],
      ['maskedFill, unbroadcastable', () => wg.maskedFill(f, Z([4], 'bool'), 1)],
      ['matmul int32 × float32, batch mismatch', () => wg.matmul(Z([2, 2, 3], 'int32'), Z([3, 3, 4]))],
      ['sum over a bad dim', () => wg.sum(f, 5)],
      ['mean of bool over a bad dim', () => wg.mean(Z([2, 3], 'bool'), 5)],
      ['mean of int32 over a bad dim', () => wg.mean(i23, [0, 7])],
      ['logsumexp over a bad dim', () => wg.logsumexp(f, 2)],
      ['var over a repeated dim', () => wg.variance(f, [0, 0])],
      ['max over an empty dim', () => wg.max(Z([0, 2]), 0)],
      ['argmax of an empty tensor', () => wg.argmax(Z([0]))],
      ['softmax of int32 over a bad dim', () => wg.softmax(i23, 5)],
      ['cat of mismatched shapes with casts', () => wg.cat([f, Z([2, 4], 'int32')], 0)],
      ['stack of mismatched shapes', () => wg.stack([f, i43])],
      ['split with sizes that do not sum up', () => wg.split(f, [1, 1], 1)],
      ['layerNorm with a bad normalizedShape', () => wg.layerNorm(f, [4])],
      ['layerNorm with a bad weight', () => wg.layerNorm(f, [3], Z([4]))],
      ['layerNorm of int32', () => wg.layerNorm(i23, [3])],
      ['crossEntropy with a bad target shape', () => wg.crossEntropy(f, Z([3], 'int32'))],
      ['crossEntropy with float targets', () => wg.crossEntropy(f, Z([2]))],
      ['attention of int32', () => wg.scaledDotProductAttention(Z([1, 1, 2, 3], 'int32'), Z([1, 1, 2, 3], 'int32'), Z([1, 1, 2, 3], 'int32'))],
      ['attention with a bad mask', () => wg.scaledDotProductAttention(Z([1, 1, 2, 3]), Z([1, 1, 2, 3]), Z([1, 1, 2, 3]), { mask: Z([3, 3], 'bool') })],
      ['packedSelfAttention with a bad mask', () => wg.packedSelfAttention(Z([1, 2, 6]), 1, { mask: Z([3, 3]) })],
      ['conv2d with mismatched groups', () => wg.conv2d(Z([1, 4, 5, 5]), Z([2, 3, 3, 3]), null, { groups: 2 })],
      ['conv2d with a kernel larger than the input', () => wg.conv2d(Z([1, 1, 2, 2]), Z([1, 1, 3, 3]))],
      ['avgPool2d of int32', () => wg.avgPool2d(Z([1, 1, 2, 2], 'int32'), 2)],
      ['maxPool2d with too much padding', () => wg.maxPool2d(Z([1, 1, 4, 4]), 2, { padding: 2 })],
      ['dropout of int32', () => wg.dropout(i23, 0.5)],
      ['dropout with p > 1', () => wg.dropout(f, 1.5)],
      ['int32 add_ 0.5', () => i23.add_(0.5)],
      ['add_ into an expanded view', () => once('expanded', () => f.slice(0, 0, 1).expand([2, 3])).add_(1)],
      ['add_ of an unbroadcastable operand', () => f.add_(Z([4, 3]))],
      ['mul_ of a partly overlapping operand', () => once('tail', () => f.view([6]).slice(0, 1)).mul_(once('head', () => f.view([6]).slice(0, 0, 5)))],
      ['copy_ from an unbroadcastable source', () => f.copy_(i43)],
      ['add_ on a leaf that requires grad', () => leaf.add_(1)],
      ['reshape to a bad size', () => f.reshape([4, 2])],
      ['view of a transposed tensor', () => once('fT', () => f.transpose(0, 1)).view([6])],
      ['expand to a bad shape', () => f.expand([3, 3])],
      ['narrow out of range', () => f.narrow(1, 2, 2)],
      ['select out of range', () => f.select(0, 5)],
      ['pad with an odd count', () => wg.pad(f, [1, 2, 3])],
      ['tril of a 1-D tensor', () => wg.tril(Z([3]))],
      ['arange with inconsistent signs', () => wg.arange(0, 5, -1, { device })],
      ['squeeze of a bad dim', () => f.squeeze(3)],
      ['unsqueeze at a bad dim', () => f.unsqueeze(4)],
      ['permute with too few dims', () => f.permute([0])],
      ['flatten with start after end', () => f.flatten(1, 0)],
      ['gather with a mismatched index', () => f.gather(1, Z([3, 1], 'int32'))],
      ['indexSelect with a 2-D index', () => f.indexSelect(0, Z([1, 1], 'int32'))],
      ['scatterAdd with a float src, mismatched', () => wg.scatterAdd(i23, 1, Z([2, 4], 'int32'), Z([2, 1]))],
      ['crossEntropy with a bad weight', () => wg.crossEntropy(f, Z([2], 'int32'), { weight: Z([4]) })],
      ['randint with low >= high', () => wg.randint(3, 3, [2], { device })],
      ['full with a negative size', () => wg.full([-1], 0, { device })],
      ['tensor from a ragged array', () => wg.tensor([[1, 2], [3]], { device })],
      ['a custom op that throws after allocating', () => failing([leaf])],
      ['backward of a non-scalar', () => once('2 leaf', () => leaf.mul(2)).backward()],
      ['gradients for an unused input', () => wg.gradients(once('sum 2 leaf', () => leaf.mul(2).sum()), [leaf, Z([2])], { retainGraph: true })],
      ['backward through a saved tensor changed in place', () => {
        const y = once('exp leaf', () => leaf.exp());
        wg.noGrad(() => y.add_(0));
        return once('sum exp leaf', () => y.mul(y).sum()).backward(null, { retainGraph: true });
      }],
      ...(syncReads ? [
        ['remainder by a tensor holding zero', () => wg.remainder(i23, T([1, 0, 1]))],
        ['gather with an out-of-range strided index', () => f.gather(1, once('index T', () => T([[0, 1], [3, 1]]).transpose(0, 1)))],
        ['embedding with an out-of-range id', () => wg.embedding(f, T([[0, 2]]))],
        ['oneHot with an out-of-range id', () => wg.oneHot(T([0, 5]), 3)],
        ['crossEntropy with an out-of-range target', () => wg.crossEntropy(f, T([0, 3]))],
        ['scatterAdd with an out-of-range index', () => wg.scatterAdd(f, 1, T([[3], [0]]), Z([2, 1], 'int32'))],
      ] as [string, () => unknown][] : []),
    ];

    it.each(calls)('%s', (_label, call) => {
      expect(call).toThrow(wg.WebgradError); // makes the inputs
      const before = wg.memory();
      expect(call).toThrow(wg.WebgradError);
      expect(wg.memory().tensors).toBe(before.tensors);
      expect(wg.memory().bytes).toBe(before.bytes);
      // Inside a tidy the failed call's tensors go at once, not when the tidy ends.
      wg.tidy(() => {
        const inner = wg.memory();
        expect(call).toThrow(wg.WebgradError);
        expect(wg.memory().tensors).toBe(inner.tensors);
      });
      expect(wg.memory().tensors).toBe(before.tensors);
      expect(wg.memory().bytes).toBe(before.bytes);
    });

    it('the inputs of the failed calls are intact', async () => {
      await expectClose(f, [1, 2, 3, 4, 5, 6]);
      await expectClose(i23, [1, 2, 3, 4, 5, 6]);
      expect(leaf.grad).toBe(null);
    });
  });
}
