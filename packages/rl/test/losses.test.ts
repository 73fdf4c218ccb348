// Each loss of @webgrad/rl against values computed by hand (the arithmetic is in the comments).
import { describe, expect, it } from 'vitest';
import { tensor, tidy } from '@webgrad/core';
import {
  AdaptiveKLController, baselineAdvantages, computeGAE, dpoLoss, groupAdvantages, grpoLoss, klPenalty,
  maskedMean, maskedVar, maskedWhiten, pairwiseRewardLoss, ppoPolicyLoss, ppoRewards, ppoValueLoss, reinforceLoss,
} from '@webgrad/rl';
import { expectClose, f32, num, read } from './helpers.js';

// softplus(x) = log(1 + e^x); −log σ(x) = softplus(−x).
const sp = (x: number) => Math.log1p(Math.exp(x));

describe('pairwise reward-model loss', () => {
  it('is −log σ(r_c − r_r) averaged, with accuracy and margin', () => tidy(() => {
    // diffs = [2−1, 0−1] = [1, −1] → losses softplus(−1) = 0.31326, softplus(1) = 1.31326 → mean 0.81326.
    const out = pairwiseRewardLoss(f32([2, 0]), f32([1, 1]));
    expectClose(num(out.loss), (sp(-1) + sp(1)) / 2);
    expectClose(num(out.loss), 0.8132617);
    expectClose(num(out.accuracy), 0.5); // only the first pair is ordered right
    expectClose(num(out.margin), 0); // mean of [1, −1]
  }));
  it('subtracts a margin', () => tidy(() => {
    // diffs − 0.5 = [0.5, −1.5] → (softplus(−0.5) + softplus(1.5)) / 2 = 1.0877451.
    expectClose(num(pairwiseRewardLoss(f32([2, 0]), f32([1, 1]), { margin: 0.5 }).loss), 1.0877451);
    // a per-pair margin tensor [0.5, 0.5] gives the same
    expectClose(num(pairwiseRewardLoss(f32([2, 0]), f32([1, 1]), { margin: f32([0.5, 0.5]) }).loss), 1.0877451);
  }));
  it('adds the centring term', () => tidy(() => {
    // (r_c + r_r)² = [9, 1] → mean 5; 0.01·5 = 0.05 on top of 0.8132617.
    expectClose(num(pairwiseRewardLoss(f32([2, 0]), f32([1, 1]), { centerRewardsCoefficient: 0.01 }).loss), 0.8632617);
  }));
  it('pushes r_chosen up and r_rejected down', () => tidy(() => {
    const c = f32([0, 0]).requiresGrad_();
    const r = f32([0, 0]).requiresGrad_();
    pairwiseRewardLoss(c, r).loss.backward();
    // d/dx −log σ(x) at 0 = −σ(0)·... = −0.5, divided by B = 2 → −0.25 for chosen, +0.25 for rejected.
    expectClose(read(c.grad!), [-0.25, -0.25]);
    expectClose(read(r.grad!), [0.25, 0.25]);
  }));
});

describe('DPO', () => {
  // policy chosen/rejected [−1, −2] / [−3, −1], reference all −2, β = 0.5:
  // chosen log-ratio [1, 0], rejected log-ratio [−1, 1], h = [2, −1], β·h = [1, −0.5].
  const run = (opts: Parameters<typeof dpoLoss>[4]) => dpoLoss(f32([-1, -2]), f32([-3, -1]), f32([-2, -2]), f32([-2, -2]), { beta: 0.5, ...opts });
  it('sigmoid loss and TRL metrics', () => tidy(() => {
    const out = run({});
    // losses softplus(−1) = 0.3132617, softplus(0.5) = 0.9740770 → mean 0.6436693
    expectClose(read(out.losses), [sp(-1), sp(0.5)]);
    expectClose(num(out.loss), 0.6436693);
    expectClose(read(out.chosenRewards), [0.5, 0]); // 0.5·[1, 0]
    expectClose(read(out.rejectedRewards), [-0.5, 0.5]); // 0.5·[−1, 1]
    expectClose(num(out.rewardAccuracy), 0.5); // 0.5 > −0.5 yes; 0 > 0.5 no
    expectClose(num(out.rewardMargin), 0.25); // mean([1, −0.5])
  }));
  it('label smoothing (cDPO), robust and IPO', () => tidy(() => {
    // cDPO ε = 0.1: mean(0.9·softplus(−βh) + 0.1·softplus(βh)) = 0.6686693
    expectClose(num(run({ labelSmoothing: 0.1 }).loss), 0.6686693);
    // robust ε = 0.1: mean((0.9·softplus(−βh) − 0.1·softplus(βh)) / 0.8) = 0.6124193
    expectClose(num(run({ labelSmoothing: 0.1, lossType: 'robust' }).loss), 0.6124193);
    // IPO: (h − 1/(2β))² = ([2, −1] − 1)² = [1, 4] → 2.5
    expectClose(num(run({ lossType: 'ipo' }).loss), 2.5);
    // reference-free: h = π_c − π_r = [2, −1] as well here (reference log-ratio is 0) → same loss
    expectClose(num(dpoLoss(f32([-1, -2]), f32([-3, -1]), null, null, { beta: 0.5, referenceFree: true }).loss), 0.6436693);
  }));
  it('rejects bad options', () => {
    expect(() => dpoLoss(f32([0]), f32([0]), null, null, {})).toThrow(/reference/);
    expect(() => dpoLoss(f32([0]), f32([0]), f32([0]), f32([0]), { lossType: 'ipo', labelSmoothing: 0.1 })).toThrow(/IPO/);
  });
});

