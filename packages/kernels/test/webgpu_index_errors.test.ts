// Out-of-range indices found by WebGPU kernels: the error is raised by reads of the faulty result
// and of data computed from it, by no other read, with the op, the index and the size.
import { describe, expect, it } from 'vitest';
import type { TypedArray, View } from '../src/types.js';
import { bindings, createWebGPUKernels, uniform, WebGPUIndexError } from '../src/webgpu/index.js';
import { gpuRuntime, makeView, readView, releaseAll, toGPU } from './gpu_helpers.js';

const rt = await gpuRuntime();
const gk = createWebGPUKernels(rt);

const table = makeView('float32', [4, 3], {}, (i) => i); // 4 rows: valid indices 0..3
const ids = (values: number[]) => makeView('int32', [values.length], {}, (i) => values[i]!);
const rows = (n: number) => makeView('float32', [n, 3], {}, () => 0);

/** indexSelect of `values` from the table on the GPU: [cpu view of the output, its GPU view, temporaries]. */
function select(gt: View<GPUBuffer>, values: number[]): [View<TypedArray>, View<GPUBuffer>, View<GPUBuffer>] {
  const out = rows(values.length);
  const gi = toGPU(rt, ids(values)), go = toGPU(rt, out);
  gk.indexSelect(gt, 0, gi, go);
  return [out, go, gi];
}

async function indexError(p: Promise<unknown>): Promise<WebGPUIndexError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(WebGPUIndexError);
  return e as WebGPUIndexError;
}

