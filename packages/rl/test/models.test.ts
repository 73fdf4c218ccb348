// Rollouts, log-probs, the reward/value heads, and training-direction checks on a tiny GPT.
import { describe, expect, it } from 'vitest';
import { manualSeed, memory, noGrad, tensor, tidy } from '@webgrad/core';
import { AdamW } from '@webgrad/optim';
import {
  RewardModel, ScalarHeadModel, createReferenceModel, dpoLoss, generateRollouts, gptHiddenStates, makeRollout,
  maskedSum, pairwiseRewardLoss, ppoStep, tokenLogProbs,
} from '@webgrad/rl';
import { expectClose, num, read, tinyGPT } from './helpers.js';

describe('rollouts', () => {
  it('makeRollout right-pads and masks only completion tokens', () => {
    // row 0: prompt [1, 2] + completion [3] → [1, 2, 3, 0]; labels [2, 3, 0] → mask [0, 1, 0]
    // row 1: prompt [4] + completion [5, 6, 7] → [4, 5, 6, 7]; labels [5, 6, 7] → mask [1, 1, 1]
    const r = makeRollout([[1, 2], [4]], [[3], [5, 6, 7]], { padToken: 0 });
    expect(read(r.sequences)).toEqual([1, 2, 3, 0, 4, 5, 6, 7]);
    expect(read(r.mask)).toEqual([0, 1, 0, 1, 1, 1]);
    r.dispose();
  });

  it('generateRollouts groups samples per prompt, cuts at the stop token, and excludes prompts', async () => {
    manualSeed(1);
    const gpt = tinyGPT();
    const r = await generateRollouts(gpt, [[1, 2], [3]], { maxNewTokens: 4, numGenerations: 3, stopTokens: [7], padToken: 0, seed: 5 });
    expect(r.promptIndex).toEqual([0, 0, 0, 1, 1, 1]);
    expect(r.prompts.slice(0, 3)).toEqual([[1, 2], [1, 2], [1, 2]]);
    const seqs = read(r.sequences);
    const mask = read(r.mask);
    const T = r.sequences.shape[1]!;
    for (let b = 0; b < 6; b++) {
      const p = r.prompts[b]!;
      const c = r.completions[b]!;
      expect(c.length).toBeGreaterThan(0);
      expect(c.length).toBeLessThanOrEqual(4);
      if (c.includes(7)) expect(c.indexOf(7)).toBe(c.length - 1); // nothing after the stop token
      else expect(c.length).toBe(4);
      expect(seqs.slice(b * T, b * T + p.length)).toEqual(p);
      expect(seqs.slice(b * T + p.length, b * T + p.length + c.length)).toEqual(c);
      const rowMask = mask.slice(b * (T - 1), (b + 1) * (T - 1));
      expect(rowMask.reduce((a, x) => a + x, 0)).toBe(c.length);
      expect(rowMask.slice(0, p.length - 1).every((x) => x === 0)).toBe(true); // prompt excluded
    }
    // same seed → same samples
    const r2 = await generateRollouts(gpt, [[1, 2], [3]], { maxNewTokens: 4, numGenerations: 3, stopTokens: [7], padToken: 0, seed: 5 });
    expect(r2.completions).toEqual(r.completions);
    r.dispose(); r2.dispose(); gpt.dispose();
  });

  it('tokenLogProbs equals log-softmax at each completion token, and padding does not change it', () => {
    manualSeed(2);
    const gpt = tinyGPT();
    const r = makeRollout([[1, 2], [4]], [[3], [5, 6, 7]], { padToken: 0 });
    const lp = noGrad(() => tokenLogProbs(gpt, r.sequences, r.mask));
    // row 0's completion token 3 is predicted at position 1 from [1, 2]: compare with an unpadded forward
    const row0 = read(lp).slice(0, 3);
    const expected = noGrad(() => tidy(() => num(gpt.forward(tensor([[1, 2]], { dtype: 'int32', device: 'cpu' })).logits.select(1, 1).logSoftmax(-1).narrow(1, 3, 1))));
    expectClose(row0, [0, expected, 0]);
    lp.dispose(); r.dispose(); gpt.dispose();
  });
});