describe('KL', () => {
  it('estimators at log π = −1, log π_ref = −1.5', () => tidy(() => {
    // log r = −0.5: k1 = 0.5, k2 = ½·0.25 = 0.125, k3 = e^−0.5 − 1 + 0.5 = 0.1065307, abs = 0.5
    const lp = f32([-1]);
    const ref = f32([-1.5]);
    expectClose(read(klPenalty(lp, ref, 'k1')), [0.5]);
    expectClose(read(klPenalty(lp, ref, 'k2')), [0.125]);
    expectClose(read(klPenalty(lp, ref, 'k3')), [0.1065307]);
    expectClose(read(klPenalty(lp, ref, 'abs')), [0.5]);
  }));
  it('adaptive controller', () => {
    // KL 9 vs target 6: error clip(0.5) = 0.2; β ← 0.2·(1 + 0.2·256/10000) = 0.201024
    const c = new AdaptiveKLController(0.2, 6, 10000);
    c.update(9, 256);
    expectClose(c.value, 0.201024, 1e-9);
    // KL 3: error −0.5 → −0.2; β ← 0.201024·(1 − 0.2·256/10000)
    c.update(3, 256);
    expectClose(c.value, 0.201024 * (1 - 0.00512), 1e-9);
  });
});

describe('masked statistics', () => {
  it('mean, unbiased variance and whitening ignore masked entries', () => tidy(() => {
    const x = f32([1, 2, 3, 100]);
    const m = f32([1, 1, 1, 0]);
    expectClose(num(maskedMean(x, m)), 2);
    expectClose(num(maskedVar(x, m)), 1); // ((−1)² + 0 + 1²) / (3 − 1)
    expectClose(read(maskedWhiten(x, m)), [-1, 0, 1, 0]);
    expectClose(read(maskedWhiten(x, m, { shiftMean: false })), [1, 2, 3, 0]);
  }));
});

describe('GAE', () => {
  it('matches a hand-computed three-step trajectory', () => tidy(() => {
    // r = [0, 0, 1], V = [0.5, 0.6, 0.7], γ = 0.9, λ = 0.8 (γλ = 0.72):
    // t=2: δ = 1 + 0 − 0.7 = 0.3                A = 0.3
    // t=1: δ = 0 + 0.9·0.7 − 0.6 = 0.03          A = 0.03 + 0.72·0.3 = 0.246
    // t=0: δ = 0 + 0.9·0.6 − 0.5 = 0.04          A = 0.04 + 0.72·0.246 = 0.21712
    // returns = A + V = [0.71712, 0.846, 1.0]
    const { advantages, returns } = computeGAE(f32([[0, 0, 1]]), f32([[0.5, 0.6, 0.7]]), { gamma: 0.9, lam: 0.8 });
    expectClose(read(advantages), [0.21712, 0.246, 0.3]);
    expectClose(read(returns), [0.71712, 0.846, 1.0]);
  }));
  it('a mask cuts the trajectory: prompt and padding never leak in', () => tidy(() => {
    // Same trajectory at columns 1..3 of a row of 5; column 0 (prompt) and 4 (pad) hold junk.
    const { advantages, returns } = computeGAE(f32([[7, 0, 0, 1, 9]]), f32([[3, 0.5, 0.6, 0.7, 8]]), { gamma: 0.9, lam: 0.8, mask: f32([[0, 1, 1, 1, 0]]) });
    expectClose(read(advantages), [0, 0.21712, 0.246, 0.3, 0]);
    expectClose(read(returns), [0, 0.71712, 0.846, 1.0, 0]);
  }));
});

