// fusedElementwise on the cpu: random programs (chains and DAGs of up to 30 steps over every
// float-valued unary and binary op and their scalar forms, 1–6 inputs, 1–3 outputs) on sizes 1, 7,
// 1000 and 4099 and on [R, C] iteration shapes with offset, transposed, padded and broadcast inputs,
// against the same steps run one per-op kernel at a time with float32 storage between them:
// - the reference fused kernel equals the reference per-op kernels bit for bit;
// - the fast tier's TypeScript route (ordinary arrays) equals its per-op TypeScript loops bit for
//   bit — in one loop, and in pieces for programs of more than 40 steps — and the reference per-op
//   kernels bit for bit on programs without erf and gelu (whose loops take erf from a table); on ops
//   exact in WebAssembly it equals the fast per-op kernels bit for bit, elsewhere within contracts;
// - the fast tier's WebAssembly route (arrays in the kernels' memory) equals the fast per-op
//   kernels bit for bit, over contiguous, broadcast and rank-3 layouts, without writing past a row;
// plus a 1,000-add chain as one program, scalars as parameters, special values, outputs aliasing
// inputs, and the typed errors of invalid programs and views.
import { describe, expect, it } from 'vitest';
import { cpuKernels, readAll } from '../src/cpu/index.js';
import { binaryScalarVia } from '../src/cpu/elementwise.js';
import { allocTensorArray, fastCpuKernels } from '../src/cpu_fast/index.js';
import * as loops from '../src/cpu_fast/elementwise_loops.js';
import { nodes, type Expr } from '../src/elementwise/expr.js';
import { composeFused, FUSED_MAX_BUFFERS, FusedProgramError, fusedProgramKey, validateFusedProgram, type FusedProgram } from '../src/elementwise/fused.js';
import { BINARY_DEFS, UNARY_DEFS } from '../src/elementwise/ops.js';
import { PRIMS } from '../src/elementwise/primitives.js';
import { wasmRoute } from '../src/elementwise/wasm.js';
import { contiguousStrides, numel } from '../src/geometry.js';
import type { BinaryOp, KernelSet, TypedArray, UnaryOp, View } from '../src/types.js';
import {
  addChain, describeProgram, firstDifference, firstOutside, FUSABLE_BINARY, FUSABLE_UNARY, inputGeometry, inputValue, onePerOp, randomProgram,
  runStepwise, type InputLayout,
} from './fused_programs.js';

type V = View<TypedArray>;
type Ew = Pick<KernelSet<TypedArray>, 'unary' | 'binary' | 'binaryScalar'>;

/** The fast tier's per-op TypeScript loops as kernels (the reference where a loop declines). */
const loopKernels: Ew = {
  unary: (op, x, out) => { if (!loops.unary(op, x, out)) cpuKernels.unary(op, x, out); },
  binary: (op, a, b, out) => { if (!loops.binary(op, a, b, out)) cpuKernels.binary(op, a, b, out); },
  binaryScalar: binaryScalarVia((op, a, b, out) => { if (!loops.binary(op, a, b, out)) cpuKernels.binary(op, a, b, out); }),
};

const alloc = (shape: readonly number[]): V => ({ buffer: new Float32Array(numel(shape)), dtype: 'float32', shape, strides: contiguousStrides(shape), offset: 0 });

function makeInputs(p: FusedProgram, shape: readonly number[], layouts: readonly InputLayout[], seed: number, specials = true): V[] {
  return Array.from({ length: p.inputs }, (_, k) => {
    const g = inputGeometry(shape, layouts[k % layouts.length]!);
    const buffer = new Float32Array(g.length);
    const value = inputValue(seed * 31 + k, specials);
    for (let i = 0; i < buffer.length; i++) buffer[i] = value(i);
    return { buffer, dtype: 'float32', shape, strides: g.strides, offset: g.offset };
  });
}

