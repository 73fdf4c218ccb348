// fusedElementwise in WGSL against the WebGPU per-op kernels run step by step (f32 storage between
// steps): random programs (chains and DAGs of up to 30 steps over every float op and scalar form,
// 1–6 inputs, 1–3 outputs) on sizes 1, 7, 1000 and 4099 (the vec4, contiguous and strided paths)
// and on [R, C] shapes with offset, transposed, padded and broadcast inputs, bit for bit where every
// step value is finite; a 1,000-add chain; scalars as uniforms (one pipeline for programs that
// differ only in them); special values; outputs sharing buffers with inputs and with each other;
// typed errors.
import { describe, expect, it } from 'vitest';
import { readAll } from '../src/cpu/index.js';
import { FusedProgramError, type FusedProgram } from '../src/elementwise/fused.js';
import { contiguousStrides, numel } from '../src/geometry.js';
import type { TypedArray, View } from '../src/types.js';
import { createWebGPUKernels } from '../src/webgpu/index.js';
import {
  addChain, describeProgram, firstDifference, FUSABLE_BINARY, FUSABLE_UNARY, inputGeometry, inputValue, onePerOp, randomProgram, runStepwise,
  type InputLayout,
} from './fused_programs.js';
import { gpuRuntime, readBack, toGPU } from './gpu_helpers.js';

const rt = await gpuRuntime();
const gk = createWebGPUKernels(rt);

type G = View<GPUBuffer>;

function cpuInputs(p: FusedProgram, shape: readonly number[], layouts: readonly InputLayout[], seed: number, specials = true): View<TypedArray>[] {
  return Array.from({ length: p.inputs }, (_, k) => {
    const g = inputGeometry(shape, layouts[k % layouts.length]!);
    const buffer = new Float32Array(g.length);
    const value = inputValue(seed * 31 + k, specials);
    for (let i = 0; i < buffer.length; i++) buffer[i] = value(i);
    return { buffer, dtype: 'float32', shape, strides: g.strides, offset: g.offset };
  });
}

function gpuAlloc(temps: GPUBuffer[]) {
  return (shape: readonly number[]): G => {
    const buffer = rt.allocate(Math.max(1, numel(shape)) * 4);
    temps.push(buffer);
    return { buffer, dtype: 'float32', shape, strides: contiguousStrides(shape), offset: 0 };
  };
}

/** The values of a GPU view, row-major. */
async function values(v: G): Promise<Float32Array> {
  const buf = (await readBack(rt, v.buffer, 'float32', v.buffer.size / 4)) as Float32Array;
  return Float32Array.from(readAll({ ...v, buffer: buf }));
}

/**
 * Fused and step-by-step results of `p` on the GPU, and which elements have a non-finite value
 * (an input or any step's) in the step-by-step run.
 */
async function both(p: FusedProgram, inputs: readonly View<TypedArray>[]): Promise<[Float32Array[], Float32Array[], Uint8Array]> {
  const temps: GPUBuffer[] = [];
  const gin = inputs.map((v) => toGPU(rt, v));
  temps.push(...gin.map((v) => v.buffer));
  const alloc = gpuAlloc(temps);
  const outs = p.outputs.map(() => alloc(inputs[0]!.shape));
  gk.fusedElementwise(p, gin, outs);
  const all = Array.from({ length: p.inputs + p.steps.length }, (_, v) => v);
  const steps = runStepwise(gk, { ...p, outputs: all }, gin, alloc);
  const got = await Promise.all(outs.map(values));
  const every = await Promise.all(steps.map(values));
  for (const t of temps) rt.release(t);
  const nonFinite = new Uint8Array(numel(inputs[0]!.shape));
  for (const vs of every) vs.forEach((x, i) => { if (!Number.isFinite(x)) nonFinite[i] = 1; });
  return [got, p.outputs.map((v) => every[v]!), nonFinite];
}

/**
 * Bit for bit; with `finiteOnly`, on the elements whose step-by-step values are all finite (WGSL
 * lets the compiler assume f32 arithmetic meets no NaN or ±∞: it may fold v − v to 0 once both
 * operands are one expression, which they are in a fused shader and never in a per-op one).
 */