describe('PPO', () => {
  it('shapes rewards: −β·KL per completion token, score on the last one', () => tidy(() => {
    // mask [0, 1, 1, 0]; k1 KL = log π − log π_ref = [·, −1 + 1.5, −2 + 1, ·] = [0, 0.5, −1, 0]
    // β = 0.1 → non-score [0, −0.05, 0.1, 0]; score 2 lands on column 2 → [0, −0.05, 2.1, 0]
    const out = ppoRewards(f32([2]), f32([[5, -1, -2, 0]]), f32([[0, -1.5, -1, 0]]), f32([[0, 1, 1, 0]]), { klCoef: 0.1 });
    expectClose(read(out.kl), [0, 0.5, -1, 0]);
    expectClose(read(out.nonScoreReward), [0, -0.05, 0.1, 0]);
    expectClose(read(out.rewards), [0, -0.05, 2.1, 0]);
  }));
  it('policy loss clips at the ratio boundaries (ε = 0.2)', () => tidy(() => {
    // tokens: (A, ratio) = (+1, 1.5) (−1, 1.5) (+1, 0.5) (−1, 0.5) (+1, 1.1)
    // −A·r vs −A·clip(r, 0.8, 1.2), take the max:
    //   (+1, 1.5): max(−1.5, −1.2) = −1.2  clipped → no gradient
    //   (−1, 1.5): max( 1.5,  1.2) =  1.5  unclipped
    //   (+1, 0.5): max(−0.5, −0.8) = −0.5  unclipped
    //   (−1, 0.5): max( 0.5,  0.8) =  0.8  clipped → no gradient
    //   (+1, 1.1): max(−1.1, −1.1) = −1.1  inside the trust region, unclipped
    // mean = (−1.2 + 1.5 − 0.5 + 0.8 − 1.1) / 5 = −0.1; clipFrac = 2/5
    const ratios = [1.5, 1.5, 0.5, 0.5, 1.1];
    const A = [1, -1, 1, -1, 1];
    const old = f32([[0, 0, 0, 0, 0]]);
    const lp = f32([ratios.map(Math.log)]).requiresGrad_();
    const out = ppoPolicyLoss(lp, old, f32([A]), f32([[1, 1, 1, 1, 1]]), 0.2);
    expectClose(num(out.loss), -0.1);
    expectClose(num(out.clipFrac), 0.4);
    // approxKL = ½·mean(log² r) = ½·(2·ln²1.5 + 2·ln²0.5 + ln²1.1) / 5
    expectClose(num(out.approxKL), 0.5 * (2 * Math.log(1.5) ** 2 + 2 * Math.log(0.5) ** 2 + Math.log(1.1) ** 2) / 5);
    out.loss.backward();
    // d/d log π of −A·r = −A·r, over N = 5; clipped tokens get 0
    expectClose(read(lp.grad!), [0, 1.5 / 5, -0.5 / 5, 0, -1.1 / 5]);
  }));
  it('value loss clips around the old values', () => tidy(() => {
    // V = [1, 0], V_old = [0.5, 0.5], R = [2, 0], ε_v = 0.2:
    //   token 1: (1 − 2)² = 1; clip → 0.7: (0.7 − 2)² = 1.69 → 1.69
    //   token 2: (0 − 0)² = 0; clip → 0.3: 0.09 → 0.09
    // loss = ½·mean(1.69, 0.09) = 0.445; clipFrac = 1
    const out = ppoValueLoss(f32([[1, 0]]), f32([[0.5, 0.5]]), f32([[2, 0]]), f32([[1, 1]]), 0.2);
    expectClose(num(out.loss), 0.445);
    expectClose(num(out.clipFrac), 1);
    // unclipped: ½·mean(1, 0) = 0.25
    expectClose(num(ppoValueLoss(f32([[1, 0]]), f32([[0.5, 0.5]]), f32([[2, 0]]), f32([[1, 1]]), null).loss), 0.25);
  }));
});