/** Inputs as `makeInputs`, in the fast kernels' WebAssembly memory (where `cpu` tensors live). */
function heapInputs(p: FusedProgram, shape: readonly number[], layouts: readonly InputLayout[], seed: number, specials = true): V[] {
  return makeInputs(p, shape, layouts, seed, specials).map((v) => {
    const buffer = allocTensorArray(v.buffer.length);
    if (!buffer) throw new Error('the fast cpu kernels have no shared WebAssembly memory here');
    buffer.set(v.buffer as Float32Array);
    return { ...v, buffer };
  });
}

const heapAlloc = (shape: readonly number[]): V => {
  const buffer = allocTensorArray(Math.max(1, numel(shape)));
  if (!buffer) throw new Error('the fast cpu kernels have no shared WebAssembly memory here');
  return { buffer, dtype: 'float32', shape, strides: contiguousStrides(shape), offset: 0 };
};

function fused(k: KernelSet<TypedArray>, p: FusedProgram, inputs: readonly V[]): Float32Array[] {
  const outs = p.outputs.map(() => alloc(inputs[0]!.shape));
  k.fusedElementwise(p, inputs, outs);
  return outs.map((o) => o.buffer as Float32Array);
}

/** The outputs of the step-by-step run, gathered contiguous (an output may be an input view). */
const stepwise = (k: Ew, p: FusedProgram, inputs: readonly V[]) => runStepwise(k, p, inputs, alloc).map((v) => Float32Array.from(readAll(v)));

function expectBitExact(got: Float32Array[], want: Float32Array[], p: FusedProgram, what: string): void {
  got.forEach((g, k) => {
    const i = firstDifference(g, want[k]!);
    if (i >= 0) throw new Error(`${what}: output ${k} element ${i}: got ${g[i]}, want ${want[k]![i]}\n  ${describeProgram(p)}`);
  });
}

const usesOp = (p: FusedProgram, ops: ReadonlySet<string>) => p.steps.some((s) => ops.has(s.op));
/** Unary ops whose fast loops take a quicker primitive (erf from a table). */
const FAST_FORM: ReadonlySet<string> = new Set(FUSABLE_UNARY.filter((op) => nodes(UNARY_DEFS[op].expr).some((n) => n.k === 'prim' && PRIMS[n.prim].fast)));
/** Ops whose expression has a primitive that WebAssembly computes inexactly (the per-op fast kernels may take it). */
const WASM_INEXACT: ReadonlySet<string> = new Set([...FUSABLE_UNARY, ...FUSABLE_BINARY].filter((op) => {
  const e = (UNARY_DEFS as Record<string, { expr: typeof UNARY_DEFS.neg.expr }>)[op]?.expr ?? BINARY_DEFS[op as BinaryOp].expr;
  return nodes(e).some((n) => n.k === 'prim' && PRIMS[n.prim].inexact.includes('wasm'));
}));

const SIZES = [1, 7, 1000, 4099];
const GRID: { shape: number[]; layouts: InputLayout[] }[] = [
  ...SIZES.map((n) => ({ shape: [n], layouts: ['contiguous', 'offset'] as InputLayout[] })),
  { shape: [7, 13], layouts: ['row-broadcast', 'transposed', 'contiguous', 'col-broadcast', 'padded', 'scalar'] },
  { shape: [33, 1], layouts: ['offset', 'scalar', 'transposed'] },
  { shape: [1, 31], layouts: ['padded', 'row-broadcast'] },
];

