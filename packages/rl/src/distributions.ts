// Probability distributions for policies, as torch.distributions: Categorical over discrete
// actions (from logits or probabilities) and Normal for continuous ones. sample() draws from the
// core generator on the tensor's device (manualSeed makes it reproducible); logProb and entropy are
// differentiable, so a policy-gradient loss backpropagates through them.
import {
  DTypeError, ShapeError, Tensor, checkTensor, fmtShape, isFloat, noGrad, rand, randn, tidy,
} from '@webgrad/core';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** A categorical distribution over the last dim of `logits` (B…, K): one draw per leading index. */
export class Categorical {
  /** Normalized log-probabilities (B…, K). */
  readonly logits: Tensor;

  /** From unnormalized `logits`, or `probs` (each row summing to 1). The tensors are not taken over. */
  constructor(params: { logits: Tensor } | { probs: Tensor }) {
    const given = 'logits' in params ? params.logits : (params as { probs: Tensor }).probs;
    checkTensor('Categorical', 'logits' in params ? 'logits' : 'probs', given);
    if (!isFloat(given.dtype)) throw new DTypeError(`Categorical: expected floating-point ${'logits' in params ? 'logits' : 'probs'}, got ${given.dtype}`);
    if (given.ndim < 1 || given.shape[given.ndim - 1]! < 1) throw new ShapeError(`Categorical: expected (…, K) with K ≥ 1 categories, got ${fmtShape(given.shape)}`);
    this.logits = tidy(() => ('logits' in params ? params.logits.logSoftmax(-1) : (params as { probs: Tensor }).probs.log().logSoftmax(-1)));
  }

  /** The probabilities, exp(logits) (a new tensor the caller owns). */
  get probs(): Tensor { return this.logits.exp(); }

  /** One category per row (int32, shape B…), by the Gumbel-max trick: argmax(logits + G). */
  sample(): Tensor {
    return noGrad(() => tidy(() => {
      const u = rand([...this.logits.shape], { dtype: this.logits.dtype, device: this.logits.device }).clamp(1e-12, 1 - 1e-7);
      return this.logits.sub(u.log().neg().log()).argmax(-1);
    }));
  }

  /** The most likely category per row (int32). */
  mode(): Tensor { return noGrad(() => this.logits.argmax(-1)); }

  /** log p(actions), differentiable in the logits; `actions` int32 of shape B…. */
  logProb(actions: Tensor): Tensor {
    checkTensor('Categorical.logProb', 'actions', actions);
    if (actions.dtype !== 'int32') throw new DTypeError(`Categorical.logProb: actions must be int32 category ids, got ${actions.dtype}`);
    const lead = this.logits.shape.slice(0, -1);
    if (actions.ndim !== lead.length || actions.shape.some((d, i) => d !== lead[i])) {
      throw new ShapeError(`Categorical.logProb: actions ${fmtShape(actions.shape)} must have the batch shape ${fmtShape(lead)} of logits ${fmtShape(this.logits.shape)}`);
    }
    return tidy(() => this.logits.gather(-1, actions.unsqueeze(-1)).squeeze(-1));
  }

  /** −Σ p log p per row, differentiable. */
  entropy(): Tensor {
    return tidy(() => this.logits.exp().mul(this.logits).sum(-1).neg());
  }

  /** Frees the normalized logits this distribution holds. */
  dispose(): void { this.logits.dispose(); }
  /** Same as `dispose()`, for `using dist = new Categorical(…)`. */
  [Symbol.dispose](): void { this.dispose(); }
}

/** A normal distribution with elementwise `mean` and `std` (broadcast together). */
export class Normal {
  /**
   * @param mean The means.
   * @param std The standard deviations (> 0), broadcast with `mean`.
   */
  constructor(readonly mean: Tensor, readonly std: Tensor) {
    checkTensor('Normal', 'mean', mean);
    checkTensor('Normal', 'std', std);
    if (!isFloat(mean.dtype) || !isFloat(std.dtype)) throw new DTypeError(`Normal: mean and std must be floating-point, got ${mean.dtype} and ${std.dtype}`);
  }

  /** A draw mean + std·ε, ε ~ N(0, 1), differentiable in mean and std (torch's rsample). */
  rsample(): Tensor {
    return tidy(() => {
      const shape = [...this.mean.add(this.std).shape];
      return this.mean.add(this.std.mul(randn(shape, { dtype: this.mean.dtype, device: this.mean.device })));
    });
  }

  /** A draw without gradient. */
  sample(): Tensor { return noGrad(() => this.rsample()); }

  /** log N(x; mean, std²) elementwise: −(x − μ)²/(2σ²) − log σ − ½ log 2π. */
  logProb(x: Tensor): Tensor {
    checkTensor('Normal.logProb', 'value', x);
    return tidy(() => x.sub(this.mean).div(this.std).square().mul(-0.5).sub(this.std.log()).sub(LOG_SQRT_2PI));
  }

  /** ½ + ½ log 2π + log σ elementwise. */
  entropy(): Tensor {
    return tidy(() => this.std.log().add(0.5 + LOG_SQRT_2PI));
  }
}
