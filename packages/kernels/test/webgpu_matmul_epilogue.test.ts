// matmulEpilogue in WGSL against `matmul` into a float32 buffer followed by `fusedElementwise` over
// it, bit for bit, in every matmul variant ('splitk' runs as exactly that pair): odd M, N, K and
// sizes 1 (K = 0 too), transposed operands, batched products with a broadcast operand, a Linear's
// bias broadcast over rows, offset and transposed input views, outputs at offsets, programs with
// several inputs and outputs (the raw product among them), scalars as uniforms, inputs aliasing
// outputs and outputs in an operand's buffer; row sums of A beside the product; typed errors.
import { afterAll, describe, expect, it } from 'vitest';
import { readAll } from '../src/cpu/index.js';
import { FusedProgramError, type FusedProgram } from '../src/elementwise/fused.js';
import { contiguousStrides, numel } from '../src/geometry.js';
import type { TypedArray, View } from '../src/types.js';
import { createWebGPUKernels, matmulEpilogue } from '../src/webgpu/index.js';
import { setMatmulVariant, type MatmulVariant } from '../src/webgpu/matmul.js';
import { gpuRuntime, makeView, readBack, rng, toGPU, type Layout } from './gpu_helpers.js';

const rt = await gpuRuntime();
const gk = createWebGPUKernels(rt);
afterAll(() => setMatmulVariant('auto'));

type G = View<GPUBuffer>;

/** A float32 GPU view of `shape` with `layout`, filled with seeded values in [-2, 2). */
function input(shape: readonly number[], layout: Layout, seed: number): G {
  const r = rng(seed);
  return toGPU(rt, makeView('float32', shape, layout, () => Math.fround(-2 + 4 * r())));
}

function output(shape: readonly number[], offset = 0): G {
  const buffer = rt.allocate((offset + Math.max(1, numel(shape))) * 4);
  return { buffer, dtype: 'float32', shape, strides: contiguousStrides(shape), offset };
}

async function valuesOf(v: G): Promise<Float32Array> {
  const buf = (await readBack(rt, v.buffer, 'float32', v.buffer.size / 4)) as Float32Array;
  return Float32Array.from(readAll({ ...v, buffer: buf } as View<TypedArray>));
}

/** The same view over a fresh copy of its buffer. */
function copyOf(v: G): G {
  const buffer = rt.allocate(v.buffer.size);
  rt.copyBuffer(v.buffer, buffer, v.buffer.size);
  return { ...v, buffer };
}

const bits = (x: Float32Array): Uint32Array => new Uint32Array(x.buffer, x.byteOffset, x.length);

/** Runs the epilogue and the reference pair; expects every output equal bit for bit. */
async function expectParity(a: G, b: G, p: FusedProgram, inputs: readonly G[], outShape: readonly number[], what: string, offsets: readonly number[] = [], rowSums: G | null = null): Promise<void> {
  const outs = p.outputs.map((_, j) => output(outShape, offsets[j] ?? 0));
  const refOuts = p.outputs.map((_, j) => output(outShape, offsets[j] ?? 0));
  const product = output(outShape);
  gk.matmul(a, b, product);
  gk.fusedElementwise(p, [product, ...inputs], refOuts);
  matmulEpilogue(rt, a, b, p, inputs, outs, rowSums);
  for (let j = 0; j < outs.length; j++) {
    const got = await valuesOf(outs[j]!), want = await valuesOf(refOuts[j]!);
    const g = bits(got), w = bits(want);
    const i = g.findIndex((x, k) => x !== w[k]);
    if (i >= 0) throw new Error(`${what}: output ${j} element ${i}: got ${got[i]}, want ${want[i]}`);
    expect(got.length).toBe(numel(outShape));
  }
}

/** a [..., M, K], b [..., K, N] with b optionally transposed (a Linear's Wᵀ) and a optionally stored k-major. */
function operands(batch: readonly number[], M: number, N: number, K: number, o: { aT?: boolean; bT?: boolean; bBroadcast?: boolean; aOffset?: number }, seed: number): [G, G] {
  const r = batch.length;
  const rank = r + 2;
  const ident = [...Array(rank).keys()];
  const swap = (p: number[]) => [...p.slice(0, r), p[r + 1]!, p[r]!];
  const a = input([...batch, M, K], { perm: o.aT ? swap(ident) : ident, offset: o.aOffset ?? 0 }, seed);
  const b = input([...batch, K, N], { perm: o.bT ? swap(ident) : ident, broadcast: o.bBroadcast ? [...Array(r).keys()] : [] }, seed + 1);
  return [a, b];
}

