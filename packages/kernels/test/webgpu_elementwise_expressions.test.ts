// The WGSL generated from each elementwise op's one expression (src/elementwise/ops.ts), on the GPU
// against the float64 reference, to the accuracy the op states for `wgsl` (WGSL_DEFAULT when it
// states none): every unary op on a grid of its domain with the awkward values WGSL defines
// (±0, exact halves, the ends of exp's range, huge magnitudes), every binary op on pairs of them,
// and the integer forms on int32 extremes (exact). WGSL leaves non-finite f32 arithmetic and
// subnormals to the adapter, so the grids hold finite normal values whose reference result is
// finite (NaN and ±∞ through the WGSL_MATH helpers are covered by webgpu_elementwise.test.ts).
import { describe, expect, it } from 'vitest';
import { BINARY_FNS, UNARY_FNS } from '../src/cpu/elementwise.js';
import { cpuKernels } from '../src/cpu/index.js';
import { BINARY_DEFS, UNARY_DEFS, WGSL_DEFAULT, type Accuracy, type OpDef } from '../src/elementwise/ops.js';
import { hasIntForm } from '../src/elementwise/wgsl.js';
import { BINARY_OPS, UNARY_OPS, type BinaryOp, type DType, type UnaryOp } from '../src/types.js';
import { createWebGPUKernels } from '../src/webgpu/index.js';
import { gpuRuntime, makeView, readView, releaseAll, rng, toGPU } from './gpu_helpers.js';

const rt = await gpuRuntime();
const gk = createWebGPUKernels(rt);

const POSITIVE: ReadonlySet<UnaryOp> = new Set(['log', 'sqrt', 'rsqrt', 'reciprocal']);
const AWKWARD = [0, -0, 0.5, -0.5, 1, -1, 1.5, -1.5, 2.5, -2.5, 1e-6, -1e-6, 1e-30, -1e-30, 3.9, -3.9, 7.999, -7.999];
const HUGE = [1e30, -1e30, 3e38, -3e38];

/** Unary inputs: the awkward values, a sweep of [-8, 8] (or the op's domain) and, where the op is polynomial or bounded, huge values. */
function unaryInputs(op: UnaryOp): number[] {
  const r = rng(17);
  const [lo, hi] = POSITIVE.has(op) ? [0.05, 8] : op === 'log1p' ? [-0.9, 8] : [-8, 8];
  const xs = AWKWARD.filter((v) => v >= lo && v <= hi);
  for (let i = 0; i < 1000; i++) xs.push(lo + (hi - lo) * r());
  if (!['sin', 'cos', 'exp', 'expm1'].includes(op)) xs.push(...HUGE.filter((v) => !POSITIVE.has(op) || v > 0));
  return xs.map(Math.fround);
}

function within(got: number, want: number, acc: Accuracy): boolean {
  if (Object.is(got, want) || got === want) return true;
  return Math.abs(got - want) <= (acc.rel ?? 0) * Math.abs(want) + (acc.abs ?? 0);
}

async function run(label: string, outDtype: DType, want: number[], dispatch: (out: ReturnType<typeof makeView>) => Promise<ArrayLike<number>>,
  acc: Accuracy, describeAt: (i: number) => string): Promise<void> {
  const out = makeView(outDtype, [want.length], {}, () => 7);
  const got = await dispatch(out);
  const bad: string[] = [];
  for (let i = 0; i < want.length && bad.length < 5; i++) {
    if (!Number.isFinite(want[i]!)) continue; // non-finite f32 arithmetic is the adapter's
    if (!within(got[i]!, want[i]!, acc)) bad.push(`${describeAt(i)}: got ${got[i]}, want ${want[i]}`);
  }
  expect(bad, label).toEqual([]);
}

