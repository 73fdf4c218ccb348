// The elementwise ops come from one source (src/elementwise/ops.ts): every op has exactly one
// expression, nothing else in the kernels package writes an op's math, and each target's code
// generated from the expression — the float64 reference (compiled and, where code cannot be
// compiled, as closures), the float32 TypeScript loops of the fast cpu tier and its WebAssembly
// kernels — evaluates a grid of awkward values (NaN, ±0, ±∞, subnormals, huge, int32 extremes,
// exact halves, the ends of exp's range) to the accuracy the op states against the float64
// reference. The WGSL of the same expressions is checked on the GPU in
// webgpu_elementwise_expressions.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BINARY_FNS, UNARY_FNS } from '../src/cpu/elementwise.js';
import { fastCpuKernels, setNumThreads } from '../src/cpu_fast/index.js';
import { mul, nodes, sigmoid, x as X_ARG, type Expr } from '../src/elementwise/expr.js';
import { binaryFunction, binaryLoop, evaluateBinary, evaluateUnary, unaryFunction, unaryLoop } from '../src/elementwise/javascript.js';
import { BINARY_DEFS, UNARY_DEFS, type Accuracy, type OpDef, type Target } from '../src/elementwise/ops.js';
import { PRIMS } from '../src/elementwise/primitives.js';
import { wasmRoute } from '../src/elementwise/wasm.js';
import { toWgsl } from '../src/elementwise/wgsl.js';
import { ModuleBuilder } from '../src/wasm/emitter.js';
import { BINARY_FAST_OPS } from '../src/wasm/elementwise_program.js';
import { addUnaryKernel, GRAD_FAST_OPS, UNARY_FAST_OPS } from '../src/wasm/unary_program.js';
import { BINARY_OPS, BOOL_RESULT_OPS, UNARY_OPS, type BinaryOp, type TypedArray, type UnaryOp, type View } from '../src/types.js';

const F32_MIN_SUBNORMAL = 1.401298464324817e-45;
const F32_MIN_NORMAL = 1.1754943508222875e-38;
const F32_MAX = 3.4028234663852886e38;

/** Awkward float32 inputs. */
const SPECIALS = [NaN, 0, -0, Infinity, -Infinity, F32_MIN_SUBNORMAL, -F32_MIN_SUBNORMAL, 1e-40, -1e-40, F32_MIN_NORMAL,
  -F32_MIN_NORMAL, 1e-30, -1e-30, 1e-6, -1e-6, 0.5, -0.5, 1, -1, 1.5, -1.5, 2.5, -2.5, Math.PI, 3.9, -3.9, 5.7, -5.7, 8, -8,
  20, -20, 30, -30, 88.5, 89, -87.5, -103, -110, 500, -500, 1e10, -1e10, 16777217, 2147483647, -2147483648, 3e38, -3e38,
  F32_MAX, -F32_MAX].map(Math.fround);

/** SPECIALS plus a deterministic spread of magnitudes, as float32. */
function grid(n: number): Float32Array {
  const out = new Float32Array(SPECIALS.length + n);
  out.set(SPECIALS);
  let s = 12345;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < n; i++) {
    const u = 2 * r() - 1;
    out[SPECIALS.length + i] = i % 3 === 0 ? u * 10 : i % 3 === 1 ? u * 1e-3 : Math.sign(u) * Math.exp(60 * r() - 30);
  }
  return out;
}

const X = grid(3000);
/** Pairs for binary ops: every special against every special, then random pairs. */
const [PA, PB] = (() => {
  const g = grid(600);
  const a: number[] = [], b: number[] = [];
  for (const p of SPECIALS) for (const q of SPECIALS) { a.push(p); b.push(q); }
  for (let i = 0; i < g.length; i++) { a.push(g[i]!); b.push(g[(i * 7 + 3) % g.length]!); }
  return [Float32Array.from(a), Float32Array.from(b)];
})();

/** Float32 spacing at w (for w = 0 the smallest subnormal). */
function ulp32(w: number): number {
  const a = Math.abs(w);
  if (a < F32_MIN_NORMAL) return F32_MIN_SUBNORMAL;
  const e = Math.floor(Math.log2(a));
  return Math.pow(2, e - 23) * (Math.fround(a) >= Math.pow(2, e + 1) ? 2 : 1);
}

