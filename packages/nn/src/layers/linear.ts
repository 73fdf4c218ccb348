// Linear: y = x·Wᵀ + b over the last dim, with W of shape [out, in] as in PyTorch.
// Default init is PyTorch's: kaiming_uniform(a=√5) on W, i.e. U(−1/√in, 1/√in), and the same
// bound for b.
import { Tensor, autocastDType, cast, checkBool, checkOptions, checkSize, zeros, matmul, tidy, type DType, type DeviceName } from '@webgrad/core';
import { Module } from '../module.js';
import * as init from '../init.js';
import { FACTORY_KEYS, checkFactory, checkFloatInput } from '../args.js';

/** Where a layer creates its parameters: `dtype` ('float32' (default) or 'float64'; a DTypeError otherwise) and `device` (default: the default device). */
export interface FactoryOptions {
  /** 'float32' (default) or 'float64'. */
  dtype?: DType;
  /** 'cpu' or 'webgpu' (default: the default device). */
  device?: DeviceName;
}

export class Linear extends Module {
  /** (outFeatures, inFeatures), U(−1/√inFeatures, 1/√inFeatures) at construction. */
  declare weight: Tensor;
  /** (outFeatures), U(−1/√inFeatures, 1/√inFeatures); null with `bias: false`. */
  declare bias: Tensor | null;

  /**
   * @param inFeatures Size of each input's last dimension.
   * @param outFeatures Size of each output's last dimension.
   * @param opts `bias` (default true), `dtype`, `device`.
   */
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: FactoryOptions & { bias?: boolean } = {}) {
    super();
    const op = new.target.name;
    checkSize(op, 'inFeatures', inFeatures);
    checkSize(op, 'outFeatures', outFeatures);
    checkOptions(op, opts, ['bias', ...FACTORY_KEYS]);
    checkFactory(op, opts);
    if (opts.bias !== undefined) checkBool(op, 'bias', opts.bias);
    const f = { dtype: opts.dtype ?? 'float32', device: opts.device };
    this.registerParameter('weight', zeros([outFeatures, inFeatures], f));
    this.registerParameter('bias', opts.bias === false ? null : zeros([outFeatures], f));
    this.resetParameters();
  }

  /** Re-draws weight and bias as PyTorch does: U(−1/√inFeatures, 1/√inFeatures) (kaiming uniform with a = √5). */
  resetParameters(): void {
    init.kaimingUniform(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const bound = this.inFeatures > 0 ? 1 / Math.sqrt(this.inFeatures) : 0;
      init.uniform(this.bias, -bound, bound);
    }
  }

  /** (*, in) → (*, out) */
  forward(x: Tensor): Tensor {
    checkFloatInput(this.constructor.name, x);
    return tidy(() => {
      const y = matmul(x, this.weight.mT);
      if (!this.bias) return y;
      // Under autocast the product is 16-bit; the bias joins it in that dtype (as torch's linear does)
      // instead of promoting the output back to float32.
      return y.add(autocastDType() !== null && y.dtype !== this.bias.dtype ? cast(this.bias, y.dtype) : this.bias);
    });
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
