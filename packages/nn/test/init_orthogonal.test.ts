// init.orthogonal: rows (or columns, for a tall matrix) orthonormal, scaled by the gain.
import { describe, expect, it } from 'vitest';
import { ShapeError, zeros, manualSeed } from '@webgrad/core';
import { init } from '@webgrad/nn';

describe('init.orthogonal', () => {
  for (const [rows, cols] of [[3, 7], [7, 3], [5, 5]] as const) {
    it(`${rows}×${cols}`, async () => {
      manualSeed(2);
      const w = init.orthogonal(zeros([rows, cols]), 1.5);
      const a = Array.from(await w.data());
      const k = Math.min(rows, cols);
      // The k orthogonal vectors are the rows when rows ≤ cols, else the columns.
      const vec = (i: number) => (rows <= cols ? a.slice(i * cols, (i + 1) * cols) : Array.from({ length: rows }, (_, r) => a[r * cols + i]!));
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
        const dot = vec(i).reduce((s, x, t) => s + x * vec(j)[t]!, 0);
        expect(dot).toBeCloseTo(i === j ? 2.25 : 0, 5);
      }
    });
  }
  it('needs two dims', () => expect(() => init.orthogonal(zeros([4]))).toThrow(ShapeError));
});