/** Null when `got` (float32) meets the accuracy against the float64 reference value `ref`, else why not. */
function check(got: number, ref: number, acc: Accuracy | undefined, operands: Record<string, number>): string | null {
  const want = Math.fround(ref);
  if (Object.is(got, want)) return null;
  const tolerant = acc && (acc.ulp || acc.rel || acc.abs || acc.absPer);
  if (!tolerant) return `got ${got}, want ${want} bit for bit`;
  if (Number.isNaN(want) || Number.isNaN(got) || !Number.isFinite(want) || !Number.isFinite(got)) return `got ${got}, want ${want}`;
  const tol = (acc.ulp ?? 0) * ulp32(want) + (acc.rel ?? 0) * Math.abs(want) + (acc.abs ?? 0)
    + (acc.absPer ? acc.absPer.k * Math.max(1, Math.abs(operands[acc.absPer.arg]!)) : 0);
  return Math.abs(got - want) <= tol ? null : `got ${got}, want ${want}: |diff| ${Math.abs(got - want)} > ${tol}`;
}

/** Whether a primitive of the expression is not bit-identical to the reference on the target. */
const usesInexact = (e: Expr, target: Target) => nodes(e).some((n) => n.k === 'prim' && PRIMS[n.prim].inexact.includes(target));

/**
 * The accuracy an op holds a target to: its stated one; else 1 ulp for WebAssembly in float64 lanes
 * through an inexact primitive (exp, tanh, …: rounded once from a float64 approximation); else bit-identical.
 */
function accuracyOf(def: OpDef, target: Target): Accuracy | undefined {
  if (def.accuracy?.[target]) return def.accuracy[target];
  if (target === 'wasm' && wasmRoute(def.expr) === 'f64' && usesInexact(def.expr, 'wasm')) return { ulp: 1 };
  return undefined;
}

const view = (buf: TypedArray, n: number, stride = 1): View<TypedArray> => ({
  buffer: buf, dtype: buf instanceof Uint8Array ? 'bool' : 'float32', shape: [n], strides: [stride], offset: 0,
});

function expectAll(label: string, n: number, failure: (i: number) => string | null): void {
  const bad: string[] = [];
  for (let i = 0; i < n && bad.length < 5; i++) {
    const f = failure(i);
    if (f) bad.push(f);
  }
  expect(bad, label).toEqual([]);
}

describe('one definition per elementwise op', () => {
  it('UNARY_OPS and BINARY_OPS are exactly the defined ops, in order; BOOL_RESULT_OPS the bool-valued ones', () => {
    expect(Object.keys(UNARY_DEFS)).toEqual([...UNARY_OPS]);
    expect(Object.keys(BINARY_DEFS)).toEqual([...BINARY_OPS]);
    const boolOps = (Object.keys(BINARY_DEFS) as BinaryOp[]).filter((op) => BINARY_DEFS[op].expr.kind === 'bool');
    expect([...BOOL_RESULT_OPS].sort()).toEqual(boolOps.sort());
    expect((Object.keys(UNARY_DEFS) as UnaryOp[]).filter((op) => UNARY_DEFS[op].expr.kind === 'bool')).toEqual(['logicalNot']);
  });

  it('no other source file of the kernels package writes an op as a table entry or a switch case', () => {
    const distinctive = ['geluTanh', 'softplus', 'siluGrad', 'geluGrad', 'logicalNot', 'logicalAnd', 'logicalOr', 'reciprocal', 'rsqrt',
      'expm1', 'log1p', 'silu', 'gelu', 'sigmoid', 'square', 'maximum', 'minimum'];
    const entry = new RegExp(`^\\s*'?(${distinctive.join('|')})'?\\s*:|case '(${distinctive.join('|')})'`);
    const root = join(__dirname, '../src');
    const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
    const hits: string[] = [];
    for (const f of files) {
      // The primitives (exp, log1p, sigmoid, …) share some ops' names; they are not ops.
      if (f === join('elementwise', 'ops.ts') || f === join('elementwise', 'primitives.ts')) continue;
      readFileSync(join(root, f), 'utf8').split('\n').forEach((line, i) => { if (entry.test(line)) hits.push(`${f}:${i + 1}: ${line.trim()}`); });
    }
    expect(hits).toEqual([]);
  });

  it('an op using a primitive whose float32-loop form is inexact states its accuracy for those loops', () => {
    for (const [op, def] of Object.entries<OpDef>(UNARY_DEFS)) expect(!usesInexact(def.expr, 'fast') || def.accuracy?.fast !== undefined, op).toBe(true);
    // A primitive with a quicker float32-loop form is inexact there, and only such a one.
    for (const [name, p] of Object.entries(PRIMS)) expect(p.inexact.includes('fast'), name).toBe(p.fast !== undefined);
  });

  it('the WebAssembly kernels are exactly the ops with a WebAssembly form', () => {
    expect(UNARY_FAST_OPS).toEqual(UNARY_OPS.filter((op) => wasmRoute(UNARY_DEFS[op].expr) !== null));
    expect(GRAD_FAST_OPS).toEqual(['geluGrad', 'siluGrad']);
    for (const op of BINARY_FAST_OPS) expect(wasmRoute(BINARY_DEFS[op].expr), op).toBe('f32');
    // The float32-lane route is taken exactly by the ops that opt into it.
    const defs = [...Object.entries<OpDef>(UNARY_DEFS), ...Object.entries<OpDef>(BINARY_DEFS)];
    const optIn = defs.filter(([, d]) => d.route === 'f32poly').map(([op]) => op);
    expect(defs.filter(([, d]) => wasmRoute(d.expr) === 'f32poly').map(([op]) => op)).toEqual(optIn);
  });
});

