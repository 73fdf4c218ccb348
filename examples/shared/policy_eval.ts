// Measuring a policy of the RL examples on held-out prompts: sample (or decode greedily) one
// completion per prompt, then report the checkable property's rate, how many completions ended
// with the EOS, and the KL to a reference in nats per sequence (k1, the trainers' unit).
import { noGrad } from '@webgrad/core';
import type { GPT } from '@webgrad/nn';
import { generateRollouts, mean, sequenceKL, tokenLogProbs } from '@webgrad/rl';
import type { CharTokenizer } from './char_tokenizer.js';
import { EOS, isCorrect, type CheckableTask } from './checkable_tasks.js';

export interface PolicySample {
  prompts: string[];
  /** Completion text, EOS included when emitted. */
  completions: string[];
  /** Row-wise: the property holds (null: the prompt is not in the task's format). */
  correct: (boolean | null)[];
  /** Share of checkable rows with the property. */
  propertyRate: number;
  /** Share of rows that emitted the EOS. */
  eosRate: number;
  /** Mean per-sequence KL to the reference (k1, nats), when one was given. */
  kl: number;
}

/** One completion per prompt from `policy` (greedy, or sampled at temperature 1 with `seed`). */
export async function samplePolicy(
  policy: GPT, tok: CharTokenizer, task: CheckableTask, prompts: readonly string[],
  opts: { maxNewTokens: number; greedy?: boolean; seed?: number; ref?: GPT | null },
): Promise<PolicySample> {
  const eos = tok.encode(EOS)[0]!;
  const rollout = await generateRollouts(policy, prompts.map((p) => Array.from(tok.encode(p))), {
    maxNewTokens: opts.maxNewTokens, stopTokens: [eos], padToken: eos, greedy: opts.greedy, seed: opts.seed,
  });
  let kl = NaN;
  if (opts.ref) {
    const t = noGrad(() => sequenceKL(
      tokenLogProbs(policy, rollout.sequences, rollout.mask), tokenLogProbs(opts.ref!, rollout.sequences, rollout.mask), rollout.mask, 'k1',
    ).mean());
    kl = await t.item();
    t.dispose();
  }
  const completions = rollout.completions.map((c) => tok.decode(c));
  rollout.dispose();
  const correct = prompts.map((p, i) => (task.answer(p) === null ? null : isCorrect(task, p, completions[i]!)));
  const checkable = correct.filter((c): c is boolean => c !== null);
  return {
    prompts: [...prompts], completions, correct,
    propertyRate: checkable.length ? mean(checkable.map(Number)) : NaN,
    eosRate: mean(completions.map((c) => (c.endsWith(EOS) ? 1 : 0))),
    kl,
  };
}
