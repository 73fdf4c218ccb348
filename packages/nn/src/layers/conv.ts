// Convolution and pooling layers: Conv1d, Conv2d, MaxPool2d, AvgPool2d, with PyTorch's argument
// names and semantics (stride, padding incl. 'same'/'valid', dilation, groups, bias) and its default
// init: weight and bias U(-1/√fanIn, 1/√fanIn), fanIn = (inChannels/groups)·kernel area
// (kaiming_uniform with a = √5; He et al. 2015). Conv1d runs core's conv2d on a height-1 image.
// Unbatched inputs ((C, L) or (C, H, W)) are accepted, as in PyTorch.
import {
  ShapeError, ValueError, avgPool2d, checkBool, checkEnum, checkOptions, checkPair, checkSize, conv2d, fmtShape, maxPool2d, pad, tidy,
  type Tensor,
} from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory, checkFloatInput } from '../args.js';
import { uniformTensor, type FactoryOptions } from './uniform_init.js';

type Pair = number | [number, number];

const CONV_KEYS = ['stride', 'padding', 'dilation', 'groups', 'bias', ...FACTORY_KEYS] as const;

/** 'same' or 'valid', else the numeric padding checked by `size`. */
function convPadding<P>(op: string, v: unknown, size: (v: unknown) => P): P | 'same' | 'valid' {
  return typeof v === 'string' ? checkEnum(op, 'padding', v, ['same', 'valid'] as const) : size(v);
}

/** Options of Conv2d (PyTorch's names). A pair is (height, width); a number is used for both. */
export interface Conv2dOptions extends FactoryOptions {
  /** Step between applications of the kernel (default 1). */
  stride?: Pair;
  /** Zero padding per side, or 'valid' (none) or 'same' (output size = input size; stride 1 only). */
  padding?: Pair | 'same' | 'valid';
  /** Spacing between kernel elements (default 1). */
  dilation?: Pair;
  /** Channel groups convolved separately; divides inChannels and outChannels (default 1). */
  groups?: number;
  /** A learnable bias per output channel (default true). */
  bias?: boolean;
}

/** Options of Conv1d (PyTorch's names): the Conv2d options for one spatial dim. */
export interface Conv1dOptions extends FactoryOptions {
  /** Step between applications of the kernel (default 1). */
  stride?: number;
  /** Zero padding per side, or 'valid' (none) or 'same' (output length = input length; stride 1 only). Default 0. */
  padding?: number | 'same' | 'valid';
  /** Spacing between kernel elements (default 1). */
  dilation?: number;
  /** Channel groups convolved separately; divides inChannels and outChannels (default 1). */
  groups?: number;
  /** A learnable bias per output channel (default true). */
  bias?: boolean;
}

/** Shared core of Conv1d and Conv2d: parameters, validation, padding. Spatial dims are (H, W). */
abstract class ConvNd extends Module {
  /** (outChannels, inChannels / groups, kH, kW) for Conv2d, (outChannels, inChannels / groups, k) for Conv1d. */
  declare weight: Tensor;
  /** (outChannels); null with `bias: false`. */
  declare bias: Tensor | null;
  /** Channels of the input. */
  readonly inChannels: number;
  /** Channels of the output. */
  readonly outChannels: number;
  /** (kH, kW); (1, k) for Conv1d. */
  readonly kernelSize: [number, number];
  /** (sH, sW); (1, s) for Conv1d. */
  readonly stride: [number, number];
  /** (dH, dW); (1, d) for Conv1d. */
  readonly dilation: [number, number];
  /** Input and output channels are split into this many groups, convolved separately. */
  readonly groups: number;
  /** Symmetric padding passed to conv2d, or null for 'same' (computed per call, possibly asymmetric). */
  readonly padding: [number, number] | 'same';

