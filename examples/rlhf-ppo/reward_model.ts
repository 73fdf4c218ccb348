// The reward model of rlhf-ppo: a RewardModel (the SFT policy's trunk + a scalar head, as TRL
// initialises it) trained with the Bradley–Terry pairwise loss (reward_model.ts in @webgrad/rl) on
// generated preference pairs — the right answer + EOS preferred to a worse completion — with TRL's
// centring term (0.01·mean((r_chosen + r_rejected)²), Eisenstein et al. 2023), which keeps scores
// near 0 for every prompt: a reward whose level varies from prompt to prompt is noise for PPO.
//
// Rejected completions come in two kinds. Easy: random digits, or the prompt's digits unsorted.
// Hard negatives: near misses that look right — sorted digits that are not the prompt's, the right
// answer without its EOS (running on). A model trained without hard negatives tends to learn
// "ascending digits" rather than "these digits ascending": a shortcut PPO then exploits (reward
// hacking), which the held-out accuracy on hard pairs exposes.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, noGrad, randint, tensor, type DeviceName, type Tensor } from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { AdamW, latestCheckpoint, loadCheckpoint } from '@webgrad/optim';
import { RewardModel, seededRandom } from '@webgrad/rl';
import { Trainer, type ProgressStream } from '@webgrad/train';
import type { CharTokenizer } from '../shared/char_tokenizer.js';
import { EOS, type CheckableTask } from '../shared/checkable_tasks.js';

export interface PreferencePairText { prompt: string; chosen: string; rejected: string; hard: boolean }

/** `n` pairs; with `hard`, half of the rejected completions are hard negatives. */
export function preferencePairs(task: CheckableTask, n: number, hard: boolean, rand: () => number): PreferencePairText[] {
  return Array.from({ length: n }, () => {
    const prompt = task.prompt(rand);
    const right = task.answer(prompt)!;
    const isHard = hard && rand() < 0.5;
    let rejected: string;
    if (isHard) {
      rejected = rand() < 0.6
        ? `${[...task.nearMiss(prompt, rand)].sort().join('')}${EOS}` // sorted, wrong digits
        : `${right}${right.at(-1)}`.padEnd(task.maxCompletion, right.at(-1)); // right digits, no EOS
      if (rejected === `${right}${EOS}`) rejected = `${right}${right.at(-1)}`;
    } else {
      rejected = rand() < 0.5
        ? `${prompt.slice(0, -1)}${EOS}` // unsorted
        : `${Array.from({ length: right.length }, () => Math.floor(rand() * 10)).join('')}${EOS}`; // random digits
      if (rejected === `${right}${EOS}`) rejected = `${right.slice(1)}${right[0]}${EOS}`;
    }
    return { prompt, chosen: `${right}${EOS}`, rejected, hard: isHard };
  });
}

export interface RewardModelOptions {
  task: CheckableTask;
  tokenizer: CharTokenizer;
  /** The SFT policy: its trunk initialises the reward model (copied). */
  policy: GPT;
  device: DeviceName;
  seed: number;
  pairs: number;
  hardNegatives: boolean;
  steps: number;
  batchSize: number;
  lr: number;
  dir: string;
  say: (s: string) => void;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
}

export interface TrainedRewardModel {
  model: RewardModel;
  reused: boolean;
  /** Held-out pairwise accuracy on easy pairs and on hard negatives. */
  accuracy: { easy: number; hard: number };
}

/** (B, T) ids right-padded with 0 and (B, T) masks of the real tokens, for rows of text. */
function encodeRows(tok: CharTokenizer, texts: readonly string[], device: DeviceName): { idx: Tensor; mask: Tensor } {
  const rows = texts.map((s) => tok.encode(s));
  const T = Math.max(...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * T);
  const m = new Float32Array(rows.length * T);
  rows.forEach((r, b) => { ids.set(r, b * T); m.fill(1, b * T, b * T + r.length); });
  return { idx: tensor(ids, { shape: [rows.length, T], dtype: 'int32', device }), mask: tensor(m, { shape: [rows.length, T], device }) };
}

