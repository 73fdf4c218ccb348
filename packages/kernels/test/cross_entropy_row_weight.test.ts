// crossEntropy's rowWeight output — w[t] per row (1 without class weights), 0 where the target is
// ignored — on the cpu reference, the fast cpu tier and WebGPU (float32, float16, bfloat16 storage),
// for one row, one class and several hundred classes; and the loss and lse written beside it are
// the same, bit for bit, as without it.
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { fastCpuKernels } from '../src/cpu_fast/index.js';
import { bfloat16Bits, bfloat16Value, float16Bits, float16Value } from '../src/half.js';
import type { DType, TypedArray, View } from '../src/types.js';
import { createWebGPUKernels } from '../src/webgpu/index.js';
import { gpuRuntime, makeView, readView, releaseAll, rng, toGPU } from './gpu_helpers.js';

const rt = await gpuRuntime();
const gk = createWebGPUKernels(rt);
const IGNORE = -100;
const enc = (dtype: DType) => (v: number): number => (dtype === 'float16' ? float16Bits(v) : dtype === 'bfloat16' ? bfloat16Bits(v) : v);
const dec = (dtype: DType) => (v: number): number => (dtype === 'float16' ? float16Value(v) : dtype === 'bfloat16' ? bfloat16Value(v) : v);

function operands(dtype: DType, N: number, C: number, weighted: boolean) {
  const r = rng(N * 31 + C);
  const e = enc(dtype);
  const logits = makeView(dtype, [N, C], { offset: 1 }, () => e(r() * 6 - 3));
  const targets = makeView('int32', [N], {}, (n) => (n % 3 === 1 ? IGNORE : Math.floor(r() * C)));
  // Weights exact in every storage: multiples of 1/4 up to 3.
  const weight = weighted ? makeView(dtype, [C], {}, (c) => e(0.25 * (1 + (c * 5) % 12))) : null;
  const expected = Array.from({ length: N }, (_, n) => {
    const t = targets.buffer[n]!;
    return t === IGNORE ? 0 : weight ? dec(dtype)(weight.buffer[t]!) : 1;
  });
  return { logits, targets, weight, expected };
}

const SIZES: [number, number][] = [[1, 1], [7, 5], [4, 300]];

describe('crossEntropy rowWeight', () => {
  it('cpu reference and fast tier: w[t] per row, 0 where ignored; loss and lse unchanged', () => {
    for (const [name, K] of [['reference', cpuKernels], ['fast', fastCpuKernels]] as const) {
      for (const dtype of ['float32', 'float16'] as DType[]) {
        for (const [N, C] of SIZES) {
          for (const weighted of [false, true]) {
            const what = `${name} ${dtype} [${N}, ${C}] weighted ${weighted}`;
            const { logits, targets, weight, expected } = operands(dtype, N, C, weighted);
            const opts = { ignoreIndex: IGNORE, labelSmoothing: 0.1 };
            const out = () => [makeView(dtype, [N]), makeView(dtype, [N])] as View<TypedArray>[];
            const [l0, s0] = out(), [l1, s1] = out();
            const rw = makeView(dtype, [N], { offset: 2 }, () => enc(dtype)(7));
            K.crossEntropy(logits, targets, weight, opts, l0!, s0!);
            K.crossEntropy(logits, targets, weight, opts, l1!, s1!, rw);
            expect(Array.from(rw.buffer.slice(2), dec(dtype)), what).toEqual(expected);
            expect(Array.from(l1!.buffer), `${what} loss`).toEqual(Array.from(l0!.buffer));
            expect(Array.from(s1!.buffer), `${what} lse`).toEqual(Array.from(s0!.buffer));
          }
        }
      }
    }
  });

  it('webgpu: w[t] per row, 0 where ignored (float32, float16, bfloat16); loss and lse unchanged', async () => {
    for (const dtype of ['float32', 'float16', 'bfloat16'] as DType[]) {
      for (const [N, C] of SIZES) {
        for (const weighted of [false, true]) {
          const what = `${dtype} [${N}, ${C}] weighted ${weighted}`;
          const { logits, targets, weight, expected } = operands(dtype, N, C, weighted);
          const opts = { ignoreIndex: IGNORE, labelSmoothing: 0.1 };
          const l0 = makeView(dtype, [N]), s0 = makeView(dtype, [N]), rw = makeView(dtype, [N], { offset: 2 }, () => enc(dtype)(7));
          const [gl, gt, gl0, gs0, gl1, gs1, grw] = [logits, targets, l0, s0, l0, s0, rw].map((v) => toGPU(rt, v));
          const gw = weight ? toGPU(rt, weight) : null;
          gk.crossEntropy(gl!, gt!, gw, opts, gl0!, gs0!);
          gk.crossEntropy(gl!, gt!, gw, opts, gl1!, gs1!, grw!);
          expect(Array.from((await readView(rt, grw!, rw)).slice(2), dec(dtype)), what).toEqual(expected);
          expect(Array.from(await readView(rt, gl1!, l0)), `${what} loss`).toEqual(Array.from(await readView(rt, gl0!, l0)));
          expect(Array.from(await readView(rt, gs1!, s0)), `${what} lse`).toEqual(Array.from(await readView(rt, gs0!, s0)));
          releaseAll(rt, gl, gt, gl0, gs0, gl1, gs1, grw, gw);
        }
      }
    }
  });
});
