// Tests of the CPU elementwise kernels: unary, binary, where, copy, fill.
// Expected transcendental values come from Python's math module (math.erf, math.tanh, ...) or
// are exact by definition; the rest are hand-computed in the comments.
import { describe, expect, it } from 'vitest';
import { contiguousView, cpuKernels, erf } from '../src/cpu/index.js';
import type { BinaryOp, DType, TypedArray, UnaryOp, View } from '../src/types.js';
import { vals } from './cpu_helpers.js';

const K = cpuKernels;

function un(op: UnaryOp, xs: number[], dtype: DType = 'float64', outDtype: DType = dtype): number[] {
  const x = contiguousView(dtype, [xs.length], xs);
  const out = contiguousView(outDtype, [xs.length]);
  K.unary(op, x, out);
  return vals(out);
}

function bin(op: BinaryOp, as: number[], bs: number[], outDtype: DType = 'float64'): number[] {
  const a = contiguousView('float64', [as.length], as);
  const b = contiguousView('float64', [bs.length], bs);
  const out = contiguousView(outDtype, [as.length]);
  K.binary(op, a, b, out);
  return vals(out);
}

describe('cpu erf', () => {
  it('matches math.erf to 1e-15 across the series / continued-fraction / saturated ranges', () => {
    // [x, Python math.erf(x)]
    const table: [number, number][] = [
      [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
      [-1.5, -0.9661051464753108], [2, 0.9953222650189527], [2.5, 0.999593047982555],
      [2.999, 0.9999777698314002], [3, 0.9999779095030014], [3.5, 0.9999992569016276],
      [4, 0.9999999845827421], [5.9, 0.9999999999999999], [6.5, 1], [-6.5, -1],
    ];
    for (const [x, e] of table) expect(Math.abs(erf(x) - e)).toBeLessThan(1e-15);
    expect(erf(0)).toBe(0);
    expect(Number.isNaN(erf(NaN))).toBe(true);
  });

  it('is smooth enough for finite differences: (erf(x+h)-erf(x-h))/2h ≈ 2/√π e^{-x²}', () => {
    const h = 1e-5;
    for (const x of [0.3, 1.7, 2.99, 3.01, 4.2]) {
      const fd = (erf(x + h) - erf(x - h)) / (2 * h);
      const exact = (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x);
      expect(Math.abs(fd - exact)).toBeLessThan(1e-9);
    }
  });
});

describe('cpu unary', () => {
  it('basic ops', () => {
    expect(un('neg', [1, -2])).toEqual([-1, 2]);
    expect(un('abs', [-3, 2])).toEqual([3, 2]);
    expect(un('sign', [-2, 0, 5])).toEqual([-1, 0, 1]);
    expect(un('square', [-3])).toEqual([9]);
    expect(un('reciprocal', [4])).toEqual([0.25]);
    expect(un('rsqrt', [4])).toEqual([0.5]);
    expect(un('sqrt', [9])).toEqual([3]);
    expect(un('exp', [0])).toEqual([1]);
    expect(un('log', [1])).toEqual([0]);
    expect(un('floor', [-1.5, 1.5])).toEqual([-2, 1]);
    expect(un('ceil', [-1.5, 1.5])).toEqual([-1, 2]);
    expect(un('relu', [-1, 0, 2])).toEqual([0, 0, 2]);
    expect(Number.isNaN(un('relu', [NaN])[0])).toBe(true);
  });

  it('round is half-to-even like torch.round', () => {
    expect(un('round', [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6, -2.6])).toEqual([0, 2, 2, -0, -2, -2, 2, 3, -3]);
  });

  it('logicalNot writes bool 1/0 (NaN is true)', () => {
    expect(un('logicalNot', [0, 2, -1, NaN], 'float64', 'bool')).toEqual([1, 0, 0, 0]);
  });

  it('sigmoid, silu and softplus are stable for large |x|', () => {
    const s = un('sigmoid', [0, 800, -800, -40]);
    expect(s[0]).toBe(0.5);
    expect(s[1]).toBe(1);
    expect(s[2]).toBe(0); // no NaN from exp overflow
    expect(s[3]! / Math.exp(-40)).toBeCloseTo(1, 12); // the tail is kept, not rounded to 0
    expect(un('silu', [-800, 2])).toEqual([-0, 2 / (1 + Math.exp(-2))]);
    // log1p(exp(1)) = 1.3132616875182228, log1p(exp(-30)) = 9.357622968839737e-14 (Python)
    const sp = un('softplus', [1, -30, 1000, -1000]);
    expect(sp[0]).toBeCloseTo(1.3132616875182228, 15);
    expect(sp[1]! / 9.357622968839737e-14).toBeCloseTo(1, 12);
    expect(sp[2]).toBe(1000); // naive log1p(exp(1000)) would be Infinity
    expect(sp[3]).toBe(0);
  });

  it('geluGrad and siluGrad: g·f′(x), known values and central differences of gelu and silu', () => {
    // gelu'(1) = Φ(1) + φ(1) = 0.8413447460685429 + 0.24197072451914337; silu'(0) = ½
    expect(bin('geluGrad', [1, 0, 1], [1, 1, 3])).toEqual([expect.closeTo(1.0833154705876864, 14), 0.5, expect.closeTo(3 * 1.0833154705876864, 13)]);
    expect(bin('siluGrad', [0, 2], [1, 1])).toEqual([0.5, expect.closeTo(1.0907842487848943, 14)]);
    const xs = [-30, -6, -2.5, -1, -0.3, 0, 0.7, 1.9, 4, 9];
    const g = [0.7, -1.3, 2, 1, 1, 1, -0.5, 1, 1, 3];
    for (const [op, f] of [['geluGrad', 'gelu'], ['siluGrad', 'silu']] as const) {
      const got = bin(op, xs, g);
      const h = 1e-5;
      const fd = un(f, xs.map((x) => x + h)).map((p, i) => g[i]! * (p - un(f, [xs[i]! - h])[0]!) / (2 * h));
      got.forEach((v, i) => expect(Math.abs(v - fd[i]!), `${op}(${xs[i]})`).toBeLessThan(1e-8));
    }
    expect(bin('siluGrad', [-800, 800], [1, 1])).toEqual([-0, 1]); // no NaN from exp overflow
  });

  it('gelu (exact, via erf) and geluTanh', () => {
    // gelu(1) = 0.5(1+erf(1/√2)) = 0.8413447460685429; gelu(-2) = -0.04550026389635842 (Python math.erf)
    const g = un('gelu', [1, -2, 0]);
    expect(g[0]).toBeCloseTo(0.8413447460685429, 15);
    expect(g[1]).toBeCloseTo(-0.04550026389635842, 15);
    expect(g[2]).toBe(0);
    // 0.5x(1+tanh(√(2/π)(x+0.044715x³))) at 1 and -2 (Python math.tanh)
    const t = un('geluTanh', [1, -2]);
    expect(t[0]).toBeCloseTo(0.8411919906082768, 15);
    expect(t[1]).toBeCloseTo(-0.04540230591222494, 15);
  });

  it('float32 outputs are rounded, int32 outputs truncated', () => {
    const x = contiguousView('float32', [1], [0.1]);
    const out = contiguousView('float32', [1]);
    K.unary('exp', x, out);
    expect(out.buffer[0]).toBe(Math.fround(Math.exp(Math.fround(0.1))));
    expect(un('neg', [3, -7], 'int32')).toEqual([-3, 7]);
  });

  it('reads strided, broadcast, 0-d and empty inputs', () => {
    // transposed 2x2: buffer [1,2,3,4] as [[1,3],[2,4]]
    const t: View<TypedArray> = { buffer: new Float64Array([1, 2, 3, 4]), dtype: 'float64', shape: [2, 2], strides: [1, 2], offset: 0 };
    const out = contiguousView('float64', [2, 2]);
    K.unary('square', t, out);
    expect(vals(out)).toEqual([1, 9, 4, 16]);
    const b: View<TypedArray> = { buffer: new Float64Array([5]), dtype: 'float64', shape: [3], strides: [0], offset: 0 };
    const ob = contiguousView('float64', [3]);
    K.unary('neg', b, ob);
    expect(vals(ob)).toEqual([-5, -5, -5]);
    const s: View<TypedArray> = { buffer: new Float64Array([0, -4]), dtype: 'float64', shape: [], strides: [], offset: 1 };
    const os = contiguousView('float64', []);
    K.unary('abs', s, os);
    expect(vals(os)).toEqual([4]);
    const e = contiguousView('float64', [0, 2]);
    const oe = contiguousView('float64', [0, 2]);
    expect(() => K.unary('exp', e, oe)).not.toThrow();
    expect(oe.buffer.length).toBe(0);
  });
});

describe('cpu binary', () => {
  it('arithmetic', () => {
    expect(bin('add', [1, 2], [3, 4])).toEqual([4, 6]);
    expect(bin('sub', [1, 2], [3, 5])).toEqual([-2, -3]);
    expect(bin('mul', [1.5, 2], [2, -4])).toEqual([3, -8]);
    expect(bin('div', [1, -3], [4, 2])).toEqual([0.25, -1.5]);
    expect(bin('pow', [2, 9, 1, -1], [10, 0.5, NaN, Infinity])).toEqual([1024, 3, 1, 1]); // C pow: 1^NaN = 1, (-1)^∞ = 1
    expect(bin('maximum', [1, 5], [3, 2])).toEqual([3, 5]);
    expect(bin('minimum', [1, 5], [3, 2])).toEqual([1, 2]);
    expect(Number.isNaN(bin('maximum', [NaN], [1])[0])).toBe(true);
  });

  it('mod has the sign of the divisor (Python %: -7%3=2, 7%-3=-2, -7.5%2=0.5, 5.5%-2=-0.5)', () => {
    expect(bin('mod', [-7, 7, -7.5, 5.5, 6, 7], [3, -3, 2, -2, 3, 3])).toEqual([2, -2, 0.5, -0.5, 0, 1]);
  });

  it('comparisons and logical ops write bool 0/1', () => {
    const a = [1, 2, 3, NaN];
    const b = [2, 2, 2, NaN];
    expect(bin('eq', a, b, 'bool')).toEqual([0, 1, 0, 0]);
    expect(bin('ne', a, b, 'bool')).toEqual([1, 0, 1, 1]);
    expect(bin('lt', a, b, 'bool')).toEqual([1, 0, 0, 0]);
    expect(bin('le', a, b, 'bool')).toEqual([1, 1, 0, 0]);
    expect(bin('gt', a, b, 'bool')).toEqual([0, 0, 1, 0]);
    expect(bin('ge', a, b, 'bool')).toEqual([0, 1, 1, 0]);
    expect(bin('logicalAnd', [0, 1, 2, 0], [0, 0, 3, 5], 'bool')).toEqual([0, 0, 1, 0]);
    expect(bin('logicalOr', [0, 1, 2, 0], [0, 0, 3, 5], 'bool')).toEqual([0, 1, 1, 1]);
  });

  it('int32 operands and output', () => {
    const a = contiguousView('int32', [3], [7, -7, 5]);
    const b = contiguousView('int32', [3], [2, 2, -3]);
    const out = contiguousView('int32', [3]);
    K.binary('mod', a, b, out);
    expect(Array.from(out.buffer)).toEqual([1, 1, -1]);
    K.binary('div', a, b, out); // stored into int32: truncation toward zero of 3.5, -3.5, -1.67
    expect(Array.from(out.buffer)).toEqual([3, -3, -1]);
  });

  it('broadcast (stride 0) operands against a transposed one', () => {
    // a = row [10, 20] broadcast over 3 rows; b = transpose of [[1,2,3],[4,5,6]] → [[1,4],[2,5],[3,6]]
    const a: View<TypedArray> = { buffer: new Float64Array([10, 20]), dtype: 'float64', shape: [3, 2], strides: [0, 1], offset: 0 };
    const b: View<TypedArray> = { buffer: new Float64Array([1, 2, 3, 4, 5, 6]), dtype: 'float64', shape: [3, 2], strides: [1, 3], offset: 0 };
    const out = contiguousView('float64', [3, 2]);
    K.binary('add', a, b, out);
    expect(vals(out)).toEqual([11, 24, 12, 25, 13, 26]);
  });

  it('0-d operands', () => {
    const a = contiguousView('float64', [], [3]);
    const b = contiguousView('float64', [], [4]);
    const out = contiguousView('float64', []);
    K.binary('pow', a, b, out);
    expect(vals(out)).toEqual([81]);
  });
});

describe('cpu where / copy / fill', () => {
  it('where picks a where cond is non-zero', () => {
    const c = contiguousView('bool', [4], [1, 0, 1, 0]);
    const a = contiguousView('float64', [4], [1, 2, 3, 4]);
    const b: View<TypedArray> = { buffer: new Float64Array([-1]), dtype: 'float64', shape: [4], strides: [0], offset: 0 };
    const out = contiguousView('float64', [4]);
    K.where(c, a, b, out);
    expect(vals(out)).toEqual([1, -1, 3, -1]);
  });

  it('copy converts dtypes and writes into a strided out view', () => {
    const x = contiguousView('float64', [2, 2], [1.9, -1.9, 0, 2.5]);
    // out is the transpose view of a 2x2 int32 buffer
    const buf = new Int32Array(4);
    const out: View<TypedArray> = { buffer: buf, dtype: 'int32', shape: [2, 2], strides: [1, 2], offset: 0 };
    K.copy(x, out);
    // x[0][0]=1.9→1 at buf[0], x[0][1]=-1.9→-1 at buf[2], x[1][0]=0 at buf[1], x[1][1]=2.5→2 at buf[3]
    expect(Array.from(buf)).toEqual([1, 0, -1, 2]);
    const bo = contiguousView('bool', [4]);
    K.copy(x, bo);
    expect(Array.from(bo.buffer)).toEqual([1, 1, 0, 1]);
    const fo = contiguousView('float32', [4]);
    K.copy(contiguousView('int32', [4], [1, -2, 3, 2147483647]), fo);
    expect(Array.from(fo.buffer)).toEqual([1, -2, 3, 2147483648]);
  });

  it('copy between overlapping views of one buffer reads before writing', () => {
    const buf = new Float64Array([1, 2, 3, 4, 5]);
    const src: View<TypedArray> = { buffer: buf, dtype: 'float64', shape: [4], strides: [1], offset: 0 };
    const dst: View<TypedArray> = { buffer: buf, dtype: 'float64', shape: [4], strides: [1], offset: 1 };
    K.copy(src, dst); // x[1:] = x[:-1]
    expect(Array.from(buf)).toEqual([1, 1, 2, 3, 4]);
  });

  it('fill sets a strided view only, with conversion', () => {
    const buf = new Int32Array(6);
    const col: View<TypedArray> = { buffer: buf, dtype: 'int32', shape: [3], strides: [2], offset: 1 };
    K.fill(col, -2.9);
    expect(Array.from(buf)).toEqual([0, -2, 0, -2, 0, -2]);
    const s = contiguousView('float32', []);
    K.fill(s, 0.1);
    expect(s.buffer[0]).toBe(Math.fround(0.1));
  });
});

describe('cpu binaryScalar', () => {
  it('equals binary with the scalar in a filled 0-d buffer, both operand orders and dtypes', async () => {
    const { fastCpuKernels } = await import('../src/cpu_fast/index.js');
    const cases: [BinaryOp, DType, number[], number][] = [
      ['sub', 'float32', [1.5, -2, 0.25, 7], 0.1], ['div', 'float32', [1, -3, 4, 9], 3],
      ['pow', 'float32', [0.5, 2, 3, 1.5], 2.5], ['mod', 'int32', [-7, 3, 8, 0], 3],
      ['lt', 'float32', [0, 1, 2, 3], 1.5], ['maximum', 'int32', [-1, 5, 2, 9], 2],
    ];
    for (const kernels of [cpuKernels, fastCpuKernels]) {
      for (const [op, dtype, xs, scalar] of cases) {
        for (const scalarFirst of [false, true]) {
          const a = contiguousView(dtype, [2, 2], xs);
          const outDtype: DType = ['lt'].includes(op) ? 'bool' : dtype;
          const got = contiguousView(outDtype, [2, 2]);
          kernels.binaryScalar(op, a, scalar, scalarFirst, got);
          const s = contiguousView(dtype, [], [scalar]);
          const sb: View<TypedArray> = { ...s, shape: [2, 2], strides: [0, 0] };
          const want = contiguousView(outDtype, [2, 2]);
          cpuKernels.binary(op, scalarFirst ? sb : a, scalarFirst ? a : sb, want);
          expect(vals(got), `${op} ${dtype} scalarFirst=${scalarFirst}`).toEqual(vals(want));
        }
      }
    }
  });
});