describe('reference: the special values of the definitions', () => {
  // [op, x, expected] in float64 (Object.is: signed zeros count).
  const UNARY_CASES: [UnaryOp, number, number][] = [
    ['neg', 0, -0], ['neg', NaN, NaN], ['abs', -0, 0], ['abs', -Infinity, Infinity], ['sign', -0, -0], ['sign', NaN, NaN],
    ['sign', -Infinity, -1], ['exp', -Infinity, 0], ['expm1', -0, -0], ['expm1', -Infinity, -1], ['log', 0, -Infinity],
    ['log', -1, NaN], ['log1p', -1, -Infinity], ['log1p', -0, -0], ['sqrt', -0, -0], ['sqrt', -1, NaN], ['rsqrt', -0, -Infinity],
    ['rsqrt', Infinity, 0], ['reciprocal', -0, -Infinity], ['sin', Infinity, NaN], ['cos', -Infinity, NaN], ['tanh', -0, -0],
    ['tanh', Infinity, 1], ['sigmoid', -Infinity, 0], ['sigmoid', Infinity, 1], ['sigmoid', -800, 0], ['relu', -0, 0],
    ['relu', NaN, NaN], ['relu', -Infinity, 0], ['gelu', -Infinity, NaN], ['gelu', Infinity, Infinity], ['gelu', -0, -0],
    ['geluTanh', -Infinity, NaN], ['geluTanh', Infinity, Infinity], ['geluTanh', -0, -0], ['silu', -Infinity, NaN],
    ['silu', Infinity, Infinity], ['softplus', -Infinity, 0], ['softplus', Infinity, Infinity], ['softplus', NaN, NaN],
    ['softplus', 800, 800], ['erf', -0, -0], ['erf', Infinity, 1], ['erf', NaN, NaN], ['floor', -0, -0], ['ceil', -0.5, -0],
    ['round', 2.5, 2], ['round', -0.5, -0], ['round', 3.5, 4], ['logicalNot', NaN, 0], ['logicalNot', -0, 1],
  ];
  const BINARY_CASES: [BinaryOp, number, number, number][] = [
    ['mod', 5, -3, -1], ['mod', -5, 3, 1], ['mod', 5, 0, NaN], ['mod', Infinity, 1, NaN], ['mod', -2, Infinity, Infinity],
    ['pow', 1, NaN, 1], ['pow', NaN, 0, 1], ['pow', -1, Infinity, 1], ['pow', -8, 1 / 3, NaN], ['pow', 0, -1, Infinity],
    ['maximum', NaN, 1, NaN], ['maximum', -0, 0, 0], ['minimum', 1, NaN, NaN], ['minimum', -0, 0, -0], ['ne', NaN, NaN, 1],
    ['eq', NaN, NaN, 0], ['le', NaN, 1, 0], ['logicalAnd', NaN, 1, 1], ['logicalOr', 0, -0, 0], ['div', 1, -0, -Infinity],
    // x·φ(x) at ±∞ is ∞·0, as in PyTorch's formula.
    ['geluGrad', Infinity, 1, NaN], ['geluGrad', 30, 2, 2], ['geluGrad', -40, 2, 0], ['siluGrad', 0, 2, 1], ['siluGrad', -800, 1, -0],
  ];
  it('unary and binary special values', () => {
    for (const [op, x, want] of UNARY_CASES) expect(Object.is(UNARY_FNS[op](x), want), `${op}(${x}) = ${UNARY_FNS[op](x)}, want ${want}`).toBe(true);
    for (const [op, a, b, want] of BINARY_CASES) {
      expect(Object.is(BINARY_FNS[op](a, b), want), `${op}(${a}, ${b}) = ${BINARY_FNS[op](a, b)}, want ${want}`).toBe(true);
    }
  });

  it('compiled and closure-evaluated forms agree bit for bit on float64 values', () => {
    const xs = [...SPECIALS, 1e300, -1e300, 5e-324, 1e-310, 0.1, 1 / 3, 2 ** 53 + 2, ...Array.from(X.subarray(0, 500))];
    for (const op of UNARY_OPS) {
      const compiled = unaryFunction(UNARY_DEFS[op].expr), closures = evaluateUnary(UNARY_DEFS[op].expr);
      for (const fast of [false, true]) {
        const c = unaryFunction(UNARY_DEFS[op].expr, fast), e = evaluateUnary(UNARY_DEFS[op].expr, fast);
        for (const x of xs) expect(Object.is(c(x), e(x)), `${op}${fast ? ' fast' : ''}(${x})`).toBe(true);
      }
      for (const x of xs) expect(Object.is(UNARY_FNS[op](x), compiled(x)) && Object.is(compiled(x), closures(x)), `${op}(${x})`).toBe(true);
    }
    for (const op of BINARY_OPS) {
      const compiled = binaryFunction(BINARY_DEFS[op].expr), closures = evaluateBinary(BINARY_DEFS[op].expr);
      for (let i = 0; i < PA.length; i += 3) {
        const a = PA[i]!, b = PB[i]!;
        expect(Object.is(compiled(a, b), closures(a, b)) && Object.is(BINARY_FNS[op](a, b), compiled(a, b)), `${op}(${a}, ${b})`).toBe(true);
      }
    }
  });
});

