// The WebAssembly SIMD program for float32 matrix multiplication, C = A·B, written with the typed
// emitter. This file is the one to study for how the CPU matmul gets its speed.
//
// Entry point: `sgemm(a, rsa, csa, b, rsb, csb, c, ldc, M, N, K, scratch)` computes the M×N block
// C = A·B (overwriting C), where A is M×K and B is K×N. Operands are addressed through *byte* strides
// (row stride, column stride), so a row-major operand has cs = 4 and a transposed one rs = 4;
// C is row-major with row stride `ldc` bytes. `scratch` is SGEMM_SCRATCH_BYTES of 16-aligned memory
// owned by the calling thread (the packing buffers). Threads call `sgemm` on disjoint blocks of C.
//
// Why it is blocked the way it is (the GotoBLAS/BLIS scheme):
//
//   for jc in 0..N step NC                 B block columns         (B block: KC×NC floats ≈ L2/L3)
//     for pc in 0..K step KC               a slice of the sum over k
//       pack B[pc:pc+KC, jc:jc+NC] into column panels of NR=8       (each panel KC×8 floats = 8 KiB ≈ L1)
//       for ic in 0..M step MC
//         pack A[ic:ic+MC, pc:pc+KC] into row panels of MR=4          (A block MC×KC floats = 128 KiB ≈ L2)
//         for jr in 0..NC step 8, ir in 0..MC step 4
//           micro-kernel: C[ir:ir+4, jr:jr+8] (+)= Apanel(4×KC) · Bpanel(KC×8)
//
// The micro-kernel keeps the 4×8 block of C in eight f32x4 registers for the whole KC loop. Each
// step of k loads one row of the B panel (two f32x4: 8 columns), broadcasts each of the 4 A values
// (v128.load32_splat) and does 8 multiplies and 8 adds — or, where the engine has relaxed SIMD, 8
// fused multiply-adds (f32x4.relaxed_madd; see relaxed_simd.ts): 64 flops for 2 vector loads and 4
// scalar broadcasts, and no stores. The fused form is about 30% faster on x86-64: the loop is
// limited by how many instructions the core issues per cycle, not by its multipliers. 8 accumulators + 2 B vectors + 1 broadcast fit in the 16 SIMD
// registers engines use on x86-64 and ARM without spilling. Packing puts exactly the values the
// micro-kernel reads next at consecutive addresses, whatever the operands' layout (row-major,
// transposed, strided), so the inner loop is pure unit-stride streaming; it also zero-pads the
// ragged edge panels so the micro-kernel never branches on the shape. Edge tiles of C are written
// through a small tile buffer so only the valid part of C is touched.
//
// Summation order (determinism): C[i,j] = Σ over k-slices in increasing pc of (Σ_k within the slice
// in increasing k), the slices added to C in order. It does not depend on how the threads split C,
// so results are identical for every thread count. Without relaxed SIMD, multiply and add are
// separate IEEE operations and results are identical across machines too; relaxed_madd rounds once
// on processors with FMA and twice on others, so with it the last bits may differ between machines
// (never between runs or thread counts on one machine). WEBGRAD_CPU_FMA=0 selects the separate form.

import type { FuncBuilder, FuncRef, Local, ModuleBuilder, Val } from '../wasm/emitter.js';

export const MR = 4;
export const NR = 8;
export const KC = 256;
export const MC = 128;
export const NC = 1024;

const PACK_A_BYTES = MC * KC * 4;
const PACK_B_BYTES = KC * NC * 4;
const TILE_BYTES = MR * NR * 4;
/** Bytes of per-thread scratch `sgemm` needs: packed A block, packed B block, one C tile. */
export const SGEMM_SCRATCH_BYTES = PACK_A_BYTES + PACK_B_BYTES + TILE_BYTES;

type I32 = Local<'i32'>;

/**
 * Adds `sgemm` (and its packing helpers and micro-kernel) to the module.
 */
