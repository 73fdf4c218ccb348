// N-gram counting shared by BLEU and ROUGE: tokens are interned to integer ids so n-gram keys
// are unambiguous whatever characters the tokens contain.

export class NgramCounter {
  private readonly vocab = new Map<string, number>();

  ids(tokens: readonly string[]): number[] {
    return tokens.map((t) => {
      let id = this.vocab.get(t);
      if (id === undefined) {
        id = this.vocab.size;
        this.vocab.set(t, id);
      }
      return id;
    });
  }

  /** Counts of all n-grams of order n in `ids`. */
  static count(ids: readonly number[], n: number): Map<string, number> {
    const m = new Map<string, number>();
    for (let i = 0; i + n <= ids.length; i++) {
      const key = ids.slice(i, i + n).join(',');
      m.set(key, (m.get(key) ?? 0) + 1);
    }
    return m;
  }
}
