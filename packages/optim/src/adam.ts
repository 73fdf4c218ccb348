// Adam (Kingma & Ba 2015) with L2 weight decay folded into the gradient and optional AMSGrad
// (Reddi et al. 2018), computing what torch.optim.Adam computes, in the same order:
//   g ← ∇ (negated when maximize);  g ← g + wd·p
//   m ← m + (1 − β1)·(g − m);  v ← β2·v + (1 − β2)·g²;  v̂max ← max(v̂max, v) (amsgrad)
//   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)      (√v̂max with amsgrad)
// For decoupled weight decay use AdamW. Without AMSGrad, the moment and parameter updates of every
// contiguous parameter are one call of core's fused in-place `adamwStepMulti_` (decoupled decay 0)
// on the gradients g above: the same step as `adamwStep_` on each, without the dozen elementwise
// ops (and their temporaries) per parameter, and on WebGPU a few dispatches for all of them.
import { adamwStep_, checkBool, checkRange, fmtValue, tidy, type AdamWStepItem, type Tensor } from '@webgrad/core';
import { adamwStepPerDevice, packMoments, splitShared } from './multi_step.js';
import { Optimizer, OptimizerError, type ParamGroup, type ParamState, type ParamUpdate, type ParamsInput } from './optimizer.js';

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

  /** Whether the fused step takes the parameter (not AMSGrad; contiguous, float32 or float64). */
  private fused(p: Tensor, g: ParamGroup<AdamHyper>): boolean {
    return !g.amsgrad && p.isContiguous() && (p.dtype === 'float32' || p.dtype === 'float64');
  }

  /** The fused step's arguments for one parameter: g (negated, plus wd·p) as its gradient, decoupled decay 0. */
  private item(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<AdamHyper>): AdamWStepItem {
    const m = this.buffer(p, st, 'expAvg');
    const v = this.buffer(p, st, 'expAvgSq');
    let d: Tensor = g.maximize ? grad.neg() : grad;
    if (g.weightDecay !== 0) d = d.add(p.mul(g.weightDecay));
    return { param: p, grad: d, expAvg: m, expAvgSq: v, opts: { lr: g.lr, beta1: g.betas[0], beta2: g.betas[1], eps: g.eps, weightDecay: 0, step: st.step } };
  }

  protected override updateParams(updates: readonly ParamUpdate<AdamHyper>[]): void {
    const { apart, shared } = splitShared(updates);
    const fused = apart.filter((u) => this.fused(u.param, u.group));
    packMoments(fused, ['expAvg', 'expAvgSq']);
    if (fused.length > 0) tidy(() => adamwStepPerDevice(fused.map((u) => this.item(u.param, u.grad, u.state, u.group))));
    for (const u of apart) if (!this.fused(u.param, u.group)) this.updateParam(u.param, u.grad, u.state, u.group);
    for (const u of shared) this.updateParam(u.param, u.grad, u.state, u.group);
  }

  protected updateParam(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<AdamHyper>): void {
    if (this.fused(p, g)) {
      tidy(() => {
        const it = this.item(p, grad, st, g);
        adamwStep_(it.param, it.grad, it.expAvg, it.expAvgSq, it.opts);
      });
      return;
    }
    const { lr, weightDecay: wd, eps, amsgrad, maximize } = g;
    const [b1, b2] = g.betas;
    const m = this.buffer(p, st, 'expAvg');
    const v = this.buffer(p, st, 'expAvgSq');
    const vmax = amsgrad ? this.buffer(p, st, 'maxExpAvgSq') : null;
    const t = st.step;
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
