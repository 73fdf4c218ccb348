// The actor-critic of CleanRL's ppo.py for CartPole: separate 64-64 tanh MLPs for the policy
// (logits over the 2 actions) and the value, orthogonal init with gain √2, and 0.01 / 1 on the
// policy / value output layers (Andrychowicz et al. 2021 on why the small policy output matters).
import { type Tensor } from '@webgrad/core';
import { Linear, Module, Sequential, Tanh, init } from '@webgrad/nn';

function layer(inF: number, outF: number, gain: number): Linear {
  const l = new Linear(inF, outF);
  init.orthogonal(l.weight, gain);
  init.zeros(l.bias!);
  return l;
}

export class ActorCritic extends Module {
  actor: Sequential;
  critic: Sequential;

  constructor(observationSize: number, actionCount: number, hidden = 64) {
    super();
    this.actor = new Sequential(layer(observationSize, hidden, Math.SQRT2), new Tanh(), layer(hidden, hidden, Math.SQRT2), new Tanh(), layer(hidden, actionCount, 0.01));
    this.critic = new Sequential(layer(observationSize, hidden, Math.SQRT2), new Tanh(), layer(hidden, hidden, Math.SQRT2), new Tanh(), layer(hidden, 1, 1));
  }

  /** Action logits (B, A) of observations (B, D). */
  forward(obs: Tensor): Tensor { return this.actor.forward(obs); }

  /** V(s) (B). */
  value(obs: Tensor): Tensor { return this.critic.forward(obs).squeeze(-1); }
}
