// WebGPU elementwise kernels (unary, binary, where, copy, fill) vs the CPU reference, on awkward
// sizes, broadcast (stride 0) and size-1 dims, permuted/offset/padded inputs, strided outputs,
// 0-d views, every path (vec4, contiguous, strided) and the cast matrix.
//
// Tolerance: rtol 1e-5 plus atol 1e-6 (f32 against the CPU's float64-then-round). erf/gelu use an
// f32 approximation with absolute error ≲ 1e-7, inside that bound; sin/cos/exp-based ops get atol
// 1e-5 because the driver's f32 transcendental functions are only required to be accurate to a few ulp
// of their argument range.
import { describe, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { BINARY_OPS, BOOL_RESULT_OPS, UNARY_OPS, type DType, type TypedArray, type UnaryOp, type View } from '../src/types.js';
import { createWebGPUKernels } from '../src/webgpu/index.js';
import { expectClose, gpuRuntime, makeView, readView, releaseAll, rng, toGPU, type Layout } from './gpu_helpers.js';

const rt = await gpuRuntime();
const gk = rt ? createWebGPUKernels(rt) : null;

interface Case { shape: number[]; inLayout?: Layout; outLayout?: Layout; label: string }

const CASES: Case[] = [
  { shape: [], label: '0-d' },
  { shape: [1], label: '1' },
  { shape: [3], label: '3' },
  { shape: [7], label: '7' },
  { shape: [17], label: '17' },
  { shape: [65], label: '65' },
  { shape: [256], label: '256 (vec4)' },
  { shape: [1000], label: '1000 (vec4)' },
  { shape: [257], inLayout: { offset: 4 }, outLayout: { offset: 8 }, label: '257 offset' },
  { shape: [63, 5], inLayout: { perm: [1, 0] }, label: '63x5 transposed' },
  { shape: [4, 1, 7], inLayout: { broadcast: [0] }, label: 'broadcast dim 0' },
  { shape: [3, 5, 4, 2], inLayout: { perm: [2, 0, 3, 1], offset: 3 }, outLayout: { perm: [1, 0, 2, 3] }, label: 'rank 4 permuted, strided out' },
  { shape: [5, 6], inLayout: { pad: 3 }, outLayout: { pad: 1, offset: 2 }, label: 'padded rows' },
];

const POSITIVE: ReadonlySet<UnaryOp> = new Set(['log', 'sqrt', 'rsqrt', 'reciprocal']);
const LOOSE: ReadonlySet<string> = new Set(['sin', 'cos', 'exp', 'expm1', 'pow', 'sigmoid', 'silu', 'softplus', 'tanh', 'geluTanh', 'gelu', 'erf']);

function filler(dtype: DType, r: () => number, lo: number, hi: number): (i: number) => number {
  return () => {
    if (dtype === 'bool') return r() < 0.5 ? 1 : 0;
    const v = lo + (hi - lo) * r();
    return dtype === 'int32' ? Math.floor(v) : v;
  };
}

async function compare(cpuOut: View<TypedArray>, gpuOut: View<GPUBuffer>, what: string, rtol = 1e-5, atol = 1e-6): Promise<void> {
  const got = await readView(rt!, gpuOut, cpuOut);
  expectClose(got, cpuOut.buffer, rtol, atol, what);
}

describe('webgpu elementwise', () => {
  it('unary ops on float32, every layout', async () => {
    let seed = 1;
    for (const op of UNARY_OPS) {
      for (const c of CASES) {
        const r = rng(seed++);
        const [lo, hi] = POSITIVE.has(op) ? [0.05, 4] : op === 'log1p' ? [-0.9, 4] : [-4, 4];
        const x = makeView('float32', c.shape, c.inLayout, filler('float32', r, lo, hi));
        const out = makeView(op === 'logicalNot' ? 'bool' : 'float32', c.shape, c.outLayout, () => 7);
        if (op === 'round' && x.buffer.length > 2) { x.buffer[0] = 2.5; x.buffer[1] = -0.5; x.buffer[2] = 3.5; }
        if (op === 'logicalNot' && x.buffer.length > 1) x.buffer[1] = 0;
        const gx = toGPU(rt!, x), go = toGPU(rt!, out);
        cpuKernels.unary(op, x, out);
        gk!.unary(op, gx, go);
        await compare(out, go, `${op} ${c.label}`, 1e-5, LOOSE.has(op) ? 1e-5 : 1e-6);
        releaseAll(rt!, gx, go);
      }
    }
  });

  // The shader's own exp, log (near 1), log1p, expm1, sin and cos (elementwise_ops.ts): relative
  // accuracy where the built-ins are only loosely bounded, and every branch — the series' ends, the
  // four quadrants of sin/cos out to |x| ≈ 8000 — against the float64 reference.
  it('exp, log, log1p, expm1, sin, cos: f32-accurate near 0 and 1 and out to large arguments', async () => {
    const grids: Record<string, number[]> = {
      log: [0.5, 0.70710677, 0.7071068, 0.9, 0.99985, 0.9999999, 1, 1.0000001, 1.0002, 1.4142135, 1.4142137, 2, 1e-30, 3e30],
      log1p: [-0.999, -0.29289323, -0.2928932, -1e-3, -1.5e-7, 0, 1e-9, 2e-5, 0.41421354, 0.4142136, 5, 1e20],
      expm1: [-20, -0.36, -0.35, -0.3499, -1e-3, -1e-8, 0, 3e-9, 1.5e-4, 0.3499, 0.35, 0.36, 10, 80],
      exp: [-87.3, -80.1, -40, -0.3466, -1e-6, 0, 1e-6, 0.3466, 0.35, 1, 12.5, 44.4, 88.1, 88.72283],
      sin: [], cos: [],
    };
    for (let k = -40; k <= 40; k++) grids.sin!.push(k * Math.PI / 4 + 0.1 * Math.sin(k), k * 0.7853);
    for (const x of [-8000.3, -1234.5, -100, 100.7, 511.3, 3141.59, 7999.9]) grids.sin!.push(x);
    grids.cos = grids.sin!;
    for (const [op, xs] of Object.entries(grids) as [UnaryOp, number[]][]) {
      const x = makeView('float32', [xs.length], {}, (i) => xs[i]!);
      const out = makeView('float32', [xs.length], {}, () => 0);
      const gx = toGPU(rt!, x), go = toGPU(rt!, out);
      cpuKernels.unary(op, x, out);
      gk!.unary(op, gx, go);
      // A few f32 ulp relative (4e-7), plus 2e-7 absolute for sin/cos at their zeros, which the
      // reduction by a three-part π/2 reaches only to f32 absolute precision beyond |x| ≈ 100.
      await compare(out, go, `${op} grid`, 4e-7, op === 'sin' || op === 'cos' ? 2e-7 : 0);
      releaseAll(rt!, gx, go);
    }
  });

  it('unary ops on NaN, ±Infinity, ±0 and at the ends of exp\'s range', async () => {
    const xs = [NaN, Infinity, -Infinity, 0, -0, 88.72284, -103.98, -100, 1e30, -1e30];
    for (const op of ['exp', 'expm1', 'log', 'log1p', 'sqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'softplus', 'erf', 'gelu', 'silu'] as const) {
      // sin/cos beyond |x| = 8192 are the built-ins, whose error there is unbounded (lavapipe's
      // sin(1e30) is −1, not −0.79): only NaN and the infinities are checked for them.
      const args = op === 'sin' || op === 'cos' ? xs.filter((v) => !(Math.abs(v) > 8192 && Number.isFinite(v))) : xs;
      const x = makeView('float32', [args.length], {}, (i) => args[i]!);
      const out = makeView('float32', [args.length], {}, () => 7);
      const gx = toGPU(rt!, x), go = toGPU(rt!, out);
      cpuKernels.unary(op, x, out);
      gk!.unary(op, gx, go);
      // exp(-100) = 3.7e-44 is subnormal, which WGSL lets an adapter flush to zero: atol 1e-37.
      await compare(out, go, `${op} special values`, 1e-6, 1e-37);
      releaseAll(rt!, gx, go);
    }
  });

  it('unary ops on int32 (exact integer forms)', async () => {
    const r = rng(99);
    for (const op of ['neg', 'abs', 'sign', 'square', 'relu', 'floor', 'round', 'logicalNot', 'exp'] as const) {
      const x = makeView('int32', [5, 13], { perm: [1, 0] }, filler('int32', r, -9, 9));
      const outDtype: DType = op === 'logicalNot' ? 'bool' : op === 'exp' ? 'float32' : 'int32';
      const out = makeView(outDtype, [5, 13], {}, () => 0);
      const gx = toGPU(rt!, x), go = toGPU(rt!, out);
      cpuKernels.unary(op, x, out);
      gk!.unary(op, gx, go);
      await compare(out, go, `int32 ${op}`);
      releaseAll(rt!, gx, go);
    }
  });

  it('binary ops on float32 with broadcasting and strides', async () => {
    let seed = 1000;
    const shapes: { shape: number[]; a: Layout; b: Layout; out?: Layout }[] = [
      { shape: [], a: {}, b: {} },
      { shape: [7], a: {}, b: { broadcast: [0] } },
      { shape: [1000], a: {}, b: {} },
      { shape: [127], a: { offset: 1 }, b: {} },
      { shape: [17, 3], a: { perm: [1, 0] }, b: { broadcast: [1] }, out: { perm: [1, 0], offset: 5 } },
      { shape: [2, 1, 65], a: { broadcast: [0] }, b: { pad: 2 } },
    ];
    for (const op of BINARY_OPS) {
      for (const s of shapes) {
        const r = rng(seed++);
        const a = makeView('float32', s.shape, s.a, filler('float32', r, -3, 3));
        const b = makeView('float32', s.shape, s.b, op === 'pow' ? filler('float32', r, -2, 2) : filler('float32', r, -3, 3));
        if (op === 'pow') {
          // negative bases with integral exponents, and zeros
          for (let i = 0; i < a.buffer.length; i += 3) b.buffer[i] = Math.round(b.buffer[i]!);
          if (a.buffer.length > 4) a.buffer[4] = 0;
        }
        if (['eq', 'ne', 'le', 'ge', 'maximum', 'minimum'].includes(op) && a.buffer.length > 2 && b.buffer.length > 2) {
          b.buffer[2] = a.buffer[2]!;
        }
        if (op === 'logicalAnd' || op === 'logicalOr') for (let i = 0; i < a.buffer.length; i += 2) a.buffer[i] = 0;
        const outDtype: DType = BOOL_RESULT_OPS.has(op) ? 'bool' : 'float32';
        const out = makeView(outDtype, s.shape, s.out, () => 0);
        const ga = toGPU(rt!, a), gb = toGPU(rt!, b), go = toGPU(rt!, out);
        cpuKernels.binary(op, a, b, out);
        gk!.binary(op, ga, gb, go);
        await compare(out, go, `${op} [${s.shape}]`, op === 'pow' ? 2e-5 : 1e-5, op === 'mod' ? 1e-5 : 1e-6);
        releaseAll(rt!, ga, gb, go);
      }
    }
  });

  it('binary ops on int32 are exact', async () => {
    const r = rng(7);
    for (const op of ['add', 'sub', 'mul', 'maximum', 'minimum', 'mod', 'eq', 'lt', 'ge', 'logicalAnd', 'logicalOr', 'div'] as const) {
      const a = makeView('int32', [9, 7], { perm: [1, 0] }, filler('int32', r, -50, 50));
      const b = makeView('int32', [9, 7], {}, (i) => (i % 5 === 0 ? -3 : Math.floor(r() * 19) - 9 || 4));
      a.buffer[0] = 2_000_000_001; b.buffer[0] = 3; // beyond f32's exact integers
      const outDtype: DType = BOOL_RESULT_OPS.has(op) ? 'bool' : op === 'div' ? 'float32' : 'int32';
      const out = makeView(outDtype, [9, 7], {}, () => 0);
      const ga = toGPU(rt!, a), gb = toGPU(rt!, b), go = toGPU(rt!, out);
      cpuKernels.binary(op, a, b, out);
      gk!.binary(op, ga, gb, go);
      await compare(out, go, `int32 ${op}`, op === 'div' ? 1e-6 : 0, 0);
      releaseAll(rt!, ga, gb, go);
    }
  });

  it('where with a bool condition, broadcast branches, int and float', async () => {
    const r = rng(11);
    for (const dtype of ['float32', 'int32'] as const) {
      for (const shape of [[], [3], [65, 3], [4, 1, 17]]) {
        const cond = makeView('bool', shape, shape.length > 1 ? { perm: [...shape.keys()].reverse() } : {}, filler('bool', r, 0, 1));
        const a = makeView(dtype, shape, shape.length ? { broadcast: [0] } : {}, filler(dtype, r, -5, 5));
        const b = makeView(dtype, shape, { offset: 1 }, filler(dtype, r, -5, 5));
        const out = makeView(dtype, shape, {}, () => 0);
        const gc = toGPU(rt!, cond), ga = toGPU(rt!, a), gb = toGPU(rt!, b), go = toGPU(rt!, out);
        cpuKernels.where(cond, a, b, out);
        gk!.where(gc, ga, gb, go);
        await compare(out, go, `where ${dtype} [${shape}]`);
        releaseAll(rt!, gc, ga, gb, go);
      }
    }
  });

  it('copy casts between every dtype pair into strided outs', async () => {
    const r = rng(12);
    const dtypes: DType[] = ['float32', 'int32', 'bool'];
    for (const from of dtypes) {
      for (const to of dtypes) {
        for (const c of [CASES[0]!, CASES[7]!, CASES[9]!, CASES[11]!]) {
          const x = makeView(from, c.shape, c.inLayout, filler(from, r, -4, 4));
          if (from === 'float32' && x.buffer.length > 3) { x.buffer[1] = -2.7; x.buffer[2] = 0; x.buffer[3] = NaN; }
          const out = makeView(to, c.shape, c.outLayout, () => 1);
          const gx = toGPU(rt!, x), go = toGPU(rt!, out);
          cpuKernels.copy(x, out);
          gk!.copy(gx, go);
          await compare(out, go, `copy ${from}→${to} ${c.label}`, 0, 0);
          releaseAll(rt!, gx, go);
        }
      }
    }
  });

  it('copy between overlapping views of one buffer reads before writing', async () => {
    const base = makeView('float32', [20], {}, (i) => i);
    const src: View<TypedArray> = { ...base, shape: [15], strides: [1], offset: 0 };
    const dst: View<TypedArray> = { ...base, shape: [15], strides: [1], offset: 3 };
    const g = toGPU(rt!, base);
    gk!.copy({ ...g, shape: [15], strides: [1], offset: 0 }, { ...g, shape: [15], strides: [1], offset: 3 });
    cpuKernels.copy(src, dst);
    await compare(base, g, 'overlapping copy', 0, 0);
    releaseAll(rt!, g);
  });

  it('fill writes every element of a strided view and nothing else', async () => {
    for (const [dtype, value] of [['float32', -1.25], ['int32', -7.9], ['bool', 3], ['float32', NaN], ['int32', 0]] as const) {
      for (const c of [CASES[0]!, CASES[6]!, CASES[8]!, CASES[11]!]) {
        const out = makeView(dtype, c.shape, c.outLayout, () => 5);
        const go = toGPU(rt!, out);
        cpuKernels.fill(out, value);
        gk!.fill(go, value);
        await compare(out, go, `fill ${dtype} ${value} ${c.label}`, 0, 0);
        releaseAll(rt!, go);
      }
    }
  });

  it('rejects float64 with a TypeError naming the op', () => {
    const b = rt!.allocate(64);
    const v: View<GPUBuffer> = { buffer: b, dtype: 'float64', shape: [2], strides: [1], offset: 0 };
    let err: unknown;
    try { gk!.unary('exp', v, v); } catch (e) { err = e; }
    if (!(err instanceof TypeError) || !/exp/.test(err.message)) throw new Error(`expected a TypeError naming exp, got ${String(err)}`);
    rt!.release(b);
  });

  it('binaryScalar equals binary with the scalar in a filled 0-d buffer', async () => {
    const r = rng(7);
    for (const dtype of ['float32', 'int32', 'bool'] as DType[]) {
      for (const op of BINARY_OPS) {
        if (dtype === 'bool' && !BOOL_RESULT_OPS.has(op) && op !== 'add' && op !== 'mul' && op !== 'maximum' && op !== 'minimum') continue;
        for (const scalar of [2.5, -3, 0]) {
          for (const scalarFirst of [false, true]) {
            for (const [shape, layout] of [[[7], {}], [[256], {}], [[5, 6], { perm: [1, 0] }]] as [number[], Layout][]) {
              const outDtype: DType = BOOL_RESULT_OPS.has(op) ? 'bool' : dtype;
              const a = makeView(dtype, shape, layout, () => (dtype === 'bool' ? (r() < 0.5 ? 1 : 0) : Math.round((r() * 8 - 4) * 4) / 4 || 1));
              const ga = toGPU(rt!, a);
              const gs = toGPU(rt!, makeView(dtype, []));
              gk!.fill(gs, scalar);
              const sb: View<GPUBuffer> = { ...gs, shape, strides: shape.map(() => 0) };
              const want = toGPU(rt!, makeView(outDtype, shape));
              if (scalarFirst) gk!.binary(op, sb, ga, want); else gk!.binary(op, ga, sb, want);
              const cpuOut = makeView(outDtype, shape);
              const got = toGPU(rt!, cpuOut);
              gk!.binaryScalar!(op, ga, scalar, scalarFirst, got);
              const what = `${op} ${dtype} scalar ${scalar}${scalarFirst ? ' first' : ''} [${shape}]`;
              expectClose(await readView(rt!, got, cpuOut), await readView(rt!, want, cpuOut), 0, 0, what);
              releaseAll(rt!, ga, gs, want, got);
            }
          }
        }
      }
    }
  });
});