describe('fusedElementwise programs', () => {
  it('composes each step into an fround node over the values it reads, sharing nodes inside an op', () => {
    const p: FusedProgram = { inputs: 2, steps: [{ kind: 'binary', op: 'siluGrad', args: [0, 1] }, { kind: 'scalar', op: 'sub', args: [2], value: 1, scalarFirst: true }], outputs: [3, 2] };
    const { outputs } = composeFused(p);
    const asPrim = (e: Expr | undefined) => {
      if (e?.k !== 'prim') throw new Error(`expected a primitive node, got ${e?.k}`);
      return e;
    };
    const last = asPrim(outputs[0]), first = asPrim(outputs[1]);
    expect(last.prim).toBe('fround');
    expect(first.prim).toBe('fround');
    // sub(param 0, <siluGrad value>): the second step reads the first step's node itself.
    const sub = asPrim(last.args[0]);
    expect(sub.prim).toBe('sub');
    expect(sub.args[0]).toEqual({ k: 'param', index: 0, kind: 'num' });
    expect(sub.args[1]).toBe(first);
    // siluGrad's σ(a) is one node read twice.
    const sigmoids = nodes(first).filter((n) => n.k === 'prim' && n.prim === 'sigmoid');
    expect(sigmoids).toHaveLength(1);
    expect(nodes(first).filter((n) => n.k === 'input').map((n) => (n as { index: number }).index).sort()).toEqual([0, 1]);
  });

  it('keys are canonical: equal programs equal keys; ops, args, scalars (as float32), order and outputs change them', () => {
    const base = randomProgram(5);
    expect(fusedProgramKey(structuredClone(base))).toBe(fusedProgramKey(base));
    const p: FusedProgram = { inputs: 2, steps: [{ kind: 'scalar', op: 'mul', args: [0], value: 0.1, scalarFirst: false }], outputs: [2] };
    const k = fusedProgramKey(p);
    const variants: FusedProgram[] = [
      { ...p, inputs: 3 },
      { ...p, steps: [{ kind: 'scalar', op: 'add', args: [0], value: 0.1, scalarFirst: false }] },
      { ...p, steps: [{ kind: 'scalar', op: 'mul', args: [1], value: 0.1, scalarFirst: false }] },
      { ...p, steps: [{ kind: 'scalar', op: 'mul', args: [0], value: 0.1, scalarFirst: true }] },
      { ...p, steps: [{ kind: 'scalar', op: 'mul', args: [0], value: 0.2, scalarFirst: false }] },
      { ...p, steps: [{ kind: 'scalar', op: 'mul', args: [0], value: -0, scalarFirst: false }] },
      { ...p, steps: [{ kind: 'binary', op: 'mul', args: [0, 1] }] },
      { ...p, outputs: [2, 0] },
    ];
    const keys = new Set([k, ...variants.map(fusedProgramKey)]);
    expect(keys.size).toBe(variants.length + 1);
    // A scalar computes with its float32 value, so values that round to one float32 share a key.
    expect(fusedProgramKey({ ...p, steps: [{ kind: 'scalar', op: 'mul', args: [0], value: Math.fround(0.1), scalarFirst: false }] })).toBe(k);
  });

  it('rejects invalid programs and views with a FusedProgramError naming the step, value or view', () => {
    const bad = (p: unknown, msg: RegExp) => {
      expect(() => validateFusedProgram(p as FusedProgram)).toThrow(FusedProgramError);
      expect(() => validateFusedProgram(p as FusedProgram)).toThrow(msg);
    };
    bad({ inputs: 1, steps: [{ kind: 'unary', op: 'exp', args: [1] }], outputs: [1] }, /step 0 \(unary 'exp'\): argument 0 is 1; only values 0\.\.0/);
    bad({ inputs: 2, steps: [{ kind: 'binary', op: 'add', args: [0, -1] }], outputs: [2] }, /argument 1 is -1/);
    bad({ inputs: 2, steps: [{ kind: 'binary', op: 'add', args: [0, 1.5] }], outputs: [2] }, /argument 1 is 1\.5/);
    bad({ inputs: 1, steps: [{ kind: 'unary', op: 'exp', args: [0] }], outputs: [2] }, /output 0 is value 2; the program defines values 0\.\.1/);
    bad({ inputs: 2, steps: [{ kind: 'binary', op: 'lt', args: [0, 1] }], outputs: [2] }, /step 0 \(binary 'lt'\): gives a bool/);
    bad({ inputs: 1, steps: [{ kind: 'unary', op: 'logicalNot', args: [0] }], outputs: [1] }, /gives a bool/);
    bad({ inputs: 1, steps: [{ kind: 'scalar', op: 'logicalAnd', args: [0], value: 1, scalarFirst: false }], outputs: [1] }, /gives a bool/);
    bad({ inputs: 1, steps: [{ kind: 'unary', op: 'frobnicate', args: [0] }], outputs: [1] }, /not a unary op/);
    bad({ inputs: 1, steps: [{ kind: 'ternary', op: 'add', args: [0] }], outputs: [1] }, /kind must be/);
    bad({ inputs: 1, steps: [{ kind: 'binary', op: 'add', args: [0] }], outputs: [1] }, /takes 2 argument\(s\), got 1/);
    bad({ inputs: 1, steps: [{ kind: 'scalar', op: 'add', args: [0], value: '1', scalarFirst: false }], outputs: [1] }, /value must be a number/);
    bad({ inputs: 0, steps: [], outputs: [0] }, /inputs must be a positive integer/);
    bad({ inputs: 1, steps: [], outputs: [] }, /outputs must be a non-empty array/);
    bad({ inputs: 6, steps: [], outputs: [0, 1, 2] }, new RegExp(`6 inputs \\+ 3 outputs = 9 buffers, more than FUSED_MAX_BUFFERS = ${FUSED_MAX_BUFFERS}`));
    expect(() => validateFusedProgram({ inputs: 5, steps: [], outputs: [0, 1, 2] })).not.toThrow();

    const p: FusedProgram = { inputs: 2, steps: [{ kind: 'binary', op: 'add', args: [0, 1] }], outputs: [2] };
    const x = alloc([4]), y = alloc([4]), out = alloc([4]);
    for (const k of [cpuKernels, fastCpuKernels]) {
      expect(() => k.fusedElementwise({ ...p, outputs: [9] }, [x, y], [out])).toThrow(FusedProgramError);
      expect(() => k.fusedElementwise(p, [x], [out])).toThrow(/reads 2 input\(s\), got 1 view/);
      expect(() => k.fusedElementwise(p, [x, y], [out, alloc([4])])).toThrow(/writes 1 output\(s\), got 2 view/);
      expect(() => k.fusedElementwise(p, [x, { ...y, dtype: 'float64', buffer: new Float64Array(4) }], [out])).toThrow(/input 1 is float64/);
      expect(() => k.fusedElementwise(p, [x, alloc([5])], [out])).toThrow(/input 1 has shape \[5\], the iteration shape is \[4\]/);
      expect(() => k.fusedElementwise(p, [alloc([2, 2]), alloc([2, 2])], [{ ...alloc([2, 2]), strides: [1, 2] }])).toThrow(/output 0 must be contiguous/);
    }
  });
});

