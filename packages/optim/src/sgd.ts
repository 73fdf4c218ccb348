// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay,
// computing exactly what torch.optim.SGD computes (its documented algorithm):
//   g ← ∇ (negated when maximize);  g ← g + wd·p
//   b ← g on the first step, else b ← μ·b + (1 − τ)·g        (when μ ≠ 0)
//   g ← g + μ·b (nesterov) or g ← b
//   p ← p − lr·g
// Nesterov momentum follows Sutskever et al. 2013 in the form torch uses.
import { checkBool, checkFinite, checkRange, tidy, type Tensor } from '@webgrad/core';
import { Optimizer, OptimizerError, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';

/** Hyperparameters of an SGD parameter group; each can differ per group and be changed between steps. */
export interface SGDHyper {
  /** Learning rate (default 1e-3, as torch.optim.SGD). */
  lr: number;
  /** L2 penalty added to the gradient, wd·p (default 0). */
  weightDecay: number;
  /** Momentum factor μ ≥ 0 (default 0: plain SGD). */
  momentum: number;
  /** Dampening τ of the momentum: b ← μ·b + (1 − τ)·g (default 0). */
  dampening: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0, else an OptimizerError). */
  nesterov: boolean;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}

/** SGD's constructor options: any of SGDHyper, the rest at their defaults. */
export type SGDOptions = Partial<SGDHyper>;

/** Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay, computing what `torch.optim.SGD` computes. */
export class SGD extends Optimizer<SGDHyper> {
  readonly kind = 'SGD';

  constructor(params: ParamsInput<SGDHyper>, opts: SGDOptions = {}) {
    super(params, { lr: 1e-3, weightDecay: 0, momentum: 0, dampening: 0, nesterov: false, maximize: false }, opts);
  }

  protected override validateGroup(g: ParamGroup<SGDHyper>): void {
    super.validateGroup(g);
    checkRange('SGD', 'momentum', g.momentum, 0, Infinity);
    checkFinite('SGD', 'dampening', g.dampening);
    checkBool('SGD', 'nesterov', g.nesterov);
    checkBool('SGD', 'maximize', g.maximize);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new OptimizerError(`SGD: nesterov momentum requires momentum > 0 and dampening = 0 (got momentum ${g.momentum}, dampening ${g.dampening})`);
    }
  }

  protected updateParam(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<SGDHyper>): void {
    const { lr, weightDecay: wd, momentum, dampening, nesterov, maximize } = g;
    tidy(() => {
      let d: Tensor = maximize ? grad.neg() : grad;
      if (wd !== 0) d = d.add(p.mul(wd));
      if (momentum !== 0) {
        const existing = st.buffers.momentumBuffer;
        let buf: Tensor;
        if (!existing) {
          buf = this.buffer(p, st, 'momentumBuffer', () => d.clone());
        } else {
          buf = existing;
          buf.copy_(buf.mul(momentum).add(d.mul(1 - dampening)));
        }
        d = nesterov ? d.add(buf.mul(momentum)) : buf;
      }
      p.copy_(p.sub(d.mul(lr)));
    });
  }
}
