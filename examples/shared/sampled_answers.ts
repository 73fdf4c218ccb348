// Sampled answers to the sort prompts and how many have the property: a few completions per
// held-out prompt from the policy (rl's generateRollouts: temperature sampling, stopping at the
// end-of-response newline), each checked for being well-formed (`valid`) and exactly sorted.
import type { GPT } from '@webgrad/nn';
import { generateRollouts } from '@webgrad/rl';
import type { CharTokenizer } from './char_tokenizer.js';
import { checkSortAnswer, wordOf } from './sort_preferences.js';

export interface SampledAnswer {
  /** Index of the prompt it answers. */
  prompt: number;
  /** Completion token ids (the end token included when it was emitted). */
  ids: number[];
  /** The text before the end token. */
  answer: string;
  valid: boolean;
  sorted: boolean;
}

export interface SampleReport {
  samples: SampledAnswer[];
  /** Share of samples that are well-formed / exactly sorted. */
  validRate: number;
  sortedRate: number;
}

export interface SampleOptions {
  /** Completions per prompt. */
  perPrompt: number;
  temperature: number;
  seed: number;
  /** The end-of-response text (one token). */
  end: string;
}

/** `perPrompt` sampled answers to each prompt, checked against the word in the prompt. */
export async function sampleSortAnswers(model: GPT, tokenizer: CharTokenizer, prompts: readonly string[], opts: SampleOptions): Promise<SampleReport> {
  const end = tokenizer.encode(opts.end)[0]!;
  const ids = prompts.map((p) => Array.from(tokenizer.encode(p)));
  const longestWord = Math.max(...prompts.map((p) => wordOf(p).length));
  const room = model.config.blockSize - Math.max(...ids.map((p) => p.length));
  const maxNewTokens = Math.max(1, Math.min(room, longestWord + 3));
  const r = await generateRollouts(model, ids, { maxNewTokens, numGenerations: opts.perPrompt, stopTokens: [end], seed: opts.seed, temperature: opts.temperature });
  r.dispose();
  const samples = r.completions.map((c, k): SampledAnswer => {
    const ended = c.length > 0 && c[c.length - 1] === end;
    const answer = tokenizer.decode(ended ? c.slice(0, -1) : c);
    const p = r.promptIndex[k]!;
    return { prompt: p, ids: c, answer, ...checkSortAnswer(wordOf(prompts[p]!), answer, ended) };
  });
  const rate = (f: (s: SampledAnswer) => boolean) => samples.filter(f).length / Math.max(1, samples.length);
  return { samples, validRate: rate((s) => s.valid), sortedRate: rate((s) => s.sorted) };
}
