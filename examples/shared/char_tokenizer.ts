// A character-level tokenizer, as nanoGPT's shakespeare_char: the vocabulary is the sorted set of
// distinct characters (Unicode code points) of a corpus; token id = index in that list. A
// vocabulary can grow (`extend`): the new characters take the ids after the existing ones, so a
// model trained with the old ids keeps its meaning for them.

export class CharTokenizer {
  readonly chars: readonly string[];
  readonly #index: Map<string, number>;

  /** `keepOrder`: ids follow the order of `chars` (an extended vocabulary) instead of sorting them. */
  constructor(chars: Iterable<string>, opts: { keepOrder?: boolean } = {}) {
    const distinct = [...new Set(chars)];
    this.chars = opts.keepOrder ? distinct : distinct.sort();
    this.#index = new Map(this.chars.map((c, i) => [c, i]));
  }

  /** The vocabulary of every character in `text`. */
  static fromText(text: string): CharTokenizer {
    return new CharTokenizer(text);
  }

  get vocabSize(): number { return this.chars.length; }

  /** The distinct characters of `text` that are not in the vocabulary, sorted. */
  unknownChars(text: string): string[] {
    return [...new Set(text)].filter((c) => !this.#index.has(c)).sort();
  }

  /** This vocabulary followed by the characters of `text` it lacks (sorted), which get the next ids. */
  extend(text: string): CharTokenizer {
    return new CharTokenizer([...this.chars, ...this.unknownChars(text)], { keepOrder: true });
  }

  encode(text: string): Int32Array {
    const out: number[] = [];
    for (const c of text) {
      const id = this.#index.get(c);
      if (id === undefined) throw new RangeError(`CharTokenizer: character ${JSON.stringify(c)} is not in the vocabulary`);
      out.push(id);
    }
    return Int32Array.from(out);
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.chars[ids[i]!] ?? '\uFFFD';
    return s;
  }

  toJSON(): { chars: string[] } { return { chars: [...this.chars] }; }
}
