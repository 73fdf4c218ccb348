// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019), as torch.optim.AdamW.
// The step on each parameter is ONE call of the backend's fused `adamw` kernel, which updates the
// parameter and both moment buffers in place — no per-element JS and no readback, on every device.
// `adamwStepDecomposed` is the same step written with tensor ops: the reference the fused kernel is
// tested against.
import { checkRange, noGrad, tidy, type Tensor } from '@webgrad/core';
import { checkBetas } from './adam.js';
import { Optimizer, OptimizerError, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';

export interface AdamWHyper {
  lr: number;
  weightDecay: number;
  betas: readonly [number, number];
  eps: number;
}

export type AdamWOptions = Partial<AdamWHyper>;

export class AdamW extends Optimizer<AdamWHyper> {
  readonly kind = 'AdamW';

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
    const m = this.buffer(p, st, 'expAvg');
    const v = this.buffer(p, st, 'expAvgSq');
    const gc = grad.isContiguous() && grad.dtype === p.dtype ? grad : tidy(() => grad.to(p.dtype).contiguous());
    p.backend.kernels.adamw(p.view_(), gc.view_(), m.view_(), v.view_(), {
      lr: g.lr, beta1: g.betas[0], beta2: g.betas[1], eps: g.eps, weightDecay: g.weightDecay, step: st.step,
    });
    if (gc !== grad) gc.dispose();
    p.storage.version++;
    m.storage.version++;
    v.storage.version++;
  }
}

/** One AdamW step on `p` (and moments `m`, `v`) with tensor ops; `step` is 1-based. The reference for the fused kernel. */
export function adamwStepDecomposed(p: Tensor, grad: Tensor, m: Tensor, v: Tensor,
  o: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; step: number }): void {
  noGrad(() => tidy(() => {
    p.copy_(p.mul(1 - o.lr * o.weightDecay));
    m.copy_(m.mul(o.beta1).add(grad.mul(1 - o.beta1)));
    v.copy_(v.mul(o.beta2).add(grad.mul(grad).mul(1 - o.beta2)));
    const mHat = m.div(1 - o.beta1 ** o.step);
    const vHat = v.div(1 - o.beta2 ** o.step);
    p.copy_(p.sub(mHat.div(vHat.sqrt().add(o.eps)).mul(o.lr)));
  }));
}