export function addMatmul(m: ModuleBuilder, opts: { fma?: boolean } = {}): FuncRef<null> {
  const packB = addPackB(m);
  const packA = addPackA(m);
  const micro = addMicroKernel(m, opts.fma ?? false);

  return m.func('sgemm', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null,
    (f, a, rsa, csa, b, rsb, csb, c, ldc, M, N, K, scratch) => {
      const jc = f.local('i32'), pc = f.local('i32'), ic = f.local('i32'), jr = f.local('i32'), ir = f.local('i32');
      const nc = f.local('i32'), kc = f.local('i32'), mc = f.local('i32');
      const pa = f.local('i32'), pb = f.local('i32'), tile = f.local('i32'), acc = f.local('i32');
      const cTile = f.local('i32');
      f.set(pa, f.get(scratch));
      f.set(pb, f.add(f.get(scratch), f.i32(PACK_A_BYTES)));
      f.set(tile, f.add(f.get(pb), f.i32(PACK_B_BYTES)));
      f.forRange(jc, () => f.i32(0), () => f.get(N), NC, () => {
        minInto(f, nc, f.sub(f.get(N), f.get(jc)), NC);
        f.forRange(pc, () => f.i32(0), () => f.get(K), KC, () => {
          minInto(f, kc, f.sub(f.get(K), f.get(pc)), KC);
          f.set(acc, f.ne(f.get(pc), f.i32(0))); // later k-slices add into C
          // B block origin: b + pc·rsb + jc·csb
          f.call(packB,
            f.add(f.add(f.get(b), f.mul(f.get(pc), f.get(rsb))), f.mul(f.get(jc), f.get(csb))),
            f.get(rsb), f.get(csb), f.get(kc), f.get(nc), f.get(pb));
          f.forRange(ic, () => f.i32(0), () => f.get(M), MC, () => {
            minInto(f, mc, f.sub(f.get(M), f.get(ic)), MC);
            f.call(packA,
              f.add(f.add(f.get(a), f.mul(f.get(ic), f.get(rsa))), f.mul(f.get(pc), f.get(csa))),
              f.get(rsa), f.get(csa), f.get(mc), f.get(kc), f.get(pa));
            f.forRange(jr, () => f.i32(0), () => f.get(nc), NR, () => {
              f.forRange(ir, () => f.i32(0), () => f.get(mc), MR, () => {
                // C tile origin: c + (ic+ir)·ldc + (jc+jr)·4
                f.set(cTile, f.add(f.add(f.get(c), f.mul(f.add(f.get(ic), f.get(ir)), f.get(ldc))),
                  f.shl(f.add(f.get(jc), f.get(jr)), f.i32(2))));
                f.call(micro,
                  f.add(f.get(pa), f.shl(f.mul(f.get(ir), f.get(kc)), f.i32(2))),
                  f.add(f.get(pb), f.shl(f.mul(f.get(jr), f.get(kc)), f.i32(2))),
                  f.get(kc), f.get(cTile), f.get(ldc),
                  f.sub(f.get(mc), f.get(ir)), f.sub(f.get(nc), f.get(jr)), f.get(acc), f.get(tile));
              });
            });
          });
        });
      });
    });
}

/** dst = min(expr, cap) for a non-negative expr. */
function minInto(f: FuncBuilder, dst: I32, value: Val<'i32'>, cap: number): void {
  f.set(dst, value);
  f.if_(f.gtS(f.get(dst), f.i32(cap)), () => f.set(dst, f.i32(cap)));
}

/**
 * packB(src, rs, cs, kc, nc, dst): copies the kc×nc block of B at `src` into panels of NR = 8
 * columns. Panel p holds B[k, 8p + j] at dst + ((p·kc + k)·8 + j)·4; columns past nc are zero.
 * Row-major full panels move 8 floats per k with two vector load/stores; other layouts gather.
 */