describe('generated code of every target against the float64 reference, to each op\'s stated accuracy', () => {
  const n = X.length;

  it('float32 TypeScript loops (unary: the fast forms; binary: the reference primitives)', () => {
    for (const op of UNARY_OPS) {
      const def: OpDef = UNARY_DEFS[op];
      const out = def.expr.kind === 'bool' ? new Uint8Array(n) : new Float32Array(n);
      unaryLoop(def.expr, true)(X, 0, 1, out, 0, 1, n);
      const ref = UNARY_FNS[op];
      expectAll(`${op} loop`, n, (i) => { const f = check(out[i]!, ref(X[i]!), accuracyOf(def, 'fast'), { x: X[i]! }); return f && `${op}(${X[i]}): ${f}`; });
    }
    for (const op of BINARY_OPS) {
      const def: OpDef = BINARY_DEFS[op];
      const m = PA.length;
      const out = def.expr.kind === 'bool' ? new Uint8Array(m) : new Float32Array(m);
      binaryLoop(def.expr, false)(PA, 0, 1, PB, 0, 1, out, 0, 1, m);
      const ref = BINARY_FNS[op];
      expectAll(`${op} loop`, m, (i) => { const f = check(out[i]!, ref(PA[i]!, PB[i]!), undefined, {}); return f && `${op}(${PA[i]}, ${PB[i]}): ${f}`; });
    }
  });

  it('the fast cpu tier on strided views (the TypeScript loops) and contiguous ones (WebAssembly), 1 and 2 threads', () => {
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      for (const op of UNARY_OPS) {
        const def: OpDef = UNARY_DEFS[op];
        const bool = def.expr.kind === 'bool';
        const ref = UNARY_FNS[op];
        // Every other element of a wider buffer: the strided TypeScript path.
        const wide = new Float32Array(2 * n);
        for (let i = 0; i < n; i++) wide[2 * i] = X[i]!;
        const strided = bool ? new Uint8Array(n) : new Float32Array(n);
        fastCpuKernels.unary(op, view(wide, n, 2), view(strided, n));
        const loopAcc = accuracyOf(def, 'fast');
        expectAll(`${op} strided`, n, (i) => { const f = check(strided[i]!, ref(X[i]!), loopAcc, { x: X[i]! }); return f && `${op}(${X[i]}): ${f}`; });
        if (!(UNARY_FAST_OPS as readonly string[]).includes(op)) continue;
        const out = new Float32Array(n).fill(12345);
        fastCpuKernels.unary(op, view(X, n), view(out, n));
        expectAll(`${op} wasm`, n, (i) => { const f = check(out[i]!, ref(X[i]!), accuracyOf(def, 'wasm'), { x: X[i]! }); return f && `${op}(${X[i]}) wasm: ${f}`; });
      }
      for (const op of [...BINARY_FAST_OPS, ...GRAD_FAST_OPS]) {
        const def: OpDef = BINARY_DEFS[op];
        const m = PA.length;
        const out = new Float32Array(m).fill(12345);
        fastCpuKernels.binary(op, view(PA, m), view(PB, m), view(out, m));
        const ref = BINARY_FNS[op];
        expectAll(`${op} wasm`, m, (i) => {
          // In float32 lanes g'(a) underflows to 0 for a < −13.2, where the float64 reference keeps
          // it (≈ −1e-86 at a = −20): an infinite g then gives ∞·0 = NaN instead of ∓∞.
          if (op === 'geluGrad' && !Number.isFinite(PB[i]!) && Math.fround(ref(PA[i]!, 1)) === 0) {
            return Number.isNaN(out[i]!) ? null : `${op}(${PA[i]}, ${PB[i]}) wasm: got ${out[i]}, want NaN`;
          }
          const f = check(out[i]!, ref(PA[i]!, PB[i]!), accuracyOf(def, 'wasm'), { a: PA[i]!, b: PB[i]! });
          return f && `${op}(${PA[i]}, ${PB[i]}) wasm: ${f}`;
        });
      }
    }
  });
});

