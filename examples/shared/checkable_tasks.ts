// Generated tasks whose answers a program can check, for the RL examples (rlhf-ppo, rft-grpo):
//   sort     "3142:" → "1234."   the prompt's digits in ascending order, then the EOS '.'
//   add      "23+45=" → "68."     the sum of two zero-padded numbers, then '.'
// One character vocabulary covers both (digits, ':', '+', '=', '.'); '.' ends a completion.
// Demonstrations can be made imperfect on purpose (a share of wrong answers, some without the
// EOS), so that a policy trained on them leaves room for reinforcement learning, and the reward
// model of rlhf-ppo has realistic near-misses (hard negatives) to learn from.
// Also: prompts from a user's JSONL file of { "prompt": "..." } records.
import { readFileSync } from 'node:fs';
import { CharTokenizer } from './char_tokenizer.js';

/** Ends every completion. */
export const EOS = '.';
/** Every character the tasks use. */
export const TASK_CHARS = '0123456789:+=.';

/** The tokenizer of the tasks (ids in sorted character order). */
export const taskTokenizer = (): CharTokenizer => new CharTokenizer(TASK_CHARS);

export type TaskName = 'sort' | 'add';

export interface CheckableTask {
  name: TaskName;
  /** A random prompt (fixed length, so a batch generates in one pass). */
  prompt(rand: () => number): string;
  /** The correct completion without the EOS, or null when the prompt is not in the task's format. */
  answer(prompt: string): string | null;
  /** A wrong completion without the EOS, close to the right one (what an imperfect demonstrator writes). */
  nearMiss(prompt: string, rand: () => number): string;
  /** Longest completion, EOS included. */
  maxCompletion: number;
}

const digit = (rand: () => number) => String(Math.floor(rand() * 10));
const pick = <T>(xs: readonly T[], rand: () => number): T => xs[Math.floor(rand() * xs.length)]!;

/** Sort the 4 digits of the prompt. */
export const SORT_TASK: CheckableTask = {
  name: 'sort',
  prompt: (rand) => `${Array.from({ length: 4 }, () => digit(rand)).join('')}:`,
  answer: (p) => (/^\d+:$/.test(p) ? [...p.slice(0, -1)].sort().join('') : null),
  nearMiss(p, rand) {
    const right = SORT_TASK.answer(p) ?? '';
    const kind = pick(['unsorted', 'replace', 'duplicate', 'drop', 'swap'] as const, rand);
    if (kind === 'unsorted') return p.slice(0, -1) === right ? `${right.slice(1)}${right[0]}` : p.slice(0, -1);
    if (kind === 'drop') return right.slice(0, -1);
    if (kind === 'swap') { const i = Math.floor(rand() * (right.length - 1)); return right[i] === right[i + 1] ? `${right}${right.at(-1)}` : `${right.slice(0, i)}${right[i + 1]}${right[i]}${right.slice(i + 2)}`; }
    if (kind === 'duplicate') { // one digit written twice in place of its neighbour: sorted, wrong
      const i = Math.floor(rand() * (right.length - 1));
      const dup = right[i] === right[i + 1] ? String((Number(right[i]) + 1) % 10) : right[i]!;
      return [...`${right.slice(0, i + 1)}${dup}${right.slice(i + 2)}`].sort().join('');
    }
    // replace one digit, then keep it sorted: looks right, is wrong
    const i = Math.floor(rand() * right.length);
    const d = String((Number(right[i]) + 1 + Math.floor(rand() * 9)) % 10);
    return [...`${right.slice(0, i)}${d}${right.slice(i + 1)}`].sort().join('');
  },
  maxCompletion: 6,
};

/** Add two numbers below 50 (zero-padded to two digits). */
export const ADD_TASK: CheckableTask = {
  name: 'add',
  prompt: (rand) => {
    const n = () => String(Math.floor(rand() * 50)).padStart(2, '0');
    return `${n()}+${n()}=`;
  },
  answer: (p) => {
    const m = /^(\d+)\+(\d+)=$/.exec(p);
    return m ? String(Number(m[1]) + Number(m[2])) : null;
  },
  nearMiss(p, rand) {
    const right = Number(ADD_TASK.answer(p) ?? 0);
    const off = pick([1, 2, 10], rand) * (rand() < 0.5 ? -1 : 1);
    return String(Math.abs(right + off));
  },
  maxCompletion: 4,
};

export const TASKS: Record<TaskName, CheckableTask> = { sort: SORT_TASK, add: ADD_TASK };

/** The checkable property: the completion (EOS included, as generated) is the right answer and ends. */
export function isCorrect(task: CheckableTask, prompt: string, completion: string): boolean {
  const a = task.answer(prompt);
  return a !== null && completion === `${a}${EOS}`;
}

export interface Demonstration { prompt: string; completion: string }

/**
 * `n` demonstrations: prompt → the right answer + EOS, except a share `noise` that are near misses
 * (half of those also without the EOS, running on with a repeated last digit).
 */
export function demonstrations(task: CheckableTask, n: number, noise: number, rand: () => number): Demonstration[] {
  return Array.from({ length: n }, () => {
    const prompt = task.prompt(rand);
    if (rand() >= noise) return { prompt, completion: `${task.answer(prompt)}${EOS}` };
    const wrong = task.nearMiss(prompt, rand);
    if (rand() < 0.5) return { prompt, completion: `${wrong}${EOS}` };
    return { prompt, completion: `${wrong}${wrong.at(-1) ?? '0'}`.padEnd(task.maxCompletion, wrong.at(-1) ?? '0').slice(0, task.maxCompletion) };
  });
}

/** `n` distinct-as-possible prompts (held-out sets use another seed). */
export function taskPrompts(task: CheckableTask, n: number, rand: () => number): string[] {
  return Array.from({ length: n }, () => task.prompt(rand));
}

/**
 * Prompts from a JSONL file, one `{ "prompt": "..." }` object per line (other fields ignored);
 * every character must be in the tokenizer's vocabulary. Errors name the file and line.
 */
export function readPromptJsonl(path: string, tokenizer: CharTokenizer): string[] {
  const out: string[] = [];
  readFileSync(path, 'utf8').split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    let rec: unknown;
    try { rec = JSON.parse(line); } catch (e) { throw new Error(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`); }
    const prompt = (rec as { prompt?: unknown } | null)?.prompt;
    if (typeof prompt !== 'string' || prompt === '') throw new Error(`${path}:${i + 1}: expected an object with a non-empty string "prompt"`);
    const unknown = [...new Set(prompt)].filter((c) => !tokenizer.chars.includes(c));
    if (unknown.length) throw new Error(`${path}:${i + 1}: characters ${JSON.stringify(unknown.join(''))} are not in the vocabulary ${JSON.stringify(TASK_CHARS)}`);
    out.push(prompt);
  });
  if (!out.length) throw new Error(`${path}: no prompts`);
  return out;
}
