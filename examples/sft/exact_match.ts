// Exact match of greedy answers: each held-out prompt is continued greedily until the end-of-
// response newline (or the context is full), and the text before it must equal the record's
// output. Prompts of one length are generated as one batch (the GPT has learned positions and no
// padding mask, so rows of a batch must be of one length).
import { tensor, type DeviceName } from '@webgrad/core';
import type { InstructionRecord } from '@webgrad/data';
import type { GPT } from '@webgrad/nn';
import type { CharTokenizer } from '../shared/char_tokenizer.js';
import { END, formatPrompt } from './prompt.js';

export interface ExactMatch {
  /** Share of records answered exactly, in [0, 1]. */
  score: number;
  /** The same per instruction, when the records have few distinct instructions (generated tasks). */
  byInstruction: Record<string, number>;
  /** Each record's answer, in the records' order. */
  answers: string[];
}

/** Greedy answers of `model` to the records' prompts, and how many equal the outputs. */
export async function exactMatch(model: GPT, tokenizer: CharTokenizer, records: readonly InstructionRecord[], opts: { batchSize?: number; device?: DeviceName } = {}): Promise<ExactMatch> {
  const end = tokenizer.encode(END)[0]!;
  const blockSize = model.config.blockSize;
  const device = opts.device ?? model.wte.weight.device;
  const maxBatch = opts.batchSize ?? 64;
  const prompts = records.map((r) => tokenizer.encode(formatPrompt(r)));
  const answers = new Array<string>(records.length).fill('');
  const byLength = new Map<number, number[]>();
  prompts.forEach((p, i) => { byLength.set(p.length, [...(byLength.get(p.length) ?? []), i]); });
  for (const [T, all] of byLength) {
    if (T >= blockSize) continue; // no room to answer: counted as wrong
    const longest = Math.max(...all.map((i) => [...records[i]!.output].length));
    const maxNewTokens = Math.min(blockSize - T, longest + 2);
    for (let at = 0; at < all.length; at += maxBatch) {
      const rows = all.slice(at, at + maxBatch);
      const ids = new Int32Array(rows.length * T);
      rows.forEach((i, b) => ids.set(prompts[i]!, b * T));
      const idx = tensor(ids, { shape: [rows.length, T], dtype: 'int32', device }); // (B, T)
      const out = await model.generate(idx, { maxNewTokens, greedy: true, stopTokens: [end] }); // (B, T + n)
      idx.dispose();
      const data = await out.data();
      const n = out.shape[1]!;
      out.dispose();
      rows.forEach((i, b) => {
        const text = tokenizer.decode(data.subarray(b * n + T, (b + 1) * n));
        const stop = text.indexOf(END);
        answers[i] = stop < 0 ? text : text.slice(0, stop);
      });
    }
  }
  const right = records.map((r, i) => answers[i] === r.output);
  const byInstruction: Record<string, number> = {};
  const instructions = [...new Set(records.map((r) => r.instruction))];
  if (instructions.length <= 8) {
    for (const ins of instructions) {
      const idx = records.map((r, i) => (r.instruction === ins ? i : -1)).filter((i) => i >= 0);
      byInstruction[ins] = idx.filter((i) => right[i]).length / idx.length;
    }
  }
  return { score: records.length ? right.filter(Boolean).length / records.length : NaN, byInstruction, answers };
}
