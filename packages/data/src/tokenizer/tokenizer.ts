// The interface every tokenizer of this package implements, and the special-token bookkeeping
// they share: added tokens matched in text before tokenization, and the roles (BOS, EOS, PAD, UNK).
import { IndexError, ValueError, checkBool, checkOptions, fmtValue } from '@webgrad/core';

/** Options of `Tokenizer.encode`. */
export interface EncodeOptions {
  /** Add the tokens the tokenizer adds around a text (BOS / EOS, where it is set up to; default true). */
  addSpecialTokens?: boolean;
}

/** Options of `Tokenizer.decode`. */
export interface DecodeOptions {
  /** Leave special tokens (BOS, EOS, PAD, …) out of the text (default false). */
  skipSpecialTokens?: boolean;
}

/** Text ↔ token ids. */
export interface Tokenizer {
  /** Number of ids, special tokens included. */
  readonly vocabSize: number;
  /** Id of the beginning-of-sequence token, if the tokenizer has one. */
  readonly bosId: number | undefined;
  /** Id of the end-of-sequence token, if the tokenizer has one. */
  readonly eosId: number | undefined;
  /** Id of the padding token, if the tokenizer has one. */
  readonly padId: number | undefined;
  /** Id of the unknown token, if the tokenizer has one. */
  readonly unkId: number | undefined;
  /** Ids of all special tokens. */
  readonly specialIds: readonly number[];
  /** The ids of `text`. Special tokens written in the text (e.g. "<|endoftext|>") become their ids. */
  encode(text: string, options?: EncodeOptions): number[];
  /** The text of `ids`. */
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  /** The id of a token string (in the tokenizer's own spelling), or undefined. */
  tokenToId(token: string): number | undefined;
  /** The token string of an id, or undefined. */
  idToToken(id: number): string | undefined;
}

/** Which special tokens play which role, and which are added by `encode`. */
export interface SpecialTokenRoles {
  /** The beginning-of-sequence token (its id is `bosId`). */
  bosToken?: string;
  /** The end-of-sequence token (`eosId`): appended to completions and instruction responses. */
  eosToken?: string;
  /** The padding token (`padId`): `padCollate`'s default pad value. */
  padToken?: string;
  /** The token for what the vocabulary cannot encode (`unkId`). */
  unkToken?: string;
  /** `encode` puts BOS first (with addSpecialTokens, the default); default false. */
  addBosToken?: boolean;
  /** `encode` puts EOS last (with addSpecialTokens, the default); default false. */
  addEosToken?: boolean;
}

export const ROLE_KEYS = ['bosToken', 'eosToken', 'padToken', 'unkToken', 'addBosToken', 'addEosToken'] as const;

/** Validated roles; the role tokens are added to `specialTokens` if missing (in role order). */
export function checkRoles(op: string, o: SpecialTokenRoles & { specialTokens?: readonly string[] }): { roles: SpecialTokenRoles; specialTokens: string[] } {
  const specialTokens: string[] = [];
  if (o.specialTokens !== undefined) {
    if (!Array.isArray(o.specialTokens)) throw new ValueError(`${op}: specialTokens must be an array of strings, got ${fmtValue(o.specialTokens)}`);
    for (const t of o.specialTokens) {
      if (typeof t !== 'string' || t === '') throw new ValueError(`${op}: special tokens must be non-empty strings, got ${fmtValue(t)}`);
      if (specialTokens.includes(t)) throw new ValueError(`${op}: special token ${JSON.stringify(t)} is listed twice`);
      specialTokens.push(t);
    }
  }
  const roles: SpecialTokenRoles = {};
  for (const k of ['bosToken', 'eosToken', 'padToken', 'unkToken'] as const) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '') throw new ValueError(`${op}: ${k} must be a non-empty string, got ${fmtValue(v)}`);
    roles[k] = v;
    if (!specialTokens.includes(v)) specialTokens.push(v);
  }
  for (const k of ['addBosToken', 'addEosToken'] as const) if (o[k] !== undefined) roles[k] = checkBool(op, k, o[k]);
  if (roles.addBosToken && roles.bosToken === undefined) throw new ValueError(`${op}: addBosToken needs a bosToken`);
  if (roles.addEosToken && roles.eosToken === undefined) throw new ValueError(`${op}: addEosToken needs an eosToken`);
  return { roles, specialTokens };
}

/** A piece of text between special tokens, or a special token's id. */
export type Piece = { text: string } | { id: number };

/**
 * Special tokens matched in text: at each position the longest special token that starts there
 * wins, scanning left to right (as Hugging Face's tokenizers do).
 */
export class SpecialTokenMatcher {
  readonly #trie = new Map<string, unknown>();
  readonly #ids = new Map<string, number>();

  constructor(tokens: readonly { content: string; id: number }[]) {
    for (const t of tokens) {
      this.#ids.set(t.content, t.id);
      let node = this.#trie;
      for (const ch of t.content) {
        let next = node.get(ch) as Map<string, unknown> | undefined;
        if (!next) node.set(ch, (next = new Map()));
        node = next;
      }
      node.set('', t.content);
    }
  }

  /** `text` cut into plain pieces and special-token ids. */
  split(text: string): Piece[] {
    if (this.#ids.size === 0) return text === '' ? [] : [{ text }];
    const out: Piece[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      let node: Map<string, unknown> | undefined = this.#trie;
      let match: string | undefined;
      let j = i;
      while (j < text.length && (node = node.get(text[j]!) as Map<string, unknown> | undefined)) {
        const end = node.get('') as string | undefined;
        if (end !== undefined) match = end;
        j++;
      }
      if (match !== undefined) {
        if (i > start) out.push({ text: text.slice(start, i) });
        out.push({ id: this.#ids.get(match)! });
        i += match.length;
        start = i;
      } else i++;
    }
    if (start < text.length) out.push({ text: text.slice(start) });
    return out;
  }
}

/** Check encode's arguments; returns whether to add special tokens. */
export function checkEncode(op: string, text: unknown, options: EncodeOptions | undefined): boolean {
  if (typeof text !== 'string') throw new ValueError(`${op}: text must be a string, got ${fmtValue(text)}`);
  const o = checkOptions(op, options, ['addSpecialTokens']);
  return o.addSpecialTokens === undefined ? true : checkBool(op, 'addSpecialTokens', o.addSpecialTokens);
}

/** Check decode's arguments; returns whether to skip special tokens. */
export function checkDecode(op: string, ids: unknown, options: DecodeOptions | undefined, vocabSize: number): boolean {
  if (ids === null || typeof ids !== 'object' || typeof (ids as ArrayLike<number>).length !== 'number') {
    throw new ValueError(`${op}: ids must be an array of token ids, got ${fmtValue(ids)}`);
  }
  const a = ids as ArrayLike<number>;
  for (let i = 0; i < a.length; i++) {
    const id = a[i];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new IndexError(`${op}: id ${fmtValue(id)} at position ${i} is out of range for a vocabulary of ${vocabSize}`);
    }
  }
  const o = checkOptions(op, options, ['skipSpecialTokens']);
  return o.skipSpecialTokens === undefined ? false : checkBool(op, 'skipSpecialTokens', o.skipSpecialTokens);
}

/** `ids` with BOS / EOS added as the roles say. */
export function addRoleTokens(ids: number[], roles: SpecialTokenRoles, tokenToId: (t: string) => number | undefined): number[] {
  if (roles.addBosToken && roles.bosToken !== undefined) ids.unshift(tokenToId(roles.bosToken)!);
  if (roles.addEosToken && roles.eosToken !== undefined) ids.push(tokenToId(roles.eosToken)!);
  return ids;
}
