// float16 and bfloat16 operands of the WebGPU kernels that have no 16-bit form, the quantized
// matmuls (quant_matmul.ts; every other family reads and writes 16-bit storage in its
// own WGSL with f32 arithmetic, half_wgsl.ts): each 16-bit view is converted to a contiguous f32
// temporary, the f32 kernel runs on those, and the views the kernel writes are converted back,
// rounded to nearest-even, at the cost of one extra pass over each 16-bit operand. Temporaries go
// back to the pool right after the launch (the runtime defers their reuse until the batch has run).

import { numel, contiguousStrides } from '../geometry.js';
import type { View } from '../types.js';
import * as ew from './elementwise.js';
import type { WebGPURuntime } from './runtime.js';

/** The argument positions each kernel without a 16-bit form writes (in-place operands included); all others are read. */
export const WRITTEN_ARGS: { readonly [N in 'quantMatmul' | 'quantMatmulTransposed']: readonly number[] } = {
  quantMatmul: [3], quantMatmulTransposed: [2],
};

const isHalfView = (a: unknown): a is View<GPUBuffer> =>
  typeof a === 'object' && a !== null && 'strides' in a && ((a as View<GPUBuffer>).dtype === 'float16' || (a as View<GPUBuffer>).dtype === 'bfloat16');

/** `kernel` taking f32 temporaries in place of its float16/bfloat16 view arguments. */
export function widened<F>(rt: WebGPURuntime, kernel: F, written: readonly number[]): F {
  const run = kernel as unknown as (...a: unknown[]) => void;
  return ((...args: unknown[]): void => {
    if (!args.some(isHalfView)) { run(...args); return; }
    const temps: [number, View<GPUBuffer>][] = [];
    const call = args.map((a, i) => {
      if (!isHalfView(a)) return a;
      const t: View<GPUBuffer> = { buffer: rt.allocate(numel(a.shape) * 4), dtype: 'float32', shape: a.shape, strides: contiguousStrides(a.shape), offset: 0 };
      ew.copy(rt, a, t);
      temps.push([i, t]);
      return t;
    });
    try {
      run(...call);
      for (const [i, t] of temps) if (written.includes(i)) ew.copy(rt, t, args[i] as View<GPUBuffer>);
    } finally {
      for (const [, t] of temps) rt.release(t.buffer);
    }
  }) as unknown as F;
}
