// A small typed emitter for WebAssembly binaries: the fast CPU kernels are written with it in
// TypeScript and assembled into bytes at runtime, so no binary is ever checked in and no build step
// or assembler dependency is needed.
//
// Writing a function. WebAssembly is a stack machine: an instruction pops its operands and pushes
// its result. Every method of `FuncBuilder` appends its instruction to the body *when it is called*
// and returns a typed token for the value it leaves on the stack. Because JavaScript evaluates
// arguments left to right before the call, nesting calls the way you would write an expression,
//
//     f.set(acc, f.f32x4Add(f.get(acc), f.f32x4Mul(f.get(a), f.get(b))))
//
// emits `local.get acc; local.get a; local.get b; f32x4.mul; f32x4.add; local.set acc` — exactly the
// post-order the stack machine wants. The tokens (`Val<'i32'>`, `Val<'v128'>`, ...) carry the value
// type, so passing an f32 where an address is expected is a TypeScript error, not a validation
// failure at load time.
//
// Binary format reference: the WebAssembly core specification, section 5 ("Binary Format"), and the
// fixed-width SIMD proposal (all SIMD instructions are the prefix byte 0xFD followed by a LEB128
// opcode). Integers are LEB128-encoded; floats are little-endian IEEE 754.

/** WebAssembly's value types (v128: the 128-bit SIMD vector). */
export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';

const VALTYPE_CODE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** A value of type T on the operand stack (a compile-time token; the bytes are already emitted). */
export interface Val<T extends ValType> {
  /** Its value type. */
  readonly type: T;
}
/** A local variable (parameters are locals 0..n-1). */
export interface Local<T extends ValType> {
  /** Local index in the function. */
  readonly index: number;
  /** Its value type. */
  readonly type: T;
}
/** A branch target opened by `block` or `loop`. */
export interface Label {
  /** The construct that opened it: a branch to a loop restarts it, to a block or if leaves it. */
  readonly kind: 'block' | 'loop' | 'if';
}
/** A function of the module, callable from other functions by index. */
export interface FuncRef<R extends ValType | null> {
  /** Function index (imports first). */
  readonly index: number;
  /** Export name. */
  readonly name: string;
  /** Result type, null for none. */
  readonly result: R;
}

const VAL: { [T in ValType]: Val<T> } = {
  i32: { type: 'i32' }, i64: { type: 'i64' }, f32: { type: 'f32' }, f64: { type: 'f64' }, v128: { type: 'v128' },
};

/** A growable byte sink with the encodings the binary format uses. */
export class ByteWriter {
  private buf = new Uint8Array(256);
  /** Bytes written so far. */
  length = 0;

  /** Append one byte (the low 8 bits of `b`). */
  u8(b: number): this {
    if (this.length === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = b & 0xff;
    return this;
  }

  /** Append bytes as they are. */
  bytes(bs: ArrayLike<number>): this {
    for (let i = 0; i < bs.length; i++) this.u8(bs[i]!);
    return this;
  }

  /** Unsigned LEB128: 7 bits per byte, low groups first, high bit set on all but the last byte. */
  u32(v: number): this {
    let x = v >>> 0;
    do {
      let byte = x & 0x7f;
      x >>>= 7;
      if (x !== 0) byte |= 0x80;
      this.u8(byte);
    } while (x !== 0);
    return this;
  }

  /** Signed LEB128 (32-bit): stop once the remaining bits are all copies of the sign bit. */
  s32(v: number): this {
    let x = v | 0;
    for (;;) {
      const byte = x & 0x7f;
      x >>= 7;
      const done = (x === 0 && (byte & 0x40) === 0) || (x === -1 && (byte & 0x40) !== 0);
      this.u8(done ? byte : byte | 0x80);
      if (done) return this;
    }
  }

  /** Append `v` as a little-endian IEEE 754 float32. */
  f32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.bytes(b);
  }

  /** Append `v` as a little-endian IEEE 754 float64. */
  f64(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    return this.bytes(b);
  }

  /** Append a name: its UTF-8 byte length (LEB128) then the bytes. */
  name(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u32(b.length).bytes(b);
  }

  /** A section or body: its byte length (u32) followed by its contents. */
  sized(inner: ByteWriter): this {
    return this.u32(inner.length).bytes(inner.toBytes());
  }

