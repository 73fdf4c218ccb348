// Learning byte-level BPE merges from a corpus (Sennrich et al. 2016, "Neural Machine Translation
// of Rare Words with Subword Units", on GPT-2's byte alphabet): count the corpus' words, start from
// the 256 byte symbols, and repeatedly merge the most frequent adjacent pair into a new token.
import { BYTE_TO_CHAR, bytesToSymbols, preTokenize } from './byte_level.js';
import type { SpecialTokenMatcher } from './tokenizer.js';

/** A max-heap of (count, a, b): highest count first, then smaller a, then smaller b. */
class PairHeap {
  readonly count: number[] = [];
  readonly pair: number[] = [];

  get size(): number { return this.count.length; }

  #above(i: number, j: number): boolean {
    const ci = this.count[i]!;
    const cj = this.count[j]!;
    return ci > cj || (ci === cj && this.pair[i]! < this.pair[j]!);
  }

  #swap(i: number, j: number): void {
    [this.count[i], this.count[j]] = [this.count[j]!, this.count[i]!];
    [this.pair[i], this.pair[j]] = [this.pair[j]!, this.pair[i]!];
  }

  push(count: number, pair: number): void {
    this.count.push(count);
    this.pair.push(pair);
    for (let i = this.count.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.#above(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  pop(): { count: number; pair: number } {
    const top = { count: this.count[0]!, pair: this.pair[0]! };
    const last = this.count.length - 1;
    this.#swap(0, last);
    this.count.pop();
    this.pair.pop();
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < last && this.#above(l, m)) m = l;
      if (r < last && this.#above(r, m)) m = r;
      if (m === i) break;
      this.#swap(i, m);
      i = m;
    }
    return top;
  }
}

/** Ids are below 2^21, so a pair (a, b) is the number a · 2^21 + b. */
const PAIR = 2 ** 21;
/** The largest vocabulary the trainer builds. */
export const MAX_TRAIN_VOCAB = PAIR;

/** What training produced: token strings in id order (after the special tokens) and the merges. */
export interface TrainedBPE {
  /** Token strings with ids numSpecial, numSpecial + 1, … (the 256 bytes first, then merged tokens). */
  tokens: string[];
  merges: [string, string][];
}

/**
 * Learn merges until the vocabulary (special tokens + 256 bytes + merged tokens) has `vocabSize`
 * entries or no pair occurs `minFrequency` times. Special tokens found in the texts are cut out
 * before counting, as `encode` does. Ties in frequency go to the pair of lower ids (deterministic).
 */
export function trainByteLevelBPE(texts: Iterable<string>, opts: { vocabSize: number; minFrequency: number; numSpecial: number; matcher: SpecialTokenMatcher }): TrainedBPE {
  const { vocabSize, minFrequency, numSpecial, matcher } = opts;
  // Word frequencies.
  const wordCounts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of matcher.split(text)) {
      if (!('text' in piece)) continue;
      for (const w of preTokenize(piece.text)) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
    }
  }
  // Symbols: id numSpecial + b for byte b, then merged tokens.
  const tokens: string[] = [...BYTE_TO_CHAR];
  const idOf = new Map<string, number>(tokens.map((t, i) => [t, numSpecial + i]));
  const words: Int32Array[] = [];
  const freq: number[] = [];
  for (const [w, c] of wordCounts) {
    const sym = bytesToSymbols(w);
    const ids = new Int32Array(sym.length);
    for (let i = 0; i < sym.length; i++) ids[i] = idOf.get(sym[i]!)!;
    words.push(ids);
    freq.push(c);
  }
  // Pair counts and where they occur.
  const counts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const addPairs = (wi: number, sign: number, changed: Set<number> | null) => {
    const w = words[wi]!;
    const f = freq[wi]! * sign;
    for (let i = 0; i + 1 < w.length; i++) {
      const p = w[i]! * PAIR + w[i + 1]!;
      counts.set(p, (counts.get(p) ?? 0) + f);
      changed?.add(p);
      if (sign > 0) {
        let s = where.get(p);
        if (!s) where.set(p, (s = new Set()));
        s.add(wi);
      }
    }
  };
  for (let wi = 0; wi < words.length; wi++) addPairs(wi, 1, null);
  const heap = new PairHeap();
  for (const [p, c] of counts) heap.push(c, p);

  const merges: [string, string][] = [];
  const str = (id: number) => tokens[id - numSpecial]!;
  let size = numSpecial + tokens.length;
  while (size < vocabSize && heap.size > 0) {
    const { count, pair } = heap.pop();
    if (counts.get(pair) !== count) continue; // stale entry
    if (count < minFrequency || count <= 0) break;
    const a = Math.floor(pair / PAIR);
    const b = pair % PAIR;
    const merged = str(a) + str(b);
    let c = idOf.get(merged);
    if (c === undefined) {
      c = numSpecial + tokens.length;
      tokens.push(merged);
      idOf.set(merged, c);
      size++;
    }
    merges.push([str(a), str(b)]);
    const changed = new Set<number>();
    for (const wi of where.get(pair) ?? []) {
      const w = words[wi]!;
      let found = false;
      for (let i = 0; i + 1 < w.length; i++) if (w[i] === a && w[i + 1] === b) { found = true; break; }
      if (!found) continue;
      addPairs(wi, -1, changed);
      const out: number[] = [];
      for (let i = 0; i < w.length; i++) {
        if (i + 1 < w.length && w[i] === a && w[i + 1] === b) { out.push(c); i++; }
        else out.push(w[i]!);
      }
      words[wi] = Int32Array.from(out);
      addPairs(wi, 1, changed);
    }
    where.delete(pair);
    counts.delete(pair);
    for (const p of changed) {
      const n = counts.get(p) ?? 0;
      if (n > 0) heap.push(n, p);
      else counts.delete(p);
    }
  }
  return { tokens, merges };
}
