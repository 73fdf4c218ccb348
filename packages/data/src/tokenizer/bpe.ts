// Byte-level BPE (GPT-2's tokenizer): text → UTF-8 bytes → words by GPT-2's pattern → merges
// applied lowest rank first. Trainable on a corpus, saved and loaded as a Hugging Face
// `tokenizer.json` (model BPE, ByteLevel pre-tokenizer and decoder) that HF's libraries read.
import { ValueError, checkOptions, checkSize, fmtValue } from '@webgrad/core';
import { DataError } from '../errors.js';
import { loadFs, loadPath } from '../util.js';
import { BYTE_TO_CHAR, bytesToSymbols, preTokenize, symbolsToText } from './byte_level.js';
import { MAX_TRAIN_VOCAB, trainByteLevelBPE } from './bpe_train.js';
import { configFor, parseJsonArg, rolesFromHF, templateFor, type HFAddedToken, type HFTokenizerConfig, type HFTokenizerJSON } from './hf_json.js';
import {
  ROLE_KEYS, SpecialTokenMatcher, addRoleTokens, checkDecode, checkEncode, checkRoles, type DecodeOptions, type EncodeOptions,
  type SpecialTokenRoles, type Tokenizer,
} from './tokenizer.js';

/** Options of the `ByteLevelBPETokenizer` constructor. */
export interface ByteLevelBPEOptions extends SpecialTokenRoles {
  /** Special tokens: matched in text before tokenization, never split or merged. Those missing
   *  from the vocabulary get the next ids. Role tokens are added if missing. */
  specialTokens?: readonly string[];
}

/** Options of `ByteLevelBPETokenizer.train`. */
export interface BPETrainOptions extends ByteLevelBPEOptions {
  /** Vocabulary size to reach: special tokens + 256 bytes + merged tokens (fewer if the corpus runs out of pairs). */
  vocabSize: number;
  /** Merge only pairs seen at least this often (default 2). */
  minFrequency?: number;
}

const CACHE_LIMIT = 50_000;

/**
 * A byte-level BPE tokenizer, as GPT-2's. Every UTF-8 text encodes (there is no unknown token) and
 * `decode(encode(s)) === s` for every string that is valid UTF-16 — newlines, tabs, runs of spaces,
 * emoji, CJK and combining marks included. A lone surrogate (not encodable as UTF-8) is encoded as
 * U+FFFD, as TextEncoder does. Decoding a slice of ids that cuts a multi-byte character gives U+FFFD
 * for the partial bytes.
 */
export class ByteLevelBPETokenizer implements Tokenizer {
  /** The merges, in rank order (first = applied first). */
  readonly merges: readonly (readonly [string, string])[];
  /** Which special tokens play which role. */
  readonly roles: Readonly<SpecialTokenRoles>;
  /** Tokens matched in text before tokenization (Hugging Face's added tokens). */
  readonly addedTokens: readonly Readonly<HFAddedToken>[];
  readonly #vocab: Map<string, number>;
  readonly #tokens: string[];
  readonly #ranks: Map<string, number>;
  readonly #byteIds: Int32Array;
  readonly #added: Map<number, Readonly<HFAddedToken>>;
  readonly #matcher: SpecialTokenMatcher;
  readonly #cache = new Map<string, number[]>();

