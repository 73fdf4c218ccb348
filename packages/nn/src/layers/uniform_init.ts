// Initial values for the layers in this folder: tensors drawn uniformly from [-bound, bound) with
// the core seeded RNG, on a chosen device and dtype. (PyTorch's default for convolutions and
// recurrent layers: kaiming_uniform(a=√5) amounts to bound = 1/√fanIn.)
import { rand, tidy, type DeviceName, type Tensor } from '@webgrad/core';

/** Where and in what precision a layer creates its parameters. */
export interface FactoryOptions {
  device?: DeviceName;
  dtype?: 'float32' | 'float64';
}

/** U(-bound, bound) of the given shape (a fresh tensor owned by the caller's scope). */
export function uniformTensor(shape: readonly number[], bound: number, opts: FactoryOptions = {}): Tensor {
  return tidy(() => rand(shape, { device: opts.device, dtype: opts.dtype ?? 'float32' }).mul(2 * bound).sub(bound));
}