function addPackB(m: ModuleBuilder): FuncRef<null> {
  return m.func('sgemm_pack_b', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null, (f, src, rs, cs, kc, nc, dst) => {
    const j0 = f.local('i32'), k = f.local('i32'), j = f.local('i32');
    const s = f.local('i32'), d = f.local('i32'), panel = f.local('i32'), width = f.local('i32');
    const tp = packScratch(f);
    f.forRange(j0, () => f.i32(0), () => f.get(nc), NR, () => {
      f.set(panel, f.add(f.get(dst), f.shl(f.mul(f.get(j0), f.get(kc)), f.i32(2))));
      f.set(width, f.sub(f.get(nc), f.get(j0)));
      f.if_(f.and(f.eq(f.get(cs), f.i32(4)), f.geS(f.get(width), f.i32(NR))), () => {
        // Row-major, full panel: 8 contiguous floats per k.
        f.set(s, f.add(f.get(src), f.shl(f.get(j0), f.i32(2))));
        f.set(d, f.get(panel));
        f.forRange(k, () => f.i32(0), () => f.get(kc), 1, () => {
          f.v128Store(f.get(d), f.v128Load(f.get(s)));
          f.v128Store(f.get(d), f.v128Load(f.get(s), 16), 16);
          f.set(s, f.add(f.get(s), f.get(rs)));
          f.set(d, f.add(f.get(d), f.i32(NR * 4)));
        });
      }, () => f.if_(f.and(f.eq(f.get(rs), f.i32(4)), f.geS(f.get(width), f.i32(NR))), () => {
        // Column-major (a transposed B), full panel: each column is contiguous in k.
        f.set(s, f.add(f.get(src), f.mul(f.get(j0), f.get(cs))));
        packLines(f, s, cs, kc, panel, NR, tp);
      }, () => {
        // Any other layout, zero-padding the edge.
        f.forRange(j, () => f.i32(0), () => f.i32(NR), 1, () => {
          f.set(d, f.add(f.get(panel), f.shl(f.get(j), f.i32(2))));
          f.if_(f.ltS(f.get(j), f.get(width)), () => {
            f.set(s, f.add(f.get(src), f.mul(f.add(f.get(j0), f.get(j)), f.get(cs))));
            f.forRange(k, () => f.i32(0), () => f.get(kc), 1, () => {
              f.f32Store(f.get(d), f.f32Load(f.get(s)));
              f.set(s, f.add(f.get(s), f.get(rs)));
              f.set(d, f.add(f.get(d), f.i32(NR * 4)));
            });
          }, () => {
            f.forRange(k, () => f.i32(0), () => f.get(kc), 1, () => {
              f.f32Store(f.get(d), f.f32(0));
              f.set(d, f.add(f.get(d), f.i32(NR * 4)));
            });
          });
        });
      }));
    });
  });
}

/**
 * packA(src, rs, cs, mc, kc, dst): copies the mc×kc block of A at `src` into panels of MR = 4 rows.
 * Panel p holds A[4p + i, k] at dst + ((p·kc + k)·4 + i)·4; rows past mc are zero. A transposed A
 * (rs = 4) has the 4 rows of a panel adjacent in memory, so each k is one vector load/store.
 */
function addPackA(m: ModuleBuilder): FuncRef<null> {
  return m.func('sgemm_pack_a', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null, (f, src, rs, cs, mc, kc, dst) => {
    const i0 = f.local('i32'), k = f.local('i32'), i = f.local('i32');
    const s = f.local('i32'), d = f.local('i32'), panel = f.local('i32'), height = f.local('i32');
    const tp = packScratch(f);
    f.forRange(i0, () => f.i32(0), () => f.get(mc), MR, () => {
      f.set(panel, f.add(f.get(dst), f.shl(f.mul(f.get(i0), f.get(kc)), f.i32(2))));
      f.set(height, f.sub(f.get(mc), f.get(i0)));
      f.if_(f.and(f.eq(f.get(rs), f.i32(4)), f.geS(f.get(height), f.i32(MR))), () => {
        f.set(s, f.add(f.get(src), f.shl(f.get(i0), f.i32(2))));
        f.set(d, f.get(panel));
        f.forRange(k, () => f.i32(0), () => f.get(kc), 1, () => {
          f.v128Store(f.get(d), f.v128Load(f.get(s)));
          f.set(s, f.add(f.get(s), f.get(cs)));
          f.set(d, f.add(f.get(d), f.i32(MR * 4)));
        });
      }, () => f.if_(f.and(f.eq(f.get(cs), f.i32(4)), f.geS(f.get(height), f.i32(MR))), () => {
        // Row-major A, full panel: each row is contiguous in k.
        f.set(s, f.add(f.get(src), f.mul(f.get(i0), f.get(rs))));
        packLines(f, s, rs, kc, panel, MR, tp);
      }, () => {
        f.forRange(i, () => f.i32(0), () => f.i32(MR), 1, () => {
          f.set(d, f.add(f.get(panel), f.shl(f.get(i), f.i32(2))));
          f.if_(f.ltS(f.get(i), f.get(height)), () => {
            // A row-major A reads row i0+i contiguously.
            f.set(s, f.add(f.get(src), f.mul(f.add(f.get(i0), f.get(i)), f.get(rs))));
            f.forRange(k, () => f.i32(0), () => f.get(kc), 1, () => {
              f.f32Store(f.get(d), f.f32Load(f.get(s)));
              f.set(s, f.add(f.get(s), f.get(cs)));
              f.set(d, f.add(f.get(d), f.i32(MR * 4)));
            });
          }, () => {
            f.forRange(k, () => f.i32(0), () => f.get(kc), 1, () => {
              f.f32Store(f.get(d), f.f32(0));
              f.set(d, f.add(f.get(d), f.i32(MR * 4)));
            });
          });
        });
      }));
    });
  });
}