  /** A copy of the bytes written. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Natural alignment (log2 of bytes) of each memory access width, the default memarg alignment. */
const ALIGN = { 1: 0, 2: 1, 4: 2, 8: 3, 16: 4 } as const;

/** Builds one function body. Obtain it from `ModuleBuilder.func`. */
export class FuncBuilder {
  /** The instructions emitted so far (the body without its locals header). */
  readonly code = new ByteWriter();
  /** The parameters, locals 0..n−1. */
  readonly params: Local<ValType>[];
  private readonly localTypes: ValType[] = [];
  private readonly labels: Label[] = [];

  constructor(params: readonly ValType[]) {
    this.params = params.map((type, index) => ({ index, type }));
  }

  /** Declares a new local (zero-initialized on entry). */
  local<T extends ValType>(type: T): Local<T> {
    const l: Local<T> = { index: this.params.length + this.localTypes.length, type };
    this.localTypes.push(type);
    return l;
  }

  /** The function body: locals declaration, instructions, `end`. */
  body(): ByteWriter {
    const w = new ByteWriter();
    w.u32(this.localTypes.length);
    for (const t of this.localTypes) w.u32(1).u8(VALTYPE_CODE[t]);
    w.bytes(this.code.toBytes());
    w.u8(0x0b);
    return w;
  }

  // ---- raw emission --------------------------------------------------------------------------
  private op<T extends ValType>(byte: number, result: T): Val<T> {
    this.code.u8(byte);
    return VAL[result];
  }
  private simd<T extends ValType>(opcode: number, result: T): Val<T> {
    this.code.u8(0xfd).u32(opcode);
    return VAL[result];
  }
  private mem(align: number, offset: number): void {
    this.code.u32(align).u32(offset);
  }
  private stmt(byte: number): void {
    this.code.u8(byte);
  }

  // ---- locals and constants -----------------------------------------------------------------
  /** `local.get`: pushes local `l`'s value. */
  get<T extends ValType>(l: Local<T>): Val<T> { this.code.u8(0x20).u32(l.index); return VAL[l.type]; }
  /** `local.set`: pops the value into local `l`. */
  set<T extends ValType>(l: Local<T>, _v: Val<T>): void { this.code.u8(0x21).u32(l.index); }
  /** `local.tee`: stores the value into local `l` and leaves it on the stack. */
  tee<T extends ValType>(l: Local<T>, _v: Val<T>): Val<T> { this.code.u8(0x22).u32(l.index); return VAL[l.type]; }
  /** `i32.const v` (v a 32-bit signed integer). */
  i32(v: number): Val<'i32'> { this.code.u8(0x41).s32(v); return VAL.i32; }
  /** `f32.const v` (v rounded to float32). */
  f32(v: number): Val<'f32'> { this.code.u8(0x43).f32(v); return VAL.f32; }
  /** `f64.const v`. */
  f64(v: number): Val<'f64'> { this.code.u8(0x44).f64(v); return VAL.f64; }
  /** `drop`: discards the value on top of the stack. */
  drop(_v: Val<ValType>): void { this.stmt(0x1a); }
  /** `cond ? a : b` without branching (both operands are evaluated). */
  select<T extends ValType>(_a: Val<T>, b: Val<T>, _c: Val<'i32'>): Val<T> { this.code.u8(0x1b); return b; }

