// The WebGPU buffer pool's bookkeeping, with stand-in buffers (no GPU needed): size classes,
// deferred release, and the order free buffers are handed out in.
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../src/webgpu/buffer_pool.js';

const USAGE = 0x8c;
function pool() {
  let n = 0;
  const destroyed: string[] = [];
  const p = new BufferPool(
    (size) => {
      const label = `b${n++}`;
      return { label, size, destroy: () => { destroyed.push(label); } } as unknown as GPUBuffer;
    },
    (bs) => { for (const b of bs) destroyed.push(`forget:${b.label}`); },
  );
  return { p, destroyed };
}
const label = (b: GPUBuffer) => b.label;

describe('BufferPool', () => {
  it('hands out the lowest-numbered free buffer, whatever order buffers were released in', () => {
    const { p } = pool();
    const bs = [0, 1, 2, 3].map(() => p.acquire(1000, USAGE));
    for (const i of [2, 0, 3, 1]) p.release(bs[i]!, 0, 0);
    expect([0, 1, 2, 3].map(() => label(p.acquire(1000, USAGE)))).toEqual(['b0', 'b1', 'b2', 'b3']);
  });

  it('picks depend only on which buffers are free, not on how their submissions completed', () => {
    // Two pools go through the same allocations; their submissions complete in different chunks
    // (one at a time vs. all at once, as the GPU's completion callbacks may arrive). Afterwards
    // both hand out the same buffers in the same order.
    const run = (chunked: boolean) => {
      const { p } = pool();
      const bs = Array.from({ length: 6 }, () => p.acquire(4096, USAGE));
      bs.forEach((b, i) => p.release(b, 1 + (i % 3), 0)); // b0,b3 in submit 1; b1,b4 in 2; b2,b5 in 3
      if (chunked) for (const s of [3, 1, 2]) p.completed(s);
      else p.completed(3);
      return Array.from({ length: 6 }, () => label(p.acquire(4096, USAGE)));
    };
    expect(run(true)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5']);
    expect(run(false)).toEqual(run(true));
  });

  it('parks a released buffer until its submission completes', () => {
    const { p } = pool();
    const a = p.acquire(100, USAGE);
    p.release(a, 5, 4);
    expect(p.stats().pendingBytes).toBe(128);
    expect(label(p.acquire(100, USAGE))).toBe('b1'); // a is not reusable yet
    p.completed(5);
    expect(p.stats().pendingBytes).toBe(0);
    expect(p.acquire(100, USAGE)).toBe(a);
    p.release(a, 0, 0);
    expect(() => p.release(a, 0, 0)).toThrow(/released twice/);
  });

  it('trim destroys free buffers only and reports them', () => {
    const { p, destroyed } = pool();
    const [a, b] = [p.acquire(64, USAGE), p.acquire(64, USAGE)];
    p.release(a, 0, 0);
    expect(p.trim()).toBe(64);
    expect(destroyed).toEqual(['b0', 'forget:b0']);
    expect(p.owns(b)).toBe(true);
  });
});
