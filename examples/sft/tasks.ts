// Generated instruction data with answers that can be checked exactly: copy a word, reverse it,
// write it in capitals, sort its letters. Records are Alpaca's { instruction, input, output }.
// Held-out records use words that no training record contains (one word in five is held out, by a
// hash of the word), so exact match on them measures whether the model learned the task, not the
// examples. Words are made of letters whose capitals the built-in verse corpus has too (no j, q,
// v, x, z), so the pre-trained vocabulary covers every record.
import { seededRandom } from '@webgrad/core';
import type { InstructionRecord } from '@webgrad/data';

/** Letters of the generated words (their capitals are in the verse corpus's vocabulary too). */
const LETTERS = 'abcdefghiklmnoprstuwy';

/** The tasks: the instruction text, and how an input word maps to the output. */
export const TASKS = {
  copy: (w: string) => w,
  reverse: (w: string) => [...w].reverse().join(''),
  uppercase: (w: string) => w.toUpperCase(),
  sort: (w: string) => [...w].sort().join(''),
} as const;

export type TaskName = keyof typeof TASKS;
export const TASK_NAMES = Object.keys(TASKS) as TaskName[];

/** FNV-1a of a string: which side of the train / held-out split a word or number pair is on. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** One word in five is held out (fixed, whatever the seed). */
const heldOut = (key: string): boolean => hash(key) % 5 === 0;

export interface TaskDataOptions {
  /** Training records (default 4000). */
  train?: number;
  /** Held-out records (default 200), an equal share per task. */
  eval?: number;
  seed?: number;
  /** Shortest and longest word (default 3 and 7 letters). */
  minLength?: number;
  maxLength?: number;
  /** Records this rejects (e.g. too long for the model's context) are drawn again. */
  accept?: (r: InstructionRecord) => boolean;
}

/** One record of `task` from the held-out side or the training side of the split. */
function drawRecord(task: TaskName, rand: () => number, held: boolean, minLength: number, maxLength: number): InstructionRecord {
  for (;;) {
    const n = minLength + Math.floor(rand() * (maxLength - minLength + 1));
    let w = '';
    for (let i = 0; i < n; i++) w += LETTERS[Math.floor(rand() * LETTERS.length)];
    if (heldOut(w) !== held) continue;
    return { instruction: task, input: w, output: TASKS[task](w) };
  }
}

/** Training and held-out records, tasks in turn (the training records shuffled by the loader). */
export function generateTaskData(opts: TaskDataOptions = {}): { train: InstructionRecord[]; eval: InstructionRecord[] } {
  const rand = seededRandom(opts.seed ?? 1);
  const min = opts.minLength ?? 3;
  const max = opts.maxLength ?? 7;
  const accept = opts.accept ?? (() => true);
  const make = (count: number, held: boolean): InstructionRecord[] => {
    const out: InstructionRecord[] = [];
    for (let i = 0; out.length < count; i++) {
      if (i > 100 * count + 1000) throw new Error('generateTaskData: the accept function rejects almost every record');
      const r = drawRecord(TASK_NAMES[out.length % TASK_NAMES.length]!, rand, held, min, max);
      if (accept(r)) out.push(r);
    }
    return out;
  };
  return { train: make(opts.train ?? 4000, false), eval: make(opts.eval ?? 200, true) };
}

/** Whether a record's input is on the held-out side of the split (for tests and checks). */
export const isHeldOut = (r: InstructionRecord): boolean => heldOut(r.input);
