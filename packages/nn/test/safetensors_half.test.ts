// float16 and bfloat16 module tensors in safetensors files: saved as F16/BF16 (2 bytes per element,
// the bit patterns of the tensor), loaded from F16/BF16 bit for bit, and from F32/F64 files rounded
// once to nearest-even.
import { describe, expect, it } from 'vitest';
import { bfloat16Bits, float16Bits } from '@webgrad/kernels';
import { tensor, type DType, type Tensor } from '@webgrad/core';
import { Module, fromSafetensorsBytes, parseSafetensors, serializeSafetensors, toSafetensorsBytes } from '@webgrad/nn';

class Holder extends Module {
  w: Tensor;
  constructor(dtype: DType, values: number[]) {
    super();
    this.w = this.registerBuffer('w', tensor(values, { dtype }));
  }

  forward(): Tensor {
    return this.w;
  }
}

// Edge values of both formats: max finite, min subnormal, ±inf, ±0, NaN, ties.
const VALUES = [0, -0, 1, -2.5, 65504, 2 ** -24, 2 ** -133, 3.3895313892515355e38, Infinity, -Infinity, NaN, 1 + 2 ** -11, 0.1];

const bitsOf = (d: 'float16' | 'bfloat16') => (v: number): number => (d === 'float16' ? float16Bits(v) : bfloat16Bits(v));
const words = (b: Uint8Array): number[] => Array.from({ length: b.length / 2 }, (_, i) => b[2 * i]! | (b[2 * i + 1]! << 8));

describe.each([['float16', 'F16'], ['bfloat16', 'BF16']] as const)('%s ↔ %s', (dtype, safe) => {
  it('saves the bit patterns as 2-byte elements and loads them back unchanged', async () => {
    const m = new Holder(dtype, VALUES);
    const file = parseSafetensors(await toSafetensorsBytes(m));
    const entry = file.tensors['w']!;
    expect(entry.dtype).toBe(safe);
    expect(entry.data.length).toBe(2 * VALUES.length);
    expect(words(entry.data)).toEqual(VALUES.map(bitsOf(dtype)));

    const back = new Holder(dtype, VALUES.map(() => 0));
    fromSafetensorsBytes(back, await toSafetensorsBytes(m));
    expect(back.w.dtype).toBe(dtype);
    expect(Array.from(back.w.dataSync())).toEqual(Array.from(m.w.dataSync()));
  });

  it('loads F32 and F64 files rounded once to nearest-even', async () => {
    const values = [1 + 2 ** -11 + 2 ** -40, 70000, 1e-9, -0.3];
    for (const [fileDtype, data] of [['F64', Float64Array.from(values)], ['F32', Float32Array.from(values)]] as const) {
      const bytes = serializeSafetensors({ w: { dtype: fileDtype, shape: [values.length], data } });
      const m = new Holder(dtype, [0, 0, 0, 0]);
      fromSafetensorsBytes(m, bytes);
      const stored = Array.from(data);
      expect(Array.from(m.w.dataSync()), fileDtype).toEqual(stored.map((v) => tensor([v], { dtype: 'float64' }).to(dtype).dataSync()[0]));
      expect(Array.from(m.w.dataSync()).map(bitsOf(dtype))).toEqual(stored.map(bitsOf(dtype)));
    }
  });
});

it('a Uint16Array is refused without a dtype, and read as bit patterns with one', () => {
  expect(() => tensor(new Uint16Array([0x3c00]))).toThrow(/Uint16Array is ambiguous/);
  expect(Array.from(tensor(new Uint16Array([0x3c00, 0x7c00]), { dtype: 'float16' }).dataSync())).toEqual([1, Infinity]);
  expect(Array.from(tensor(new Uint16Array([0x3f80, 0xff80]), { dtype: 'bfloat16' }).dataSync())).toEqual([1, -Infinity]);
});