  constructor(
    name: string, inChannels: number, outChannels: number, kernel: [number, number], weightShape: number[],
    stride: [number, number], padding: [number, number] | 'same' | 'valid', dilation: [number, number], groups: number,
    bias: boolean, opts: FactoryOptions,
  ) {
    super();
    checkSize(name, 'inChannels', inChannels, 1);
    checkSize(name, 'outChannels', outChannels, 1);
    checkSize(name, 'groups', groups, 1);
    checkBool(name, 'bias', bias);
    checkFactory(name, opts);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new ValueError(`${name}: inChannels (${inChannels}) and outChannels (${outChannels}) must both be divisible by groups (${groups})`);
    }
    if (padding === 'same' && (stride[0] !== 1 || stride[1] !== 1)) throw new ValueError(`${name}: padding='same' needs stride 1, got ${stride}`);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = kernel;
    this.stride = stride;
    this.dilation = dilation;
    this.groups = groups;
    this.padding = padding === 'valid' ? [0, 0] : padding;
    const fanIn = (inChannels / groups) * kernel[0] * kernel[1];
    const bound = 1 / Math.sqrt(fanIn);
    this.registerParameter('weight', uniformTensor(weightShape, bound, opts));
    this.registerParameter('bias', bias ? uniformTensor([outChannels], bound, opts) : null);
  }

  /** x (N, C, H, W) with a weight of shape (O, C/groups, kh, kw). */
  protected conv4d(x: Tensor, weight4: Tensor): Tensor {
    return tidy(() => {
      let xin = x;
      let padding: [number, number];
      if (this.padding === 'same') {
        // Total padding d·(k−1) per dim, the odd one extra on the right/bottom (as PyTorch does).
        const tot = [0, 1].map((i) => this.dilation[i]! * (this.kernelSize[i]! - 1));
        const lo = tot.map((t) => Math.floor(t / 2));
        const hi = tot.map((t, i) => t - lo[i]!);
        if (lo[0] === hi[0] && lo[1] === hi[1]) padding = [lo[0]!, lo[1]!];
        else { xin = pad(x, [lo[1]!, hi[1]!, lo[0]!, hi[0]!]); padding = [0, 0]; }
      } else padding = this.padding;
      return conv2d(xin, weight4, this.bias, { stride: this.stride, padding, dilation: this.dilation, groups: this.groups });
    });
  }
}

/** 2-D convolution over (N, C, H, W) (or unbatched (C, H, W)) → (N, outChannels, Ho, Wo). */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts: Conv2dOptions = {}) {
    const op = 'Conv2d';
    checkOptions(op, opts, CONV_KEYS);
    const k = checkPair(op, 'kernelSize', kernelSize, 1);
    const { stride = 1, padding = 0, dilation = 1, groups = 1, bias = true } = opts;
    super(op, inChannels, outChannels, k, [outChannels, inChannels / groups, k[0], k[1]], checkPair(op, 'stride', stride, 1),
      convPadding(op, padding, (v) => checkPair(op, 'padding', v, 0)), checkPair(op, 'dilation', dilation, 1), groups, bias, opts);
  }

  forward(x: Tensor): Tensor {
    checkFloatInput('Conv2d', x);
    if ((x.ndim !== 4 && x.ndim !== 3) || x.shape[x.ndim - 3] !== this.inChannels) {
      throw new ShapeError(`Conv2d: expected input (N, ${this.inChannels}, H, W) or (${this.inChannels}, H, W), got ${fmtShape(x.shape)}`);
    }
    if (x.ndim === 3) return tidy(() => this.conv4d(x.unsqueeze(0), this.weight).squeeze(0));
    return this.conv4d(x, this.weight);
  }

  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize}], stride=[${this.stride}], padding=${this.padding === 'same' ? "'same'" : `[${this.padding}]`}`
      + `${this.dilation.some((d) => d !== 1) ? `, dilation=[${this.dilation}]` : ''}${this.groups !== 1 ? `, groups=${this.groups}` : ''}${this.bias ? '' : ', bias=false'}`;
  }
}

/** 1-D convolution over (N, C, L) (or unbatched (C, L)) → (N, outChannels, Lo). Weight (O, C/groups, k). */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: Conv1dOptions = {}) {
    const op = 'Conv1d';
    checkOptions(op, opts, CONV_KEYS);
    checkSize(op, 'kernelSize', kernelSize, 1);
    const { stride = 1, padding = 0, dilation = 1, groups = 1, bias = true } = opts;
    super(op, inChannels, outChannels, [1, kernelSize], [outChannels, inChannels / groups, kernelSize], [1, checkSize(op, 'stride', stride, 1)],
      convPadding(op, padding, (v): [number, number] => [0, checkSize(op, 'padding', v)]), [1, checkSize(op, 'dilation', dilation, 1)], groups, bias, opts);
  }

  forward(x: Tensor): Tensor {
    checkFloatInput('Conv1d', x);
    if ((x.ndim !== 3 && x.ndim !== 2) || x.shape[x.ndim - 2] !== this.inChannels) {
      throw new ShapeError(`Conv1d: expected input (N, ${this.inChannels}, L) or (${this.inChannels}, L), got ${fmtShape(x.shape)}`);
    }
    return tidy(() => {
      const batched = x.ndim === 3 ? x : x.unsqueeze(0);
      const w = this.weight.unsqueeze(2);                              // (O, C/g, 1, k)
      const y = this.conv4d(batched.unsqueeze(2), w).squeeze(2);        // (N, O, 1, Lo) → (N, O, Lo)
      return x.ndim === 3 ? y : y.squeeze(0);
    });
  }

  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=${this.kernelSize[1]}, stride=${this.stride[1]}, padding=${this.padding === 'same' ? "'same'" : this.padding[1]}`
      + `${this.dilation[1] !== 1 ? `, dilation=${this.dilation[1]}` : ''}${this.groups !== 1 ? `, groups=${this.groups}` : ''}${this.bias ? '' : ', bias=false'}`;
  }
}

