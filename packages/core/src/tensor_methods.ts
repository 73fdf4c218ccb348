// Tensor methods, PyTorch-style. Each op file lists its methods once (`*_METHODS`: method name →
// the op's public function, whose first argument is the tensor); they are installed on
// Tensor.prototype here, and their types are derived from the same tables, so a method cannot
// drift from its function: `x.sum(dims?, opts?)` has exactly `sum(x, dims?, opts?)`'s parameters.
import { Tensor, type TensorLike } from './tensor.js';
// The declaration emitted for METHODS names TensorLike; exporting it keeps its import in tensor_methods.d.ts.
export type { TensorLike };
import { ELEMENTWISE_METHODS } from './ops/elementwise.js';
import { WHERE_METHODS } from './ops/where.js';
import { REDUCE_METHODS } from './ops/reduce.js';
import { VIEW_METHODS, transpose } from './ops/views.js';
import { SHAPE_METHODS } from './ops/shape_ops.js';
import { INDEXING_METHODS } from './ops/indexing.js';
import { DEVICE_METHODS } from './ops/device.js';
import { INPLACE_METHODS } from './ops/inplace.js';
import { CAST_METHODS } from './ops/cast.js';
import { MATMUL_METHODS } from './ops/matmul.js';
import { SOFTMAX_METHODS } from './ops/softmax.js';
import { AUTOGRAD_METHODS } from './autograd/api.js';

const METHODS = {
  ...ELEMENTWISE_METHODS, ...WHERE_METHODS, ...REDUCE_METHODS, ...VIEW_METHODS, ...SHAPE_METHODS, ...INDEXING_METHODS,
  ...CAST_METHODS, ...MATMUL_METHODS, ...SOFTMAX_METHODS, ...DEVICE_METHODS, ...INPLACE_METHODS, ...AUTOGRAD_METHODS,
};

/** `f(self, ...args)` as the method `(...args)`. */
type AsMethod<F> = F extends (self: Tensor, ...args: infer P) => infer R ? (...args: P) => R : never;
type TensorMethods = { [K in keyof typeof METHODS]: AsMethod<(typeof METHODS)[K]> };

declare module './tensor.js' {
  interface Tensor extends TensorMethods {
    /** Transpose of the last two dims. */
    readonly mT: Tensor;
  }
}

const proto = Tensor.prototype as unknown as Record<string, unknown>;
for (const [name, fn] of Object.entries(METHODS) as [string, (self: Tensor, ...args: unknown[]) => unknown][]) {
  proto[name] = function (this: Tensor, ...args: unknown[]) { return fn(this, ...args); };
}
Object.defineProperty(proto, 'mT', { get(this: Tensor) { return transpose(this, -2, -1); } });
