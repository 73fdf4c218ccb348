// A character-level tokenizer, as nanoGPT's shakespeare_char: the vocabulary is the sorted set of
// distinct characters (Unicode code points) of a corpus, token id = index in that list; special
// tokens, if any, follow the characters.
import { ValueError, checkOptions, fmtValue } from '@webgrad/core';
import { DataError } from '../errors.js';
import { loadFs } from '../util.js';
import {
  ROLE_KEYS, SpecialTokenMatcher, addRoleTokens, checkDecode, checkEncode, checkRoles, type DecodeOptions, type EncodeOptions,
  type SpecialTokenRoles, type Tokenizer,
} from './tokenizer.js';

/** Options of `CharTokenizer`. */
export interface CharTokenizerOptions extends SpecialTokenRoles {
  /** Special tokens, given ids after the characters (role tokens are added if missing). */
  specialTokens?: readonly string[];
}

/** The serialized form (`toJSON`). */
export interface CharTokenizerJSON extends SpecialTokenRoles {
  /** Always 'CharTokenizer'. */
  type: 'CharTokenizer';
  /** The characters, sorted: the k-th has id k. */
  chars: string[];
  /** The special tokens: the k-th has id chars.length + k. */
  specialTokens: string[];
}

/**
 * Characters as tokens. `encode` throws a `DataError` on a character outside the vocabulary unless
 * the tokenizer has an `unkToken`, which then stands for it (and decodes as that token's text).
 * Decoding ids from `encode` gives the text back exactly when no character was unknown.
 */
export class CharTokenizer implements Tokenizer {
  /** The characters, sorted (by UTF-16 code units, as `Array.prototype.sort`); id = index. */
  readonly chars: readonly string[];
  /** Special tokens; the k-th has id chars.length + k. */
  readonly specialTokens: readonly string[];
  /** Which special tokens play which role. */
  readonly roles: Readonly<SpecialTokenRoles>;
  readonly #index: Map<string, number>;
  readonly #matcher: SpecialTokenMatcher;

  constructor(chars: Iterable<string>, options?: CharTokenizerOptions) {
    const op = 'CharTokenizer';
    if (chars === null || typeof chars !== 'object' && typeof chars !== 'string' || typeof (chars as Iterable<string>)[Symbol.iterator] !== 'function') {
      throw new ValueError(`${op}: chars must be a string or an iterable of characters, got ${fmtValue(chars)}`);
    }
    const set = new Set<string>();
    for (const c of chars) {
      if (typeof c !== 'string' || [...c].length !== 1) throw new ValueError(`${op}: each character must be one code point, got ${fmtValue(c)}`);
      set.add(c);
    }
    this.chars = [...set].sort();
    const o = checkOptions(op, options, ['specialTokens', ...ROLE_KEYS]);
    const { roles, specialTokens } = checkRoles(op, o);
    for (const t of specialTokens) if (set.has(t)) throw new ValueError(`${op}: special token ${JSON.stringify(t)} is also a character of the vocabulary`);
    this.specialTokens = specialTokens;
    this.roles = roles;
    this.#index = new Map([...this.chars, ...specialTokens].map((c, i) => [c, i]));
    this.#matcher = new SpecialTokenMatcher(specialTokens.map((content, k) => ({ content, id: this.chars.length + k })));
  }

  /** The vocabulary of every character in `text`. */
  static fromText(text: string, options?: CharTokenizerOptions): CharTokenizer {
    if (typeof text !== 'string') throw new ValueError(`CharTokenizer.fromText: text must be a string, got ${fmtValue(text)}`);
    return new CharTokenizer(text, options);
  }

  get vocabSize(): number { return this.chars.length + this.specialTokens.length; }
  get bosId(): number | undefined { return this.#role(this.roles.bosToken); }
  get eosId(): number | undefined { return this.#role(this.roles.eosToken); }
  get padId(): number | undefined { return this.#role(this.roles.padToken); }
  get unkId(): number | undefined { return this.#role(this.roles.unkToken); }
  get specialIds(): number[] { return this.specialTokens.map((_, k) => this.chars.length + k); }

  #role(t: string | undefined): number | undefined {
    return t === undefined ? undefined : this.#index.get(t);
  }

  encode(text: string, options?: EncodeOptions): number[] {
    const add = checkEncode('CharTokenizer.encode', text, options);
    const out: number[] = [];
    const unk = this.unkId;
    for (const piece of this.#matcher.split(text)) {
      if ('id' in piece) { out.push(piece.id); continue; }
      for (const c of piece.text) {
        const id = this.#index.get(c);
        if (id !== undefined && id < this.chars.length) out.push(id);
        else if (unk !== undefined) out.push(unk);
        else throw new DataError(`CharTokenizer.encode: character ${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) is not in the vocabulary`);
      }
    }
    return add ? addRoleTokens(out, this.roles, (t) => this.#index.get(t)) : out;
  }

  decode(ids: ArrayLike<number>, options?: DecodeOptions): string {
    const skip = checkDecode('CharTokenizer.decode', ids, options, this.vocabSize);
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < this.chars.length) s += this.chars[id];
      else if (!skip) s += this.specialTokens[id - this.chars.length];
    }
    return s;
  }

  tokenToId(token: string): number | undefined { return this.#index.get(token); }
  idToToken(id: number): string | undefined {
    return Number.isInteger(id) && id >= 0 ? (id < this.chars.length ? this.chars[id] : this.specialTokens[id - this.chars.length]) : undefined;
  }

  /** The serialized form: the character table and special-token roles (`CharTokenizer.fromJSON` reads it back). */
  toJSON(): CharTokenizerJSON {
    return { type: 'CharTokenizer', chars: [...this.chars], specialTokens: [...this.specialTokens], ...this.roles };
  }

  /** A tokenizer from `toJSON()`'s output (an object or its JSON text). */
  static fromJSON(json: CharTokenizerJSON | string): CharTokenizer {
    const op = 'CharTokenizer.fromJSON';
    const j = (typeof json === 'string' ? JSON.parse(json) : json) as CharTokenizerJSON;
    if (typeof j !== 'object' || j === null || j.type !== 'CharTokenizer' || !Array.isArray(j.chars)) {
      throw new DataError(`${op}: not a serialized CharTokenizer (expected { type: "CharTokenizer", chars: [...] })`);
    }
    const { type: _t, chars, ...rest } = j;
    return new CharTokenizer(chars, rest);
  }

  /** Write `toJSON()` to a file (Node.js). */
  async save(path: string): Promise<void> {
    const fs = await loadFs();
    await fs.writeFile(path, JSON.stringify(this.toJSON()) + '\n', 'utf8');
  }

  /** Read a tokenizer written by `save` (Node.js). */
  static async load(path: string): Promise<CharTokenizer> {
    const fs = await loadFs();
    return CharTokenizer.fromJSON(await fs.readFile(path, 'utf8'));
  }
}
