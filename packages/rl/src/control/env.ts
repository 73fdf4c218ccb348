// A minimal environment interface (Gymnasium's reset/step with terminated vs truncated) and a
// vector of environments stepped together with automatic reset, as Gymnasium's SyncVectorEnv.
import { ValueError, checkInt } from '@webgrad/core';

/** What `Env.step` returns (Gymnasium's `(observation, reward, terminated, truncated)`). */
export interface StepResult {
  /** The next observation (observationSize values). */
  observation: Float32Array;
  /** The reward of this step. */
  reward: number;
  /** The episode ended in a terminal state (no value beyond it). */
  terminated: boolean;
  /** The episode was cut short (a time limit): its last state still has a value. */
  truncated: boolean;
}

/** An environment with a discrete action space (`actionCount` actions, ids 0 … actionCount − 1). */
export interface Env {
  /** Values per observation. */
  readonly observationSize: number;
  /** Number of discrete actions. */
  readonly actionCount: number;
  /** Start an episode (a seed makes it reproducible); returns the first observation. */
  reset(seed?: number): Float32Array;
  /** Takes action `action` (an id in 0 … actionCount − 1); returns the next observation, the reward and whether the episode ended. */
  step(action: number): StepResult;
}

/** What `VectorEnv.step` returns for all E environments (Gymnasium's vector step with automatic reset). */
export interface VectorStep {
  /** The next observation of each environment (E × observationSize), after any automatic reset. */
  observations: Float32Array;
  /** Each environment's reward. */
  rewards: Float32Array;
  /** 1 where the episode reached a terminal state. */
  terminated: Uint8Array;
  /** 1 where the episode was cut short (time limit). */
  truncated: Uint8Array;
  /** For each environment whose episode ended at this step, its last observation before the reset (else null). */
  finalObservations: (Float32Array | null)[];
  /** Returns and lengths of the episodes that ended at this step. */
  finished: {
    /** The environment's index. */
    env: number;
    /** The episode's summed reward. */
    return: number;
    /** The episode's steps. */
    length: number;
  }[];
}

/** E environments stepped in lockstep; one that finishes an episode is reset at once. */
export class VectorEnv {
  /** Values per observation (the same for every environment). */
  readonly observationSize: number;
  /** Number of discrete actions (the same for every environment). */
  readonly actionCount: number;
  readonly #returns: Float64Array;
  readonly #lengths: Int32Array;

  /** @param envs The environments (at least one, all of one observation size and action count). */
  constructor(readonly envs: readonly Env[]) {
    if (!Array.isArray(envs) || envs.length === 0) throw new ValueError('VectorEnv: give at least one environment');
    this.observationSize = envs[0]!.observationSize;
    this.actionCount = envs[0]!.actionCount;
    if (envs.some((e) => e.observationSize !== this.observationSize || e.actionCount !== this.actionCount)) {
      throw new ValueError('VectorEnv: every environment must have the same observation size and action count');
    }
    this.#returns = new Float64Array(envs.length);
    this.#lengths = new Int32Array(envs.length);
  }

  /** E, the number of environments. */
  get numEnvs(): number { return this.envs.length; }

  /** Reset every environment (environment i with seed + i); returns E × observationSize observations. */
  reset(seed?: number): Float32Array {
    if (seed !== undefined) checkInt('VectorEnv.reset', 'seed', seed);
    const out = new Float32Array(this.numEnvs * this.observationSize);
    this.envs.forEach((e, i) => out.set(e.reset(seed === undefined ? undefined : seed + i), i * this.observationSize));
    this.#returns.fill(0);
    this.#lengths.fill(0);
    return out;
  }

  /** Steps every environment with its action (E actions; a ValueError otherwise); an environment whose episode ended is reset automatically and its last observation kept in `finalObservations`. */
  step(actions: ArrayLike<number>): VectorStep {
    const E = this.numEnvs, D = this.observationSize;
    if (actions.length !== E) throw new ValueError(`VectorEnv.step: expected ${E} actions, got ${actions.length}`);
    const res: VectorStep = {
      observations: new Float32Array(E * D), rewards: new Float32Array(E), terminated: new Uint8Array(E), truncated: new Uint8Array(E),
      finalObservations: new Array<Float32Array | null>(E).fill(null), finished: [],
    };
    for (let i = 0; i < E; i++) {
      const a = actions[i]!;
      if (!Number.isInteger(a) || a < 0 || a >= this.actionCount) throw new ValueError(`VectorEnv.step: action ${a} of environment ${i} is not in 0 … ${this.actionCount - 1}`);
      const r = this.envs[i]!.step(a);
      res.rewards[i] = r.reward;
      res.terminated[i] = r.terminated ? 1 : 0;
      res.truncated[i] = r.truncated ? 1 : 0;
      this.#returns[i]! += r.reward;
      this.#lengths[i]!++;
      let obs = r.observation;
      if (r.terminated || r.truncated) {
        res.finalObservations[i] = r.observation;
        res.finished.push({ env: i, return: this.#returns[i]!, length: this.#lengths[i]! });
        this.#returns[i] = 0;
        this.#lengths[i] = 0;
        obs = this.envs[i]!.reset();
      }
      res.observations.set(obs, i * D);
    }
    return res;
  }
}
