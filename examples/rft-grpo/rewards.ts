// The programmatic reward of rft-grpo, a weighted sum of three checks of an addition answer
// (the shape of "0.5·quality + 0.3·relevance + 0.2·safety"):
//   correct  (0.5)  the completion is exactly the sum and the EOS;
//   close    (0.3)  partial credit for a number near the sum: max(0, 1 − |answer − sum| / 10);
//   format   (0.2)  well formed: 1–3 digits then the EOS, nothing else (no run-on text).
import { combineRewards, type BatchRewardFn } from '@webgrad/rl';
import type { CharTokenizer } from '../shared/char_tokenizer.js';
import { EOS, isCorrect, type CheckableTask } from '../shared/checkable_tasks.js';

export const REWARD_WEIGHTS = { correct: 0.5, close: 0.3, format: 0.2 } as const;

/** The three reward functions on text, for a task whose answers are numbers. */
export function rewardChecks(task: CheckableTask) {
  return {
    correct: (prompt: string, completion: string) => (isCorrect(task, prompt, completion) ? 1 : 0),
    close: (prompt: string, completion: string) => {
      const truth = task.answer(prompt);
      const m = /^\d+/.exec(completion);
      if (truth === null || !m) return 0;
      return Math.max(0, 1 - Math.abs(Number(m[0]) - Number(truth)) / 10);
    },
    format: (_prompt: string, completion: string) => (new RegExp(`^\\d{1,3}\\${EOS}$`).test(completion) ? 1 : 0),
  };
}

/** combineRewards of the three checks on token ids (decoded with `tok`). */
export function additionReward(task: CheckableTask, tok: CharTokenizer, weights: Record<keyof typeof REWARD_WEIGHTS, number> = REWARD_WEIGHTS): BatchRewardFn {
  const checks = rewardChecks(task);
  const onIds = (f: (p: string, c: string) => number) => (p: readonly number[], c: readonly number[]) => f(tok.decode(p), tok.decode(c));
  return combineRewards((Object.keys(checks) as (keyof typeof checks)[]).map((name) => ({ name, weight: weights[name], fn: onIds(checks[name]) })));
}
