// Pretrained Hugging Face tokenizers, through Hugging Face's own JavaScript implementation
// (@huggingface/tokenizers, "Tokenizers.js": BPE, WordPiece, Unigram; the normalizers,
// pre-tokenizers, post-processors and decoders of tokenizer.json), behind this package's Tokenizer
// interface. `loadTokenizer` also reads this package's own CharTokenizer files.
import { Tokenizer as HFLibTokenizer } from '@huggingface/tokenizers';
import { ValueError, fmtValue } from '@webgrad/core';
import { DataError } from '../errors.js';
import { loadFs } from '../util.js';
import { readTokenizerFiles } from './bpe.js';
import { CharTokenizer } from './char.js';
import { parseJsonArg, rolesFromHF, type HFTokenizerConfig, type HFTokenizerJSON } from './hf_json.js';
import { checkDecode, checkEncode, type DecodeOptions, type EncodeOptions, type SpecialTokenRoles, type Tokenizer } from './tokenizer.js';

/**
 * A tokenizer read from a Hugging Face `tokenizer.json` (with its `tokenizer_config.json`, where
 * the BOS / EOS / PAD roles and transformers' settings live). Encoding and decoding are done by
 * @huggingface/tokenizers. `decode` does not apply transformers' "clean up tokenization spaces"
 * (which changes text such as " ." → ".") unless the config asks for it, so byte-level tokenizers
 * round-trip exactly, as with the Rust `tokenizers` library.
 */
export class HFTokenizer implements Tokenizer {
  /** The @huggingface/tokenizers object (for what this interface does not cover: offsets, pairs, …). */
  readonly inner: HFLibTokenizer;
  /** Which special tokens play which role (from tokenizer_config.json, or given). */
  readonly roles: Readonly<SpecialTokenRoles>;
  readonly specialIds: readonly number[];
  readonly vocabSize: number;
  readonly #cleanUp: boolean;

  private constructor(json: HFTokenizerJSON, config: HFTokenizerConfig | undefined) {
    const op = 'HFTokenizer.fromJSON';
    if (typeof json !== 'object' || json === null || typeof json.model !== 'object') throw new DataError(`${op}: not a tokenizer.json document (no "model")`);
    if (config !== undefined && (typeof config !== 'object' || config === null || Array.isArray(config))) throw new ValueError(`${op}: config must be a tokenizer_config.json object, got ${fmtValue(config)}`);
    const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
    const doc = { ...json, added_tokens: added };
    try {
      this.inner = new HFLibTokenizer(doc, { ...(config ?? {}) });
    } catch (e) {
      throw new DataError(`${op}: @huggingface/tokenizers could not build this tokenizer: ${(e as Error).message}`);
    }
    this.roles = rolesFromHF(doc, config);
    this.specialIds = added.filter((t) => t.special).map((t) => t.id);
    let max = -1;
    for (const id of this.inner.get_vocab(true).values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    this.#cleanUp = config?.clean_up_tokenization_spaces === true;
  }

  /** A tokenizer from tokenizer.json (an object or its text) and, optionally, tokenizer_config.json. */
  static fromJSON(json: HFTokenizerJSON | string, config?: HFTokenizerConfig | string): HFTokenizer {
    return new HFTokenizer(parseJsonArg(json), config === undefined ? undefined : parseJsonArg(config));
  }

  /** Read a directory holding tokenizer.json (+ tokenizer_config.json), or a tokenizer.json path (Node.js). */
  static async load(path: string): Promise<HFTokenizer> {
    const { json, config } = await readTokenizerFiles('HFTokenizer.load', path);
    return new HFTokenizer(json, config);
  }

  get bosId(): number | undefined { return this.#role(this.roles.bosToken); }
  get eosId(): number | undefined { return this.#role(this.roles.eosToken); }
  get padId(): number | undefined { return this.#role(this.roles.padToken); }
  get unkId(): number | undefined { return this.#role(this.roles.unkToken); }

  #role(t: string | undefined): number | undefined {
    return t === undefined ? undefined : this.inner.token_to_id(t);
  }

  encode(text: string, options?: EncodeOptions): number[] {
    const add = checkEncode('HFTokenizer.encode', text, options);
    return this.inner.encode(text, { add_special_tokens: add }).ids;
  }

  decode(ids: ArrayLike<number>, options?: DecodeOptions): string {
    const skip = checkDecode('HFTokenizer.decode', ids, options, this.vocabSize);
    if (ids.length === 0) return '';
    return this.inner.decode(Array.from(ids), { skip_special_tokens: skip, clean_up_tokenization_spaces: this.#cleanUp });
  }

  tokenToId(token: string): number | undefined { return this.inner.token_to_id(token); }
  idToToken(id: number): string | undefined { return this.inner.id_to_token(id); }
}

/**
 * Load a tokenizer from a path (Node.js): a directory or file holding a Hugging Face tokenizer.json
 * (→ `HFTokenizer`), or a file written by `CharTokenizer.save` (→ `CharTokenizer`).
 */
export async function loadTokenizer(path: string): Promise<Tokenizer> {
  if (typeof path !== 'string' || path === '') throw new ValueError(`loadTokenizer: path must be a file or directory path, got ${fmtValue(path)}`);
  const fs = await loadFs();
  if ((await fs.stat(path)).isFile()) {
    const text = await fs.readFile(path, 'utf8');
    let doc: { type?: unknown };
    try {
      doc = JSON.parse(text) as { type?: unknown };
    } catch (e) {
      throw new DataError(`loadTokenizer: ${path} is not valid JSON (${(e as Error).message})`);
    }
    if (doc?.type === 'CharTokenizer') return CharTokenizer.fromJSON(doc as never);
  }
  return HFTokenizer.load(path);
}
