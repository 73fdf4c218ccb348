// The WebGPU matmul on float16 and bfloat16 storage, read and written in place: every variant
// (forced) per 16-bit dtype at shapes that are not multiples of any tile, K = 1 and K = 0, batch
// broadcast, transposed operands as strides, offsets and a transposed (strided) out; mixed
// operands (float16 × float32, bfloat16 × float16 → float32); and the launch itself — one dispatch
// (two for split-k), no buffer requested for an operand (split-k's f32 partials aside).
//
// Reference: the float64 cpu matmul of the same (rounded) inputs. Tolerance (dtype_tolerance.ts):
// FACTOR.matmul(out dtype, f32 accumulation, K) units of eps relative to Σ|a·b|. Elements of out's
// buffer outside the view must keep their bits.
import { afterAll, describe, expect, it } from 'vitest';
import { cpuKernels, elementOffsets, readAll, storedBits } from '../src/cpu/index.js';
import type { DType, TypedArray, View } from '../src/types.js';
import { matmul, setMatmulVariant, MATMUL_VARIANTS, type MatmulVariant } from '../src/webgpu/matmul.js';
import { createWebGPUKernels } from '../src/webgpu/index.js';
import { gpuRuntime, makeView, readView, releaseAll, rng, toGPU, type Layout } from './gpu_helpers.js';
import { FACTOR, expectWithinEps } from './dtype_tolerance.js';

const rt = await gpuRuntime();

type FloatDType = 'float32' | 'float16' | 'bfloat16';

interface Case {
  M: number; N: number; K: number;
  batch?: number[];
  bcastA?: number[]; bcastB?: number[];
  transA?: boolean; transB?: boolean; outT?: boolean;
  offset?: number;
}

const SENTINEL = -7.5; // exact in every format

