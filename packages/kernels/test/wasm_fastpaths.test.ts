// The TypeScript fast paths of `fastCpuKernels` (unary, binary layouts outside the WebAssembly program,
// where, copy, fill, random, reduce, softmax/layerNorm/cross-entropy backward, indexSelect/indexAdd)
// and its matmul-based attention, against the reference kernels on awkward shapes: odd sizes,
// transposed and sliced views, broadcast (stride 0) operands, size-1 dims and 0-d tensors.
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { fastErf } from '../src/cpu_fast/elementwise_loops.js';
import { erf } from '../src/cpu/elementwise.js';
import { allocTensorArray, fastCpuKernels, releaseTensorArray } from '../src/cpu_fast/index.js';
import type { TypedArray, UnaryOp, View } from '../src/types.js';
import { UNARY_OPS } from '../src/types.js';
import { bitsEqual, eachThreadCount, expectWithin, forceThreading, seeded, view } from './wasm_helpers.js';

forceThreading();

const SIZES = [1, 3, 7, 17, 63, 65, 257] as const;
type V = View<TypedArray>;

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const fresh = (shape: number[], dtype: 'float32' | 'float64' | 'int32' | 'bool' = 'float32'): V => {
  const n = numel(shape);
  const buf = dtype === 'float32' ? new Float32Array(n) : dtype === 'float64' ? new Float64Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
  return view(buf, shape);
};
/** The transposed view (last two dims swapped) of a contiguous [..., a, b] buffer, as [..., b, a]. */
function transposed(buf: Float32Array, shape: number[]): V {
  const v = view(buf, shape);
  const r = shape.length;
  return { ...v, shape: [...shape.slice(0, r - 2), shape[r - 1]!, shape[r - 2]!],
    strides: [...v.strides.slice(0, r - 2), v.strides[r - 1]!, v.strides[r - 2]!] };
}
const rel = (want: ArrayLike<number>, r = 2e-6, a = 1e-6) => (i: number) => a + r * Math.abs(want[i]!);

/** A set of float32 input views of shape `shape` in several layouts. */
function layouts(shape: number[], seed: number): [string, V][] {
  const n = numel(shape);
  const out: [string, V][] = [['contiguous', view(seeded(n, seed, -3, 3), shape)]];
  if (shape.length >= 2) {
    const r = shape.length;
    const sw = [...shape.slice(0, r - 2), shape[r - 1]!, shape[r - 2]!];
    out.push(['transposed', transposed(seeded(n, seed + 1, -3, 3), sw)]);
    // Every other element along the last dim of a wider buffer, at an offset.
    const wide = [...shape.slice(0, r - 1), 2 * shape[r - 1]!];
    const w = view(seeded(numel(wide) + 5, seed + 2, -3, 3), wide, undefined, 5);
    out.push(['strided', { ...w, shape, strides: [...w.strides.slice(0, r - 1), 2] }]);
    // Broadcast along the leading dim (stride 0).
    const row = view(seeded(n / shape[0]!, seed + 3, -3, 3), shape.slice(1));
    out.push(['broadcast', { ...row, shape, strides: [0, ...row.strides] }]);
  }
  return out;
}

const SHAPES: number[][] = [[], [1], [7], [3, 17], [65, 1], [2, 3, 63], [4, 257], [1, 3, 1, 5], [2, 2, 3, 7]];

