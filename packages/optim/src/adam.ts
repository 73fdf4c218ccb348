// Adam (Kingma & Ba 2015) with L2 weight decay folded into the gradient and optional AMSGrad
// (Reddi et al. 2018), computing what torch.optim.Adam computes, in the same order:
//   g ← ∇ (negated when maximize);  g ← g + wd·p
//   m ← m + (1 − β1)·(g − m);  v ← β2·v + (1 − β2)·g²;  v̂max ← max(v̂max, v) (amsgrad)
//   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)      (√v̂max with amsgrad)
// For decoupled weight decay use AdamW. Without AMSGrad, the moment and parameter updates are one
// call of core's fused in-place `adamwStep_` (decoupled decay 0) on the gradient g above: the same
// step, without the dozen elementwise ops (and their temporaries) per parameter.
import { adamwStep_, checkBool, checkRange, fmtValue, tidy, type Tensor } from '@webgrad/core';
import { Optimizer, OptimizerError, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';

/** Hyperparameters of an Adam parameter group; each can differ per group and be changed between steps (`opt.paramGroups[0].lr = …`). */
export interface AdamHyper {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** L2 penalty added to the gradient, wd·p (default 0); for decoupled decay use AdamW. */
  weightDecay: number;
  /** Decay rates of the first and second moment averages, each in [0, 1) (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** Use the running maximum of the second moment (AMSGrad, Reddi et al. 2018; default false). */
  amsgrad: boolean;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}

/** Adam's constructor options: any of AdamHyper, the rest at their defaults. */
export type AdamOptions = Partial<AdamHyper>;

/** Checks that `betas` is a pair of numbers in [0, 1); an OptimizerError or ValueError naming `kind` otherwise. */
export function checkBetas(kind: string, betas: readonly number[]): void {
  if (!Array.isArray(betas) || betas.length !== 2) throw new OptimizerError(`${kind}: betas must be two numbers in [0, 1), got ${fmtValue(betas)}`);
  betas.forEach((b, i) => checkRange(kind, `betas[${i}]`, b, 0, 1, { hi: true }));
}

/** Adam (Kingma & Ba 2015), computing what `torch.optim.Adam` computes, with L2 weight decay and optional AMSGrad. `new Adam(model.parameters(), { lr: 1e-3 })`. */
export class Adam extends Optimizer<AdamHyper> {
  readonly kind = 'Adam';

  constructor(params: ParamsInput<AdamHyper>, opts: AdamOptions = {}) {
    super(params, { lr: 1e-3, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8, amsgrad: false, maximize: false }, opts);
  }

  protected override validateGroup(g: ParamGroup<AdamHyper>): void {
    super.validateGroup(g);
    checkBetas('Adam', g.betas);
    checkRange('Adam', 'eps', g.eps, 0, Infinity);
    checkBool('Adam', 'amsgrad', g.amsgrad);
    checkBool('Adam', 'maximize', g.maximize);
  }

  protected updateParam(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<AdamHyper>): void {
    const { lr, weightDecay: wd, eps, amsgrad, maximize } = g;
    const [b1, b2] = g.betas;
    const m = this.buffer(p, st, 'expAvg');
    const v = this.buffer(p, st, 'expAvgSq');
    const vmax = amsgrad ? this.buffer(p, st, 'maxExpAvgSq') : null;
    const t = st.step;
    if (!vmax && p.isContiguous() && (p.dtype === 'float32' || p.dtype === 'float64')) {
      tidy(() => {
        let d: Tensor = maximize ? grad.neg() : grad;
        if (wd !== 0) d = d.add(p.mul(wd));
        adamwStep_(p, d, m, v, { lr, beta1: b1, beta2: b2, eps, weightDecay: 0, step: t });
      });
      return;
    }
    tidy(() => {
      let d: Tensor = maximize ? grad.neg() : grad;
      if (wd !== 0) d = d.add(p.mul(wd));
      m.copy_(m.add(d.sub(m).mul(1 - b1)));
      v.copy_(v.mul(b2).add(d.mul(d).mul(1 - b2)));
      let second = v;
      if (vmax) { vmax.copy_(vmax.maximum(v)); second = vmax; }
      const stepSize = lr / (1 - b1 ** t);
      const bc2Sqrt = Math.sqrt(1 - b2 ** t);
      const denom = second.sqrt().div(bc2Sqrt).add(eps);
      p.copy_(p.sub(m.div(denom).mul(stepSize)));
    });
  }
}