describe.each([
  ['reference', cpuKernels],
  ['fast', fastCpuKernels],
] as const)('fusedElementwise, %s cpu kernels', (name, k) => {
  /** The fused kernel on `p` against the per-op kernels step by step, bit for bit. */
  const check = (p: FusedProgram, g: { shape: number[]; layouts: InputLayout[] }, seed: number, what: string): void => {
    const inputs = makeInputs(p, g.shape, g.layouts, seed);
    const got = fused(k, p, inputs);
    if (name === 'reference') expectBitExact(got, stepwise(cpuKernels, p, inputs), p, what);
    else {
      expectBitExact(got, stepwise(loopKernels, p, inputs), p, `${what} vs the per-op loops`);
      if (!usesOp(p, FAST_FORM)) expectBitExact(got, stepwise(cpuKernels, p, inputs), p, `${what} vs the reference`);
    }
  };

  it('random programs equal the per-op kernels run step by step, bit for bit', () => {
    GRID.forEach((g, gi) => {
      for (let t = 0; t < (g.shape[0]! >= 1000 ? 3 : 8); t++) {
        const seed = 1000 * gi + t;
        check(randomProgram(seed), g, seed, `${name} [${g.shape}] seed ${seed}`);
      }
    });
  });

  it('every fusable op, unary or as a binary and a scalar step each way round, equals its per-op kernel bit for bit', () => {
    const shapes = [GRID[0]!, GRID.find((g) => g.shape.length === 2)!];
    for (const [i, p] of onePerOp().entries()) {
      for (const g of shapes) check(p, g, 500 + i, `${name} [${g.shape}] ${describeProgram(p)}`);
    }
  });

  it('a 1,000-add chain is one program', () => {
    const p = addChain(1000);
    const inputs = makeInputs(p, [7, 13], ['transposed', 'row-broadcast'], 3, false);
    const got = fused(k, p, inputs);
    expectBitExact(got, stepwise(cpuKernels, p, inputs), p, 'add chain');
    // Not a sum rounded once: each add rounds to float32.
    const x = inputs[0]!, y = inputs[1]!;
    let v = x.buffer[x.offset]!;
    for (let i = 0; i < 1000; i++) v = Math.fround(v + y.buffer[y.offset]!);
    expect(got[0]![0]).toBe(v);
  });

  it('long programs (run in pieces by the TypeScript loops) equal the per-op kernels, outputs aliasing inputs included', () => {
    let long = 0;
    for (let seed = 9000; long < 4; seed++) {
      const p = randomProgram(seed, { maxSteps: 160 });
      if (p.steps.length <= 60) continue;
      long++;
      const inputs = makeInputs(p, [6, 11], ['contiguous', 'row-broadcast', 'transposed'], seed);
      const want = stepwise(name === 'fast' ? loopKernels : cpuKernels, p, inputs);
      expectBitExact(fused(k, p, inputs), want, p, `seed ${seed}`);
      // In place: output 0 over input 0's storage (read through the same contiguous view).
      const x: V = { ...alloc([6, 11]) };
      (x.buffer as Float32Array).set(Float32Array.from(readAll(inputs[0]!)));
      const ins = [x, ...inputs.slice(1)];
      const wantInPlace = stepwise(name === 'fast' ? loopKernels : cpuKernels, p, ins);
      const outs = p.outputs.map((_, j) => (j === 0 ? x : alloc([6, 11])));
      k.fusedElementwise(p, ins, outs);
      expectBitExact(outs.map((o) => o.buffer as Float32Array), wantInPlace, p, `seed ${seed} in place`);
    }
  });

  it('scalars are parameters: programs that differ only in their scalars give their own results', () => {
    const p = (s: number): FusedProgram => ({ inputs: 1, steps: [{ kind: 'scalar', op: 'mul', args: [0], value: s, scalarFirst: false },
      { kind: 'scalar', op: 'sub', args: [1], value: s / 2, scalarFirst: true }], outputs: [2] });
    const x = makeInputs(p(1), [9], ['contiguous'], 4, false);
    for (const s of [0.3, -2, 1e30, NaN]) expectBitExact(fused(k, p(s), x), stepwise(cpuKernels, p(s), x), p(s), `scalar ${s}`);
  });

  it('special values propagate as in the per-op kernels', () => {
    const specials = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 3.4028234663852886e38, -1, 1, 0.5];
    const n = specials.length;
    const grid = (f: (i: number, j: number) => number): V => {
      const v = alloc([n, n]);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) v.buffer[i * n + j] = f(i, j);
      return v;
    };
    const a = grid((i) => specials[i]!), b = grid((_, j) => specials[j]!);
    for (const op of FUSABLE_BINARY) {
      for (const u of FUSABLE_UNARY) {
        const p: FusedProgram = { inputs: 2, steps: [{ kind: 'binary', op, args: [0, 1] }, { kind: 'unary', op: u, args: [2] }], outputs: [3, 2] };
        const want = stepwise(name === 'fast' ? loopKernels : cpuKernels, p, [a, b]);
        expectBitExact(fused(k, p, [a, b]), want, p, `${op} then ${u}`);
      }
    }
  });

  it('outputs may be the inputs themselves (in place), and an input may alias an output in another layout', () => {
    const p: FusedProgram = { inputs: 2, steps: [{ kind: 'binary', op: 'mul', args: [0, 1] }, { kind: 'unary', op: 'exp', args: [2] }], outputs: [3, 2] };
    const inputs = makeInputs(p, [5, 6], ['contiguous'], 8, false);
    const want = stepwise(cpuKernels, p, inputs);
    const [x, y] = inputs.map((v) => ({ ...v, buffer: (v.buffer as Float32Array).slice() })) as [V, V];
    k.fusedElementwise(p, [x, y], [y, x]); // out 0 over y, out 1 over x: each read before written
    expectBitExact([y.buffer.subarray(0, 30) as Float32Array, x.buffer.subarray(0, 30) as Float32Array], want, p, 'in place');
    // An input read transposed from the buffer the output is written to.
    const q: FusedProgram = { inputs: 1, steps: [{ kind: 'scalar', op: 'add', args: [0], value: 1, scalarFirst: false }], outputs: [1] };
    const sq = makeInputs(q, [6, 6], ['contiguous'], 9, false)[0]!;
    const t: V = { ...sq, strides: [1, 6] };
    const wantT = stepwise(cpuKernels, q, [t]);
    k.fusedElementwise(q, [t], [sq]);
    expectBitExact([sq.buffer.subarray(0, 36) as Float32Array], wantT, q, 'aliased transpose');
  });
});