describe('unary fast paths', () => {
  it('fastErf matches the reference erf to 1e-12', () => {
    for (let x = -7; x <= 7; x += 0.00137) expect(Math.abs(fastErf(x) - erf(x))).toBeLessThan(1e-12);
    expect(Object.is(fastErf(-0), -0)).toBe(true);
    expect(fastErf(NaN)).toBeNaN();
    expect(fastErf(Infinity)).toBe(1);
    expect(fastErf(-Infinity)).toBe(-1);
  });

  it('every float32 op on every layout, bit-identical except gelu/erf (their stated accuracy)', () => {
    for (const shape of SHAPES) {
      for (const [what, x] of layouts(shape, 11)) {
        for (const op of UNARY_OPS) {
          if (op === 'logicalNot') continue;
          const ref = fresh(shape), got = fresh(shape);
          cpuKernels.unary(op as UnaryOp, x, ref);
          fastCpuKernels.unary(op as UnaryOp, x, got);
          const r = ref.buffer as Float32Array, g = got.buffer as Float32Array;
          // gelu in WebAssembly (contiguous inputs) runs in float32 lanes: 2 ulp + 1.6e-7·max(1, |x|) (ops.ts), |x| ≤ 3 here.
          if (op === 'gelu') expectWithin(g, r, rel(r, 2.5e-7, 4.8e-7), `${op} ${what} [${shape}]`);
          else if (op === 'erf') expectWithin(g, r, rel(r, 2.5e-7, 1e-30), `${op} ${what} [${shape}]`);
          else expect(bitsEqual(g, r), `${op} ${what} [${shape}]`).toBe(true);
        }
      }
    }
  });

  it('in place and into a strided output', () => {
    const buf = seeded(3 * 17, 4);
    const ref = buf.slice();
    cpuKernels.unary('tanh', view(ref, [3, 17]), view(ref, [3, 17]));
    fastCpuKernels.unary('tanh', view(buf, [3, 17]), view(buf, [3, 17]));
    expect(bitsEqual(buf, ref)).toBe(true);
    // Reading a transposed view of the buffer it writes: the reference reads all first.
    const b2 = seeded(49, 5), r2 = b2.slice();
    cpuKernels.unary('neg', transposed(r2, [7, 7]), view(r2, [7, 7]));
    fastCpuKernels.unary('neg', transposed(b2, [7, 7]), view(b2, [7, 7]));
    expect(bitsEqual(b2, r2)).toBe(true);
    const x = view(seeded(21, 6), [3, 7]);
    const o1 = new Float32Array(30), o2 = new Float32Array(30);
    cpuKernels.unary('exp', x, transposed(o1, [7, 3]));
    fastCpuKernels.unary('exp', x, transposed(o2, [7, 3]));
    expect(bitsEqual(o1, o2)).toBe(true);
  });
});

describe('binary and where fast paths', () => {
  it('arithmetic and comparisons on layouts the WebAssembly program skips', () => {
    for (const shape of SHAPES) {
      const as = layouts(shape, 21), bs = layouts(shape, 31);
      for (const [wa, a] of as) for (const [wb, b] of bs) {
        for (const op of ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod'] as const) {
          const ref = fresh(shape), got = fresh(shape);
          cpuKernels.binary(op, a, b, ref);
          eachThreadCount(() => {
            fastCpuKernels.binary(op, a, b, got);
            expect(bitsEqual(got.buffer as Float32Array, ref.buffer as Float32Array), `${op} ${wa}/${wb} [${shape}]`).toBe(true);
          });
        }
        for (const op of ['lt', 'eq', 'ne', 'ge'] as const) {
          const ref = fresh(shape, 'bool'), got = fresh(shape, 'bool');
          cpuKernels.binary(op, a, b, ref);
          fastCpuKernels.binary(op, a, b, got);
          expect([...got.buffer], `${op} ${wa}/${wb}`).toEqual([...ref.buffer]);
        }
      }
    }
  });

  it('where with a broadcast bool condition', () => {
    for (const shape of SHAPES) {
      const n = numel(shape);
      const cond = view(Uint8Array.from(seeded(n, 3), (v) => (v > 0 ? 1 : 0)), shape);
      for (const [wa, a] of layouts(shape, 41)) for (const [wb, b] of layouts(shape, 51)) {
        const ref = fresh(shape), got = fresh(shape);
        cpuKernels.where(cond, a, b, ref);
        fastCpuKernels.where(cond, a, b, got);
        expect(bitsEqual(got.buffer as Float32Array, ref.buffer as Float32Array), `where ${wa}/${wb} [${shape}]`).toBe(true);
      }
    }
  });
});

