// Preference pairs as token ids, and their batches for reward-model and DPO training.
//
// A pair is a prompt and two completions, the preferred one (`chosen`) first, each a list of token
// ids; a completion ends with the EOS token when the tokenizer has one (TRL appends it too). A
// batch puts the B chosen sequences and then the B rejected ones in one (2B, T) tensor — what the
// concatenated forward of TRL's DPOTrainer runs the model on — right-padded, so causal attention
// leaves every real token's logits as they are without an attention mask:
//
//   inputIds        (2B, T)     prompt ‖ completion ‖ pad; rows 0..B−1 chosen, B..2B−1 rejected
//   attentionMask   (2B, T)     1 on real tokens (prompt and completion), 0 on padding
//   completionMask  (2B, T − 1) 1 where the predicted token inputIds[:, t + 1] is a completion token
//
// Tokenizer-agnostic: anything with `encode(text)` (a @webgrad/data Tokenizer, a character
// tokenizer) turns text records into pairs.
import {
  ValueError, checkEnum, checkFinite, checkOptions, checkSize, fmtValue, tensor, type DeviceName, type Tensor,
} from '@webgrad/core';

/** A preference pair as token ids. */
export interface PreferencePair {
  /** The prompt's ids. */
  prompt: number[];
  /** The preferred completion (EOS included, when the pair was tokenized with one). */
  chosen: number[];
  /** The other completion (EOS included likewise). */
  rejected: number[];
  /** How much better chosen is (the reward model's optional per-pair margin, as TRL's `margin` column). */
  margin?: number;
  /** Reference log-probs of the completions, filled in by `DPOTrainer` with `precomputeRefLogProbs`. */
  refChosenLogp?: number;
  /** The reference's log-prob of the rejected completion. */
  refRejectedLogp?: number;
}

/** A preference record as text: TRL's standard (non-conversational) preference format. */
export interface PreferenceText {
  /** The prompt. */
  prompt: string;
  /** The preferred completion. */
  chosen: string;
  /** The other completion. */
  rejected: string;
}

/** What tokenization needs of a tokenizer: `encode` (and, optionally, its EOS id). */
export interface PreferenceTokenizer {
  /** Token ids of `text`. */
  encode(text: string, options?: { addSpecialTokens?: boolean }): ArrayLike<number>;
  /** The id appended to completions by default. */
  readonly eosId?: number;
}

/** Options of `tokenizePreferencePair` (TRL's `max_prompt_length`, `max_completion_length`). */
export interface TokenizePreferenceOptions {
  /** Appended to each completion. Default: the tokenizer's `eosId`; null appends nothing. */
  eosTokenId?: number | null;
  /** Keep the last this many prompt tokens (TRL's `max_prompt_length`; default: all). */
  maxPromptLength?: number;
  /** Keep the first this many completion tokens, EOS included (`max_completion_length`; default: all). */
  maxCompletionLength?: number;
}

/** The EOS id `opts` and `tokenizer` say to append, or null. */
export function resolveEosTokenId(op: string, tokenizer: PreferenceTokenizer, eosTokenId: number | null | undefined): number | null {
  if (eosTokenId === null) return null;
  if (eosTokenId !== undefined) return checkSize(op, 'eosTokenId', eosTokenId);
  if (tokenizer.eosId === undefined || tokenizer.eosId === null) {
    throw new ValueError(`${op}: the tokenizer has no eosId; give eosTokenId (the id that ends a completion), or eosTokenId: null to append none`);
  }
  return checkSize(op, 'tokenizer.eosId', tokenizer.eosId);
}

function encode(op: string, tokenizer: PreferenceTokenizer, text: unknown, what: string): number[] {
  if (typeof text !== 'string') throw new ValueError(`${op}: ${what} must be a string, got ${fmtValue(text)}`);
  const ids = Array.from(tokenizer.encode(text, { addSpecialTokens: false }));
  ids.forEach((t, i) => checkSize(op, `tokenizer.encode(${what})[${i}]`, t));
  return ids;
}