  // ---- i32 arithmetic and comparison --------------------------------------------------------
  /** `i32.add`. */
  add(_a: Val<'i32'>, _b: Val<'i32'>): Val<'i32'> { return this.op(0x6a, 'i32'); }
  /** `i32.sub`. */
  sub(_a: Val<'i32'>, _b: Val<'i32'>): Val<'i32'> { return this.op(0x6b, 'i32'); }
  /** `i32.mul`. */
  mul(_a: Val<'i32'>, _b: Val<'i32'>): Val<'i32'> { return this.op(0x6c, 'i32'); }
  /** `i32.and`. */
  and(_a: Val<'i32'>, _b: Val<'i32'>): Val<'i32'> { return this.op(0x71, 'i32'); }
  /** `i32.or`. */
  or(_a: Val<'i32'>, _b: Val<'i32'>): Val<'i32'> { return this.op(0x72, 'i32'); }
  /** `i32.shl`: shift left by an i32 count. */
  shl(_a: Val<'i32'>, _b: Val<'i32'>): Val<'i32'> { return this.op(0x74, 'i32'); }
  /** `i32.shr_u`: logical shift right. */
  shrU(_a: Val<'i32'>, _b: Val<'i32'>): Val<'i32'> { return this.op(0x76, 'i32'); }
  /** `i32.eqz`: 1 if the value is 0, else 0. */
  eqz(_a: Val<'i32'>): Val<'i32'> { return this.op(0x45, 'i32'); }
  /** `i32.eq`: 1 if true, else 0. */
  eq(_a: Val<'i32'>, _b: Val<'i32'>): Val<'i32'> { return this.op(0x46, 'i32'); }
  /** `i32.ne`: 1 if true, else 0. */
  ne(_a: Val<'i32'>, _b: Val<'i32'>): Val<'i32'> { return this.op(0x47, 'i32'); }
  /** `i32.lt_s`: 1 if true, else 0. */
  ltS(_a: Val<'i32'>, _b: Val<'i32'>): Val<'i32'> { return this.op(0x48, 'i32'); }
  /** `i32.gt_s`: 1 if true, else 0. */
  gtS(_a: Val<'i32'>, _b: Val<'i32'>): Val<'i32'> { return this.op(0x4a, 'i32'); }
  /** `i32.le_s`: 1 if true, else 0. */
  leS(_a: Val<'i32'>, _b: Val<'i32'>): Val<'i32'> { return this.op(0x4c, 'i32'); }
  /** `i32.ge_s`: 1 if true, else 0. */
  geS(_a: Val<'i32'>, _b: Val<'i32'>): Val<'i32'> { return this.op(0x4e, 'i32'); }

  // ---- scalar floats --------------------------------------------------------------------------
  /** `f32.add`. */
  f32Add(_a: Val<'f32'>, _b: Val<'f32'>): Val<'f32'> { return this.op(0x92, 'f32'); }
  /** `f32.sub`. */
  f32Sub(_a: Val<'f32'>, _b: Val<'f32'>): Val<'f32'> { return this.op(0x93, 'f32'); }
  /** `f32.mul`. */
  f32Mul(_a: Val<'f32'>, _b: Val<'f32'>): Val<'f32'> { return this.op(0x94, 'f32'); }
  /** `f32.div`. */
  f32Div(_a: Val<'f32'>, _b: Val<'f32'>): Val<'f32'> { return this.op(0x95, 'f32'); }
  /** `f32.max`: NaN if either operand is NaN. */
  f32Max(_a: Val<'f32'>, _b: Val<'f32'>): Val<'f32'> { return this.op(0x97, 'f32'); }
  /** `f32.min`: NaN if either operand is NaN. */
  f32Min(_a: Val<'f32'>, _b: Val<'f32'>): Val<'f32'> { return this.op(0x96, 'f32'); }
  /** `f32.sqrt`. */
  f32Sqrt(_a: Val<'f32'>): Val<'f32'> { return this.op(0x91, 'f32'); }
  /** `f32.convert_i32_s`: from a signed i32. */
  f32ConvertI32(_a: Val<'i32'>): Val<'f32'> { return this.op(0xb2, 'f32'); }
  /** `f64.convert_i32_s`: from a signed i32. */
  f64ConvertI32(_a: Val<'i32'>): Val<'f64'> { return this.op(0xb7, 'f64'); }
  /** `f32.demote_f64`: f64 rounded to f32. */
  f32DemoteF64(_a: Val<'f64'>): Val<'f32'> { return this.op(0xb6, 'f32'); }
  /** `f64.add`. */
  f64Add(_a: Val<'f64'>, _b: Val<'f64'>): Val<'f64'> { return this.op(0xa0, 'f64'); }
  /** `f64.sub`. */
  f64Sub(_a: Val<'f64'>, _b: Val<'f64'>): Val<'f64'> { return this.op(0xa1, 'f64'); }
  /** `f64.mul`. */
  f64Mul(_a: Val<'f64'>, _b: Val<'f64'>): Val<'f64'> { return this.op(0xa2, 'f64'); }
  /** `f64.div`. */
  f64Div(_a: Val<'f64'>, _b: Val<'f64'>): Val<'f64'> { return this.op(0xa3, 'f64'); }
  /** `f64.sqrt`. */
  f64Sqrt(_a: Val<'f64'>): Val<'f64'> { return this.op(0x9f, 'f64'); }
  /** `f64.max`: NaN if either operand is NaN. */
  f64Max(_a: Val<'f64'>, _b: Val<'f64'>): Val<'f64'> { return this.op(0xa5, 'f64'); }
  /** `f64.eq`: 1 if true, else 0. */
  f64Eq(_a: Val<'f64'>, _b: Val<'f64'>): Val<'i32'> { return this.op(0x61, 'i32'); }
  /** `f64.ne`: 1 if true, else 0. */
  f64Ne(_a: Val<'f64'>, _b: Val<'f64'>): Val<'i32'> { return this.op(0x62, 'i32'); }
  /** `f64.lt`: 1 if true, else 0. */
  f64Lt(_a: Val<'f64'>, _b: Val<'f64'>): Val<'i32'> { return this.op(0x63, 'i32'); }
  /** `f64.promote_f32`: f32 widened to f64. */
  f64PromoteF32(_a: Val<'f32'>): Val<'f64'> { return this.op(0xbb, 'f64'); }
  /** The f32 whose bit pattern is the i32 (how JS passes float arguments through an Int32Array). */
  f32ReinterpretI32(_a: Val<'i32'>): Val<'f32'> { return this.op(0xbe, 'f32'); }

