// WebGPU attention — the fused kernels (forward, and the three backward passes) and the matmul
// composition for long sequences and wide heads — vs the CPU reference
// (cpu/attention.ts): Tq ≠ Tk both ways, causal and not (Tq > Tk causal leaves the first rows fully
// masked), additive masks broadcast over heads or over batch and queries (stride 0) with -∞ entries
// and whole -∞ rows, D ∈ {8, 16, 64, 128}, Dv ≠ D, sequence lengths that are not multiples of the
// tiles (up to 130), views at non-zero offsets, and both tile sizes.
//
// Tolerance: the GPU accumulates in f32 in a different order from the CPU's f64 reference; scores are
// O(1) here, so 1e-4 absolute plus 1e-3 relative covers it with margin (a real bug is off by O(0.1)).
import { describe, expect, it } from 'vitest';
import { cpuKernels } from '../src/cpu/index.js';
import { attention, attentionBackward, type AttentionTileSize } from '../src/webgpu/attention.js';
import { WebGPUDTypeError } from '../src/webgpu/errors.js';
import type { TypedArray, View } from '../src/types.js';
import { expectClose, gpuRuntime, makeView, readView, releaseAll, rng, toGPU, type Layout } from './gpu_helpers.js';

const rt = await gpuRuntime();

type MaskKind = 'none' | 'heads' | 'keys';

interface Case {
  B: number; H: number; Tq: number; Tk: number; D: number; Dv?: number;
  causal: boolean; mask: MaskKind; tiles?: AttentionTileSize; path?: 'fused' | 'matmul';
}

function randView(shape: number[], seed: number, offset: number, layout: Layout = {}, fill?: (i: number) => number): View<TypedArray> {
  const r = rng(seed);
  return makeView('float32', shape, { offset, ...layout }, fill ?? (() => r() * 2 - 1));
}

/** An additive mask expanded to [B, H, Tq, Tk] with stride 0 on broadcast dims, holding -∞ entries. */
function maskView(c: Case, seed: number): View<TypedArray> | null {
  const r = rng(seed);
  const shape = [c.B, c.H, c.Tq, c.Tk];
  if (c.mask === 'heads') {
    // Broadcast over heads; query row 2 of batch 0 is fully masked; scattered -∞ elsewhere.
    return makeView('float32', shape, { broadcast: [1], offset: 2 }, (i) => {
      const row = Math.floor(i / c.Tk);
      if (row === 2) return -Infinity;
      return r() < 0.15 ? -Infinity : r() * 4 - 2;
    });
  }
  if (c.mask === 'keys') {
    // Key padding: broadcast over batch and queries; every third key masked.
    return makeView('float32', shape, { broadcast: [0, 2], offset: 1 }, (i) => ((i % c.Tk) % 3 === 1 ? -Infinity : r() - 0.5));
  }
  return null;
}

async function check(c: Case, seed: number): Promise<void> {
  const Dv = c.Dv ?? c.D;
  const scale = 1 / Math.sqrt(c.D);
  const opts = { scale, causal: c.causal };
  const q = randView([c.B, c.H, c.Tq, c.D], seed, 3);
  const k = randView([c.B, c.H, c.Tk, c.D], seed + 1, 1);
  const v = randView([c.B, c.H, c.Tk, Dv], seed + 2, 0);
  const mask = maskView(c, seed + 3);
  const out = makeView('float32', [c.B, c.H, c.Tq, Dv], { offset: 4 }, () => -9);
  const lse = makeView('float32', [c.B, c.H, c.Tq], { offset: 2 }, () => -9);
  const gq = toGPU(rt!, q), gk = toGPU(rt!, k), gv = toGPU(rt!, v), gm = mask ? toGPU(rt!, mask) : null;
  const gout = toGPU(rt!, out), glse = toGPU(rt!, lse);
  const ko = { ...(c.tiles ? { tiles: c.tiles } : {}), ...(c.path ? { path: c.path } : {}) };
  cpuKernels.attention(q, k, v, mask, opts, out, lse);
  attention(rt!, gq, gk, gv, gm, opts, gout, glse, ko);
  const what = JSON.stringify(c);
  const gotOut = await readView(rt!, gout, out);
  const gotLse = await readView(rt!, glse, lse);
  expectClose(gotOut, out.buffer, 1e-3, 1e-4, `attention out ${what}`);
  expectClose(gotLse, lse.buffer, 1e-3, 1e-4, `attention lse ${what}`);
  for (const x of gotOut) expect(Number.isNaN(x)).toBe(false);

  // Backward from the CPU's forward results, so both sides start from identical out and lse.
  const gOutCpu = toGPU(rt!, out), gLseCpu = toGPU(rt!, lse);
  const dout = randView([c.B, c.H, c.Tq, Dv], seed + 4, 5);
  const dq = makeView('float32', q.shape, { offset: 1 }, () => -9);
  const dk = makeView('float32', k.shape, { offset: 2 }, () => -9);
  const dv = makeView('float32', v.shape, { offset: 3 }, () => -9);
  const gdout = toGPU(rt!, dout), gdq = toGPU(rt!, dq), gdk = toGPU(rt!, dk), gdv = toGPU(rt!, dv);
  cpuKernels.attentionBackward(q, k, v, mask, opts, out, lse, dout, dq, dk, dv);
  attentionBackward(rt!, gq, gk, gv, gm, opts, gOutCpu, gLseCpu, gdout, gdq, gdk, gdv, ko);
  expectClose(await readView(rt!, gdq, dq), dq.buffer, 1e-3, 1e-4, `attention dq ${what}`);
  expectClose(await readView(rt!, gdk, dk), dk.buffer, 1e-3, 1e-4, `attention dk ${what}`);
  expectClose(await readView(rt!, gdv, dv), dv.buffer, 1e-3, 1e-4, `attention dv ${what}`);
  releaseAll(rt!, gq, gk, gv, gm, gout, glse, gOutCpu, gLseCpu, gdout, gdq, gdk, gdv);
}