/** Fused outputs in the WebAssembly memory (the fast tier's WebAssembly route needs every view there). */
function fusedHeap(p: FusedProgram, inputs: readonly V[]): Float32Array[] {
  const outs = p.outputs.map(() => heapAlloc(inputs[0]!.shape));
  fastCpuKernels.fusedElementwise(p, inputs, outs);
  return outs.map((o) => (o.buffer as Float32Array).slice(0, numel(o.shape)));
}

/** Ops with a WebAssembly form, which the fast tier's WebAssembly route takes. */
const WASM_UNARY = FUSABLE_UNARY.filter((op) => wasmRoute(UNARY_DEFS[op].expr) !== null);
const WASM_BINARY = FUSABLE_BINARY.filter((op) => wasmRoute(BINARY_DEFS[op].expr) !== null);

describe('fusedElementwise, fast cpu kernels, WebAssembly route', () => {
  it('random programs of ops with a WebAssembly form equal the fast per-op kernels bit for bit (contiguous and broadcast inputs)', () => {
    // geluGrad/siluGrad run in WebAssembly per op only on same-shape contiguous operands: their
    // scalar forms are left out here and checked in the activation chains below.
    const binary = WASM_BINARY.filter((op) => wasmRoute(BINARY_DEFS[op].expr) === 'f32');
    const grid: { shape: number[]; layouts: InputLayout[] }[] = [
      ...SIZES.map((n) => ({ shape: [n], layouts: ['contiguous', 'offset'] as InputLayout[] })),
      { shape: [7, 13], layouts: ['contiguous', 'row-broadcast', 'col-broadcast', 'scalar', 'offset'] },
      { shape: [33, 64], layouts: ['row-broadcast', 'contiguous', 'col-broadcast'] },
      { shape: [5, 1], layouts: ['col-broadcast', 'contiguous'] },
    ];
    grid.forEach((g, gi) => {
      for (let t = 0; t < 4; t++) {
        const seed = 7000 + 10 * gi + t;
        const p = randomProgram(seed, { unary: WASM_UNARY, binary });
        const inputs = heapInputs(p, g.shape, g.layouts, seed);
        expectBitExact(fusedHeap(p, inputs), stepwise(fastCpuKernels, p, inputs), p, `[${g.shape}] seed ${seed}`);
      }
    });
  });

  it('activation chains equal the per-op WebAssembly kernels bit for bit (and differ from the TypeScript loops: the route was taken)', () => {
    const chains: FusedProgram[] = [
      // y = gelu(x + b); dx = geluGrad(x + b, g)
      { inputs: 3, steps: [{ kind: 'binary', op: 'add', args: [0, 1] }, { kind: 'unary', op: 'gelu', args: [3] }, { kind: 'binary', op: 'geluGrad', args: [3, 2] }], outputs: [4, 5] },
      { inputs: 2, steps: [{ kind: 'unary', op: 'silu', args: [0] }, { kind: 'binary', op: 'siluGrad', args: [0, 1] }, { kind: 'binary', op: 'mul', args: [2, 3] }], outputs: [4, 3] },
      { inputs: 1, steps: [{ kind: 'unary', op: 'tanh', args: [0] }, { kind: 'unary', op: 'sigmoid', args: [1] }, { kind: 'scalar', op: 'mul', args: [2], value: 7, scalarFirst: false },
        { kind: 'unary', op: 'exp', args: [3] }, { kind: 'unary', op: 'geluTanh', args: [4] }, { kind: 'unary', op: 'erf', args: [5] }], outputs: [6, 4] },
    ];
    let differFromLoops = 0;
    chains.forEach((p, i) => {
      for (const n of [1, 7, 2053]) {
        const inputs = heapInputs(p, [n], ['contiguous'], 70 + i, false);
        const got = fusedHeap(p, inputs);
        expectBitExact(got, stepwise(fastCpuKernels, p, inputs), p, `chain ${i} n ${n}`);
        const loopsWant = stepwise(loopKernels, p, inputs);
        got.forEach((g, o) => {
          if (firstDifference(g, loopsWant[o]!) >= 0) differFromLoops++;
          // A few ulp: a 1-ulp difference in σ is amplified 7-fold through exp(7σ). gelu and geluGrad
          // (float32 lanes) are stated to 2 ulp + 1.6e-7·max(1, |x| or |g|) absolute, their values
          // cancelling for negative x, with x and g up to 3 here: chain 0 allows 5e-7 absolute.
          const at = firstOutside(g, loopsWant[o]!, 2e-6, i === 0 ? 5e-7 : 1e-7);
          expect(at, `chain ${i} output ${o} at ${at}: ${g[at]} vs ${loopsWant[o]![at]}`).toBe(-1);
        });
      }
    });
    expect(differFromLoops).toBeGreaterThan(0);
  });

  it('rank-3 views: an input with one value per middle index, one with a row per outer index, an output at an offset', () => {
    const p: FusedProgram = { inputs: 3, steps: [{ kind: 'binary', op: 'mul', args: [0, 1] }, { kind: 'binary', op: 'add', args: [3, 2] },
      { kind: 'unary', op: 'gelu', args: [4] }, { kind: 'scalar', op: 'div', args: [5], value: 3, scalarFirst: true }], outputs: [6, 4] };
    const shape = [3, 5, 6];
    const [x, y, z] = heapInputs(p, [90], ['contiguous'], 44, false) as [V, V, V];
    const views: V[] = [
      { ...x, shape, strides: [30, 6, 1] },
      { ...y, shape, strides: [0, 1, 0], offset: 2 }, // one value per middle index
      { ...z, shape, strides: [6, 0, 1], offset: 1 }, // one row of 6 per outer index
    ];
    const big = heapAlloc([100]);
    const o0: V = { ...big, shape, strides: [30, 6, 1], offset: 7 };
    const o1 = heapAlloc(shape);
    fastCpuKernels.fusedElementwise(p, views, [o0, o1]);
    const want = stepwise(fastCpuKernels, p, views);
    expectBitExact([(big.buffer as Float32Array).slice(7, 97), (o1.buffer as Float32Array).slice(0, 90)], want, p, 'rank 3');
  });

  it('writes nothing past an output row: an output inside a larger array, n % 4 = 3', () => {
    const p: FusedProgram = { inputs: 2, steps: [{ kind: 'binary', op: 'add', args: [0, 1] }, { kind: 'unary', op: 'exp', args: [2] }], outputs: [3] };
    const inputs = heapInputs(p, [7], ['contiguous'], 21, false);
    const big = heapAlloc([16]);
    (big.buffer as Float32Array).fill(-5);
    const out: V = { ...big, shape: [7], strides: [1], offset: 4 };
    fastCpuKernels.fusedElementwise(p, inputs, [out]);
    const want = stepwise(fastCpuKernels, p, inputs)[0]!;
    expect(Array.from((big.buffer as Float32Array).subarray(0, 16))).toEqual([-5, -5, -5, -5, ...want, -5, -5, -5, -5, -5]);
  });

  it('a 1,000-add chain over a broadcast bias', () => {
    const p = addChain(1000);
    const inputs = heapInputs(p, [9, 17], ['contiguous', 'row-broadcast'], 33, false);
    expectBitExact(fusedHeap(p, inputs), stepwise(cpuKernels, p, inputs), p, 'add chain');
  });
});