describe('copy and fill fast paths', () => {
  it('copies every layout, with dtype conversions', () => {
    for (const shape of SHAPES) {
      for (const [what, x] of layouts(shape, 61)) {
        for (const dt of ['float32', 'float64'] as const) {
          const ref = fresh(shape, dt), got = fresh(shape, dt);
          cpuKernels.copy(x, ref);
          fastCpuKernels.copy(x, got);
          expect([...got.buffer], `copy ${what} → ${dt} [${shape}]`).toEqual([...ref.buffer]);
        }
        // Into a transposed destination.
        if (shape.length >= 2) {
          const r = shape.length;
          const sw = [...shape.slice(0, r - 2), shape[r - 1]!, shape[r - 2]!];
          const o1 = new Float32Array(numel(shape)), o2 = new Float32Array(numel(shape));
          cpuKernels.copy(x, transposed(o1, sw));
          fastCpuKernels.copy(x, transposed(o2, sw));
          expect(bitsEqual(o1, o2), `copy ${what} → transposed`).toBe(true);
        }
      }
    }
    // int32 → float32 and float64 → float32 (rounding).
    const i = view(Int32Array.from([1, -7, 16777217, 2147483647]), [4]);
    const d = view(Float64Array.from([0.1, 1 / 3, -1e-50, 1e40]), [4]);
    for (const x of [i, d]) {
      const ref = fresh([4]), got = fresh([4]);
      cpuKernels.copy(x, ref);
      fastCpuKernels.copy(x, got);
      expect([...got.buffer]).toEqual([...ref.buffer]);
    }
  });

  it('overlapping copies within one buffer read before writing', () => {
    const buf = seeded(20, 7), ref = buf.slice();
    cpuKernels.copy(view(ref, [15], [1], 0), view(ref, [15], [1], 5));
    fastCpuKernels.copy(view(buf, [15], [1], 0), view(buf, [15], [1], 5));
    expect(bitsEqual(buf, ref)).toBe(true);
  });

  it('fills contiguous and strided views of every dtype', () => {
    for (const dt of ['float32', 'float64', 'int32', 'bool'] as const) {
      for (const shape of SHAPES) {
        const ref = fresh(shape, dt), got = fresh(shape, dt);
        cpuKernels.fill(ref, -2.7);
        fastCpuKernels.fill(got, -2.7);
        expect([...got.buffer]).toEqual([...ref.buffer]);
      }
      const a = fresh([6, 5], dt), b = fresh([6, 5], dt);
      const sub = (v: V): V => ({ ...v, shape: [3, 2], strides: [10, 2], offset: 1 });
      cpuKernels.fill(sub(a), 0.5);
      fastCpuKernels.fill(sub(b), 0.5);
      expect([...b.buffer]).toEqual([...a.buffer]);
    }
  });
});

describe('random fast path', () => {
  it('reproduces the reference bit for bit', () => {
    for (const distribution of ['uniform', 'normal'] as const) {
      for (const shape of [[], [1], [7, 17], [3, 257]]) {
        const opts = { seed: 12345678901, offset: 4294967290, distribution };
        const ref = fresh(shape), got = fresh(shape);
        cpuKernels.random(ref, opts);
        fastCpuKernels.random(got, opts);
        expect(bitsEqual(got.buffer as Float32Array, ref.buffer as Float32Array), `${distribution} [${shape}]`).toBe(true);
      }
      const ref = new Float32Array(40), got = new Float32Array(40);
      cpuKernels.random(transposed(ref, [5, 8]), { seed: 3, offset: 0, distribution });
      fastCpuKernels.random(transposed(got, [5, 8]), { seed: 3, offset: 0, distribution });
      expect(bitsEqual(got, ref)).toBe(true);
    }
  });
});

