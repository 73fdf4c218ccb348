// Generalized Advantage Estimation over vectorized environments (Schulman et al. 2016, eq. 16), on
// the host in typed arrays: one backward pass over T steps × E environments, no tensor ops.
//   δ_t = r_t + γ·V(s_{t+1})·[not ended] − V(s_t),   A_t = δ_t + γλ·[not ended]·A_{t+1}
// An episode that terminated at t contributes no value beyond it; one that was truncated (a time
// limit) bootstraps from the value of its true last state, `finalValues[t]`, and its advantage
// chain is cut there too. At t = T − 1 an ongoing episode bootstraps from `lastValues`.
import { ValueError, checkOptions, checkRange } from '@webgrad/core';

/** A rollout's time-major arrays for `computeEpisodicGAE` (T steps × E environments). */
export interface EpisodicGAEInput {
  /** Time-major (T × E) arrays. */
  rewards: ArrayLike<number>;
  /** V(s_t) of each step (T × E). */
  values: ArrayLike<number>;
  /** 1 where the episode terminated at step t. */
  terminated: ArrayLike<number>;
  /** 1 where it was truncated at step t (optional). */
  truncated?: ArrayLike<number>;
  /** V of the last observation of a truncated episode, at its step (T × E; read where truncated). */
  finalValues?: ArrayLike<number>;
  /** V of the observation after the last step (E). */
  lastValues: ArrayLike<number>;
  /** E. */
  numEnvs: number;
}

/** GAE's discount γ and λ (Schulman et al. 2016). */
export interface GAEParams {
  /** Discount γ (default 0.99). */
  gamma?: number;
  /** GAE λ (default 0.95). */
  lam?: number;
}

/** Advantages and returns (= advantages + values), both T × E, time-major. */
export function computeEpisodicGAE(input: EpisodicGAEInput, params: GAEParams = {}): {
  /** GAE(γ, λ) advantages, T × E. */
  advantages: Float32Array;
  /** advantages + values: the value targets, T × E. */
  returns: Float32Array;
} {
  checkOptions('computeEpisodicGAE', params, ['gamma', 'lam']);
  const gamma = checkRange('computeEpisodicGAE', 'gamma', params.gamma ?? 0.99, 0, 1);
  const lam = checkRange('computeEpisodicGAE', 'lam', params.lam ?? 0.95, 0, 1);
  const E = input.numEnvs;
  const n = input.rewards.length;
  if (!Number.isInteger(E) || E < 1 || n % E !== 0) throw new ValueError(`computeEpisodicGAE: ${n} rewards do not form T × ${E} steps`);
  for (const k of ['values', 'terminated'] as const) if (input[k].length !== n) throw new ValueError(`computeEpisodicGAE: ${k} has ${input[k].length} entries, rewards ${n}`);
  if (input.lastValues.length !== E) throw new ValueError(`computeEpisodicGAE: lastValues must have one entry per environment (${E}), got ${input.lastValues.length}`);
  if (input.truncated && (input.truncated.length !== n || !input.finalValues || input.finalValues.length !== n)) {
    throw new ValueError('computeEpisodicGAE: truncated needs finalValues, both T × E');
  }
  const T = n / E;
  const adv = new Float32Array(n);
  const ret = new Float32Array(n);
  for (let e = 0; e < E; e++) {
    let next = 0; // A_{t+1}
    for (let t = T - 1; t >= 0; t--) {
      const i = t * E + e;
      const term = input.terminated[i] === 1;
      const trunc = !term && input.truncated?.[i] === 1;
      let nextValue: number;
      if (term) nextValue = 0;
      else if (trunc) nextValue = input.finalValues![i]!;
      else nextValue = t === T - 1 ? input.lastValues[e]! : input.values[i + E]!;
      const carry = term || trunc ? 0 : 1;
      const delta = input.rewards[i]! + gamma * nextValue - input.values[i]!;
      next = delta + gamma * lam * carry * next;
      adv[i] = next;
      ret[i] = next + input.values[i]!;
    }
  }
  return { advantages: adv, returns: ret };
}
