// RewardTrainer and DPOTrainer on a toy preference task (after a prompt, prefer the completion
// "b c" to "d e"): the loss falls and held-out accuracy reaches 1, metrics carry TRL's names, the
// reference policy gives the same numbers frozen or precomputed, rpoAlpha adds α × the chosen NLL,
// and a run stopped and resumed from its checkpoint ends where an uninterrupted one does.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValueError, manualSeed, memory } from '@webgrad/core';
import type { GPT } from '@webgrad/nn';
import { DPOTrainer, RewardModel, RewardTrainer, dpoLoss, type DPOConfig, type PreferenceText } from '@webgrad/rl';
import { readMetrics } from '@webgrad/train';
import { expectClose, f32, read, tinyGPT } from './helpers.js';

/** Letters a… as ids 1…, EOS 7. */
const letters = { encode: (s: string) => [...s].map((c) => c.charCodeAt(0) - 96), eosId: 7 };

const root = mkdtempSync(join(tmpdir(), 'webgrad-pref-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let runs = 0;
const out = () => join(root, `run${runs++}`);
const quiet = { handleSigint: false, fsync: false, stream: { write: () => true }, tty: false } as const;

// Prompts of one or two letters; chosen "bc", rejected one of a few wrong answers.
const PROMPTS = ['a', 'f', 'af', 'fa', 'aa', 'ff'];
const WRONG = ['de', 'cb', 'b'];
const data = (n: number, offset = 0): PreferenceText[] =>
  Array.from({ length: n }, (_, i) => ({ prompt: PROMPTS[(i + offset) % PROMPTS.length]!, chosen: 'bc', rejected: WRONG[(i + offset) % WRONG.length]! }));
const train = data(12);
const heldOut = data(6, 1);

function dpo(model: GPT, config: Partial<DPOConfig> = {}, extra: { refModel?: GPT } = {}): DPOTrainer {
  return new DPOTrainer({
    model, tokenizer: letters, trainDataset: train, evalDataset: heldOut, ...extra,
    config: { outDir: out(), batchSize: 4, evalBatchSize: 6, learningRate: 1e-2, lrSchedule: 'constant', logInterval: 2, ...quiet, ...config },
  });
}

describe('RewardTrainer', () => {
  it('learns the preference: loss falls, held-out accuracy 1, TRL metric names', async () => {
    manualSeed(1);
    const rm = new RewardModel(tinyGPT());
    const t = new RewardTrainer({ model: rm, tokenizer: letters, trainDataset: train, evalDataset: heldOut, config: { outDir: out(), batchSize: 4, epochs: 8, learningRate: 1e-2, logInterval: 3, ...quiet } });
    const before = await t.evaluate();
    const r = await t.train();
    const after = await t.evaluate();
    expect(Object.keys(after).sort()).toEqual(['eval_accuracy', 'eval_loss', 'eval_margin', 'eval_rewards/chosen', 'eval_rewards/rejected']);
    expect(after.eval_loss!).toBeLessThan(before.eval_loss! / 4);
    expect(after.eval_accuracy).toBe(1);
    expect(after.eval_margin!).toBeGreaterThan(2);
    expect(r.step).toBe(24);
    const logged = t.logHistory.find((h) => 'accuracy' in h)!;
    expect(Object.keys(logged).sort()).toEqual(['accuracy', 'epoch', 'learning_rate', 'loss', 'margin', 'rewards/chosen', 'rewards/rejected', 'step']);
    expect(t.logHistory.some((h) => 'eval_accuracy' in h && 'eval_loss' in h)).toBe(true);
    t.dispose();
    rm.dispose();
  });
});

describe('dpoLoss hinge', () => {
  it('is max(0, 1 − β·h) (SLiC, as TRL)', () => {
    const h = [2, -1, 0.5];
    const o = dpoLoss(f32(h), f32([0, 0, 0]), f32([0, 0, 0]), f32([0, 0, 0]), { lossType: 'hinge', beta: 0.5 });
    expectClose(read(o.losses), h.map((x) => Math.max(0, 1 - 0.5 * x)));
    expect(() => dpoLoss(f32(h), f32(h), f32(h), f32(h), { lossType: 'hinge', labelSmoothing: 0.1 })).toThrow(/labelSmoothing/);
  });
});

describe('DPOTrainer', () => {
  it('raises the implicit-reward accuracy on held-out pairs and logs TRL metric names', async () => {
    manualSeed(2);
    const model = tinyGPT();
    const mem = memory().tensors;
    const t = dpo(model, { epochs: 6, beta: 0.5 });
    const before = await t.evaluate();
    expect(before['eval_rewards/margins']).toBe(0); // the policy is its reference at the start
    const r = await t.train();
    const after = await t.evaluate();
    expect(after.eval_loss!).toBeLessThan(before.eval_loss! / 2);
    expect(after['eval_rewards/accuracies']).toBe(1);
    expect(after['eval_rewards/margins']!).toBeGreaterThan(0.5);
    const names = ['rewards/chosen', 'rewards/rejected', 'rewards/accuracies', 'rewards/margins', 'logps/chosen', 'logps/rejected', 'logits/chosen', 'logits/rejected'];
    expect(Object.keys(after).sort()).toEqual(['eval_loss', ...names.map((n) => `eval_${n}`)].sort());
    const logged = readMetrics(r.metricsPath).filter((x) => x.type === 'train');
    expect(logged.map((x) => x.step)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18]);
    for (const n of names) expect(typeof logged[0]![n]).toBe('number');
    expect(t.logHistory.filter((h) => 'rewards/margins' in h).map((h) => h.step)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(Object.keys(t.logHistory.find((h) => 'rewards/margins' in h)!).sort()).toEqual(['epoch', 'learning_rate', 'loss', 'step', ...names].sort());
    expect(t.logHistory.at(-1)!.epoch).toBe(6);
    // The Trainer's own log holds the eval_ metrics, so `best` can monitor them.
    const evals = readMetrics(r.metricsPath).filter((x) => x.type === 'eval');
    expect((evals.at(-1)!.metrics as Record<string, number>)['eval_rewards/accuracies']).toBe(1);
    // The reference copy is frozen: no gradients, weights unchanged while the policy moved.
    const ref = t.refModel!;
    expect(ref.parameters().every((p) => !p.requiresGrad)).toBe(true);
    const diff = read(ref.wte.weight).reduce((a, v, i) => a + Math.abs(v - read(model.wte.weight)[i]!), 0);
    expect(diff).toBeGreaterThan(0.1);
    t.dispose();
    expect(ref.wte.weight.isDisposed).toBe(true);
    expect(memory().tensors).toBe(mem); // batches, running sums, optimizer state and the reference all freed
    model.dispose();
  });

  it('the reference policy gives the same run frozen (a copy), given (refModel) or precomputed', async () => {
    const finals: Record<string, number>[] = [];
    for (const mode of ['copy', 'given', 'precomputed'] as const) {
      manualSeed(3);
      const model = tinyGPT();
      manualSeed(4);
      const given = mode === 'given' ? tinyGPT() : undefined;
      if (given) given.loadStateDict(model.stateDict());
      const t = dpo(model, { steps: 6, precomputeRefLogProbs: mode === 'precomputed' }, given ? { refModel: given } : {});
      expect(t.refModel === null).toBe(mode === 'precomputed');
      await t.train();
      finals.push(await t.evaluate());
      t.dispose();
      model.dispose();
      given?.dispose();
    }
    for (const k of Object.keys(finals[0]!)) {
      expectClose(finals[1]![k]!, finals[0]![k]!, 1e-4);
      expectClose(finals[2]![k]!, finals[0]![k]!, 1e-4);
    }
    expect(finals[0]!.eval_loss).toBeLessThan(Math.log(2));
  });

  it('rpoAlpha adds α × the NLL of the chosen completions', async () => {
    const evalOf = async (config: Partial<DPOConfig>) => {
      manualSeed(5);
      const model = tinyGPT();
      manualSeed(6);
      const refModel = tinyGPT(); // another policy, so the DPO term is not log 2
      const t = dpo(model, config, { refModel });
      const e = await t.evaluate();
      t.dispose();
      model.dispose();
      refModel.dispose();
      return e;
    };
    const plain = await evalOf({});
    const rpo = await evalOf({ rpoAlpha: 0.5 });
    expect(Math.abs(plain['eval_rewards/margins']!)).toBeGreaterThan(1e-3);
    expect(plain.eval_nll_loss).toBeUndefined();
    expect(rpo.eval_nll_loss!).toBeGreaterThan(0);
    expectClose(rpo.eval_loss!, plain.eval_loss! + 0.5 * rpo.eval_nll_loss!, 1e-5);
  });

  it('IPO, hinge and cDPO (label smoothing) train too', async () => {
    for (const config of [{ lossType: 'ipo', beta: 0.5 }, { lossType: 'hinge', beta: 0.5 }, { labelSmoothing: 0.1, beta: 0.5 }] as Partial<DPOConfig>[]) {
      manualSeed(6);
      const model = tinyGPT();
      const t = dpo(model, { epochs: 4, ...config });
      await t.train();
      expect((await t.evaluate())['eval_rewards/accuracies'], JSON.stringify(config)).toBe(1);
      t.dispose();
      model.dispose();
    }
  });

  it('a run stopped and resumed from its checkpoint ends where an uninterrupted run does', async () => {
    const run = async (outDir: string, steps: number, resume: boolean) => {
      manualSeed(7); // the same starting (SFT) weights: the reference copy is made from them
      const model = tinyGPT();
      const t = dpo(model, { outDir, steps, resume, evalInterval: 2 });
      await t.train();
      const w = read(model.lmHead.weight);
      t.dispose();
      model.dispose();
      return w;
    };
    const whole = await run(out(), 7, false);
    const dir = out();
    await run(dir, 3, false);
    expect(existsSync(join(dir, 'checkpoints'))).toBe(true);
    const resumed = await run(dir, 7, true);
    expectClose(resumed, whole, 1e-6);
    const logged = readMetrics(join(dir, 'metrics.jsonl')).filter((x) => x.type === 'train' && 'rewards/accuracies' in x).map((x) => x.step);
    expect(logged).toEqual([2, 3, 4, 6, 7]); // the first run's logs up to its checkpoint (step 3), then the resumed run's
  });

  it('checks its input and config', () => {
    const model = tinyGPT();
    const base = { model, tokenizer: letters, trainDataset: train, config: { outDir: out() } };
    expect(() => new DPOTrainer({ ...base, config: { outDir: out(), bogus: 1 } as DPOConfig })).toThrow(/bogus/);
    expect(() => new DPOTrainer({ ...base, config: { outDir: out(), beta: 0 } })).toThrow(/beta/);
    expect(() => new DPOTrainer({ ...base, config: { outDir: out(), lossType: 'ipo', labelSmoothing: 0.1 } })).toThrow(/labelSmoothing/);
    expect(() => new DPOTrainer({ ...base, config: { outDir: out(), lossType: 'nope' as never } })).toThrow(/lossType/);
    expect(() => new DPOTrainer({ ...base, refModel: model })).toThrow(/refModel/);
    expect(() => new DPOTrainer({ ...base, trainDataset: [{ prompt: 'abcdefg', chosen: 'bc', rejected: 'd' }] })).toThrow(/blockSize/);
    expect(() => new DPOTrainer({ ...base, tokenizer: null })).toThrow(/tokenizer/);
    expect(() => new DPOTrainer({ ...base, config: { outDir: out(), steps: 2, epochs: 1 } })).toThrow(ValueError);
    expect(() => new RewardTrainer({ ...base, model: model as never })).toThrow(/RewardModel|forward/);
    model.dispose();
  });
});