interface PackScratch { kv: I32; k: I32; l: I32; s: I32; d: I32; q: Local<'v128'>[]; t: Local<'v128'>[] }
const packScratch = (f: FuncBuilder): PackScratch => ({
  kv: f.local('i32'), k: f.local('i32'), l: f.local('i32'), s: f.local('i32'), d: f.local('i32'),
  q: Array.from({ length: 4 }, () => f.local('v128')), t: Array.from({ length: 4 }, () => f.local('v128')),
});

/**
 * Packs `width` source lines that are each contiguous in k — line l starts at src + l·stride, its
 * element k is 4k bytes further — into a panel of width-float rows: element (k, l) at
 * panel + (k·width + l)·4. This is packA for a row-major A (lines = rows, width MR) and packB for a
 * transposed B (lines = columns, width NR). Four k of four lines are four vector loads, transposed
 * in registers into four panel rows (of four lines each); the last kc mod 4 k go one float at a time.
 */
function packLines(f: FuncBuilder, src: I32, stride: I32, kc: I32, panel: I32, width: number, p: PackScratch): void {
  f.set(p.kv, f.and(f.get(kc), f.i32(~3)));
  for (let g = 0; g < width / 4; g++) {
    f.set(p.s, f.add(f.get(src), f.mul(f.i32(4 * g), f.get(stride))));
    f.set(p.d, f.add(f.get(panel), f.i32(16 * g)));
    f.forRange(p.k, () => f.i32(0), () => f.get(p.kv), 4, () => {
      for (let r = 0; r < 4; r++) f.set(p.q[r]!, f.v128Load(f.add(f.get(p.s), f.mul(f.i32(r), f.get(stride)))));
      transpose4(f, p.q, p.t);
      for (let r = 0; r < 4; r++) f.v128Store(f.get(p.d), f.get(p.q[r]!), r * width * 4);
      f.set(p.s, f.add(f.get(p.s), f.i32(16)));
      f.set(p.d, f.add(f.get(p.d), f.i32(4 * width * 4)));
    });
  }
  f.forRange(p.k, () => f.get(p.kv), () => f.get(kc), 1, () => {
    f.forRange(p.l, () => f.i32(0), () => f.i32(width), 1, () => {
      f.f32Store(f.add(f.get(panel), f.shl(f.add(f.mul(f.get(p.k), f.i32(width)), f.get(p.l)), f.i32(2))),
        f.f32Load(f.add(f.add(f.get(src), f.mul(f.get(p.l), f.get(stride))), f.shl(f.get(p.k), f.i32(2)))));
    });
  });
}

/**
 * Transposes the 4×4 block of floats held in q[0..3] (row r in q[r]) in place, through t:
 * interleave rows 0/1 and 2/3 pairwise, then take 64-bit halves of those.
 */
function transpose4(f: FuncBuilder, q: Local<'v128'>[], t: Local<'v128'>[]): void {
  f.set(t[0]!, f.i32x4Shuffle(f.get(q[0]!), f.get(q[1]!), [0, 4, 1, 5])); // a0 b0 a1 b1
  f.set(t[1]!, f.i32x4Shuffle(f.get(q[0]!), f.get(q[1]!), [2, 6, 3, 7])); // a2 b2 a3 b3
  f.set(t[2]!, f.i32x4Shuffle(f.get(q[2]!), f.get(q[3]!), [0, 4, 1, 5])); // c0 d0 c1 d1
  f.set(t[3]!, f.i32x4Shuffle(f.get(q[2]!), f.get(q[3]!), [2, 6, 3, 7])); // c2 d2 c3 d3
  f.set(q[0]!, f.i32x4Shuffle(f.get(t[0]!), f.get(t[2]!), [0, 1, 4, 5]));
  f.set(q[1]!, f.i32x4Shuffle(f.get(t[0]!), f.get(t[2]!), [2, 3, 6, 7]));
  f.set(q[2]!, f.i32x4Shuffle(f.get(t[1]!), f.get(t[3]!), [0, 1, 4, 5]));
  f.set(q[3]!, f.i32x4Shuffle(f.get(t[1]!), f.get(t[3]!), [2, 3, 6, 7]));
}

/**
 * micro(pa, pb, kc, c, ldc, mr, nr, accumulate, tile): the 4×8 register block described above.
 * mr/nr are the valid rows/columns of this tile (≥ 4 / ≥ 8 means a full tile, written straight to C);
 * `accumulate` adds to C instead of overwriting it.
 */
