// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019), as torch.optim.AdamW.
// A step updates every parameter with a gradient in one call of core's in-place `adamwStepMulti_`
// (as torch's foreach/fused AdamW): the backend's multi-tensor kernel updates the parameters and
// their moment buffers in place — on WebGPU a few dispatches for all of them, on the cpu the fused
// kernel per parameter — with no per-element JS and no readback, and results equal to core's
// single-tensor `adamwStep_` on each parameter. On WebGPU the moments are views into flat buffers
// (multi_step.ts), so that more parameters fit one dispatch.
import { adamwStep_, adamwStepDecomposed_, checkRange, noGrad, type AdamWStepItem, type Tensor } from '@webgrad/core';
import { checkBetas } from './adam.js';
import { adamwStepPerDevice, packMoments, splitShared } from './multi_step.js';
import { Optimizer, OptimizerError, type ParamGroup, type ParamState, type ParamUpdate, type ParamsInput } from './optimizer.js';

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
 * in-place multi-tensor step for all parameters (core's `adamwStepMulti_`). Parameters must be contiguous.
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

  protected override updateParams(updates: readonly ParamUpdate<AdamWHyper>[]): void {
    for (const u of updates) checkContiguous(u.param);
    const { apart, shared } = splitShared(updates);
    packMoments(apart, ['expAvg', 'expAvgSq']);
    adamwStepPerDevice(apart.map((u) => this.item(u.param, u.grad, u.state, u.group)));
    for (const u of shared) this.updateParam(u.param, u.grad, u.state, u.group);
  }

  protected updateParam(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<AdamWHyper>): void {
    const it = this.item(p, grad, st, g);
    adamwStep_(it.param, it.grad, it.expAvg, it.expAvgSq, it.opts);
  }

  /** The step's arguments for one parameter (its moment buffers created on its first step). */
  private item(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<AdamWHyper>): AdamWStepItem {
    checkContiguous(p);
    return {
      param: p, grad, expAvg: this.buffer(p, st, 'expAvg'), expAvgSq: this.buffer(p, st, 'expAvgSq'),
      opts: { lr: g.lr, beta1: g.betas[0], beta2: g.betas[1], eps: g.eps, weightDecay: g.weightDecay, step: st.step },
    };
  }
}

function checkContiguous(p: Tensor): void {
  if (!p.isContiguous()) throw new OptimizerError(`AdamW: parameter${p.name ? ` ${p.name}` : ''} of shape [${p.shape.join(', ')}] is not contiguous; the fused step updates contiguous parameters`);
}

/** One AdamW step on `p` (and moments `m`, `v`) with tensor ops; `step` is 1-based. The reference for the fused kernel. */
export function adamwStepDecomposed(p: Tensor, grad: Tensor, m: Tensor, v: Tensor,
  o: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; step: number }): void {
  noGrad(() => adamwStepDecomposed_(p, grad, m, v, o));
}
