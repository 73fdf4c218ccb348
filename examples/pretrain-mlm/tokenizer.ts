// The tokenizer of the MLM encoder: a byte-level BPE (@webgrad/data) trained on the pre-training
// texts, with the four special tokens a BERT-style encoder needs — [PAD], [CLS], [SEP], [MASK] —
// at ids 0 … 3. It is saved beside the encoder as a Hugging Face tokenizer.json.
import { ByteLevelBPETokenizer } from '@webgrad/data';

export const SPECIAL_TOKENS = { pad: '[PAD]', cls: '[CLS]', sep: '[SEP]', mask: '[MASK]' } as const;

export interface SpecialIds { pad: number; cls: number; sep: number; mask: number }

/** Learn `vocabSize` tokens (special tokens and the 256 bytes included) from `texts`. */
export function trainTokenizer(texts: Iterable<string>, vocabSize: number): ByteLevelBPETokenizer {
  return ByteLevelBPETokenizer.train(texts, {
    vocabSize, specialTokens: Object.values(SPECIAL_TOKENS), padToken: SPECIAL_TOKENS.pad,
  });
}

/** The ids of the special tokens (an error names a missing one). */
export function specialIds(tok: ByteLevelBPETokenizer): SpecialIds {
  const id = (t: string) => {
    const i = tok.tokenToId(t);
    if (i === undefined) throw new Error(`tokenizer: the special token ${t} is missing from the vocabulary`);
    return i;
  };
  return { pad: id(SPECIAL_TOKENS.pad), cls: id(SPECIAL_TOKENS.cls), sep: id(SPECIAL_TOKENS.sep), mask: id(SPECIAL_TOKENS.mask) };
}

/** [CLS] + the first maxLen − 2 tokens of `text` + [SEP] (a classifier's input). */
export function encodeForClassification(tok: ByteLevelBPETokenizer, text: string, maxLen: number): number[] {
  const ids = specialIds(tok);
  return [ids.cls, ...tok.encode(text).slice(0, maxLen - 2), ids.sep];
}
