// The parts of Hugging Face's tokenizer files this package reads and writes: `tokenizer.json`
// (the `tokenizers` library's serialization) and `tokenizer_config.json` (transformers' settings,
// where the BOS / EOS / PAD / UNK roles live).
import type { SpecialTokenRoles } from './tokenizer.js';

/** An entry of tokenizer.json's `added_tokens`. */
export interface HFAddedToken {
  /** The token's id. */
  id: number;
  /** The token's text. */
  content: string;
  /** Match only as a whole word. */
  single_word?: boolean;
  /** Take the whitespace on its left into the match. */
  lstrip?: boolean;
  /** Take the whitespace on its right into the match. */
  rstrip?: boolean;
  /** Match against the normalized text (false: the raw text). */
  normalized?: boolean;
  /** A special token (skipped by decode with skipSpecialTokens). */
  special?: boolean;
}

/** A tokenizer.json document (the fields this package looks at; others are kept as they are). */
export interface HFTokenizerJSON {
  /** The format version ('1.0'). */
  version?: string;
  /** The truncation settings, or null. */
  truncation?: unknown;
  /** The padding settings, or null. */
  padding?: unknown;
  /** Tokens added to the model's vocabulary (special tokens among them). */
  added_tokens: HFAddedToken[];
  /** The normalizer, or null. */
  normalizer: unknown;
  /** The pre-tokenizer (ByteLevel for GPT-2's byte-level BPE), or null. */
  pre_tokenizer: unknown;
  /** The post-processor (TemplateProcessing adds BOS/EOS), or null. */
  post_processor: unknown;
  /** The decoder, or null. */
  decoder: unknown;
  /** The model: its type ('BPE', …), vocabulary and, for BPE, merges. */
  model: {
    /** 'BPE', 'WordPiece', 'Unigram', … */
    type?: string;
    /** Token → id. */
    vocab?: Record<string, number> | unknown;
    /** BPE merges, in priority order. */
    merges?: unknown;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** A special token in tokenizer_config.json: its text, or an AddedToken-like object. */
export type HFConfigToken = string | { content: string; [k: string]: unknown } | null;

/** A tokenizer_config.json document (the fields this package looks at). */
export interface HFTokenizerConfig {
  /** The BOS token. */
  bos_token?: HFConfigToken;
  /** The EOS token. */
  eos_token?: HFConfigToken;
  /** The padding token. */
  pad_token?: HFConfigToken;
  /** The unknown token. */
  unk_token?: HFConfigToken;
  /** Whether encoding puts BOS first. */
  add_bos_token?: boolean;
  /** Whether encoding puts EOS last. */
  add_eos_token?: boolean;
  /** Whether decoding removes spaces before punctuation (transformers' clean-up). */
  clean_up_tokenization_spaces?: boolean;
  [k: string]: unknown;
}

const tokenText = (t: HFConfigToken | undefined): string | undefined =>
  t === undefined || t === null ? undefined : typeof t === 'string' ? t : typeof t.content === 'string' ? t.content : undefined;

/** Names that conventionally play a role, tried when there is no tokenizer_config.json. */
const CONVENTIONAL: Record<'bosToken' | 'eosToken' | 'padToken' | 'unkToken', readonly string[]> = {
  bosToken: ['<s>', '<|begin_of_text|>', '<bos>', '<|bos|>', '[BOS]'],
  eosToken: ['</s>', '<|endoftext|>', '<|end_of_text|>', '<eos>', '<|eos|>', '[EOS]'],
  padToken: ['<pad>', '<|pad|>', '[PAD]'],
  unkToken: ['<unk>', '<|unk|>', '[UNK]'],
};

/**
 * The roles of a tokenizer's special tokens: from tokenizer_config.json when given; else from a
 * TemplateProcessing post-processor (the token before the sequence is BOS, after it EOS, and both
 * are added); else by conventional names among the special added tokens (`<s>`, `</s>`,
 * `<|endoftext|>`, `<pad>`, `<unk>`, …), none added.
 */
export function rolesFromHF(json: HFTokenizerJSON, config: HFTokenizerConfig | undefined): SpecialTokenRoles {
  const known = new Set(json.added_tokens.map((t) => t.content));
  const model = json.model as { unk_token?: unknown };
  const roles: SpecialTokenRoles = {};
  if (config) {
    const r = { bosToken: tokenText(config.bos_token), eosToken: tokenText(config.eos_token), padToken: tokenText(config.pad_token), unkToken: tokenText(config.unk_token) };
    for (const [k, v] of Object.entries(r) as [keyof typeof r, string | undefined][]) if (v !== undefined) roles[k] = v;
    if (config.add_bos_token === true && roles.bosToken) roles.addBosToken = true;
    if (config.add_eos_token === true && roles.eosToken) roles.addEosToken = true;
    const t = templateRoles(json.post_processor);
    if (t.addBosToken && roles.bosToken === undefined) Object.assign(roles, { bosToken: t.bosToken });
    if (t.addBosToken && roles.bosToken === t.bosToken) roles.addBosToken = true;
    if (t.addEosToken && roles.eosToken === undefined) Object.assign(roles, { eosToken: t.eosToken });
    if (t.addEosToken && roles.eosToken === t.eosToken) roles.addEosToken = true;
    return roles;
  }
  Object.assign(roles, templateRoles(json.post_processor));
  const special = json.added_tokens.filter((t) => t.special).map((t) => t.content);
  for (const k of Object.keys(CONVENTIONAL) as (keyof typeof CONVENTIONAL)[]) {
    if (roles[k] !== undefined) continue;
    const found = CONVENTIONAL[k].find((name) => special.includes(name));
    if (found) roles[k] = found;
  }
  if (roles.unkToken === undefined && typeof model.unk_token === 'string' && known.has(model.unk_token)) roles.unkToken = model.unk_token;
  return roles;
}

/** BOS / EOS that a TemplateProcessing post-processor puts around a single sequence. */
function templateRoles(pp: unknown): SpecialTokenRoles {
  const single = (pp as { type?: string; single?: unknown[] } | null)?.type === 'TemplateProcessing' ? (pp as { single: unknown[] }).single : null;
  if (!Array.isArray(single)) return {};
  const roles: SpecialTokenRoles = {};
  let seenSeq = false;
  for (const item of single as Record<string, { id: string }>[]) {
    if ('Sequence' in item) seenSeq = true;
    else if ('SpecialToken' in item) {
      if (!seenSeq) Object.assign(roles, { bosToken: item.SpecialToken!.id, addBosToken: true });
      else Object.assign(roles, { eosToken: item.SpecialToken!.id, addEosToken: true });
    }
  }
  return roles;
}

/** A TemplateProcessing post-processor adding `roles`' BOS / EOS (single: [BOS] A [EOS]; pair: [BOS] A [EOS] [BOS] B [EOS]). */
export function templateFor(roles: SpecialTokenRoles, idOf: (t: string) => number): unknown {
  const bos = roles.addBosToken ? roles.bosToken : undefined;
  const eos = roles.addEosToken ? roles.eosToken : undefined;
  const seq = (id: 'A' | 'B', typeId: number) => [
    ...(bos ? [{ SpecialToken: { id: bos, type_id: typeId } }] : []),
    { Sequence: { id, type_id: typeId } },
    ...(eos ? [{ SpecialToken: { id: eos, type_id: typeId } }] : []),
  ];
  const specials: Record<string, unknown> = {};
  for (const t of [bos, eos]) if (t) specials[t] = { id: t, ids: [idOf(t)], tokens: [t] };
  return { type: 'TemplateProcessing', single: seq('A', 0), pair: [...seq('A', 0), ...seq('B', 1)], special_tokens: specials };
}

/** tokenizer_config.json for `roles` (what transformers' AutoTokenizer reads beside tokenizer.json). */
export function configFor(roles: SpecialTokenRoles): HFTokenizerConfig {
  const c: HFTokenizerConfig = { tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false };
  if (roles.bosToken !== undefined) c.bos_token = roles.bosToken;
  if (roles.eosToken !== undefined) c.eos_token = roles.eosToken;
  if (roles.padToken !== undefined) c.pad_token = roles.padToken;
  if (roles.unkToken !== undefined) c.unk_token = roles.unkToken;
  c.add_bos_token = roles.addBosToken ?? false;
  c.add_eos_token = roles.addEosToken ?? false;
  return c;
}

/** Parse a JSON argument given as text or as an already parsed object. */
export function parseJsonArg<T>(v: T | string): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}
