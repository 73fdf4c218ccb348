// A Bradley–Terry reward model on preference pairs with @webgrad/rl's RewardTrainer: the
// instruction-tuned character GPT (sft's checkpoint) with a scalar head, trained on generated
// pairs for sft's "sort" task or a user's { prompt, chosen, rejected } JSONL; held-out accuracy and
// margin before and after. On generated data it then scores the sft policy's own sampled answers:
// how often a sorted answer outscores a wrong one, and the share of sorted answers when the best
// of n samples is kept (best-of-n).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRange, manualSeed, type DeviceName } from '@webgrad/core';
import { RewardModel, RewardTrainer, type LogRecord } from '@webgrad/rl';
import { formatSummary, type TrainResult } from '@webgrad/train';
import { END } from '../sft/prompt.js';
import { loadPretrainedGpt } from '../shared/pretrained_gpt.js';
import { sampleSortAnswers } from '../shared/sampled_answers.js';
import { checkPreferenceTaskOptions, evalBeforeAfter, setUpPreferenceTask, type PreferenceTaskOptions } from '../shared/preference_task.js';
import { formatTable, percent } from '../shared/table.js';
import { fitVocabulary } from '../shared/vocab_extension.js';
import { bestOfN, type BestOfN } from './best_of_n.js';

/** The shared options (here `sft` is the model whose trunk the reward model becomes, and `samplePrompts`
 *  the held-out prompts of best-of-n, 0 skipping it) and the weight of reward centring. */
export interface RewardModelOptions extends PreferenceTaskOptions {
  /** Weight of TRL's reward-centring term (0: off). */
  centerRewards: number;
  handleSigint?: boolean;
}

export const DEFAULT_OPTIONS: RewardModelOptions = {
  device: 'auto', sft: 'runs/sft', promptTemplate: 'sft', trainPairs: 1200, evalPairs: 200, epochs: 3, batchSize: 16, lr: 3e-4, warmup: 10, centerRewards: 0.01,
  samplePrompts: 100, samplesPerPrompt: 4, temperature: 1, seed: 1337, out: 'runs/reward-model', resume: false,
};

export interface RewardModelResult {
  device: DeviceName;
  sftCheckpoint: string;
  data: { source: string; train: number; eval: number };
  /** eval_loss, eval_accuracy, eval_margin, … before and after training. */
  before: Record<string, number>;
  after: Record<string, number>;
  bestOfN: BestOfN | null;
  train: TrainResult;
  logHistory: LogRecord[];
  table: string;
  resultPath: string;
}

/** Check the options a caller (or a flag) may get wrong. */
export function checkRewardModelOptions(o: RewardModelOptions): void {
  const op = 'reward-model';
  checkPreferenceTaskOptions(op, o);
  checkRange(op, 'centerRewards', o.centerRewards, 0, Infinity);
}

export async function rewardModelExample(o: RewardModelOptions): Promise<RewardModelResult> {
  checkRewardModelOptions(o);
  const { device, stream, say, sft, pairs, text } = await setUpPreferenceTask(o);
  const { model: backbone, tokenizer } = await fitVocabulary(sft.model, sft.tokenizer, text, say);
  const end = tokenizer.encode(END)[0]!;

  manualSeed(o.seed);
  const rm = new RewardModel(backbone); // the sft trunk and a new scalar head, read at the last real token
  say(`\n=== reward model: the sft GPT + a scalar head (${rm.numParameters().toLocaleString('en-US')} parameters), ${o.epochs} epochs of ${o.batchSize} pairs, lr ${o.lr} ===`);
  const trainer = new RewardTrainer({
    model: rm, tokenizer, trainDataset: pairs.train, evalDataset: pairs.eval,
    config: {
      outDir: o.out, epochs: o.epochs, batchSize: o.batchSize, evalBatchSize: 50, learningRate: o.lr, warmupSteps: o.warmup, lrSchedule: 'linear',
      centerRewardsCoefficient: o.centerRewards, eosTokenId: end, padTokenId: end, seed: o.seed, logInterval: 10, resume: o.resume,
      best: { metric: 'eval_accuracy', mode: 'max' },
      checkpointExtra: { model: { ...sft.config, vocabSize: tokenizer.vocabSize }, chars: tokenizer.chars.join(''), rewardModel: true },
      runConfig: {
        sft: sft.checkpoint, data: pairs.source, epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, warmup: o.warmup, centerRewards: o.centerRewards, seed: o.seed,
      },
      stream, tty: o.tty, fsync: o.fsync, handleSigint: o.handleSigint,
    },
  });
  try {
    const train = await trainer.train();
    say(formatSummary(train));
    const { before, after } = evalBeforeAfter(train);

    let bon: BestOfN | null = null;
    if (pairs.generated && o.samplePrompts > 0) {
      const policy = await loadPretrainedGpt(sft.checkpoint, device);
      const prompts = pairs.eval.slice(0, o.samplePrompts).map((r) => r.prompt);
      const report = await sampleSortAnswers(policy.model, policy.tokenizer, prompts, { perPrompt: o.samplesPerPrompt, temperature: o.temperature, seed: o.seed, end: END });
      policy.model.dispose();
      bon = await bestOfN(rm, report, prompts.map((p) => Array.from(tokenizer.encode(p))), device);
    }

    const f = (x: number | undefined, d = 3) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(d));
    const rows: string[][] = [
      ['held-out accuracy (r_chosen > r_rejected)', percent(before.eval_accuracy!), percent(after.eval_accuracy!)],
      ['held-out margin (mean r_chosen − r_rejected)', f(before.eval_margin), f(after.eval_margin)],
      ['held-out loss', f(before.eval_loss), f(after.eval_loss)],
    ];
    let table = formatTable([`reward model (${pairs.eval.length} held-out pairs)`, 'before', 'after'], rows);
    if (bon) {
      table += `\n\n${formatTable([`on the sft policy's sampled answers (${bon.n} per prompt, ${o.samplePrompts} held-out prompts)`, 'value'], [
        ['sorted answers among all samples', percent(bon.sortedRate)],
        [`sorted answers, best of ${bon.n} by reward`, percent(bon.bestOfNSortedRate)],
        [`sorted ranked above wrong (${bon.rankedPairs} pairs)`, percent(bon.rankingAccuracy)],
        ['mean reward: sorted / other samples', `${f(bon.meanScoreSorted, 2)} / ${f(bon.meanScoreOther, 2)}`],
      ])}`;
    }
    say(`\n${table}`);
    const resultPath = join(o.out, 'results.json');
    writeFileSync(resultPath, `${JSON.stringify({
      device, sft: sft.checkpoint, data: { source: pairs.source, train: pairs.train.length, eval: pairs.eval.length }, before, after, bestOfN: bon,
      steps: train.step, wallSeconds: train.wallSeconds, checkpoint: train.checkpoint, metrics: train.metricsPath,
    }, null, 2)}\n`);
    say(`results: ${resultPath}`);
    return {
      device, sftCheckpoint: sft.checkpoint, data: { source: pairs.source, train: pairs.train.length, eval: pairs.eval.length },
      before, after, bestOfN: bon, train, logHistory: trainer.logHistory, table, resultPath,
    };
  } finally {
    trainer.dispose();
    rm.dispose();
  }
}
