// quantLinear against dequantize-then-matmul on every device and cpu kernel set, on awkward shapes
// (in not a multiple of the group, one-row x, batch dims); its gradients (x and bias only, also
// through the transposed kernel); typed errors for malformed weights and absent kernels.
import { afterEach, describe, expect, it } from 'vitest';
import { dequantizeWeight, quantizeWeight, type QuantScheme, type QuantizedWeight } from '@webgrad/kernels';
import {
  DTypeError, DeviceError, ShapeError, ValueError, backward, gradients, getCpuKernels, matmul, quantLinear, setCpuKernels, tensor, transpose, add,
  type DeviceName, type QuantWeight, type Tensor, cpuBackend,
} from '@webgrad/core';
import { randomArray, testDevices } from './helpers.js';

function weightTensors(q: QuantizedWeight, device: DeviceName): QuantWeight {
  const wpr = q.qdata.length / q.rows;
  return {
    scheme: q.scheme, rows: q.rows, cols: q.cols, groupSize: q.groupSize, absmaxOffset: q.absmaxOffset,
    qdata: tensor(q.qdata, { shape: [q.rows, wpr], dtype: 'int32', device }),
    scales: tensor(q.scales, { shape: q.absmaxQ ? [q.scales.length] : [q.rows, q.scales.length / q.rows], dtype: 'float32', device }),
    zeros: q.zeros ? tensor(q.zeros, { shape: [q.zeros.length], dtype: 'int32', device }) : null,
    absmaxQ: q.absmaxQ ? tensor(q.absmaxQ, { shape: [q.absmaxQ.length], dtype: 'int32', device }) : null,
  };
}

const CASES: { scheme: QuantScheme; groupSize?: number; doubleQuant?: boolean }[] = [
  { scheme: 'int8' }, { scheme: 'int4', groupSize: 32 }, { scheme: 'int4', groupSize: 64 },
  { scheme: 'nf4', doubleQuant: false }, { scheme: 'nf4' },
];
const SHAPES: { x: number[]; out: number }[] = [
  { x: [1, 70], out: 9 },       // one row, in not a multiple of the group (or of a word)
  { x: [2, 3, 100], out: 17 },  // batch dims
  { x: [5, 64], out: 33 },
  { x: [3, 5, 100], out: 130 },  // 15 rows: the fast tier's sgemm path, two forward tiles of W rows
  { x: [9, 520], out: 600 },     // the transposed product in two column bands
];
const KERNEL_SETS = ['reference', 'fast'] as const;
const initial = getCpuKernels();
afterEach(() => { setCpuKernels(initial); });

function targets(): [DeviceName, (typeof KERNEL_SETS)[number] | null][] {
  return testDevices().flatMap((d): [DeviceName, (typeof KERNEL_SETS)[number] | null][] => (d === 'cpu' ? KERNEL_SETS.map((k) => [d, k]) : [[d, null]]));
}