describe('fusedElementwise, fast cpu kernels against the fast per-op kernels', () => {
  const exactUnary = FUSABLE_UNARY.filter((op) => !WASM_INEXACT.has(op) && !FAST_FORM.has(op));
  const exactBinary = FUSABLE_BINARY.filter((op) => !WASM_INEXACT.has(op));

  it('bit for bit on programs of ops that are exact in WebAssembly (contiguous and broadcast inputs)', () => {
    for (let t = 0; t < 12; t++) {
      const p = randomProgram(500 + t, { unary: exactUnary, binary: exactBinary });
      const shape = t % 2 === 0 ? [4099] : [33, 64];
      const inputs = makeInputs(p, shape, t % 2 === 0 ? ['contiguous'] : ['contiguous', 'row-broadcast', 'scalar'], t);
      expectBitExact(fused(fastCpuKernels, p, inputs), stepwise(fastCpuKernels, p, inputs), p, `seed ${500 + t}`);
    }
  });

  it('within the ops\' contracts on activation chains (bias + gelu and its backward, silu, sigmoid, tanh)', () => {
    const chains: FusedProgram[] = [
      // y = gelu(x + b); dx = geluGrad(x + b, g)
      { inputs: 3, steps: [{ kind: 'binary', op: 'add', args: [0, 1] }, { kind: 'unary', op: 'gelu', args: [3] }, { kind: 'binary', op: 'geluGrad', args: [3, 2] }], outputs: [4, 5] },
      { inputs: 2, steps: [{ kind: 'unary', op: 'silu', args: [0] }, { kind: 'binary', op: 'siluGrad', args: [0, 1] }, { kind: 'binary', op: 'mul', args: [2, 3] }], outputs: [4] },
      { inputs: 1, steps: [{ kind: 'unary', op: 'tanh', args: [0] }, { kind: 'unary', op: 'sigmoid', args: [1] }, { kind: 'unary', op: 'exp', args: [2] }, { kind: 'unary', op: 'geluTanh', args: [3] }, { kind: 'unary', op: 'erf', args: [4] }], outputs: [5] },
    ];
    chains.forEach((p, i) => {
      const inputs = makeInputs(p, [2053], ['contiguous'], 70 + i, false);
      const got = fused(fastCpuKernels, p, inputs), want = stepwise(fastCpuKernels, p, inputs);
      got.forEach((g, o) => {
        // gelu's and geluGrad's contracts in float32 lanes: 2 ulp + 1.6e-7·max(1, |x| or |g|)
        // absolute, x and g up to 3 here.
        const at = firstOutside(g, want[o]!, 4e-7, i === 0 ? 5e-7 : 1e-7);
        expect(at, `chain ${i} output ${o} at ${at}: ${g[at]} vs ${want[o]![at]}`).toBe(-1);
      });
    });
  });
});