describe('heads', () => {
  it('RewardModel reads the score at the last non-pad token', () => {
    manualSeed(3);
    const rm = new RewardModel(tinyGPT(), { padTokenId: 0 });
    noGrad(() => tidy(() => {
      const padded = tensor([[1, 2, 3, 0, 0], [4, 5, 6, 7, 1]], { dtype: 'int32', device: 'cpu' });
      const r = read(rm.forward(padded));
      const perPos0 = read(rm.score.forward(gptHiddenStates(rm.backbone, tensor([[1, 2, 3]], { dtype: 'int32', device: 'cpu' }))));
      const perPos1 = read(ScalarHeadModel.prototype.forward.call(rm, tensor([[4, 5, 6, 7, 1]], { dtype: 'int32', device: 'cpu' })));
      expectClose(r, [perPos0[2]!, perPos1[4]!]);
    }));
    rm.dispose();
  });

  it('a few reward-model steps order a preference pair', () => {
    manualSeed(4);
    const rm = new RewardModel(tinyGPT(), { padTokenId: 0 });
    const opt = new AdamW(rm.parameters(), { lr: 1e-2, weightDecay: 0 });
    const chosen = tensor([[1, 2, 3], [1, 4, 0]], { dtype: 'int32', device: 'cpu' });
    const rejected = tensor([[1, 2, 5], [1, 6, 6]], { dtype: 'int32', device: 'cpu' });
    let acc = 0;
    for (let i = 0; i < 15; i++) {
      acc = tidy(() => {
        const out = rm.pairwiseLoss(chosen, rejected);
        out.loss.backward();
        opt.step(); opt.zeroGrad();
        return num(out.accuracy);
      });
    }
    const final = noGrad(() => tidy(() => num(pairwiseRewardLoss(rm.forward(chosen), rm.forward(rejected)).accuracy)));
    expect(final).toBe(1);
    expect(acc).toBeGreaterThanOrEqual(0);
    chosen.dispose(); rejected.dispose(); opt.dispose(); rm.dispose();
  });
});

describe('DPO on a tiny GPT', () => {
  it('raises the chosen log-prob relative to the rejected one', () => {
    manualSeed(5);
    const policy = tinyGPT();
    const ref = createReferenceModel(policy);
    const opt = new AdamW(policy.parameters(), { lr: 5e-3, weightDecay: 0 });
    const chosen = makeRollout([[1, 2], [3]], [[4, 5], [6]], { padToken: 0 });
    const rejected = makeRollout([[1, 2], [3]], [[5, 4], [2]], { padToken: 0 });
    const seqLp = (m: typeof policy, r: typeof chosen) => maskedSum(tokenLogProbs(m, r.sequences, r.mask), r.mask, 1); // (B)
    const [refC, refR] = noGrad(() => [seqLp(ref, chosen), seqLp(ref, rejected)]);
    const gap = () => noGrad(() => tidy(() => read(seqLp(policy, chosen).sub(seqLp(policy, rejected)))));
    const before = gap();
    const before0 = memory().tensors;
    let acc = 0;
    for (let i = 0; i < 8; i++) {
      acc = tidy(() => {
        const out = dpoLoss(seqLp(policy, chosen), seqLp(policy, rejected), refC!, refR!, { beta: 0.5 });
        out.loss.backward();
        opt.step(); opt.zeroGrad();
        return num(out.rewardAccuracy);
      });
    }
    const after = gap();
    for (let b = 0; b < 2; b++) expect(after[b]!).toBeGreaterThan(before[b]! + 0.1);
    expect(acc).toBe(1);
    // the step loop holds memory flat apart from optimizer state created on the first step
    const mid = memory().tensors;
    tidy(() => { const out = dpoLoss(seqLp(policy, chosen), seqLp(policy, rejected), refC!, refR!); out.loss.backward(); opt.step(); opt.zeroGrad(); });
    expect(memory().tensors).toBe(mid);
    expect(mid).toBeGreaterThanOrEqual(before0);
    refC!.dispose(); refR!.dispose(); chosen.dispose(); rejected.dispose(); policy.dispose(); ref.dispose(); opt.dispose();
  });
});

describe('ppoStep', () => {
  it('runs epochs × minibatches and reports finite statistics', async () => {
    manualSeed(6);
    const policy = tinyGPT();
    const ref = createReferenceModel(policy);
    const value = new ScalarHeadModel(tinyGPT());
    const opt = new AdamW([...policy.parameters(), ...value.parameters()], { lr: 1e-3, weightDecay: 0 });
    const rollout = await generateRollouts(policy, [[1], [2]], { maxNewTokens: 3, numGenerations: 2, seed: 1 });
    const scores = rollout.completions.map((c) => c.filter((t) => t === 5).length);
    const before = memory().tensors;
    const stats = await ppoStep({ policy, ref, valueModel: value, optimizer: opt, rollout, scores, config: { epochs: 2, miniBatchSize: 2 } });
    for (const [k, v] of Object.entries(stats)) expect(Number.isFinite(v), k).toBe(true);
    // first epoch, first minibatch: the policy equals the one that sampled → ratio 1 on average
    expect(stats['policy/ratio']).toBeGreaterThan(0.9);
    expect(stats['objective/kl']).toBeGreaterThanOrEqual(-1e-3); // at step 0 policy = reference
    const after = memory().tensors;
    // only optimizer state (2 moments per parameter) may have been added
    expect(after - before).toBe(2 * opt.params().length);
    rollout.dispose(); policy.dispose(); ref.dispose(); value.dispose(); opt.dispose();
  });
});
