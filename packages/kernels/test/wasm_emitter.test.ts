// The typed WebAssembly emitter: LEB128 encodings, the kernel module validates (shared and not),
// and a small hand-built function computes what it says.
import { describe, expect, it } from 'vitest';
import { ByteWriter, ModuleBuilder, buildKernelModule, getNumThreads, setNumThreads } from '../src/cpu_fast/index.js';

describe('wasm emitter', () => {
  it('encodes LEB128 like the spec examples', () => {
    const u = (v: number) => Array.from(new ByteWriter().u32(v).toBytes());
    const s = (v: number) => Array.from(new ByteWriter().s32(v).toBytes());
    expect(u(0)).toEqual([0]);
    expect(u(127)).toEqual([0x7f]);
    expect(u(128)).toEqual([0x80, 0x01]);
    expect(u(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(u(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(s(-1)).toEqual([0x7f]);
    expect(s(63)).toEqual([0x3f]);
    expect(s(64)).toEqual([0xc0, 0x00]);
    expect(s(-64)).toEqual([0x40]);
    expect(s(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(s(-2147483648)).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
  });

  it('the kernel module validates, with shared and with unshared memory', () => {
    for (const shared of [true, false]) {
      const bytes = buildKernelModule(shared);
      expect(WebAssembly.validate(bytes as BufferSource), `shared=${shared}`).toBe(true);
    }
  });

  it('a hand-built SIMD function runs: dot product of two float32 vectors', () => {
    const m = new ModuleBuilder({ initialPages: 1, maximumPages: 1, shared: false });
    m.func('dot4', ['i32', 'i32', 'i32'] as const, 'f32', (f, a, b, n) => {
      const i = f.local('i32'), acc = f.local('v128');
      f.forRange(i, () => f.i32(0), () => f.get(n), 4, () => {
        const off = () => f.shl(f.get(i), f.i32(2));
        f.set(acc, f.f32x4Add(f.get(acc), f.f32x4Mul(f.v128Load(f.add(f.get(a), off())), f.v128Load(f.add(f.get(b), off())))));
      });
      f.f32Add(f.f32Add(f.f32x4ExtractLane(f.get(acc), 0), f.f32x4ExtractLane(f.get(acc), 1)),
        f.f32Add(f.f32x4ExtractLane(f.get(acc), 2), f.f32x4ExtractLane(f.get(acc), 3)));
    });
    const bytes = m.toBytes();
    expect(WebAssembly.validate(bytes as BufferSource)).toBe(true);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), { env: { memory } });
    const f32 = new Float32Array(memory.buffer);
    f32.set([1, 2, 3, 4, 5, 6, 7, 8], 0);
    f32.set([1, 1, 1, 1, 2, 2, 2, 2], 8);
    expect((inst.exports.dot4 as (a: number, b: number, n: number) => number)(0, 32, 8)).toBe(10 + 52);
  });

  it('threads are available in Node and configurable', () => {
    const before = getNumThreads();
    setNumThreads(3);
    expect(getNumThreads()).toBe(3);
    setNumThreads(1);
    expect(getNumThreads()).toBe(1);
    expect(() => setNumThreads(0)).toThrow(RangeError);
    setNumThreads(before);
  });
});