  /**
   * @param vocab token string (in the byte-level alphabet) → id; must hold all 256 byte symbols
   * @param merges pairs of token strings, as `[a, b]` or `"a b"`, in rank order
   */
  constructor(vocab: Record<string, number> | ReadonlyMap<string, number>, merges: readonly (readonly [string, string] | string)[], options?: ByteLevelBPEOptions & { addedTokens?: readonly HFAddedToken[] }) {
    const op = 'ByteLevelBPETokenizer';
    const o = checkOptions(op, options, ['specialTokens', 'addedTokens', ...ROLE_KEYS]);
    const { roles, specialTokens } = checkRoles(op, o);
    if (vocab === null || typeof vocab !== 'object') throw new ValueError(`${op}: vocab must be an object or Map of token → id, got ${fmtValue(vocab)}`);
    const entries = vocab instanceof Map ? [...vocab] : Object.entries(vocab);
    this.#vocab = new Map();
    this.#tokens = [];
    for (const [t, id] of entries) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new DataError(`${op}: vocab id of ${JSON.stringify(t)} must be an integer >= 0, got ${fmtValue(id)}`);
      if (this.#tokens[id] !== undefined) throw new DataError(`${op}: vocab id ${id} is given to both ${JSON.stringify(this.#tokens[id])} and ${JSON.stringify(t)}`);
      this.#vocab.set(t, id);
      this.#tokens[id] = t;
    }
    this.#byteIds = new Int32Array(256);
    for (let b = 0; b < 256; b++) {
      const id = this.#vocab.get(BYTE_TO_CHAR[b]!);
      if (id === undefined) throw new DataError(`${op}: the vocabulary lacks the byte symbol ${JSON.stringify(BYTE_TO_CHAR[b])} (byte ${b}); a byte-level vocabulary holds all 256`);
      this.#byteIds[b] = id;
    }
    if (!Array.isArray(merges)) throw new ValueError(`${op}: merges must be an array, got ${fmtValue(merges)}`);
    const pairs: (readonly [string, string])[] = [];
    this.#ranks = new Map();
    merges.forEach((m, i) => {
      let pair: readonly [string, string];
      if (typeof m === 'string') {
        const k = m.indexOf(' ');
        if (k <= 0 || k === m.length - 1 || m.indexOf(' ', k + 1) >= 0) throw new DataError(`${op}: merge ${i} ${JSON.stringify(m)} is not "a b"`);
        pair = [m.slice(0, k), m.slice(k + 1)];
      } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') pair = [m[0], m[1]];
      else throw new DataError(`${op}: merge ${i} must be "a b" or [a, b], got ${fmtValue(m)}`);
      for (const t of [pair[0], pair[1], pair[0] + pair[1]]) {
        if (!this.#vocab.has(t)) throw new DataError(`${op}: merge ${i} (${JSON.stringify(pair[0])}, ${JSON.stringify(pair[1])}) uses ${JSON.stringify(t)}, which is not in the vocabulary`);
      }
      const key = pair[0] + ' ' + pair[1];
      if (!this.#ranks.has(key)) this.#ranks.set(key, i);
      pairs.push(pair);
    });
    this.merges = pairs;
    // Added tokens: those given (from a tokenizer.json), then special tokens not among them.
    const added: HFAddedToken[] = (o.addedTokens ?? []).map((t) => ({ ...t }));
    for (const t of added) {
      if (typeof t.content !== 'string' || t.content === '' || !Number.isInteger(t.id) || t.id < 0) throw new DataError(`${op}: invalid added token ${fmtValue(t)}`);
      if (this.#tokens[t.id] !== undefined && this.#tokens[t.id] !== t.content) throw new DataError(`${op}: added token ${JSON.stringify(t.content)} has id ${t.id}, which the vocabulary gives to ${JSON.stringify(this.#tokens[t.id])}`);
      this.#vocab.set(t.content, t.id);
      this.#tokens[t.id] = t.content;
    }
    for (const content of specialTokens) {
      const have = added.find((t) => t.content === content);
      if (have) { have.special = true; continue; }
      let id = this.#vocab.get(content);
      if (id === undefined) {
        id = this.#tokens.length;
        this.#vocab.set(content, id);
        this.#tokens[id] = content;
      }
      added.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    }
    for (let i = 0; i < this.#tokens.length; i++) {
      if (this.#tokens[i] === undefined) throw new DataError(`${op}: the vocabulary has no token with id ${i} (ids must be 0 … ${this.#tokens.length - 1} without gaps)`);
    }
    for (const [k, t] of [['bosToken', roles.bosToken], ['eosToken', roles.eosToken], ['padToken', roles.padToken], ['unkToken', roles.unkToken]] as const) {
      if (t !== undefined && !added.some((a) => a.content === t)) throw new DataError(`${op}: ${k} ${JSON.stringify(t)} is not an added token`);
    }
    this.addedTokens = added.sort((a, b) => a.id - b.id);
    this.#added = new Map(added.map((t) => [t.id, t]));
    this.roles = roles;
    this.#matcher = new SpecialTokenMatcher(added);
  }

  /**
   * Learn a tokenizer from a corpus: one text or many (an array or any iterable of strings).
   * Special tokens get ids 0 … k−1, the 256 bytes k … k+255, merged tokens the ids after.
   */
  static train(corpus: string | Iterable<string>, options: BPETrainOptions): ByteLevelBPETokenizer {
    const op = 'ByteLevelBPETokenizer.train';
    const o = checkOptions(op, options, ['vocabSize', 'minFrequency', 'specialTokens', ...ROLE_KEYS]);
    if (options === undefined) throw new ValueError(`${op}: options { vocabSize } are required`);
    const { roles, specialTokens } = checkRoles(op, o);
    const vocabSize = checkSize(op, 'vocabSize', o.vocabSize, specialTokens.length + 256);
    if (vocabSize > MAX_TRAIN_VOCAB) throw new ValueError(`${op}: vocabSize must be <= ${MAX_TRAIN_VOCAB}, got ${vocabSize}`);
    const minFrequency = o.minFrequency === undefined ? 2 : checkSize(op, 'minFrequency', o.minFrequency, 1);
    const texts = typeof corpus === 'string' ? [corpus] : corpus;
    if (texts === null || typeof texts !== 'object' || typeof (texts as Iterable<string>)[Symbol.iterator] !== 'function') {
      throw new ValueError(`${op}: corpus must be a string or an iterable of strings, got ${fmtValue(corpus)}`);
    }
    const checked = (function* () {
      let i = 0;
      for (const t of texts as Iterable<unknown>) {
        if (typeof t !== 'string') throw new ValueError(`${op}: corpus item ${i} must be a string, got ${fmtValue(t)}`);
        i++;
        yield t;
      }
    })();
    const matcher = new SpecialTokenMatcher(specialTokens.map((content, id) => ({ content, id })));
    const { tokens, merges } = trainByteLevelBPE(checked, { vocabSize, minFrequency, numSpecial: specialTokens.length, matcher });
    const vocab = new Map<string, number>(specialTokens.map((t, i) => [t, i]));
    tokens.forEach((t, i) => vocab.set(t, specialTokens.length + i));
    return new ByteLevelBPETokenizer(vocab, merges, { specialTokens, ...roles });
  }

  get vocabSize(): number { return this.#tokens.length; }
  get bosId(): number | undefined { return this.#role(this.roles.bosToken); }
  get eosId(): number | undefined { return this.#role(this.roles.eosToken); }
  get padId(): number | undefined { return this.#role(this.roles.padToken); }
  get unkId(): number | undefined { return this.#role(this.roles.unkToken); }
  get specialIds(): number[] { return this.addedTokens.filter((t) => t.special).map((t) => t.id); }

  #role(t: string | undefined): number | undefined {
    return t === undefined ? undefined : this.#vocab.get(t);
  }

  tokenToId(token: string): number | undefined { return this.#vocab.get(token); }
  idToToken(id: number): string | undefined { return Number.isInteger(id) && id >= 0 ? this.#tokens[id] : undefined; }

  /** The vocabulary (token string → id), added tokens included. */
  getVocab(): Map<string, number> { return new Map(this.#vocab); }

  /** The ids of one pre-tokenized word (merges applied lowest rank first, leftmost on ties). */
  #word(word: string): number[] {
    const hit = this.#cache.get(word);
    if (hit) return hit;
    const sym = bytesToSymbols(word);
    const n = sym.length;
    const tok: string[] = Array.from(sym);
    const next = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
    const prev = Int32Array.from({ length: n }, (_, i) => i - 1);
    const alive = new Uint8Array(n).fill(1);
    // A min-heap of candidate merges keyed by rank · (n + 1) + position.
    const heap: number[] = [];
    const push = (i: number) => {
      const j = next[i]!;
      if (j < 0) return;
      const r = this.#ranks.get(tok[i]! + ' ' + tok[j]!);
      if (r === undefined) return;
      heap.push(r * (n + 1) + i);
      for (let k = heap.length - 1; k > 0;) {
        const p = (k - 1) >> 1;
        if (heap[p]! <= heap[k]!) break;
        [heap[p], heap[k]] = [heap[k]!, heap[p]!];
        k = p;
      }
    };
    const pop = (): number => {
      const top = heap[0]!;
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        for (let k = 0; ;) {
          const l = 2 * k + 1;
          const r = l + 1;
          let m = k;
          if (l < heap.length && heap[l]! < heap[m]!) m = l;
          if (r < heap.length && heap[r]! < heap[m]!) m = r;
          if (m === k) break;
          [heap[m], heap[k]] = [heap[k]!, heap[m]!];
          k = m;
        }
      }
      return top;
    };
    for (let i = 0; i + 1 < n; i++) push(i);
    while (heap.length > 0) {
      const key = pop();
      const i = key % (n + 1);
      const rank = (key - i) / (n + 1);
      const j = next[i]!;
      if (!alive[i] || j < 0 || this.#ranks.get(tok[i]! + ' ' + tok[j]!) !== rank) continue; // stale
      tok[i] = tok[i]! + tok[j]!;
      alive[j] = 0;
      next[i] = next[j]!;
      if (next[j]! >= 0) prev[next[j]!] = i;
      if (prev[i]! >= 0) push(prev[i]!);
      push(i);
    }
    const ids: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) {
      if (n === 0) break;
      const id = this.#vocab.get(tok[i]!);
      ids.push(id!);
    }
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(word, ids);
    return ids;
  }

  encode(text: string, options?: EncodeOptions): number[] {
    const add = checkEncode('ByteLevelBPETokenizer.encode', text, options);
    const out: number[] = [];
    for (const piece of this.#matcher.split(text)) {
      if ('id' in piece) { out.push(piece.id); continue; }
      for (const w of preTokenize(piece.text)) for (const id of this.#word(w)) out.push(id);
    }
    return add ? addRoleTokens(out, this.roles, (t) => this.#vocab.get(t)) : out;
  }

  decode(ids: ArrayLike<number>, options?: DecodeOptions): string {
    const skip = checkDecode('ByteLevelBPETokenizer.decode', ids, options, this.#tokens.length);
    let out = '';
    let run = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const added = this.#added.get(id);
      if (added) {
        if (run) { out += symbolsToText(run); run = ''; }
        if (!(skip && added.special)) out += added.content;
      } else run += this.#tokens[id]!;
    }
    if (run) out += symbolsToText(run);
    return out;
  }

  /** The Hugging Face tokenizer.json document of this tokenizer. */
  toJSON(): HFTokenizerJSON {
    const vocab: Record<string, number> = {};
    this.#tokens.forEach((t, id) => { vocab[t] = id; });
    const addsTemplate = this.roles.addBosToken || this.roles.addEosToken;
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: this.addedTokens.map((t) => ({ id: t.id, content: t.content, single_word: t.single_word ?? false, lstrip: t.lstrip ?? false, rstrip: t.rstrip ?? false, normalized: t.normalized ?? false, special: t.special ?? false })),
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: addsTemplate ? templateFor(this.roles, (t) => this.#vocab.get(t)!) : { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false,
        vocab,
        merges: this.merges.map(([a, b]) => `${a} ${b}`),
      },
    };
  }

  /** The tokenizer_config.json that goes with `toJSON()`: the special-token roles. */
  toConfig(): HFTokenizerConfig {
    return configFor(this.roles);
  }

  /**
   * A tokenizer from a Hugging Face tokenizer.json (object or text) of GPT-2's kind: model BPE,
   * ByteLevel pre-tokenizer without prefix space, no normalizer. Roles come from `config`
   * (tokenizer_config.json) if given, else from the file (see `rolesFromHF`). Other kinds of
   * tokenizer.json raise a DataError: read them with `HFTokenizer`.
   */
  static fromJSON(json: HFTokenizerJSON | string, config?: HFTokenizerConfig | string): ByteLevelBPETokenizer {
    const op = 'ByteLevelBPETokenizer.fromJSON';
    const j = parseJsonArg(json);
    const c = config === undefined ? undefined : parseJsonArg(config);
    if (typeof j !== 'object' || j === null || typeof j.model !== 'object' || j.model === null) throw new DataError(`${op}: not a tokenizer.json document (no "model")`);
    const model = j.model as Record<string, unknown>;
    const unsupported = (what: string) => new DataError(`${op}: ${what}; this class reads GPT-2-style byte-level BPE only — use HFTokenizer.fromJSON for other tokenizers`);
    if (model.type !== undefined && model.type !== 'BPE') throw unsupported(`model type ${JSON.stringify(model.type)}`);
    if (j.normalizer != null) throw unsupported('it has a normalizer');
    const pre = j.pre_tokenizer as { type?: string; add_prefix_space?: boolean; use_regex?: boolean } | null;
    if (pre?.type !== 'ByteLevel' || pre.add_prefix_space === true || pre.use_regex === false) throw unsupported(`pre_tokenizer ${JSON.stringify(pre?.type ?? null)} with these settings`);
    for (const k of ['continuing_subword_prefix', 'end_of_word_suffix']) if (model[k]) throw unsupported(`model.${k} is set`);
    if (model.dropout) throw unsupported('BPE dropout is set');
    if (typeof model.vocab !== 'object' || model.vocab === null || !Array.isArray(model.merges)) throw new DataError(`${op}: model.vocab and model.merges are required`);
    const added = Array.isArray(j.added_tokens) ? j.added_tokens : [];
    const roles = rolesFromHF({ ...j, added_tokens: added }, c);
    return new ByteLevelBPETokenizer(model.vocab as Record<string, number>, model.merges as string[], { ...roles, addedTokens: added });
  }

  /** Write tokenizer.json and tokenizer_config.json into directory `dir` (created if needed; Node.js). */
  async save(dir: string): Promise<void> {
    if (typeof dir !== 'string' || dir === '') throw new ValueError(`ByteLevelBPETokenizer.save: dir must be a directory path, got ${fmtValue(dir)}`);
    const fs = await loadFs();
    const path = await loadPath();
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(this.toJSON(), null, 2) + '\n', 'utf8');
    await fs.writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify(this.toConfig(), null, 2) + '\n', 'utf8');
  }

  /**
   * Read a tokenizer (Node.js) from a directory holding tokenizer.json (and optionally
   * tokenizer_config.json), or from a tokenizer.json path (a tokenizer_config.json beside it is read too).
   */
  static async load(path: string): Promise<ByteLevelBPETokenizer> {
    const { json, config } = await readTokenizerFiles('ByteLevelBPETokenizer.load', path);
    return ByteLevelBPETokenizer.fromJSON(json, config);
  }
}

/** tokenizer.json (and tokenizer_config.json if present) from a directory or a file path. */
export async function readTokenizerFiles(op: string, p: string): Promise<{ json: HFTokenizerJSON; config: HFTokenizerConfig | undefined }> {
  if (typeof p !== 'string' || p === '') throw new ValueError(`${op}: path must be a file or directory path, got ${fmtValue(p)}`);
  const fs = await loadFs();
  const path = await loadPath();
  const isDir = (await fs.stat(p)).isDirectory();
  const file = isDir ? path.join(p, 'tokenizer.json') : p;
  const cfgFile = path.join(isDir ? p : path.dirname(p), 'tokenizer_config.json');
  const parse = (text: string, f: string) => {
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new DataError(`${op}: ${f} is not valid JSON (${(e as Error).message})`);
    }
  };
  const json = parse(await fs.readFile(file, 'utf8'), file) as HFTokenizerJSON;
  let config: HFTokenizerConfig | undefined;
  try {
    config = parse(await fs.readFile(cfgFile, 'utf8'), cfgFile) as HFTokenizerConfig;
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw e;
  }
  return { json, config };
}