const CASES: Case[] = [
  { B: 1, H: 1, Tq: 1, Tk: 2, D: 8, causal: false, mask: 'none' },
  { B: 2, H: 2, Tq: 5, Tk: 7, D: 8, causal: false, mask: 'none' },
  { B: 2, H: 2, Tq: 5, Tk: 7, D: 8, causal: true, mask: 'none' },
  { B: 1, H: 2, Tq: 9, Tk: 6, D: 16, causal: true, mask: 'none' },           // first rows fully masked
  { B: 2, H: 3, Tq: 17, Tk: 23, D: 16, Dv: 8, causal: false, mask: 'heads' },
  { B: 2, H: 2, Tq: 33, Tk: 19, D: 16, Dv: 24, causal: true, mask: 'heads' },
  { B: 2, H: 2, Tq: 20, Tk: 41, D: 8, causal: false, mask: 'keys' },
  { B: 1, H: 2, Tq: 130, Tk: 130, D: 64, causal: true, mask: 'none' },
  { B: 1, H: 1, Tq: 70, Tk: 129, D: 64, causal: false, mask: 'keys' },
  { B: 1, H: 1, Tq: 19, Tk: 37, D: 128, causal: true, mask: 'heads' },
];

describe('webgpu attention', () => {
  it('forward and backward match the CPU reference', async () => {
    for (const [i, c] of CASES.entries()) await check({ ...c, path: 'fused' }, 1000 + 17 * i);
  });

  it('small tiles (devices with 16 KiB of workgroup memory)', async () => {
    await check({ B: 2, H: 1, Tq: 21, Tk: 13, D: 16, Dv: 8, causal: true, mask: 'heads', tiles: 'small' }, 7);
    await check({ B: 1, H: 2, Tq: 11, Tk: 30, D: 64, causal: false, mask: 'keys', tiles: 'small' }, 8);
  });

  it('the matmul path (materialized scores) on every case above', async () => {
    for (const [i, c] of CASES.entries()) await check({ ...c, path: 'matmul' }, 2000 + 17 * i);
  });

  it('the default path: long keys, masks, and heads wider than the fused tiles hold', async () => {
    // Tk ≥ 512 (with Tq ≠ Tk, causal and masked), and D / Dv above 128, which the fused kernels refuse.
    await check({ B: 1, H: 2, Tq: 40, Tk: 515, D: 16, causal: true, mask: 'none' }, 31);
    await check({ B: 1, H: 1, Tq: 17, Tk: 600, D: 8, Dv: 12, causal: false, mask: 'keys' }, 32);
    await check({ B: 2, H: 1, Tq: 9, Tk: 11, D: 160, Dv: 130, causal: true, mask: 'heads' }, 33);
  });

  it('refuses float64, and head sizes above 128 on the fused path', () => {
    const q = toGPU(rt!, makeView('float32', [1, 1, 2, 4]));
    const lse = toGPU(rt!, makeView('float32', [1, 1, 2]));
    const opts = { scale: 1, causal: false };
    expect(() => attention(rt!, { ...q, dtype: 'float64' }, q, q, null, opts, q, lse)).toThrow(WebGPUDTypeError);
    const big = { ...q, shape: [1, 1, 2, 129] };
    expect(() => attention(rt!, big, big, big, null, opts, big, lse, { path: 'fused' })).toThrow(/head sizes up to 128/);
    releaseAll(rt!, q, lse);
  });
});