function expectSame(got: Float32Array[], want: Float32Array[], p: FusedProgram, what: string, skip?: Uint8Array): number {
  let compared = 0;
  got.forEach((g, k) => {
    const w = want[k]!;
    for (let i = 0; i < w.length; i++) {
      if (skip?.[i]) continue;
      compared++;
      if (firstDifference([g[i]!], [w[i]!]) >= 0) throw new Error(`${what}: output ${k} element ${i}: got ${g[i]}, want ${w[i]}\n  ${describeProgram(p)}`);
    }
  });
  return compared;
}

const GRID: { shape: number[]; layouts: InputLayout[] }[] = [
  { shape: [1], layouts: ['contiguous'] },
  { shape: [7], layouts: ['contiguous', 'offset'] },
  { shape: [1000], layouts: ['contiguous'] }, // vec4
  { shape: [4099], layouts: ['contiguous', 'offset'] },
  { shape: [7, 13], layouts: ['row-broadcast', 'transposed', 'contiguous', 'col-broadcast', 'padded', 'scalar'] },
  { shape: [32, 8], layouts: ['offset', 'scalar'] },
];

describe('fusedElementwise on WebGPU', () => {
  it('random programs equal the per-op kernels run step by step', async () => {
    let compared = 0, elements = 0;
    for (const [gi, g] of GRID.entries()) {
      for (let t = 0; t < 4; t++) {
        const seed = 3000 + 100 * gi + t;
        const p = randomProgram(seed);
        const [got, want, nonFinite] = await both(p, cpuInputs(p, g.shape, g.layouts, seed));
        compared += expectSame(got, want, p, `[${g.shape}] seed ${seed}`, nonFinite);
        elements += numel(g.shape) * p.outputs.length;
      }
    }
    // The finite elements are most of them: the comparison is not vacuous.
    expect(compared).toBeGreaterThan(elements / 3);
  });

  it('every fusable op, unary or as a binary and a scalar step each way round, equals its per-op kernel', async () => {
    const g = GRID.find((x) => x.shape.length === 2)!;
    for (const [i, p] of onePerOp().entries()) {
      const [got, want, nonFinite] = await both(p, cpuInputs(p, g.shape, g.layouts, 700 + i));
      const compared = expectSame(got, want, p, `[${g.shape}] ${describeProgram(p)}`, nonFinite);
      expect(compared, `${describeProgram(p)}: finite elements compared`).toBeGreaterThan(0);
    }
  });

  it('a 1,000-add chain is one program', async () => {
    const p = addChain(1000);
    const [got, want] = await both(p, cpuInputs(p, [7, 13], ['transposed', 'row-broadcast'], 5, false));
    expectSame(got, want, p, 'add chain');
  });

  it('scalars are uniforms: programs that differ only in their scalars share a pipeline and give their own results', async () => {
    const p = (c: number): FusedProgram => ({ inputs: 1, steps: [{ kind: 'scalar', op: 'mul', args: [0], value: c, scalarFirst: false },
      { kind: 'scalar', op: 'pow', args: [1], value: c / 4, scalarFirst: true }], outputs: [2] });
    const x = cpuInputs(p(1), [257], ['offset'], 6, false);
    let pipelines = -1;
    for (const c of [0.3, -2, 1.75, 3]) {
      const [got, want] = await both(p(c), x);
      expectSame(got, want, p(c), `scalar ${c}`);
      // The step-by-step run compiles its per-op pipelines on the first pass only.
      if (pipelines >= 0) expect(rt.stats().pipelines).toBe(pipelines);
      pipelines = rt.stats().pipelines;
    }
  });

  it('special values propagate as in the per-op kernels', async () => {
    const specials = [NaN, Infinity, -Infinity, 0, -0, -1, 1, 0.5, 2.5];
    const n = specials.length;
    const a: View<TypedArray> = { buffer: new Float32Array(n * n), dtype: 'float32', shape: [n, n], strides: [1, 0], offset: 0 };
    const b: View<TypedArray> = { buffer: new Float32Array(n * n), dtype: 'float32', shape: [n, n], strides: [0, 1], offset: 0 };
    specials.forEach((v, i) => { a.buffer[i] = v; b.buffer[i] = v; });
    for (const op of FUSABLE_BINARY) {
      const p: FusedProgram = { inputs: 2, steps: [{ kind: 'binary', op, args: [0, 1] }, ...FUSABLE_UNARY.map((u) => ({ kind: 'unary' as const, op: u, args: [2] as [number] }))],
        outputs: [2, 3, 6, 9, 12, 15] };
      const [got, want] = await both(p, [a, b]);
      expectSame(got, want, p, op);
    }
  });

  it('outputs may share buffers with inputs and with each other', async () => {
    const p: FusedProgram = { inputs: 2, steps: [{ kind: 'binary', op: 'mul', args: [0, 1] }, { kind: 'unary', op: 'exp', args: [2] }], outputs: [3, 2] };
    const inputs = cpuInputs(p, [64], ['contiguous'], 12, false);
    const [, want] = await both(p, inputs);
    // out 0 over input 1, out 1 over input 0 (in place): read through the output bindings, no temporary.
    const [x, y] = inputs.map((v) => toGPU(rt, { ...v, offset: 0 }));
    const before = rt.stats();
    gk.fusedElementwise(p, [x!, y!], [{ ...y!, offset: 0 }, { ...x!, offset: 0 }]);
    const after = rt.stats();
    expect(after.allocations + after.reuses).toBe(before.allocations + before.reuses);
    expectSame([await values({ ...y!, offset: 0 }), await values({ ...x!, offset: 0 })], want, p, 'in place');
    // An input read transposed from the buffer an output is written to: read from a snapshot.
    const q: FusedProgram = { inputs: 2, steps: [{ kind: 'binary', op: 'sub', args: [0, 1] }], outputs: [2] };
    const sq = cpuInputs(q, [8, 8], ['contiguous', 'transposed'], 13, false);
    sq[1] = { ...sq[0]!, strides: [1, 8] };
    const [, wantT] = await both(q, sq);
    const g0 = toGPU(rt, sq[0]!);
    gk.fusedElementwise(q, [g0, { ...g0, strides: [1, 8] }], [g0]);
    expectSame([await values(g0)], wantT, q, 'aliased transpose');
    rt.release(g0.buffer);
    // Both outputs in one buffer, at different offsets.
    const both1 = rt.allocate(128 * 4);
    const x2 = toGPU(rt, { ...inputs[0]!, offset: 0 }), y2 = toGPU(rt, { ...inputs[1]!, offset: 0 });
    const o0: G = { buffer: both1, dtype: 'float32', shape: [64], strides: [1], offset: 64 };
    const o1: G = { ...o0, offset: 0 };
    gk.fusedElementwise(p, [x2, y2], [o0, o1]);
    expectSame([await values(o0), await values(o1)], want, p, 'shared output buffer');
    for (const v of [x!, y!, x2, y2]) rt.release(v.buffer);
    rt.release(both1);
  });

  it('rejects invalid programs and views with a FusedProgramError', () => {
    const buf = rt.allocate(64);
    const v: G = { buffer: buf, dtype: 'float32', shape: [4], strides: [1], offset: 0 };
    const p: FusedProgram = { inputs: 1, steps: [{ kind: 'unary', op: 'exp', args: [0] }], outputs: [1] };
    expect(() => gk.fusedElementwise({ ...p, steps: [{ kind: 'unary', op: 'exp', args: [3] }] }, [v], [v])).toThrow(FusedProgramError);
    expect(() => gk.fusedElementwise({ inputs: 1, steps: [{ kind: 'binary', op: 'eq', args: [0, 0] }], outputs: [1] }, [v], [v])).toThrow(/gives a bool/);
    expect(() => gk.fusedElementwise({ inputs: 6, steps: [], outputs: [0, 1, 2] }, [v, v, v, v, v, v], [v, v, v])).toThrow(/FUSED_MAX_BUFFERS/);
    expect(() => gk.fusedElementwise(p, [{ ...v, dtype: 'float16' }], [v])).toThrow(/input 0 is float16/);
    rt.release(buf);
  });
});
