// The benchmark suite's pure helpers: rate arithmetic, ratios and goals, table formatting and the
// SVG writer. Speed itself is never asserted.
import { describe, expect, it } from 'vitest';
import { attentionFlops, gbps, gflops, matmulFlops } from './lib/timing.js';
import { failureCell, fmtGoal, formatTable, goalMet, makeRatio, suiteTable, NOT_IMPLEMENTED, type Entry } from './lib/report.js';
import { barChartSvg, escapeXml } from './lib/svg.js';

describe('rates', () => {
  it('counts matmul FLOPs as 2·M·N·K and converts to GFLOP/s', () => {
    expect(matmulFlops(2, 3, 4)).toBe(48);
    expect(matmulFlops(512, 512, 512, 2)).toBe(2 * 2 * 512 ** 3);
    // 2·1024³ FLOPs in 1 ms = 2147.48 GFLOP/s
    expect(gflops(matmulFlops(1024, 1024, 1024), 1)).toBeCloseTo(2147.483648, 6);
  });
  it('converts bytes and ms to GB/s', () => {
    expect(gbps(1e9, 1000)).toBe(1);
    expect(gbps(8 * 1024 * 1024, 2)).toBeCloseTo(4.194304, 6);
  });
  it('halves attention FLOPs under a causal mask', () => {
    expect(attentionFlops(8, 64, 64, false)).toBe(4 * 8 * 64 * 64 * 64);
    expect(attentionFlops(8, 64, 64, true)).toBe(2 * 8 * 64 * 64 * 64);
  });
});

describe('ratios and goals', () => {
  it('divides ours by the peer for throughputs', () => {
    const r = makeRatio('ours/tfjs', 3, 2, 'higher', { op: '>=', value: 1 });
    expect(r.value).toBe(1.5);
    expect(r.advantage).toBe(1.5);
    expect(goalMet(r)).toBe(true);
    expect(fmtGoal(r)).toBe('≥ 1× met');
  });
  it('gives a speed-up (peer/ours) for times when asked, and a plain ratio otherwise', () => {
    const s = makeRatio('speed-up', 100, 300, 'lower', { op: '>=', value: 3 }, true);
    expect(s.value).toBe(3);
    expect(goalMet(s)).toBe(true);
    const o = makeRatio('ours/raw', 30, 20, 'lower', { op: '<=', value: 1.5 });
    expect(o.value).toBe(1.5);
    expect(o.advantage).toBeCloseTo(2 / 3, 12);
    expect(goalMet(o)).toBe(true);
    expect(goalMet(makeRatio('ours/raw', 40, 20, 'lower', { op: '<=', value: 1.5 }))).toBe(false);
  });
  it('has no ratio when a figure is missing', () => {
    const r = makeRatio('ours/tfjs', NOT_IMPLEMENTED, 2, 'higher', { op: '>=', value: 1 });
    expect(r.value).toBeNull();
    expect(goalMet(r)).toBeNull();
  });
  it('labels a missing kernel as not implemented and other failures as errors', () => {
    expect(failureCell(new Error("WebGPU kernel 'softmax' is not implemented yet"))).toBe(NOT_IMPLEMENTED);
    expect(failureCell(new Error('boom'))).toBe('error: boom');
  });
});

describe('tables', () => {
  it('aligns columns and right-aligns the requested ones', () => {
    const t = formatTable(['a', 'value'], [['x', '1'], ['long name', '123']], new Set([1]));
    expect(t.split('\n')).toEqual([
      'a         | value',
      '----------+------',
      'x         |     1',
      'long name |   123',
    ]);
  });
  it('shows one row per implementation with the ratio on the first', () => {
    const e: Entry = {
      suite: 'kernels', name: 'matmul 256', unit: 'GFLOP/s', better: 'higher',
      ours: { webgrad: 2 }, peers: { tfjs: 1, other: NOT_IMPLEMENTED },
      ratio: makeRatio('ours/tfjs', 2, 1, 'higher', { op: '>=', value: 1 }),
    };
    const lines = suiteTable('kernels', [e]).split('\n');
    expect(lines[0]).toBe('== kernels ==');
    expect(lines[3]).toContain('matmul 256');
    expect(lines[3]).toContain('2.00 GFLOP/s');
    expect(lines[3]).toContain('2.00× ours/tfjs');
    expect(lines[3]).toContain('≥ 1× met');
    expect(lines[5]).toContain(NOT_IMPLEMENTED);
    expect(lines).toHaveLength(6);
  });
});

describe('svg', () => {
  it('escapes text and draws one bar per figure, n/a for a missing one', () => {
    expect(escapeXml('a<b & "c">')).toBe('a&lt;b &amp; &quot;c&quot;&gt;');
    const svg = barChartSvg('t <1>', [
      { label: 'fast', value: 2, goal: 1, group: 'g' },
      { label: 'slow', value: 0.5, group: 'g' },
      { label: 'none', value: null },
    ]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('t &lt;1&gt;');
    expect(svg.match(/<rect /g)).toHaveLength(3); // background + two bars
    expect(svg).toContain('>n/a<');
    expect(svg).toContain('2.00×');
    expect(svg).toContain('0.500×');
  });
});
