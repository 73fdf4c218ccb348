// Preference pairs for the sft example's "sort" task (sort the letters of a word), whose answers
// can be checked exactly: the prompt is sft's (formatPrompt), `chosen` the sorted letters and
// `rejected` a plausible wrong answer — letters out of order, one dropped, one repeated, one
// replaced, the word copied or reversed (sft's reverse task). Words come from sft's generator, so
// held-out pairs use words no training pair (and no sft training record) contains.
//
// `checkSortAnswer` is the property the examples measure on sampled answers: `valid` — a well-formed
// answer (lowercase letters only, ended by the end-of-response newline); `sorted` — exactly the
// word's letters in order.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { seededRandom } from '@webgrad/core';
import { Dataset, randomSplit, readPreferenceRecords, type PreferenceRecord } from '@webgrad/data';
import { formatPrompt } from '../sft/prompt.js';
import { generateTaskData } from '../sft/tasks.js';

/** The kinds of wrong answers used as `rejected`. */
export const WRONG_KINDS = ['swap', 'drop', 'repeat', 'replace', 'copy', 'reverse'] as const;
export type WrongKind = typeof WRONG_KINDS[number];

/** The letters of sft's generated words. */
const LETTERS = 'abcdefghiklmnoprstuwy';

const sortLetters = (w: string): string => [...w].sort().join('');

/** A wrong answer of kind `kind` for `word`, or null when that kind cannot differ from the right one. */
export function wrongAnswer(word: string, kind: WrongKind, rand: () => number): string | null {
  const right = sortLetters(word);
  const at = (n: number) => Math.floor(rand() * n);
  let out: string;
  switch (kind) {
    case 'swap': { // two neighbouring, different letters out of order
      const spots = [...right].map((_, i) => i).filter((i) => i + 1 < right.length && right[i] !== right[i + 1]);
      if (spots.length === 0) return null;
      const i = spots[at(spots.length)]!;
      out = right.slice(0, i) + right[i + 1] + right[i] + right.slice(i + 2);
      break;
    }
    case 'drop': { const i = at(right.length); out = right.slice(0, i) + right.slice(i + 1); break; }
    case 'repeat': { const i = at(right.length); out = right.slice(0, i + 1) + right.slice(i); break; }
    case 'replace': {
      const i = at(right.length);
      const c = LETTERS[at(LETTERS.length)]!;
      out = sortLetters(right.slice(0, i) + c + right.slice(i + 1));
      break;
    }
    case 'copy': out = word; break;
    default: out = [...word].reverse().join('');
  }
  return out !== right && out.length > 0 ? out : null;
}

export interface SortPreferenceOptions {
  train: number;
  eval: number;
  seed: number;
  /** Records this rejects (e.g. too long for the model's context) are left out. */
  accept?: (r: PreferenceRecord) => boolean;
}

/** The word of a sort prompt (the line after "Input:"). */
export function wordOf(prompt: string): string {
  const m = /Input:\n([^\n]*)\n/.exec(prompt);
  return m ? m[1]! : '';
}

/** Training and held-out pairs; each word's rejected answer cycles through the wrong kinds. */
export function generateSortPreferences(opts: SortPreferenceOptions): { train: PreferenceRecord[]; eval: PreferenceRecord[] } {
  const rand = seededRandom(opts.seed + 17);
  // sft's generator cycles over its four tasks: ask for four times as many and keep the sort ones.
  const gen = generateTaskData({ train: 4 * opts.train + 8, eval: 4 * opts.eval + 8, seed: opts.seed });
  const accept = opts.accept ?? (() => true);
  const pairs = (records: typeof gen.train, n: number): PreferenceRecord[] => {
    const out: PreferenceRecord[] = [];
    let k = 0;
    for (const r of records) {
      if (out.length === n) break;
      if (r.instruction !== 'sort') continue;
      for (let tries = 0; tries < WRONG_KINDS.length; tries++) {
        const wrong = wrongAnswer(r.input, WRONG_KINDS[k++ % WRONG_KINDS.length]!, rand);
        if (wrong === null) continue;
        const rec = { prompt: formatPrompt(r), chosen: r.output, rejected: wrong };
        if (accept(rec)) out.push(rec);
        break;
      }
    }
    return out;
  };
  return { train: pairs(gen.train, opts.train), eval: pairs(gen.eval, opts.eval) };
}

