// WebAssembly SIMD programs for the quantized matmul (layout in ../cpu/quant_format.ts), two exports
// per scheme:
//
//   quant_gemv_<scheme>(x, rows, xStride, blocks, codes, rowBytes, scales, zeros, bpg, gpr,
//                       out, ldo, n0, n1, bias, acc)
//     y[m, n] = Σ_k x[m, k]·w[n, k] (+ bias[n]) for the output columns n0 ≤ n < n1 of the few
//     (`rows` < 8, token-by-token generation) rows of x, read straight from the packed codes: each
//     block of codes is unpacked into registers, multiplied with x and dropped.
//   quant_decode_<scheme>(codes, rowBytes, scales, zeros, bpg, gpr, blocks, n0, n1, dst)
//     rows n0 ≤ n < n1 of W decoded into dst ([n1 − n0, blocks·codes per block] float32, columns in
//     their natural order, the padding past `in` included), each value scale·(q − zero) or
//     absmax·NF4[q] rounded once, as dequantizeWeight gives it: the tiles the caller multiplies with
//     the sgemm when x has more rows. 4-bit blocks are put back in column order by interleaving the
//     even and odd vectors (i32x4 shuffles) before the store.
//
// Addresses and strides are bytes.
//
// Blocks. A block is one 16-byte load of a row's codes: 32 four-bit codes (int4, nf4) or 16 bytes
// (int8). A row has `blocks` blocks (its last may run past the row's words into the next row's or
// the buffer's slack: x is zero there, and every code decodes to a finite value, so they add 0).
// Groups are whole numbers of blocks (`bpg` blocks per group, the caller checks groupSize % 32 = 0;
// int8 has one group per row), so a group's partial sum is scaled once, at its end.
//
// Unpacking 4-bit codes. The 16 bytes hold codes 2i (low nibble) and 2i + 1 (high nibble) of byte i.
// `and 0x0f` and `i8x16.shr_u 4` give the even and the odd codes as 16 bytes each; each is widened
// (i8 → i16 → i32, then converted to f32) into four f32x4: the even codes 0,2,4,6 | 8..14 | 16..22 |
// 24..30, then the odd ones. The caller lays x out in the same order (per 32 columns: the 16 even
// columns, then the 16 odd ones), so the products need no shuffles.
//   int4: the group's zero point is subtracted from the bytes (i8x16.sub, exact) before widening:
//         w = scale·(q − zero).
//   nf4:  each code selects a float32 of the codebook. A codebook float's four bytes come from four
//         16-byte tables indexed by the code (i8x16.swizzle, one per byte position), then two rounds
//         of byte interleaving (i8x16.shuffle) put each float's bytes together — the same lane order
//         as int4's widening. w = absmax·NF4[q].
//   int8: the 16 signed bytes are codes k..k+15 in order; widened to four f32x4. w = scale·q.
//
// Accumulation: per row of x, a group's products are summed in an f32x4 (lane j holds the columns
// ≡ j mod 4 of the block order), added into the row total scaled by the group's scale, and the total's
// four lanes are summed at the end of the W row, plus the bias. `acc` is the part's scratch: 32 bytes
// per row of x (the group sum, the total). All in float32; with relaxed SIMD (`fma`) the products
// use f32x4.relaxed_madd as the matmul does.

import type { FuncBuilder, Local, ModuleBuilder, Val } from '../wasm/emitter.js';
import { NF4_CODEBOOK } from '../cpu/quant_format.js';

/** Codes per 16-byte block: 32 four-bit or 16 eight-bit codes. */
export const GEMV_BLOCK_CODES = { int8: 16, int4: 32, nf4: 32 } as const;
/** The few-rows schemes, one export each. */
export const GEMV_SCHEMES = ['int8', 'int4', 'nf4'] as const;
/** Bytes of `acc` scratch per row of x. */
export const GEMV_ACC_BYTES_PER_ROW = 32;

