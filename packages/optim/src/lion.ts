// Lion, "EvoLved Sign Momentum" (Chen et al. 2023, "Symbolic Discovery of Optimization
// Algorithms", Algorithm 2): one momentum buffer instead of Adam's two, so half the state memory.
//   c ← β1·m + (1 − β1)·g
//   p ← p·(1 − lr·wd) − lr·sign(c)          (decoupled weight decay)
//   m ← β2·m + (1 − β2)·g
// The update has unit magnitude per element, so Lion wants a smaller lr (≈3–10× below AdamW's) and
// a larger weight decay.
import { tidy, type Tensor } from '@webgrad/core';
import { checkBetas } from './adam.js';
import { Optimizer, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';

/** Hyperparameters of a Lion parameter group. */
export interface LionHyper {
  /** Learning rate (default 1e-4; Lion wants ≈3–10× less than AdamW). */
  lr: number;
  /** Decoupled weight decay: p ← p·(1 − lr·wd) (default 0). */
  weightDecay: number;
  /** β1 interpolates the update direction, β2 the momentum; each in [0, 1) (default [0.9, 0.99]). */
  betas: readonly [number, number];
}

/** Lion's constructor options: any of LionHyper, the rest at their defaults. */
export type LionOptions = Partial<LionHyper>;

/** Lion, "EvoLved Sign Momentum" (Chen et al. 2023): the sign of an interpolated momentum as the update, with one state buffer per parameter (half of Adam's). */
export class Lion extends Optimizer<LionHyper> {
  readonly kind = 'Lion';

  constructor(params: ParamsInput<LionHyper>, opts: LionOptions = {}) {
    super(params, { lr: 1e-4, weightDecay: 0, betas: [0.9, 0.99] }, opts);
  }

  protected override validateGroup(g: ParamGroup<LionHyper>): void {
    super.validateGroup(g);
    checkBetas('Lion', g.betas);
  }

  protected updateParam(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<LionHyper>): void {
    const { lr, weightDecay: wd } = g;
    const [b1, b2] = g.betas;
    const m = this.buffer(p, st, 'expAvg');
    tidy(() => {
      const c = m.mul(b1).add(grad.mul(1 - b1));
      const decayed = wd !== 0 ? p.mul(1 - lr * wd) : p;
      p.copy_(decayed.sub(c.sign().mul(lr)));
      m.copy_(m.mul(b2).add(grad.mul(1 - b2)));
    });
  }
}