const biasGelu: FusedProgram = { inputs: 2, steps: [{ kind: 'binary', op: 'add', args: [0, 1] }, { kind: 'unary', op: 'gelu', args: [2] }], outputs: [3] };
const biasResidual: FusedProgram = { inputs: 3, steps: [{ kind: 'binary', op: 'add', args: [0, 1] }, { kind: 'binary', op: 'add', args: [2, 3] }], outputs: [4] };
// geluGrad(x, product)·0.5 − y, with the raw product, the intermediate and the result written.
const several: FusedProgram = {
  inputs: 3,
  steps: [
    { kind: 'binary', op: 'geluGrad', args: [1, 0] },
    { kind: 'scalar', op: 'mul', args: [3], value: 0.5, scalarFirst: false },
    { kind: 'binary', op: 'sub', args: [4, 2] },
  ],
  outputs: [0, 3, 5],
};

const SHAPES: readonly [number, number, number][] = [[1, 1, 1], [1, 9, 5], [7, 1, 3], [3, 5, 0], [13, 17, 19], [33, 65, 70]];
type OperandLayout = { aT?: boolean; bT?: boolean; aOffset?: number };
const LAYOUTS: readonly OperandLayout[] = [{}, { bT: true }, { aT: true, aOffset: 3 }];

// Every shape and operand layout in the variant lavapipe runs ('register', also what 'auto' picks
// there); fewer in the others, whose shaders take long to compile on a software adapter.
const PLAN: readonly { variant: MatmulVariant; shapes: readonly [number, number, number][]; layouts: readonly OperandLayout[]; batched: boolean }[] = [
  { variant: 'register', shapes: SHAPES, layouts: LAYOUTS, batched: true },
  { variant: 'gemv', shapes: SHAPES, layouts: LAYOUTS, batched: true },
  { variant: 'tiled', shapes: [[13, 17, 19], [64, 48, 40]], layouts: [{ bT: true }], batched: false },
  { variant: 'splitk', shapes: [[9, 6, 300]], layouts: [{ bT: true }], batched: true },
];

