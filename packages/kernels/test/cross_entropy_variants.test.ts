// The cross-entropy kernels' variants:
// - crossEntropy's rowWeight output — w[t] per row (1 without class weights), 0 where the target is
//   ignored — on the cpu reference, the fast cpu tier and WebGPU (float32, float16, bfloat16 storage),
//   for one row, one class and several hundred classes; the loss and lse beside it unchanged, bit for bit;
//   on WebGPU also written beside the losses in one buffer (the rows of a mean's [2, N] sums);
// - crossEntropyBackward reading dloss through its stride (0: one value for every row, as a mean's
//   gradient arrives; 2 with an offset) against a contiguous copy, bit for bit (WebGPU);
// - crossEntropyBackward with a divisor against a division kernel writing dloss / divisor first,
//   bit for bit (cpu reference, fast tier, WebGPU), and its refusal of a 16-bit dloss.
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { fastCpuKernels } from '../src/cpu_fast/index.js';
import { bfloat16Bits, bfloat16Value, float16Bits, float16Value } from '../src/half.js';
import type { DType, TypedArray, View } from '../src/types.js';
import { createWebGPUKernels } from '../src/webgpu/index.js';
import { gpuRuntime, makeView, readView, releaseAll, rng, toGPU } from './gpu_helpers.js';

const bitsOf = (a: TypedArray): ArrayLike<number> => (a instanceof Float32Array || a instanceof Float64Array ? new Uint8Array(a.buffer, a.byteOffset, a.byteLength) : a);

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

describe('crossEntropy rowWeight beside the losses in one buffer', () => {
  it('webgpu: rows 0 and 1 of one [2, N] buffer get the losses and the row weights, as in buffers of their own', async () => {
    for (const [N, C] of SIZES) {
      const { logits, targets, weight, expected } = operands('float32', N, C, true);
      const opts = { ignoreIndex: IGNORE, labelSmoothing: 0 };
      const pair = makeView('float32', [2, N], { offset: 1 }, () => NaN), loss = makeView('float32', [N]), lse = makeView('float32', [N]);
      const [gl, gt, gw, gp, gloss, glse, glse2] = [logits, targets, weight!, pair, loss, lse, lse].map((v) => toGPU(rt, v));
      gk.crossEntropy(gl!, gt!, gw!, opts, gloss!, glse!);
      const row = (k: number): View<GPUBuffer> => ({ ...gp!, shape: [N], strides: [1], offset: 1 + k * N });
      gk.crossEntropy(gl!, gt!, gw!, opts, row(0), glse2!, row(1));
      const got = await readView(rt, gp!, pair);
      expect(Array.from(bitsOf(got.slice(1, 1 + N))), `[${N}, ${C}] losses`).toEqual(Array.from(bitsOf(await readView(rt, gloss!, loss))));
      expect(Array.from(got.slice(1 + N)), `[${N}, ${C}] row weights`).toEqual(expected);
      releaseAll(rt, gl, gt, gw, gp, gloss, glse, glse2);
    }
  });
});

describe('crossEntropyBackward with a strided dloss', () => {
  it('webgpu: stride 0 and stride 2 equal a contiguous dloss bit for bit (float32, float16), ignored rows included', async () => {
    const opts = { ignoreIndex: -100, labelSmoothing: 0.1 };
    for (const dtype of ['float32', 'float16'] as DType[]) {
      for (const [N, C] of [[1, 1], [5, 7], [65, 300]] as const) {
        const r = rng(N * 1000 + C);
        const logits = makeView(dtype, [N, C], {}, () => (dtype === 'float16' ? 0x3c00 + Math.floor(r() * 512) : r() * 6 - 3));
        const targets = makeView('int32', [N], {}, (n) => (n % 4 === 1 ? -100 : Math.floor(r() * C)));
        const loss = makeView(dtype, [N]), lse = makeView(dtype, [N]);
        const [gl, gt, gloss, glse] = [logits, targets, loss, lse].map((v) => toGPU(rt, v));
        gk.crossEntropy(gl!, gt!, null, opts, gloss!, glse!);
        const one = dtype === 'float16' ? 0x3a00 : 0.75;
        const layouts: [string, View<TypedArray>, View<TypedArray>][] = [
          ['stride 0', makeView(dtype, [N], { broadcast: [0], offset: 3 }, () => one), makeView(dtype, [N], {}, () => one)],
          ['stride 2', { ...makeView(dtype, [2 * N], { offset: 1 }, (k) => (k % 2 === 1 ? one : 0)), shape: [N], strides: [2] }, makeView(dtype, [N], {}, () => one)],
        ];
        for (const [how, strided, contiguous] of layouts) {
          const [gsd, gcd] = [strided, contiguous].map((v) => toGPU(rt, v));
          const dxs = makeView(dtype, [N, C]), dxc = makeView(dtype, [N, C]);
          const [gdxs, gdxc] = [dxs, dxc].map((v) => toGPU(rt, v));
          gk.crossEntropyBackward(gl!, gt!, null, glse!, gsd!, opts, gdxs!);
          gk.crossEntropyBackward(gl!, gt!, null, glse!, gcd!, opts, gdxc!);
          const a = await readView(rt, gdxs!, dxs), b = await readView(rt, gdxc!, dxc);
          expect(Array.from(bitsOf(a)), `${dtype} [${N}, ${C}] ${how}`).toEqual(Array.from(bitsOf(b)));
          if (C > 1) expect(Array.from(bitsOf(a)).some((x) => x !== 0), `${dtype} [${N}, ${C}] ${how}: a gradient was written`).toBe(true);
          releaseAll(rt, gsd, gcd, gdxs, gdxc);
        }
        releaseAll(rt, gl, gt, gloss, glse);
      }
    }
  });
});