// SIMD instructions the shared emitter does not have yet (opcodes from the fixed-width SIMD proposal).
const V128: Val<'v128'> = { type: 'v128' };
function simd(f: FuncBuilder, opcode: number): Val<'v128'> { f.code.u8(0xfd).u32(opcode); return V128; }
const i8x16Splat = (f: FuncBuilder, _a: Val<'i32'>): Val<'v128'> => simd(f, 0x0f);
const i8x16Sub = (f: FuncBuilder, _a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> => simd(f, 0x71);
const i8x16ShrU = (f: FuncBuilder, _a: Val<'v128'>, _s: Val<'i32'>): Val<'v128'> => simd(f, 0x6d);
const i8x16Swizzle = (f: FuncBuilder, _table: Val<'v128'>, _idx: Val<'v128'>): Val<'v128'> => simd(f, 0x0e);
function i8x16Shuffle(f: FuncBuilder, _a: Val<'v128'>, _b: Val<'v128'>, lanes: readonly number[]): Val<'v128'> {
  f.code.u8(0xfd).u32(0x0d).bytes(lanes);
  return V128;
}
function constBytes(f: FuncBuilder, bytes: ArrayLike<number>): Val<'v128'> {
  f.code.u8(0xfd).u32(0x0c).bytes(bytes);
  return V128;
}
/** Signed widening of the low or high half: i8 → i16 (0x87/0x88), i16 → i32 (0xa7/0xa8). */
const widen8 = (f: FuncBuilder, _a: Val<'v128'>, high: boolean): Val<'v128'> => simd(f, high ? 0x88 : 0x87);
const widen16 = (f: FuncBuilder, _a: Val<'v128'>, high: boolean): Val<'v128'> => simd(f, high ? 0xa8 : 0xa7);
const convertI32 = (f: FuncBuilder, _a: Val<'v128'>): Val<'v128'> => simd(f, 0xfa);

/** Byte t of each codebook float32, as a 16-byte table indexed by the code. */
function nf4ByteTables(): Uint8Array[] {
  const bytes = new Uint8Array(NF4_CODEBOOK.buffer.slice(NF4_CODEBOOK.byteOffset, NF4_CODEBOOK.byteOffset + 64));
  return [0, 1, 2, 3].map((t) => Uint8Array.from({ length: 16 }, (_, c) => bytes[4 * c + t]!));
}
const range = (a: number, n: number, step = 1): number[] => Array.from({ length: n }, (_, i) => a + i * step);
// Round 1 interleaves bytes of two vectors (lanes 0–7 or 8–15), round 2 their 16-bit pairs.
const INTERLEAVE8_LO = range(0, 8).flatMap((i) => [i, 16 + i]);
const INTERLEAVE8_HI = range(8, 8).flatMap((i) => [i, 16 + i]);
const INTERLEAVE16_LO = range(0, 4).flatMap((i) => [2 * i, 2 * i + 1, 16 + 2 * i, 17 + 2 * i]);
const INTERLEAVE16_HI = range(4, 4).flatMap((i) => [2 * i, 2 * i + 1, 16 + 2 * i, 17 + 2 * i]);

/** Adds quant_gemv_<scheme> and quant_decode_<scheme> for int8, int4 and nf4 to the module. */
export function addQuantGemv(m: ModuleBuilder, opts: { fma?: boolean } = {}): void {
  for (const scheme of GEMV_SCHEMES) addGemv(m, scheme, opts.fma ?? false);
  for (const scheme of GEMV_SCHEMES) addDecode(m, scheme);
}

function addDecode(m: ModuleBuilder, scheme: (typeof GEMV_SCHEMES)[number]): void {
  const nVec = GEMV_BLOCK_CODES[scheme] / 4;
  const tables = scheme === 'nf4' ? nf4ByteTables() : [];
  const P = ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const;
  m.func(`quant_decode_${scheme}`, P, null, (f, codes, rowBytes, scales, zeros, bpg, gpr, blocks, n0, n1, dst) => {
    const n = f.local('i32'), g = f.local('i32'), b = f.local('i32'), bEnd = f.local('i32'), gi = f.local('i32');
    const row = f.local('i32'), d = f.local('i32');
    const v = f.local('v128'), lo = f.local('v128'), hi = f.local('v128'), tmp = f.local('v128'), zv = f.local('v128'), sc = f.local('v128');
    const w: Local<'v128'>[] = range(0, nVec).map(() => f.local('v128'));
    f.set(d, f.get(dst));
    f.forRange(n, () => f.get(n0), () => f.get(n1), 1, () => {
      f.set(row, f.add(f.get(codes), f.mul(f.get(n), f.get(rowBytes))));
      f.forRange(g, () => f.i32(0), () => f.get(gpr), 1, () => {
        f.set(gi, f.add(f.mul(f.get(n), f.get(gpr)), f.get(g)));
        if (scheme === 'int4') f.set(zv, zeroPointBytes(f, zeros, gi));
        f.set(sc, f.f32x4Splat(f.f32Load(f.add(f.get(scales), f.shl(f.get(gi), f.i32(2))))));
        f.set(bEnd, f.add(f.mul(f.get(g), f.get(bpg)), f.get(bpg)));
        f.if_(f.gtS(f.get(bEnd), f.get(blocks)), () => f.set(bEnd, f.get(blocks)));
        f.forRange(b, () => f.mul(f.get(g), f.get(bpg)), () => f.get(bEnd), 1, () => {
          f.set(v, f.v128Load(f.add(f.get(row), f.shl(f.get(b), f.i32(4)))));
          decodeBlock(f, scheme, { v, lo, hi, tmp, zv, w }, tables);
          for (let j = 0; j < nVec; j++) {
            // Column order: int8 is already; 4-bit vector j takes columns 4j..4j+3 from the even
            // vector w[j >> 1] and the odd one w[4 + (j >> 1)], alternately.
            const natural = (): Val<'v128'> => (nVec === 4 ? f.get(w[j]!)
              : f.i32x4Shuffle(f.get(w[j >> 1]!), f.get(w[4 + (j >> 1)]!), j % 2 === 0 ? [0, 4, 1, 5] : [2, 6, 3, 7]));
            f.v128Store(f.get(d), f.f32x4Mul(natural(), f.get(sc)), 16 * j);
          }
          f.set(d, f.add(f.get(d), f.i32(16 * nVec)));
        });
      });
    });
  });
}

/** The zero point of flat group gi (bits 4·(gi mod 8) of word gi/8 of `zeros`) in every byte. */
function zeroPointBytes(f: FuncBuilder, zeros: Local<'i32'>, gi: Local<'i32'>): Val<'v128'> {
  return i8x16Splat(f, f.and(f.shrU(f.i32Load(f.add(f.get(zeros), f.shl(f.shrU(f.get(gi), f.i32(3)), f.i32(2)))),
    f.shl(f.and(f.get(gi), f.i32(7)), f.i32(2))), f.i32(15)));
}

function addGemv(m: ModuleBuilder, scheme: (typeof GEMV_SCHEMES)[number], fma: boolean): void {
  const nVec = GEMV_BLOCK_CODES[scheme] / 4;
  const xBlockShift = nVec === 8 ? 7 : 6; // bytes of x per block: 128 or 64
  const tables = scheme === 'nf4' ? nf4ByteTables() : [];
  const P = ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const;
  m.func(`quant_gemv_${scheme}`, P, null, (f, x, rows, xStride, blocks, codes, rowBytes, scales, zeros, bpg, gpr, out, ldo, n0, n1, bias, acc) => {
    const n = f.local('i32'), g = f.local('i32'), b = f.local('i32'), bEnd = f.local('i32'), gi = f.local('i32');
    const row = f.local('i32'), xp = f.local('i32'), ap = f.local('i32'), accEnd = f.local('i32'), xo = f.local('i32'), o = f.local('i32');
    const s = f.local('f32');
    const v = f.local('v128'), lo = f.local('v128'), hi = f.local('v128'), tmp = f.local('v128'), zv = f.local('v128');
    const sum = f.local('v128'), sc = f.local('v128');
    const w: Local<'v128'>[] = range(0, nVec).map(() => f.local('v128'));
    const regs: DecodeRegs = { v, lo, hi, tmp, zv, w };
    const madd = (a: Val<'v128'>, bb: Val<'v128'>, c: Val<'v128'>): Val<'v128'> => (fma ? f.f32x4RelaxedMadd(a, bb, c) : f.f32x4Add(f.f32x4Mul(a, bb), c));
    /** body() once per row of x, with xp at the row of x and ap at its 32 bytes of acc. */
    const eachRow = (body: () => void): void => {
      f.set(xp, f.get(x));
      f.forRange(ap, () => f.get(acc), () => f.get(accEnd), GEMV_ACC_BYTES_PER_ROW, () => {
        body();
        f.set(xp, f.add(f.get(xp), f.get(xStride)));
      });
    };

    f.set(accEnd, f.add(f.get(acc), f.mul(f.get(rows), f.i32(GEMV_ACC_BYTES_PER_ROW))));
    f.forRange(n, () => f.get(n0), () => f.get(n1), 1, () => {
      f.set(row, f.add(f.get(codes), f.mul(f.get(n), f.get(rowBytes))));
      eachRow(() => f.v128Store(f.get(ap), f.v128Const([0, 0, 0, 0]), 16));
      f.forRange(g, () => f.i32(0), () => f.get(gpr), 1, () => {
        f.set(gi, f.add(f.mul(f.get(n), f.get(gpr)), f.get(g)));
        if (scheme === 'int4') f.set(zv, zeroPointBytes(f, zeros, gi));
        eachRow(() => f.v128Store(f.get(ap), f.v128Const([0, 0, 0, 0])));
        f.set(bEnd, f.add(f.mul(f.get(g), f.get(bpg)), f.get(bpg)));
        f.if_(f.gtS(f.get(bEnd), f.get(blocks)), () => f.set(bEnd, f.get(blocks)));
        f.forRange(b, () => f.mul(f.get(g), f.get(bpg)), () => f.get(bEnd), 1, () => {
          f.set(v, f.v128Load(f.add(f.get(row), f.shl(f.get(b), f.i32(4)))));
          decodeBlock(f, scheme, regs, tables);
          // Each row of x: the block's products into the row's group sum.
          f.set(xo, f.shl(f.get(b), f.i32(xBlockShift)));
          eachRow(() => {
            f.set(o, f.add(f.get(xp), f.get(xo)));
            f.set(sum, f.f32x4Mul(f.get(w[0]!), f.v128Load(f.get(o))));
            for (let j = 1; j < nVec; j++) f.set(sum, madd(f.get(w[j]!), f.v128Load(f.get(o), 16 * j), f.get(sum)));
            f.v128Store(f.get(ap), f.f32x4Add(f.v128Load(f.get(ap)), f.get(sum)));
          });
        });
        // Group end: total += group sum · scale.
        f.set(sc, f.f32x4Splat(f.f32Load(f.add(f.get(scales), f.shl(f.get(gi), f.i32(2))))));
        eachRow(() => f.v128Store(f.get(ap), madd(f.v128Load(f.get(ap)), f.get(sc), f.v128Load(f.get(ap), 16)), 16));
      });
      // Row end: out[r, n] = the total's four lanes summed (+ bias[n]).
      f.set(o, f.add(f.get(out), f.shl(f.get(n), f.i32(2))));
      eachRow(() => {
        f.set(sum, f.v128Load(f.get(ap), 16));
        f.set(s, f.f32Add(f.f32Add(f.f32x4ExtractLane(f.get(sum), 0), f.f32x4ExtractLane(f.get(sum), 1)),
          f.f32Add(f.f32x4ExtractLane(f.get(sum), 2), f.f32x4ExtractLane(f.get(sum), 3))));
        f.if_(f.ne(f.get(bias), f.i32(0)), () => f.set(s, f.f32Add(f.get(s), f.f32Load(f.add(f.get(bias), f.shl(f.get(n), f.i32(2)))))));
        f.f32Store(f.get(o), f.get(s));
        f.set(o, f.add(f.get(o), f.get(ldo)));
      });
    });
  });
}

/** The registers decodeBlock uses: the block `v`, temporaries, the zero point bytes, the output vectors. */
interface DecodeRegs { v: Local<'v128'>; lo: Local<'v128'>; hi: Local<'v128'>; tmp: Local<'v128'>; zv: Local<'v128'>; w: Local<'v128'>[] }

/** Unpacks the 16 bytes in `v` into `w` in block order, the zero point subtracted (int4) or the codebook applied (nf4); clobbers v. */
function decodeBlock(f: FuncBuilder, scheme: (typeof GEMV_SCHEMES)[number], { v, lo, hi, tmp, zv, w }: DecodeRegs, tables: Uint8Array[]): void {
  if (scheme === 'int8') {
    f.set(lo, widen8(f, f.get(v), false));
    f.set(hi, widen8(f, f.get(v), true));
    for (let j = 0; j < 4; j++) f.set(w[j]!, convertI32(f, widen16(f, f.get(j < 2 ? lo : hi), j % 2 === 1)));
    return;
  }
  f.set(lo, f.v128And(f.get(v), constBytes(f, new Uint8Array(16).fill(0x0f))));
  f.set(hi, i8x16ShrU(f, f.get(v), f.i32(4)));
  for (const [h, src] of [[0, lo], [1, hi]] as const) {
    const [o0, o1, o2, o3] = w.slice(4 * h, 4 * h + 4) as [Local<'v128'>, Local<'v128'>, Local<'v128'>, Local<'v128'>];
    if (scheme === 'int4') {
      // q − zero in [−15, 15] as signed bytes, widened: bytes 0–3, 4–7, 8–11, 12–15 of src.
      f.set(src, i8x16Sub(f, f.get(src), f.get(zv)));
      f.set(o2, widen8(f, f.get(src), true));
      f.set(o0, widen8(f, f.get(src), false));
      f.set(o1, convertI32(f, widen16(f, f.get(o0), true)));
      f.set(o0, convertI32(f, widen16(f, f.get(o0), false)));
      f.set(o3, convertI32(f, widen16(f, f.get(o2), true)));
      f.set(o2, convertI32(f, widen16(f, f.get(o2), false)));
    } else {
      // Byte t of NF4[code] for each of the 16 codes of src: o_t = swizzle(table t, src).
      f.set(o0, i8x16Swizzle(f, constBytes(f, tables[0]!), f.get(src)));
      f.set(o1, i8x16Swizzle(f, constBytes(f, tables[1]!), f.get(src)));
      f.set(o2, i8x16Swizzle(f, constBytes(f, tables[2]!), f.get(src)));
      f.set(o3, i8x16Swizzle(f, constBytes(f, tables[3]!), f.get(src)));
      // Bytes (0, 1) and (2, 3) paired per code, for codes 8–15 of src then 0–7.
      f.set(v, i8x16Shuffle(f, f.get(o0), f.get(o1), INTERLEAVE8_HI));
      f.set(tmp, i8x16Shuffle(f, f.get(o2), f.get(o3), INTERLEAVE8_HI));
      f.set(o0, i8x16Shuffle(f, f.get(o0), f.get(o1), INTERLEAVE8_LO));
      f.set(o1, i8x16Shuffle(f, f.get(o2), f.get(o3), INTERLEAVE8_LO));
      // The pairs joined into float32s: codes 8–11, 12–15, then 4–7 and 0–3 of src.
      f.set(o2, i8x16Shuffle(f, f.get(v), f.get(tmp), INTERLEAVE16_LO));
      f.set(o3, i8x16Shuffle(f, f.get(v), f.get(tmp), INTERLEAVE16_HI));
      f.set(tmp, i8x16Shuffle(f, f.get(o0), f.get(o1), INTERLEAVE16_HI));
      f.set(o0, i8x16Shuffle(f, f.get(o0), f.get(o1), INTERLEAVE16_LO));
      f.set(o1, f.get(tmp));
    }
  }
}
