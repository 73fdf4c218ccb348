// Actor-critic PPO on CartPole-v1 (Schulman et al. 2017), with CleanRL's ppo.py recipe: E
// environments stepped together, T-step rollouts, GAE (γ 0.99, λ 0.95) that bootstraps truncated
// episodes, advantage normalization per minibatch, the clipped surrogate and clipped value loss,
// an entropy bonus, gradient clipping and a linearly annealed learning rate. Solved means a mean
// return ≥ 475 over 100 evaluation episodes (the 500-step cap is the most there is).
import { manualSeed, noGrad, tensor, tidy, type DeviceName, type Tensor } from '@webgrad/core';
import { AdamW, LrScheduler, clipGradNorm, lambdaLr } from '@webgrad/optim';
import { CartPole, Categorical, RolloutBuffer, VectorEnv, seededRandom } from '@webgrad/rl';
import { MetricsLog, ProgressBar, lineChart, type ProgressStream } from '@webgrad/train';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActorCritic } from './agent.js';

export interface PPOCartPoleOptions {
  device: DeviceName;
  seed: number;
  /** Environment steps in all (summed over environments). */
  totalSteps: number;
  numEnvs: number;
  /** Steps per environment per rollout. */
  rolloutSteps: number;
  lr: number;
  updateEpochs: number;
  minibatches: number;
  gamma: number;
  lam: number;
  clip: number;
  entCoef: number;
  vfCoef: number;
  maxGradNorm: number;
  /** Stop training once the last 20 finished episodes average at least this (0: never). */
  targetReturn: number;
  evalEpisodes: number;
  out: string;
  stream?: ProgressStream;
  tty?: boolean;
}

export const DEFAULTS: PPOCartPoleOptions = {
  device: 'cpu', seed: 1, totalSteps: 100_000, numEnvs: 4, rolloutSteps: 128, lr: 2.5e-3, updateEpochs: 4, minibatches: 4,
  gamma: 0.99, lam: 0.95, clip: 0.2, entCoef: 0.01, vfCoef: 0.5, maxGradNorm: 0.5, targetReturn: 490, evalEpisodes: 100, out: 'runs/ppo-cartpole',
};

export interface PPOCartPoleResult {
  envSteps: number;
  updates: number;
  trainSeconds: number;
  /** Finished training episodes: [env steps so far, return]. */
  episodes: [number, number][];
  eval: { episodes: number; meanReturn: number; minReturn: number; greedyMeanReturn: number };
  solved: boolean;
}

/** Run `episodes` evaluation episodes (sampled or greedy actions) and return their returns. */
async function evaluate(agent: ActorCritic, episodes: number, greedy: boolean, seed: number, device: DeviceName): Promise<number[]> {
  const n = Math.min(episodes, 20);
  const envs = new VectorEnv(Array.from({ length: n }, (_, i) => new CartPole({ seed: seed + i })));
  let obs = envs.reset(seed);
  const returns: number[] = [];
  while (returns.length < episodes) {
    const act = tidy(() => {
      const dist = new Categorical({ logits: agent.forward(tensor(obs, { shape: [n, 4], device })) });
      const a = greedy ? dist.mode() : dist.sample();
      dist.dispose();
      return a;
    });
    const actions = await act.data();
    act.dispose();
    const r = envs.step(actions);
    for (const f of r.finished) if (returns.length < episodes) returns.push(f.return);
    obs = r.observations;
  }
  return returns;
}

