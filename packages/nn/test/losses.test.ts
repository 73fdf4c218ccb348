// Losses against torch.nn.functional (fixtures/losses.json, made by fixtures/make_losses.py with
// PyTorch in float64), float64 gradient checks, and sequenceLogProbs' masking rules.
import { describe, expect, it } from 'vitest';
import { Tensor, tensor, randn, tidy } from '@webgrad/core';
import {
  binaryCrossEntropy, bceWithLogits, cosineSimilarity, crossEntropy, klDiv, l1Loss, mseLoss, nllLoss, sequenceLogProbs,
} from '@webgrad/nn';
import { DEVICES, onCpu, expectClose, fixedRandom, gradcheck, loadFixture, toTensor, type JT } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const F = loadFixture<Record<string, any>>('losses');
const R = ['mean', 'sum', 'none'] as const;

describe.each(DEVICES)('losses on %s', (device) => {
  // float64 is a CPU-only dtype: on 'cpu' the fixtures are checked in float64 to the tight tolerance
  // each case gives, on other devices in float32 to a float32 tolerance (absolute 1e-5 plus the
  // default relative 1e-4; the fixture values are O(1–10)).
  const f64 = device === 'cpu';
  const T = (j: JT) => toTensor(j, { dtype: f64 ? 'float64' : 'float32', device });
  const tol = (atol64: number): number => (f64 ? atol64 : 1e-5);
  const I = (a: unknown) => tensor(a as number[], { dtype: 'int32', device });

  it('nllLoss (ignoreIndex, class weights, reductions)', async () => {
    const f = F.nll;
    const lp = T(f.logp), tg = I(f.target), w = T(f.weight);
    for (const r of R) await expectClose(nllLoss(lp, tg, { reduction: r }), f[r], tol(1e-10));
    await expectClose(nllLoss(lp, tg, { weight: w }), f.weightedMean, tol(1e-10));
    // crossEntropy on logits equals nllLoss on log-softmax.
    const a = crossEntropy(lp, tg), b = nllLoss(lp.logSoftmax(-1), tg);
    expect(await a.item()).toBeCloseTo(await b.item(), f64 ? 10 : 5);
  });

  it('mseLoss and l1Loss', async () => {
    const a = T(F.mse.a), b = T(F.mse.b);
    for (const r of R) {
      await expectClose(mseLoss(a, b, { reduction: r }), F.mse[r], tol(1e-10));
      await expectClose(l1Loss(a, b, { reduction: r }), F.l1[r], tol(1e-10));
    }
    expect(() => mseLoss(a, b.reshape([4, 3]))).toThrow(/same shape/);
  });

  it('binaryCrossEntropy and bceWithLogits (posWeight, large logits stay finite)', async () => {
    const p = T(F.bce.p), y = T(F.bce.y), w = T(F.bce.w);
    for (const r of R) await expectClose(binaryCrossEntropy(p, y, { reduction: r }), F.bce[r], tol(1e-9));
    await expectClose(binaryCrossEntropy(p, y, { weight: w }), F.bce.weighted, tol(1e-9));
    const f = F.bceLogits;
    const x = T(f.x), pw = T(f.posWeight);
    for (const r of R) await expectClose(bceWithLogits(x, y, { reduction: r }), f[r], tol(1e-9));
    await expectClose(bceWithLogits(x, y, { posWeight: pw, reduction: 'none' }), f.pos, tol(1e-9));
    await expectClose(bceWithLogits(x, y, { posWeight: pw, weight: w }), f.posWeighted, tol(1e-9));
  });

  it('klDiv (PyTorch semantics: log-prob input, zero targets, batchmean, logTarget)', async () => {
    const f = F.kl;
    const inp = T(f.input), t = T(f.target), lt = T(f.logTarget);
    for (const r of [...R, 'batchmean'] as const) await expectClose(klDiv(inp, t, { reduction: r }), f[r], tol(1e-10));
    await expectClose(klDiv(inp, lt, { reduction: 'batchmean', logTarget: true }), f.logTargetBatchmean, tol(1e-9));
  });

  it('cosineSimilarity', async () => {
    const u = T(F.cos.u), v = T(F.cos.v);
    await expectClose(cosineSimilarity(u, v), F.cos.dim1, tol(1e-10));
    await expectClose(cosineSimilarity(u, v, { dim: 0 }), F.cos.dim0, tol(1e-10));
  });

  it('sequenceLogProbs: masked sums/means; masked labels of -100 are never indexed', async () => {
    const f = F.seq;
    const logits = T(f.logits), labels = I(f.labels), mask = I(f.mask);
    await expectClose(sequenceLogProbs(logits, labels, mask, { reduction: 'none' }), f.none, tol(1e-10));
    await expectClose(sequenceLogProbs(logits, labels, mask), f.sum, tol(1e-10));
    await expectClose(sequenceLogProbs(logits, labels, mask, { reduction: 'mean' }), f.mean, tol(1e-10));
    // Without a mask, negative labels are skipped.
    const nomask = await sequenceLogProbs(logits, labels, null, { reduction: 'none' }).data();
    expect(Math.abs(nomask[3]!)).toBe(0);
    expect(() => sequenceLogProbs(logits, labels.narrow(1, 0, 3), null)).toThrow(/expected logits \[B, T, V\] and labels \[B, T\]/);
  });

  // Central differences need float64, a CPU-only dtype, so this check runs on 'cpu' only.
  onCpu(device)('gradients agree with central differences in float64', () => {
    const x = randn([3, 4], { dtype: 'float64', requiresGrad: true });
    const y = tensor([[0, 1, 1, 0], [1, 0.3, 0, 1], [0, 0, 1, 1]], { dtype: 'float64' });
    const pw = tensor([0.5, 1, 2, 3], { dtype: 'float64' });
    const p = tidy(() => x.sigmoid().detach());
    p.requiresGrad = true;
    const t = tidy(() => randn([3, 4], { dtype: 'float64' }).softmax(-1));
    const lp = tidy(() => randn([3, 4], { dtype: 'float64' }).logSoftmax(-1).detach());
    lp.requiresGrad = true;
    const tg = tensor([1, -100, 3], { dtype: 'int32' });
    const checks: [() => Tensor, Tensor[]][] = [
      [() => bceWithLogits(x, y, { posWeight: pw }), [x]],
      [() => binaryCrossEntropy(p, y), [p]],
      [() => mseLoss(x, y), [x]],
      [() => klDiv(lp, t, { reduction: 'batchmean' }), [lp]],
      [() => nllLoss(lp, tg), [lp]],
      [() => cosineSimilarity(x, y).sum(), [x]],
    ];
    for (const [f, xs] of checks) gradcheck(f, xs);
    const logits = randn([2, 3, 5], { dtype: 'float64', requiresGrad: true });
    const labels = tensor([[1, -100, 4], [0, 2, 2]], { dtype: 'int32' });
    const mask = tensor([[1, 0, 1], [1, 1, 0]], { dtype: 'int32' });
    const w = fixedRandom([2], 9);
    gradcheck(() => sequenceLogProbs(logits, labels, mask, { reduction: 'mean' }).mul(w).sum(), [logits]);
  });
});
