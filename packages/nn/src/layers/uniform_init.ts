// A fresh parameter tensor drawn from U(-bound, bound) (init.uniform on a new tensor): PyTorch's
// default for convolutions (kaiming_uniform with a = √5 gives bound = 1/√fanIn) and for recurrent
// layers (bound = 1/√hiddenSize).
import { zeros, type Tensor } from '@webgrad/core';
import * as init from '../init.js';
import type { FactoryOptions } from './linear.js';

export type { FactoryOptions };

export function uniformTensor(shape: readonly number[], bound: number, opts: FactoryOptions = {}): Tensor {
  return init.uniform(zeros(shape, { dtype: opts.dtype ?? 'float32', device: opts.device }), -bound, bound);
}
