// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay,
// computing exactly what torch.optim.SGD computes (its documented algorithm):
//   g ← ∇ (negated when maximize);  g ← g + wd·p
//   b ← g on the first step, else b ← μ·b + (1 − τ)·g        (when μ ≠ 0)
//   g ← g + μ·b (nesterov) or g ← b
//   p ← p − lr·g
// Nesterov momentum follows Sutskever et al. 2013 in the form torch uses.
import { checkBool, checkFinite, checkRange, tidy, type Tensor } from '@webgrad/core';
import { Optimizer, OptimizerError, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';

export interface SGDHyper {
  lr: number;
  weightDecay: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  maximize: boolean;
}

export type SGDOptions = Partial<SGDHyper>;

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