describe('webgpu index errors', () => {
  it('are raised by the read of the faulty result, typed, with op, index and size; never by an unrelated read', async () => {
    const gt = toGPU(rt, table);
    const [bad, gbad, gi1] = select(gt, [1, 9, 0]);
    const [good, ggood, gi2] = select(gt, [3, 2]);
    // reads issued after the faulty dispatch, of buffers it does not concern
    expect(Array.from(await readView(rt, ggood, good))).toEqual([9, 10, 11, 6, 7, 8]);
    expect(Array.from(await readView(rt, gt, table))).toEqual(Array.from(table.buffer));
    const e = await indexError(readView(rt, gbad, bad));
    expect(e).toBeInstanceOf(RangeError);
    expect([e.op, e.index, e.size]).toEqual(['indexSelect', 9, 4]);
    expect(e.message).toMatch(/indexSelect: index 9 is out of range for a dimension of size 4/);
    // the result stays invalid; other buffers stay readable
    await indexError(readView(rt, gbad, bad));
    expect(Array.from(await readView(rt, ggood, good))).toEqual([9, 10, 11, 6, 7, 8]);
    releaseAll(rt, gt, gbad, gi1, ggood, gi2);
  });

  it('follow the faulty result into data computed from it (kernels and buffer copies), and no further', async () => {
    const gt = toGPU(rt, table);
    const [bad, gbad, gi] = select(gt, [-3]);
    const viaKernel = rows(1), viaCopy = rows(1), unrelated = rows(4);
    const [gk1, gc1, gu] = [viaKernel, viaCopy, unrelated].map((v) => toGPU(rt, v)) as [View<GPUBuffer>, View<GPUBuffer>, View<GPUBuffer>];
    gk.unary('neg', gbad, gk1);
    rt.copyBuffer(gk1.buffer, gc1.buffer, 12);
    gk.unary('neg', gt, gu);
    expect((await indexError(readView(rt, gc1, viaCopy))).index).toBe(-3);
    expect((await indexError(readView(rt, gk1, viaKernel))).op).toBe('indexSelect');
    expect(Array.from(await readView(rt, gu, unrelated))).toEqual(Array.from(table.buffer, (v) => -v));
    await indexError(readView(rt, gbad, bad));
    releaseAll(rt, gt, gbad, gi, gk1, gc1, gu);
  });

  it('keep each faulty dispatch apart, in one batch and across more checked dispatches than a batch logs', async () => {
    const gt = toGPU(rt, table);
    const made: [View<TypedArray>, View<GPUBuffer>, View<GPUBuffer>][] = [];
    for (let k = 0; k < 150; k++) made.push(select(gt, k === 40 ? [0, 5] : k === 100 ? [7] : k === 149 ? [2, 2, -1] : [k % 4]));
    for (let k = 0; k < made.length; k++) {
      const [out, go] = made[k]!;
      if (k === 40 || k === 100 || k === 149) {
        const e = await indexError(readView(rt, go, out));
        expect([e.op, e.index, e.size]).toEqual(['indexSelect', k === 40 ? 5 : k === 100 ? 7 : -1, 4]);
      } else {
        const got = Array.from(await readView(rt, go, out));
        expect(got).toEqual([0, 1, 2].map((j) => (k % 4) * 3 + j));
      }
    }
    for (const [, go, gi] of made) releaseAll(rt, go, gi);
    releaseAll(rt, gt);
  });

  it('do not follow a released buffer into its next use', async () => {
    const gt = toGPU(rt, table);
    await rt.sync();
    rt.trim(); // an empty pool: the next released buffers are the next ones handed out
    const [, gbad, gi] = select(gt, [4]);
    await rt.sync();
    releaseAll(rt, gbad, gi);
    await rt.sync();
    const [good, ggood, gi2] = select(gt, [1]);
    expect(ggood.buffer).toBe(gbad.buffer);
    expect(Array.from(await readView(rt, ggood, good))).toEqual([3, 4, 5]);
    releaseAll(rt, gt, ggood, gi2);
  });

  it('are not reported for a batch that never ran (its validation error is)', async () => {
    const gt = toGPU(rt, table);
    const [bad, gbad, gi] = select(gt, [9]);
    await indexError(readView(rt, gbad, bad));
    await rt.sync();
    const broken = rt.pipeline('test.broken.batch', () => ({ bindings: bindings([uniform('U')]), code: 'not wgsl' }));
    const [out, go, gi2] = select(gt, [1]);
    rt.dispatch(broken, [], new ArrayBuffer(16), [1]); // makes the whole submit invalid
    const e = await readView(rt, go, out).then(() => rt.sync()).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(WebGPUIndexError);
    expect((e as Error).message).toMatch(/test\.broken\.batch/);
    await rt.sync();
    releaseAll(rt, gt, gbad, gi, go, gi2);
  });

  it('are reported under the op and dimension that reportIndexErrorsAs names', async () => {
    const gt = toGPU(rt, table);
    const [bad, gbad, gi] = rt.reportIndexErrorsAs('oneHot', 'numClasses', () => select(gt, [6]));
    const e = await indexError(readView(rt, gbad, bad));
    expect([e.op, e.index, e.size]).toEqual(['oneHot', 6, 4]);
    expect(e.message).toMatch(/^oneHot: index 6 is out of range for numClasses of size 4/);
    const [bad2, gbad2, gi2] = select(gt, [6]);
    expect((await indexError(readView(rt, gbad2, bad2))).op).toBe('indexSelect');
    releaseAll(rt, gt, gbad, gi, gbad2, gi2);
  });

  it('name the crossEntropy target and class count', async () => {
    const logits = toGPU(rt, makeView('float32', [2, 5], {}, (i) => i / 10));
    const targets = toGPU(rt, makeView('int32', [2], {}, (i) => [4, 5][i]!));
    const lossView = makeView('float32', [2], {}, () => 0);
    const [loss, lse] = [toGPU(rt, lossView), toGPU(rt, makeView('float32', [2], {}, () => 0))];
    gk.crossEntropy(logits, targets, null, { ignoreIndex: -100, labelSmoothing: 0 }, loss, lse);
    const e = await indexError(readView(rt, loss, lossView));
    expect([e.op, e.index, e.size]).toEqual(['crossEntropy', 5, 5]);
    expect(Array.from(await readView(rt, logits, makeView('float32', [2, 5])))).toHaveLength(10);
    releaseAll(rt, logits, targets, loss, lse);
  });
});
