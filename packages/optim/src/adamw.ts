// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019), as torch.optim.AdamW.
// The step on each parameter is core's in-place `adamwStep_`: one call of the backend's fused
// kernel, which updates the parameter and both moment buffers in place — no per-element JS and no
// readback, on every device (or the same step in tensor ops on a backend without the kernel).
import { adamwStep_, adamwStepDecomposed_, checkRange, noGrad, type Tensor } from '@webgrad/core';
import { checkBetas } from './adam.js';
import { Optimizer, OptimizerError, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';

/** AdamW's hyper-parameters per parameter group (torch.optim.AdamW's `lr`, `weight_decay`, `betas`, `eps`). */
export interface AdamWHyper {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decoupled weight decay: each step multiplies the parameter by 1 − lr·weightDecay (default 1e-2). */
  weightDecay: number;
  /** Decay rates of the first and second moment estimates, each in [0, 1) (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator √v̂ for numerical stability (default 1e-8). */
  eps: number;
}

/** Options of `new AdamW(params, opts)`: any of the hyper-parameters, the rest default. */
export type AdamWOptions = Partial<AdamWHyper>;

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter 2019), as torch.optim.AdamW: one fused,
 * in-place step per parameter (core's `adamwStep_`). Parameters must be contiguous.
 */
export class AdamW extends Optimizer<AdamWHyper> {
  /** The optimizer's name in state dicts and checkpoints. */
  readonly kind = 'AdamW';

  /**
   * @param params tensors or parameter groups to optimize
   * @param opts hyper-parameters (the defaults are listed on `AdamWHyper`)
   */
  constructor(params: ParamsInput<AdamWHyper>, opts: AdamWOptions = {}) {
    super(params, { lr: 1e-3, weightDecay: 1e-2, betas: [0.9, 0.999], eps: 1e-8 }, opts);
  }

  protected override validateGroup(g: ParamGroup<AdamWHyper>): void {
    super.validateGroup(g);
    checkBetas('AdamW', g.betas);
    checkRange('AdamW', 'eps', g.eps, 0, Infinity);
  }

  protected updateParam(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<AdamWHyper>): void {
    if (!p.isContiguous()) throw new OptimizerError(`AdamW: parameter${p.name ? ` ${p.name}` : ''} of shape [${p.shape.join(', ')}] is not contiguous; the fused step updates contiguous parameters`);
    adamwStep_(p, grad, this.buffer(p, st, 'expAvg'), this.buffer(p, st, 'expAvgSq'), {
      lr: g.lr, beta1: g.betas[0], beta2: g.betas[1], eps: g.eps, weightDecay: g.weightDecay, step: st.step,
    });
  }
}

/** One AdamW step on `p` (and moments `m`, `v`) with tensor ops; `step` is 1-based. The reference for the fused kernel. */
export function adamwStepDecomposed(p: Tensor, grad: Tensor, m: Tensor, v: Tensor,
  o: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; step: number }): void {
  noGrad(() => adamwStepDecomposed_(p, grad, m, v, o));
}