  // ---- memory (addresses are byte offsets; `offset` is a constant added by the instruction) ----
  /** `i32.load`: from address `addr + offset`. */
  i32Load(_addr: Val<'i32'>, offset = 0): Val<'i32'> { this.stmt(0x28); this.mem(ALIGN[4], offset); return VAL.i32; }
  /** `f32.load`: from address `addr + offset`. */
  f32Load(_addr: Val<'i32'>, offset = 0): Val<'f32'> { this.stmt(0x2a); this.mem(ALIGN[4], offset); return VAL.f32; }
  /** `f64.load`: from address `addr + offset`. */
  f64Load(_addr: Val<'i32'>, offset = 0): Val<'f64'> { this.stmt(0x2b); this.mem(ALIGN[8], offset); return VAL.f64; }
  /** `f32.store`: of the value to address `addr + offset`. */
  f32Store(_addr: Val<'i32'>, _v: Val<'f32'>, offset = 0): void { this.stmt(0x38); this.mem(ALIGN[4], offset); }
  /** `i32.store`: of the value to address `addr + offset`. */
  i32Store(_addr: Val<'i32'>, _v: Val<'i32'>, offset = 0): void { this.stmt(0x36); this.mem(ALIGN[4], offset); }
  /** `f64.store`: of the value to address `addr + offset`. */
  f64Store(_addr: Val<'i32'>, _v: Val<'f64'>, offset = 0): void { this.stmt(0x39); this.mem(ALIGN[8], offset); }
  /** Unaligned-tolerant 16-byte load (alignment hint 4 bytes: f32 data is only 4-aligned in general). */
  v128Load(_addr: Val<'i32'>, offset = 0): Val<'v128'> { this.code.u8(0xfd).u32(0x00); this.mem(ALIGN[4], offset); return VAL.v128; }
  /** `v128.store`: of the value to address `addr + offset`. */
  v128Store(_addr: Val<'i32'>, _v: Val<'v128'>, offset = 0): void { this.code.u8(0xfd).u32(0x0b); this.mem(ALIGN[4], offset); }
  /** Loads one f32 and broadcasts it to all four lanes. */
  v128Load32Splat(_addr: Val<'i32'>, offset = 0): Val<'v128'> { this.code.u8(0xfd).u32(0x09); this.mem(ALIGN[4], offset); return VAL.v128; }
  /** Loads two f32 into the low 64 bits, zeroing the rest. */
  v128Load64Zero(_addr: Val<'i32'>, offset = 0): Val<'v128'> { this.code.u8(0xfd).u32(0x5d); this.mem(ALIGN[4], offset); return VAL.v128; }

