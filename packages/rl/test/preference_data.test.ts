// Preference pairs and batches: tokenization with EOS and truncation, the (2B, T) layout and its
// masks, and the concatenated forward against separate forwards of the chosen and rejected rows.
import { describe, expect, it } from 'vitest';
import { ValueError, manualSeed, noGrad, tensor } from '@webgrad/core';
import {
  RewardModel, collatePreferences, concatenatedLogProbs, precomputeRefLogProbs, concatenatedRewards, dpoLoss, makeRollout, tokenLogProbs, tokenizePreferencePair,
} from '@webgrad/rl';
import { expectClose, f32, read, tinyGPT } from './helpers.js';

/** Letters a… as ids 1…, EOS 7. */
const letters = { encode: (s: string) => [...s].map((c) => c.charCodeAt(0) - 96), eosId: 7 };

describe('preference pairs', () => {
  it('tokenizePreferencePair encodes prompt and completions apart, appends EOS and truncates', () => {
    expect(tokenizePreferencePair({ prompt: 'ab', chosen: 'c', rejected: 'de' }, letters)).toEqual({ prompt: [1, 2], chosen: [3, 7], rejected: [4, 5, 7] });
    expect(tokenizePreferencePair({ prompt: 'abc', chosen: 'c', rejected: 'def' }, letters, { maxPromptLength: 2, maxCompletionLength: 2, eosTokenId: 6 }))
      .toEqual({ prompt: [2, 3], chosen: [3, 6], rejected: [4, 5] });
    expect(tokenizePreferencePair({ prompt: 'a', chosen: 'b', rejected: 'c' }, letters, { eosTokenId: null })).toEqual({ prompt: [1], chosen: [2], rejected: [3] });
    expect(() => tokenizePreferencePair({ prompt: 'a', chosen: 'b', rejected: 'c' }, { encode: letters.encode })).toThrow(/eosId/);
    expect(() => tokenizePreferencePair({ prompt: 'a', chosen: 'b', rejected: 'c' }, letters, { maxPromptLength: 0 })).toThrow(ValueError);
  });

  it('collatePreferences: chosen rows then rejected rows, right-padded, with completion and attention masks', () => {
    const b = collatePreferences([{ prompt: [1, 2], chosen: [3], rejected: [4, 5] }, { prompt: [6], chosen: [1, 2, 3], rejected: [2] }], { padTokenId: 0 });
    expect(b.size).toBe(2);
    expect(b.inputIds.shape).toEqual([4, 4]);
    expect(read(b.inputIds)).toEqual([1, 2, 3, 0, 6, 1, 2, 3, 1, 2, 4, 5, 6, 2, 0, 0]);
    expect(read(b.attentionMask)).toEqual([1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    // Position t predicts token t + 1: 1 where that token is a completion token.
    expect(read(b.completionMask)).toEqual([0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0]);
    expect(b.refChosenLogps).toBeUndefined();
    const m = collatePreferences([{ prompt: [1], chosen: [2], rejected: [3], margin: 0.5, refChosenLogp: -1, refRejectedLogp: -2 }]);
    expect(read(m.margin!)).toEqual([0.5]);
    expect([read(m.refChosenLogps!), read(m.refRejectedLogps!)]).toEqual([[-1], [-2]]);
    expect(() => collatePreferences([{ prompt: [], chosen: [1], rejected: [2] }])).toThrow(/prompt is empty/);
    expect(() => collatePreferences([])).toThrow(ValueError);
  });
});

describe('concatenated forward', () => {
  const pairs = [
    { prompt: [1, 2], chosen: [3, 7], rejected: [4, 5, 6, 7] },
    { prompt: [5], chosen: [1, 2, 3, 7], rejected: [2, 7] },
    { prompt: [4, 4, 4], chosen: [6, 7], rejected: [1, 7] },
  ];

  it('equals separate forwards of the chosen and the rejected sequences', () => {
    manualSeed(5);
    const model = tinyGPT({ blockSize: 8 });
    const batch = collatePreferences(pairs);
    const cat = concatenatedLogProbs(model, batch);
    for (const side of ['chosen', 'rejected'] as const) {
      // Each side on its own, padded only to its own length.
      const r = makeRollout(pairs.map((p) => p.prompt), pairs.map((p) => p[side]));
      const sep = noGrad(() => tokenLogProbs(model, r.sequences, r.mask)).sum(1);
      expectClose(read(side === 'chosen' ? cat.chosenLogps : cat.rejectedLogps), read(sep), 1e-5);
      if (side === 'chosen') {
        const n = pairs.reduce((a, p) => a + p.chosen.length, 0);
        expectClose(read(cat.chosenNll), -read(sep).reduce((a, b) => a + b, 0) / n, 1e-5);
      }
      r.dispose();
    }
    const avg = concatenatedLogProbs(model, batch, { averageLogProb: true });
    expectClose(read(avg.chosenLogps), read(cat.chosenLogps).map((v, i) => v / pairs[i]!.chosen.length), 1e-5);
    // Gradients flow to the policy through both halves.
    const out = dpoLoss(cat.chosenLogps, cat.rejectedLogps, null, null, { referenceFree: true });
    out.loss.backward();
    expect(model.wte.weight.grad).not.toBeNull();
    model.dispose();
  });

  it('precomputeRefLogProbs stores the reference log-probs on copies of the pairs, in batches', async () => {
    manualSeed(7);
    const ref = tinyGPT({ blockSize: 8 });
    ref.train();
    const want = noGrad(() => concatenatedLogProbs(ref, collatePreferences(pairs)));
    const got = await precomputeRefLogProbs(ref, pairs, { batchSize: 2 });
    expect(ref.training).toBe(true);
    expect(pairs[0]).not.toHaveProperty('refChosenLogp');
    expectClose(got.map((p) => p.refChosenLogp!), read(want.chosenLogps), 1e-5);
    expectClose(got.map((p) => p.refRejectedLogp!), read(want.rejectedLogps), 1e-5);
    const b = collatePreferences(got);
    expectClose(read(b.refChosenLogps!), read(want.chosenLogps), 1e-5);
    ref.dispose();
  });

  it('concatenatedRewards reads each sequence at its last real token', () => {
    manualSeed(6);
    const rm = new RewardModel(tinyGPT({ blockSize: 8 }));
    const batch = collatePreferences(pairs, { padTokenId: 0 });
    const { chosen, rejected } = concatenatedRewards(rm, batch);
    for (const [side, got] of [['chosen', chosen], ['rejected', rejected]] as const) {
      const want = pairs.map((p) => {
        const ids = [...p.prompt, ...p[side]];
        return read(rm.forward(tensor([ids], { dtype: 'int32', device: 'cpu' })))[0]!;
      });
      expectClose(read(got), want, 1e-5);
    }
    expect(() => concatenatedRewards(rm, { ...batch, attentionMask: f32([[1]]) })).toThrow(/attentionMask/);
    rm.dispose();
  });
});
