// WebGPU reduce / argReduce vs the CPU reference: every op over single, multiple, all and no axes,
// contiguous trailing rows (rows path), strided and short reductions (serial path), permuted and
// broadcast inputs, 0-d, int32/bool inputs, NaN propagation, and the two-stage path (a full sum of
// 10^6 elements).
//
// Tolerance for float sums: atol = 1e-6 · (reduced count) · max|x| — f32 accumulation in a
// different order than the CPU's float64 loop; prod uses rtol 1e-5 · count; max/min/arg* are exact.
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { REDUCE_OPS, type DType, type ReduceOp } from '../src/types.js';
import { createWebGPUKernels } from '../src/webgpu/index.js';
import { expectClose, gpuRuntime, makeView, readView, releaseAll, rng, toGPU, type Layout } from './gpu_helpers.js';

const rt = await gpuRuntime();
const gk = rt ? createWebGPUKernels(rt) : null;

interface Case { shape: number[]; axes: number[]; layout?: Layout }
const CASES: Case[] = [
  { shape: [], axes: [] },
  { shape: [1], axes: [0] },
  { shape: [7], axes: [0] },
  { shape: [3, 5], axes: [0] },
  { shape: [3, 5], axes: [-1] },
  { shape: [3, 5], axes: [0, 1] },
  { shape: [17, 65], axes: [1] },
  { shape: [65, 17], axes: [0] },
  { shape: [127, 3], axes: [0], layout: { perm: [1, 0] } },
  { shape: [4, 1, 257], axes: [2], layout: { broadcast: [0], offset: 5 } },
  { shape: [2, 3, 4, 5], axes: [1, 3], layout: { perm: [3, 1, 0, 2] } },
  { shape: [6, 7], axes: [], layout: { pad: 2 } },
  { shape: [255, 4], axes: [0, 1], layout: { pad: 1 } },
];

async function run(op: ReduceOp, c: Case, dtype: DType, outDtype: DType, seed: number): Promise<void> {
  const r = rng(seed);
  const x = makeView(dtype, c.shape, c.layout, () => {
    if (dtype === 'bool') return r() < 0.5 ? 1 : 0;
    if (dtype === 'int32') return Math.floor(r() * 21) - 10;
    return op === 'prod' ? 0.6 + 0.8 * r() : r() * 2 - 1;
  });
  const rank = c.shape.length;
  const red = new Set(c.axes.map((a) => (a < 0 ? a + rank : a)));
  const outShape = c.shape.map((s, d) => (red.has(d) ? 1 : s));
  const out = makeView(outDtype, outShape, {}, () => 0);
  const gx = toGPU(rt!, x), go = toGPU(rt!, out);
  cpuKernels.reduce(op, x, c.axes, out);
  gk!.reduce(op, gx, c.axes, go);
  const got = await readView(rt!, go, out);
  let count = 1;
  c.shape.forEach((s, d) => { if (red.has(d)) count *= s; });
  const exact = op === 'max' || op === 'min' || dtype !== 'float32';
  expectClose(got, out.buffer, exact ? 0 : op === 'prod' ? 1e-5 * count : 0, exact ? 0 : op === 'sum' ? 1e-6 * count : 0,
    `${op} ${dtype} [${c.shape}] axes [${c.axes}]`);
  releaseAll(rt!, gx, go);
}

describe('webgpu reduce', () => {
  it('float32, every op and layout', async () => {
    let seed = 1;
    for (const op of REDUCE_OPS) for (const c of CASES) await run(op, c, 'float32', 'float32', seed++);
  });

  it('int32 and bool inputs', async () => {
    let seed = 100;
    for (const op of REDUCE_OPS) {
      for (const c of [CASES[2]!, CASES[6]!, CASES[8]!]) {
        await run(op, c, 'int32', 'int32', seed++);
        if (op === 'sum') await run(op, c, 'bool', 'int32', seed++);
      }
    }
  });

  it('max/min propagate NaN', async () => {
    for (const op of ['max', 'min'] as const) {
      const x = makeView('float32', [3, 70], {}, (i) => (i === 75 || i === 3 ? NaN : i % 11));
      const out = makeView('float32', [3, 1], {}, () => 0);
      const gx = toGPU(rt!, x), go = toGPU(rt!, out);
      cpuKernels.reduce(op, x, [1], out);
      gk!.reduce(op, gx, [1], go);
      expectClose(await readView(rt!, go, out), out.buffer, 0, 0, `${op} NaN`);
      releaseAll(rt!, gx, go);
    }
  });

  it('two-stage path: a full sum of 10^6 elements and a max over 3 long rows', async () => {
    const n = 1_000_000;
    const x = makeView('float32', [n], {}, (i) => ((i * 7919) % 1000) / 1000 - 0.3);
    const out = makeView('float32', [1], {}, () => 0);
    const gx = toGPU(rt!, x), go = toGPU(rt!, out);
    cpuKernels.reduce('sum', x, [0], out);
    gk!.reduce('sum', gx, [0], go);
    const got = await readView(rt!, go, out);
    expect(Math.abs(got[0]! - out.buffer[0]!)).toBeLessThan(1e-6 * n);
    releaseAll(rt!, gx, go);
    await run('max', { shape: [3, 40000], axes: [1] }, 'float32', 'float32', 5);
    await run('sum', { shape: [40000, 2], axes: [0], layout: { perm: [1, 0] } }, 'float32', 'float32', 6);
  });

  it('argmax/argmin: ties take the first, NaN wins, any axis', async () => {
    const r = rng(9);
    const cases: { shape: number[]; axis: number; layout?: Layout }[] = [
      { shape: [7], axis: 0 }, { shape: [1], axis: 0 }, { shape: [3, 65], axis: 1 },
      { shape: [65, 3], axis: 0, layout: { perm: [1, 0] } }, { shape: [2, 5, 3], axis: 1, layout: { offset: 2 } }, { shape: [], axis: 0 },
    ];
    for (const op of ['argmax', 'argmin'] as const) {
      for (const dtype of ['float32', 'int32'] as const) {
        for (const c of cases) {
          const x = makeView(dtype, c.shape, c.layout, () => Math.floor(r() * 5));
          if (dtype === 'float32' && x.buffer.length > 9) x.buffer[9] = NaN;
          const outShape = c.shape.map((s, d) => (d === c.axis ? 1 : s));
          const out = makeView('int32', outShape, {}, () => -1);
          const gx = toGPU(rt!, x), go = toGPU(rt!, out);
          cpuKernels.argReduce(op, x, c.axis, out);
          gk!.argReduce(op, gx, c.axis, go);
          expectClose(await readView(rt!, go, out), out.buffer, 0, 0, `${op} ${dtype} [${c.shape}] axis ${c.axis}`);
          releaseAll(rt!, gx, go);
        }
      }
    }
  });
});