describe('reduce fast path', () => {
  it('sum/prod/max/min over every axis set and layout', () => {
    for (const shape of SHAPES) {
      const r = shape.length;
      const axisSets: number[][] = [[]];
      for (let m = 1; m < 1 << r; m++) axisSets.push([...Array(r).keys()].filter((d) => m & (1 << d)));
      for (const [what, x] of layouts(shape, 71)) {
        for (const axes of axisSets) {
          const outShape = shape.map((s, d) => (axes.includes(d) ? 1 : s));
          for (const op of ['sum', 'prod', 'max', 'min'] as const) {
            const ref = fresh(outShape), got = fresh(outShape);
            cpuKernels.reduce(op, x, axes, ref);
            fastCpuKernels.reduce(op, x, axes, got);
            const rb = ref.buffer as Float32Array;
            expectWithin(got.buffer, rb, rel(rb, 3e-7, 1e-30), `${op} ${what} axes [${axes}] [${shape}]`);
          }
        }
      }
    }
  });

  it('propagates NaN in max/min, and sums into float64', () => {
    const x = view(Float32Array.from([1, NaN, 3, 2, 5, -1]), [2, 3]);
    for (const op of ['max', 'min'] as const) for (const axes of [[0], [1], [0, 1]]) {
      const outShape = [axes.includes(0) ? 1 : 2, axes.includes(1) ? 1 : 3];
      const ref = fresh(outShape), got = fresh(outShape);
      cpuKernels.reduce(op, x, axes, ref);
      fastCpuKernels.reduce(op, x, axes, got);
      expect([...got.buffer]).toEqual([...ref.buffer]);
    }
    const d = view(Float64Array.from(seeded(257 * 3, 8)), [3, 257]);
    const ref = fresh([3, 1], 'float64'), got = fresh([3, 1], 'float64');
    cpuKernels.reduce('sum', d, [1], ref);
    fastCpuKernels.reduce('sum', d, [1], got);
    expectWithin(got.buffer, ref.buffer, () => 1e-13, 'float64 sum');
  });
});

describe('row kernels: softmax / layerNorm / cross-entropy backward', () => {
  it('softmaxBackward matches', () => {
    for (const [rows, cols] of [[1, 1], [3, 7], [17, 65], [63, 257]] as const) {
      for (const log of [false, true]) {
        const x = view(seeded(rows * cols, 3, -4, 4), [rows, cols]);
        const y = fresh([rows, cols]);
        cpuKernels.softmax(x, y, log);
        const dy = view(seeded(rows * cols, 4), [rows, cols]);
        const ref = fresh([rows, cols]), got = fresh([rows, cols]);
        cpuKernels.softmaxBackward(y, dy, ref, log);
        fastCpuKernels.softmaxBackward(y, dy, got, log);
        expect(bitsEqual(got.buffer as Float32Array, ref.buffer as Float32Array), `${rows}x${cols} log=${log}`).toBe(true);
      }
    }
  });

  it('layerNormBackward matches, with and without affine params', () => {
    for (const [rows, D] of [[1, 1], [3, 7], [17, 65], [65, 257]] as const) {
      for (const affine of [true, false]) {
        const x = view(seeded(rows * D, 5, -2, 2), [rows, D]);
        const w = affine ? view(seeded(D, 6, 0.5, 1.5), [D]) : null;
        const b = affine ? view(seeded(D, 7), [D]) : null;
        const y = fresh([rows, D]), mean = fresh([rows]), rstd = fresh([rows]);
        cpuKernels.layerNorm(x, w, b, 1e-5, y, mean, rstd);
        const dy = view(seeded(rows * D, 8), [rows, D]);
        const outs = () => [fresh([rows, D]), affine ? fresh([D]) : null, affine ? fresh([D]) : null] as const;
        const [rdx, rdw, rdb] = outs(), [gdx, gdw, gdb] = outs();
        cpuKernels.layerNormBackward(x, w, mean, rstd, dy, rdx, rdw, rdb);
        fastCpuKernels.layerNormBackward(x, w, mean, rstd, dy, gdx, gdw, gdb);
        expect(bitsEqual(gdx.buffer as Float32Array, rdx.buffer as Float32Array), `dx ${rows}x${D}`).toBe(true);
        if (affine) {
          expect(bitsEqual(gdw!.buffer as Float32Array, rdw!.buffer as Float32Array)).toBe(true);
          expect(bitsEqual(gdb!.buffer as Float32Array, rdb!.buffer as Float32Array)).toBe(true);
        }
      }
    }
  });

  it('crossEntropy forward and backward, weights, smoothing, ignored rows, bad targets', () => {
    for (const [N, C] of [[1, 1], [3, 7], [17, 65], [63, 257]] as const) {
      for (const weighted of [false, true]) for (const labelSmoothing of [0, 0.1]) {
        const logits = view(seeded(N * C, 9, -5, 5), [N, C]);
        const targets = view(Int32Array.from({ length: N }, (_, i) => (i % 5 === 4 ? -100 : (i * 7) % C)), [N]);
        const weight = weighted ? view(seeded(C, 10, 0.2, 2), [C]) : null;
        const opts = { ignoreIndex: -100, labelSmoothing };
        const [rl, rs, gl, gs] = [fresh([N]), fresh([N]), fresh([N]), fresh([N])];
        cpuKernels.crossEntropy(logits, targets, weight, opts, rl, rs);
        fastCpuKernels.crossEntropy(logits, targets, weight, opts, gl, gs);
        // float32 WebAssembly against the float64 reference: the contract of cross_entropy_program.ts
        // (lse within 1e-6·max(1, |lse|); loss within 1e-6 of its terms' size, here ≤ 2·(10 + log C)·2).
        const what = `${N}x${C} weighted=${weighted} smoothing=${labelSmoothing}`;
        expectWithin(gs.buffer as Float32Array, rs.buffer as Float32Array, (i) => 1e-6 * Math.max(1, Math.abs(rs.buffer[i]!)), `ce lse ${what}`);
        expectWithin(gl.buffer as Float32Array, rl.buffer as Float32Array, () => 1e-6 * 4 * (10 + Math.log(C)), `ce loss ${what}`);
        const dloss = view(seeded(N, 11), [N]);
        const rd = fresh([N, C]), gd = fresh([N, C]);
        cpuKernels.crossEntropyBackward(logits, targets, weight, rs, dloss, opts, rd);
        fastCpuKernels.crossEntropyBackward(logits, targets, weight, rs, dloss, opts, gd);
        // Per element |g|·w·(p + 1) ≤ 2·2 with these weights: 2e-6 of that.
        expectWithin(gd.buffer as Float32Array, rd.buffer as Float32Array, () => 2e-6 * 4, `ce bwd ${what}`);
      }
    }
    const bad = view(Int32Array.from([0, 9]), [2]);
    const lg = view(seeded(6, 1), [2, 3]);
    expect(() => fastCpuKernels.crossEntropy(lg, bad, null, { ignoreIndex: -100, labelSmoothing: 0 }, fresh([2]), fresh([2])))
      .toThrow(RangeError);
  });
});

