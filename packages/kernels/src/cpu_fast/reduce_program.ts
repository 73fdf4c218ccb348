// WebAssembly SIMD programs for float32 sums accumulated in float64, the two layouts training uses:
//
// reduce_sum_rows(x, out, rows, cols): out[r] = Σ_j x[r·cols + j] — the sum over trailing axes (a
//   row sum). Two float64 lanes take the even and odd j, combined at the end of the row as lane0 +
//   lane1, then the odd last element if cols is odd.
// reduce_sum_cols(x, out, rows, cols, c0, c1): out[j] = Σ_r x[r·cols + j] for c0 ≤ j < c1 — the sum
//   over leading axes (a bias gradient over the batch). Blocks of 8 columns (then pairs) are summed
//   down all the rows in four f64x2 registers and stored once; rows are added in order from 0, so
//   each output is summed in exactly the reference's order. c0 is even; an odd c1 = cols lets the
//   last pair read one float past the row (the next row's first, or the block's slack after the last
//   row) into the slot out[cols], which callers allocate and ignore.
// x is float32, out is float64 (converted to the output dtype by the caller). float32 values are
// exact in float64, so the only differences from the reference's float64 sums come from the order
// of the row sums' additions (two interleaved partial sums), far below float32 resolution.

import type { ModuleBuilder } from '../wasm/emitter.js';

export function addReduce(m: ModuleBuilder): void {
  m.func('reduce_sum_rows', ['i32', 'i32', 'i32', 'i32'] as const, null, (f, x, out, rows, cols) => {
    const r = f.local('i32'), j = f.local('i32'), p = f.local('i32'), pairEnd = f.local('i32');
    const acc = f.local('v128'), s = f.local('f64');
    f.set(pairEnd, f.sub(f.get(cols), f.i32(1))); // pair steps while j < cols - 1
    f.set(p, f.get(x));
    f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
      f.set(acc, f.f64x2Splat(f.f64(0)));
      f.forRange(j, () => f.i32(0), () => f.get(pairEnd), 2, () => {
        f.set(acc, f.f64x2Add(f.get(acc), f.f64x2PromoteLowF32x4(f.v128Load64Zero(f.add(f.get(p), f.shl(f.get(j), f.i32(2)))))));
      });
      f.set(s, f.f64Add(f.f64x2ExtractLane(f.get(acc), 0), f.f64x2ExtractLane(f.get(acc), 1)));
      f.if_(f.and(f.get(cols), f.i32(1)), () => {
        f.set(s, f.f64Add(f.get(s), f.f64PromoteF32(f.f32Load(f.add(f.get(p), f.shl(f.sub(f.get(cols), f.i32(1)), f.i32(2)))))));
      });
      f.f64Store(f.add(f.get(out), f.shl(f.get(r), f.i32(3))), f.get(s));
      f.set(p, f.add(f.get(p), f.shl(f.get(cols), f.i32(2))));
    });
  });

  m.func('reduce_sum_cols', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null, (f, x, out, rows, cols, c0, c1) => {
    const r = f.local('i32'), j = f.local('i32'), p = f.local('i32'), rowBytes = f.local('i32'), blockEnd = f.local('i32');
    const acc = Array.from({ length: COL_BLOCK / 2 }, () => f.local('v128'));
    f.set(rowBytes, f.shl(f.get(cols), f.i32(2)));
    // Columns j..j+width-1 (width/2 float64 pairs) summed down the rows in registers, then stored.
    const block = (width: number) => {
      for (let q = 0; q < width / 2; q++) f.set(acc[q]!, f.f64x2Splat(f.f64(0)));
      f.set(p, f.add(f.get(x), f.shl(f.get(j), f.i32(2))));
      f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
        for (let q = 0; q < width / 2; q++) {
          f.set(acc[q]!, f.f64x2Add(f.get(acc[q]!), f.f64x2PromoteLowF32x4(f.v128Load64Zero(f.get(p), 8 * q))));
        }
        f.set(p, f.add(f.get(p), f.get(rowBytes)));
      });
      for (let q = 0; q < width / 2; q++) f.v128Store(f.add(f.get(out), f.shl(f.get(j), f.i32(3))), f.get(acc[q]!), 16 * q);
    };
    f.set(j, f.get(c0));
    f.set(blockEnd, f.sub(f.get(c1), f.i32(COL_BLOCK - 1)));
    f.forRange(j, () => f.get(c0), () => f.get(blockEnd), COL_BLOCK, () => block(COL_BLOCK));
    f.forRange(j, () => f.get(j), () => f.get(c1), 2, () => block(2));
  });
}

/** Columns per block of reduce_sum_cols (its float64 accumulators: COL_BLOCK / 2 registers). */
const COL_BLOCK = 8;