describe('an expression that is not an op of the library', () => {
  // quickGelu(x) = x·σ(1.702·x), defined here and nowhere else: every target comes from it alone.
  const quickGelu = mul(X_ARG, sigmoid(mul(1.702, X_ARG)));

  it('generates the reference, the float32 loop, the WGSL and a WebAssembly kernel', () => {
    const ref = unaryFunction(quickGelu);
    expect(ref(1)).toBeCloseTo(1 / (1 + Math.exp(-1.702)), 15);
    expect(toWgsl(quickGelu, 'f32')).toBe('(x * sigmoid_((1.702 * x)))');
    expect(toWgsl(quickGelu, 'i32')).toBeNull();
    expect(wasmRoute(quickGelu)).toBe('f64');

    const n = X.length;
    const loopOut = new Float32Array(n);
    unaryLoop(quickGelu, true)(X, 0, 1, loopOut, 0, 1, n);
    expectAll('quickGelu loop', n, (i) => check(loopOut[i]!, ref(X[i]!), undefined, {}));

    const m = new ModuleBuilder({ initialPages: 1, maximumPages: 1, shared: false });
    addUnaryKernel(m, 'quick_gelu', quickGelu);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    const kernel = new WebAssembly.Instance(new WebAssembly.Module(m.toBytes() as BufferSource), { env: { memory } }).exports.quick_gelu as (x: number, o: number, n: number) => void;
    const len = n + (-n & 3); // whole steps of four; the kernel reads and writes up to three past n
    const xs = new Float32Array(memory.buffer, 0, len), os = new Float32Array(memory.buffer, 4 * len, len);
    xs.set(X);
    kernel(0, 4 * len, n);
    expectAll('quickGelu wasm', n, (i) => { const f = check(os[i]!, ref(X[i]!), { ulp: 1 }, {}); return f && `quickGelu(${X[i]}): ${f}`; });
  });
});