describe('indexSelect / indexAdd fast paths', () => {
  it('selects and accumulates slices along any dim, repeated indices included', () => {
    for (const shape of [[7], [65, 3], [5, 17, 2], [2, 3, 63]]) {
      for (let dim = 0; dim < shape.length; dim++) {
        const S = shape[dim]!;
        const idx = view(Int32Array.from([S - 1, 0, S - 1, Math.floor(S / 2), 0]), [5]);
        const x = view(seeded(numel(shape), 12), shape);
        const oShape = shape.map((s, d) => (d === dim ? 5 : s));
        const ref = fresh(oShape), got = fresh(oShape);
        cpuKernels.indexSelect(x, dim, idx, ref);
        fastCpuKernels.indexSelect(x, dim, idx, got);
        expect(bitsEqual(got.buffer as Float32Array, ref.buffer as Float32Array), `select [${shape}] dim ${dim}`).toBe(true);
        const src = view(seeded(numel(oShape), 13), oShape);
        const ra = view(seeded(numel(shape), 14), shape), ga = view(seeded(numel(shape), 14), shape);
        cpuKernels.indexAdd(ra, dim, idx, src);
        fastCpuKernels.indexAdd(ga, dim, idx, src);
        expect(bitsEqual(ga.buffer as Float32Array, ra.buffer as Float32Array), `add [${shape}] dim ${dim}`).toBe(true);
      }
    }
    const x = view(seeded(6, 1), [3, 2]);
    expect(() => fastCpuKernels.indexSelect(x, 0, view(Int32Array.from([3]), [1]), fresh([1, 2]))).toThrow(RangeError);
    expect(() => fastCpuKernels.indexAdd(fresh([3, 2]), 0, view(Int32Array.from([-1]), [1]), fresh([1, 2]))).toThrow(RangeError);
  });
});