  /** Stores the low 64 bits (two f32) of a vector. */
  v128Store64Lane0(_addr: Val<'i32'>, _v: Val<'v128'>, offset = 0): void {
    this.code.u8(0xfd).u32(0x5b); this.mem(ALIGN[4], offset); this.code.u8(0);
  }

  // ---- SIMD: f32x4, f64x2, i32x4, bitwise ------------------------------------------------------
  /** `v128.const` of four f32 lanes (lane 0 first). */
  v128Const(lanes: readonly [number, number, number, number]): Val<'v128'> {
    const w = new ByteWriter();
    for (const x of lanes) w.f32(x);
    return this.constant(w.toBytes());
  }
  /** A v128 constant from its 16 bytes. */
  private constant(bytes: Uint8Array): Val<'v128'> {
    this.code.u8(0xfd).u32(0x0c).bytes(bytes);
    return VAL.v128;
  }
  /**
   * Picks four 32-bit lanes from the eight of a (lanes 0–3) and b (4–7): result lane i is lane
   * `lanes[i]`. (i8x16.shuffle with each 32-bit lane's four bytes kept together.)
   */
  i32x4Shuffle(_a: Val<'v128'>, _b: Val<'v128'>, lanes: readonly [number, number, number, number]): Val<'v128'> {
    this.code.u8(0xfd).u32(0x0d);
    for (const l of lanes) for (let byte = 0; byte < 4; byte++) this.code.u8(4 * l + byte);
    return VAL.v128;
  }
  /** `f32x4.splat`: the scalar copied into every lane. */
  f32x4Splat(_a: Val<'f32'>): Val<'v128'> { return this.simd(0x13, 'v128'); }
  /** `f64x2.splat`: the scalar copied into every lane. */
  f64x2Splat(_a: Val<'f64'>): Val<'v128'> { return this.simd(0x14, 'v128'); }
  /** `i32x4.splat`: the scalar copied into every lane. */
  i32x4Splat(_a: Val<'i32'>): Val<'v128'> { return this.simd(0x11, 'v128'); }
  /** `f32x4.extract_lane`: lane `lane` as a scalar. */
  f32x4ExtractLane(_a: Val<'v128'>, lane: number): Val<'f32'> { this.simd(0x1f, 'f32'); this.code.u8(lane); return VAL.f32; }
  /** `f64x2.extract_lane`: lane `lane` as a scalar. */
  f64x2ExtractLane(_a: Val<'v128'>, lane: number): Val<'f64'> { this.simd(0x21, 'f64'); this.code.u8(lane); return VAL.f64; }
  /** `f32x4.add`. */
  f32x4Add(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xe4, 'v128'); }
  /** `f32x4.sub`. */
  f32x4Sub(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xe5, 'v128'); }
  /** `f32x4.mul`. */
  f32x4Mul(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xe6, 'v128'); }
  /** `f32x4.div`. */
  f32x4Div(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xe7, 'v128'); }
  /**
   * a·b + c from the relaxed-SIMD proposal: one fused multiply-add where the processor has one,
   * else a multiply and an add (the engine decides once; a given machine always computes the same).
   */
  f32x4RelaxedMadd(_a: Val<'v128'>, _b: Val<'v128'>, _c: Val<'v128'>): Val<'v128'> { return this.simd(0x105, 'v128'); }
  /** `f64x2.relaxed_madd`: a·b + c per lane, fused or not as the processor does (relaxed SIMD). */
  f64x2RelaxedMadd(_a: Val<'v128'>, _b: Val<'v128'>, _c: Val<'v128'>): Val<'v128'> { return this.simd(0x107, 'v128'); }
  /** IEEE-style min/max: NaN in either lane gives NaN (like Math.min/max). */
  f32x4Min(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xe8, 'v128'); }
  /** `f32x4.max`: NaN in either lane gives NaN. */
  f32x4Max(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xe9, 'v128'); }
  /**
   * Pseudo-min/max: pmin(a, b) = b < a ? b : a, pmax(a, b) = a < b ? b : a — one instruction on
   * x86 and ARM (IEEE min/max need several for NaN and ±0). With a constant b, a NaN in a is kept.
   */
  f32x4Pmin(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xea, 'v128'); }
  /** `f32x4.pmax`: pseudo-maximum per lane, a < b ? b : a (no NaN propagation). */
  f32x4Pmax(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xeb, 'v128'); }
  /** `f32x4.sqrt`. */
  f32x4Sqrt(_a: Val<'v128'>): Val<'v128'> { return this.simd(0xe3, 'v128'); }
  /** `f32x4.nearest`: round to nearest integer per lane, ties to even. */
  f32x4Nearest(_a: Val<'v128'>): Val<'v128'> { return this.simd(0x6a, 'v128'); }
  /** `f32x4.lt`: all ones in each lane where true, else zero. */
  f32x4Lt(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0x43, 'v128'); }
  /** `f32x4.eq`: all ones in lanes where a = b (never for NaN). */
  f32x4Eq(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0x41, 'v128'); }
  /** `f32x4.ne`: all ones in lanes where a ≠ b (NaN included). */
  f32x4Ne(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0x42, 'v128'); }
  /** `f32x4.demote_f64x2_zero`: the two f64 lanes rounded to f32 lanes 0–1, lanes 2–3 zero. */
  f32x4DemoteF64x2Zero(_a: Val<'v128'>): Val<'v128'> { return this.simd(0x5e, 'v128'); }
  /** `f64x2.promote_low_f32x4`: f32 lanes 0–1 widened to two f64 lanes. */
  f64x2PromoteLowF32x4(_a: Val<'v128'>): Val<'v128'> { return this.simd(0x5f, 'v128'); }
  /** `f64x2.add`. */
  f64x2Add(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xf0, 'v128'); }
  /** `f64x2.sub`. */
  f64x2Sub(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xf1, 'v128'); }
  /** `f64x2.mul`. */
  f64x2Mul(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xf2, 'v128'); }
  /** `f64x2.div`. */
  f64x2Div(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xf3, 'v128'); }
  /** `f64x2.sqrt`. */
  f64x2Sqrt(_a: Val<'v128'>): Val<'v128'> { return this.simd(0xef, 'v128'); }
  /** `i32x4.trunc_sat_f32x4_s`: f32 lanes to i32, truncated toward zero and saturated (NaN → 0). */
  i32x4TruncSatF32x4S(_a: Val<'v128'>): Val<'v128'> { return this.simd(0xf8, 'v128'); }
  /** `f32x4.abs`. */
  f32x4Abs(_a: Val<'v128'>): Val<'v128'> { return this.simd(0xe0, 'v128'); }
  /** `f32x4.neg`. */
  f32x4Neg(_a: Val<'v128'>): Val<'v128'> { return this.simd(0xe1, 'v128'); }
  /** `f64x2.abs`. */
  f64x2Abs(_a: Val<'v128'>): Val<'v128'> { return this.simd(0xec, 'v128'); }
  /** `f64x2.neg`. */
  f64x2Neg(_a: Val<'v128'>): Val<'v128'> { return this.simd(0xed, 'v128'); }
  /** IEEE-style min/max on two f64 lanes: NaN in either lane gives NaN. */
  f64x2Min(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xf4, 'v128'); }
  /** `f64x2.max`: NaN in either lane gives NaN. */
  f64x2Max(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xf5, 'v128'); }
  /** Pseudo-min/max on two f64 lanes (see f32x4Pmin): one instruction; a NaN in a is kept against a constant b. */
  f64x2Pmin(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xf6, 'v128'); }
  /** `f64x2.pmax`: pseudo-maximum per lane, a < b ? b : a (no NaN propagation). */
  f64x2Pmax(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xf7, 'v128'); }
  /** Round to nearest, ties to even. */
  f64x2Nearest(_a: Val<'v128'>): Val<'v128'> { return this.simd(0x94, 'v128'); }
  /** Lane masks (all ones where true); comparisons with NaN are false. */
  f64x2Lt(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0x49, 'v128'); }
  /** `f64x2.gt`: all ones in each lane where true, else zero. */
  f64x2Gt(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0x4a, 'v128'); }
  /** `i64x2.shl`: shift left by an i32 count. */
  i64x2Shl(_a: Val<'v128'>, _b: Val<'i32'>): Val<'v128'> { return this.simd(0xcb, 'v128'); }
  /** A v128 constant of two f64 lanes. */
  v128ConstF64(lanes: readonly [number, number]): Val<'v128'> {
    const w = new ByteWriter();
    for (const x of lanes) w.f64(x);
    return this.constant(w.toBytes());
  }
  /** `i32x4.add`. */
  i32x4Add(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0xae, 'v128'); }
  /** Lane masks (all ones where a < b, signed). */
  i32x4LtS(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0x39, 'v128'); }
  /** A v128 constant of four i32 lanes. */
  v128ConstI32(lanes: readonly [number, number, number, number]): Val<'v128'> {
    const w = new ByteWriter();
    for (const x of lanes) w.u8(x).u8(x >> 8).u8(x >> 16).u8(x >> 24);
    return this.constant(w.toBytes());
  }
  /** `i32x4.shl`: shift left by an i32 count. */
  i32x4Shl(_a: Val<'v128'>, _b: Val<'i32'>): Val<'v128'> { return this.simd(0xab, 'v128'); }
  /** `i32x4.shr_u`: logical shift right by an i32 count. */
  i32x4ShrU(_a: Val<'v128'>, _b: Val<'i32'>): Val<'v128'> { return this.simd(0xad, 'v128'); }
  /** `v128.and`. */
  v128And(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0x4e, 'v128'); }
  /** `v128.or`. */
  v128Or(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0x50, 'v128'); }
  /** a & ~b */
  v128AndNot(_a: Val<'v128'>, _b: Val<'v128'>): Val<'v128'> { return this.simd(0x4f, 'v128'); }
  /** Per bit: mask ? a : b. */
  v128Bitselect(_a: Val<'v128'>, _b: Val<'v128'>, _mask: Val<'v128'>): Val<'v128'> { return this.simd(0x52, 'v128'); }

  // ---- calls and structured control flow -----------------------------------------------------
  /** Calls `fn`; the arguments must already be on the stack (pass them as the rest parameters). */
  call<R extends ValType | null>(fn: FuncRef<R>, ..._args: Val<ValType>[]): R extends ValType ? Val<R> : void {
    this.code.u8(0x10).u32(fn.index);
    return (fn.result ? VAL[fn.result] : undefined) as R extends ValType ? Val<R> : void;
  }
  /** `call` of imported function `index`, whose result type is `result` (null: none); the arguments must already be on the stack. */
  callImport(index: number, result: ValType | null, ..._args: Val<ValType>[]): Val<ValType> | void {
    this.code.u8(0x10).u32(index);
    return result ? VAL[result] : undefined;
  }
  /** `return` from the function (its result, if any, on the stack). */
  return_(): void { this.stmt(0x0f); }

  private structured(byte: number, kind: Label['kind'], body: (l: Label) => void): void {
    const label: Label = { kind };
    this.code.u8(byte).u8(0x40); // 0x40: the empty block type (no params, no results)
    this.labels.push(label);
    body(label);
    this.labels.pop();
    this.code.u8(0x0b);
  }
  /** A forward branch target: `br(l)` inside jumps to the end of the block. */
  block(body: (l: Label) => void): void { this.structured(0x02, 'block', body); }
  /** A backward branch target: `br(l)` inside jumps to the top of the loop. */
  loop(body: (l: Label) => void): void { this.structured(0x03, 'loop', body); }
  /** `if … else … end` on a non-zero i32 condition; the branches leave nothing on the stack. */
  if_(_cond: Val<'i32'>, then: () => void, else_?: () => void): void {
    const label: Label = { kind: 'if' };
    this.code.u8(0x04).u8(0x40);
    this.labels.push(label);
    then();
    if (else_) { this.code.u8(0x05); else_(); }
    this.labels.pop();
    this.code.u8(0x0b);
  }
  private depth(l: Label): number {
    const i = this.labels.lastIndexOf(l);
    if (i < 0) throw new Error('branch to a label that is not open');
    return this.labels.length - 1 - i;
  }
  /** `br`: jumps to label `l` (the end of a block, the start of a loop). */
  br(l: Label): void { this.code.u8(0x0c).u32(this.depth(l)); }
  /** `br_if`: jumps to label `l` when the i32 condition is non-zero. */
  brIf(l: Label, _cond: Val<'i32'>): void { this.code.u8(0x0d).u32(this.depth(l)); }

  /**
   * `for (i = start; i < end; i += step) body()` with signed i32 compares. `end` is re-read from
   * its local each iteration; the body may not change `i`.
   */
  forRange(i: Local<'i32'>, start: () => Val<'i32'>, end: () => Val<'i32'>, step: number, body: () => void): void {
    this.set(i, start());
    this.block((exit) => {
      this.brIf(exit, this.geS(this.get(i), end()));
      this.loop((top) => {
        body();
        this.set(i, this.add(this.get(i), this.i32(step)));
        this.brIf(top, this.ltS(this.get(i), end()));
      });
    });
  }
}

