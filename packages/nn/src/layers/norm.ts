// Normalization layers over the trailing dims: LayerNorm (Ba et al. 2016), using core's fused
// layerNorm, and RMSNorm (Zhang & Sennrich 2019): x / √(mean(x²) + eps) · weight.
import { Tensor, checkBool, checkOptions, checkRange, checkShapeArg, checkSize, layerNorm, ones, tidy, zeros } from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory, checkFloatInput } from '../args.js';
import type { FactoryOptions } from './linear.js';

/** normalizedShape as an array, checked: one size or an array of sizes. */
function asShape(op: string, s: number | readonly number[]): number[] {
  return typeof s === 'number' ? [checkSize(op, 'normalizedShape', s)] : [...checkShapeArg(op, 'normalizedShape', s)];
}

/** The options both norms share. */
function checkNormOptions(op: string, opts: { eps?: number | null; elementwiseAffine?: boolean; dtype?: unknown; device?: unknown }, keys: readonly string[]): void {
  checkOptions(op, opts, [...keys, 'eps', 'elementwiseAffine', ...FACTORY_KEYS]);
  checkFactory(op, opts);
  if (opts.eps != null) checkRange(op, 'eps', opts.eps, 0, Infinity);
  if (opts.elementwiseAffine !== undefined) checkBool(op, 'elementwiseAffine', opts.elementwiseAffine);
}

export class LayerNorm extends Module {
  /** Elementwise scale (normalizedShape), initialized to 1; null without `elementwiseAffine`. */
  declare weight: Tensor | null;
  /** Elementwise shift (normalizedShape), initialized to 0; null without `elementwiseAffine` or with `bias: false`. */
  declare bias: Tensor | null;
  /** The trailing dimensions normalized over. */
  readonly normalizedShape: number[];

  constructor(normalizedShape: number | readonly number[], opts: FactoryOptions & { eps?: number; elementwiseAffine?: boolean; bias?: boolean } = {}) {
    super();
    this.normalizedShape = asShape('LayerNorm', normalizedShape);
    checkNormOptions('LayerNorm', opts, ['bias']);
    if (opts.eps === null) checkRange('LayerNorm', 'eps', opts.eps, 0, Infinity);
    if (opts.bias !== undefined) checkBool('LayerNorm', 'bias', opts.bias);
    this.eps = opts.eps ?? 1e-5;
    const f = { dtype: opts.dtype ?? 'float32', device: opts.device };
    const affine = opts.elementwiseAffine ?? true;
    this.registerParameter('weight', affine ? ones(this.normalizedShape, f) : null);
    this.registerParameter('bias', affine && opts.bias !== false ? zeros(this.normalizedShape, f) : null);
  }
  /** Added to the variance before the square root (default 1e-5). */
  readonly eps: number;

  forward(x: Tensor): Tensor {
    checkFloatInput('LayerNorm', x);
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string { return `[${this.normalizedShape.join(', ')}], eps=${this.eps}`; }
}

export class RMSNorm extends Module {
  /** Elementwise scale (normalizedShape), initialized to 1; null without `elementwiseAffine`. */
  declare weight: Tensor | null;
  /** The trailing dimensions normalized over. */
  readonly normalizedShape: number[];
  /** null: the machine epsilon of the input's dtype, as in PyTorch. */
  readonly eps: number | null;

  constructor(normalizedShape: number | readonly number[], opts: FactoryOptions & { eps?: number | null; elementwiseAffine?: boolean } = {}) {
    super();
    this.normalizedShape = asShape('RMSNorm', normalizedShape);
    checkNormOptions('RMSNorm', opts, []);
    this.eps = opts.eps ?? null;
    const f = { dtype: opts.dtype ?? 'float32', device: opts.device };
    this.registerParameter('weight', opts.elementwiseAffine === false ? null : ones(this.normalizedShape, f));
  }

  forward(x: Tensor): Tensor {
    checkFloatInput('RMSNorm', x);
    const eps = this.eps ?? (x.dtype === 'float64' ? 2.220446049250313e-16 : 1.1920928955078125e-7);
    const dims = this.normalizedShape.map((_, i) => -1 - i);
    return tidy(() => {
      const y = x.mul(x.square().mean(dims, { keepdim: true }).add(eps).rsqrt());
      return this.weight ? y.mul(this.weight) : y;
    });
  }

  override extraRepr(): string { return `[${this.normalizedShape.join(', ')}], eps=${this.eps}`; }
}