describe('matmulEpilogue (WebGPU) against matmul + fusedElementwise', () => {
  for (const { variant, shapes, layouts, batched } of PLAN) {
    it(`variant ${variant}: bias + gelu over odd shapes, transposed operands`, async () => {
      setMatmulVariant(variant);
      let seed = 1;
      for (const [M, N, K] of shapes) {
        for (const o of layouts) {
          const [a, b] = operands([], M, N, K, o, seed += 2);
          const bias = input([M, N], { broadcast: [0] }, seed + 7);
          await expectParity(a, b, biasGelu, [bias], [M, N], `${variant} ${M}x${N}x${K} ${JSON.stringify(o)}`);
        }
      }
      setMatmulVariant('auto');
    });

    if (!batched) continue;
    it(`variant ${variant}: batched with a broadcast operand, several inputs and outputs, offsets`, async () => {
      setMatmulVariant(variant);
      let seed = 100;
      for (const [batch, M, N, K] of [[[3], 5, 7, 9], [[2, 3], 17, 6, 33]] as [number[], number, number, number][]) {
        const [a, b] = operands(batch, M, N, K, { bT: true, bBroadcast: true }, seed += 2);
        const shape = [...batch, M, N];
        const r = shape.length;
        const bias = input(shape, { broadcast: [...Array(r - 1).keys()], offset: 2 }, seed + 3);
        const residual = input(shape, { offset: 5 }, seed + 4);
        await expectParity(a, b, biasResidual, [bias, residual], shape, `${variant} residual ${shape}`, [3]);
        const perm = [...[...Array(r - 2).keys()], r - 1, r - 2];
        const x = input(shape, { perm, offset: 1 }, seed + 5);
        const y = input(shape, { broadcast: [r - 1] }, seed + 6);
        await expectParity(a, b, several, [x, y], shape, `${variant} several ${shape}`, [0, 4, 1]);
      }
      setMatmulVariant('auto');
    });
  }

  it('a GPT block\'s shapes: [12, 64, 128] · Wᵀ [384, 128] + bias, and the MLP\'s gelu', async () => {
    for (const [N, K, p] of [[384, 128, biasGelu], [128, 512, biasResidual]] as [number, number, FusedProgram][]) {
      const [a, b] = operands([12], 64, N, K, { bT: true, bBroadcast: true }, N + K);
      const bias = input([12, 64, N], { broadcast: [0, 1] }, 9);
      const more = p.inputs === 3 ? [input([12, 64, N], {}, 10)] : [];
      await expectParity(a, b, p, [bias, ...more], [12, 64, N], `GPT ${N}x${K}`);
    }
  });

  it('programs differing only in a scalar share one pipeline and use their own scalar', async () => {
    const [a, b] = operands([], 9, 10, 11, {}, 3);
    const scaled = (value: number): FusedProgram => ({ inputs: 1, steps: [{ kind: 'scalar', op: 'mul', args: [0], value, scalarFirst: false }], outputs: [1] });
    await expectParity(a, b, scaled(0.25), [], [9, 10], 'scale 0.25');
    const before = rt.stats().pipelines;
    await expectParity(a, b, scaled(-3), [], [9, 10], 'scale -3');
    expect(rt.stats().pipelines).toBe(before + 0);
  });

  it('an input with exactly an output\'s view (in place), and an output in an operand\'s buffer', async () => {
    for (const variant of ['register', 'gemv'] as const) {
      setMatmulVariant(variant);
      const [a, b] = operands([], 6, 10, 7, {}, 40);
      const acc = input([6, 10], {}, 41);
      const want = output([6, 10]);
      const product = output([6, 10]);
      gk.matmul(a, b, product);
      const add: FusedProgram = { inputs: 2, steps: [{ kind: 'binary', op: 'add', args: [1, 0] }], outputs: [2] };
      gk.fusedElementwise(add, [product, acc], [want]);
      matmulEpilogue(rt, a, b, add, [acc], [acc]);
      expect(bits(await valuesOf(acc))).toEqual(bits(await valuesOf(want)));
      // The result written over a's own elements: a is read from a snapshot.
      const [a2, b2] = operands([], 6, 6, 6, {}, 50);
      const a2copy = copyOf(a2);
      const into = { ...a2, strides: contiguousStrides([6, 6]) };
      const ref = output([6, 6]);
      const p2 = output([6, 6]);
      gk.matmul(a2copy, b2, p2);
      const relu: FusedProgram = { inputs: 1, steps: [{ kind: 'unary', op: 'relu', args: [0] }], outputs: [1] };
      gk.fusedElementwise(relu, [p2], [ref]);
      matmulEpilogue(rt, a2, b2, relu, [], [into]);
      expect(bits(await valuesOf(into))).toEqual(bits(await valuesOf(ref)));
    }
    setMatmulVariant('auto');
  });

  it('row sums of A beside the product: sequential in k in register and tiled, the reduce kernel\'s in gemv and splitk', async () => {
    const identity: FusedProgram = { inputs: 1, steps: [], outputs: [0] };
    let seed = 200;
    const cases: [MatmulVariant, number[], number, number, number, OperandLayout][] = [
      ['register', [], 13, 6, 19, {}], ['register', [], 128, 40, 96, { aT: true }], ['register', [3], 5, 7, 9, { aT: true, aOffset: 1 }],
      ['register', [], 6, 2, 5, { aT: true }], ['tiled', [2], 37, 20, 45, { aT: true }],
      ['gemv', [], 7, 1, 5, {}], ['splitk', [], 9, 6, 300, { aT: true }],
    ];
    for (const [variant, batch, M, N, K, o] of cases) {
      setMatmulVariant(variant);
      const what = `${variant} ${batch} ${M}x${N}x${K} ${JSON.stringify(o)}`;
      const [a, b] = operands(batch, M, N, K, { ...o, bT: true }, seed += 2);
      const shape = [...batch, M, N];
      const sums = output([...batch, M], 2);
      const bias = input(shape, { broadcast: [...Array(shape.length - 1).keys()] }, seed);
      const p = variant === 'register' ? biasGelu : identity;
      await expectParity(a, b, p, p === biasGelu ? [bias] : [], shape, what, [], sums);
      const got = await valuesOf(sums);
      const want = new Float32Array(got.length);
      if (variant === 'register' || variant === 'tiled') {
        const av = await valuesOf(a);
        for (let row = 0; row < want.length; row++) {
          let s = 0;
          for (let k = 0; k < K; k++) s = Math.fround(s + av[row * K + k]!);
          want[row] = s;
        }
      } else {
        const ref = output([...batch, M, 1]);
        gk.reduce('sum', a, [shape.length - 1], ref);
        want.set(await valuesOf(ref));
      }
      const i = bits(got).findIndex((x, k) => x !== bits(want)[k]);
      expect(i, `${what}: row ${i}: got ${got[i]}, want ${want[i]}`).toBe(-1);
    }
    setMatmulVariant('auto');
  });

  it('row sums written through a temporary when their buffer is bound otherwise, and with an empty product', async () => {
    setMatmulVariant('register');
    const [a, b] = operands([], 8, 5, 6, {}, 300);
    const out = output([8, 5], 8);
    const sums = { ...out, shape: [8], strides: [1], offset: 0 };
    const product = output([8, 5]);
    gk.matmul(a, b, product);
    matmulEpilogue(rt, a, b, { inputs: 1, steps: [], outputs: [0] }, [], [out], sums);
    expect(bits(await valuesOf(out))).toEqual(bits(await valuesOf(product)));
    const av = await valuesOf(a);
    const got = await valuesOf(sums);
    for (let row = 0; row < 8; row++) {
      let s = 0;
      for (let k = 0; k < 6; k++) s = Math.fround(s + av[row * 6 + k]!);
      expect(got[row]).toBe(s);
    }
    const [a0, b0] = operands([], 4, 0, 3, {}, 301);
    const sums0 = output([4]);
    matmulEpilogue(rt, a0, b0, { inputs: 1, steps: [], outputs: [0] }, [], [output([4, 0])], sums0);
    const ref = output([4, 1]);
    gk.reduce('sum', a0, [1], ref);
    expect(bits(await valuesOf(sums0))).toEqual(bits(await valuesOf(ref)));
    setMatmulVariant('auto');
  });

  it('typed errors name what is wrong', () => {
    const [a, b] = operands([], 4, 5, 6, {}, 60);
    const bias = input([4, 5], { broadcast: [0] }, 61);
    const out = output([4, 5]);
    const run = (p: FusedProgram, inputs: G[], outs: G[], aa = a, bb = b) => () => matmulEpilogue(rt, aa, bb, p, inputs, outs);
    expect(run(biasGelu, [], [out])).toThrow(FusedProgramError);
    expect(run(biasGelu, [], [out])).toThrow(/matmulEpilogue: the program reads 2 value\(s\)/);
    expect(run(biasGelu, [bias], [out, out])).toThrow(/writes 1 output/);
    expect(run(biasGelu, [bias], [output([4, 6])])).toThrow(/does not give the product \[4, 6\]/);
    expect(run(biasGelu, [input([5, 4], {}, 1)], [out])).toThrow(/input 1 has shape \[5, 4\]/);
    expect(run(biasGelu, [bias], [{ ...output([5, 4]), shape: [4, 5], strides: [1, 4] }])).toThrow(/output 0 must be contiguous/);
    const ints = { ...bias, dtype: 'int32' as const };
    expect(run(biasGelu, [ints], [out])).toThrow(/input 1 is int32/);
    expect(run(biasGelu, [bias], [out], { ...a, dtype: 'float16' })).toThrow(/a is float16/);
    expect(run({ inputs: 2, steps: [{ kind: 'binary', op: 'lt', args: [0, 1] }], outputs: [2] }, [bias], [out])).toThrow(FusedProgramError);
    expect(() => matmulEpilogue(rt, a, b, biasGelu, [bias], [out], output([5]))).toThrow(/rowSums has shape \[5\], a's rows are \[4\]/);
    expect(() => matmulEpilogue(rt, a, b, biasGelu, [bias], [out], { ...output([8]), shape: [4], strides: [2] })).toThrow(/rowSums must be contiguous/);
    const many: FusedProgram = { inputs: 4, steps: [], outputs: [0, 1, 2, 3] };
    expect(run(many, [bias, bias, bias], [out, out, out, out])).toThrow(/more than FUSED_MAX_BUFFERS/);
  });
});
