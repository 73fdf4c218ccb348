// A fixed-size store of T steps × E environments of experience for on-policy methods (PPO, A2C),
// in typed arrays: observations, actions, their log-probabilities and value estimates, rewards and
// episode ends. After a rollout, `computeAdvantages` runs GAE and `minibatches` hands out shuffled
// slices as tensors for the update epochs.
import { ValueError, checkInt, tensor, type DeviceName, type Tensor } from '@webgrad/core';
import { computeEpisodicGAE, type GAEParams } from './advantages.js';
import { permutation } from '../random.js';

/** A shuffled slice of M steps of a RolloutBuffer as tensors: observations (M, D), actions (M) int32, their log-probabilities log π_old(a|s) (M), value estimates V_old(s) (M), advantages (M) and returns (M). */
export interface RolloutMinibatch {
  /** (M, D). */
  observations: Tensor;
  /** (M) int32. */
  actions: Tensor;
  /** (M): log π_old(a|s) at collection. */
  logProbs: Tensor;
  /** (M): V_old(s) at collection. */
  values: Tensor;
  /** (M). */
  advantages: Tensor;
  /** (M): the value targets. */
  returns: Tensor;
}

/** A fixed-size store of T steps × E environments of experience for on-policy methods (PPO, A2C): after a rollout, `computeAdvantages` runs GAE and `minibatches` hands out shuffled slices as tensors. */
export class RolloutBuffer {
  /** (T·E, D), time-major. */
  readonly observations: Float32Array;
  /** (T·E) action ids. */
  readonly actions: Int32Array;
  /** (T·E) log π(a|s) when the actions were taken. */
  readonly logProbs: Float32Array;
  /** (T·E) V(s) when the actions were taken. */
  readonly values: Float32Array;
  /** (T·E) rewards. */
  readonly rewards: Float32Array;
  /** (T·E) 1 where the episode terminated. */
  readonly terminated: Uint8Array;
  /** (T·E) 1 where the episode was truncated. */
  readonly truncated: Uint8Array;
  /** (T·E) V of the last observation of a truncated episode (its bootstrap value). */
  readonly finalValues: Float32Array;
  /** (T·E), set by `computeAdvantages`. */
  advantages: Float32Array | null = null;
  /** (T·E) advantages + values, set by `computeAdvantages`. */
  returns: Float32Array | null = null;
  #t = 0;

  /**
   * @param numSteps Steps T per rollout.
   * @param numEnvs Environments E.
   * @param observationSize Values D per observation.
   */
  constructor(readonly numSteps: number, readonly numEnvs: number, readonly observationSize: number) {
    checkInt('RolloutBuffer', 'numSteps', numSteps, { min: 1 });
    checkInt('RolloutBuffer', 'numEnvs', numEnvs, { min: 1 });
    checkInt('RolloutBuffer', 'observationSize', observationSize, { min: 1 });
    const n = numSteps * numEnvs;
    this.observations = new Float32Array(n * observationSize);
    this.actions = new Int32Array(n);
    this.logProbs = new Float32Array(n);
    this.values = new Float32Array(n);
    this.rewards = new Float32Array(n);
    this.terminated = new Uint8Array(n);
    this.truncated = new Uint8Array(n);
    this.finalValues = new Float32Array(n);
  }

  /** Steps × environments stored so far. */
  get size(): number { return this.#t * this.numEnvs; }
  /** Whether all `numSteps` steps are stored. */
  get full(): boolean { return this.#t === this.numSteps; }

  /** Record one step of every environment (observations are those the actions were taken in). */
  add(step: {
    observations: ArrayLike<number>; actions: ArrayLike<number>; logProbs: ArrayLike<number>; values: ArrayLike<number>;
    rewards: ArrayLike<number>; terminated: ArrayLike<number>; truncated?: ArrayLike<number>; finalValues?: ArrayLike<number>;
  }): void {
    if (this.full) throw new ValueError(`RolloutBuffer.add: the buffer holds ${this.numSteps} steps already; call reset()`);
    const E = this.numEnvs, t = this.#t;
    if (step.observations.length !== E * this.observationSize) throw new ValueError(`RolloutBuffer.add: expected ${E} × ${this.observationSize} observations, got ${step.observations.length}`);
    for (const k of ['actions', 'logProbs', 'values', 'rewards', 'terminated'] as const) {
      if (step[k].length !== E) throw new ValueError(`RolloutBuffer.add: ${k} must have one entry per environment (${E}), got ${step[k].length}`);
    }
    this.observations.set(step.observations, t * E * this.observationSize);
    this.actions.set(step.actions, t * E);
    this.logProbs.set(step.logProbs, t * E);
    this.values.set(step.values, t * E);
    this.rewards.set(step.rewards, t * E);
    this.terminated.set(step.terminated, t * E);
    if (step.truncated) this.truncated.set(step.truncated, t * E); else this.truncated.fill(0, t * E, (t + 1) * E);
    if (step.finalValues) this.finalValues.set(step.finalValues, t * E);
    this.#t++;
  }

  /** GAE over the stored steps, bootstrapping from `lastValues` (V of the current observations). */
  computeAdvantages(lastValues: ArrayLike<number>, params: GAEParams = {}): void {
    if (!this.full) throw new ValueError(`RolloutBuffer.computeAdvantages: the buffer holds ${this.#t} of ${this.numSteps} steps`);
    const { advantages, returns } = computeEpisodicGAE({
      rewards: this.rewards, values: this.values, terminated: this.terminated, truncated: this.truncated,
      finalValues: this.finalValues, lastValues, numEnvs: this.numEnvs,
    }, params);
    this.advantages = advantages;
    this.returns = returns;
  }

  /** The stored steps in shuffled minibatches of `size` (the last may be smaller), as tensors the caller owns. */
  *minibatches(size: number, rand: () => number, device: DeviceName = 'cpu'): Generator<RolloutMinibatch> {
    checkInt('RolloutBuffer.minibatches', 'size', size, { min: 1 });
    if (!this.advantages || !this.returns) throw new ValueError('RolloutBuffer.minibatches: call computeAdvantages first');
    const n = this.size, D = this.observationSize;
    const order = permutation(n, rand);
    for (let s = 0; s < n; s += size) {
      const idx = order.slice(s, s + size);
      const m = idx.length;
      const obs = new Float32Array(m * D);
      idx.forEach((j, k) => obs.set(this.observations.subarray(j * D, (j + 1) * D), k * D));
      const pick = (src: Float32Array) => Float32Array.from(idx, (j) => src[j]!);
      yield {
        observations: tensor(obs, { shape: [m, D], device }),
        actions: tensor(Int32Array.from(idx, (j) => this.actions[j]!), { shape: [m], device }),
        logProbs: tensor(pick(this.logProbs), { shape: [m], device }),
        values: tensor(pick(this.values), { shape: [m], device }),
        advantages: tensor(pick(this.advantages), { shape: [m], device }),
        returns: tensor(pick(this.returns), { shape: [m], device }),
      };
    }
  }

  /** Empty the buffer for the next rollout. */
  reset(): void {
    this.#t = 0;
    this.advantages = null;
    this.returns = null;
  }
}
