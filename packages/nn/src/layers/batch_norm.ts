// Batch normalization (Ioffe & Szegedy 2015): BatchNorm1d over (N, C) or (N, C, L) and BatchNorm2d
// over (N, C, H, W), normalizing each channel with statistics over every other dim.
//
// Training mode normalizes with the batch's biased variance and updates the running statistics in
// place, as PyTorch does: running = (1 − momentum)·running + momentum·batch, where the running
// variance takes the unbiased batch variance (·n/(n−1)); momentum null gives a cumulative average.
// Evaluation mode (or trackRunningStats false, which always uses the batch) normalizes with them.
import {
  ShapeError, ValueError, checkBool, checkOptions, checkRange, checkSize, fmtShape, full, noGrad, rsqrt, tidy, type Tensor,
} from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory, checkFloatInput } from '../args.js';
import type { FactoryOptions } from './uniform_init.js';

/** Options of BatchNorm1d/BatchNorm2d (PyTorch's `eps`, `momentum`, `affine`, `track_running_stats`). */
export interface BatchNormOptions extends FactoryOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Weight of the newest batch in the running statistics (default 0.1); null: cumulative average. */
  momentum?: number | null;
  /** Learnable per-channel scale (weight, init 1) and shift (bias, init 0). Default true. */
  affine?: boolean;
  /** Keep runningMean/runningVar buffers and use them in eval mode. Default true. */
  trackRunningStats?: boolean;
}

abstract class BatchNormBase extends Module {
  /** Per-channel scale (numFeatures), initialized to 1; null unless `affine`. */
  declare weight: Tensor | null;
  /** Per-channel shift (numFeatures), initialized to 0; null unless `affine`. */
  declare bias: Tensor | null;
  /** Running mean per channel (a buffer, saved in state dicts); null unless `trackRunningStats`. */
  declare runningMean: Tensor | null;
  /** Running unbiased variance per channel (a buffer); null unless `trackRunningStats`. */
  declare runningVar: Tensor | null;
  /** Batches seen in training mode (an int32 buffer, as PyTorch's `num_batches_tracked`); null unless `trackRunningStats`. */
  declare numBatchesTracked: Tensor | null;
  /** Channels C of the (N, C) / (N, C, L) / (N, C, H, W) input. */
  readonly numFeatures: number;
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** Weight of the newest batch in the running statistics; null: a cumulative average. */
  readonly momentum: number | null;
  /** Whether the layer has a learnable scale and shift. */
  readonly affine: boolean;
  /** Whether running statistics are kept and used in eval mode. */
  readonly trackRunningStats: boolean;

  constructor(numFeatures: number, opts: BatchNormOptions) {
    super();
    const op = this.constructor.name;
    this.numFeatures = checkSize(op, 'numFeatures', numFeatures, 1);
    checkOptions(op, opts, ['eps', 'momentum', 'affine', 'trackRunningStats', ...FACTORY_KEYS]);
    checkFactory(op, opts);
    this.eps = checkRange(op, 'eps', opts.eps === undefined ? 1e-5 : opts.eps, 0, Infinity);
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum === null ? null : checkRange(op, 'momentum', opts.momentum, 0, 1);
    this.affine = checkBool(op, 'affine', opts.affine === undefined ? true : opts.affine);
    this.trackRunningStats = checkBool(op, 'trackRunningStats', opts.trackRunningStats === undefined ? true : opts.trackRunningStats);
    const f = { device: opts.device, dtype: opts.dtype ?? 'float32' } as const;
    this.registerParameter('weight', this.affine ? full([numFeatures], 1, f) : null);
    this.registerParameter('bias', this.affine ? full([numFeatures], 0, f) : null);
    this.registerBuffer('runningMean', this.trackRunningStats ? full([numFeatures], 0, f) : null);
    this.registerBuffer('runningVar', this.trackRunningStats ? full([numFeatures], 1, f) : null);
    this.registerBuffer('numBatchesTracked', this.trackRunningStats ? full([], 0, { device: opts.device, dtype: 'int32' }) : null);
  }

  /** Ranks this layer accepts (with the channel dim at 1). */
  protected abstract readonly ranks: readonly number[];

  forward(x: Tensor): Tensor {
    const name = this.constructor.name;
    checkFloatInput(name, x);
    if (!this.ranks.includes(x.ndim) || x.shape[1] !== this.numFeatures) {
      const want = this.ranks.map((r) => `(N, ${this.numFeatures}${r === 3 ? ', L' : r === 4 ? ', H, W' : ''})`).join(' or ');
      throw new ShapeError(`${name}: expected input ${want}, got ${fmtShape(x.shape)}`);
    }
    const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];
    const bshape = x.shape.map((s, i) => (i === 1 ? s : 1));              // (1, C, 1, ...)
    const useBatch = this.training || !this.trackRunningStats;
    const n = x.size / this.numFeatures;
    if (useBatch && n <= 1) throw new ValueError(`${name}: training needs more than one value per channel, got input ${fmtShape(x.shape)}`);
    return tidy(() => {
      let mean: Tensor, varc: Tensor;
      if (useBatch) {
        mean = x.mean(dims, { keepdim: true });                            // (1, C, 1, ...)
        varc = x.sub(mean).square().mean(dims, { keepdim: true });         // biased
        if (this.training && this.trackRunningStats) this.#updateRunning(mean, varc, n);
      } else {
        mean = this.runningMean!.reshape(bshape);
        varc = this.runningVar!.reshape(bshape);
      }
      let y = x.sub(mean).mul(rsqrt(varc.add(this.eps)));
      if (this.weight) y = y.mul(this.weight.reshape(bshape));
      if (this.bias) y = y.add(this.bias.reshape(bshape));
      return y;
    });
  }

  #updateRunning(mean: Tensor, varc: Tensor, n: number): void {
    noGrad(() => tidy(() => {
      this.numBatchesTracked!.add_(1);
      const rm = this.runningMean!, rv = this.runningVar!;
      // The factor stays on the device: with momentum null it is 1/numBatchesTracked.
      const m: Tensor | number = this.momentum ?? this.numBatchesTracked!.to(rm.dtype).reciprocal();
      const keepF = typeof m === 'number' ? 1 - m : m.neg().add(1);
      rm.mul_(keepF).add_(mean.reshape([this.numFeatures]).mul(m));
      rv.mul_(keepF).add_(varc.reshape([this.numFeatures]).mul(m).mul(n / (n - 1)));
    }));
  }

  /** Reset runningMean to 0, runningVar to 1 and the batch count to 0. */
  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    noGrad(() => { this.runningMean!.fill_(0); this.runningVar!.fill_(1); this.numBatchesTracked!.fill_(0); });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/** Batch norm over (N, C) or (N, C, L), statistics per channel C. */
export class BatchNorm1d extends BatchNormBase {
  protected readonly ranks = [2, 3] as const;
  constructor(numFeatures: number, opts: BatchNormOptions = {}) { super(numFeatures, opts); }
}

/** Batch norm over (N, C, H, W), statistics per channel C. */
export class BatchNorm2d extends BatchNormBase {
  protected readonly ranks = [4] as const;
  constructor(numFeatures: number, opts: BatchNormOptions = {}) { super(numFeatures, opts); }
}
