// Classic control: distributions, CartPole's rules, episodic GAE against the per-trajectory GAE,
// and the rollout buffer's minibatches.
import { describe, expect, it } from 'vitest';
import { ValueError, gradients, manualSeed, memory, tensor, tidy } from '@webgrad/core';
import { CartPole, Categorical, Normal, RolloutBuffer, VectorEnv, computeEpisodicGAE, computeGAE, seededRandom } from '@webgrad/rl';

describe('Categorical and Normal', () => {
  it('log-probabilities, entropy and their gradients match the closed forms', async () => {
    const logits = tensor([[0.5, -1, 2], [0, 0, 0]], { dtype: 'float64', requiresGrad: true });
    const d = new Categorical({ logits });
    const lp = d.logProb(tensor([2, 1], { dtype: 'int32' }));
    const z0 = Math.log(Math.exp(0.5) + Math.exp(-1) + Math.exp(2));
    const got = Array.from(await lp.data());
    expect(got[0]).toBeCloseTo(2 - z0, 12);
    expect(got[1]).toBeCloseTo(-Math.log(3), 12);
    expect(Array.from(await d.entropy().data())[1]).toBeCloseTo(Math.log(3), 12);
    const [g] = gradients(lp.sum(), [logits]);
    const p0 = [0.5, -1, 2].map((x) => Math.exp(x - z0));
    expect(Array.from(await g!.data()).slice(0, 3).map((x, i) => x - ([0, 0, 1][i]! - p0[i]!))).toEqual([0, 0, 0].map(() => expect.closeTo(0, 12)));
    const n = new Normal(tensor([1], { dtype: 'float64' }), tensor([2], { dtype: 'float64' }));
    expect((await n.logProb(tensor([0], { dtype: 'float64' })).data())[0]).toBeCloseTo(-0.125 - Math.log(2) - 0.5 * Math.log(2 * Math.PI), 12);
    expect((await n.entropy().data())[0]).toBeCloseTo(0.5 + 0.5 * Math.log(2 * Math.PI) + Math.log(2), 12);
  });

  it('samples follow the probabilities and are reproducible', async () => {
    manualSeed(3);
    const probs = tensor([[0.1, 0.6, 0.3]], { dtype: 'float32' }).expand([20000, 3]).contiguous();
    const d = new Categorical({ probs });
    const a = Array.from(await d.sample().data());
    const freq = [0, 1, 2].map((k) => a.filter((x) => x === k).length / a.length);
    freq.forEach((f, k) => expect(Math.abs(f - [0.1, 0.6, 0.3][k]!)).toBeLessThan(0.015));
    manualSeed(3);
    expect(Array.from(await new Categorical({ probs }).sample().data())).toEqual(a);
    expect(() => d.logProb(tensor([0.5], { dtype: 'float32' }))).toThrow(/int32/);
  });
});

describe('CartPole', () => {
  it('ends on the angle or track limit, is cut at maxSteps, and is reproducible', () => {
    const env = new CartPole({ maxSteps: 500 });
    let obs = env.reset(7);
    const again = new CartPole().reset(7);
    expect(Array.from(obs)).toEqual(Array.from(again));
    expect(obs.every((v) => Math.abs(v) <= 0.05)).toBe(true);
    let steps = 0, r;
    do { r = env.step(1); steps++; } while (!r.terminated && !r.truncated);
    expect(r.terminated).toBe(true); // pushing right forever tips the pole over
    expect(Math.abs(r.observation[2]!) > (12 * Math.PI) / 180 || Math.abs(r.observation[0]!) > 2.4).toBe(true);
    expect(steps).toBeLessThan(60);
    expect(() => env.step(0)).toThrow(/reset/);
    const short = new CartPole({ maxSteps: 5 });
    short.reset(1);
    const rs = [0, 1, 0, 1, 0].map((a) => short.step(a));
    expect(rs.map((x) => x.truncated)).toEqual([false, false, false, false, true]);
    expect(rs.every((x) => x.reward === 1)).toBe(true);
    expect(() => short.step(2)).toThrow(ValueError);
  });

  it('a vector of environments resets finished ones and reports their returns', () => {
    const envs = new VectorEnv([new CartPole({ maxSteps: 3 }), new CartPole({ maxSteps: 4 })]);
    envs.reset(0);
    const ends: number[][] = [];
    for (let t = 0; t < 4; t++) ends.push(envs.step([0, 1]).finished.map((f) => f.return));
    expect(ends).toEqual([[], [], [3], [4]]);
  });
});

describe('episodic GAE', () => {
  it('equals the per-trajectory GAE on a finished episode, and bootstraps truncation', async () => {
    const r = [1, 0.5, -0.2, 2, 1], v = [0.3, -0.1, 0.8, 0.2, 0.6];
    const ep = computeEpisodicGAE({ rewards: r, values: v, terminated: [0, 0, 0, 0, 1], lastValues: [9], numEnvs: 1 }, { gamma: 0.9, lam: 0.8 });
    const ref = computeGAE(tensor([r], { dtype: 'float64' }), tensor([v], { dtype: 'float64' }), { gamma: 0.9, lam: 0.8 });
    Array.from(await ref.advantages.data()).forEach((a, i) => expect(ep.advantages[i]).toBeCloseTo(a, 5));
    // Truncated at t = 1 with V(final) = 2; a new episode runs t = 2..3 and continues (bootstrap 1.5).
    const tr = computeEpisodicGAE({
      rewards: [1, 1, 1, 1], values: [0, 0, 0, 0], terminated: [0, 0, 0, 0], truncated: [0, 1, 0, 0], finalValues: [0, 2, 0, 0], lastValues: [1.5], numEnvs: 1,
    }, { gamma: 0.5, lam: 1 });
    expect(Array.from(tr.advantages)).toEqual([1 + 0.5 * (1 + 0.5 * 2), 1 + 0.5 * 2, 1 + 0.5 * (1 + 0.5 * 1.5), 1 + 0.5 * 1.5]);
    expect(() => computeEpisodicGAE({ rewards: [1, 2, 3], values: [0, 0, 0], terminated: [0, 0, 0], lastValues: [0], numEnvs: 2 })).toThrow(ValueError);
  });
});

describe('RolloutBuffer', () => {
  it('hands out every stored step once per pass, as owned tensors', async () => {
    const before = memory().tensors;
    const buf = new RolloutBuffer(3, 2, 1);
    for (let t = 0; t < 3; t++) buf.add({ observations: [t * 2, t * 2 + 1], actions: [t, t], logProbs: [0, 0], values: [0, 0], rewards: [1, 1], terminated: [0, 0] });
    expect(() => buf.add({ observations: [0, 0], actions: [0, 0], logProbs: [0, 0], values: [0, 0], rewards: [0, 0], terminated: [0, 0] })).toThrow(/reset/);
    buf.computeAdvantages([0, 0], { gamma: 1, lam: 1 });
    const seen: number[] = [];
    for (const b of buf.minibatches(4, seededRandom(1))) {
      seen.push(...(await b.observations.data()));
      tidy(() => { for (const t of Object.values(b)) t.dispose(); });
    }
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(buf.returns!)).toEqual([3, 3, 2, 2, 1, 1]);
    expect(memory().tensors).toBe(before);
  });
});