const toJsonl = (records: readonly PreferenceRecord[]): string => records.map((r) => JSON.stringify({ prompt: r.prompt, chosen: r.chosen, rejected: r.rejected })).join('\n') + '\n';

/** Generated pairs written to dir/train.jsonl and dir/eval.jsonl and read back (the --data path users take). */
export async function writeSortPreferences(dir: string, opts: SortPreferenceOptions): Promise<{ train: PreferenceRecord[]; eval: PreferenceRecord[]; paths: { train: string; eval: string } }> {
  const gen = generateSortPreferences(opts);
  mkdirSync(dir, { recursive: true });
  const paths = { train: join(dir, 'train.jsonl'), eval: join(dir, 'eval.jsonl') };
  writeFileSync(paths.train, toJsonl(gen.train));
  writeFileSync(paths.eval, toJsonl(gen.eval));
  return { train: (await readPreferenceRecords(paths.train)).records, eval: (await readPreferenceRecords(paths.eval)).records, paths };
}

/** What a sampled answer to a sort prompt is: well-formed, and exactly sorted. */
export function checkSortAnswer(word: string, answer: string, ended: boolean): { valid: boolean; sorted: boolean } {
  const valid = ended && /^[a-z]+$/.test(answer);
  return { valid, sorted: valid && answer === sortLetters(word) };
}

export interface PreferencePairsOptions {
  /** A JSONL file of { prompt, chosen, rejected } records (default: generated sort pairs). */
  data?: string;
  /** Held-out records (default: 10% of `data`, split with `seed`). */
  evalData?: string;
  /** Generated training and held-out pairs. */
  trainPairs: number;
  evalPairs: number;
  seed: number;
  /** Where generated pairs are written. */
  dir: string;
  /** Applied to the prompts of `data` records (e.g. the sft prompt template); generated prompts are formatted already. */
  formatPrompt?: (prompt: string) => string;
}

/** Training and held-out records: read from JSONL (those `accept` rejects left out, with a message), or
 *  generated, written as JSONL and read back. */
export async function loadPreferencePairs(o: PreferencePairsOptions, accept: (r: PreferenceRecord) => boolean, say: (s: string) => void): Promise<{ train: PreferenceRecord[]; eval: PreferenceRecord[]; source: string; generated: boolean }> {
  if (o.data) {
    const kept = (records: PreferenceRecord[], path: string) => {
      const ok = records.filter(accept);
      if (ok.length < records.length) say(`data: left out ${records.length - ok.length} of ${records.length} records of ${path} that do not fit the model's context`);
      if (ok.length === 0) throw new Error(`no record of ${path} fits the model's context`);
      return ok;
    };
    const format = o.formatPrompt ?? ((p: string) => p);
    const read = async (path: string) => kept((await readPreferenceRecords(path)).records.map((r) => ({ ...r, prompt: format(r.prompt) })), path);
    const all = await read(o.data);
    if (o.evalData) return { train: all, eval: await read(o.evalData), source: resolve(o.data), generated: false };
    if (all.length < 2) throw new Error(`${o.data} holds ${all.length} usable record; a held-out split needs at least 2 (or give an eval file)`);
    const [train, held] = randomSplit(Dataset.from(all), [0.9, 0.1], { seed: o.seed });
    return { train: [...train!], eval: [...held!], source: resolve(o.data), generated: false };
  }
  const gen = await writeSortPreferences(o.dir, { train: o.trainPairs, eval: o.evalPairs, seed: o.seed, accept });
  say(`data: generated ${gen.train.length} training and ${gen.eval.length} held-out sort pairs → ${gen.paths.train}, ${gen.paths.eval}`);
  return { train: gen.train, eval: gen.eval, source: 'generated sort pairs', generated: true };
}