function operand(d: FloatDType, shape: number[], trans: boolean, bcast: number[], offset: number, r: () => number): View<TypedArray> {
  const rank = shape.length;
  const perm = [...Array(rank).keys()];
  if (trans) [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
  const layout: Layout = { perm, broadcast: bcast, offset };
  return makeView(d, shape, layout, () => storedBits(d, 4 * r() - 2));
}

/** A contiguous float64 view of `values` (logical order). */
function f64(shape: readonly number[], values: Float64Array): View<TypedArray> {
  const v = makeView('float64', shape);
  v.buffer.set(values);
  return v;
}

/** Runs `c` with a/b/out of the given dtypes and checks it against the float64 reference; returns the runtime stats' deltas of the launch. */
async function check(c: Case, da: FloatDType, db: FloatDType, dout: FloatDType, variant: MatmulVariant, seed: number): Promise<{ dispatches: number; buffers: number }> {
  const r = rng(seed);
  const batch = c.batch ?? [];
  const off = c.offset ?? 0;
  const a = operand(da, [...batch, c.M, c.K], !!c.transA, c.bcastA ?? [], off, r);
  const b = operand(db, [...batch, c.K, c.N], !!c.transB, c.bcastB ?? [], off, r);
  const rank = batch.length + 2;
  const outPerm = [...Array(rank).keys()];
  if (c.outT) [outPerm[rank - 2], outPerm[rank - 1]] = [outPerm[rank - 1]!, outPerm[rank - 2]!];
  const out = makeView(dout, [...batch, c.M, c.N], { perm: outPerm, offset: 3 }, () => storedBits(dout, SENTINEL));

  const a64 = f64(a.shape, readAll(a)), b64 = f64(b.shape, readAll(b));
  const ref = makeView('float64', out.shape), scale = makeView('float64', out.shape);
  cpuKernels.matmul(a64, b64, ref);
  cpuKernels.matmul(f64(a.shape, readAll(a64).map(Math.abs)), f64(b.shape, readAll(b64).map(Math.abs)), scale);

  const ga = toGPU(rt, a), gb = toGPU(rt, b), go = toGPU(rt, out);
  const before = rt.stats();
  matmul(rt, ga, gb, go, { variant });
  const after = rt.stats();
  const got = { ...out, buffer: await readView(rt, go, out) };
  const what = `${variant} ${da} @ ${db} → ${dout} ${JSON.stringify(c)}`;
  expectWithinEps(readAll(got), readAll(ref), dout, FACTOR.matmul(dout, 'float32', c.K), what, readAll(scale));
  const inside = new Set(elementOffsets(out));
  for (let i = 0; i < got.buffer.length; i++) {
    if (!inside.has(i)) expect(got.buffer[i], `${what}: element ${i} outside out`).toBe(out.buffer[i]);
  }
  releaseAll(rt, ga, gb, go);
  return { dispatches: after.dispatches - before.dispatches, buffers: after.allocations + after.reuses - before.allocations - before.reuses };
}

// The tiled kernel's pipelines take seconds each to compile on lavapipe: its cases keep to few
// layout keys (each case below is one key per dtype).
const CASES: Case[] = [
  { M: 7, N: 17, K: 33 },
  { M: 5, N: 9, K: 1 },
  { M: 17, N: 21, K: 19, batch: [2, 3], bcastB: [0] },
  { M: 33, N: 20, K: 40, transA: true, transB: true, outT: true, offset: 4 },
];
/** split-k needs K past one tile step to split: its cases have K of 100 and more. */
const SPLITK_CASES: Case[] = [
  { M: 7, N: 17, K: 133 },
  { M: 17, N: 21, K: 100, batch: [2, 3], bcastA: [1] },
  { M: 33, N: 20, K: 140, transA: true, transB: true, outT: true, offset: 4 },
];

describe.each(['float16', 'bfloat16'] as const)('webgpu matmul on %s storage (f32 accumulation, rounded on store)', (d) => {
  afterAll(() => setMatmulVariant('auto'));

  for (const variant of MATMUL_VARIANTS) {
    it(`${variant}: awkward shapes, K = 1, batch broadcast, transposed operands and out`, async () => {
      let seed = 1;
      for (const c of variant === 'splitk' ? SPLITK_CASES : CASES) {
        const { dispatches, buffers } = await check(c, d, d, d, variant, seed++);
        // No temporary for an operand: one dispatch; split-k adds its reduction and its f32 partials.
        expect({ dispatches, buffers }, `${variant} ${JSON.stringify(c)}`).toEqual(variant === 'splitk' ? { dispatches: 2, buffers: 1 } : { dispatches: 1, buffers: 0 });
      }
    });
  }

  it('K = 0 writes zeros', async () => {
    const { dispatches, buffers } = await check({ M: 3, N: 5, K: 0, batch: [2] }, d, d, d, 'tiled', 50);
    expect({ dispatches, buffers }).toEqual({ dispatches: 1, buffers: 0 });
  });
});

describe('webgpu matmul with mixed storage', () => {
  const MIXED: [FloatDType, FloatDType, FloatDType][] = [['float16', 'float32', 'float32'], ['bfloat16', 'float16', 'float32'], ['float32', 'bfloat16', 'bfloat16']];
  it.each(MIXED)('%s @ %s → %s (register and gemv)', async (da, db, dout) => {
    await check({ M: 9, N: 13, K: 21, transB: true }, da, db, dout, 'register', 60);
    await check({ M: 1, N: 13, K: 21 }, da, db, dout, 'gemv', 61);
  });

  it('float16 through the KernelSet: no float32 temporary, and float64 or a float/int mix is a typed error naming matmul', async () => {
    const gk = createWebGPUKernels(rt);
    const r = rng(70);
    const a = operand('float16', [6, 10], false, [], 0, r), b = operand('float16', [10, 7], true, [], 0, r);
    const out = makeView('float16', [6, 7]);
    const g = [a, b, out].map((v) => toGPU(rt, v));
    const before = rt.stats();
    gk.matmul(g[0]!, g[1]!, g[2]!);
    const after = rt.stats();
    expect(after.dispatches - before.dispatches).toBe(1);
    expect(after.allocations + after.reuses - before.allocations - before.reuses).toBe(0);
    const bad = (dtype: DType): View<GPUBuffer> => ({ ...g[1]!, dtype });
    expect(() => gk.matmul(g[0]!, bad('float64'), g[2]!)).toThrow(/matmul: .*float16 @ float64 → float16.*no f64/);
    expect(() => gk.matmul(g[0]!, bad('int32'), g[2]!)).toThrow(TypeError);
    releaseAll(rt, ...g);
  });
});
