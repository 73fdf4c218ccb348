// The prompt template and the token layout of supervised fine-tuning. The template keeps the
// sections of Stanford Alpaca's (Instruction / Input / Response, the Input section left out when a
// record has none) without its preamble and "### " markers: the preamble alone is about 170
// characters, more than a small character model's context. A response ends with a newline, which
// is the end-of-sequence token of this character vocabulary; generation stops there.
//
// The loss is taken on the response alone: the model reads prompt + response and predicts each
// next token, and the targets of positions whose next token is still in the prompt are −100
// (crossEntropy's ignore index).
import { IGNORE_INDEX, type InstructionRecord } from '@webgrad/data';
import type { CharTokenizer } from '../shared/char_tokenizer.js';

/** Ends every response; generation stops at it. */
export const END = '\n';

/** The prompt of a record: everything the model is given before it answers. */
export function formatPrompt(r: Pick<InstructionRecord, 'instruction' | 'input'>): string {
  return r.input === '' ? `Instruction:\n${r.instruction}\nResponse:\n` : `Instruction:\n${r.instruction}\nInput:\n${r.input}\nResponse:\n`;
}

/** The full training text of a record. */
export const formatExample = (r: InstructionRecord): string => `${formatPrompt(r)}${r.output}${END}`;

/** One training sequence: inputs and next-token targets of equal length, −100 on prompt targets. */
export interface SftExample {
  /** ids of prompt + response without the final END: what the model reads. */
  inputIds: Int32Array;
  /** ids of the same text shifted one ahead (the GPT takes aligned targets), −100 while the target is still prompt. */
  labels: Int32Array;
  /** Tokens of the prompt. */
  promptLength: number;
}

/** The example of `r`, or null when prompt + response + END exceed blockSize + 1 tokens. */
export function encodeExample(r: InstructionRecord, tokenizer: CharTokenizer, blockSize: number): SftExample | null {
  const prompt = tokenizer.encode(formatPrompt(r));
  const response = tokenizer.encode(`${r.output}${END}`);
  const n = prompt.length + response.length;
  if (n > blockSize + 1) return null;
  const ids = new Int32Array(n);
  ids.set(prompt);
  ids.set(response, prompt.length);
  const inputIds = ids.subarray(0, n - 1); // (n − 1)
  const labels = ids.slice(1); // (n − 1): position i predicts token i + 1
  labels.fill(IGNORE_INDEX, 0, prompt.length - 1);
  return { inputIds, labels, promptLength: prompt.length };
}