interface FuncEntry { name: string; typeIndex: number; builder: FuncBuilder; exported: boolean }

/**
 * A module with one imported memory (`env.memory`) plus imported JS functions, and functions defined
 * in order. Functions can call any function defined before them.
 */
export class ModuleBuilder {
  private readonly types: string[] = [];
  private readonly typeSigs: { params: readonly ValType[]; result: ValType | null }[] = [];
  private readonly imports: { module: string; name: string; typeIndex: number }[] = [];
  private readonly funcs: FuncEntry[] = [];
  private sealedImports = false;

  constructor(private readonly memory: { initialPages: number; maximumPages: number; shared: boolean }) {}

  private typeIndex(params: readonly ValType[], result: ValType | null): number {
    const key = `${params.join(',')}->${result ?? ''}`;
    let i = this.types.indexOf(key);
    if (i < 0) {
      i = this.types.length;
      this.types.push(key);
      this.typeSigs.push({ params, result });
    }
    return i;
  }

  /** Imports a JS function as `env.<name>`; must come before any `func`. Returns its function index. */
  importFunc(name: string, params: readonly ValType[], result: ValType | null): number {
    if (this.sealedImports) throw new Error('imports must be declared before functions');
    this.imports.push({ module: 'env', name, typeIndex: this.typeIndex(params, result) });
    return this.imports.length - 1;
  }