/** `record` (named `where` in errors) as ids; `eos` appended to the completions unless null. */
export function tokenizeRecord(op: string, where: string, record: unknown, tokenizer: PreferenceTokenizer, eos: number | null, lengths: { maxPromptLength: number; maxCompletionLength: number }): PreferencePair {
  if (typeof record !== 'object' || record === null) throw new ValueError(`${op}: ${where} must be a { prompt, chosen, rejected } object, got ${fmtValue(record)}`);
  const r = record as Record<string, unknown>;
  const prompt = encode(op, tokenizer, r.prompt, `${where}.prompt`);
  const completion = (name: 'chosen' | 'rejected') => {
    const ids = encode(op, tokenizer, r[name], `${where}.${name}`);
    if (eos !== null) ids.push(eos);
    return ids.slice(0, lengths.maxCompletionLength);
  };
  return { prompt: prompt.slice(Math.max(0, prompt.length - lengths.maxPromptLength)), chosen: completion('chosen'), rejected: completion('rejected') };
}

/** Validated TokenizePreferenceOptions. */
export function checkTokenizeOptions(op: string, opts: TokenizePreferenceOptions): { maxPromptLength: number; maxCompletionLength: number } {
  return {
    maxPromptLength: opts.maxPromptLength === undefined ? Infinity : checkSize(op, 'maxPromptLength', opts.maxPromptLength, 1),
    maxCompletionLength: opts.maxCompletionLength === undefined ? Infinity : checkSize(op, 'maxCompletionLength', opts.maxCompletionLength, 1),
  };
}

/**
 * A text record as ids: prompt, chosen + EOS and rejected + EOS, each encoded on its own (no special
 * tokens added by `encode`), so the prompt/completion boundary is exact. Format the prompt first if
 * the model expects a template.
 */
export function tokenizePreferencePair(record: PreferenceText, tokenizer: PreferenceTokenizer, opts: TokenizePreferenceOptions = {}): PreferencePair {
  const op = 'tokenizePreferencePair';
  if (typeof tokenizer !== 'object' || tokenizer === null || typeof tokenizer.encode !== 'function') {
    throw new ValueError(`${op}: tokenizer must have encode(text) → token ids, got ${fmtValue(tokenizer)}`);
  }
  checkOptions(op, opts, ['eosTokenId', 'maxPromptLength', 'maxCompletionLength']);
  const eos = resolveEosTokenId(op, tokenizer, opts.eosTokenId);
  return tokenizeRecord(op, 'record', record, tokenizer, eos, checkTokenizeOptions(op, opts));
}

/** A checked pair (copied): non-empty prompt and completions of token ids below `vocabSize`;
 *  `where` names it in errors (e.g. "pairs[3]"). */
export function checkPreferencePair(op: string, pair: unknown, where: string, vocabSize = Infinity): PreferencePair {
  const p = pair as PreferencePair;
  if (typeof p !== 'object' || p === null) throw new ValueError(`${op}: ${where} must be a { prompt, chosen, rejected } object of token ids, got ${fmtValue(p)}`);
  const ids = (name: 'prompt' | 'chosen' | 'rejected'): number[] => {
    const v = p[name] as unknown;
    if (!Array.isArray(v) && !ArrayBuffer.isView(v)) throw new ValueError(`${op}: ${where}.${name} must be an array of token ids, got ${fmtValue(v)}`);
    const a = Array.from(v as ArrayLike<number>);
    if (a.length === 0) throw new ValueError(`${op}: ${where}.${name} is empty`);
    a.forEach((t, j) => {
      checkSize(op, `${where}.${name}[${j}]`, t);
      if (t >= vocabSize) throw new ValueError(`${op}: ${where}.${name}[${j}] = ${t} is outside the model's vocabulary of ${vocabSize}`);
    });
    return a;
  };
  const out: PreferencePair = { prompt: ids('prompt'), chosen: ids('chosen'), rejected: ids('rejected') };
  for (const k of ['margin', 'refChosenLogp', 'refRejectedLogp'] as const) if (p[k] !== undefined) out[k] = checkFinite(op, `${where}.${k}`, p[k]);
  return out;
}

/** A batch of B preference pairs; see the header of this file for the layout. */
export interface PreferenceBatch {
  /** (2B, T) int32: chosen rows, then rejected rows. */
  inputIds: Tensor;
  /** (2B, T) float32: 1 on real tokens. */
  attentionMask: Tensor;
  /** (2B, T − 1) float32: 1 where inputIds[:, t + 1] is a completion token. */
  completionMask: Tensor;
  /** Pairs in the batch (B). */
  size: number;
  /** (B) float32 per-pair margins, when every pair has one. */
  margin?: Tensor;
  /** (B) float32 reference log-probs, when every pair has them. */
  refChosenLogps?: Tensor;
  /** (B) float32 reference log-probs of the rejected completions, when every pair has them. */
  refRejectedLogps?: Tensor;
}

