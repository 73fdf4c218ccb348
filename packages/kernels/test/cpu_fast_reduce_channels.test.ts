// Per-channel sums of the fast cpu tier (cpu_fast/reduce_channels.ts: sums over leading and trailing
// axes keeping middle ones, as BatchNorm's statistics) against the reference, under 1–3 threads
// with every size split across them; the layouts it does not take go to the other reduce paths.
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { fastCpuKernels } from '../src/cpu_fast/index.js';
import { reduceChannels } from '../src/cpu_fast/reduce_channels.js';
import type { TypedArray, View } from '../src/types.js';
import { eachThreadCount, expectWithin, forceThreading, seeded, view } from './wasm_helpers.js';

forceThreading();

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const keep = (shape: number[], axes: number[]) => shape.map((d, i) => (axes.includes(i) || axes.includes(i - shape.length) ? 1 : d));

const CASES: [number[], number[]][] = [
  [[32, 16, 32, 32], [0, 2, 3]],   // BatchNorm2d
  [[3, 5, 7], [0, 2]],             // BatchNorm1d over (N, C, L)
  [[2, 3, 4, 5], [0, 3]],          // two kept middle dims
  [[2, 1, 3, 1, 5], [0, 1, 4]],    // size-1 dims on either side
  [[4, 6, 1, 9], [-4, -1, -2]],    // negative axes
  [[5, 2, 33], [0, 2]],            // odd rows
];

describe('per-channel sums', () => {
  it('match the reference within float64 summation order, float32 and float64 outputs', () => {
    for (const [shape, axes] of CASES) {
      const x = view(seeded(numel(shape), 3, -4, 4), shape);
      const os = keep(shape, axes);
      const ref64 = view(new Float64Array(numel(os)), os);
      cpuKernels.reduce('sum', x, axes, ref64);
      const want = ref64.buffer;
      eachThreadCount((t) => {
        for (const out of [view(new Float32Array(numel(os)).fill(NaN), os), view(new Float64Array(numel(os)).fill(NaN), os)]) {
          expect(reduceChannels('sum', x, axes, out), `[${shape}] over [${axes}]`).toBe(true);
          const f32 = out.buffer instanceof Float32Array;
          expectWithin(out.buffer, f32 ? Float32Array.from(want) : want,
            (i) => (f32 ? 1.2e-7 * Math.abs(want[i]!) : 1e-12 * numel(shape) * 4), `[${shape}] over [${axes}] ${out.dtype} threads=${t}`);
        }
      });
    }
  });

  it('leaves other reductions and layouts to the rest of the reduce family', () => {
    const x = view(seeded(60, 1), [3, 4, 5]);
    const out = view(new Float32Array(4), [1, 4, 1]);
    expect(reduceChannels('max', x, [0, 2], out)).toBe(false);
    expect(reduceChannels('sum', x, [0, 1], view(new Float32Array(5), [1, 1, 5]))).toBe(false);   // leading only
    expect(reduceChannels('sum', x, [1], view(new Float32Array(15), [3, 1, 5]))).toBe(false);      // middle only
    expect(reduceChannels('sum', view(seeded(21, 2), [1, 7, 3]), [0, 2], view(new Float32Array(7), [1, 7, 1]))).toBe(false); // batch 1: a row sum
    const t: View<TypedArray> = { ...x, shape: [5, 4, 3], strides: [1, 5, 20] };
    expect(reduceChannels('sum', t, [0, 2], out)).toBe(false);                                     // not contiguous
    const ref = view(new Float32Array(4), [1, 4, 1]), got = view(new Float32Array(4), [1, 4, 1]);
    cpuKernels.reduce('sum', t, [0, 2], ref);
    fastCpuKernels.reduce('sum', t, [0, 2], got);
    expectWithin(got.buffer, ref.buffer, (i) => 1.2e-7 * Math.abs(ref.buffer[i]!), 'transposed x through fastCpuKernels');
  });
});