describe('WGSL generated from the op expressions, against the float64 reference', () => {
  it('every unary op on float32', async () => {
    for (const op of UNARY_OPS) {
      const def: OpDef = UNARY_DEFS[op];
      const xs = unaryInputs(op);
      const bool = def.expr.kind === 'bool';
      const want = xs.map((v) => (bool ? UNARY_FNS[op](v) : Math.fround(UNARY_FNS[op](v))));
      const x = makeView('float32', [xs.length], {}, (i) => xs[i]!);
      await run(op, bool ? 'bool' : 'float32', want, async (out) => {
        const gx = toGPU(rt, x), go = toGPU(rt, out);
        gk.unary(op, gx, go);
        const got = await readView(rt, go, out);
        releaseAll(rt, gx, go);
        return got;
      }, def.accuracy?.wgsl ?? WGSL_DEFAULT, (i) => `${op}(${xs[i]})`);
    }
  });

  it('every binary op on float32 pairs', async () => {
    const r = rng(23);
    const vals = [...AWKWARD.filter((v) => Math.abs(v) <= 4), 3, -3, 2, -2];
    for (const op of BINARY_OPS) {
      const def: OpDef = BINARY_DEFS[op];
      const as: number[] = [], bs: number[] = [];
      for (const p of vals) for (const q of vals) { as.push(p); bs.push(q); }
      for (let i = 0; i < 600; i++) {
        as.push(6 * r() - 3);
        // pow: negative bases need integral exponents for a finite result.
        bs.push(op === 'pow' && i % 2 === 0 ? Math.round(4 * r() - 2) : 6 * r() - 3);
      }
      const A = as.map(Math.fround), B = bs.map(Math.fround);
      const bool = def.expr.kind === 'bool';
      const want = A.map((p, i) => (bool ? BINARY_FNS[op](p, B[i]!) : Math.fround(BINARY_FNS[op](p, B[i]!))));
      const a = makeView('float32', [A.length], {}, (i) => A[i]!), b = makeView('float32', [B.length], {}, (i) => B[i]!);
      await run(op, bool ? 'bool' : 'float32', want, async (out) => {
        const ga = toGPU(rt, a), gb = toGPU(rt, b), go = toGPU(rt, out);
        gk.binary(op, ga, gb, go);
        const got = await readView(rt, go, out);
        releaseAll(rt, ga, gb, go);
        return got;
      }, def.accuracy?.wgsl ?? WGSL_DEFAULT, (i) => `${op}(${A[i]}, ${B[i]})`);
    }
  });

  it('the integer forms are exact on int32 values, extremes included', async () => {
    const ints = [0, 1, -1, 2, -2, 3, -3, 7, -7, 46340, -46340, 2147483647, -2147483647, -2147483648];
    const unary = UNARY_OPS.filter((op) => hasIntForm(UNARY_DEFS[op].expr));
    const binary = BINARY_OPS.filter((op) => hasIntForm(BINARY_DEFS[op].expr));
    expect(unary).toEqual(['neg', 'abs', 'sign', 'square', 'relu', 'floor', 'ceil', 'round', 'logicalNot']);
    expect(binary).toEqual(['add', 'sub', 'mul', 'maximum', 'minimum', 'mod', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr']);
    for (const op of unary) {
      // int32 results wrap like the reference's store where the float64 value is exact (|x·x| < 2^53).
      const xs = op === 'square' ? ints.filter((v) => v * v < 2 ** 53) : ints;
      const x = makeView('int32', [xs.length], {}, (i) => xs[i]!);
      const outDtype: DType = UNARY_DEFS[op].expr.kind === 'bool' ? 'bool' : 'int32';
      const want = makeView(outDtype, [xs.length], {}, () => 0), out = makeView(outDtype, [xs.length], {}, () => 7);
      cpuKernels.unary(op, x, want);
      const gx = toGPU(rt, x), go = toGPU(rt, out);
      gk.unary(op, gx, go);
      expect(Array.from(await readView(rt, go, out)), `int32 ${op}`).toEqual(Array.from(want.buffer));
      releaseAll(rt, gx, go);
    }
    for (const op of binary as BinaryOp[]) {
      const as: number[] = [], bs: number[] = [];
      for (const p of ints) for (const q of ints) {
        // Exact in float64 (the reference's arithmetic) and, for mod, a divisor the reference defines (b ≠ 0).
        if (op === 'mul' && Math.abs(p * q) >= 2 ** 53) continue;
        if (op === 'mod' && q === 0) continue;
        as.push(p); bs.push(q);
      }
      const a = makeView('int32', [as.length], {}, (i) => as[i]!), b = makeView('int32', [bs.length], {}, (i) => bs[i]!);
      const outDtype: DType = BINARY_DEFS[op].expr.kind === 'bool' ? 'bool' : 'int32';
      const want = makeView(outDtype, [as.length], {}, () => 0), out = makeView(outDtype, [as.length], {}, () => 7);
      cpuKernels.binary(op, a, b, want);
      const ga = toGPU(rt, a), gb = toGPU(rt, b), go = toGPU(rt, out);
      gk.binary(op, ga, gb, go);
      expect(Array.from(await readView(rt, go, out)), `int32 ${op}`).toEqual(Array.from(want.buffer));
      releaseAll(rt, ga, gb, go);
    }
  });
});
