// CartPole-v1 with Gymnasium's dynamics (Barto, Sutton & Anderson 1983): a pole hinged on a cart
// moving on a track; action 0 pushes left, 1 right, with 10 N. Reward 1 per step; the episode
// terminates when the pole leans past 12° or the cart leaves ±2.4, and is truncated at 500 steps.
// Explicit Euler integration with τ = 0.02 s; each state variable starts uniform in ±0.05.
import { checkInt, checkOptions, ValueError } from '@webgrad/core';
import type { Env, StepResult } from './env.js';
import { seededRandom } from '../random.js';

const GRAVITY = 9.8, MASS_CART = 1.0, MASS_POLE = 0.1, TOTAL_MASS = MASS_CART + MASS_POLE;
const HALF_LENGTH = 0.5, POLE_MASS_LENGTH = MASS_POLE * HALF_LENGTH, FORCE = 10.0, TAU = 0.02;
const THETA_LIMIT = (12 * 2 * Math.PI) / 360, X_LIMIT = 2.4;

export class CartPole implements Env {
  /** Cart position, cart velocity, pole angle, pole angular velocity. */
  readonly observationSize = 4;
  /** 0 pushes left, 1 right. */
  readonly actionCount = 2;
  /** Steps after which an episode is truncated (default 500, CartPole-v1's). */
  readonly maxSteps: number;
  #state = new Float64Array(4); // x, ẋ, θ, θ̇
  #steps = 0;
  #rand: () => number;
  #done = true;

  constructor(opts: { maxSteps?: number; seed?: number } = {}) {
    checkOptions('CartPole', opts, ['maxSteps', 'seed']);
    this.maxSteps = opts.maxSteps === undefined ? 500 : checkInt('CartPole', 'maxSteps', opts.maxSteps, { min: 1 });
    this.#rand = seededRandom(opts.seed === undefined ? 0 : checkInt('CartPole', 'seed', opts.seed));
  }

  reset(seed?: number): Float32Array {
    if (seed !== undefined) this.#rand = seededRandom(checkInt('CartPole.reset', 'seed', seed));
    for (let i = 0; i < 4; i++) this.#state[i] = (this.#rand() * 2 - 1) * 0.05;
    this.#steps = 0;
    this.#done = false;
    return Float32Array.from(this.#state);
  }

  /** Applies action 0 (push left) or 1 (push right) for one 0.02 s step; a ValueError for another action or after the episode ended. */
  step(action: number): StepResult {
    if (this.#done) throw new ValueError('CartPole.step: the episode has ended; call reset()');
    if (action !== 0 && action !== 1) throw new ValueError(`CartPole.step: action must be 0 (left) or 1 (right), got ${action}`);
    const s = this.#state;
    const [x, xDot, theta, thetaDot] = [s[0]!, s[1]!, s[2]!, s[3]!];
    const force = action === 1 ? FORCE : -FORCE;
    const cos = Math.cos(theta), sin = Math.sin(theta);
    const temp = (force + POLE_MASS_LENGTH * thetaDot * thetaDot * sin) / TOTAL_MASS;
    const thetaAcc = (GRAVITY * sin - cos * temp) / (HALF_LENGTH * (4 / 3 - (MASS_POLE * cos * cos) / TOTAL_MASS));
    const xAcc = temp - (POLE_MASS_LENGTH * thetaAcc * cos) / TOTAL_MASS;
    s[0] = x + TAU * xDot;
    s[1] = xDot + TAU * xAcc;
    s[2] = theta + TAU * thetaDot;
    s[3] = thetaDot + TAU * thetaAcc;
    this.#steps++;
    const terminated = s[0]! < -X_LIMIT || s[0]! > X_LIMIT || s[2]! < -THETA_LIMIT || s[2]! > THETA_LIMIT;
    const truncated = !terminated && this.#steps >= this.maxSteps;
    this.#done = terminated || truncated;
    return { observation: Float32Array.from(s), reward: 1, terminated, truncated };
  }
}