describe('attention via batched matmuls', () => {
  function run(B: number, H: number, Tq: number, Tk: number, D: number, causal: boolean, masked: boolean, heads: boolean,
    scale = 1 / Math.sqrt(D)): void {
    // `heads`: q/k/v as head views of a [B, T, H, D] buffer (the layout a head split produces).
    const mk = (T: number, seed: number): V => {
      if (!heads) return view(seeded(B * H * T * D, seed), [B, H, T, D]);
      return view(seeded(B * T * H * D, seed), [B, H, T, D], [T * H * D, D, H * D, 1]);
    };
    const q = mk(Tq, 1), k = mk(Tk, 2), v = mk(Tk, 3);
    const mask = masked ? view(seeded(Tq * Tk, 4, -2, 0), [B, H, Tq, Tk], [0, 0, Tk, 1]) : null;
    const opts = { scale, causal };
    const what = `B${B} H${H} Tq${Tq} Tk${Tk} D${D} causal=${causal} mask=${masked} heads=${heads} scale=${scale}`;
    const [ro, rl, go, gl] = [fresh([B, H, Tq, D]), fresh([B, H, Tq]), fresh([B, H, Tq, D]), fresh([B, H, Tq])];
    cpuKernels.attention(q, k, v, mask, opts, ro, rl);
    eachThreadCount((t) => {
      fastCpuKernels.attention(q, k, v, mask, opts, go, gl);
      expectWithin(go.buffer, ro.buffer, () => 2e-6, `out ${what} t${t}`);
      expectWithin(gl.buffer, rl.buffer, () => 2e-6, `lse ${what} t${t}`);
    });
    const dout = view(seeded(B * H * Tq * D, 5), [B, H, Tq, D]);
    const grads = () => [fresh([B, H, Tq, D]), fresh([B, H, Tk, D]), fresh([B, H, Tk, D])];
    const [rq, rk, rv] = grads(), [gq, gk, gv] = grads();
    cpuKernels.attentionBackward(q, k, v, mask, opts, ro, rl, dout, rq!, rk!, rv!);
    eachThreadCount((t) => {
      fastCpuKernels.attentionBackward(q, k, v, mask, opts, ro, rl, dout, gq!, gk!, gv!);
      expectWithin(gq!.buffer, rq!.buffer, () => 5e-6, `dq ${what} t${t}`);
      expectWithin(gk!.buffer, rk!.buffer, () => 5e-6, `dk ${what} t${t}`);
      expectWithin(gv!.buffer, rv!.buffer, () => 5e-6, `dv ${what} t${t}`);
    });
  }

  it('matches the reference on awkward shapes, causal, masked and head-view inputs', () => {
    for (const [B, H, Tq, Tk, D] of [[1, 1, 1, 1, 1], [2, 3, 7, 7, 5], [1, 2, 17, 17, 3], [2, 1, 3, 7, 4], [1, 2, 7, 3, 8], [1, 1, 65, 65, 17]] as const) {
      for (const causal of [false, true]) for (const masked of [false, true]) for (const heads of [false, true]) run(B, H, Tq, Tk, D, causal, masked, heads);
    }
  });

  it('skips the causally masked half of each product in blocks, on shapes big enough for threads', () => {
    // Blocks of 16 rows (or an eighth of the rows); Tq ≠ Tk shifts the diagonal both ways.
    for (const [B, H, Tq, Tk, D] of [[2, 3, 96, 96, 24], [1, 2, 40, 100, 9], [1, 2, 100, 37, 7], [1, 1, 300, 300, 5]] as const) {
      run(B, H, Tq, Tk, D, true, false, false);
    }
    run(1, 1, 300, 300, 5, false, false, false);
  });

  it('packed q/k/v: head views of one [B, T, 3C] array in the WebAssembly memory, outputs as head views, in place or not', () => {
    // q, k, v at columns 0, C, 2C of each row of qkv; out and d(qkv) are head views too: the layout
    // core's packedSelfAttention hands over. `inHeap` puts the arrays in the kernels' memory (read
    // and written where they lie); otherwise they are ordinary arrays (outputs: written back from
    // scratch element by element).
    for (const [B, H, T, D] of [[2, 3, 9, 4], [1, 2, 70, 5], [3, 1, 1, 2]] as const) {
      for (const causal of [true, false]) for (const [inHeap, outHeap] of [[true, true], [true, false], [false, false]]) {
        const C = H * D;
        const arr = (n: number, fill: (i: number) => number, heap = inHeap): Float32Array => {
          const a = heap ? allocTensorArray(n) : new Float32Array(n);
          expect(a, 'shared memory for the heap').not.toBeNull();
          for (let i = 0; i < n; i++) a![i] = fill(i);
          return a!;
        };
        const src = seeded(B * T * 3 * C, B + H + T);
        const qkv = arr(B * T * 3 * C, (i) => src[i]!);
        const heads = (buf: Float32Array, W: number, col: number): V => view(buf, [B, H, T, D], [T * W, D, W, 1], col);
        const [q, k, v] = [0, C, 2 * C].map((c) => heads(qkv, 3 * C, c)) as [V, V, V];
        const opts = { scale: 1 / Math.sqrt(D), causal };
        const what = `B${B} H${H} T${T} D${D} causal=${causal} inputs in heap=${inHeap} outputs=${outHeap}`;
        const ro = fresh([B, H, T, D]), rl = fresh([B, H, T]);
        cpuKernels.attention(q, k, v, null, opts, ro, rl);
        const gsrc = seeded(B * T * C, 9);
        const dout = heads(arr(B * T * C, (i) => gsrc[i]!), C, 0);
        const [rq, rk, rv] = [fresh([B, H, T, D]), fresh([B, H, T, D]), fresh([B, H, T, D])];
        cpuKernels.attentionBackward(q, k, v, null, opts, ro, rl, dout, rq, rk, rv);
        eachThreadCount((t) => {
          const outBuf = arr(B * T * C, () => NaN, outHeap), lse = fresh([B, H, T]);
          const out = heads(outBuf, C, 0);
          fastCpuKernels.attention(q, k, v, null, opts, out, lse);
          const outHeads = fresh([B, H, T, D]);
          cpuKernels.copy(out, outHeads);
          expectWithin(outHeads.buffer, ro.buffer, () => 2e-6, `out ${what} t${t}`);
          expectWithin(lse.buffer, rl.buffer, () => 2e-6, `lse ${what} t${t}`);
          const dqkv = arr(B * T * 3 * C, () => NaN, outHeap);
          const [dq, dk, dv] = [0, C, 2 * C].map((c) => heads(dqkv, 3 * C, c)) as [V, V, V];
          fastCpuKernels.attentionBackward(q, k, v, null, opts, out, lse, dout, dq, dk, dv);
          for (const [got, want, name] of [[dq, rq, 'dq'], [dk, rk, 'dk'], [dv, rv, 'dv']] as const) {
            const g = fresh([B, H, T, D]);
            cpuKernels.copy(got, g);
            expectWithin(g.buffer, want.buffer, () => 5e-6, `${name} ${what} t${t}`);
          }
          if (outHeap) for (const a of [outBuf, dqkv]) releaseTensorArray(a);
        });
        if (inHeap) for (const a of [qkv, dout.buffer as Float32Array]) releaseTensorArray(a);
      }
    }
  });

  it('large and negative scales (the row maximum comes from the smallest score)', () => {
    for (const scale of [-0.7, 9, 0]) run(1, 2, 33, 33, 6, true, false, false, scale);
  });

  it('fully masked rows give zero output, -inf lse and no gradient', () => {
    // Tq > Tk with causal masking leaves the first Tq - Tk query rows with no visible key.
    run(1, 2, 7, 3, 4, true, false, false);
    const q = view(seeded(1 * 1 * 5 * 2, 1), [1, 1, 5, 2]), k = view(seeded(1 * 1 * 2 * 2, 2), [1, 1, 2, 2]);
    const out = fresh([1, 1, 5, 2]), lse = fresh([1, 1, 5]);
    fastCpuKernels.attention(q, k, k, null, { scale: 1, causal: true }, out, lse);
    expect(lse.buffer[0]).toBe(-Infinity);
    expect([...out.buffer.slice(0, 2)]).toEqual([0, 0]);
  });
});