  /**
   * Defines a function: `body` receives the builder and the parameter locals. Exported under `name`
   * unless `exported` is false.
   */
  func<R extends ValType | null, P extends readonly ValType[]>(
    name: string, params: P, result: R,
    body: (f: FuncBuilder, ...args: { [K in keyof P]: Local<P[K]> }) => void,
    exported = true,
  ): FuncRef<R> {
    this.sealedImports = true;
    const builder = new FuncBuilder(params);
    const index = this.imports.length + this.funcs.length;
    this.funcs.push({ name, typeIndex: this.typeIndex(params, result), builder, exported });
    body(builder, ...(builder.params as never));
    return { index, name, result };
  }

  /** The module's binary: the header, then the type, import (functions and the memory), function, export and code sections. */
  toBytes(): Uint8Array {
    const out = new ByteWriter().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]); // "\0asm", version 1
    const section = (id: number, fill: (w: ByteWriter) => void) => {
      const w = new ByteWriter();
      fill(w);
      out.u8(id).sized(w);
    };
    section(1, (w) => { // types
      w.u32(this.typeSigs.length);
      for (const { params, result } of this.typeSigs) {
        w.u8(0x60).u32(params.length);
        for (const p of params) w.u8(VALTYPE_CODE[p]);
        if (result) w.u32(1).u8(VALTYPE_CODE[result]); else w.u32(0);
      }
    });
    section(2, (w) => { // imports: the functions, then the memory
      w.u32(this.imports.length + 1);
      for (const imp of this.imports) w.name(imp.module).name(imp.name).u8(0x00).u32(imp.typeIndex);
      const { initialPages, maximumPages, shared } = this.memory;
      w.name('env').name('memory').u8(0x02).u8(shared ? 0x03 : 0x01).u32(initialPages).u32(maximumPages);
    });
    section(3, (w) => { // function declarations
      w.u32(this.funcs.length);
      for (const f of this.funcs) w.u32(f.typeIndex);
    });
    section(7, (w) => { // exports
      const ex = this.funcs.map((f, i) => ({ f, i })).filter(({ f }) => f.exported);
      w.u32(ex.length);
      for (const { f, i } of ex) w.name(f.name).u8(0x00).u32(this.imports.length + i);
    });
    section(10, (w) => { // code
      w.u32(this.funcs.length);
      for (const f of this.funcs) w.sized(f.builder.body());
    });
    return out.toBytes();
  }
}
