// A character-level tokenizer, as nanoGPT's shakespeare_char: the vocabulary is the sorted set of
// distinct characters (Unicode code points) of a corpus; token id = index in that list.

export class CharTokenizer {
  readonly chars: readonly string[];
  readonly #index: Map<string, number>;

  constructor(chars: Iterable<string>) {
    this.chars = [...new Set(chars)].sort();
    this.#index = new Map(this.chars.map((c, i) => [c, i]));
  }

  /** The vocabulary of every character in `text`. */
  static fromText(text: string): CharTokenizer {
    return new CharTokenizer(text);
  }

  get vocabSize(): number { return this.chars.length; }

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
