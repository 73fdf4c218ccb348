// Generalized Advantage Estimation (Schulman et al. 2016, "High-Dimensional Continuous Control
// Using Generalized Advantage Estimation", eq. 16), as TRL's PPOTrainer computes it:
//   δ_t = r_t + γ·V_{t+1} − V_t,   A_t = δ_t + γλ·A_{t+1},   returns_t = A_t + V_t,
// with V and A past the last step taken as 0. Runs on device as a backward loop over time.
//
// Rows are per-token tensors (B, N). A mask (B, N) marks the steps of each trajectory (one
// contiguous run per row: the completion tokens); rewards and values outside it are treated as 0,
// so a trajectory ends at its last masked step and nothing before its first step is used.
import { ShapeError, checkOptions, checkRange, checkTensor, fmtShape, noGrad, shapesEqual, stack, tidy, zeros, type Tensor } from '@webgrad/core';

/** Options of `computeGAE` (TRL PPOTrainer's `gamma`, `lam`). */
export interface GAEOptions {
  /** Discount γ (default 1, TRL's default). */
  gamma?: number;
  /** GAE λ (default 0.95). */
  lam?: number;
  /** (B, N) steps that belong to the trajectory. */
  mask?: Tensor | null;
}

/** Advantages and returns (both (B, N), detached) of rewards and values (B, N). */
export function computeGAE(rewards: Tensor, values: Tensor, opts: GAEOptions = {}): {
  /** (B, N) GAE(γ, λ) advantages, detached. */
  advantages: Tensor;
  /** (B, N) advantages + values, detached: the value targets. */
  returns: Tensor;
} {
  checkTensor('computeGAE', 'rewards', rewards);
  checkTensor('computeGAE', 'values', values);
  checkOptions('computeGAE', opts, ['gamma', 'lam', 'mask']);
  const gamma = checkRange('computeGAE', 'gamma', opts.gamma === undefined ? 1 : opts.gamma, 0, 1);
  const lam = checkRange('computeGAE', 'lam', opts.lam === undefined ? 0.95 : opts.lam, 0, 1);
  if (opts.mask != null) checkTensor('computeGAE', 'mask', opts.mask);
  if (rewards.ndim !== 2 || !shapesEqual(rewards.shape, values.shape) || (opts.mask && !shapesEqual(opts.mask.shape, rewards.shape))) {
    throw new ShapeError(`computeGAE: rewards ${fmtShape(rewards.shape)}, values ${fmtShape(values.shape)}${opts.mask ? ` and mask ${fmtShape(opts.mask.shape)}` : ''} must all be (B, N)`);
  }
  const [B, N] = rewards.shape as [number, number];
  return noGrad(() => tidy(() => {
    const m = opts.mask ? opts.mask.to(rewards.dtype) : null;
    const r = m ? rewards.mul(m) : rewards; // (B, N)
    const v = m ? values.to(rewards.dtype).mul(m) : values.to(rewards.dtype); // (B, N)
    const out: Tensor[] = new Array(N);
    let last = zeros([B], { dtype: rewards.dtype, device: rewards.device });
    for (let t = N - 1; t >= 0; t--) {
      const next = t < N - 1 ? v.select(1, t + 1) : zeros([B], { dtype: rewards.dtype, device: rewards.device });
      const delta = r.select(1, t).add(next.mul(gamma)).sub(v.select(1, t)); // (B)
      last = delta.add(last.mul(gamma * lam)); // (B)
      out[t] = last;
    }
    const advantages = stack(out, 1); // (B, N)
    const returns = advantages.add(v);
    return { advantages: m ? advantages.mul(m) : advantages, returns: m ? returns.mul(m) : returns };
  }));
}
