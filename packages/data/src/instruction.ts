// Instruction tuning and preference data as token ids: the Alpaca prompt template, and
// tokenization with loss only on the response (prompt positions labelled −100, crossEntropy's
// default ignoreIndex), an EOS after the response.
import { ValueError, checkBool, checkOptions, checkSize, fmtValue } from '@webgrad/core';
import { DataError } from './errors.js';
import type { InstructionRecord, PreferenceRecord } from './records.js';
import type { Tokenizer } from './tokenizer/tokenizer.js';

/** The label of positions that carry no loss (crossEntropy's default ignoreIndex). */
export const IGNORE_INDEX = -100;

/** Stanford Alpaca's prompt for records with an input (tatsu-lab/stanford_alpaca, train.py). */
export const ALPACA_PROMPT_INPUT =
  'Below is an instruction that describes a task, paired with an input that provides further context. ' +
  'Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:';

/** Stanford Alpaca's prompt for records without an input. */
export const ALPACA_PROMPT_NO_INPUT =
  'Below is an instruction that describes a task. ' +
  'Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{instruction}\n\n### Response:';

/**
 * The Alpaca prompt of a record: the template with input when `input` is not empty, the other one
 * otherwise. As in the original, it ends with "### Response:" and the response follows directly.
 */
export function alpacaPrompt(record: Pick<InstructionRecord, 'instruction'> & { input?: string }): string {
  if (typeof record !== 'object' || record === null || typeof record.instruction !== 'string') {
    throw new ValueError(`alpacaPrompt: record must be an object with a string instruction, got ${fmtValue(record)}`);
  }
  if (record.input !== undefined && typeof record.input !== 'string') throw new ValueError(`alpacaPrompt: record.input must be a string, got ${fmtValue(record.input)}`);
  const input = record.input ?? '';
  // Replace with functions so "$" in the record is not read as a replacement pattern.
  return input !== ''
    ? ALPACA_PROMPT_INPUT.replace('{instruction}', () => record.instruction).replace('{input}', () => input)
    : ALPACA_PROMPT_NO_INPUT.replace('{instruction}', () => record.instruction);
}

/** Options of `tokenizeInstruction` / `tokenizePreference`. */
export interface TokenizeRecordOptions {
  /** Keep at most this many tokens (the end of the response, then of the prompt, is cut). */
  maxLength?: number;
  /** Put the tokenizer's BOS first (default: when the tokenizer has a BOS token). */
  addBos?: boolean;
}

/** Token ids and per-position labels: −100 where no loss is taken. */
export interface TokenizedExample {
  /** Prompt and response ids (BOS first when the tokenizer adds one, EOS last), cut to `maxLength`. */
  inputIds: number[];
  /** Same length as inputIds. labels[i] = inputIds[i] on response tokens (the model shifts them), −100 on the prompt. */
  labels: number[];
}

function recordOptions(op: string, tokenizer: Tokenizer, options: TokenizeRecordOptions | undefined) {
  if (typeof tokenizer !== 'object' || tokenizer === null || typeof tokenizer.encode !== 'function') {
    throw new ValueError(`${op}: tokenizer must be a Tokenizer, got ${fmtValue(tokenizer)}`);
  }
  const o = checkOptions(op, options, ['maxLength', 'addBos']);
  const maxLength = o.maxLength === undefined ? Infinity : checkSize(op, 'maxLength', o.maxLength, 1);
  const addBos = o.addBos === undefined ? tokenizer.bosId !== undefined : checkBool(op, 'addBos', o.addBos);
  if (addBos && tokenizer.bosId === undefined) throw new DataError(`${op}: addBos is set but the tokenizer has no BOS token`);
  if (tokenizer.eosId === undefined) throw new DataError(`${op}: the tokenizer has no EOS token (give it one, e.g. eosToken: "<|endoftext|>")`);
  return { maxLength, addBos };
}

/** prompt ids (no loss) + response ids + EOS (loss), cut to maxLength. */
function promptResponse(tokenizer: Tokenizer, prompt: string, response: string, o: { maxLength: number; addBos: boolean }): TokenizedExample {
  const p = tokenizer.encode(prompt, { addSpecialTokens: false });
  if (o.addBos) p.unshift(tokenizer.bosId!);
  const r = tokenizer.encode(response, { addSpecialTokens: false });
  r.push(tokenizer.eosId!);
  const inputIds = [...p, ...r].slice(0, o.maxLength);
  const labels = inputIds.map((id, i) => (i < p.length ? IGNORE_INDEX : id));
  return { inputIds, labels };
}

/**
 * An instruction record as `{ inputIds, labels }`: the Alpaca prompt (`alpacaPrompt`, BOS first
 * when the tokenizer has one) then the output and EOS; labels are −100 on the prompt so only the
 * response is learned. Prompt and response are encoded separately, so the boundary is exact. With
 * `maxLength`, the sequence is cut at the end (a record whose prompt fills it has no labelled token).
 * Batch them with `padCollate()`.
 */
export function tokenizeInstruction(record: InstructionRecord, tokenizer: Tokenizer, options?: TokenizeRecordOptions): TokenizedExample {
  const op = 'tokenizeInstruction';
  const o = recordOptions(op, tokenizer, options);
  if (typeof record !== 'object' || record === null || typeof record.output !== 'string') throw new ValueError(`${op}: record must be an { instruction, input, output } object, got ${fmtValue(record)}`);
  return promptResponse(tokenizer, alpacaPrompt(record), record.output, o);
}

/** A preference pair as ids: `chosenInputIds` / `chosenLabels` and `rejectedInputIds` / `rejectedLabels`. */
export interface TokenizedPreference {
  /** Prompt (BOS first when added) + chosen response + EOS, cut to `maxLength`. */
  chosenInputIds: number[];
  /** Same length as chosenInputIds: the ids on the response, −100 on the prompt. */
  chosenLabels: number[];
  /** Prompt (BOS first when added) + rejected response + EOS, cut to `maxLength`. */
  rejectedInputIds: number[];
  /** Same length as rejectedInputIds: the ids on the response, −100 on the prompt. */
  rejectedLabels: number[];
}

/**
 * A preference record as ids for reward-model or DPO training: prompt + chosen + EOS and prompt +
 * rejected + EOS, labels −100 on the prompt. The prompt is used as it is (format it first if the
 * model expects a template). `padCollate()` pads all four to one length and adds
 * `chosenAttentionMask` / `rejectedAttentionMask`.
 */
export function tokenizePreference(record: PreferenceRecord, tokenizer: Tokenizer, options?: TokenizeRecordOptions): TokenizedPreference {
  const op = 'tokenizePreference';
  const o = recordOptions(op, tokenizer, options);
  if (typeof record !== 'object' || record === null || typeof record.prompt !== 'string' || typeof record.chosen !== 'string' || typeof record.rejected !== 'string') {
    throw new ValueError(`${op}: record must be a { prompt, chosen, rejected } object of strings, got ${fmtValue(record)}`);
  }
  const c = promptResponse(tokenizer, record.prompt, record.chosen, o);
  const r = promptResponse(tokenizer, record.prompt, record.rejected, o);
  return { chosenInputIds: c.inputIds, chosenLabels: c.labels, rejectedInputIds: r.inputIds, rejectedLabels: r.labels };
}