export async function ppoCartPole(o: PPOCartPoleOptions): Promise<PPOCartPoleResult> {
  const say = (s: string) => (o.stream ?? process.stdout).write(`${s}\n`);
  manualSeed(o.seed);
  const device = o.device;
  const agent = new ActorCritic(4, 2);
  if (device !== 'cpu') agent.to(device);
  const optimizer = new AdamW(agent.parameters(), { lr: o.lr, eps: 1e-5, weightDecay: 0 });
  const iterations = Math.max(1, Math.floor(o.totalSteps / (o.numEnvs * o.rolloutSteps)));
  const scheduler = new LrScheduler(optimizer, lambdaLr((t) => 1 - t / iterations));
  const envs = new VectorEnv(Array.from({ length: o.numEnvs }, (_, i) => new CartPole({ seed: o.seed * 1000 + i })));
  const buffer = new RolloutBuffer(o.rolloutSteps, o.numEnvs, 4);
  const rand = seededRandom(o.seed);
  mkdirSync(o.out, { recursive: true });
  const log = new MetricsLog(join(o.out, 'metrics.jsonl'));
  log.reset();
  log.append({ type: 'config', step: 0, config: { ...o, stream: undefined } as never });
  const bar = new ProgressBar({ total: iterations * o.numEnvs * o.rolloutSteps, stream: o.stream, tty: o.tty, itemsName: 'steps' });
  const episodes: [number, number][] = [];
  const E = o.numEnvs, mb = Math.ceil((E * o.rolloutSteps) / o.minibatches);

  let obs = envs.reset(o.seed);
  let envSteps = 0;
  let updates = 0;
  const t0 = performance.now();
  bar.start(0);
  for (let it = 0; it < iterations; it++) {
    // Rollout: act with the current policy; the values and log-probs are kept for the update.
    buffer.reset();
    for (let t = 0; t < o.rolloutSteps; t++) {
      const out = noGrad(() => tidy(() => {
        const x = tensor(obs, { shape: [E, 4], device });
        const dist = new Categorical({ logits: agent.forward(x) });
        const a = dist.sample();
        const lp = dist.logProb(a);
        dist.dispose();
        return [a, lp, agent.value(x)];
      }));
      const [a, lp, v] = await Promise.all(out.map((t) => t.data()));
      for (const t of out) t.dispose();
      const step = envs.step(a!);
      // A truncated episode bootstraps from the value of its real last observation.
      let finalValues: Float32Array | undefined;
      if (step.truncated.some((x) => x === 1)) {
        finalValues = new Float32Array(E);
        for (let e = 0; e < E; e++) {
          const last = step.finalObservations[e];
          if (!last || !step.truncated[e]) continue;
          const fv = noGrad(() => agent.value(tensor(last, { shape: [1, 4], device })));
          finalValues[e] = (await fv.data())[0]!;
          fv.dispose();
        }
      }
      buffer.add({ observations: obs, actions: a!, logProbs: lp!, values: v!, rewards: step.rewards, terminated: step.terminated, truncated: step.truncated, finalValues });
      for (const f of step.finished) {
        episodes.push([envSteps + E, f.return]);
        log.append({ type: 'episode', step: envSteps + E, return: f.return, length: f.length });
      }
      obs = step.observations;
      envSteps += E;
    }
    const lastV = noGrad(() => agent.value(tensor(obs, { shape: [E, 4], device })));
    buffer.computeAdvantages(await lastV.data(), { gamma: o.gamma, lam: o.lam });
    lastV.dispose();

    // Update: several epochs of shuffled minibatches over the rollout.
    const stats: Tensor[] = [];
    for (let epoch = 0; epoch < o.updateEpochs; epoch++) {
      for (const b of buffer.minibatches(mb, rand, device)) {
        stats.push(tidy(() => {
          const dist = new Categorical({ logits: agent.forward(b.observations) });
          const logRatio = dist.logProb(b.actions).sub(b.logProbs);
          const ratio = logRatio.exp();
          const adv = b.advantages.sub(b.advantages.mean()).div(b.advantages.std().add(1e-8));
          const pg = adv.mul(ratio).neg().maximum(adv.mul(ratio.clamp(1 - o.clip, 1 + o.clip)).neg()).mean();
          const v = agent.value(b.observations);
          const vClipped = b.values.add(v.sub(b.values).clamp(-o.clip, o.clip));
          const vLoss = v.sub(b.returns).square().maximum(vClipped.sub(b.returns).square()).mean().mul(0.5);
          const entropy = dist.entropy().mean();
          const loss = pg.add(vLoss.mul(o.vfCoef)).sub(entropy.mul(o.entCoef));
          loss.backward();
          clipGradNorm(agent.parameters(), o.maxGradNorm);
          optimizer.step();
          optimizer.zeroGrad();
          dist.dispose();
          for (const t of Object.values(b)) t.dispose();
          // approx KL (Schulman's k3 estimator) for the log
          return logRatio.exp().sub(1).sub(logRatio).mean().detach();
        }));
        updates++;
      }
    }
    scheduler.step();
    const kl = stats.length ? (await stats[stats.length - 1]!.item()) : 0;
    for (const s of stats) s.dispose();
    const recent = episodes.slice(-20).map(([, r]) => r);
    const meanRecent = recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : 0;
    log.append({ type: 'train', step: envSteps, mean_return_20: meanRecent, approx_kl: kl, lr: optimizer.paramGroups[0]!.lr });
    bar.update({ step: envSteps, lr: optimizer.paramGroups[0]!.lr, metrics: { 'return (last 20)': Math.round(meanRecent * 10) / 10, 'approx KL': kl } });
    if (o.targetReturn > 0 && recent.length >= 20 && meanRecent >= o.targetReturn) {
      bar.log(`the last 20 episodes average ${meanRecent.toFixed(1)} ≥ ${o.targetReturn} after ${envSteps} environment steps: stopping`);
      break;
    }
  }
  bar.done();
  const trainSeconds = (performance.now() - t0) / 1000;

  const sampled = await evaluate(agent, o.evalEpisodes, false, 10_000 + o.seed, device);
  const greedy = await evaluate(agent, o.evalEpisodes, true, 20_000 + o.seed, device);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const result: PPOCartPoleResult = {
    envSteps, updates, trainSeconds, episodes,
    eval: { episodes: o.evalEpisodes, meanReturn: mean(sampled), minReturn: Math.min(...sampled), greedyMeanReturn: mean(greedy) },
    solved: mean(sampled) >= 475,
  };
  log.append({ type: 'summary', step: envSteps, ...result.eval, train_s: trainSeconds, solved: result.solved });
  writeFileSync(join(o.out, 'returns.svg'), lineChart([{ name: 'episode return', points: episodes, color: '#1f77b4' }], { title: 'CartPole-v1: return per training episode', xLabel: 'environment steps', yLabel: 'return' }));
  say([
    '',
    '| | value |',
    '| --- | --- |',
    `| environment steps | ${envSteps.toLocaleString('en-US')} |`,
    `| training time | ${trainSeconds.toFixed(1)} s |`,
    `| mean return, ${o.evalEpisodes} episodes (sampled actions) | ${result.eval.meanReturn.toFixed(1)} (min ${result.eval.minReturn}) |`,
    `| mean return, ${o.evalEpisodes} episodes (greedy actions) | ${result.eval.greedyMeanReturn.toFixed(1)} |`,
    `| solved (≥ 475) | ${result.solved ? 'yes' : 'no'} |`,
    '',
    `metrics: ${join(o.out, 'metrics.jsonl')}   plot: ${join(o.out, 'returns.svg')}`,
  ].join('\n'));
  optimizer.dispose();
  agent.dispose();
  return result;
}