describe('GRPO', () => {
  it('normalizes advantages within each group', () => tidy(() => {
    // group [1, 2, 3]: mean 2, unbiased std 1 → [−1, 0, 1] / (1 + 1e-4); group [5, 5, 5]: std 0 → 0
    const a = groupAdvantages(f32([1, 2, 3, 5, 5, 5]), 3);
    expectClose(read(a), [-1 / 1.0001, 0, 1 / 1.0001, 0, 0, 0]);
    // each group has mean 0 and (for a non-constant group) std ≈ 1
    const g1 = read(a).slice(0, 3);
    expectClose(g1.reduce((x, y) => x + y, 0), 0);
    expectClose(read(groupAdvantages(f32([1, 2, 3, 5, 5, 5]), 3, { scaleRewards: false })), [-1, 0, 1, 0, 0, 0]);
    expect(() => groupAdvantages(f32([1, 2, 3]), 2)).toThrow(/divides/);
  }));
  it('clipped loss and its aggregations', () => tidy(() => {
    // A = [1, −1]; ratios [[1.5, 1.1], [0.5, ·]] with mask [[1, 1], [1, 0]], ε = 0.2:
    //   row 1 (A = 1): −min(1.5, 1.2) = −1.2; −min(1.1, 1.1) = −1.1 → row mean −1.15
    //   row 2 (A = −1): −min(−0.5, −0.8) = 0.8 → row mean 0.8
    // 'grpo' = mean(−1.15, 0.8) = −0.175; 'bnpo' = (−1.2 − 1.1 + 0.8)/3 = −0.5; 'dr_grpo' = −1.5/(2·2) = −0.375
    // clipped: (r 1.5 > 1.2, A > 0) and (r 0.5 < 0.8, A < 0) → 2 of 3 tokens
    const input = () => ({
      logProbs: f32([[Math.log(1.5), Math.log(1.1)], [Math.log(0.5), 3]]),
      oldLogProbs: f32([[0, 0], [0, 0]]),
      advantages: f32([1, -1]),
      mask: f32([[1, 1], [1, 0]]),
    });
    const out = grpoLoss(input(), { lossType: 'grpo' });
    expectClose(num(out.loss), -0.175);
    expectClose(num(out.clipRatio), 2 / 3);
    expectClose(num(grpoLoss(input(), { lossType: 'bnpo' }).loss), -0.5);
    expectClose(num(grpoLoss(input(), { lossType: 'dr_grpo' }).loss), -0.375);
    // β·k3 with the reference equal to the policy adds 0; with log π_ref = log π − 0.5 on every
    // token, k3 = e^−0.5 + 0.5 − 1 = 0.1065307 per token → +β·0.1065307 (every row mean includes it)
    const base = input();
    const ref = tidy(() => base.logProbs.sub(0.5));
    const withKl = grpoLoss({ ...base, refLogProbs: ref }, { beta: 0.1 });
    expectClose(num(withKl.loss), -0.175 + 0.1 * 0.1065307);
    expectClose(num(withKl.kl), 0.1065307);
  }));
  it('with one update per batch the gradient is −A·∇log π per token, averaged', () => tidy(() => {
    // ratio = 1, unclipped: ∂ℓ/∂log π_t = −A / (tokens in the row) / B
    const lp = f32([[-1, -2], [-0.5, -3]]).requiresGrad_();
    grpoLoss({ logProbs: lp, advantages: f32([1, -1]), mask: f32([[1, 1], [1, 0]]) }).loss.backward();
    expectClose(read(lp.grad!), [-0.25, -0.25, 0.5, 0]);
  }));
});

describe('REINFORCE / RLOO', () => {
  it('leave-one-out and mean baselines', () => tidy(() => {
    // k = 4, R = [1, 2, 3, 4]: b_i = (10 − R_i)/3 = [3, 8/3, 7/3, 2] → A = [−2, −2/3, 2/3, 2]
    expectClose(read(baselineAdvantages(f32([1, 2, 3, 4]), 4)), [-2, -2 / 3, 2 / 3, 2]);
    expectClose(read(baselineAdvantages(f32([1, 2, 3, 4]), 4, 'mean')), [-1.5, -0.5, 0.5, 1.5]);
    // two groups of 2: [1, 3] → [−2, 2]; [5, 5] → [0, 0]
    expectClose(read(baselineAdvantages(f32([1, 3, 5, 5]), 2)), [-2, 2, 0, 0]);
  }));
  it('loss is −mean A·Σ log π over completion tokens', () => tidy(() => {
    // sequence log-probs: [−1 − 2, −0.5] = [−3, −0.5]; A = [1, −2] → −mean(−3, 1) = 1
    const lp = f32([[-1, -2], [-0.5, -9]]).requiresGrad_();
    const loss = reinforceLoss(lp, f32([[1, 1], [1, 0]]), f32([1, -2]));
    expectClose(num(loss), 1);
    loss.backward();
    expectClose(read(lp.grad!), [-0.5, -0.5, 1, 0]); // −A_i / B on unmasked tokens
  }));
});

it('int labels stay int (sanity of the helpers)', () => {
  const t = tensor([1, 2], { device: 'cpu' });
  expect(t.dtype).toBe('int32');
  t.dispose();
});