/** Options of MaxPool2d and AvgPool2d. A pair is (height, width); a number is used for both. */
export interface Pool2dOptions {
  /** Defaults to the kernel size. */
  stride?: Pair;
  /** Implicit padding per side, at most half the kernel (−∞ for max; zeros counted for avg, as PyTorch's countIncludePad). */
  padding?: Pair;
}

abstract class Pool2d extends Module {
  /** (kH, kW): the window. */
  readonly kernelSize: [number, number];
  /** (sH, sW): the step between windows. */
  readonly stride: [number, number];
  /** (pH, pW): implicit padding per side. */
  readonly padding: [number, number];
  constructor(kernelSize: Pair, opts: Pool2dOptions) {
    super();
    const op = this.constructor.name;
    checkOptions(op, opts, ['stride', 'padding']);
    this.kernelSize = checkPair(op, 'kernelSize', kernelSize, 1);
    this.stride = checkPair(op, 'stride', opts.stride === undefined ? kernelSize : opts.stride, 1);
    this.padding = checkPair(op, 'padding', opts.padding === undefined ? 0 : opts.padding, 0);
    if (this.padding.some((p, i) => 2 * p > this.kernelSize[i]!)) {
      throw new ValueError(`${op}: padding [${this.padding}] must be at most half the kernel size [${this.kernelSize}]`);
    }
  }
  /** Applies the pooling op to (N, C, H, W) or unbatched (C, H, W) input. */
  protected run(op: typeof maxPool2d, x: Tensor): Tensor {
    checkFloatInput(this.constructor.name, x);
    const o = { stride: this.stride, padding: this.padding };
    if (x.ndim === 3) return tidy(() => op(x.unsqueeze(0), this.kernelSize, o).squeeze(0));
    return op(x, this.kernelSize, o);
  }
  override extraRepr(): string { return `kernelSize=[${this.kernelSize}], stride=[${this.stride}], padding=[${this.padding}]`; }
}

/** Max over each window of (N, C, H, W) (or (C, H, W)). No dilation, ceil mode or returned indices. */
export class MaxPool2d extends Pool2d {
  constructor(kernelSize: Pair, opts: Pool2dOptions = {}) { super(kernelSize, opts); }
  forward(x: Tensor): Tensor { return this.run(maxPool2d, x); }
}

/** Mean over each window of (N, C, H, W) (or (C, H, W)); padded zeros count in the divisor. */
export class AvgPool2d extends Pool2d {
  constructor(kernelSize: Pair, opts: Pool2dOptions = {}) { super(kernelSize, opts); }
  forward(x: Tensor): Tensor { return this.run(avgPool2d, x); }
}
