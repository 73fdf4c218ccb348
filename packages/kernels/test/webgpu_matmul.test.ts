// WebGPU matmul vs the CPU reference: every variant × every transpose combination, at shapes that
// are not multiples of any tile (1, 3, 7, 17, 63, 65, 127, 257, one ~1000), batched with broadcast
// batch dims, offsets, padded rows, fully generic strides, and a strided out.
//
// Tolerance: |gpu − cpu| ≤ 1e-4 · K · max|a| · max|b| (plus 1e-6): the f32 accumulation error of a
// length-K dot product grows at most linearly in K; the CPU reference accumulates in f64.
import { afterAll, describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { matmul, selectMatmulVariant, setMatmulVariant, MATMUL_VARIANTS, type MatmulVariant } from '../src/webgpu/matmul.js';
import type { TypedArray, View } from '../src/types.js';
import { expectClose, gpuRuntime, makeView, readView, releaseAll, rng, toGPU, type Layout } from './gpu_helpers.js';

const rt = await gpuRuntime();

interface Case {
  M: number; N: number; K: number;
  batch?: number[];
  /** batch dims broadcast (stride 0) in a / b */
  bcastA?: number[]; bcastB?: number[];
  transA?: boolean; transB?: boolean;
  offset?: number; pad?: number;
  /** use fully generic strides (every other element) for a / b */
  genericA?: boolean; genericB?: boolean;
  /** write out transposed (strided out) */
  outT?: boolean;
  dtype?: 'float32' | 'int32';
}

function operand(shape: number[], trans: boolean, bcast: number[], c: Case, generic: boolean, r: () => number, dtype: 'float32' | 'int32'): View<TypedArray> {
  const rank = shape.length;
  const fill = (i: number) => dtype === 'int32' ? Math.floor(r() * 7) - 3 : (i % 13 === 5 ? 0 : r() * 2 - 1);
  if (generic) {
    // every other element of a row-major [.., rows, 2·cols] buffer, rows also 2 apart → no unit stride
    const v = makeView(dtype, shape.map((s, d) => (d >= rank - 2 ? 2 * s : s)), { broadcast: bcast, offset: c.offset }, fill);
    return { ...v, shape, strides: v.strides.map((s, d) => (d >= rank - 2 ? 2 * s : s)) };
  }
  const perm = [...Array(rank).keys()];
  if (trans) [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
  const layout: Layout = { perm, broadcast: bcast };
  if (c.offset !== undefined) layout.offset = c.offset;
  if (c.pad !== undefined) layout.pad = c.pad;
  return makeView(dtype, shape, layout, fill);
}

async function check(c: Case, variant: MatmulVariant | undefined, seed: number): Promise<void> {
  const r = rng(seed);
  const batch = c.batch ?? [];
  const dtype = c.dtype ?? 'float32';
  const a = operand([...batch, c.M, c.K], !!c.transA, c.bcastA ?? [], c, !!c.genericA, r, dtype);
  const b = operand([...batch, c.K, c.N], !!c.transB, c.bcastB ?? [], c, !!c.genericB, r, dtype);
  const rank = batch.length + 2;
  const outPerm = [...Array(rank).keys()];
  if (c.outT) [outPerm[rank - 2], outPerm[rank - 1]] = [outPerm[rank - 1]!, outPerm[rank - 2]!];
  const out = makeView(dtype, [...batch, c.M, c.N], { perm: outPerm, offset: 3 }, () => -7);
  const ga = toGPU(rt!, a), gb = toGPU(rt!, b), go = toGPU(rt!, out);
  cpuKernels.matmul(a, b, out);
  matmul(rt!, ga, gb, go, variant ? { variant } : {});
  const got = await readView(rt!, go, out);
  let ma = 0, mb = 0;
  for (const x of a.buffer) ma = Math.max(ma, Math.abs(x));
  for (const x of b.buffer) mb = Math.max(mb, Math.abs(x));
  const atol = 1e-4 * Math.max(c.K, 1) * ma * mb + 1e-6;
  expectClose(got, out.buffer, 0, atol, `matmul ${JSON.stringify(c)} variant ${variant ?? 'auto'}`);
  releaseAll(rt!, ga, gb, go);
}

const SIZES: [number, number, number][] = [
  [1, 1, 1], [1, 7, 17], [3, 1, 63], [7, 17, 3], [17, 63, 65], [63, 65, 127],
  [65, 127, 17], [127, 257, 7], [257, 63, 129], [1, 257, 65], [65, 1, 257], [17, 3, 1000],
];
// The tiled kernel's pipelines take seconds each to compile on lavapipe: its sweep keeps to sizes that
// share one tile configuration and layout key per transpose combination (still every edge case).
const SIZES_TILED: [number, number, number][] = [[1, 1, 1], [7, 17, 3], [17, 63, 65], [33, 47, 127], [257, 63, 129], [3, 60, 1000]];
const TRANSPOSES: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

describe('webgpu matmul', () => {
  afterAll(() => setMatmulVariant('auto'));

  for (const variant of MATMUL_VARIANTS) {
    it(`${variant}: every transpose combination at awkward sizes`, async () => {
      let seed = 1;
      for (const [M, N, K] of variant === 'tiled' || variant === 'splitk' ? SIZES_TILED : SIZES) {
        for (const [transA, transB] of TRANSPOSES) await check({ M, N, K, transA, transB }, variant, seed++);
      }
    });

    it(`${variant}: batched with broadcast batch dims, offsets, padding, generic strides, strided out`, async () => {
      let seed = 100;
      const cases: Case[] = [
        { M: 17, N: 65, K: 33, batch: [2, 3], bcastB: [0] },
        { M: 64, N: 64, K: 64, batch: [3], bcastA: [0], transB: true },
        { M: 7, N: 63, K: 65, batch: [2, 1, 3], bcastA: [2], transA: true, outT: true },
        { M: 65, N: 17, K: 127, offset: 5, pad: 3 },
        { M: 68, N: 72, K: 36, offset: 4, pad: 4, transA: true, transB: true },
        { M: 33, N: 21, K: 40, genericA: true },
        { M: 21, N: 33, K: 19, genericB: true, transA: true },
        { M: 9, N: 70, K: 50, genericA: true, genericB: true, batch: [2], bcastA: [0] },
        { M: 1, N: 1, K: 0 },
        { M: 5, N: 6, K: 0, batch: [2] },
      ];
      // tiled/splitk: the cases whose layout keys differ from the sweep's cost a compile each; keep four.
      const pick = variant === 'tiled' || variant === 'splitk' ? [cases[0]!, cases[3]!, cases[6]!, cases[8]!] : cases;
      for (const c of pick) await check(c, variant, seed++);
    });
  }

  it('a ~1000 case with every variant', async () => {
    for (const variant of MATMUL_VARIANTS) await check({ M: 1000, N: 63, K: 129, transB: true }, variant, 7);
    await check({ M: 130, N: 96, K: 80 }, 'tiled', 12); // the 64×64 configuration, vec4 tile loads of b
    await check({ M: 64, N: 48, K: 1000 }, 'splitk', 8);
  });

  it('int32 operands (through the gemv kernel) and setMatmulVariant', async () => {
    await check({ M: 7, N: 9, K: 13, dtype: 'int32', batch: [2] }, undefined, 9);
    setMatmulVariant('register');
    await check({ M: 17, N: 19, K: 23 }, undefined, 10);
    setMatmulVariant('auto');
    await check({ M: 40, N: 40, K: 40 }, undefined, 11);
  });

  it('selectMatmulVariant follows its documented rule', () => {
    const hw = { isSoftware: false }, sw = { isSoftware: true };
    expect(selectMatmulVariant({ batch: 4, M: 1, N: 4096, K: 4096 }, hw)).toBe('gemv');
    expect(selectMatmulVariant({ batch: 1, M: 4096, N: 1, K: 64 }, hw)).toBe('gemv');
    expect(selectMatmulVariant({ batch: 1, M: 8, N: 8, K: 8 }, hw)).toBe('gemv');
    expect(selectMatmulVariant({ batch: 1, M: 512, N: 512, K: 512 }, hw)).toBe('tiled');
    expect(selectMatmulVariant({ batch: 1, M: 512, N: 512, K: 512 }, sw)).toBe('register');
    expect(selectMatmulVariant({ batch: 1, M: 64, N: 64, K: 8192 }, hw)).toBe('splitk');
    expect(selectMatmulVariant({ batch: 64, M: 64, N: 64, K: 8192 }, hw)).toBe('tiled');
    expect(() => setMatmulVariant('nope' as MatmulVariant)).toThrow(RangeError);
  });
});
