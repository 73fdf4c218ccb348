// End to end: a tiny GPT learns, by reinforcement fine-tuning with a reward function, to emit a
// target token more often (GRPO, REINFORCE/RLOO and PPO, each a few dozen steps on the CPU).
import { describe, expect, it } from 'vitest';
import { manualSeed, memory } from '@webgrad/core';
import { AdamW } from '@webgrad/optim';
import {
  ScalarHeadModel, createReferenceModel, generateRollouts, grpoStep, ppoStep, reinforceStep, type RewardFn,
} from '@webgrad/rl';
import { tinyGPT } from './helpers.js';

const TARGET = 5;
// Reward: the fraction of completion tokens that are the target token.
const reward: RewardFn = (_prompt, completion) => completion.filter((t) => t === TARGET).length / completion.length;
const prompts = [[1], [2]];

async function targetRate(policy: ReturnType<typeof tinyGPT>, seed: number): Promise<number> {
  const r = await generateRollouts(policy, prompts, { maxNewTokens: 3, numGenerations: 16, seed });
  const all = r.completions.flat();
  r.dispose();
  return all.filter((t) => t === TARGET).length / all.length;
}

describe('reinforcement fine-tuning with a reward function', () => {
  it('GRPO raises the target token rate', async () => {
    manualSeed(11);
    const policy = tinyGPT();
    const ref = createReferenceModel(policy);
    const opt = new AdamW(policy.parameters(), { lr: 2e-2, weightDecay: 0 });
    const before = await targetRate(policy, 100);
    let mem = 0;
    let last = 0;
    for (let step = 0; step < 30; step++) {
      const s = await grpoStep({ policy, ref, optimizer: opt, prompts, rewardFn: reward, config: { numGenerations: 4, maxNewTokens: 3, beta: 0.01, seed: step } });
      last = s.reward;
      if (step === 1) mem = memory().tensors;
      if (step > 1) expect(memory().tensors).toBe(mem); // memory flat across steps
    }
    const after = await targetRate(policy, 200);
    expect(before).toBeLessThan(0.3);
    expect(after).toBeGreaterThan(before + 0.3);
    expect(last).toBeGreaterThan(0.3);
    policy.dispose(); ref.dispose(); opt.dispose();
  });

  it('REINFORCE with a leave-one-out baseline raises the target token rate', async () => {
    manualSeed(12);
    const policy = tinyGPT();
    const opt = new AdamW(policy.parameters(), { lr: 2e-2, weightDecay: 0 });
    const before = await targetRate(policy, 100);
    for (let step = 0; step < 30; step++) {
      await reinforceStep({ policy, ref: null, optimizer: opt, prompts, rewardFn: reward, config: { numGenerations: 4, maxNewTokens: 3, seed: step } });
    }
    const after = await targetRate(policy, 200);
    expect(after).toBeGreaterThan(before + 0.3);
    policy.dispose(); opt.dispose();
  });

  it('PPO with a value model and a KL penalty raises the target token rate', async () => {
    manualSeed(13);
    const policy = tinyGPT();
    const ref = createReferenceModel(policy);
    const value = new ScalarHeadModel(tinyGPT());
    const opt = new AdamW([...policy.parameters(), ...value.parameters()], { lr: 1e-2, weightDecay: 0 });
    const before = await targetRate(policy, 100);
    for (let step = 0; step < 20; step++) {
      const rollout = await generateRollouts(policy, prompts, { maxNewTokens: 3, numGenerations: 4, seed: step });
      const scores = rollout.completions.map((c, i) => reward(rollout.prompts[i]!, c) as number);
      await ppoStep({ policy, ref, valueModel: value, optimizer: opt, rollout, scores, config: { epochs: 2, miniBatchSize: 4, klCoef: 0.01, seed: step } });
      rollout.dispose();
    }
    const after = await targetRate(policy, 200);
    expect(after).toBeGreaterThan(before + 0.3);
    policy.dispose(); ref.dispose(); value.dispose(); opt.dispose();
  });
});
