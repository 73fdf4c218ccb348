// Tests of the CPU scaled dot-product attention kernels: forward values (masking, causal
// alignment, fully masked rows) and backward by finite differences.
import { describe, expect, it } from 'vitest';
import { contiguousView, cpuKernels } from '../src/cpu/index.js';
import type { TypedArray, View } from '../src/types.js';
import { noise, fdGrad, vals } from './cpu_helpers.js';

const K = cpuKernels;

function run(q: View<TypedArray>, k: View<TypedArray>, v: View<TypedArray>, mask: View<TypedArray> | null, scale: number, causal: boolean) {
  const [B, H, Tq] = q.shape as number[];
  const out = contiguousView('float64', [B!, H!, Tq!, v.shape[3]!]);
  const lse = contiguousView('float64', [B!, H!, Tq!]);
  K.attention(q, k, v, mask, { scale, causal }, out, lse);
  return { out, lse };
}

describe('cpu attention forward', () => {
  it('one query, two keys (hand-computed softmax of [1, 0])', () => {
    const q = contiguousView('float64', [1, 1, 1, 2], [1, 0]);
    const k = contiguousView('float64', [1, 1, 2, 2], [1, 0, 0, 1]);
    const v = contiguousView('float64', [1, 1, 2, 2], [1, 2, 3, 4]);
    const { out, lse } = run(q, k, v, null, 1, false);
    const p0 = Math.E / (Math.E + 1);
    const p1 = 1 / (Math.E + 1);
    expect(vals(out)[0]).toBeCloseTo(p0 * 1 + p1 * 3, 15);
    expect(vals(out)[1]).toBeCloseTo(p0 * 2 + p1 * 4, 15);
    expect(vals(lse)[0]).toBeCloseTo(Math.log(Math.E + 1), 15);
    // scale 2: scores [2, 0]
    const s2 = run(q, k, v, null, 2, false);
    expect(vals(s2.lse)[0]).toBeCloseTo(Math.log(Math.exp(2) + 1), 15);
  });

  it('causal masking aligns the last query with the last key', () => {
    // q = 0 → uniform attention over the visible keys; v rows are 1, 10, 100.
    const v = contiguousView('float64', [1, 1, 3, 1], [1, 10, 100]);
    const k = contiguousView('float64', [1, 1, 3, 1], [0, 0, 0]);
    const { out, lse } = run(contiguousView('float64', [1, 1, 2, 1]), k, v, null, 1, true);
    // Tq=2, Tk=3: query 0 sees keys 0..1, query 1 sees keys 0..2
    expect(vals(out)[0]).toBeCloseTo(5.5, 14);
    expect(vals(out)[1]).toBeCloseTo(37, 14);
    expect(vals(lse)).toEqual([Math.log(2), Math.log(3)]);
    // Tq=3 > Tk=1: query i sees keys j <= i - 2, so queries 0 and 1 are fully masked → 0 and lse -∞
    const r = run(contiguousView('float64', [1, 1, 3, 1]), contiguousView('float64', [1, 1, 1, 1]),
      contiguousView('float64', [1, 1, 1, 1], [7]), null, 1, true);
    expect(vals(r.out)).toEqual([0, 0, 7]);
    expect(vals(r.lse)).toEqual([-Infinity, -Infinity, 0]);
  });

  it('additive mask broadcast over batch and heads (stride 0), with a fully masked row', () => {
    const [B, H, Tq, Tk] = [2, 2, 2, 2];
    const q = contiguousView('float64', [B, H, Tq, 1]);
    const k = contiguousView('float64', [B, H, Tk, 1]);
    const v = contiguousView('float64', [B, H, Tk, 1], [1, 2, 3, 4, 5, 6, 7, 8]);
    // mask [[0, ln 3], [-∞, -∞]] shared by every (b, h)
    const mask: View<TypedArray> = { buffer: new Float64Array([0, Math.log(3), -Infinity, -Infinity]), dtype: 'float64',
      shape: [B, H, Tq, Tk], strides: [0, 0, 2, 1], offset: 0 };
    const { out, lse } = run(q, k, v, mask, 1, false);
    // row 0 weights [1/4, 3/4]; row 1 fully masked
    const o = vals(out);
    const vv = vals(v);
    for (let bh = 0; bh < 4; bh++) {
      expect(o[bh * 2]).toBeCloseTo(0.25 * vv[bh * 2]! + 0.75 * vv[bh * 2 + 1]!, 14);
      expect(o[bh * 2 + 1]).toBe(0);
      expect(vals(lse)[bh * 2]).toBeCloseTo(Math.log(4), 14);
      expect(vals(lse)[bh * 2 + 1]).toBe(-Infinity);
    }
  });
});

describe('cpu attention backward', () => {
  const cases = [
    { name: 'causal + additive mask, Tq < Tk', Tq: 3, Tk: 4, causal: true, masked: true },
    { name: 'causal, Tq > Tk (fully masked first row)', Tq: 3, Tk: 2, causal: true, masked: false },
    { name: 'unmasked, Dv != D', Tq: 2, Tk: 3, causal: false, masked: false, Dv: 2 },
  ];
  for (const c of cases) {
    it(`${c.name}: dq, dk, dv match central finite differences`, () => {
      const [B, H, D] = [1, 2, 3];
      const Dv = c.Dv ?? D;
      const { Tq, Tk } = c;
      const q = contiguousView('float64', [B, H, Tq, D], noise(B * H * Tq * D, 21));
      const k = contiguousView('float64', [B, H, Tk, D], noise(B * H * Tk * D, 22));
      const v = contiguousView('float64', [B, H, Tk, Dv], noise(B * H * Tk * Dv, 23));
      const mask = c.masked ? contiguousView('float64', [B, H, Tq, Tk], noise(B * H * Tq * Tk, 24)) : null;
      const cot = noise(B * H * Tq * Dv, 25);
      const opts = { scale: 0.7, causal: c.causal };
      const out = contiguousView('float64', [B, H, Tq, Dv]);
      const lse = contiguousView('float64', [B, H, Tq]);
      const f = (): number => {
        K.attention(q, k, v, mask, opts, out, lse);
        let s = 0;
        for (let i = 0; i < cot.length; i++) s += out.buffer[i]! * cot[i]!;
        return s;
      };
      const fq = fdGrad(f, q.buffer as Float64Array);
      const fk = fdGrad(f, k.buffer as Float64Array);
      const fv = fdGrad(f, v.buffer as Float64Array);
      K.attention(q, k, v, mask, opts, out, lse);
      const dq = contiguousView('float64', q.shape);
      const dk = contiguousView('float64', k.shape);
      const dv = contiguousView('float64', v.shape);
      K.attentionBackward(q, k, v, mask, opts, out, lse, contiguousView('float64', out.shape, cot), dq, dk, dv);
      for (const [an, fd] of [[dq, fq], [dk, fk], [dv, fv]] as const) {
        for (let i = 0; i < fd.length; i++) expect(Math.abs(an.buffer[i]! - fd[i]!)).toBeLessThan(1e-8);
      }
      expect(dq.buffer.some((x) => x !== 0)).toBe(true);
    });
  }
});