describe('quantLinear matches dequantize-then-matmul', () => {
  for (const [device, kernels] of targets()) {
    for (const c of CASES) {
      it(`${device}${kernels ? ` (${kernels})` : ''} ${c.scheme}${c.groupSize ? ` g${c.groupSize}` : ''}${c.doubleQuant === false ? ' no double quant' : ''}`, async () => {
        if (kernels) setCpuKernels(kernels);
        for (const [si, s] of SHAPES.entries()) {
          const K = s.x[s.x.length - 1]!, N = s.out;
          const q = quantizeWeight(randomArray(N * K, 10 + si).map((v) => v * 0.2), N, K, c);
          const wq = weightTensors(q, device);
          const dense = tensor(dequantizeWeight(q), { shape: [N, K], device });
          const bias = tensor(randomArray(N, 30 + si), { shape: [N], device, requiresGrad: true });
          const x = tensor(randomArray(s.x.reduce((a, b) => a * b, 1), 20 + si), { shape: s.x, device, requiresGrad: true });
          const y = quantLinear(x, wq, bias);
          const yRef = add(matmul(x, transpose(dense, 0, 1)), bias);
          expect(y.shape).toEqual([...s.x.slice(0, -1), N]);
          const [yv, rv] = [await y.data(), await yRef.data()];
          for (let i = 0; i < rv.length; i++) expect(Math.abs(yv[i]! - rv[i]!)).toBeLessThan(2e-5 * Math.max(1, Math.abs(rv[i]!)));
          // dx = dy·W through the transposed kernel; the bias gradient sums dy over rows.
          const dy = tensor(randomArray(y.size, 40 + si), { shape: y.shape, device });
          const [dx, db] = gradients(y, [x, bias], { gradOutputs: [dy] });
          const [dxRef, dbRef] = gradients(yRef, [x, bias], { gradOutputs: [dy] });
          const [a, b] = [await dx!.data(), await dxRef!.data()];
          for (let i = 0; i < b.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(2e-5 * Math.max(1, Math.abs(b[i]!)));
          const [e, f] = [await db!.data(), await dbRef!.data()];
          for (let i = 0; i < f.length; i++) expect(Math.abs(e[i]! - f[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(f[i]!)));
        }
      });
    }
  }
});

describe('quantLinear gradients', () => {
  it('flow to x and bias only, and second order through the adjoint kernel (float64, reference)', async () => {
    setCpuKernels('reference');
    const q = quantizeWeight(randomArray(6 * 20, 3), 6, 20, { scheme: 'nf4', groupSize: 8 });
    const wq = weightTensors(q, 'cpu');
    const dense = tensor(dequantizeWeight(q), { shape: [6, 20], dtype: 'float64' });
    const x = tensor(randomArray(3 * 20, 4), { shape: [3, 20], dtype: 'float64', requiresGrad: true });
    const y = quantLinear(x, wq);
    const g = tensor(randomArray(18, 5), { shape: [3, 6], dtype: 'float64', requiresGrad: true });
    const [dx] = gradients(y, [x], { gradOutputs: [g], createGraph: true });
    // d(dx·v)/dg = v·Wᵀ: the backward of the transposed product is the forward product.
    const v = tensor(randomArray(60, 6), { shape: [3, 20], dtype: 'float64' });
    const [dg] = gradients(dx!.mul(v).sum(), [g]);
    const expected = matmul(v, transpose(dense, 0, 1));
    const [a, b] = [await dg!.data(), await expected.data()];
    for (let i = 0; i < b.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-9);
    expect(wq.qdata.requiresGrad).toBe(false);
    backward(y.sum());
    expect(wq.qdata.grad).toBeNull();
    expect(wq.scales.grad).toBeNull();
  });
});

describe('quantLinear errors', () => {
  const q = quantizeWeight(randomArray(4 * 16, 1), 4, 16, { scheme: 'int4', groupSize: 8 });
  it('names the argument and shape', () => {
    const wq = weightTensors(q, 'cpu');
    expect(() => quantLinear(tensor(randomArray(15, 1), { shape: [1, 15] }), wq)).toThrow(ShapeError);
    expect(() => quantLinear(tensor([[1, 2]], { dtype: 'int32' }), wq)).toThrow(DTypeError);
    expect(() => quantLinear(tensor(randomArray(16, 1), { shape: [1, 16] }), { ...wq, zeros: null })).toThrow(/weight.zeros is required for int4/);
    // Zero points are 4-bit codes, eight per int32: 8 groups are one word, not the [4, 2] of one int32 each.
    const unpacked = tensor(new Int32Array(8), { shape: [4, 2], dtype: 'int32' });
    expect(() => quantLinear(tensor(randomArray(16, 1), { shape: [1, 16] }), { ...wq, zeros: unpacked })).toThrow(/weight.zeros must have shape \[1\] for a int4 weight \[4, 16\]/);
    expect(() => quantLinear(tensor(randomArray(16, 1), { shape: [1, 16] }), { ...wq, cols: 17 })).toThrow(/weight.qdata must have shape \[4, 3\]/);
    expect(() => quantLinear(tensor(randomArray(16, 1), { shape: [1, 16] }), { ...wq, scheme: 'int3' as QuantScheme })).toThrow(ValueError);
    expect(() => quantLinear(tensor(randomArray(16, 1), { shape: [1, 16] }), { ...wq, groupSize: 6 })).toThrow(/multiple of 8/);
    expect(() => quantLinear(tensor(randomArray(16, 1), { shape: [1, 16] }), wq, tensor([1, 2, 3]))).toThrow(/bias must have shape \[4\]/);
  });
  it('is a DeviceError on a backend without the quantized kernels', () => {
    const wq = weightTensors(q, 'cpu');
    const k = cpuBackend.kernels as unknown as Record<string, unknown>;
    const saved = k.quantMatmul;
    try {
      delete k.quantMatmul;
      expect(() => quantLinear(tensor(randomArray(16, 1), { shape: [1, 16] }), wq)).toThrow(DeviceError);
    } finally { k.quantMatmul = saved; }
  });
});

export type { Tensor };