function addMicroKernel(m: ModuleBuilder, fma: boolean): FuncRef<null> {
  return m.func('sgemm_micro_4x8', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null,
    (f, pa, pb, kc, c, ldc, mr, nr, accumulate, tile) => {
      const acc = Array.from({ length: MR * 2 }, () => f.local('v128'));
      const b0 = f.local('v128'), b1 = f.local('v128'), av = f.local('v128');
      const k = f.local('i32'), row = f.local('i32'), i = f.local('i32'), j = f.local('i32');
      const src = f.local('i32');
      f.forRange(k, () => f.i32(0), () => f.get(kc), 1, () => {
        f.set(b0, f.v128Load(f.get(pb)));
        f.set(b1, f.v128Load(f.get(pb), 16));
        for (let r = 0; r < MR; r++) {
          f.set(av, f.v128Load32Splat(f.get(pa), r * 4));
          if (fma) {
            f.set(acc[2 * r]!, f.f32x4RelaxedMadd(f.get(av), f.get(b0), f.get(acc[2 * r]!)));
            f.set(acc[2 * r + 1]!, f.f32x4RelaxedMadd(f.get(av), f.get(b1), f.get(acc[2 * r + 1]!)));
          } else {
            f.set(acc[2 * r]!, f.f32x4Add(f.get(acc[2 * r]!), f.f32x4Mul(f.get(av), f.get(b0))));
            f.set(acc[2 * r + 1]!, f.f32x4Add(f.get(acc[2 * r + 1]!), f.f32x4Mul(f.get(av), f.get(b1))));
          }
        }
        f.set(pa, f.add(f.get(pa), f.i32(MR * 4)));
        f.set(pb, f.add(f.get(pb), f.i32(NR * 4)));
      });
      f.if_(f.and(f.geS(f.get(mr), f.i32(MR)), f.geS(f.get(nr), f.i32(NR))), () => {
        // Full tile: straight to C.
        f.set(row, f.get(c));
        for (let r = 0; r < MR; r++) {
          for (let h = 0; h < 2; h++) {
            const a = acc[2 * r + h]!;
            f.if_(f.get(accumulate), () => f.set(a, f.f32x4Add(f.v128Load(f.get(row), h * 16), f.get(a))));
            f.v128Store(f.get(row), f.get(a), h * 16);
          }
          f.set(row, f.add(f.get(row), f.get(ldc)));
        }
      }, () => {
        // Edge tile: spill to the tile buffer, then copy the valid mr×nr corner (by rows of two
        // vectors where the tile is full width, else float by float).
        for (let r = 0; r < MR; r++) {
          f.v128Store(f.get(tile), f.get(acc[2 * r]!), r * 32);
          f.v128Store(f.get(tile), f.get(acc[2 * r + 1]!), r * 32 + 16);
        }
        f.if_(f.gtS(f.get(mr), f.i32(MR)), () => f.set(mr, f.i32(MR)));
        f.if_(f.geS(f.get(nr), f.i32(NR)), () => {
          // Rows past the bottom edge of C (mr < MR), full width: each valid row is two vectors.
          f.forRange(i, () => f.i32(0), () => f.get(mr), 1, () => {
            f.set(row, f.add(f.get(c), f.mul(f.get(i), f.get(ldc))));
            f.set(src, f.add(f.get(tile), f.shl(f.get(i), f.i32(5))));
            for (let h = 0; h < 2; h++) {
              f.if_(f.get(accumulate), () => {
                f.v128Store(f.get(row), f.f32x4Add(f.v128Load(f.get(row), h * 16), f.v128Load(f.get(src), h * 16)), h * 16);
              }, () => {
                f.v128Store(f.get(row), f.v128Load(f.get(src), h * 16), h * 16);
              });
            }
          });
        }, () => {
          // Columns past the right edge: float by float.
          f.forRange(i, () => f.i32(0), () => f.get(mr), 1, () => {
            f.set(row, f.add(f.get(c), f.mul(f.get(i), f.get(ldc))));
            f.set(src, f.add(f.get(tile), f.shl(f.get(i), f.i32(5))));
            f.forRange(j, () => f.i32(0), () => f.get(nr), 1, () => {
              f.if_(f.get(accumulate), () => {
                f.f32Store(f.get(row), f.f32Add(f.f32Load(f.get(row)), f.f32Load(f.get(src))));
              }, () => {
                f.f32Store(f.get(row), f.f32Load(f.get(src)));
              });
              f.set(row, f.add(f.get(row), f.i32(4)));
              f.set(src, f.add(f.get(src), f.i32(4)));
            });
          });
        });
      });
    });
}