/** Fraction of pairs the model ranks right. */
async function pairAccuracy(rm: RewardModel, tok: CharTokenizer, pairs: readonly PreferencePairText[], device: DeviceName): Promise<number> {
  if (!pairs.length) return NaN;
  const c = encodeRows(tok, pairs.map((p) => p.prompt + p.chosen), device);
  const r = encodeRows(tok, pairs.map((p) => p.prompt + p.rejected), device);
  rm.eval();
  const acc = noGrad(() => rm.forward(c.idx, c.mask).sub(rm.forward(r.idx, r.mask)).gt(0).float().mean());
  const v = await acc.item();
  for (const t of [c.idx, c.mask, r.idx, r.mask, acc]) t.dispose();
  return v;
}

/** Train (or reload) the reward model and measure it on held-out easy and hard pairs. */
export async function trainRewardModel(o: RewardModelOptions): Promise<TrainedRewardModel> {
  const want = { centered: 0.01, task: o.task.name, seed: o.seed, pairs: o.pairs, hardNegatives: o.hardNegatives, steps: o.steps, batchSize: o.batchSize, lr: o.lr };
  const trunk = new GPT(o.policy.config);
  trunk.loadStateDict(o.policy.stateDict());
  const model = new RewardModel(trunk);
  const heldOut = preferencePairs(o.task, 400, true, seededRandom(o.seed + 7777));
  const measure = async () => ({
    easy: await pairAccuracy(model, o.tokenizer, heldOut.filter((p) => !p.hard), o.device),
    hard: await pairAccuracy(model, o.tokenizer, heldOut.filter((p) => p.hard), o.device),
  });
  const ckptDir = join(o.dir, 'checkpoints');
  const latest = existsSync(ckptDir) ? await latestCheckpoint(ckptDir) : null;
  if (latest) {
    const meta = await loadCheckpoint(latest.path, { restoreRng: false });
    if (JSON.stringify((meta.extra as { user?: unknown } | undefined)?.user) === JSON.stringify(want)) {
      await loadCheckpoint(latest.path, { model, restoreRng: false });
      o.say(`reward model: reusing ${latest.path}`);
      return { model, reused: true, accuracy: await measure() };
    }
    rmSync(o.dir, { recursive: true, force: true });
  }
  const train = preferencePairs(o.task, o.pairs, o.hardNegatives, seededRandom(o.seed + 1));
  o.say(`reward model: Bradley–Terry on ${o.pairs} preference pairs (${o.hardNegatives ? 'half of them hard negatives' : 'no hard negatives'}), ${o.steps} steps`);
  manualSeed(o.seed + 1);
  const optimizer = new AdamW(model.parameters(), { lr: o.lr, weightDecay: 0 });
  const trainer = new Trainer({
    model, optimizer, steps: o.steps, outDir: o.dir, checkpointExtra: want, gradClip: 1, itemsName: 'pairs', itemsPerStep: o.batchSize,
    stream: o.stream, tty: o.tty, fsync: o.fsync, handleSigint: false, logInterval: 25,
    trainLoss: () => {
      const pickT = randint(0, train.length, [o.batchSize], { device: 'cpu' });
      const batch = Array.from(pickT.dataSync(), (i) => train[i]!);
      pickT.dispose();
      const c = encodeRows(o.tokenizer, batch.map((p) => p.prompt + p.chosen), o.device);
      const r = encodeRows(o.tokenizer, batch.map((p) => p.prompt + p.rejected), o.device);
      return model.pairwiseLoss(c.idx, r.idx, { chosenMask: c.mask, rejectedMask: r.mask, centerRewardsCoefficient: 0.01 }).loss;
    },
  });
  await trainer.run();
  optimizer.dispose();
  return { model, reused: false, accuracy: await measure() };
}