describe('crossEntropyBackward with a divisor', () => {
  it('equals dividing dloss by a division kernel first, bit for bit: cpu reference, fast tier and webgpu', async () => {
    const opts = { ignoreIndex: IGNORE, labelSmoothing: 0.1 };
    for (const [N, C] of SIZES) {
      for (const weighted of [false, true]) {
        const what = `[${N}, ${C}] weighted ${weighted}`;
        const { logits, targets, weight } = operands('float32', N, C, weighted);
        const lse = makeView('float32', [N]), loss = makeView('float32', [N]);
        cpuKernels.crossEntropy(logits, targets, weight, opts, loss, lse);
        const r = rng(N + C);
        const dloss = makeView('float32', [N], { broadcast: [0], offset: 1 }, () => 1 + r());
        const divisor = makeView('float32', [], { offset: 2 }, () => 3 + 7 * r());
        const q = makeView('float32', [N]);
        cpuKernels.binary('div', dloss, { ...divisor, shape: [N], strides: [0] }, q);
        for (const [name, K] of [['reference', cpuKernels], ['fast', fastCpuKernels]] as const) {
          const want = makeView('float32', [N, C]), got = makeView('float32', [N, C]);
          K.crossEntropyBackward(logits, targets, weight, lse, q, opts, want);
          K.crossEntropyBackward(logits, targets, weight, lse, dloss, opts, got, divisor);
          expect(Array.from(bitsOf(got.buffer)), `${name} ${what}`).toEqual(Array.from(bitsOf(want.buffer)));
        }
        const [gl, gt, glse, gd, gv, gq] = [logits, targets, lse, dloss, divisor, makeView('float32', [N])].map((v) => toGPU(rt, v));
        const gw = weight ? toGPU(rt, weight) : null;
        gk.binary('div', gd!, { ...gv!, shape: [N], strides: [0] }, gq!);
        const want = makeView('float32', [N, C]);
        const [gwant, ggot] = [want, want].map((v) => toGPU(rt, v));
        gk.crossEntropyBackward(gl!, gt!, gw, glse!, gq!, opts, gwant!);
        gk.crossEntropyBackward(gl!, gt!, gw, glse!, gd!, opts, ggot!, gv!);
        expect(Array.from(bitsOf(await readView(rt, ggot!, want))), `webgpu ${what}`).toEqual(Array.from(bitsOf(await readView(rt, gwant!, want))));
        releaseAll(rt, gl, gt, glse, gd, gv, gq, gw, gwant, ggot);
      }
    }
  });

  it('refuses a 16-bit dloss on webgpu and the cpu reference', () => {
    const { logits, targets } = operands('float16', 2, 3, false);
    const lse = makeView('float16', [2]), dloss = makeView('float16', [2]), dx = makeView('float16', [2, 3]), divisor = makeView('float32', [1]);
    expect(() => cpuKernels.crossEntropyBackward(logits, targets, null, lse, dloss, { ignoreIndex: IGNORE, labelSmoothing: 0 }, dx, divisor)).toThrow(/crossEntropyBackward: a divisor takes a float32 or float64 dloss/);
    const [gl, gt, gs, gd, gx, gv] = [logits, targets, lse, dloss, dx, divisor].map((v) => toGPU(rt, v));
    expect(() => gk.crossEntropyBackward(gl!, gt!, null, gs!, gd!, { ignoreIndex: IGNORE, labelSmoothing: 0 }, gx!, gv!)).toThrow(/crossEntropyBackward: a divisor takes float32 dloss/);
    releaseAll(rt, gl, gt, gs, gd, gx, gv);
  });
});