/** Options of `collatePreferences`. */
export interface CollatePreferencesOptions {
  /** Fills the rows after their end (default 0); never counted, the masks exclude it. */
  padTokenId?: number;
  /** Device of the batch's tensors (default: the default device). */
  device?: DeviceName;
}

/** Pad pairs into a `PreferenceBatch` (tensors on `device`). */
export function collatePreferences(pairs: readonly PreferencePair[], opts: CollatePreferencesOptions = {}): PreferenceBatch {
  const op = 'collatePreferences';
  checkOptions(op, opts, ['padTokenId', 'device']);
  const pad = opts.padTokenId === undefined ? 0 : checkSize(op, 'padTokenId', opts.padTokenId);
  if (opts.device !== undefined) checkEnum(op, 'device', opts.device, ['cpu', 'webgpu']);
  if (!Array.isArray(pairs) || pairs.length === 0) throw new ValueError(`${op}: pairs must be a non-empty array of preference pairs, got ${fmtValue(pairs)}`);
  const checked = pairs.map((p, i) => checkPreferencePair(op, p, `pairs[${i}]`));
  const B = checked.length;
  const rows = [...checked.map((p) => [p.prompt, p.chosen] as const), ...checked.map((p) => [p.prompt, p.rejected] as const)];
  const T = Math.max(...rows.map(([p, c]) => p.length + c.length));
  const ids = new Int32Array(2 * B * T).fill(pad);
  const attention = new Float32Array(2 * B * T);
  const completion = new Float32Array(2 * B * (T - 1));
  rows.forEach(([p, c], r) => {
    ids.set(p, r * T);
    ids.set(c, r * T + p.length);
    attention.fill(1, r * T, r * T + p.length + c.length);
    // Position t predicts token t + 1: the completion tokens p.length … p.length + |c| − 1 are
    // predicted at positions p.length − 1 … p.length + |c| − 2.
    completion.fill(1, r * (T - 1) + p.length - 1, r * (T - 1) + p.length - 1 + c.length);
  });
  const device = opts.device;
  const batch: PreferenceBatch = {
    inputIds: tensor(ids, { shape: [2 * B, T], dtype: 'int32', device }),
    attentionMask: tensor(attention, { shape: [2 * B, T], dtype: 'float32', device }),
    completionMask: tensor(completion, { shape: [2 * B, T - 1], dtype: 'float32', device }),
    size: B,
  };
  const column = (k: 'margin' | 'refChosenLogp' | 'refRejectedLogp') =>
    (checked.every((p) => p[k] !== undefined) ? tensor(Float32Array.from(checked, (p) => p[k]!), { shape: [B], dtype: 'float32', device }) : undefined);
  const margin = column('margin');
  const refChosen = column('refChosenLogp');
  const refRejected = column('refRejectedLogp');
  if (margin) batch.margin = margin;
  if (refChosen && refRejected) { batch.refChosenLogps = refChosen; batch.refRejectedLogps = refRejected; } else { refChosen?.dispose(); refRejected?.dispose(); }
  return batch;
}

/**
 * `collatePreferences` as a @webgrad/data `DataLoader` collate function: the loader's device
 * (its `device` option) wins over `opts.device`.
 */
export function preferenceCollate(opts: CollatePreferencesOptions = {}): (pairs: PreferencePair[], context?: { device?: DeviceName }) => PreferenceBatch {
  checkOptions('preferenceCollate', opts, ['padTokenId', 'device']);
  if (opts.padTokenId !== undefined) checkSize('preferenceCollate', 'padTokenId', opts.padTokenId);
  if (opts.device !== undefined) checkEnum('preferenceCollate', 'device', opts.device, ['cpu', 'webgpu']);
  return (pairs, context = {}) => collatePreferences(pairs, { ...opts, ...(context.device ? { device: context.device } : {}) });
}

/** Throw unless every pair fits a context of `blockSize` tokens. */
export function checkPairsFit(op: string, pairs: readonly PreferencePair[], blockSize: number, what: string): void {
  pairs.forEach((p, i) => {
    const n = p.prompt.length + Math.max(p.chosen.length, p.rejected.length);
    if (n > blockSize) {
      throw new ValueError(`${op}: ${what}[${i}] is ${n} tokens long (prompt ${p.prompt.length} + completion ${Math.max(p.chosen.length, p.rejected.length)}), more than the model's blockSize ${blockSize}; set maxPromptLength / maxCompletionLength`);
    }
  });
}
